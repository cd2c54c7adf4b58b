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

/*
 * Writes tl as a few lines of text. Bytes from traced traffic that are not
 * printable ASCII are shown as \xNN so they cannot drive the terminal.
 * opts may be NULL (epoch offset 0, no color, no flush).
 */
void output_text(FILE *out, const struct timeline *tl,
		 const struct output_opts *opts);

#endif /* HTTPTRACE_OUTPUT_TEXT_H */
