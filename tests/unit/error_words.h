/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tests' own reading of a timeline's error words: which kind the
 * words say. The pipeline sets each kind where the error happens; the
 * tests check, for every timeline they see, that the words and the kind
 * agree, so that neither drifts from the other.
 */
#ifndef HTTPTRACE_TEST_ERROR_WORDS_H
#define HTTPTRACE_TEST_ERROR_WORDS_H

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "timeline/timeline.h"

/*
 * What the correlator writes, by how it begins; the first match counts.
 * A read or write error ("read: <errno words>") is told by its words,
 * as tl_err_words() gives them for the errnos that have a kind.
 */
static const struct {
	const char *prefix;
	enum tl_error_kind kind;
} error_words[] = {
	{ "lookup ", TL_ERR_DNS_FAILURE },
	{ "connect ", TL_ERR_CONNECT_FAILURE },
	{ "tls: ", TL_ERR_TLS_FAILURE },
	{ "TLS not decoded", TL_ERR_TLS_NOT_DECODED },
	{ "malformed HTTP response", TL_ERR_MALFORMED_RESPONSE },
	{ "connection closed by GOAWAY", TL_ERR_GOAWAY },
	{ "connection closed", TL_ERR_CONNECTION_CLOSED },
	{ "process exited", TL_ERR_PROCESS_EXITED },
	{ "records lost", TL_ERR_RECORDS_LOST },
	{ "request not seen (records lost)", TL_ERR_RECORDS_LOST },
	{ "tracer stopped", TL_ERR_TRACER_STOPPED },
	{ "request not seen", TL_ERR_INCOMPLETE },
	{ "response framing lost", TL_ERR_INCOMPLETE },
	{ "response not told", TL_ERR_INCOMPLETE },
	{ "too many pipelined requests", TL_ERR_INCOMPLETE },
	{ "evicted", TL_ERR_INCOMPLETE },
	{ "connection state lost", TL_ERR_INCOMPLETE },
	{ "stream reset by the ", TL_ERR_STREAM_RESET },
	{ "stream not processed: GOAWAY", TL_ERR_GOAWAY },
	{ "HTTP/2 frames lost", TL_ERR_INCOMPLETE },
	{ "HTTP/2 header block not decoded", TL_ERR_INCOMPLETE },
	{ "HTTP/2 stream state not kept", TL_ERR_INCOMPLETE },
	{ "too many concurrent HTTP/2 streams", TL_ERR_INCOMPLETE },
};

static const int32_t io_errnos[] = { ETIMEDOUT, ECONNRESET, EPIPE };

static enum tl_error_kind io_error_kind(const char *words)
{
	char known[TL_ERR_WORDS_LEN];
	size_t i;

	for (i = 0; i < sizeof(io_errnos) / sizeof(io_errnos[0]); i++) {
		tl_err_words(TL_GotConn, io_errnos[i], known, sizeof(known));
		if (!strcasecmp(words, known))
			return tl_error_kind_errno(TL_GotConn, io_errnos[i]);
	}
	return TL_ERR_IO_ERROR;
}

static enum tl_error_kind error_kind_of_words(const char *words, size_t max)
{
	char text[TL_ERROR_MAX];
	size_t i;

	size_t n = strnlen(words, max < sizeof(text) - 1 ? max :
					  sizeof(text) - 1);

	memcpy(text, words, n);
	text[n] = '\0';
	if (!text[0])
		return TL_ERR_NONE;
	if (!strncmp(text, "read: ", 6))
		return io_error_kind(text + 6);
	if (!strncmp(text, "write: ", 7))
		return io_error_kind(text + 7);
	for (i = 0; i < sizeof(error_words) / sizeof(error_words[0]); i++)
		if (!strncmp(text, error_words[i].prefix,
			     strlen(error_words[i].prefix)))
			return error_words[i].kind;
	return TL_ERR_OTHER;
}

#endif /* HTTPTRACE_TEST_ERROR_WORDS_H */
