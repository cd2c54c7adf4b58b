/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A cgroup id (bpf_get_current_cgroup_id()) to its path, on the running
 * system. A cgroup v2 id is the inode number of the cgroup's directory
 * in the cgroup2 file system, so the directory is found by a file handle
 * made of the id (open_by_handle_at(), which needs CAP_DAC_READ_SEARCH),
 * or else by looking for that inode number in the tree (readdir only,
 * no privileges; at most CGROUP_WALK_MAX_DIRS directories, at most
 * CGROUP_WALK_MAX_DEPTH deep). A cgroup that is gone is not found, never
 * taken for another: ids are not reused while the system runs.
 */
#ifndef HTTPTRACE_CGROUP_RESOLVE_H
#define HTTPTRACE_CGROUP_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUP_WALK_MAX_DIRS 65536
#define CGROUP_WALK_MAX_DEPTH 32

struct cgroup_resolver {
	int root_fd;        /* the cgroup2 mount's directory; -1: none */
	char mount[512];    /* its mount point */
	char root[512];     /* the hierarchy's path there ("" for "/") */
	bool no_handles;    /* open_by_handle_at() was refused: walk */
	uint64_t walks;     /* walks made (for -v) */
};

/*
 * Finds the cgroup2 mount in mountinfo (NULL: /proc/self/mountinfo) and
 * opens it. 0, or -errno with err in words (-ENOENT: no cgroup2 mount;
 * r can still be closed).
 */
int cgroup_resolver_open(struct cgroup_resolver *r, const char *mountinfo,
			 char *err, size_t err_len);
void cgroup_resolver_close(struct cgroup_resolver *r);

/*
 * The path of cgroup id under the hierarchy's root ("/" for the root,
 * "/system.slice/x.service"), NUL-terminated in path. Returns its
 * length, -ENOENT when there is no such cgroup (gone), -ENAMETOOLONG,
 * or another -errno.
 */
int cgroup_resolve(struct cgroup_resolver *r, uint64_t id, char *path,
		   size_t size);

/*
 * One /proc/self/mountinfo line: true for a cgroup2 mount, with its
 * mount point and root (octal escapes undone) in mount and root. Pure,
 * for the unit tests.
 */
bool cgroup_mountinfo_line(const char *line, char *mount, size_t mount_size,
			   char *root, size_t root_size);

#endif /* HTTPTRACE_CGROUP_RESOLVE_H */
