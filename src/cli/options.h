/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the user asked for on the command line. */
#ifndef HTTPTRACE_OPTIONS_H
#define HTTPTRACE_OPTIONS_H

#include <stdbool.h>
#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "httptrace_events.h"
#include "kernel/attach_mode.h"

#define HT_MAX_PIDS 64
/* 4 MiB: the daemon's resident size counts the ring twice (it is mapped
 * twice so records can wrap), and the whole daemon should stay within
 * 20 MiB (docs/BENCH.md); --ring-size trades memory for headroom. */
#define HT_DEFAULT_RING_SIZE (4u << 20)
/* The reader's nice value. Its work follows the traffic it traces and it
 * sleeps when there is none, but at nice 0 it gets one equal share among
 * the threads it traces: 16 busy client threads on 2 CPUs left it a
 * tenth of a core and the ring overflowed (README, "Overload"). */
#define HT_DEFAULT_NICE (-10)

/* How uprobes are attached: auto picks uprobe_multi links where the
 * kernel has them; perf forces one perf-event link per probe (as on
 * kernels before 6.6), multi forces the links. */
enum uprobe_links {
	UPROBE_LINKS_AUTO = 0,
	UPROBE_LINKS_MULTI,
	UPROBE_LINKS_PERF,
};

struct ht_options {
	pid_t pids[HT_MAX_PIDS];
	int n_pids;
	char comm[HT_COMM_LEN];   /* "" = any */
	bool json;
	/* --quiet: no timeline on stdout (a daemon's exporters take them);
	 * the summary and messages on stderr stay */
	bool quiet;
	/* --keep-privileges: no capability drop after attaching */
	bool keep_privileges;
	bool show_query;          /* print query values (default redacted) */
	int duration_s;           /* 0 = until interrupted */
	enum attach_mode attach_mode;
	enum uprobe_links uprobe_links;
	uint32_t max_capture;
	uint32_t ring_size;       /* bytes, a power of two */
	int nice;                 /* the reader's nice value, -20..19 */
	int verbose;
	/* kernel BTF to use instead of /sys/kernel/btf/vmlinux ("" = that) */
	char btf_path[PATH_MAX];
	bool probe_only;          /* --probe: report kernel features, exit */
	/* --record: the records received, into this file ("" = none) */
	char record_path[PATH_MAX];
	/* --replay: timelines from a recording; no kernel, no root */
	char replay_path[PATH_MAX];
	/* --metrics-addr: serve Prometheus metrics there ("" = no) */
	char metrics_addr[272];
	/* --otlp-endpoint: spans to this OTLP/HTTP collector ("" = only
	 * if OTEL_EXPORTER_OTLP_*ENDPOINT says so) */
	char otlp_endpoint[2048];
	bool otlp_phase_spans;    /* --otlp-phase-spans */
	bool show_help;
	bool show_version;
};

#endif /* HTTPTRACE_OPTIONS_H */
