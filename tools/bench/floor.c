// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ht_bench_floor: loads tools/bench/floor.bpf.c (empty programs on the
 * tracer's hooks), attaches them, waits for SIGINT/SIGTERM, detaches.
 *
 *   ht_bench_floor [--attach-mode tracepoint|kprobe|fentry]
 *                  [--uprobe PATH:OFFSET]... [--uretprobe PATH:OFFSET]...
 *                  [--tracepoint CATEGORY/NAME]... [--raw-tp NAME]...
 *
 * The mirrored programs attach like the tracer's (attach-mode variants
 * turned off the same way). Uprobes: with no --uprobe/--uretprobe, on
 * getaddrinfo in every libc the tracer itself would find
 * (src/discover/libc_locate.c, linked in); with them, at exactly those file
 * offsets (bench.py passes what `bpftool perf` shows the running tracer
 * attached, so TLS library probes are mirrored as soon as the tracer has
 * them). --tracepoint/--raw-tp attach extra empty programs to hooks the
 * tracer has and the mirror lacks.
 *
 * On stderr: "ht_bench_floor: Attached N programs ..." once attached.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"
#include "discover/libc_locate.h"

#define MAX_LINKS 2048
#define MAX_EXTRA 1024

static struct bpf_link *links[MAX_LINKS];
static int n_links;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static int keep(struct bpf_link *link, const char *what)
{
	if (!link) {
		fprintf(stderr, "ht_bench_floor: cannot attach %s: %s\n", what,
			strerror(errno));
		return -1;
	}
	if (n_links >= MAX_LINKS) {
		bpf_link__destroy(link);
		fprintf(stderr, "ht_bench_floor: too many links\n");
		return -1;
	}
	links[n_links++] = link;
	return 0;
}

static int attach_uprobe_at(struct bpf_program *prog, bool ret,
			    const char *spec)
{
	char path[4096];
	const char *colon = strrchr(spec, ':');
	unsigned long off;

	if (!colon || (size_t)(colon - spec) >= sizeof(path)) {
		fprintf(stderr, "ht_bench_floor: bad PATH:OFFSET '%s'\n", spec);
		return -1;
	}
	memcpy(path, spec, (size_t)(colon - spec));
	path[colon - spec] = 0;
	off = strtoul(colon + 1, NULL, 0);
	return keep(bpf_program__attach_uprobe(prog, ret, -1, path, off), spec);
}

int main(int argc, char **argv)
{
	const char *uprobes[MAX_EXTRA], *uretprobes[MAX_EXTRA];
	const char *tps[MAX_EXTRA], *raws[MAX_EXTRA];
	int n_up = 0, n_uret = 0, n_tp = 0, n_raw = 0, n_u = 0;
	const char *mode = "tracepoint";
	struct floor_bpf *skel;
	struct bpf_program *prog;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v) {
			fprintf(stderr, "ht_bench_floor: %s needs a value\n", a);
			return 2;
		}
		if (!strcmp(a, "--attach-mode"))
			mode = v;
		else if (!strcmp(a, "--uprobe") && n_up < MAX_EXTRA)
			uprobes[n_up++] = v;
		else if (!strcmp(a, "--uretprobe") && n_uret < MAX_EXTRA)
			uretprobes[n_uret++] = v;
		else if (!strcmp(a, "--tracepoint") && n_tp < MAX_EXTRA)
			tps[n_tp++] = v;
		else if (!strcmp(a, "--raw-tp") && n_raw < MAX_EXTRA)
			raws[n_raw++] = v;
		else {
			fprintf(stderr, "ht_bench_floor: unknown option %s\n", a);
			return 2;
		}
		i++;
	}

	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "ht_bench_floor: cannot open the BPF object\n");
		return 1;
	}
	/* the same variant selection as src/kernel/tracer.c */
	bpf_program__set_autoload(skel->progs.fentry_tcp_connect,
				  !strcmp(mode, "fentry"));
	bpf_program__set_autoload(skel->progs.fexit_inet_csk_accept,
				  !strcmp(mode, "fentry"));
	bpf_program__set_autoload(skel->progs.kprobe_tcp_connect,
				  !strcmp(mode, "kprobe"));
	bpf_program__set_autoload(skel->progs.kretprobe_inet_csk_accept,
				  !strcmp(mode, "kprobe"));
	if (floor_bpf__load(skel)) {
		fprintf(stderr, "ht_bench_floor: cannot load: %s\n",
			strerror(errno));
		goto out;
	}

	bpf_object__for_each_program(prog, skel->obj) {
		const char *sec = bpf_program__section_name(prog);

		if (!bpf_program__autoload(prog) || !strcmp(sec, "uprobe") ||
		    !strcmp(sec, "uretprobe") || !strcmp(sec, "tracepoint") ||
		    !strcmp(sec, "raw_tp"))
			continue;
		if (keep(bpf_program__attach(prog), sec))
			goto out;
	}

	if (!n_up && !n_uret) {
		struct libc_target libs[LIBC_MAX_TARGETS];
		int n = libc_find_system(libs, LIBC_MAX_TARGETS);

		for (int i = 0; i < n; i++) {
			for (int r = 0; r < 2; r++) {
				LIBBPF_OPTS(bpf_uprobe_opts, uo,
					    .func_name = "getaddrinfo",
					    .retprobe = r == 1);
				struct bpf_program *p = r ?
					skel->progs.uretprobe_getaddrinfo :
					skel->progs.uprobe_getaddrinfo;

				if (keep(bpf_program__attach_uprobe_opts(
						 p, libs[i].pid, libs[i].path, 0,
						 &uo),
					 libs[i].path))
					goto out;
				n_u++;
			}
		}
	}
	for (int i = 0; i < n_up; i++, n_u++)
		if (attach_uprobe_at(skel->progs.any_uprobe, false, uprobes[i]))
			goto out;
	for (int i = 0; i < n_uret; i++, n_u++)
		if (attach_uprobe_at(skel->progs.any_uretprobe, true,
				     uretprobes[i]))
			goto out;
	for (int i = 0; i < n_tp; i++) {
		char cat[64];
		const char *slash = strchr(tps[i], '/');

		if (!slash || (size_t)(slash - tps[i]) >= sizeof(cat)) {
			fprintf(stderr, "ht_bench_floor: bad tracepoint %s\n",
				tps[i]);
			goto out;
		}
		memcpy(cat, tps[i], (size_t)(slash - tps[i]));
		cat[slash - tps[i]] = 0;
		if (keep(bpf_program__attach_tracepoint(
				 skel->progs.any_tracepoint, cat, slash + 1),
			 tps[i]))
			goto out;
	}
	for (int i = 0; i < n_raw; i++)
		if (keep(bpf_program__attach_raw_tracepoint(
				 skel->progs.any_raw_tp, raws[i]),
			 raws[i]))
			goto out;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "ht_bench_floor: Attached %d programs (%s mode, %d "
		"uprobes, %d extra tracepoints, %d extra raw tracepoints)\n",
		n_links, mode, n_u, n_tp, n_raw);
	while (!stop)
		pause();
	rc = 0;
out:
	for (int i = 0; i < n_links; i++)
		bpf_link__destroy(links[i]);
	floor_bpf__destroy(skel);
	return rc;
}
