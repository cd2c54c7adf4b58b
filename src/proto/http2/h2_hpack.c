// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Header blocks of one direction through libnghttp2's HPACK inflater,
 * fed frame piece by frame piece: nothing of a block is buffered here,
 * the inflater keeps only the field it is in the middle of (at most
 * 64 KiB, NGHTTP2_HD_MAX_NV; a longer one fails the block). Its
 * allocations go through h2_hpack_mem so that the decoder can say what
 * a connection holds.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http2/h2_hpack.h"

static void *hpack_malloc(size_t size, void *user)
{
	struct h2_hpack *h = user;
	void *p = malloc(size);

	if (p)
		h->held += malloc_usable_size(p);
	return p;
}

static void hpack_free(void *p, void *user)
{
	struct h2_hpack *h = user;

	if (!p)
		return;
	h->held -= malloc_usable_size(p);
	free(p);
}

static void *hpack_calloc(size_t nmemb, size_t size, void *user)
{
	struct h2_hpack *h = user;
	void *p = calloc(nmemb, size);

	if (p)
		h->held += malloc_usable_size(p);
	return p;
}

static void *hpack_realloc(void *old, size_t size, void *user)
{
	struct h2_hpack *h = user;
	size_t before = old ? malloc_usable_size(old) : 0;
	void *p = realloc(old, size);

	if (p) {
		h->held -= before;
		h->held += malloc_usable_size(p);
	} else if (!size) {
		h->held -= before; /* realloc(p, 0) freed it */
	}
	return p;
}

void h2_hpack_init(struct h2_hpack *h)
{
	memset(h, 0, sizeof(*h));
	h->mem.mem_user_data = h;
	h->mem.malloc = hpack_malloc;
	h->mem.free = hpack_free;
	h->mem.calloc = hpack_calloc;
	h->mem.realloc = hpack_realloc;
}

void h2_hpack_free(struct h2_hpack *h)
{
	if (h->inf)
		nghttp2_hd_inflate_del(h->inf);
	h->inf = NULL;
}

/* An HPACK dynamic table size update (RFC 7541 6.3) of size, alone in a
 * block: how a new inflater gets a table larger than the default
 * without the encoder saying so. */
static bool hpack_set_table_size(nghttp2_hd_inflater *inf, size_t size)
{
	uint8_t buf[8];
	size_t n = 0;
	int flags = 0;
	nghttp2_nv nv;
	ssize_t rv;

	if (size < 31) {
		buf[n++] = (uint8_t)(0x20 | size);
	} else {
		buf[n++] = 0x3f;
		size -= 31;
		while (size >= 128) {
			buf[n++] = (uint8_t)(0x80 | (size & 0x7f));
			size >>= 7;
		}
		buf[n++] = (uint8_t)size;
	}
	rv = nghttp2_hd_inflate_hd2(inf, &nv, &flags, buf, n, 1);
	if (rv != (ssize_t)n || !(flags & NGHTTP2_HD_INFLATE_FINAL))
		return false;
	nghttp2_hd_inflate_end_headers(inf);
	return true;
}

static void hpack_block_failed(struct h2_hpack *h, struct h2_fields *f)
{
	f->unknown = true;
	h->failed = true;
	h->table_lost = true;
}

/* A new inflater, its table empty and table_size large. */
static bool hpack_new_table(struct h2_hpack *h, size_t table_size)
{
	nghttp2_hd_inflater *inf = NULL;

	if (h->inf) {
		size_t before =
			nghttp2_hd_inflate_get_max_dynamic_table_size(h->inf);

		if (before > table_size)
			table_size = before;
		nghttp2_hd_inflate_del(h->inf);
		h->inf = NULL;
	}
	if (table_size < H2_HPACK_TABLE_DEFAULT)
		table_size = H2_HPACK_TABLE_DEFAULT;
	if (table_size > H2_HPACK_TABLE_CAP)
		table_size = H2_HPACK_TABLE_CAP;
	if (nghttp2_hd_inflate_new2(&inf, &h->mem) != 0)
		return false;
	/*
	 * The bound on the encoder's table size updates, not the table's
	 * size: an encoder may only go up to what its peer announced, but
	 * we may see the announcement late (the other direction), not at
	 * all (lost, or sent in HTTP2-Settings of an h2c upgrade), or after
	 * a smaller one it still has to honour; so any size up to the cap
	 * is taken, and the table follows the updates in the blocks.
	 */
	if (nghttp2_hd_inflate_change_table_size(inf, H2_HPACK_TABLE_CAP) ||
	    (table_size != H2_HPACK_TABLE_DEFAULT &&
	     !hpack_set_table_size(inf, table_size))) {
		nghttp2_hd_inflate_del(inf);
		return false;
	}
	h->inf = inf;
	return true;
}

void h2_hpack_begin(struct h2_hpack *h, struct h2_fields *f, size_t table_size)
{
	memset(f, 0, sizeof(*f));
	f->status = -1;
	f->grpc_status = -1;
	h->in_block = true;
	h->failed = false;
	if (!h->inf && !h->table_lost) {
		/* the connection's first block: the RFC's initial table */
		table_size = H2_HPACK_TABLE_DEFAULT;
	} else if (!h->table_lost) {
		return;
	}
	if (!hpack_new_table(h, table_size)) {
		hpack_block_failed(h, f);
		return;
	}
	h->table_lost = false;
}

/* Copies v (not NUL-terminated) into dst, truncated to fit. Returns
 * whether it was truncated. */
static bool copy_value(char *dst, size_t size, const uint8_t *v, size_t n)
{
	bool truncated = n > size - 1;

	if (truncated)
		n = size - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return truncated;
}

/* A decimal number of 1 to max_digits digits, else -1. */
static int parse_number(const uint8_t *v, size_t n, size_t max_digits)
{
	int x = 0;

	if (!n || n > max_digits)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

static bool name_is(const nghttp2_nv *nv, const char *name, size_t len)
{
	return nv->namelen == len && !memcmp(nv->name, name, len);
}

#define NAME_IS(nv, lit) name_is(nv, lit, sizeof(lit) - 1)

/* One decoded field: the shown ones are kept, the first of each. */
static void hpack_take(struct h2_fields *f, const nghttp2_nv *nv)
{
	f->n_fields++;
	if (nv->namelen == 0)
		return;
	if (nv->name[0] == ':') {
		if (NAME_IS(nv, ":method")) {
			if (!f->method[0])
				copy_value(f->method, sizeof(f->method),
					   nv->value, nv->valuelen);
		} else if (NAME_IS(nv, ":path")) {
			if (!f->path[0])
				f->path_truncated =
					copy_value(f->path, sizeof(f->path),
						   nv->value, nv->valuelen);
		} else if (NAME_IS(nv, ":authority")) {
			if (!f->authority[0])
				copy_value(f->authority, sizeof(f->authority),
					   nv->value, nv->valuelen);
		} else if (NAME_IS(nv, ":status")) {
			if (f->status < 0)
				f->status = parse_number(nv->value,
							 nv->valuelen, 3);
		}
		return;
	}
	if (NAME_IS(nv, "content-type")) {
		if (!f->content_type[0])
			copy_value(f->content_type, sizeof(f->content_type),
				   nv->value, nv->valuelen);
	} else if (NAME_IS(nv, "grpc-status")) {
		if (f->grpc_status < 0)
			f->grpc_status =
				parse_number(nv->value, nv->valuelen, 9);
	} else if (NAME_IS(nv, "grpc-message")) {
		if (!f->grpc_message[0])
			h2_percent_decode(f->grpc_message,
					  sizeof(f->grpc_message), nv->value,
					  nv->valuelen);
	}
}

void h2_hpack_feed(struct h2_hpack *h, struct h2_fields *f, const uint8_t *p,
		   size_t n, bool final)
{
	static const uint8_t nothing;

	if (!h->in_block)
		return;
	if (h->failed) {
		if (final)
			h->in_block = false;
		return;
	}
	if (!n)
		p = &nothing; /* never NULL into the library */
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(h->inf, &nv, &flags, p, n,
						    final);

		if (rv < 0) {
			hpack_block_failed(h, f);
			break;
		}
		p += rv;
		n -= (size_t)rv;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			hpack_take(f, &nv);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(h->inf);
			h->in_block = false;
			return;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && !n)
			break;
	}
	if (final) {
		/* the library ends a final block or fails it; never both
		 * missing, but a block must not stay open */
		if (!h->failed)
			hpack_block_failed(h, f);
		h->in_block = false;
	}
}

void h2_hpack_fail(struct h2_hpack *h, struct h2_fields *f, bool final)
{
	if (h->in_block && !h->failed)
		hpack_block_failed(h, f);
	h->table_lost = true;
	if (final)
		h->in_block = false;
}

void h2_hpack_lose_table(struct h2_hpack *h)
{
	h->table_lost = true;
	h->in_block = false;
	h->failed = false;
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void h2_percent_decode(char *dst, size_t size, const uint8_t *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < size; i++) {
		int hi, lo;

		if (src[i] == '%' && i + 2 < n &&
		    (hi = hex_value(src[i + 1])) >= 0 &&
		    (lo = hex_value(src[i + 2])) >= 0) {
			dst[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			dst[o++] = (char)src[i];
		}
	}
	dst[o] = '\0';
}
