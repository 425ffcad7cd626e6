/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: see metrics.h.  Names follow the Prometheus conventions
 * (base units, _total for counters); the latency histogram's buckets are
 * in seconds.
 */
#include "config.h"

#include <inttypes.h>
#include <stdatomic.h>

#include "inval_queue.h"
#include "metrics.h"
#include "upstream.h"

#define N_CLASS	6		/* 1xx..5xx, and 0 for "no answer" */

static const double bucket_le[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
};
#define N_BUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))

static atomic_uint_fast64_t requests[S3_OP__COUNT][N_CLASS];
static atomic_uint_fast64_t bytes_in, bytes_out;
static atomic_uint_fast64_t lat_bucket[N_BUCKETS + 1];
static atomic_uint_fast64_t lat_count, lat_sum_ms;
static atomic_int_fast64_t conns_open;
static atomic_uint_fast64_t conns_refused, conns_cut_slow;

void
metrics_conn_open(int delta)
{
	atomic_fetch_add(&conns_open, delta);
}

void
metrics_conn_refused(void)
{
	atomic_fetch_add(&conns_refused, 1);
}

void
metrics_conn_cut_slow(void)
{
	atomic_fetch_add(&conns_cut_slow, 1);
}

static atomic_uint_fast64_t unclassified_writes, write_fallbacks;

void
metrics_unclassified_write(void)
{
	atomic_fetch_add(&unclassified_writes, 1);
}

void
metrics_write_fallback(void)
{
	atomic_fetch_add(&write_fallbacks, 1);
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
	atomic_fetch_add(&bytes_in, in);
	atomic_fetch_add(&bytes_out, out);
	if (upstream_ms < 0)
		return;
	for (i = 0; i < N_BUCKETS; i++)
		if ((double)upstream_ms / 1000.0 <= bucket_le[i])
			break;
	atomic_fetch_add(&lat_bucket[i], 1);
	atomic_fetch_add(&lat_count, 1);
	atomic_fetch_add(&lat_sum_ms, (uint64_t)upstream_ms);
}

void
metrics_render(struct buf *b)
{
	static const char *const cls_name[N_CLASS] = {
		"none", "1xx", "2xx", "3xx", "4xx", "5xx"
	};
	uint64_t	 v, cum = 0;
	size_t		 op, c, i;

	buf_puts(b, "# HELP s3inval_requests_total S3 requests answered, by "
	    "operation and status class.\n"
	    "# TYPE s3inval_requests_total counter\n");
	for (op = 0; op < S3_OP__COUNT; op++)
		for (c = 0; c < N_CLASS; c++) {
			v = atomic_load(&requests[op][c]);
			if (v == 0)
				continue;
			buf_printf(b, "s3inval_requests_total{op=\"%s\","
			    "status=\"%s\"} %" PRIu64 "\n",
			    s3_op_name((enum s3_op)op), cls_name[c], v);
		}
	buf_printf(b, "# HELP s3inval_unclassified_writes_total Successful "
	    "writes of an operation s3inval does not know, invalidated by "
	    "their key or bucket.\n"
	    "# TYPE s3inval_unclassified_writes_total counter\n"
	    "s3inval_unclassified_writes_total %" PRIu64 "\n",
	    (uint64_t)atomic_load(&unclassified_writes));
	buf_printf(b, "# HELP s3inval_write_fallbacks_total Successful writes "
	    "whose answer could not be read, invalidated by what the request "
	    "could have changed.\n"
	    "# TYPE s3inval_write_fallbacks_total counter\n"
	    "s3inval_write_fallbacks_total %" PRIu64 "\n",
	    (uint64_t)atomic_load(&write_fallbacks));
	buf_printf(b, "# HELP s3inval_request_bytes_total Body bytes "
	    "received from clients.\n"
	    "# TYPE s3inval_request_bytes_total counter\n"
	    "s3inval_request_bytes_total %" PRIu64 "\n",
	    (uint64_t)atomic_load(&bytes_in));
	buf_printf(b, "# HELP s3inval_response_bytes_total Body bytes sent "
	    "to clients.\n# TYPE s3inval_response_bytes_total counter\n"
	    "s3inval_response_bytes_total %" PRIu64 "\n",
	    (uint64_t)atomic_load(&bytes_out));
	buf_puts(b, "# HELP s3inval_upstream_seconds Time from the start of "
	    "an upstream request to its response head.\n"
	    "# TYPE s3inval_upstream_seconds histogram\n");
	for (i = 0; i <= N_BUCKETS; i++) {
		cum += atomic_load(&lat_bucket[i]);
		if (i < N_BUCKETS)
			buf_printf(b, "s3inval_upstream_seconds_bucket{le=\"%g\"}"
			    " %" PRIu64 "\n", bucket_le[i], cum);
		else
			buf_printf(b, "s3inval_upstream_seconds_bucket"
			    "{le=\"+Inf\"} %" PRIu64 "\n", cum);
	}
	buf_printf(b, "s3inval_upstream_seconds_sum %.3f\n"
	    "s3inval_upstream_seconds_count %" PRIu64 "\n",
	    (double)atomic_load(&lat_sum_ms) / 1000.0,
	    (uint64_t)atomic_load(&lat_count));
	buf_printf(b, "# HELP s3inval_client_connections Client connections "
	    "open now.\n# TYPE s3inval_client_connections gauge\n"
	    "s3inval_client_connections %" PRId64 "\n"
	    "# HELP s3inval_client_connections_refused_total Requests "
	    "answered 503 (or connections closed) past "
	    "server.max_connections.\n"
	    "# TYPE s3inval_client_connections_refused_total counter\n"
	    "s3inval_client_connections_refused_total %" PRIu64 "\n"
	    "# HELP s3inval_client_connections_cut_slow_total Connections "
	    "closed for a head slower than client_timeout or a body or "
	    "answer slower than min_rate.\n"
	    "# TYPE s3inval_client_connections_cut_slow_total counter\n"
	    "s3inval_client_connections_cut_slow_total %" PRIu64 "\n",
	    (int64_t)atomic_load(&conns_open),
	    (uint64_t)atomic_load(&conns_refused),
	    (uint64_t)atomic_load(&conns_cut_slow));
	buf_printf(b, "# HELP s3inval_upstream_connections_total Connections "
	    "opened to the upstream.\n"
	    "# TYPE s3inval_upstream_connections_total counter\n"
	    "s3inval_upstream_connections_total %" PRIu64 "\n",
	    upstream_connections_opened());
	inval_queue_metrics(b);
}
