// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "proto/http2/h2_elided.h"

bool h2_record_pieces(uint16_t flags, const uint8_t *data,
		      size_t captured_len, uint64_t ret, h2_piece_fn fn,
		      void *user)
{
	struct ht_elided_run run;
	const uint8_t *runs;
	size_t kept, k = 0;
	uint64_t pos = 0;
	uint32_t n;

	if (!(flags & HT_DATA_ELIDED)) {
		fn(user, data, captured_len, ret);
		return true;
	}
	if (captured_len < sizeof(n))
		goto bad;
	memcpy(&n, data + captured_len - sizeof(n), sizeof(n));
	if (n == 0 || n > HT_ELIDED_MAX_RUNS ||
	    (size_t)n * sizeof(run) > captured_len - sizeof(n))
		goto bad;
	kept = captured_len - sizeof(n) - (size_t)n * sizeof(run);
	runs = data + kept;
	/* check the whole layout before the first piece goes out */
	for (uint32_t i = 0; i < n; i++) {
		memcpy(&run, runs + i * sizeof(run), sizeof(run));
		if (run.at < pos || (i && run.at == pos) || run.len == 0 ||
		    run.at + (uint64_t)run.len > ret ||
		    k + (run.at - pos) > kept)
			goto bad;
		k += run.at - pos;
		pos = run.at + (uint64_t)run.len;
	}
	if (pos + (kept - k) > ret)
		goto bad;
	k = 0;
	pos = 0;
	for (uint32_t i = 0; i < n; i++) {
		memcpy(&run, runs + i * sizeof(run), sizeof(run));
		if (run.at > pos)
			fn(user, data + k, run.at - pos, run.at - pos);
		k += run.at - pos;
		fn(user, data + k, 0, run.len);
		pos = run.at + (uint64_t)run.len;
	}
	if (kept > k)
		fn(user, data + k, kept - k, kept - k);
	pos += kept - k;
	if (pos < ret)
		fn(user, data + kept, 0, ret - pos);
	return true;
bad:
	fn(user, data, 0, ret);
	return false;
}
