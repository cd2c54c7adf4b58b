#!/bin/sh
# Replays the recordings kept in tests/replay/golden/ and compares every
# byte of the output (text, its stderr summary, and JSON) with what was
# printed when they were made. Pure: no root, no BPF. A difference means
# the daemon's behaviour changed: if that is intended, regenerate with
# --update and say why in the commit.
#
#   tests/replay/run.sh [--update] [TRACER]     (make test-replay)
set -u
here=$(cd "$(dirname "$0")" && pwd)
update=0
if [ "${1:-}" = "--update" ]; then
	update=1
	shift
fi
tracer=${1:-${BUILD:-build}/httptrace-bpf}
if [ ! -x "$tracer" ]; then
	echo "test-replay: $tracer not built (make)" >&2
	exit 1
fi
# the text output prints local time of day
export TZ=UTC LC_ALL=C

out_of() {
	echo "## --replay"
	"$tracer" --replay "$1" 2>&1
	echo "## exit $?"
	echo "## --replay --json --show-query"
	"$tracer" --replay "$1" --json --show-query 2>&1
	echo "## exit $?"
}

pass=0
fail=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for rec in "$here"/golden/*.htrec; do
	name=$(basename "$rec" .htrec)
	want="$here/golden/$name.out"
	out_of "$rec" >"$tmp"
	if [ "$update" = 1 ]; then
		cp "$tmp" "$want"
		echo "updated $name"
		continue
	fi
	if [ ! -f "$want" ]; then
		echo "FAIL $name: no $want (run with --update once)"
		fail=$((fail + 1))
	elif cmp -s "$tmp" "$want"; then
		pass=$((pass + 1))
	else
		echo "FAIL $name: replay output differs (- expected, + now):"
		diff -u "$want" "$tmp" | sed -n '3,40p'
		fail=$((fail + 1))
	fi
done
[ "$update" = 1 ] && exit 0
echo "replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
