// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Command-line parsing: every option, and each way of getting it wrong. */
#include "cli/cli.h"
#include "unit.h"

static char err[256];

static int parse(struct ht_options *o, int argc, const char **argv)
{
	err[0] = 0;
	return cli_parse(argc, (char **)argv, o, err, sizeof(err));
}

#define PARSE(o, ...)                                                         \
	({                                                                    \
		const char *argv_[] = { "httptrace-bpf", __VA_ARGS__ };       \
		parse(o, sizeof(argv_) / sizeof(argv_[0]), argv_);            \
	})

static void test_defaults(void)
{
	struct ht_options o;
	const char *argv[] = { "httptrace-bpf" };

	CHECK_INT(parse(&o, 1, argv), 0);
	CHECK_INT(o.n_pids, 0);
	CHECK_INT(o.json, 0);
	CHECK_INT(o.attach_mode, ATTACH_AUTO);
	CHECK_INT(o.max_capture, HT_DEFAULT_CAPTURE);
	CHECK_INT(o.ring_size, HT_DEFAULT_RING_SIZE);
	CHECK_INT(o.nice, -10);
	CHECK_STR(o.comm, "");
	/* query values are redacted unless asked for */
	CHECK_INT(o.show_query, 0);
	CHECK_INT(PARSE(&o, "--show-query"), 0);
	CHECK_INT(o.show_query, 1);
}

static void test_all_options(void)
{
	struct ht_options o;

	CHECK_INT(PARSE(&o, "-p", "12", "--pid", "34", "-c", "curl", "--json",
			"-d", "5", "--attach-mode", "kprobe", "--max-capture",
			"512", "-v", "-v"), 0);
	CHECK_INT(o.n_pids, 2);
	CHECK_INT(o.pids[0], 12);
	CHECK_INT(o.pids[1], 34);
	CHECK_STR(o.comm, "curl");
	CHECK_INT(o.json, 1);
	CHECK_INT(o.duration_s, 5);
	CHECK_INT(o.attach_mode, ATTACH_KPROBE);
	CHECK_INT(o.max_capture, 512);
	CHECK_INT(o.verbose, 2);
	CHECK_INT(PARSE(&o, "--attach-mode", "fentry"), 0);
	CHECK_INT(o.attach_mode, ATTACH_FENTRY);
	CHECK_INT(PARSE(&o, "--attach-mode=tracepoint"), 0);
	CHECK_INT(o.attach_mode, ATTACH_TRACEPOINT);
	CHECK_INT(PARSE(&o, "-h"), 0);
	CHECK_INT(o.show_help, 1);
	CHECK_INT(PARSE(&o, "--version"), 0);
	CHECK_INT(o.show_version, 1);
	CHECK_INT(PARSE(&o, "--probe", "--btf", "/boot/vmlinux.btf"), 0);
	CHECK_INT(o.probe_only, 1);
	CHECK_STR(o.btf_path, "/boot/vmlinux.btf");
	CHECK_INT(PARSE(&o, "--ring-size", "16M"), 0);
	CHECK_INT(o.ring_size, 16 << 20);
	CHECK_INT(PARSE(&o, "--ring-size", "65536"), 0);
	CHECK_INT(o.ring_size, 65536);
	CHECK_INT(PARSE(&o, "--ring-size", "1G"), 0);
	CHECK_INT(o.ring_size, 1 << 30);
	CHECK_INT(PARSE(&o, "--nice", "0"), 0);
	CHECK_INT(o.nice, 0);
	CHECK_INT(PARSE(&o, "--nice", "-20"), 0);
	CHECK_INT(o.nice, -20);
}

static void test_errors_in_words(void)
{
	struct ht_options o;

	CHECK_INT(PARSE(&o, "--bogus"), -1);
	CHECK(strstr(err, "unknown option '--bogus'"));
	CHECK_INT(PARSE(&o, "-p", "abc"), -1);
	CHECK(strstr(err, "invalid PID 'abc'"));
	CHECK_INT(PARSE(&o, "-p", "0"), -1);
	CHECK_INT(PARSE(&o, "-p", "12x"), -1);
	CHECK_INT(PARSE(&o, "-p"), -1);
	CHECK(strstr(err, "needs a value"));
	CHECK_INT(PARSE(&o, "--attach-mode", "uprobe"), -1);
	CHECK(strstr(err, "unknown attach mode 'uprobe'"));
	CHECK_INT(PARSE(&o, "--max-capture", "999999"), -1);
	CHECK(strstr(err, "--max-capture"));
	CHECK_INT(PARSE(&o, "-d", "-1"), -1);
	CHECK_INT(PARSE(&o, "-c", "a-name-longer-than-15"), -1);
	CHECK_INT(PARSE(&o, "-c", "h2load", "-c", "nghttpd"), -1);
	CHECK(strstr(err, "-c given twice (h2load, nghttpd)"));
	CHECK_INT(PARSE(&o, "-c", "curl", "-c", "curl"), 0);
	CHECK_INT(PARSE(&o, "--ring-size", "3M"), -1);
	CHECK(strstr(err, "power of two"));
	CHECK_INT(PARSE(&o, "--ring-size", "32K"), -1);
	CHECK_INT(PARSE(&o, "--ring-size", "2G"), -1);
	CHECK_INT(PARSE(&o, "--ring-size", "4X"), -1);
	CHECK_INT(PARSE(&o, "--nice", "20"), -1);
	CHECK_STR(err, "invalid --nice '20' (-20 to 19)");
	CHECK_INT(PARSE(&o, "--nice", "-21"), -1);
	CHECK_INT(PARSE(&o, "--btf", ""), -1);
	CHECK(strstr(err, "--btf"));
	CHECK_INT(PARSE(&o, "stray"), -1);
	CHECK(strstr(err, "unexpected argument 'stray'"));
}

/* --ring-size: every value out of range is refused, in words; none wraps
 * round to a small size (2^54 + 64 kibibytes is 2^64 + 64K). */
static void test_ring_size_bounds(void)
{
	struct ht_options o;

	CHECK_INT(PARSE(&o, "--ring-size", "64K"), 0);
	CHECK_INT(o.ring_size, 64 << 10);
	CHECK_INT(PARSE(&o, "--ring-size", "1g"), 0);
	CHECK_INT(o.ring_size, 1 << 30);
	CHECK_INT(PARSE(&o, "--ring-size", "1073741824"), 0);
	CHECK_INT(o.ring_size, 1 << 30);
	CHECK_INT(PARSE(&o, "--ring-size", "18014398509482048K"), -1);
	CHECK_STR(err, "invalid --ring-size '18014398509482048K': larger than "
		       "1G (a power of two from 64K to 1G, e.g. 4M)");
	CHECK_INT(PARSE(&o, "--ring-size", "4398046511104G"), -1);
	CHECK(strstr(err, "larger than 1G"));
	CHECK_INT(PARSE(&o, "--ring-size", "99999999999999999999999999"), -1);
	CHECK(strstr(err, "larger than 1G"));
	CHECK_INT(PARSE(&o, "--ring-size", "2048M"), -1);
	CHECK(strstr(err, "larger than 1G"));
	CHECK_INT(PARSE(&o, "--ring-size", "0"), -1);
	CHECK(strstr(err, "smaller than 64K"));
	CHECK_INT(PARSE(&o, "--ring-size", "-65536"), -1);
	CHECK(strstr(err, "not a number"));
	CHECK_INT(PARSE(&o, "--ring-size", " 64K"), -1);
	CHECK(strstr(err, "not a number"));
	CHECK_INT(PARSE(&o, "--ring-size", "+64K"), -1);
	CHECK_INT(PARSE(&o, "--ring-size", "64KB"), -1);
	CHECK(strstr(err, "optional K, M or G"));
	CHECK_INT(PARSE(&o, "--ring-size", "96K"), -1);
	CHECK(strstr(err, "not a power of two"));
	CHECK_INT(PARSE(&o, "--ring-size", ""), -1);
}

static void test_pid_limit(void)
{
	struct ht_options o;
	const char *argv[2 + 2 * HT_MAX_PIDS];
	int argc = 1;

	argv[0] = "httptrace-bpf";
	for (int i = 0; i < HT_MAX_PIDS; i++) {
		argv[argc++] = "-p";
		argv[argc++] = "7";
	}
	CHECK_INT(parse(&o, argc, argv), 0); /* exactly HT_MAX_PIDS */
	CHECK_INT(o.n_pids, HT_MAX_PIDS);
	{
		const char *more[4 + 2 * HT_MAX_PIDS];

		memcpy(more, argv, argc * sizeof(argv[0]));
		more[argc] = "-p";
		more[argc + 1] = "8";
		CHECK_INT(parse(&o, argc + 2, more), -1);
		CHECK(strstr(err, "at most"));
	}
}

static void test_uprobe_links(void)
{
	struct ht_options o;

	CHECK_INT(PARSE(&o), 0);
	CHECK_INT(o.uprobe_links, UPROBE_LINKS_AUTO);
	CHECK_INT(PARSE(&o, "--uprobe-links", "perf"), 0);
	CHECK_INT(o.uprobe_links, UPROBE_LINKS_PERF);
	CHECK_INT(PARSE(&o, "--uprobe-links=multi"), 0);
	CHECK_INT(o.uprobe_links, UPROBE_LINKS_MULTI);
	CHECK_INT(PARSE(&o, "--uprobe-links", "kprobe"), -1);
	CHECK_STR(err, "unknown --uprobe-links 'kprobe' (multi or perf)");
	CHECK_INT(PARSE(&o, "--replay", "f", "--uprobe-links", "perf"), -1);
	CHECK(strstr(err, "--uprobe-links does not go with --replay"));
}

static void test_record_replay(void)
{
	struct ht_options o;

	CHECK_INT(PARSE(&o, "--record", "/tmp/x.htrec", "--json"), 0);
	CHECK_STR(o.record_path, "/tmp/x.htrec");
	CHECK_STR(o.replay_path, "");
	CHECK_INT(PARSE(&o, "--replay", "/tmp/x.htrec", "-p", "7", "-c",
			"curl", "--json", "-v"), 0);
	CHECK_STR(o.replay_path, "/tmp/x.htrec");
	CHECK_INT(o.pids[0], 7);
	CHECK_INT(PARSE(&o, "--replay", ""), -1);
	CHECK_STR(err, "invalid --replay path");
	CHECK_INT(PARSE(&o, "--replay", "f", "--record", "g"), -1);
	CHECK_STR(err, "--record does not go with --replay (a replay reads a "
		       "file; only -p, -c, --json, --quiet, --show-query and "
		       "-v apply)");
	CHECK_INT(PARSE(&o, "--replay", "f", "--show-query"), 0);
	CHECK_INT(o.show_query, 1);
	CHECK_INT(PARSE(&o, "--replay", "f", "-d", "3"), -1);
	CHECK(strstr(err, "-d does not go with --replay"));
	CHECK_INT(PARSE(&o, "--replay", "f", "--attach-mode", "kprobe"), -1);
	CHECK(strstr(err, "--attach-mode does not go"));
	CHECK_INT(PARSE(&o, "--ring-size", "8M", "--replay", "f"), -1);
	CHECK(strstr(err, "--ring-size does not go"));
	CHECK_INT(PARSE(&o, "--nice", "5", "--replay", "f"), -1);
	CHECK(strstr(err, "--nice does not go"));
	CHECK_INT(PARSE(&o, "--replay", "f", "--probe"), -1);
	CHECK(strstr(err, "--probe does not go"));
}

static void test_metrics_addr(void)
{
	struct ht_options o;

	CHECK_INT(PARSE(&o, "-j"), 0);
	CHECK_STR(o.metrics_addr, "");
	CHECK_INT(PARSE(&o, "--metrics-addr", "127.0.0.1:9464"), 0);
	CHECK_STR(o.metrics_addr, "127.0.0.1:9464");
	CHECK_INT(PARSE(&o, "--metrics-addr", "[::1]:9464"), 0);
	CHECK_STR(o.metrics_addr, "[::1]:9464");
	CHECK_INT(PARSE(&o, "--metrics-addr", ":9464"), 0);
	CHECK_INT(PARSE(&o, "--metrics-addr", "localhost:80"), 0);

	CHECK_INT(PARSE(&o, "--metrics-addr", "9464"), -1);
	CHECK_STR(err, "invalid --metrics-addr '9464': no :PORT (e.g. "
		  "127.0.0.1:9464, or :9464 for every address)");
	CHECK_INT(PARSE(&o, "--metrics-addr", "127.0.0.1:0"), -1);
	CHECK_STR(err, "invalid --metrics-addr '127.0.0.1:0': the port is "
		  "not a number from 1 to 65535");
	CHECK_INT(PARSE(&o, "--metrics-addr", "127.0.0.1:65536"), -1);
	CHECK(strstr(err, "from 1 to 65535"));
	CHECK_INT(PARSE(&o, "--metrics-addr", "127.0.0.1:"), -1);
	CHECK(strstr(err, "from 1 to 65535"));
	CHECK_INT(PARSE(&o, "--metrics-addr", "127.0.0.1:94x"), -1);
	CHECK(strstr(err, "from 1 to 65535"));
	CHECK_INT(PARSE(&o, "--metrics-addr", "::1:9464"), -1);
	CHECK(strstr(err, "IPv6 address goes in brackets"));
	CHECK_INT(PARSE(&o, "--metrics-addr", "[::1]9464"), -1);
	CHECK(strstr(err, "no :PORT after the address"));
	CHECK_INT(PARSE(&o, "--metrics-addr", "[]:9464"), -1);
	CHECK_INT(PARSE(&o, "--metrics-addr"), -1);
	CHECK_STR(err, "option '--metrics-addr' needs a value");
	/* a replay ends when the file does: nothing to scrape */
	CHECK_INT(PARSE(&o, "--replay", "f", "--metrics-addr", ":9464"), -1);
	CHECK(strstr(err, "--metrics-addr does not go with --replay"));
}

static void test_otlp(void)
{
	struct ht_options o;
	char long_url[2100];

	CHECK_INT(PARSE(&o), 0);
	CHECK_STR(o.otlp_endpoint, "");
	CHECK_INT(o.otlp_phase_spans, 0);
	CHECK_INT(PARSE(&o, "--otlp-endpoint", "http://127.0.0.1:4318",
			"--otlp-phase-spans"), 0);
	CHECK_STR(o.otlp_endpoint, "http://127.0.0.1:4318");
	CHECK_INT(o.otlp_phase_spans, 1);
	CHECK_INT(PARSE(&o, "--otlp-endpoint=https://c/otel"), 0);
	CHECK_STR(o.otlp_endpoint, "https://c/otel");
	/* a replay's timelines may be exported too */
	CHECK_INT(PARSE(&o, "--replay", "f", "--otlp-endpoint", "http://c"),
		  0);
	CHECK_INT(PARSE(&o, "--otlp-endpoint", ""), -1);
	CHECK(strstr(err, "invalid --otlp-endpoint"));
	CHECK_INT(PARSE(&o, "--otlp-endpoint"), -1);
	CHECK_STR(err, "option '--otlp-endpoint' needs a value");
	memset(long_url, 'a', sizeof(long_url) - 1);
	long_url[sizeof(long_url) - 1] = '\0';
	memcpy(long_url, "http://", 7);
	CHECK_INT(PARSE(&o, "--otlp-endpoint", long_url), -1);
	CHECK(strstr(err, "longer than 2047 bytes"));
}

/* --quiet: no timeline on stdout. With --json it is a usage error,
 * whichever comes first: neither may silently win. */
static void test_quiet(void)
{
	struct ht_options o;

	CHECK_INT(PARSE(&o, "-c", "curl"), 0);
	CHECK_INT(o.quiet, 0);
	CHECK_INT(o.keep_privileges, 0);
	CHECK_INT(PARSE(&o, "--quiet"), 0);
	CHECK_INT(o.quiet, 1);
	CHECK_INT(o.json, 0);
	CHECK_INT(PARSE(&o, "-q", "-v"), 0);
	CHECK_INT(o.quiet, 1);
	CHECK_INT(o.verbose, 1);
	CHECK_INT(PARSE(&o, "-qv"), 0);
	CHECK_INT(o.quiet, 1);
	CHECK_INT(o.verbose, 1);
	CHECK_INT(PARSE(&o, "--quiet", "--json"), -1);
	CHECK_STR(err, "--quiet and --json contradict each other: --quiet "
		       "prints no request, --json prints each as JSON; "
		       "choose one");
	CHECK_INT(PARSE(&o, "-j", "-q"), -1);
	CHECK(strstr(err, "--quiet and --json contradict"));
	/* a replay with --quiet: the summary alone */
	CHECK_INT(PARSE(&o, "--replay", "f", "--quiet"), 0);
	CHECK_INT(o.quiet, 1);
	CHECK_INT(PARSE(&o, "--quiet", "--record", "r.htrec", "-d", "5"), 0);
	CHECK_STR(o.record_path, "r.htrec");
}

static void test_keep_privileges(void)
{
	struct ht_options o;

	CHECK_INT(PARSE(&o, "--keep-privileges", "--quiet"), 0);
	CHECK_INT(o.keep_privileges, 1);
	CHECK_INT(o.quiet, 1);
	CHECK_INT(PARSE(&o, "--keep-privileges", "--replay", "f"), -1);
	CHECK(strstr(err, "--keep-privileges does not go with --replay"));
	CHECK_INT(PARSE(&o, "--keep-privileges=yes"), -1);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_defaults);
	RUN(test_all_options);
	RUN(test_errors_in_words);
	RUN(test_ring_size_bounds);
	RUN(test_pid_limit);
	RUN(test_record_replay);
	RUN(test_uprobe_links);
	RUN(test_metrics_addr);
	RUN(test_otlp);
	RUN(test_quiet);
	RUN(test_keep_privileges);
	return unit_done("cli");
}
