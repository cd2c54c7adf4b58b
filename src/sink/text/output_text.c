// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The default human output: where did the time of each request go.
 *
 *   11:30:00.135 curl[1234] GET example.test /index.html -> 200  total 12.345 ms
 *     dns        0.412 ms  #
 *     wait      11.002 ms  ####################################
 *     new connection 127.0.0.1:51234 -> 127.0.0.1:8080
 *
 * A line is printed when its request ends and stamped with that time;
 * a request served by the process says "incoming" after its name.
 */
#include <string.h>
#include <time.h>

#include "sink/text/output_text.h"

#define BAR_COLUMNS 40

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"

struct text_ctx {
	FILE *out;
	bool color;
};

static void color_on(const struct text_ctx *ctx, const char *code)
{
	if (ctx->color)
		fputs(code, ctx->out);
}

static void color_off(const struct text_ctx *ctx)
{
	if (ctx->color)
		fputs(C_RESET, ctx->out);
}

/*
 * Names, targets and errors come from traced processes and their traffic;
 * anything but printable ASCII is shown as \xNN so it can neither break a
 * line nor send escape sequences to the terminal.
 */
static void put_untrusted(const struct text_ctx *ctx, const char *s,
			  size_t max)
{
	size_t i, len = strnlen(s, max);

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f)
			putc(c, ctx->out);
		else
			fprintf(ctx->out, "\\x%02x", c);
	}
}

static bool is_empty(const char *s)
{
	return s[0] == '\0';
}

static void put_local_time(const struct text_ctx *ctx, uint64_t mono_ns,
			   const struct output_opts *opts)
{
	int64_t sec;
	int32_t nsec;
	time_t t;
	struct tm tm;
	char text[16];

	output_wall_time(opts, mono_ns, &sec, &nsec);
	t = (time_t)sec;
	if (!localtime_r(&t, &tm) ||
	    strftime(text, sizeof(text), "%H:%M:%S", &tm) == 0) {
		fputs("??:??:??.???", ctx->out);
		return;
	}
	fprintf(ctx->out, "%s.%03d", text, (int)(nsec / 1000000));
}

static const char *status_color(int status)
{
	if (status >= 500)
		return C_RED;
	if (status >= 400)
		return C_YELLOW;
	if (status >= 200 && status < 300)
		return C_GREEN;
	return C_CYAN;
}

/* The first event that reports a failure, or NULL. */
static const struct tl_event *failed_event(const struct timeline *tl)
{
	uint32_t i, n = tl->n_events < TL_MAX_EVENTS ? tl->n_events :
						       TL_MAX_EVENTS;

	for (i = 0; i < n; i++) {
		if (tl->events[i].err != 0)
			return &tl->events[i];
	}
	return NULL;
}

static const struct tl_event *find_event(const struct timeline *tl,
					 enum tl_hook hook)
{
	uint32_t i, n = tl->n_events < TL_MAX_EVENTS ? tl->n_events :
						       TL_MAX_EVENTS;

	for (i = 0; i < n; i++) {
		if (tl->events[i].hook == hook)
			return &tl->events[i];
	}
	return NULL;
}

static void put_peer(const struct text_ctx *ctx, const struct ht_addr *addr)
{
	char text[TL_ADDR_PORT_STRLEN];

	tl_addr_port_str(addr, text, sizeof(text));
	fputs(text, ctx->out);
}

static bool is_server(const struct timeline *tl)
{
	return tl->role == HT_ROLE_SERVER;
}

/* Where the request went: the peer for a client, the process's own end
 * for a server (the peer is then the client that connected). */
static const struct ht_addr *service_addr(const struct timeline *tl)
{
	return is_server(tl) ? &tl->saddr : &tl->daddr;
}

/* A server reads the request and writes the response: the client's
 * send, wait and receive are its read, handle and write. */
static const char *phase_word(const struct timeline *tl, enum tl_phase phase)
{
	if (is_server(tl)) {
		switch (phase) {
		case TL_PHASE_SEND: return "read";
		case TL_PHASE_WAIT: return "handle";
		case TL_PHASE_RECEIVE: return "write";
		default: break;
		}
	}
	return tl_phase_name(phase);
}

static void put_total(const struct text_ctx *ctx, const struct timeline *tl)
{
	if (tl->phase_us[TL_PHASE_TOTAL] >= 0)
		fprintf(ctx->out, "  total %.3f ms",
			tl->phase_us[TL_PHASE_TOTAL] / 1000.0);
	if (!output_flag(&tl->complete)) {
		fputs("  ", ctx->out);
		color_on(ctx, C_YELLOW);
		fputs("(incomplete)", ctx->out);
		color_off(ctx);
	}
}

/* "GET example.test /index.html -> 200"; a response whose request was
 * not seen: "? 127.0.0.1:8443 -> 200", the error says why; a target that
 * was cut ends in "...[cut]", query values are redacted unless asked
 * for */
static void put_request_header(const struct text_ctx *ctx,
			       const struct timeline *tl,
			       const struct output_opts *opts)
{
	char target[TL_TARGET_TEXT_MAX];

	if (!is_empty(tl->method))
		put_untrusted(ctx, tl->method, sizeof(tl->method));
	else
		putc('?', ctx->out);
	putc(' ', ctx->out);
	if (!is_empty(tl->host))
		put_untrusted(ctx, tl->host, sizeof(tl->host));
	else
		put_peer(ctx, service_addr(tl));
	if (!is_empty(tl->target)) {
		putc(' ', ctx->out);
		tl_target_text(tl->target, sizeof(tl->target),
			       opts && opts->show_query, target);
		put_untrusted(ctx, target, sizeof(target));
		if (output_flag(&tl->target_truncated))
			fputs("...[cut]", ctx->out);
	}
	fputs(" -> ", ctx->out);
	if (tl->status > 0) {
		color_on(ctx, status_color(tl->status));
		fprintf(ctx->out, "%d", tl->status);
		color_off(ctx);
	} else {
		color_on(ctx, C_RED);
		fputs("no response", ctx->out);
		color_off(ctx);
	}
}

/* An HTTP/2 connection: its streams are not decoded, so it has no
 * method or status, but it is HTTP all the same, e.g.
 * "HTTP/2 localhost:8443 -> connection, streams not decoded". */
static bool is_h2(const struct timeline *tl)
{
	return !tl->stream_id &&
	       strncmp(tl->version, "HTTP/2", sizeof(tl->version)) == 0;
}

/* An HTTP/2 stream's line: "  HTTP/2 stream 3, grpc status 5: not
 * found"; the status "not seen" when its trailers were not. */
static void put_h2_stream(const struct text_ctx *ctx,
			  const struct timeline *tl)
{
	fprintf(ctx->out, "  HTTP/2 stream %u", (unsigned int)tl->stream_id);
	if (output_flag(&tl->grpc)) {
		fputs(", grpc status ", ctx->out);
		if (tl->grpc_status >= 0)
			fprintf(ctx->out, "%d", tl->grpc_status);
		else
			fputs("not seen", ctx->out);
		if (output_flag(&tl->grpc_message_seen)) {
			fputs(": ", ctx->out);
			put_untrusted(ctx, tl->grpc_message,
				      sizeof(tl->grpc_message));
		}
	}
	putc('\n', ctx->out);
}

static void put_h2_header(const struct text_ctx *ctx,
			  const struct timeline *tl)
{
	fputs("HTTP/2 ", ctx->out);
	if (!is_empty(tl->host))
		put_untrusted(ctx, tl->host, sizeof(tl->host));
	else
		put_peer(ctx, service_addr(tl));
	fputs(" -> connection, streams not decoded", ctx->out);
}

/* what the connection carried, the only measure of its streams */
static void put_h2_bytes(const struct text_ctx *ctx,
			 const struct timeline *tl)
{
	fprintf(ctx->out, "  bytes %llu from the client, %llu from the server\n",
		(unsigned long long)tl->request_bytes,
		(unsigned long long)tl->response_bytes);
}

/* TLS that no hooked library decrypted (Go, Java, rustls...): what the
 * handshake showed follows on the tls line, e.g.
 * "tls 127.0.0.1:8443 -> TLS not decoded: encrypted by a TLS library the
 * tracer does not hook". */
static bool is_tls_not_decoded(const struct timeline *tl)
{
	return output_flag(&tl->tls.seen) && output_flag(&tl->tls.not_decoded);
}

static void put_tls_not_decoded_header(const struct text_ctx *ctx,
				       const struct timeline *tl)
{
	fputs("tls ", ctx->out);
	put_peer(ctx, &tl->daddr);
	fputs(" -> ", ctx->out);
	color_on(ctx, C_YELLOW);
	put_untrusted(ctx, tl->error, sizeof(tl->error));
	color_off(ctx);
}

/*
 * No request was written: say which step got how far, e.g.
 * "connect 127.0.0.1:1 -> failed: Connection refused". Returns whether
 * the error was shown, so it is not repeated below.
 */
static bool put_no_request_header(const struct text_ctx *ctx,
				  const struct timeline *tl)
{
	const struct tl_event *failed = failed_event(tl);
	const struct tl_event *dns = find_event(tl, TL_DNSStart);
	enum tl_hook step = failed ? failed->hook : TL_ConnectStart;
	char words[TL_ERR_WORDS_LEN];

	if (is_server(tl)) {
		/* accepted, and nothing came that parsed as a request */
		fputs("from ", ctx->out);
		put_peer(ctx, &tl->daddr);
	} else if (step == TL_DNSDone || step == TL_DNSStart ||
		   (!failed && tl->daddr.family == 0 && dns)) {
		fputs("dns ", ctx->out);
		if (dns && !is_empty(dns->host))
			put_untrusted(ctx, dns->host, sizeof(dns->host));
		else
			put_untrusted(ctx, tl->host, sizeof(tl->host));
	} else {
		fputs(step == TL_TLSHandshakeDone ||
			      step == TL_TLSHandshakeStart ? "tls " :
							     "connect ",
		      ctx->out);
		if ((step == TL_ConnectStart || step == TL_ConnectDone) &&
		    failed && failed->n_addrs)
			put_peer(ctx, &failed->addrs[0]);
		else
			put_peer(ctx, &tl->daddr);
	}

	fputs(" -> ", ctx->out);
	if (!is_empty(tl->error) || failed) {
		color_on(ctx, C_RED);
		fputs("failed: ", ctx->out);
		/* the failing hook's own words: tl->error repeats the step
		 * and address this line has already shown */
		if (failed && failed->hook == TL_TLSHandshakeDone &&
		    !is_empty(tl->tls.error))
			put_untrusted(ctx, tl->tls.error, sizeof(tl->tls.error));
		else if (failed)
			fputs(tl_err_words(failed->hook, failed->err, words,
					   sizeof(words)),
			      ctx->out);
		else
			put_untrusted(ctx, tl->error, sizeof(tl->error));
		color_off(ctx);
		return true;
	}
	fputs("no request", ctx->out);
	return false;
}

static void put_phase(const struct text_ctx *ctx, const struct timeline *tl,
		      enum tl_phase phase, int64_t us)
{
	int64_t total = tl->phase_us[TL_PHASE_TOTAL];
	int j, bar;

	fprintf(ctx->out, "  %-8s%8.3f ms", phase_word(tl, phase), us / 1000.0);
	/* In double and clamped before the cast: for nonsense values
	 * us * 40 overflows int64 and the ratio an int. */
	bar = 0;
	if (total > 0) {
		double cols = (double)us * BAR_COLUMNS / total + 0.5;

		bar = cols >= BAR_COLUMNS ? BAR_COLUMNS : (int)cols;
	}
	if (bar > 0) {
		fputs("  ", ctx->out);
		color_on(ctx, C_CYAN);
		for (j = 0; j < bar; j++)
			putc('#', ctx->out);
		color_off(ctx);
	}
	putc('\n', ctx->out);
}

/* The waterfall in the order things happened, idle gaps where they
 * were; a timeline without steps goes by its phases in their order. */
static void put_phases(const struct text_ctx *ctx, const struct timeline *tl)
{
	uint32_t i, n = tl->n_steps < TL_MAX_STEPS ? tl->n_steps :
						     TL_MAX_STEPS;

	for (i = 0; i < n; i++)
		if ((unsigned int)tl->steps[i].phase < TL_PHASE_TOTAL &&
		    tl->steps[i].us >= 0)
			put_phase(ctx, tl, tl->steps[i].phase,
				  tl->steps[i].us);
	if (n)
		return;
	for (i = 0; i < TL_PHASE_TOTAL; i++)
		if (tl->phase_us[i] >= 0)
			put_phase(ctx, tl, i, tl->phase_us[i]);
}

static void put_connection(const struct text_ctx *ctx,
			   const struct timeline *tl)
{
	if (output_flag(&tl->reused)) {
		fputs("  reused connection", ctx->out);
		if (tl->idle_us >= 0)
			fprintf(ctx->out, ", idle %.1f ms",
				tl->idle_us / 1000.0);
	} else if (is_server(tl)) {
		/* the peer connected to the process */
		fputs("  accepted connection ", ctx->out);
		put_peer(ctx, &tl->daddr);
		fputs(" -> ", ctx->out);
		put_peer(ctx, &tl->saddr);
	} else {
		fputs("  new connection ", ctx->out);
		put_peer(ctx, &tl->saddr);
		fputs(" -> ", ctx->out);
		put_peer(ctx, &tl->daddr);
	}
	putc('\n', ctx->out);
	if (output_flag(&tl->tls.seen)) {
		/* "  tls openssl TLSv1.3 TLS_AES_256_GCM_SHA384 sni=x alpn=h2" */
		fputs("  tls", ctx->out);
		if (!is_empty(tl->tls.lib)) {
			putc(' ', ctx->out);
			put_untrusted(ctx, tl->tls.lib, sizeof(tl->tls.lib));
		}
		if (!is_empty(tl->tls.version)) {
			putc(' ', ctx->out);
			put_untrusted(ctx, tl->tls.version,
				      sizeof(tl->tls.version));
		}
		if (!is_empty(tl->tls.cipher)) {
			putc(' ', ctx->out);
			put_untrusted(ctx, tl->tls.cipher,
				      sizeof(tl->tls.cipher));
		}
		if (!is_empty(tl->tls.sni)) {
			fputs(" sni=", ctx->out);
			put_untrusted(ctx, tl->tls.sni, sizeof(tl->tls.sni));
		}
		if (!is_empty(tl->tls.alpn)) {
			fputs(" alpn=", ctx->out);
			put_untrusted(ctx, tl->tls.alpn, sizeof(tl->tls.alpn));
			if (output_flag(&tl->tls.alpn_inferred))
				fputs("? (inferred)", ctx->out);
		} else if (!is_empty(tl->tls.alpn_offered)) {
			/* the server's choice is not known */
			fputs(" alpn offered=", ctx->out);
			put_untrusted(ctx, tl->tls.alpn_offered,
				      sizeof(tl->tls.alpn_offered));
		}
		putc('\n', ctx->out);
	}
}

void output_text(FILE *out, const struct timeline *tl,
		 const struct output_opts *opts,
		 struct output_text_state *state)
{
	struct text_ctx ctx = {
		.out = out,
		.color = state && output_flag(&state->color),
	};
	bool h2 = is_h2(tl);
	bool not_decoded = is_tls_not_decoded(tl);
	/* a status without a method: the response of an unseen request */
	bool have_request = !is_empty(tl->method) ||
			    (tl->status > 0 && !h2) || tl->stream_id;
	bool error_shown = false;
	uint64_t *last = state && output_flag(&state->ordered_stamps) ?
			 &state->last_stamp_ns : NULL;
	uint64_t stamp = tl->end_ns > tl->start_ns ? tl->end_ns : tl->start_ns;
	bool late = last && *last > stamp;

	/* Lines come as requests end. One whose end was found out only
	 * later (process exit, tracer stopped, framing lost) keeps the
	 * stamps in order and says when it ended. */
	if (late)
		stamp = *last;
	else if (last)
		*last = stamp;
	put_local_time(&ctx, stamp, opts);
	putc(' ', out);
	color_on(&ctx, C_BOLD);
	put_untrusted(&ctx, tl->comm, sizeof(tl->comm));
	color_off(&ctx);
	/* a container by its runtime and short id, as `docker ps` shows
	 * it; a pod (no container named) by its uid */
	if (tl->container.id[0])
		fprintf(out, "[%u %.15s:%.12s] ", (unsigned int)tl->pid,
			tl->container.runtime, tl->container.id);
	else if (tl->container.pod_uid[0])
		fprintf(out, "[%u pod:%.36s] ", (unsigned int)tl->pid,
			tl->container.pod_uid);
	else
		fprintf(out, "[%u] ", (unsigned int)tl->pid);
	if (is_server(tl)) {
		color_on(&ctx, C_BOLD);
		fputs("incoming ", out);
		color_off(&ctx);
	}
	if (have_request)
		put_request_header(&ctx, tl, opts);
	else if (h2)
		put_h2_header(&ctx, tl);
	else if (not_decoded)
		put_tls_not_decoded_header(&ctx, tl);
	else
		error_shown = put_no_request_header(&ctx, tl);
	error_shown = error_shown || not_decoded;
	put_total(&ctx, tl);
	if (late) {
		fputs("  (ended ", out);
		put_local_time(&ctx, tl->end_ns, opts);
		putc(')', out);
	}
	putc('\n', out);

	put_phases(&ctx, tl);
	/* Without a request the header already names the peer. */
	if (have_request || h2 || not_decoded)
		put_connection(&ctx, tl);
	if (h2)
		put_h2_bytes(&ctx, tl);
	else if (tl->stream_id)
		put_h2_stream(&ctx, tl);
	if (!error_shown && !is_empty(tl->error)) {
		fputs("  ", out);
		color_on(&ctx, C_RED);
		fputs("error: ", out);
		put_untrusted(&ctx, tl->error, sizeof(tl->error));
		color_off(&ctx);
		putc('\n', out);
	}
	if (opts && opts->flush)
		fflush(out);
}
