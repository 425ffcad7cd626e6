/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_usage: the month's invalidation paths (see worker_usage.c).
 * Every function but worker_this_month() runs with worker.mtx held.
 */
#ifndef S3I_WORKER_USAGE_H
#define S3I_WORKER_USAGE_H

#include <stdint.h>

int		 worker_this_month(void);		/* yyyymm, UTC */
void		 worker_usage_save(void);
void		 worker_usage_load(void);
uint64_t	 worker_month_total(void);	/* every distribution's */

#endif
