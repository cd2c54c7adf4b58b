#!/bin/sh
# Fetches the Go toolchains the tests build with, from Debian's packages
# (apt-get download and dpkg-deb -x, no install; the private apt
# configuration of tests/lib/debian_apt.sh, as the kernel matrix does).
#
#   tests/go/toolchains.sh [--check] [NAME...]
#
# NAME is one of (default: all of them):
#   1.19   bookworm's golang-1.19 (the host's /usr/lib/go-1.19 when it is
#          installed with the same version)
#   1.24   trixie's golang-1.24
#   sid    the newest golang-1.NN in sid
#   1.15   bullseye's golang-1.15: older than 1.17, which the tracer does
#          not support (only for that check)
# Prints one line per toolchain on stdout:
#   VERSION GOROOT
# where VERSION is the major.minor (1.19, 1.24, 1.27, ...); run Go as
# GOROOT/bin/go with GOTOOLCHAIN=local GOPROXY=off (never the network).
# --check also builds a hello world with each (GOCACHE under $BUILD/go).
# Exits non-zero when one of them could not be had.
#
# Environment:
#   GO_TOOLCHAIN_CACHE   cache directory (default ~/.cache/httptrace-bpf/go);
#                        toolchains are in <cache>/<VERSION>/
#   GO_TOOLCHAINS_OFFLINE=1  use only what is cached (no apt-get)
#   BUILD                build directory for --check (default build)
#   DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR  (see tests/lib/debian_apt.sh)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${GO_TOOLCHAIN_CACHE:-${HOME:-/root}/.cache/httptrace-bpf/go}
OFFLINE=${GO_TOOLCHAINS_OFFLINE:-0}

log() { echo "toolchains: $*" >&2; }

# shellcheck source=SCRIPTDIR/../lib/debian_apt.sh
. "$here/../lib/debian_apt.sh"
debian_apt_init "$CACHE/apt"

# NAME SUITE REGEX of the golang-1.NN-go package
spec_of() {
	case $1 in
	1.19)	echo 'bookworm ^golang-1\.19-go$' ;;
	1.24)	echo 'trixie ^golang-1\.24-go$' ;;
	sid)	echo 'sid ^golang-1\.[0-9]+-go$' ;;
	1.15)	echo 'bullseye ^golang-1\.15-go$' ;;
	*)	return 1 ;;
	esac
}

# the version string of package PKG (golang-1.NN-go) in SUITE
pkg_version() {
	# shellcheck disable=SC2086
	apt-cache $APTOPTS madison "$1" 2>/dev/null |
		awk -F'|' -v s=" $2/main " 'index($3, s) {
			gsub(/ /, "", $2); print $2; exit }'
}

# VERSION (1.NN) of golang-1.NN-go
ver_of_pkg() { echo "$1" | sed -n 's/^golang-\(1\.[0-9]*\)-go$/\1/p'; }

# The host's toolchain when it is the package version SUITE carries (or
# the lists are unknown): no download for bookworm's Go on bookworm.
host_goroot() {
	ver=$1 want=$2
	root=/usr/lib/go-$ver
	[ -x "$root/bin/go" ] && [ -d "$root/src/net/http" ] || return 1
	if [ -n "$want" ]; then
		have=$(dpkg-query -W -f '${Version}' "golang-$ver-go" \
			2>/dev/null) || return 1
		[ "$have" = "$want" ] || return 1
	fi
	echo "$root"
}

fetch_one() {
	name=$1
	spec=$(spec_of "$name") || { log "unknown toolchain $name"; return 1; }
	# shellcheck disable=SC2086
	set -- $spec
	suite=$1 re=$2
	pkg="" pver=""
	if [ "$OFFLINE" != 1 ]; then
		debian_apt_update
		pkg=$(debian_apt_resolve "$suite" "$re")
		[ -n "$pkg" ] && pver=$(pkg_version "$pkg" "$suite")
	fi
	if [ -z "$pkg" ] || [ -z "$pver" ]; then
		# offline, or the mirror no longer lists it: the cached one
		if [ -f "$CACHE/$name.current" ]; then
			ver=$(cat "$CACHE/$name.current")
			goroot=$(cat "$CACHE/$ver/goroot" 2>/dev/null) || goroot=""
			if [ -n "$goroot" ] && [ -x "$goroot/bin/go" ]; then
				log "$name: using cached Go $ver ($goroot)"
				echo "$ver $goroot"
				return 0
			fi
		fi
		if [ "$name" = 1.19 ] && goroot=$(host_goroot 1.19 ""); then
			echo "1.19 $goroot"
			return 0
		fi
		log "$name: no package matches /$re/ in $suite and nothing is cached"
		return 1
	fi
	ver=$(ver_of_pkg "$pkg")
	if goroot=$(host_goroot "$ver" "$pver"); then
		echo "$ver" > "$CACHE/$name.current"
		echo "$ver $goroot"
		return 0
	fi
	dir="$CACHE/$ver"
	goroot="$dir/root/usr/lib/go-$ver"
	if [ "$(cat "$dir/package" 2>/dev/null)" != "$pkg $pver" ] ||
	   [ ! -x "$goroot/bin/go" ]; then
		log "$name: downloading $pkg $pver and golang-$ver-src from $suite"
		mkdir -p "$CACHE"
		tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
		# The compiler needs GOROOT/src to build (the standard library
		# is compiled from source since Go 1.20; go list reads it
		# before), which golang-1.NN-src holds.
		for p in "$pkg" "golang-$ver-src"; do
			if ! deb=$(debian_apt_download "$tmp" "$p" "$suite"); then
				log "$name: apt-get download $p/$suite failed"
				rm -rf "$tmp"
				return 1
			fi
			dpkg-deb -x "$deb" "$tmp/root"
		done
		if [ ! -x "$tmp/root/usr/lib/go-$ver/bin/go" ]; then
			log "$name: no usr/lib/go-$ver/bin/go in $pkg"
			rm -rf "$tmp"
			return 1
		fi
		rm -f "$tmp"/*.deb
		echo "$pkg $pver" > "$tmp/package"
		echo "$goroot" > "$tmp/goroot"
		rm -rf "$dir"
		mv "$tmp" "$dir"
	fi
	echo "$ver" > "$CACHE/$name.current"
	echo "$ver $goroot"
}

# go build a hello world with GOROOT (VERSION for the directory names)
check_one() {
	ver=$1 goroot=$2
	b=${BUILD:-build}/go
	mkdir -p "$b/hello-$ver"
	b=$(cd "$b" && pwd)
	cat > "$b/hello-$ver/go.mod" <<EOG
module hello

go 1.15
EOG
	cat > "$b/hello-$ver/main.go" <<EOG
package main

import "fmt"

func main() { fmt.Println("hello from go") }
EOG
	out=$(cd "$b/hello-$ver" &&
	      GOROOT=$goroot GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod \
	      GOCACHE="${HT_GOCACHE:-$b/cache/$ver}" GOPATH="$b/gopath" GO111MODULE=on \
	      "$goroot/bin/go" build -o hello . 2>&1 &&
	      ./hello) || { log "$ver: hello world failed: $out"; return 1; }
	[ "$out" = "hello from go" ] || { log "$ver: hello said '$out'"; return 1; }
	log "$ver: hello world built and ran ($goroot)"
}

check=0
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
[ $# -gt 0 ] || set -- 1.19 1.24 sid 1.15
rc=0
seen=""
for name in "$@"; do
	line=$(fetch_one "$name") || { rc=1; continue; }
	# sid's newest may be one of the others
	case " $seen " in *" ${line%% *} "*) continue ;; esac
	seen="$seen ${line%% *}"
	echo "$line"
	if [ "$check" = 1 ]; then
		# shellcheck disable=SC2086
		check_one $line || rc=1
	fi
done
exit $rc
