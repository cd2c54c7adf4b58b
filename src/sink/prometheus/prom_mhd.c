// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "sink/prometheus/prom_mhd.h"

/* a build without libmicrohttpd's header (PROM_NO_MHD) has no server */
#ifndef PROM_NO_MHD

static struct prom_mhd table;
static const struct prom_mhd *loaded;
static char why[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	/* Debian's and Ubuntu's soname since 0.9.71 */
	void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(why, sizeof(why), "libmicrohttpd could not be loaded "
			 "(%s); install it (Debian, Ubuntu: apt-get install "
			 "libmicrohttpd12)", dlerror());
		return;
	}
#define PROM_MHD_RESOLVE(name, ret, params)                                  \
	*(void **)&table.name = dlsym(h, "MHD_" #name);                      \
	if (!table.name) {                                                   \
		snprintf(why, sizeof(why), "libmicrohttpd has no MHD_%s: "   \
			 "too old", #name);                                  \
		return;                                                      \
	}
	PROM_MHD_FUNCS(PROM_MHD_RESOLVE)
#undef PROM_MHD_RESOLVE
	/* never closed: the server's thread may use it until exit */
	loaded = &table;
}

const struct prom_mhd *prom_mhd(char *err, size_t err_size)
{
	pthread_once(&once, load);
	if (!loaded && err && err_size)
		snprintf(err, err_size, "%s", why);
	return loaded;
}
#endif /* PROM_NO_MHD */
