/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Recordings: the ring-buffer records a tracer run received, and the
 * kernel's drop counts, in a file (--record), so the same stream can be
 * turned into timelines again later, elsewhere, without root or BPF
 * (--replay), and the daemon's throughput measured on a real stream
 * (make bench).
 *
 * File (format 3): a 32-byte header ("HTRECORD", format version, header
 * size, the run's CLOCK_MONOTONIC to Unix-time offset so replayed
 * timestamps are the original wall-clock ones, the CRC-32 of the bytes
 * before it, 4 zero bytes), then items, each a 4-byte kind, a 4-byte
 * payload length, a 4-byte CRC-32, the payload and zero padding to
 * 8 bytes. An item's CRC covers its kind, length, payload and padding,
 * and starts from the previous item's CRC (the header's for the first):
 * a changed, lost, repeated or reordered item breaks it, and the reader
 * stops there and says where. Formats 1 and 2 (24-byte header, items
 * without CRC) are still read, without that check. Numbers and
 * records are in the host's byte order and layout: a recording is read
 * on the architecture that made it. A record item holds one
 * ring-buffer record as received; a lost item holds a drop kind and
 * count (struct recording_lost); a tick item the daemon's clock when it
 * ticked the correlator.
 *
 * Records hold the captured bytes unredacted (the parser needs them to
 * replay): header values such as Authorization and Cookie, the start of
 * bodies. The file is created readable by its owner only, and the
 * tracer says so when it starts recording.
 */
#ifndef HTTPTRACE_RECORDING_H
#define HTTPTRACE_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RECORDING_MAGIC "HTRECORD"
/* 2: DNS records end with the service asked (struct ht_dns_event); a
 * format 1 file is still read, its DNS records padded with "".
 * 3: CRC-32s (above).
 * 4: connection records end with the cgroup id (struct ht_conn_event);
 * cgroup items. An older file's connection records are padded with 0
 * (not known). */
#define RECORDING_VERSION 4
/* formats up to this one have no CRC-32s; still read */
#define RECORDING_VERSION_UNCHECKED 2
/* the first format with CRC-32s; it and later ones up to
 * RECORDING_VERSION share the header and item layout */
#define RECORDING_VERSION_CHECKED 3
/* no ring-buffer record is larger (header + HT_MAX_CAPTURE and slack) */
#define RECORDING_MAX_ITEM (64u << 10)

enum recording_item_kind {
	RECORDING_RECORD = 1,
	RECORDING_LOST = 2,
	/* the daemon's clock tick (a uint64_t CLOCK_MONOTONIC ns): replayed
	 * at the same place in the stream, the reorder window releases the
	 * same records as it did live, so a replay is the run again */
	RECORDING_TICK = 3,
	/* a cgroup as the live run resolved it (struct recording_cgroup),
	 * before the first record that names it: a replay, elsewhere or
	 * after the cgroup is gone, attributes requests to the container
	 * the live run saw (format 4 on) */
	RECORDING_CGROUP = 4,
};

/* A cgroup item: the id, then its path under the cgroup v2 root
 * ("/system.slice/docker-<id>.scope"), without NUL, up to
 * RECORDING_CGROUP_PATH_MAX bytes; no path: the live run could not
 * resolve it (gone, or no cgroup v2). */
#define RECORDING_CGROUP_PATH_MAX 4096
struct recording_cgroup {
	uint64_t id;
	char path[];
};

struct recording_lost {
	uint32_t kind;  /* enum ht_drop_kind */
	uint32_t _pad;
	uint64_t count;
};

struct recording_writer {
	FILE *f;
	uint32_t crc;      /* of the last item written */
	uint64_t records;  /* record items written */
	bool failed;    /* a write failed; errno_saved says why */
	int errno_saved;
};

/*
 * Creates path, readable and writable by its owner only, and writes the
 * header. The file is to hold captured credentials, so what is at path
 * already is never written through: a symbolic link, anything but a
 * regular file (a FIFO is not waited on), a file of another owner or
 * one others may write are refused with `err` in words; a regular file
 * of ours is replaced (unlinked first: whoever holds it open keeps the
 * old one). 0 or -errno, with `err` set.
 */
int recording_create(struct recording_writer *w, const char *path,
		     int64_t mono_to_realtime_ns, char *err, size_t err_len);
/* The same on a file already open for writing (its fd is then the
 * writer's). 0 or -errno. */
int recording_start(struct recording_writer *w, int fd,
		    int64_t mono_to_realtime_ns);
/* 0, or -errno of the first failed write (later calls do nothing). */
int recording_write(struct recording_writer *w, enum recording_item_kind kind,
		    const void *data, size_t size);
/* Flushes and closes; 0 or -errno of the first failure. */
int recording_close(struct recording_writer *w);

struct recording_reader {
	FILE *f;
	int64_t mono_to_realtime_ns;
	uint32_t version;    /* the file's format */
	uint32_t crc;        /* of the last item read (format 3 on) */
	uint64_t offset;     /* of the next item, for messages */
	uint64_t items;
	/* an item's payload and padding (up to 7 bytes) */
	uint64_t buf[RECORDING_MAX_ITEM / 8 + 1];
};

/* Opens a recording and checks its header. 0, -errno, or -EINVAL with
 * `err` saying what is wrong with the file. */
int recording_open(struct recording_reader *r, const char *path, char *err,
		   size_t err_len);
/* The same on an open stream, which the reader then owns (closes). */
int recording_open_stream(struct recording_reader *r, FILE *f, char *err,
			  size_t err_len);
/*
 * The next item: 1 with *kind, *data (valid until the next call) and
 * *size; 0 at a clean end of file; -1 with `err` in words for a file that
 * ends inside an item or holds one that cannot be (unknown kind, length
 * over RECORDING_MAX_ITEM, a malformed lost or cgroup item, a CRC that
 * does not match: the file is corrupt from that byte on). Records of
 * older formats come in the current layout (padded, see above).
 */
int recording_next(struct recording_reader *r, enum recording_item_kind *kind,
		   const void **data, size_t *size, char *err, size_t err_len);
void recording_close_reader(struct recording_reader *r);

#endif /* HTTPTRACE_RECORDING_H */
