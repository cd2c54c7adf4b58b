// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Container attribution: cgroup paths of each runtime as they appear on
 * real hosts (docker, containerd and cri-o under Kubernetes with the
 * systemd and the cgroupfs drivers, podman), garbage that must name
 * nothing, the table of cgroup ids, and mountinfo lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "container/cgroup_resolve.h"
#include "container/container_path.h"
#include "container/container_table.h"

#define ID1 "3f2a9c1e5b7d4f608192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
#define ID2 "e8c6b1d0a9f2e3d4c5b6a79881726354a0b1c2d3e4f5061728394a5b6c7d8e9f"
#define UID "6b1a8f34-2c9d-4e8b-9f1a-0c2d3e4f5a6b"
#define UID_ "6b1a8f34_2c9d_4e8b_9f1a_0c2d3e4f5a6b"

static bool parse(const char *path, struct tl_container *c)
{
	memset(c, 0x55, sizeof(*c));
	c->cgroup_id = 77;
	return container_from_cgroup_path(path, strlen(path), c);
}

static void expect(const char *path, const char *id, const char *runtime,
		   const char *pod_uid)
{
	struct tl_container c;
	bool found = parse(path, &c);

	CHECK_INT(found, id[0] || pod_uid[0]);
	CHECK_STR(c.id, id);
	CHECK_STR(c.runtime, runtime);
	CHECK_STR(c.pod_uid, pod_uid);
	CHECK_INT(c.cgroup_id, 77); /* left alone */
}

static void test_docker(void)
{
	expect("/system.slice/docker-" ID1 ".scope", ID1, "docker", "");
	expect("/docker/" ID1, ID1, "docker", "");
	/* docker in docker: the inner one */
	expect("/docker/" ID1 "/docker/" ID2, ID2, "docker", "");
	/* a systemd inside the container: its child cgroups */
	expect("/system.slice/docker-" ID1 ".scope/init.scope", ID1, "docker",
	       "");
	expect("/system.slice/docker-" ID1 ".scope/system.slice/nginx.service",
	       ID1, "docker", "");
	/* hybrid hosts and cgroup namespaces: anywhere in the tree */
	expect("/my-test/docker-" ID1 ".scope", ID1, "docker", "");
	/* the daemon itself is no container */
	expect("/system.slice/docker.service", "", "", "");
	expect("/system.slice/containerd.service", "", "", "");
}

static void test_kubernetes(void)
{
	expect("/kubepods.slice/kubepods-burstable.slice/"
	       "kubepods-burstable-pod" UID_ ".slice/"
	       "cri-containerd-" ID1 ".scope", ID1, "containerd", UID);
	expect("/kubepods.slice/kubepods-besteffort.slice/"
	       "kubepods-besteffort-pod" UID_ ".slice/crio-" ID2 ".scope",
	       ID2, "cri-o", UID);
	/* guaranteed QoS: no class slice */
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice/"
	       "cri-containerd-" ID1 ".scope", ID1, "containerd", UID);
	/* the cgroupfs driver */
	expect("/kubepods/burstable/pod" UID "/" ID1, ID1, "containerd", UID);
	expect("/kubepods/pod" UID "/" ID2, ID2, "containerd", UID);
	expect("/kubepods/besteffort/pod" UID "/crio-" ID1, ID1, "cri-o",
	       UID);
	/* a static pod's uid is a 32-digit hash */
	expect("/kubepods/burstable/pod0123456789abcdef0123456789abcdef/" ID1,
	       ID1, "containerd", "0123456789abcdef0123456789abcdef");
	/* the pod alone (its own cgroup, no container named) */
	expect("/kubepods.slice/kubepods-burstable.slice/"
	       "kubepods-burstable-pod" UID_ ".slice", "", "", UID);
	/* the monitor is not the container */
	expect("/kubepods.slice/kubepods-burstable.slice/"
	       "kubepods-burstable-pod" UID_ ".slice/crio-conmon-" ID1 ".scope",
	       "", "", UID);
	/* a kind / k3s node: kubepods under the node's own container */
	expect("/system.slice/docker-" ID2 ".scope/kubepods/burstable/pod" UID
	       "/" ID1, ID1, "containerd", UID);
	/* pod<uid> outside kubepods names nothing */
	expect("/pod" UID "/x", "", "", "");
	/* the class slices and kubepods itself are no pod */
	expect("/kubepods.slice/kubepods-burstable.slice", "", "", "");
}

static void test_podman_and_others(void)
{
	expect("/machine.slice/libpod-" ID1 ".scope", ID1, "podman", "");
	expect("/machine.slice/libpod-" ID1 ".scope/container", ID1, "podman",
	       "");
	expect("/user.slice/user-1000.slice/user@1000.service/user.slice/"
	       "libpod-" ID2 ".scope", ID2, "podman", "");
	expect("/libpod_parent/libpod-" ID1, ID1, "podman", "");
	expect("/machine.slice/libpod-conmon-" ID1 ".scope", "", "", "");
	expect("/system.slice/crio-" ID1 ".scope", ID1, "cri-o", "");
	expect("/system.slice/crio-conmon-" ID1 ".scope", "", "", "");
	expect("/system.slice/nerdctl-" ID1 ".scope", ID1, "containerd", "");
}

static void test_not_containers(void)
{
	static const char *const paths[] = {
		"", "/", "//", "/init.scope", "/user.slice/user-1000.slice/"
		"session-2.scope", "/system.slice/sshd.service",
		/* a bare id outside docker and kubepods: no runtime says so */
		"/" ID1, "/system.slice/" ID1,
		/* ids one digit short or long, not hex, wrong case of prefix */
		"/docker/" ID1 "0", "/system.slice/docker-" ID1 "0.scope",
		"/system.slice/docker-3f2a.scope",
		"/docker/zf2a9c1e5b7d4f608192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8",
		"/system.slice/Docker-" ID1 ".scope",
		/* the systemd driver's names need their .scope */
		"/system.slice/docker-" ID1, "/x/cri-containerd-" ID1 ".slice",
		"/dockerx/" ID1,
		/* pods: a uid of the wrong shape */
		"/kubepods/burstable/pod6b1a8f34-2c9d-4e8b-9f1a-0c2d3e4f5a6",
		"/kubepods/burstable/pod" UID_,
		"/kubepods.slice/kubepods-burstable-pod" UID ".slice",
		"/kubepods.slice/kubepods-burstable-pod" UID_ ".scope",
		"/kubepods.slice/kubepods-other-pod" UID_ ".slice",
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct tl_container c;

		CHECK(!parse(paths[i], &c));
		CHECK_STR(c.id, "");
		CHECK_STR(c.runtime, "");
		CHECK_STR(c.pod_uid, "");
	}
}

static void test_bounds(void)
{
	static const char path[] = "/docker/" ID1;
	struct tl_container c;

	/* len cuts the path: one digit short */
	memset(&c, 0, sizeof(c));
	CHECK(!container_from_cgroup_path(path, strlen(path) - 1, &c));
	/* a NUL inside ends it */
	CHECK(!container_from_cgroup_path("/docker/\0" ID1,
					   sizeof("/docker/\0" ID1) - 1, &c));
	CHECK(!container_from_cgroup_path(NULL, 10, &c));
	CHECK_STR(c.id, "");
}

static void test_table(void)
{
	struct container_table *t = container_table_new();
	static const char dpath[] = "/system.slice/docker-" ID1 ".scope";
	const struct tl_container *e;
	struct tl_container c;
	uint64_t id;
	int n_found;

	ASSERT(t);
	CHECK(container_table_get(t, 42) == NULL);
	CHECK(container_table_put(t, 0, dpath, strlen(dpath)) == NULL);
	CHECK(container_table_get(t, 0) == NULL);
	e = container_table_put(t, 42, dpath, strlen(dpath));
	ASSERT(e);
	CHECK(container_table_get(t, 42) == e);
	CHECK_INT(e->cgroup_id, 42);
	CHECK_STR(e->id, ID1);
	CHECK_STR(e->runtime, "docker");
	/* not resolved: entered, with nothing named */
	e = container_table_put(t, 43, NULL, 0);
	ASSERT(e);
	CHECK_STR(e->id, "");
	container_table_fill(t, 42, &c);
	CHECK_STR(c.id, ID1);
	container_table_fill(t, 9999, &c);
	CHECK_INT(c.cgroup_id, 9999);
	CHECK_STR(c.id, "");
	container_table_fill(NULL, 5, &c);
	CHECK_INT(c.cgroup_id, 5);
	/* a second put of an id replaces its entry in place */
	e = container_table_put(t, 42, "/", 1);
	CHECK(container_table_get(t, 42) == e);
	CHECK_STR(e->id, "");
	/* bounded: after many more ids than it holds, the first ones are
	 * gone and the last ones are there */
	for (id = 1000; id < 1000 + 4 * CONTAINER_TABLE_SETS *
					CONTAINER_TABLE_WAYS; id++)
		container_table_put(t, id, dpath, strlen(dpath));
	n_found = 0;
	for (id = 1000; id < 1000 + 4 * CONTAINER_TABLE_SETS *
					CONTAINER_TABLE_WAYS; id++)
		n_found += container_table_get(t, id) != NULL;
	CHECK(n_found <= CONTAINER_TABLE_SETS * CONTAINER_TABLE_WAYS);
	CHECK(container_table_get(t, id - 1) != NULL);
	container_table_free(t);
}

static void test_mountinfo(void)
{
	char mount[64], root[64];

	CHECK(cgroup_mountinfo_line("35 24 0:30 / /sys/fs/cgroup rw,nosuid,"
				    "nodev,noexec,relatime shared:9 - cgroup2 "
				    "cgroup2 rw,nsdelegate\n", mount,
				    sizeof(mount), root, sizeof(root)));
	CHECK_STR(mount, "/sys/fs/cgroup");
	CHECK_STR(root, "/");
	/* hybrid: v1 hierarchies first, the unified one elsewhere; no
	 * optional fields; an escaped space */
	CHECK(!cgroup_mountinfo_line("40 30 0:35 / /sys/fs/cgroup/cpu rw - "
				     "cgroup cgroup rw,cpu", mount,
				     sizeof(mount), root, sizeof(root)));
	CHECK(cgroup_mountinfo_line("41 30 0:36 /a\\040b /sys/fs/cgroup/"
				    "unified rw,relatime - cgroup2 cgroup2 rw",
				    mount, sizeof(mount), root, sizeof(root)));
	CHECK_STR(mount, "/sys/fs/cgroup/unified");
	CHECK_STR(root, "/a b");
	/* cut short, or a mount point that does not fit */
	CHECK(!cgroup_mountinfo_line("41 30 0:36 / /sys/fs/cgroup rw",
				     mount, sizeof(mount), root, sizeof(root)));
	CHECK(!cgroup_mountinfo_line("41 30 0:36 / /sys/fs/cgroup rw - "
				     "cgroup2 cgroup2 rw", mount, 8, root,
				     sizeof(root)));
	CHECK(!cgroup_mountinfo_line("", mount, sizeof(mount), root,
				     sizeof(root)));
}

/*
 * The walk that resolves an id without privileges, on a tree of the
 * test's own (the directory inode numbers of any file system serve as
 * cgroup2's do): a directory deep down is found by its inode, the root
 * is "/", an inode that is not there (a cgroup gone) is -ENOENT.
 */
static void test_resolve_walk(void)
{
	char top[] = "/tmp/ht_test_cgroup.XXXXXX";
	char dir[128], got[256];
	struct cgroup_resolver r;
	struct stat st;
	int n;

	ASSERT(mkdtemp(top));
	memset(&r, 0, sizeof(r));
	snprintf(r.mount, sizeof(r.mount), "%s", top);
	r.root_fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT(r.root_fd >= 0);
	r.no_handles = true;
	snprintf(dir, sizeof(dir), "%s/system.slice", top);
	CHECK_INT(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/other", top);
	CHECK_INT(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/system.slice/docker-ab.scope", top);
	CHECK_INT(mkdir(dir, 0700), 0);
	CHECK_INT(stat(dir, &st), 0);
	n = cgroup_resolve(&r, st.st_ino, got, sizeof(got));
	CHECK_INT(n, (int)strlen("/system.slice/docker-ab.scope"));
	CHECK_STR(got, "/system.slice/docker-ab.scope");
	/* the hierarchy's root in the mount (a cgroup namespace) first */
	snprintf(r.root, sizeof(r.root), "/ns");
	CHECK_INT(cgroup_resolve(&r, st.st_ino, got, sizeof(got)) > 0, 1);
	CHECK_STR(got, "/ns/system.slice/docker-ab.scope");
	r.root[0] = '\0';
	CHECK_INT(cgroup_resolve(&r, st.st_ino, got, 8), -ENAMETOOLONG);
	CHECK_INT(stat(top, &st), 0);
	CHECK_INT(cgroup_resolve(&r, st.st_ino, got, sizeof(got)), 1);
	CHECK_STR(got, "/");
	CHECK_INT(rmdir(dir), 0);
	CHECK_INT(stat(top, &st), 0);
	CHECK_INT(cgroup_resolve(&r, 1, got, sizeof(got)), -ENOENT);
	CHECK(r.walks >= 3);
	cgroup_resolver_close(&r);
	CHECK_INT(r.root_fd, -1);
	CHECK_INT(cgroup_resolve(&r, 1, got, sizeof(got)), -ENOENT);
	snprintf(dir, sizeof(dir), "%s/system.slice", top);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/other", top);
	rmdir(dir);
	rmdir(top);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_docker);
	RUN(test_kubernetes);
	RUN(test_podman_and_others);
	RUN(test_not_containers);
	RUN(test_bounds);
	RUN(test_table);
	RUN(test_mountinfo);
	RUN(test_resolve_walk);
	return unit_done("container");
}
