#!/bin/sh
# End-to-end tests: the real tracer against real clients and the fixture
# server on 127.0.0.1 / ::1. Needs root (BPF).
#
#   make test-e2e                       # BUILD=build tests/e2e/run.sh
#   BUILD=build tests/e2e/run.sh -k curl  # only cases whose name has "curl"
#   tests/e2e/run.sh --list
#
# Environment:
#   BUILD            build directory (default: build)
#   CI=true          not root, or a tracer that cannot start, is a failure
#   E2E_TRACER      tracer binary (default: $BUILD/httptrace-bpf)
#   E2E_TRACER_ARGS  extra tracer arguments, e.g. "--attach-mode tracepoint"
#   E2E_KEEP_LOGS=1  keep tracer stdout/stderr and --record file of every
#                    run in $BUILD/e2e/
#                    (always kept for runs with a failing case)
set -u
BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
	echo "e2e: $PY not found" >&2
	exit 1
fi
exec "$PY" "$here/e2e.py" --build "$BUILD" "$@"
