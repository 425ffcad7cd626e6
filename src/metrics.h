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
void	metrics_render(struct buf *);

#endif
