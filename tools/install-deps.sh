#!/bin/sh
# Installs the Debian/Ubuntu packages httptrace-bpf needs to build and run
# (and, with --test, to run its tests: fuzzing runtime, real clients, QEMU
# for the kernel matrix); does nothing when they are all there. Run as root.
set -eu

PKGS="make gcc clang libbpf-dev libelf-dev zlib1g-dev libnghttp2-dev libzydis-dev bpftool
pkg-config libmicrohttpd-dev libcurl4-openssl-dev libcap-dev"
if [ "${1:-}" = "--test" ]; then
	PKGS="$PKGS libclang-rt-14-dev curl wget python3 iproute2 util-linux
qemu-system-x86 cpio debian-archive-keyring openssl libssl-dev nodejs npm
perl nghttp2-client nghttp2-server golang-go openjdk-17-jdk-headless
nginx-light python3-grpcio python3-h2 python3-httpx prometheus systemd"
	# the guest's busybox must be static; busybox-static replaces busybox
	if ! { [ -x /bin/busybox ] && ! readelf -l /bin/busybox 2>/dev/null |
		grep -q 'program interpreter'; }; then
		PKGS="$PKGS busybox-static"
	fi
fi

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null |
		grep -q 'install ok installed'
}

missing=""
for p in $PKGS; do
	installed "$p" || missing="$missing $p"
done
# bpftool may come from another package (Ubuntu's linux-tools)
if command -v bpftool >/dev/null 2>&1 || [ -x /usr/sbin/bpftool ]; then
	missing=$(echo "$missing" | sed 's/ bpftool//')
fi
# any nginx with the http_v2 and ssl modules will do (nginx-light has them)
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
	missing=$(echo "$missing" | sed 's/ nginx-light//')
fi
# npm comes with other builds of nodejs (NodeSource's), which Debian's
# npm package would conflict with
if command -v npm >/dev/null 2>&1; then
	missing=$(echo "$missing" | sed 's/ npm$//; s/ npm / /')
fi
if [ -z "$missing" ]; then
	echo "install-deps: everything is installed"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing:$missing; run this script as root" >&2
	exit 1
fi
apt-get update -qq
# Names differ between releases: Ubuntu ships bpftool in linux-tools, and
# the clang runtime package carries clang's version.
if ! apt-cache show bpftool >/dev/null 2>&1; then
	missing=$(echo "$missing" | sed 's/ bpftool/ linux-tools-common linux-tools-generic/')
fi
if ! apt-cache show nginx-light >/dev/null 2>&1; then
	missing=$(echo "$missing" | sed 's/ nginx-light/ nginx/')
fi
# Zydis finds the RETs of Go functions; a release without it (Ubuntu
# 22.04) builds without: Go programs' TLS is then not decoded
if ! apt-cache show libzydis-dev >/dev/null 2>&1; then
	echo "install-deps: libzydis-dev is not in this release's archive:" \
		"Go programs' HTTPS will not be decoded" >&2
	missing=$(echo "$missing" | sed 's/ libzydis-dev//')
fi
if ! apt-cache show libclang-rt-14-dev >/dev/null 2>&1; then
	ver=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p')
	missing=$(echo "$missing" | sed "s/libclang-rt-14-dev/libclang-rt-${ver:-14}-dev/")
fi
echo "install-deps: installing$missing"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
