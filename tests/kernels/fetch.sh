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
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SEC_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
APT="$CACHE/apt"

log() { echo "fetch: $*" >&2; }

mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$CACHE/debs"
cat > "$APT/sources.list" <<EOS
deb [signed-by=$KEYRING] $MIRROR bullseye main
deb [signed-by=$KEYRING] $SEC_MIRROR bullseye-security main
deb [signed-by=$KEYRING] $MIRROR bookworm main
deb [signed-by=$KEYRING] $SEC_MIRROR bookworm-security main
deb [signed-by=$KEYRING] $MIRROR bookworm-backports main
deb [signed-by=$KEYRING] $MIRROR trixie main
deb [signed-by=$KEYRING] $MIRROR sid main
EOS
APTOPTS="-o Dir::Etc::SourceList=$APT/sources.list
 -o Dir::Etc::SourceParts=$APT/none.d
 -o Dir::State::Lists=$APT/lists
 -o Dir::Cache=$APT/cache
 -o Dir::State::Status=/var/lib/dpkg/status
 -o APT::Get::List-Cleanup=0
 -o Debug::NoLocking=1
 -o APT::Sandbox::User=root"

updated=0
apt_update() {
	[ "$updated" = 1 ] && return 0
	updated=1
	# Refresh the lists at most once an hour.
	stamp="$APT/updated.stamp"
	if [ -f "$stamp" ] && [ -n "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
		return 0
	fi
	log "apt-get update (private lists in $APT)"
	# shellcheck disable=SC2086
	if apt-get $APTOPTS -qq update >&2; then
		touch "$stamp"
	else
		log "apt-get update failed; using the lists we have"
	fi
}

# newest package whose name matches REGEX and that SUITE carries
resolve() {
	suite=$1 re=$2
	# shellcheck disable=SC2086
	pkgs=$(apt-cache $APTOPTS search --names-only "$re" 2>/dev/null |
		awk '{print $1}' | grep -E "$re")
	[ -n "$pkgs" ] || return 0
	# one apt-cache policy for all of them: "NAME:" starts a block
	# shellcheck disable=SC2086
	apt-cache $APTOPTS policy $pkgs 2>/dev/null |
		awk -v s=" $suite/main " '
			/^[^ ].*:$/ { name = substr($0, 1, length($0) - 1); next }
			index($0, s) { print name }' |
		sort -u | sort -V | tail -n 1
}

fetch_one() {
	name=$1 suite=$2 re=$3 modes=$4
	dir="$CACHE/$name"
	pkg=""
	if [ "${KERNELS_OFFLINE:-0}" != 1 ]; then
		apt_update
		pkg=$(resolve "$suite" "$re")
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
