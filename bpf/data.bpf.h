/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Plaintext data on tracked sockets: the read/write syscall family.
 * Entry records where the buffer is; exit (when the byte count is known)
 * copies the first capture_cap bytes into a record.
 */
#ifndef HTTPTRACE_DATA_BPF_H
#define HTTPTRACE_DATA_BPF_H

#include "httptrace_first_bytes.h"
#include "dns_wire.bpf.h"
#include "h2.bpf.h"
#include "maps.bpf.h"
#include "tls.bpf.h"

#define EAGAIN 11
#define EINTR 4
#define MSG_PEEK 2
#define MSG_TRUNC 0x20

/*
 * By shape (httptrace_io_syscalls.h): which calls' buffer argument is a
 * struct user_msghdr, and which move their bytes through an iovec array
 * (IOV, and MSG once the msghdr is read). With a constant call, as in
 * each entry program, the test folds away.
 */
#define IO_MSG_TEST(name, call, value, dir, shape, peek_arg)                 \
	IO_MSG_TEST_##shape(call)
#define IO_MSG_TEST_BUF(c)
#define IO_MSG_TEST_IOV(c)
#define IO_MSG_TEST_MSG(c) || call == c

static __always_inline bool io_call_has_msghdr(enum ht_io_call call)
{
	return 0 HT_IO_SYSCALLS(IO_MSG_TEST);
}

#define IO_IOVEC_CASE(name, call, value, dir, shape, peek_arg)               \
	IO_IOVEC_CASE_##shape(call)
#define IO_IOVEC_CASE_BUF(c)
#define IO_IOVEC_CASE_IOV(c) case c:
#define IO_IOVEC_CASE_MSG(c) case c:

static __always_inline bool io_call_has_iovec(__u8 call)
{
	switch (call) {
	HT_IO_SYSCALLS(IO_IOVEC_CASE)
		return true;
	default:
		return false;
	}
}

/* What a user iovec looks like; struct iovec in vmlinux.h is the
 * kernel's view with __user pointers, same layout. */
struct user_iovec {
	__u64 base;
	__u64 len;
};

/* Entry of a read/write-family syscall: is the fd one we track? This runs
 * for every such syscall on the host, so it is one hash lookup and out
 * (and dns_wire.bpf.h's check of untracked fds). `name` is sendto and
 * recvfrom's address argument, 0 for the other calls. */
static __always_inline void on_io_enter(int fd, __u64 buf, __u32 iovcnt,
					enum ht_io_call call,
					enum ht_direction dir, __u64 name)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct conn_key key = { .tgid = pid_tgid >> 32, .fd = fd };
	struct conn_state *st = bpf_map_lookup_elem(&conns, &key);
	__u32 tid = (__u32)pid_tgid;

	if (!st) {
		dns_io_enter(fd, buf, iovcnt, call, dir, name,
			     io_call_has_msghdr(call));
		return;
	}
	tls_note_io(tid, &key, st);
	if (st->not_http)
		return;
	if (io_call_has_msghdr(call)) {
		struct user_msghdr msg;

		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)buf))
			return;
		buf = (__u64)msg.msg_iov;
		iovcnt = msg.msg_iovlen;
	}
	active_io_begin(tid, key.tgid, fd, st->gen, buf, iovcnt, call, dir, 0,
			0);
}

/* Copies up to `want` bytes from a user iovec array into out. */
static __always_inline __u32 copy_iovecs(__u8 *out, __u64 iov_ptr,
					 __u32 iovcnt, __u32 want)
{
	__u32 off = 0;

	for (int i = 0; i < HT_MAX_IOV; i++) {
		struct user_iovec iov;
		__u32 chunk;

		if (i >= iovcnt || off >= want)
			break;
		if (bpf_probe_read_user(&iov, sizeof(iov),
					(void *)(iov_ptr + i * sizeof(iov))))
			break;
		chunk = want - off;
		if (iov.len < chunk)
			chunk = iov.len;
		/* both bounded by HT_MAX_CAPTURE, and the buffer is twice
		 * that: the verifier can prove the copy stays inside */
		off &= HT_MAX_CAPTURE - 1;
		if (chunk > HT_MAX_CAPTURE)
			chunk = HT_MAX_CAPTURE;
		if (bpf_probe_read_user(out + off, chunk, (void *)iov.base))
			break;
		off += chunk;
	}
	return off;
}

static __always_inline __u32 h2_capture_io(struct conn_state *st,
					   const struct active_io *io,
					   long ret, struct ht_data_event *ev,
					   struct data_scratch *scratch)
{
	bool iov = io_call_has_iovec(io->call);

	return h2_capture(st, io->direction, io->buf,
			  iov ? (io->iovcnt ? io->iovcnt : 1) : 0, ret, ev,
			  scratch);
}

static __always_inline void on_io_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct conn_key key;
	struct conn_state *st;
	struct data_scratch *scratch;
	struct ht_data_event *ev;
	struct active_io *io;
	__u32 cpu = bpf_get_smp_processor_id(), want, got = 0;
	bool h2;

	io = bpf_map_lookup_elem(&active_ios, &tid);
	if (!io || !io->ts)
		return;
	if (io->dns) {
		dns_io_exit(io, ret);
		goto out;
	}
	/* non-blocking sockets polling for data say nothing worth a record */
	if (ret == -EAGAIN || ret == -EINTR)
		goto out;
	key.tgid = io->conn.tgid;
	key.fd = io->conn.fd;
	st = bpf_map_lookup_elem(&conns, &key);
	if (!st || st->gen != io->conn.gen)
		goto out;
	/* Ciphertext of a session already carrying application data says
	 * nothing its plaintext records do not (userspace reads only the
	 * handshake from the wire): half the records of an HTTPS request,
	 * gone. Ends and errors still go out. */
	if (ret > 0 && st->tls_app_data)
		goto out;
	scratch = bpf_map_lookup_elem(&data_scratches, &cpu);
	if (!scratch)
		goto out;
	ev = (struct ht_data_event *)scratch->bytes;

	/* HTTP/2: the frames are followed (h2.bpf.h) */
	h2 = ret > 0 && !st->tls_tied && st->h2;
	want = ret > 0 && !h2 ?
		       (ret < capture_cap ? ret : capture_cap) : 0;
	if (want > HT_MAX_CAPTURE)
		want = HT_MAX_CAPTURE;
	/* a bound the verifier of 5.10 follows whatever the compiler did
	 * with the one above (it changes no value) */
	asm volatile("" : "+r"(want));
	want &= 2 * HT_MAX_CAPTURE - 1;
	if (want) {
		if (io_call_has_iovec(io->call))
			got = copy_iovecs(ev->data, io->buf, io->iovcnt,
					  want);
		else if (!bpf_probe_read_user(ev->data, want,
					      (void *)io->buf))
			got = want;
	}
	/* The first bytes decide: a connection that starts with neither an
	 * HTTP/1.x start line, an HTTP/2 preface or SETTINGS frame, nor a
	 * TLS handshake (a database, SSH, some binary protocol) is sent this
	 * once, so that userspace knows, and costs nothing more. HTTP/2 has
	 * its frames followed from this record on (made again). */
	if (got && !st->proto_checked) {
		st->proto_checked = 1;
		if (!ht_may_start_http(ev->data, got)) {
			st->not_http = 1;
		} else if (!st->tls_tied && h2_starts(ev->data, got)) {
			st->h2 = 1;
			h2 = true;
		}
	}
	ev->flags = 0;
	if (h2 && capture_cap)
		got = h2_capture_io(st, io, ret, ev, scratch);
	if (got > HT_MAX_CAPTURE)
		got = HT_MAX_CAPTURE;
	fill_header(&ev->hdr, HT_EV_DATA, bpf_ktime_get_ns());
	ev->conn = io->conn;
	ev->seq = conn_seq_take(st);
	ev->direction = io->direction;
	ev->call = io->call;
	ev->enter_ns = io->ts;
	ev->ret = ret;
	ev->captured_len = got;
	ev->_pad2 = 0;
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev) + got, rb_flags())) {
		conn_seq_lost(st, ev->seq);
		count_drop(HT_DROP_CONN);
	}
out:
	io->ts = 0;
}

#endif /* HTTPTRACE_DATA_BPF_H */
