// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Go programs: crypto/tls's Write, Read and handshakeContext get a uprobe
 * at their entry and one at each RET instruction (go_locate() finds
 * them), never a uretprobe: the Go runtime moves goroutine stacks, and a
 * return address the kernel rewrote crashes it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "httptrace.skel.h"
#include "discover/go_locate.h"
#include "kernel/go_attach.h"
#include "kernel/uprobe_multi.h"
#include "util/log.h"

#define GO_PROGRAM_CASE(id, symbol)                                          \
	case GO_FN_##id:                                                     \
		return skel->progs.uprobe_go_##id;

/* The entry program of a function, for perf-event links. */
static struct bpf_program *go_entry_program(struct httptrace_bpf *skel,
					    enum go_func_id fn)
{
	switch (fn) {
	GO_FUNCS(GO_PROGRAM_CASE)
	case GO_FN_COUNT:
		break;
	}
	return NULL;
}

bool go_attach_owns_program(struct httptrace_bpf *skel,
			    const struct bpf_program *prog)
{
	if (prog == skel->progs.uprobe_go_tls_ret ||
	    prog == skel->progs.uprobe_go_tls_multi)
		return true;
	for (int fn = 0; fn < GO_FN_COUNT; fn++)
		if (prog == go_entry_program(skel, fn))
			return true;
	return false;
}

void go_attach_disable(struct httptrace_bpf *skel)
{
	for (int fn = 0; fn < GO_FN_COUNT; fn++)
		bpf_program__set_autoload(go_entry_program(skel, fn), false);
	bpf_program__set_autoload(skel->progs.uprobe_go_tls_multi, false);
	bpf_program__set_autoload(skel->progs.uprobe_go_tls_ret, false);
}

int go_attach_select_programs(struct httptrace_bpf *skel, bool multi)
{
	int ret;

	for (int fn = 0; fn < GO_FN_COUNT; fn++)
		bpf_program__set_autoload(go_entry_program(skel, fn), !multi);
	bpf_program__set_autoload(skel->progs.uprobe_go_tls_multi, multi);
	if (!multi)
		return 0;
	ret = uprobe_multi_prepare_program(skel->progs.uprobe_go_tls_multi);
	return ret ? ret :
		     uprobe_multi_prepare_program(skel->progs.uprobe_go_tls_ret);
}

/*
 * The probes of one file: for each function found, its entry and every
 * RET. A function whose probes are not all in place is worse than none
 * (an entry whose return is never seen leaves a frame on the goroutine's
 * stack until the next call), so the count says how many functions are
 * whole; a failure is said with -v by uprobe_attach().
 */
static struct uprobe_handle *go_attach_funcs(struct httptrace_bpf *skel,
					     bool multi, const char *path,
					     pid_t pid,
					     const struct go_binary *bin,
					     int *n_funcs, int *n_probes)
{
	int n = 0;

	for (int fn = 0; fn < GO_FN_COUNT; fn++)
		if (bin->funcs[fn].found)
			n += 1 + bin->funcs[fn].n_rets;

	struct uprobe_spec specs[n > 0 ? n : 1];
	int first[GO_FN_COUNT], k = 0;
	struct uprobe_handle *h;

	for (int fn = 0; fn < GO_FN_COUNT; fn++) {
		const struct go_func_loc *f = &bin->funcs[fn];
		const char *name = go_locate_func_name(fn);

		first[fn] = k;
		if (!f->found)
			continue;
		specs[k++] = (struct uprobe_spec){
			.prog = multi ? skel->progs.uprobe_go_tls_multi :
					go_entry_program(skel, fn),
			.offset = f->entry,
			.cookie = (uint64_t)fn,
			.name = name,
		};
		for (int r = 0; r < f->n_rets && r < GO_MAX_RETS; r++)
			specs[k++] = (struct uprobe_spec){
				.prog = skel->progs.uprobe_go_tls_ret,
				.offset = f->rets[r],
				.name = name,
			};
	}
	*n_funcs = *n_probes = 0;
	h = uprobe_attach(multi, path, pid, specs, k, "go");
	if (!h)
		return NULL;
	for (int fn = 0; fn < GO_FN_COUNT; fn++) {
		int end = fn + 1 < GO_FN_COUNT ? first[fn + 1] : k;
		bool whole = bin->funcs[fn].found;

		for (int i = first[fn]; i < end; i++) {
			whole = whole && specs[i].attached;
			*n_probes += specs[i].attached;
		}
		*n_funcs += whole;
	}
	return h;
}

/*
 * The program's net.Conn types into go_conn_types, for bpf/go_tls.bpf.h
 * to follow wrappers to their socket. The map is by type hash, for every
 * program: a hash another program gave a different place is followed in
 * neither. Says with -v which wrappers are followed.
 */
static void go_attach_conn_types(struct httptrace_bpf *skel,
				 const struct go_binary *bin, const char *shown)
{
	int fd = bpf_map__fd(skel->maps.go_conn_types);
	char names[400] = "";
	int n_wrappers = 0;

	if (!bin->n_conn_types) {
		log_verbose("go: %s: net.Conn wrappers are not followed: %s",
			    shown, bin->conn_types_why ? bin->conn_types_why :
			    "none found");
		return;
	}
	for (int i = 0; i < bin->n_conn_types; i++) {
		const struct go_conn_type *ct = &bin->conn_types[i];
		struct ht_go_conn_type v = { .kind = ct->kind, .off = ct->off };
		struct ht_go_conn_type old;
		size_t len = strlen(names);

		if (!bpf_map_lookup_elem(fd, &ct->hash, &old) &&
		    (old.kind != v.kind || old.off != v.off))
			v = (struct ht_go_conn_type){
				.kind = HT_GO_CONN_AMBIGUOUS };
		if (bpf_map_update_elem(fd, &ct->hash, &v, BPF_ANY)) {
			log_verbose("go: %s: %s not followed: %s", shown,
				    ct->name, strerror(errno));
			continue;
		}
		if (ct->kind == HT_GO_CONN_TCP || ct->kind == HT_GO_CONN_TLS)
			continue;
		n_wrappers++;
		snprintf(names + len, sizeof(names) - len, "%s%s%s",
			 len ? ", " : "", ct->name,
			 v.kind == HT_GO_CONN_AMBIGUOUS ?
				 " (not: another program's type of that "
				 "name differs)" : "");
	}
	if (n_wrappers || bin->conn_types_over)
		log_verbose("go: %s: net.Conn wrappers followed to their "
			    "socket: %s%s", shown, names,
			    bin->conn_types_over ? "; more not kept" : "");
}

struct uprobe_handle *go_attach_file(struct httptrace_bpf *skel, bool multi,
				     const char *path, const char *shown,
				     pid_t pid, int *n_probes)
{
	struct go_binary bin;
	struct uprobe_handle *h;
	char missing[512] = "";
	int ret, n_funcs, n_found = 0;

	*n_probes = 0;
	/* not loaded (go_attach_disable()): said at load */
	if (bpf_program__fd(skel->progs.uprobe_go_tls_ret) < 0)
		return NULL;
	memset(&bin, 0, sizeof(bin));
	ret = go_locate(path, &bin);
	switch (ret) {
	case 0:
		break;
	case -ENOENT:  /* not Go */
	case -ENOEXEC: /* not an x86-64 ELF file */
		return NULL;
	case -EPROTONOSUPPORT:
		log_warn("go: %s: built with %s: Go before 1.17 is not "
			 "supported, its HTTPS is not traced", shown,
			 bin.version[0] ? bin.version : "an old Go");
		return NULL;
	case -EBADMSG:
		log_warn("go: %s: a Go program (%s) whose function table "
			 "cannot be read%s%s: its HTTPS is not traced", shown,
			 bin.version[0] ? bin.version : "version unknown",
			 bin.why ? ": " : "", bin.why ? bin.why : "");
		return NULL;
	default:
		log_verbose("go: %s: cannot read it (%s): if it is a Go "
			    "program, its HTTPS is not traced", shown,
			    bin.why ? bin.why : strerror(-ret));
		return NULL;
	}
	for (int fn = 0; fn < GO_FN_COUNT; fn++) {
		size_t len = strlen(missing);

		if (bin.funcs[fn].found) {
			n_found++;
			continue;
		}
		snprintf(missing + len, sizeof(missing) - len, "%s%s%s%s%s",
			 len ? ", " : "", go_locate_func_name(fn),
			 bin.funcs[fn].why ? " (" : "",
			 bin.funcs[fn].why ? bin.funcs[fn].why : "",
			 bin.funcs[fn].why ? ")" : "");
	}
	if (!bin.funcs[GO_FN_TLS_WRITE].found &&
	    !bin.funcs[GO_FN_TLS_READ].found) {
		log_verbose("go: %s: %s, does not use crypto/tls", shown,
			    bin.version);
		return NULL;
	}
	go_attach_conn_types(skel, &bin, shown);
	h = go_attach_funcs(skel, multi, path, pid, &bin, &n_funcs,
			    n_probes);
	if (!h || !n_funcs) {
		log_warn("go: %s: %s: crypto/tls could not be attached: its "
			 "HTTPS is not traced (-v says why)", shown,
			 bin.version);
		if (h)
			uprobe_handle_close(h);
		*n_probes = 0;
		return NULL;
	}
	log_verbose("go: %s: %s, crypto/tls attached (%d probes%s%s%s)%s%s",
		    shown, bin.version, *n_probes,
		    n_funcs < n_found ? ", some functions not whole" : "",
		    pid > 0 ? ", one process" : "",
		    bin.has_symtab ? "" : ", found through .gopclntab",
		    missing[0] ? "; not in this build: " : "", missing);
	return h;
}

int go_attach_errors(struct httptrace_bpf *skel,
		     uint64_t out[HT_GO_TLS_ERROR_COUNT])
{
	int ncpu = libbpf_num_possible_cpus();

	memset(out, 0, sizeof(uint64_t) * HT_GO_TLS_ERROR_COUNT);
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;

	uint64_t per_cpu[ncpu];

	for (uint32_t k = 0; k < HT_GO_TLS_ERROR_COUNT; k++) {
		if (bpf_map__lookup_elem(skel->maps.go_tls_errors, &k,
					 sizeof(k), per_cpu, sizeof(per_cpu),
					 0))
			return -errno;
		for (int c = 0; c < ncpu; c++)
			out[k] += per_cpu[c];
	}
	return 0;
}

void go_attach_errors_words(const uint64_t n[HT_GO_TLS_ERROR_COUNT],
			    char *buf, size_t len)
{
	uint64_t total = n[HT_GO_TLS_UNTRACKED] + n[HT_GO_TLS_NOT_SOCKET] +
			 n[HT_GO_TLS_CLOSED];

	buf[0] = 0;
	if (!total)
		return;
	snprintf(buf, len, "go tls: %llu call%s on a connection the tracer "
		 "does not follow (%llu on a socket opened before the start, "
		 "not TCP or closed, %llu not on a socket: net.Pipe, TLS inside "
		 "TLS, or a wrapper the tracer does not know, %llu on a socket closed before the "
		 "call returned); no record made",
		 (unsigned long long)total, total == 1 ? "" : "s",
		 (unsigned long long)n[HT_GO_TLS_UNTRACKED],
		 (unsigned long long)n[HT_GO_TLS_NOT_SOCKET],
		 (unsigned long long)n[HT_GO_TLS_CLOSED]);
}
