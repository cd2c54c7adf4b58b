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
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include "tls_locate.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "httptrace.skel.h"
#include "loader.h"
#include "log.h"
#include "tls_attach.h"
enum tls_prog {
	P_SSL_WRITE, P_SSL_WRITE_EX, P_SSL_READ, P_SSL_READ_EX, P_SSL_PEEK,
	P_SSL_HANDSHAKE, P_SSL_SHUTDOWN, P_SSL_VERIFY, P_TLS_FREE,
	P_GNUTLS_SEND, P_GNUTLS_RECV, P_GNUTLS_HANDSHAKE, P_GNUTLS_VERIFY2,
	P_GNUTLS_VERIFY3, P_GNUTLS_BYE,
};

struct tls_func {
	const char *name;
	enum tls_prog prog;
	bool ret;      /* also the return probe */
	bool required; /* without it the library is not worth attaching */
};

/*
 * Not attached, on purpose: SSL_peek/SSL_peek_ex (peeked bytes come
 * again from the read that consumes them, which is where they count),
 * SSL_shutdown and gnutls_bye (their close_notify says nothing a
 * timeline needs). Every probe costs each call about 10 us here, and
 * its removal at exit an RCU grace period under a global lock (about
 * 75 ms each on this virtual machine): fewer is better. The BPF
 * programs for them stay, for a later opt-in.
 */
static const struct tls_func openssl_funcs[] = {
	{ "SSL_write", P_SSL_WRITE, true, true },
	{ "SSL_read", P_SSL_READ, true, true },
	{ "SSL_write_ex", P_SSL_WRITE_EX, true, false },
	{ "SSL_read_ex", P_SSL_READ_EX, true, false },
	{ "SSL_do_handshake", P_SSL_HANDSHAKE, true, false },
	{ "SSL_connect", P_SSL_HANDSHAKE, true, false },
	{ "SSL_accept", P_SSL_HANDSHAKE, true, false },
	{ "SSL_get_verify_result", P_SSL_VERIFY, true, false },
	{ "SSL_free", P_TLS_FREE, false, false },
};

static const struct tls_func gnutls_funcs[] = {
	{ "gnutls_record_send", P_GNUTLS_SEND, true, true },
	{ "gnutls_record_recv", P_GNUTLS_RECV, true, true },
	{ "gnutls_handshake", P_GNUTLS_HANDSHAKE, true, false },
	/* GnuTLS leaves the certificate check to the caller, after the
	 * handshake (wget): its verdict says why a client hung up */
	{ "gnutls_certificate_verify_peers2", P_GNUTLS_VERIFY2, true, false },
	{ "gnutls_certificate_verify_peers3", P_GNUTLS_VERIFY3, true, false },
	{ "gnutls_deinit", P_TLS_FREE, false, false },
};

#define N_OPENSSL (int)(sizeof(openssl_funcs) / sizeof(openssl_funcs[0]))
#define N_GNUTLS (int)(sizeof(gnutls_funcs) / sizeof(gnutls_funcs[0]))
#define TLS_RESCANS 64

struct tls_file_id {
	dev_t dev;
	ino_t ino;
};

struct tls_loader {
	struct tracer *t;
	bool verbose;
	struct bpf_link **links;
	int n_links, cap_links;
	struct tls_file_id *seen; /* every file looked at, TLS or not */
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
				       enum tls_prog p)
{
	switch (p) {
	case P_SSL_WRITE: return skel->progs.uprobe_ssl_write;
	case P_SSL_WRITE_EX: return skel->progs.uprobe_ssl_write_ex;
	case P_SSL_READ: return skel->progs.uprobe_ssl_read;
	case P_SSL_READ_EX: return skel->progs.uprobe_ssl_read_ex;
	case P_SSL_PEEK: return skel->progs.uprobe_ssl_peek;
	case P_SSL_HANDSHAKE: return skel->progs.uprobe_ssl_handshake;
	case P_SSL_SHUTDOWN: return skel->progs.uprobe_ssl_shutdown;
	case P_SSL_VERIFY: return skel->progs.uprobe_ssl_verify;
	case P_TLS_FREE: return skel->progs.uprobe_tls_free;
	case P_GNUTLS_SEND: return skel->progs.uprobe_gnutls_send;
	case P_GNUTLS_RECV: return skel->progs.uprobe_gnutls_recv;
	case P_GNUTLS_HANDSHAKE: return skel->progs.uprobe_gnutls_handshake;
	case P_GNUTLS_VERIFY2: return skel->progs.uprobe_gnutls_verify2;
	case P_GNUTLS_VERIFY3: return skel->progs.uprobe_gnutls_verify3;
	case P_GNUTLS_BYE: return skel->progs.uprobe_gnutls_bye;
	}
	return NULL;
}

bool tls_is_program(struct httptrace_bpf *skel,
			   const struct bpf_program *prog)
{
	if (prog == skel->progs.uretprobe_tls)
		return true;
	for (int p = P_SSL_WRITE; p <= P_GNUTLS_BYE; p++)
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

static int tls_keep_link(struct tls_loader *l, struct bpf_link *link)
{
	if (l->n_links == l->cap_links) {
		int cap = l->cap_links ? l->cap_links * 2 : 64;
		struct bpf_link **n = realloc(l->links, cap * sizeof(*n));

		if (!n) {
			bpf_link__destroy(link);
			return -ENOMEM;
		}
		l->links = n;
		l->cap_links = cap;
	}
	l->links[l->n_links++] = link;
	return 0;
}

/* First sight of this file? Remembers it either way. */
static bool tls_first_sight(struct tls_loader *l, const struct stat *st)
{
	for (int i = 0; i < l->n_seen; i++)
		if (l->seen[i].dev == st->st_dev && l->seen[i].ino == st->st_ino)
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
	l->n_seen++;
	return true;
}

static int tls_attach_func(struct tls_loader *l, const char *path, pid_t pid,
			   const struct tls_func *f, uint64_t off)
{
	struct httptrace_bpf *skel = l->t->skel;
	char msg[128];

	/* by offset: libbpf would parse the whole ELF file again for each
	 * name, which takes long on a big executable (node) while the
	 * process we attach for is already running */
	for (int i = 0; i < (f->ret ? 2 : 1); i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uopts, .retprobe = i == 1);
		struct bpf_program *prog = i ? skel->progs.uretprobe_tls :
					       tls_program(skel, f->prog);
		struct bpf_link *link;
		int ret;

		link = bpf_program__attach_uprobe_opts(prog, pid, path,
						       (size_t)off, &uopts);
		if (!link) {
			ret = -errno;
			loader_errstr(ret, msg, sizeof(msg));
			log_verbose("tls: %s in %s: cannot attach %s: %s",
				    f->name, path, i ? "return probe" : "probe",
				    msg);
			return ret;
		}
		ret = tls_keep_link(l, link);
		if (ret)
			return ret;
	}
	return 0;
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

	if (stat(path, &st) || !S_ISREG(st.st_mode) || !tls_first_sight(l, &st))
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
		if (!found[i]) {
			size_t len = strlen(skipped);

			snprintf(skipped + len, sizeof(skipped) - len, "%s%s",
				 len ? ", " : "", funcs[i].name);
			continue;
		}
		if (!tls_attach_func(l, path, pid, &funcs[i], offs[i]))
			attached++;
	}
	if (!attached) {
		log_warn("tls: %s: no %s function could be attached: its "
			 "HTTPS traffic is not traced", shown, lib);
		return;
	}
	l->n_libs++;
	log_verbose("tls: attached %d %s functions in %s%s%s%s%s", attached,
		    lib, shown, pid > 0 ? " (one process)" : "",
		    skipped[0] ? "; not in this build, skipped: " : "", skipped,
		    "");
}

struct tls_scan_ctx {
	struct tls_loader *l;
	pid_t attach_pid; /* -1: every process mapping the file */
};

static int tls_consider_mapped(void *user, pid_t pid, const char *inner)
{
	struct tls_scan_ctx *ctx = user;
	char path[PATH_MAX + 32], shown[PATH_MAX + 32];

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
		while ((de = readdir(d))) {
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

	for (int i = 0; i < TLS_RESCANS; i++) {
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
		for (int i = 0; i < opts->n_pids; i++)
			tls_scan_pid(l, opts->pids[i], opts->pids[i]);
	} else {
		struct dirent *de;
		DIR *proc;

		tls_scan_lib_dirs(l);
		proc = opendir("/proc");
		while (proc && (de = readdir(proc))) {
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
		else if (pthread_create(&l->thread, NULL, tls_thread, l) == 0)
			l->thread_running = true;
	}
	log_verbose("tls: %d TLS libraries attached (%d files looked at)%s",
		    l->n_libs, l->n_seen,
		    l->thread_running ? "; watching exec for new ones" : "");
	if (!l->n_libs)
		log_info("no TLS library found: HTTPS is not traced");
}

static void tls_destroy_links(struct tls_loader *l)
{
	tracer_destroy_links(l->links, l->n_links);
	l->n_links = 0;
}

int tls_lib_count(const struct tracer *t)
{
	return t->tls ? t->tls->n_libs : 0;
}

void tls_detach(struct tracer *t)
{
	struct tls_loader *l = t->tls;

	if (!l)
		return;
	if (l->thread_running) {
		l->stop = 1;
		pthread_join(l->thread, NULL);
	}
	ring_buffer__free(l->rb);
	tls_destroy_links(l);
	free(l->links);
	free(l->seen);
	free(l);
	t->tls = NULL;
}
