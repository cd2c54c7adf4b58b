/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a live trace and a replay share: the records' way through the
 * correlator (and into the --record file), the timelines' way to the
 * sinks with -p/-c applied, and the summary at the end.
 */
#ifndef HTTPTRACE_SESSION_H
#define HTTPTRACE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/options.h"
#include "container/cgroup_resolve.h"
#include "container/container_table.h"
#include "pipeline/correlator.h"
#include "record/recording.h"
#include "sink/sink.h"

/* From the end on, the output gets this long to take what is left. */
#define SESSION_LAST_WRITE_MS 1000

struct session {
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
	/* the containers of cgroup ids, for the correlator: filled by
	 * resolving the ids of connect and accept records (a live run, with
	 * cgroups_live) or from the recording's cgroup items (a replay) */
	struct container_table *containers;
	struct cgroup_resolver cgroups;
	bool cgroups_live;
};

/* The correlator's timeline callback (user: the session). */
void session_emit(void *user, const struct timeline *tl);
/* A raw ring-buffer record: recorded, then to the correlator (the
 * event reader's callback; user: the session). */
int session_push_record(void *user, const void *record, size_t size);
/* Writes one item to the --record file, if recording; a recording that
 * cannot be written stops, loudly, and tracing goes on. */
void session_record(struct session *s, enum recording_item_kind kind,
		    const void *data, size_t size);
/* The kernel could not send n records of this kind. */
void session_note_lost(struct session *s, enum ht_drop_kind kind,
		       uint64_t n);
/* The outputs the options ask for; once s->out's epoch offset is
 * known. 0, or -1 said in words. */
int session_open_outputs(struct session *s);
/* The daemon's counters to the sinks that export them (after each
 * poll); lost_total: the records the kernel could not send. */
void session_publish(struct session *s, uint64_t lost_total);
/* What the outputs left out, after an error or a full queue. */
void session_report_outputs(struct session *s);
/* The summary line(s) on stderr. */
void session_print_summary(struct session *s, uint64_t lost_total);
/* Closes the --record file once, saying how it went. */
void session_close_recording(struct session *s);
/* The container table, and for a live run (live) the cgroup resolver;
 * before the correlator, whose config gets the table. 0, or -1 said in
 * words (out of memory); no cgroup v2 is a warning. */
int session_open_containers(struct session *s, bool live);
void session_close_containers(struct session *s);
/* A recording's cgroup item (struct recording_cgroup) into the table. */
void session_replay_cgroup(struct session *s, const void *item, size_t size);

#endif /* HTTPTRACE_SESSION_H */
