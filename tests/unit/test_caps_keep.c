// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The capabilities the running tracer keeps, for each way it may run. */
#include "util/caps_keep.h"
#include "unit.h"

#define B(n) CAPS_BIT(CAPS_##n)
/* root: every capability of a 6.x kernel (0 to 40) */
#define ALL_CAPS ((1ULL << 41) - 1)

static void test_root(void)
{
	/* system-wide: the exec watcher reads other users' /proc/PID/... */
	CHECK(caps_keep_plan(ALL_CAPS, 40, true, false) ==
	      (B(BPF) | B(PERFMON) | B(DAC_READ_SEARCH) | B(SYS_PTRACE)));
	/* -p: nothing attaches later */
	CHECK(caps_keep_plan(ALL_CAPS, 40, false, false) ==
	      (B(BPF) | B(PERFMON) | B(DAC_READ_SEARCH)));
	/* nothing that is not held, CAP_SYS_ADMIN above all */
	CHECK(!(caps_keep_plan(ALL_CAPS, 40, true, false) & B(SYS_ADMIN)));
}

/* A kernel before 5.8 knows neither CAP_BPF nor CAP_PERFMON: BPF and
 * perf events take CAP_SYS_ADMIN there. */
static void test_kernel_without_cap_bpf(void)
{
	uint64_t all_old = (1ULL << 38) - 1;

	CHECK(caps_keep_plan(all_old, 37, true, false) ==
	      (B(SYS_ADMIN) | B(DAC_READ_SEARCH) | B(SYS_PTRACE)));
	/* bits a newer libcap reports held on an old kernel do not count */
	CHECK(caps_keep_plan(ALL_CAPS, 37, false, false) ==
	      (B(SYS_ADMIN) | B(DAC_READ_SEARCH)));
}

/* Started with just what README's Requirements list. */
static void test_least_privileged_start(void)
{
	uint64_t held = B(BPF) | B(PERFMON) | B(DAC_READ_SEARCH);

	CHECK(caps_keep_plan(held, 40, true, false) == held);
	CHECK(caps_keep_plan(held, 40, false, false) == held);
	/* CAP_PERFMON missing: BPF and perf events through CAP_SYS_ADMIN,
	 * which then stays (CAP_BPF is of no use alone) */
	held = B(SYS_ADMIN) | B(BPF) | B(SYS_PTRACE);
	CHECK(caps_keep_plan(held, 40, true, false) ==
	      (B(SYS_ADMIN) | B(SYS_PTRACE)));
	CHECK(caps_keep_plan(held, 40, false, false) == B(SYS_ADMIN));
	/* nothing held: nothing kept (the drop then changes nothing) */
	CHECK(caps_keep_plan(0, 40, true, false) == 0);
}

/* Perf-event uprobes (before 6.6, --uprobe-links perf): the exec
 * watcher's perf_event_open of the uprobe PMU takes CAP_SYS_ADMIN. */
static void test_perf_uprobes(void)
{
	CHECK(caps_keep_plan(ALL_CAPS, 40, true, true) ==
	      (B(BPF) | B(PERFMON) | B(DAC_READ_SEARCH) | B(SYS_PTRACE) |
	       B(SYS_ADMIN)));
	/* -p: nothing is attached later */
	CHECK(caps_keep_plan(ALL_CAPS, 40, false, true) ==
	      (B(BPF) | B(PERFMON) | B(DAC_READ_SEARCH)));
	/* not held: not kept */
	CHECK(caps_keep_plan(B(BPF) | B(PERFMON), 40, true, true) ==
	      (B(BPF) | B(PERFMON)));
}

static void test_words(void)
{
	char buf[128];

	CHECK_STR(caps_words(B(BPF) | B(PERFMON) | B(DAC_READ_SEARCH) |
				     B(SYS_PTRACE), buf, sizeof(buf)),
		  "CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_PERFMON, CAP_BPF");
	CHECK_STR(caps_words(0, buf, sizeof(buf)), "none");
	CHECK_STR(caps_words(CAPS_BIT(40) | CAPS_BIT(45), buf, sizeof(buf)),
		  "CAP_CHECKPOINT_RESTORE, capability 45");
	/* too small: whole names only, never a cut one */
	CHECK_STR(caps_words(B(SYS_ADMIN) | B(BPF), buf, 20), "CAP_SYS_ADMIN");
	CHECK_STR(caps_words(B(SYS_ADMIN), buf, 5), "");
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_root);
	RUN(test_kernel_without_cap_bpf);
	RUN(test_least_privileged_start);
	RUN(test_perf_uprobes);
	RUN(test_words);
	return unit_done("caps_keep");
}
