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

void
worker_map_cfg(const struct cfg_bucket *bk, struct inval_map_cfg *mc)
{
	memset(mc, 0, sizeof(*mc));
	mc->origin_path = bk->origin_path != NULL ? bk->origin_path : "";
	mc->index_documents = (const char *const *)bk->index_documents;
	mc->n_index_documents = bk->n_index_documents;
	mc->index_without_slash = bk->index_without_slash;
}

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
		worker_map_cfg(bk, &k.mc);
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

/* The month's figures once this plan's paths are in. */
static void
plan_cost(const struct worker_policy *p, uint64_t month_paths,
    struct worker_plan_out *out)
{
	out->month_paths = month_paths + out->plan.paths.n;
	out->billable = worker_billable(p, month_paths, out->plan.paths.n);
	out->cost_usd = (double)out->billable * CF_PRICE_PER_PATH;
	out->month_cost_usd = worker_month_cost(p, out->month_paths);
}

int
worker_plan_paths(const struct worker_plan_in *in, const char *const *paths,
    size_t n, struct worker_plan_out *out)
{
	struct worker_policy	 p;
	struct inval_plan_params pp;
	struct strvec		 known;
	int			 rc;

	memset(out, 0, sizeof(*out));
	strvec_init(&out->plan.paths);
	worker_policy_init(&p, in->cfg);
	out->budget = worker_budget_level(&p, in->month_paths);
	out->eviction_weight = worker_eviction_weight(&p, out->budget);
	strvec_init(&known);
	if (in->dist != NULL)
		inval_known_paths(in->cfg, in->index, in->dist, &known);
	memset(&pp, 0, sizeof(pp));
	pp.wildcard_threshold = in->cfg->cloudfront.wildcard_threshold;
	pp.max_wildcards = CF_MAX_WILDCARDS;
	if (known.n > 0) {
		pp.known = (const char *const *)known.v;
		pp.n_known = known.n;
		pp.eviction_weight = out->eviction_weight;
	}
	out->n_changed = n;
	out->n_known = known.n;
	rc = inval_plan(&pp, paths, n, &out->plan);
	strvec_fini(&known);
	if (rc == -1)
		return -1;
	plan_cost(&p, in->month_paths, out);
	return 0;
}

int
worker_plan_keys(const struct worker_plan_in *in,
    const struct cfg_bucket *bk, const char *const *keys, size_t n,
    struct worker_plan_out *out)
{
	struct inval_map_cfg	 mc;
	struct strvec		 paths;
	size_t			 i;
	int			 rc = -1;

	memset(out, 0, sizeof(*out));
	strvec_init(&out->plan.paths);
	worker_map_cfg(bk, &mc);
	strvec_init(&paths);
	for (i = 0; i < n; i++)
		if (inval_map_key(&mc, keys[i], &paths, NULL) == -1)
			goto out;
	/* As the worker takes a distribution's pending paths. */
	strvec_sort_unique(&paths);
	rc = worker_plan_paths(in, (const char *const *)paths.v, paths.n,
	    out);
out:
	strvec_fini(&paths);
	return rc;
}

void
worker_plan_out_fini(struct worker_plan_out *out)
{
	inval_plan_fini(&out->plan);
}

/* Out of memory planning: invalidate everything rather than nothing. */
static int
plan_everything(const struct worker_plan_in *in, struct worker_plan_out *out)
{
	worker_plan_out_fini(out);
	strvec_init(&out->plan.paths);
	if (strvec_push(&out->plan.paths, "/*") == -1)
		return -1;
	out->plan.n_wildcards = 1;
	out->plan.n_exact = out->plan.n_evicted = 0;
	plan_cost(&worker.policy, in->month_paths, out);
	return 0;
}

/*
 * Cut a plan into batches that each fit one CreateInvalidation: the
 * wildcards first, all in the first batch (the plan has at most 15), then
 * the file paths; at most 3,000 paths a request, wildcards included.
 * Returns the list, or NULL when out of memory (nothing kept).
 */
static struct batch *
cut_batches(const struct strvec *paths, uint64_t from, uint64_t upto,
    const char *dist)
{
	struct batch	*list = NULL, **tail = &list, *b = NULL;
	size_t		 i, n;
	int		 wild;

	for (wild = 1; wild >= 0; wild--) {
		for (i = 0; i < paths->n; i++) {
			n = strlen(paths->v[i]);
			if ((n > 0 && paths->v[i][n - 1] == '*') != wild)
				continue;
			if (b == NULL ||
			    (!wild && b->paths.n == CF_MAX_FILES)) {
				b = worker_batch_new(from, upto, dist);
				if (b == NULL)
					goto fail;
				*tail = b;
				tail = &b->next;
			}
			if (strvec_push(&b->paths, paths->v[i]) == -1)
				goto fail;
		}
	}
	return list;
fail:
	while ((b = list) != NULL) {
		list = b->next;
		worker_batch_free(b);
	}
	return NULL;
}

/*
 * The budget's level as this plan saw it: the log says when it changes
 * (near the free tier or the budget, fewer, wider paths).  mtx held.
 */
static void
note_budget(enum worker_budget level, uint64_t used)
{
	if (worker.budget_mode == worker_budget_name(level))
		return;
	if (level != WORKER_BUDGET_NORMAL)
		log_warn("budget: %.0f of %.0f paths used this month (%s): "
		    "preferring fewer, wider paths", (double)used,
		    worker_budget_paths(&worker.policy),
		    worker_budget_name(level));
	worker.budget_mode = worker_budget_name(level);
}

/*
 * Plan the taken paths of one distribution (worker_plan_paths(), as
 * `s3inval plan` does), cut the plan into batches, journal them and queue
 * them.  Worker thread; the mutex is not held on entry.  On a journal
 * failure the batch stays queued unjournaled and is journaled again before
 * it is sent.
 */
static void
plan_dist(size_t di, struct strvec *paths, uint64_t from, uint64_t upto,
    uint64_t keys, uint64_t skipped)
{
	struct worker_plan_in	 in;
	struct worker_plan_out	 out;
	struct batch		*list = NULL, *b, **bt;
	char			 dist[128];

	memset(&in, 0, sizeof(in));
	in.cfg = worker.cfg;
	in.dist = dist;
	in.index = worker.index;
	pthread_mutex_lock(&worker.mtx);
	snprintf(dist, sizeof(dist), "%s", worker.dists[di].id);
	in.month_paths = worker_month_total();
	pthread_mutex_unlock(&worker.mtx);
	if (worker_plan_paths(&in, (const char *const *)paths->v, paths->n,
	    &out) == -1) {
		log_error("plan for %s failed: sending /*", dist);
		if (plan_everything(&in, &out) == -1)
			goto out;
	}
	list = cut_batches(&out.plan.paths, from, upto, dist);
	if (list == NULL && out.plan.paths.n > 0) {
		log_error("out of memory cutting the plan for %s: sending /*",
		    dist);
		if (plan_everything(&in, &out) == 0)
			list = cut_batches(&out.plan.paths, from, upto, dist);
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
	note_budget(out.budget, in.month_paths);
	worker.dists[di].count[DM_NEEDLESS_EVICTIONS] +=
	    out.plan.n_evicted;
	pthread_mutex_unlock(&worker.mtx);
	/* What this batch costs, visibly (issue: "Visible cost"). */
	log_event(LOG_INFO, "plan", (struct log_field[]){
	    LOG_STR("distribution", dist),
	    LOG_NUM("keys_changed", keys),
	    LOG_NUM("keys_unchanged_skipped", skipped),
	    LOG_NUM("paths_changed", paths->n),
	    LOG_NUM("paths_exact", out.plan.n_exact),
	    LOG_NUM("paths_wildcard", out.plan.n_wildcards),
	    LOG_NUM("needless_evictions", out.n_known > 0 ?
	    (int64_t)out.plan.n_evicted : -1),
	    LOG_NUM("objects_known", out.n_known),
	    LOG_NUM("paths_month", out.month_paths),
	    LOG_NUM("cost_month_millicents",
	    (int64_t)(out.month_cost_usd * 100000.0)),
	    LOG_NUM("seq_from", from), LOG_NUM("seq_upto", upto) }, 12);
out:
	worker_plan_out_fini(&out);
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
