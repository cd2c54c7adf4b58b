// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A cgroup id to its path; see cgroup_resolve.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/cgroup_resolve.h"

/* include/linux/exportfs.h: kernfs's handle, the 64-bit node id, which
 * is the cgroup id */
#define FILEID_KERNFS 0xfe

/* the next space-separated field of *s, octal escapes (\040) undone
 * into out; false when there is none or it does not fit */
static bool next_field(const char **s, char *out, size_t size)
{
	const char *p = *s;
	size_t n = 0;

	while (*p == ' ')
		p++;
	if (!*p || *p == '\n')
		return false;
	while (*p && *p != ' ' && *p != '\n') {
		char ch = *p++;

		if (ch == '\\' && p[0] >= '0' && p[0] <= '3' &&
		    p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7') {
			ch = (char)((p[0] - '0') << 6 | (p[1] - '0') << 3 |
				    (p[2] - '0'));
			p += 3;
		}
		if (n + 1 >= size)
			return false;
		out[n++] = ch;
	}
	out[n] = '\0';
	*s = p;
	return true;
}

bool cgroup_mountinfo_line(const char *line, char *mount, size_t mount_size,
			   char *root, size_t root_size)
{
	char field[512];
	int i;

	/* id, parent, major:minor */
	for (i = 0; i < 3; i++)
		if (!next_field(&line, field, sizeof(field)))
			return false;
	if (!next_field(&line, root, root_size) ||
	    !next_field(&line, mount, mount_size))
		return false;
	/* options, the optional fields, then "-" */
	do {
		if (!next_field(&line, field, sizeof(field)))
			return false;
	} while (strcmp(field, "-"));
	return next_field(&line, field, sizeof(field)) &&
	       !strcmp(field, "cgroup2") && mount[0] == '/' && root[0] == '/';
}

int cgroup_resolver_open(struct cgroup_resolver *r, const char *mountinfo,
			 char *err, size_t err_len)
{
	char line[2048];
	bool found = false;
	FILE *f;

	memset(r, 0, sizeof(*r));
	r->root_fd = -1;
	f = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "re");
	if (!f) {
		int e = errno;

		snprintf(err, err_len, "cannot read the mounts: %s",
			 strerror(e));
		return -e;
	}
	while (!found && fgets(line, sizeof(line), f))
		found = cgroup_mountinfo_line(line, r->mount, sizeof(r->mount),
					      r->root, sizeof(r->root));
	fclose(f);
	if (!found) {
		snprintf(err, err_len, "no cgroup v2 file system is mounted");
		return -ENOENT;
	}
	if (!strcmp(r->root, "/"))
		r->root[0] = '\0';
	r->root_fd = open(r->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->root_fd < 0) {
		int e = errno;

		snprintf(err, err_len, "cannot open %s: %s", r->mount,
			 strerror(e));
		return -e;
	}
	return 0;
}

void cgroup_resolver_close(struct cgroup_resolver *r)
{
	if (r->root_fd >= 0)
		close(r->root_fd);
	r->root_fd = -1;
}

/* root + rel ("" means the mount's own directory) into path */
static int join_path(const struct cgroup_resolver *r, const char *rel,
		     char *path, size_t size)
{
	int n = snprintf(path, size, "%s%s", r->root, rel);

	if (n == 0)
		n = snprintf(path, size, "/");
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}

/* By file handle: 0 with rel set, -ENOENT (gone), -EPERM and the like
 * (handles refused: walk instead). */
static int by_handle(struct cgroup_resolver *r, uint64_t id, char *rel,
		     size_t size)
{
	union {
		struct file_handle fh;
		char room[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	char link[64], target[4096 + 16];
	size_t mlen = strlen(r->mount);
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	h.fh.handle_bytes = sizeof(uint64_t);
	h.fh.handle_type = FILEID_KERNFS;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(r->root_fd, &h.fh,
			       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ESTALE ? -ENOENT : -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	/* the inode is the one asked for, and still linked in the tree */
	if (n < 0 || fstat(fd, &st)) {
		ret = -errno;
	} else if ((uint64_t)st.st_ino != id || (size_t)n >= sizeof(target) - 1) {
		ret = -ENOENT;
	} else {
		target[n] = '\0';
		if (n > 10 && !strcmp(target + n - 10, " (deleted)"))
			ret = -ENOENT;
		else if (!strcmp(r->mount, "/"))
			ret = snprintf(rel, size, "%s", target) < (int)size ?
				      0 : -ENAMETOOLONG;
		else if (strncmp(target, r->mount, mlen) ||
			 (target[mlen] && target[mlen] != '/'))
			ret = -ENOENT; /* not under our mount: not ours */
		else
			ret = snprintf(rel, size, "%s", target + mlen) <
					      (int)size ?
				      0 : -ENAMETOOLONG;
	}
	close(fd);
	return ret;
}

/* Looks for the directory of inode id below dir_fd (which it closes);
 * rel holds the path so far (len bytes). 1 found (rel is its path), 0
 * not here, -errno. */
static int walk(int dir_fd, uint64_t id, char *rel, size_t len, size_t size,
		int depth, unsigned int *budget)
{
	DIR *d = fdopendir(dir_fd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(dir_fd);
		return 0;
	}
	while (ret == 0 && (de = readdir(d))) {
		size_t n;
		int fd;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		if (!*budget) {
			ret = -E2BIG;
			break;
		}
		(*budget)--;
		n = strlen(de->d_name);
		if (len + 1 + n >= size)
			continue;
		rel[len] = '/';
		memcpy(rel + len + 1, de->d_name, n + 1);
		/* kernfs gives readdir the node id as d_ino */
		if ((uint64_t)de->d_ino == id) {
			ret = 1;
			break;
		}
		if (depth + 1 >= CGROUP_WALK_MAX_DEPTH)
			continue;
		fd = openat(dirfd(d), de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			ret = walk(fd, id, rel, len + 1 + n, size, depth + 1,
				   budget);
	}
	if (ret == 0)
		rel[len] = '\0';
	closedir(d);
	return ret;
}

int cgroup_resolve(struct cgroup_resolver *r, uint64_t id, char *path,
		   size_t size)
{
	char rel[4096];
	unsigned int budget = CGROUP_WALK_MAX_DIRS;
	struct stat st;
	int ret, fd;

	if (r->root_fd < 0)
		return -ENOENT;
	if (!r->no_handles) {
		ret = by_handle(r, id, rel, sizeof(rel));
		if (ret == 0)
			return join_path(r, rel, path, size);
		if (ret == -ENOENT || ret == -ENAMETOOLONG)
			return ret;
		/* EPERM without CAP_DAC_READ_SEARCH; a kernel without
		 * kernfs handles: EINVAL, EOPNOTSUPP */
		r->no_handles = true;
	}
	if (!fstat(r->root_fd, &st) && (uint64_t)st.st_ino == id)
		return join_path(r, "", path, size);
	fd = openat(r->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r->walks++;
	rel[0] = '\0';
	ret = walk(fd, id, rel, 0, sizeof(rel), 0, &budget);
	if (ret < 0)
		return ret;
	return ret ? join_path(r, rel, path, size) : -ENOENT;
}
