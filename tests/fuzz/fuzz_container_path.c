// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the cgroup path parser (container/container_path.h)
 * and the mountinfo line reader (container/cgroup_resolve.h): paths come
 * from the file system and from recordings, which anyone may write.
 * Invariants: the contract's shapes (an id is 64 hex digits with one of
 * the runtimes, a pod uid 36 characters with dashes or 32 hex digits),
 * the return value says whether anything was named, the same input
 * gives the same answer, and a mountinfo line gives NUL-terminated
 * strings within their buffers.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container/cgroup_resolve.h"
#include "container/container_path.h"

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
			return false;
	return true;
}

static void check(const struct tl_container *c, bool found)
{
	static const char *const runtimes[] = {
		"docker", "containerd", "cri-o", "podman",
	};
	size_t id_len = strnlen(c->id, sizeof(c->id));
	size_t uid_len = strnlen(c->pod_uid, sizeof(c->pod_uid));
	bool runtime_ok = !c->runtime[0];

	if (id_len >= sizeof(c->id) || uid_len >= sizeof(c->pod_uid) ||
	    strnlen(c->runtime, sizeof(c->runtime)) >= sizeof(c->runtime))
		abort();
	if (id_len && (id_len != CONTAINER_ID_LEN || !all_hex(c->id, id_len)))
		abort();
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		runtime_ok = runtime_ok || !strcmp(c->runtime, runtimes[i]);
	if (!runtime_ok || !c->runtime[0] != !id_len)
		abort();
	if (uid_len == 32) {
		if (!all_hex(c->pod_uid, 32))
			abort();
	} else if (uid_len) {
		if (uid_len != CONTAINER_POD_UID_LEN)
			abort();
		for (size_t i = 0; i < uid_len; i++) {
			bool dash = i == 8 || i == 13 || i == 18 || i == 23;

			if (dash ? c->pod_uid[i] != '-' :
				   !all_hex(c->pod_uid + i, 1))
				abort();
		}
	}
	if (found != (id_len || uid_len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tl_container a, b;
	char mount[64], root[64];
	char *line;
	bool found;

	memset(&a, 0x55, sizeof(a));
	a.cgroup_id = 7;
	found = container_from_cgroup_path((const char *)data, size, &a);
	check(&a, found);
	if (a.cgroup_id != 7)
		abort();
	memset(&b, 0, sizeof(b));
	b.cgroup_id = 7;
	if (container_from_cgroup_path((const char *)data, size, &b) != found ||
	    strcmp(a.id, b.id) || strcmp(a.runtime, b.runtime) ||
	    strcmp(a.pod_uid, b.pod_uid))
		abort();

	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (cgroup_mountinfo_line(line, mount, sizeof(mount), root,
				  sizeof(root)) &&
	    (strnlen(mount, sizeof(mount)) >= sizeof(mount) ||
	     strnlen(root, sizeof(root)) >= sizeof(root) || mount[0] != '/'))
		abort();
	free(line);
	return 0;
}
