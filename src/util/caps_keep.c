// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which capabilities the running tracer keeps; see caps_keep.h. */
#include <stdio.h>
#include <string.h>

#include "util/caps_keep.h"

uint64_t caps_keep_plan(uint64_t held, int last_cap, bool watches_exec,
			bool perf_uprobes)
{
	const uint64_t bpf = CAPS_BIT(CAPS_BPF) | CAPS_BIT(CAPS_PERFMON);
	uint64_t keep;

	if (last_cap >= CAPS_BPF && (held & bpf) == bpf)
		keep = bpf;
	else
		keep = CAPS_BIT(CAPS_SYS_ADMIN);
	keep |= CAPS_BIT(CAPS_DAC_READ_SEARCH);
	if (watches_exec)
		keep |= CAPS_BIT(CAPS_SYS_PTRACE);
	if (watches_exec && perf_uprobes)
		keep |= CAPS_BIT(CAPS_SYS_ADMIN);
	return keep & held;
}

/* capabilities(7) */
static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

const char *caps_words(uint64_t caps, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (int c = 0; c < 64; c++) {
		char unknown[16];
		const char *name = unknown;
		int w;

		if (!(caps & CAPS_BIT(c)))
			continue;
		if ((size_t)c < sizeof(cap_names) / sizeof(cap_names[0]))
			name = cap_names[c];
		else
			snprintf(unknown, sizeof(unknown), "capability %d", c);
		w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
		if (w < 0 || (size_t)w >= len - n) {
			buf[n] = '\0'; /* whole names only */
			break;
		}
		n += (size_t)w;
	}
	if (!caps)
		snprintf(buf, len, "none");
	return buf;
}
