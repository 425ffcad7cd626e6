/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: the front's counters, as Prometheus text.  Atomic counters
 * only, updated by request threads, read by the admin listener.
 */
#ifndef S3I_METRICS_H
#define S3I_METRICS_H

#include <stdint.h>

#include "buf.h"
#include "s3_req.h"

void	metrics_request(enum s3_op, unsigned status, uint64_t bytes_in,
	    uint64_t bytes_out, int64_t upstream_ms);
/* The front's connections: opened (+1) and closed (-1); refused at
 * server.max_connections; cut as too slow. */
void	metrics_conn_open(int delta);
void	metrics_conn_refused(void);
void	metrics_conn_cut_slow(void);
void	metrics_render(struct buf *);

#endif
