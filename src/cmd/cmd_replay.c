// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --replay: the timelines of a recording, as the live run printed them. */
#include <errno.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/session.h"
#include "util/log.h"

#define REPLAY_TICK_EVERY 256

/*
 * --replay: the records of a recording through the correlator, ticked
 * where the live run ticked (tick items), with the original wall-clock
 * offset. A recording without tick items is ticked every
 * REPLAY_TICK_EVERY records with its newest timestamp as the clock.
 */
static int replay_run(struct session *s)
{
	static struct recording_reader reader; /* 64 KiB item buffer */
	enum recording_item_kind kind;
	uint64_t newest = 0, lost_total = 0, n = 0;
	bool has_ticks = false;
	const void *data;
	char err[256];
	size_t size;
	int ret;

	ret = recording_open(&reader, s->opts.replay_path, err, sizeof(err));
	if (ret) {
		log_error("cannot replay %s: %s", s->opts.replay_path,
			  ret == -EINVAL ? err : strerror(-ret));
		return 1;
	}
	if (reader.version <= RECORDING_VERSION_UNCHECKED)
		log_warn("%s is a format %u recording, which has no "
			 "checksums: a corrupt byte cannot be told here",
			 s->opts.replay_path, reader.version);
	s->out.mono_to_realtime_ns = reader.mono_to_realtime_ns;
	s->replay_filter = s->opts.n_pids || s->opts.comm[0];
	if (session_open_outputs(s)) {
		recording_close_reader(&reader);
		return 1;
	}
	while ((ret = recording_next(&reader, &kind, &data, &size, err,
				     sizeof(err))) > 0) {
		if (kind == RECORDING_LOST) {
			const struct recording_lost *l = data;

			lost_total += l->count;
			correlator_note_lost(s->corr, l->kind, l->count);
			continue;
		}
		if (kind == RECORDING_CGROUP) {
			session_replay_cgroup(s, data, size);
			continue;
		}
		if (kind == RECORDING_TICK) {
			uint64_t now;

			memcpy(&now, data, sizeof(now));
			has_ticks = true;
			correlator_tick(s->corr, now);
			continue;
		}
		if (size >= sizeof(uint64_t)) {
			uint64_t ts;

			memcpy(&ts, data, sizeof(ts));
			if (ts > newest)
				newest = ts;
		}
		correlator_push(s->corr, data, size);
		if (++n % REPLAY_TICK_EVERY == 0 && !has_ticks)
			correlator_tick(s->corr, newest);
	}
	if (ret < 0)
		log_error("%s: %s; the timelines so far are printed, the rest "
			  "are marked incomplete", s->opts.replay_path, err);
	correlator_flush(s->corr);
	sink_set_close(s->sinks);
	session_print_summary(s, lost_total);
	recording_close_reader(&reader);
	return ret < 0 ? 1 : 0;
}

int cmd_replay(const struct ht_options *opts)
{
	struct correlator_config ccfg = {}; /* defaults */
	struct session s = {};
	int ret;

	s.opts = *opts;
	s.out.show_query = opts->show_query;
	if (session_open_containers(&s, false))
		return 1;
	ccfg.containers = s.containers;
	s.corr = correlator_new(&ccfg, session_emit, &s);
	if (!s.corr) {
		log_error("out of memory");
		session_close_containers(&s);
		return 1;
	}
	ret = replay_run(&s);
	correlator_free(s.corr);
	session_close_containers(&s);
	sink_set_free(s.sinks);
	return ret;
}
