// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sink/prometheus/prom_addr.h"

enum {
	OPT_ATTACH_MODE = 0x100,
	OPT_MAX_CAPTURE,
	OPT_VERSION,
	OPT_PROBE,
	OPT_BTF,
	OPT_RING_SIZE,
	OPT_RECORD,
	OPT_REPLAY,
	OPT_UPROBE_LINKS,
	OPT_SHOW_QUERY,
	OPT_NICE,
	OPT_METRICS_ADDR,
	OPT_OTLP_ENDPOINT,
	OPT_OTLP_PHASE_SPANS,
	OPT_KEEP_PRIVILEGES,
};

static const struct option long_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "comm", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "duration", required_argument, NULL, 'd' },
	{ "attach-mode", required_argument, NULL, OPT_ATTACH_MODE },
	{ "max-capture", required_argument, NULL, OPT_MAX_CAPTURE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "probe", no_argument, NULL, OPT_PROBE },
	{ "btf", required_argument, NULL, OPT_BTF },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "uprobe-links", required_argument, NULL, OPT_UPROBE_LINKS },
	{ "show-query", no_argument, NULL, OPT_SHOW_QUERY },
	{ "nice", required_argument, NULL, OPT_NICE },
	{ "metrics-addr", required_argument, NULL, OPT_METRICS_ADDR },
	{ "otlp-endpoint", required_argument, NULL, OPT_OTLP_ENDPOINT },
	{ "otlp-phase-spans", no_argument, NULL, OPT_OTLP_PHASE_SPANS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "keep-privileges", no_argument, NULL, OPT_KEEP_PRIVILEGES },
	{ NULL, 0, NULL, 0 },
};

void cli_usage(FILE *out, const char *prog)
{
	fprintf(out,
"Usage: %s [OPTIONS]\n"
"Trace HTTP/1.x requests made and served by processes on this host and\n"
"print one timeline per request (DNS, connect, TLS, send, wait,\n"
"receive); HTTP/2 connections and TLS the tracer cannot decode are\n"
"reported one line per connection.\n"
"\n"
"  -p, --pid PID            trace only this process (repeatable); the\n"
"                           tracer stops once all of them have exited\n"
"  -c, --comm NAME          trace only processes named NAME: the process's\n"
"                           name (/proc/PID/comm, as ps shows it) or the\n"
"                           connecting thread's, whole or up to its first\n"
"                           space (npm, titled \"npm view x\", is npm); a\n"
"                           replay knows only the thread's name\n"
"  -j, --json               one JSON object per request, per line\n"
"  -q, --quiet              no per-request output on stdout (a daemon whose\n"
"                           exporters take the requests); messages and the\n"
"                           summary at exit still go to stderr; not with\n"
"                           --json\n"
"      --show-query         print the values in request targets' query\n"
"                           strings (redacted by default, as secret as\n"
"                           header values)\n"
"  -d, --duration SECONDS   stop after SECONDS\n"
"      --metrics-addr HOST:PORT\n"
"                           serve Prometheus metrics at\n"
"                           http://HOST:PORT/metrics, e.g. 127.0.0.1:9464,\n"
"                           [::1]:9464, or :9464 for every address\n"
"      --attach-mode MODE   fentry, kprobe or tracepoint (default: the best\n"
"                           the running kernel allows)\n"
"      --uprobe-links HOW   multi (uprobe_multi links, Linux 6.6+) or perf\n"
"                           (a perf-event link per probe); default: multi\n"
"                           where the kernel has it\n"
"      --max-capture BYTES  bytes captured per read/write (default %d, max %d)\n"
"      --ring-size SIZE     kernel-to-daemon ring buffer, a power of two\n"
"                           from 64K to 1G, e.g. 16M (default 4M)\n"
"      --nice N             the reader's nice value, -20 to 19 (default %d:\n"
"                           it must keep up with the programs it traces)\n"
"      --btf PATH           kernel BTF to use when the kernel does not\n"
"                           expose /sys/kernel/btf/vmlinux\n"
"      --probe              print what the kernel offers and which attach\n"
"                           mode would be used; exit 0 if tracing can work\n"
"      --record FILE        also write every record received to FILE (made\n"
"                           anew, mode 0600; a link, a FIFO, or a file\n"
"                           others own or may write there is refused)\n"
"      --replay FILE        print the timelines of a recording (no root,\n"
"                           no BPF; -p, -c, --json, --quiet, --show-query\n"
"                           and --otlp-endpoint apply)\n"
"      --otlp-endpoint URL  also send each request as an OpenTelemetry span\n"
"                           over OTLP/HTTP to URL/v1/traces, e.g.\n"
"                           http://127.0.0.1:4318 (default: the variable\n"
"                           OTEL_EXPORTER_OTLP_ENDPOINT, if set)\n"
"      --otlp-phase-spans   also a child span per phase (dns, connect, tls,\n"
"                           send, wait, receive)\n"
"      --keep-privileges    keep every capability after attaching (by\n"
"                           default only those the running tracer needs\n"
"                           are kept, and no_new_privs is set; -v says\n"
"                           which)\n"
"  -v, --verbose            say what was probed and attached\n"
"  -h, --help               this help\n"
"      --version            print the version\n"
"\n"
"SIGINT (Ctrl-C), SIGTERM and SIGHUP end the tracer the same way: what\n"
"was traced is written out, the summary goes to stderr, exit status 0.\n"
"\n"
"Examples:\n"
"  sudo %s -p 1234          # one process\n"
"  sudo %s --json | jq .    # every process, JSON\n"
"  sudo %s --record run.htrec   # later: %s --replay run.htrec\n",
		prog, HT_DEFAULT_CAPTURE, HT_MAX_CAPTURE, HT_DEFAULT_NICE, prog,
		prog, prog,
		prog);
}

/* Words an option takes, by enum value; NULL where a value has none. */
static const char *const attach_mode_names[] = {
#define ATTACH_MODE_CHOICE(name, word) \
	[ATTACH_##name] = ATTACH_##name == ATTACH_AUTO ? NULL : word,
	ATTACH_MODES(ATTACH_MODE_CHOICE)
#undef ATTACH_MODE_CHOICE
};
static const char *const uprobe_links_names[] = {
	[UPROBE_LINKS_MULTI] = "multi",
	[UPROBE_LINKS_PERF] = "perf",
};

/* The enum value whose word is s, or -1. */
#define parse_choice(s, names) \
	parse_choice_n((s), (names), sizeof(names) / sizeof((names)[0]))

static long parse_choice_n(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(s, names[i]))
			return (long)i;
	return -1;
}

/* Parses a whole decimal number in [min, max]. */
static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

#define RING_MIN (64ULL << 10)
#define RING_MAX (1ULL << 30)

/* "4M", "65536", "64K", "1G": a power of two from 64 KiB to 1 GiB.
 * NULL, or what is wrong with s. Digits are read one by one: strtoull
 * takes signs and blanks, and a suffix's shift could wrap a large number
 * round to a small power of two. */
static const char *parse_size(const char *s, uint32_t *out)
{
	unsigned long long v = 0;
	unsigned int shift = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return "not a number";
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > RING_MAX)
			return "larger than 1G";
	}
	if (*p == 'K' || *p == 'k')
		shift = 10, p++;
	else if (*p == 'M' || *p == 'm')
		shift = 20, p++;
	else if (*p == 'G' || *p == 'g')
		shift = 30, p++;
	if (*p)
		return "not a number with an optional K, M or G";
	if (v > RING_MAX >> shift)
		return "larger than 1G";
	v <<= shift;
	if (v < RING_MIN)
		return "smaller than 64K";
	if (v & (v - 1))
		return "not a power of two";
	*out = (uint32_t)v;
	return NULL;
}

/* A replay reads a file: options about the kernel side make no sense. */
static int check_replay(const struct ht_options *opts, char *err,
			size_t err_len)
{
	const char *what = NULL;

	if (!opts->replay_path[0])
		return 0;
	if (opts->record_path[0])
		what = "--record";
	else if (opts->probe_only)
		what = "--probe";
	else if (opts->attach_mode != ATTACH_AUTO)
		what = "--attach-mode";
	else if (opts->uprobe_links != UPROBE_LINKS_AUTO)
		what = "--uprobe-links";
	else if (opts->btf_path[0])
		what = "--btf";
	else if (opts->duration_s)
		what = "-d";
	else if (opts->max_capture != HT_DEFAULT_CAPTURE)
		what = "--max-capture";
	else if (opts->ring_size != HT_DEFAULT_RING_SIZE)
		what = "--ring-size";
	else if (opts->nice != HT_DEFAULT_NICE)
		what = "--nice";
	else if (opts->metrics_addr[0])
		what = "--metrics-addr";
	else if (opts->keep_privileges)
		what = "--keep-privileges";
	if (!what)
		return 0;
	snprintf(err, err_len, "%s does not go with --replay (a replay reads "
		 "a file; only -p, -c, --json, --quiet, --show-query and -v "
		 "apply)", what);
	return -1;
}

int cli_parse(int argc, char **argv, struct ht_options *opts, char *err,
	      size_t err_len)
{
	long v;
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->max_capture = HT_DEFAULT_CAPTURE;
	opts->ring_size = HT_DEFAULT_RING_SIZE;
	opts->nice = HT_DEFAULT_NICE;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":p:c:jqd:vh", long_options,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_long(optarg, 1, INT_MAX, &v)) {
				snprintf(err, err_len, "invalid PID '%s'", optarg);
				return -1;
			}
			if (opts->n_pids >= HT_MAX_PIDS) {
				snprintf(err, err_len, "at most %d -p options",
					 HT_MAX_PIDS);
				return -1;
			}
			opts->pids[opts->n_pids++] = (pid_t)v;
			break;
		case 'c':
			if (!*optarg || strlen(optarg) >= HT_COMM_LEN) {
				snprintf(err, err_len,
					 "command name must be 1 to %d characters",
					 HT_COMM_LEN - 1);
				return -1;
			}
			/* one name is matched in the kernel: a second one
			 * would silently replace the first */
			if (opts->comm[0] && strcmp(opts->comm, optarg) != 0) {
				snprintf(err, err_len,
					 "-c given twice (%s, %s): one command "
					 "name is matched; use -p for several "
					 "processes",
					 opts->comm, optarg);
				return -1;
			}
			strcpy(opts->comm, optarg);
			break;
		case 'j':
			opts->json = true;
			break;
		case 'q':
			opts->quiet = true;
			break;
		case OPT_KEEP_PRIVILEGES:
			opts->keep_privileges = true;
			break;
		case 'd':
			if (parse_long(optarg, 1, INT_MAX, &v)) {
				snprintf(err, err_len,
					 "invalid duration '%s' (whole seconds > 0)",
					 optarg);
				return -1;
			}
			opts->duration_s = (int)v;
			break;
		case OPT_ATTACH_MODE:
			v = parse_choice(optarg, attach_mode_names);
			if (v < 0) {
				snprintf(err, err_len,
					 "unknown attach mode '%s' (fentry, kprobe or tracepoint)",
					 optarg);
				return -1;
			}
			opts->attach_mode = (enum attach_mode)v;
			break;
		case OPT_UPROBE_LINKS:
			v = parse_choice(optarg, uprobe_links_names);
			if (v < 0) {
				snprintf(err, err_len,
					 "unknown --uprobe-links '%s' (multi or perf)",
					 optarg);
				return -1;
			}
			opts->uprobe_links = (enum uprobe_links)v;
			break;
		case OPT_MAX_CAPTURE:
			if (parse_long(optarg, 0, HT_MAX_CAPTURE, &v)) {
				snprintf(err, err_len,
					 "invalid --max-capture '%s' (0 to %d)",
					 optarg, HT_MAX_CAPTURE);
				return -1;
			}
			opts->max_capture = (uint32_t)v;
			break;
		case 'v':
			opts->verbose++;
			break;
		case 'h':
			opts->show_help = true;
			break;
		case OPT_VERSION:
			opts->show_version = true;
			break;
		case OPT_PROBE:
			opts->probe_only = true;
			break;
		case OPT_SHOW_QUERY:
			opts->show_query = true;
			break;
		case OPT_RING_SIZE: {
			const char *why = parse_size(optarg, &opts->ring_size);

			if (why) {
				snprintf(err, err_len,
					 "invalid --ring-size '%s': %s (a power of "
					 "two from 64K to 1G, e.g. 4M)", optarg, why);
				return -1;
			}
			break;
		}
		case OPT_NICE:
			if (parse_long(optarg, -20, 19, &v)) {
				snprintf(err, err_len,
					 "invalid --nice '%s' (-20 to 19)", optarg);
				return -1;
			}
			opts->nice = (int)v;
			break;
		case OPT_METRICS_ADDR: {
			char host[PROM_HOST_MAX];
			uint16_t port;
			const char *why = prom_addr_parse(optarg, host, &port);

			if (!why && strlen(optarg) >= sizeof(opts->metrics_addr))
				why = "too long";
			if (why) {
				snprintf(err, err_len,
					 "invalid --metrics-addr '%s': %s",
					 optarg, why);
				return -1;
			}
			strcpy(opts->metrics_addr, optarg);
			break;
		}
		case OPT_BTF:
			if (!*optarg || strlen(optarg) >= sizeof(opts->btf_path)) {
				snprintf(err, err_len, "invalid --btf path");
				return -1;
			}
			strcpy(opts->btf_path, optarg);
			break;
		case OPT_OTLP_ENDPOINT:
			/* checked as a URL when the exporter starts, with
			 * the variables it may stand for */
			if (!*optarg ||
			    strlen(optarg) >= sizeof(opts->otlp_endpoint)) {
				snprintf(err, err_len,
					 "invalid --otlp-endpoint: empty or "
					 "longer than %zu bytes",
					 sizeof(opts->otlp_endpoint) - 1);
				return -1;
			}
			strcpy(opts->otlp_endpoint, optarg);
			break;
		case OPT_OTLP_PHASE_SPANS:
			opts->otlp_phase_spans = true;
			break;
		case OPT_RECORD:
		case OPT_REPLAY: {
			char *dst = c == OPT_RECORD ? opts->record_path :
						      opts->replay_path;

			if (!*optarg || strlen(optarg) >= PATH_MAX) {
				snprintf(err, err_len, "invalid --%s path",
					 c == OPT_RECORD ? "record" : "replay");
				return -1;
			}
			strcpy(dst, optarg);
			break;
		}
		case ':':
			snprintf(err, err_len, "option '%s' needs a value",
				 argv[optind - 1]);
			return -1;
		default:
			snprintf(err, err_len, "unknown option '%s'",
				 argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, err_len, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	/* one asks for every request on stdout, the other for none:
	 * neither silently wins */
	if (opts->quiet && opts->json) {
		snprintf(err, err_len, "--quiet and --json contradict each "
			 "other: --quiet prints no request, --json prints each "
			 "as JSON; choose one");
		return -1;
	}
	return check_replay(opts, err, err_len);
}
