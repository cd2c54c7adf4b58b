/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* TLS libraries: discovery and uprobes, at start and as processes exec. */
#ifndef HTTPTRACE_TLS_ATTACH_H
#define HTTPTRACE_TLS_ATTACH_H

#include <stdbool.h>

#include "cli/options.h"

struct tracer;
struct httptrace_bpf;
struct bpf_program;

/* Attaches to the TLS libraries in use (of opts->pids, or host-wide, then
 * as processes exec). What is found and skipped is logged; nothing here
 * is fatal: a host without TLS libraries is still traced. */
void tls_attach(struct tracer *t, const struct ht_options *opts);

/* TLS libraries (or executables with TLS inside) attached so far. */
int tls_attach_lib_count(const struct tracer *t);

/* Go programs (crypto/tls) attached so far. */
int tls_attach_go_count(const struct tracer *t);

/* Stops exec watching and detaches every TLS probe. */
void tls_attach_stop(struct tracer *t);

/* Go programs (crypto/tls) attached so far. */
int tls_attach_go_count(const struct tracer *t);

/* Stops exec watching and hands the uprobe handles over (the caller
 * closes them, uprobe_handle_close()); *handles stays valid until
 * tls_attach_stop(). Returns how many. */
int tls_attach_take_handles(struct tracer *t, struct uprobe_handle ***handles);

/* Before load: loads the TLS programs for uprobe_multi links (one entry
 * program for every function, told apart by cookie) or for perf events
 * (a program per function). Returns 0 or -errno. */
int tls_attach_select_programs(struct httptrace_bpf *skel, bool multi);

/* Programs attached by tls_attach() rather than tracer_attach(). */
bool tls_attach_owns_program(struct httptrace_bpf *skel,
			     const struct bpf_program *prog);

#endif /* HTTPTRACE_TLS_ATTACH_H */
