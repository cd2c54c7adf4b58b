/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tracer's commands, one file each; main.c parses the options and
 * runs one. Each returns the process's exit status.
 */
#ifndef HTTPTRACE_CMD_H
#define HTTPTRACE_CMD_H

#include "cli/options.h"

/* --probe: what the kernel offers and which attach mode would be used. */
int cmd_probe(const struct ht_options *opts);
/* --replay FILE: the timelines of a recording; no root, no BPF. */
int cmd_replay(const struct ht_options *opts);
/* The tracer itself: load, attach, read the ring until the end. */
int cmd_trace(const struct ht_options *opts);

#endif /* HTTPTRACE_CMD_H */
