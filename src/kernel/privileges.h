/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * After attaching: only the capabilities the running tracer still needs
 * (util/caps_keep.h), on every thread, and no_new_privs.
 */
#ifndef HTTPTRACE_PRIVILEGES_H
#define HTTPTRACE_PRIVILEGES_H

#include <stdbool.h>

#include "cli/options.h"

/*
 * Drops what the running tracer no longer needs from the effective,
 * permitted, inheritable, ambient and bounding sets of every thread,
 * and sets no_new_privs; with --keep-privileges, nothing. Never fatal:
 * what could not be done is said in words (-v: what was kept).
 */
void privileges_drop(const struct ht_options *opts, bool perf_uprobes);

#endif /* HTTPTRACE_PRIVILEGES_H */
