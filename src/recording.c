// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --record / --replay files; see recording.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httptrace_events.h"
#include "recording.h"

struct file_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	int64_t mono_to_realtime_ns;
};

struct item_header {
	uint32_t kind;
	uint32_t size;
};

static const uint8_t zeros[8];

/* struct ht_dns_event as format 1 wrote it: without the service */
#define DNS_EVENT_V1_SIZE offsetof(struct ht_dns_event, service)

static int write_failed(struct recording_writer *w)
{
	if (!w->failed) {
		w->failed = true;
		w->errno_saved = errno ? errno : EIO;
	}
	return -w->errno_saved;
}

int recording_create(struct recording_writer *w, const char *path,
		     int64_t mono_to_realtime_ns)
{
	struct file_header h = {
		.version = RECORDING_VERSION,
		.header_size = sizeof(h),
		.mono_to_realtime_ns = mono_to_realtime_ns,
	};

	struct stat st;
	int fd;

	memset(w, 0, sizeof(*w));
	memcpy(h.magic, RECORDING_MAGIC, sizeof(h.magic));
	/* the records hold captured bytes (credentials in headers, the
	 * start of bodies): readable by the owner only, even if the file
	 * was there before */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 0077) && fchmod(fd, 0600)) {
		int e = errno;

		close(fd);
		return -e;
	}
	w->f = fdopen(fd, "wb");
	if (!w->f) {
		int e = errno;

		close(fd);
		return -e;
	}
	/* records arrive in bursts; a large buffer keeps write(2) rare */
	setvbuf(w->f, NULL, _IOFBF, 1 << 20);
	if (fwrite(&h, sizeof(h), 1, w->f) != 1)
		return write_failed(w);
	return 0;
}

int recording_write(struct recording_writer *w, enum recording_item_kind kind,
		    const void *data, size_t size)
{
	struct item_header ih = { .kind = kind, .size = (uint32_t)size };
	size_t pad = (8 - size % 8) % 8;

	if (w->failed)
		return -w->errno_saved;
	if (size > RECORDING_MAX_ITEM) {
		errno = EMSGSIZE;
		return write_failed(w);
	}
	if (fwrite(&ih, sizeof(ih), 1, w->f) != 1 ||
	    (size && fwrite(data, size, 1, w->f) != 1) ||
	    (pad && fwrite(zeros, pad, 1, w->f) != 1))
		return write_failed(w);
	if (kind == RECORDING_RECORD)
		w->records++;
	return 0;
}

int recording_close(struct recording_writer *w)
{
	int ret = w->failed ? -w->errno_saved : 0;

	if (!w->f)
		return ret;
	if (fflush(w->f) && !ret)
		ret = -(errno ? errno : EIO);
	if (fclose(w->f) && !ret)
		ret = -(errno ? errno : EIO);
	w->f = NULL;
	return ret;
}

int recording_open(struct recording_reader *r, const char *path, char *err,
		   size_t err_len)
{
	FILE *f = fopen(path, "rbe");

	if (!f) {
		r->f = NULL;
		return -errno;
	}
	return recording_open_stream(r, f, err, err_len);
}

int recording_open_stream(struct recording_reader *r, FILE *f, char *err,
			  size_t err_len)
{
	struct file_header h;
	size_t got;

	r->f = f;
	r->offset = 0;
	r->items = 0;
	got = fread(&h, 1, sizeof(h), r->f);
	if (got < sizeof(h.magic) ||
	    memcmp(h.magic, RECORDING_MAGIC, sizeof(h.magic))) {
		snprintf(err, err_len, "not a recording made by --record");
		goto invalid;
	}
	if (got < sizeof(h)) {
		snprintf(err, err_len, "the file ends inside its header");
		goto invalid;
	}
	if ((h.version != RECORDING_VERSION && h.version != 1) ||
	    h.header_size != sizeof(h)) {
		snprintf(err, err_len,
			 "recording format %u is not one this version "
			 "reads (1 to %u)", h.version, RECORDING_VERSION);
		goto invalid;
	}
	r->mono_to_realtime_ns = h.mono_to_realtime_ns;
	r->version = h.version;
	r->offset = sizeof(h);
	return 0;
invalid:
	fclose(r->f);
	r->f = NULL;
	return -EINVAL;
}

/*
 * A format 1 record in the current layout: a DNS record of the old size
 * gets an empty service (the buffer holds RECORDING_MAX_ITEM bytes, more
 * than any record); other records, and DNS records of any other size
 * (malformed, for the correlator to reject), are as they were.
 */
static size_t v1_record_now(struct recording_reader *r, size_t size)
{
	struct ht_event_header hdr;
	struct ht_dns_event *dns = (void *)r->buf;

	if (size < sizeof(hdr))
		return size;
	memcpy(&hdr, r->buf, sizeof(hdr));
	if (hdr.type != HT_EV_DNS || size != DNS_EVENT_V1_SIZE)
		return size;
	memset(dns->service, 0, sizeof(dns->service));
	return sizeof(*dns);
}

int recording_next(struct recording_reader *r, enum recording_item_kind *kind,
		   const void **data, size_t *size, char *err, size_t err_len)
{
	struct item_header ih;
	size_t got, padded;

	got = fread(&ih, 1, sizeof(ih), r->f);
	if (got == 0 && !ferror(r->f))
		return 0;
	if (ferror(r->f)) {
		snprintf(err, err_len, "reading the recording failed at byte "
			 "%llu: %s", (unsigned long long)r->offset,
			 strerror(errno));
		return -1;
	}
	if (got < sizeof(ih)) {
		snprintf(err, err_len,
			 "the recording ends inside an item at byte %llu "
			 "(cut short?)", (unsigned long long)r->offset);
		return -1;
	}
	if (ih.kind != RECORDING_RECORD && ih.kind != RECORDING_LOST &&
	    ih.kind != RECORDING_TICK) {
		snprintf(err, err_len, "unknown item kind %u at byte %llu",
			 ih.kind, (unsigned long long)r->offset);
		return -1;
	}
	if (ih.size > RECORDING_MAX_ITEM ||
	    (ih.kind == RECORDING_LOST &&
	     ih.size != sizeof(struct recording_lost)) ||
	    (ih.kind == RECORDING_TICK && ih.size != sizeof(uint64_t))) {
		snprintf(err, err_len, "item of impossible length %u at byte "
			 "%llu", ih.size, (unsigned long long)r->offset);
		return -1;
	}
	padded = (ih.size + 7u) & ~7u;
	if (fread(r->buf, 1, padded, r->f) != padded) {
		snprintf(err, err_len,
			 "the recording ends inside an item at byte %llu "
			 "(cut short?)", (unsigned long long)r->offset);
		return -1;
	}
	if (ih.kind == RECORDING_LOST) {
		const struct recording_lost *l = (const void *)r->buf;

		if (l->kind >= HT_DROP_KIND_COUNT) {
			snprintf(err, err_len,
				 "lost item of unknown kind %u at byte %llu",
				 l->kind, (unsigned long long)r->offset);
			return -1;
		}
	}
	r->offset += sizeof(ih) + padded;
	r->items++;
	*kind = (enum recording_item_kind)ih.kind;
	*data = r->buf;
	*size = ih.size;
	if (r->version == 1 && ih.kind == RECORDING_RECORD)
		*size = v1_record_now(r, ih.size);
	return 1;
}

void recording_close_reader(struct recording_reader *r)
{
	if (r->f)
		fclose(r->f);
	r->f = NULL;
}
