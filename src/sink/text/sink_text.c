// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The text output as a sink: output_text() into the configured stream. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "sink/sink.h"
#include "sink/text/output_text.h"

struct text_sink {
	FILE *out;
	struct output_opts opts;
	struct output_text_state state;
};

static int text_open(void **state, const struct sink_config *cfg, char *err,
		     size_t err_size)
{
	struct text_sink *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	s->out = cfg->out;
	s->opts = cfg->opts;
	/* colors for a terminal only: a file or a pipe gets none */
	s->state.color = isatty(fileno(s->out));
	s->state.ordered_stamps = true;
	*state = s;
	return 0;
}

static int text_emit(void *state, const struct timeline *tl)
{
	struct text_sink *s = state;

	output_text(s->out, tl, &s->opts, &s->state);
	return sink_stream_error(s->out);
}

static int text_flush(void *state)
{
	struct text_sink *s = state;

	return sink_stream_flush(s->out);
}

/* the stream is the caller's */
static void text_close(void *state)
{
	free(state);
}

const struct sink_ops sink_text_ops = {
	.name = "text",
	.open = text_open,
	.emit = text_emit,
	.flush = text_flush,
	.close = text_close,
};
