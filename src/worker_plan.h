/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_plan: from the changed paths of a distribution to its batches
 * (see worker_plan.c).
 */
#ifndef S3I_WORKER_PLAN_H
#define S3I_WORKER_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "inval_map.h"

/* Plan the taken paths of distribution di into batches, journal and
 * queue them.  Worker thread, no mutex. */
void	worker_plan_dist(size_t di, struct strvec *paths, uint64_t from,
	    uint64_t upto, uint64_t keys, uint64_t skipped);

#endif
