// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The closed set of error kinds: labels, errnos, the correlator's words. */
#include <errno.h>
#include <netdb.h>

#include "unit.h"
#include "error_words.h"
#include "timeline/timeline.h"

static void test_labels(void)
{
	int k, j;

	CHECK_STR(tl_error_label(TL_ERR_NONE), "");
	CHECK_STR(tl_error_label(TL_ERR_DNS_FAILURE), "dns_failure");
	CHECK_STR(tl_error_label(TL_ERR_CONNECT_REFUSED), "connect_refused");
	CHECK_STR(tl_error_label(TL_ERR_TIMEOUT), "timeout");
	CHECK_STR(tl_error_label(TL_ERR_RESET), "reset");
	CHECK_STR(tl_error_label(TL_ERR_TLS_FAILURE), "tls_failure");
	CHECK_STR(tl_error_label(TL_ERR_INCOMPLETE), "incomplete");
	CHECK_STR(tl_error_label(TL_ERR_STREAM_RESET), "stream_reset");
	CHECK_STR(tl_error_label(TL_ERR_GOAWAY), "goaway");
	CHECK_STR(tl_error_label(TL_ERROR_KIND_COUNT), "other");
	CHECK_STR(tl_error_label((enum tl_error_kind)-1), "other");
	/* every kind has a label of its own, fit for a metric label */
	for (k = 1; k < TL_ERROR_KIND_COUNT; k++) {
		const char *l = tl_error_label(k);

		CHECK(l[0] != '\0');
		CHECK(strspn(l, "abcdefghijklmnopqrstuvwxyz_") == strlen(l));
		for (j = 1; j < k; j++)
			CHECK(strcmp(l, tl_error_label(j)) != 0);
	}
}

static void test_kind_of_errno(void)
{
	CHECK_INT(tl_error_kind_errno(TL_ConnectDone, 0), TL_ERR_NONE);
	CHECK_INT(tl_error_kind_errno(TL_ConnectDone, ECONNREFUSED),
		  TL_ERR_CONNECT_REFUSED);
	CHECK_INT(tl_error_kind_errno(TL_ConnectDone, -ECONNREFUSED),
		  TL_ERR_CONNECT_REFUSED);
	CHECK_INT(tl_error_kind_errno(TL_ConnectDone, ETIMEDOUT),
		  TL_ERR_TIMEOUT);
	CHECK_INT(tl_error_kind_errno(TL_ConnectDone, ENETUNREACH),
		  TL_ERR_CONNECT_FAILURE);
	CHECK_INT(tl_error_kind_errno(TL_DNSDone, EAI_NONAME),
		  TL_ERR_DNS_FAILURE);
	CHECK_INT(tl_error_kind_errno(TL_TLSHandshakeDone, EPROTO),
		  TL_ERR_TLS_FAILURE);
	CHECK_INT(tl_error_kind_errno(TL_GotConn, ECONNRESET), TL_ERR_RESET);
	CHECK_INT(tl_error_kind_errno(TL_GotConn, EPIPE), TL_ERR_RESET);
	CHECK_INT(tl_error_kind_errno(TL_GotConn, EIO), TL_ERR_IO_ERROR);
	CHECK_INT(tl_error_kind_errno(TL_GotConn, INT32_MIN),
		  TL_ERR_IO_ERROR);
}

/* the words as the correlator writes them (src/pipeline/) */
static void test_kind_of_words(void)
{
	static const struct {
		const char *words;
		enum tl_error_kind kind;
	} cases[] = {
		{ "", TL_ERR_NONE },
		{ "lookup nx.test: Name or service not known",
		  TL_ERR_DNS_FAILURE },
		{ "connect 127.0.0.1:1: connection refused",
		  TL_ERR_CONNECT_FAILURE },
		{ "tls: handshake failed: received alert handshake_failure",
		  TL_ERR_TLS_FAILURE },
		{ "TLS not decoded: encrypted by a TLS library the tracer "
		  "does not hook", TL_ERR_TLS_NOT_DECODED },
		{ "malformed HTTP response", TL_ERR_MALFORMED_RESPONSE },
		{ "connection closed", TL_ERR_CONNECTION_CLOSED },
		{ "connection closed by peer mid-response",
		  TL_ERR_CONNECTION_CLOSED },
		{ "connection closed by the process before response",
		  TL_ERR_CONNECTION_CLOSED },
		{ "process exited mid-request", TL_ERR_PROCESS_EXITED },
		{ "records lost", TL_ERR_RECORDS_LOST },
		{ "records lost: connection addresses unknown",
		  TL_ERR_RECORDS_LOST },
		{ "request not seen (records lost)", TL_ERR_RECORDS_LOST },
		{ "request not seen", TL_ERR_INCOMPLETE },
		{ "tracer stopped before the request finished",
		  TL_ERR_TRACER_STOPPED },
		{ "too many pipelined requests", TL_ERR_INCOMPLETE },
		{ "response framing lost with requests pipelined",
		  TL_ERR_INCOMPLETE },
		{ "response not told from the one to bytes that were not HTTP",
		  TL_ERR_INCOMPLETE },
		{ "evicted", TL_ERR_INCOMPLETE },
		{ "connection state lost", TL_ERR_INCOMPLETE },
		{ "read: connection reset by peer", TL_ERR_RESET },
		{ "write: broken pipe", TL_ERR_RESET },
		{ "read: connection timed out", TL_ERR_TIMEOUT },
		{ "read: input/output error", TL_ERR_IO_ERROR },
		{ "something new", TL_ERR_OTHER },
	};
	char unterminated[4] = { 'r', 'e', 'c', 'o' };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum tl_error_kind got =
			error_kind_of_words(cases[i].words, TL_ERROR_MAX);

		if (got != cases[i].kind)
			fprintf(stderr, "words \"%s\"\n", cases[i].words);
		CHECK_INT(got, cases[i].kind);
	}
	/* read only up to max */
	CHECK_INT(error_kind_of_words(unterminated, sizeof(unterminated)),
		  TL_ERR_OTHER);
}

int main(int argc, char **argv)
{
	unit_args(argc, argv);
	RUN(test_labels);
	RUN(test_kind_of_errno);
	RUN(test_kind_of_words);
	return unit_done("timeline_error");
}
