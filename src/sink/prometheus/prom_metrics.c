// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Series and their exposition; see prom_metrics.h.
 *
 * A series is found by one 64-bit key: a byte per label (the value's
 * index in that label's table), the phase, the role, the metric and
 * the overflow flag. The series table keeps them in the order of their
 * last update, which is the order they expire in; each metric also
 * lists its series in the order they were made, the order they are
 * written in.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sink/attrs.h"
#include "sink/prometheus/prom_metrics.h"
#include "util/list.h"
#include "util/lru_table.h"

/* the labels, in the order they are written */
static const enum sink_attr prom_labels[] = {
	SINK_ATTR_HTTP_REQUEST_METHOD,
	SINK_ATTR_HTTP_RESPONSE_STATUS_CODE,
	SINK_ATTR_SERVER_ADDRESS,
	SINK_ATTR_SERVER_PORT,
	SINK_ATTR_ERROR_TYPE,
	SINK_ATTR_PROCESS_EXECUTABLE_NAME,
	SINK_ATTR_CONTAINER_ID,
};
#define N_LABELS (sizeof(prom_labels) / sizeof(prom_labels[0]))

#define VALUE_ABSENT 0
#define VALUE_OTHER 1
#define VALUE_FIRST 2

enum prom_metric {
	METRIC_CLIENT,
	METRIC_SERVER,
	METRIC_PHASE,
	METRIC_COUNT,
};

static const struct {
	const char *name;
	const char *help;
} metric_info[METRIC_COUNT] = {
	[METRIC_CLIENT] = { "http_client_request_duration_seconds",
			    "Duration of HTTP client requests." },
	[METRIC_SERVER] = { "http_server_request_duration_seconds",
			    "Duration of HTTP server requests." },
	[METRIC_PHASE] = { "httptrace_phase_duration_seconds",
			   "Duration of each phase of an HTTP request that "
			   "happened (dns, connect, tls, send, wait, "
			   "receive)." },
};

/* OpenTelemetry's HTTP semantic conventions' boundaries, in us, and as
 * written; the last bucket is +Inf */
static const uint64_t bucket_us[] = {
	5000, 10000, 25000, 50000, 75000, 100000, 250000, 500000, 750000,
	1000000, 2500000, 5000000, 7500000, 10000000,
};
static const char *const bucket_le[] = {
	"0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5",
	"0.75", "1", "2.5", "5", "7.5", "10",
};
#define N_BOUNDS (sizeof(bucket_us) / sizeof(bucket_us[0]))

/* the phases measured, by enum tl_phase */
#define N_PHASES (TL_PHASE_RECEIVE + 1)

/* key: label bytes 0..55, phase 56..59 (15: none), role 60, metric
 * 61..62, overflow 63 */
#define KEY_PHASE_SHIFT 56
#define KEY_NO_PHASE 15ULL
#define KEY_ROLE_SHIFT 60
#define KEY_METRIC_SHIFT 61
#define KEY_OVERFLOW (1ULL << 63)
#define KEY_LABELS_MASK ((1ULL << KEY_PHASE_SHIFT) - 1)

struct prom_series {
	struct lru_node node;    /* node.key: the key above */
	struct list metric_link; /* in its metric's list, oldest first */
	uint64_t last_ns;
	uint64_t count;
	uint64_t sum_us;
	uint64_t buckets[N_BOUNDS + 1]; /* each its own, not cumulative */
};

struct prom_value {
	char *str;               /* NULL: a free slot */
	uint64_t hash;
	uint64_t last_ns;
};

struct prom_label_values {
	struct prom_value v[PROM_MAX_VALUES_LIMIT];
	uint32_t n;
	uint64_t overflow;       /* values written "_other" */
};

struct prom_metrics {
	struct prom_limits lim;
	struct lru_table series;
	struct list metric_series[METRIC_COUNT];
	uint32_t metric_n[METRIC_COUNT];
	struct prom_label_values labels[N_LABELS];
	struct sink_counters counters;
};

int prom_metrics_new(struct prom_metrics **mp, const struct prom_limits *lim)
{
	struct prom_metrics *m;
	int i;

	*mp = NULL;
	if (!lim->max_values || lim->max_values > PROM_MAX_VALUES_LIMIT ||
	    !lim->max_series || !lim->expire_ns)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->lim = *lim;
	/* the overflow series come on top of the cap */
	if (lru_table_init(&m->series, METRIC_COUNT * lim->max_series, NULL,
			   NULL)) {
		free(m);
		return -ENOMEM;
	}
	for (i = 0; i < METRIC_COUNT; i++)
		list_init(&m->metric_series[i]);
	*mp = m;
	return 0;
}

static void series_remove(struct prom_metrics *m, struct prom_series *s)
{
	enum prom_metric metric =
		(s->node.key >> KEY_METRIC_SHIFT) & 3;

	lru_table_remove(&m->series, &s->node);
	list_del(&s->metric_link);
	m->metric_n[metric]--;
	free(s);
}

void prom_metrics_free(struct prom_metrics *m)
{
	struct lru_node *n;
	size_t l, i;

	if (!m)
		return;
	while ((n = lru_table_oldest(&m->series)))
		series_remove(m, container_of(n, struct prom_series, node));
	lru_table_fini(&m->series);
	for (l = 0; l < N_LABELS; l++)
		for (i = 0; i < PROM_MAX_VALUES_LIMIT; i++)
			free(m->labels[l].v[i].str);
	free(m);
}

/* FNV-1a */
static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

/* Length of the well-formed UTF-8 sequence at s, 0 if none starts
 * there. */
static size_t utf8_len(const uint8_t *s)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* The format wants UTF-8: a byte that is not (a process name may be
 * any bytes) becomes U+FFFD. out holds 3 bytes per byte of in. */
static void utf8_clean(const char *in, char *out)
{
	const uint8_t *s = (const uint8_t *)in;

	while (*s) {
		size_t n = utf8_len(s);

		if (n) {
			memcpy(out, s, n);
			out += n;
			s += n;
		} else {
			memcpy(out, "\xef\xbf\xbd", 3);
			out += 3;
			s++;
		}
	}
	*out = '\0';
}

/* The index of raw among label l's values, taken now; VALUE_OTHER when
 * the label is full (or out of memory). */
static unsigned int value_id(struct prom_metrics *m, size_t l,
			     const char *raw, uint64_t now_ns)
{
	struct prom_label_values *lv = &m->labels[l];
	char clean[3 * (TL_HOST_MAX + TL_TARGET_MAX) + 1];
	struct prom_value *free_slot = NULL;
	uint64_t h;
	uint32_t i;

	if (!raw || !raw[0])
		return VALUE_ABSENT;
	if (strlen(raw) * 3 >= sizeof(clean))
		return VALUE_OTHER;
	utf8_clean(raw, clean);
	h = str_hash(clean);
	for (i = 0; i < m->lim.max_values; i++) {
		struct prom_value *v = &lv->v[i];

		if (!v->str) {
			if (!free_slot)
				free_slot = v;
		} else if (v->hash == h && !strcmp(v->str, clean)) {
			v->last_ns = now_ns;
			return VALUE_FIRST + i;
		}
	}
	if (!free_slot || !(free_slot->str = strdup(clean))) {
		lv->overflow++;
		return VALUE_OTHER;
	}
	free_slot->hash = h;
	free_slot->last_ns = now_ns;
	lv->n++;
	return VALUE_FIRST + (unsigned int)(free_slot - lv->v);
}

static struct prom_series *series_get(struct prom_metrics *m, uint64_t key)
{
	enum prom_metric metric = (key >> KEY_METRIC_SHIFT) & 3;
	struct lru_node *n = lru_table_find(&m->series, key);
	struct prom_series *s;

	if (n)
		return container_of(n, struct prom_series, node);
	if (m->metric_n[metric] >= m->lim.max_series &&
	    !(key & KEY_OVERFLOW)) {
		key = (key & ~KEY_LABELS_MASK) | KEY_OVERFLOW;
		n = lru_table_find(&m->series, key);
		if (n)
			return container_of(n, struct prom_series, node);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	lru_table_insert(&m->series, &s->node, key);
	list_add_tail(&m->metric_series[metric], &s->metric_link);
	m->metric_n[metric]++;
	return s;
}

static void observe(struct prom_metrics *m, uint64_t key, int64_t us,
		    uint64_t now_ns)
{
	struct prom_series *s = series_get(m, key);
	uint64_t v = us > 0 ? (uint64_t)us : 0;
	size_t b = 0;

	if (!s)
		return;
	while (b < N_BOUNDS && v > bucket_us[b])
		b++;
	s->buckets[b]++;
	s->count++;
	s->sum_us += v;
	s->last_ns = now_ns;
	lru_table_touch(&m->series, &s->node);
}

void prom_metrics_add(struct prom_metrics *m, const struct timeline *tl,
		      uint64_t now_ns)
{
	bool server = tl->role == HT_ROLE_SERVER;
	struct sink_attrs a;
	uint64_t labels = 0, base;
	size_t l;
	int p;

	if (tl->tls.not_decoded)
		return;
	sink_attrs_of(&a, tl);
	for (l = 0; l < N_LABELS; l++)
		labels |= (uint64_t)value_id(m, l, a.value[prom_labels[l]],
					    now_ns) << (8 * l);
	base = labels | ((uint64_t)server << KEY_ROLE_SHIFT);
	observe(m, base | KEY_NO_PHASE << KEY_PHASE_SHIFT |
		(uint64_t)(server ? METRIC_SERVER : METRIC_CLIENT)
			<< KEY_METRIC_SHIFT,
		tl->phase_us[TL_PHASE_TOTAL], now_ns);
	for (p = 0; p < (int)N_PHASES; p++)
		if (tl->phase_us[p] >= 0)
			observe(m, base | (uint64_t)p << KEY_PHASE_SHIFT |
				(uint64_t)METRIC_PHASE << KEY_METRIC_SHIFT,
				tl->phase_us[p], now_ns);
}

void prom_metrics_set_counters(struct prom_metrics *m,
			       const struct sink_counters *c)
{
	m->counters = *c;
}

static bool expired(const struct prom_metrics *m, uint64_t last_ns,
		    uint64_t now_ns)
{
	return now_ns >= last_ns && now_ns - last_ns >= m->lim.expire_ns;
}

/* A value is taken whenever a series that has it is updated, so by the
 * time it expires no series has it any more. */
void prom_metrics_expire(struct prom_metrics *m, uint64_t now_ns)
{
	struct lru_node *n;
	size_t l, i;

	while ((n = lru_table_oldest(&m->series))) {
		struct prom_series *s = container_of(n, struct prom_series,
						     node);

		if (!expired(m, s->last_ns, now_ns))
			break;
		series_remove(m, s);
	}
	for (l = 0; l < N_LABELS; l++) {
		struct prom_label_values *lv = &m->labels[l];

		for (i = 0; i < PROM_MAX_VALUES_LIMIT; i++) {
			struct prom_value *v = &lv->v[i];

			if (v->str && expired(m, v->last_ns, now_ns)) {
				free(v->str);
				v->str = NULL;
				lv->n--;
			}
		}
	}
}

size_t prom_metrics_series(const struct prom_metrics *m)
{
	return m->series.n;
}

/* ---- the snapshot and its text ------------------------------------------ */

struct prom_snap_series {
	uint64_t key;
	uint64_t count;
	uint64_t sum_us;
	uint64_t buckets[N_BOUNDS + 1];
};

struct prom_snapshot {
	struct sink_counters counters;
	uint64_t overflow[N_LABELS];
	size_t n_series[METRIC_COUNT];
	struct prom_snap_series *series; /* metric by metric */
	/* the label values, each at its offset in arena */
	char *arena;
	uint32_t value_at[N_LABELS][PROM_MAX_VALUES_LIMIT];
};

struct prom_snapshot *prom_metrics_snapshot(const struct prom_metrics *m)
{
	struct prom_snapshot *snap = calloc(1, sizeof(*snap));
	const struct prom_series *s;
	size_t arena = 0, l, i, k = 0;
	int mi;

	if (!snap)
		return NULL;
	snap->counters = m->counters;
	for (l = 0; l < N_LABELS; l++) {
		snap->overflow[l] = m->labels[l].overflow;
		for (i = 0; i < PROM_MAX_VALUES_LIMIT; i++)
			if (m->labels[l].v[i].str)
				arena += strlen(m->labels[l].v[i].str) + 1;
	}
	snap->series = malloc((m->series.n ? m->series.n : 1) *
			      sizeof(*snap->series));
	snap->arena = malloc(arena ? arena : 1);
	if (!snap->series || !snap->arena) {
		prom_snapshot_free(snap);
		return NULL;
	}
	arena = 0;
	for (l = 0; l < N_LABELS; l++) {
		for (i = 0; i < PROM_MAX_VALUES_LIMIT; i++) {
			const char *v = m->labels[l].v[i].str;
			size_t n;

			if (!v)
				continue;
			n = strlen(v) + 1;
			memcpy(snap->arena + arena, v, n);
			snap->value_at[l][i] = (uint32_t)arena;
			arena += n;
		}
	}
	for (mi = 0; mi < METRIC_COUNT; mi++) {
		list_for_each_entry(s, &m->metric_series[mi], metric_link) {
			struct prom_snap_series *d = &snap->series[k++];

			d->key = s->node.key;
			d->count = s->count;
			d->sum_us = s->sum_us;
			memcpy(d->buckets, s->buckets, sizeof(d->buckets));
		}
		snap->n_series[mi] = m->metric_n[mi];
	}
	return snap;
}

void prom_snapshot_free(struct prom_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->series);
	free(snap->arena);
	free(snap);
}

/* A growing buffer; once out of memory it stays so and takes nothing. */
struct text {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 1 << 16;
		char *p;

		while (t->len + n + 1 > cap)
			cap *= 2;
		p = realloc(t->p, cap);
		if (!p) {
			t->oom = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void put_str(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void put_u64(struct text *t, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(t, p, (size_t)(buf + sizeof(buf) - p));
}

static void put_escaped(struct text *t, const char *s)
{
	while (*s) {
		size_t n = strcspn(s, "\\\"\n");

		put(t, s, n);
		s += n;
		if (!*s)
			break;
		put(t, *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : "\\n", 2);
		s++;
	}
}

void prom_write_escaped(FILE *out, const char *s)
{
	struct text t = { 0 };

	put_escaped(&t, s);
	if (t.len)
		fwrite(t.p, 1, t.len, out);
	free(t.p);
}

/* name="value", after a comma unless it is the first */
static void put_label(struct text *t, const char *name, const char *value)
{
	if (t->len)
		put(t, ",", 1);
	put_str(t, name);
	put(t, "=\"", 2);
	put_escaped(t, value);
	put(t, "\"", 1);
}

/* A series' labels, le aside: a="x",b="y" (empty: none). */
static void series_labels(const struct prom_snapshot *snap, struct text *t,
			  uint64_t key)
{
	unsigned int phase = (key >> KEY_PHASE_SHIFT) & 15;
	size_t l;

	t->len = 0;
	put(t, "", 0);
	for (l = 0; l < N_LABELS; l++) {
		unsigned int id = (key >> (8 * l)) & 0xff;

		if (id == VALUE_ABSENT)
			continue;
		put_label(t, sink_attr_label(prom_labels[l]),
			  id == VALUE_OTHER ? "_other" :
			  snap->arena + snap->value_at[l][id - VALUE_FIRST]);
	}
	if (key & KEY_OVERFLOW)
		put_label(t, "otel_metric_overflow", "true");
	if (phase != KEY_NO_PHASE) {
		put_label(t, "role",
			  (key >> KEY_ROLE_SHIFT) & 1 ? "server" : "client");
		put_label(t, "phase", tl_phase_name(phase));
	}
}

/* name{labels} value, the braces only when there are labels */
static void put_sample(struct text *t, const char *name, const char *suffix,
		       const struct text *labels, const char *le,
		       const char *value)
{
	put_str(t, name);
	put_str(t, suffix);
	if (labels->len || le) {
		put(t, "{", 1);
		put(t, labels->p, labels->len);
		if (le) {
			put_str(t, labels->len ? ",le=\"" : "le=\"");
			put_str(t, le);
			put(t, "\"", 1);
		}
		put(t, "}", 1);
	}
	put(t, " ", 1);
	put_str(t, value);
	put(t, "\n", 1);
}

static const char *u64_text(uint64_t v, char buf[24])
{
	char *p = buf + 23;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

static void put_series(struct text *t, struct text *labels,
		       const struct prom_snapshot *snap, const char *name,
		       const struct prom_snap_series *s)
{
	char num[24], sum[48];
	uint64_t cum = 0;
	size_t b;

	series_labels(snap, labels, s->key);
	for (b = 0; b <= N_BOUNDS; b++) {
		cum += s->buckets[b];
		put_sample(t, name, "_bucket", labels,
			   b < N_BOUNDS ? bucket_le[b] : "+Inf",
			   u64_text(cum, num));
	}
	/* whole microseconds: the sum is exact */
	snprintf(sum, sizeof(sum), "%llu.%06llu",
		 (unsigned long long)(s->sum_us / 1000000),
		 (unsigned long long)(s->sum_us % 1000000));
	put_sample(t, name, "_sum", labels, NULL, sum);
	put_sample(t, name, "_count", labels, NULL, u64_text(s->count, num));
}

static void put_head(struct text *t, const char *name, const char *type,
		     const char *help)
{
	put_str(t, "# HELP ");
	put_str(t, name);
	put(t, " ", 1);
	put_str(t, help);
	put_str(t, "\n# TYPE ");
	put_str(t, name);
	put(t, " ", 1);
	put_str(t, type);
	put(t, "\n", 1);
}

static void put_counter(struct text *t, const char *name, const char *help,
			uint64_t v)
{
	put_head(t, name, "counter", help);
	put_str(t, name);
	put(t, " ", 1);
	put_u64(t, v);
	put(t, "\n", 1);
}

/* One counter per exporter (a queued sink): what sel picks. */
static void put_exporters(struct text *t, const struct sink_counters *c,
			  const char *name, const char *help,
			  uint64_t (*sel)(const struct sink_stats *))
{
	size_t i;

	put_head(t, name, "counter", help);
	for (i = 0; i < c->n_sinks && i < SINK_SET_MAX; i++) {
		if (!c->sinks[i].queued)
			continue;
		put_str(t, name);
		put_str(t, "{exporter=\"");
		put_escaped(t, c->sinks[i].name);
		put_str(t, "\"} ");
		put_u64(t, sel(&c->sinks[i].st));
		put(t, "\n", 1);
	}
}

static uint64_t sel_dropped(const struct sink_stats *st)
{
	return st->dropped;
}

static uint64_t sel_sent(const struct sink_stats *st)
{
	return st->sent;
}

static uint64_t sel_failed(const struct sink_stats *st)
{
	return st->send_failed;
}

char *prom_snapshot_text(const struct prom_snapshot *snap, size_t *len)
{
	const struct sink_counters *c = &snap->counters;
	struct text t = { 0 }, labels = { 0 };
	const struct prom_snap_series *s = snap->series;
	size_t l, i, series = 0;
	int mi;

	for (mi = 0; mi < METRIC_COUNT; mi++) {
		put_head(&t, metric_info[mi].name, "histogram",
			 metric_info[mi].help);
		for (i = 0; i < snap->n_series[mi]; i++)
			put_series(&t, &labels, snap, metric_info[mi].name,
				   s++);
		series += snap->n_series[mi];
	}
	put_counter(&t, "httptrace_timelines_total",
		    "HTTP requests reported, one timeline each.",
		    c->timelines);
	put_counter(&t, "httptrace_timelines_incomplete_total",
		    "Timelines reported incomplete (records lost, or cut "
		    "short).", c->timelines_incomplete);
	put_counter(&t, "httptrace_records_lost_total",
		    "Records the kernel could not send to the tracer.",
		    c->records_lost);
	put_counter(&t, "httptrace_tls_connections_not_decoded_total",
		    "TLS connections whose requests the tracer could not "
		    "read (not in the histograms).", c->tls_not_decoded);
	put_exporters(&t, c, "httptrace_export_dropped_total",
		      "Timelines an exporter dropped: its queue was full.",
		      sel_dropped);
	put_exporters(&t, c, "httptrace_spans_sent_total",
		      "Spans an exporter sent.", sel_sent);
	put_exporters(&t, c, "httptrace_spans_failed_total",
		      "Spans an exporter gave up on after its retries.",
		      sel_failed);
	put_head(&t, "httptrace_metrics_label_overflow_total", "counter",
		 "Label values written _other: the label held as many "
		 "distinct values as it may.");
	for (l = 0; l < N_LABELS; l++) {
		put_str(&t, "httptrace_metrics_label_overflow_total{label=\"");
		put_str(&t, sink_attr_label(prom_labels[l]));
		put_str(&t, "\"} ");
		put_u64(&t, snap->overflow[l]);
		put(&t, "\n", 1);
	}
	put_head(&t, "httptrace_metrics_series", "gauge",
		 "Histogram series held, every metric's.");
	put_str(&t, "httptrace_metrics_series ");
	put_u64(&t, series);
	put(&t, "\n", 1);
	free(labels.p);
	if (t.oom || labels.oom) {
		free(t.p);
		return NULL;
	}
	*len = t.len;
	return t.p;
}

int prom_metrics_write(const struct prom_metrics *m, FILE *out)
{
	struct prom_snapshot *snap = prom_metrics_snapshot(m);
	size_t len = 0;
	char *text = snap ? prom_snapshot_text(snap, &len) : NULL;
	int ret = 0;

	prom_snapshot_free(snap);
	if (!text)
		return -ENOMEM;
	if (fwrite(text, 1, len, out) != len || fflush(out) == EOF)
		ret = errno ? -errno : -EIO;
	free(text);
	return ret;
}
