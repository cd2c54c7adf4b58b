/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Small Go-like ELF images built in memory for go_locate's tests and
 * the fuzzer's seeds: build information in either layout, a function
 * table in any of the three formats, with or without section headers,
 * and three functions of known machine code:
 *
 *   file offset  function                    code
 *   0x100        main.main                   nop; ret
 *   0x110        crypto/tls.(*Conn).Write    xor eax,eax; ret; nop;
 *                                            xor eax,eax; ret
 *                                            (RETs at 0x112, 0x116)
 *   0x120        crypto/tls.(*Conn).Read     ret; then a byte that is
 *                                            no instruction in 64-bit
 *                                            mode (0x06): not found
 *   0x130        the end of the last function
 *
 * Virtual addresses are 0x400000 + file offset; the text starts at
 * 0x100. With many_rets, Write's code is 0x50 RETs long instead (more
 * than GO_MAX_RETS) and the functions after it move by 0x40.
 */
#ifndef HTTPTRACE_TEST_GO_IMAGES_H
#define HTTPTRACE_TEST_GO_IMAGES_H

#include <elf.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define GO_IMG_BASE 0x400000u
#define GO_IMG_MAX 4096

struct go_img_opts {
	const char *version;  /* "go1.20.5"; NULL: no build information */
	bool old_buildinfo;   /* Go 1.13-1.17: pointers to a string */
	uint32_t pcln_magic;  /* 0xfffffff1, 0xfffffff0, 0xfffffffa; 0 none */
	bool sections;        /* section headers with names */
	bool many_rets;
	/* Go 1.25+: no text start in the table's header, but in the
	 * module data (runtime.firstmoduledata), when moduledata */
	bool no_text_start;
	bool moduledata;
};

static inline void go_img_put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void go_img_put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Builds the image in buf (GO_IMG_MAX bytes); returns its size. */
static inline size_t go_img_build(unsigned char *buf,
				  const struct go_img_opts *o)
{
	static const char *const names[] = {
		"main.main", "crypto/tls.(*Conn).Write",
		"crypto/tls.(*Conn).Read",
	};
	uint32_t func_off[4] = { 0x100, 0x110, 0x120, 0x130 };
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr ph[2];
	size_t pos, data_start, bi = 0, pcln = 0, pcln_end = 0, text_end;
	bool v118 = o->pcln_magic == 0xfffffff0 || o->pcln_magic == 0xfffffff1;

	memset(buf, 0, GO_IMG_MAX);
	if (o->many_rets)
		for (int i = 2; i < 4; i++)
			func_off[i] += 0x40;
	/* code */
	memset(buf + 0x100, 0xcc, func_off[3] - 0x100);
	memcpy(buf + 0x100, "\x90\xc3", 2);
	if (o->many_rets)
		memset(buf + 0x110, 0xc3, 0x50);
	else
		memcpy(buf + 0x110, "\x31\xc0\xc3\x90\x31\xc0\xc3", 7);
	memcpy(buf + func_off[2], "\xc3\x06", 2);
	text_end = func_off[3];
	data_start = (text_end + 15) & ~(size_t)15;
	pos = data_start;

	if (o->version) {
		size_t len = strlen(o->version);

		bi = pos;
		memcpy(buf + bi, "\xff Go buildinf:", 14);
		buf[bi + 14] = 8;
		if (o->old_buildinfo) {
			/* +16: pointer to a string header at +48, whose data
			 * is at +64 */
			buf[bi + 15] = 0;
			go_img_put64(buf + bi + 16, GO_IMG_BASE + bi + 48);
			go_img_put64(buf + bi + 48, GO_IMG_BASE + bi + 64);
			go_img_put64(buf + bi + 56, len);
			memcpy(buf + bi + 64, o->version, len);
			pos = bi + 64 + len;
		} else {
			buf[bi + 15] = 2;
			buf[bi + 32] = (unsigned char)len;
			memcpy(buf + bi + 33, o->version, len);
			buf[bi + 33 + len] = 0; /* no module information */
			pos = bi + 34 + len;
		}
	}
	pos = (pos + 7) & ~(size_t)7;

	if (o->pcln_magic) {
		size_t hdr = v118 ? 8 + 8 * 8 : 8 + 7 * 8;
		size_t nametab, functab, fsz = v118 ? 4 : 8, funcdata;
		size_t name_off[3];

		pcln = pos;
		go_img_put32(buf + pcln, o->pcln_magic);
		buf[pcln + 6] = 1;
		buf[pcln + 7] = 8;
		/* names */
		nametab = hdr;
		pos = pcln + nametab;
		for (int i = 0; i < 3; i++) {
			name_off[i] = pos - (pcln + nametab);
			memcpy(buf + pos, names[i], strlen(names[i]) + 1);
			pos += strlen(names[i]) + 1;
		}
		pos = (pos + 7) & ~(size_t)7;
		functab = pos - pcln;
		/* 3 pairs and the end, then the _func records */
		funcdata = functab + 7 * fsz;
		funcdata = (funcdata + 7) & ~(size_t)7;
		for (int i = 0; i < 4; i++) {
			uint64_t pc = GO_IMG_BASE + func_off[i];
			unsigned char *f = buf + pcln + functab + 2 * i * fsz;
			size_t rec = funcdata + i * 16 - functab;

			if (v118)
				go_img_put32(f, func_off[i] - 0x100);
			else
				go_img_put64(f, pc);
			if (i == 3)
				break;
			if (v118) {
				go_img_put32(f + fsz, (uint32_t)rec);
				go_img_put32(buf + pcln + functab + rec,
					     func_off[i] - 0x100);
				go_img_put32(buf + pcln + functab + rec + 4,
					     (uint32_t)name_off[i]);
			} else {
				go_img_put64(f + fsz, rec);
				go_img_put64(buf + pcln + functab + rec, pc);
				go_img_put32(buf + pcln + functab + rec + 8,
					     (uint32_t)name_off[i]);
			}
		}
		pcln_end = pcln + funcdata + 3 * 16;
		/* header words */
		go_img_put64(buf + pcln + 8, 3);	/* nfunc */
		go_img_put64(buf + pcln + 16, 1);	/* nfiles */
		if (v118) {
			if (!o->no_text_start)
				go_img_put64(buf + pcln + 24,
					     GO_IMG_BASE + 0x100);
			go_img_put64(buf + pcln + 32, nametab);
			for (int w = 4; w < 7; w++) /* cu, file, pc tabs */
				go_img_put64(buf + pcln + 8 + w * 8, nametab);
			go_img_put64(buf + pcln + 8 + 7 * 8, functab);
		} else {
			go_img_put64(buf + pcln + 24, nametab);
			for (int w = 3; w < 6; w++)
				go_img_put64(buf + pcln + 8 + w * 8, nametab);
			go_img_put64(buf + pcln + 8 + 6 * 8, functab);
		}
		pos = pcln_end;
		if (o->moduledata) {
			/* pcHeader, funcnametab, ..., text (word 22) */
			pos = (pos + 7) & ~(size_t)7;
			go_img_put64(buf + pos, GO_IMG_BASE + pcln);
			go_img_put64(buf + pos + 8,
				     GO_IMG_BASE + pcln + nametab);
			go_img_put64(buf + pos + 22 * 8, GO_IMG_BASE + 0x100);
			pos += 24 * 8;
		}
	}
	pos = (pos + 7) & ~(size_t)7;

	/* headers */
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = GO_IMG_BASE + 0x100;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	memset(ph, 0, sizeof(ph));
	ph[0].p_type = PT_LOAD;
	ph[0].p_flags = PF_R | PF_X;
	ph[0].p_offset = 0;
	ph[0].p_vaddr = ph[0].p_paddr = GO_IMG_BASE;
	ph[0].p_filesz = ph[0].p_memsz = text_end;
	ph[1].p_type = PT_LOAD;
	ph[1].p_flags = PF_R | PF_W;
	ph[1].p_offset = data_start;
	ph[1].p_vaddr = ph[1].p_paddr = GO_IMG_BASE + data_start;
	ph[1].p_filesz = ph[1].p_memsz = pos - data_start;
	memcpy(buf + sizeof(*eh), ph, sizeof(ph));

	if (o->sections) {
		static const char shstr[] =
			"\0.shstrtab\0.text\0.go.buildinfo\0.gopclntab";
		Elf64_Shdr sh[5];
		size_t strs = pos;

		memcpy(buf + strs, shstr, sizeof(shstr));
		pos = (strs + sizeof(shstr) + 7) & ~(size_t)7;
		memset(sh, 0, sizeof(sh));
		sh[1].sh_name = 1;
		sh[1].sh_type = SHT_STRTAB;
		sh[1].sh_offset = strs;
		sh[1].sh_size = sizeof(shstr);
		sh[2].sh_name = 11;
		sh[2].sh_type = SHT_PROGBITS;
		sh[2].sh_addr = GO_IMG_BASE + 0x100;
		sh[2].sh_offset = 0x100;
		sh[2].sh_size = text_end - 0x100;
		sh[3].sh_name = 17;
		sh[3].sh_type = bi ? SHT_PROGBITS : SHT_NULL;
		sh[3].sh_addr = GO_IMG_BASE + bi;
		sh[3].sh_offset = bi;
		sh[3].sh_size = bi ? 32 : 0;
		sh[4].sh_name = 31;
		sh[4].sh_type = pcln ? SHT_PROGBITS : SHT_NULL;
		sh[4].sh_addr = GO_IMG_BASE + pcln;
		sh[4].sh_offset = pcln;
		sh[4].sh_size = pcln_end - pcln;
		if (!pcln)
			sh[4].sh_name = 0;
		if (!bi)
			sh[3].sh_name = 0;
		eh->e_shoff = pos;
		eh->e_shnum = 5;
		eh->e_shstrndx = 1;
		memcpy(buf + pos, sh, sizeof(sh));
		pos += sizeof(sh);
	}
	return pos;
}

#endif /* HTTPTRACE_TEST_GO_IMAGES_H */
