#!/bin/sh
# Installs what the kernel matrix needs on the host, when it is missing:
# QEMU (qemu-system-x86), a static busybox for the guest (busybox-static),
# cpio, libssl-dev and openssl (the https case), and the Debian keyring
# that fetch.sh's private apt sources use.
set -eu
need=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || need="$need qemu-system-x86"
command -v cpio >/dev/null 2>&1 || need="$need cpio"
static_busybox=0
for b in /bin/busybox /usr/bin/busybox; do
	if [ -x "$b" ] && ! readelf -l "$b" 2>/dev/null |
		grep -q 'Requesting program interpreter'; then
		static_busybox=1
	fi
done
[ $static_busybox = 1 ] || need="$need busybox-static"
# the https case: ht_tls_pair is built against libssl, the guest's
# certificate made with the openssl CLI
[ -f /usr/include/openssl/ssl.h ] || need="$need libssl-dev"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] ||
	need="$need debian-archive-keyring"
[ -n "$need" ] || exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "kernels: missing packages:$need (run as root, or apt-get install them)" >&2
	exit 1
fi
echo "kernels: installing$need" >&2
apt-get update -qq >&2
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	$need >&2
