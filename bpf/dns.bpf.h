/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * getaddrinfo() entry and return (uprobe/uretprobe on libc): the host
 * and service asked, the addresses returned and the EAI_* result.
 */
#ifndef HTTPTRACE_DNS_BPF_H
#define HTTPTRACE_DNS_BPF_H

#include "maps.bpf.h"

/* glibc's struct addrinfo on LP64 */
struct user_addrinfo {
	int ai_flags;
	int ai_family;
	int ai_socktype;
	int ai_protocol;
	__u32 ai_addrlen;
	__u64 ai_addr;
	__u64 ai_canonname;
	__u64 ai_next;
};

struct user_sockaddr_in6 {
	__u16 family;
	__u16 port;  /* network order */
	__u32 flowinfo_or_v4addr; /* sin_addr for AF_INET */
	__u8 addr6[16];
};

static __always_inline void on_getaddrinfo_enter(__u64 node, __u64 service,
						 __u64 res)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct pending_dns pd = { .ts = bpf_ktime_get_ns(), .node = node,
				  .service = service, .res = res };

	if (!want_current(id >> 32))
		return;
	bpf_map_update_elem(&pending_dns_calls, &tid, &pd, BPF_ANY);
}

static __always_inline void on_getaddrinfo_exit(int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_dns *pd;
	struct ht_dns_event *ev;
	__u64 ai_ptr = 0;

	pd = bpf_map_lookup_elem(&pending_dns_calls, &tid);
	if (!pd)
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count_drop(HT_DROP_DNS);
		goto out;
	}
	fill_header(&ev->hdr, HT_EV_DNS, bpf_ktime_get_ns());
	ev->enter_ns = pd->ts;
	ev->ret = ret;
	ev->host[0] = 0;
	if (pd->node)
		bpf_probe_read_user_str(ev->host, sizeof(ev->host),
					(void *)pd->node);
	ev->service[0] = 0;
	if (pd->service)
		bpf_probe_read_user_str(ev->service, sizeof(ev->service),
					(void *)pd->service);
	if (ret == 0 && pd->res)
		bpf_probe_read_user(&ai_ptr, sizeof(ai_ptr), (void *)pd->res);

	/* The count lives in the record, not in a register: read back
	 * (volatile, so the compiler keeps the load) it is a value the
	 * verifier does not follow, and a round's states match those it
	 * has seen. Counted in a register, every count was a state of its
	 * own: 104-154 ms of verification at every start, half of the
	 * start time; now 4 ms. */
	ev->n_addrs = 0;
	for (int i = 0; i < HT_DNS_MAX_ADDRS * 3; i++) {
		struct user_addrinfo ai;
		struct user_sockaddr_in6 sa;
		struct ht_addr *a;
		__u32 k = *(volatile __u32 *)&ev->n_addrs;

		if (!ai_ptr || k >= HT_DNS_MAX_ADDRS)
			break;
		if (bpf_probe_read_user(&ai, sizeof(ai), (void *)ai_ptr))
			break;
		ai_ptr = ai.ai_next;
		/* glibc lists each address once per socket type when the
		 * hints leave it open; keep the stream (TCP) one */
		if (ai.ai_socktype && ai.ai_socktype != 1 /* SOCK_STREAM */)
			continue;
		if (!ai.ai_addr ||
		    bpf_probe_read_user(&sa, sizeof(sa), (void *)ai.ai_addr))
			continue;
		a = &ev->addrs[k & (HT_DNS_MAX_ADDRS - 1)];
		__builtin_memset(a, 0, sizeof(*a));
		a->family = sa.family;
		a->port = bpf_ntohs(sa.port);
		if (sa.family == 2 /* AF_INET */)
			__builtin_memcpy(a->addr, &sa.flowinfo_or_v4addr, 4);
		else if (sa.family == 10 /* AF_INET6 */)
			__builtin_memcpy(a->addr, sa.addr6, 16);
		else
			continue;
		ev->n_addrs = k + 1;
	}
	bpf_ringbuf_submit(ev, rb_flags());
out:
	bpf_map_delete_elem(&pending_dns_calls, &tid);
}

#endif /* HTTPTRACE_DNS_BPF_H */
