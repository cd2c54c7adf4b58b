// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The in-kernel first-bytes check (include/httptrace_first_bytes.h), run
 * natively: which connections the BPF side keeps reporting after their
 * first read or write.
 */
#include "httptrace_first_bytes.h"
#include "unit.h"

#define B(s) (const __u8 *)(s), (__u32)(sizeof(s) - 1)

/* The first frames real servers sent, as seen on loopback. */
static void test_settings_real(void)
{
	/* nginx 1.22: MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE,
	 * MAX_FRAME_SIZE */
	CHECK(ht_h2_settings_frame(B("\x00\x00\x12\x04\x00\x00\x00\x00\x00"
				     "\x00\x03\x00\x00\x00\x80"
				     "\x00\x04\x00\x01\x00\x00"
				     "\x00\x05\x00\xff\xff\xff")));
	/* an empty SETTINGS frame (all defaults), alone in its write */
	CHECK(ht_h2_settings_frame(B("\x00\x00\x00\x04\x00\x00\x00\x00\x00")));
	/* the largest legal length */
	CHECK(ht_h2_settings_frame(B("\x00\x3f\xfc\x04\x00\x00\x00\x00\x00")));
	CHECK(ht_may_start_http(B("\x00\x00\x18\x04\x00\x00\x00\x00\x00")));
}

static void test_settings_strict(void)
{
	/* too short to tell */
	CHECK(!ht_h2_settings_frame(B("\x00\x00\x12\x04\x00\x00\x00\x00")));
	CHECK(!ht_may_start_http(B("\x00\x00\x12\x04\x00\x00\x00\x00")));
	CHECK(!ht_may_start_http(B("\x00")));
	/* length not a multiple of 6 */
	CHECK(!ht_h2_settings_frame(B("\x00\x00\x13\x04\x00\x00\x00\x00\x00")));
	/* longer than a first frame may be */
	CHECK(!ht_h2_settings_frame(B("\x00\x40\x02\x04\x00\x00\x00\x00\x00")));
	CHECK(!ht_h2_settings_frame(B("\x01\x00\x02\x04\x00\x00\x00\x00\x00")));
	/* an ACK is never first */
	CHECK(!ht_h2_settings_frame(B("\x00\x00\x00\x04\x01\x00\x00\x00\x00")));
	/* other frame types, or on a stream */
	CHECK(!ht_h2_settings_frame(B("\x00\x00\x08\x06\x00\x00\x00\x00\x00")));
	CHECK(!ht_h2_settings_frame(B("\x00\x00\x06\x04\x00\x00\x00\x00\x01")));
	CHECK(!ht_h2_settings_frame(B("\x00\x00\x06\x04\x00\x80\x00\x00\x00")));
	/* binary protocols that start with 0x00: PostgreSQL's SSLRequest
	 * and startup message (length, then a code or protocol 3.0) */
	CHECK(!ht_may_start_http(B("\x00\x00\x00\x08\x04\xd2\x16\x2f")));
	CHECK(!ht_may_start_http(B("\x00\x00\x00\x54\x00\x03\x00\x00\x75\x73"
				   "\x65\x72\x00")));
}

static void test_may_start_http(void)
{
	CHECK(ht_may_start_http(B("GET / HTTP/1.1\r\n")));
	CHECK(ht_may_start_http(B("HTTP/1.1 200 OK\r\n")));
	CHECK(ht_may_start_http(B("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")));
	CHECK(ht_may_start_http(B("\x16\x03\x01\x02\x00")));
	CHECK(ht_may_start_http(B("\r\nGET")));
	/* upper case is all it asks: SSH is left to userspace */
	CHECK(ht_may_start_http(B("SSH-2.0-OpenSSH_9.2p1\r\n")));
	CHECK(!ht_may_start_http(B("get / HTTP/1.1\r\n")));
	CHECK(!ht_may_start_http(B("\x17\x03\x03")));
	CHECK(!ht_may_start_http((const __u8 *)"GET", 0));
}

/* Every request method a client sends, and responses of each version. */
static void test_methods_and_responses(void)
{
	static const char *const starts[] = {
		"GET / HTTP/1.1\r\n",     "HEAD / HTTP/1.1\r\n",
		"POST / HTTP/1.1\r\n",    "PUT /x HTTP/1.1\r\n",
		"DELETE /x HTTP/1.1\r\n", "CONNECT h:443 HTTP/1.1\r\n",
		"OPTIONS * HTTP/1.1\r\n", "TRACE / HTTP/1.1\r\n",
		"PATCH /x HTTP/1.1\r\n",  "HTTP/1.0 200 OK\r\n",
		"HTTP/1.1 101 Switching Protocols\r\n",
		"HTTP/2 200\r\n",
	};

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
		CHECK_INT(ht_may_start_http((const __u8 *)starts[i],
					    (__u32)strlen(starts[i])), 1);
}

/* The first read or write may move a single byte: the first decides. */
static void test_partial_first_bytes(void)
{
	CHECK_INT(ht_may_start_http(B("G")), 1);
	CHECK_INT(ht_may_start_http(B("H")), 1);
	CHECK_INT(ht_may_start_http(B("P")), 1);
	CHECK_INT(ht_may_start_http(B("\x16")), 1);
	CHECK_INT(ht_may_start_http(B("\r")), 1);
	CHECK_INT(ht_may_start_http(B("\n")), 1);
	/* a SETTINGS frame needs its whole header to be told apart */
	CHECK_INT(ht_may_start_http(B("\x00\x00\x00\x04\x00\x00\x00\x00")),
		  0);
	CHECK_INT(ht_may_start_http(B("\x00\x00\x00\x04\x00\x00\x00\x00"
				      "\x00")), 1);
}

/* Just outside each accepted range, and other protocols' first bytes. */
static void test_garbage(void)
{
	CHECK_INT(ht_may_start_http(B("@")), 0);    /* 'A' - 1 */
	CHECK_INT(ht_may_start_http(B("[")), 0);    /* 'Z' + 1 */
	CHECK_INT(ht_may_start_http(B("A")), 1);
	CHECK_INT(ht_may_start_http(B("Z")), 1);
	CHECK_INT(ht_may_start_http(B("\x15")), 0);
	CHECK_INT(ht_may_start_http(B("\x17")), 0);
	CHECK_INT(ht_may_start_http(B("\x0b")), 0); /* \v, not \r or \n */
	CHECK_INT(ht_may_start_http(B("\t")), 0);
	CHECK_INT(ht_may_start_http(B(" GET / HTTP/1.1")), 0);
	CHECK_INT(ht_may_start_http(B("{\"jsonrpc\":\"2.0\"}")), 0);
	CHECK_INT(ht_may_start_http(B("0123456789")), 0);
	CHECK_INT(ht_may_start_http(B("\xff\xfe")), 0);
	/* Redis */
	CHECK_INT(ht_may_start_http(B("*2\r\n$4\r\nPING\r\n")), 0);
	/* MySQL's server greeting starts with its 3-byte length: one whose
	 * low byte is a capital letter (74, 'J') passes, userspace decides */
	CHECK_INT(ht_may_start_http(B("\x4a\x00\x00\x00\x0a" "8.0")), 1);
	CHECK_INT(ht_may_start_http(B("\x5b\x00\x00\x00\x0a" "8.0")), 0);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_settings_real);
	RUN(test_settings_strict);
	RUN(test_may_start_http);
	RUN(test_methods_and_responses);
	RUN(test_partial_first_bytes);
	RUN(test_garbage);
	return unit_done("first_bytes");
}
