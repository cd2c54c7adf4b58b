/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Command-line parsing: pure, so it is unit-tested without privileges. */
#ifndef HTTPTRACE_CLI_H
#define HTTPTRACE_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "cli/options.h"

/* Fills opts from argv. Returns 0, or -1 with a message in err. */
int cli_parse(int argc, char **argv, struct ht_options *opts, char *err,
	      size_t err_len);
void cli_usage(FILE *out, const char *prog);

#endif /* HTTPTRACE_CLI_H */
