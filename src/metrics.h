/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: /metrics as Prometheus text, every series named by one row of
 * metrics_table.h.  The front's figures are atomic counters here, updated
 * by request threads and read by the admin listener; the modules that
 * hold other figures render them with metrics_head() and metrics_put().
 */
#ifndef S3I_METRICS_H
#define S3I_METRICS_H

#include <stdint.h>

#include "buf.h"
#include "s3_req.h"

enum metric {
#define METRIC(id, type, name, labels, help)	M_##id,
#include "metrics_table.h"
#undef METRIC
	M__COUNT
};

/* The figures the worker keeps per distribution (struct dist's count[]). */
enum dist_metric {
#define METRIC(id, type, name, labels, help)
#define DIST_METRIC(id, type, name, help)	DM_##id,
#include "metrics_table.h"
#undef DIST_METRIC
#undef METRIC
	DM__COUNT
};

/* A request answered: its operation, status, body bytes and the upstream's
 * time to the response head (-1: it had no upstream request). */
void	metrics_request(enum s3_op, unsigned status, uint64_t bytes_in,
	    uint64_t bytes_out, int64_t upstream_ms);
/* n more (or fewer, for a gauge) of a series without labels that this
 * module holds: the front's counters and connections, the worker's writes
 * and keys recorded and journal errors.  Any thread. */
void	metrics_add(enum metric, int64_t n);
uint64_t metrics_get(enum metric);
/* The front's connections: opened (+1) and closed (-1); refused at
 * server.max_connections; cut as too slow.  (The front's entry points.) */
void	metrics_conn_open(int delta);
void	metrics_conn_refused(void);
void	metrics_conn_cut_slow(void);

/* A series' "# HELP" and "# TYPE" lines. */
void	metrics_head(struct buf *, enum metric);
/* One sample of a series: the values of the row's labels, in its order
 * (NULL when it has none). */
void	metrics_put(struct buf *, enum metric, const char *const *labels,
	    uint64_t);
void	metrics_put_f(struct buf *, enum metric, const char *const *labels,
	    double);
/* Both, for a series without labels. */
void	metrics_single(struct buf *, enum metric, uint64_t);
void	metrics_single_f(struct buf *, enum metric, double);
/* The series of a per-distribution figure. */
enum metric metrics_of_dist(enum dist_metric);
/* The front's series, the upstream's, the worker's (inval_metrics). */
void	metrics_render(struct buf *);

#endif
