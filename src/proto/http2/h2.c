// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/2 recognised from its first bytes. Either side may show it
 * first: the client's preface, or the SETTINGS frame a server writes as
 * soon as it accepts, before it has read the preface (nginx, gRPC).
 */
#include <string.h>

#include "proto/http2/h2.h"
#include "httptrace_first_bytes.h"
#include "pipeline/conn.h"

#define H2_PREFACE_LEN 24
#define H2_PREFACE_MIN 14 /* "PRI * HTTP/2.0" alone is unmistakable */

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

bool h2_is_preface(const uint8_t *data, size_t len)
{
	if (len < H2_PREFACE_MIN)
		return false;
	return memcmp(data, h2_preface,
		      len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN) == 0;
}

bool h2_detect(const struct proto_first *first)
{
	if (first->side == SIDE_REQ)
		return h2_is_preface(first->data, first->len);
	return !first->req_seen &&
	       ht_h2_settings_frame(first->data, first->len);
}
