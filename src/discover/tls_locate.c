// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover/tls_locate.h"

/* One symbol table (SHT_DYNSYM or SHT_SYMTAB) and its string table. */
static void scan_symtab(const unsigned char *img, size_t size,
			const Elf64_Ehdr *eh, const Elf64_Shdr *sh,
			const Elf64_Shdr *strsh, const char *const *names,
			int n, bool *found, uint64_t *offs)
{
	size_t count, i;

	if (sh->sh_entsize != sizeof(Elf64_Sym) || sh->sh_offset > size ||
	    sh->sh_size > size - sh->sh_offset || strsh->sh_offset > size ||
	    strsh->sh_size > size - strsh->sh_offset)
		return;
	count = sh->sh_size / sizeof(Elf64_Sym);
	for (i = 0; i < count; i++) {
		Elf64_Sym sym;
		const char *name;
		size_t max;

		memcpy(&sym, img + sh->sh_offset + i * sizeof(sym),
		       sizeof(sym));
		if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC &&
		    ELF64_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
			continue;
		if (sym.st_name >= strsh->sh_size)
			continue;
		name = (const char *)img + strsh->sh_offset + sym.st_name;
		max = strsh->sh_size - sym.st_name;
		for (int k = 0; k < n; k++) {
			size_t len = strlen(names[k]);

			Elf64_Shdr sec;

			if (found[k] || len >= max ||
			    memcmp(name, names[k], len + 1))
				continue;
			/* the file offset of the code: a uprobe's address */
			if (offs) {
				if (sym.st_shndx >= eh->e_shnum)
					continue;
				memcpy(&sec, img + eh->e_shoff +
					       sym.st_shndx * sizeof(sec),
				       sizeof(sec));
				if (sym.st_value < sec.sh_addr ||
				    sym.st_value - sec.sh_addr >= sec.sh_size)
					continue;
				offs[k] = sym.st_value - sec.sh_addr +
					  sec.sh_offset;
			}
			found[k] = true;
		}
	}
}

int tls_locate_elf_find_mem(const unsigned char *img, size_t size,
		     const char *const *names, int n, bool *found)
{
	return tls_locate_elf_offsets_mem(img, size, names, n, found, NULL);
}

int tls_locate_elf_offsets_mem(const unsigned char *img, size_t size,
			const char *const *names, int n, bool *found,
			uint64_t *offs)
{
	Elf64_Ehdr eh;

	for (int k = 0; k < n; k++)
		found[k] = false;
	if (size < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > size ||
	    (size_t)eh.e_shnum * sizeof(Elf64_Shdr) > size - eh.e_shoff)
		return -ENOEXEC;
	for (unsigned int i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh, strsh;

		memcpy(&sh, img + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB)
			continue;
		if (sh.sh_link >= eh.e_shnum)
			continue;
		memcpy(&strsh, img + eh.e_shoff + sh.sh_link * sizeof(strsh),
		       sizeof(strsh));
		scan_symtab(img, size, &eh, &sh, &strsh, names, n, found,
			    offs);
	}
	return 0;
}

int tls_locate_elf_find(const char *path, const char *const *names, int n,
		 bool *found)
{
	return tls_locate_elf_offsets(path, names, n, found, NULL);
}

int tls_locate_elf_offsets(const char *path, const char *const *names, int n,
		    bool *found, uint64_t *offs)
{
	struct stat st;
	void *img;
	int fd, ret;

	for (int k = 0; k < n; k++)
		found[k] = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return -ENOEXEC;
	}
	img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	ret = img == MAP_FAILED ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	ret = tls_locate_elf_offsets_mem(img, (size_t)st.st_size, names, n, found,
				  offs);
	munmap(img, (size_t)st.st_size);
	return ret;
}

bool tls_locate_is_lib_name(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libssl.so", 9) ||
	       !strncmp(base, "libgnutls.so", 12);
}

const char *tls_locate_maps_line_exec_path(char *line)
{
	char perms[8] = "";
	char *path, *nl;

	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	/* address perms offset dev inode path */
	if (sscanf(line, "%*s %7s", perms) != 1 || strlen(perms) < 3 ||
	    perms[2] != 'x')
		return NULL;
	path = strchr(line, '/');
	if (!path || strstr(path, " (deleted)"))
		return NULL;
	return path;
}

int tls_locate_maps_exec_files(pid_t pid,
			int (*fn)(void *user, pid_t pid, const char *path),
			void *user)
{
	char maps[64], line[PATH_MAX + 128], last[PATH_MAX] = "";
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		const char *path = tls_locate_maps_line_exec_path(line);

		/* a file's mappings are adjacent: skip repeats cheaply */
		if (!path || !strcmp(path, last))
			continue;
		snprintf(last, sizeof(last), "%s", path);
		if (fn(user, pid, path))
			break;
	}
	fclose(f);
	return 0;
}
