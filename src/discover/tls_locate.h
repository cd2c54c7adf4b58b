/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Finding TLS code to attach uprobes to: shared libraries (libssl,
 * libgnutls) and executables that carry a TLS library inside (Node
 * exports OpenSSL's functions). Pure: reads files and /proc, no BPF.
 */
#ifndef HTTPTRACE_TLS_LOCATE_H
#define HTTPTRACE_TLS_LOCATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Which of names[0..n) are functions defined in the ELF file at path
 * (.dynsym or .symtab; imports do not count). found[i] is set for each.
 * Returns 0, -ENOEXEC when the file is not a 64-bit little-endian ELF
 * (or is malformed), -errno when it cannot be read.
 */
int tls_locate_elf_find(const char *path, const char *const *names, int n,
		 bool *found);

/* Same, and offs[i] gets the file offset of each function found (what a
 * uprobe attaches to), so a big executable is read once, not once per
 * function. */
int tls_locate_elf_offsets(const char *path, const char *const *names, int n,
		    bool *found, uint64_t *offs);

/* Same, on a file image already in memory (for tests and fuzzing). */
int tls_locate_elf_find_mem(const unsigned char *img, size_t size,
		     const char *const *names, int n, bool *found);
int tls_locate_elf_offsets_mem(const unsigned char *img, size_t size,
			const char *const *names, int n, bool *found,
			uint64_t *offs);

/* libssl.so*, libgnutls.so*: worth a -v line when they lack symbols. */
bool tls_locate_is_lib_name(const char *path);

/*
 * Calls fn for each distinct file that /proc/PID/maps shows mapped
 * executable, with the path as the process sees it. Stops early when fn
 * returns nonzero. Returns 0 or -errno (the process is gone, ...).
 */
int tls_locate_maps_exec_files(pid_t pid,
			int (*fn)(void *user, pid_t pid, const char *path),
			void *user);

/*
 * Parses one /proc/PID/maps line: the path of an executable file
 * mapping, or NULL (not executable, anonymous, [vdso], deleted). The
 * line is modified (the newline is cut).
 */
const char *tls_locate_maps_line_exec_path(char *line);

#endif /* HTTPTRACE_TLS_LOCATE_H */
