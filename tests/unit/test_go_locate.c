// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * go_locate: version parsing; small images built in memory (every
 * table format, with and without section names, old and new build
 * information, broken and truncated); real Go binaries built by
 * tests/unit/go_locate_bins.sh, whose entries and RETs must equal
 * what `go tool objdump` shows (stripped ones: their unstripped
 * twin's).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "discover/elf_image.h"
#include "discover/go_locate.h"
#include "go_images.h"
#include "unit.h"

static const char *bins_dir(void)
{
	const char *d = getenv("GO_LOCATE_BINS");

	return d && *d ? d : "build/tests/go";
}

static bool under_ci(void)
{
	const char *ci = getenv("CI");

	return ci && !strcmp(ci, "true");
}

static void test_parse_version(void)
{
	static const struct {
		const char *s;
		int ret, major, minor;
	} cases[] = {
		{ "go1.19.8", 0, 1, 19 },
		{ "go1.21rc2", 0, 1, 21 },
		{ "go1.22.0 X:boringcrypto", 0, 1, 22 },
		{ "go1.24", 0, 1, 24 },
		{ "go1", 0, 1, 0 },
		{ "go1.15.15", 0, 1, 15 },
		{ "devel go1.23-abcdef Tue Jan 1", 0, 1, GO_DEVEL_MINOR },
		{ "devel +b7a85e0003", 0, 1, GO_DEVEL_MINOR },
		{ "", -EINVAL, 0, 0 },
		{ "go", -EINVAL, 0, 0 },
		{ "go1.", -EINVAL, 0, 0 },
		{ "1.19", -EINVAL, 0, 0 },
		{ "gox.1", -EINVAL, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int major = -1, minor = -1;
		int ret = go_locate_parse_version(cases[i].s, &major, &minor);

		if (ret != cases[i].ret || major != cases[i].major ||
		    minor != cases[i].minor)
			UNIT_FAIL_("\"%s\": got %d %d.%d, want %d %d.%d",
				   cases[i].s, ret, major, minor, cases[i].ret,
				   cases[i].major, cases[i].minor);
	}
}

static void test_func_name(void)
{
	CHECK_STR(go_locate_func_name(GO_FN_TLS_WRITE),
		  "crypto/tls.(*Conn).Write");
	CHECK_STR(go_locate_func_name(GO_FN_TLS_READ),
		  "crypto/tls.(*Conn).Read");
	CHECK_STR(go_locate_func_name(GO_FN_TLS_HANDSHAKE),
		  "crypto/tls.(*Conn).handshakeContext");
	CHECK(go_locate_func_name(GO_FN_COUNT) != NULL);
	CHECK(go_locate_func_name((enum go_func_id)-1) != NULL);
}

static void test_not_elf(void)
{
	struct go_binary b;
	unsigned char img[GO_IMG_MAX];
	struct go_img_opts o = { .version = "go1.20.1",
				 .pcln_magic = 0xfffffff1, .sections = true };
	size_t n;

	CHECK_INT(go_locate_mem((const unsigned char *)"", 0, &b), -ENOEXEC);
	CHECK_INT(go_locate_mem((const unsigned char *)"hello", 5, &b),
		  -ENOEXEC);
	CHECK(b.why != NULL);
	n = go_img_build(img, &o);
	img[EI_CLASS] = ELFCLASS32;
	CHECK_INT(go_locate_mem(img, n, &b), -ENOEXEC);
	n = go_img_build(img, &o);
	((Elf64_Ehdr *)img)->e_machine = EM_AARCH64;
	CHECK_INT(go_locate_mem(img, n, &b), -ENOEXEC);
	CHECK_STR(b.why, "not an x86-64 program");
	CHECK_INT(go_locate("/nonexistent/go/program", &b), -ENOENT);
	CHECK_INT(go_locate("/", &b), -ENOEXEC);
}

static void test_not_go(void)
{
	struct go_binary b;
	unsigned char img[GO_IMG_MAX];
	struct go_img_opts o = { .pcln_magic = 0xfffffff1, .sections = true };
	size_t n = go_img_build(img, &o);

	CHECK_INT(go_locate_mem(img, n, &b), -ENOENT);
	CHECK_STR(b.version, "");
	CHECK_INT(b.major, 0);
	/* a C program */
	CHECK_INT(go_locate("/bin/true", &b), -ENOENT);
	CHECK_STR(b.why, "no Go build information (.go.buildinfo)");
}

/* What the images of go_images.h hold, in any table format. */
static void check_img_funcs(const struct go_binary *b, bool many_rets)
{
	const struct go_func_loc *w = &b->funcs[GO_FN_TLS_WRITE];
	const struct go_func_loc *r = &b->funcs[GO_FN_TLS_READ];
	const struct go_func_loc *h = &b->funcs[GO_FN_TLS_HANDSHAKE];

	CHECK(!b->has_symtab);
	if (many_rets) {
		CHECK(!w->found);
		CHECK_STR(w->why, "it has more RET instructions than the "
				  "probes can hold");
	} else {
		CHECK(w->found);
		CHECK_INT(w->entry, 0x110);
		CHECK_INT(w->size, 0x10);
		CHECK_INT(w->n_rets, 2);
		CHECK_INT(w->rets[0], 0x112);
		CHECK_INT(w->rets[1], 0x116);
	}
	CHECK(!r->found);
	CHECK_STR(r->why, "its machine code does not decode");
	CHECK_INT(r->n_rets, 0);
	CHECK(!h->found);
	CHECK_STR(h->why, "not in Go's function table");
}

static void test_img_formats(void)
{
	static const uint32_t magics[] = { 0xfffffff1, 0xfffffff0,
					   0xfffffffa };
	unsigned char img[GO_IMG_MAX];
	struct go_binary b;

	for (int m = 0; m < 3; m++) {
		for (int sect = 0; sect < 2; sect++) {
			struct go_img_opts o = {
				.version = "go1.21.4",
				.pcln_magic = magics[m],
				.sections = sect,
			};
			size_t n = go_img_build(img, &o);

			CHECK_INT(go_locate_mem(img, n, &b), 0);
			CHECK_STR(b.version, "go1.21.4");
			CHECK_INT(b.major, 1);
			CHECK_INT(b.minor, 21);
			check_img_funcs(&b, false);
			o.many_rets = true;
			n = go_img_build(img, &o);
			CHECK_INT(go_locate_mem(img, n, &b), 0);
			check_img_funcs(&b, true);
		}
	}
}

/* Go 1.25+ tables: the text start from the module data, or .text */
static void test_img_no_text_start(void)
{
	unsigned char img[GO_IMG_MAX];
	struct go_binary b;
	struct go_img_opts o = { .version = "go1.26.1",
				 .pcln_magic = 0xfffffff1,
				 .no_text_start = true };
	size_t n;

	for (int sect = 0; sect < 2; sect++) {
		o.sections = sect;
		o.moduledata = true;
		n = go_img_build(img, &o);
		CHECK_INT(go_locate_mem(img, n, &b), 0);
		check_img_funcs(&b, false);
		o.moduledata = false;
		n = go_img_build(img, &o);
		/* without either nothing says where the offsets start */
		CHECK_INT(go_locate_mem(img, n, &b), sect ? 0 : -EBADMSG);
		if (sect)
			check_img_funcs(&b, false);
	}
}

static void test_img_old_buildinfo(void)
{
	unsigned char img[GO_IMG_MAX];
	struct go_binary b;
	struct go_img_opts o = { .version = "go1.15.15",
				 .old_buildinfo = true,
				 .pcln_magic = 0xfffffffa };
	size_t n;

	for (int sect = 0; sect < 2; sect++) {
		o.sections = sect;
		o.version = "go1.15.15";
		n = go_img_build(img, &o);
		CHECK_INT(go_locate_mem(img, n, &b), -EPROTONOSUPPORT);
		CHECK_STR(b.version, "go1.15.15");
		CHECK_INT(b.minor, 15);
		CHECK(b.why && strstr(b.why, "not supported"));
		o.version = "go1.17.13";
		n = go_img_build(img, &o);
		CHECK_INT(go_locate_mem(img, n, &b), 0);
		CHECK_STR(b.version, "go1.17.13");
		check_img_funcs(&b, false);
	}
	/* the new layout with an old version (not made by Go, but read) */
	o.old_buildinfo = false;
	o.version = "go1.16.2";
	n = go_img_build(img, &o);
	CHECK_INT(go_locate_mem(img, n, &b), -EPROTONOSUPPORT);
	CHECK_STR(b.version, "go1.16.2");
	o.version = "gibberish";
	n = go_img_build(img, &o);
	CHECK_INT(go_locate_mem(img, n, &b), -EBADMSG);
	o.version = "devel go1.99-123456";
	n = go_img_build(img, &o);
	CHECK_INT(go_locate_mem(img, n, &b), 0);
	CHECK_INT(b.minor, GO_DEVEL_MINOR);
}

static void test_img_broken_table(void)
{
	unsigned char img[GO_IMG_MAX];
	struct go_binary b;
	struct go_img_opts o = { .version = "go1.20.3",
				 .pcln_magic = 0xfffffff1, .sections = true };
	size_t n, pcln;
	Elf64_Shdr sh;

	/* no table at all */
	o.pcln_magic = 0;
	n = go_img_build(img, &o);
	CHECK_INT(go_locate_mem(img, n, &b), -EBADMSG);
	CHECK_STR(b.version, "go1.20.3");
	o.pcln_magic = 0xfffffff1;
	n = go_img_build(img, &o);
	memcpy(&sh, img + ((Elf64_Ehdr *)img)->e_shoff + 4 * sizeof(sh),
	       sizeof(sh));
	pcln = sh.sh_offset;
	/* nfunc beyond the table */
	go_img_put64(img + pcln + 8, 1000);
	CHECK_INT(go_locate_mem(img, n, &b), -EBADMSG);
	/* function table offset beyond it */
	n = go_img_build(img, &o);
	go_img_put64(img + pcln + 8 + 7 * 8, 1u << 30);
	CHECK_INT(go_locate_mem(img, n, &b), -EBADMSG);
	/* wrong pointer size */
	n = go_img_build(img, &o);
	img[pcln + 7] = 4;
	CHECK_INT(go_locate_mem(img, n, &b), -EBADMSG);
	/* a name offset out of the table: that function is not found */
	n = go_img_build(img, &o);
	for (size_t k = pcln; k + 4 < n; k++) {
		/* the Write record's nameoff is the only value 10 */
		uint32_t v;

		memcpy(&v, img + k, 4);
		if (v == 10 && k > pcln + 72) {
			go_img_put32(img + k, 0xfffffff0);
			break;
		}
	}
	CHECK_INT(go_locate_mem(img, n, &b), 0);
	CHECK(!b.funcs[GO_FN_TLS_WRITE].found);
}

/*
 * Every prefix of an image and every byte inverted: a defined answer,
 * never a crash (the ASan build of this test reads out of bounds
 * loudly).
 */
static void test_img_mutations(void)
{
	static const uint32_t magics[] = { 0xfffffff1, 0xfffffffa };
	unsigned char img[GO_IMG_MAX], copy[GO_IMG_MAX];
	struct go_binary b;

	for (int m = 0; m < 2; m++) {
		struct go_img_opts o = { .version = "go1.20.3",
					 .pcln_magic = magics[m],
					 .sections = true,
					 .old_buildinfo = m == 1 };
		size_t n = go_img_build(img, &o);

		for (size_t len = 0; len <= n; len++) {
			int ret;
			unsigned char *p = malloc(len ? len : 1);

			memcpy(p, img, len);
			ret = go_locate_mem(p, len, &b);
			free(p);
			if (ret != 0 && ret != -ENOEXEC && ret != -ENOENT &&
			    ret != -EBADMSG && ret != -EPROTONOSUPPORT)
				UNIT_FAIL_("prefix %zu: %d", len, ret);
		}
		for (size_t i = 0; i < n; i++) {
			int ret;

			memcpy(copy, img, n);
			copy[i] ^= 0xff;
			ret = go_locate_mem(copy, n, &b);
			if (ret != 0 && ret != -ENOEXEC && ret != -ENOENT &&
			    ret != -EBADMSG && ret != -EPROTONOSUPPORT)
				UNIT_FAIL_("byte %zu inverted: %d", i, ret);
			for (int k = 0; k < GO_FN_COUNT; k++)
				if (b.funcs[k].n_rets < 0 ||
				    b.funcs[k].n_rets > GO_MAX_RETS)
					UNIT_FAIL_("byte %zu: %d RETs", i,
						   b.funcs[k].n_rets);
		}
	}
}

/* ---- real Go binaries ------------------------------------------------- */

#define TRUTH_CONN_TYPES 8

struct truth_conn_type {
	char name[64];
	int kind;
	unsigned int off;
	uint32_t hash;
};

struct truth {
	char version[64];
	int n_conn;
	struct truth_conn_type conn[TRUTH_CONN_TYPES];
	bool have[GO_FN_COUNT];
	uint64_t entry[GO_FN_COUNT];
	int n_rets[GO_FN_COUNT];
	uint64_t rets[GO_FN_COUNT][GO_MAX_RETS + 1];
};

static int read_truth(const char *path, struct truth *t)
{
	char line[4096];
	FILE *f = fopen(path, "re");

	memset(t, 0, sizeof(*t));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char name[256], *p;
		int k, used;

		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "version ", 8)) {
			size_t n = strnlen(line + 8, sizeof(t->version) - 1);

			memcpy(t->version, line + 8, n);
			t->version[n] = '\0';
			continue;
		}
		if (!strncmp(line, "conn ", 5) && t->n_conn < TRUTH_CONN_TYPES) {
			struct truth_conn_type *c = &t->conn[t->n_conn];

			if (sscanf(line, "conn %63s %d %u %" SCNu32, c->name,
				   &c->kind, &c->off, &c->hash) == 4)
				t->n_conn++;
			continue;
		}
		if (sscanf(line, "func %255s%n", name, &used) != 1)
			continue;
		for (k = 0; k < GO_FN_COUNT; k++)
			if (!strcmp(name, go_locate_func_name(k)))
				break;
		if (k == GO_FN_COUNT)
			continue;
		p = line + used;
		t->entry[k] = strtoull(p, &p, 16);
		t->have[k] = true;
		while (*p && t->n_rets[k] <= GO_MAX_RETS) {
			char *end;
			uint64_t v = strtoull(p, &end, 16);

			if (end == p)
				break;
			t->rets[k][t->n_rets[k]++] = v;
			p = end;
		}
	}
	fclose(f);
	return 0;
}

/* The net.Conn types found, against what the Go runtime in the binary
 * says of them: each by name with its kind, offset and hash. */
static void check_conn_types(const char *bin, const struct go_binary *b,
			     const struct truth *t)
{
	if (t->n_conn < 5)
		UNIT_FAIL_("%s: truth has %d conn lines, want 5", bin,
			   t->n_conn);
	if (!b->n_conn_types)
		UNIT_FAIL_("%s: no net.Conn types: %s", bin,
			   b->conn_types_why ? b->conn_types_why : "?");
	for (int i = 0; i < t->n_conn; i++) {
		const struct truth_conn_type *w = &t->conn[i];
		const struct go_conn_type *got = NULL;

		for (int k = 0; k < b->n_conn_types; k++)
			if (!strcmp(b->conn_types[k].name, w->name))
				got = &b->conn_types[k];
		if (!got) {
			UNIT_FAIL_("%s: net.Conn type %s not found (%d found)",
				   bin, w->name, b->n_conn_types);
			continue;
		}
		if (got->kind != w->kind || got->off != w->off ||
		    got->hash != w->hash)
			UNIT_FAIL_("%s: %s: kind %d offset %u hash %" PRIu32
				   ", Go says %d %u %" PRIu32, bin, w->name,
				   got->kind, got->off, got->hash, w->kind,
				   w->off, w->hash);
	}
}

/* One binary against its truth; returns how many functions matched. */
static int check_binary(const char *dir, const char *variant)
{
	char bin[1024], tpath[1100];
	struct go_binary b;
	struct truth t;
	int ret, matched = 0;
	bool stripped = strstr(variant, "stripped") != NULL;

	snprintf(bin, sizeof(bin), "%s/%s", dir, variant);
	snprintf(tpath, sizeof(tpath), "%s.truth", bin);
	if (read_truth(tpath, &t)) {
		UNIT_FAIL_("%s: no truth file", tpath);
		return 0;
	}
	ret = go_locate(bin, &b);
	if (strcmp(b.version, t.version))
		UNIT_FAIL_("%s: version \"%s\", go version says \"%s\"", bin,
			   b.version, t.version);
	if (b.major == 1 && b.minor < 17) {
		if (ret != -EPROTONOSUPPORT)
			UNIT_FAIL_("%s: %s: got %d, want -EPROTONOSUPPORT",
				   bin, b.version, ret);
		return 0;
	}
	if (ret) {
		UNIT_FAIL_("%s: go_locate: %d (%s)", bin, ret,
			   b.why ? b.why : "");
		return 0;
	}
	if (b.has_symtab == stripped)
		UNIT_FAIL_("%s: has_symtab %d", bin, b.has_symtab);
	check_conn_types(bin, &b, &t);
	for (int k = 0; k < GO_FN_COUNT; k++) {
		const struct go_func_loc *f = &b.funcs[k];
		bool same = true;

		if (!t.have[k]) {
			UNIT_FAIL_("%s: truth lacks %s", tpath,
				   go_locate_func_name(k));
			continue;
		}
		if (!f->found) {
			UNIT_FAIL_("%s: %s not found: %s", bin,
				   go_locate_func_name(k),
				   f->why ? f->why : "?");
			continue;
		}
		if (f->entry != t.entry[k]) {
			UNIT_FAIL_("%s: %s entry %#" PRIx64 ", objdump %#"
				   PRIx64, bin, go_locate_func_name(k),
				   f->entry, t.entry[k]);
			same = false;
		}
		if (f->n_rets != t.n_rets[k] || t.n_rets[k] == 0) {
			UNIT_FAIL_("%s: %s: %d RETs, objdump %d", bin,
				   go_locate_func_name(k), f->n_rets,
				   t.n_rets[k]);
			same = false;
		} else {
			for (int r = 0; r < f->n_rets; r++)
				if (f->rets[r] != t.rets[k][r]) {
					UNIT_FAIL_("%s: %s RET %d at %#" PRIx64
						   ", objdump %#" PRIx64,
						   bin, go_locate_func_name(k),
						   r, f->rets[r], t.rets[k][r]);
					same = false;
				}
		}
		if (f->size == 0 || (f->n_rets &&
				     f->entry + f->size <=
					     f->rets[f->n_rets - 1]))
			UNIT_FAIL_("%s: %s size %" PRIu64, bin,
				   go_locate_func_name(k), f->size);
		matched += same;
	}
	return matched;
}

static const char *const variants[] = {
	"default", "static", "stripped", "static-stripped", "pie",
	"pie-stripped", "static-pie", "static-pie-stripped",
};

static void test_go_binaries(void)
{
	char path[1024], line[256];
	const char *dir = bins_dir();
	bool host_ok = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/toolchains", dir);
	f = fopen(path, "re");
	if (!f) {
		if (under_ci())
			UNIT_FAIL_("%s: missing: the Go binaries were not "
				   "built (is go installed? CI installs "
				   "golang-go)", path);
		else
			printf("go_locate: SKIP real Go binaries: %s missing "
			       "(no go on PATH when make ran)\n", path);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char label[64], status[64], tc[512];
		int checked = 0, matched = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%63s %63s", label, status) != 2)
			continue;
		if (strcmp(status, "ok")) {
			if (!strcmp(label, "host") && under_ci())
				UNIT_FAIL_("toolchain %s", line);
			else
				printf("go_locate: SKIP toolchain %s\n", line);
			continue;
		}
		if (!strcmp(label, "host"))
			host_ok = true;
		snprintf(tc, sizeof(tc), "%s/%s", dir, label);
		for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]);
		     v++) {
			struct stat st;

			snprintf(path, sizeof(path), "%s/%s", tc, variants[v]);
			if (stat(path, &st))
				continue; /* Go < 1.17: only "default" */
			checked++;
			matched += check_binary(tc, variants[v]);
		}
		printf("go_locate: toolchain %s: %d binaries, %d functions "
		       "as objdump shows them%s\n", line, checked, matched,
		       checked == 1 && !matched ? " (refused: Go < 1.17)" :
						   "");
		if (!checked)
			UNIT_FAIL_("toolchain %s: no binaries in %s", label,
				   tc);
	}
	fclose(f);
	if (!host_ok && under_ci())
		UNIT_FAIL_("CI=true and the host's Go binaries are missing");
}

/* The fallbacks on a real stripped binary: section names gone, or the
 * function table broken. */
static void check_fallbacks(const char *label, const char *variant)
{
	char path[1024];
	const unsigned char *map;
	unsigned char *img;
	size_t size;
	struct elf_image ei;
	struct go_binary want, b;
	Elf64_Shdr strsh, sh;
	uint64_t pcln_off = 0;

	snprintf(path, sizeof(path), "%s/%s/%s", bins_dir(), label, variant);
	if (elf_image_map_file(path, &map, &size)) {
		if (under_ci())
			UNIT_FAIL_("%s missing", path);
		else
			printf("go_locate: SKIP fallbacks: %s missing\n", path);
		return;
	}
	img = malloc(size);
	if (!img) {
		UNIT_FAIL_("out of memory");
		return;
	}
	memcpy(img, map, size);
	elf_image_unmap(map, size);
	CHECK_INT(go_locate_mem(img, size, &want), 0);
	CHECK(want.funcs[GO_FN_TLS_WRITE].found);
	CHECK(!want.has_symtab);

	/* no section names at all: segments and the magic are enough */
	CHECK_INT(elf_image_init(&ei, img, size), 0);
	CHECK(elf_image_section(&ei, ei.eh.e_shstrndx, &strsh));
	for (unsigned int i = 0; elf_image_section(&ei, i, &sh); i++)
		if (sh.sh_name < strsh.sh_size &&
		    strstr((char *)img + strsh.sh_offset + sh.sh_name,
			   "gopclntab"))
			pcln_off = sh.sh_offset;
	CHECK(pcln_off != 0);
	memset(img + strsh.sh_offset, 'x', strsh.sh_size);
	CHECK_INT(go_locate_mem(img, size, &b), 0);
	CHECK_STR(b.version, want.version);
	for (int k = 0; k < GO_FN_COUNT; k++) {
		CHECK(b.funcs[k].found);
		CHECK_INT(b.funcs[k].entry, want.funcs[k].entry);
		CHECK_INT(b.funcs[k].n_rets, want.funcs[k].n_rets);
		CHECK(!memcmp(b.funcs[k].rets, want.funcs[k].rets,
			      sizeof(b.funcs[k].rets)));
	}
	/* and the function table's magic broken: nothing to read */
	if (pcln_off && pcln_off + 4 <= size) {
		memset(img + pcln_off, 0, 4);
		CHECK_INT(go_locate_mem(img, size, &b), -EBADMSG);
		CHECK_STR(b.version, want.version);
		CHECK_STR(b.why, "no readable Go function table (.gopclntab)");
	}
	free(img);
}

static void test_go_binary_fallbacks(void)
{
	char path[1024], line[256], label[64], status[64];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/toolchains", bins_dir());
	f = fopen(path, "re");
	if (!f) {
		if (under_ci())
			UNIT_FAIL_("%s missing", path);
		else
			printf("go_locate: SKIP fallbacks: %s missing\n", path);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		struct stat st;

		if (sscanf(line, "%63s %63s", label, status) != 2 ||
		    strcmp(status, "ok"))
			continue;
		/* Go < 1.17: only a default binary, refused */
		snprintf(path, sizeof(path), "%s/%s/pie-stripped", bins_dir(),
			 label);
		if (stat(path, &st))
			continue;
		check_fallbacks(label, "stripped");
		check_fallbacks(label, "static-stripped");
		check_fallbacks(label, "pie-stripped");
		check_fallbacks(label, "static-pie-stripped");
		n++;
	}
	fclose(f);
	printf("go_locate: fallbacks checked with %d toolchains\n", n);
}

/* Built without libzydis-dev: no function is found, and why says so.
 * The tests of images and binaries need the RETs: skipped, which under
 * CI=true is a failure. */
static void test_no_disassembler(void)
{
	struct go_binary b;
	unsigned char img[GO_IMG_MAX];
	struct go_img_opts o = { .version = "go1.21.4",
				 .pcln_magic = 0xfffffff1 };
	size_t n = go_img_build(img, &o);

	CHECK_INT(go_locate_mem(img, n, &b), 0);
	CHECK(!b.funcs[GO_FN_TLS_WRITE].found);
	CHECK_STR(b.funcs[GO_FN_TLS_WRITE].why, "this build of httptrace-bpf "
		  "has no disassembler (built without libzydis-dev, or the "
		  "static build)");
	if (under_ci())
		UNIT_FAIL_("CI=true and built without Zydis (libzydis-dev)");
	else
		printf("go_locate: SKIP images and Go binaries: built "
		       "without Zydis (libzydis-dev)\n");
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_parse_version);
	RUN(test_func_name);
	RUN(test_not_elf);
	RUN(test_not_go);
	if (!go_locate_disassembler()) {
		RUN(test_no_disassembler);
		return unit_done("go_locate");
	}
	RUN(test_img_formats);
	RUN(test_img_no_text_start);
	RUN(test_img_old_buildinfo);
	RUN(test_img_broken_table);
	RUN(test_img_mutations);
	RUN(test_go_binaries);
	RUN(test_go_binary_fallbacks);
	return unit_done("go_locate");
}
