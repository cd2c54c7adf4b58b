// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "sink/otlp/otlp_curl.h"

/* a build without libcurl (OTLP_NO_CURL) has no exporter */
#ifndef OTLP_NO_CURL

/* Debian's and Ubuntu's sonames: the OpenSSL build, then the GnuTLS
 * one (the same API) */
static const char *const sonames[] = { "libcurl.so.4", "libcurl-gnutls.so.4" };

static struct otlp_curl table;
static const struct otlp_curl *loaded;
static char why[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* All of the table from h; false with the reason in why when one is
 * missing. */
static bool resolve(void *h, const char *soname)
{
#define OTLP_CURL_RESOLVE(name, ret, params)                                 \
	*(void **)&table.name = dlsym(h, "curl_" #name);                     \
	if (!table.name) {                                                   \
		snprintf(why, sizeof(why), "%s has no curl_%s: too old",     \
			 soname, #name);                                     \
		return false;                                                \
	}
	OTLP_CURL_FUNCS(OTLP_CURL_RESOLVE)
#undef OTLP_CURL_RESOLVE
	return true;
}

static void load(void)
{
	CURLcode rc;

	for (size_t i = 0; i < sizeof(sonames) / sizeof(sonames[0]); i++) {
		void *h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);

		if (!h) {
			/* the first build's reason is the one to tell */
			if (!why[0])
				snprintf(why, sizeof(why), "libcurl could not "
					 "be loaded (%s); install it (Debian, "
					 "Ubuntu: apt-get install libcurl4)",
					 dlerror());
			continue;
		}
		if (!resolve(h, sonames[i])) {
			dlclose(h);
			continue;
		}
		rc = table.global_init(CURL_GLOBAL_DEFAULT);
		if (rc != CURLE_OK) {
			snprintf(why, sizeof(why), "libcurl: %s",
				 table.easy_strerror(rc));
			return;
		}
		/* never closed: the exporter's thread may use it until
		 * exit */
		loaded = &table;
		return;
	}
}

const struct otlp_curl *otlp_curl(char *err, size_t err_size)
{
	pthread_once(&once, load);
	if (!loaded && err && err_size)
		snprintf(err, err_size, "%s", why);
	return loaded;
}
#endif /* OTLP_NO_CURL */
