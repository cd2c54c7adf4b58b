/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2 records: the frames of each direction are followed from the
 * connection's first byte (state in its conns entry), and each record
 * keeps every byte but the payloads of DATA frames, which are left out
 * (HT_DATA_ELIDED, include/httptrace_events.h). A header block after a
 * large DATA frame in the same read reaches the parser whole however
 * large the read, and a response body costs the ring its frame headers.
 *
 * What is followed is bounded: H2_STEPS pieces (a frame header, a
 * payload, or the part of either in one iovec) per record, about 32
 * frames: the verifier checks each step, so the start grows with them
 * (bpf_loop() would have one step checked, from 5.17 on; the cost is
 * measured in the README, "What is captured"). A record with more (one write of many
 * bodies, a read of many small frames) keeps what was followed, the
 * rest uncaptured, and the direction's records are ordinary ones
 * (capture_cap) until one whose frames, walked from its start, end
 * exactly where it does: the rule by which the parser takes frame
 * boundaries back.
 */
#ifndef HTTPTRACE_H2_BPF_H
#define HTTPTRACE_H2_BPF_H

#include "maps.bpf.h"

#define H2_STEPS 64
/* every DATA payload the steps reach can be a run left out */
_Static_assert(HT_ELIDED_MAX_RUNS >= H2_STEPS / 2,
	       "runs fewer than the DATA frames the steps follow");
#define H2_PREFACE_LEN 24
/* iovecs of the rest of a record copied as they are, past the steps */
#define H2_REST_PIECES 256

/* struct iovec as user memory holds it (data.bpf.h has its twin) */
struct h2_iovec {
	__u64 base;
	__u64 len;
};

/*
 * The rest of a record past the steps, copied as it is, piece by piece
 * (iovec by iovec: gRPC's sendmsg of 20 calls has hundreds), while it
 * fits. A global function: the verifier checks its H2_REST_PIECES steps
 * once, not in every program that follows HTTP/2. The walk is this
 * CPU's scratch, the caller's (a program stays on its CPU).
 */
__noinline int h2_copy_rest(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct data_scratch *scratch;
	struct ht_data_event *ev;
	struct h2_walk *w;

	scratch = bpf_map_lookup_elem(&data_scratches, &cpu);
	if (!scratch)
		return 0;
	ev = (struct ht_data_event *)scratch->bytes;
	w = &scratch->walk;
	for (int i = 0; i < H2_REST_PIECES; i++) {
		__u32 k = w->kept, c;

		if (w->pos >= w->end || !w->capturing)
			break;
		if (!w->avail) {
			struct h2_iovec v;
			__u32 idx = w->next;

			if (!w->iov || idx >= w->iovcnt ||
			    bpf_probe_read_user(&v, sizeof(v),
						(void *)(w->iov + (__u64)idx *
							 sizeof(v))))
				break;
			w->next = idx + 1;
			w->base = v.base;
			w->avail = v.len < w->end - w->pos ? v.len :
							     w->end - w->pos;
		}
		c = k < w->keep_max ? w->keep_max - k : 0;
		if (w->avail > c)
			break; /* the rest does not fit: not captured */
		c = w->avail;
		asm volatile("" : "+r"(c));
		c &= HT_MAX_CAPTURE - 1;
		if (bpf_probe_read_user(ev->data + (k & (HT_MAX_CAPTURE - 1)),
					c, (void *)w->base))
			break;
		w->kept = k + c;
		w->pos += c;
		w->avail = 0;
	}
	return 0;
}

/*
 * Fills ev->data for `moved` bytes of direction dir, from buf (iovcnt
 * 0) or the iovec array at buf, following the frames; returns
 * captured_len and sets ev->flags.
 *
 * Everything the loop carries from one step to the next lives in the
 * scratch map value (struct h2_walk), never in registers: the verifier
 * then sees every step start from the same state and checks the body
 * once rather than once per step and path.
 */
static __always_inline __u32 h2_capture(struct conn_state *st, __u8 dir,
					__u64 buf, __u32 iovcnt, __u64 moved,
					struct ht_data_event *ev,
					struct data_scratch *scratch)
{
	struct h2_follow *f = &st->h2f[dir & 1];
	struct h2_walk *w = &scratch->walk;
	__u32 kept, n_runs, size, off;

	/*
	 * A direction whose frames were lost: this record is an ordinary
	 * one (nothing left out, capture_cap bytes), walked from a frame
	 * boundary as if one were here. When its frames end exactly where
	 * it does (as the parser takes frame boundaries back), the next
	 * record starts at one.
	 */
	w->skim = f->lost;
	if (w->skim) {
		f->left = 0;
		f->acc = 0;
		f->have = 0;
		f->elide = 0;
		f->lost = 0;
	}
	w->pos = 0;
	w->kept = 0;
	w->n_runs = 0;
	w->capturing = 1;
	/* a direction whose frames were lost keeps what other connections
	 * do, over every iovec */
	w->keep_max = w->skim ? (capture_cap < HT_ELIDED_KEEP_MAX ?
				 capture_cap : HT_ELIDED_KEEP_MAX) :
				HT_ELIDED_KEEP_MAX;
	w->end = moved > 0x7fffffff ? 0x7fffffff : (__u32)moved;
	w->iov = iovcnt ? buf : 0;
	w->iovcnt = iovcnt;
	w->next = 0;
	w->base = buf;
	w->avail = iovcnt ? 0 : w->end;
	for (int i = 0; i < H2_STEPS; i++) {
		__u32 n, pos = w->pos;

		if (pos >= w->end)
			break;
		if (!w->avail) {
			struct h2_iovec v;
			__u32 idx = w->next;

			/* every iovec, not only the first HT_MAX_IOV:
			 * gRPC writes a frame in a dozen; the steps
			 * bound them */
			if (!w->iov || idx >= w->iovcnt)
				break;
			if (bpf_probe_read_user(&v, sizeof(v),
						(void *)(w->iov + (__u64)idx *
							 sizeof(v))))
				break;
			w->next = idx + 1;
			w->base = v.base;
			w->avail = v.len < w->end - pos ? v.len : w->end - pos;
			continue;
		}
		if (f->left) {
			bool copy = w->capturing;

			n = f->left < w->avail ? f->left : (__u32)w->avail;
			if (w->capturing && f->elide && !w->skim) {
				__u32 r_i = w->n_runs;
				struct ht_elided_run *r =
					&scratch->runs[(r_i - 1) &
						       (HT_ELIDED_MAX_RUNS - 1)];

				if (r_i && r->at + r->len == pos) {
					r->len += n; /* across iovecs */
					copy = false;
				} else if (n >= HT_ELIDED_MIN_RUN) {
					r = &scratch->runs[r_i &
						(HT_ELIDED_MAX_RUNS - 1)];
					if (r_i < HT_ELIDED_MAX_RUNS) {
						r->at = pos;
						r->len = n;
						w->n_runs = r_i + 1;
					} else {
						w->capturing = 0;
					}
					copy = false;
				}
			}
			if (copy) {
				__u32 k = w->kept, c;

				c = k < w->keep_max ? w->keep_max - k : 0;
				if (n < c)
					c = n;
				/* c <= HT_ELIDED_KEEP_MAX: a bound the
				 * verifier of 5.10 follows too */
				asm volatile("" : "+r"(c));
				c &= HT_MAX_CAPTURE - 1;
				if (bpf_probe_read_user(
					    ev->data + (k & (HT_MAX_CAPTURE - 1)),
					    c, (void *)w->base))
					break;
				w->kept = k + c;
				if (c < n)
					w->capturing = 0;
			}
			f->left -= n;
		} else {
			__u32 k = w->kept;
			__u8 *p = scratch->hdr;

			n = 9 - f->have;
			if (w->avail < n)
				n = w->avail;
			if (n > 9)
				n = 9;
			asm volatile("" : "+r"(n));
			n &= 15;
			if (w->capturing && k + n <= w->keep_max)
				p = ev->data + (k & (HT_MAX_CAPTURE - 1));
			else
				w->capturing = 0;
			if (bpf_probe_read_user(p, n, (void *)w->base))
				break;
			if (w->capturing)
				w->kept = k + n;
			if (!f->begun && n >= 3 && p[0] == 'P' && p[1] == 'R' &&
			    p[2] == 'I') {
				/* the client's preface: kept as it is */
				f->left = H2_PREFACE_LEN - n;
				f->elide = 0;
			} else {
				__u32 have = f->have, acc = f->acc;

				/* the length and type (bytes 0-3) from the
				 * bytes of this piece that are among them;
				 * shifts rather than a loop, for the
				 * verifier's sake */
				if (have < 4) {
					__u32 k = 4 - have;
					__u64 word = (__u32)p[0] << 24 |
						     (__u32)p[1] << 16 |
						     (__u32)p[2] << 8 | p[3];

					if (n < k)
						k = n;
					acc = (__u32)(((__u64)acc << (8 * k)) |
						      (word >> (32 - 8 * k)));
				}
				have += n;
				if (have >= 9) {
					f->left = acc >> 8;
					f->elide = (acc & 0xff) == 0;
					have = 0;
					acc = 0;
				}
				f->have = have;
				f->acc = acc;
			}
		}
		f->begun = 1;
		w->pos = pos + n;
		w->base += n;
		w->avail -= n;
	}
	/* more than the steps allow, or unreadable memory: the frames of
	 * the rest are not known, nor where the next record's begin */
	if (w->pos < w->end || (w->skim && (f->left || f->have)))
		f->lost = 1;
	/* The rest of a call of many small frames (gRPC's requests, a
	 * burst of HEADERS) usually fits: kept as it is, the parser
	 * follows its frames; the next calls here are walked until the
	 * frames are found again. Most records end within the steps: no
	 * call then. */
	if (w->pos < w->end && w->capturing)
		h2_copy_rest();
	ev->flags = 0;
	kept = w->kept;
	n_runs = w->n_runs;
	if (kept > HT_ELIDED_KEEP_MAX)
		return 0;
	if (!n_runs)
		return kept;
	off = kept & (HT_MAX_CAPTURE - 1);
	size = (n_runs * sizeof(struct ht_elided_run)) &
	       (2 * HT_ELIDED_MAX_RUNS * sizeof(struct ht_elided_run) - 1);
	if (bpf_probe_read_kernel(ev->data + off, size, scratch->runs))
		return 0;
	off = (kept + size) & (HT_MAX_CAPTURE - 1);
	w->n_runs_out = n_runs;
	if (bpf_probe_read_kernel(ev->data + off, sizeof(__u32),
				  &w->n_runs_out))
		return 0;
	ev->flags = HT_DATA_ELIDED;
	return kept + size + sizeof(__u32);
}

/*
 * Is the connection HTTP/2, from the first bytes either side moved
 * (the client's preface, a server's SETTINGS)? Its frames are followed
 * from then on; the record that told is made again by h2_capture().
 */
static __always_inline bool h2_starts(const __u8 *d, __u32 len)
{
	if (len >= 14 && d[0] == 'P' && d[1] == 'R' && d[2] == 'I' &&
	    d[3] == ' ' && d[4] == '*' && d[5] == ' ' && d[6] == 'H' &&
	    d[7] == 'T' && d[8] == 'T' && d[9] == 'P' && d[10] == '/' &&
	    d[11] == '2' && d[12] == '.' && d[13] == '0')
		return true;
	return ht_h2_settings_frame(d, len);
}

#endif /* HTTPTRACE_H2_BPF_H */
