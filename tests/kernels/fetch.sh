#!/bin/sh
# Fetches the Debian kernels of the matrix (apt-get download, no install)
# and extracts vmlinuz and the kernel config into the cache.
#
#   tests/kernels/fetch.sh [SPEC...]      (default: every line of matrix.txt)
#
# A SPEC is a line of tests/kernels/matrix.txt: NAME SUITE REGEX MODES.
# Uses a private apt configuration under $KERNEL_CACHE/apt (Debian's
# bullseye, bookworm with its backports, trixie and sid), so the host's
# apt sources are left alone. Prints one line per kernel on stdout:
#   NAME KREL VMLINUZ_PATH MODES
# where KREL is the kernel release (uname -r in the guest).
#
# Environment:
#   KERNEL_CACHE   cache directory (default ~/.cache/httptrace-bpf/kernels)
#   KERNELS_OFFLINE=1  use only what is cached (no apt-get update/download)
#   DEBIAN_MIRROR  (default http://deb.debian.org/debian)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${KERNEL_CACHE:-${HOME:-/root}/.cache/httptrace-bpf/kernels}
log() { echo "fetch: $*" >&2; }

# shellcheck source=SCRIPTDIR/../lib/debian_apt.sh
. "$here/../lib/debian_apt.sh"
debian_apt_init "$CACHE/apt"
mkdir -p "$CACHE/debs"

fetch_one() {
	name=$1 suite=$2 re=$3 modes=$4
	dir="$CACHE/$name"
	pkg=""
	if [ "${KERNELS_OFFLINE:-0}" != 1 ]; then
		debian_apt_update
		pkg=$(debian_apt_resolve "$suite" "$re")
	fi
	if [ -z "$pkg" ]; then
		# offline, or the mirror no longer lists it: use the cached one
		if [ -f "$dir/package" ]; then
			pkg=$(cat "$dir/package")
			log "$name: using cached $pkg"
		else
			log "$name: no package matches /$re/ in $suite and nothing is cached"
			return 1
		fi
	fi
	krel=${pkg#linux-image-}
	if [ ! -f "$dir/$krel/vmlinuz" ]; then
		log "$name: downloading $pkg"
		tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
		# shellcheck disable=SC2086
		(cd "$tmp" && apt-get $APTOPTS -qq download "$pkg" >&2)
		deb=$(ls "$tmp"/*.deb)
		mkdir -p "$tmp/x"
		dpkg-deb -x "$deb" "$tmp/x"
		# Since 7.x (sid) linux-image-* is an empty package: vmlinuz
		# is in linux-binary-*, the config in linux-base-*, both
		# under /usr/lib/modules/KREL/.
		if [ ! -f "$tmp/x/boot/vmlinuz-$krel" ]; then
			for p in "linux-binary-$krel" "linux-base-$krel"; do
				log "$name: downloading $p"
				# shellcheck disable=SC2086
				(cd "$tmp" && apt-get $APTOPTS -qq download "$p" >&2)
				dpkg-deb -x "$(ls "$tmp/$p"_*.deb)" "$tmp/x"
			done
		fi
		mkdir -p "$dir/$krel"
		found=""
		for v in "$tmp/x/boot/vmlinuz-$krel" \
			"$tmp/x/usr/lib/modules/$krel/vmlinuz"; do
			[ -f "$v" ] && found=$v && break
		done
		if [ -z "$found" ]; then
			log "$name: no vmlinuz in $pkg (or linux-binary-$krel)"
			rm -rf "$tmp" "${dir:?}/$krel"
			return 1
		fi
		cp "$found" "$dir/$krel/vmlinuz"
		for c in "$tmp/x/boot/config-$krel" \
			"$tmp/x/usr/lib/modules/$krel/config"; do
			[ -f "$c" ] && cp "$c" "$dir/$krel/config" && break
		done
		basename "$deb" > "$dir/$krel/deb"
		rm -rf "$tmp"
		# keep only the newest kernel of this NAME
		for old in "$dir"/*/; do
			[ "$old" = "$dir/$krel/" ] || rm -rf "$old"
		done
	fi
	echo "$pkg" > "$dir/package"
	echo "$name $krel $dir/$krel/vmlinuz $modes"
}

if [ $# -eq 0 ]; then
	grep -v '^[[:space:]]*#' "$here/matrix.txt" | grep -v '^[[:space:]]*$' |
	while read -r name suite re modes; do
		fetch_one "$name" "$suite" "$re" "$modes"
	done
else
	for spec in "$@"; do
		# shellcheck disable=SC2086
		set -- $spec
		fetch_one "$1" "$2" "$3" "$4"
	done
fi
