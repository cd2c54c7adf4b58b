/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* HTTP/2: recognised from its first bytes (h2.c), one timeline per
 * stream (h2_stitch.c). Its ops: h2_ops (proto/proto.h). */
#ifndef HTTPTRACE_H2_H
#define HTTPTRACE_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

struct pending_req;

/* The client's connection preface, or its first 14 bytes or more. */
bool h2_is_preface(const uint8_t *data, size_t len);

/* The client's preface, or a server's SETTINGS before any request
 * byte. */
bool h2_detect(const struct proto_first *first);

/*
 * An HTTP/1 request with "Upgrade: h2c" got its 101 in ev (the
 * response side's record; NULL at EOF), whose bytes from `offset` on
 * are HTTP/2: the connection becomes HTTP/2 and r its stream 1,
 * half-closed (its request sent), its response still to come.
 */
void h2_upgrade(struct correlator *c, struct conn *conn,
		struct pending_req *r, const struct ht_data_event *ev,
		size_t offset);

#endif /* HTTPTRACE_H2_H */
