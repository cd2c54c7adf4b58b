/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Go's crypto/tls: the plaintext of (*tls.Conn).Write and Read, and the
 * handshake (handshakeContext), from uprobes at each function's entry
 * and at each of its RET instructions (src/discover/go_locate.h): never
 * uretprobes, which rewrite a return address on a stack the Go runtime
 * moves, and crash it.
 *
 * Go 1.17+ register ABI: at the entry the receiver c (*tls.Conn) is in
 * RAX, the []byte's pointer and length in RBX and RCX; at a RET the
 * (int, error) results are in RAX, RBX, RCX, handshakeContext's error in
 * RAX (type word, 0 for nil) and RBX. R14 holds the goroutine (g)
 * throughout, and a call is kept by goroutine, not thread: a goroutine
 * blocked in Read moves between threads.
 *
 * The socket is found through Go's structs (include/httptrace_go_tls.h)
 * and must be one the tracer follows in that process (conns); else the
 * call is counted (go_tls_errors) and makes no record: a wrong fd must
 * never put plaintext on another connection's timeline. The records are
 * a C library's (tls.bpf.h), lib HT_TLS_GO: a Read's and the handshake's
 * at the RET, a Write's at its entry (go_write_now()).
 */
#ifndef HTTPTRACE_GO_TLS_BPF_H
#define HTTPTRACE_GO_TLS_BPF_H

/* go_locate.h is userspace's: vmlinux.h has what its libc headers
 * would bring (bool, size_t, uint64_t), and those do not build for the
 * BPF target */
#define __STDDEF_H
#define __STDBOOL_H
#define __CLANG_STDINT_H
#include "src/discover/go_locate.h"
#include "httptrace_go_tls.h"
#include "tls.bpf.h"

/* Set by the loader (src/kernel/go_attach.c); the defaults hold from
 * Go 1.17 to 1.26 (include/httptrace_go_tls.h). */
const volatile __u32 go_tls_conn_data_off = HT_GO_TLS_CONN_DATA_OFF;
const volatile __u32 go_net_conn_fd_off = HT_GO_NET_CONN_FD_OFF;
const volatile __u32 go_netfd_sysfd_off = HT_GO_NETFD_SYSFD_OFF;

/*
 * The probed calls a goroutine is inside, innermost last. Only one shape
 * nests: Write or Read runs handshakeContext first, on the same
 * tls.Conn (a no-op once the handshake is done). So a Read or Write
 * starts the stack over: a frame left below it is a call whose return
 * was never seen (a panic unwinds without a RET).
 */
#define GO_FRAMES 2 /* a power of two: the index is masked */

/*
 * The socket is the one at the entry: by the RET, the call's own read
 * from the socket may be done and another goroutine may have closed it
 * (Go's Sysfd then -1, the fd number perhaps another socket's already).
 * A call is reported on the connection it started on, or counted.
 */
struct go_frame {
	__u64 c;    /* *tls.Conn */
	__u64 buf;  /* Write/Read: the []byte's data */
	__u64 ts;   /* entry */
	__u64 sp;   /* entry: the return address's slot, as its distance
		     * from the top of the goroutine's stack */
	__u64 gen;  /* the socket's generation at the entry */
	__s32 fd;   /* the socket at the entry, when why is 0 */
	__u8 fn;    /* enum go_func_id */
	__u8 done;  /* reported (or counted) at the entry */
	__u8 why;   /* no followed socket at the entry: enum
		     * ht_go_tls_error + 1 */
	__u8 _pad;
};

struct go_stack {
	struct go_frame frame[GO_FRAMES];
	__u32 depth;
	__u32 _pad;
};

struct go_goroutine {
	__u32 tgid;
	__u32 _pad;
	__u64 g;
};

/* A server may have a Read in flight on each of its connections. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_CONNS);
	__type(key, struct go_goroutine);
	__type(value, struct go_stack);
} go_calls SEC(".maps");

/* Calls that made no record, by enum ht_go_tls_error. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HT_GO_TLS_ERROR_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} go_tls_errors SEC(".maps");

/*
 * A call on a goroutine's stack entered again with the same arguments,
 * at the same depth in its stack, is the same call, started over from
 * its entry: by runtime.morestack from the prologue (a stack that must
 * grow, copied elsewhere), or by a preemption there (asyncPreempt, or
 * morestack asked to yield), as late as the scheduler (Go's, or the
 * kernel's for the thread) gets back to it. Its first entry is when it
 * began. The time alone says so for a goroutine whose stack could not
 * be read.
 */
#define GO_REENTRY_NS (10ull * 1000 * 1000)

static __always_inline void go_count_error(enum ht_go_tls_error e)
{
	__u32 key = e;
	__u64 *n = bpf_map_lookup_elem(&go_tls_errors, &key);

	/* per-CPU, yet atomic: a uprobe's program runs with preemption
	 * on, so another task's program can take the CPU between the load
	 * and the store (seen as one count short on sid's 7.2, whose
	 * preemption is lazy). An add whose result is unused is BPF_XADD,
	 * which every kernel has. */
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* The net.Conn types of the Go programs attached, by hash
 * (include/httptrace_go_tls.h): filled by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HT_GO_CONN_TYPES_MAX);
	__type(key, __u32);
	__type(value, struct ht_go_conn_type);
} go_conn_types SEC(".maps");

/* Go's itab: Inter, Type, then Hash (the type's) */
#define GO_ITAB_HASH_OFF 16

/*
 * The fd under a *tls.Conn: from its net.Conn, through the wrappers the
 * loader knows, to a *net.TCPConn and its netFD. Returns the fd, or -1 -
 * the reason there is none (enum ht_go_tls_error): a chain that does not
 * lead to an fd (HT_GO_TLS_NOT_SOCKET), a socket Go closed
 * (HT_GO_TLS_UNTRACKED). A global function: verified once, on its own.
 */
__noinline int go_conn_sysfd(__u64 c)
{
	__u64 iface[2]; /* the net.Conn: itab, data */
	__u64 at = c + go_tls_conn_data_off - 8, tcp = 0, netfd = 0;
	__s64 fd = -1;

	for (int level = 0; level < HT_GO_CONN_LEVELS; level++) {
		struct ht_go_conn_type *t;
		__u32 hash = 0;

		if (bpf_probe_read_user(iface, sizeof(iface), (void *)at) ||
		    !iface[0] || !iface[1] ||
		    bpf_probe_read_user(&hash, sizeof(hash),
					(void *)(iface[0] + GO_ITAB_HASH_OFF)))
			return -1 - HT_GO_TLS_NOT_SOCKET;
		t = bpf_map_lookup_elem(&go_conn_types, &hash);
		if (!t) {
			/* a wrapper's connection must be of a type the
			 * loader knows; the tls.Conn's own, unknown, is read
			 * as a *net.TCPConn (types the loader could not
			 * read), and must lead to a followed socket */
			if (level)
				return -1 - HT_GO_TLS_NOT_SOCKET;
			tcp = iface[1];
			break;
		}
		if (t->kind == HT_GO_CONN_TCP) {
			tcp = iface[1];
			break;
		}
		if (t->kind == HT_GO_CONN_IFACE) {
			at = iface[1] + t->off;
			continue;
		}
		if (t->kind != HT_GO_CONN_TCP_PTR ||
		    bpf_probe_read_user(&tcp, sizeof(tcp),
					(void *)(iface[1] + t->off)))
			return -1 - HT_GO_TLS_NOT_SOCKET;
		break;
	}
	if (!tcp ||
	    bpf_probe_read_user(&netfd, sizeof(netfd),
				(void *)(tcp + go_net_conn_fd_off)) ||
	    !netfd ||
	    bpf_probe_read_user(&fd, sizeof(fd),
				(void *)(netfd + go_netfd_sysfd_off)) ||
	    fd < -1 || fd > 0x7fffffff)
		return -1 - HT_GO_TLS_NOT_SOCKET;
	if (fd == -1) /* closed: poll.FD's destroy() */
		return -1 - HT_GO_TLS_UNTRACKED;
	return (int)fd;
}

/* The followed socket under c, or NULL (the reason in *why). */
static __always_inline struct conn_state *go_conn(__u64 c,
						  struct conn_key *key,
						  int *why)
{
	int fd = go_conn_sysfd(c);
	struct conn_state *st;

	if (fd < 0) {
		*why = -1 - fd;
		return NULL;
	}
	key->tgid = bpf_get_current_pid_tgid() >> 32;
	key->fd = fd;
	st = bpf_map_lookup_elem(&conns, key);
	if (!st)
		*why = HT_GO_TLS_UNTRACKED;
	return st;
}

/*
 * A Go call's plaintext record (emit_tls_data()), as a global function:
 * the verifier checks it once, on its own, rather than once for each
 * path of the caller that leads to it, which put the RET program near
 * its limit of a million instructions, and past it on 5.10. Its
 * arguments can only be scalars there: conn is the socket's {tgid, fd},
 * n_read the count moved, shifted left once, with 1 for a Read. The
 * connection must still be of generation gen.
 */
__noinline int go_emit_data(__u64 conn, __u64 gen, __u64 buf, __u64 ts,
			    __u64 n_read)
{
	struct conn_key key = { .tgid = conn >> 32, .fd = (__s32)conn };
	struct ht_conn_id id = { .tgid = key.tgid, .fd = key.fd, .gen = gen };
	struct tls_call call = {};
	struct conn_state *st;
	long n = (long)(n_read >> 1);

	st = bpf_map_lookup_elem(&conns, &key);
	if (!st || st->gen != gen || n <= 0)
		return 0;
	call.buf = buf;
	call.ts = ts;
	call.lib = HT_TLS_GO;
	call.op = n_read & 1 ? TLS_CALL_READ : TLS_CALL_WRITE;
	emit_tls_data(&call, &id, st, n);
	return 1;
}

/* conn_state.go_hs: what the connection's records said of Go's
 * handshake so far */
enum go_hs_state {
	GO_HS_NONE = 0,
	GO_HS_STARTED,  /* the start record went out */
	GO_HS_DONE,     /* handshakeContext returned nil */
	GO_HS_FAILED,   /* ...or an error: Go keeps returning it */
};

static __always_inline __u64 go_conn_word(__u32 tgid, __s32 fd)
{
	return (__u64)tgid << 32 | (__u32)fd;
}

/*
 * A Write's plaintext is reported at its entry, when the connection's
 * handshake is done: Go writes from one goroutine and reads from
 * another, and the writer may come back from its RET after the reader
 * has the answer (HTTP/2: a response before its request, on a busy
 * machine). At the entry the record takes its place in the
 * connection's sequence before the bytes can reach the peer. Go's
 * Write moves all of b or fails (the socket's records then say how).
 * Before the handshake is done (a Write that makes it) the record waits
 * for the RET, after the handshake's. Returns whether the call is
 * reported or counted.
 */
static __always_inline __u32 go_write_now(const struct go_frame *f,
					  const struct conn_state *st, __u32 tgid,
					  long n)
{
	/* no followed socket: counted at the RET, if bytes moved (a
	 * Write racing the connection's close moves none) */
	if (n <= 0 || !st || st->go_hs != GO_HS_DONE)
		return 0;
	return go_emit_data(go_conn_word(tgid, f->fd), f->gen, f->buf, f->ts,
			    (__u64)n << 1);
}

/*
 * The first handshakeContext of a connection says so at its entry: a
 * dial that net/http gives up on (another connection served the
 * request) has its socket closed inside the call, so its RET finds no
 * connection to report on, and without this record the connection
 * would read as a TLS library the tracer does not hook.
 */
static __always_inline void go_handshake_started(const struct go_frame *f,
						 struct conn_state *st,
						 __u32 tgid)
{
	struct tls_call call = {
		.session = f->c,
		.ts = f->ts,
		.op = TLS_CALL_HANDSHAKE_START,
		.lib = HT_TLS_GO,
	};
	struct ht_conn_id id = { .tgid = tgid, .fd = f->fd, .gen = f->gen };

	st->go_hs = GO_HS_STARTED;
	emit_tls_event(&call, &id, st, 0);
}

static __always_inline void on_go_entry(__u32 fn, struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct go_goroutine key = { .tgid = pid_tgid >> 32, .g = ctx->r14 };
	struct go_stack *stack, idle = {};
	struct go_frame *f;
	struct conn_key ck;
	struct conn_state *st;
	int why;
	__u64 c = ctx->ax, buf = ctx->bx, sp = ctx->sp, hi = 0;
	__u64 now = bpf_ktime_get_ns();
	__u32 d;

	if (!c || !key.g || fn >= GO_FN_COUNT || !want_current(key.tgid))
		return;
	/* runtime.g begins with its stack {lo, hi}: a stack that grows is
	 * copied whole, each frame as far from hi as before */
	if (!bpf_probe_read_user(&hi, sizeof(hi), (void *)(key.g + 8)))
		sp = hi - sp;
	/* every call gets a frame, even a handshake that will return at
	 * once: each RET takes one off */
	if (fn == GO_FN_TLS_HANDSHAKE)
		buf = 0;
	stack = bpf_map_lookup_elem(&go_calls, &key);
	if (!stack) {
		bpf_map_update_elem(&go_calls, &key, &idle, BPF_ANY);
		stack = bpf_map_lookup_elem(&go_calls, &key);
		if (!stack)
			return;
	}
	d = stack->depth;
	if (d > GO_FRAMES)
		d = 0;
	if (d) {
		f = &stack->frame[(d - 1) & (GO_FRAMES - 1)];
		if (f->fn == fn && f->c == c && f->buf == buf &&
		    (f->sp == sp || now - f->ts < GO_REENTRY_NS))
			return; /* the same call */
	}
	/* only a handshake inside a Read or Write of the same conn is a
	 * call inside another; anything else below is stale */
	if (!(fn == GO_FN_TLS_HANDSHAKE && d == 1 &&
	      stack->frame[0].fn != GO_FN_TLS_HANDSHAKE &&
	      stack->frame[0].c == c))
		d = 0;
	f = &stack->frame[d & (GO_FRAMES - 1)];
	f->c = c;
	f->buf = buf;
	f->ts = now;
	f->sp = sp;
	f->fn = fn;
	f->done = 0;
	st = go_conn(c, &ck, &why);
	f->fd = st ? ck.fd : -1;
	f->gen = st ? st->gen : 0;
	f->why = st ? 0 : why + 1;
	stack->depth = d + 1;
	if (fn == GO_FN_TLS_WRITE)
		f->done = go_write_now(f, st, key.tgid, (long)ctx->cx);
	else if (fn == GO_FN_TLS_HANDSHAKE && st && st->go_hs == GO_HS_NONE &&
		 !st->tls_app_data)
		go_handshake_started(f, st, key.tgid);
}

/* At a RET of a probed function: the innermost call of the goroutine
 * returns. */
static __always_inline void on_go_ret(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct go_goroutine key = { .tgid = pid_tgid >> 32, .g = ctx->r14 };
	struct go_stack *stack = bpf_map_lookup_elem(&go_calls, &key);
	struct go_frame *f;
	struct tls_call call = {};
	struct ht_conn_id id;
	struct conn_key ck;
	struct conn_state *st;
	long ret = (long)ctx->ax;
	__u32 d, fn, why;

	if (!stack)
		return;
	d = stack->depth;
	if (!d || d > GO_FRAMES)
		return;
	f = &stack->frame[(d - 1) & (GO_FRAMES - 1)];
	stack->depth = d - 1;
	if (f->done)
		return;
	fn = f->fn;
	call.session = f->c;
	call.buf = f->buf;
	call.ts = f->ts;
	call.lib = HT_TLS_GO;
	if (fn == GO_FN_TLS_HANDSHAKE) {
		call.op = TLS_CALL_HANDSHAKE;
		/* the error's type word: nil or not */
		ret = ret ? 1 : 0;
	} else {
		call.op = fn == GO_FN_TLS_WRITE ? TLS_CALL_WRITE :
						  TLS_CALL_READ;
		/* errors and EOF say nothing about the plaintext; the
		 * socket's own records carry them */
		if (ret <= 0)
			return;
	}
	why = f->why;
	ck.tgid = key.tgid;
	ck.fd = f->fd;
	id.tgid = key.tgid;
	id.fd = f->fd;
	id.gen = f->gen;
	st = why ? NULL : bpf_map_lookup_elem(&conns, &ck);
	if (!st || st->gen != id.gen) {
		/* a handshake is made by each Read and Write: their own
		 * count is the one that says */
		if (fn != GO_FN_TLS_HANDSHAKE)
			go_count_error(why ? why - 1 : HT_GO_TLS_CLOSED);
		return;
	}
	/* after the first, a handshake returns at once (Read and Write
	 * call it each time): nothing to report */
	if (fn == GO_FN_TLS_HANDSHAKE &&
	    (st->go_hs >= GO_HS_DONE || st->tls_app_data))
		return;
	/* its socket's bytes are ciphertext: as a C library's session
	 * tied to it (data.bpf.h) */
	st->tls_tied = 1;
	if (fn == GO_FN_TLS_HANDSHAKE) {
		st->go_hs = ret ? GO_HS_FAILED : GO_HS_DONE;
		emit_tls_event(&call, &id, st, ret);
		return;
	}
	go_emit_data(go_conn_word(ck.tgid, ck.fd), id.gen, call.buf, call.ts,
		     (__u64)ret << 1 | (fn == GO_FN_TLS_READ));
}

#endif /* HTTPTRACE_GO_TLS_BPF_H */
