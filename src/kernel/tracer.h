/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Loads the BPF object with the variants of one attach mode, attaches
 * every program, and takes it all down again. Every attachment is a
 * bpf_link owned here (file-descriptor based), so nothing outlives the
 * tracer even if it is killed.
 */
#ifndef HTTPTRACE_LOADER_H
#define HTTPTRACE_LOADER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "kernel/features.h"
#include "discover/libc_locate.h"
#include "cli/options.h"

#define LOADER_MAX_LINKS 96

struct httptrace_bpf;
struct bpf_link;
struct tls_loader;
struct uprobe_handle;

struct tracer {
	struct httptrace_bpf *skel;
	struct bpf_link *links[LOADER_MAX_LINKS];
	int n_links;
	int n_uprobes;
	enum attach_mode mode;
	/* uprobes through uprobe_multi links (else one perf event each);
	 * the programs are loaded for one way or the other */
	bool uprobe_multi;
	/* getaddrinfo uprobes, one handle per libc */
	struct uprobe_handle *dns[LIBC_MAX_TARGETS];
	int n_dns;
	/* TLS libraries: attached at start and, system-wide, as processes
	 * exec (a thread of its own); see tracer_attach_tls() */
	struct tls_loader *tls;
	/* Set by the caller after tracer_load(): nonzero when the user asked
	 * to stop (a signal during start-up). Attaching then ends early,
	 * with what is in place so far. */
	const volatile sig_atomic_t *stop;
};

static inline bool tracer_stopping(const struct tracer *t)
{
	return t->stop && *t->stop;
}

/* Opens and loads the object for `mode`, with the variants v allows
 * (kernel/variants.h), its uprobe programs for
 * uprobe_multi links or for perf events. Returns 0 or -errno, with the
 * reason in words in err. */
int tracer_load(struct tracer *t, const struct ht_options *opts,
		const struct variant_features *v, enum attach_mode mode,
		bool uprobe_multi, char *err, size_t err_len);

/* Attaches kernel programs, the getaddrinfo and TLS uprobes; returns 0
 * early, part attached, once tracer_stopping(). */
int tracer_attach(struct tracer *t, const struct ht_options *opts,
		  char *err, size_t err_len);

void tracer_destroy(struct tracer *t);

int tracer_events_fd(const struct tracer *t);
int tracer_drops_fd(const struct tracer *t);
int tracer_conns_fd(const struct tracer *t);

/* Deletes kernel entries of processes that have exited; returns how many. */
int tracer_forget_dead(struct tracer *t);


/* libbpf's words for an error, or strerror's. */
void tracer_errstr(int err, char *buf, size_t len);

#endif /* HTTPTRACE_LOADER_H */
