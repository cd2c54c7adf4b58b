// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "sink/otlp/otlp_curl.h"

/* Debian's and Ubuntu's sonames: the OpenSSL build, then the GnuTLS
 * one (the same API) */
static const char *const sonames[] = { "libcurl.so.4", "libcurl-gnutls.so.4" };

static struct otlp_curl table;
static const struct otlp_curl *loaded;
static char why[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = NULL;
	CURLcode rc;

	for (size_t i = 0; !h && i < sizeof(sonames) / sizeof(sonames[0]); i++)
		h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, sizeof(why), "libcurl could not be loaded (%s); "
			 "install it (Debian, Ubuntu: apt-get install libcurl4)",
			 dlerror());
		return;
	}
#define OTLP_CURL_RESOLVE(name, ret, params)                                 \
	*(void **)&table.name = dlsym(h, "curl_" #name);                     \
	if (!table.name) {                                                   \
		snprintf(why, sizeof(why), "libcurl has no curl_%s: too "    \
			 "old", #name);                                     \
		return;                                                      \
	}
	OTLP_CURL_FUNCS(OTLP_CURL_RESOLVE)
#undef OTLP_CURL_RESOLVE
	rc = table.global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		snprintf(why, sizeof(why), "libcurl: %s",
			 table.easy_strerror(rc));
		return;
	}
	/* never closed: the exporter's thread may use it until exit */
	loaded = &table;
}

const struct otlp_curl *otlp_curl(char *err, size_t err_size)
{
	pthread_once(&once, load);
	if (!loaded && err && err_size)
		snprintf(err, err_size, "%s", why);
	return loaded;
}
