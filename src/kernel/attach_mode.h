/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How the kernel-side connect and accept programs attach (see
 * kernel/features.h for which a kernel offers). Header only: the
 * options (cli/) name a mode without linking the kernel layer.
 */
#ifndef HTTPTRACE_ATTACH_MODE_H
#define HTTPTRACE_ATTACH_MODE_H

/* X(ENUM suffix, word): the words are --attach-mode's and --probe's. */
#define ATTACH_MODES(X)                  \
	X(AUTO, "auto")                  \
	X(FENTRY, "fentry")              \
	X(KPROBE, "kprobe")              \
	X(TRACEPOINT, "tracepoint")

enum attach_mode {
#define ATTACH_MODE_ENUM(name, word) ATTACH_##name,
	ATTACH_MODES(ATTACH_MODE_ENUM)
#undef ATTACH_MODE_ENUM
	ATTACH_MODE_COUNT,
};

static inline const char *attach_mode_name(enum attach_mode mode)
{
	static const char *const words[] = {
#define ATTACH_MODE_WORD(name, word) [ATTACH_##name] = word,
		ATTACH_MODES(ATTACH_MODE_WORD)
#undef ATTACH_MODE_WORD
	};

	return (unsigned)mode < ATTACH_MODE_COUNT ? words[mode] : "auto";
}

#endif /* HTTPTRACE_ATTACH_MODE_H */
