// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover/elf_image.h"

int elf_image_init(struct elf_image *ei, const unsigned char *img,
		   size_t size)
{
	Elf64_Ehdr *eh = &ei->eh;

	ei->img = img;
	ei->size = size;
	if (size < sizeof(*eh))
		return -ENOEXEC;
	memcpy(eh, img, sizeof(*eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size ||
	    (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size - eh->e_shoff)
		return -ENOEXEC;
	return 0;
}

bool elf_image_section(const struct elf_image *ei, unsigned int i,
		       Elf64_Shdr *sh)
{
	if (i >= ei->eh.e_shnum)
		return false;
	memcpy(sh, ei->img + ei->eh.e_shoff + (size_t)i * sizeof(*sh),
	       sizeof(*sh));
	return true;
}

const unsigned char *elf_image_section_data(const struct elf_image *ei,
					    const Elf64_Shdr *sh)
{
	if (sh->sh_type == SHT_NOBITS || sh->sh_offset > ei->size ||
	    sh->sh_size > ei->size - sh->sh_offset)
		return NULL;
	return ei->img + sh->sh_offset;
}

bool elf_image_section_by_name(const struct elf_image *ei, const char *name,
			       Elf64_Shdr *sh)
{
	Elf64_Shdr strsh;
	const unsigned char *strs;
	size_t len = strlen(name);

	if (!elf_image_section(ei, ei->eh.e_shstrndx, &strsh))
		return false;
	strs = elf_image_section_data(ei, &strsh);
	if (!strs)
		return false;
	for (unsigned int i = 0; i < ei->eh.e_shnum; i++) {
		elf_image_section(ei, i, sh);
		if (sh->sh_name < strsh.sh_size &&
		    len < strsh.sh_size - sh->sh_name &&
		    !memcmp(strs + sh->sh_name, name, len + 1))
			return true;
	}
	return false;
}

bool elf_image_section_by_type(const struct elf_image *ei, uint32_t type,
			       Elf64_Shdr *sh)
{
	for (unsigned int i = 0; i < ei->eh.e_shnum; i++) {
		elf_image_section(ei, i, sh);
		if (sh->sh_type == type)
			return true;
	}
	return false;
}

bool elf_image_segment(const struct elf_image *ei, unsigned int i,
		       Elf64_Phdr *ph)
{
	const Elf64_Ehdr *eh = &ei->eh;

	if (i >= eh->e_phnum || eh->e_phentsize != sizeof(*ph) ||
	    eh->e_phoff > ei->size ||
	    (size_t)eh->e_phnum * sizeof(*ph) > ei->size - eh->e_phoff)
		return false;
	memcpy(ph, ei->img + eh->e_phoff + (size_t)i * sizeof(*ph),
	       sizeof(*ph));
	return true;
}

bool elf_image_vaddr_to_off(const struct elf_image *ei, uint64_t vaddr,
			    uint64_t *off, uint64_t *avail)
{
	Elf64_Phdr ph;

	for (unsigned int i = 0; elf_image_segment(ei, i, &ph); i++) {
		uint64_t d, o, n;

		if (ph.p_type != PT_LOAD || vaddr < ph.p_vaddr)
			continue;
		d = vaddr - ph.p_vaddr;
		if (d >= ph.p_filesz || ph.p_offset > ei->size ||
		    d >= ei->size - ph.p_offset)
			continue;
		o = ph.p_offset + d;
		n = ph.p_filesz - d;
		if (n > ei->size - o)
			n = ei->size - o;
		*off = o;
		if (avail)
			*avail = n;
		return true;
	}
	return false;
}

bool elf_image_off_to_vaddr(const struct elf_image *ei, uint64_t off,
			    uint64_t *vaddr)
{
	Elf64_Phdr ph;

	for (unsigned int i = 0; elf_image_segment(ei, i, &ph); i++) {
		if (ph.p_type == PT_LOAD && off >= ph.p_offset &&
		    off - ph.p_offset < ph.p_filesz) {
			*vaddr = ph.p_vaddr + (off - ph.p_offset);
			return true;
		}
	}
	return false;
}

const unsigned char *elf_image_vaddr_data(const struct elf_image *ei,
					  uint64_t vaddr, uint64_t len)
{
	uint64_t off, avail;

	if (!elf_image_vaddr_to_off(ei, vaddr, &off, &avail) || avail < len)
		return NULL;
	return ei->img + off;
}

/* The first R_X86_64_RELATIVE relocation whose target (by_addend:
 * addend) is key. */
static bool find_relative(const struct elf_image *ei, uint64_t key,
			  bool by_addend, Elf64_Rela *out)
{
	Elf64_Shdr sh;

	for (unsigned int i = 0; elf_image_section(ei, i, &sh); i++) {
		const unsigned char *d;
		size_t count;

		if (sh.sh_type != SHT_RELA ||
		    sh.sh_entsize != sizeof(Elf64_Rela))
			continue;
		d = elf_image_section_data(ei, &sh);
		if (!d)
			continue;
		count = sh.sh_size / sizeof(Elf64_Rela);
		for (size_t k = 0; k < count; k++) {
			Elf64_Rela r;

			memcpy(&r, d + k * sizeof(r), sizeof(r));
			if (ELF64_R_TYPE(r.r_info) != R_X86_64_RELATIVE ||
			    (by_addend ? (uint64_t)r.r_addend : r.r_offset) !=
				    key)
				continue;
			*out = r;
			return true;
		}
	}
	return false;
}

bool elf_image_find_relative(const struct elf_image *ei, uint64_t addend,
			     uint64_t *vaddr)
{
	Elf64_Rela r;

	if (!find_relative(ei, addend, true, &r))
		return false;
	*vaddr = r.r_offset;
	return true;
}

bool elf_image_read_ptr(const struct elf_image *ei, uint64_t vaddr,
			uint64_t *val)
{
	const unsigned char *d = elf_image_vaddr_data(ei, vaddr, 8);

	if (!d)
		return false;
	memcpy(val, d, 8);
	if (*val == 0) {
		Elf64_Rela r;

		if (find_relative(ei, vaddr, false, &r))
			*val = (uint64_t)r.r_addend;
	}
	return true;
}

/* One symbol table (SHT_DYNSYM or SHT_SYMTAB) and its string table. */
static void scan_symtab(const struct elf_image *ei, const Elf64_Shdr *sh,
			const Elf64_Shdr *strsh, const char *const *names,
			int n, bool *found, uint64_t *offs, uint64_t *sizes)
{
	const unsigned char *syms = elf_image_section_data(ei, sh);
	const unsigned char *strs = elf_image_section_data(ei, strsh);
	size_t count, i;

	if (sh->sh_entsize != sizeof(Elf64_Sym) || !syms || !strs)
		return;
	count = sh->sh_size / sizeof(Elf64_Sym);
	for (i = 0; i < count; i++) {
		Elf64_Sym sym;
		const char *name;
		size_t max;

		memcpy(&sym, syms + i * sizeof(sym), sizeof(sym));
		if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC &&
		    ELF64_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
			continue;
		if (sym.st_name >= strsh->sh_size)
			continue;
		name = (const char *)strs + sym.st_name;
		max = strsh->sh_size - sym.st_name;
		for (int k = 0; k < n; k++) {
			size_t len = strlen(names[k]);
			Elf64_Shdr sec;

			if (found[k] || len >= max ||
			    memcmp(name, names[k], len + 1))
				continue;
			/* the file offset of the code: a uprobe's address */
			if (offs) {
				if (!elf_image_section(ei, sym.st_shndx, &sec))
					continue;
				if (sym.st_value < sec.sh_addr ||
				    sym.st_value - sec.sh_addr >= sec.sh_size)
					continue;
				offs[k] = sym.st_value - sec.sh_addr +
					  sec.sh_offset;
			}
			if (sizes)
				sizes[k] = sym.st_size;
			found[k] = true;
		}
	}
}

void elf_image_find_funcs(const struct elf_image *ei,
			  const char *const *names, int n, bool *found,
			  uint64_t *offs, uint64_t *sizes)
{
	Elf64_Shdr sh, strsh;

	for (int k = 0; k < n; k++)
		found[k] = false;
	for (unsigned int i = 0; elf_image_section(ei, i, &sh); i++) {
		if (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB)
			continue;
		if (!elf_image_section(ei, sh.sh_link, &strsh))
			continue;
		scan_symtab(ei, &sh, &strsh, names, n, found, offs, sizes);
	}
}

int elf_image_map_file(const char *path, const unsigned char **img,
		       size_t *size)
{
	struct stat st;
	void *p;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return -ENOEXEC;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	ret = p == MAP_FAILED ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	*img = p;
	*size = (size_t)st.st_size;
	return 0;
}

void elf_image_unmap(const unsigned char *img, size_t size)
{
	munmap((void *)img, size);
}
