#!/bin/sh
# Builds the Go test fixtures (tests/fixtures/go/PROGRAM) with the Go
# toolchains of tests/go/toolchains.sh, each in four variants:
#   default    go build (cgo as the toolchain defaults: on where gcc is)
#   stripped   -ldflags='-s -w' (no symbol table, no DWARF)
#   static     CGO_ENABLED=0 (statically linked, Go's own resolver)
#   pie        -buildmode=pie
#
#   tests/go/build.sh [-t "NAME..."] [-v "VARIANT..."] OUTDIR [PROGRAM...]
#
# -t: toolchain names for toolchains.sh (default "1.19 1.24 sid");
# -v: variants (default all four); PROGRAM: folders of tests/fixtures/go
# (default httpclient httpserver). Binaries go to
# OUTDIR/<VERSION>/<VARIANT>/<PROGRAM>; prints one line per binary:
#   VERSION VARIANT PROGRAM PATH
# Never the network: GOTOOLCHAIN=local GOPROXY=off, GOCACHE and GOPATH
# under OUTDIR. Exits non-zero when a toolchain is missing or a build
# fails (after building the others).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../fixtures/go" && pwd)
toolchains="1.19 1.24 sid"
variants="default stripped static pie"
while getopts t:v: o; do
	case $o in
	t)	toolchains=$OPTARG ;;
	v)	variants=$OPTARG ;;
	*)	exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-t NAMES] [-v VARIANTS] OUTDIR" \
	"[PROGRAM...]" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
shift
[ $# -gt 0 ] || set -- httpclient httpserver

log() { echo "go build: $*" >&2; }

rc=0
# shellcheck disable=SC2086
lines=$("$here/toolchains.sh" $toolchains) || rc=1
[ -n "$lines" ] || exit 1
echo "$lines" | while read -r ver goroot; do
	for variant in $variants; do
		cgo="" flags=""
		case $variant in
		default)	;;
		stripped)	flags="-ldflags=-s -w" ;;
		static)		cgo=0 ;;
		pie)		flags="-buildmode=pie" ;;
		*)		log "unknown variant $variant"; exit 1 ;;
		esac
		for prog in "$@"; do
			dst="$out/$ver/$variant/$prog"
			mkdir -p "$out/$ver/$variant"
			# up to date: built by this GOROOT, newer than
			# its sources and the connwrap it imports (go
			# build would say so too, in a second or two
			# per binary)
			if [ "$(cat "$dst.goroot" 2>/dev/null)" = \
			     "$goroot $(head -n 1 "$goroot/VERSION" 2>/dev/null)" ] &&
			   [ -z "$(find "$src/$prog" "$src/connwrap" \
				   -newer "$dst" -type f 2>/dev/null)" ]; then
				echo "$ver $variant $prog $dst"
				continue
			fi
			rm -f "$dst.goroot"
			if ! (cd "$src/$prog" &&
			      env GOROOT="$goroot" GOTOOLCHAIN=local \
				GOPROXY=off GOFLAGS=-mod=mod GO111MODULE=on \
				GOCACHE="${HT_GOCACHE:-$out/cache/$ver}" \
				GOPATH="$out/gopath" GOENV=off \
				${cgo:+CGO_ENABLED=$cgo} \
				"$goroot/bin/go" build -trimpath \
				${flags:+"$flags"} -o "$dst" . >&2); then
				log "$prog with Go $ver ($variant) failed"
				exit 1
			fi
			echo "$goroot $(head -n 1 "$goroot/VERSION")" \
				> "$dst.goroot"
			echo "$ver $variant $prog $dst"
		done
	done
done || rc=1
exit $rc
