#!/bin/sh
# Fails when the BPF object $1 holds an atomic instruction that kernels
# before 5.12 refuse ("BPF_STX uses reserved fields"): any BPF_STX |
# BPF_ATOMIC (opcode 0xc3, 0xdb) whose immediate is not a plain add. The
# unnumbered build (HT_ATOMIC_FETCH=0) must have none; a change to the
# programs that brings one back is caught here, not on a 5.10 host.
obj=$1
objdump=$(command -v llvm-objdump ||
	ls /usr/lib/llvm-*/bin/llvm-objdump 2>/dev/null | tail -n 1)
if [ -z "$objdump" ]; then
	echo "$obj: not checked for atomic fetch: no llvm-objdump (package llvm)" >&2
	exit 0
fi
bad=$("$objdump" -d "$obj" |
	awk '$1 ~ /^[0-9]+:$/ && ($2 == "c3" || $2 == "db") &&
		($6 $7 $8 $9) != "00000000" { print }')
if [ -n "$bad" ]; then
	echo "$obj: atomic instructions older kernels refuse (BPF_FETCH or other than add):" >&2
	echo "$bad" >&2
	exit 1
fi
exit 0
