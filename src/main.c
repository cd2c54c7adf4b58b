// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * httptrace-bpf: parses the options and runs one command (src/cmd/):
 * --probe, --replay, or the tracer itself.
 */
#include <stdio.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cli/cli.h"
#include "cmd/cmd.h"
#include "util/log.h"

static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	if (level == LIBBPF_DEBUG && log_level < 2)
		return 0;
	if (level == LIBBPF_INFO && log_level < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	struct ht_options opts;
	char err[256];

	/* A terminal gets each line as it is made. A pipe or file gets
	 * whole buffers, flushed after every ring-buffer poll: a write(2)
	 * per line was most of the daemon's cost under load
	 * (docs/BENCH.md). */
	if (isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOLBF, 0);
	else
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (cli_parse(argc, argv, &opts, err, sizeof(err))) {
		fprintf(stderr, "httptrace-bpf: %s\n", err);
		fprintf(stderr, "Try 'httptrace-bpf --help' for more.\n");
		return 2;
	}
	if (opts.show_help) {
		cli_usage(stdout, "httptrace-bpf");
		return 0;
	}
	if (opts.show_version) {
		printf("httptrace-bpf %s\n", HTTPTRACE_VERSION);
		return 0;
	}
	log_level = opts.verbose;
	libbpf_set_print(libbpf_log);

	if (opts.probe_only)
		return cmd_probe(&opts);
	if (opts.replay_path[0])
		return cmd_replay(&opts);
	return cmd_trace(&opts);
}
