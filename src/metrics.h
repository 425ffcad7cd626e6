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
/* A successful write of an operation s3_op_table.h does not know
 * (s3inval_unclassified_writes_total). */
void	metrics_unclassified_write(void);
/* A successful write whose answer could not be read, recorded by what its
 * request could have changed (s3inval_write_fallbacks_total). */
void	metrics_write_fallback(void);
void	metrics_render(struct buf *);

#endif
