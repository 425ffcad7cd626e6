/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_policy: the worker's decisions on time, limits and money; pure
 * (see worker_policy.h for the rules and where they come from).
 *
 * Threading: none of its own; worker_pick() reads the distributions it is
 * given, so the worker calls it with worker.mtx held.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "worker_policy.h"
#include "worker_state.h"

void
worker_policy_init(struct worker_policy *p, const struct cfg *c)
{
	p->quiet_period_ms = c->cloudfront.quiet_period_ms;
	p->max_delay_ms = c->cloudfront.max_delay_ms;
	p->max_requests_per_second = c->cloudfront.max_requests_per_second;
	p->retry_base_ms = c->cloudfront.retry_base_ms;
	p->retry_max_ms = c->cloudfront.retry_max_ms;
	p->give_up_after_ms = c->cloudfront.give_up_after_ms;
	p->monthly_free_paths = c->cloudfront.monthly_free_paths;
	p->monthly_budget_usd = c->cloudfront.monthly_budget_usd;
	p->eviction_weight = c->cloudfront.eviction_weight;
}

int64_t
worker_deadline(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* --- coalescing ---------------------------------------------------------- */

int64_t
worker_window_end(const struct worker_policy *p, int64_t first_ms,
    int64_t last_ms)
{
	return worker_deadline(worker_quiet_end(p, last_ms),
	    first_ms + p->max_delay_ms);
}

int
worker_window_closed(const struct worker_policy *p, int64_t now,
    int64_t first_ms, int64_t last_ms, int flush)
{
	return worker_quiet_over(p, now, last_ms, flush) ||
	    now - first_ms >= p->max_delay_ms;
}

int64_t
worker_quiet_end(const struct worker_policy *p, int64_t last_ms)
{
	return last_ms + p->quiet_period_ms;
}

int
worker_quiet_over(const struct worker_policy *p, int64_t now,
    int64_t last_ms, int flush)
{
	return flush || now - last_ms >= p->quiet_period_ms;
}

/* --- limits and pacing --------------------------------------------------- */

int
worker_fits(size_t inflight_files, size_t inflight_wild, size_t files,
    size_t wild)
{
	return inflight_files + files <= CF_MAX_FILES &&
	    inflight_wild + wild <= CF_MAX_WILDCARDS;
}

int64_t
worker_pace(const struct worker_policy *p, int64_t now)
{
	return now + (int64_t)(1000.0 / p->max_requests_per_second);
}

int64_t
worker_backoff(const struct worker_policy *p, unsigned attempts,
    uint32_t jitter)
{
	int64_t		 d = p->retry_base_ms;
	unsigned	 i;

	for (i = 1; i < attempts && d < p->retry_max_ms; i++)
		d *= 2;
	if (d > p->retry_max_ms)
		d = p->retry_max_ms;
	/* Full jitter in the upper half: synchronized retries spread out
	 * (AWS Architecture Blog, "Exponential Backoff and Jitter"). */
	return d / 2 + (int64_t)(jitter % (uint32_t)(d / 2 + 1));
}

int
worker_give_up_now(const struct worker_policy *p, int64_t now,
    int64_t refused_ms)
{
	return refused_ms != 0 && now - refused_ms >= p->give_up_after_ms;
}

int64_t
worker_give_up_at(const struct worker_policy *p, int64_t refused_ms)
{
	return refused_ms != 0 ? refused_ms + p->give_up_after_ms : -1;
}

int64_t
worker_pick(const struct dist *dists, size_t n, int64_t now,
    int64_t next_call_ms, size_t *di, struct batch **pb, int *poll)
{
	const struct dist	*d;
	struct batch		*b;
	size_t			 i;
	int64_t			 due, best = -1;

	*pb = NULL;
	*di = 0;
	*poll = 0;
	for (i = 0; i < n; i++) {
		d = &dists[i];
		for (b = d->batches; b != NULL; b = b->next) {
			if (b->state == B_INFLIGHT)
				due = b->next_ms;
			else if (b->state == B_UNSENT &&
			    worker_fits(d->inflight_files, d->inflight_wild,
			    b->n_files, b->n_wild))
				due = b->next_ms < 0 ? 0 : b->next_ms;
			else if (b->state == B_UNSENT)
				break;	/* waits for capacity */
			else
				continue;
			if (best < 0 || due < best) {
				best = due;
				*pb = b;
				*di = i;
				*poll = b->state == B_INFLIGHT;
			}
			/* Later unsent batches wait for this one. */
			if (b->state == B_UNSENT)
				break;
		}
	}
	if (*pb == NULL)
		return -1;
	due = best < next_call_ms ? next_call_ms : best;
	if (due > now)
		*pb = NULL;
	return due;
}

/* --- money --------------------------------------------------------------- */

double
worker_budget_paths(const struct worker_policy *p)
{
	double	 allowed = (double)p->monthly_free_paths;

	if (p->monthly_budget_usd > 0)
		allowed += p->monthly_budget_usd / CF_PRICE_PER_PATH;
	return allowed;
}

enum worker_budget
worker_budget_level(const struct worker_policy *p, uint64_t month_paths)
{
	double	 allowed, ratio;

	allowed = worker_budget_paths(p);
	ratio = allowed > 0 ? (double)month_paths / allowed : 1.0;
	if (ratio < 0.8)
		return WORKER_BUDGET_NORMAL;
	return ratio < 1.0 ? WORKER_BUDGET_TIGHT : WORKER_BUDGET_OVER;
}

const char *
worker_budget_name(enum worker_budget level)
{
	static const char *const names[] = { "normal", "tight", "over" };

	return names[level];
}

double
worker_eviction_weight(const struct worker_policy *p,
    enum worker_budget level)
{
	static const double	 factor[] = { 1.0, 0.2, 0.02 };

	return p->eviction_weight * factor[level];
}

double
worker_month_cost(const struct worker_policy *p, uint64_t month_paths)
{
	if (month_paths <= p->monthly_free_paths)
		return 0.0;
	return (double)(month_paths - p->monthly_free_paths) *
	    CF_PRICE_PER_PATH;
}

uint64_t
worker_billable(const struct worker_policy *p, uint64_t month_paths,
    uint64_t n)
{
	uint64_t	 free_paths = p->monthly_free_paths;
	uint64_t	 before, after;

	before = month_paths > free_paths ? month_paths - free_paths : 0;
	after = month_paths + n > free_paths ? month_paths + n - free_paths :
	    0;
	return after - before;
}
