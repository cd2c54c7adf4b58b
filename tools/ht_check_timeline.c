/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ht_check_timeline: checks the tracer's --json output for one case of the
 * kernel matrix (tests/kernels), where there is no python: the same checks
 * as the host end-to-end tests (tests/e2e/e2e.py) make for these cases.
 *
 *   ht_check_timeline --case CASE [--pid PID] [--port PORT]
 *                     [--target PATH] [--client-out FILE] [--verbose]
 *                     TRACER.json
 *
 * Cases (PID is the fixture client's pid unless said otherwise):
 *   new      ht_test_client --mode single PATH to 127.0.0.1:PORT: one
 *            complete 200 timeline, every client hook in order, conn not
 *            reused, daddr 127.0.0.1, dport PORT, ConnectStart/ConnectDone
 *            addr 127.0.0.1:PORT; times checked loosely
 *            against the client's own line (--client-out)
 *   reused   --mode keepalive PATH 2: two timelines on one connection
 *            (same sport), the first not reused, the second reused with an
 *            idle time, no ConnectStart and no connect phase
 *   refused  a connect to 127.0.0.1:PORT where nothing listens: one
 *            timeline whose error and ConnectDone.err say "refused", no
 *            HTTP status, dport PORT
 *   ipv6     like new, to [::1]:PORT: saddr and daddr ::1, network tcp6
 *   server   PID is the fixture server's: exactly one timeline with
 *            http.target PATH, role server, sport PORT, status 200
 *   dns      --connect NAME:PORT, NAME resolved by getaddrinfo from
 *            /etc/hosts to 127.0.0.1 (--host NAME): a complete 200
 *            timeline with DNSStart{host NAME}, DNSDone{addrs has
 *            127.0.0.1, no err} before ConnectStart, a dns phase, and
 *            http.host NAME:PORT
 *
 * Prints "PASS" or "FAIL <reason>[; <reason>...]" on one line and exits 0
 * or 1 (2 on usage errors). --verbose prints the timelines it looked at on
 * stderr. Only libc, so it links with -static.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- a small JSON reader ------------------------------------------------ */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype type;
	bool b;
	double num;
	char *str;            /* J_STR */
	struct jv **items;    /* J_ARR, J_OBJ values */
	char **keys;          /* J_OBJ */
	size_t n;
};

struct jp {
	const char *s;
	int depth;
	bool err;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "ht_check_timeline: out of memory\n");
		exit(2);
	}
	return p;
}

static void ws(struct jp *p)
{
	while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')
		p->s++;
}

static struct jv *jnew(enum jtype t)
{
	struct jv *v = xrealloc(NULL, sizeof(*v));

	memset(v, 0, sizeof(*v));
	v->type = t;
	return v;
}

static void put_utf8(char **buf, size_t *len, unsigned cp)
{
	char tmp[4];
	size_t n;

	if (cp < 0x80) {
		tmp[0] = (char)cp; n = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xc0 | cp >> 6);
		tmp[1] = (char)(0x80 | (cp & 0x3f)); n = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (char)(0xe0 | cp >> 12);
		tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (cp & 0x3f)); n = 3;
	} else {
		tmp[0] = (char)(0xf0 | cp >> 18);
		tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[3] = (char)(0x80 | (cp & 0x3f)); n = 4;
	}
	*buf = xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, tmp, n);
	*len += n;
}

static char *jstring(struct jp *p)
{
	char *buf = xrealloc(NULL, 1);
	size_t len = 0;

	p->s++; /* opening quote */
	for (;;) {
		unsigned char c = (unsigned char)*p->s;

		if (c == 0 || c < 0x20) {
			p->err = true;
			break;
		}
		p->s++;
		if (c == '"')
			break;
		if (c != '\\') {
			buf = xrealloc(buf, len + 2); /* raw byte, as is */
			buf[len++] = (char)c;
			continue;
		}
		c = (unsigned char)*p->s++;
		switch (c) {
		case '"': case '\\': case '/':
			put_utf8(&buf, &len, c); break;
		case 'b': put_utf8(&buf, &len, '\b'); break;
		case 'f': put_utf8(&buf, &len, '\f'); break;
		case 'n': put_utf8(&buf, &len, '\n'); break;
		case 'r': put_utf8(&buf, &len, '\r'); break;
		case 't': put_utf8(&buf, &len, '\t'); break;
		case 'u': {
			unsigned cp = 0;

			for (int i = 0; i < 4; i++) {
				char h = *p->s++;

				cp <<= 4;
				if (h >= '0' && h <= '9')
					cp |= (unsigned)(h - '0');
				else if (h >= 'a' && h <= 'f')
					cp |= (unsigned)(h - 'a' + 10);
				else if (h >= 'A' && h <= 'F')
					cp |= (unsigned)(h - 'A' + 10);
				else {
					p->err = true;
					goto out;
				}
			}
			put_utf8(&buf, &len, cp);
			break;
		}
		default:
			p->err = true;
			goto out;
		}
	}
out:
	buf[len] = 0;
	return buf;
}

static struct jv *jvalue(struct jp *p);

static struct jv *jcontainer(struct jp *p, bool obj)
{
	struct jv *v = jnew(obj ? J_OBJ : J_ARR);
	char close = obj ? '}' : ']';

	if (++p->depth > 64) {
		p->err = true;
		return v;
	}
	p->s++;
	ws(p);
	if (*p->s == close) {
		p->s++;
		p->depth--;
		return v;
	}
	for (;;) {
		char *key = NULL;

		ws(p);
		if (obj) {
			if (*p->s != '"') {
				p->err = true;
				return v;
			}
			key = jstring(p);
			ws(p);
			if (*p->s != ':') {
				p->err = true;
				return v;
			}
			p->s++;
		}
		v->items = xrealloc(v->items, (v->n + 1) * sizeof(*v->items));
		v->keys = xrealloc(v->keys, (v->n + 1) * sizeof(*v->keys));
		v->keys[v->n] = key;
		v->items[v->n++] = jvalue(p);
		if (p->err)
			return v;
		ws(p);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s == close) {
			p->s++;
			p->depth--;
			return v;
		}
		p->err = true;
		return v;
	}
}

static struct jv *jvalue(struct jp *p)
{
	struct jv *v;
	char *end;

	ws(p);
	switch (*p->s) {
	case '{':
		return jcontainer(p, true);
	case '[':
		return jcontainer(p, false);
	case '"':
		v = jnew(J_STR);
		v->str = jstring(p);
		return v;
	case 't':
	case 'f':
		v = jnew(J_BOOL);
		v->b = *p->s == 't';
		if (strncmp(p->s, v->b ? "true" : "false", v->b ? 4 : 5))
			p->err = true;
		else
			p->s += v->b ? 4 : 5;
		return v;
	case 'n':
		v = jnew(J_NULL);
		if (strncmp(p->s, "null", 4))
			p->err = true;
		else
			p->s += 4;
		return v;
	default:
		v = jnew(J_NUM);
		errno = 0;
		v->num = strtod(p->s, &end);
		if (end == p->s || errno)
			p->err = true;
		p->s = end;
		return v;
	}
}

static struct jv *jparse(const char *s)
{
	struct jp p = { .s = s };
	struct jv *v = jvalue(&p);

	ws(&p);
	if (p.err || *p.s || v->type != J_OBJ)
		return NULL;
	return v;
}

static struct jv *jget(const struct jv *v, const char *key)
{
	if (!v || v->type != J_OBJ)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->keys[i], key))
			return v->items[i];
	return NULL;
}

static struct jv *jget2(const struct jv *v, const char *a, const char *b)
{
	return jget(jget(v, a), b);
}

static bool jis_null(const struct jv *v)
{
	return !v || v->type == J_NULL;
}

static bool jint(const struct jv *v, long long *out)
{
	if (!v || v->type != J_NUM)
		return false;
	*out = (long long)v->num;
	return true;
}

static const char *jstr(const struct jv *v)
{
	return v && v->type == J_STR ? v->str : NULL;
}

/* ---- checks ------------------------------------------------------------- */

#define MAX_TL 256

static char reasons[4096];
static int n_reasons;

static __attribute__((format(printf, 1, 2))) void fail(const char *fmt, ...)
{
	size_t used = strlen(reasons);
	va_list ap;

	if (used + 8 >= sizeof(reasons))
		return;
	if (n_reasons++)
		used += (size_t)snprintf(reasons + used, sizeof(reasons) - used,
					 "; ");
	va_start(ap, fmt);
	vsnprintf(reasons + used, sizeof(reasons) - used, fmt, ap);
	va_end(ap);
}

static void check_str(const struct jv *tl, const char *a, const char *b,
		      const char *want, const char *what)
{
	const char *got = jstr(b ? jget2(tl, a, b) : jget(tl, a));

	if (!want) {
		if (!jis_null(b ? jget2(tl, a, b) : jget(tl, a)))
			fail("%s: got %s, want null", what, got ? got : "?");
		return;
	}
	if (!got || strcmp(got, want))
		fail("%s: got %s, want %s", what, got ? got : "null", want);
}

static void check_int(const struct jv *tl, const char *a, const char *b,
		      long long want, const char *what)
{
	long long got;

	if (!jint(b ? jget2(tl, a, b) : jget(tl, a), &got))
		fail("%s: got null, want %lld", what, want);
	else if (got != want)
		fail("%s: got %lld, want %lld", what, got, want);
}

static void check_bool(const struct jv *tl, const char *a, const char *b,
		       bool want, const char *what)
{
	const struct jv *v = b ? jget2(tl, a, b) : jget(tl, a);

	if (!v || v->type != J_BOOL)
		fail("%s: not a bool, want %s", what, want ? "true" : "false");
	else if (v->b != want)
		fail("%s: got %s", what, v->b ? "true" : "false");
}

static const struct jv *event(const struct jv *tl, const char *hook)
{
	const struct jv *evs = jget(tl, "events");

	if (!evs || evs->type != J_ARR)
		return NULL;
	for (size_t i = 0; i < evs->n; i++) {
		const char *h = jstr(jget(evs->items[i], "hook"));

		if (h && !strcmp(h, hook))
			return evs->items[i];
	}
	return NULL;
}

static long long event_t(const struct jv *tl, const char *hook)
{
	long long t;

	return jint(jget(event(tl, hook), "t_us"), &t) ? t : -1;
}

/* "GetConn,ConnectStart,..." */
static void hooks_str(const struct jv *tl, char *buf, size_t len)
{
	const struct jv *evs = jget(tl, "events");
	size_t used = 0;

	buf[0] = 0;
	if (!evs || evs->type != J_ARR)
		return;
	for (size_t i = 0; i < evs->n && used + 1 < len; i++) {
		const char *h = jstr(jget(evs->items[i], "hook"));

		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? "," : "", h ? h : "?");
	}
}

static const char *const top_keys[] = { "ts", "pid", "tid", "comm", "role",
	"conn", "http", "phases_us", "events", "error", "complete", "bytes" };
static const char *const phases[] = { "dns", "connect", "tls", "send",
	"wait", "receive", "total" };

/* Shape, and event times never go backwards. */
static void check_common(const struct jv *tl, const char *what)
{
	const struct jv *evs = jget(tl, "events");
	long long prev = -(1LL << 62), t;

	for (size_t i = 0; i < sizeof(top_keys) / sizeof(top_keys[0]); i++)
		if (!jget(tl, top_keys[i]))
			fail("%s: missing key %s", what, top_keys[i]);
	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		const struct jv *ph = jget2(tl, "phases_us", phases[i]);

		if (!ph)
			fail("%s: phases_us.%s missing", what, phases[i]);
		else if (!jis_null(ph) && (!jint(ph, &t) || t < 0))
			fail("%s: phases_us.%s bad", what, phases[i]);
	}
	if (!evs || evs->type != J_ARR) {
		fail("%s: events is not an array", what);
		return;
	}
	for (size_t i = 0; i < evs->n; i++) {
		if (!jint(jget(evs->items[i], "t_us"), &t)) {
			fail("%s: event %zu has no t_us", what, i);
			return;
		}
		if (t < prev) {
			fail("%s: event t_us out of order at %zu", what, i);
			return;
		}
		prev = t;
	}
}

static void check_ok_get(const struct jv *tl, const char *what,
			 const char *target, const char *role)
{
	check_common(tl, what);
	check_str(tl, "role", NULL, role, "role");
	check_str(tl, "http", "method", "GET", "http.method");
	check_str(tl, "http", "target", target, "http.target");
	check_int(tl, "http", "status", 200, "http.status");
	check_bool(tl, "complete", NULL, true, "complete");
	check_str(tl, "error", NULL, NULL, "error");
}

static const char CLIENT_HOOKS[] = "GetConn,ConnectStart,ConnectDone,GotConn,"
	"WroteHeaders,WroteRequest,GotFirstResponseByte,PutIdleConn";

/* The client's first "status=... connect_us=..." line. */
struct client_line {
	bool have;
	long long status, bytes, connect_us, first_byte_us, total_us;
};

static struct client_line read_client(const char *path)
{
	struct client_line c = { 0 };
	char line[512];
	FILE *f;

	if (!path || !(f = fopen(path, "r")))
		return c;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "status=%lld bytes=%lld connect_us=%lld "
			   "first_byte_us=%lld total_us=%lld", &c.status,
			   &c.bytes, &c.connect_us, &c.first_byte_us,
			   &c.total_us) == 5) {
			c.have = true;
			break;
		}
	}
	fclose(f);
	return c;
}

/*
 * Loose: TCG emulation makes every clock jittery, and the client's clock
 * and ours start at different points. This catches unit mix-ups and
 * garbage, not small skews: within a factor 2 plus 50 ms.
 */
static void close_enough(const char *what, long long ours, long long theirs)
{
	long long tol = theirs + 50000;

	if (ours < 0) {
		fail("%s missing for the timing comparison", what);
		return;
	}
	if (ours > theirs * 2 + 50000 || ours < theirs - tol)
		fail("%s = %lld us, the client says %lld us", what, ours, theirs);
}

static void case_single(const struct jv *tl, const char *target, long long port,
			bool v6, const struct client_line *cl)
{
	char h[512];
	long long recv;

	check_ok_get(tl, v6 ? "ipv6" : "new", target, "client");
	hooks_str(tl, h, sizeof(h));
	if (strcmp(h, CLIENT_HOOKS))
		fail("hooks %s, want %s", h, CLIENT_HOOKS);
	check_str(tl, "conn", "daddr", v6 ? "::1" : "127.0.0.1", "conn.daddr");
	if (v6)
		check_str(tl, "conn", "saddr", "::1", "conn.saddr");
	check_int(tl, "conn", "dport", port, "conn.dport");
	check_bool(tl, "conn", "reused", false, "conn.reused");
	if (jis_null(jget2(tl, "phases_us", "connect")))
		fail("phases_us.connect is null");
	if (!jis_null(jget2(tl, "phases_us", "dns")))
		fail("phases_us.dns is not null (IP literal)");
	if (!jint(jget2(tl, "bytes", "received"), &recv) || recv < 6)
		fail("bytes.received < 6");
	/* the peer as each connect event reported it */
	{
		static const char *const hk[] = { "ConnectStart", "ConnectDone" };
		char want[64];

		snprintf(want, sizeof(want), v6 ? "[::1]:%lld" : "127.0.0.1:%lld",
			 port);
		for (int i = 0; i < 2; i++) {
			const char *a = jstr(jget(event(tl, hk[i]), "addr"));

			if (!a || strcmp(a, want))
				fail("%s.addr %s, want %s", hk[i],
				     a ? a : "null", want);
		}
	}
	if (v6) {
		const char *net = jstr(jget(event(tl, "ConnectStart"),
					    "network"));

		if (!net || strcmp(net, "tcp6"))
			fail("ConnectStart.network %s, want tcp6",
			     net ? net : "null");
	}
	if (cl && cl->have) {
		long long t_first = event_t(tl, "GotFirstResponseByte"),
			  t_wrote = event_t(tl, "WroteHeaders"), total;

		close_enough("phases_us.connect", jint(jget2(tl, "phases_us",
			"connect"), &total) ? total : -1, cl->connect_us);
		if (t_first >= 0 && t_wrote >= 0)
			close_enough("GotFirstResponseByte - WroteHeaders",
				     t_first - t_wrote, cl->first_byte_us);
	}
}

static int cmp_tl(const void *a, const void *b)
{
	const struct jv *x = *(const struct jv *const *)a,
			*y = *(const struct jv *const *)b;
	const char *tx = jstr(jget(x, "ts")), *ty = jstr(jget(y, "ts"));
	int c = strcmp(tx ? tx : "", ty ? ty : "");

	return c;
}

static void case_reused(const struct jv **tls, int n, const char *target,
			long long port)
{
	long long sp1, sp2;

	if (n != 2) {
		fail("%d timelines, want 2", n);
		return;
	}
	qsort(tls, 2, sizeof(*tls), cmp_tl);
	check_ok_get(tls[0], "first", target, "client");
	check_ok_get(tls[1], "second", target, "client");
	check_int(tls[0], "conn", "dport", port, "first conn.dport");
	check_int(tls[1], "conn", "dport", port, "second conn.dport");
	check_bool(tls[0], "conn", "reused", false, "first conn.reused");
	check_bool(tls[1], "conn", "reused", true, "second conn.reused");
	if (jis_null(jget2(tls[1], "conn", "idle_us")))
		fail("second conn.idle_us is null");
	if (!jis_null(jget2(tls[1], "phases_us", "connect")))
		fail("second phases_us.connect is not null");
	if (event(tls[1], "ConnectStart"))
		fail("second has ConnectStart");
	if (!jint(jget2(tls[0], "conn", "sport"), &sp1) ||
	    !jint(jget2(tls[1], "conn", "sport"), &sp2) || sp1 != sp2)
		fail("source ports differ or are null");
	{
		const struct jv *gc = event(tls[1], "GotConn");
		const struct jv *r = jget(gc, "reused");

		if (!gc)
			fail("second has no GotConn");
		else if (!r || r->type != J_BOOL || !r->b)
			fail("second GotConn.reused is not true");
	}
}

static void case_refused(const struct jv *tl, long long port)
{
	const char *err = jstr(jget(tl, "error"));
	const struct jv *cd = event(tl, "ConnectDone");
	char h[512];

	check_common(tl, "refused");
	if (!err || !strcasestr(err, "refused"))
		fail("error %s does not say refused", err ? err : "null");
	if (!jis_null(jget2(tl, "http", "status")))
		fail("http.status is not null");
	check_int(tl, "conn", "dport", port, "conn.dport");
	hooks_str(tl, h, sizeof(h));
	{
		const char *a = jstr(jget(event(tl, "ConnectStart"), "addr"));
		char want[64];

		snprintf(want, sizeof(want), "127.0.0.1:%lld", port);
		if (!a || strcmp(a, want))
			fail("ConnectStart.addr %s, want %s", a ? a : "null",
			     want);
	}
	if (!cd) {
		fail("ConnectDone missing: %s", h);
	} else {
		const char *e = jstr(jget(cd, "err"));

		if (!e || !strcasestr(e, "refused"))
			fail("ConnectDone.err %s", e ? e : "null");
	}
}

static void case_server(const struct jv **tls, int n, const char *target,
			long long port)
{
	const struct jv *mine[MAX_TL];
	int m = 0;

	for (int i = 0; i < n; i++) {
		const char *t = jstr(jget2(tls[i], "http", "target"));

		if (t && target && !strcmp(t, target))
			mine[m++] = tls[i];
	}
	if (m != 1) {
		fail("%d server timelines with target %s, want 1", m,
		     target ? target : "?");
		return;
	}
	check_ok_get(mine[0], "server", target, "server");
	check_int(mine[0], "conn", "sport", port, "conn.sport");
}

static void case_dns(const struct jv *tl, const char *target, long long port,
		     const char *host)
{
	const struct jv *ds = event(tl, "DNSStart"), *dd = event(tl, "DNSDone");
	const struct jv *evs = jget(tl, "events");
	int i_ds = -1, i_dd = -1, i_cs = -1;
	char want[300], h[512];

	check_ok_get(tl, "dns", target, "client");
	check_int(tl, "conn", "dport", port, "conn.dport");
	snprintf(want, sizeof(want), "%s:%lld", host ? host : "?", port);
	check_str(tl, "http", "host", want, "http.host");
	hooks_str(tl, h, sizeof(h));
	if (!ds) {
		fail("DNSStart missing: %s", h);
	} else {
		const char *got = jstr(jget(ds, "host"));

		if (!got || !host || strcmp(got, host))
			fail("DNSStart.host %s, want %s", got ? got : "null",
			     host ? host : "?");
	}
	if (!dd) {
		fail("DNSDone missing: %s", h);
	} else {
		const struct jv *addrs = jget(dd, "addrs");
		bool found = false;

		for (size_t i = 0; addrs && addrs->type == J_ARR &&
				   i < addrs->n; i++) {
			const char *a = jstr(addrs->items[i]);

			if (a && !strcmp(a, "127.0.0.1"))
				found = true;
		}
		if (!found)
			fail("DNSDone.addrs lacks 127.0.0.1");
		if (!jis_null(jget(dd, "err")))
			fail("DNSDone.err is not null");
	}
	if (jis_null(jget2(tl, "phases_us", "dns")))
		fail("phases_us.dns is null");
	for (size_t i = 0; evs && evs->type == J_ARR && i < evs->n; i++) {
		const char *hk = jstr(jget(evs->items[i], "hook"));

		if (!hk)
			continue;
		if (!strcmp(hk, "DNSStart") && i_ds < 0)
			i_ds = (int)i;
		else if (!strcmp(hk, "DNSDone") && i_dd < 0)
			i_dd = (int)i;
		else if (!strcmp(hk, "ConnectStart") && i_cs < 0)
			i_cs = (int)i;
	}
	if (ds && dd && i_cs >= 0 && !(i_ds < i_dd && i_dd < i_cs))
		fail("order DNSStart < DNSDone < ConnectStart: %s", h);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ht_check_timeline --case new|reused|refused|ipv6|server|dns "
		"[--pid PID]\n"
		"       [--port PORT] [--target PATH] [--client-out FILE] "
		"[--host NAME] [--verbose] TRACER.json\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "case", required_argument, NULL, 'c' },
		{ "pid", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ "target", required_argument, NULL, 't' },
		{ "client-out", required_argument, NULL, 'o' },
		{ "host", required_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kase = NULL, *target = NULL, *client_out = NULL,
		   *host = NULL;
	long long pid = -1, port = -1;
	const struct jv *tls[MAX_TL];
	struct client_line cl;
	bool verbose = false;
	char *line = NULL;
	size_t cap = 0;
	int c, n = 0, bad = 0;
	FILE *f;

	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'c': kase = optarg; break;
		case 'p': pid = atoll(optarg); break;
		case 'P': port = atoll(optarg); break;
		case 't': target = optarg; break;
		case 'o': client_out = optarg; break;
		case 'H': host = optarg; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!kase || optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	f = fopen(argv[optind], "r");
	if (!f) {
		printf("FAIL cannot open %s: %s\n", argv[optind],
		       strerror(errno));
		return 1;
	}
	while (getline(&line, &cap, f) > 0) {
		struct jv *tl;
		long long p;

		if (line[0] == '\n' || line[0] == 0)
			continue;
		tl = jparse(line);
		if (!tl) {
			bad++;
			continue;
		}
		if (pid >= 0 && (!jint(jget(tl, "pid"), &p) || p != pid))
			continue;
		if (verbose)
			fprintf(stderr, "TIMELINE %s", line);
		if (n < MAX_TL)
			tls[n++] = tl;
	}
	fclose(f);
	free(line);
	if (bad)
		fail("%d lines of tracer output are not JSON objects", bad);

	cl = read_client(client_out);
	if (!strcmp(kase, "new") || !strcmp(kase, "ipv6")) {
		if (n != 1)
			fail("%d timelines for pid %lld, want 1", n, pid);
		else
			case_single(tls[0], target, port, kase[0] == 'i', &cl);
	} else if (!strcmp(kase, "reused")) {
		case_reused(tls, n, target, port);
	} else if (!strcmp(kase, "refused")) {
		if (n != 1)
			fail("%d timelines for pid %lld, want 1", n, pid);
		else
			case_refused(tls[0], port);
	} else if (!strcmp(kase, "dns")) {
		if (n != 1)
			fail("%d timelines for pid %lld, want 1", n, pid);
		else
			case_dns(tls[0], target, port, host);
	} else if (!strcmp(kase, "server")) {
		case_server(tls, n, target, port);
	} else {
		usage(stderr);
		return 2;
	}
	if (n_reasons) {
		printf("FAIL %s\n", reasons);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
