#!/bin/sh
# Runs inside a kernel-matrix guest (busybox sh, started by /init): for
# each attach mode, the static tracer against the fixture server and
# client on 127.0.0.1 and ::1 (and an HTTPS client and server on libssl,
# tests/fixtures/ht_tls_pair), then tests/fixtures/ht_check_timeline on
# its --json output; and tests/bpf/bpf_test in each mode (case "bpf"),
# and its Go tests against a Go program (case "go").
# Prints one line per mode and case:
#
#   RESULT kernel=KREL mode=MODE case=CASE PASS
#   RESULT kernel=KREL mode=MODE case=CASE FAIL <reason>
#   RESULT kernel=KREL mode=MODE case=CASE UNSUPPORTED <why>
#
# and evidence for failures on lines starting with "LOG ". Kernel command
# line options read here:
#   htmodes=fentry,kprobe,tracepoint   modes to run (default: all three)
#   htplaceholder=1   no tracer: run the fixtures only (pipeline test)
#   htverbose=1       print the tracer's stderr and JSON even on PASS
#   htpatchstress=N   no tracer, no BPF: switch the raw_syscalls:sys_enter
#                     event and a kprobe event on and off N times through
#                     tracefs while both CPUs make syscalls (the kernel
#                     patches its own text each time); prints
#                     "GUEST patchstress: N toggles in S s" and nothing
#                     else: for telling the emulator's and the kernel's
#                     failures from the tracer's (README, "Kernels and
#                     attach modes")
export PATH=/bin
KREL=$(uname -r)
# the tracer's cases; "bpf" is bpf_case()'s, "go" go_case()'s
CASES=$(grep -v '^#' /cases.txt | grep -v '^$' | grep -vx bpf | grep -vx go)
BPF_CASE=$(grep -x bpf /cases.txt)
GO_CASE=$(grep -x go /cases.txt)
MODES=fentry,kprobe,tracepoint
PLACEHOLDER=0
VERBOSE=0
for arg in $(cat /proc/cmdline); do
	case $arg in
	htmodes=*) MODES=${arg#htmodes=} ;;
	htplaceholder=1) PLACEHOLDER=1 ;;
	htverbose=1) VERBOSE=1 ;;
	htpatchstress=*) PATCHSTRESS=${arg#htpatchstress=} ;;
	esac
done
MODES=$(echo "$MODES" | tr ',' ' ')

# The kernel's own text patching, with the tracer nowhere: a syscall
# loop per CPU, and the sys_enter tracepoint (a static key whose sites
# sit in every syscall's entry) and a kprobe switched on and off.
if [ -n "${PATCHSTRESS:-}" ]; then
	tr=/sys/kernel/tracing
	[ -d $tr/events ] || mount -t tracefs nodev $tr
	busy=""
	for _ in 1 2; do
		(while :; do cat /proc/uptime >/dev/null; done) &
		busy="$busy $!"
	done
	kp=0
	echo 'p:htstress tcp_v4_connect' >>$tr/kprobe_events 2>/dev/null && kp=1
	echo "GUEST patchstress: $PATCHSTRESS toggles, kprobe event: $kp"
	t0=$(cut -d' ' -f1 /proc/uptime)
	i=0
	while [ $i -lt "$PATCHSTRESS" ]; do
		echo 1 >$tr/events/raw_syscalls/sys_enter/enable
		[ $kp = 1 ] && echo 1 >$tr/events/kprobes/htstress/enable
		echo 0 >$tr/events/raw_syscalls/sys_enter/enable
		[ $kp = 1 ] && echo 0 >$tr/events/kprobes/htstress/enable
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	kill $busy
	echo "GUEST patchstress: $i toggles in $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{printf "%.1f", b-a}') s"
	exit 0
fi
CLOSED_PORT=9       # nothing listens there in the guest
READY_TIMEOUT=120   # seconds the tracer may take to load and attach
T=/tmp

result() { # mode case verdict...
	m=$1 c=$2
	shift 2
	echo "RESULT kernel=$KREL mode=$m case=$c $*"
}

logf() { # prefix file [max lines]
	[ -f "$2" ] || return 0
	tail -n "${3:-40}" "$2" | sed "s/^/LOG $1: /"
}

# seconds since boot, with hundredths
now() { cut -d' ' -f1 /proc/uptime; }

echo "GUEST kernel=$KREL modes=$MODES cpus=$(nproc) mem=$(free -m | awk '/Mem:/{print $2}')M"
echo "GUEST cmdline: $(cat /proc/cmdline)"
for f in /sys/kernel/btf/vmlinux /sys/bus/event_source/devices/kprobe/type \
	/sys/kernel/tracing/events/syscalls/sys_enter_connect; do
	if [ -e "$f" ]; then echo "GUEST has $f"; else echo "GUEST lacks $f"; fi
done

# ---- fixture servers ------------------------------------------------------

start_server() { # name listen
	rm -f "$T/port.$1"
	${SERVER:-ht_test_server} --listen "$2" --port 0 --port-file "$T/port.$1" \
		--max-seconds 1200 >"$T/server.$1.log" 2>&1 &
	eval "SERVER_PID_$1=$!"
	i=0
	while [ $i -lt 100 ]; do
		[ -s "$T/port.$1" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	if [ ! -s "$T/port.$1" ]; then
		echo "GUEST fixture server on $2 did not start"
		logf "server.$1" "$T/server.$1.log"
		return 1
	fi
	return 0
}

start_server v4 127.0.0.1 || true
start_server v6 ::1 || true
P4=$(cat "$T/port.v4" 2>/dev/null)
P6=$(cat "$T/port.v6" 2>/dev/null)
echo "GUEST servers: 127.0.0.1:${P4:-none} (pid $SERVER_PID_v4) [::1]:${P6:-none} (pid $SERVER_PID_v6)"
# The dns case: a dynamically linked server keeps glibc mapped, so the
# tracer finds it (in /proc/*/maps) and puts its getaddrinfo uprobes there;
# the dynamically linked client resolves DNS_NAME from /etc/hosts.
DNS_NAME=httptrace-kernel.test
PD=""
if [ -x /bin/ht_test_server_dyn ]; then
	SERVER=ht_test_server_dyn
	start_server dyn 127.0.0.1 || true
	SERVER=
	PD=$(cat "$T/port.dyn" 2>/dev/null)
	echo "127.0.0.1 $DNS_NAME" >>/etc/hosts
	echo "hosts: files" >/etc/nsswitch.conf
	echo "GUEST dynamic server: 127.0.0.1:${PD:-none} (pid $SERVER_PID_dyn)"
fi

# The https case: a server on the host's libssl (ht_tls_pair, dynamically
# linked) runs from before the tracer starts, so the tracer finds libssl in
# its maps and puts the TLS uprobes on that file, where the client's calls
# hit them too.
PT=""
if [ -x /bin/ht_tls_pair ] && [ -f /etc/ht-tls.crt ]; then
	rm -f "$T/port.tls"
	ht_tls_pair serve --cert /etc/ht-tls.crt --key /etc/ht-tls.key \
		--port-file "$T/port.tls" --max-seconds 1200 \
		>"$T/server.tls.log" 2>&1 &
	TLS_SERVER_PID=$!
	i=0
	while [ $i -lt 100 ] && [ ! -s "$T/port.tls" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	PT=$(cat "$T/port.tls" 2>/dev/null)
	echo "GUEST tls server: 127.0.0.1:${PT:-none} (pid $TLS_SERVER_PID); libssl: $(grep -m1 -o '/[^ ]*libssl[^ ]*' "/proc/$TLS_SERVER_PID/maps")"
	[ -n "$PT" ] || logf "server.tls" "$T/server.tls.log"
fi

# ---- clients --------------------------------------------------------------

# run_client NAME ARGS...: runs ht_test_client, sets CPID and CRC; its
# output is in $T/NAME.out and $T/NAME.err.
run_client() {
	name=$1
	shift
	timeout 30 ${CLIENT:-ht_test_client} --timeout 20 "$@" >"$T/$name.out" \
		2>"$T/$name.err" &
	CPID=$!
	wait $CPID
	CRC=$?
	echo "$CPID" >"$T/$name.pid"
	echo "$CRC" >"$T/$name.rc"
}

# Runs the clients of every case for MODE; records pid and rc per case.
run_clients() {
	mode=$1
	for c in $CASES; do
		case $c in
		new)
			run_client "$mode.new" --connect "127.0.0.1:$P4" \
				--mode single "/new-$mode" ;;
		reused)
			run_client "$mode.reused" --connect "127.0.0.1:$P4" \
				--mode keepalive "/reused-$mode" 2 ;;
		refused)
			run_client "$mode.refused" \
				--connect "127.0.0.1:$CLOSED_PORT" \
				--mode single "/refused-$mode" ;;
		ipv6)
			run_client "$mode.ipv6" --connect "[::1]:$P6" \
				--mode single "/v6-$mode" ;;
		dns)
			if [ -n "$PD" ]; then
				CLIENT=ht_test_client_dyn
				run_client "$mode.dns" --connect "$DNS_NAME:$PD" \
					--mode single "/dns-$mode"
				CLIENT=
			fi ;;
		https)
			if [ -n "$PT" ]; then
				timeout 60 ht_tls_pair get "$PT" "/https-$mode" \
					/etc/ht-tls.crt >"$T/$mode.https.out" \
					2>"$T/$mode.https.err" &
				CPID=$!
				wait $CPID
				echo $? >"$T/$mode.https.rc"
				echo "$CPID" >"$T/$mode.https.pid"
			fi ;;
		server)
			# the server's side of a fresh connection; not of "new":
			# the fixture server sat in accept() since before this
			# tracer attached, and a kretprobe/fexit/sys_exit whose
			# entry was missed does not fire for that call
			run_client "$mode.server" --connect "127.0.0.1:$P4" \
				--mode single "/server-$mode" ;;
		esac
	done
}

# Did the client of case C behave as the case wants (independent of the
# tracer)? Prints a reason when not.
client_problem() {
	mode=$1 c=$2
	rc=$(cat "$T/$mode.$c.rc" 2>/dev/null)
	if [ "$c" = dns ] && [ -z "$PD" ]; then
		echo "no dynamically linked fixtures in the initramfs (or their server did not start)"
		return
	fi
	if [ "$c" = https ] && [ -z "$PT" ]; then
		echo "no ht_tls_pair and certificate in the initramfs (or its server did not start)"
		return
	fi
	case $c in
	refused)
		if [ "$rc" != 1 ] || ! grep -q -i refused "$T/$mode.$c.err"; then
			echo "client to a closed port: rc=$rc, want 1 and 'refused': $(head -c 200 "$T/$mode.$c.err")"
		fi ;;
	*)
		if [ "$rc" != 0 ]; then
			echo "client rc=$rc: $(head -c 200 "$T/$mode.$c.err")"
		fi ;;
	esac
}

check_case() { # mode case json
	mode=$1 c=$2 json=$3
	pid=$(cat "$T/$mode.$c.pid" 2>/dev/null)
	case $c in
	new) set -- --pid "$pid" --port "$P4" --target "/new-$mode" ;;
	reused) set -- --pid "$pid" --port "$P4" --target "/reused-$mode" ;;
	refused) set -- --pid "$pid" --port "$CLOSED_PORT" ;;
	ipv6) set -- --pid "$pid" --port "$P6" --target "/v6-$mode" ;;
	server) set -- --pid "$SERVER_PID_v4" --port "$P4" --target "/server-$mode" ;;
	dns) set -- --pid "$pid" --port "$PD" --target "/dns-$mode" --host "$DNS_NAME" ;;
	https) set -- --pid "$pid" --port "$PT" --target "/https-$mode" --host localhost ;;
	*) echo "FAIL unknown case $c"; return ;;
	esac
	ht_check_timeline --case "$c" --verbose "$@" \
		--client-out "$T/$mode.$c.out" "$json" 2>"$T/$mode.$c.check"
}

# ---- the tracer -----------------------------------------------------------

# Waits until the tracer says "Tracing" on stderr (0), exits (1) or the
# time is up (2).
wait_ready() { # pid errfile
	i=0
	while [ $i -lt $((READY_TIMEOUT * 10)) ]; do
		grep -q 'Tracing' "$2" && return 0
		kill -0 "$1" 2>/dev/null || {
			grep -q 'Tracing' "$2" && return 0
			return 1
		}
		sleep 0.1
		i=$((i + 1))
	done
	return 2
}

# The verifier log and libbpf's errors of a failed start, rerun with -vv:
# the end of every program load log and every line that says what failed.
dump_vv() { # mode
	timeout 300 httptrace-bpf --json --attach-mode "$1" -vv -d 1 \
		>/dev/null 2>"$T/$1.vv"
	echo "LOG $1: ---- httptrace-bpf -vv (rc=$?), $(wc -l <"$T/$1.vv") lines; excerpts:"
	awk '
		/BEGIN PROG LOAD LOG/ { inlog = 1; n = 0; print; next }
		/END PROG LOAD LOG/ {
			s = n > 120 ? n - 120 : 0
			if (s) print "... " s " lines cut ..."
			for (i = s; i < n; i++) print buf[i]
			print; inlog = 0; next
		}
		inlog { buf[n++] = $0; next }
		/[Ee]rror|[Ff]ail|cannot|invalid|refus|unsupported|not found|-E[A-Z]+|httptrace-bpf:/ { print }
	' "$T/$1.vv" | head -n 400 | sed "s/^/LOG $1: /"
}

run_mode() {
	mode=$1
	json=$T/$mode.json
	err=$T/$mode.err
	httptrace-bpf --json --attach-mode "$mode" -v >"$json" 2>"$err" &
	tpid=$!
	t0=$(now)
	wait_ready $tpid "$err"
	ready=$?
	echo "GUEST mode=$mode tracer ready=$ready (0 ready, 1 exited, 2 timed out) after $(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}') s"
	# which way the uprobes went (uprobe_multi links on 6.6+)
	echo "GUEST mode=$mode $(grep -m1 -o 'uprobes: .*' "$err")"
	if [ $ready != 0 ]; then
		kill -9 $tpid 2>/dev/null
		wait $tpid
		why=$(grep -v '^libbpf: ' "$err" | grep -i 'error\|cannot\|fail' | tail -n 1)
		[ -n "$why" ] || why=$(tail -n 1 "$err")
		[ $ready = 2 ] && why="no 'Tracing' within ${READY_TIMEOUT}s; $why"
		# the tracer warns when the kernel lacks what the mode needs
		unsup=$(grep "attach-mode $mode may not work here" "$err" |
			sed 's/.*may not work here: //' | tail -n 1)
		for c in $CASES; do
			if [ -n "$unsup" ]; then
				result "$mode" "$c" "UNSUPPORTED $unsup; $why"
			else
				result "$mode" "$c" "FAIL tracer did not start: $why"
			fi
		done
		logf "$mode stderr" "$err" 60
		dump_vv "$mode"
		return
	fi

	run_clients "$mode"
	sleep 1
	alive=1
	kill -0 $tpid 2>/dev/null || alive=0
	t_int=$(now)
	kill -INT $tpid 2>/dev/null
	i=0
	while kill -0 $tpid 2>/dev/null && [ $i -lt 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 $tpid 2>/dev/null && alive=2
	wait $tpid
	trc=$?
	echo "GUEST mode=$mode tracer rc=$trc, exited $(awk -v a="$t_int" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}') s after SIGINT: $(tail -n 1 "$err")"

	any_fail=0
	for c in $CASES; do
		prob=$(client_problem "$mode" "$c")
		if [ -n "$prob" ]; then
			result "$mode" "$c" "FAIL fixture: $prob"
			any_fail=1
			continue
		fi
		if [ $alive = 0 ]; then
			result "$mode" "$c" "FAIL tracer exited early (rc=$trc)"
			any_fail=1
			continue
		fi
		verdict=$(check_case "$mode" "$c" "$json")
		[ $alive = 2 ] && verdict="$verdict (tracer ignored SIGINT)"
		result "$mode" "$c" "$verdict"
		case $verdict in
		PASS) [ $VERBOSE = 1 ] && logf "$mode $c" "$T/$mode.$c.check" 20 ;;
		*)
			any_fail=1
			logf "$mode $c client" "$T/$mode.$c.out" 5
			logf "$mode $c client stderr" "$T/$mode.$c.err" 5
			logf "$mode $c timelines" "$T/$mode.$c.check" 10 ;;
		esac
	done
	# not a case: is the connection of "new", accepted by an accept()
	# that was pending since before the tracer attached, seen server-side?
	echo "GUEST mode=$mode note: server side of the connection accepted by an accept() pending since before attach: $(ht_check_timeline --case server --pid "$SERVER_PID_v4" --port "$P4" --target "/new-$mode" "$json")"
	if [ $any_fail = 1 ] || [ $VERBOSE = 1 ]; then
		grep -v ': attached ' "$err" >"$err.short"
		logf "$mode stderr" "$err.short" 40
		logf "$mode json" "$json" 30
	fi
}

# -c loads programs the verifier sees only then (the process-name read):
# do they load and attach in this mode?
comm_load() { # mode
	err=$T/$1.comm.err
	timeout 300 httptrace-bpf --attach-mode "$1" -c ht_test_client -d 1 \
		>/dev/null 2>"$err"
	rc=$?
	if grep -q 'Tracing' "$err" && [ $rc = 0 ]; then
		echo "GUEST mode=$1 note: with -c the tracer loads and attaches"
	else
		echo "GUEST mode=$1 note: with -c the tracer FAILED to start (rc=$rc): $(tail -n 1 "$err")"
		logf "$1 -c stderr" "$err" 20
	fi
}

# The BPF programs alone in MODE (tests/bpf/bpf_test): exact records of
# each syscall family. CI=true: programs that do not load are a failure.
bpf_case() { # mode
	[ -n "$BPF_CASE" ] || return 0
	out=$T/$1.bpf
	CI=true timeout 120 bpf_test -m "$1" >"$out" 2>&1
	rc=$?
	last=$(grep '^bpf: ' "$out" | tail -n 1)
	case "$rc $last" in
	"0 bpf: "*" 0 failed") result "$1" bpf PASS ;;
	*)
		result "$1" bpf "FAIL rc=$rc: ${last:-$(tail -n 1 "$out")}"
		logf "$1 bpf" "$out" 60 ;;
	esac
}

# Go's crypto/tls in MODE: the tracer's run above loaded the Go programs
# (it warns when the kernel refuses them, and goes on without), and the
# dynamically linked bpf_test (Zydis finds the RETs; the static tracer
# has none) traces tlspair, a static Go program, for real: handshake
# and plaintext records on the right connections, nothing on a pipe or
# a unix socket, a socket closed inside a Read counted. GO_TLSPAIR: a
# Go program the kernel refuses fails the load.
GO_TESTS="go_tls_pair go_tls_implicit go_tls_closed_mid_read go_tls_pipe go_tls_unix go_tls_preempted"
go_case() { # mode
	[ -n "$GO_CASE" ] || return 0
	gm=$1
	if [ ! -x /bin/bpf_test_dyn ] || [ ! -x /bin/tlspair ]; then
		result "$gm" go "FAIL no bpf_test_dyn and tlspair in the initramfs"
		return
	fi
	refused=$(grep -m1 "refused the programs for Go" "$T/$gm.err" 2>/dev/null)
	if [ -n "$refused" ]; then
		result "$gm" go "FAIL the tracer: $refused"
		return
	fi
	out=$T/$gm.go
	set --
	for t in $GO_TESTS; do set -- "$@" -t "$t"; done
	GO_TLSPAIR=/bin/tlspair CI=true timeout 180 bpf_test_dyn -m "$gm" "$@" \
		>"$out" 2>&1
	rc=$?
	last=$(grep '^bpf: ' "$out" | tail -n 1)
	n=$(echo $GO_TESTS | wc -w)
	echo "GUEST mode=$gm go: $(grep -m1 '^bpf: Go probes' "$out"); $last"
	case "$rc $last" in
	"0 bpf: $n passed, 0 failed") result "$gm" go PASS ;;
	*)
		result "$gm" go "FAIL rc=$rc: ${last:-$(tail -n 1 "$out")}"
		logf "$gm go" "$out" 60 ;;
	esac
}

placeholder_mode() {
	mode=$1
	run_clients "$mode"
	for c in $CASES; do
		prob=$(client_problem "$mode" "$c")
		if [ -n "$prob" ]; then
			result "$mode" "$c" "FAIL fixture: $prob"
		else
			result "$mode" "$c" "PASS (placeholder: fixtures only)"
		fi
	done
}

if [ -z "$P4" ] || [ -z "$P6" ]; then
	for mode in $MODES; do
		for c in $CASES; do
			result "$mode" "$c" "FAIL fixture server did not start (v4=${P4:-none} v6=${P6:-none})"
		done
	done
	exit 1
fi
echo "GUEST $(httptrace-bpf --version 2>&1)"
for mode in $MODES; do
	t0=$(now)
	if [ $PLACEHOLDER = 1 ]; then
		placeholder_mode "$mode"
		[ -n "$BPF_CASE" ] &&
			result "$mode" bpf "PASS (placeholder: not run)"
		[ -n "$GO_CASE" ] &&
			result "$mode" go "PASS (placeholder: not run)"
	else
		run_mode "$mode"
		comm_load "$mode"
		bpf_case "$mode"
		go_case "$mode"
	fi
	echo "GUEST mode=$mode took $(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}') s"
done
exit 0
