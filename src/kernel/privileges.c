// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The capability drop after attaching. Capabilities and no_new_privs
 * belong to each thread, not to the process, and the tracer has threads
 * by then (the exec watcher, exporters' queues): libcap linked with
 * libpsx (-lpsx -Wl,-wrap,pthread_create) makes each of its calls on
 * every thread that pthread_create started in this program. A thread
 * that a shared library started itself is not known to libpsx: the
 * check afterwards reads every thread's status and names such a thread.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* gettid */
#endif
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <sys/capability.h>

#include "kernel/privileges.h"
#include "util/caps_keep.h"
#include "util/log.h"

/* A thread's credentials as /proc/self/task/TID/status shows them. */
struct thread_creds {
	uint64_t eff, prm, inh, bnd, amb;
	int no_new_privs;
	uint64_t blocked; /* SigBlk */
	char comm[32];
};

static int read_thread_creds(const char *tid, struct thread_creds *c)
{
	char path[64], line[256];
	FILE *f;

	memset(c, 0, sizeof(*c));
	c->no_new_privs = -1;
	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (sscanf(line, "CapEff: %llx", &v) == 1)
			c->eff = v;
		else if (sscanf(line, "CapPrm: %llx", &v) == 1)
			c->prm = v;
		else if (sscanf(line, "CapInh: %llx", &v) == 1)
			c->inh = v;
		else if (sscanf(line, "CapBnd: %llx", &v) == 1)
			c->bnd = v;
		else if (sscanf(line, "CapAmb: %llx", &v) == 1)
			c->amb = v;
		else if (sscanf(line, "SigBlk: %llx", &v) == 1)
			c->blocked = v;
		else if (sscanf(line, "NoNewPrivs: %llu", &v) == 1)
			c->no_new_privs = (int)v;
		else
			sscanf(line, "Name: %31[^\n]", c->comm);
	}
	fclose(f);
	return 0;
}

/* Calls fn for each thread of this process but the calling one; stops
 * at the first nonzero return and gives it back. */
static int for_other_threads(int (*fn)(const char *tid,
				       const struct thread_creds *c,
				       void *user),
			     void *user)
{
	char self[16];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	snprintf(self, sizeof(self), "%d", (int)gettid());
	d = opendir("/proc/self/task");
	if (!d)
		return 0;
	while (!ret && (de = readdir(d))) {
		struct thread_creds c;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, self))
			continue;
		if (read_thread_creds(de->d_name, &c))
			continue; /* it has just ended */
		ret = fn(de->d_name, &c, user);
	}
	closedir(d);
	return ret;
}

/*
 * libpsx (libcap 2.71 and earlier) reaches a thread with SIGSYS and
 * waits until each one has answered: a thread that blocks SIGSYS for
 * good would make it wait for ever. libpsx itself blocks it for a
 * moment while a thread starts (the exec watcher may be starting
 * detach or attach helpers), so a block is looked at again for a
 * while; one that stays means no drop, said in words.
 */
#define SIGSYS_TRIES 50
#define SIGSYS_WAIT_US 20000

static int blocks_sigsys(const char *tid, const struct thread_creds *c,
			 void *user)
{
	bool last = *(bool *)user;

	if (!(c->blocked & (1ULL << (SIGSYS - 1))))
		return 0;
	if (last)
		log_warn("privileges: all kept: thread %s (%s) blocks SIGSYS, "
			 "through which libcap reaches every thread", tid,
			 c->comm);
	return 1;
}

static bool a_thread_blocks_sigsys(void)
{
	for (int i = 0; i < SIGSYS_TRIES; i++) {
		bool last = i == SIGSYS_TRIES - 1;

		if (!for_other_threads(blocks_sigsys, &last))
			return false;
		usleep(SIGSYS_WAIT_US);
	}
	return true;
}

struct creds_check {
	struct thread_creds want;
	int differ;
};

static int creds_differ(const char *tid, const struct thread_creds *c,
			void *user)
{
	struct creds_check *k = user;
	char words[512];

	if (c->eff == k->want.eff && c->prm == k->want.prm &&
	    c->bnd == k->want.bnd && c->inh == k->want.inh &&
	    c->amb == k->want.amb && c->no_new_privs == k->want.no_new_privs)
		return 0;
	k->differ++;
	log_warn("privileges: thread %s (%s), which a library started and "
		 "libcap cannot reach, still holds %s%s", tid, c->comm,
		 caps_words(c->eff & ~k->want.eff, words, sizeof(words)),
		 c->no_new_privs == k->want.no_new_privs ? "" :
		 " and may gain privileges (no_new_privs unset)");
	return 0;
}

/* The capabilities held: bits of the effective set. */
static uint64_t held_effective(cap_t caps)
{
	uint64_t held = 0;
	int n = cap_max_bits();

	for (int c = 0; c < n && c < 64; c++) {
		cap_flag_value_t v = CAP_CLEAR;

		if (!cap_get_flag(caps, (cap_value_t)c, CAP_EFFECTIVE, &v) &&
		    v == CAP_SET)
			held |= CAPS_BIT(c);
	}
	return held;
}

/* Drops every capability not in keep from the bounding set (which caps
 * what an exec could give); needs CAP_SETPCAP. The number left out. */
static int drop_bounding(uint64_t keep, int *err)
{
	int n = cap_max_bits(), failed = 0;

	*err = 0;
	for (int c = 0; c < n && c < 64; c++) {
		if ((keep & CAPS_BIT(c)) || cap_get_bound((cap_value_t)c) != 1)
			continue;
		if (cap_drop_bound((cap_value_t)c)) {
			*err = errno;
			failed++;
		}
	}
	return failed;
}

/* Only keep, as effective and permitted; no inheritable or ambient. */
static int set_only(uint64_t keep)
{
	cap_value_t list[64];
	int n = 0, ret;
	cap_t caps = cap_init(); /* all clear */

	if (!caps)
		return -errno;
	for (int c = 0; c < 64; c++)
		if (keep & CAPS_BIT(c))
			list[n++] = (cap_value_t)c;
	ret = cap_set_flag(caps, CAP_EFFECTIVE, n, list, CAP_SET) ||
	      cap_set_flag(caps, CAP_PERMITTED, n, list, CAP_SET) ||
	      cap_set_proc(caps) ? -errno : 0;
	cap_free(caps);
	return ret;
}

void privileges_drop(const struct ht_options *opts, bool perf_uprobes)
{
	uint64_t held, keep;
	struct creds_check check = {};
	char kept[256], self[16];
	int bound_failed, bound_err, ret;
	cap_t caps;

	if (opts->keep_privileges) {
		log_verbose("privileges: all kept (--keep-privileges)");
		return;
	}
	caps = cap_get_proc();
	if (!caps) {
		log_warn("privileges: all kept: cannot read them: %s",
			 strerror(errno));
		return;
	}
	held = held_effective(caps);
	cap_free(caps);
	if (a_thread_blocks_sigsys())
		return;
	keep = caps_keep_plan(held, cap_max_bits() - 1, opts->n_pids == 0,
			      perf_uprobes);

	/* first the bounding set: dropping from it takes CAP_SETPCAP,
	 * which goes next */
	bound_failed = drop_bounding(keep, &bound_err);
	/* an exec (there is none) could not gain privileges either; one
	 * call sets it on every thread (libpsx) */
	if (cap_prctlw(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0))
		log_warn("privileges: cannot set no_new_privs: %s",
			 strerror(errno));
	if (cap_reset_ambient() && errno != EINVAL)
		log_verbose("privileges: cannot clear the ambient set: %s",
			    strerror(errno));
	ret = set_only(keep);
	if (ret) {
		log_warn("privileges: all capabilities kept: dropping them "
			 "failed: %s", strerror(-ret));
		return;
	}
	caps_words(keep, kept, sizeof(kept));
	if (bound_failed)
		/* e.g. root in a container without CAP_SETPCAP; with
		 * no_new_privs set an exec could not use them anyway */
		log_verbose("privileges: %d capabilities stay in the bounding "
			    "set: %s", bound_failed, strerror(bound_err));
	snprintf(self, sizeof(self), "%d", (int)gettid());
	if (read_thread_creds(self, &check.want) == 0)
		for_other_threads(creds_differ, &check);
	log_verbose("privileges: kept %s; dropped %d others%s; no_new_privs "
		    "set", kept, __builtin_popcountll(held & ~keep),
		    bound_failed ? "" : ", from the bounding set too");
}
