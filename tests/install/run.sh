#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `make install` and `make uninstall` into scratch DESTDIRs, with the
# default PREFIX and with PREFIX=/usr: the binary, the systemd unit with
# paths that follow PREFIX, the README; nothing left after uninstall.
# The installed unit is checked with `systemd-analyze verify` (which
# needs no running systemd): any complaint fails.
#
#   BUILD=build tests/install/run.sh       (`make test-install`; no root)
#   CI=true     without systemd-analyze: a failure, not a skip
set -u

BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
work=$(mktemp -d /tmp/httptrace-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
passed=0

fail() {
	echo "install: FAIL: $1"
	failed=$((failed + 1))
}

ok() {
	passed=$((passed + 1))
}

# check_file PATH MODE: exists, a regular file, with this mode
check_file() {
	if [ ! -f "$1" ]; then
		fail "$1 not installed"
		return 1
	fi
	mode=$(stat -c %a "$1")
	if [ "$mode" != "$2" ]; then
		fail "$1 has mode $mode, want $2"
		return 1
	fi
	ok
}

# one_prefix NAME PREFIX: install, check, verify, uninstall
one_prefix() {
	dest=$work/$1
	prefix=$2
	mkdir -p "$dest"
	if ! $MAKE -s --no-print-directory install BUILD="$BUILD" \
		DESTDIR="$dest" PREFIX="$prefix" >"$work/$1.log" 2>&1; then
		fail "make install PREFIX=$prefix failed: $(tail -5 "$work/$1.log")"
		return
	fi
	bin=$dest$prefix/sbin/httptrace-bpf
	unit=$dest$prefix/lib/systemd/system/httptrace-bpf.service
	doc=$dest$prefix/share/doc/httptrace-bpf/README.md
	if check_file "$bin" 755; then
		cmp -s "$bin" "$BUILD/httptrace-bpf" && ok ||
			fail "$bin differs from $BUILD/httptrace-bpf"
	fi
	check_file "$doc" 644
	if check_file "$unit" 644; then
		want="ExecStart=$prefix/sbin/httptrace-bpf --quiet --metrics-addr 127.0.0.1:9464"
		grep -qxF "$want" "$unit" && ok ||
			fail "$unit: no line '$want'"
		want="Documentation=file:$prefix/share/doc/httptrace-bpf/README.md"
		grep -qxF "$want" "$unit" && ok ||
			fail "$unit: no line '$want'"
		# only the files of the package, and no systemctl run
		n=$(find "$dest" -type f | wc -l)
		[ "$n" -eq 3 ] && ok ||
			fail "make install left $n files in DESTDIR, want 3: $(find "$dest" -type f)"
		verify_unit "$unit" "$bin"
	fi
	if ! $MAKE -s --no-print-directory uninstall BUILD="$BUILD" \
		DESTDIR="$dest" PREFIX="$prefix" >"$work/$1.log" 2>&1; then
		fail "make uninstall PREFIX=$prefix failed: $(tail -5 "$work/$1.log")"
		return
	fi
	left=$(find "$dest" -type f)
	[ -z "$left" ] && ok || fail "make uninstall left: $left"
	[ ! -d "$dest$prefix/share/doc/httptrace-bpf" ] && ok ||
		fail "make uninstall left the doc directory"
}

# systemd-analyze verify: ExecStart must exist, so it points into
# DESTDIR here; "verify" says what it ignores on stderr with status 0,
# so any output is a failure too.
verify_unit() {
	if ! command -v systemd-analyze >/dev/null 2>&1; then
		if [ "${CI:-}" = true ]; then
			fail "systemd-analyze not found (apt-get install systemd)"
		else
			echo "install: systemd-analyze not found: the unit is not verified"
		fi
		return
	fi
	mkdir -p "$work/verify"
	sed "s|^ExecStart=[^ ]*|ExecStart=$2|" "$1" \
		>"$work/verify/httptrace-bpf.service"
	out=$(systemd-analyze verify "$work/verify/httptrace-bpf.service" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		fail "systemd-analyze verify (status $rc): $out"
	else
		ok
	fi
}

[ -x "$BUILD/httptrace-bpf" ] || { fail "$BUILD/httptrace-bpf not built"; }
one_prefix local /usr/local
one_prefix usr /usr
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
