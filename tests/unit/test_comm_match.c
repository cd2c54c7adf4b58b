// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The in-kernel -c match (include/httptrace_comm_match.h), run natively:
 * which task names the BPF side traces for -c NAME.
 */
#include "httptrace_comm_match.h"
#include "unit.h"

/* Both as the kernel holds them: HT_COMM_LEN bytes, zero-padded. */
static int match(const char *comm, const char *target)
{
	char c[HT_COMM_LEN] = {}, t[HT_COMM_LEN] = {};

	memcpy(c, comm, strnlen(comm, HT_COMM_LEN));
	memcpy(t, target, strnlen(target, HT_COMM_LEN));
	return ht_comm_matches(c, t);
}

static void test_whole_name(void)
{
	CHECK_INT(match("curl", "curl"), 1);
	CHECK_INT(match("curl", "cur"), 0);
	CHECK_INT(match("cur", "curl"), 0);
	CHECK_INT(match("Curl", "curl"), 0);
	CHECK_INT(match("", "curl"), 0);
}

/* A retitled process keeps its name as the first word. */
static void test_first_word(void)
{
	CHECK_INT(match("npm view x", "npm"), 1);
	CHECK_INT(match("npm view x", "npm view x"), 1);
	CHECK_INT(match("npm view x", "npm view"), 1);
	CHECK_INT(match("npm view x", "npm v"), 0);
	CHECK_INT(match("npm-cli", "npm"), 0);
	CHECK_INT(match("npm\tview", "npm"), 0);
	CHECK_INT(match(" npm", "npm"), 0);
}

/* Names the kernel cut to 15 bytes and a NUL; a target of all 16
 * bytes (no NUL) is compared on those. */
static void test_long_names(void)
{
	char t16[HT_COMM_LEN], c16[HT_COMM_LEN];

	CHECK_INT(match("systemd-resolve", "systemd-resolve"), 1);
	CHECK_INT(match("systemd-resolve", "systemd-resolv"), 0);
	memset(t16, 'a', sizeof(t16));
	memset(c16, 'a', sizeof(c16));
	CHECK_INT(ht_comm_matches(c16, t16), 1);
	c16[15] = 0;
	CHECK_INT(ht_comm_matches(c16, t16), 0);
}

/* An empty target is never set (filter_comm is off then), but it
 * matches what an empty name or a first word would. */
static void test_empty_target(void)
{
	CHECK_INT(match("", ""), 1);
	CHECK_INT(match(" x", ""), 1);
	CHECK_INT(match("x", ""), 0);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_whole_name);
	RUN(test_first_word);
	RUN(test_long_names);
	RUN(test_empty_target);
	return unit_done("comm_match");
}
