/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A human-readable timeline per request: a header line, then one
 * indented line per phase that happened, with a proportional bar.
 */
#ifndef HTTPTRACE_OUTPUT_TEXT_H
#define HTTPTRACE_OUTPUT_TEXT_H

#include <stdio.h>

#include "sink/output.h"
#include "timeline/timeline.h"

/* What only the text output needs, kept per stream by the text sink. */
struct output_text_state {
	bool color;             /* ANSI colors: the stream is a terminal */
	/* stamps never go backwards: a line that ended before the last
	 * one printed carries the last one's stamp (and says when it
	 * ended); false = each line's own end */
	bool ordered_stamps;
	uint64_t last_stamp_ns; /* the stamp of the last line printed */
};

/*
 * Writes tl as a few lines of text. Bytes from traced traffic that are not
 * printable ASCII are shown as \xNN so they cannot drive the terminal.
 * opts may be NULL (epoch offset 0, no flush); state may be NULL (no
 * color, each line's own stamp).
 */
void output_text(FILE *out, const struct timeline *tl,
		 const struct output_opts *opts,
		 struct output_text_state *state);

#endif /* HTTPTRACE_OUTPUT_TEXT_H */
