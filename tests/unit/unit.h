/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A minimal test harness: each test is a function; CHECK records a
 * failure with file:line and goes on; the run ends with the line
 * "<suite>: N passed, N failed" and exit status 1 on any failure.
 *
 *   static void test_foo(void) { CHECK(1 + 1 == 2); CHECK_STR(a, "b"); }
 *   int main(void) { RUN(test_foo); return unit_done("http1"); }
 */
#ifndef HTTPTRACE_UNIT_H
#define HTTPTRACE_UNIT_H

#include <stdio.h>
#include <string.h>
#include <inttypes.h>

static int unit_failed_checks;
static int unit_passed, unit_failed;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,  \
				__LINE__, #cond);                            \
			unit_failed_checks++;                                \
		}                                                            \
	} while (0)

#define CHECK_STR(got, want)                                                 \
	do {                                                                 \
		const char *g_ = (got), *w_ = (want);                        \
		if (!g_ || strcmp(g_, w_) != 0) {                            \
			fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n",  \
				__FILE__, __LINE__, g_ ? g_ : "(null)", w_); \
			unit_failed_checks++;                                \
		}                                                            \
	} while (0)

#define CHECK_INT(got, want)                                                 \
	do {                                                                 \
		long long g_ = (long long)(got), w_ = (long long)(want);     \
		if (g_ != w_) {                                              \
			fprintf(stderr, "%s:%d: %s = %lld, want %lld\n",     \
				__FILE__, __LINE__, #got, g_, w_);           \
			unit_failed_checks++;                                \
		}                                                            \
	} while (0)

#define RUN(fn)                                                              \
	do {                                                                 \
		int before_ = unit_failed_checks;                            \
		fn();                                                        \
		if (unit_failed_checks == before_) {                         \
			unit_passed++;                                       \
		} else {                                                     \
			unit_failed++;                                       \
			fprintf(stderr, "FAIL %s\n", #fn);                   \
		}                                                            \
	} while (0)

static inline int unit_done(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif /* HTTPTRACE_UNIT_H */
