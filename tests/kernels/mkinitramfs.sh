#!/bin/sh
# Builds the kernel-matrix initramfs (newc cpio, gzip):
#
#   tests/kernels/mkinitramfs.sh STATIC_DIR OUT.cpio.gz [FIXTURES_DIR]
#
# /init (tests/kernels/init), /guest.sh, /cases.txt, and in /bin a static
# busybox (Debian's busybox-static) and the static binaries from
# STATIC_DIR: httptrace-bpf, ht_test_server, ht_test_client,
# ht_check_timeline, bpf_test. With FIXTURES_DIR (the normal build's), also the
# dynamically linked ht_test_server and ht_test_client as *_dyn,
# ht_tls_pair (an HTTPS server and client on the host's libssl), the host's
# shared libraries they need (glibc, libssl, libcrypto) and a self-signed
# certificate in /etc/ht-tls.{crt,key}: the "dns" case needs a libc for
# the getaddrinfo uprobes, the "https" case a libssl for the TLS uprobes. PLACEHOLDER=1 allows a missing httptrace-bpf (the
# guest then runs the fixtures only; see guest.sh htplaceholder=1).
# The "go" case: GO_TLSPAIR (tests/fixtures/go/tlspair built without
# cgo, static) goes to /bin/tlspair, BPF_TEST_DYN (the dynamically
# linked tests/bpf/bpf_test, the one with Zydis to find Go's RETs) to
# /bin/bpf_test_dyn with its shared libraries.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
static=$1
out=$2
fixtures=${3:-}

is_static() { # an ELF with no program interpreter
	! readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

# the libraries of a dynamically linked program and the loader, at the
# paths they have here
copy_libs() { # program
	ldd "$1" | awk '/=> \// { print $3 } /^[[:space:]]*\// { print $1 }' |
	while read -r lib; do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

busybox=""
for b in ${BUSYBOX:-} /bin/busybox /usr/bin/busybox; do
	if [ -x "$b" ] && is_static "$b"; then
		busybox=$b
		break
	fi
done
if [ -z "$busybox" ]; then
	echo "mkinitramfs: no static busybox (apt-get install busybox-static)" >&2
	exit 1
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/httptrace-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp" \
	"$stage/run" "$stage/etc"
cp "$busybox" "$stage/bin/busybox"
for f in httptrace-bpf ht_test_server ht_test_client ht_check_timeline \
	bpf_test; do
	if [ ! -x "$static/$f" ]; then
		if [ "$f" = httptrace-bpf ] && [ "${PLACEHOLDER:-0}" = 1 ]; then
			continue
		fi
		echo "mkinitramfs: $static/$f is missing (make static)" >&2
		exit 1
	fi
	if ! is_static "$static/$f"; then
		echo "mkinitramfs: $static/$f is not statically linked" >&2
		exit 1
	fi
	cp "$static/$f" "$stage/bin/$f"
	strip "$stage/bin/$f" 2>/dev/null || true
done
if [ -n "$fixtures" ]; then
	for f in ht_test_server ht_test_client ht_tls_pair; do
		if [ ! -x "$fixtures/$f" ]; then
			echo "mkinitramfs: $fixtures/$f is missing (make fixtures; ht_tls_pair needs libssl-dev)" >&2
			exit 1
		fi
		# ht_tls_pair is only built dynamically: it is there for the
		# libssl it loads
		dst=$f
		[ "$f" = ht_tls_pair ] || dst=${f}_dyn
		cp "$fixtures/$f" "$stage/bin/$dst"
		strip "$stage/bin/$dst" 2>/dev/null || true
		copy_libs "$fixtures/$f"
	done
fi
if [ -n "${GO_TLSPAIR:-}" ] || [ -n "${BPF_TEST_DYN:-}" ]; then
	if [ ! -x "${GO_TLSPAIR:-}" ] || ! is_static "$GO_TLSPAIR" ||
	   [ ! -x "${BPF_TEST_DYN:-}" ]; then
		echo "mkinitramfs: the go case needs GO_TLSPAIR (static, got '${GO_TLSPAIR:-}') and BPF_TEST_DYN ('${BPF_TEST_DYN:-}')" >&2
		exit 1
	fi
	cp "$GO_TLSPAIR" "$stage/bin/tlspair"
	cp "$BPF_TEST_DYN" "$stage/bin/bpf_test_dyn"
	strip "$stage/bin/bpf_test_dyn" 2>/dev/null || true
	copy_libs "$BPF_TEST_DYN"
fi
if [ -n "$fixtures" ]; then
	# the https case's server certificate, made for each initramfs
	if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 3650 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
		-keyout "$stage/etc/ht-tls.key" -out "$stage/etc/ht-tls.crt" \
		2>"$stage/openssl.err"; then
		echo "mkinitramfs: openssl req failed (apt-get install openssl):" >&2
		cat "$stage/openssl.err" >&2
		exit 1
	fi
	rm -f "$stage/openssl.err"
fi
cp "$here/init" "$stage/init"
cp "$here/guest.sh" "$here/cases.txt" "$stage/"
chmod 0755 "$stage/init" "$stage/guest.sh"
# /dev/console lets the kernel give /init its stdio; init also reopens it
# after mounting devtmpfs, so this is only nice to have (needs root).
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out ($(du -k "$out" | cut -f1) KiB)" >&2
