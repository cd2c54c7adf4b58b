/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * TLS libraries (uprobes on OpenSSL and GnuTLS): the plaintext of each
 * read and write, and the handshake calls.
 *
 * A TLS session (SSL *, gnutls_session_t) is tied to its socket without
 * reading any library struct: while a thread is inside a TLS call (its
 * tls_calls slot has a depth), a read/write syscall on a tracked socket
 * names the fd (tls_note_io(), called from on_io_enter). The tie stays in
 * ssl_conns for the calls that move no bytes on the socket (a read served
 * from the library's buffer).
 *
 * Entry saves {session, buffer, length out-parameter}; return copies the
 * first capture_cap bytes of what was moved into an HT_EV_TLS_DATA
 * record on the session's connection, sharing its sequence numbers.
 */
#ifndef HTTPTRACE_TLS_BPF_H
#define HTTPTRACE_TLS_BPF_H

#include "httptrace_tls_probes.h"
#include "h2.bpf.h"
#include "maps.bpf.h"

enum tls_call_op {
	TLS_CALL_WRITE = 0,
	TLS_CALL_READ,
	TLS_CALL_PEEK,      /* bytes stay for the next read: not reported */
	TLS_CALL_HANDSHAKE,
	TLS_CALL_SHUTDOWN,  /* only ties the socket (close_notify) */
	TLS_CALL_VERIFY,    /* SSL_get_verify_result,
			     * gnutls_certificate_verify_peers2/3 */
	TLS_CALL_FREE,      /* SSL_free, gnutls_deinit: never in a frame */
	TLS_CALL_HANDSHAKE_START, /* Go: handshakeContext entered */
};

struct tls_call {
	__u64 session;
	__u64 buf;
	__u64 lenp;  /* *_ex: size_t *written / *readbytes */
	__u64 ts;
	__u32 folded; /* inner calls counted into this one (SSL_connect
		       * calls SSL_do_handshake: one call) */
	__u8 op;     /* enum tls_call_op */
	__u8 lib;    /* enum ht_tls_lib */
	__u8 _pad[2];
};

/*
 * The TLS calls a thread is inside, innermost last. Calls nest: Node
 * runs its 'secureConnect' callbacks inside the SSL_read that finishes
 * the handshake, and fetch, npm and tls.connect(..., () => s.write())
 * write the request right there, so an SSL_write runs inside an
 * SSL_read and must be reported with its own buffer.
 */
#define TLS_CALL_FRAMES 4 /* a power of two: the index is masked */

struct tls_calls_slot {
	struct tls_call frame[TLS_CALL_FRAMES];
	__u32 depth; /* frames in use; 0: no call in flight */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_THREADS);
	__type(key, __u32); /* tid */
	__type(value, struct tls_calls_slot);
} tls_calls SEC(".maps");

/* The innermost call in flight, or NULL. */
static __always_inline struct tls_call *tls_top(struct tls_calls_slot *slot)
{
	__u32 d = slot->depth;

	if (!d || d > TLS_CALL_FRAMES)
		return NULL;
	return &slot->frame[(d - 1) & (TLS_CALL_FRAMES - 1)];
}

struct ssl_key {
	__u32 tgid;
	__u32 _pad;
	__u64 session;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_CONNS);
	__type(key, struct ssl_key);
	__type(value, struct ht_conn_id);
} ssl_conns SEC(".maps");

/*
 * Libraries that encrypt into memory (Node: OpenSSL with memory BIOs,
 * the event loop moves the bytes) make no socket call inside the TLS
 * call. For those, the last session a thread used without a tie is
 * tied to the next untied socket that thread does I/O on, soon after:
 * the event loop writes what the call produced right away.
 */
struct tls_last {
	__u64 session;
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_THREADS);
	__type(key, __u32); /* tid */
	__type(value, struct tls_last);
} tls_lasts SEC(".maps");

#define TLS_LAST_WINDOW_NS (50ull * 1000 * 1000)
#define TLS_STALE_NS (2ull * 1000 * 1000 * 1000)

static __always_inline bool tls_op_moves_data(enum tls_call_op op)
{
	return op == TLS_CALL_WRITE || op == TLS_CALL_READ;
}

static __always_inline void on_tls_enter(__u64 session, __u64 buf, __u64 lenp,
					 enum tls_call_op op,
					 enum ht_tls_lib lib)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct tls_calls_slot *slot, idle = {};
	struct tls_call *top, *cur;
	__u64 now = bpf_ktime_get_ns();
	__u32 d;

	if (!session || !want_current(pid_tgid >> 32))
		return;
	slot = thread_slot(&tls_calls, tid, &idle);
	if (!slot)
		return;
	top = tls_top(slot);
	/* Frames left by returns we never saw (a thread killed mid-call)
	 * are old: the stack starts over. */
	if (top && now - top->ts >= TLS_STALE_NS)
		top = NULL;
	d = top ? slot->depth : 0;
	/*
	 * A call inside another one gets a frame of its own when it moves
	 * other data: a write inside a read (Node), or any call on another
	 * session. The rest is part of the outer call and only counted, so
	 * that its return is not taken for the outer's: SSL_connect calling
	 * SSL_do_handshake, Node asking SSL_get_verify_result inside
	 * SSL_write, an SSL_read_ex built on SSL_read. So is any call
	 * beyond the last frame.
	 */
	if (top && (d >= TLS_CALL_FRAMES ||
		    (top->session == session &&
		     !(tls_op_moves_data(op) && op != top->op)))) {
		top->folded++;
		return;
	}
	cur = &slot->frame[d & (TLS_CALL_FRAMES - 1)];
	cur->session = session;
	cur->buf = buf;
	cur->lenp = lenp;
	cur->ts = now;
	cur->folded = 0;
	cur->op = op;
	cur->lib = lib;
	slot->depth = d + 1;
}

/* From on_io_enter: a syscall on a tracked socket. Inside a TLS call, it
 * names the session's socket. */
static __always_inline void tls_note_io(__u32 tid, const struct conn_key *key,
					struct conn_state *st)
{
	struct tls_calls_slot *slot = bpf_map_lookup_elem(&tls_calls, &tid);
	struct tls_call *call = slot ? tls_top(slot) : NULL;
	struct ssl_key sk;
	struct ht_conn_id *cur, id;

	sk.tgid = key->tgid;
	sk._pad = 0;
	if (call) {
		sk.session = call->session;
	} else {
		struct tls_last *last;

		if (st->tls_tied)
			return;
		last = bpf_map_lookup_elem(&tls_lasts, &tid);
		if (!last)
			return;
		sk.session = last->session;
		if (bpf_ktime_get_ns() - last->ts > TLS_LAST_WINDOW_NS) {
			bpf_map_delete_elem(&tls_lasts, &tid);
			return;
		}
		bpf_map_delete_elem(&tls_lasts, &tid);
		if (bpf_map_lookup_elem(&ssl_conns, &sk))
			return; /* tied meanwhile */
	}
	st->tls_tied = 1;
	cur = bpf_map_lookup_elem(&ssl_conns, &sk);
	if (cur && cur->fd == key->fd && cur->gen == st->gen)
		return;
	id.tgid = key->tgid;
	id.fd = key->fd;
	id.gen = st->gen;
	bpf_map_update_elem(&ssl_conns, &sk, &id, BPF_ANY);
}

static __always_inline void on_tls_free(__u64 session)
{
	struct ssl_key sk = { .tgid = bpf_get_current_pid_tgid() >> 32,
			      .session = session };

	bpf_map_delete_elem(&ssl_conns, &sk);
}

/* The n-th integer argument (httptrace_tls_probes.h), 0 for none. */
#define TLS_ARG(n) ((n) == 1 ? a1 : (n) == 2 ? a2 : (n) == 3 ? a3 : 0)

#define TLS_PROBE_CASE(id, prog, lib_, op_, buf_arg, lenp_arg)               \
	case HT_TLSP_##id:                                                   \
		op = TLS_CALL_##op_, lib = lib_;                             \
		buf = TLS_ARG(buf_arg), lenp = TLS_ARG(lenp_arg);            \
		break;

/*
 * Entry of a probed TLS function (enum ht_tls_probe), its first four
 * integer arguments as they are: which of them are the session, the
 * buffer and the length out-parameter, per function, comes from
 * HT_TLS_PROBES. With a constant `probe` (a program per function) the
 * compiler keeps one case.
 */
static __always_inline void on_tls_probe(__u64 probe, __u64 a0, __u64 a1,
					 __u64 a2, __u64 a3)
{
	enum ht_tls_lib lib;
	__u64 buf, lenp;
	enum tls_call_op op;

	switch (probe) {
	HT_TLS_PROBES(TLS_PROBE_CASE)
	default:
		return;
	}
	if (op == TLS_CALL_FREE) {
		on_tls_free(a0);
		return;
	}
	on_tls_enter(a0, buf, lenp, op, lib);
}

static __always_inline void emit_tls_event(const struct tls_call *call,
					   const struct ht_conn_id *id,
					   struct conn_state *st, long ret)
{
	struct ht_tls_event *ev;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		conn_seq_lost_untaken(st);
		count_drop(HT_DROP_CONN);
		return;
	}
	fill_header(&ev->hdr, HT_EV_TLS, bpf_ktime_get_ns());
	ev->conn = *id;
	ev->seq = conn_seq_take(st);
	ev->lib = call->lib;
	ev->op = call->op == TLS_CALL_VERIFY ? HT_TLS_OP_VERIFY :
		 call->op == TLS_CALL_HANDSHAKE_START ?
			 HT_TLS_OP_HANDSHAKE_START : HT_TLS_OP_HANDSHAKE;
	ev->_pad = 0;
	ev->enter_ns = call->ts;
	ev->ret = ret;
	ev->session = call->session;
	bpf_ringbuf_submit(ev, rb_flags());
}

static __always_inline void emit_tls_data(const struct tls_call *call,
					  const struct ht_conn_id *id,
					  struct conn_state *st, long n)
{
	__u32 cpu = bpf_get_smp_processor_id(), want, got = 0;
	struct data_scratch *scratch;
	struct ht_data_event *ev;
	__u8 dir;
	bool h2;

	scratch = bpf_map_lookup_elem(&data_scratches, &cpu);
	if (!scratch)
		return;
	ev = (struct ht_data_event *)scratch->bytes;
	dir = call->op == TLS_CALL_WRITE ? HT_DIR_EGRESS : HT_DIR_INGRESS;
	h2 = st->h2;
	want = h2 ? 0 : n < capture_cap ? n : capture_cap;
	if (want > HT_MAX_CAPTURE)
		want = HT_MAX_CAPTURE;
	/* a bound the verifier of 5.10 follows whatever the compiler did
	 * with the one above (it changes no value) */
	asm volatile("" : "+r"(want));
	want &= 2 * HT_MAX_CAPTURE - 1;
	if (want && !bpf_probe_read_user(ev->data, want, (void *)call->buf))
		got = want;
	/* the session's first plaintext: HTTP/2 has its frames followed
	 * from this record on (made again) */
	if (got && !st->tls_app_data && h2_starts(ev->data, got)) {
		st->h2 = 1;
		h2 = true;
	}
	ev->flags = 0;
	if (h2 && capture_cap)
		got = h2_capture(st, dir, call->buf, 0, n, ev, scratch);
	if (got > HT_MAX_CAPTURE)
		got = HT_MAX_CAPTURE;
	if (n > 0)
		st->tls_app_data = 1;
	fill_header(&ev->hdr, HT_EV_TLS_DATA, bpf_ktime_get_ns());
	ev->conn = *id;
	ev->seq = conn_seq_take(st);
	ev->direction = dir;
	ev->call = call->lib;
	ev->enter_ns = call->ts;
	ev->ret = n;
	ev->captured_len = got;
	ev->_pad2 = 0;
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev) + got, rb_flags())) {
		conn_seq_lost(st, ev->seq);
		count_drop(HT_DROP_CONN);
	}
}

static __always_inline void on_tls_exit(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct tls_calls_slot *slot;
	struct tls_call *cur, call;
	struct ssl_key sk;
	struct ht_conn_id *id;
	struct conn_key key;
	struct conn_state *st;
	long n = ret;

	slot = bpf_map_lookup_elem(&tls_calls, &tid);
	if (!slot)
		return;
	cur = tls_top(slot);
	if (!cur)
		return;
	if (cur->folded) {
		cur->folded--;
		return;
	}
	call = *cur;
	slot->depth--;
	/* Most of these functions return int: the upper half of the
	 * register is not part of the value. gnutls_record_send/recv
	 * return ssize_t, SSL_get_verify_result long. */
	if (!(call.lib == HT_TLS_GNUTLS &&
	      (call.op == TLS_CALL_WRITE || call.op == TLS_CALL_READ)) &&
	    call.op != TLS_CALL_VERIFY)
		ret = (long)(int)ret;
	n = ret;
	if (call.op == TLS_CALL_PEEK || call.op == TLS_CALL_SHUTDOWN)
		return;
	sk.tgid = pid_tgid >> 32;
	sk._pad = 0;
	sk.session = call.session;
	id = bpf_map_lookup_elem(&ssl_conns, &sk);
	if (!id) {
		/* no socket I/O inside the call: the next one may tell */
		struct tls_last last = { .session = call.session,
					 .ts = bpf_ktime_get_ns() };

		bpf_map_update_elem(&tls_lasts, &tid, &last, BPF_ANY);
		return;
	}
	key.tgid = id->tgid;
	key.fd = id->fd;
	st = bpf_map_lookup_elem(&conns, &key);
	if (!st || st->gen != id->gen)
		return;
	if (call.op == TLS_CALL_VERIFY && call.lib == HT_TLS_GNUTLS) {
		/* gnutls_certificate_verify_peers2/3: 0 and the verdict
		 * (gnutls_certificate_status_t bits) in *status, or a
		 * negative error: reported as the verdict, or the error */
		__u32 status = 0;

		if (!ret && (!call.lenp ||
			     bpf_probe_read_user(&status, sizeof(status),
						 (void *)call.lenp)))
			return;
		if (!ret)
			ret = status;
	}
	if (call.op == TLS_CALL_HANDSHAKE || call.op == TLS_CALL_VERIFY) {
		emit_tls_event(&call, id, st, ret);
		return;
	}
	if (call.lenp) {
		/* SSL_read_ex/SSL_write_ex: 1 and the count in *lenp */
		__u64 moved = 0;

		if (ret != 1 || bpf_probe_read_user(&moved, sizeof(moved),
						    (void *)call.lenp))
			return;
		n = (long)moved;
	}
	/* errors and "would block" say nothing about the plaintext; the
	 * socket's own records carry EOF and resets */
	if (n <= 0)
		return;
	emit_tls_data(&call, id, st, n);
}

#endif /* HTTPTRACE_TLS_BPF_H */
