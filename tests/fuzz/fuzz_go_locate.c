// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for go_locate on file images (any file the tracer
 * meets may be read as a Go program), and the version parser. Seeds
 * (tests/fuzz/corpus/fuzz_go_locate) are the small images of
 * tests/unit/go_images.h: each table format, with and without section
 * names, old and new build information, a truncated function table.
 *
 * Invariants: a documented return code; the version NUL-terminated;
 * each function found has its RETs inside its bounds, in order, at most
 * GO_MAX_RETS; a found function lies inside the image.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "discover/go_locate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct go_binary b;
	int ret = go_locate_mem(data, size, &b);

	if (ret != 0 && ret != -ENOEXEC && ret != -ENOENT &&
	    ret != -EBADMSG && ret != -EPROTONOSUPPORT)
		abort();
	if (strnlen(b.version, sizeof(b.version)) >= sizeof(b.version))
		abort();
	if (ret == 0 && (b.major < GO_MIN_MAJOR ||
			 (b.major == GO_MIN_MAJOR && b.minor < GO_MIN_MINOR)))
		abort();
	if (ret && ret != -EPROTONOSUPPORT && ret != -EBADMSG &&
	    b.version[0])
		abort();
	if (ret != 0 && !b.why)
		abort();
	for (int k = 0; k < GO_FN_COUNT; k++) {
		const struct go_func_loc *f = &b.funcs[k];

		if (f->n_rets < 0 || f->n_rets > GO_MAX_RETS)
			abort();
		if (!f->found)
			continue;
		if (ret != 0 || f->size == 0 || f->entry > size ||
		    f->size > size - f->entry)
			abort();
		for (int r = 0; r < f->n_rets; r++)
			if (f->rets[r] < f->entry ||
			    f->rets[r] >= f->entry + f->size ||
			    (r && f->rets[r] <= f->rets[r - 1]))
				abort();
	}
	if (size < 64) {
		char v[64];
		int major, minor;

		memcpy(v, data, size);
		v[size] = '\0';
		if (go_locate_parse_version(v, &major, &minor) == 0 &&
		    major < 0)
			abort();
	}
	return 0;
}
