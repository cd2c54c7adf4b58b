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
#include <zlib.h>

#include "httptrace_events.h"
#include "record/recording.h"

/* format 1's header is this without crc and _pad */
struct file_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	int64_t mono_to_realtime_ns;
	uint32_t crc; /* of the bytes above */
	uint32_t _pad;
};

#define FILE_HEADER_V1_SIZE offsetof(struct file_header, crc)

/* format 1's item header is kind and size */
struct item_header {
	uint32_t kind;
	uint32_t size;
	uint32_t crc; /* previous item's CRC, then kind, size, payload, pad */
};

#define ITEM_HEADER_V1_SIZE offsetof(struct item_header, crc)

static const uint8_t zeros[8];

/* struct ht_dns_event as format 1 wrote it: without the service */
#define DNS_EVENT_V1_SIZE offsetof(struct ht_dns_event, service)
/* struct ht_conn_event as formats 1 to 3 wrote it: without the cgroup */
#define CONN_EVENT_V3_SIZE offsetof(struct ht_conn_event, cgroup_id)

static uint32_t crc_of(uint32_t crc, const void *data, size_t size)
{
	/* zlib's crc32() of a NULL buffer is its initial value, not crc */
	return size ? (uint32_t)crc32(crc, data, (uInt)size) : crc;
}

/* zero bytes after an item's payload, to the next multiple of 8 */
static size_t item_pad(size_t header_size, size_t size)
{
	return (8 - (header_size + size) % 8) % 8;
}

static int write_failed(struct recording_writer *w)
{
	if (!w->failed) {
		w->failed = true;
		w->errno_saved = errno ? errno : EIO;
	}
	return -w->errno_saved;
}

int recording_start(struct recording_writer *w, int fd,
		    int64_t mono_to_realtime_ns)
{
	struct file_header h = {
		.version = RECORDING_VERSION,
		.header_size = sizeof(h),
		.mono_to_realtime_ns = mono_to_realtime_ns,
	};

	memset(w, 0, sizeof(*w));
	memcpy(h.magic, RECORDING_MAGIC, sizeof(h.magic));
	h.crc = crc_of(0, &h, FILE_HEADER_V1_SIZE);
	w->crc = h.crc;
	w->f = fdopen(fd, "wb");
	if (!w->f)
		return -errno;
	/* records arrive in bursts; a large buffer keeps write(2) rare */
	setvbuf(w->f, NULL, _IOFBF, 1 << 20);
	if (fwrite(&h, sizeof(h), 1, w->f) != 1)
		return write_failed(w);
	return 0;
}

/* What is at path, which O_EXCL found there, and why it is not written
 * through; 0 when it is a regular file of ours that only we may write
 * (then it is replaced). */
static int check_existing(const char *path, char *err, size_t err_len)
{
	struct stat st;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, err_len, "it is a symbolic link; a recording "
			 "holds captured credentials and is never written "
			 "through a link: remove it or record elsewhere");
		return -ELOOP;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "it is %s, not a regular file",
			 S_ISFIFO(st.st_mode) ? "a FIFO" :
			 S_ISDIR(st.st_mode) ? "a directory" :
			 S_ISSOCK(st.st_mode) ? "a socket" :
			 S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ?
							"a device" :
							"something else");
		return -EINVAL;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, err_len, "it belongs to another user (uid %u), "
			 "who could read the captured credentials: remove it "
			 "or record elsewhere", (unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, err_len, "others may write it (mode %04o): "
			 "remove it or record elsewhere",
			 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (unlink(path))
		return -errno;
	return 0;
}

int recording_create(struct recording_writer *w, const char *path,
		     int64_t mono_to_realtime_ns, char *err, size_t err_len)
{
	int fd = -1, ret;

	memset(w, 0, sizeof(*w));
	/* O_EXCL: a file of our own, made now; whatever was there is
	 * looked at first (a symbolic link, a FIFO, another user's file),
	 * and never opened */
	for (int tries = 0; tries < 3 && fd < 0; tries++) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0)
			break;
		if (errno != EEXIST) {
			ret = -errno;
			snprintf(err, err_len, "%s", strerror(-ret));
			return ret;
		}
		ret = check_existing(path, err, err_len);
		if (ret) {
			if (ret != -ELOOP && ret != -EINVAL && ret != -EPERM)
				snprintf(err, err_len, "%s", strerror(-ret));
			return ret;
		}
	}
	if (fd < 0) {
		snprintf(err, err_len, "something keeps creating it again");
		return -EEXIST;
	}
	ret = recording_start(w, fd, mono_to_realtime_ns);
	if (ret && !w->f)
		close(fd);
	if (ret)
		snprintf(err, err_len, "%s", strerror(-ret));
	return ret;
}

int recording_write(struct recording_writer *w, enum recording_item_kind kind,
		    const void *data, size_t size)
{
	struct item_header ih = { .kind = kind, .size = (uint32_t)size };
	size_t pad = item_pad(sizeof(ih), size);
	uint32_t crc;

	if (w->failed)
		return -w->errno_saved;
	if (size > RECORDING_MAX_ITEM) {
		errno = EMSGSIZE;
		return write_failed(w);
	}
	crc = crc_of(w->crc, &ih, ITEM_HEADER_V1_SIZE);
	crc = crc_of(crc, data, size);
	ih.crc = crc_of(crc, zeros, pad);
	if (fwrite(&ih, sizeof(ih), 1, w->f) != 1 ||
	    (size && fwrite(data, size, 1, w->f) != 1) ||
	    (pad && fwrite(zeros, pad, 1, w->f) != 1))
		return write_failed(w);
	w->crc = ih.crc;
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
	got = fread(&h, 1, FILE_HEADER_V1_SIZE, r->f);
	if (got < sizeof(h.magic) ||
	    memcmp(h.magic, RECORDING_MAGIC, sizeof(h.magic))) {
		snprintf(err, err_len, "not a recording made by --record");
		goto invalid;
	}
	if (got < FILE_HEADER_V1_SIZE) {
		snprintf(err, err_len, "the file ends inside its header");
		goto invalid;
	}
	if (h.version >= 1 && h.version <= RECORDING_VERSION_UNCHECKED &&
	    h.header_size == FILE_HEADER_V1_SIZE) {
		r->version = h.version;
		r->crc = 0;
	} else if (h.version >= RECORDING_VERSION_CHECKED &&
		   h.version <= RECORDING_VERSION &&
		   h.header_size == sizeof(h)) {
		got = fread(&h.crc, 1, sizeof(h) - FILE_HEADER_V1_SIZE, r->f);
		if (got < sizeof(h) - FILE_HEADER_V1_SIZE) {
			snprintf(err, err_len,
				 "the file ends inside its header");
			goto invalid;
		}
		if (h.crc != crc_of(0, &h, FILE_HEADER_V1_SIZE) || h._pad) {
			snprintf(err, err_len, "the recording is corrupt: its "
				 "header does not match its checksum");
			goto invalid;
		}
		r->version = h.version;
		r->crc = h.crc;
	} else {
		snprintf(err, err_len,
			 "recording format %u is not one this version "
			 "reads (1 to %u)", h.version, RECORDING_VERSION);
		goto invalid;
	}
	r->mono_to_realtime_ns = h.mono_to_realtime_ns;
	r->offset = h.header_size;
	return 0;
invalid:
	fclose(r->f);
	r->f = NULL;
	return -EINVAL;
}

/*
 * An older format's record in the current layout: a format 1 DNS record
 * of the old size gets an empty service, a connection record of formats
 * 1 to 3 of the old size a cgroup id of 0 (the buffer holds
 * RECORDING_MAX_ITEM bytes, more than any record); other records, and
 * records of any other size (malformed, for the correlator to reject),
 * are as they were.
 */
static size_t old_record_now(struct recording_reader *r, size_t size)
{
	struct ht_event_header hdr;
	struct ht_dns_event *dns = (void *)r->buf;
	struct ht_conn_event *conn = (void *)r->buf;

	if (size < sizeof(hdr))
		return size;
	memcpy(&hdr, r->buf, sizeof(hdr));
	switch (hdr.type) {
	case HT_EV_DNS:
		if (r->version != 1 || size != DNS_EVENT_V1_SIZE)
			return size;
		memset(dns->service, 0, sizeof(dns->service));
		return sizeof(*dns);
	case HT_EV_CONNECT_START:
	case HT_EV_CONNECT_DONE:
	case HT_EV_ACCEPT:
	case HT_EV_CLOSE:
		if (size != CONN_EVENT_V3_SIZE)
			return size;
		conn->cgroup_id = 0;
		return sizeof(*conn);
	}
	return size;
}

int recording_next(struct recording_reader *r, enum recording_item_kind *kind,
		   const void **data, size_t *size, char *err, size_t err_len)
{
	bool checked = r->version > RECORDING_VERSION_UNCHECKED;
	size_t ih_size = checked ? sizeof(struct item_header) :
				   ITEM_HEADER_V1_SIZE;
	/* in a checked file, an item that cannot be is a corrupt one */
	const char *corrupt = checked ? "the recording is corrupt: " : "";
	struct item_header ih;
	size_t got, padded;

	got = fread(&ih, 1, ih_size, r->f);
	if (got == 0 && !ferror(r->f))
		return 0;
	if (ferror(r->f)) {
		snprintf(err, err_len, "reading the recording failed at byte "
			 "%llu: %s", (unsigned long long)r->offset,
			 strerror(errno));
		return -1;
	}
	if (got < ih_size) {
		snprintf(err, err_len,
			 "the recording ends inside an item at byte %llu "
			 "(cut short?)", (unsigned long long)r->offset);
		return -1;
	}
	if (ih.kind != RECORDING_RECORD && ih.kind != RECORDING_LOST &&
	    ih.kind != RECORDING_TICK &&
	    (ih.kind != RECORDING_CGROUP || r->version < 4)) {
		snprintf(err, err_len, "%sunknown item kind %u at byte %llu",
			 corrupt, ih.kind, (unsigned long long)r->offset);
		return -1;
	}
	if (ih.size > RECORDING_MAX_ITEM ||
	    (ih.kind == RECORDING_LOST &&
	     ih.size != sizeof(struct recording_lost)) ||
	    (ih.kind == RECORDING_TICK && ih.size != sizeof(uint64_t)) ||
	    (ih.kind == RECORDING_CGROUP &&
	     (ih.size < sizeof(struct recording_cgroup) ||
	      ih.size > sizeof(struct recording_cgroup) +
				RECORDING_CGROUP_PATH_MAX))) {
		snprintf(err, err_len, "%sitem of impossible length %u at "
			 "byte %llu", corrupt, ih.size,
			 (unsigned long long)r->offset);
		return -1;
	}
	padded = ih.size + item_pad(ih_size, ih.size);
	if (fread(r->buf, 1, padded, r->f) != padded) {
		snprintf(err, err_len,
			 "the recording ends inside an item at byte %llu "
			 "(cut short%s?)", (unsigned long long)r->offset,
			 checked ? ", or its length is corrupt" : "");
		return -1;
	}
	if (checked) {
		uint32_t crc = crc_of(r->crc, &ih, ITEM_HEADER_V1_SIZE);

		crc = crc_of(crc, r->buf, padded);
		if (crc != ih.crc) {
			snprintf(err, err_len,
				 "the recording is corrupt at byte %llu: the "
				 "item there does not match its checksum (bytes "
				 "changed, or items lost or moved)",
				 (unsigned long long)r->offset);
			return -1;
		}
		r->crc = crc;
	}
	if (ih.kind == RECORDING_LOST) {
		const struct recording_lost *l = (const void *)r->buf;

		if (l->kind >= HT_DROP_KIND_COUNT) {
			snprintf(err, err_len,
				 "%slost item of unknown kind %u at byte %llu",
				 corrupt, l->kind,
				 (unsigned long long)r->offset);
			return -1;
		}
	}
	if (ih.kind == RECORDING_CGROUP &&
	    memchr((const char *)r->buf + sizeof(struct recording_cgroup), 0,
		   ih.size - sizeof(struct recording_cgroup))) {
		snprintf(err, err_len, "%scgroup item with a NUL in its path "
			 "at byte %llu", corrupt,
			 (unsigned long long)r->offset);
		return -1;
	}
	r->offset += ih_size + padded;
	r->items++;
	*kind = (enum recording_item_kind)ih.kind;
	*data = r->buf;
	*size = ih.size;
	if (r->version < 4 && ih.kind == RECORDING_RECORD)
		*size = old_record_now(r, ih.size);
	return 1;
}

void recording_close_reader(struct recording_reader *r)
{
	if (r->f)
		fclose(r->f);
	r->f = NULL;
}
