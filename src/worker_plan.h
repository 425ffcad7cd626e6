/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_plan: from the changed paths of a distribution to what the
 * worker submits (DESIGN §6), the one function that `s3inval plan` and the
 * worker both call, and the worker loop's planning step (see
 * worker_plan.c).
 *
 * worker_plan_paths() is the planning: the paths the distribution serves
 * as far as the ETag index knows (inval_known_paths()), the eviction
 * weight the month's budget calls for, CloudFront's wildcard limit, the
 * plan (inval_plan), and what it costs.  worker_plan_keys() maps a
 * bucket's keys first, as the worker does with each write.  Both read only
 * their arguments, the configuration and the index: safe from any thread,
 * with or without a running worker.
 */
#ifndef S3I_WORKER_PLAN_H
#define S3I_WORKER_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "etag_index.h"
#include "inval_map.h"
#include "inval_plan.h"
#include "worker_policy.h"

struct worker_plan_in {
	const struct cfg	*cfg;
	const char		*dist;		/* NULL: no distribution */
	struct etag_index	*index;		/* NULL: the threshold rule */
	/*
	 * Paths CloudFront accepted this calendar month (UTC) before this
	 * plan, every distribution's: they set the budget's level and the
	 * cost.  The worker counts a batch when CloudFront accepts it, so it
	 * plans every distribution of one deploy against the same figure.
	 */
	uint64_t		 month_paths;
};

struct worker_plan_out {
	struct inval_plan_result plan;	/* paths, sorted; n_exact,
					 * n_wildcards, n_evicted */
	size_t			 n_changed;	/* changed paths given */
	size_t			 n_known;	/* served paths the index
						 * knows; 0: threshold rule */
	enum worker_budget	 budget;	/* at month_paths */
	double			 eviction_weight; /* used when n_known > 0 */
	uint64_t		 month_paths;	/* with this plan's */
	uint64_t		 billable;	/* this plan's paths past
						 * the free ones */
	double			 cost_usd;	/* billable, priced */
	double			 month_cost_usd; /* of month_paths */
};

/* The paths to submit for changed paths of in->dist.  Returns 0, or -1
 * when out of memory; out is to be freed with worker_plan_out_fini()
 * either way. */
int	worker_plan_paths(const struct worker_plan_in *,
	    const char *const *paths, size_t n, struct worker_plan_out *);
/* The same for changed keys of bucket bk (mapped as the worker maps a
 * write's keys: worker_map_cfg(), inval_map_key()). */
int	worker_plan_keys(const struct worker_plan_in *,
	    const struct cfg_bucket *bk, const char *const *keys, size_t n,
	    struct worker_plan_out *);
void	worker_plan_out_fini(struct worker_plan_out *);

/* How bucket bk's keys become its distributions' paths (DESIGN §5). */
void	worker_map_cfg(const struct cfg_bucket *bk, struct inval_map_cfg *);

/* The loop's planning step: every distribution whose coalescing window
 * has closed (or all, on a flush) is planned into batches, journaled and
 * queued.  Worker thread; mtx held, released while planning. */
void	worker_plan_due(int64_t now);
/* When the next window closes (mono ms), -1: none.  mtx held. */
int64_t	worker_plan_next(void);

#endif
