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

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_settings_real);
	RUN(test_settings_strict);
	RUN(test_may_start_http);
	return unit_done("first_bytes");
}
