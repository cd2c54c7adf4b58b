#!/bin/sh
# Records the tracer loses when its reader competes for the CPUs with the
# traced programs: THREADS client threads (each its own keep-alive
# connection, as fast as they go) against ht_test_server on 127.0.0.1,
# the tracer tracing the whole host with JSON to /dev/null. One line per
# run: the load's rate and the tracer's summary. Root; run it under the
# shared test lock (it traces the whole host).
#
#   tools/bench/contention.sh [THREADS [SECONDS [RUNS [TRACER ARGS...]]]]
#
# BUILD (default build) names the build directory.
set -eu
BUILD=${BUILD:-build}
THREADS=${1:-16}
SECONDS_=${2:-10}
RUNS=${3:-3}
[ $# -ge 3 ] && shift 3 || shift $#
TMP=$(mktemp -d)
trap 'kill $SRV 2>/dev/null || true; rm -rf "$TMP"' EXIT INT TERM

"$BUILD/fixtures/ht_test_server" --listen 127.0.0.1 --port 0 \
	--port-file "$TMP/port" --max-seconds 600 &
SRV=$!
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
PORT=$(cat "$TMP/port")

run=1
while [ "$run" -le "$RUNS" ]; do
	"$BUILD/httptrace-bpf" --json "$@" >/dev/null 2>"$TMP/tracer.err" &
	TR=$!
	for _ in $(seq 100); do
		grep -q "Tracing HTTP" "$TMP/tracer.err" && break
		sleep 0.1
	done
	load=$("$BUILD/tools/bench/ht_bench_load" threads "127.0.0.1:$PORT" \
		"$THREADS" "$SECONDS_")
	sleep 0.3
	kill -INT "$TR"
	wait "$TR" || true
	rate=$(echo "$load" | sed 's/.*"rate":\([0-9.]*\).*/\1/')
	summary=$(grep "requests," "$TMP/tracer.err" | tail -1 |
		sed 's/^httptrace-bpf: //')
	echo "run $run: threads=$THREADS rate=$rate req/s; $summary"
	run=$((run + 1))
done
