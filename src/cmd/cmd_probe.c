// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --probe: what the kernel offers, in words. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "cmd/cmd.h"
#include "discover/go_locate.h"
#include "kernel/features.h"

/* "yes", or "no: why"; a probe the kernel would not answer for want
 * of privileges says "not known: why" (kernel_features.c) */
static void print_feature(const char *name, bool ok, const char *why)
{
	bool unknown = !strncmp(why, "not known", 9);

	printf("%-14s%s%s\n", name, ok ? "yes" : unknown ? "" : "no: ",
	       ok ? "" : why);
}

/* Each feature that picks a variant of the programs, found or missed, and
 * the variant it picks (kernel/variants.c). */
static void print_variants(const struct variant_features *v)
{
	char buf[200];

	for (int i = 0; i < VF_COUNT; i++) {
		bool unknown = !strncmp(v->why[i], "not known", 9);

		printf("%s: %s%s\n", variants_feature_name(i),
		       v->have[i] ? "yes" : unknown ? "" : "no: ",
		       v->have[i] ? "" : v->why[i]);
		printf("  variant: %s\n",
		       variants_chosen(v, i, buf, sizeof(buf)));
	}
}

/* --probe: what the kernel offers, which mode would be used, and why. */
static int print_probe(const struct ht_options *opts,
		       const struct kernel_features *f, bool privileged)
{
	enum attach_mode mode = opts->attach_mode != ATTACH_AUTO ?
					opts->attach_mode :
					features_best_mode(f);
	struct utsname uts;
	const char *why;
	bool ok;

	if (uname(&uts) == 0)
		printf("kernel:       %s %s\n", uts.release, uts.machine);
	printf("privileges:   %s%s\n", privileged ? "yes" : "no: ",
	       privileged ? "" : f->why_privileges);
	printf("BTF:          %s (%s)\n", f->btf ? "yes" : "no", f->btf_path);
	print_feature("ring buffer:", f->ringbuf, f->why_ringbuf);
	print_feature("fentry:", f->fentry, f->why_fentry);
	print_feature("kprobes:", f->kprobe, f->why_kprobe);
	if (f->tracefs)
		printf("tracepoints:  yes (tracefs at %s)\n", f->tracefs_root);
	else
		print_feature("tracepoints:", false, f->why_tracefs);
	printf("uprobes:      %s\n", f->uprobes ? "yes" :
		"no: DNS lookups cannot be traced");
	if (f->uprobe_multi)
		printf("uprobe_multi: yes (one link per library and program: "
		       "quick exit)\n");
	else
		print_feature("uprobe_multi:", false, f->why_uprobe_multi);
	/* not the kernel's, but what decides whether Go's HTTPS can be
	 * read: its RETs are found by disassembling */
	if (go_locate_disassembler())
		printf("Go TLS:       yes (%s finds the RETs of crypto/tls)\n",
		       go_locate_disassembler());
	else
		printf("Go TLS:       no: this build has no disassembler "
		       "(libzydis-dev was missing): Go programs' HTTPS is "
		       "not decoded\n");
	print_variants(&f->variants);
	ok = features_can_trace(f, &why) && privileged;
	if (!features_mode_usable(f, mode, &why))
		ok = false;
	else if (mode == ATTACH_FENTRY)
		why = "fentry programs load and attach (cheapest)";
	else if (mode == ATTACH_KPROBE)
		why = "kprobes are available, fentry is not";
	else
		why = "neither fentry nor kprobes are available; syscall and "
		      "BTF tracepoints need no more";
	printf("attach mode:  %s: %s\n", attach_mode_name(mode), why);
	if (!features_can_trace(f, &why))
		printf("tracing:      cannot work: %s\n", why);
	else
		printf("tracing:      can work\n");
	if (f->denied)
		printf("note:         \"not known\" above: the kernel would not "
		       "answer without privileges; run --probe as root to "
		       "see what it offers\n");
	return ok ? 0 : 1;
}

int cmd_probe(const struct ht_options *opts)
{
	struct kernel_features features;

	features_probe(&features, opts->btf_path);
	return print_probe(opts, &features, features.privileged);
}
