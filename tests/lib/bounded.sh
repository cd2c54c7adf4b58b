#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Runs a test command with a time limit. One that has not finished by
# then fails, named, with where each of its processes' threads was
# waiting (wchan, and the kernel stack as root), instead of holding CI
# until CI's own limit ends it with nothing said.
#
#   tests/lib/bounded.sh SECONDS COMMAND [ARG...]
#
# Exits with COMMAND's status, or 124 when it was stopped (SIGTERM to the
# command and everything it started, SIGKILL 10 s later). Stdin is the
# caller's.
set -u

limit=$1
shift
name=${BOUNDED_NAME:-$*}

# the command and its descendants, parents first
tree() {
	local p c
	for p in "$@"; do
		echo "$p"
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			tree "$c"
		done
	done
}

dump() {
	local p t
	echo "bounded: '$name' still running after $limit s; its processes:" >&2
	for p in $(tree "$1"); do
		[ -d /proc/"$p" ] || continue
		echo "  pid $p: $(tr '\0' ' ' < /proc/"$p"/cmdline 2>/dev/null | cut -c1-200)" >&2
		for t in /proc/"$p"/task/*; do
			echo "    thread ${t##*/} $(cat "$t"/comm 2>/dev/null)," \
				"state $(awk '{ print $3 }' "$t"/stat 2>/dev/null)," \
				"waiting in $(cat "$t"/wchan 2>/dev/null || echo '?')" >&2
			sed 's/^/      /' "$t"/stack 2>/dev/null | head -12 >&2
		done
	done
}

"$@" <&0 &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' INT TERM
# a pause that starts no process (a sleep every 0.2 s would be an exec
# the tracer under test sees): a read that times out on a pipe nobody
# writes, opened after the command started so that it does not inherit
# the descriptor
exec {pause_fd}<> <(:)
pause() { read -r -t "$1" -u "$pause_fd" _; }
start=$SECONDS
while kill -0 "$pid" 2>/dev/null; do
	if [ $((SECONDS - start)) -ge "$limit" ]; then
		procs=$(tree "$pid")
		dump "$pid"
		# shellcheck disable=SC2086
		kill -TERM $procs 2>/dev/null
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			pause 0.2
		done
		# shellcheck disable=SC2086
		kill -KILL $procs 2>/dev/null
		wait "$pid" 2>/dev/null
		echo "bounded: '$name' stopped after $limit s: FAIL" >&2
		exit 124
	fi
	pause 0.2
done
wait "$pid"
