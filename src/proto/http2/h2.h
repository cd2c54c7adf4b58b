/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* HTTP/2 recognised from its first bytes; one timeline per connection.
 * Its ops: h2_ops (proto/proto.h). */
#ifndef HTTPTRACE_H2_H
#define HTTPTRACE_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The client's connection preface, or its first 14 bytes or more. */
bool h2_is_preface(const uint8_t *data, size_t len);

#endif /* HTTPTRACE_H2_H */
