// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * run_parallel() (src/kernel/uprobe_multi.c), built with ThreadSanitizer:
 * every item handed to exactly one thread, once, and the caller sees
 * what the threads wrote once it returns. Items that two threads got
 * would be written by both: a report, and a count of 2.
 */
#include <pthread.h>

#include "kernel/uprobe_multi.h"
#include "unit.h"

struct item {
	int runs;
	pthread_t by;
};

static void touch(void *p)
{
	struct item *it = p;

	it->runs++;
	it->by = pthread_self();
}

static void run(int n)
{
	struct item items[200];
	void *ptrs[200];
	int threads = 0;

	memset(items, 0, sizeof(items));
	for (int i = 0; i < n; i++)
		ptrs[i] = &items[i];
	run_parallel(touch, ptrs, n);
	for (int i = 0; i < n; i++) {
		CHECK_INT(items[i].runs, 1);
		threads += i == 0 || !pthread_equal(items[i].by,
						     items[i - 1].by);
	}
	/* detaches overlap only if items go to several threads */
	if (n > 1)
		CHECK(threads > 1);
	/* nothing past the end */
	for (int i = n; i < 200; i++)
		CHECK_INT(items[i].runs, 0);
}

static void test_counts(void)
{
	static const int ns[] = { 0, 1, 2, 31, 32, 33, 64, 65, 199 };

	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++)
		run(ns[k]);
}

int main(void)
{
	RUN(test_counts);
	return unit_done("run_parallel");
}
