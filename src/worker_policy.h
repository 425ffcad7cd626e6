/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_policy: the invalidation worker's decisions that depend on time,
 * limits and money, as pure functions: no I/O, no globals, no clock and
 * no randomness of their own.  The time is an argument (mono ms), and so
 * is the jitter, so tests run them on a fake clock (test_worker.c).
 *
 * - Coalescing (DESIGN §5): a distribution's pending paths are planned
 *   once no write came for quiet_period, or max_delay after the first
 *   pending one, or at once on a flush.
 * - CloudFront's limits (Developer Guide, "Concurrent invalidation request
 *   maximum"): per distribution, at most 3,000 file paths and 15 wildcard
 *   paths in progress; a batch that does not fit waits until running ones
 *   complete.  One request holds at most 3,000 paths.
 * - Pacing: one call at a time, at most max_requests_per_second.  The
 *   call due first goes first, whatever its distribution.
 * - Backoff: throttling and 5xx are retried after retry_base doubled per
 *   attempt up to retry_max, with jitter in the upper half (AWS
 *   Architecture Blog, "Exponential Backoff and Jitter").
 * - give_up_after: a distribution that refuses its paths
 *   (NoSuchDistribution, AccessDenied) keeps them that long.
 * - Cost (CloudFront pricing, "Invalidation requests"): monthly_free_paths
 *   a month free, then $0.005 a path; near the free tier or the budget,
 *   paths cost more than evictions, so the planner weighs evictions less.
 */
#ifndef S3I_WORKER_POLICY_H
#define S3I_WORKER_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

#define CF_MAX_FILES		3000	/* in progress, and in one request */
#define CF_MAX_WILDCARDS	15	/* in progress */
#define CF_PRICE_PER_PATH	0.005	/* USD, beyond the free paths */

struct batch;
struct dist;

/* The configuration the decisions read ([cloudfront]). */
struct worker_policy {
	int64_t		 quiet_period_ms;
	int64_t		 max_delay_ms;
	double		 max_requests_per_second;	/* > 0 */
	int64_t		 retry_base_ms;
	int64_t		 retry_max_ms;
	int64_t		 give_up_after_ms;
	unsigned	 monthly_free_paths;
	double		 monthly_budget_usd;		/* 0: none */
	double		 eviction_weight;
};

void	worker_policy_init(struct worker_policy *, const struct cfg *);

/* The earlier of two deadlines (mono ms), -1 meaning none. */
int64_t	worker_deadline(int64_t, int64_t);

/*
 * Coalescing.  A window opened by a write at first_ms whose last write
 * came at last_ms closes at worker_window_end(); worker_window_closed()
 * says whether it has by now (or a flush closes it).  The quiet part
 * alone (worker_quiet_*) ends the figures line of a deploy whose writes
 * all stored the same bytes.
 */
int64_t	worker_window_end(const struct worker_policy *, int64_t first_ms,
	    int64_t last_ms);
int	worker_window_closed(const struct worker_policy *, int64_t now,
	    int64_t first_ms, int64_t last_ms, int flush);
int64_t	worker_quiet_end(const struct worker_policy *, int64_t last_ms);
int	worker_quiet_over(const struct worker_policy *, int64_t now,
	    int64_t last_ms, int flush);

/* 1 when a batch of files and wild paths fits beside those in progress. */
int	worker_fits(size_t inflight_files, size_t inflight_wild, size_t files,
	    size_t wild);

/* When the next call may start after one that ended at now. */
int64_t	worker_pace(const struct worker_policy *, int64_t now);

/*
 * How long to wait before attempt attempts + 1 (attempts >= 1): the
 * delay d = retry_base * 2^(attempts - 1), at most retry_max, then a
 * point in [d/2, d] picked by jitter, a uniform 32-bit random number from
 * the caller's source.
 */
int64_t	worker_backoff(const struct worker_policy *, unsigned attempts,
	    uint32_t jitter);

/* A distribution refused since refused_ms (0: not refused): whether its
 * paths are dropped now, and when they will be (-1: never). */
int	worker_give_up_now(const struct worker_policy *, int64_t now,
	    int64_t refused_ms);
int64_t	worker_give_up_at(const struct worker_policy *, int64_t refused_ms);

/*
 * The one CloudFront call due first among n distributions: the poll of a
 * batch in progress, or the first unsent batch of a distribution once it
 * fits the limits (later unsent ones wait for it; next_ms < 0 means at
 * once), paced by next_call_ms.  Returns when it is due (-1: nothing to
 * call); *di, *b and *poll name it, *b only when it is due by now (else
 * NULL).
 */
int64_t	worker_pick(const struct dist *, size_t n, int64_t now,
	    int64_t next_call_ms, size_t *di, struct batch **b, int *poll);

/* The month's budget: how much of it used paths take. */
enum worker_budget {
	WORKER_BUDGET_NORMAL = 0,	/* under 80% */
	WORKER_BUDGET_TIGHT,		/* 80% to 100% */
	WORKER_BUDGET_OVER
};

/* The paths a month allows: the free ones and what the budget buys. */
double	worker_budget_paths(const struct worker_policy *);
enum worker_budget worker_budget_level(const struct worker_policy *,
	    uint64_t month_paths);
const char *worker_budget_name(enum worker_budget);
/* The planner's eviction weight at this level. */
double	worker_eviction_weight(const struct worker_policy *,
	    enum worker_budget);
/* What month_paths cost this month, in USD. */
double	worker_month_cost(const struct worker_policy *, uint64_t month_paths);
/* How many of n more paths, after month_paths, are past the free ones. */
uint64_t worker_billable(const struct worker_policy *, uint64_t month_paths,
	    uint64_t n);

#endif
