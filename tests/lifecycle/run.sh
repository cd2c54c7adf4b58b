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

# libcurl and libmicrohttpd are opened only for their exporter: with
# them hidden (/dev/null bound over them in a mount namespace of the
# test's own) the tracer still runs, and the exporter that needs one
# says which and how to install it
hide=""
for l in libcurl.so.4 libcurl-gnutls.so.4 libmicrohttpd.so.12; do
	for f in $(ldconfig -p | awk -v l="$l" '$1 == l { print $NF }'); do
		hide="$hide $(readlink -f "$f")"
	done
done
hidden() {
	# shellcheck disable=SC2016
	unshare -m sh -c 'for f in $0; do
			mount --bind /dev/null "$f" || exit 125
		done
		exec "$@"' "$hide" "$@"
}
expect json_without_exporter_libs 0 "0 requests, 0 incomplete" -- \
	hidden "$TRACER" --replay "$tmp/empty.htrec"
expect otlp_without_libcurl 1 \
	"OTLP: --otlp-endpoint: libcurl could not be loaded .*apt-get install libcurl4" -- \
	hidden "$TRACER" --replay "$tmp/empty.htrec" \
	--otlp-endpoint http://127.0.0.1:9
expect metrics_without_libmicrohttpd 1 \
	"cannot serve metrics: libmicrohttpd could not be loaded .*apt-get install libmicrohttpd12" -- \
	hidden "$TRACER" -p 1 -d 1 \
	--metrics-addr "127.0.0.1:$((20000 + RANDOM % 20000))"

expect no_such_pid 1 "no process with PID 2147483000" -- \
	"$TRACER" -p 2147483000
expect no_btf 1 "no kernel BTF.*--btf" -- "$TRACER" --btf /nonexistent/btf
expect record_unwritable 1 "cannot record to /nonexistent/dir/r.htrec: No such file" -- \
	"$TRACER" --record /nonexistent/dir/r.htrec
# --record never writes through what someone else put at the path: the
# captured credentials would go to them
echo secret >"$tmp/victim"
ln -s "$tmp/victim" "$tmp/link.htrec"
expect record_symlink 1 "cannot record to .*link.htrec: it is a symbolic link" -- \
	"$TRACER" --record "$tmp/link.htrec" -d 1
ln -s "$tmp/nowhere" "$tmp/dangling.htrec"
expect record_dangling_symlink 1 "it is a symbolic link" -- \
	"$TRACER" --record "$tmp/dangling.htrec" -d 1
if [ -e "$tmp/nowhere" ] || [ "$(cat "$tmp/victim")" != secret ]; then
	bad record_symlink_untouched "a link's target was created or written"
else
	ok record_symlink_untouched
fi
echo theirs >"$tmp/theirs.htrec"
chown 65534:65534 "$tmp/theirs.htrec"
chmod 600 "$tmp/theirs.htrec"
expect record_other_owner 1 "it belongs to another user \(uid 65534\)" -- \
	"$TRACER" --record "$tmp/theirs.htrec" -d 1
echo open >"$tmp/open.htrec"
chmod 666 "$tmp/open.htrec"
expect record_world_writable 1 "others may write it \(mode 0666\)" -- \
	"$TRACER" --record "$tmp/open.htrec" -d 1
mkfifo "$tmp/fifo.htrec"
# timeout: a tracer that blocked opening the FIFO would hang here
expect record_fifo 1 "it is a FIFO, not a regular file" -- \
	timeout 20 "$TRACER" --record "$tmp/fifo.htrec" -d 1
# a fresh path is recorded to (owner only), and replays; one flipped bit
# in it is reported where it is, with a failing exit status
expect record_fresh 0 "records written to .*fresh.htrec" -- \
	"$TRACER" --record "$tmp/fresh.htrec" -d 1
if [ "$(stat -c %a "$tmp/fresh.htrec" 2>/dev/null)" = 600 ]; then
	ok record_fresh_mode
else
	bad record_fresh_mode "mode $(stat -c %a "$tmp/fresh.htrec" 2>&1), want 600"
fi
expect replay_fresh 0 "requests, 0 incomplete" -- \
	"$TRACER" --replay "$tmp/fresh.htrec"
# byte 40: the first item's checksum (it starts at 32, after the header)
b=$(od -An -tu1 -j40 -N1 "$tmp/fresh.htrec" | tr -d ' ')
printf "\\$(printf %03o $((b ^ 4)))" |
	dd of="$tmp/fresh.htrec" bs=1 seek=40 conv=notrunc 2>/dev/null
expect replay_flipped_bit 1 "the recording is corrupt at byte 32: .*checksum" -- \
	"$TRACER" --replay "$tmp/fresh.htrec"
expect probe 0 "attach mode: +(fentry|kprobe|tracepoint)" -- "$TRACER" --probe
expect probe_no_btf 1 "tracing: +cannot work" -- \
	"$TRACER" --probe --btf /nonexistent/btf
if command -v setpriv >/dev/null 2>&1; then
	nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	expect not_root 1 "needs root, or the CAP_BPF and CAP_PERFMON" -- \
		$nobody "$TRACER"
	# --probe without privileges blames them, not the kernel
	expect probe_unprivileged 1 "privileges: +no: uid 65534 lacks CAP_BPF, CAP_PERFMON" -- \
		$nobody "$TRACER" --probe
	if grep -Eq "Linux < 5.8|5.8 or later|tracefs is not mounted" "$tmp/out"; then
		bad probe_unprivileged_no_kernel_blame "$(grep -E "5.8|tracefs" "$tmp/out")"
	elif ! grep -Eq "^ring buffer: +not known: .*not permitted" "$tmp/out"; then
		bad probe_unprivileged_no_kernel_blame "ring buffer line: $(grep '^ring' "$tmp/out")"
	else
		ok probe_unprivileged_no_kernel_blame
	fi
	# CAP_BPF + CAP_PERFMON: BPF is allowed, tracefs (root's) is not
	caps=+bpf,+perfmon
	expect probe_bpf_perfmon 1 "lacks CAP_DAC_READ_SEARCH \(tracefs is root's\)" -- \
		$nobody --inh-caps=$caps --ambient-caps=$caps "$TRACER" --probe
	if ! grep -Eq "^ring buffer: +yes" "$tmp/out"; then
		bad probe_bpf_perfmon_ringbuf "$(grep '^ring' "$tmp/out")"
	else
		ok probe_bpf_perfmon_ringbuf
	fi
	expect start_bpf_perfmon 1 "lacks CAP_DAC_READ_SEARCH" -- \
		$nobody --inh-caps=$caps --ambient-caps=$caps "$TRACER" -d 1
	# ... and with a way into tracefs, what README.md says is enough
	caps=+bpf,+perfmon,+dac_read_search
	expect probe_bpf_perfmon_dac 0 "tracing: +can work" -- \
		$nobody --inh-caps=$caps --ambient-caps=$caps "$TRACER" --probe
	expect start_bpf_perfmon_dac 0 "Tracing HTTP requests" -- \
		$nobody --inh-caps=$caps --ambient-caps=$caps "$TRACER" -d 1
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

# --uprobe-links perf (the only way before Linux 6.6): the kernel removes
# perf-event uprobes one at a time, ~0.1 s each, so a long exit is said,
# after the summary, not left to look like a hang
perf_detach_said() {
	local name=perf_detach_said pid i n_tls sum_at said_at
	"$TRACER" -v --uprobe-links perf >/dev/null 2>"$tmp/err" &
	pid=$!
	started "$name" "$pid" 300 || return
	kill -INT "$pid"
	for i in $(seq 1 900); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
		bad "$name" "tracer did not exit within 90 s of SIGINT"
		return
	fi
	wait "$pid" 2>/dev/null
	n_tls=$(sed -n 's/.*(\([0-9]*\) perf-event links).*/\1/p' "$tmp/err" |
		awk '{ n += $1 } END { print n + 0 }')
	sum_at=$(grep -n 'requests, .* records lost' "$tmp/err" | cut -d: -f1)
	said_at=$(grep -n 'detaching [0-9]* perf-event uprobes' "$tmp/err" |
		cut -d: -f1)
	if [ "$n_tls" -lt 20 ] && [ -z "$said_at" ]; then
		ok "$name (only $n_tls TLS perf-event links here: nothing to say)"
	elif [ -z "$said_at" ]; then
		bad "$name" "$n_tls TLS perf-event links, and the exit did not say why it waits: $(tail -n 3 "$tmp/err")"
	elif [ -z "$sum_at" ] || [ "$sum_at" -gt "$said_at" ]; then
		bad "$name" "the summary must come before the detach: $(tail -n 3 "$tmp/err")"
	else
		ok "$name ($(sed -n "${said_at}p" "$tmp/err" | grep -o 'detaching [0-9]*'))"
	fi
}

perf_detach_said

EXIT_LIMIT_MS=${EXIT_LIMIT_MS:-15000}
SERVER=${SERVER:-$BUILD/fixtures/ht_test_server}
CLIENT=${CLIENT:-$BUILD/fixtures/ht_test_client}

# now_ms; exited_within PID MS: waits up to MS for PID to end (1 if not)
now_ms() { echo $(($(date +%s%N) / 1000000)); }
exited_within() {
	local i
	for i in $(seq 1 $(($2 / 50 + 1))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	! kill -0 "$1" 2>/dev/null
}

# a fixture server on 127.0.0.1 for the cases below; its port in $port
server_pid=""
port=""
start_server() {
	local i
	"$SERVER" --listen 127.0.0.1 --port 0 --port-file "$tmp/port" \
		--max-seconds 300 >/dev/null 2>&1 &
	server_pid=$!
	for i in $(seq 1 50); do
		[ -s "$tmp/port" ] && break
		sleep 0.1
	done
	port=$(cat "$tmp/port" 2>/dev/null)
	[ -n "$port" ]
}
stop_server() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=""
}
trap 'stop_server; rm -rf "$tmp"' EXIT

# SIGINT right after start-up began, the tracer started from a script in
# the background (SIGINT inherited as ignored): the handler is in before
# the slow part, and the run ends cleanly, summary and recording whole
start_sigint_ignored() {
	local name=start_sigint_ignored pid i caught="" t0 ms rc
	rm -f "$tmp/start.htrec"
	(
		trap '' INT
		exec "$TRACER" --record "$tmp/start.htrec" >/dev/null 2>"$tmp/err"
	) &
	pid=$!
	# the moment its SIGINT handler is in (SigCgt bit 2)
	for i in $(seq 1 300); do
		if [ "$(readlink /proc/$pid/exe 2>/dev/null)" = "$(readlink -f "$TRACER")" ] &&
			(( 0x$(awk '/^SigCgt:/{print $2}' /proc/$pid/status 2>/dev/null || echo 0) & 2 )); then
			caught=yes
			break
		fi
		sleep 0.01
	done
	if grep -q Tracing "$tmp/err"; then
		kill -9 "$pid" 2>/dev/null
		bad "$name" "the SIGINT handler went in only after start-up: $(head -c 300 "$tmp/err")"
		return
	fi
	t0=$(now_ms)
	kill -INT "$pid"
	if ! exited_within "$pid" "$EXIT_LIMIT_MS"; then
		kill -9 "$pid"
		bad "$name" "tracer still running $EXIT_LIMIT_MS ms after SIGINT (handler caught: ${caught:-no})"
		return
	fi
	wait "$pid"
	rc=$?
	ms=$(($(now_ms) - t0))
	if [ "$rc" != 0 ]; then
		bad "$name" "exit status $rc: $(tail -c 300 "$tmp/err")"
	elif ! grep -q "during start-up" "$tmp/err"; then
		bad "$name" "not stopped during start-up: $(tail -c 300 "$tmp/err")"
	elif ! grep -q "requests, .* incomplete, .* records lost" "$tmp/err"; then
		bad "$name" "no summary line: $(tail -c 300 "$tmp/err")"
	elif ! "$TRACER" --replay "$tmp/start.htrec" >/dev/null 2>"$tmp/replay.err"; then
		bad "$name" "--replay of its recording failed: $(head -c 300 "$tmp/replay.err")"
	else
		ok "$name (exit in $ms ms)"
	fi
}

# tracer_bg NAME ARGS...: starts the tracer in the background with stdout
# to $out (a file, a fifo, /dev/full), stderr to $tmp/err; its pid in
# $tpid; fails NAME if it does not start
tracer_bg() {
	local name=$1
	shift
	"$TRACER" "$@" >"$out" 2>"$tmp/err" &
	tpid=$!
	started "$name" "$tpid" 300
}

# the run ends by itself within the limit: returns its exit status in $rc
ends_by_itself() {
	local name=$1 why=$2
	if ! exited_within "$tpid" "$EXIT_LIMIT_MS"; then
		kill -9 "$tpid" 2>/dev/null
		wait "$tpid" 2>/dev/null
		bad "$name" "tracer still running $EXIT_LIMIT_MS ms after $why: $(tail -c 300 "$tmp/err")"
		return 1
	fi
	wait "$tpid"
	rc=$?
}

# `--json | head -1`: the reader goes away after one line and the
# tracer ends (a broken pipe is said; status 0: the reader had what it
# wanted)
json_head() {
	local name=json_head hpid rc
	rm -f "$tmp/fifo"
	mkfifo "$tmp/fifo"
	head -1 <"$tmp/fifo" >"$tmp/head.out" &
	hpid=$!
	out=$tmp/fifo
	tracer_bg "$name" -c ht_test_client --json || { kill "$hpid"; return; }
	"$CLIENT" --connect "127.0.0.1:$port" --mode keepalive / 3 >/dev/null
	wait "$hpid"
	ends_by_itself "$name" "its reader exited" || return
	if [ "$rc" != 0 ]; then
		bad "$name" "exit status $rc: $(tail -c 300 "$tmp/err")"
	elif ! grep -q '^{"ts"' "$tmp/head.out"; then
		bad "$name" "head got no timeline: $(head -c 200 "$tmp/head.out")"
	elif ! grep -q "broken pipe" "$tmp/err"; then
		bad "$name" "the broken pipe is not said: $(tail -c 300 "$tmp/err")"
	elif ! grep -q "requests, .* incomplete" "$tmp/err"; then
		bad "$name" "no summary line: $(tail -c 300 "$tmp/err")"
	else
		ok "$name"
	fi
}

# `--json > /dev/full`: the first timeline cannot be written; the tracer
# says so and ends with status 1
json_dev_full() {
	local name=json_dev_full rc
	out=/dev/full
	tracer_bg "$name" -c ht_test_client --json || return
	"$CLIENT" --connect "127.0.0.1:$port" --mode single / >/dev/null
	ends_by_itself "$name" "a failed write" || return
	if [ "$rc" != 1 ]; then
		bad "$name" "exit status $rc, want 1: $(tail -c 300 "$tmp/err")"
	elif ! grep -q "writing the output failed: No space left on device" "$tmp/err"; then
		bad "$name" "no message about the write: $(tail -c 300 "$tmp/err")"
	else
		ok "$name"
	fi
}

# -p of a process that exits: said, and with no traced process left the
# tracer stops by itself (status 0, with its summary); the process is
# left a zombie for a while, as a parent that has not reaped it would
# leave it
pid_exits() {
	local name=pid_exits spid rc
	sleep 1.5 &
	spid=$!
	out=/dev/null
	tracer_bg "$name" -p "$spid" || { kill "$spid"; return; }
	sleep 2.5 # the zombie stays until wait below: it has exited too
	ends_by_itself "$name" "its only traced process exited" || return
	wait "$spid" 2>/dev/null
	if [ "$rc" != 0 ]; then
		bad "$name" "exit status $rc: $(tail -c 300 "$tmp/err")"
	elif ! grep -q "process $spid exited; no traced process is left: stopping" "$tmp/err"; then
		bad "$name" "the exit is not said: $(tail -c 300 "$tmp/err")"
	elif ! grep -q "requests, .* incomplete" "$tmp/err"; then
		bad "$name" "no summary line: $(tail -c 300 "$tmp/err")"
	else
		ok "$name"
	fi
}

# stdout a pipe nobody reads, filled by a stream of timelines: SIGINT
# still ends the run within the limit (the blocked write is given up,
# and said)
exit_blocked_output() {
	local name=exit_blocked_output rpid t0 ms rc
	rm -f "$tmp/fifo"
	mkfifo "$tmp/fifo"
	# opens the fifo and never reads it
	sleep 300 <"$tmp/fifo" &
	rpid=$!
	out=$tmp/fifo
	tracer_bg "$name" -c ht_test_client --json || { kill "$rpid"; return; }
	"$CLIENT" --connect "127.0.0.1:$port" --mode keepalive /size/1000 600 \
		>/dev/null
	sleep 0.5
	t0=$(now_ms)
	kill -INT "$tpid"
	ends_by_itself "$name" "SIGINT" || { kill "$rpid"; return; }
	ms=$(($(now_ms) - t0))
	kill "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	if ! grep -q "requests, .* incomplete" "$tmp/err"; then
		bad "$name" "no summary line: $(tail -c 300 "$tmp/err")"
	elif ! grep -q "the last timelines were not written" "$tmp/err"; then
		bad "$name" "the lost output is not said: $(tail -c 300 "$tmp/err")"
	else
		ok "$name (exit in $ms ms, status $rc)"
	fi
}

# a reader slower than the stream of timelines (4 KiB every 10 ms) and
# requests that go on through the SIGINT: the daemon is never without
# records to read, and the end still comes within the limit
exit_steady_stream() {
	local name=exit_steady_stream rpid lpid t0 ms rc
	rm -f "$tmp/fifo"
	mkfifo "$tmp/fifo"
	/usr/bin/python3 -c '
import os, sys, time
while os.read(0, 4096):
    time.sleep(0.01)' <"$tmp/fifo" &
	rpid=$!
	out=$tmp/fifo
	tracer_bg "$name" -c ht_test_client || { kill "$rpid"; return; }
	while :; do
		"$CLIENT" --connect "127.0.0.1:$port" --mode keepalive / 1000 \
			>/dev/null 2>&1 || break
	done &
	lpid=$!
	sleep 3
	t0=$(now_ms)
	kill -INT "$tpid"
	ends_by_itself "$name" "SIGINT" || { kill "$rpid" "$lpid"; return; }
	ms=$(($(now_ms) - t0))
	kill "$rpid" "$lpid" 2>/dev/null
	wait "$rpid" "$lpid" 2>/dev/null
	if [ "$rc" != 0 ]; then
		bad "$name" "exit status $rc: $(tail -c 300 "$tmp/err")"
	elif ! grep -q "requests, .* incomplete" "$tmp/err"; then
		bad "$name" "no summary line: $(tail -c 300 "$tmp/err")"
	else
		ok "$name (exit in $ms ms)"
	fi
}

# node, then npm (against a registry on loopback, with a fresh HOME and
# cache) ran while the tracer was up, and a stream of requests runs
# through the SIGINT: the exit stays within the limit
exit_after_node_npm() {
	local name=exit_after_node_npm reg lpid t0 ms rc i rport
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		if [ "${CI:-}" = true ]; then
			bad "$name" "node and npm are needed"
		else
			echo "skip $name: no node/npm"
		fi
		return
	fi
	mkdir -p "$tmp/npmhome"
	/usr/bin/python3 -c '
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        name = self.path.strip("/").split("/")[0] or "x"
        body = json.dumps({"name": name, "dist-tags": {"latest": "1.3.0"},
                           "versions": {"1.3.0": {"name": name,
                                                  "version": "1.3.0"}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.timeout = 120
s.serve_forever()' "$tmp/regport" &
	reg=$!
	for i in $(seq 1 50); do
		[ -s "$tmp/regport" ] && break
		sleep 0.1
	done
	rport=$(cat "$tmp/regport" 2>/dev/null)
	out=/dev/null
	tracer_bg "$name" || { kill "$reg"; return; }
	node -e 1
	sleep 2.5
	if ! HOME=$tmp/npmhome npm_config_cache=$tmp/npmhome/cache \
		npm view left-pad version --prefer-online --no-update-notifier \
		--registry "http://127.0.0.1:$rport/" >"$tmp/npm.out" 2>&1; then
		bad "$name" "npm view failed: $(tail -c 300 "$tmp/npm.out")"
	fi
	# the stream: keep-alive rounds of 1000 (its most), one after another
	while :; do
		"$CLIENT" --connect "127.0.0.1:$port" --mode keepalive / 1000 \
			>/dev/null 2>&1 || break
	done &
	lpid=$!
	sleep 1
	t0=$(now_ms)
	kill -INT "$tpid"
	ends_by_itself "$name" "SIGINT" || { kill "$reg" "$lpid"; return; }
	ms=$(($(now_ms) - t0))
	kill "$reg" "$lpid" 2>/dev/null
	wait "$reg" "$lpid" 2>/dev/null
	if [ "$rc" != 0 ]; then
		bad "$name" "exit status $rc: $(tail -c 300 "$tmp/err")"
	elif ! grep -q "requests, .* incomplete" "$tmp/err"; then
		bad "$name" "no summary line: $(tail -c 300 "$tmp/err")"
	elif [ "$ms" -gt "$EXIT_LIMIT_MS" ]; then
		bad "$name" "exit took $ms ms after SIGINT (limit $EXIT_LIMIT_MS)"
	else
		ok "$name (exit in $ms ms)"
	fi
}

start_sigint_ignored
if start_server; then
	json_head
	json_dev_full
	exit_blocked_output
	exit_steady_stream
	exit_after_node_npm
else
	bad fixture_server "$SERVER did not start (make tools)"
fi
pid_exits
stop_server

echo "lifecycle: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
