// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The JSON output as a sink: output_json() into the configured stream. */
#include <errno.h>
#include <stdlib.h>

#include "sink/sink.h"
#include "sink/json/output_json.h"

struct json_sink {
	FILE *out;
	struct output_opts opts;
};

static int json_open(void **state, const struct sink_config *cfg, char *err,
		     size_t err_size)
{
	struct json_sink *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	s->out = cfg->out;
	s->opts = cfg->opts;
	*state = s;
	return 0;
}

static int json_emit(void *state, const struct timeline *tl)
{
	struct json_sink *s = state;

	output_json(s->out, tl, &s->opts);
	return sink_stream_error(s->out);
}

static int json_flush(void *state)
{
	struct json_sink *s = state;

	return sink_stream_flush(s->out);
}

/* the stream is the caller's */
static void json_close(void *state)
{
	free(state);
}

const struct sink_ops sink_json_ops = {
	.name = "json",
	.open = json_open,
	.emit = json_emit,
	.flush = json_flush,
	.close = json_close,
};
