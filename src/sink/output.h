/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Options of the outputs that print a finished struct timeline
 * (output_json.h, output_text.h). main sets the shared ones (sink.h's
 * struct sink_config); the text sink sets its own.
 */
#ifndef HTTPTRACE_OUTPUT_H
#define HTTPTRACE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct output_opts {
	/* Added to a CLOCK_MONOTONIC time in ns gives Unix epoch ns.
	 * Measured once at start by main, so a clock step later shifts
	 * printed times but never their order. */
	int64_t mono_to_realtime_ns;
	/* fflush() after every record. Not needed on a line-buffered
	 * stream; for a fully buffered file that someone tails. */
	bool flush;
	/* --show-query: print query values; by default they are redacted
	 * (tl_target_text()). */
	bool show_query;
};

/* A bool member read as a byte: the struct may come from a fuzzer or a
 * bug, and loading a bool that holds 2 is undefined behaviour. */
static inline bool output_flag(const bool *flag)
{
	unsigned char byte;

	memcpy(&byte, flag, 1);
	return byte != 0;
}

/* Unix epoch seconds and nanoseconds (0..999999999) of a monotonic time;
 * wraps rather than overflows on absurd inputs. */
static inline void output_wall_time(const struct output_opts *opts,
				    uint64_t mono_ns, int64_t *sec,
				    int32_t *nsec)
{
	int64_t offset = opts ? opts->mono_to_realtime_ns : 0;
	int64_t ns = (int64_t)(mono_ns + (uint64_t)offset);
	int64_t s = ns / 1000000000, rem = ns % 1000000000;

	if (rem < 0) {
		rem += 1000000000;
		s--;
	}
	*sec = s;
	*nsec = (int32_t)rem;
}

#endif /* HTTPTRACE_OUTPUT_H */
