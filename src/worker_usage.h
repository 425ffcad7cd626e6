/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_usage: the month's invalidation paths (see worker_usage.c).
 * Every function but worker_this_month() and worker_usage_read() runs
 * with worker.mtx held.
 */
#ifndef S3I_WORKER_USAGE_H
#define S3I_WORKER_USAGE_H

#include <stdint.h>

int		 worker_this_month(void);		/* yyyymm, UTC */
void		 worker_usage_save(void);
void		 worker_usage_load(void);
uint64_t	 worker_month_total(void);	/* every distribution's */

/*
 * This month's paths, every distribution's, as a daemon on state_dir
 * saved them: for `s3inval plan` (read only, never through a symlink; no
 * worker needed).  Returns 0, or -1 with *month_paths 0 and the reason in
 * why (no such file: no daemon has submitted anything this month here,
 * or never ran here).
 */
int		 worker_usage_read(const char *state_dir,
		    uint64_t *month_paths, char *why, size_t whysz);

#endif
