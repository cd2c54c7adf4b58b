// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A cgroup path to its container and pod; see container_path.h. */
#include <string.h>

#include "container/container_path.h"

_Static_assert(sizeof(((struct tl_container *)0)->id) > CONTAINER_ID_LEN,
	       "tl_container.id holds a container id");
_Static_assert(sizeof(((struct tl_container *)0)->pod_uid) >
		       CONTAINER_POD_UID_LEN,
	       "tl_container.pod_uid holds a pod uid");

struct comp {
	const char *s;
	size_t n;
};

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		      (ch >= 'A' && ch <= 'F')))
			return false;
	}
	return true;
}

static bool comp_is(struct comp c, const char *word)
{
	return c.n == strlen(word) && !memcmp(c.s, word, c.n);
}

/* c starts with word: c becomes what follows */
static bool comp_eat(struct comp *c, const char *word)
{
	size_t n = strlen(word);

	if (c->n < n || memcmp(c->s, word, n))
		return false;
	c->s += n;
	c->n -= n;
	return true;
}

/* c ends with word: c becomes what precedes */
static bool comp_eat_end(struct comp *c, const char *word)
{
	size_t n = strlen(word);

	if (c->n < n || memcmp(c->s + c->n - n, word, n))
		return false;
	c->n -= n;
	return true;
}

static bool is_kubepods(struct comp c)
{
	return comp_is(c, "kubepods") || comp_eat(&c, "kubepods-") ||
	       comp_eat(&c, "kubepods.");
}

static bool is_container_id(struct comp c)
{
	return c.n == CONTAINER_ID_LEN && is_hex(c.s, c.n);
}

/* The runtime a component names, with the id in *id; NULL: none. */
static const char *container_comp(struct comp c, bool under_docker,
				  bool in_kubepods, struct comp *id)
{
	static const struct {
		const char *prefix;
		const char *runtime;
		bool scope_only; /* the systemd driver's name alone */
	} prefixed[] = {
		{ "docker-", "docker", true },
		{ "cri-containerd-", "containerd", true },
		{ "nerdctl-", "containerd", true },
		{ "crio-", "cri-o", false },
		{ "libpod-", "podman", false },
	};
	size_t i;

	if (is_container_id(c)) {
		*id = c;
		if (under_docker)
			return "docker";
		return in_kubepods ? "containerd" : NULL;
	}
	for (i = 0; i < sizeof(prefixed) / sizeof(prefixed[0]); i++) {
		struct comp rest = c;

		if (!comp_eat(&rest, prefixed[i].prefix))
			continue;
		if (!comp_eat_end(&rest, ".scope") && prefixed[i].scope_only)
			continue;
		if (!is_container_id(rest))
			continue;
		*id = rest;
		return prefixed[i].runtime;
	}
	return NULL;
}

/* 8-4-4-4-12 hex digits joined by sep, or 32 hex digits: to out with
 * dashes (CONTAINER_POD_UID_LEN + 1 bytes). */
static bool pod_uid(struct comp c, char sep, char *out)
{
	static const size_t group[] = { 8, 4, 4, 4, 12 };
	size_t g, at = 0;

	if (c.n == 32 && is_hex(c.s, c.n)) {
		memcpy(out, c.s, c.n);
		out[c.n] = '\0';
		return true;
	}
	if (c.n != CONTAINER_POD_UID_LEN)
		return false;
	for (g = 0; g < 5; g++) {
		if (!is_hex(c.s + at, group[g]))
			return false;
		memcpy(out + at, c.s + at, group[g]);
		at += group[g];
		if (g == 4)
			break;
		if (c.s[at] != sep)
			return false;
		out[at++] = '-';
	}
	out[at] = '\0';
	return true;
}

/* A pod's component; its uid to out. */
static bool pod_comp(struct comp c, bool in_kubepods, char *out)
{
	struct comp rest = c;

	if (in_kubepods && comp_eat(&rest, "pod") && pod_uid(rest, '-', out))
		return true;
	rest = c;
	if (!comp_eat(&rest, "kubepods-") || !comp_eat_end(&rest, ".slice"))
		return false;
	if (!comp_eat(&rest, "burstable-"))
		comp_eat(&rest, "besteffort-");
	return comp_eat(&rest, "pod") && pod_uid(rest, '_', out);
}

bool container_from_cgroup_path(const char *path, size_t len,
				struct tl_container *out)
{
	bool under_docker = false, in_kubepods = false;
	const char *runtime = NULL;
	char uid[CONTAINER_POD_UID_LEN + 1];
	struct comp id = { NULL, 0 };
	size_t at = 0;

	out->id[0] = '\0';
	out->runtime[0] = '\0';
	out->pod_uid[0] = '\0';
	if (!path)
		return false;
	len = strnlen(path, len);
	while (at < len) {
		struct comp c = { path + at, 0 };
		const char *rt;
		struct comp cid;

		while (at + c.n < len && path[at + c.n] != '/')
			c.n++;
		at += c.n + 1;
		if (!c.n)
			continue;
		rt = container_comp(c, under_docker, in_kubepods, &cid);
		if (rt) {
			runtime = rt;
			id = cid;
		}
		if (pod_comp(c, in_kubepods, uid))
			memcpy(out->pod_uid, uid, sizeof(uid));
		if (is_kubepods(c))
			in_kubepods = true;
		under_docker = comp_is(c, "docker");
	}
	if (runtime) {
		memcpy(out->id, id.s, id.n);
		out->id[id.n] = '\0';
		strncpy(out->runtime, runtime, sizeof(out->runtime) - 1);
		out->runtime[sizeof(out->runtime) - 1] = '\0';
	}
	return runtime || out->pod_uid[0];
}
