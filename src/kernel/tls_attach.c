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

struct tls_func {
	const char *name;
	enum ht_tls_probe prog;
	bool ret;      /* also the return probe */
	bool required; /* without it the library is not worth attaching */
};

/*
 * Not attached, on purpose: SSL_peek/SSL_peek_ex (peeked bytes come
 * again from the read that consumes them, which is where they count),
 * SSL_shutdown and gnutls_bye (their close_notify says nothing a
 * timeline needs). Every probe costs each call about 10 us here; on
 * kernels without uprobe_multi links its removal at exit also costs an
 * RCU grace period under a global lock (about 75 ms each on this
 * virtual machine): fewer is better. The BPF programs for them stay,
 * for a later opt-in.
 */
static const struct tls_func openssl_funcs[] = {
	{ "SSL_write", HT_TLSP_SSL_WRITE, true, true },
	{ "SSL_read", HT_TLSP_SSL_READ, true, true },
	{ "SSL_write_ex", HT_TLSP_SSL_WRITE_EX, true, false },
	{ "SSL_read_ex", HT_TLSP_SSL_READ_EX, true, false },
	{ "SSL_do_handshake", HT_TLSP_SSL_HANDSHAKE, true, false },
	{ "SSL_connect", HT_TLSP_SSL_HANDSHAKE, true, false },
	{ "SSL_accept", HT_TLSP_SSL_HANDSHAKE, true, false },
	{ "SSL_get_verify_result", HT_TLSP_SSL_VERIFY, true, false },
	{ "SSL_free", HT_TLSP_TLS_FREE, false, false },
};

static const struct tls_func gnutls_funcs[] = {
	{ "gnutls_record_send", HT_TLSP_GNUTLS_SEND, true, true },
	{ "gnutls_record_recv", HT_TLSP_GNUTLS_RECV, true, true },
	{ "gnutls_handshake", HT_TLSP_GNUTLS_HANDSHAKE, true, false },
	/* GnuTLS leaves the certificate check to the caller, after the
	 * handshake (wget): its verdict says why a client hung up */
	{ "gnutls_certificate_verify_peers2", HT_TLSP_GNUTLS_VERIFY2, true, false },
	{ "gnutls_certificate_verify_peers3", HT_TLSP_GNUTLS_VERIFY3, true, false },
	{ "gnutls_deinit", HT_TLSP_TLS_FREE, false, false },
};

#define N_OPENSSL (int)(sizeof(openssl_funcs) / sizeof(openssl_funcs[0]))
#define N_GNUTLS (int)(sizeof(gnutls_funcs) / sizeof(gnutls_funcs[0]))
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
	int n_libs;
	/* exec watching */
	pthread_t thread;
	bool thread_running;
	volatile int stop;
	struct ring_buffer *rb;
	struct {
		pid_t pid;
		uint64_t due_ns;
		int left;
	} rescan[TLS_RESCANS];
};

static struct bpf_program *tls_program(struct httptrace_bpf *skel,
				       enum ht_tls_probe p)
{
	switch (p) {
	case HT_TLSP_SSL_WRITE: return skel->progs.uprobe_ssl_write;
	case HT_TLSP_SSL_WRITE_EX: return skel->progs.uprobe_ssl_write_ex;
	case HT_TLSP_SSL_READ: return skel->progs.uprobe_ssl_read;
	case HT_TLSP_SSL_READ_EX: return skel->progs.uprobe_ssl_read_ex;
	case HT_TLSP_SSL_PEEK: return skel->progs.uprobe_ssl_peek;
	case HT_TLSP_SSL_HANDSHAKE: return skel->progs.uprobe_ssl_handshake;
	case HT_TLSP_SSL_SHUTDOWN: return skel->progs.uprobe_ssl_shutdown;
	case HT_TLSP_SSL_VERIFY: return skel->progs.uprobe_ssl_verify;
	case HT_TLSP_TLS_FREE: return skel->progs.uprobe_tls_free;
	case HT_TLSP_GNUTLS_SEND: return skel->progs.uprobe_gnutls_send;
	case HT_TLSP_GNUTLS_RECV: return skel->progs.uprobe_gnutls_recv;
	case HT_TLSP_GNUTLS_HANDSHAKE: return skel->progs.uprobe_gnutls_handshake;
	case HT_TLSP_GNUTLS_VERIFY2: return skel->progs.uprobe_gnutls_verify2;
	case HT_TLSP_GNUTLS_VERIFY3: return skel->progs.uprobe_gnutls_verify3;
	case HT_TLSP_GNUTLS_BYE: return skel->progs.uprobe_gnutls_bye;
	case HT_TLSP_COUNT: break;
	}
	return NULL;
}

bool tls_is_program(struct httptrace_bpf *skel,
			   const struct bpf_program *prog)
{
	if (prog == skel->progs.uretprobe_tls ||
	    prog == skel->progs.uprobe_tls_multi)
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
			    const struct tls_func *funcs, const bool *found,
			    const uint64_t *offs, int n)
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
					tls_program(skel, funcs[i].prog),
			.offset = offs[i],
			.cookie = funcs[i].prog,
			.name = funcs[i].name,
		};
		if (!funcs[i].ret)
			continue;
		ret_at[i] = n_specs;
		specs[n_specs++] = (struct uprobe_spec){
			.prog = skel->progs.uretprobe_tls,
			.offset = offs[i],
			.ret = true,
			.name = funcs[i].name,
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

/*
 * Looks at one file (path as the tracer can open it): attaches to the
 * TLS functions it defines. `shown` names it in messages.
 */
static void tls_consider(struct tls_loader *l, const char *path,
			 const char *shown, pid_t pid)
{
	const char *names[N_OPENSSL > N_GNUTLS ? N_OPENSSL : N_GNUTLS];
	bool found_o[N_OPENSSL], found_g[N_GNUTLS];
	uint64_t offs_o[N_OPENSSL], offs_g[N_GNUTLS], *offs;
	const struct tls_func *funcs;
	const char *lib;
	bool *found;
	struct stat st;
	int n, attached = 0, ret;
	char skipped[256] = "";

	if (stat(path, &st) || !S_ISREG(st.st_mode) ||
	    !tls_first_sight(l, &st, pid))
		return;
	for (int i = 0; i < N_OPENSSL; i++)
		names[i] = openssl_funcs[i].name;
	ret = tls_elf_offsets(path, names, N_OPENSSL, found_o, offs_o);
	if (ret) {
		if (tls_is_lib_name(path))
			log_verbose("tls: %s: cannot read its symbols (%s), "
				    "skipped", shown, strerror(-ret));
		return;
	}
	if (found_o[0] && found_o[1]) {
		funcs = openssl_funcs;
		found = found_o;
		offs = offs_o;
		n = N_OPENSSL;
		lib = "OpenSSL";
	} else {
		for (int i = 0; i < N_GNUTLS; i++)
			names[i] = gnutls_funcs[i].name;
		tls_elf_offsets(path, names, N_GNUTLS, found_g, offs_g);
		if (!found_g[0] || !found_g[1]) {
			if (tls_is_lib_name(path))
				log_verbose("tls: %s: no SSL_write/SSL_read or "
					    "gnutls_record_send/recv defined, "
					    "skipped", shown);
			return;
		}
		funcs = gnutls_funcs;
		found = found_g;
		offs = offs_g;
		n = N_GNUTLS;
		lib = "GnuTLS";
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(skipped);

		if (!found[i])
			snprintf(skipped + len, sizeof(skipped) - len, "%s%s",
				 len ? ", " : "", funcs[i].name);
	}
	attached = tls_attach_funcs(l, path, pid, funcs, found, offs, n);
	if (!attached) {
		log_warn("tls: %s: no %s function could be attached: its "
			 "HTTPS traffic is not traced", shown, lib);
		return;
	}
	l->n_libs++;
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
};

static int tls_consider_mapped(void *user, pid_t pid, const char *inner)
{
	struct tls_scan_ctx *ctx = user;
	char path[PATH_MAX + 32], shown[PATH_MAX + 32];

	if (tracer_stopping(ctx->l->t) || ctx->l->stop)
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

			if (!tls_is_lib_name(de->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[i],
				 de->d_name);
			tls_consider(l, path, path, -1);
		}
		closedir(d);
	}
}

static void tls_scan_pid(struct tls_loader *l, pid_t pid, pid_t attach_pid)
{
	struct tls_scan_ctx ctx = { .l = l, .attach_pid = attach_pid };

	tls_maps_exec_files(pid, tls_consider_mapped, &ctx);
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

	if (l->stop)
		return -EINTR; /* ends the read: tls_detach() is waiting */
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

	for (int i = 0; i < TLS_RESCANS && !l->stop; i++) {
		if (!l->rescan[i].left || l->rescan[i].due_ns > now)
			continue;
		tls_scan_pid(l, l->rescan[i].pid, -1);
		l->rescan[i].left--;
		/* 20 ms, 200 ms, 2 s after exec */
		l->rescan[i].due_ns = now + (l->rescan[i].left == 2 ?
						     180 : 1800) * 1000000ULL;
	}
}

static void *tls_thread(void *arg)
{
	struct tls_loader *l = arg;

	while (!l->stop) {
		ring_buffer__poll(l->rb, 10);
		tls_run_rescans(l);
	}
	return NULL;
}

/* The watcher takes no signals: they go to the main thread, whose
 * blocking calls (a write to a full pipe) they must interrupt. */
static void tls_start_thread(struct tls_loader *l)
{
	sigset_t all, old;

	sigfillset(&all);
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

	if (!l) {
		log_warn("tls: out of memory: HTTPS is not traced");
		return;
	}
	l->t = t;
	t->tls = l;
	if (opts->n_pids) {
		for (int i = 0; i < opts->n_pids && !tracer_stopping(t); i++)
			tls_scan_pid(l, opts->pids[i], opts->pids[i]);
	} else {
		struct dirent *de;
		DIR *proc;

		tls_scan_lib_dirs(l);
		proc = opendir("/proc");
		while (proc && !tracer_stopping(t) && (de = readdir(proc))) {
			int pid = atoi(de->d_name);

			if (pid > 0)
				tls_scan_pid(l, pid, -1);
		}
		if (proc)
			closedir(proc);
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
	log_verbose("tls: %d TLS libraries attached (%d files looked at)%s",
		    l->n_libs, l->n_seen,
		    l->thread_running ? "; watching exec for new ones" : "");
	if (!l->n_libs)
		log_info("no TLS library found: HTTPS is not traced");
}

int tls_select_programs(struct httptrace_bpf *skel, bool multi)
{
	int ret;

	for (int p = HT_TLSP_SSL_WRITE; p < HT_TLSP_COUNT; p++)
		bpf_program__set_autoload(tls_program(skel, p), !multi);
	bpf_program__set_autoload(skel->progs.uprobe_tls_multi, multi);
	if (!multi)
		return 0;
	ret = uprobe_multi_prepare_program(skel->progs.uprobe_tls_multi);
	return ret ? ret :
		     uprobe_multi_prepare_program(skel->progs.uretprobe_tls);
}

int tls_lib_count(const struct tracer *t)
{
	return t->tls ? t->tls->n_libs : 0;
}

static void tls_stop_watching(struct tls_loader *l)
{
	if (l->thread_running) {
		l->stop = 1;
		pthread_join(l->thread, NULL);
		l->thread_running = false;
	}
}

int tls_take_handles(struct tracer *t, struct uprobe_handle ***handles)
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

void tls_detach(struct tracer *t)
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
