// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --record / --replay files: round trip, and every way a file can be bad. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httptrace_events.h"
#include "record/recording.h"
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
	CHECK_INT(recording_create(&w, path, -123456789, err, sizeof(err)), 0);
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
	CHECK_INT(recording_create(&w, path, 0, err, sizeof(err)), 0);
	CHECK_INT(recording_write(&w, RECORDING_RECORD, rec, sizeof(rec)), 0);
	CHECK_INT(recording_close(&w), 0);
	n = read_bytes(full, sizeof(full));
	CHECK_INT(n, 32 + 12 + 21 + 7);
	for (cut = 32 + 1; cut < n; cut++) {
		int r;

		write_bytes(full, cut);
		CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
		r = next(&kind, &data, &size);
		CHECK_INT(r, -1);
		CHECK(strstr(err, "ends inside an item") != NULL);
		recording_close_reader(&rd);
	}
	/* cut inside the header */
	for (cut = 0; cut < 32; cut++) {
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
	/* the item checks below, on format 1 (no CRC to get past) */
	buf[8] = RECORDING_VERSION_UNCHECKED;
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
	file[8] = RECORDING_VERSION_UNCHECKED;
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

	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	/* recording_create refuses devices: the writer on its own */
	CHECK_INT(recording_start(&w, fd, 0), 0);
	/* stdio buffers 1 MiB: write past it */
	for (int i = 0; i < 40 && !r; i++)
		r = recording_write(&w, RECORDING_RECORD, rec, sizeof(rec));
	CHECK_INT(r, -ENOSPC);
	CHECK_INT(recording_write(&w, RECORDING_RECORD, rec, 8), -ENOSPC);
	CHECK_INT(recording_close(&w), -ENOSPC);
	CHECK_INT(recording_create(&w, "/nonexistent/dir/file", 0, err,
				   sizeof(err)), -ENOENT);
	CHECK_STR(err, "No such file or directory");
	/* too large an item */
	tmp_path();
	CHECK_INT(recording_create(&w, path, 0, err, sizeof(err)), 0);
	CHECK_INT(recording_write(&w, RECORDING_RECORD, rec,
				  RECORDING_MAX_ITEM + 1),
		  -EMSGSIZE);
	recording_close(&w);
	unlink(path);
}

/* The items of the recording at path, as read, into items[] (each item
 * as kind, size, payload); the reader's last return. */
static int read_all(uint8_t *items, size_t max, size_t *len, int *n_items)
{
	enum recording_item_kind kind;
	const void *data;
	size_t size;
	int r;

	*len = 0;
	*n_items = 0;
	err[0] = 0;
	r = recording_open(&rd, path, err, sizeof(err));
	if (r)
		return r;
	while ((r = next(&kind, &data, &size)) > 0) {
		if (*len + 8 + size > max)
			break;
		memcpy(items + *len, &kind, 4);
		memcpy(items + *len + 4, &size, 4);
		memcpy(items + *len + 8, data, size);
		*len += 8 + size;
		(*n_items)++;
	}
	recording_close_reader(&rd);
	return r;
}

/* Any one byte of a recording changed: the reader says the file is
 * corrupt (or not a recording, or of no known format) and hands out
 * nothing that differs from what was written: what it gives before the
 * error is the original's items, in order. */
static void test_flipped_byte(void)
{
	static uint8_t full[512], bad[512], want[1024], got[1024];
	struct recording_writer w;
	struct recording_lost lost = { .kind = HT_DROP_CONN, .count = 3 };
	uint64_t tick = 42;
	uint8_t rec[40];
	size_t n, want_len, got_len;
	int want_n, got_n;

	for (size_t i = 0; i < sizeof(rec); i++)
		rec[i] = (uint8_t)(i * 7);
	tmp_path();
	CHECK_INT(recording_create(&w, path, 1000, err, sizeof(err)), 0);
	CHECK_INT(recording_write(&w, RECORDING_RECORD, rec, sizeof(rec)), 0);
	CHECK_INT(recording_write(&w, RECORDING_TICK, &tick, sizeof(tick)), 0);
	CHECK_INT(recording_write(&w, RECORDING_LOST, &lost, sizeof(lost)), 0);
	CHECK_INT(recording_write(&w, RECORDING_RECORD, rec, 5), 0);
	CHECK_INT(recording_close(&w), 0);
	n = read_bytes(full, sizeof(full));
	CHECK(n > 32);
	CHECK_INT(read_all(want, sizeof(want), &want_len, &want_n), 0);
	CHECK_INT(want_n, 4);
	for (size_t at = 0; at < n; at++) {
		for (int bit = 0; bit < 8; bit += 3) {
			int r;

			memcpy(bad, full, n);
			bad[at] ^= (uint8_t)(1u << bit);
			write_bytes(bad, n);
			r = read_all(got, sizeof(got), &got_len, &got_n);
			if (r == 0) {
				fprintf(stderr, "byte %zu bit %d: read as a "
					"whole recording\n", at, bit);
				CHECK(0);
				continue;
			}
			CHECK(err[0] != 0);
			CHECK(got_n < want_n);
			CHECK(memcmp(got, want, got_len) == 0);
			if (at >= 32)
				CHECK(strstr(err, "corrupt") ||
				      strstr(err, "ends inside an item"));
		}
	}
	/* the message says where: the second item starts at 32 + 12 + 40 +
	 * 4 (padding) */
	memcpy(bad, full, n);
	bad[32 + 56 + 13] ^= 1;
	write_bytes(bad, n);
	CHECK_INT(read_all(got, sizeof(got), &got_len, &got_n), -1);
	CHECK_INT(got_n, 1);
	CHECK_STR(err, "the recording is corrupt at byte 88: the item there "
		       "does not match its checksum (bytes changed, or items "
		       "lost or moved)");
	/* an item left out is caught by the next one's checksum */
	memcpy(bad, full, 88);
	memcpy(bad + 88, full + 88 + 24, n - 88 - 24);
	write_bytes(bad, n - 24);
	CHECK_INT(read_all(got, sizeof(got), &got_len, &got_n), -1);
	CHECK_INT(got_n, 1);
	CHECK(strstr(err, "corrupt at byte 88") != NULL);
	unlink(path);
}

/* Format 1 (no checksums) is still read. */
static void test_format_1(void)
{
	uint8_t buf[24 + 8 + 8] = "HTRECORD";
	uint32_t *u = (uint32_t *)buf;
	int64_t mono = -5;
	enum recording_item_kind kind;
	const void *data;
	size_t size;

	u[2] = 1;
	u[3] = 24;
	memcpy(buf + 16, &mono, 8);
	u[6] = RECORDING_RECORD;
	u[7] = 3;
	memcpy(buf + 32, "abc", 3);
	tmp_path();
	write_bytes(buf, sizeof(buf));
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(rd.version, 1);
	CHECK_INT(rd.mono_to_realtime_ns, -5);
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(size, 3);
	CHECK(memcmp(data, "abc", 3) == 0);
	CHECK_INT(next(&kind, &data, &size), 0);
	recording_close_reader(&rd);
	unlink(path);
}

/* What is at the path already is looked at, never written through. */
static void test_create_refuses(void)
{
	static const char secret[] = "not for the recording";
	struct recording_writer w;
	char dir[] = "/tmp/ht_test_rec_dir.XXXXXX";
	char target[48], at[48];
	uint8_t buf[64];
	struct stat st;
	int fd;

	if (!mkdtemp(dir))
		return;
	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(at, sizeof(at), "%s/rec", dir);
	snprintf(path, sizeof(path), "%s", target);
	write_bytes(secret, sizeof(secret));
	/* a symbolic link, to a file or to nowhere */
	CHECK_INT(symlink(target, at), 0);
	CHECK_INT(recording_create(&w, at, 0, err, sizeof(err)), -ELOOP);
	CHECK(strstr(err, "symbolic link") != NULL);
	CHECK_INT(read_bytes(buf, sizeof(buf)), sizeof(secret));
	unlink(at);
	CHECK_INT(symlink("/nonexistent/ht_test_rec", at), 0);
	CHECK_INT(recording_create(&w, at, 0, err, sizeof(err)), -ELOOP);
	CHECK(access("/nonexistent/ht_test_rec", F_OK) != 0);
	unlink(at);
	/* a FIFO: refused at once, not waited on */
	CHECK_INT(mkfifo(at, 0600), 0);
	CHECK_INT(recording_create(&w, at, 0, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "it is a FIFO, not a regular file");
	unlink(at);
	/* a file others may write */
	snprintf(path, sizeof(path), "%s", at);
	write_bytes(secret, sizeof(secret));
	chmod(at, 0666);
	CHECK_INT(recording_create(&w, at, 0, err, sizeof(err)), -EPERM);
	CHECK_STR(err, "others may write it (mode 0666): remove it or record "
		       "elsewhere");
	CHECK_INT(read_bytes(buf, sizeof(buf)), sizeof(secret));
	/* another user's file (root can make one) */
	if (geteuid() == 0) {
		chmod(at, 0600);
		CHECK_INT(chown(at, 65534, 65534), 0);
		CHECK_INT(recording_create(&w, at, 0, err, sizeof(err)),
			  -EPERM);
		CHECK(strstr(err, "belongs to another user (uid 65534)"));
		CHECK_INT(read_bytes(buf, sizeof(buf)), sizeof(secret));
		CHECK_INT(chown(at, 0, 0), 0);
	}
	/* a file of ours, readable by others and held open by a reader:
	 * replaced, the reader keeps the old one */
	chmod(at, 0644);
	fd = open(at, O_RDONLY);
	CHECK_INT(recording_create(&w, at, 0, err, sizeof(err)), 0);
	CHECK_INT(recording_write(&w, RECORDING_RECORD, "x", 1), 0);
	CHECK_INT(recording_close(&w), 0);
	CHECK(stat(at, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == sizeof(secret) &&
	      !memcmp(buf, secret, sizeof(secret)));
	if (fd >= 0)
		close(fd);
	unlink(at);
	/* a fresh path */
	CHECK_INT(recording_create(&w, at, 0, err, sizeof(err)), 0);
	CHECK_INT(recording_close(&w), 0);
	CHECK(stat(at, &st) == 0 && (st.st_mode & 0777) == 0600 &&
	      st.st_size == 32);
	unlink(at);
	unlink(target);
	rmdir(dir);
}

/* Connection records of formats before 4 end before the cgroup id: read
 * with it 0; cgroup items exist from format 4 on. */
static void test_format3_conn_and_cgroup_items(void)
{
	static const size_t v3_size = offsetof(struct ht_conn_event, cgroup_id);
	uint8_t file[256] = "HTRECORD";
	uint32_t item[2];
	struct ht_conn_event ev;
	const struct ht_conn_event *got;
	enum recording_item_kind kind;
	const void *data;
	size_t size, n;

	CHECK_INT(v3_size, 112); /* the layout formats 1 to 3 wrote */
	/* format 2: no checksums, so written here by hand */
	file[8] = 2;
	file[12] = 24;
	n = 24;
	memset(&ev, 0x5a, sizeof(ev)); /* the padded part must not show */
	ev.hdr.type = HT_EV_ACCEPT;
	ev.conn.fd = 9;
	item[0] = RECORDING_RECORD;
	item[1] = (uint32_t)v3_size;
	memcpy(file + n, item, 8);
	memcpy(file + n + 8, &ev, v3_size);
	n += 8 + v3_size;
	tmp_path();
	write_bytes(file, n);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(size, sizeof(struct ht_conn_event));
	got = data;
	CHECK_INT(got->conn.fd, 9);
	CHECK_INT(got->cgroup_id, 0);
	CHECK_INT(next(&kind, &data, &size), 0);
	recording_close_reader(&rd);
	/* a cgroup item in a format 2 file is no item of that format */
	item[0] = RECORDING_CGROUP;
	item[1] = 8;
	memcpy(file + n, item, 8);
	memset(file + n + 8, 0, 8);
	write_bytes(file, n + 16);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(next(&kind, &data, &size), -1);
	CHECK(strstr(err, "unknown item kind 4") != NULL);
	recording_close_reader(&rd);
	unlink(path);
}

/* Format 4: whole connection records and cgroup items round trip; a
 * cgroup item too short, too long or with a NUL in its path is corrupt. */
static void test_cgroup_items(void)
{
	static const char cg_path[] = "/system.slice/docker-ab.scope";
	struct {
		struct recording_cgroup c;
		char path[RECORDING_CGROUP_PATH_MAX + 8];
	} cg;
	struct recording_writer w;
	struct ht_conn_event ev;
	const struct recording_cgroup *gotc;
	enum recording_item_kind kind;
	const void *data;
	size_t size;
	int bad;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = HT_EV_CONNECT_START;
	ev.cgroup_id = 0x1234;
	memset(&cg, 'p', sizeof(cg));
	cg.c.id = 0x1234;
	memcpy(cg.path, cg_path, sizeof(cg_path) - 1);
	tmp_path();
	CHECK_INT(recording_create(&w, path, 0, err, sizeof(err)), 0);
	recording_write(&w, RECORDING_CGROUP, &cg,
			sizeof(cg.c) + sizeof(cg_path) - 1);
	recording_write(&w, RECORDING_CGROUP, &cg, sizeof(cg.c)); /* none */
	recording_write(&w, RECORDING_RECORD, &ev, sizeof(ev));
	CHECK_INT(recording_close(&w), 0);
	CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
	CHECK_INT(rd.version, RECORDING_VERSION);
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(kind, RECORDING_CGROUP);
	CHECK_INT(size, sizeof(cg.c) + sizeof(cg_path) - 1);
	gotc = data;
	CHECK_INT(gotc->id, 0x1234);
	CHECK(memcmp(gotc->path, cg_path, sizeof(cg_path) - 1) == 0);
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(size, sizeof(cg.c));
	CHECK_INT(next(&kind, &data, &size), 1);
	CHECK_INT(kind, RECORDING_RECORD);
	CHECK_INT(size, sizeof(ev));
	CHECK_INT(((const struct ht_conn_event *)data)->cgroup_id, 0x1234);
	CHECK_INT(next(&kind, &data, &size), 0);
	recording_close_reader(&rd);
	for (bad = 0; bad < 3; bad++) {
		size_t len = bad == 0 ? 4 :
			     bad == 1 ? sizeof(cg.c) + RECORDING_CGROUP_PATH_MAX + 1 :
					sizeof(cg.c) + 5;

		memset(cg.path, 'p', sizeof(cg.path));
		if (bad == 2)
			cg.path[2] = '\0';
		CHECK_INT(recording_create(&w, path, 0, err, sizeof(err)), 0);
		recording_write(&w, RECORDING_CGROUP, &cg, len);
		CHECK_INT(recording_close(&w), 0);
		CHECK_INT(recording_open(&rd, path, err, sizeof(err)), 0);
		CHECK_INT(next(&kind, &data, &size), -1);
		CHECK(strstr(err, "corrupt") != NULL);
		recording_close_reader(&rd);
	}
	unlink(path);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_round_trip);
	RUN(test_cut_anywhere);
	RUN(test_bad_files);
	RUN(test_write_failure);
	RUN(test_format1_dns);
	RUN(test_flipped_byte);
	RUN(test_format_1);
	RUN(test_create_refuses);
	RUN(test_format3_conn_and_cgroup_items);
	RUN(test_cgroup_items);
	return unit_done("recording");
}
