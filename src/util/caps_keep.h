/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which capabilities the tracer keeps once it has attached: pure, so the
 * choice is unit-tested without privileges; kernel/privileges.c applies
 * it. A set of capabilities is a 64-bit mask, bit N = capability N (as
 * /proc/PID/status prints CapEff).
 */
#ifndef HTTPTRACE_CAPS_KEEP_H
#define HTTPTRACE_CAPS_KEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the numbers of include/uapi/linux/capability.h; CAP_PERFMON and
 * CAP_BPF are newer than some headers */
#define CAPS_DAC_READ_SEARCH 2
#define CAPS_SYS_PTRACE 19
#define CAPS_SYS_ADMIN 21
#define CAPS_PERFMON 38
#define CAPS_BPF 39

#define CAPS_BIT(n) (1ULL << (n))

/*
 * What the running tracer still needs, out of what it holds (held):
 * - BPF calls (map updates and deletes on kernels before 6.5, uprobe
 *   links) and uprobes on programs found later (perf_event_open of the
 *   uprobe PMU): CAP_BPF and CAP_PERFMON; CAP_SYS_ADMIN instead where
 *   the kernel does not know CAP_BPF (last_cap < 39, before 5.8) or the
 *   process reached BPF through CAP_SYS_ADMIN alone;
 * - the files of other users' programs and containers' cgroups:
 *   CAP_DAC_READ_SEARCH;
 * - watches_exec (system-wide): the exec watcher reads /proc/PID/maps,
 *   /proc/PID/exe and /proc/PID/root/... of new processes, which takes
 *   CAP_SYS_PTRACE for other users' processes; and when it attaches
 *   through a perf event per uprobe (perf_uprobes: kernels before 6.6,
 *   --uprobe-links perf), CAP_SYS_ADMIN too: perf_event_open of the
 *   uprobe PMU was refused (EACCES) with CAP_PERFMON alone on 6.18.
 * Never more than held: nothing can be raised.
 */
uint64_t caps_keep_plan(uint64_t held, int last_cap, bool watches_exec,
			bool perf_uprobes);

/* "CAP_BPF, CAP_PERFMON" (lowest number first; "none" for 0) into buf;
 * returns buf. */
const char *caps_words(uint64_t caps, char *buf, size_t len);

#endif /* HTTPTRACE_CAPS_KEEP_H */
