/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * -c NAME: does a task name match? The BPF side asks for each new
 * connection and lookup (bpf/maps.bpf.h, want_current()); the unit tests
 * run it natively. Bounded by HT_COMM_LEN and plain loads, so that it
 * compiles for both sides and the verifier sees every access bounded.
 */
#ifndef HTTPTRACE_COMM_MATCH_H
#define HTTPTRACE_COMM_MATCH_H

#include "httptrace_events.h"

/*
 * `comm` (HT_COMM_LEN bytes, as the kernel keeps it) is `target`, whole
 * or up to its first space: a program that retitles itself, as npm does
 * to "npm view x", keeps its name as the first word. A target that
 * fills all HT_COMM_LEN bytes matches on those.
 */
static inline __attribute__((always_inline)) int
ht_comm_matches(const char *comm, const volatile char *target)
{
	for (int i = 0; i < HT_COMM_LEN; i++) {
		if (!target[i])
			return !comm[i] || comm[i] == ' ';
		if (comm[i] != target[i])
			return 0;
	}
	return 1;
}

#endif /* HTTPTRACE_COMM_MATCH_H */
