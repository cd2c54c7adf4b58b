/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Go programs: uprobes on crypto/tls at each function's entry and at
 * each of its RET instructions (bpf/go_tls.bpf.h, src/discover/
 * go_locate.h). Found by the TLS loader (kernel/tls_attach.c), which
 * looks at every executable at start and on exec.
 */
#ifndef HTTPTRACE_GO_ATTACH_H
#define HTTPTRACE_GO_ATTACH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "httptrace_go_tls.h"

struct httptrace_bpf;
struct bpf_program;
struct uprobe_handle;

/*
 * Looks at the file at path (as the tracer can open it; `shown` names it
 * in messages): if it is a Go program using crypto/tls, puts the probes
 * on it, for every process (pid -1) or one. Returns the handle (NULL:
 * not a Go program, nothing to attach, or it failed, said in words) and
 * the probes in place in *n_probes.
 */
struct uprobe_handle *go_attach_file(struct httptrace_bpf *skel, bool multi,
				     const char *path, const char *shown,
				     pid_t pid, int *n_probes);

/* Before load: the entry programs for uprobe_multi links (one for every
 * function, told apart by cookie) or for perf events (one per function);
 * the RET program serves both. Returns 0 or -errno. */
int go_attach_select_programs(struct httptrace_bpf *skel, bool multi);

/* Before load: none of the Go programs (a kernel that refuses them);
 * go_attach_file() then attaches nothing. */
void go_attach_disable(struct httptrace_bpf *skel);

/* Programs attached by go_attach_file() rather than tracer_attach(). */
bool go_attach_owns_program(struct httptrace_bpf *skel,
			    const struct bpf_program *prog);

/* Go TLS calls that made no record, by enum ht_go_tls_error, summed over
 * CPUs. Returns 0 or -errno. */
int go_attach_errors(struct httptrace_bpf *skel,
		     uint64_t out[HT_GO_TLS_ERROR_COUNT]);

/* The words for what the counters mean, for the summary: "" when all are
 * zero. */
void go_attach_errors_words(const uint64_t n[HT_GO_TLS_ERROR_COUNT],
			    char *buf, size_t len);

#endif /* HTTPTRACE_GO_ATTACH_H */
