// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Formats read here (Go's own readers: src/debug/buildinfo, and
 * src/debug/gosym/pclntab.go):
 *
 * .go.buildinfo: 16-byte aligned, "\xff Go buildinf:", a pointer size
 * byte, a flags byte; with flag 0x2 (Go 1.18+) two varint-prefixed
 * strings follow the 32-byte header (version, module info), else (Go
 * 1.13-1.17) two pointers at +16 and +16+ptrsize to Go string headers
 * (data pointer, length).
 *
 * pclntab header: magic (u32), 0, 0, PC quantum, pointer size, then
 * pointer-size words: Go 1.16-1.17 (0xfffffffa): nfunc, nfiles,
 * funcnametab, cutab, filetab, pctab, functab offsets; Go 1.18+
 * (0xfffffff0, 1.20+ 0xfffffff1): nfunc, nfiles, text start (0 in
 * newer ones), then the same five offsets. The function table holds
 * nfunc (pc, funcoff) pairs and a last pc (the end of the last
 * function): pointer-size absolute PCs before 1.18, u32 offsets from
 * the text start since. funcoff
 * leads, from the table's start, to a _func whose first field is the
 * entry (pointer, or u32 since 1.18) followed by the name's offset in
 * funcnametab (i32).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef GO_LOCATE_NO_ZYDIS
#include <Zydis/Zydis.h>
#endif

#include "discover/elf_image.h"
#include "discover/go_locate.h"
#include "httptrace_go_tls.h"

#define BUILDINFO_MAGIC "\xff Go buildinf:"
#define BUILDINFO_MAGIC_LEN 14
#define BUILDINFO_HDR 32
#define BUILDINFO_ALIGN 16

#define PCLN_MAGIC_116 0xfffffffau
#define PCLN_MAGIC_118 0xfffffff0u
#define PCLN_MAGIC_120 0xfffffff1u

/* A function longer than this is not a crypto/tls method: a wrong
 * table, not code to decode */
#define GO_FUNC_MAX_SIZE (1u << 20)
/* more functions than any real program: the header is garbage */
#define PCLN_MAX_FUNCS (1u << 24)

static const char *const go_func_names[GO_FN_COUNT] = {
#define GO_FN_NAME_(id, symbol) symbol,
	GO_FUNCS(GO_FN_NAME_)
};

const char *go_locate_func_name(enum go_func_id id)
{
	if ((unsigned int)id >= GO_FN_COUNT)
		return "(unknown Go function)";
	return go_func_names[id];
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ---- version ----------------------------------------------------------- */

static int parse_decimal(const char **s)
{
	long v = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		if (v < 100000)
			v = v * 10 + (*p - '0');
		p++;
	}
	*s = p;
	return (int)v;
}

int go_locate_parse_version(const char *v, int *major, int *minor)
{
	const char *p;
	int maj, min = 0;

	*major = *minor = 0;
	/* a toolchain built from source: as new as Go gets */
	if (!strncmp(v, "devel", 5)) {
		*major = 1;
		*minor = GO_DEVEL_MINOR;
		return 0;
	}
	if (strncmp(v, "go", 2))
		return -EINVAL;
	p = v + 2;
	maj = parse_decimal(&p);
	if (maj < 0)
		return -EINVAL;
	/* "go1", "go1.21.3", "go1.21rc2", "go1.22.0 X:boringcrypto" */
	if (*p == '.') {
		p++;
		min = parse_decimal(&p);
		if (min < 0)
			return -EINVAL;
	}
	*major = maj;
	*minor = min;
	return 0;
}

/* ---- .go.buildinfo ----------------------------------------------------- */

/* The first 16-byte aligned blob with the magic in [d, d + n). */
static const unsigned char *scan_buildinfo(const unsigned char *d,
					   uint64_t n, uint64_t vaddr)
{
	/* alignment is of the address, which the loader keeps */
	uint64_t i = (BUILDINFO_ALIGN - vaddr % BUILDINFO_ALIGN) %
		     BUILDINFO_ALIGN;

	for (; i < n && n - i >= BUILDINFO_HDR; i += BUILDINFO_ALIGN) {
		const unsigned char *m = memchr(d + i, 0xff, n - i);

		if (!m)
			return NULL;
		/* jump to the aligned slot at or before the next 0xff */
		if ((uint64_t)(m - d) > i)
			i += ((uint64_t)(m - d) - i) / BUILDINFO_ALIGN *
			     BUILDINFO_ALIGN;
		if (n - i < BUILDINFO_HDR)
			return NULL;
		if (!memcmp(d + i, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN))
			return d + i;
	}
	return NULL;
}

/* The blob and how many bytes of the file follow its start. */
static const unsigned char *find_buildinfo(const struct elf_image *ei,
					   uint64_t *avail)
{
	const unsigned char *b;
	Elf64_Shdr sh;
	Elf64_Phdr ph;
	uint64_t off;

	if (elf_image_section_by_name(ei, ".go.buildinfo", &sh) &&
	    elf_image_vaddr_to_off(ei, sh.sh_addr, &off, avail)) {
		/* what Go reads: 64 KiB from the section's start */
		uint64_t n = *avail < 65536 ? *avail : 65536;

		b = scan_buildinfo(ei->img + off, n, sh.sh_addr);
		if (b) {
			*avail -= (uint64_t)(b - (ei->img + off));
			return b;
		}
	}
	/* linkers that drop section names: the writable data segments */
	for (unsigned int i = 0; elf_image_segment(ei, i, &ph); i++) {
		if (ph.p_type != PT_LOAD ||
		    (ph.p_flags & (PF_X | PF_W)) != PF_W ||
		    !elf_image_vaddr_to_off(ei, ph.p_vaddr, &off, avail))
			continue;
		b = scan_buildinfo(ei->img + off, *avail, ph.p_vaddr);
		if (b) {
			*avail -= (uint64_t)(b - (ei->img + off));
			return b;
		}
	}
	return NULL;
}

static void set_version(struct go_binary *out, const unsigned char *s,
			uint64_t len)
{
	if (len >= sizeof(out->version))
		len = sizeof(out->version) - 1;
	memcpy(out->version, s, len);
	out->version[len] = '\0';
	/* a NUL inside would cut it: the rest is not a version anyway */
}

/* Go before 1.18: pointers to string headers. */
static bool read_string_at(const struct elf_image *ei, uint64_t hdr_vaddr,
			   struct go_binary *out)
{
	uint64_t data, len;
	const unsigned char *s;

	if (!elf_image_read_ptr(ei, hdr_vaddr, &data) ||
	    !elf_image_read_ptr(ei, hdr_vaddr + 8, &len) || len == 0 ||
	    len > 4096)
		return false;
	s = elf_image_vaddr_data(ei, data, len);
	if (!s)
		return false;
	set_version(out, s, len);
	return true;
}

/* 0, -ENOENT (no build information or no version in it) */
static int read_buildinfo(const struct elf_image *ei, struct go_binary *out)
{
	uint64_t avail, ptr, bv, len = 0;
	const unsigned char *b = find_buildinfo(ei, &avail);
	unsigned int shift = 0, i;

	if (!b)
		return -ENOENT;
	if (b[15] & 0x2) {
		/* inline: uvarint length, bytes */
		for (i = BUILDINFO_HDR; i < avail && shift < 64; i++) {
			len |= (uint64_t)(b[i] & 0x7f) << shift;
			shift += 7;
			if (!(b[i] & 0x80))
				break;
		}
		if (i >= avail || shift >= 64 || len == 0 ||
		    len > avail - i - 1)
			return -ENOENT;
		set_version(out, b + i + 1, len);
		return 0;
	}
	/* big-endian or 32-bit pointers: not an x86-64 program's */
	if (b[14] != 8 || (b[15] & 0x1))
		return -ENOENT;
	/* the word read as the loader leaves it (relocated in a PIE) */
	if (elf_image_off_to_vaddr(ei, (uint64_t)(b - ei->img), &bv)) {
		if (!elf_image_read_ptr(ei, bv + 16, &ptr))
			return -ENOENT;
	} else {
		ptr = le64(b + 16);
	}
	if (!read_string_at(ei, ptr, out))
		return -ENOENT;
	return 0;
}

/* ---- pclntab ----------------------------------------------------------- */

struct pcln {
	const unsigned char *d;
	uint64_t vaddr;
	uint64_t size;
	bool v118;
	uint64_t nfunc;
	uint64_t text_start;
	uint64_t nametab;  /* offsets in d */
	uint64_t functab;
	unsigned int fsz;  /* function table field size */
};

static uint64_t pcln_field(const struct pcln *p, uint64_t i)
{
	const unsigned char *f = p->d + p->functab + i * p->fsz;

	return p->fsz == 4 ? le32(f) : le64(f);
}

static uint64_t pcln_pc(const struct pcln *p, uint64_t i)
{
	uint64_t v = pcln_field(p, 2 * i);

	return p->v118 ? p->text_start + v : v;
}

/*
 * runtime.firstmoduledata: its first words are the table's address and
 * funcnametab's (a slice); the linker's moduledata layout (runtime/
 * symtab.go) has been the same since Go 1.16 up to text, word 22.
 */
#define MODULEDATA_TEXT_WORD 22

static bool find_moduledata(const struct elf_image *ei, uint64_t pcln_vaddr,
			    uint64_t nametab_vaddr, uint64_t *out)
{
	Elf64_Phdr ph;
	uint64_t off, avail, md = 0, w;

	for (unsigned int i = 0; !md && elf_image_segment(ei, i, &ph); i++) {
		const unsigned char *d;

		if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_W) ||
		    (ph.p_vaddr % 8) ||
		    !elf_image_vaddr_to_off(ei, ph.p_vaddr, &off, &avail))
			continue;
		d = ei->img + off;
		for (uint64_t k = 0; k + 16 <= avail; k += 8)
			if (le64(d + k) == pcln_vaddr &&
			    le64(d + k + 8) == nametab_vaddr) {
				md = ph.p_vaddr + k;
				break;
			}
	}
	/* a PIE whose words are only in its relocations */
	if (!md && !elf_image_find_relative(ei, pcln_vaddr, &md))
		return false;
	if (!elf_image_read_ptr(ei, md + 8, &w) || w != nametab_vaddr)
		return false;
	*out = md;
	return true;
}

static bool moduledata_text(const struct elf_image *ei, uint64_t pcln_vaddr,
			    uint64_t nametab_vaddr, uint64_t *text)
{
	uint64_t md;

	return find_moduledata(ei, pcln_vaddr, nametab_vaddr, &md) &&
	       elf_image_read_ptr(ei, md + 8 * MODULEDATA_TEXT_WORD, text) &&
	       *text;
}

/*
 * The address function table offsets count from (runtime.text): in the
 * header in Go 1.18-1.24 at least; newer linkers (1.27's) leave that
 * word 0, so then from the module data, or .text as Go's own objdump
 * takes it.
 */
static bool pcln_text_start(const struct elf_image *ei, struct pcln *p,
			    uint64_t vaddr)
{
	Elf64_Shdr sh;

	if (elf_image_read_ptr(ei, vaddr + 8 + 2 * 8, &p->text_start) &&
	    p->text_start)
		return true;
	if (moduledata_text(ei, vaddr, vaddr + p->nametab, &p->text_start))
		return true;
	if (elf_image_section_by_name(ei, ".text", &sh) && sh.sh_addr) {
		p->text_start = sh.sh_addr;
		return true;
	}
	return false;
}

/* Reads and checks the header of a table at vaddr, size bytes in the
 * file. */
static bool pcln_open(const struct elf_image *ei, const unsigned char *d,
		      uint64_t size, uint64_t vaddr, struct pcln *p)
{
	uint32_t magic;
	unsigned int words;

	if (size < 8)
		return false;
	magic = le32(d);
	memset(p, 0, sizeof(*p));
	if (magic == PCLN_MAGIC_118 || magic == PCLN_MAGIC_120)
		p->v118 = true;
	else if (magic != PCLN_MAGIC_116)
		return false;
	/* x86: PC quantum 1, 8-byte pointers */
	if (d[4] || d[5] || d[6] != 1 || d[7] != 8)
		return false;
	words = p->v118 ? 8 : 7;
	if (size < 8 + 8 * words)
		return false;
	p->d = d;
	p->vaddr = vaddr;
	p->size = size;
	p->nfunc = le64(d + 8);
	p->fsz = p->v118 ? 4 : 8;
	if (p->v118) {
		p->nametab = le64(d + 8 + 3 * 8);
		p->functab = le64(d + 8 + 7 * 8);
	} else {
		p->nametab = le64(d + 8 + 2 * 8);
		p->functab = le64(d + 8 + 6 * 8);
	}
	if (p->nfunc == 0 || p->nfunc > PCLN_MAX_FUNCS ||
	    p->nametab >= size || p->functab >= size ||
	    (2 * p->nfunc + 1) * p->fsz > size - p->functab)
		return false;
	if (p->v118 && !pcln_text_start(ei, p, vaddr))
		return false;
	/* sorted by PC: a cheap check that this is a table at all */
	for (uint64_t i = 0; i < 4 && i < p->nfunc; i++)
		if (pcln_pc(p, i + 1) < pcln_pc(p, i))
			return false;
	return true;
}

static bool pcln_scan(const struct elf_image *ei, const unsigned char *d,
		      uint64_t n, uint64_t vaddr, struct pcln *p)
{
	for (uint64_t k = (8 - vaddr % 8) % 8; k + 8 <= n; k += 8) {
		uint32_t m;

		if (d[k] != 0xf0 && d[k] != 0xf1 && d[k] != 0xfa)
			continue;
		m = le32(d + k);
		if ((m == PCLN_MAGIC_116 || m == PCLN_MAGIC_118 ||
		     m == PCLN_MAGIC_120) &&
		    pcln_open(ei, d + k, n - k, vaddr + k, p))
			return true;
	}
	return false;
}

static bool pcln_find(const struct elf_image *ei, struct pcln *p)
{
	static const char *const names[] = {
		".gopclntab", ".data.rel.ro.gopclntab",
	};
	const unsigned char *d;
	Elf64_Shdr sh;
	Elf64_Phdr ph;
	uint64_t off, avail;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!elf_image_section_by_name(ei, names[i], &sh))
			continue;
		d = elf_image_section_data(ei, &sh);
		if (d && pcln_open(ei, d, sh.sh_size, sh.sh_addr, p))
			return true;
	}
	/*
	 * No section names: the magic, 8-byte aligned, with a header that
	 * holds together; in the read-only or relro data first, then in
	 * code segments (linkers that put read-only data with the code).
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; elf_image_segment(ei, i, &ph); i++) {
			if (ph.p_type != PT_LOAD ||
			    !(ph.p_flags & PF_X) != !pass ||
			    !elf_image_vaddr_to_off(ei, ph.p_vaddr, &off,
						    &avail))
				continue;
			if (pcln_scan(ei, ei->img + off, avail, ph.p_vaddr, p))
				return true;
		}
	}
	return false;
}

/* The name of function i, NUL-terminated inside the table, or NULL. */
static const char *pcln_name(const struct pcln *p, uint64_t i)
{
	uint64_t funcoff = pcln_field(p, 2 * i + 1);
	uint64_t fd, name, nameoff_at = p->v118 ? 4 : 8;

	if (funcoff >= p->size - p->functab)
		return NULL;
	fd = p->functab + funcoff;
	if (nameoff_at + 4 > p->size - fd)
		return NULL;
	name = p->nametab + le32(p->d + fd + nameoff_at);
	if (name >= p->size || !memchr(p->d + name, 0, p->size - name))
		return NULL;
	return (const char *)p->d + name;
}

/* Entry and end addresses of each wanted function. */
static void pcln_lookup(const struct pcln *p, bool *found, uint64_t *entry,
			uint64_t *end)
{
	int left = GO_FN_COUNT;

	for (uint64_t i = 0; i < p->nfunc && left; i++) {
		const char *name = pcln_name(p, i);

		if (!name)
			continue;
		for (int k = 0; k < GO_FN_COUNT; k++) {
			if (found[k] || strcmp(name, go_func_names[k]))
				continue;
			found[k] = true;
			entry[k] = pcln_pc(p, i);
			end[k] = pcln_pc(p, i + 1);
			left--;
		}
	}
}

/* ---- RETs -------------------------------------------------------------- */

const char *go_locate_disassembler(void)
{
#ifdef GO_LOCATE_NO_ZYDIS
	/* the static build (Debian has no static Zydis library), or a
	 * release without libzydis-dev (Makefile) */
	return NULL;
#else
	static char name[32];
	ZyanU64 v = ZydisGetVersion();

	if (!name[0])
		snprintf(name, sizeof(name), "Zydis %u.%u.%u",
			 ZYDIS_VERSION_MAJOR(v), ZYDIS_VERSION_MINOR(v),
			 ZYDIS_VERSION_PATCH(v));
	return name;
#endif
}

static void find_rets(const struct elf_image *ei, struct go_func_loc *f)
{
#ifndef GO_LOCATE_NO_ZYDIS
	ZydisDecoder dec;
	ZydisDecodedInstruction insn;
#endif
	const unsigned char *code;
	uint64_t pos = 0;

	f->found = false;
	f->n_rets = 0;
	if (f->size == 0 || f->size > GO_FUNC_MAX_SIZE) {
		f->why = "its size in the table is 0 or over 1 MiB";
		return;
	}
	if (f->entry > ei->size || f->size > ei->size - f->entry) {
		f->why = "its code is not in the file";
		return;
	}
	code = ei->img + f->entry;
#ifdef GO_LOCATE_NO_ZYDIS
	(void)code;
	(void)pos;
	f->why = "this build of httptrace-bpf has no disassembler (built "
		 "without libzydis-dev, or the static build)";
	return;
#else
	if (ZYAN_FAILED(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64,
					 ZYDIS_STACK_WIDTH_64))) {
		f->why = "the disassembler did not start";
		return;
	}
	while (pos < f->size) {
		if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(
			    &dec, NULL, code + pos, f->size - pos, &insn))) {
			f->n_rets = 0;
			f->why = "its machine code does not decode";
			return;
		}
		if (insn.mnemonic == ZYDIS_MNEMONIC_RET) {
			if (f->n_rets == GO_MAX_RETS) {
				f->n_rets = 0;
				f->why = "it has more RET instructions than "
					 "the probes can hold";
				return;
			}
			f->rets[f->n_rets++] = f->entry + pos;
		}
		pos += insn.length;
	}
	f->found = true;
	f->why = NULL;
#endif
}

/* ---- net.Conn types ----------------------------------------------------- */

/*
 * Go's type descriptors, amd64, the same from Go 1.17 to 1.27
 * (internal/abi/type.go; runtime/type.go before 1.21):
 *   Type: Size_ 0, PtrBytes 8, Hash (u32) 16, TFlag (u8) 20, Align_,
 *     FieldAlign_, Kind_ (u8) 23, Equal 24, GCData 32, Str (i32, a name
 *     at moduledata.types + Str) 40, PtrToThis 44; 48 bytes.
 *   PtrType: Type, then Elem *Type.  StructType: Type, PkgPath, then
 *     Fields []StructField.  StructField: Name, Typ *Type, Offset (before
 *     Go 1.19: the offset shifted left once, the low bit "embedded"); 24
 *     bytes.
 *   ITab: Inter *InterfaceType (a Type first), Type *Type, Hash (u32).
 *   A name: a flags byte, the length as a varint, the bytes; a type's
 *     with TFlagExtraStar has one '*' too many in front.
 * moduledata (runtime/symtab.go): the words of types, etypes and the
 * itablinks slice (pointers to the itabs): 35, 36, 43 in Go 1.17; 35,
 * 36, 45 in 1.18 and 1.19 (rodata and gofunc came); 37, 38, 47 from 1.20
 * (covctrs came). Go 1.27 has no itablinks: types 37, etypes 39, then
 * itaboffset and itabsize, the itabs one after the other from types +
 * itaboffset, each 32 bytes, or 8 more per method of its interface after
 * the first when its Fun[0] is not 0 (abi.ITab.Size). Each layout is
 * tried, and kept when what it finds holds together.
 */
#define GO_TYPE_HASH 16
#define GO_TYPE_TFLAG 20
#define GO_TYPE_KIND 23
#define GO_TYPE_STR 40
#define GO_TYPE_END 48
#define GO_TFLAG_EXTRA_STAR 0x2
#define GO_KIND_MASK 0x1f
#define GO_KIND_DIRECT_IFACE 0x20
#define GO_KIND_PTR 22
#define GO_KIND_STRUCT 25
#define GO_STRUCT_FIELD_SIZE 24
#define GO_ITABS_MAX (1u << 16)
#define GO_FIELDS_MAX 1024
#define GO_TYPES_MAX_SPAN (1ull << 32)
#define GO_ITAB_SIZE 32
#define GO_ITAB_FUN 24
#define GO_INTERFACE_METHODS_LEN (GO_TYPE_END + 16)
#define GO_METHODS_MAX 4096

struct go_types {
	const struct elf_image *ei;
	uint64_t types, etypes;
	bool itabs_inline;  /* Go 1.27: the itabs themselves, from itabs to
			     * itabs_end; else itablinks' n_itabs pointers */
	uint64_t itabs, n_itabs, itabs_end;
	bool offset_embed;  /* Go 1.17, 1.18 */
};

static bool read_u8(const struct elf_image *ei, uint64_t va, uint8_t *v)
{
	const unsigned char *d = elf_image_vaddr_data(ei, va, 1);

	if (d)
		*v = d[0];
	return d != NULL;
}

static bool read_u32(const struct elf_image *ei, uint64_t va, uint32_t *v)
{
	const unsigned char *d = elf_image_vaddr_data(ei, va, 4);

	if (d)
		*v = le32(d);
	return d != NULL;
}

static bool is_type(const struct go_types *t, uint64_t va)
{
	return va >= t->types && va < t->etypes &&
	       t->etypes - va >= GO_TYPE_END;
}

/* What Go's reflect calls the type's String(): "*net.TCPConn" */
static bool type_name(const struct go_types *t, uint64_t typ, char *buf,
		      size_t len)
{
	const unsigned char *d;
	uint32_t str, n = 0;
	uint8_t tflag, b = 0x80;
	uint64_t va;
	unsigned int i, skip;

	if (!is_type(t, typ) || !read_u32(t->ei, typ + GO_TYPE_STR, &str) ||
	    !read_u8(t->ei, typ + GO_TYPE_TFLAG, &tflag))
		return false;
	va = t->types + (uint64_t)(int64_t)(int32_t)str;
	for (i = 0; i < 4 && (b & 0x80); i++) {
		if (!read_u8(t->ei, va + 1 + i, &b))
			return false;
		n |= (uint32_t)(b & 0x7f) << (7 * i);
	}
	skip = tflag & GO_TFLAG_EXTRA_STAR ? 1 : 0;
	if ((b & 0x80) || n <= skip || n - skip >= len)
		return false;
	d = elf_image_vaddr_data(t->ei, va + 1 + i + skip, n - skip);
	if (!d)
		return false;
	memcpy(buf, d, n - skip);
	buf[n - skip] = 0;
	return true;
}

static bool type_is(const struct go_types *t, uint64_t typ, const char *name)
{
	char buf[64];

	return type_name(t, typ, buf, sizeof(buf)) && !strcmp(buf, name);
}

/*
 * The itab after *cursor (0 to start): false at the end. An itab whose
 * size cannot be read ends the walk of inline itabs.
 */
static bool next_itab(const struct go_types *t, uint64_t *cursor,
		      uint64_t *itab)
{
	uint64_t fun0, inter, n;

	if (!t->itabs_inline) {
		if (*cursor >= t->n_itabs)
			return false;
		return elf_image_read_ptr(t->ei, t->itabs + 8 * (*cursor)++,
					  itab);
	}
	if (!*cursor)
		*cursor = t->itabs;
	if (*cursor >= t->itabs_end || t->itabs_end - *cursor < GO_ITAB_SIZE ||
	    !elf_image_read_ptr(t->ei, *cursor + GO_ITAB_FUN, &fun0) ||
	    !elf_image_read_ptr(t->ei, *cursor, &inter))
		return false;
	*itab = *cursor;
	n = 1;
	if (fun0 && (!elf_image_read_ptr(t->ei, inter +
					 GO_INTERFACE_METHODS_LEN, &n) ||
		     !n || n > GO_METHODS_MAX))
		return false;
	*cursor += GO_ITAB_SIZE + 8 * (n - 1);
	return true;
}

/* moduledata's words for one Go layout, checked against each other:
 * types, etypes, then the itablinks slice's three words, or itaboffset
 * and itabsize (inline) */
static bool types_at(struct go_types *t, uint64_t md, unsigned int types_w,
		     unsigned int etypes_w, unsigned int itabs_w, bool inline_)
{
	const struct elf_image *ei = t->ei;
	uint64_t a, b, c = 0, cursor = 0, itab, inter, typ;

	if (!elf_image_read_ptr(ei, md + 8 * types_w, &t->types) ||
	    !elf_image_read_ptr(ei, md + 8 * etypes_w, &t->etypes) ||
	    !elf_image_read_ptr(ei, md + 8 * itabs_w, &a) ||
	    !elf_image_read_ptr(ei, md + 8 * (itabs_w + 1), &b) ||
	    (!inline_ && !elf_image_read_ptr(ei, md + 8 * (itabs_w + 2), &c)))
		return false;
	if (t->etypes <= t->types || t->etypes - t->types > GO_TYPES_MAX_SPAN)
		return false;
	t->itabs_inline = inline_;
	if (inline_) {
		/* itaboffset, itabsize */
		if (!b || a > t->etypes - t->types ||
		    b > t->etypes - t->types - a)
			return false;
		t->itabs = t->types + a;
		t->itabs_end = t->itabs + b;
	} else {
		/* itablinks: pointer, length, capacity */
		if (!b || b != c || b > GO_ITABS_MAX)
			return false;
		t->itabs = a;
		t->n_itabs = b;
	}
	/* the first itab's interface and type are types */
	return next_itab(t, &cursor, &itab) &&
	       elf_image_read_ptr(ei, itab, &inter) &&
	       elf_image_read_ptr(ei, itab + 8, &typ) && is_type(t, inter) &&
	       is_type(t, typ);
}

static bool types_find(struct go_types *t, const struct pcln *p,
		       const struct go_binary *bin)
{
	static const struct {
		unsigned int types, etypes, itabs;
		bool inline_;
	} layouts[] = {
		{ 37, 39, 40, true },  /* Go 1.27 */
		{ 37, 38, 47, false }, /* 1.20 to 1.26 */
		{ 35, 36, 45, false }, /* 1.18, 1.19 */
		{ 35, 36, 43, false }, /* 1.17 */
	};
	uint64_t md;

	if (!find_moduledata(t->ei, p->vaddr, p->vaddr + p->nametab, &md))
		return false;
	t->offset_embed = bin->major == 1 && bin->minor < 19;
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (types_at(t, md, layouts[i].types, layouts[i].etypes,
			     layouts[i].itabs, layouts[i].inline_))
			return true;
	return false;
}

/*
 * Where a struct holds the connection it wraps: the first field that is
 * a net.Conn or a *net.TCPConn. Returns the kind, 0 for none.
 */
static int wrapped_field(const struct go_types *t, uint64_t st,
			 uint64_t net_conn, uint64_t tcp_conn, uint16_t *off)
{
	uint64_t fields, n, ftyp, foff;

	if (!elf_image_read_ptr(t->ei, st + GO_TYPE_END + 8, &fields) ||
	    !elf_image_read_ptr(t->ei, st + GO_TYPE_END + 16, &n) ||
	    n > GO_FIELDS_MAX)
		return 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t f = fields + i * GO_STRUCT_FIELD_SIZE;

		if (!elf_image_read_ptr(t->ei, f + 8, &ftyp) ||
		    !elf_image_read_ptr(t->ei, f + 16, &foff))
			return 0;
		if (t->offset_embed)
			foff >>= 1;
		if (foff > UINT16_MAX)
			return 0;
		*off = (uint16_t)foff;
		if (ftyp == net_conn)
			return HT_GO_CONN_IFACE;
		if (ftyp == tcp_conn)
			return HT_GO_CONN_TCP_PTR;
	}
	return 0;
}

/* The struct behind a net.Conn's data word: a pointer's element, or a
 * struct stored out of line (not a pointer-shaped one, stored in the
 * word itself). 0 for neither. */
static uint64_t wrapper_struct(const struct go_types *t, uint64_t typ)
{
	uint8_t kind;
	uint64_t elem;

	if (!read_u8(t->ei, typ + GO_TYPE_KIND, &kind))
		return 0;
	if ((kind & GO_KIND_MASK) == GO_KIND_STRUCT &&
	    !(kind & GO_KIND_DIRECT_IFACE))
		return typ;
	if ((kind & GO_KIND_MASK) != GO_KIND_PTR ||
	    !elf_image_read_ptr(t->ei, typ + GO_TYPE_END, &elem) ||
	    !is_type(t, elem) ||
	    !read_u8(t->ei, elem + GO_TYPE_KIND, &kind) ||
	    (kind & GO_KIND_MASK) != GO_KIND_STRUCT)
		return 0;
	return elem;
}

static void add_conn_type(const struct go_types *t, struct go_binary *out,
			  uint64_t itab, uint64_t typ, int kind, uint16_t off)
{
	struct go_conn_type *ct;
	uint32_t hash;

	if (!read_u32(t->ei, itab + GO_TYPE_HASH, &hash))
		return;
	if (out->n_conn_types >= GO_MAX_CONN_TYPES) {
		out->conn_types_over++;
		return;
	}
	ct = &out->conn_types[out->n_conn_types++];
	ct->hash = hash;
	ct->kind = (uint8_t)kind;
	ct->off = off;
	if (!type_name(t, typ, ct->name, sizeof(ct->name)))
		snprintf(ct->name, sizeof(ct->name), "(a type)");
}

/*
 * The program's net.Conn types that lead to a socket: *net.TCPConn and
 * the structs that wrap a net.Conn or a *net.TCPConn, from the itabs the
 * linker made for net.Conn (a conversion the compiler sees: how any
 * wrapper becomes a net.Conn).
 */
static void find_conn_types(const struct elf_image *ei, const struct pcln *p,
			    struct go_binary *out)
{
	struct go_types t = { .ei = ei };
	uint64_t net_conn = 0, tcp_conn = 0, itab, inter, typ;

	if (!types_find(&t, p, out)) {
		out->conn_types_why = "its type descriptors cannot be read";
		return;
	}
	for (uint64_t cur = 0; !net_conn && next_itab(&t, &cur, &itab);) {
		if (!elf_image_read_ptr(ei, itab, &inter) ||
		    !elf_image_read_ptr(ei, itab + 8, &typ))
			continue;
		if (type_is(&t, inter, "net.Conn") &&
		    type_is(&t, typ, "*net.TCPConn")) {
			net_conn = inter;
			tcp_conn = typ;
		}
	}
	if (!net_conn) {
		out->conn_types_why = "no *net.TCPConn as a net.Conn";
		return;
	}
	for (uint64_t cur = 0; next_itab(&t, &cur, &itab);) {
		uint64_t st;
		uint16_t off = 0;
		int kind;

		if (!elf_image_read_ptr(ei, itab, &inter) || inter != net_conn ||
		    !elf_image_read_ptr(ei, itab + 8, &typ))
			continue;
		if (typ == tcp_conn) {
			add_conn_type(&t, out, itab, typ, HT_GO_CONN_TCP, 0);
			continue;
		}
		if (type_is(&t, typ, "*tls.Conn")) {
			add_conn_type(&t, out, itab, typ, HT_GO_CONN_TLS, 0);
			continue;
		}
		st = wrapper_struct(&t, typ);
		kind = st ? wrapped_field(&t, st, net_conn, tcp_conn, &off) : 0;
		if (kind)
			add_conn_type(&t, out, itab, typ, kind, off);
	}
}

/* ---- the whole ---------------------------------------------------------- */

static void locate_by_symtab(const struct elf_image *ei,
			     struct go_binary *out)
{
	bool found[GO_FN_COUNT];
	uint64_t offs[GO_FN_COUNT], sizes[GO_FN_COUNT];

	elf_image_find_funcs(ei, go_func_names, GO_FN_COUNT, found, offs,
			     sizes);
	for (int k = 0; k < GO_FN_COUNT; k++) {
		struct go_func_loc *f = &out->funcs[k];

		if (!found[k]) {
			f->why = "not in the symbol table";
			continue;
		}
		f->entry = offs[k];
		f->size = sizes[k];
		find_rets(ei, f);
	}
}

static int locate_by_pclntab(const struct elf_image *ei,
			     struct go_binary *out)
{
	bool found[GO_FN_COUNT] = { false };
	uint64_t entry[GO_FN_COUNT], end[GO_FN_COUNT];
	struct pcln p;

	if (!pcln_find(ei, &p)) {
		out->why = "no readable Go function table (.gopclntab)";
		return -EBADMSG;
	}
	pcln_lookup(&p, found, entry, end);
	for (int k = 0; k < GO_FN_COUNT; k++) {
		struct go_func_loc *f = &out->funcs[k];
		uint64_t off, avail;

		if (!found[k]) {
			f->why = "not in Go's function table";
			continue;
		}
		if (end[k] <= entry[k] ||
		    !elf_image_vaddr_to_off(ei, entry[k], &off, &avail)) {
			f->why = "its address is not in the file";
			continue;
		}
		f->entry = off;
		f->size = end[k] - entry[k];
		find_rets(ei, f);
	}
	return 0;
}

static void locate_conn_types(const struct elf_image *ei,
			      struct go_binary *out)
{
	struct pcln p;

	if (!pcln_find(ei, &p)) {
		out->conn_types_why = "no readable Go function table "
				      "(.gopclntab)";
		return;
	}
	find_conn_types(ei, &p, out);
}

int go_locate_mem(const unsigned char *img, size_t size,
		  struct go_binary *out)
{
	struct elf_image ei;
	Elf64_Shdr sh;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = elf_image_init(&ei, img, size);
	if (ret) {
		out->why = "not a 64-bit little-endian ELF file";
		return ret;
	}
	if (ei.eh.e_machine != EM_X86_64) {
		out->why = "not an x86-64 program";
		return -ENOEXEC;
	}
	ret = read_buildinfo(&ei, out);
	if (ret) {
		out->why = "no Go build information (.go.buildinfo)";
		return ret;
	}
	if (go_locate_parse_version(out->version, &out->major, &out->minor)) {
		out->why = "the Go version in the build information is "
			   "not one";
		return -EBADMSG;
	}
	if (out->major < GO_MIN_MAJOR ||
	    (out->major == GO_MIN_MAJOR && out->minor < GO_MIN_MINOR)) {
		out->why = "Go before 1.17 (stack-based calling convention) "
			   "is not supported";
		return -EPROTONOSUPPORT;
	}
	out->has_symtab = elf_image_section_by_type(&ei, SHT_SYMTAB, &sh);
	if (out->has_symtab)
		locate_by_symtab(&ei, out);
	else if ((ret = locate_by_pclntab(&ei, out)))
		return ret;
	if (out->funcs[GO_FN_TLS_WRITE].found ||
	    out->funcs[GO_FN_TLS_READ].found)
		locate_conn_types(&ei, out);
	return 0;
}

int go_locate(const char *path, struct go_binary *out)
{
	const unsigned char *img;
	size_t size;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = elf_image_map_file(path, &img, &size);
	if (ret)
		return ret;
	ret = go_locate_mem(img, size, out);
	elf_image_unmap(img, size);
	return ret;
}
