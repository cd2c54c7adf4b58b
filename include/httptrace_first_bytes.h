/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The first bytes of a connection: can it carry HTTP? The BPF side asks
 * once per connection (the first read or write that moved bytes) and
 * stops reporting connections that cannot; userspace uses the same test
 * for an HTTP/2 server's first frame, and the unit tests run it natively.
 * Only fixed-width types and constant offsets, so that it compiles for
 * both sides and the verifier sees every access bounded.
 */
#ifndef HTTPTRACE_FIRST_BYTES_H
#define HTTPTRACE_FIRST_BYTES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define HT_H2_FRAME_HEADER_LEN 9
#define HT_H2_FRAME_SETTINGS 0x4
/* SETTINGS_MAX_FRAME_SIZE's initial value: no peer may send a larger
 * frame before its settings are acknowledged */
#define HT_H2_INITIAL_MAX_FRAME 16384

/*
 * An HTTP/2 SETTINGS frame header (RFC 9113 6.5), as the first frame an
 * endpoint sends must be; a server usually sends it as soon as it
 * accepts, before it has read the client's preface: 24-bit length, a
 * multiple of 6 (one setting is 6 bytes) and at most 16384, type 0x4,
 * flags 0 (not an ACK), stream 0 with the reserved bit clear.
 */
static inline __attribute__((always_inline)) int
ht_h2_settings_frame(const __u8 *d, __u32 len)
{
	__u32 frame_len;

	if (len < HT_H2_FRAME_HEADER_LEN)
		return 0;
	if (d[3] != HT_H2_FRAME_SETTINGS || d[4] != 0 || d[5] != 0 ||
	    d[6] != 0 || d[7] != 0 || d[8] != 0)
		return 0;
	frame_len = (__u32)d[0] << 16 | (__u32)d[1] << 8 | d[2];
	return frame_len <= HT_H2_INITIAL_MAX_FRAME && frame_len % 6 == 0;
}

/*
 * Can a connection whose first captured bytes are d[0..len) carry
 * HTTP/1.x, HTTP/2 or TLS (which may carry either)? Request methods and
 * "HTTP/" are upper-case tokens; the HTTP/2 preface starts "PRI"; a TLS
 * handshake record starts 0x16; the parser skips CR and LF before a
 * message; an HTTP/2 server may speak first, with a SETTINGS frame.
 */
static inline __attribute__((always_inline)) int
ht_may_start_http(const __u8 *d, __u32 len)
{
	__u8 c;

	if (len == 0)
		return 0;
	c = d[0];
	if ((c >= 'A' && c <= 'Z') || c == 0x16 || c == '\r' || c == '\n')
		return 1;
	return ht_h2_settings_frame(d, len);
}

#endif /* HTTPTRACE_FIRST_BYTES_H */
