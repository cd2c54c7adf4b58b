#!/usr/bin/env bash
# The tracer as a command: error messages in words for each way of
# starting it wrong, --probe, and no BPF program left behind after it
# stops (SIGINT, SIGTERM, -d). Needs root for the BPF parts.
#
#   BUILD=build tests/lifecycle/run.sh
set -u
BUILD=${BUILD:-build}
TRACER=${TRACER:-$BUILD/httptrace-bpf}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# expect NAME RC PATTERN -- COMMAND...: exit status RC, stderr+stdout
# matching PATTERN (grep -E)
expect() {
	local name=$1 want_rc=$2 pattern=$3 rc
	shift 4
	"$@" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" != "$want_rc" ]; then
		bad "$name" "exit status $rc, want $want_rc: $(head -c 300 "$tmp/out")"
	elif ! grep -Eq -e "$pattern" "$tmp/out"; then
		bad "$name" "output lacks /$pattern/: $(head -c 300 "$tmp/out")"
	else
		ok "$name"
	fi
}

expect unknown_option 2 "unknown option '--bogus'" -- "$TRACER" --bogus
expect bad_pid_value 2 "invalid PID 'abc'" -- "$TRACER" -p abc
expect bad_attach_mode 2 "unknown attach mode 'magic'" -- \
	"$TRACER" --attach-mode magic
expect help 0 "[-]-attach-mode" -- "$TRACER" --help
expect version 0 "^httptrace-bpf [0-9]" -- "$TRACER" --version

# --replay reads a file: no root needed, and a bad file is said in words
expect replay_missing 1 "cannot replay /nonexistent/x.htrec: No such file" -- \
	"$TRACER" --replay /nonexistent/x.htrec
printf 'GET / HTTP/1.1\r\n\r\n' >"$tmp/garbage.htrec"
expect replay_garbage 1 "not a recording made by --record" -- \
	"$TRACER" --replay "$tmp/garbage.htrec"
expect replay_with_duration 2 "-d does not go with --replay" -- \
	"$TRACER" --replay "$tmp/garbage.htrec" -d 3
# a header (magic, version 1, header size 24, clock offset) and half an item
printf 'HTRECORD\001\000\000\000\030\000\000\000\000\000\000\000\000\000\000\000\001\000\000' \
	>"$tmp/cut.htrec"
expect replay_cut 1 "ends inside an item at byte 24 \(cut short\?\); the timelines so far" -- \
	"$TRACER" --replay "$tmp/cut.htrec"
head -c 24 "$tmp/cut.htrec" >"$tmp/empty.htrec"
if command -v setpriv >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	chmod 755 "$tmp"
	chmod 644 "$tmp/empty.htrec"
	expect replay_unprivileged 0 "0 requests, 0 incomplete, 0 records lost" -- \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$TRACER" --replay "$tmp/empty.htrec"
fi

if [ "$(id -u)" -ne 0 ]; then
	if [ "${CI:-}" = true ]; then
		bad root "the BPF lifecycle tests need root"
	else
		echo "lifecycle: BPF cases skipped (needs root)"
	fi
	echo "lifecycle: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
fi

expect no_such_pid 1 "no process with PID 2147483000" -- \
	"$TRACER" -p 2147483000
expect no_btf 1 "no kernel BTF.*--btf" -- "$TRACER" --btf /nonexistent/btf
expect record_unwritable 1 "cannot record to /nonexistent/dir/r.htrec: No such file" -- \
	"$TRACER" --record /nonexistent/dir/r.htrec
expect probe 0 "attach mode: +(fentry|kprobe|tracepoint)" -- "$TRACER" --probe
expect probe_no_btf 1 "tracing: +cannot work" -- \
	"$TRACER" --probe --btf /nonexistent/btf
if command -v setpriv >/dev/null 2>&1; then
	expect not_root 1 "needs root, or the CAP_BPF and CAP_PERFMON" -- \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$TRACER"
else
	bad not_root "setpriv (util-linux) is missing"
fi

# progs_of PID: ids of the BPF programs that process holds (its fds'
# fdinfo: Debian's bpftool cannot show owners)
# started NAME PID TENTHS: waits up to TENTHS/10 s for the tracer's
# "Tracing" line in $tmp/err; on failure kills it and reports NAME
started() {
	local i
	for i in $(seq 1 "$3"); do
		grep -q Tracing "$tmp/err" && return 0
		sleep 0.1
	done
	kill -9 "$2" 2>/dev/null
	bad "$1" "tracer did not start: $(head -c 300 "$tmp/err")"
	return 1
}

progs_of() {
	grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null |
		awk '{print $2}' | sort -u
}

# detach NAME HOW: start the tracer, note its programs, stop it HOW
# (INT, TERM or duration), then none of them may remain
detach() {
	local name=$1 how=$2 pid ids left i
	if [ "$how" = duration ]; then
		"$TRACER" -d 2 >/dev/null 2>"$tmp/err" &
	else
		"$TRACER" >/dev/null 2>"$tmp/err" &
	fi
	pid=$!
	started "$name" "$pid" 150 || return
	ids=$(progs_of "$pid")
	if [ -z "$ids" ]; then
		kill -9 "$pid" 2>/dev/null
		bad "$name" "bpftool shows no programs held by the tracer"
		return
	fi
	[ "$how" = duration ] || kill -s "$how" "$pid"
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
		bad "$name" "tracer did not exit after $how"
		return
	fi
	wait "$pid" 2>/dev/null
	left=""
	for id in $ids; do
		bpftool prog show id "$id" >/dev/null 2>&1 && left="$left $id"
	done
	if [ -n "$left" ]; then
		bad "$name" "programs still loaded after $how:$left"
	elif ! grep -q "requests, .* incomplete, .* records lost" "$tmp/err"; then
		bad "$name" "no summary line on stderr: $(tail -c 300 "$tmp/err")"
	else
		ok "$name"
	fi
}

detach detach_sigint INT
detach detach_sigterm TERM
detach detach_duration duration

# links_of PID TYPE: how many BPF links of that type (fdinfo link_type:
# uprobe_multi, uretprobe_multi, perf, ...; an extended regex) the
# process holds
links_of() {
	grep -hE "^link_type:[[:space:]]*($2)\$" /proc/"$1"/fdinfo/* 2>/dev/null |
		wc -l
}

# uprobes through uprobe_multi links where --probe says the kernel has
# them (one link per library and program, so the exit is quick), one
# perf-event link each elsewhere; -v says which, and the exit after
# SIGINT stays short either way
uprobe_way() {
	local name=uprobe_way pid i n_multi t0 t1 ms limit=${EXIT_LIMIT_MS:-15000}
	local want
	if "$TRACER" --probe 2>/dev/null | grep -q '^uprobe_multi: yes'; then
		want="uprobes: through uprobe_multi links"
	else
		want="uprobes: one perf-event link each"
	fi
	"$TRACER" -v >/dev/null 2>"$tmp/err" &
	pid=$!
	started "$name" "$pid" 300 || return
	n_multi=$(links_of "$pid" "u(ret)?probe_multi")
	t0=$(date +%s%N)
	kill -INT "$pid"
	for i in $(seq 1 $((limit / 100 + 50))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
		bad "$name" "tracer did not exit within $ms ms of SIGINT"
		return
	fi
	wait "$pid" 2>/dev/null
	if ! grep -q "$want" "$tmp/err"; then
		bad "$name" "-v lacks '$want': $(grep uprobes "$tmp/err" | head -3)"
	elif [ "${want#*multi}" != "$want" ] && [ "$n_multi" -lt 2 ]; then
		bad "$name" "uprobe_multi kernel, but the tracer held $n_multi uprobe_multi links"
	elif [ "${want#*multi}" != "$want" ] &&
		grep -q 'perf-event links' "$tmp/err"; then
		bad "$name" "a TLS library went on perf-event links: $(grep -m1 'perf-event links' "$tmp/err")"
	elif [ "$ms" -gt "$limit" ]; then
		bad "$name" "exit took $ms ms after SIGINT (limit $limit)"
	else
		ok "$name ($n_multi uprobe_multi links, exit in $ms ms)"
	fi
}

uprobe_way

echo "lifecycle: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
