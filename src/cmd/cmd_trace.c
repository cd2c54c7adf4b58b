// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tracer itself: checks, loads and attaches the BPF programs, reads
 * the ring buffer into the session until a signal, -d, or the last -p
 * process ends it, then drains, summarises and detaches.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/session.h"
#include "kernel/event_reader.h"
#include "kernel/features.h"
#include "kernel/tracer.h"
#include "kernel/tls_attach.h"
#include "kernel/go_attach.h"
#include "kernel/privileges.h"
#include "util/log.h"

#define POLL_MS 50
#define GC_INTERVAL_NS (5ULL * 1000000000ULL)
/* -p: how often the traced processes are looked for */
#define PID_CHECK_NS (250ULL * 1000000ULL)
/* At the end: reading what the kernel wrote before the stop takes at
 * most this long (a steady stream of records). */
#define DRAIN_MS 500

static volatile sig_atomic_t stop_signal, output_deadline_armed, tracing;

/*
 * From the end on (a signal, -d, the last -p process gone), the output
 * gets SESSION_LAST_WRITE_MS to take what is left: then SIGALRM, every 100 ms,
 * interrupts a write the reader does not take (a full pipe nobody
 * reads, a stopped terminal), and what was not written is said.
 */
static void arm_output_deadline(void)
{
	struct itimerval limit = {
		.it_value = { .tv_sec = SESSION_LAST_WRITE_MS / 1000,
			      .tv_usec = SESSION_LAST_WRITE_MS % 1000 * 1000 },
		.it_interval = { .tv_usec = 100 * 1000 },
	};

	if (output_deadline_armed)
		return;
	output_deadline_armed = 1;
	setitimer(ITIMER_REAL, &limit, NULL);
}

static void disarm_output_deadline(void)
{
	struct itimerval off = {};

	setitimer(ITIMER_REAL, &off, NULL);
}

static void on_signal(int sig)
{
	int saved = errno;

	stop_signal = sig;
	/* not during start-up: SIGALRM would only disturb the loading */
	if (tracing)
		arm_output_deadline();
	errno = saved;
}

static void on_alarm(int sig)
{
	(void)sig; /* only interrupts a blocked write */
}

/*
 * Before anything slow: a SIGINT or SIGTERM during start-up (loading,
 * attaching, the /proc scan) ends the tracer cleanly, even when it was
 * started with them ignored (a background job of a script). They
 * restart what they interrupt (a write to a reader that is merely slow
 * loses nothing); the SIGALRM of the output deadline does not. Output
 * errors (EPIPE included) are checked where written, so SIGPIPE is not
 * needed to end the tracer.
 *
 * SIGHUP (the terminal or ssh session went away) ends it the same way,
 * so exports are flushed rather than lost to the default action; there
 * is no configuration to reload. Started with SIGHUP ignored (nohup),
 * it stays ignored: that is what the caller asked for.
 */
static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal,
				.sa_flags = SA_RESTART }, hup;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_alarm;
	sa.sa_flags = 0;
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* -p: which of the traced processes are still there */
struct pid_watch {
	bool gone[HT_MAX_PIDS];
	int left;
};

/* /proc/PID/stat's state: a zombie has exited too. */
static bool process_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	FILE *f;

	if (kill(pid, 0) && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT;
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold anything */
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* -p: says which traced processes have exited; false once none is left
 * (nothing more can come, and a new process could take a PID over). */
static bool pids_alive(struct pid_watch *w, const struct ht_options *opts)
{
	for (int i = 0; i < opts->n_pids; i++) {
		if (w->gone[i] || !process_gone(opts->pids[i]))
			continue;
		w->gone[i] = true;
		w->left--;
		log_info("process %d exited%s", opts->pids[i],
			 w->left ? "" :
			 "; no traced process is left: stopping");
	}
	return w->left > 0;
}

/*
 * Go TLS calls on connections the tracer does not follow: with -v as
 * they grow, and in the summary at the end (final). *seen: the total
 * said last time.
 */
static void report_go_errors(struct tracer *t, uint64_t *seen, bool final)
{
	uint64_t n[HT_GO_TLS_ERROR_COUNT], total = 0;
	char words[400];

	if (go_attach_errors(t->skel, n))
		return;
	for (int k = 0; k < HT_GO_TLS_ERROR_COUNT; k++)
		total += n[k];
	if (!total || (!final && total == *seen))
		return;
	*seen = total;
	go_attach_errors_words(n, words, sizeof(words));
	if (!words[0])
		return;
	if (final)
		fprintf(stderr, "httptrace-bpf: %s\n", words);
	else
		log_verbose("%s", words);
}

/* ", N Go programs" when there are any */
static const char *go_count_words(const struct tracer *t, char *buf,
				  size_t len)
{
	int n = tls_attach_go_count(t);

	buf[0] = 0;
	if (n)
		snprintf(buf, len, ", %d Go program%s", n, n == 1 ? "" : "s");
	return buf;
}

/* Counts (and records) what the kernel could not send since last time. */
static void take_drops(struct session *s, struct event_reader *reader,
		       uint64_t *lost_total)
{
	uint64_t added[HT_DROP_KIND_COUNT];

	if (event_reader_drops(reader, added))
		return;
	for (int k = 0; k < HT_DROP_KIND_COUNT; k++) {
		if (!added[k])
			continue;
		*lost_total += added[k];
		session_note_lost(s, k, added[k]);
	}
}

static int check_environment(const struct kernel_features *f)
{
	const char *why;

	if (features_can_trace(f, &why))
		return 0;
	log_error("%s", why);
	return -1;
}

static enum attach_mode choose_mode(const struct ht_options *opts,
				    const struct kernel_features *f)
{
	const char *why;

	if (opts->attach_mode == ATTACH_AUTO) {
		enum attach_mode m = features_best_mode(f);

		if (m != ATTACH_FENTRY)
			log_verbose("fentry: %s", f->why_fentry);
		if (m == ATTACH_TRACEPOINT)
			log_verbose("kprobe: %s", f->why_kprobe);
		return m;
	}
	if (!features_mode_usable(f, opts->attach_mode, &why))
		log_warn("--attach-mode %s may not work here: %s",
			 attach_mode_name(opts->attach_mode), why);
	return opts->attach_mode;
}

/* Loads and attaches; in auto mode falls back to the next mode down. */
static int start_tracer(struct tracer *t, const struct ht_options *opts,
			enum attach_mode mode, const struct kernel_features *f)
{
	/* the TLS programs for uprobe_multi links are one program told
	 * apart by the attach cookie */
	bool cookie = variants_tls_cookie(&f->variants);
	bool multi = f->uprobe_multi && cookie;
	char err[512];

	if (opts->uprobe_links == UPROBE_LINKS_PERF) {
		multi = false;
		log_verbose("uprobes: one perf-event link each "
			    "(--uprobe-links perf)");
	} else if (opts->uprobe_links == UPROBE_LINKS_MULTI && !multi) {
		multi = true;
		log_warn("--uprobe-links multi may not work here: %s",
			 f->why_uprobe_multi);
	} else if (multi) {
		log_verbose("uprobes: through uprobe_multi links, one per "
			    "library and program");
	} else {
		log_verbose("uprobes: one perf-event link each: %s",
			    f->uprobe_multi ?
				    f->variants.why[VF_ATTACH_COOKIE] :
				    f->why_uprobe_multi);
	}
	for (;;) {
		int ret = tracer_load(t, opts, &f->variants, mode, multi, err,
				      sizeof(err));

		if (ret && multi) {
			/* a kernel with the links may still refuse our
			 * programs for them: the old way is known to work */
			char err2[512];

			ret = tracer_load(t, opts, &f->variants, mode, false,
					  err2, sizeof(err2));
			if (!ret)
				log_verbose("%s; uprobes: one perf-event link "
					    "each instead", err);
		}
		if (!ret) {
			t->stop = &stop_signal;
			ret = tracer_attach(t, opts, err, sizeof(err));
			if (ret)
				tracer_destroy(t);
		}
		if (!ret)
			return 0;
		if (opts->attach_mode != ATTACH_AUTO ||
		    mode == ATTACH_TRACEPOINT) {
			log_error("%s", err);
			return ret;
		}
		log_verbose("%s; trying the next attach mode", err);
		mode = mode == ATTACH_FENTRY ? ATTACH_KPROBE : ATTACH_TRACEPOINT;
	}
}

static int check_pids(const struct ht_options *opts)
{
	for (int i = 0; i < opts->n_pids; i++) {
		if (kill(opts->pids[i], 0) && errno == ESRCH) {
			log_error("no process with PID %d", opts->pids[i]);
			return -1;
		}
	}
	return 0;
}

int cmd_trace(const struct ht_options *opts)
{
	struct correlator_config ccfg = {}; /* defaults */
	struct kernel_features features;
	struct event_reader reader;
	struct tracer tracer;
	struct session s = {};
	struct pid_watch pids = {};
	uint64_t started, last_gc, last_pid_check, lost_total = 0;
	uint64_t go_errors = 0;
	bool started_tracer = false, opened_reader = false;
	char err[256], go_words[40];
	int ret = 1;

	s.opts = *opts;
	s.out.show_query = opts->show_query;
	install_signals();
	if (!features_privileges(err, sizeof(err))) {
		log_error("tracing needs root, or the CAP_BPF and CAP_PERFMON "
			  "capabilities and a way into tracefs: %s", err);
		return 1;
	}
	if (check_pids(&s.opts))
		return 1;
	pids.left = s.opts.n_pids;
	features_probe(&features, s.opts.btf_path);
	if (check_environment(&features))
		return 1;
	s.out.mono_to_realtime_ns =
		(int64_t)(now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC));
	/* before attaching: a path that cannot be written is an error now,
	 * not after the probes are in */
	if (s.opts.record_path[0]) {
		ret = recording_create(&s.rec, s.opts.record_path,
				       s.out.mono_to_realtime_ns, err,
				       sizeof(err));
		if (ret) {
			log_error("cannot record to %s: %s",
				  s.opts.record_path, err);
			recording_close(&s.rec);
			return 1;
		}
		s.recording = true;
		log_warn("recording to %s (mode 0600): it holds the captured "
			 "bytes unredacted, header values such as Authorization "
			 "and Cookie and the start of bodies included",
			 s.opts.record_path);
	}
	if (s.opts.max_capture == 0)
		log_warn("--max-capture 0: no bytes of any read or write are "
			 "captured, so no HTTP request can be read; only "
			 "failed connects and lookups are reported");
	ret = 1;
	if (session_open_outputs(&s))
		goto out_record;
	if (session_open_containers(&s, true))
		goto out_record;
	ccfg.containers = s.containers;
	/* first: the summary can then be printed whenever the end comes */
	s.corr = correlator_new(&ccfg, session_emit, &s);
	if (!s.corr) {
		log_error("out of memory");
		goto out_record;
	}
	if (!stop_signal) {
		if (start_tracer(&tracer, &s.opts,
				 choose_mode(&s.opts, &features), &features))
			goto out_corr;
		started_tracer = true;
		ret = event_reader_open(&reader, tracer_events_fd(&tracer),
					tracer_drops_fd(&tracer), session_push_record,
					&s);
		if (ret) {
			log_error("cannot read the ring buffer: %s",
				  strerror(-ret));
			ret = 1;
			goto out_tracer;
		}
		reader.stop = &stop_signal;
		opened_reader = true;
	}
	/* this thread reads the ring: see HT_DEFAULT_NICE */
	if (opened_reader && setpriority(PRIO_PROCESS, 0, s.opts.nice))
		log_warn("cannot set the reader's nice value to %d: %s; under "
			 "CPU contention records may be lost",
			 s.opts.nice, strerror(errno));
	else if (opened_reader)
		log_verbose("reader's nice value: %d", s.opts.nice);
	/* last of the start (the nice value above took CAP_SYS_NICE):
	 * from here on only what attaching to new programs needs */
	if (opened_reader)
		privileges_drop(&s.opts, !tracer.uprobe_multi);

	if (stop_signal)
		log_info("stopped by %s during start-up", strsignal(stop_signal));
	else
		log_info("Tracing HTTP requests (%s mode, %d getaddrinfo "
			 "probe%s, %d TLS librar%s%s). %s",
			 attach_mode_name(tracer.mode), tracer.n_uprobes,
			 tracer.n_uprobes == 1 ? "" : "s",
			 tls_attach_lib_count(&tracer),
			 tls_attach_lib_count(&tracer) == 1 ? "y" : "ies",
			 go_count_words(&tracer, go_words, sizeof(go_words)),
			 s.opts.quiet ? "No per-request output (--quiet); "
					"SIGTERM or Ctrl-C ends it." :
					"Hit Ctrl-C to end.");

	started = last_gc = last_pid_check = now_ns(CLOCK_MONOTONIC);
	tracing = 1;
	while (!stop_signal) {
		uint64_t now;
		int n = event_reader_poll(&reader, POLL_MS);

		if (n < 0) {
			log_error("reading the ring buffer failed: %s",
				  strerror(-n));
			break;
		}
		now = now_ns(CLOCK_MONOTONIC);
		take_drops(&s, &reader, &lost_total);
		session_record(&s, RECORDING_TICK, &now, sizeof(now));
		correlator_tick(s.corr, now);
		sink_set_flush(s.sinks);
		session_publish(&s, lost_total);
		if (s.out_err)
			break;
		if (now - last_gc > GC_INTERVAL_NS) {
			tracer_forget_dead(&tracer);
			if (log_level)
				report_go_errors(&tracer, &go_errors, false);
			last_gc = now;
		}
		if (s.opts.n_pids && now - last_pid_check > PID_CHECK_NS) {
			last_pid_check = now;
			if (!pids_alive(&pids, opts))
				break;
		}
		if (s.opts.duration_s &&
		    now - started >= (uint64_t)s.opts.duration_s * 1000000000ULL)
			break;
	}
	ret = 0;
	arm_output_deadline();

	if (opened_reader) {
		/* what the kernel wrote before the end, then the drops */
		if (event_reader_drain(&reader, now_ns(CLOCK_MONOTONIC),
				       DRAIN_MS) == 1)
			log_warn("records still coming after %d ms of reading "
				 "the rest: stopped there (the timelines in "
				 "flight are marked incomplete)", DRAIN_MS);
		take_drops(&s, &reader, &lost_total);
	}
	correlator_flush(s.corr);
	sink_set_flush(s.sinks);
	disarm_output_deadline();
	sink_set_close(s.sinks);
	session_report_outputs(&s);
	session_print_summary(&s, lost_total);
	if (started_tracer)
		report_go_errors(&tracer, &go_errors, true);
	if (s.out_err && s.out_err != EPIPE)
		ret = 1;
	/* the recording is whole before the detach, which can take long */
	session_close_recording(&s);
	if (opened_reader)
		event_reader_close(&reader);
out_tracer:
	if (started_tracer)
		tracer_destroy(&tracer);
out_corr:
	correlator_free(s.corr);
out_record:
	session_close_recording(&s);
	session_close_containers(&s);
	sink_set_free(s.sinks);
	return ret;
}
