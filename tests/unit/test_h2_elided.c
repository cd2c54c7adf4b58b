// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/2 records with DATA payloads left out (HT_DATA_ELIDED): the
 * pieces h2_record_pieces() gives the frame decoder, for records laid
 * out as bpf/h2.bpf.h makes them, and for layouts that cannot be.
 */
#include <string.h>

#include "proto/http2/h2_elided.h"
#include "unit.h"

#define MAX_PIECES 8

struct pieces {
	int n;
	struct {
		const uint8_t *data;
		size_t captured, len;
	} p[MAX_PIECES];
	size_t moved; /* all pieces' len */
};

static void on_piece(void *user, const uint8_t *data, size_t captured,
		     size_t len)
{
	struct pieces *ps = user;

	ps->moved += len;
	if (ps->n == MAX_PIECES)
		return;
	ps->p[ps->n].data = data;
	ps->p[ps->n].captured = captured;
	ps->p[ps->n].len = len;
	ps->n++;
}

/* A record as the BPF side lays it out: kept bytes, runs, count. */
struct rec {
	uint8_t data[256];
	size_t len;
};

static void put(struct rec *r, const void *bytes, size_t n)
{
	memcpy(r->data + r->len, bytes, n);
	r->len += n;
}

static void put_runs(struct rec *r, const struct ht_elided_run *runs,
		     uint32_t n)
{
	put(r, runs, n * sizeof(*runs));
	put(r, &n, sizeof(n));
}

static const uint8_t data_hdr[9] = { 0, 0, 100, 0, 0, 0, 0, 0, 1 };
static const uint8_t headers[14] = { 0, 0, 5, 1, 5, 0, 0, 0, 3,
				     0x88, 0x5f, 0x87, 0x49, 0x7c };

#define PIECE(ps, i, cap, n)                                                 \
	do {                                                                 \
		CHECK_INT((ps).p[i].captured, cap);                          \
		CHECK_INT((ps).p[i].len, n);                                 \
		CHECK((ps).p[i].data != NULL);                               \
	} while (0)

/* An ordinary record is one piece, as captured. */
static void test_ordinary(void)
{
	struct pieces ps = { 0 };

	CHECK(h2_record_pieces(0, headers, 10, 14, on_piece, &ps));
	ASSERT_INT(ps.n, 1);
	PIECE(ps, 0, 10, 14);
	CHECK(ps.p[0].data == headers);
}

/* A DATA frame of stream 1, then a HEADERS frame of stream 3 (its
 * response, END_STREAM | END_HEADERS) in the same read: the header
 * block is kept whole, the body is a piece not captured. */
static void test_data_then_headers(void)
{
	struct ht_elided_run run = { 9, 100 };
	struct pieces ps = { 0 };
	struct rec r = { .len = 0 };

	put(&r, data_hdr, sizeof(data_hdr));
	put(&r, headers, sizeof(headers));
	put_runs(&r, &run, 1);
	CHECK(h2_record_pieces(HT_DATA_ELIDED, r.data, r.len, 123, on_piece,
			       &ps));
	ASSERT_INT(ps.n, 3);
	PIECE(ps, 0, 9, 9);
	CHECK(!memcmp(ps.p[0].data, data_hdr, 9));
	PIECE(ps, 1, 0, 100);
	PIECE(ps, 2, 14, 14);
	CHECK(!memcmp(ps.p[2].data, headers, 14));
	CHECK_INT(ps.moved, 123);
}

/* A record that starts inside a DATA payload begun in the one before,
 * and one that ends inside one. */
static void test_runs_at_the_edges(void)
{
	struct ht_elided_run runs[2] = { { 0, 40 }, { 63, 50 } };
	struct pieces ps = { 0 };
	struct rec r = { .len = 0 };

	put(&r, headers, sizeof(headers));
	put(&r, data_hdr, sizeof(data_hdr));
	put_runs(&r, runs, 2);
	CHECK(h2_record_pieces(HT_DATA_ELIDED, r.data, r.len, 113, on_piece,
			       &ps));
	ASSERT_INT(ps.n, 3);
	PIECE(ps, 0, 0, 40);
	PIECE(ps, 1, 23, 23);
	PIECE(ps, 2, 0, 50);
	CHECK_INT(ps.moved, 113);
}

/* More frames than the BPF side follows in one record: what it kept,
 * then the rest not captured. */
static void test_uncaptured_tail(void)
{
	struct ht_elided_run run = { 9, 100 };
	struct pieces ps = { 0 };
	struct rec r = { .len = 0 };

	put(&r, data_hdr, sizeof(data_hdr));
	put(&r, headers, 4);
	put_runs(&r, &run, 1);
	CHECK(h2_record_pieces(HT_DATA_ELIDED, r.data, r.len, 500, on_piece,
			       &ps));
	ASSERT_INT(ps.n, 4);
	PIECE(ps, 0, 9, 9);
	PIECE(ps, 1, 0, 100);
	PIECE(ps, 2, 4, 4);
	PIECE(ps, 3, 0, 387);
	CHECK_INT(ps.moved, 500);
}

/* Layouts that cannot be: the whole record as not captured. */
static void check_bad(const struct rec *r, uint64_t ret)
{
	struct pieces ps = { 0 };

	CHECK(!h2_record_pieces(HT_DATA_ELIDED, r->data, r->len, ret,
				on_piece, &ps));
	ASSERT_INT(ps.n, 1);
	CHECK_INT(ps.p[0].captured, 0);
	CHECK_INT(ps.p[0].len, ret);
}

static void test_bad_layouts(void)
{
	struct ht_elided_run two[2] = { { 9, 100 }, { 50, 20 } };
	struct ht_elided_run past = { 9, 1000 };
	struct ht_elided_run empty = { 9, 0 };
	struct ht_elided_run touching[2] = { { 9, 20 }, { 29, 20 } };
	struct ht_elided_run run = { 9, 100 };
	struct rec r;
	uint32_t n;

	/* shorter than its count */
	r.len = 0;
	put(&r, "\x01\x00", 2);
	check_bad(&r, 10);
	/* no runs, or more than there can be */
	r.len = 0;
	put(&r, data_hdr, 9);
	n = 0;
	put(&r, &n, sizeof(n));
	check_bad(&r, 10);
	r.len = 0;
	n = HT_ELIDED_MAX_RUNS + 1;
	put(&r, &n, sizeof(n));
	check_bad(&r, 1000);
	/* a count larger than the record holds */
	r.len = 0;
	put(&r, data_hdr, 9);
	n = 5;
	put(&r, &n, sizeof(n));
	check_bad(&r, 1000);
	/* runs out of order, touching, empty, past the bytes moved */
	r.len = 0;
	put(&r, data_hdr, 9);
	put_runs(&r, two, 2);
	check_bad(&r, 200);
	r.len = 0;
	put(&r, data_hdr, 9);
	put_runs(&r, touching, 2);
	check_bad(&r, 200);
	r.len = 0;
	put(&r, data_hdr, 9);
	put_runs(&r, &empty, 1);
	check_bad(&r, 200);
	r.len = 0;
	put(&r, data_hdr, 9);
	put_runs(&r, &past, 1);
	check_bad(&r, 200);
	/* more kept bytes than the bytes moved leave room for */
	r.len = 0;
	put(&r, data_hdr, 9);
	put(&r, headers, 14);
	put_runs(&r, &run, 1);
	check_bad(&r, 115);
	/* a run after fewer kept bytes than its offset says */
	r.len = 0;
	put(&r, data_hdr, 4);
	put_runs(&r, &run, 1);
	check_bad(&r, 200);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_ordinary);
	RUN(test_data_then_headers);
	RUN(test_runs_at_the_edges);
	RUN(test_uncaptured_tail);
	RUN(test_bad_layouts);
	return unit_done("h2_elided");
}
