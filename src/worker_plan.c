/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_plan: from the changed paths of one distribution to its batches
 * (DESIGN §6): the paths the distribution serves now as far as the ETag
 * index knows (what a wildcard would evict), the eviction weight the
 * month's budget calls for, the plan (inval_plan), cut into batches that
 * fit CloudFront's limits, journaled and queued.
 *
 * Threading: the worker thread plans without the mutex and takes it to
 * read the month's figures and to queue the batches.  inval_known_paths()
 * reads only the configuration and the index (thread-safe).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inval_map.h"
#include "inval_plan.h"
#include "log.h"
#include "util.h"
#include "worker_journal.h"
#include "worker_plan.h"
#include "worker_policy.h"
#include "worker_state.h"
#include "worker_usage.h"

struct known_ctx {
	struct inval_map_cfg	 mc;
	struct strvec		*out;
	int			 oom;
};

static int
known_cb(void *arg, const char *key)
{
	struct known_ctx	*k = arg;

	if (inval_map_key(&k->mc, key, k->out, NULL) == -1) {
		k->oom = 1;
		return 1;
	}
	return 0;
}

void
inval_known_paths(const struct cfg *cfg, struct etag_index *idx,
    const char *dist, struct strvec *out)
{
	const struct cfg_bucket	*bk;
	struct known_ctx	 k;
	size_t			 i, j;

	if (idx == NULL)
		return;
	for (i = 0; i < cfg->n_buckets; i++) {
		bk = &cfg->buckets[i];
		if (strcmp(bk->name, "*") == 0 || bk->index != CFG_INDEX_LEARN)
			continue;
		for (j = 0; j < bk->n_distributions; j++)
			if (strcmp(bk->distributions[j], dist) == 0)
				break;
		if (j == bk->n_distributions)
			continue;
		/* Only a key set known whole is worth planning with: one
		 * bucket of this distribution not listed completely within
		 * index_max_age, and the plan falls back to the threshold
		 * rule (unknown objects would be evicted uncounted). */
		if (etag_index_listed_at(idx, bk->name) < util_now() -
		    bk->index_max_age_ms / 1000) {
			strvec_fini(out);
			strvec_init(out);
			return;
		}
		memset(&k, 0, sizeof(k));
		k.mc.origin_path = bk->origin_path != NULL ?
		    bk->origin_path : "";
		k.mc.index_documents = (const char *const *)bk->index_documents;
		k.mc.n_index_documents = bk->n_index_documents;
		k.mc.index_without_slash = bk->index_without_slash;
		k.out = out;
		etag_index_each(idx, bk->name, known_cb, &k);
		if (k.oom) {
			strvec_fini(out);
			strvec_init(out);
			return;
		}
	}
	strvec_sort_unique(out);
}

/*
 * Near the free tier or the budget, paths cost more than evictions: the
 * planner is told so by a smaller eviction weight, and the log says when
 * the level changes.  mtx held.
 */
static double
budget_weight(void)
{
	enum worker_budget	 level;
	uint64_t		 used = worker_month_total();

	level = worker_budget_level(&worker.policy, used);
	if (worker.budget_mode != worker_budget_name(level)) {
		if (level != WORKER_BUDGET_NORMAL)
			log_warn("budget: %.0f of %.0f paths used this month "
			    "(%s): preferring fewer, wider paths", (double)used,
			    worker_budget_paths(&worker.policy),
			    worker_budget_name(level));
		worker.budget_mode = worker_budget_name(level);
	}
	return worker_eviction_weight(&worker.policy, level);
}

/*
 * Plan the taken paths of one distribution into batches that each fit
 * CloudFront's limits, journal them, and queue them.  Worker thread; the
 * mutex is not held on entry.  On a journal failure the batch stays queued
 * unjournaled and is journaled again before it is sent.
 */
static void
plan_dist(size_t di, struct strvec *paths, uint64_t from, uint64_t upto,
    uint64_t keys, uint64_t skipped)
{
	struct inval_plan_params pp;
	struct inval_plan_result res;
	struct batch		*list = NULL, **tail = &list, *b = NULL;
	struct batch		**bt;
	struct strvec		 known;
	char			 dist[128];
	size_t			 i, n;
	uint64_t		 month;
	int			 wild;
	double			 weight;

	pthread_mutex_lock(&worker.mtx);
	snprintf(dist, sizeof(dist), "%s", worker.dists[di].id);
	weight = budget_weight();
	pthread_mutex_unlock(&worker.mtx);
	strvec_init(&known);
	inval_known_paths(worker.cfg, worker.index, dist, &known);
	memset(&pp, 0, sizeof(pp));
	pp.wildcard_threshold = worker.cfg->cloudfront.wildcard_threshold;
	pp.max_wildcards = CF_MAX_WILDCARDS;
	if (known.n > 0) {
		pp.known = (const char *const *)known.v;
		pp.n_known = known.n;
		pp.eviction_weight = weight;
	}
	memset(&res, 0, sizeof(res));
	if (inval_plan(&pp, (const char *const *)paths->v, paths->n,
	    &res) == -1) {
		/* Out of memory: invalidate everything rather than nothing. */
		log_error("plan for %s failed: sending /*", dist);
		inval_plan_fini(&res);
		strvec_init(&res.paths);
		if (strvec_push(&res.paths, "/*") == -1)
			goto out;
		res.n_wildcards = 1;
	}
	/* Wildcards first, all in the first batch (at most 15), then file
	 * paths; at most 3,000 paths a request. */
	for (wild = 1; wild >= 0; wild--) {
		for (i = 0; i < res.paths.n; i++) {
			n = strlen(res.paths.v[i]);
			if ((n > 0 && res.paths.v[i][n - 1] == '*') != wild)
				continue;
			/* At most 3,000 paths in one request, wildcards
			 * included (CreateInvalidation's batch limit). */
			if (b == NULL ||
			    (!wild && b->paths.n == CF_MAX_FILES)) {
				b = worker_batch_new(from, upto, dist);
				if (b == NULL)
					goto out;
				*tail = b;
				tail = &b->next;
			}
			if (strvec_push(&b->paths, res.paths.v[i]) == -1)
				goto out;
		}
	}
	for (b = list; b != NULL; b = b->next) {
		worker_batch_count(b);
		worker_batch_ref(b, dist);
		if (worker_journal_batch(b, dist) == -1) {
			log_error("journal: cannot record a batch for %s: %s; "
			    "it is kept in memory and recorded before it is "
			    "sent", dist, strerror(errno));
			b->attempts = 0;
			b->state = B_UNSENT;
			b->inval_id = NULL;
			b->next_ms = -1;	/* -1: not journaled yet */
		}
	}
	pthread_mutex_lock(&worker.mtx);
	worker.dists[di].evictions += res.n_evicted;
	month = worker_month_total() + res.paths.n;
	pthread_mutex_unlock(&worker.mtx);
	/* What this batch costs, visibly (issue: "Visible cost"). */
	log_event(LOG_INFO, "plan", (struct log_field[]){
	    LOG_STR("distribution", dist),
	    LOG_NUM("keys_changed", keys),
	    LOG_NUM("keys_unchanged_skipped", skipped),
	    LOG_NUM("paths_changed", paths->n),
	    LOG_NUM("paths_exact", res.n_exact),
	    LOG_NUM("paths_wildcard", res.n_wildcards),
	    LOG_NUM("needless_evictions", known.n > 0 ?
	    (int64_t)res.n_evicted : -1),
	    LOG_NUM("objects_known", known.n),
	    LOG_NUM("paths_month", month),
	    LOG_NUM("cost_month_millicents",
	    (int64_t)(worker_month_cost(&worker.policy, month) * 100000.0)),
	    LOG_NUM("seq_from", from), LOG_NUM("seq_upto", upto) }, 12);
out:
	inval_plan_fini(&res);
	strvec_fini(&known);
	pthread_mutex_lock(&worker.mtx);
	for (bt = &worker.dists[di].batches; *bt != NULL; bt = &(*bt)->next)
		;
	*bt = list;
	worker.dists[di].planning_from = 0;
	for (b = list; b != NULL; b = b->next)
		worker_recent_note(b, dist, "planned");
	pthread_mutex_unlock(&worker.mtx);
}

/*
 * Take distribution d's pending paths for planning: they are neither
 * pending nor in batches while planned, but still open to a flush
 * (planning_from).  mtx held.
 */
static void
take_pending(struct dist *d, struct strvec *taken, uint64_t *from,
    uint64_t *upto, uint64_t *keys, uint64_t *skipped)
{
	*taken = d->pending;
	strvec_init(&d->pending);
	*from = d->pending_from;
	*upto = d->pending_upto;
	d->planning_from = *from;
	*keys = d->keys_pending;
	*skipped = d->skipped_pending;
	d->keys_pending = d->skipped_pending = 0;
	if (*upto > d->covered)
		d->covered = *upto;
	d->pending_from = d->pending_upto = 0;
	d->first_ms = d->last_ms = 0;
}

/*
 * Coalescing (DESIGN §5): plan a distribution once it has been quiet for
 * quiet_period, or max_delay after its first pending write, or at once on
 * a flush.  A deploy whose every write stored the same bytes has nothing
 * to submit, but its figures get their line too.  Worker thread; mtx held
 * on entry and return, released while planning.
 */
void
worker_plan_due(int64_t now)
{
	struct strvec		 taken;
	struct dist		*d;
	uint64_t		 from, upto, keys, skipped;
	size_t			 i;

	for (i = 0; i < worker.n_dists; i++) {
		d = &worker.dists[i];
		if (d->pending.n == 0)
			continue;
		if (!worker_window_closed(&worker.policy, now, d->first_ms,
		    d->last_ms, worker.flush_now))
			continue;
		take_pending(d, &taken, &from, &upto, &keys, &skipped);
		pthread_mutex_unlock(&worker.mtx);
		strvec_sort_unique(&taken);
		plan_dist(i, &taken, from, upto, keys, skipped);
		strvec_fini(&taken);
		pthread_mutex_lock(&worker.mtx);
		worker.dirty = 1;
	}
	for (i = 0; i < worker.n_dists; i++) {
		d = &worker.dists[i];
		if (d->pending.n > 0 || d->skipped_pending == 0 ||
		    !worker_quiet_over(&worker.policy, now, d->last_skip_ms,
		    worker.flush_now))
			continue;
		log_event(LOG_INFO, "plan", (struct log_field[]){
		    LOG_STR("distribution", d->id),
		    LOG_NUM("keys_changed", 0),
		    LOG_NUM("keys_unchanged_skipped", d->skipped_pending),
		    LOG_NUM("paths_exact", 0),
		    LOG_NUM("paths_wildcard", 0),
		    LOG_NUM("paths_month", worker_month_total()) }, 6);
		d->skipped_pending = 0;
	}
}

/* When worker_plan_due() has work next (mono ms), -1: none.  mtx held. */
int64_t
worker_plan_next(void)
{
	struct dist	*d;
	int64_t		 next = -1;
	size_t		 i;

	for (i = 0; i < worker.n_dists; i++) {
		d = &worker.dists[i];
		if (d->pending.n > 0)
			next = worker_deadline(next, worker_window_end(
			    &worker.policy, d->first_ms, d->last_ms));
		else if (d->skipped_pending > 0)
			next = worker_deadline(next, worker_quiet_end(
			    &worker.policy, d->last_skip_ms));
	}
	return next;
}
