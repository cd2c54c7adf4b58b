// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --record / --replay files: round trip, and every way a file can be bad. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httptrace_events.h"
#include "recording.h"
#include "unit.h"

static char path[64];
static char err[256];
static struct recording_reader rd; /* 64 KiB buffer: not on the stack */

static void tmp_path(void)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/ht_test_recording.XXXXXX");
	fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
}

static void write_bytes(const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f) {
		fwrite(data, 1, n, f);
		fclose(f);
	}
}

static size_t read_bytes(uint8_t *buf, size_t max)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, max, f);
		fclose(f);
	}
	return n;
}

static int next(enum recording_item_kind *kind, const void **data,
		size_t *size)
{
	err[0] = 0;
	return recording_next(&rd, kind, data, size, err, sizeof(err));
}

static void test_round_trip(void)
{
	struct recording_writer w;
	struct recording_lost lost = { .kind = HT_DROP_DNS, .count = 7 };
	uint64_t tick = 123456789012ULL;
	uint8_t rec1[13], rec2[64];
	enum recording_item_kind kind;
	const void *data;
	struct stat st;
	size_t size;

	memset(rec1, 0xab, sizeof(rec1));
	for (size_t i = 0; i < sizeof(rec2); i++)
		rec2[i] = (uint8_t)i;
	tmp_path();
	chmod(path, 0644); /* an existing file is made private too */
	CHECK_INT(recording_create(&w, path, -123456789), 0);
	CHECK_INT(recording_write(&w, RECORDING_RECORD, rec1, sizeof(rec1)), 0);
	CHECK_INT(recording_write(&w, RECORDING_LOST, &lost, sizeof(lost)), 0);
	CHECK_INT(recording_write(&w, RECORDING_TICK, &tick, sizeof(tick)), 0);
	CHECK_INT(recording_write(&w, RECORDING_RECORD, rec2, sizeof(rec2)), 0);
	CHECK_INT(w.records, 2);
	CHECK_INT(recording_close(&w), 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(rd.mono_to_realtime_ns, -123456789);
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(kind, RECORDING_RECORD);
	CHECK_INT(size, sizeof(rec1));
	CHECK(memcmp(data, rec1, sizeof(rec1)) == 0);
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(kind, RECORDING_LOST);
	CHECK_INT(((const struct recording_lost *)data)->count, 7);
	CHECK_INT(((const struct recording_lost *)data)->kind, HT_DROP_DNS);
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(kind, RECORDING_TICK);
	CHECK_INT(size, sizeof(tick));
	CHECK_INT(*(const uint64_t *)data, tick);
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(size, sizeof(rec2));
	CHECK(memcmp(data, rec2, sizeof(rec2)) == 0);
	CHECK_INT(next(&kind, &data, &size), 0);
	CHECK_INT(next(&kind, &data, &size), 0);
	CHECK_INT(rd.items, 4);
	recording_close_reader(&rd);
	unlink(path);
}

/* a file cut anywhere inside an item is reported, never read as a
 * shorter record */
static void test_cut_anywhere(void)
{
	struct recording_writer w;
	uint8_t full[256], rec[21];
	size_t n, cut;
	enum recording_item_kind kind;
	const void *data;
	size_t size;

	memset(rec, 1, sizeof(rec));
	tmp_path();
	CHECK_INT(recording_create(&w, path, 0), 0);
	CHECK_INT(recording_write(&w, RECORDING_RECORD, rec, sizeof(rec)), 0);
	CHECK_INT(recording_close(&w), 0);
	n = read_bytes(full, sizeof(full));
	CHECK_INT(n, 24 + 8 + 24);
	for (cut = 24 + 1; cut < n; cut++) {
		int r;

		write_bytes(full, cut);
		CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
		r = next(&kind, &data, &size);
		CHECK_INT(r, -1);
		CHECK(strstr(err, "ends inside an item") != NULL);
		recording_close_reader(&rd);
	}
	/* cut inside the header */
	for (cut = 0; cut < 24; cut++) {
		write_bytes(full, cut);
		CHECK_INT(recording_open(&rd, path, err, sizeof(err)), -EINVAL);
		CHECK(err[0] != 0);
	}
	unlink(path);
}

static void test_bad_files(void)
{
	uint8_t buf[64] = { 0 };
	uint32_t *u = (uint32_t *)(buf + 24);
	enum recording_item_kind kind;
	const void *data;
	size_t size;

	tmp_path();
	/* not a recording */
	write_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 28);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "not a recording made by --record");
	/* another format version */
	memcpy(buf, RECORDING_MAGIC, 8);
	buf[8] = 9;
	buf[12] = 24;
	write_bytes(buf, 24);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "format 9") != NULL);
	buf[8] = RECORDING_VERSION;
	/* unknown item kind */
	u[0] = 77;
	u[1] = 8;
	write_bytes(buf, 40);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(next(&kind, &data, &size), -1);
	CHECK_STR(err, "unknown item kind 77 at byte 24");
	recording_close_reader(&rd);
	/* a length no record can have */
	u[0] = RECORDING_RECORD;
	u[1] = RECORDING_MAX_ITEM + 1;
	write_bytes(buf, 64);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(next(&kind, &data, &size), -1);
	CHECK(strstr(err, "impossible length") != NULL);
	recording_close_reader(&rd);
	/* a lost item of the wrong size, and one of an unknown kind */
	u[0] = RECORDING_LOST;
	u[1] = 8;
	write_bytes(buf, 40);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(next(&kind, &data, &size), -1);
	CHECK(strstr(err, "impossible length") != NULL);
	recording_close_reader(&rd);
	u[1] = sizeof(struct recording_lost);
	u[2] = HT_DROP_KIND_COUNT;
	write_bytes(buf, 24 + 8 + 16);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(next(&kind, &data, &size), -1);
	CHECK(strstr(err, "lost item of unknown kind") != NULL);
	recording_close_reader(&rd);
	/* a tick of the wrong size */
	u[0] = RECORDING_TICK;
	u[1] = 4;
	u[2] = 0;
	write_bytes(buf, 40);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(next(&kind, &data, &size), -1);
	CHECK(strstr(err, "impossible length") != NULL);
	recording_close_reader(&rd);
	/* a header and nothing else: an empty recording */
	write_bytes(buf, 24);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(next(&kind, &data, &size), 0);
	recording_close_reader(&rd);
	unlink(path);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), -ENOENT);
}

/* Format 1 had no service in DNS records: such a record is read in the
 * current layout with "" for the service; other records as they were. */
static void test_format1_dns(void)
{
	static uint8_t file[1024];
	size_t v1_size = offsetof(struct ht_dns_event, service);
	struct ht_dns_event dns;
	const struct ht_dns_event *got;
	uint32_t item[2];
	uint8_t other[40];
	enum recording_item_kind kind;
	const void *data;
	size_t size, n = 0, zeros = 0;

	memset(file, 0, sizeof(file));
	memcpy(file, RECORDING_MAGIC, 8);
	file[8] = 1;
	file[12] = 24;
	n = 24;
	memset(&dns, 0x5a, sizeof(dns)); /* the padded part must not show */
	dns.hdr.type = HT_EV_DNS;
	dns.n_addrs = 1;
	strcpy(dns.host, "old.test");
	item[0] = RECORDING_RECORD;
	item[1] = (uint32_t)v1_size;
	memcpy(file + n, item, 8);
	memcpy(file + n + 8, &dns, v1_size);
	n += 8 + ((v1_size + 7) & ~(size_t)7);
	/* a record of another type and a DNS record's size stays as it is */
	memset(other, 0, sizeof(other));
	((struct ht_event_header *)other)->type = HT_EV_PROC_EXIT;
	item[1] = (uint32_t)v1_size;
	memcpy(file + n, item, 8);
	memcpy(file + n + 8, other, sizeof(other));
	n += 8 + ((v1_size + 7) & ~(size_t)7);
	tmp_path();
	write_bytes(file, n);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(rd.version, 1);
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(size, sizeof(struct ht_dns_event));
	got = data;
	CHECK_STR(got->host, "old.test");
	CHECK_INT(got->n_addrs, 1);
	for (size_t i = 0; i < sizeof(got->service); i++)
		zeros += got->service[i] == 0;
	CHECK_INT(zeros, HT_DNS_SERVICE_LEN);
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(size, v1_size);
	CHECK_INT(next(&kind, &data, &size), 0);
	recording_close_reader(&rd);
	/* the same DNS record in a current file is short: as it is, for
	 * the correlator to reject */
	file[8] = RECORDING_VERSION;
	write_bytes(file, n);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(size, v1_size);
	recording_close_reader(&rd);
	unlink(path);
}

/* a full disk is an error in the writer, and stays one */
static void test_write_failure(void)
{
	struct recording_writer w;
	static uint8_t rec[RECORDING_MAX_ITEM];
	int r = 0;

	if (access("/dev/full", W_OK) != 0)
		return;
	CHECK_INT(recording_create(&w, "/dev/full", 0), 0);
	/* stdio buffers 1 MiB: write past it */
	for (int i = 0; i < 40 && !r; i++)
		r = recording_write(&w, RECORDING_RECORD, rec, sizeof(rec));
	CHECK_INT(r, -ENOSPC);
	CHECK_INT(recording_write(&w, RECORDING_RECORD, rec, 8), -ENOSPC);
	CHECK_INT(recording_close(&w), -ENOSPC);
	CHECK_INT(recording_create(&w, "/nonexistent/dir/file", 0), -ENOENT);
	/* too large an item */
	tmp_path();
	CHECK_INT(recording_create(&w, path, 0), 0);
	CHECK_INT(recording_write(&w, RECORDING_RECORD, rec,
				  RECORDING_MAX_ITEM + 1),
		  -EMSGSIZE);
	recording_close(&w);
	unlink(path);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_cut_anywhere);
	RUN(test_bad_files);
	RUN(test_write_failure);
	RUN(test_format1_dns);
	return unit_done("recording");
}
