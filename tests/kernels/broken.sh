#!/bin/sh
# Proves that the kernel matrix catches a broken attach-mode variant: builds
# the tracer from a copy of the tree whose kprobe/tcp_connect body reads the
# wrong socket (sk + one struct sock), runs the matrix on one kernel and
# passes only if every kprobe client case FAILs while the fentry and
# tracepoint cases still PASS.
#
#   make test-kernels-broken          # or: tests/kernels/broken.sh [NAME]
#
# NAME is a matrix name (default: the first line of matrix.txt that is not
# 5.10, whose programs load only with the variants of issue 11). The copy
# and its build live in $BUILD/kernels-broken. Last line:
# "kernels-broken: 1 passed, 0 failed" (or 0 passed, 1 failed).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
work=$BUILD/kernels-broken
name=${1:-$(grep -v '^[[:space:]]*#' "$here/matrix.txt" |
	grep -v '^[[:space:]]*$' | awk '$1 != "5.10" { print $1; exit }')}

verdict() {
	echo "kernels-broken: $*"
	case $* in "1 passed"*) exit 0 ;; *) exit 1 ;; esac
}

rm -rf "$work"
mkdir -p "$work/tree"
(cd "$top" && tar --exclude=./build --exclude=./.git -cf - .) |
	(cd "$work/tree" && tar -xf -)

# The break: inside kprobe_tcp_connect only, on_connect_start(sk) gets a
# pointer past the real socket.
src=$work/tree/bpf/httptrace.bpf.c
awk '
	/BPF_KPROBE\(kprobe_tcp_connect,/ { inside = 1 }
	inside && /on_connect_start\(sk\)/ {
		sub(/on_connect_start\(sk\)/,
		    "on_connect_start((struct sock *)((char *)sk + sizeof(struct sock))) /* DELIBERATELY BROKEN */")
		done = 1
	}
	inside && /^}/ { inside = 0 }
	{ print }
	END { if (!done) exit 3 }
' "$src" >"$src.new" || {
	echo "broken: kprobe_tcp_connect { on_connect_start(sk); } not found in bpf/httptrace.bpf.c; update tests/kernels/broken.sh" >&2
	verdict "0 passed, 1 failed"
}
mv "$src.new" "$src"
grep -n 'DELIBERATELY BROKEN' "$src" >&2

if ! make -C "$work/tree" -s BUILD="$work/build" "$work/build/kernels/initramfs.cpio.gz" >"$work/make.log" 2>&1; then
	tail -n 30 "$work/make.log" >&2
	echo "broken: building the broken tracer failed" >&2
	verdict "0 passed, 1 failed"
fi

BUILD=$work/build INITRAMFS=$work/build/kernels/initramfs.cpio.gz \
	"$here/run.sh" "$name" >"$work/run.log" 2>&1
results=$work/build/kernels/results.txt
echo "broken: matrix output in $work/run.log" >&2

bad=""
for c in $(grep -v '^#' "$here/cases.txt" | grep -v '^$'); do
	for mode in fentry kprobe tracepoint; do
		v=$(awk -v m="mode=$mode" -v c="case=$c" \
			'$3 == m && $4 == c { print $5 }' "$results" | tail -n 1)
		want=PASS
		# the server side does not go through tcp_connect
		[ "$mode" = kprobe ] && [ "$c" != server ] && want=FAIL
		echo "broken: $mode $c: ${v:-MISSING} (want $want)" >&2
		[ "$v" = "$want" ] || bad="$bad $mode/$c"
	done
done
if [ -n "$bad" ]; then
	echo "broken: the matrix did not see the break as expected:$bad" >&2
	verdict "0 passed, 1 failed"
fi
verdict "1 passed, 0 failed"
