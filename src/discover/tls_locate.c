// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover/elf_image.h"
#include "discover/tls_locate.h"

int tls_locate_elf_find_mem(const unsigned char *img, size_t size,
		     const char *const *names, int n, bool *found)
{
	return tls_locate_elf_offsets_mem(img, size, names, n, found, NULL);
}

int tls_locate_elf_offsets_mem(const unsigned char *img, size_t size,
			const char *const *names, int n, bool *found,
			uint64_t *offs)
{
	struct elf_image ei;
	int ret;

	for (int k = 0; k < n; k++)
		found[k] = false;
	ret = elf_image_init(&ei, img, size);
	if (ret)
		return ret;
	elf_image_find_funcs(&ei, names, n, found, offs, NULL);
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
	const unsigned char *img;
	size_t size;
	int ret;

	for (int k = 0; k < n; k++)
		found[k] = false;
	ret = elf_image_map_file(path, &img, &size);
	if (ret)
		return ret;
	ret = tls_locate_elf_offsets_mem(img, size, names, n, found, offs);
	elf_image_unmap(img, size);
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
