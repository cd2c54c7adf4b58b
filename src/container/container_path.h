/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which container a cgroup is: the container runtimes name the cgroups
 * they make after the container, so its path under the cgroup v2 root
 * says the container id, the runtime, and for Kubernetes the pod. Pure:
 * a path in, the names out; nothing is looked up.
 *
 * Contract of container_from_cgroup_path():
 *   - path is any bytes (len of them; a NUL ends it early), read as
 *     components split at '/'; empty components are skipped.
 *   - A component names a container when it is one of
 *         docker-<ID>.scope             docker, systemd driver
 *         cri-containerd-<ID>.scope     containerd (Kubernetes CRI)
 *         nerdctl-<ID>.scope            containerd (nerdctl)
 *         crio-<ID>.scope, crio-<ID>    cri-o
 *         libpod-<ID>.scope, libpod-<ID>  podman
 *         <ID> under a "docker" component         docker, cgroupfs
 *         <ID> under a kubepods component         containerd, cgroupfs
 *     where <ID> is exactly 64 hex digits. Nothing else does: the
 *     monitors crio-conmon-<ID>.scope and libpod-conmon-<ID>.scope, a
 *     bare <ID> anywhere else, an id of another length. The deepest
 *     such component wins (a process in a container's child cgroup,
 *     such as podman's libpod-<ID>.scope/container, is in that
 *     container; in a nested runtime, the innermost).
 *   - A component names a Kubernetes pod when it is
 *         kubepods[-burstable|-besteffort]-pod<UID>.slice  (systemd,
 *             the UID's dashes written as underscores)
 *         pod<UID> under a kubepods component             (cgroupfs)
 *     where <UID> is 8-4-4-4-12 hex digits (a pod of the API server) or
 *     32 hex digits (a static pod's hash); pod_uid gets it with dashes.
 *     The deepest such component wins.
 *   - A kubepods component is one named "kubepods", or starting with
 *     "kubepods-" or "kubepods." (kubepods.slice, kubepods-burstable.slice).
 *   - id, runtime and pod_uid of out are set ("" when not named; the
 *     runtime is "" exactly when the id is); out->cgroup_id is left as
 *     it was. Returns true when a container id or a pod uid was found.
 *   - Bounded: one pass over the bytes, no allocation; any input is
 *     safe (the fuzzer holds it to this contract).
 */
#ifndef HTTPTRACE_CONTAINER_PATH_H
#define HTTPTRACE_CONTAINER_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "timeline/timeline.h"

#define CONTAINER_ID_LEN 64
#define CONTAINER_POD_UID_LEN 36

bool container_from_cgroup_path(const char *path, size_t len,
				struct tl_container *out);

#endif /* HTTPTRACE_CONTAINER_PATH_H */
