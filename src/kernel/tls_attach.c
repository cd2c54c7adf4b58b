// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TLS libraries: finds OpenSSL and GnuTLS (shared libraries, or linked
 * into an executable) and attaches the TLS uprobes to them, at start and,
 * system-wide, as processes exec (a thread of its own reading the exec
 * records).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include "discover/tls_locate.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "httptrace.skel.h"
#include "kernel/tracer.h"
#include "util/log.h"
#include "kernel/tls_attach.h"
#include "httptrace_tls_probes.h"
#include "kernel/uprobe_multi.h"
#include "kernel/go_attach.h"

struct tls_func {
	enum ht_tls_lib lib;
	const char *name;
	enum ht_tls_probe prog;
	bool ret;      /* also the return probe */
	bool required; /* without it the library is not worth attaching */
};

/* What is attached, and why not the rest: httptrace_tls_probes.h. */
#define TLS_FUNC(lib, symbol, probe, ret, required)                          \
	{ lib, #symbol, HT_TLSP_##probe, ret, required },
static const struct tls_func tls_funcs[] = { HT_TLS_SYMBOLS(TLS_FUNC) };

#define N_TLS_FUNCS (int)(sizeof(tls_funcs) / sizeof(tls_funcs[0]))

/* In the order a file is tried for them: the first library whose
 * required functions it defines is attached. */
static const struct {
	enum ht_tls_lib lib;
	const char *name;
} tls_libs[] = {
	{ HT_TLS_OPENSSL, "OpenSSL" },
	{ HT_TLS_GNUTLS, "GnuTLS" },
};

#define TLS_RESCANS 64

/* A file as attached: for every process (pid -1), or for one (-p): each
 * traced process needs its own uprobes on a library they share. */
struct tls_file_id {
	dev_t dev;
	ino_t ino;
	pid_t pid;
};

struct tls_loader {
	struct tracer *t;
	bool verbose;
	struct uprobe_handle **handles; /* one per file attached */
	int n_handles, cap_handles;
	struct tls_file_id *seen; /* every file looked at, TLS or not, and
				   * for which process */
	int n_seen, cap_seen;
	/* read by the main thread (tls_attach_lib_count()) while the watcher
	 * attaches */
	atomic_int n_libs;
	atomic_int n_go; /* Go programs attached */
	/*
	 * Exec watching. Once the watcher thread runs, it alone uses
	 * everything above but n_libs, and rescan[], until it is joined;
	 * `stop` is how the main thread ends it.
	 */
	pthread_t thread;
	bool thread_running;
	atomic_bool stop;
	struct ring_buffer *rb;
	struct {
		pid_t pid;
		uint64_t due_ns;
		int left;
	} rescan[TLS_RESCANS];
};

#define TLS_PROGRAM_CASE(id, prog, lib, op, buf_arg, lenp_arg)              \
	case HT_TLSP_##id:                                                   \
		return skel->progs.uprobe_##prog;

static struct bpf_program *tls_program(struct httptrace_bpf *skel,
				       enum ht_tls_probe p)
{
	switch (p) {
	HT_TLS_PROBES(TLS_PROGRAM_CASE)
	case HT_TLSP_COUNT:
		break;
	}
	return NULL;
}

bool tls_attach_owns_program(struct httptrace_bpf *skel,
			   const struct bpf_program *prog)
{
	if (prog == skel->progs.uretprobe_tls ||
	    prog == skel->progs.uprobe_tls_multi ||
	    go_attach_owns_program(skel, prog))
		return true;
	for (int p = HT_TLSP_SSL_WRITE; p < HT_TLSP_COUNT; p++)
		if (prog == tls_program(skel, p))
			return true;
	return false;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int tls_keep_handle(struct tls_loader *l, struct uprobe_handle *h)
{
	if (l->n_handles == l->cap_handles) {
		int cap = l->cap_handles ? l->cap_handles * 2 : 64;
		struct uprobe_handle **n = realloc(l->handles,
						   cap * sizeof(*n));

		if (!n) {
			uprobe_handles_close(&h, 1);
			return -ENOMEM;
		}
		l->handles = n;
		l->cap_handles = cap;
	}
	l->handles[l->n_handles++] = h;
	return 0;
}

/* First sight of this file, for this process (-1: every process)?
 * Remembers it either way. */
static bool tls_first_sight(struct tls_loader *l, const struct stat *st,
			    pid_t pid)
{
	for (int i = 0; i < l->n_seen; i++)
		if (l->seen[i].dev == st->st_dev &&
		    l->seen[i].ino == st->st_ino && l->seen[i].pid == pid)
			return false;
	if (l->n_seen == l->cap_seen) {
		int cap = l->cap_seen ? l->cap_seen * 2 : 256;
		struct tls_file_id *n = realloc(l->seen, cap * sizeof(*n));

		if (!n)
			return false;
		l->seen = n;
		l->cap_seen = cap;
	}
	l->seen[l->n_seen].dev = st->st_dev;
	l->seen[l->n_seen].ino = st->st_ino;
	l->seen[l->n_seen].pid = pid;
	l->n_seen++;
	return true;
}

/*
 * The probes of one library's functions, one handle: with uprobe_multi
 * links one entry program for all (the cookie says which function) and
 * one return program, so two links; else one perf event per probe. By
 * offset: libbpf would parse the whole ELF file again for each name,
 * which takes long on a big executable (node) while the process we
 * attach for is already running. Returns how many functions are in.
 */
static int tls_attach_funcs(struct tls_loader *l, const char *path, pid_t pid,
			    const struct tls_func *const *funcs,
			    const bool *found, const uint64_t *offs, int n)
{
	struct httptrace_bpf *skel = l->t->skel;
	bool multi = l->t->uprobe_multi;
	struct uprobe_spec specs[2 * n];
	int entry[n], ret_at[n], n_specs = 0, attached = 0;
	struct uprobe_handle *h;

	for (int i = 0; i < n; i++) {
		entry[i] = ret_at[i] = -1;
		if (!found[i])
			continue;
		entry[i] = n_specs;
		specs[n_specs++] = (struct uprobe_spec){
			.prog = multi ? skel->progs.uprobe_tls_multi :
					tls_program(skel, funcs[i]->prog),
			.offset = offs[i],
			.cookie = funcs[i]->prog,
			.name = funcs[i]->name,
		};
		if (!funcs[i]->ret)
			continue;
		ret_at[i] = n_specs;
		specs[n_specs++] = (struct uprobe_spec){
			.prog = skel->progs.uretprobe_tls,
			.offset = offs[i],
			.ret = true,
			.name = funcs[i]->name,
		};
	}
	h = uprobe_attach(multi, path, pid, specs, n_specs, "tls");
	if (!h)
		return 0;
	if (tls_keep_handle(l, h))
		return 0;
	for (int i = 0; i < n; i++)
		if (entry[i] >= 0 && specs[entry[i]].attached &&
		    (ret_at[i] < 0 || specs[ret_at[i]].attached))
			attached++;
	return attached;
}

/* The functions of one library, in list order; returns how many. */
static int tls_lib_funcs(enum ht_tls_lib lib, const struct tls_func **funcs,
			 const char **names)
{
	int n = 0;

	for (int i = 0; i < N_TLS_FUNCS; i++) {
		if (tls_funcs[i].lib != lib)
			continue;
		funcs[n] = &tls_funcs[i];
		names[n++] = tls_funcs[i].name;
	}
	return n;
}

static bool tls_has_required(const struct tls_func *const *funcs,
			     const bool *found, int n)
{
	for (int i = 0; i < n; i++)
		if (funcs[i]->required && !found[i])
			return false;
	return true;
}

/* A Go program using crypto/tls: attached (go_attach.c). Returns true
 * when the file was one, attached or not. */
static bool tls_consider_go(struct tls_loader *l, const char *path,
			    const char *shown, pid_t pid)
{
	struct uprobe_handle *h;
	int n_probes;

	h = go_attach_file(l->t->skel, l->t->uprobe_multi, path, shown, pid,
			   &n_probes);
	if (!h)
		return false;
	if (tls_keep_handle(l, h))
		return true;
	atomic_fetch_add(&l->n_go, 1);
	return true;
}

/*
 * Looks at one file (path as the tracer can open it): attaches to the
 * TLS functions it defines, or Go's crypto/tls in a Go program. `shown`
 * names it in messages.
 */
static void tls_consider(struct tls_loader *l, const char *path,
			 const char *shown, pid_t pid)
{
	const struct tls_func *funcs[N_TLS_FUNCS];
	const char *names[N_TLS_FUNCS], *lib = NULL;
	bool found[N_TLS_FUNCS];
	uint64_t offs[N_TLS_FUNCS];
	struct stat st;
	int n = 0, attached = 0, ret;
	char skipped[256] = "";

	if (stat(path, &st) || !S_ISREG(st.st_mode) ||
	    !tls_first_sight(l, &st, pid))
		return;
	for (size_t k = 0; !lib && k < sizeof(tls_libs) / sizeof(tls_libs[0]);
	     k++) {
		n = tls_lib_funcs(tls_libs[k].lib, funcs, names);
		ret = tls_locate_elf_offsets(path, names, n, found, offs);
		if (ret) {
			if (tls_locate_is_lib_name(path))
				log_verbose("tls: %s: cannot read its symbols "
					    "(%s), skipped", shown,
					    strerror(-ret));
			break;
		}
		if (tls_has_required(funcs, found, n))
			lib = tls_libs[k].name;
	}
	if (!lib) {
		/* a stripped Go program has no symbols for the above */
		if (tls_consider_go(l, path, shown, pid) || ret)
			return;
		if (tls_locate_is_lib_name(path))
			log_verbose("tls: %s: no SSL_write/SSL_read or "
				    "gnutls_record_send/recv defined, "
				    "skipped", shown);
		return;
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(skipped);

		if (!found[i])
			snprintf(skipped + len, sizeof(skipped) - len, "%s%s",
				 len ? ", " : "", funcs[i]->name);
	}
	attached = tls_attach_funcs(l, path, pid, funcs, found, offs, n);
	if (!attached) {
		log_warn("tls: %s: no %s function could be attached: its "
			 "HTTPS traffic is not traced", shown, lib);
		return;
	}
	atomic_fetch_add(&l->n_libs, 1);
	log_verbose("tls: attached %d %s functions in %s%s (%d %s)%s%s",
		    attached, lib, shown, pid > 0 ? " (one process)" : "",
		    uprobe_handle_links(l->handles[l->n_handles - 1]),
		    l->t->uprobe_multi ? "uprobe_multi links" :
					 "perf-event links",
		    skipped[0] ? "; not in this build, skipped: " : "", skipped);
}

struct tls_scan_ctx {
	struct tls_loader *l;
	pid_t attach_pid; /* -1: every process mapping the file */
	bool watcher;     /* in the exec watcher thread */
};

static int tls_consider_mapped(void *user, pid_t pid, const char *inner)
{
	struct tls_scan_ctx *ctx = user;
	char path[PATH_MAX + 32], shown[PATH_MAX + 32];

	/* the watcher's own flag: the tracer's is a signal handler's, for
	 * the main thread */
	if (ctx->watcher ? atomic_load(&ctx->l->stop) :
			   tracer_stopping(ctx->l->t))
		return 1;
	if (snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, inner) >=
	    (int)sizeof(path))
		return 0;
	snprintf(shown, sizeof(shown), "%s (pid %d)", inner, (int)pid);
	tls_consider(ctx->l, path, shown, ctx->attach_pid);
	return 0;
}

/* Library directories: the host's libssl/libgnutls files, so processes
 * that start later and load them are traced from their first call. */
static void tls_scan_lib_dirs(struct tls_loader *l)
{
	static const char *const dirs[] = {
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
		"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
		"/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
		"/usr/local/lib64",
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;

		if (!d)
			continue;
		while (!tracer_stopping(l->t) && (de = readdir(d))) {
			char path[PATH_MAX];

			if (!tls_locate_is_lib_name(de->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i],
				 de->d_name);
			tls_consider(l, path, path, -1);
		}
		closedir(d);
	}
}

static void tls_scan_pid(struct tls_loader *l, pid_t pid, pid_t attach_pid,
			 bool watcher)
{
	struct tls_scan_ctx ctx = { .l = l, .attach_pid = attach_pid,
				    .watcher = watcher };

	tls_locate_maps_exec_files(pid, tls_consider_mapped, &ctx);
}

/* ---- exec watching: a thread reads exec_events and attaches --------- */

static void tls_queue_rescan(struct tls_loader *l, pid_t pid)
{
	for (int i = 0; i < TLS_RESCANS; i++) {
		if (l->rescan[i].left)
			continue;
		l->rescan[i].pid = pid;
		l->rescan[i].due_ns = mono_ns() + 20 * 1000000ULL;
		l->rescan[i].left = 3;
		return;
	}
	/* full: the directories scanned at start still cover the host's
	 * own libraries */
}

static int tls_on_exec(void *ctx, void *data, size_t size)
{
	struct tls_loader *l = ctx;
	const struct ht_exec_event *ev = data;
	char exe[64], target[PATH_MAX], shown[PATH_MAX + 32];
	ssize_t n;

	if (atomic_load(&l->stop))
		return -EINTR; /* ends the read: tls_attach_stop() is waiting */
	if (size < sizeof(*ev))
		return 0;
	/* the new image itself: TLS linked in (node) */
	snprintf(exe, sizeof(exe), "/proc/%u/exe", ev->hdr.tgid);
	n = readlink(exe, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		snprintf(shown, sizeof(shown), "%s (pid %u)", target,
			 ev->hdr.tgid);
		tls_consider(l, exe, shown, -1);
	}
	/* the libraries it loads: mapped a little later by ld.so or
	 * dlopen() */
	tls_queue_rescan(l, (pid_t)ev->hdr.tgid);
	return 0;
}

static void tls_run_rescans(struct tls_loader *l)
{
	uint64_t now = mono_ns();

	for (int i = 0; i < TLS_RESCANS && !atomic_load(&l->stop); i++) {
		if (!l->rescan[i].left || l->rescan[i].due_ns > now)
			continue;
		tls_scan_pid(l, l->rescan[i].pid, -1, true);
		l->rescan[i].left--;
		/* 20 ms, 200 ms, 2 s after exec */
		l->rescan[i].due_ns = now + (l->rescan[i].left == 2 ?
						     180 : 1800) * 1000000ULL;
	}
}

static void *tls_thread(void *arg)
{
	struct tls_loader *l = arg;

	while (!atomic_load(&l->stop)) {
		ring_buffer__poll(l->rb, 10);
		tls_run_rescans(l);
	}
	return NULL;
}

/* The watcher takes no signals: they go to the main thread, whose
 * blocking calls (a write to a full pipe) they must interrupt. SIGSYS
 * excepted: libpsx drops the watcher's capabilities through it
 * (kernel/privileges.c). */
static void tls_start_thread(struct tls_loader *l)
{
	sigset_t all, old;

	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&l->thread, NULL, tls_thread, l) == 0)
		l->thread_running = true;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Attaches to the TLS libraries of the traced processes (or the host);
 * system-wide, starts the exec watcher. Never fatal. */
void tls_attach(struct tracer *t, const struct ht_options *opts)
{
	struct tls_loader *l = calloc(1, sizeof(*l));
	int n_libs, n_go, n_seen;

	if (!l) {
		log_warn("tls: out of memory: HTTPS is not traced");
		return;
	}
	atomic_init(&l->n_libs, 0);
	atomic_init(&l->n_go, 0);
	atomic_init(&l->stop, false);
	l->t = t;
	t->tls = l;
	if (opts->n_pids) {
		for (int i = 0; i < opts->n_pids && !tracer_stopping(t); i++)
			tls_scan_pid(l, opts->pids[i], opts->pids[i], false);
	} else {
		struct dirent *de;
		DIR *proc;

		tls_scan_lib_dirs(l);
		proc = opendir("/proc");
		while (proc && !tracer_stopping(t) && (de = readdir(proc))) {
			int pid = atoi(de->d_name);

			if (pid > 0)
				tls_scan_pid(l, pid, -1, false);
		}
		if (proc)
			closedir(proc);
	}
	/* what the start found: from here on the watcher adds to it */
	n_libs = atomic_load(&l->n_libs);
	n_seen = l->n_seen;
	if (!opts->n_pids) {
		l->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.exec_events),
					 tls_on_exec, l, NULL);
		if (!l->rb)
			log_warn("tls: cannot read exec events (%s): TLS code "
				 "in programs started from now on is traced "
				 "only if it was found at start",
				 strerror(errno));
		else if (!tracer_stopping(t))
			tls_start_thread(l);
	}
	n_go = atomic_load(&l->n_go);
	log_verbose("tls: %d TLS libraries and %d Go programs attached (%d "
		    "files looked at)%s", n_libs, n_go, n_seen,
		    l->thread_running ? "; watching exec for new ones" : "");
	if (!n_libs && !n_go)
		log_info("no TLS library or Go program found: HTTPS is not "
			 "traced");
}

int tls_attach_select_programs(struct httptrace_bpf *skel, bool multi)
{
	int ret = go_attach_select_programs(skel, multi);

	if (ret)
		return ret;

	for (int p = HT_TLSP_SSL_WRITE; p < HT_TLSP_COUNT; p++)
		bpf_program__set_autoload(tls_program(skel, p), !multi);
	bpf_program__set_autoload(skel->progs.uprobe_tls_multi, multi);
	if (!multi)
		return 0;
	ret = uprobe_multi_prepare_program(skel->progs.uprobe_tls_multi);
	return ret ? ret :
		     uprobe_multi_prepare_program(skel->progs.uretprobe_tls);
}

int tls_attach_lib_count(const struct tracer *t)
{
	return t->tls ? atomic_load(&t->tls->n_libs) : 0;
}

int tls_attach_go_count(const struct tracer *t)
{
	return t->tls ? atomic_load(&t->tls->n_go) : 0;
}

static void tls_stop_watching(struct tls_loader *l)
{
	if (l->thread_running) {
		atomic_store(&l->stop, true);
		pthread_join(l->thread, NULL);
		l->thread_running = false;
	}
}

int tls_attach_take_handles(struct tracer *t, struct uprobe_handle ***handles)
{
	struct tls_loader *l = t->tls;
	int n;

	if (!l)
		return 0;
	tls_stop_watching(l);
	*handles = l->handles;
	n = l->n_handles;
	l->n_handles = 0;
	return n;
}

void tls_attach_stop(struct tracer *t)
{
	struct tls_loader *l = t->tls;

	if (!l)
		return;
	tls_stop_watching(l);
	ring_buffer__free(l->rb);
	uprobe_handles_close(l->handles, l->n_handles);
	l->n_handles = 0;
	free(l->handles);
	free(l->seen);
	free(l);
	t->tls = NULL;
}
