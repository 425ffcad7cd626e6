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

/* The loop's planning step: every distribution whose coalescing window
 * has closed (or all, on a flush) is planned into batches, journaled and
 * queued.  Worker thread; mtx held, released while planning. */
void	worker_plan_due(int64_t now);
/* When the next window closes (mono ms), -1: none.  mtx held. */
int64_t	worker_plan_next(void);

#endif
