/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading a 64-bit little-endian ELF file image in memory: sections,
 * segments, symbols, relocations. Every access is checked against the
 * image's size, since the file may hold anything. Shared by tls_locate
 * (C libraries) and go_locate (Go programs). Pure.
 */
#ifndef HTTPTRACE_ELF_IMAGE_H
#define HTTPTRACE_ELF_IMAGE_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_image {
	const unsigned char *img;
	size_t size;
	Elf64_Ehdr eh;
};

/*
 * Checks the ELF header (64-bit, little-endian, section headers inside
 * the image). Returns 0 or -ENOEXEC. Program headers are checked where
 * they are used (a file without them still has symbols).
 */
int elf_image_init(struct elf_image *ei, const unsigned char *img,
		   size_t size);

/* Section header i; false when out of range. */
bool elf_image_section(const struct elf_image *ei, unsigned int i,
		       Elf64_Shdr *sh);

/* The first section with this name; false when there is none. */
bool elf_image_section_by_name(const struct elf_image *ei, const char *name,
			       Elf64_Shdr *sh);

/* The first section of this type (SHT_SYMTAB, ...). */
bool elf_image_section_by_type(const struct elf_image *ei, uint32_t type,
			       Elf64_Shdr *sh);

/* A section's bytes in the file; NULL for SHT_NOBITS or when they lie
 * outside the image. */
const unsigned char *elf_image_section_data(const struct elf_image *ei,
					    const Elf64_Shdr *sh);

/* Program header i; false when out of range or outside the image. */
bool elf_image_segment(const struct elf_image *ei, unsigned int i,
		       Elf64_Phdr *ph);

/*
 * The file offset of a virtual address, through the PT_LOAD segments
 * (what a uprobe attaches to, PIE or not); *avail gets how many bytes
 * from there the segment holds in the file. False when no segment maps
 * the address with file content.
 */
bool elf_image_vaddr_to_off(const struct elf_image *ei, uint64_t vaddr,
			    uint64_t *off, uint64_t *avail);

/* The virtual address of a file offset (the inverse, through PT_LOAD). */
bool elf_image_off_to_vaddr(const struct elf_image *ei, uint64_t off,
			    uint64_t *vaddr);

/* len bytes at a virtual address, or NULL when not all in the file. */
const unsigned char *elf_image_vaddr_data(const struct elf_image *ei,
					  uint64_t vaddr, uint64_t len);

/*
 * A pointer-sized little-endian word at vaddr as the loader leaves it:
 * when the file holds 0 there and an R_X86_64_RELATIVE relocation
 * targets it (a PIE whose linker kept addends out of the data), the
 * relocation's addend. False when vaddr is not in the file.
 */
bool elf_image_read_ptr(const struct elf_image *ei, uint64_t vaddr,
			uint64_t *val);

/* The address an R_X86_64_RELATIVE relocation with this addend
 * patches (the first one). */
bool elf_image_find_relative(const struct elf_image *ei, uint64_t addend,
			     uint64_t *vaddr);

/*
 * Which of names[0..n) are functions defined in the image's symbol
 * tables (.dynsym, .symtab; imports do not count): found[i], and when
 * not NULL offs[i] (file offset of the code) and sizes[i] (st_size).
 */
void elf_image_find_funcs(const struct elf_image *ei,
			  const char *const *names, int n, bool *found,
			  uint64_t *offs, uint64_t *sizes);

/* Maps the regular file at path read-only. Returns 0, -ENOEXEC (not a
 * regular file, empty) or -errno. */
int elf_image_map_file(const char *path, const unsigned char **img,
		       size_t *size);
void elf_image_unmap(const unsigned char *img, size_t size);

#endif /* HTTPTRACE_ELF_IMAGE_H */
