// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What a live trace and a replay share; see session.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/session.h"
#include "httptrace_comm_match.h"
#include "sink/otlp/otlp_config.h"
#include "util/log.h"

/* -p/-c applied to a finished timeline: its owner, as the kernel-side
 * filters see it (a record's own header may name whoever was running in
 * softirq, so records are not filtered one by one). A recording holds
 * the name of the thread that made the connection, not the process's:
 * a replay's -c matches that one only. */
static bool timeline_wanted(const struct ht_options *opts,
			    const struct timeline *tl)
{
	int i;

	if (opts->comm[0] && !ht_comm_matches(tl->comm, opts->comm))
		return false;
	if (!opts->n_pids)
		return true;
	for (i = 0; i < opts->n_pids; i++)
		if ((uint32_t)opts->pids[i] == tl->pid)
			return true;
	return false;
}

void session_emit(void *user, const struct timeline *tl)
{
	struct session *s = user;

	if (s->replay_filter && !timeline_wanted(&s->opts, tl))
		return;
	/* counted as the correlator counts them (correlator_stats) */
	if (output_flag(&tl->tls.not_decoded)) {
		s->printed_not_decoded++;
	} else {
		s->printed++;
		if (!output_flag(&tl->complete))
			s->printed_incomplete++;
	}
	sink_set_emit(s->sinks, tl);
}

/* A recording that cannot be written stops, loudly; tracing goes on. */
void session_record(struct session *s, enum recording_item_kind kind,
			const void *data, size_t size)
{
	int err;

	if (!s->recording)
		return;
	err = recording_write(&s->rec, kind, data, size);
	if (err) {
		log_error("writing %s failed: %s; recording stopped here",
			  s->opts.record_path, strerror(-err));
		s->recording = false;
	}
}

/*
 * A connect or accept record names the cgroup of its task: resolved
 * now, while the cgroup surely exists, once per cgroup (the table keeps
 * it), and recorded before the record, so a replay has it in its table
 * at the same point of the stream as the live run had.
 */
static void note_cgroup(struct session *s, const void *record, size_t size)
{
	struct {
		struct recording_cgroup c;
		char path[RECORDING_CGROUP_PATH_MAX + 1];
	} item;
	struct ht_event_header hdr;
	uint64_t id;
	int n;

	if (!s->cgroups_live || size < sizeof(struct ht_conn_event))
		return;
	memcpy(&hdr, record, sizeof(hdr));
	if (hdr.type != HT_EV_CONNECT_START && hdr.type != HT_EV_ACCEPT)
		return;
	memcpy(&id, (const char *)record +
			    offsetof(struct ht_conn_event, cgroup_id),
	       sizeof(id));
	if (!id || container_table_get(s->containers, id))
		return;
	n = cgroup_resolve(&s->cgroups, id, item.path, sizeof(item.path));
	if (n < 0) {
		log_verbose("cgroup %llu: not resolved: %s",
			    (unsigned long long)id, strerror(-n));
		n = 0; /* entered as not known: not looked for again */
	} else if (n > RECORDING_CGROUP_PATH_MAX) {
		n = 0;
	}
	item.c.id = id;
	container_table_put(s->containers, id, n ? item.path : NULL, n);
	session_record(s, RECORDING_CGROUP, &item,
		       sizeof(item.c) + (size_t)n);
}

void session_replay_cgroup(struct session *s, const void *item, size_t size)
{
	const struct recording_cgroup *c = item;
	size_t len = size - sizeof(*c);

	container_table_put(s->containers, c->id, len ? c->path : NULL, len);
}

int session_open_containers(struct session *s, bool live)
{
	char err[256];

	s->containers = container_table_new();
	if (!s->containers) {
		log_error("out of memory");
		return -1;
	}
	s->cgroups.root_fd = -1;
	if (!live)
		return 0;
	if (cgroup_resolver_open(&s->cgroups, NULL, err, sizeof(err))) {
		log_warn("requests are not attributed to containers: %s",
			 err);
		return 0;
	}
	log_verbose("cgroup v2 at %s", s->cgroups.mount);
	s->cgroups_live = true;
	return 0;
}

void session_close_containers(struct session *s)
{
	if (!s->containers)
		return; /* never opened: s->cgroups is zeroes, not -1 */
	cgroup_resolver_close(&s->cgroups);
	container_table_free(s->containers);
	s->containers = NULL;
}

int session_push_record(void *user, const void *record, size_t size)
{
	struct session *s = user;

	note_cgroup(s, record, size);
	session_record(s, RECORDING_RECORD, record, size);
	return correlator_push(s->corr, record, size);
}

void session_note_lost(struct session *s, enum ht_drop_kind kind, uint64_t n)
{
	struct recording_lost l = { .kind = kind, .count = n };

	session_record(s, RECORDING_LOST, &l, sizeof(l));
	correlator_note_lost(s->corr, kind, n);
}

/* A queued output's drops, with the summary; only those that had any. */
static void print_output_drops(struct session *s)
{
	struct sink_stats st;
	size_t i;

	for (i = 0; i < sink_set_count(s->sinks); i++) {
		sink_set_stats(s->sinks, i, &st);
		if (!sink_set_queued(s->sinks, i) || !st.dropped)
			continue;
		fprintf(stderr,
			"httptrace-bpf: %llu timelines not sent to %s: its "
			"queue was full\n",
			(unsigned long long)st.dropped,
			sink_set_name(s->sinks, i));
	}
	for (i = 0; i < sink_set_count(s->sinks); i++) {
		if (strcmp(sink_set_name(s->sinks, i), "otlp"))
			continue;
		sink_set_stats(s->sinks, i, &st);
		fprintf(stderr,
			"httptrace-bpf: otlp: %llu spans sent, %llu dropped "
			"(queue full), %llu failed (given up after retries)\n",
			(unsigned long long)st.sent,
			(unsigned long long)st.dropped,
			(unsigned long long)st.send_failed);
	}
}

void session_print_summary(struct session *s, uint64_t lost_total)
{
	const struct correlator_stats *st = correlator_stats(s->corr);
	uint64_t not_decoded = s->replay_filter ? s->printed_not_decoded :
						    st->tls_not_decoded;

	fprintf(stderr,
		"httptrace-bpf: %llu requests, %llu incomplete, "
		"%llu records lost, %llu TLS connection%s not decoded\n",
		(unsigned long long)(s->replay_filter ? s->printed :
							  st->requests),
		(unsigned long long)(s->replay_filter ?
					     s->printed_incomplete :
					     st->incomplete),
		(unsigned long long)lost_total,
		(unsigned long long)not_decoded, not_decoded == 1 ? "" : "s");
	if (st->not_http_after_http && !s->replay_filter)
		fprintf(stderr,
			"httptrace-bpf: %llu times bytes that were not HTTP/1.x "
			"followed HTTP on a connection (no timeline)\n",
			(unsigned long long)st->not_http_after_http);
	if (st->h2_frames_lost && !s->replay_filter)
		fprintf(stderr,
			"httptrace-bpf: %llu times an HTTP/2 connection's "
			"frames were not all captured: streams opened "
			"meanwhile are not reported (--max-capture 16384 "
			"keeps more)\n",
			(unsigned long long)st->h2_frames_lost);
	print_output_drops(s);
}

/* The first error writing stdout ends the tracer; from then on nothing
 * more is written (the sink set leaves a failed sink out). */
static void output_failed(void *user, const char *name, int err)
{
	struct session *s = user;

	if (s->out_err)
		return;
	s->out_err = err ? err : EIO;
	if (err == EPIPE)
		log_info("the output was closed (broken pipe): stopping");
	else if (err == EINTR)
		log_error("the output took nothing for %d ms after the end: "
			  "the last timelines were not written",
			  SESSION_LAST_WRITE_MS);
	else
		log_error("writing the output failed: %s; stopping",
			  strerror(s->out_err));
}

/* The OTLP exporter, when the flag or the variables ask for it: a bad
 * endpoint or variable is an error now, before tracing starts. */
static int open_otlp(struct session *s, struct sink_config *cfg)
{
	static struct otlp_config ocfg; /* large; read by open alone */
	char err[512];

	if (!otlp_config_wanted(s->opts.otlp_endpoint, getenv)) {
		if (s->opts.otlp_phase_spans) {
			log_error("--otlp-phase-spans needs --otlp-endpoint "
				  "or OTEL_EXPORTER_OTLP_ENDPOINT");
			return -1;
		}
		return 0;
	}
	if (otlp_config_resolve(&ocfg, s->opts.otlp_endpoint,
				s->opts.otlp_phase_spans, getenv, err,
				sizeof(err))) {
		log_error("OTLP: %s", err);
		return -1;
	}
	cfg->params = &ocfg;
	if (sink_set_add(s->sinks, "otlp", cfg, err, sizeof(err))) {
		log_error("cannot start the OTLP exporter: %s", err);
		return -1;
	}
	log_info("sending spans to %s (from %s)", ocfg.url, ocfg.url_from);
	return 0;
}

/*
 * The outputs the options ask for, fed by session_emit(). Opened once
 * the epoch offset of the times is known.
 */
int session_open_outputs(struct session *s)
{
	struct sink_config cfg = { .out = stdout, .opts = s->out };
	const char *name = s->opts.json ? "json" : "text";
	char err[256];

	s->sinks = sink_set_new(output_failed, s);
	if (!s->sinks) {
		log_error("out of memory");
		return -1;
	}
	/* --quiet: stdout stays untouched (under systemd it is the
	 * journal, which would take every request as a log line); the
	 * exporters' sinks are added all the same */
	if (!s->opts.quiet &&
	    sink_set_add(s->sinks, name, &cfg, err, sizeof(err))) {
		log_error("cannot open the %s output: %s", name, err);
		return -1;
	}
	if (s->opts.metrics_addr[0]) {
		cfg.arg = s->opts.metrics_addr;
		if (sink_set_add(s->sinks, "prometheus", &cfg, err,
				 sizeof(err))) {
			log_error("cannot serve metrics: %s", err);
			return -1;
		}
		cfg.arg = NULL;
	}
	return open_otlp(s, &cfg);
}

void session_publish(struct session *s, uint64_t lost_total)
{
	const struct correlator_stats *st = correlator_stats(s->corr);
	struct sink_counters c = {
		.records_lost = lost_total,
		.timelines = st->requests,
		.timelines_incomplete = st->incomplete,
		.tls_not_decoded = st->tls_not_decoded,
	};

	sink_set_publish(s->sinks, &c);
}

/* What the outputs left out: after an error, or a full queue. */
void session_report_outputs(struct session *s)
{
	uint64_t not_written = 0;
	struct sink_stats st;
	size_t i;

	for (i = 0; i < sink_set_count(s->sinks); i++) {
		sink_set_stats(s->sinks, i, &st);
		not_written += st.not_written;
	}
	if (not_written)
		log_warn("%llu timelines were not written",
			 (unsigned long long)not_written);
}

void session_close_recording(struct session *s)
{
	bool was_ok = s->recording;
	int err;

	if (!s->opts.record_path[0] || s->rec_closed)
		return;
	s->rec_closed = true;
	s->recording = false;
	err = recording_close(&s->rec);
	if (err && was_ok)
		log_error("writing %s failed: %s", s->opts.record_path,
			  strerror(-err));
	else if (was_ok)
		log_info("%llu records written to %s",
			 (unsigned long long)s->rec.records,
			 s->opts.record_path);
}
