// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The lists both sides of the kernel boundary are made from
 * (include/httptrace_io_syscalls.h, include/httptrace_tls_probes.h):
 * what the compiler cannot check about a line added to them.
 */
#include <stdbool.h>

#include "httptrace_events.h"
#include "httptrace_tls_probes.h"
#include "unit.h"

struct io_row {
	const char *name;
	int call;
	int dir;
};

#define IO_ROW(name, call, value, dir, shape, peek_arg)                       \
	{ #name, call, dir },
static const struct io_row io_rows[] = { HT_IO_SYSCALLS(IO_ROW) };
#define N_IO (int)(sizeof(io_rows) / sizeof(io_rows[0]))

/* A send is egress, a read ingress: the records' direction comes from
 * this column. */
static bool io_name_sends(const char *name)
{
	return !strncmp(name, "write", 5) || !strncmp(name, "send", 4) ||
	       !strncmp(name, "pwrite", 6);
}

static void test_io_syscalls(void)
{
	CHECK_INT(N_IO, HT_IO_CALL_COUNT);
	for (int i = 0; i < N_IO; i++) {
		CHECK(io_rows[i].call >= 0 && io_rows[i].call < HT_IO_CALL_COUNT);
		CHECK_INT(io_rows[i].dir, io_name_sends(io_rows[i].name) ?
						  HT_DIR_EGRESS :
						  HT_DIR_INGRESS);
		for (int j = 0; j < i; j++) {
			CHECK(strcmp(io_rows[i].name, io_rows[j].name));
			CHECK(io_rows[i].call != io_rows[j].call);
		}
	}
}

/* Values recordings keep: they never change. */
static void test_io_values_stable(void)
{
	CHECK_INT(HT_IO_WRITE, 0);
	CHECK_INT(HT_IO_WRITEV, 1);
	CHECK_INT(HT_IO_SENDTO, 2);
	CHECK_INT(HT_IO_SENDMSG, 3);
	CHECK_INT(HT_IO_READ, 4);
	CHECK_INT(HT_IO_READV, 5);
	CHECK_INT(HT_IO_RECVFROM, 6);
	CHECK_INT(HT_IO_RECVMSG, 7);
}

struct probe_row {
	int id;
	const char *prog;
	int lib;
	bool free;
};

#define PROBE_ROW(id, prog, lib, op, buf_arg, lenp_arg)                       \
	{ HT_TLSP_##id, #prog, lib, !strcmp(#op, "FREE") },
#define N_PROBES (int)(sizeof(probe_rows) / sizeof(probe_rows[0]))

struct symbol_row {
	int lib;
	const char *symbol;
	int probe;
	bool ret, required;
};

#define SYMBOL_ROW(lib, symbol, probe, ret, required)                         \
	{ lib, #symbol, HT_TLSP_##probe, ret, required },
static const struct symbol_row symbol_rows[] = { HT_TLS_SYMBOLS(SYMBOL_ROW) };
#define N_SYMBOLS (int)(sizeof(symbol_rows) / sizeof(symbol_rows[0]))

static void test_tls_probes(void)
{
	const struct probe_row probe_rows[] = { HT_TLS_PROBES(PROBE_ROW) };

	CHECK_INT(N_PROBES, HT_TLSP_COUNT);
	for (int i = 0; i < N_PROBES; i++) {
		CHECK_INT(probe_rows[i].id, i);
		CHECK(probe_rows[i].lib == HT_TLS_OPENSSL ||
		      probe_rows[i].lib == HT_TLS_GNUTLS);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(probe_rows[i].prog, probe_rows[j].prog));
	}
}

static void test_tls_symbols(void)
{
	const struct probe_row probe_rows[] = { HT_TLS_PROBES(PROBE_ROW) };
	int required[HT_TLS_LIB_COUNT] = { 0 };

	for (int i = 0; i < N_SYMBOLS; i++) {
		const struct symbol_row *s = &symbol_rows[i];
		const struct probe_row *p;

		CHECK(s->probe >= 0 && s->probe < N_PROBES);
		CHECK(s->lib > HT_TLS_UNKNOWN && s->lib < HT_TLS_LIB_COUNT);
		if (s->probe < 0 || s->probe >= N_PROBES ||
		    s->lib <= HT_TLS_UNKNOWN || s->lib >= HT_TLS_LIB_COUNT)
			continue;
		p = &probe_rows[s->probe];
		/* a probe reads its library's arguments; ending a session
		 * reads only the session, whichever library */
		if (!p->free && p->lib != s->lib)
			fprintf(stderr, "%s goes to a probe of another "
				"library\n", s->symbol);
		CHECK(p->free || p->lib == s->lib);
		/* the return of a free says nothing */
		CHECK(!(p->free && s->ret));
		required[s->lib] += s->required;
		for (int j = 0; j < i; j++)
			CHECK(strcmp(s->symbol, symbol_rows[j].symbol));
	}
	/* a library with no required function would be attached to any
	 * file that defines none of its functions; Go's crypto/tls is
	 * found by go_locate(), not by these symbols */
	for (int lib = HT_TLS_OPENSSL; lib < HT_TLS_LIB_COUNT; lib++)
		CHECK(lib == HT_TLS_GO ? required[lib] == 0 :
					 required[lib] > 0);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_io_syscalls);
	RUN(test_io_values_stable);
	RUN(test_tls_probes);
	RUN(test_tls_symbols);
	return unit_done("boundary_lists");
}
