// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "discover/libc_locate.h"

/* glibc (libc.so.6, old libc-2.x.so) and musl (ld-musl-*.so.1, which
 * holds getaddrinfo itself) */
static bool is_libc_name(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5) ||
	       !strncmp(base, "ld-musl-", 8);
}

/* First libc path in /proc/PID/maps (as the process sees it). */
static int libc_in_maps(const char *maps_path, char *out, size_t len)
{
	char line[PATH_MAX + 128];
	FILE *f = fopen(maps_path, "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');
		char *nl;

		if (!path)
			continue;
		nl = strchr(path, '\n');
		if (nl)
			*nl = 0;
		if (strstr(path, " (deleted)") || !is_libc_name(path))
			continue;
		if (strlen(path) >= len) {
			err = -ENAMETOOLONG;
			continue;
		}
		strcpy(out, path);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

int libc_find_for_pid(pid_t pid, struct libc_target *out)
{
	char maps[64], inner[PATH_MAX];
	int err;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	err = libc_in_maps(maps, inner, sizeof(inner));
	if (err)
		return err;
	if (snprintf(out->path, sizeof(out->path), "/proc/%d/root%s",
		     (int)pid, inner) >= (int)sizeof(out->path))
		return -ENAMETOOLONG;
	out->pid = pid;
	return 0;
}

struct file_id {
	dev_t dev;
	ino_t ino;
};

/* Adds path unless a target already names the same file: a uprobe is
 * per inode, so two paths to one file would report every call twice. */
static int add_unique(struct libc_target *out, struct file_id *ids, int n,
		      int max, const char *path)
{
	struct stat st;

	if (n >= max || stat(path, &st) || strlen(path) >= PATH_MAX)
		return n;
	for (int i = 0; i < n; i++)
		if (ids[i].dev == st.st_dev && ids[i].ino == st.st_ino)
			return n;
	ids[n].dev = st.st_dev;
	ids[n].ino = st.st_ino;
	strcpy(out[n].path, path);
	out[n].pid = -1;
	return n + 1;
}

int libc_find_system(struct libc_target *out, int max)
{
	struct file_id ids[LIBC_MAX_TARGETS];
	char path[PATH_MAX], maps[64];
	struct dirent *de;
	DIR *proc;
	int n = 0;

	if (max > LIBC_MAX_TARGETS)
		max = LIBC_MAX_TARGETS;
	if (!libc_in_maps("/proc/self/maps", path, sizeof(path)))
		n = add_unique(out, ids, n, max, path);
	/* Processes in other mount namespaces (containers) map their own
	 * copies; one pass over /proc at start finds them. */
	proc = opendir("/proc");
	if (!proc)
		return n;
	while ((de = readdir(proc)) && n < max) {
		char inner[PATH_MAX];
		int pid = atoi(de->d_name);

		if (pid <= 0)
			continue;
		snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
		if (libc_in_maps(maps, inner, sizeof(inner)))
			continue;
		if (snprintf(path, sizeof(path), "/proc/%d/root%s", pid,
			     inner) >= (int)sizeof(path))
			continue;
		n = add_unique(out, ids, n, max, path);
	}
	closedir(proc);
	return n;
}
