/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libcurl, opened when an OTLP endpoint is first configured instead of
 * linked: the tracer without --otlp-endpoint does not map libcurl and
 * the thirty libraries it brings (about 5 MiB of its RSS, and their
 * loading at every start), and runs on a host where libcurl is not
 * installed at all. The headers are still the build's (types,
 * constants); the functions are reached through this table.
 */
#ifndef HTTPTRACE_OTLP_CURL_H
#define HTTPTRACE_OTLP_CURL_H

#ifndef OTLP_NO_CURL
#include <stddef.h>
#include <time.h>
#include <curl/curl.h>

/* member, return type, parameters: the libcurl functions the exporter
 * calls, each curl_<member> in the library */
#define OTLP_CURL_FUNCS(X)                                                   \
	X(global_init, CURLcode, (long flags))                               \
	X(easy_init, CURL *, (void))                                         \
	X(easy_setopt, CURLcode, (CURL *curl, CURLoption option, ...))       \
	X(easy_perform, CURLcode, (CURL *curl))                              \
	X(easy_getinfo, CURLcode, (CURL *curl, CURLINFO info, ...))          \
	X(easy_cleanup, void, (CURL *curl))                                  \
	X(easy_strerror, const char *, (CURLcode code))                      \
	X(slist_append, struct curl_slist *,                                 \
	  (struct curl_slist *list, const char *s))                          \
	X(slist_free_all, void, (struct curl_slist *list))                   \
	X(url, CURLU *, (void))                                              \
	X(url_set, CURLUcode,                                                \
	  (CURLU *u, CURLUPart what, const char *part, unsigned int flags))  \
	X(url_get, CURLUcode,                                                \
	  (CURLU *u, CURLUPart what, char **part, unsigned int flags))       \
	X(url_cleanup, void, (CURLU *u))                                     \
	X(url_strerror, const char *, (CURLUcode code))                      \
	X(free, void, (void *p))                                             \
	X(getdate, time_t, (const char *p, const time_t *unused))

struct otlp_curl {
#define OTLP_CURL_MEMBER(name, ret, params) ret (*name) params;
	OTLP_CURL_FUNCS(OTLP_CURL_MEMBER)
#undef OTLP_CURL_MEMBER
};

/*
 * libcurl's functions, the library opened and curl_global_init() run
 * the first time (thread-safe); NULL when it could not be, with the
 * reason in err (err may be NULL).
 */
const struct otlp_curl *otlp_curl(char *err, size_t err_size);

#endif /* OTLP_NO_CURL */
#endif /* HTTPTRACE_OTLP_CURL_H */
