// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * httptrace-bpf: probe the kernel, load and attach the BPF programs, feed
 * ring-buffer records to the correlator, print each finished timeline.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cli/cli.h"
#include "pipeline/correlator.h"
#include "kernel/event_reader.h"
#include "kernel/features.h"
#include "kernel/tracer.h"
#include "util/log.h"
#include "sink/sink.h"
#include "record/recording.h"
#include "kernel/tls_attach.h"

#define POLL_MS 50
#define GC_INTERVAL_NS (5ULL * 1000000000ULL)
/* -p: how often the traced processes are looked for */
#define PID_CHECK_NS (250ULL * 1000000ULL)
/* At the end: reading what the kernel wrote before the stop, and writing
 * out the last timelines, each at most this long (a steady stream of
 * records, a reader that does not read). */
#define DRAIN_MS 500
#define LAST_WRITE_MS 1000

static volatile sig_atomic_t stop_signal, output_deadline_armed, tracing;

/*
 * From the end on (a signal, -d, the last -p process gone), the output
 * gets LAST_WRITE_MS to take what is left: then SIGALRM, every 100 ms,
 * interrupts a write the reader does not take (a full pipe nobody
 * reads, a stopped terminal), and what was not written is said.
 */
static void arm_output_deadline(void)
{
	struct itimerval limit = {
		.it_value = { .tv_sec = LAST_WRITE_MS / 1000,
			      .tv_usec = LAST_WRITE_MS % 1000 * 1000 },
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
 */
static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal,
				.sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
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

struct app {
	struct ht_options opts;
	struct output_opts out;
	struct sink_set *sinks;
	struct correlator *corr;
	struct recording_writer rec; /* --record */
	bool recording, rec_closed;
	/* --replay with -p/-c: timelines of other processes are left out,
	 * and the summary counts what was printed */
	bool replay_filter;
	uint64_t printed, printed_incomplete, printed_not_decoded;
	/* the first error writing stdout (EPIPE: the reader went away;
	 * EINTR: it took nothing until the deadline) */
	int out_err;
	/* -p: which of the traced processes are still there */
	bool pid_gone[HT_MAX_PIDS];
	int pids_left;
};

/* -c NAME against a command name: whole, or its first word (as the
 * kernel side matches it, bpf/maps.bpf.h). */
static bool comm_matches(const char *comm, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(comm, name, n) && (!comm[n] || comm[n] == ' ');
}

/* -p/-c applied to a finished timeline: its owner, as the kernel-side
 * filters see it (a record's own header may name whoever was running in
 * softirq, so records are not filtered one by one). A recording holds
 * the name of the thread that made the connection, not the process's:
 * a replay's -c matches that one only. */
static bool timeline_wanted(const struct ht_options *opts,
			    const struct timeline *tl)
{
	int i;

	if (opts->comm[0] && !comm_matches(tl->comm, opts->comm))
		return false;
	if (!opts->n_pids)
		return true;
	for (i = 0; i < opts->n_pids; i++)
		if ((uint32_t)opts->pids[i] == tl->pid)
			return true;
	return false;
}

static void print_timeline(void *user, const struct timeline *tl)
{
	struct app *app = user;

	if (app->replay_filter && !timeline_wanted(&app->opts, tl))
		return;
	/* counted as the correlator counts them (correlator_stats) */
	if (output_flag(&tl->tls.not_decoded)) {
		app->printed_not_decoded++;
	} else {
		app->printed++;
		if (!output_flag(&tl->complete))
			app->printed_incomplete++;
	}
	sink_set_emit(app->sinks, tl);
}

/* A recording that cannot be written stops, loudly; tracing goes on. */
static void record_item(struct app *app, enum recording_item_kind kind,
			const void *data, size_t size)
{
	int err;

	if (!app->recording)
		return;
	err = recording_write(&app->rec, kind, data, size);
	if (err) {
		log_error("writing %s failed: %s; recording stopped here",
			  app->opts.record_path, strerror(-err));
		app->recording = false;
	}
}

static int push_record(void *user, const void *record, size_t size)
{
	struct app *app = user;

	record_item(app, RECORDING_RECORD, record, size);
	return correlator_push(app->corr, record, size);
}

static void note_lost(struct app *app, enum ht_drop_kind kind, uint64_t n)
{
	struct recording_lost l = { .kind = kind, .count = n };

	record_item(app, RECORDING_LOST, &l, sizeof(l));
	correlator_note_lost(app->corr, kind, n);
}

/* Counts (and records) what the kernel could not send since last time. */
static void take_drops(struct app *app, struct event_reader *reader,
		       uint64_t *lost_total)
{
	uint64_t added[HT_DROP_KIND_COUNT];

	if (event_reader_drops(reader, added))
		return;
	for (int k = 0; k < HT_DROP_KIND_COUNT; k++) {
		if (!added[k])
			continue;
		*lost_total += added[k];
		note_lost(app, k, added[k]);
	}
}

static void print_output_drops(struct app *app);

static void print_summary(struct app *app, uint64_t lost_total)
{
	const struct correlator_stats *st = correlator_stats(app->corr);
	uint64_t not_decoded = app->replay_filter ? app->printed_not_decoded :
						    st->tls_not_decoded;

	fprintf(stderr,
		"httptrace-bpf: %llu requests, %llu incomplete, "
		"%llu records lost, %llu TLS connection%s not decoded\n",
		(unsigned long long)(app->replay_filter ? app->printed :
							  st->requests),
		(unsigned long long)(app->replay_filter ?
					     app->printed_incomplete :
					     st->incomplete),
		(unsigned long long)lost_total,
		(unsigned long long)not_decoded, not_decoded == 1 ? "" : "s");
	if (st->not_http_after_http && !app->replay_filter)
		fprintf(stderr,
			"httptrace-bpf: %llu times bytes that were not HTTP/1.x "
			"followed HTTP on a connection (no timeline)\n",
			(unsigned long long)st->not_http_after_http);
	print_output_drops(app);
}

/* The first error writing stdout ends the tracer; from then on nothing
 * more is written (the sink set leaves a failed sink out). */
static void output_failed(void *user, const char *name, int err)
{
	struct app *app = user;

	if (app->out_err)
		return;
	app->out_err = err ? err : EIO;
	if (err == EPIPE)
		log_info("the output was closed (broken pipe): stopping");
	else if (err == EINTR)
		log_error("the output took nothing for %d ms after the end: "
			  "the last timelines were not written", LAST_WRITE_MS);
	else
		log_error("writing the output failed: %s; stopping",
			  strerror(app->out_err));
}

/*
 * The outputs the options ask for, fed by print_timeline(). Opened once
 * the epoch offset of the times is known.
 */
static int open_outputs(struct app *app)
{
	struct sink_config cfg = { .out = stdout, .opts = app->out };
	const char *name = app->opts.json ? "json" : "text";
	char err[256];

	app->sinks = sink_set_new(output_failed, app);
	if (!app->sinks) {
		log_error("out of memory");
		return -1;
	}
	if (sink_set_add(app->sinks, name, &cfg, err, sizeof(err))) {
		log_error("cannot open the %s output: %s", name, err);
		return -1;
	}
	return 0;
}

/*
 * Writes out what the outputs hold and notes the first error: a full
 * disk, a reader gone (EPIPE, or POLLERR on a pipe nobody reads any
 * more, seen without waiting for the next timeline).
 */
static void check_output(struct app *app)
{
	sink_set_flush(app->sinks);
}

/* What the outputs left out: after an error, or a full queue. */
static void report_outputs(struct app *app)
{
	uint64_t not_written = 0;
	struct sink_stats st;
	size_t i;

	for (i = 0; i < sink_set_count(app->sinks); i++) {
		sink_set_stats(app->sinks, i, &st);
		not_written += st.not_written;
	}
	if (not_written)
		log_warn("%llu timelines were not written",
			 (unsigned long long)not_written);
}

/* A queued output's drops, with the summary; only those that had any. */
static void print_output_drops(struct app *app)
{
	struct sink_stats st;
	size_t i;

	for (i = 0; i < sink_set_count(app->sinks); i++) {
		sink_set_stats(app->sinks, i, &st);
		if (!sink_set_queued(app->sinks, i) || !st.dropped)
			continue;
		fprintf(stderr,
			"httptrace-bpf: %llu timelines not sent to %s: its "
			"queue was full\n",
			(unsigned long long)st.dropped,
			sink_set_name(app->sinks, i));
	}
}

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
static bool pids_alive(struct app *app)
{
	for (int i = 0; i < app->opts.n_pids; i++) {
		if (app->pid_gone[i] || !process_gone(app->opts.pids[i]))
			continue;
		app->pid_gone[i] = true;
		app->pids_left--;
		log_info("process %d exited%s", app->opts.pids[i],
			 app->pids_left ? "" :
			 "; no traced process is left: stopping");
	}
	return app->pids_left > 0;
}

static void close_recording(struct app *app)
{
	bool was_ok = app->recording;
	int err;

	if (!app->opts.record_path[0] || app->rec_closed)
		return;
	app->rec_closed = true;
	app->recording = false;
	err = recording_close(&app->rec);
	if (err && was_ok)
		log_error("writing %s failed: %s", app->opts.record_path,
			  strerror(-err));
	else if (was_ok)
		log_info("%llu records written to %s",
			 (unsigned long long)app->rec.records,
			 app->opts.record_path);
}

#define REPLAY_TICK_EVERY 256

/*
 * --replay: the records of a recording through the correlator, ticked
 * where the live run ticked (tick items), with the original wall-clock
 * offset. A recording without tick items is ticked every
 * REPLAY_TICK_EVERY records with its newest timestamp as the clock.
 */
static int run_replay(struct app *app)
{
	static struct recording_reader reader; /* 64 KiB item buffer */
	enum recording_item_kind kind;
	uint64_t newest = 0, lost_total = 0, n = 0;
	bool has_ticks = false;
	const void *data;
	char err[256];
	size_t size;
	int ret;

	ret = recording_open(&reader, app->opts.replay_path, err, sizeof(err));
	if (ret) {
		log_error("cannot replay %s: %s", app->opts.replay_path,
			  ret == -EINVAL ? err : strerror(-ret));
		return 1;
	}
	if (reader.version <= RECORDING_VERSION_UNCHECKED)
		log_warn("%s is a format %u recording, which has no "
			 "checksums: a corrupt byte cannot be told here",
			 app->opts.replay_path, reader.version);
	app->out.mono_to_realtime_ns = reader.mono_to_realtime_ns;
	app->replay_filter = app->opts.n_pids || app->opts.comm[0];
	if (open_outputs(app)) {
		recording_close_reader(&reader);
		return 1;
	}
	while ((ret = recording_next(&reader, &kind, &data, &size, err,
				     sizeof(err))) > 0) {
		if (kind == RECORDING_LOST) {
			const struct recording_lost *l = data;

			lost_total += l->count;
			correlator_note_lost(app->corr, l->kind, l->count);
			continue;
		}
		if (kind == RECORDING_TICK) {
			uint64_t now;

			memcpy(&now, data, sizeof(now));
			has_ticks = true;
			correlator_tick(app->corr, now);
			continue;
		}
		if (size >= sizeof(uint64_t)) {
			uint64_t ts;

			memcpy(&ts, data, sizeof(ts));
			if (ts > newest)
				newest = ts;
		}
		correlator_push(app->corr, data, size);
		if (++n % REPLAY_TICK_EVERY == 0 && !has_ticks)
			correlator_tick(app->corr, newest);
	}
	if (ret < 0)
		log_error("%s: %s; the timelines so far are printed, the rest "
			  "are marked incomplete", app->opts.replay_path, err);
	correlator_flush(app->corr);
	sink_set_close(app->sinks);
	print_summary(app, lost_total);
	recording_close_reader(&reader);
	return ret < 0 ? 1 : 0;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	if (level == LIBBPF_DEBUG && log_level < 2)
		return 0;
	if (level == LIBBPF_INFO && log_level < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* "yes", or "no: why"; a probe the kernel would not answer for want
 * of privileges says "not known: why" (kernel_features.c) */
static void print_feature(const char *name, bool ok, const char *why)
{
	bool unknown = !strncmp(why, "not known", 9);

	printf("%-14s%s%s\n", name, ok ? "yes" : unknown ? "" : "no: ",
	       ok ? "" : why);
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
	bool multi = f->uprobe_multi;
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
			    f->why_uprobe_multi);
	}
	for (;;) {
		int ret = tracer_load(t, opts, mode, multi, err, sizeof(err));

		if (ret && multi) {
			/* a kernel with the links may still refuse our
			 * programs for them: the old way is known to work */
			char err2[512];

			ret = tracer_load(t, opts, mode, false, err2,
					  sizeof(err2));
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

int main(int argc, char **argv)
{
	struct correlator_config ccfg = {}; /* defaults */
	struct kernel_features features;
	struct event_reader reader;
	struct tracer tracer;
	struct app app = {};
	uint64_t started, last_gc, last_pid_check, lost_total = 0;
	bool started_tracer = false, opened_reader = false;
	char err[256];
	int ret = 1;

	/* A terminal gets each line as it is made. A pipe or file gets
	 * whole buffers, flushed after every ring-buffer poll (so at most
	 * POLL_MS late): a write(2) per line was most of the daemon's cost
	 * under load (docs/BENCH.md). */
	if (isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOLBF, 0);
	else
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (cli_parse(argc, argv, &app.opts, err, sizeof(err))) {
		fprintf(stderr, "httptrace-bpf: %s\n", err);
		fprintf(stderr, "Try 'httptrace-bpf --help' for more.\n");
		return 2;
	}
	if (app.opts.show_help) {
		cli_usage(stdout, "httptrace-bpf");
		return 0;
	}
	if (app.opts.show_version) {
		printf("httptrace-bpf %s\n", HTTPTRACE_VERSION);
		return 0;
	}
	log_level = app.opts.verbose;
	libbpf_set_print(libbpf_log);

	if (app.opts.probe_only) {
		features_probe(&features, app.opts.btf_path);
		return print_probe(&app.opts, &features, features.privileged);
	}
	app.out.show_query = app.opts.show_query;
	if (app.opts.replay_path[0]) {
		app.corr = correlator_new(&ccfg, print_timeline, &app);
		if (!app.corr) {
			log_error("out of memory");
			return 1;
		}
		ret = run_replay(&app);
		correlator_free(app.corr);
		sink_set_free(app.sinks);
		return ret;
	}
	install_signals();
	if (!features_privileges(err, sizeof(err))) {
		log_error("tracing needs root, or the CAP_BPF and CAP_PERFMON "
			  "capabilities and a way into tracefs: %s", err);
		return 1;
	}
	if (check_pids(&app.opts))
		return 1;
	app.pids_left = app.opts.n_pids;
	features_probe(&features, app.opts.btf_path);
	if (check_environment(&features))
		return 1;
	app.out.mono_to_realtime_ns =
		(int64_t)(now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC));
	/* before attaching: a path that cannot be written is an error now,
	 * not after the probes are in */
	if (app.opts.record_path[0]) {
		ret = recording_create(&app.rec, app.opts.record_path,
				       app.out.mono_to_realtime_ns, err,
				       sizeof(err));
		if (ret) {
			log_error("cannot record to %s: %s",
				  app.opts.record_path, err);
			recording_close(&app.rec);
			return 1;
		}
		app.recording = true;
		log_warn("recording to %s (mode 0600): it holds the captured "
			 "bytes unredacted, header values such as Authorization "
			 "and Cookie and the start of bodies included",
			 app.opts.record_path);
	}
	if (app.opts.max_capture == 0)
		log_warn("--max-capture 0: no bytes of any read or write are "
			 "captured, so no HTTP request can be read; only "
			 "failed connects and lookups are reported");
	ret = 1;
	if (open_outputs(&app))
		goto out_record;
	/* first: the summary can then be printed whenever the end comes */
	app.corr = correlator_new(&ccfg, print_timeline, &app);
	if (!app.corr) {
		log_error("out of memory");
		goto out_record;
	}
	if (!stop_signal) {
		if (start_tracer(&tracer, &app.opts,
				 choose_mode(&app.opts, &features), &features))
			goto out_corr;
		started_tracer = true;
		ret = event_reader_open(&reader, tracer_events_fd(&tracer),
					tracer_drops_fd(&tracer), push_record,
					&app);
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
	if (opened_reader && setpriority(PRIO_PROCESS, 0, app.opts.nice))
		log_warn("cannot set the reader's nice value to %d: %s; under "
			 "CPU contention records may be lost",
			 app.opts.nice, strerror(errno));
	else if (opened_reader)
		log_verbose("reader's nice value: %d", app.opts.nice);

	if (stop_signal)
		log_info("stopped by %s during start-up", strsignal(stop_signal));
	else
		log_info("Tracing HTTP requests (%s mode, %d getaddrinfo "
			 "probe%s, %d TLS librar%s). Hit Ctrl-C to end.",
			 attach_mode_name(tracer.mode), tracer.n_uprobes,
			 tracer.n_uprobes == 1 ? "" : "s",
			 tls_lib_count(&tracer),
			 tls_lib_count(&tracer) == 1 ? "y" : "ies");

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
		take_drops(&app, &reader, &lost_total);
		record_item(&app, RECORDING_TICK, &now, sizeof(now));
		correlator_tick(app.corr, now);
		check_output(&app);
		if (app.out_err)
			break;
		if (now - last_gc > GC_INTERVAL_NS) {
			tracer_forget_dead(&tracer);
			last_gc = now;
		}
		if (app.opts.n_pids && now - last_pid_check > PID_CHECK_NS) {
			last_pid_check = now;
			if (!pids_alive(&app))
				break;
		}
		if (app.opts.duration_s &&
		    now - started >= (uint64_t)app.opts.duration_s * 1000000000ULL)
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
		take_drops(&app, &reader, &lost_total);
	}
	correlator_flush(app.corr);
	check_output(&app);
	disarm_output_deadline();
	sink_set_close(app.sinks);
	report_outputs(&app);
	print_summary(&app, lost_total);
	if (app.out_err && app.out_err != EPIPE)
		ret = 1;
	/* the recording is whole before the detach, which can take long */
	close_recording(&app);
	if (opened_reader)
		event_reader_close(&reader);
out_tracer:
	if (started_tracer)
		tracer_destroy(&tracer);
out_corr:
	correlator_free(app.corr);
out_record:
	close_recording(&app);
	sink_set_free(app.sinks);
	return ret;
}
