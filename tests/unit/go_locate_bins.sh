#!/bin/sh
# Builds tests/fixtures/go/tlsprobe with each Go toolchain at hand, in the
# ways Go programs are shipped, and writes for each binary what go_locate
# must find there, taken from Go's own tools (test_go_locate.c compares).
#
#   tests/unit/go_locate_bins.sh OUTDIR
#
# OUTDIR/<toolchain>/<variant>        the binary
# OUTDIR/<toolchain>/<variant>.truth  "version go1.19.8" (`go version`),
#     then per function "func NAME ENTRY RET..." (file offsets, hex):
#     the RET lines of `go tool objdump`, their addresses turned into
#     file offsets through the PT_LOAD segments `readelf -lW` lists.
#     A stripped variant's truth is its unstripped twin's (same build
#     otherwise: same code at the same offsets), so that the stripped
#     binary is checked against symbols it no longer has.
#     Then "conn TYPE KIND OFFSET HASH" lines: its net.Conn types, as
#     `tlsprobe -conn-types` (the Go runtime itself) prints them.
# OUTDIR/toolchains  "LABEL STATUS" per toolchain (ok, or why not)
#
# Toolchains: the `go` on PATH ("host"), and those tests/go/toolchains.sh
# gives (1.24, sid's newest, 1.15 for the unsupported case): under
# CI=true fetched, elsewhere only the ones already cached (run
# tests/go/toolchains.sh once to fetch them).
set -eu

out=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
src=$here/tests/fixtures/go/tlsprobe
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/toolchains"
: > "$out/toolchains.tmp"

FUNCS='crypto/tls.(*Conn).Write crypto/tls.(*Conn).Read crypto/tls.(*Conn).handshakeContext'
VARIANTS='default static stripped static-stripped pie pie-stripped static-pie
static-pie-stripped'

log() { echo "go_locate_bins: $*" >&2; }

# go build flags of a variant: env in $venv, flags in $vflags, linker
# flags in $vld
variant_flags() {
	venv="" vflags="" vld=""
	case $1 in
	static*) venv="CGO_ENABLED=0" ;;
	esac
	# static-pie: Go's own linker makes the PIE (no cgo)
	case $1 in
	*pie*) vflags="-buildmode=pie" ;;
	esac
	case $1 in
	*stripped) vld="-s -w" ;;
	esac
}

# file offset of hex vaddr $2 in ELF $1
vaddr_to_off() {
	a=$(($2))
	readelf -lW "$1" | awk '$1 == "LOAD" { print $2, $3, $5 }' > "$1.loads"
	while read -r off va fs; do
		if [ "$a" -ge $((va)) ] && [ "$a" -lt $((va + fs)) ]; then
			printf '0x%x\n' $((a - va + off))
			rm -f "$1.loads"
			return 0
		fi
	done < "$1.loads"
	rm -f "$1.loads"
	log "$1: no PT_LOAD holds $2"
	return 1
}

# truth of binary $2 (version) with code of unstripped $3, go $1
write_truth() {
	gobin=$1 bin=$2 twin=$3
	bv=$("$gobin" version "$bin" | sed -n 's/^[^:]*: *//p')
	echo "version $bv" > "$bin.truth.tmp"
	for f in $FUNCS; do
		re=$(printf '%s' "$f" | sed 's/[.()*]/\\&/g')
		"$gobin" tool objdump -s "^$re\$" "$twin" > "$bin.objdump"
		entry=$(awk '$1 ~ /:[0-9]+$/ { print $2; exit }' "$bin.objdump")
		if [ -z "$entry" ]; then
			log "$bin: objdump shows no $f"
			return 1
		fi
		off=$(vaddr_to_off "$twin" "$entry") || return 1
		line="func $f $off"
		for r in $(awk '$1 ~ /:[0-9]+$/ && $4 == "RET" { print $2 }' \
				"$bin.objdump"); do
			off=$(vaddr_to_off "$twin" "$r") || return 1
			line="$line $off"
		done
		echo "$line" >> "$bin.truth.tmp"
	done
	rm -f "$bin.objdump"
	mv "$bin.truth.tmp" "$bin.truth"
}

# LABEL GOROOT-or-empty GO
build_toolchain() {
	label=$1 goroot=$2 gobin=$3
	dir=$out/$label
	mkdir -p "$dir"
	cache=${HT_GOCACHE:-$out/cache/$label}
	# go env GOVERSION is empty before Go 1.16
	gv=$(GOROOT=$goroot "$gobin" env GOVERSION 2>/dev/null) || gv=""
	[ -n "$gv" ] ||
		gv=$(GOROOT=$goroot "$gobin" version | awk '{ print $3 }')
	minor=$(echo "$gv" | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
	variants=$VARIANTS
	# a toolchain the tracer refuses: one binary to be refused
	[ "${minor:-0}" -ge 17 ] || variants=default
	for v in $variants; do
		variant_flags "$v"
		# shellcheck disable=SC2086
		if ! (cd "$src" && env ${goroot:+GOROOT=$goroot} $venv \
			GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod \
			GO111MODULE=on GOENV=off GOCACHE="$cache" \
			GOPATH="$out/gopath" "$gobin" build $vflags ${vld:+-ldflags="$vld"} \
			-o "$dir/$v" .) >"$dir/$v.log" 2>&1; then
			log "$label $v: go build failed:"
			cat "$dir/$v.log" >&2
			return 1
		fi
	done
	for v in $variants; do
		if [ "${minor:-0}" -lt 17 ]; then
			bv=$("$gobin" version "$dir/$v" | sed -n 's/^[^:]*: *//p')
			echo "version $bv" > "$dir/$v.truth"
			continue
		fi
		twin=${v%stripped}
		twin=${twin%-}
		write_truth "$gobin" "$dir/$v" "$dir/${twin:-default}" ||
			return 1
		# its net.Conn types, as the Go runtime in it has them
		if ! "$dir/$v" -conn-types >> "$dir/$v.truth"; then
			log "$label $v: tlsprobe -conn-types failed"
			return 1
		fi
	done
	echo "$label ok $gv" >> "$out/toolchains.tmp"
}

rc=0
if command -v go >/dev/null 2>&1; then
	build_toolchain host "" "$(command -v go)" || rc=1
else
	echo "host none: no go on PATH" >> "$out/toolchains.tmp"
fi

if [ -x "$here/tests/go/toolchains.sh" ]; then
	if [ "${CI:-}" = true ]; then off=0; else off=1; fi
	lines=$(GO_TOOLCHAINS_OFFLINE=$off "$here/tests/go/toolchains.sh" \
		1.24 sid 1.15 2>"$out/toolchains.log") || true
	echo "$lines" | while read -r tver troot; do
		[ -n "$tver" ] || continue
		build_toolchain "$tver" "$troot" "$troot/bin/go" ||
			echo "$tver failed: build or truth failed" \
				>> "$out/toolchains.tmp"
	done
	for want in 1.24 sid 1.15; do
		grep -q "^$want " "$out/toolchains.tmp" 2>/dev/null && continue
		[ "$want" = sid ] && continue
		echo "$want missing: tests/go/toolchains.sh did not give it (see $out/toolchains.log)" \
			>> "$out/toolchains.tmp"
	done
else
	echo "others missing: no tests/go/toolchains.sh" >> "$out/toolchains.tmp"
fi
mv "$out/toolchains.tmp" "$out/toolchains"
cat "$out/toolchains" >&2
exit $rc
