/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One JSON object per request, on one line, for --json.
 */
#ifndef HTTPTRACE_OUTPUT_JSON_H
#define HTTPTRACE_OUTPUT_JSON_H

#include <stdio.h>

#include "sink/output.h"
#include "timeline/timeline.h"

/*
 * Writes tl as one JSON object and a '\n'. Any struct contents give valid
 * JSON: strings are read only up to their array size. opts may be NULL
 * (epoch offset 0, no flush).
 */
void output_json(FILE *out, const struct timeline *tl,
		 const struct output_opts *opts);

#endif /* HTTPTRACE_OUTPUT_JSON_H */
