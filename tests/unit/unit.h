/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A minimal test harness: each test is a void function. The run ends
 * with the line "<suite>: N passed, N failed" and exit status 1 on any
 * failure.
 *
 *   static void test_foo(void)
 *   {
 *           struct thing *t = thing_new();
 *
 *           ASSERT(t != NULL);        // stops test_foo here on failure
 *           CHECK_INT(t->n, 0);       // records a failure, goes on
 *           CHECK_STR(t->name, "b");
 *   }
 *   int main(int argc, char **argv)
 *   {
 *           unit_args(argc, argv);
 *           RUN(test_foo);
 *           return unit_done("thing");
 *   }
 *
 * CHECK, CHECK_INT, CHECK_STR record a failure with file:line and go on,
 * so one run shows every wrong value. ASSERT, ASSERT_INT, ASSERT_STR do
 * the same and then return from the test function: for a value the rest
 * of the test cannot do without (a NULL it would dereference). They
 * return nothing, so they belong in the void test functions themselves,
 * not in helpers that return a value.
 *
 * One test by name: `build/tests/test_foo -t foo` (or -t test_foo; -t
 * may be repeated) or UNIT_TEST=foo in the environment, a comma
 * separated list; -l lists the tests. A name that matches no test is a
 * failure, so that a typo does not pass as an empty run.
 */
#ifndef HTTPTRACE_UNIT_H
#define HTTPTRACE_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

static int unit_failed_checks;
static int unit_passed, unit_failed;

#define UNIT_MAX_NAMES 32

static struct {
	int ready;   /* unit_args() ran or the environment was read */
	int list;    /* -l: print the names, run nothing */
	int n_names; /* 0: run every test */
	const char *names[UNIT_MAX_NAMES];
	int matched[UNIT_MAX_NAMES];
} unit_sel;

#define UNIT_FAIL_(...)                                                      \
	do {                                                                 \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);              \
		fprintf(stderr, __VA_ARGS__);                                \
		fputc('\n', stderr);                                         \
		unit_failed_checks++;                                        \
	} while (0)

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond))                                                 \
			UNIT_FAIL_("CHECK failed: %s", #cond);               \
	} while (0)

#define CHECK_STR(got, want)                                                 \
	do {                                                                 \
		const char *g_ = (got), *w_ = (want);                        \
		if (!g_ || strcmp(g_, w_) != 0)                              \
			UNIT_FAIL_("got \"%s\", want \"%s\"",                \
				   g_ ? g_ : "(null)", w_);                  \
	} while (0)

#define CHECK_INT(got, want)                                                 \
	do {                                                                 \
		long long g_ = (long long)(got), w_ = (long long)(want);     \
		if (g_ != w_)                                                \
			UNIT_FAIL_("%s = %lld, want %lld", #got, g_, w_);    \
	} while (0)

/* The fatal forms: as above, then the test function returns. */
#define ASSERT(cond)                                                         \
	do {                                                                 \
		if (!(cond)) {                                               \
			UNIT_FAIL_("ASSERT failed: %s", #cond);              \
			return;                                              \
		}                                                            \
	} while (0)

#define ASSERT_INT(got, want)                                                \
	do {                                                                 \
		int before_ = unit_failed_checks;                            \
		CHECK_INT(got, want);                                        \
		if (unit_failed_checks != before_)                           \
			return;                                              \
	} while (0)

#define ASSERT_STR(got, want)                                                \
	do {                                                                 \
		int before_ = unit_failed_checks;                            \
		CHECK_STR(got, want);                                        \
		if (unit_failed_checks != before_)                           \
			return;                                              \
	} while (0)

static inline void unit_add_name(const char *name)
{
	if (unit_sel.n_names < UNIT_MAX_NAMES)
		unit_sel.names[unit_sel.n_names++] = name;
	else
		fprintf(stderr, "unit: more than %d names, %s ignored\n",
			UNIT_MAX_NAMES, name);
}

/* -t NAME (repeatable), -l; anything else is a usage error. */
static inline void unit_args(int argc, char **argv)
{
	unit_sel.ready = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			unit_add_name(argv[++i]);
		} else if (!strcmp(argv[i], "-l")) {
			unit_sel.list = 1;
		} else {
			fprintf(stderr, "usage: %s [-l] [-t TEST]...\n",
				argv[0]);
			exit(2);
		}
	}
	if (!unit_sel.n_names) {
		const char *env = getenv("UNIT_TEST");
		static char buf[1024];
		char *save = NULL;

		if (!env || !*env)
			return;
		snprintf(buf, sizeof(buf), "%s", env);
		for (char *n = strtok_r(buf, ",", &save); n;
		     n = strtok_r(NULL, ",", &save))
			unit_add_name(n);
	}
}

/* Is the test function `fn` ("test_foo") selected? "foo" names it too. */
static inline int unit_selected(const char *fn)
{
	const char *bare = strncmp(fn, "test_", 5) ? fn : fn + 5;
	int hit = 0;

	if (!unit_sel.ready)
		unit_args(0, NULL);
	if (unit_sel.list) {
		printf("%s\n", bare);
		return 0;
	}
	if (!unit_sel.n_names)
		return 1;
	for (int i = 0; i < unit_sel.n_names; i++) {
		if (!strcmp(unit_sel.names[i], fn) ||
		    !strcmp(unit_sel.names[i], bare)) {
			unit_sel.matched[i] = 1;
			hit = 1;
		}
	}
	return hit;
}

#define RUN(fn)                                                              \
	do {                                                                 \
		int before_ = unit_failed_checks;                            \
		if (!unit_selected(#fn))                                     \
			break;                                               \
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
	if (unit_sel.list)
		return 0;
	for (int i = 0; i < unit_sel.n_names; i++) {
		if (!unit_sel.matched[i]) {
			fprintf(stderr, "%s: no test named %s\n", suite,
				unit_sel.names[i]);
			unit_failed++;
		}
	}
	printf("%s: %d passed, %d failed\n", suite, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif /* HTTPTRACE_UNIT_H */
