// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The BPF programs alone, in the spirit of the kernel's BPF selftests:
 * load the real object (build/httptrace.skel.h) with the tracer's
 * choices for one attach mode, trace this very process (pid_filter),
 * drive each syscall family and flag on loopback sockets made here, and
 * compare the ring buffer with the exact records it must hold: type,
 * connection id, sequence numbers, direction, call, byte counts and
 * captured bytes.
 *
 *   build/tests/bpf_test                every test (root)
 *   build/tests/bpf_test -t writev      one test; -l lists them
 *   build/tests/bpf_test -m kprobe      attach mode: tracepoint (the
 *                                       default), kprobe or fentry
 *
 * The programs' variants are the tracer's for this kernel
 * (src/kernel/variants.c); HTTPTRACE_WITHOUT=atomic-fetch,... runs the
 * ones older kernels get (`make test-bpf` runs both).
 *
 * Not root, or the programs do not load: SKIP, or a failure when
 * CI=true. Uprobes on C libraries (getaddrinfo, TLS libraries) are not
 * loaded here: the end-to-end tests cover them with real libraries. Go's
 * crypto/tls is: the test_go_* cases run a Go program
 * (tests/fixtures/go/tlspair, GO_TLSPAIR names it, and its stripped PIE
 * build beside it; without them they SKIP, unless GO_TLSPAIR was given) with the probes on it, through
 * uprobe_multi links where the tracer would use them, else a perf-event
 * link per probe (HTTPTRACE_WITHOUT=attach-cookie).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "httptrace.skel.h"
#include "container/cgroup_resolve.h"
#include "httptrace_events.h"
#include "kernel/variants.h"
#include "kernel/go_attach.h"
#include "kernel/uprobe_multi.h"
#include "unit.h"

/* the exits sys_exit_io serves, as src/kernel/tracer.c attaches it */
#define IO_EXIT(name, call, value, dir, shape, peek_arg) "sys_exit_" #name,
static const char *const io_exits[] = { HT_IO_SYSCALLS(IO_EXIT) };

#define MAX_LINKS 96
#define MAX_RECS 128

static struct httptrace_bpf *skel;
static struct bpf_link *links[MAX_LINKS];
static int n_links;
static struct ring_buffer *rb;
/* -m: the attach mode; its programs and their variants are the ones the
 * tracer would load here (src/kernel/variants.c) */
static const char *mode = "tracepoint";
static enum attach_mode attach_mode = ATTACH_TRACEPOINT;
static struct variant_features variants;
static char my_comm[HT_COMM_LEN];
/* this process's cgroup v2 id (the inode of its directory), 0 when no
 * cgroup2 is mounted to tell (a guest's initramfs) */
static __u64 my_cgroup;

static __u64 find_my_cgroup(void)
{
	char line[1024], mount[512], root[512], dir[2048];
	bool found = false;
	struct stat st;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && !found && fgets(line, sizeof(line), f))
		found = cgroup_mountinfo_line(line, mount, sizeof(mount), root,
					      sizeof(root));
	if (f)
		fclose(f);
	f = found ? fopen("/proc/self/cgroup", "re") : NULL;
	found = false;
	while (f && !found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "0::", 3);
	if (f)
		fclose(f);
	if (!found)
		return 0;
	line[strcspn(line, "\n")] = '\0';
	snprintf(dir, sizeof(dir), "%s%s", mount, line + 3);
	return stat(dir, &st) ? 0 : (__u64)st.st_ino;
}

/* Records read from the ring since the last expect_records(). */
static struct rec {
	size_t size;
	union {
		struct ht_event_header hdr;
		struct ht_conn_event conn;
		struct ht_data_event data;
		struct ht_tls_event tls;
		unsigned char raw[sizeof(struct ht_data_event) +
				  HT_MAX_CAPTURE];
	} u;
} recs[MAX_RECS];
static int n_recs, n_lost;
static __u64 t_start; /* the current test began (CLOCK_MONOTONIC) */

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* Set: records go to it instead of recs (tests of more than MAX_RECS). */
static void (*record_hook)(const void *data, size_t size);

static int on_record(void *ctx, void *data, size_t size)
{
	if (record_hook) {
		record_hook(data, size);
		return 0;
	}
	if (n_recs == MAX_RECS || size > sizeof(recs[0].u)) {
		n_lost++;
		return 0;
	}
	recs[n_recs].size = size;
	memcpy(&recs[n_recs].u, data, size);
	n_recs++;
	return 0;
}

/* ---- what a test expects ------------------------------------------------ */

union inet_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

static socklen_t inet_len(const union inet_addr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in);
}

/* One traced socket: its id as the records must carry it. */
struct end {
	const char *name; /* "client", "server": for messages */
	int fd;
	__u64 gen;
	__u32 seq; /* the next record's */
	__u8 role;
	union inet_addr local, peer;
};

struct want {
	__u32 type;
	struct end *e;
	__u32 seq;
	/* connection records */
	__u8 source;
	__s32 err;
	bool softirq; /* no task: tid 0, comm empty */
	bool addrs;   /* saddr/daddr are e's local/peer, else zero */
	bool no_sport; /* ...but saddr without a port: see want_connect() */
	/* data records */
	__u8 dir, call;
	__u16 flags;
	__s64 ret;
	const void *bytes;
	__u32 cap;
};

static struct want wants[MAX_RECS];
static int n_wants;
/* bit (1 << enum ht_io_call) for each call some test expected */
static unsigned int calls_expected;

static struct want *add_want(__u32 type, struct end *e)
{
	struct want *w = &wants[n_wants < MAX_RECS ? n_wants++ : 0];

	memset(w, 0, sizeof(*w));
	w->type = type;
	w->e = e;
	/* kernels without atomic fetch do not number records; none is
	 * lost here, so each carries a count of 0 */
	w->seq = variants.have[VF_ATOMIC_FETCH] ? e->seq++ :
						  HT_SEQ_UNNUMBERED;
	return w;
}

static void want_conn(__u32 type, struct end *e, __u8 source, __s32 err,
		      bool softirq, bool addrs)
{
	struct want *w = add_want(type, e);

	w->source = source;
	w->err = err;
	w->softirq = softirq;
	w->addrs = addrs;
}

static void want_data(struct end *e, __u8 dir, __u8 call, __s64 ret,
		      const void *bytes, __u32 cap)
{
	struct want *w = add_want(HT_EV_DATA, e);

	calls_expected |= 1u << call;
	w->dir = dir;
	w->call = call;
	w->ret = ret;
	w->bytes = bytes;
	w->cap = cap;
}

static const char *type_name(__u32 t)
{
	static const char *const n[] = {
		[HT_EV_CONNECT_START] = "CONNECT_START",
		[HT_EV_CONNECT_DONE] = "CONNECT_DONE",
		[HT_EV_ACCEPT] = "ACCEPT",
		[HT_EV_DATA] = "DATA",
		[HT_EV_CLOSE] = "CLOSE",
		[HT_EV_DNS] = "DNS",
		[HT_EV_PROC_EXIT] = "PROC_EXIT",
		[HT_EV_DNS_WIRE] = "DNS_WIRE",
	};

	return t < sizeof(n) / sizeof(n[0]) && n[t] ? n[t] : "?";
}

#define IO_NAME(name, call, value, dir, shape, peek_arg) [value] = #name,

static const char *call_name(__u8 c)
{
	static const char *const n[HT_IO_CALL_COUNT] = {
		HT_IO_SYSCALLS(IO_NAME)
	};

	return c < HT_IO_CALL_COUNT ? n[c] : "?";
}

/* bytes as a C string literal, cut short with ... to fit out[96] */
static void quote(char out[96], const void *bytes, __u32 n)
{
	const unsigned char *b = bytes;
	size_t o = 0;
	__u32 i;

	out[o++] = '"';
	for (i = 0; i < n && o < 96 - 10; i++) {
		if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '"' && b[i] != '\\')
			out[o++] = (char)b[i];
		else
			o += (size_t)sprintf(out + o, "\\x%02x", b[i]);
	}
	out[o++] = '"';
	out[o] = 0;
	if (i < n)
		strcat(out, "...");
}

static void show_want(const struct want *w)
{
	char q[96];

	fprintf(stderr, "    %s %s fd=%d gen=%llu seq=%u", type_name(w->type),
		w->e->name, w->e->fd, (unsigned long long)w->e->gen, w->seq);
	if (w->type == HT_EV_DATA) {
		quote(q, w->bytes, w->cap);
		fprintf(stderr, " %s %s ret=%lld captured=%u flags=0x%x %s\n",
			w->dir == HT_DIR_EGRESS ? "egress" : "ingress",
			call_name(w->call), (long long)w->ret, w->cap,
			w->flags, q);
	} else {
		fprintf(stderr, " source=%u err=%d%s\n", w->source, w->err,
			w->softirq ? " (softirq)" : "");
	}
}

static void show_rec(const struct rec *r)
{
	const struct ht_conn_event *c = &r->u.conn;
	const struct ht_data_event *d = &r->u.data;
	char q[96];

	fprintf(stderr, "    %s tgid=%u", type_name(r->u.hdr.type),
		r->u.hdr.tgid);
	if (r->u.hdr.type == HT_EV_DATA) {
		quote(q, d->data, d->captured_len);
		fprintf(stderr, " fd=%d gen=%llu seq=%u %s %s ret=%lld "
			"captured=%u flags=0x%x %s\n", d->conn.fd,
			(unsigned long long)d->conn.gen, d->seq,
			d->direction == HT_DIR_EGRESS ? "egress" : "ingress",
			call_name(d->call), (long long)d->ret,
			d->captured_len, d->flags, q);
	} else if (r->u.hdr.type == HT_EV_TLS_DATA) {
		quote(q, d->data, d->captured_len);
		fprintf(stderr, " TLS_DATA fd=%d gen=%llu seq=%u %s lib=%u "
			"ret=%lld captured=%u %s\n", d->conn.fd,
			(unsigned long long)d->conn.gen, d->seq,
			d->direction == HT_DIR_EGRESS ? "egress" : "ingress",
			d->call, (long long)d->ret, d->captured_len, q);
	} else if (r->u.hdr.type == HT_EV_TLS) {
		const struct ht_tls_event *t = &r->u.tls;

		fprintf(stderr, " TLS fd=%d gen=%llu seq=%u lib=%u op=%u "
			"ret=%lld\n", t->conn.fd,
			(unsigned long long)t->conn.gen, t->seq, t->lib, t->op,
			(long long)t->ret);
	} else if (r->u.hdr.type <= HT_EV_CLOSE) {
		fprintf(stderr, " fd=%d gen=%llu seq=%u source=%u err=%d "
			"tid=%u\n", c->conn.fd,
			(unsigned long long)c->conn.gen, c->seq, c->source,
			c->err, c->hdr.tid);
	} else {
		fputc('\n', stderr);
	}
}

static int fails_here;
static const char *at_file;
static int at_line;

#define MISMATCH(i, field, fmt, want, got)                                   \
	do {                                                                 \
		fprintf(stderr, "%s:%d: record %d: %s: expected " fmt        \
			", got " fmt "\n", at_file, at_line, i, field,       \
			want, got);                                          \
		fails_here++;                                                \
	} while (0)

#define SAME(i, field, fmt, want, got)                                       \
	do {                                                                 \
		if ((want) != (got))                                         \
			MISMATCH(i, field, fmt, want, got);                  \
	} while (0)

/* "addr:port", or "none" for a zero address */
static void show_addr(char out[64], __u16 family, const void *addr,
		      __u16 port)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (!family) {
		strcpy(out, "none");
		return;
	}
	inet_ntop(family, addr, ip, sizeof(ip));
	snprintf(out, 64, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

static void same_addr(int i, const char *field, const struct ht_addr *got,
		      const union inet_addr *want, bool no_port)
{
	struct ht_addr w = {};
	char ws[64], gs[64];

	if (want) {
		w.family = want->sa.sa_family;
		if (w.family == AF_INET6) {
			w.port = ntohs(want->in6.sin6_port);
			memcpy(w.addr, &want->in6.sin6_addr, 16);
		} else {
			w.port = ntohs(want->in.sin_port);
			memcpy(w.addr, &want->in.sin_addr, 4);
		}
		if (no_port)
			w.port = 0;
	}
	if (got->family != w.family || got->port != w.port ||
	    memcmp(got->addr, w.addr, 16)) {
		show_addr(ws, w.family, w.addr, w.port);
		show_addr(gs, got->family, got->addr, got->port);
		MISMATCH(i, field, "%s", ws, gs);
	}
}

static void same_header(int i, const struct ht_event_header *h,
			const struct want *w, __u64 t_end)
{
	char zero[HT_COMM_LEN] = {};

	SAME(i, "type", "%u", w->type, h->type);
	SAME(i, "tgid", "%u", (__u32)getpid(), h->tgid);
	SAME(i, "tid", "%u", w->softirq ? 0 : (__u32)gettid(), h->tid);
	/* up to its NUL: bpf_get_current_comm() leaves what the ring held
	 * after it on some kernels (6.1's strscpy; test_ring_full wraps the
	 * ring); softirq records are zeroed whole */
	if (w->softirq ? memcmp(h->comm, zero, HT_COMM_LEN) :
			 strncmp(h->comm, my_comm, HT_COMM_LEN))
		MISMATCH(i, "comm", "\"%.16s\"", w->softirq ? "" : my_comm,
			 h->comm);
	if (h->ts_ns < t_start || h->ts_ns > t_end)
		MISMATCH(i, "ts_ns", "%s", "within the test",
			 "outside it");
}

static void same_id(int i, const struct ht_conn_id *id, const struct want *w)
{
	SAME(i, "conn.tgid", "%u", (__u32)getpid(), id->tgid);
	SAME(i, "conn.fd", "%d", w->e->fd, id->fd);
	SAME(i, "conn.gen", "%llu", (unsigned long long)w->e->gen,
	     (unsigned long long)id->gen);
}

static void same_conn(int i, const struct rec *r, const struct want *w)
{
	const struct ht_conn_event *c = &r->u.conn;

	SAME(i, "size", "%zu", sizeof(*c), r->size);
	same_id(i, &c->conn, w);
	SAME(i, "seq", "%u", w->seq, c->seq);
	SAME(i, "role", "%u", w->e->role, c->role);
	SAME(i, "source", "%u", w->source, c->source);
	SAME(i, "err", "%d", w->err, c->err);
	same_addr(i, "saddr", &c->saddr, w->addrs ? &w->e->local : NULL,
		  w->no_sport);
	same_addr(i, "daddr", &c->daddr, w->addrs ? &w->e->peer : NULL,
		  false);
	/* the records that start a connection name the task's cgroup */
	if ((w->type == HT_EV_CONNECT_START || w->type == HT_EV_ACCEPT) &&
	    !w->softirq) {
		if (my_cgroup)
			SAME(i, "cgroup_id", "%llu",
			     (unsigned long long)my_cgroup,
			     (unsigned long long)c->cgroup_id);
		else if (!c->cgroup_id)
			MISMATCH(i, "cgroup_id", "%s", "not 0", "0");
	} else {
		SAME(i, "cgroup_id", "%llu", 0ull,
		     (unsigned long long)c->cgroup_id);
	}
}

static void same_data(int i, const struct rec *r, const struct want *w)
{
	const struct ht_data_event *d = &r->u.data;
	char wq[96], gq[96];

	SAME(i, "size", "%zu", sizeof(*d) + w->cap, r->size);
	same_id(i, &d->conn, w);
	SAME(i, "seq", "%u", w->seq, d->seq);
	SAME(i, "direction", "%s", w->dir ? "ingress" : "egress",
	     d->direction ? "ingress" : "egress");
	if (w->call != d->call)
		MISMATCH(i, "call", "%s", call_name(w->call),
			 call_name(d->call));
	SAME(i, "ret", "%lld", (long long)w->ret, (long long)d->ret);
	SAME(i, "captured_len", "%u", w->cap, d->captured_len);
	SAME(i, "flags", "0x%x", w->flags, d->flags);
	if (d->enter_ns < t_start || d->enter_ns > d->hdr.ts_ns)
		MISMATCH(i, "enter_ns", "%s", "from the test's start to ts_ns",
			 "outside");
	if (d->captured_len == w->cap && r->size == sizeof(*d) + w->cap &&
	    memcmp(d->data, w->bytes, w->cap)) {
		quote(wq, w->bytes, w->cap);
		quote(gq, d->data, d->captured_len);
		MISMATCH(i, "data", "%s", wq, gq);
	}
}

/*
 * Reads the ring and compares what came, in order, with what the test
 * wanted since the last call; on a difference says which field of which
 * record, then lists both. Returns 0 when they match.
 */
static int expect_records_at(const char *file, int line)
{
	__u64 t_end;
	int n;

	ring_buffer__consume(rb);
	t_end = now_ns();
	at_file = file;
	at_line = line;
	fails_here = 0;
	if (n_lost) {
		fprintf(stderr, "%s:%d: %d records did not fit the test's "
			"buffer\n", file, line, n_lost);
		fails_here++;
	}
	if (n_recs != n_wants) {
		fprintf(stderr, "%s:%d: expected %d records, got %d\n", file,
			line, n_wants, n_recs);
		fails_here++;
	}
	n = n_recs < n_wants ? n_recs : n_wants;
	for (int i = 0; i < n; i++) {
		const struct want *w = &wants[i];

		if (recs[i].size < sizeof(struct ht_event_header)) {
			MISMATCH(i, "size", "%s", "a header", "less");
			continue;
		}
		same_header(i, &recs[i].u.hdr, w, t_end);
		if (recs[i].u.hdr.type != w->type)
			continue;
		if (w->type == HT_EV_DATA)
			same_data(i, &recs[i], w);
		else
			same_conn(i, &recs[i], w);
	}
	if (fails_here) {
		fprintf(stderr, "  expected:\n");
		for (int i = 0; i < n_wants; i++)
			show_want(&wants[i]);
		fprintf(stderr, "  got:\n");
		for (int i = 0; i < n_recs; i++)
			show_rec(&recs[i]);
		unit_failed_checks++;
	}
	n_recs = n_wants = n_lost = 0;
	return fails_here ? -1 : 0;
}

#define expect_records() expect_records_at(__FILE__, __LINE__)

/* ---- sockets ------------------------------------------------------------ */

/* A traced TCP connection on 127.0.0.1: both ends are this process. */
struct pair {
	int lst;
	struct end cli, srv;
};

/* A listening socket on 127.0.0.1 or ::1, port chosen by the kernel. */
static int listener(int family, union inet_addr *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(family, SOCK_STREAM, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sa.sa_family = family;
	if (family == AF_INET6)
		addr->in6.sin6_addr = in6addr_loopback;
	else
		addr->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, &addr->sa, inet_len(addr)) ||
	    listen(fd, 8) || getsockname(fd, &addr->sa, &len)) {
		perror("listener");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void fill_ends(struct pair *p)
{
	socklen_t len = sizeof(p->cli.local);

	getsockname(p->cli.fd, &p->cli.local.sa, &len);
	len = sizeof(p->cli.peer);
	getpeername(p->cli.fd, &p->cli.peer.sa, &len);
	p->srv.local = p->cli.peer;
	p->srv.peer = p->cli.local;
}

/* The gens are the kernel's clock at connect() and accept(): taken from
 * the records, checked to lie inside the test. */
static int learn_gen(struct end *e, __u32 type)
{
	for (int i = 0; i < n_recs; i++) {
		const struct ht_conn_event *c = &recs[i].u.conn;

		if (c->hdr.type == type && c->conn.fd == e->fd) {
			e->gen = c->conn.gen;
			if (e->gen < t_start || e->gen > now_ns()) {
				fprintf(stderr, "%s gen %llu is not a time "
					"in the test\n", e->name,
					(unsigned long long)e->gen);
				return -1;
			}
			return 0;
		}
	}
	fprintf(stderr, "no %s record for the %s\n", type_name(type),
		e->name);
	return -1;
}

/*
 * The start of a connect(). In tracepoint mode it is the CLOSE ->
 * SYN_SENT state change, which the kernel makes before it picks the
 * source port (tcp_v4_connect, tcp_v6_connect), so the record has the
 * source address, port 0; tcp_connect (kprobe, fentry) comes after.
 */
static void want_connect_start(struct end *cli)
{
	want_conn(HT_EV_CONNECT_START, cli, HT_SRC_PROBE, 0, false, true);
	wants[n_wants - 1].no_sport = !strcmp(mode, "tracepoint");
}

/* What connect() of a client end leaves when it learns its outcome at
 * once: the start, the handshake seen by the state change (softirq, no
 * task) and the syscall's return. */
static void want_connect(struct end *cli)
{
	want_connect_start(cli);
	want_conn(HT_EV_CONNECT_DONE, cli, HT_SRC_STATE_CHANGE, 0, true,
		  true);
	want_conn(HT_EV_CONNECT_DONE, cli, HT_SRC_SYSCALL, 0, false, false);
}

/* Listens, connects (blocking), accepts, and checks the records of the
 * connect and the accept. */
static int open_pair_at(struct pair *p, int family, const char *file,
			int line)
{
	union inet_addr addr;

	memset(p, 0, sizeof(*p));
	p->cli = (struct end){ .name = "client", .role = HT_ROLE_CLIENT };
	p->srv = (struct end){ .name = "server", .role = HT_ROLE_SERVER };
	p->lst = listener(family, &addr);
	if (p->lst < 0)
		return -1;
	p->cli.fd = socket(family, SOCK_STREAM, 0);
	if (p->cli.fd < 0 || connect(p->cli.fd, &addr.sa, inet_len(&addr))) {
		perror("connect");
		return -1;
	}
	p->srv.fd = accept(p->lst, NULL, NULL);
	if (p->srv.fd < 0) {
		perror("accept");
		return -1;
	}
	fill_ends(p);
	ring_buffer__consume(rb);
	if (learn_gen(&p->cli, HT_EV_CONNECT_START) ||
	    learn_gen(&p->srv, HT_EV_ACCEPT)) {
		unit_failed_checks++;
		return -1;
	}
	want_connect(&p->cli);
	want_conn(HT_EV_ACCEPT, &p->srv, HT_SRC_SYSCALL, 0, false, true);
	return expect_records_at(file, line);
}

#define open_pair(p) open_pair_at(p, AF_INET, __FILE__, __LINE__)
#define open_pair6(p) open_pair_at(p, AF_INET6, __FILE__, __LINE__)

/* Closes both ends (client first) and the listener; checks the CLOSE
 * records. */
static int close_pair_at(struct pair *p, const char *file, int line)
{
	close(p->cli.fd);
	close(p->srv.fd);
	close(p->lst);
	want_conn(HT_EV_CLOSE, &p->cli, HT_SRC_SYSCALL, 0, false, false);
	want_conn(HT_EV_CLOSE, &p->srv, HT_SRC_SYSCALL, 0, false, false);
	return expect_records_at(file, line);
}

#define close_pair(p) close_pair_at(p, __FILE__, __LINE__)

static void set_nonblocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

#define S(s) s, (sizeof(s) - 1)

static const char req[] = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
static const char resp[] = "HTTP/1.1 204 No Content\r\n\r\n";

/* ---- tests -------------------------------------------------------------- */

/*
 * In fentry and kprobe modes the accepted socket is inet_csk_accept's
 * return (fexit, either variant, or kretprobe), kept in the thread's
 * pending_accepts slot; the ACCEPT record's addresses were read from it.
 * Were it NULL, the fd would have led to the socket all the same and the
 * records would not tell: the slot does.
 */
static void check_accept_socket_from_return(void)
{
	struct { __u64 ts, sk; } pa = { 0, 0 };
	__u32 tid = (__u32)gettid();

	if (bpf_map__lookup_elem(skel->maps.pending_accepts, &tid, sizeof(tid),
				 &pa, sizeof(pa), 0)) {
		CHECK(!"no pending_accepts slot for this thread");
		return;
	}
	if (attach_mode == ATTACH_TRACEPOINT)
		CHECK(pa.sk == 0);
	else
		CHECK(pa.sk != 0);
}

static void test_connect_accept_close(void)
{
	struct pair p;
	int fd;

	ASSERT(open_pair(&p) == 0);
	check_accept_socket_from_return();
	close(p.cli.fd);
	want_conn(HT_EV_CLOSE, &p.cli, HT_SRC_SYSCALL, 0, false, false);
	ASSERT(expect_records() == 0);
	/* a closed fd is no longer tracked: a new socket with its number
	 * leaves nothing until it connects */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_INT(fd, p.cli.fd);
	CHECK(write(fd, S(req)) < 0);
	close(fd);
	ASSERT(expect_records() == 0);
	close(p.srv.fd);
	close(p.lst);
	want_conn(HT_EV_CLOSE, &p.srv, HT_SRC_SYSCALL, 0, false, false);
	expect_records();
}

static void test_write_read(void)
{
	char buf[256];
	struct pair p;

	ASSERT(open_pair(&p) == 0);
	ASSERT_INT(write(p.cli.fd, S(req)), sizeof(req) - 1);
	ASSERT_INT(read(p.srv.fd, buf, sizeof(buf)), sizeof(req) - 1);
	ASSERT_INT(write(p.srv.fd, S(resp)), sizeof(resp) - 1);
	ASSERT_INT(read(p.cli.fd, buf, sizeof(buf)), sizeof(resp) - 1);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(req) - 1,
		  req, sizeof(req) - 1);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_READ, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	want_data(&p.srv, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(resp) - 1, resp,
		  sizeof(resp) - 1);
	want_data(&p.cli, HT_DIR_INGRESS, HT_IO_READ, sizeof(resp) - 1, resp,
		  sizeof(resp) - 1);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

static void test_writev_readv(void)
{
	struct iovec out[3] = {
		{ (void *)"GET ", 4 },
		{ (void *)"/x HTTP/1.1\r\n", 13 },
		{ (void *)"\r\n", 2 },
	};
	char a[5], b[100];
	struct iovec in[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	static const char all[] = "GET /x HTTP/1.1\r\n\r\n";
	struct pair p;

	ASSERT(open_pair(&p) == 0);
	ASSERT_INT(writev(p.cli.fd, out, 3), 19);
	ASSERT_INT(readv(p.srv.fd, in, 2), 19);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITEV, 19, all, 19);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_READV, 19, all, 19);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/* The same over ::1: the addresses are IPv6 ones, all 16 bytes. */
static void test_ipv6(void)
{
	char buf[256];
	struct pair p;

	ASSERT(open_pair6(&p) == 0);
	ASSERT_INT(send(p.cli.fd, S(req), 0), sizeof(req) - 1);
	ASSERT_INT(read(p.srv.fd, buf, sizeof(buf)), sizeof(req) - 1);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_SENDTO, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_READ, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/* Only the first HT_MAX_IOV entries of an iovec array are copied; the
 * byte count is the syscall's. */
static void test_writev_many_iov(void)
{
	static const char chunks[] = "GET/a/b/c/d/e/f/g/h/i/";
	struct iovec out[HT_MAX_IOV + 3];
	char buf[64];
	struct pair p;
	int n = HT_MAX_IOV + 3;

	for (int i = 0; i < n; i++)
		out[i] = (struct iovec){ (void *)(chunks + 2 * i), 2 };
	ASSERT(open_pair(&p) == 0);
	ASSERT_INT(writev(p.cli.fd, out, n), 2 * n);
	ASSERT_INT(recv(p.srv.fd, buf, 2 * n, MSG_WAITALL), 2 * n);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITEV, 2 * n, chunks,
		  2 * HT_MAX_IOV);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_RECVFROM, 2 * n, chunks,
		  2 * n);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

static void test_sendto_recvfrom(void)
{
	char buf[256];
	struct pair p;

	ASSERT(open_pair(&p) == 0);
	ASSERT_INT(sendto(p.cli.fd, S(req), 0, NULL, 0), sizeof(req) - 1);
	ASSERT_INT(recvfrom(p.srv.fd, buf, sizeof(buf), 0, NULL, NULL),
		   sizeof(req) - 1);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_SENDTO, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_RECVFROM, sizeof(req) - 1,
		  req, sizeof(req) - 1);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

static void test_sendmsg_recvmsg(void)
{
	struct iovec out[2] = { { (void *)req, 10 },
				{ (void *)(req + 10), sizeof(req) - 11 } };
	char a[3], b[200];
	struct iovec in[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct msghdr mo = { .msg_iov = out, .msg_iovlen = 2 };
	struct msghdr mi = { .msg_iov = in, .msg_iovlen = 2 };
	struct pair p;

	ASSERT(open_pair(&p) == 0);
	ASSERT_INT(sendmsg(p.cli.fd, &mo, 0), sizeof(req) - 1);
	ASSERT_INT(recvmsg(p.srv.fd, &mi, 0), sizeof(req) - 1);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_SENDMSG, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_RECVMSG, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/* A peek leaves the bytes for the next read: no record, no sequence
 * number; the read that takes them reports them once. */
static void test_msg_peek(void)
{
	char buf[256];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct pair p;

	ASSERT(open_pair(&p) == 0);
	ASSERT_INT(write(p.cli.fd, S(req)), sizeof(req) - 1);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	ASSERT_INT(recv(p.srv.fd, buf, sizeof(buf), MSG_PEEK),
		   sizeof(req) - 1);
	ASSERT_INT(recvfrom(p.srv.fd, buf, 4, MSG_PEEK, NULL, NULL), 4);
	ASSERT_INT(recvmsg(p.srv.fd, &m, MSG_PEEK), sizeof(req) - 1);
	ASSERT(expect_records() == 0);
	ASSERT_INT(read(p.srv.fd, buf, sizeof(buf)), sizeof(req) - 1);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_READ, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/* Reading less than was sent: each read reports what it took. */
static void test_short_read(void)
{
	char buf[256];
	struct pair p;

	ASSERT(open_pair(&p) == 0);
	ASSERT_INT(write(p.cli.fd, S(req)), sizeof(req) - 1);
	ASSERT_INT(read(p.srv.fd, buf, 10), 10);
	ASSERT_INT(recv(p.srv.fd, buf, 5, 0), 5);
	ASSERT_INT(read(p.srv.fd, buf, sizeof(buf)), sizeof(req) - 16);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_READ, 10, req, 10);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_RECVFROM, 5, req + 10, 5);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_READ, sizeof(req) - 16,
		  req + 15, sizeof(req) - 16);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/* EAGAIN on a non-blocking socket is polling, not I/O: no record and
 * no sequence number. */
static void test_nonblocking(void)
{
	char buf[256];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct pair p;

	ASSERT(open_pair(&p) == 0);
	set_nonblocking(p.srv.fd);
	errno = 0;
	CHECK(read(p.srv.fd, buf, sizeof(buf)) < 0 && errno == EAGAIN);
	CHECK(readv(p.srv.fd, &iov, 1) < 0 && errno == EAGAIN);
	CHECK(recv(p.srv.fd, buf, sizeof(buf), 0) < 0 && errno == EAGAIN);
	CHECK(recvmsg(p.srv.fd, &m, 0) < 0 && errno == EAGAIN);
	ASSERT(expect_records() == 0);
	ASSERT_INT(write(p.cli.fd, S(req)), sizeof(req) - 1);
	ASSERT_INT(read(p.srv.fd, buf, sizeof(buf)), sizeof(req) - 1);
	CHECK(read(p.srv.fd, buf, sizeof(buf)) < 0 && errno == EAGAIN);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_READ, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/*
 * A non-blocking connect() returns EINPROGRESS, so its return says
 * nothing; the process learns the outcome from getsockopt(SO_ERROR),
 * which is reported once.
 */
static void test_nonblocking_connect(void)
{
	struct pair p = { .cli = { .name = "client",
				   .role = HT_ROLE_CLIENT },
			  .srv = { .name = "server",
				   .role = HT_ROLE_SERVER } };
	union inet_addr addr;
	struct pollfd pfd = { .events = POLLOUT };
	int err = -1, rc;
	socklen_t len = sizeof(err);

	p.lst = listener(AF_INET, &addr);
	ASSERT(p.lst >= 0);
	p.cli.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT(p.cli.fd >= 0);
	rc = connect(p.cli.fd, &addr.sa, inet_len(&addr));
	ASSERT(rc < 0 && errno == EINPROGRESS);
	pfd.fd = p.cli.fd;
	ASSERT_INT(poll(&pfd, 1, 5000), 1);
	ASSERT_INT(getsockopt(p.cli.fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ASSERT_INT(err, 0);
	/* a second look changes nothing */
	ASSERT_INT(getsockopt(p.cli.fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	p.srv.fd = accept(p.lst, NULL, NULL);
	ASSERT(p.srv.fd >= 0);
	fill_ends(&p);
	ring_buffer__consume(rb);
	ASSERT(learn_gen(&p.cli, HT_EV_CONNECT_START) == 0);
	ASSERT(learn_gen(&p.srv, HT_EV_ACCEPT) == 0);
	want_connect_start(&p.cli);
	want_conn(HT_EV_CONNECT_DONE, &p.cli, HT_SRC_STATE_CHANGE, 0, true,
		  true);
	want_conn(HT_EV_CONNECT_DONE, &p.cli, HT_SRC_SYSCALL, 0, false,
		  false);
	want_conn(HT_EV_ACCEPT, &p.srv, HT_SRC_SYSCALL, 0, false, true);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/* accept4() has tracepoints of its own; its flags change nothing. */
static void test_accept4(void)
{
	struct pair p = { .cli = { .name = "client",
				   .role = HT_ROLE_CLIENT },
			  .srv = { .name = "server",
				   .role = HT_ROLE_SERVER } };
	union inet_addr addr;

	p.lst = listener(AF_INET, &addr);
	ASSERT(p.lst >= 0);
	p.cli.fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT(p.cli.fd >= 0);
	ASSERT_INT(connect(p.cli.fd, &addr.sa, inet_len(&addr)), 0);
	p.srv.fd = accept4(p.lst, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ASSERT(p.srv.fd >= 0);
	fill_ends(&p);
	ring_buffer__consume(rb);
	ASSERT(learn_gen(&p.cli, HT_EV_CONNECT_START) == 0);
	ASSERT(learn_gen(&p.srv, HT_EV_ACCEPT) == 0);
	want_connect(&p.cli);
	want_conn(HT_EV_ACCEPT, &p.srv, HT_SRC_SYSCALL, 0, false, true);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/* Only TCP is tracked: a connected UDP socket leaves nothing. */
static void test_udp_untracked(void)
{
	union inet_addr addr = { .in = { .sin_family = AF_INET } };
	socklen_t len = sizeof(addr);
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx;
	char buf[64];

	ASSERT(rx >= 0);
	addr.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_INT(bind(rx, &addr.sa, sizeof(addr.in)), 0);
	ASSERT_INT(getsockname(rx, &addr.sa, &len), 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT(tx >= 0);
	ASSERT_INT(connect(tx, &addr.sa, sizeof(addr.in)), 0);
	ASSERT_INT(write(tx, S(req)), sizeof(req) - 1);
	ASSERT_INT(read(rx, buf, sizeof(buf)), sizeof(req) - 1);
	close(tx);
	close(rx);
	expect_records();
}

/* A connect() that fails: the refusal as the state change saw it, then
 * as the syscall returned it. */
static void test_connect_refused(void)
{
	struct end cli = { .name = "client", .role = HT_ROLE_CLIENT };
	union inet_addr addr;
	int lst = listener(AF_INET, &addr);

	ASSERT(lst >= 0);
	close(lst); /* nothing listens on addr now */
	cli.fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT(cli.fd >= 0);
	CHECK(connect(cli.fd, &addr.sa, inet_len(&addr)) < 0 &&
	      errno == ECONNREFUSED);
	ring_buffer__consume(rb);
	ASSERT(learn_gen(&cli, HT_EV_CONNECT_START) == 0);
	cli.peer = addr;
	/* The source port connect() picked is gone with the failure, so
	 * only tcp_connect's record (kprobe, fentry) can say which it was;
	 * the refusal's state change comes after the port was released. */
	cli.local.in.sin_family = AF_INET;
	cli.local.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cli.local.in.sin_port = htons(recs[0].u.conn.saddr.port);
	if (strcmp(mode, "tracepoint"))
		CHECK(recs[0].u.conn.saddr.port != 0);
	want_connect_start(&cli);
	want_conn(HT_EV_CONNECT_DONE, &cli, HT_SRC_STATE_CHANGE, ECONNREFUSED,
		  true, true);
	wants[n_wants - 1].no_sport = true;
	want_conn(HT_EV_CONNECT_DONE, &cli, HT_SRC_SYSCALL, ECONNREFUSED,
		  false, false);
	ASSERT(expect_records() == 0);
	close(cli.fd);
	want_conn(HT_EV_CLOSE, &cli, HT_SRC_SYSCALL, 0, false, false);
	expect_records();
}

/* More than the capture cap: the byte count is the syscall's, the
 * bytes only the first capture_cap. */
static void test_capture_cap(void)
{
	static char big[HT_DEFAULT_CAPTURE + 1000];
	static char in[sizeof(big)];
	struct pair p;

	memset(big, 'x', sizeof(big));
	memcpy(big, "POST / HTTP/1.1\r\n", 17);
	ASSERT(open_pair(&p) == 0);
	ASSERT_INT(write(p.cli.fd, big, sizeof(big)), sizeof(big));
	ASSERT_INT(recv(p.srv.fd, in, sizeof(in), MSG_WAITALL), sizeof(big));
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(big), big,
		  HT_DEFAULT_CAPTURE);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_RECVFROM, sizeof(big), big,
		  HT_DEFAULT_CAPTURE);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/* The client's data records of one connection, read by a ring reader of
 * their own (test_ring_full). */
struct conn_records {
	__u64 gen;
	int n;
	__u32 last_seq;
};

static int count_conn_records(void *ctx, void *data, size_t size)
{
	struct conn_records *cr = ctx;
	const struct ht_data_event *d = data;

	if (size >= sizeof(*d) && d->hdr.type == HT_EV_DATA &&
	    d->conn.gen == cr->gen) {
		cr->n++;
		cr->last_seq = d->seq;
	}
	return 0;
}

/*
 * Records the ring buffer had no room for: the connection's next record
 * that fits shows them, as a jump in its number (atomic fetch) or as the
 * count it carries (without: bpf/core_fixes.bpf.h). The ring is filled
 * without being read, then read whole, then one more write goes out.
 */
static void test_ring_full(void)
{
	static char chunk[HT_DEFAULT_CAPTURE];
	struct conn_records cr = { 0 };
	struct ring_buffer *own;
	__u32 first_seq;
	struct pair p;
	int writes, lost;

	memset(chunk, 'x', sizeof(chunk));
	memcpy(chunk, "POST / HTTP/1.1\r\n", 17);
	ASSERT(open_pair(&p) == 0);
	cr.gen = p.cli.gen;
	first_seq = p.cli.seq;
	/* a record of the chunk's size per write and per read: the ring
	 * is full long before the end */
	writes = (int)(bpf_map__max_entries(skel->maps.events) /
		       sizeof(chunk)) + 16;
	for (int i = 0; i < writes; i++) {
		ASSERT_INT(write(p.cli.fd, chunk, sizeof(chunk)),
			   sizeof(chunk));
		ASSERT_INT(recv(p.srv.fd, chunk, sizeof(chunk), MSG_WAITALL),
			   sizeof(chunk));
	}
	own = ring_buffer__new(bpf_map__fd(skel->maps.events),
			       count_conn_records, &cr, NULL);
	ASSERT(own != NULL);
	ring_buffer__consume(own);
	lost = writes - cr.n;
	CHECK(cr.n > 0);
	CHECK(lost > 0);
	ASSERT_INT(write(p.cli.fd, S(req)), sizeof(req) - 1);
	ring_buffer__consume(own);
	ring_buffer__free(own);
	CHECK_INT(cr.n, writes - lost + 1);
	if (variants.have[VF_ATOMIC_FETCH])
		CHECK_INT(cr.last_seq, first_seq + writes);
	else
		CHECK_INT(cr.last_seq, HT_SEQ_UNNUMBERED | (__u32)lost);
	/* what is left is the server's: not counted above */
	ring_buffer__consume(rb);
	n_recs = n_wants = n_lost = 0;
	close(p.cli.fd);
	close(p.srv.fd);
	close(p.lst);
	ring_buffer__consume(rb);
	n_recs = n_wants = n_lost = 0;
}

/* The end of the stream and errors are records too, without bytes. */
static void test_eof_and_error(void)
{
	/* the kernel cannot copy into this buffer: -EFAULT */
	char *volatile unmapped = (char *)8;
	char buf[64];
	struct pair p;

	ASSERT(open_pair(&p) == 0);
	ASSERT_INT(write(p.cli.fd, S(req)), sizeof(req) - 1);
	ASSERT_INT(read(p.srv.fd, unmapped, sizeof(buf)), -1);
	ASSERT_INT(errno, EFAULT);
	ASSERT_INT(read(p.srv.fd, buf, sizeof(buf)), sizeof(req) - 1);
	ASSERT_INT(shutdown(p.cli.fd, SHUT_WR), 0);
	ASSERT_INT(read(p.srv.fd, buf, sizeof(buf)), 0);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_READ, -EFAULT, "", 0);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_READ, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_READ, 0, "", 0);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/* First bytes that cannot start HTTP or TLS: that record goes out, so
 * userspace knows, and nothing more of the connection's data. */
static void test_not_http(void)
{
	static const char bin[] = "\x00\x00\x00\x08\x04\xd2\x16\x2f";
	char buf[64];
	struct pair p;

	ASSERT(open_pair(&p) == 0);
	ASSERT_INT(write(p.cli.fd, bin, 8), 8);
	ASSERT_INT(write(p.cli.fd, S(req)), sizeof(req) - 1);
	ASSERT_INT(read(p.srv.fd, buf, 8), 8);
	ASSERT_INT(read(p.srv.fd, buf, sizeof(buf)), sizeof(req) - 1);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITE, 8, bin, 8);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_READ, 8, bin, 8);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/* ---- HTTP/2: frames followed, DATA payloads left out ------------------- */

static const char h2_start[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
			       "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
/* a response's HEADERS on stream 3: :status 200, END_STREAM and
 * END_HEADERS */
static const char h2_headers[] = "\x00\x00\x05\x01\x05\x00\x00\x00\x03"
				 "\x88\x5f\x87\x49\x7c";
#define H2_HEADERS_LEN (sizeof(h2_headers) - 1)

/* What an HT_DATA_ELIDED record of one run holds: kept bytes, the run,
 * the count (include/httptrace_events.h). */
static __u32 h2_elided(__u8 *out, const void *kept, __u32 n_kept,
		       __u32 at, __u32 len)
{
	struct ht_elided_run run = { at, len };
	__u32 n = 1;

	memcpy(out, kept, n_kept);
	memcpy(out + n_kept, &run, sizeof(run));
	memcpy(out + n_kept + sizeof(run), &n, sizeof(n));
	return n_kept + sizeof(run) + sizeof(n);
}

static void want_h2(struct end *e, __u8 dir, __u8 call, __s64 ret,
		    const void *bytes, __u32 cap)
{
	want_data(e, dir, call, ret, bytes, cap);
	wants[n_wants - 1].flags = HT_DATA_ELIDED;
}

/*
 * An HTTP/2 pair: the client's start (h2_start: preface and SETTINGS)
 * written and read by the server, its two records expected first on
 * each end. Returns 0, or -1 with the pair closed.
 */
static int h2_pair_started(struct pair *p)
{
	char in[sizeof(h2_start)];

	if (open_pair(p))
		return -1;
	if (write(p->cli.fd, S(h2_start)) != sizeof(h2_start) - 1 ||
	    recv(p->srv.fd, in, sizeof(h2_start) - 1, MSG_WAITALL) !=
		    sizeof(h2_start) - 1) {
		close_pair(p);
		return -1;
	}
	want_data(&p->cli, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(h2_start) - 1,
		  h2_start, sizeof(h2_start) - 1);
	want_data(&p->srv, HT_DIR_INGRESS, HT_IO_RECVFROM,
		  sizeof(h2_start) - 1, h2_start, sizeof(h2_start) - 1);
	return 0;
}

/*
 * A connection that starts with the client's preface has its frames
 * followed. A write of a 20000-byte DATA frame of stream 1 and then
 * the HEADERS frame of stream 3: far past the 4096 bytes captured of
 * other connections, the header block comes whole and the body is one
 * run left out, on either side.
 */
static void test_h2_data_then_headers(void)
{
	static char big[9 + 20000 + H2_HEADERS_LEN];
	static char in[sizeof(big)];
	static __u8 want[64];
	struct pair p;
	__u32 n;

	memset(big, 'x', sizeof(big));
	memcpy(big, "\x00\x4e\x20\x00\x00\x00\x00\x00\x01", 9);
	memcpy(big + 9 + 20000, h2_headers, H2_HEADERS_LEN);
	memcpy(want, big, 9);
	memcpy(want + 9, h2_headers, H2_HEADERS_LEN);
	n = h2_elided(want, want, 9 + H2_HEADERS_LEN, 9, 20000);

	ASSERT(h2_pair_started(&p) == 0);
	ASSERT_INT(write(p.srv.fd, big, sizeof(big)), sizeof(big));
	ASSERT_INT(recv(p.cli.fd, in, sizeof(in), MSG_WAITALL), sizeof(big));
	want_h2(&p.srv, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(big), want, n);
	want_h2(&p.cli, HT_DIR_INGRESS, HT_IO_RECVFROM, sizeof(big), want, n);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/*
 * Frames across records and iovecs: a DATA frame of 100 bytes begun in
 * one writev and ended in the next, with a HEADERS frame after it; read
 * with the frame header split between two iovecs, and the payload
 * between two more. Each record keeps the same bytes whatever the
 * iovecs; a DATA payload of fewer than HT_ELIDED_MIN_RUN bytes is kept.
 */
static void test_h2_across_records(void)
{
	static const char data_hdr[] = "\x00\x00\x64\x00\x00\x00\x00\x00\x01";
	static const char small[] = "\x00\x00\x04\x00\x01\x00\x00\x00\x01"
				    "abcd";
	static char payload[100];
	static __u8 want1[64], want2[64];
	struct iovec out1[2] = { { (void *)data_hdr, 9 }, { payload, 50 } };
	struct iovec out2[2] = { { payload + 50, 50 },
				 { (void *)h2_headers, H2_HEADERS_LEN } };
	char a[5], b[54], c[30], d[34], in[64];
	struct iovec in1[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct iovec in2[2] = { { c, sizeof(c) }, { d, sizeof(d) } };
	struct pair p;
	__u32 n1, n2, n3;

	memset(payload, 'y', sizeof(payload));
	n1 = h2_elided(want1, data_hdr, 9, 9, 50);
	n2 = h2_elided(want2, h2_headers, H2_HEADERS_LEN, 0, 50);
	n3 = sizeof(small) - 1;

	ASSERT(h2_pair_started(&p) == 0);
	ASSERT_INT(writev(p.cli.fd, out1, 2), 59);
	ASSERT_INT(writev(p.cli.fd, out2, 2), 50 + H2_HEADERS_LEN);
	ASSERT_INT(write(p.cli.fd, small, n3), n3);
	ASSERT_INT(readv(p.srv.fd, in1, 2), 59);
	ASSERT_INT(readv(p.srv.fd, in2, 2), 50 + H2_HEADERS_LEN);
	ASSERT_INT(read(p.srv.fd, in, sizeof(in)), n3);
	want_h2(&p.cli, HT_DIR_EGRESS, HT_IO_WRITEV, 59, want1, n1);
	want_h2(&p.cli, HT_DIR_EGRESS, HT_IO_WRITEV, 50 + H2_HEADERS_LEN,
		want2, n2);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITE, n3, small, n3);
	want_h2(&p.srv, HT_DIR_INGRESS, HT_IO_READV, 59, want1, n1);
	want_h2(&p.srv, HT_DIR_INGRESS, HT_IO_READV, 50 + H2_HEADERS_LEN,
		want2, n2);
	want_data(&p.srv, HT_DIR_INGRESS, HT_IO_READ, n3, small, n3);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/* gRPC writes a frame in many iovecs: all of them are followed, not
 * only the first HT_MAX_IOV that other connections' records copy. */
static void test_h2_many_iovecs(void)
{
	struct iovec out[H2_HEADERS_LEN];
	char in[64];
	struct pair p;

	for (size_t i = 0; i < H2_HEADERS_LEN; i++) {
		out[i].iov_base = (void *)(h2_headers + i);
		out[i].iov_len = 1;
	}
	ASSERT(h2_pair_started(&p) == 0);
	ASSERT_INT(writev(p.srv.fd, out, H2_HEADERS_LEN), H2_HEADERS_LEN);
	ASSERT_INT(read(p.cli.fd, in, sizeof(in)), H2_HEADERS_LEN);
	want_data(&p.srv, HT_DIR_EGRESS, HT_IO_WRITEV, H2_HEADERS_LEN,
		  h2_headers, H2_HEADERS_LEN);
	want_data(&p.cli, HT_DIR_INGRESS, HT_IO_READ, H2_HEADERS_LEN,
		  h2_headers, H2_HEADERS_LEN);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/*
 * A call of more iovecs than the steps and the rest's pieces of old
 * (64 each) together: gRPC's sendmsg of 20 calls at once. 10 PINGs in
 * 170 one-byte iovecs: the steps follow 32 of them, the rest is kept
 * as it is, whole.
 */
static void test_h2_iovecs_past_steps(void)
{
	static char pings[10 * 17];
	struct iovec out[sizeof(pings)];
	char in[sizeof(pings)];
	struct pair p;

	for (int i = 0; i < 10; i++)
		memcpy(pings + i * 17, "\x00\x00\x08\x06\x00\x00\x00\x00\x00"
		       "12345678", 17);
	for (size_t i = 0; i < sizeof(pings); i++) {
		out[i].iov_base = pings + i;
		out[i].iov_len = 1;
	}
	ASSERT(h2_pair_started(&p) == 0);
	ASSERT_INT(writev(p.srv.fd, out, sizeof(pings)), sizeof(pings));
	ASSERT_INT(recv(p.cli.fd, in, sizeof(in), MSG_WAITALL), sizeof(in));
	want_data(&p.srv, HT_DIR_EGRESS, HT_IO_WRITEV, sizeof(pings), pings,
		  sizeof(pings));
	want_data(&p.cli, HT_DIR_INGRESS, HT_IO_RECVFROM, sizeof(pings),
		  pings, sizeof(pings));
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/*
 * More frames in one call than the BPF side follows (40 PINGs: 80
 * steps): the rest is kept as it is. That direction's next call is an
 * ordinary record, walked all the same; its frames end where it does,
 * so the one after has its DATA payload left out again.
 */
static void test_h2_many_frames(void)
{
	static char pings[40 * 17];
	static const char data_hdr[] = "\x00\x00\x64\x00\x01\x00\x00\x00\x01";
	static char data[9 + 100];
	static __u8 want[64];
	char in[sizeof(pings)];
	struct pair p;
	__u32 n;

	for (int i = 0; i < 40; i++)
		memcpy(pings + i * 17, "\x00\x00\x08\x06\x00\x00\x00\x00\x00"
		       "12345678", 17);
	memcpy(data, data_hdr, 9);
	memset(data + 9, 'z', 100);
	n = h2_elided(want, data_hdr, 9, 9, 100);
	ASSERT(open_pair(&p) == 0);
	ASSERT_INT(write(p.cli.fd, S(h2_start)), sizeof(h2_start) - 1);
	ASSERT_INT(write(p.cli.fd, pings, sizeof(pings)), sizeof(pings));
	ASSERT_INT(write(p.cli.fd, h2_headers, H2_HEADERS_LEN),
		   H2_HEADERS_LEN);
	ASSERT_INT(write(p.cli.fd, data, sizeof(data)), sizeof(data));
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(h2_start) - 1,
		  h2_start, sizeof(h2_start) - 1);
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(pings), pings,
		  sizeof(pings));
	want_data(&p.cli, HT_DIR_EGRESS, HT_IO_WRITE, H2_HEADERS_LEN,
		  h2_headers, H2_HEADERS_LEN);
	want_h2(&p.cli, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(data), want, n);
	ASSERT(expect_records() == 0);
	(void)in;
	close_pair(&p);
}

/*
 * As many DATA frames in one call as the steps follow (31 of stream 1,
 * then the HEADERS of stream 3: 32 frames, 64 steps), each payload a
 * run left out. A server writes a 300 kB body in one call (Node: 19
 * frames of 16 KiB): every frame header of it is kept, and the header
 * block after it, however many runs that takes; the next call starts at
 * a frame boundary.
 */
#define H2_DATA_FRAMES 31
#define H2_DATA_PAYLOAD 100

static void test_h2_data_frames_as_steps(void)
{
	static char out[H2_DATA_FRAMES * (9 + H2_DATA_PAYLOAD) +
			H2_HEADERS_LEN];
	static char in[sizeof(out)];
	static __u8 want[H2_DATA_FRAMES * (9 + 8) + H2_HEADERS_LEN + 4];
	struct ht_elided_run run;
	__u32 n = H2_DATA_FRAMES, k = 0, w = 0;
	struct pair p;

	for (__u32 i = 0; i < H2_DATA_FRAMES; i++) {
		memcpy(out + k, "\x00\x00\x64\x00\x00\x00\x00\x00\x01", 9);
		memset(out + k + 9, 'd', H2_DATA_PAYLOAD);
		memcpy(want + w, out + k, 9);
		w += 9;
		k += 9 + H2_DATA_PAYLOAD;
	}
	memcpy(out + k, h2_headers, H2_HEADERS_LEN);
	memcpy(want + w, h2_headers, H2_HEADERS_LEN);
	w += H2_HEADERS_LEN;
	for (__u32 i = 0; i < H2_DATA_FRAMES; i++) {
		run.at = i * (9 + H2_DATA_PAYLOAD) + 9;
		run.len = H2_DATA_PAYLOAD;
		memcpy(want + w, &run, sizeof(run));
		w += sizeof(run);
	}
	memcpy(want + w, &n, sizeof(n));
	w += sizeof(n);

	ASSERT(h2_pair_started(&p) == 0);
	ASSERT_INT(write(p.srv.fd, out, sizeof(out)), sizeof(out));
	ASSERT_INT(recv(p.cli.fd, in, sizeof(in), MSG_WAITALL), sizeof(out));
	ASSERT_INT(write(p.srv.fd, h2_headers, H2_HEADERS_LEN),
		   H2_HEADERS_LEN);
	ASSERT_INT(read(p.cli.fd, in, sizeof(in)), H2_HEADERS_LEN);
	want_h2(&p.srv, HT_DIR_EGRESS, HT_IO_WRITE, sizeof(out), want, w);
	want_h2(&p.cli, HT_DIR_INGRESS, HT_IO_RECVFROM, sizeof(out), want, w);
	want_data(&p.srv, HT_DIR_EGRESS, HT_IO_WRITE, H2_HEADERS_LEN,
		  h2_headers, H2_HEADERS_LEN);
	want_data(&p.cli, HT_DIR_INGRESS, HT_IO_READ, H2_HEADERS_LEN,
		  h2_headers, H2_HEADERS_LEN);
	ASSERT(expect_records() == 0);
	close_pair(&p);
}

/* Another process is not in pid_filter: its connect and write leave
 * nothing; the accept and read on this side are traced. */
static void test_pid_filter(void)
{
	struct end srv = { .name = "server", .role = HT_ROLE_SERVER };
	union inet_addr addr;
	socklen_t len = sizeof(addr);
	char buf[64];
	int lst = listener(AF_INET, &addr), status;
	pid_t child;

	ASSERT(lst >= 0);
	child = fork();
	ASSERT(child >= 0);
	if (child == 0) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (connect(fd, &addr.sa, inet_len(&addr)) ||
		    write(fd, S(req)) != sizeof(req) - 1)
			_exit(1);
		/* wait for the parent to read, then go */
		read(fd, buf, 1);
		_exit(0);
	}
	srv.fd = accept(lst, NULL, NULL);
	ASSERT(srv.fd >= 0);
	ASSERT_INT(recv(srv.fd, buf, sizeof(req) - 1, MSG_WAITALL),
		   sizeof(req) - 1);
	getsockname(srv.fd, &srv.local.sa, &len);
	len = sizeof(srv.peer);
	getpeername(srv.fd, &srv.peer.sa, &len);
	close(srv.fd);
	close(lst);
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ring_buffer__consume(rb);
	ASSERT(learn_gen(&srv, HT_EV_ACCEPT) == 0);
	want_conn(HT_EV_ACCEPT, &srv, HT_SRC_SYSCALL, 0, false, true);
	want_data(&srv, HT_DIR_INGRESS, HT_IO_RECVFROM, sizeof(req) - 1, req,
		  sizeof(req) - 1);
	want_conn(HT_EV_CLOSE, &srv, HT_SRC_SYSCALL, 0, false, false);
	expect_records();
}


/* ---- DNS from the wire (bpf/dns_wire.bpf.h) ------------------------------ */

/* A DNS server's address: a loopback address of its own, so that no
 * resolver of the host is in the way. */
#define DNS_TEST_ADDR "127.53.0.1"

/* a query for a.test (type A or AAAA), as a resolver sends it */
static size_t dns_query(unsigned char *b, unsigned int id, int aaaa)
{
	static const unsigned char q[] = {
		0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
	};

	memcpy(b, q, sizeof(q));
	b[0] = (unsigned char)(id >> 8);
	b[1] = (unsigned char)id;
	b[21] = aaaa ? 28 : 1;
	return sizeof(q);
}

/* the answer to it: one address, 127.0.0.1 */
static size_t dns_reply(unsigned char *b, const unsigned char *query,
			size_t n)
{
	static const unsigned char rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60,
					     0, 4, 127, 0, 0, 1 };

	memcpy(b, query, n);
	b[2] = 0x81;
	b[3] = 0x80;
	b[7] = 1;
	memcpy(b + n, rr, sizeof(rr));
	return n + sizeof(rr);
}

static int dns_server(int type, union inet_addr *addr)
{
	int fd = socket(AF_INET, type, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(addr, 0, sizeof(*addr));
	addr->in.sin_family = AF_INET;
	addr->in.sin_port = htons(53);
	inet_pton(AF_INET, DNS_TEST_ADDR, &addr->in.sin_addr);
	if (bind(fd, &addr->sa, sizeof(addr->in)) ||
	    (type == SOCK_STREAM && listen(fd, 4))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The server answers the next datagram; where it came from in *from. */
static void dns_serve_one(int srv, union inet_addr *from)
{
	unsigned char q[512], a[512];
	socklen_t len = sizeof(*from);
	ssize_t n = recvfrom(srv, q, sizeof(q), 0, &from->sa, &len);

	if (n > 0)
		sendto(srv, a, dns_reply(a, q, (size_t)n), 0, &from->sa, len);
}

struct dns_want {
	int fd;
	__u8 dir, call, proto;
	const void *bytes;
	__u32 len;
};

static int dns_recs_checked;

/* The ring holds exactly these HT_EV_DNS_WIRE records, in order (and
 * records of other types only when `others`). */
static void expect_dns_at(const char *file, int line,
			  const struct dns_want *w, int n, bool others,
			  const union inet_addr *server)
{
	int got = 0;

	ring_buffer__consume(rb);
	for (int i = 0; i < n_recs; i++) {
		const struct ht_dns_wire_event *d = (const void *)recs[i].u.raw;
		char field[32];

		if (recs[i].u.hdr.type != HT_EV_DNS_WIRE) {
			if (!others) {
				fprintf(stderr, "%s:%d: record %d: a %s\n",
					file, line, i,
					type_name(recs[i].u.hdr.type));
				unit_failed_checks++;
			}
			continue;
		}
		if (got >= n) {
			fprintf(stderr, "%s:%d: more DNS records than %d\n",
				file, line, n);
			unit_failed_checks++;
			break;
		}
		at_file = file;
		at_line = line;
		fails_here = 0;
		snprintf(field, sizeof(field), "dns %d", got);
		SAME(i, "size", "%zu", sizeof(*d) + (w[got].len < 512 ?
						     w[got].len : 512),
		     recs[i].size);
		SAME(i, "tgid", "%u", (__u32)getpid(), d->hdr.tgid);
		SAME(i, "fd", "%d", w[got].fd, d->fd);
		SAME(i, "direction", "%u", w[got].dir, d->direction);
		SAME(i, "call", "%u", w[got].call, d->call);
		SAME(i, "proto", "%u", w[got].proto, d->proto);
		SAME(i, "msg_len", "%u", w[got].len, d->msg_len);
		SAME(i, "captured_len", "%u", w[got].len, d->captured_len);
		if (d->captured_len == w[got].len &&
		    memcmp(d->data, w[got].bytes, w[got].len))
			MISMATCH(i, "data", "%s", "the message", "other bytes");
		if (d->enter_ns < t_start || d->enter_ns > d->hdr.ts_ns ||
		    d->gen < t_start || d->gen > d->enter_ns)
			MISMATCH(i, "enter_ns/gen", "%s", "in the test",
				 "outside");
		same_addr(i, "peer", &d->peer, server, false);
		if (fails_here)
			unit_failed_checks++;
		got++;
	}
	if (got != n) {
		fprintf(stderr, "%s:%d: expected %d DNS records, got %d\n",
			file, line, n, got);
		unit_failed_checks++;
	}
	dns_recs_checked += got;
	n_recs = n_wants = n_lost = 0;
}

#define expect_dns(w, n, others, server)                                     \
	expect_dns_at(__FILE__, __LINE__, w, n, others, server)

/* Closed, the DNS sockets are forgotten: nothing left on the read/write
 * path of other sockets. */
static void expect_no_dns_socks(void)
{
	struct { __u32 tgid; __s32 fd; } key;

	CHECK_INT(skel->bss->dns_socks_open, 0);
	CHECK(bpf_map__get_next_key(skel->maps.dns_socks, NULL, &key,
				    sizeof(key)) != 0);
	/* a process's count stays, at 0, until it exits */
	for (__u32 *prev = NULL, tgid; !bpf_map__get_next_key(
		     skel->maps.dns_procs, prev, &tgid, sizeof(tgid));
	     prev = &key.tgid) {
		__u64 n = 1;

		key.tgid = tgid;
		CHECK_INT(tgid, (__u32)getpid());
		CHECK_INT(bpf_map__lookup_elem(skel->maps.dns_procs, &tgid,
					       sizeof(tgid), &n, sizeof(n),
					       0), 0);
		CHECK_INT(n, 0);
	}
}

/* Go's pure resolver: a connected UDP socket, write and read. */
static void test_dns_udp_connected(void)
{
	unsigned char q[64], a[128], buf[512];
	union inet_addr srv_addr, from;
	int srv = dns_server(SOCK_DGRAM, &srv_addr), cli;
	size_t qn, an;

	ASSERT(srv >= 0);
	cli = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT(cli >= 0);
	ASSERT_INT(connect(cli, &srv_addr.sa, sizeof(srv_addr.in)), 0);
	qn = dns_query(q, 0x1234, 0);
	ASSERT_INT(write(cli, q, qn), qn);
	dns_serve_one(srv, &from);
	an = dns_reply(a, q, qn);
	ASSERT_INT(read(cli, buf, sizeof(buf)), an);
	close(cli);
	close(srv);
	{
		struct dns_want w[] = {
			{ cli, HT_DIR_EGRESS, HT_IO_WRITE, HT_DNS_UDP, q, qn },
			{ cli, HT_DIR_INGRESS, HT_IO_READ, HT_DNS_UDP, a, an },
		};

		expect_dns(w, 2, false, &srv_addr);
	}
	expect_no_dns_socks();
}

/* musl: an unconnected socket, sendto and recvfrom with addresses; then
 * sendmsg and recvmsg with msg_name */
static void test_dns_udp_unconnected(void)
{
	unsigned char q[64], a[128], q2[64], a2[128], buf[512];
	union inet_addr srv_addr, from, src;
	int srv = dns_server(SOCK_DGRAM, &srv_addr), cli;
	socklen_t len = sizeof(src);
	size_t qn, an, q2n, a2n;
	struct iovec iov;
	struct msghdr mh;

	ASSERT(srv >= 0);
	cli = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT(cli >= 0);
	qn = dns_query(q, 0x0101, 0);
	ASSERT_INT(sendto(cli, q, qn, 0, &srv_addr.sa, sizeof(srv_addr.in)),
		   qn);
	dns_serve_one(srv, &from);
	an = dns_reply(a, q, qn);
	ASSERT_INT(recvfrom(cli, buf, sizeof(buf), 0, &src.sa, &len), an);

	q2n = dns_query(q2, 0x0202, 1);
	iov.iov_base = q2;
	iov.iov_len = q2n;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &srv_addr;
	mh.msg_namelen = sizeof(srv_addr.in);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	ASSERT_INT(sendmsg(cli, &mh, 0), q2n);
	dns_serve_one(srv, &from);
	a2n = dns_reply(a2, q2, q2n);
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	mh.msg_name = &src;
	mh.msg_namelen = sizeof(src);
	ASSERT_INT(recvmsg(cli, &mh, 0), a2n);
	close(cli);
	close(srv);
	{
		struct dns_want w[] = {
			{ cli, HT_DIR_EGRESS, HT_IO_SENDTO, HT_DNS_UDP, q, qn },
			{ cli, HT_DIR_INGRESS, HT_IO_RECVFROM, HT_DNS_UDP, a,
			  an },
			{ cli, HT_DIR_EGRESS, HT_IO_SENDMSG, HT_DNS_UDP, q2,
			  q2n },
			{ cli, HT_DIR_INGRESS, HT_IO_RECVMSG, HT_DNS_UDP, a2,
			  a2n },
		};

		expect_dns(w, 4, false, &srv_addr);
	}
	expect_no_dns_socks();
}

/* glibc: A and AAAA in one sendmmsg on a connected socket; both answers
 * in one recvmmsg */
static void test_dns_sendmmsg(void)
{
	unsigned char q[2][64], a[2][128], buf[2][512];
	union inet_addr srv_addr, from;
	int srv = dns_server(SOCK_DGRAM, &srv_addr), cli;
	struct mmsghdr mm[2];
	struct iovec iov[2];
	size_t qn[2], an[2];

	ASSERT(srv >= 0);
	cli = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT(cli >= 0);
	ASSERT_INT(connect(cli, &srv_addr.sa, sizeof(srv_addr.in)), 0);
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 2; i++) {
		qn[i] = dns_query(q[i], 0x4000 + i, i);
		an[i] = dns_reply(a[i], q[i], qn[i]);
		iov[i].iov_base = q[i];
		iov[i].iov_len = qn[i];
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	ASSERT_INT(sendmmsg(cli, mm, 2, 0), 2);
	dns_serve_one(srv, &from);
	dns_serve_one(srv, &from);
	for (int i = 0; i < 2; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
	}
	ASSERT_INT(recvmmsg(cli, mm, 2, MSG_WAITFORONE, NULL), 2);
	close(cli);
	close(srv);
	{
		struct dns_want w[] = {
			{ cli, HT_DIR_EGRESS, HT_DNS_CALL_SENDMMSG, HT_DNS_UDP,
			  q[0], qn[0] },
			{ cli, HT_DIR_EGRESS, HT_DNS_CALL_SENDMMSG, HT_DNS_UDP,
			  q[1], qn[1] },
			{ cli, HT_DIR_INGRESS, HT_DNS_CALL_RECVMMSG,
			  HT_DNS_UDP, a[0], an[0] },
			{ cli, HT_DIR_INGRESS, HT_DNS_CALL_RECVMMSG,
			  HT_DNS_UDP, a[1], an[1] },
		};

		expect_dns(w, 4, false, &srv_addr);
	}
	expect_no_dns_socks();
}

/* TCP to port 53: DNS records, never a tracked connection on the
 * client's side (the server's accepted socket is an ordinary one) */
static void test_dns_tcp(void)
{
	unsigned char q[66], a[130], buf[512];
	union inet_addr srv_addr;
	int lst = dns_server(SOCK_STREAM, &srv_addr), cli, srv;
	size_t qn, an;

	ASSERT(lst >= 0);
	cli = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT(cli >= 0);
	ASSERT_INT(connect(cli, &srv_addr.sa, sizeof(srv_addr.in)), 0);
	srv = accept(lst, NULL, NULL);
	ASSERT(srv >= 0);
	qn = dns_query(q + 2, 0x7777, 0);
	q[0] = 0;
	q[1] = (unsigned char)qn;
	ASSERT_INT(write(cli, q, qn + 2), qn + 2);
	ASSERT_INT(read(srv, buf, sizeof(buf)), qn + 2);
	an = dns_reply(a + 2, q + 2, qn);
	a[0] = 0;
	a[1] = (unsigned char)an;
	ASSERT_INT(write(srv, a, an + 2), an + 2);
	/* as Go reads it: the length, then the message */
	ASSERT_INT(read(cli, buf, 2), 2);
	ASSERT_INT(read(cli, buf, an), an);
	close(cli);
	close(srv);
	close(lst);
	{
		struct dns_want w[] = {
			{ cli, HT_DIR_EGRESS, HT_IO_WRITE, HT_DNS_TCP, q,
			  qn + 2 },
			{ cli, HT_DIR_INGRESS, HT_IO_READ, HT_DNS_TCP, a, 2 },
			{ cli, HT_DIR_INGRESS, HT_IO_READ, HT_DNS_TCP, a + 2,
			  an },
		};

		expect_dns(w, 3, true, &srv_addr);
	}
	expect_no_dns_socks();
}

/* A process that exits with its DNS socket open (the kernel closes it,
 * no close() is seen) takes it off the count. */
static void test_dns_exit_open(void)
{
	union inet_addr srv_addr;
	int go[2], srv = dns_server(SOCK_DGRAM, &srv_addr), status;
	__u8 one = 1;
	__u32 child;
	pid_t pid;
	char c;

	ASSERT(srv >= 0);
	ASSERT_INT(pipe(go), 0);
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		int fd;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || connect(fd, &srv_addr.sa, sizeof(srv_addr.in)))
			_exit(3);
		_exit(0);
	}
	close(go[0]);
	child = (__u32)pid;
	CHECK_INT(bpf_map__update_elem(skel->maps.pid_filter, &child,
				       sizeof(child), &one, sizeof(one),
				       BPF_ANY), 0);
	CHECK_INT(write(go[1], "x", 1), 1);
	close(go[1]);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	bpf_map__delete_elem(skel->maps.pid_filter, &child, sizeof(child), 0);
	close(srv);
	/* its socket was one: the map still holds it, the count not */
	{
		struct { __u32 tgid; __s32 fd; } key;

		CHECK(bpf_map__get_next_key(skel->maps.dns_socks, NULL, &key,
					    sizeof(key)) == 0 &&
		      key.tgid == child);
		if (key.tgid == child)
			bpf_map__delete_elem(skel->maps.dns_socks, &key,
					     sizeof(key), 0);
	}
	CHECK_INT(skel->bss->dns_socks_open, 0);
	ring_buffer__consume(rb);
	n_recs = n_wants = n_lost = 0;
	expect_no_dns_socks();
}

/* UDP to another port: nothing (test_udp_untracked), and no DNS
 * socket kept */
static void test_dns_other_port(void)
{
	test_udp_untracked();
	expect_no_dns_socks();
}

/* A syscall added to include/httptrace_io_syscalls.h needs a test here:
 * HT_IO_CALL_COUNT grows, and this fails until some test expects a
 * record of it. */
static void test_every_io_call_driven(void)
{
	for (int c = 0; c < HT_IO_CALL_COUNT; c++) {
		if (!(calls_expected & (1u << c))) {
			fprintf(stderr, "no test drives %s (enum ht_io_call "
				"%d)\n", call_name((__u8)c), c);
			unit_failed_checks++;
		}
	}
}

/* ---- Go's crypto/tls ------------------------------------------------------ */

/* The tlspair fixture, its probes, and how they are linked. */
static const char *go_tlspair;
static char go_tlspair_stripped[4096]; /* go_tlspair + "-pie-stripped" */
static bool go_tlspair_required; /* GO_TLSPAIR given: must be there */
static struct uprobe_handle *go_handles[2];
static bool go_multi;
static char go_multi_why[160];

/* tests/fixtures/go/tlspair/main.go */
static const char go_ping[] = "GET /go-tls-ping HTTP/1.1\r\nHost: tlspair\r\n\r\n";
static const char go_pong[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

static void go_errors_now(uint64_t out[HT_GO_TLS_ERROR_COUNT])
{
	if (go_attach_errors(skel, out)) {
		fprintf(stderr, "cannot read go_tls_errors: %s\n",
			strerror(errno));
		unit_failed_checks++;
	}
}

/* Puts the probes on fixture k once (0 tlspair, 1 its stripped PIE
 * build). false: the Go tests are skipped (said), or failed (a required
 * fixture is missing, or the probes do not attach). */
static bool go_ready(int k)
{
	static int state[2]; /* 0 not tried, 1 ready, -1 not */
	const char *path = k ? go_tlspair_stripped : go_tlspair;
	int n_probes;

	if (state[k])
		return state[k] > 0;
	state[k] = -1;
	if (access(path, X_OK)) {
		if (go_tlspair_required) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			unit_failed_checks++;
		} else {
			printf("bpf: SKIP a Go test: no %s (make %s)\n", path,
			       path);
		}
		return false;
	}
	go_handles[k] = go_attach_file(skel, go_multi, path, path, -1,
				       &n_probes);
	if (!go_handles[k]) {
		fprintf(stderr, "%s: the Go probes did not attach\n", path);
		unit_failed_checks++;
		return false;
	}
	state[k] = 1;
	return true;
}

/*
 * Runs `tlspair MODE` as a child traced from its first instruction (its
 * pid is in pid_filter before it execs) and reads what it printed.
 * Returns its pid (reaped), or -1.
 */
static int go_child_cpu = -1; /* >= 0: go_run's child on this CPU only */

static pid_t go_run(int k, const char *how, char *out, size_t out_len)
{
	int go[2], outp[2], status;
	ssize_t n, got = 0;
	__u8 one = 1;
	pid_t child;
	__u32 pid;

	if (pipe(go) || pipe(outp))
		return -1;
	child = fork();
	if (child < 0)
		return -1;
	if (child == 0) {
		char c;

		close(go[1]);
		close(outp[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(126);
		dup2(outp[1], 1);
		if (go_child_cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(go_child_cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set))
				_exit(125);
			/* threads enough to be in one call at once */
			setenv("GOMAXPROCS", "4", 1);
		}
		execl(k ? go_tlspair_stripped : go_tlspair, "tlspair", how,
		      (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	close(outp[1]);
	pid = (__u32)child;
	if (bpf_map__update_elem(skel->maps.pid_filter, &pid, sizeof(pid),
				 &one, sizeof(one), BPF_ANY))
		fprintf(stderr, "cannot add the child to pid_filter\n");
	write(go[1], "g", 1);
	close(go[1]);
	while (got < (ssize_t)out_len - 1 &&
	       (n = read(outp[0], out + got, out_len - 1 - got)) > 0)
		got += n;
	out[got > 0 ? got : 0] = 0;
	close(outp[0]);
	waitpid(child, &status, 0);
	bpf_map__delete_elem(skel->maps.pid_filter, &pid, sizeof(pid), 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "tlspair %s failed (status 0x%x): %s\n", how,
			status, out);
		return -1;
	}
	return child;
}

/* One side of the Go connection, as its records must show it. */
struct go_end {
	const char *name;
	int fd;
	__u64 gen;
	__u32 last_seq;
	int n_seq;       /* records of the connection seen */
	int n_start;     /* handshake-started records */
	int n_hs;        /* handshake records */
	int n_data;      /* plaintext records */
	const char *data[2];    /* the plaintext expected, in order */
	__u8 dir[2];
};

static void go_check_seq(struct go_end *e, __u32 seq)
{
	if (variants.have[VF_ATOMIC_FETCH]) {
		/* one sequence for all of the connection's records */
		if (e->n_seq && seq != e->last_seq + 1) {
			fprintf(stderr, "%s: seq %u after %u\n", e->name, seq,
				e->last_seq);
			unit_failed_checks++;
		}
	} else if (seq != HT_SEQ_UNNUMBERED) {
		fprintf(stderr, "%s: seq %u, want unnumbered\n", e->name, seq);
		unit_failed_checks++;
	}
	e->last_seq = seq;
	e->n_seq++;
}

static struct go_end *go_end_of(struct go_end *ends, const struct ht_conn_id *id)
{
	for (int k = 0; k < 2; k++)
		if (id->fd == ends[k].fd && id->gen == ends[k].gen)
			return &ends[k];
	return NULL;
}

/*
 * The client's and server's records of the tlspair child: the conn
 * records give each fd its generation; each side then has one handshake
 * record (lib Go, ret 0) before its two plaintext records, which hold
 * exactly what was written and read, on its own fd, in its direction;
 * every record of a connection in one sequence.
 */
static void go_check_pair(pid_t child, int cli_fd, int srv_fd)
{
	struct go_end ends[2] = {
		{ .name = "client", .fd = cli_fd,
		  .data = { go_ping, go_pong },
		  .dir = { HT_DIR_EGRESS, HT_DIR_INGRESS } },
		{ .name = "server", .fd = srv_fd,
		  .data = { go_ping, go_pong },
		  .dir = { HT_DIR_INGRESS, HT_DIR_EGRESS } },
	};
	bool bad = false;

	for (int i = 0; i < n_recs; i++) {
		const struct ht_event_header *h = &recs[i].u.hdr;
		const struct ht_conn_event *c = &recs[i].u.conn;

		if (h->tgid != (__u32)child)
			continue;
		if (h->type == HT_EV_CONNECT_START && c->conn.fd == cli_fd &&
		    !ends[0].gen)
			ends[0].gen = c->conn.gen;
		if (h->type == HT_EV_ACCEPT && c->conn.fd == srv_fd &&
		    !ends[1].gen)
			ends[1].gen = c->conn.gen;
	}
	CHECK(ends[0].gen != 0);
	CHECK(ends[1].gen != 0);
	for (int i = 0; i < n_recs; i++) {
		const struct rec *r = &recs[i];
		const struct ht_event_header *h = &r->u.hdr;
		struct go_end *e;

		if (h->tgid != (__u32)child)
			continue;
		if (h->type == HT_EV_TLS) {
			const struct ht_tls_event *t = &r->u.tls;

			e = go_end_of(ends, &t->conn);
			if (e && t->op == HT_TLS_OP_HANDSHAKE_START &&
			    r->size == sizeof(*t) && t->lib == HT_TLS_GO &&
			    !t->ret && t->session && !e->n_start &&
			    !e->n_hs && t->enter_ns <= h->ts_ns &&
			    t->enter_ns >= t_start) {
				go_check_seq(e, t->seq);
				e->n_start++;
				continue;
			}
			if (!e || r->size != sizeof(*t) ||
			    t->lib != HT_TLS_GO ||
			    t->op != HT_TLS_OP_HANDSHAKE || t->ret != 0 ||
			    !t->session || t->enter_ns > h->ts_ns ||
			    t->enter_ns < t_start || e->n_data ||
			    !e->n_start) {
				fprintf(stderr, "handshake record %d: fd %d "
					"lib %u op %u ret %lld (%s)\n", i,
					t->conn.fd, t->lib, t->op,
					(long long)t->ret,
					e ? "after data, before its start, "
					    "or wrong" :
					    "on no connection of the pair");
				bad = true;
				continue;
			}
			go_check_seq(e, t->seq);
			e->n_hs++;
			continue;
		}
		if (h->type == HT_EV_TLS_DATA) {
			const struct ht_data_event *d = &r->u.data;
			const char *want;
			size_t len;

			e = go_end_of(ends, &d->conn);
			if (!e || e->n_data >= 2 || !e->n_hs) {
				fprintf(stderr, "plaintext record %d on fd %d: "
					"%s\n", i, d->conn.fd,
					!e ? "no connection of the pair" :
					e->n_data >= 2 ? "one too many" :
					"before the handshake record");
				bad = true;
				continue;
			}
			want = e->data[e->n_data];
			len = strlen(want);
			go_check_seq(e, d->seq);
			if (d->call != HT_TLS_GO ||
			    d->direction != e->dir[e->n_data] ||
			    d->ret != (__s64)len || d->captured_len != len ||
			    r->size != sizeof(*d) + len ||
			    memcmp(d->data, want, len) || d->flags ||
			    d->enter_ns > h->ts_ns) {
				char q[96];

				quote(q, d->data, d->captured_len);
				fprintf(stderr, "%s plaintext %d: call %u dir "
					"%u ret %lld %s\n", e->name, e->n_data,
					d->call, d->direction,
					(long long)d->ret, q);
				bad = true;
			}
			e->n_data++;
			continue;
		}
		if (h->type <= HT_EV_CLOSE || h->type == HT_EV_DATA) {
			/* the socket's records share the sequence */
			e = go_end_of(ends, &r->u.conn.conn);
			if (e && h->type != HT_EV_DATA)
				go_check_seq(e, r->u.conn.seq);
			else if (e)
				go_check_seq(e, r->u.data.seq);
		}
	}
	for (int k = 0; k < 2; k++) {
		if (ends[k].n_start != 1 || ends[k].n_hs != 1 ||
		    ends[k].n_data != 2) {
			fprintf(stderr, "%s (fd %d): %d handshake-started, %d "
				"handshake, %d plaintext records; want 1, 1 "
				"and 2\n", ends[k].name, ends[k].fd,
				ends[k].n_start, ends[k].n_hs, ends[k].n_data);
			bad = true;
		}
	}
	if (bad) {
		unit_failed_checks++;
		for (int i = 0; i < n_recs; i++)
			if (recs[i].u.hdr.tgid == (__u32)child)
				show_rec(&recs[i]);
	}
}

/* Reads the ring into recs until `child` is quiet; the records of
 * others (none expected) stay in recs too. */
static void go_collect(void)
{
	int before;

	do {
		before = n_recs;
		usleep(50 * 1000);
		ring_buffer__consume(rb);
	} while (n_recs != before);
}

/* tlspair `how` from fixture k: a client and a server, their records
 * whole (go_check_pair()), nothing counted */
static void go_pair(int k, const char *how)
{
	uint64_t err0[HT_GO_TLS_ERROR_COUNT], err1[HT_GO_TLS_ERROR_COUNT];
	char out[256];
	int cli_fd = -1, srv_fd = -1;
	pid_t child;

	if (!go_ready(k))
		return;
	go_errors_now(err0);
	child = go_run(k, how, out, sizeof(out));
	ASSERT(child > 0);
	ASSERT(sscanf(out, "client_fd=%d server_fd=%d", &cli_fd,
		      &srv_fd) == 2);
	go_collect();
	CHECK_INT(n_lost, 0);
	go_check_pair(child, cli_fd, srv_fd);
	go_errors_now(err1);
	for (int e = 0; e < HT_GO_TLS_ERROR_COUNT; e++)
		CHECK_INT(err1[e] - err0[e], 0);
	n_recs = n_wants = n_lost = 0;
}

static void test_go_tls_pair(void)
{
	go_pair(0, "pair");
}

/* the handshakes inside the first Write and Read: each reported at its
 * RET, the Write's plaintext at the Write's RET after it */
static void test_go_tls_implicit(void)
{
	go_pair(0, "implicit");
}

/* a PIE without symbols: functions from .gopclntab */
static void test_go_tls_pie_stripped(void)
{
	go_pair(1, "pair");
}

/* net.Conn wrappers of the program's own (tlspair wrapped): followed to
 * the socket through the types the loader read, in the PIE without
 * symbols too */
static void test_go_tls_wrapped(void)
{
	go_pair(0, "wrapped");
	go_pair(1, "wrapped");
}

/*
 * Uprobe programs preempted. Go's TLS calls from four threads on one
 * CPU (tlspair hammer), and on that CPU a SCHED_FIFO thread waking every
 * 50 us, which preempts whatever runs there. A kernel that preempts
 * kernel code (lazy or full preemption) would preempt our uprobe
 * programs mid-body, and another thread would then run the same program
 * on that CPU: over its private stack (6.13+, an oops) and its per-CPU
 * scratch (records mixed), unless the programs keep preemption off
 * (core_fixes.bpf.h). Every plaintext record must be whole. Where kernel
 * code is not preempted it passes, guard or not: the sid guest of the
 * kernel matrix (lazy preemption) is where it can fail.
 */
struct preempter {
	int cpu;
	volatile bool stop;
	int err;
	unsigned long wakeups;
};

static void *preempter_main(void *arg)
{
	struct preempter *p = arg;
	struct sched_param sp = { .sched_priority = 1 };
	struct timespec nap = { .tv_nsec = 50 * 1000 };
	__u64 end = now_ns() + 60ull * 1000000000ull; /* bounded anyway */
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(p->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) ||
	    sched_setscheduler(0, SCHED_FIFO, &sp)) {
		p->err = errno;
		return NULL;
	}
	while (!p->stop && now_ns() < end) {
		nanosleep(&nap, NULL);
		p->wakeups++;
	}
	return NULL;
}

static struct {
	pid_t child;
	int ping[2], pong[2]; /* [0] written, [1] read */
	int bad;
} hammer;

static void hammer_record(const void *data, size_t size)
{
	const struct ht_data_event *d = data;
	const char *want;
	size_t len;
	bool out;

	if (size < sizeof(d->hdr) || d->hdr.tgid != (__u32)hammer.child ||
	    d->hdr.type != HT_EV_TLS_DATA)
		return;
	if (size < sizeof(*d)) {
		if (hammer.bad++ < 5)
			fprintf(stderr, "hammer: plaintext record of %zu "
				"bytes\n", size);
		return;
	}
	out = d->direction == HT_DIR_EGRESS;
	len = d->ret == (__s64)strlen(go_ping) ? strlen(go_ping) :
						  strlen(go_pong);
	want = len == strlen(go_ping) ? go_ping : go_pong;
	if (size != sizeof(*d) + len || d->call != HT_TLS_GO ||
	    d->ret != (__s64)len || d->captured_len != len || d->flags ||
	    memcmp(d->data, want, len) ||
	    (d->direction != HT_DIR_EGRESS &&
	     d->direction != HT_DIR_INGRESS)) {
		char q[96];

		if (hammer.bad++ < 5) {
			quote(q, d->data,
			      d->captured_len < size - sizeof(*d) ?
				      d->captured_len :
				      (__u32)(size - sizeof(*d)));
			fprintf(stderr, "hammer: plaintext record fd %d dir "
				"%u ret %lld size %zu: %s\n", d->conn.fd,
				d->direction, (long long)d->ret, size, q);
		}
		return;
	}
	if (want == go_ping)
		hammer.ping[!out]++;
	else
		hammer.pong[!out]++;
}

static void test_go_tls_preempted(void)
{
	uint64_t err0[HT_GO_TLS_ERROR_COUNT], err1[HT_GO_TLS_ERROR_COUNT];
	struct preempter p = { .cpu = -1 };
	int exchanges = 0, before;
	pthread_t thread;
	cpu_set_t mine;
	char out[256];

	if (!go_ready(0))
		return;
	/* the last CPU this test may use */
	ASSERT(!sched_getaffinity(0, sizeof(mine), &mine));
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &mine))
			p.cpu = c;
	ASSERT(p.cpu >= 0);
	ASSERT(!pthread_create(&thread, NULL, preempter_main, &p));
	go_errors_now(err0);
	go_child_cpu = p.cpu;
	hammer.child = go_run(0, "hammer", out, sizeof(out));
	go_child_cpu = -1;
	p.stop = true;
	pthread_join(thread, NULL);
	if (p.err)
		fprintf(stderr, "the SCHED_FIFO thread on CPU %d: %s\n",
			p.cpu, strerror(p.err));
	CHECK_INT(p.err, 0);
	ASSERT(hammer.child > 0);
	ASSERT(sscanf(out, "exchanges=%d", &exchanges) == 1);
	record_hook = hammer_record;
	do {
		before = hammer.ping[0] + hammer.ping[1] + hammer.pong[0] +
			 hammer.pong[1] + hammer.bad;
		usleep(50 * 1000);
		ring_buffer__consume(rb);
	} while (before != hammer.ping[0] + hammer.ping[1] +
				  hammer.pong[0] + hammer.pong[1] + hammer.bad);
	record_hook = NULL;
	printf("bpf: hammer: %d exchanges on CPU %d, %lu wakeups of the "
	       "SCHED_FIFO thread there\n", exchanges, p.cpu, p.wakeups);
	CHECK_INT(hammer.bad, 0);
	CHECK_INT(hammer.ping[0], exchanges);
	CHECK_INT(hammer.ping[1], exchanges);
	CHECK_INT(hammer.pong[0], exchanges);
	CHECK_INT(hammer.pong[1], exchanges);
	CHECK_INT(n_lost, 0);
	go_errors_now(err1);
	for (int e = 0; e < HT_GO_TLS_ERROR_COUNT; e++)
		CHECK_INT(err1[e] - err0[e], 0);
	n_recs = n_wants = n_lost = 0;
}

/*
 * A handshake given up on (tlspair hsgiveup: the context ends while the
 * server never answers, and Go closes the socket inside
 * handshakeContext): the connection has its handshake-started record,
 * before the socket's close, and no handshake result, since the call
 * returned on a socket already gone; nothing counted (a handshake is
 * counted by the Read or Write that makes it).
 */
static void test_go_tls_handshake_given_up(void)
{
	uint64_t err0[HT_GO_TLS_ERROR_COUNT], err1[HT_GO_TLS_ERROR_COUNT];
	char out[256];
	int cli_fd = -1, start_at = -1, close_at = -1, n_tls = 0;
	__u64 cli_gen = 0;
	pid_t child;

	if (!go_ready(0))
		return;
	go_errors_now(err0);
	child = go_run(0, "hsgiveup", out, sizeof(out));
	ASSERT(child > 0);
	ASSERT(sscanf(out, "client_fd=%d", &cli_fd) == 1);
	go_collect();
	CHECK_INT(n_lost, 0);
	for (int i = 0; i < n_recs; i++) {
		const struct rec *r = &recs[i];
		const struct ht_event_header *h = &r->u.hdr;

		if (h->tgid != (__u32)child)
			continue;
		if (h->type == HT_EV_CONNECT_START &&
		    r->u.conn.conn.fd == cli_fd && !cli_gen)
			cli_gen = r->u.conn.conn.gen;
		if (h->type == HT_EV_CLOSE && r->u.conn.conn.fd == cli_fd &&
		    r->u.conn.conn.gen == cli_gen && close_at < 0)
			close_at = i;
		if (h->type != HT_EV_TLS)
			continue;
		n_tls++;
		if (r->u.tls.op == HT_TLS_OP_HANDSHAKE_START &&
		    r->u.tls.lib == HT_TLS_GO && r->u.tls.conn.fd == cli_fd &&
		    r->u.tls.conn.gen == cli_gen && !r->u.tls.ret)
			start_at = i;
		else
			show_rec(r);
	}
	CHECK(cli_gen != 0);
	CHECK_INT(n_tls, 1);
	CHECK(start_at >= 0);
	CHECK(close_at > start_at);
	go_errors_now(err1);
	for (int e = 0; e < HT_GO_TLS_ERROR_COUNT; e++)
		CHECK_INT(err1[e] - err0[e], 0);
	n_recs = n_wants = n_lost = 0;
}

/*
 * The client's socket closed inside its Read of the pong, after the
 * bytes came in, and its fd taken at once by a new connection (tlspair
 * closeread): that Read is counted (HT_GO_TLS_CLOSED) and makes no
 * record, on the old connection or on the new one that has its fd; the
 * rest of the exchange is reported as usual (the client's ping, the
 * server's ping and pong).
 */
static void test_go_tls_closed_mid_read(void)
{
	uint64_t err0[HT_GO_TLS_ERROR_COUNT], err1[HT_GO_TLS_ERROR_COUNT];
	char out[256];
	int cli_fd = -1, srv_fd = -1, again_fd = -1;
	__u64 cli_gen = 0, srv_gen = 0;
	int n_cli = 0, n_srv = 0, n_other = 0;
	pid_t child;

	if (!go_ready(0))
		return;
	go_errors_now(err0);
	child = go_run(0, "closeread", out, sizeof(out));
	ASSERT(child > 0);
	ASSERT(sscanf(out, "client_fd=%d server_fd=%d again_fd=%d", &cli_fd,
		      &srv_fd, &again_fd) == 3);
	/* the premise: the fd was taken again (else only the close is) */
	CHECK_INT(again_fd, cli_fd);
	go_collect();
	CHECK_INT(n_lost, 0);
	for (int i = 0; i < n_recs; i++) {
		const struct ht_event_header *h = &recs[i].u.hdr;
		const struct ht_conn_event *c = &recs[i].u.conn;

		if (h->tgid != (__u32)child)
			continue;
		if (h->type == HT_EV_CONNECT_START && c->conn.fd == cli_fd &&
		    !cli_gen)
			cli_gen = c->conn.gen;
		if (h->type == HT_EV_ACCEPT && c->conn.fd == srv_fd &&
		    !srv_gen)
			srv_gen = c->conn.gen;
	}
	CHECK(cli_gen != 0);
	CHECK(srv_gen != 0);
	for (int i = 0; i < n_recs; i++) {
		const struct rec *r = &recs[i];

		if (r->u.hdr.tgid != (__u32)child ||
		    r->u.hdr.type != HT_EV_TLS_DATA)
			continue;
		if (r->u.data.conn.fd == cli_fd &&
		    r->u.data.conn.gen == cli_gen) {
			n_cli++;
			CHECK_INT(r->u.data.direction, HT_DIR_EGRESS);
		} else if (r->u.data.conn.fd == srv_fd &&
			   r->u.data.conn.gen == srv_gen) {
			n_srv++;
		} else {
			n_other++;
			show_rec(r);
		}
	}
	CHECK_INT(n_cli, 1);
	CHECK_INT(n_srv, 2);
	CHECK_INT(n_other, 0);
	go_errors_now(err1);
	for (int e = 0; e < HT_GO_TLS_ERROR_COUNT; e++) {
		if (err1[e] - err0[e] != (e == HT_GO_TLS_CLOSED ? 1u : 0u))
			fprintf(stderr, "go_tls_errors[%d] (enum "
				"ht_go_tls_error) counted %llu\n", e,
				(unsigned long long)(err1[e] - err0[e]));
		CHECK_INT(err1[e] - err0[e], e == HT_GO_TLS_CLOSED ? 1 : 0);
	}
	n_recs = n_wants = n_lost = 0;
}

/*
 * tls.Client and tls.Server over something that is not a followed
 * socket: no record from their calls, each of the four that moved
 * plaintext (client Write, server Read, server Write, client Read)
 * counted once, by why.
 */
static void go_mismatch(const char *how, enum ht_go_tls_error why)
{
	uint64_t err0[HT_GO_TLS_ERROR_COUNT], err1[HT_GO_TLS_ERROR_COUNT];
	char out[256];
	pid_t child;

	if (!go_ready(0))
		return;
	go_errors_now(err0);
	child = go_run(0, how, out, sizeof(out));
	ASSERT(child > 0);
	go_collect();
	go_errors_now(err1);
	for (int i = 0; i < n_recs; i++) {
		if (recs[i].u.hdr.tgid != (__u32)child)
			continue;
		if (recs[i].u.hdr.type == HT_EV_TLS ||
		    recs[i].u.hdr.type == HT_EV_TLS_DATA) {
			fprintf(stderr, "tlspair %s: a TLS record:\n", how);
			show_rec(&recs[i]);
			unit_failed_checks++;
		}
	}
	for (int k = 0; k < HT_GO_TLS_ERROR_COUNT; k++)
		CHECK_INT(err1[k] - err0[k], k == (int)why ? 4 : 0);
	n_recs = n_wants = n_lost = 0;
}

static void test_go_tls_pipe(void)
{
	go_mismatch("pipe", HT_GO_TLS_NOT_SOCKET);
}

static void test_go_tls_unix(void)
{
	go_mismatch("unix", HT_GO_TLS_UNTRACKED);
}

/* ---- loading ------------------------------------------------------------ */

static int keep(struct bpf_link *link, const char *what, char *err,
		size_t len)
{
	if (!link) {
		snprintf(err, len, "cannot attach %s: %s", what,
			 strerror(errno));
		return -1;
	}
	if (n_links == MAX_LINKS) {
		bpf_link__destroy(link);
		snprintf(err, len, "more than %d links", MAX_LINKS);
		return -1;
	}
	links[n_links++] = link;
	return 0;
}

/*
 * Loads and attaches as src/kernel/tracer.c does in the attach mode
 * `mode`, tracing only this process: the tracer never traces itself
 * (self_tgid), this test only itself.
 */
static int load(char *err, size_t len)
{
	struct bpf_program *prog;
	__u32 me = (__u32)getpid();
	__u8 one = 1;
	int ret;

	variants_probe(&variants, NULL);
	skel = variants_open(&variants, NULL);
	if (!skel) {
		snprintf(err, len, "cannot open the BPF object: %s",
			 strerror(errno));
		return -1;
	}
	skel->rodata->filter_pids = true;
	skel->rodata->self_tgid = 0;
	skel->rodata->capture_cap = HT_DEFAULT_CAPTURE;
	skel->rodata->watch_exec = false;
	skel->rodata->wakeup_bytes = bpf_map__max_entries(skel->maps.events);
	ret = libbpf_num_possible_cpus();
	if (ret > 0)
		bpf_map__set_max_entries(skel->maps.data_scratches, ret);
	variants_select(skel, &variants, attach_mode);
	/* no uprobes here but Go's, as the tracer would load them */
	bpf_object__for_each_program(prog, skel->obj) {
		const char *sec = bpf_program__section_name(prog);

		if ((!strncmp(sec, "uprobe", 6) ||
		     !strncmp(sec, "uretprobe", 9)) &&
		    !go_attach_owns_program(skel, prog))
			bpf_program__set_autoload(prog, false);
	}
	go_multi = variants_tls_cookie(&variants) &&
		   uprobe_multi_supported(go_multi_why, sizeof(go_multi_why));
	if (!variants_tls_cookie(&variants))
		snprintf(go_multi_why, sizeof(go_multi_why), "%s",
			 variants.why[VF_ATTACH_COOKIE]);
	ret = go_attach_select_programs(skel, go_multi);
	if (ret) {
		snprintf(err, len, "cannot set up the Go programs: %s",
			 strerror(-ret));
		return -1;
	}
	ret = httptrace_bpf__load(skel);
	if (ret && !getenv("GO_TLSPAIR")) {
		/* as the tracer: a kernel that refuses the Go programs
		 * is traced without them; the Go tests then fail, unless
		 * there is no Go fixture. With GO_TLSPAIR (make test-bpf,
		 * the kernel guests' "go" case) a refusal fails the load */
		httptrace_bpf__destroy(skel);
		skel = variants_open(&variants, NULL);
		if (!skel) {
			snprintf(err, len, "cannot open the BPF object: %s",
				 strerror(errno));
			return -1;
		}
		skel->rodata->filter_pids = true;
		skel->rodata->self_tgid = 0;
		skel->rodata->capture_cap = HT_DEFAULT_CAPTURE;
		skel->rodata->watch_exec = false;
		skel->rodata->wakeup_bytes =
			bpf_map__max_entries(skel->maps.events);
		if (libbpf_num_possible_cpus() > 0)
			bpf_map__set_max_entries(skel->maps.data_scratches,
						 libbpf_num_possible_cpus());
		variants_select(skel, &variants, attach_mode);
		bpf_object__for_each_program(prog, skel->obj) {
			const char *sec = bpf_program__section_name(prog);

			if (!strncmp(sec, "uprobe", 6) ||
			    !strncmp(sec, "uretprobe", 9))
				bpf_program__set_autoload(prog, false);
		}
		ret = httptrace_bpf__load(skel);
		if (!ret)
			printf("bpf: the Go programs were refused by this "
			       "kernel: loaded without them\n");
	}
	if (ret) {
		snprintf(err, len, "cannot load the BPF programs (%s mode, "
			 "%s): %s", mode, variants.have[VF_ATOMIC_FETCH] ?
			 "numbered" : "unnumbered", strerror(-ret));
		return -1;
	}
	if (bpf_map__update_elem(skel->maps.pid_filter, &me, sizeof(me), &one,
				 sizeof(one), BPF_ANY)) {
		snprintf(err, len, "cannot set the PID filter: %s",
			 strerror(errno));
		return -1;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		if (!bpf_program__autoload(prog) ||
		    prog == skel->progs.sys_exit_io ||
		    go_attach_owns_program(skel, prog))
			continue;
		if (keep(bpf_program__attach(prog),
			 bpf_program__section_name(prog), err, len))
			return -1;
	}
	for (size_t i = 0; i < sizeof(io_exits) / sizeof(io_exits[0]); i++) {
		if (keep(bpf_program__attach_tracepoint(skel->progs.sys_exit_io,
							"syscalls",
							io_exits[i]),
			 io_exits[i], err, len))
			return -1;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, NULL,
			      NULL);
	if (!rb) {
		snprintf(err, len, "cannot read the ring buffer: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static void unload(void)
{
	for (int k = 0; k < 2; k++)
		if (go_handles[k])
			uprobe_handle_close(go_handles[k]);
	ring_buffer__free(rb);
	for (int i = 0; i < n_links; i++)
		bpf_link__destroy(links[i]);
	httptrace_bpf__destroy(skel);
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

#define TEST_TIMEOUT_S 10
static const char *running;

/* A test stuck in a blocking call must not hold the root-tests lock for
 * ever: say which one, and fail the run. */
static void on_alarm(int sig)
{
	static const char msg[] = " did not finish in 10 s\n";

	write(2, "FAIL ", 5);
	write(2, running, strlen(running));
	write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

/* Each test starts with an empty ring and a clock reading (no ring
 * with -l, which only lists). */
#define RUN_BPF(fn)                                                          \
	do {                                                                 \
		if (rb)                                                      \
			ring_buffer__consume(rb);                            \
		n_recs = n_wants = n_lost = 0;                               \
		t_start = now_ns();                                          \
		running = #fn;                                               \
		alarm(TEST_TIMEOUT_S);                                       \
		RUN(fn);                                                     \
		alarm(0);                                                    \
	} while (0)

static void run_all(void)
{
	RUN_BPF(test_connect_accept_close);
	RUN_BPF(test_write_read);
	RUN_BPF(test_ipv6);
	RUN_BPF(test_writev_readv);
	RUN_BPF(test_writev_many_iov);
	RUN_BPF(test_sendto_recvfrom);
	RUN_BPF(test_sendmsg_recvmsg);
	RUN_BPF(test_msg_peek);
	RUN_BPF(test_short_read);
	RUN_BPF(test_nonblocking);
	RUN_BPF(test_nonblocking_connect);
	RUN_BPF(test_connect_refused);
	RUN_BPF(test_accept4);
	RUN_BPF(test_udp_untracked);
	RUN_BPF(test_capture_cap);
	RUN_BPF(test_eof_and_error);
	RUN_BPF(test_ring_full);
	RUN_BPF(test_not_http);
	RUN_BPF(test_h2_data_then_headers);
	RUN_BPF(test_h2_across_records);
	RUN_BPF(test_h2_many_iovecs);
	RUN_BPF(test_h2_iovecs_past_steps);
	RUN_BPF(test_h2_many_frames);
	RUN_BPF(test_h2_data_frames_as_steps);
	RUN_BPF(test_pid_filter);
	RUN_BPF(test_go_tls_pair);
	RUN_BPF(test_go_tls_implicit);
	RUN_BPF(test_go_tls_pie_stripped);
	RUN_BPF(test_go_tls_wrapped);
	RUN_BPF(test_go_tls_closed_mid_read);
	RUN_BPF(test_go_tls_handshake_given_up);
	RUN_BPF(test_go_tls_preempted);
	RUN_BPF(test_go_tls_pipe);
	RUN_BPF(test_go_tls_unix);
	RUN_BPF(test_dns_udp_connected);
	RUN_BPF(test_dns_udp_unconnected);
	RUN_BPF(test_dns_sendmmsg);
	RUN_BPF(test_dns_tcp);
	RUN_BPF(test_dns_other_port);
	RUN_BPF(test_dns_exit_open);
	/* last: counts what the tests above expected */
	RUN_BPF(test_every_io_call_driven);
}

/* build/tests/bpf_test -> build/fixtures/go/tlspair */
static const char *go_default_tlspair(const char *argv0)
{
	static char path[4096];
	const char *slash = strrchr(argv0, '/');
	int dir = slash ? (int)(slash - argv0) : 1;

	snprintf(path, sizeof(path), "%.*s/../fixtures/go/tlspair", dir,
		 slash ? argv0 : ".");
	return path;
}

/* Takes -m MODE out of argv; the rest is unit_args()'s. */
static void mode_arg(int *argc, char **argv)
{
	int n = 1;

	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "-m") && i + 1 < *argc)
			mode = argv[++i];
		else
			argv[n++] = argv[i];
	}
	*argc = n;
	if (!strcmp(mode, "kprobe")) {
		attach_mode = ATTACH_KPROBE;
	} else if (!strcmp(mode, "fentry")) {
		attach_mode = ATTACH_FENTRY;
	} else if (strcmp(mode, "tracepoint")) {
		fprintf(stderr, "-m %s: the attach modes are tracepoint, "
			"kprobe and fentry\n", mode);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	const char *ci = getenv("CI");
	bool in_ci = ci && (!strcmp(ci, "true") || !strcmp(ci, "1") ||
			    !strcmp(ci, "yes"));
	char err[256];

	mode_arg(&argc, argv);
	unit_args(argc, argv);
	go_tlspair = getenv("GO_TLSPAIR");
	go_tlspair_required = go_tlspair && *go_tlspair;
	if (!go_tlspair_required)
		go_tlspair = go_default_tlspair(argv[0]);
	snprintf(go_tlspair_stripped, sizeof(go_tlspair_stripped),
		 "%s-pie-stripped", go_tlspair);
	if (unit_sel.list) {
		run_all();
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	prctl(PR_GET_NAME, my_comm);
	my_cgroup = find_my_cgroup();
	libbpf_set_print(quiet_libbpf);
	if (geteuid() != 0)
		snprintf(err, sizeof(err), "needs root to load BPF programs");
	else if (load(err, sizeof(err)) == 0)
		err[0] = 0;
	if (err[0]) {
		if (in_ci) {
			printf("bpf: FAILED: %s (CI=true: a skip is a "
			       "failure)\n", err);
			return 1;
		}
		printf("bpf: SKIP: %s\n", err);
		return 0;
	}
	for (int i = 0; i < VF_COUNT; i++) {
		char what[200];

		printf("bpf: %s mode, %s\n", mode,
		       variants_chosen(&variants, i, what, sizeof(what)));
	}
	printf("bpf: Go probes through %s%s%s\n", go_multi ?
	       "uprobe_multi links" : "a perf-event link each",
	       go_multi ? "" : ": ", go_multi ? "" : go_multi_why);
	run_all();
	unload();
	return unit_done("bpf");
}
