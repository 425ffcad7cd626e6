/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: see metrics.h.  The names, types, help and labels come from
 * metrics_table.h; this file writes them as the Prometheus text format
 * (version 0.0.4) and holds the front's counters.  The latency
 * histogram's buckets are in seconds.
 */
#include "config.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <string.h>

#include "metrics.h"
#include "proc_self.h"
#include "upstream.h"

enum metric_type { COUNTER, GAUGE, HISTOGRAM };

static const struct {
	const char		*name;
	enum metric_type	 type;
	const char		*labels;	/* comma separated */
	const char		*help;
} series[M__COUNT] = {
#define METRIC(id, type, name, labels, help) \
	[M_##id] = { name, type, labels, help },
#include "metrics_table.h"
#undef METRIC
};

static const enum metric dist_series[DM__COUNT] = {
#define METRIC(id, type, name, labels, help)
#define DIST_METRIC(id, type, name, help)	M_##id,
#include "metrics_table.h"
#undef DIST_METRIC
#undef METRIC
};

static const char *const type_name[] = { "counter", "gauge", "histogram" };

#define N_CLASS	6		/* 1xx..5xx, and 0 for "no answer" */

static const double bucket_le[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
};
#define N_BUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))

/* The series without labels counted through metrics_add(): the front's,
 * written by metrics_render (held[]), and the worker's, written by
 * inval_metrics. */
static atomic_int_fast64_t value[M__COUNT];
static atomic_uint_fast64_t requests[S3_OP__COUNT][N_CLASS];
static atomic_uint_fast64_t lat_bucket[N_BUCKETS + 1];
static atomic_uint_fast64_t lat_count, lat_sum_ms;

/* Rendered by metrics_render from value[], in this order. */
static const enum metric held[] = {
	M_UNCLASSIFIED_WRITES, M_WRITE_FALLBACKS, M_WRITES_HEADERS_CHANGED,
	M_WRITES_HEADERS_UNKNOWN, M_REQUEST_BYTES, M_RESPONSE_BYTES,
	M_CLIENT_CONNECTIONS, M_CLIENT_CONNECTIONS_REFUSED,
	M_CLIENT_CONNECTIONS_CUT_SLOW
};

void
metrics_add(enum metric m, int64_t n)
{
	atomic_fetch_add(&value[m], n);
}

uint64_t
metrics_get(enum metric m)
{
	return (uint64_t)atomic_load(&value[m]);
}

void
metrics_conn_open(int delta)
{
	metrics_add(M_CLIENT_CONNECTIONS, delta);
}

void
metrics_conn_refused(void)
{
	metrics_add(M_CLIENT_CONNECTIONS_REFUSED, 1);
}

void
metrics_conn_cut_slow(void)
{
	metrics_add(M_CLIENT_CONNECTIONS_CUT_SLOW, 1);
}

enum metric
metrics_of_dist(enum dist_metric dm)
{
	return dist_series[dm];
}

void
metrics_request(enum s3_op op, unsigned status, uint64_t in, uint64_t out,
    int64_t upstream_ms)
{
	unsigned	 cls = status / 100;
	size_t		 i;

	if (cls >= N_CLASS)
		cls = 0;
	if ((unsigned)op >= S3_OP__COUNT)
		op = S3_OP_UNKNOWN;
	atomic_fetch_add(&requests[op][cls], 1);
	metrics_add(M_REQUEST_BYTES, (int64_t)in);
	metrics_add(M_RESPONSE_BYTES, (int64_t)out);
	if (upstream_ms < 0)
		return;
	for (i = 0; i < N_BUCKETS; i++)
		if ((double)upstream_ms / 1000.0 <= bucket_le[i])
			break;
	atomic_fetch_add(&lat_bucket[i], 1);
	atomic_fetch_add(&lat_count, 1);
	atomic_fetch_add(&lat_sum_ms, (uint64_t)upstream_ms);
}

/* HELP text escapes '\' and newline; label values '"' too. */
static void
put_escaped(struct buf *b, const char *s, int quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_puts(b, "\\\\");
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else if (*s == '"' && quote)
			buf_puts(b, "\\\"");
		else
			buf_putc(b, *s);
	}
}

void
metrics_head(struct buf *b, enum metric m)
{
	buf_printf(b, "# HELP %s ", series[m].name);
	put_escaped(b, series[m].help, 0);
	buf_printf(b, "\n# TYPE %s %s\n", series[m].name,
	    type_name[series[m].type]);
}

/* NAME{l1="v1",l2="v2"} with the row's label names. */
static void
put_name(struct buf *b, enum metric m, const char *const *vals)
{
	const char	*l = series[m].labels, *comma;
	size_t		 i;

	buf_puts(b, series[m].name);
	if (vals == NULL || *l == '\0')
		return;
	buf_putc(b, '{');
	for (i = 0; *l != '\0'; i++) {
		comma = strchr(l, ',');
		if (comma == NULL)
			comma = l + strlen(l);
		buf_printf(b, "%s%.*s=\"", i > 0 ? "," : "", (int)(comma - l),
		    l);
		put_escaped(b, vals[i], 1);
		buf_putc(b, '"');
		l = *comma == ',' ? comma + 1 : comma;
	}
	buf_putc(b, '}');
}

void
metrics_put(struct buf *b, enum metric m, const char *const *vals,
    uint64_t v)
{
	put_name(b, m, vals);
	buf_printf(b, " %" PRIu64 "\n", v);
}

void
metrics_put_f(struct buf *b, enum metric m, const char *const *vals,
    double v)
{
	put_name(b, m, vals);
	buf_printf(b, " %.15g\n", v);
}

void
metrics_single(struct buf *b, enum metric m, uint64_t v)
{
	metrics_head(b, m);
	metrics_put(b, m, NULL, v);
}

void
metrics_single_f(struct buf *b, enum metric m, double v)
{
	metrics_head(b, m);
	metrics_put_f(b, m, NULL, v);
}

static void
render_latency(struct buf *b)
{
	const char	*name = series[M_UPSTREAM_DURATION].name;
	uint64_t	 cum = 0;
	size_t		 i;

	metrics_head(b, M_UPSTREAM_DURATION);
	for (i = 0; i <= N_BUCKETS; i++) {
		cum += atomic_load(&lat_bucket[i]);
		if (i < N_BUCKETS)
			buf_printf(b, "%s_bucket{le=\"%g\"} %" PRIu64 "\n",
			    name, bucket_le[i], cum);
		else
			buf_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n",
			    name, cum);
	}
	buf_printf(b, "%s_sum %.3f\n%s_count %" PRIu64 "\n", name,
	    (double)atomic_load(&lat_sum_ms) / 1000.0, name,
	    (uint64_t)atomic_load(&lat_count));
}

/* The process_* series, when /proc can be read (else none, as the
 * Prometheus client libraries do off Linux). */
static void
render_process(struct buf *b)
{
	struct proc_self	 ps;

	if (proc_self_read(&ps) == -1)
		return;
	metrics_single_f(b, M_PROCESS_CPU, ps.cpu_seconds);
	metrics_single(b, M_PROCESS_RESIDENT_MEMORY, ps.resident_bytes);
	metrics_single(b, M_PROCESS_VIRTUAL_MEMORY, ps.virtual_bytes);
	metrics_single(b, M_PROCESS_OPEN_FDS, ps.open_fds);
	metrics_single(b, M_PROCESS_MAX_FDS, ps.max_fds);
	metrics_single_f(b, M_PROCESS_START_TIME, ps.start_time);
}

void
metrics_render(struct buf *b)
{
	static const char *const cls_name[N_CLASS] = {
		"none", "1xx", "2xx", "3xx", "4xx", "5xx"
	};
	const char	*lv[2];
	uint64_t	 v;
	size_t		 op, c, i;

	metrics_head(b, M_REQUESTS);
	for (op = 0; op < S3_OP__COUNT; op++)
		for (c = 0; c < N_CLASS; c++) {
			v = atomic_load(&requests[op][c]);
			if (v == 0)
				continue;
			lv[0] = s3_op_name((enum s3_op)op);
			lv[1] = cls_name[c];
			metrics_put(b, M_REQUESTS, lv, v);
		}
	for (i = 0; i < sizeof(held) / sizeof(held[0]); i++) {
		metrics_head(b, held[i]);
		/* Signed: a gauge may be below zero for a moment (a close
		 * counted before its open). */
		put_name(b, held[i], NULL);
		buf_printf(b, " %" PRId64 "\n",
		    (int64_t)atomic_load(&value[held[i]]));
	}
	render_latency(b);
	metrics_single(b, M_UPSTREAM_CONNECTIONS,
	    upstream_connections_opened());
	render_process(b);
}
