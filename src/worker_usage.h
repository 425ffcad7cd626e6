/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_usage: the month's invalidation paths and their cost (see
 * worker_usage.c).  Every function but worker_this_month() and
 * worker_month_cost() runs with worker.mtx held.
 */
#ifndef S3I_WORKER_USAGE_H
#define S3I_WORKER_USAGE_H

#include <stdint.h>

#include "cfg.h"

#define PRICE_PER_PATH		0.005	/* USD, beyond the free paths */

int		 worker_this_month(void);		/* yyyymm, UTC */
void		 worker_usage_save(void);
void		 worker_usage_load(void);
uint64_t	 worker_month_total(void);	/* every distribution's */
double		 worker_month_cost(const struct cfg *, uint64_t total);

#endif
