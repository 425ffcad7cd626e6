/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_status: what the worker shows: /status's "invalidation" object
 * (JSON), its series of /metrics (Prometheus text) and a flush's answer
 * (JSON).  Rendering only.
 *
 * Threading: called from the admin listener's threads; reads the shared
 * state under worker.mtx, the journal's figures through journal_get_stats.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "journal.h"
#include "jstr.h"
#include "metrics.h"
#include "util.h"
#include "worker_policy.h"
#include "worker_state.h"
#include "worker_usage.h"

static const char *const batch_state_names[] = {
	"pending", "in_progress", "completed"
};

/* Paths pending and batches open, over every distribution.  mtx held. */
static void
count_open(uint64_t *pending, uint64_t *open)
{
	struct batch	*b;
	size_t		 i;

	*pending = *open = 0;
	for (i = 0; i < worker.n_dists; i++) {
		*pending += worker.dists[i].pending.n;
		for (b = worker.dists[i].batches; b != NULL; b = b->next)
			(*open)++;
	}
}

/* The worker's series of /metrics (metrics_table.h). */
void
inval_metrics(struct buf *b)
{
	struct journal_stats	 st;
	const char		*id;
	size_t			 i, k;
	uint64_t		 pending = 0, open = 0;
	enum metric		 m;

	memset(&st, 0, sizeof(st));
	if (worker.started)
		journal_get_stats(worker.j, &st);
	pthread_mutex_lock(&worker.mtx);
	count_open(&pending, &open);
	metrics_single(b, M_WRITES_RECORDED, metrics_get(M_WRITES_RECORDED));
	metrics_single(b, M_KEYS_RECORDED, metrics_get(M_KEYS_RECORDED));
	metrics_single(b, M_PATHS_PENDING, pending);
	metrics_single(b, M_BATCHES_OPEN, open);
	for (k = 0; k < DM__COUNT; k++) {
		m = metrics_of_dist((enum dist_metric)k);
		metrics_head(b, m);
		for (i = 0; i < worker.n_dists; i++) {
			id = worker.dists[i].id;
			metrics_put(b, m, &id, worker.dists[i].count[k]);
		}
	}
	metrics_head(b, M_MONTH_PATHS);
	for (i = 0; i < worker.n_dists; i++) {
		id = worker.dists[i].id;
		metrics_put(b, M_MONTH_PATHS, &id, worker.dists[i].month_paths);
	}
	metrics_single_f(b, M_MONTH_COST,
	    worker_month_cost(&worker.policy, worker_month_total()));
	metrics_single(b, M_INDEX_BYTES, worker.index != NULL ?
	    etag_index_bytes(worker.index) : 0);
	metrics_single(b, M_JOURNAL_BYTES, st.size);
	metrics_single(b, M_JOURNAL_SYNCS, st.syncs);
	metrics_single(b, M_JOURNAL_ERRORS, metrics_get(M_JOURNAL_ERRORS));
	metrics_single(b, M_JOURNAL_DAMAGED_BYTES,
	    worker.jopen.bytes_damaged + worker.jopen.bytes_garbage);
	metrics_single(b, M_JOURNAL_TORN_BYTES, worker.jopen.bytes_torn);
	pthread_mutex_unlock(&worker.mtx);
}

/* The JSON of a flush's answer and of /status, through jansson: strings
 * from outside (ids, reasons, paths) by jstr_new(), which escapes invalid
 * UTF-8.  json_pack() fails (NULL) when out of memory, and so do the
 * objects that would hold what it returned. */

/* a with v appended (taken); NULL, both dropped, when either is NULL or
 * out of memory. */
static json_t *
push(json_t *a, json_t *v)
{
	if (a == NULL) {
		json_decref(v);
		return NULL;
	}
	/* json_array_append_new() takes v even when it fails. */
	if (json_array_append_new(a, v) == -1) {
		json_decref(a);
		return NULL;
	}
	return a;
}

int
inval_flush_json(struct buf *b, const struct inval_flush_result *res)
{
	const struct inval_flush_failed *f;
	json_t	*failed = json_array(), *o;
	size_t	 i;
	int	 rc;

	for (i = 0; i < res->n_failed && failed != NULL; i++) {
		f = &res->failed[i];
		failed = push(failed, json_pack("{s:o,s:I,s:o,s:I}",
		    "distribution", jstr_new(f->distribution),
		    "paths", (json_int_t)f->paths,
		    "reason", jstr_new(f->reason),
		    "gives_up_in_s", (json_int_t)((f->give_up_in_ms + 999) /
		    1000)));
	}
	o = json_pack("{s:b,s:I,s:I,s:I,s:b,s:o}", "done", res->done,
	    "paths_pending", (json_int_t)res->pending_paths,
	    "batches_open", (json_int_t)res->batches_open,
	    "waited_ms", (json_int_t)res->waited_ms,
	    "stopping", res->stopping, "failed", failed);
	rc = jstr_dump(b, o) == 0 && buf_putc(b, '\n') == 0 ? 0 : -1;
	json_decref(o);
	return rc;
}

/* A JSON array of the strings of v; NULL when out of memory. */
static json_t *
json_strvec(const struct strvec *v)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < v->n && a != NULL; i++)
		a = push(a, jstr_new(v->v[i]));
	return a;
}

/* One of /status's "distributions".  mtx held. */
static json_t *
json_dist(const struct dist *d, int64_t now)
{
	const struct batch	*bt;
	size_t			 unsent = 0, inflight = 0;

	for (bt = d->batches; bt != NULL; bt = bt->next) {
		if (bt->state == B_INFLIGHT)
			inflight++;
		else
			unsent++;
	}
	/* A success clears a transient error; a rejected path stays the last
	 * error until another error replaces it.  Refusing
	 * (NoSuchDistribution, AccessDenied): since when, why, and when its
	 * paths are dropped. */
	return json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
	    "s:I,s:o,s:o,s:I,s:I,s:I,s:o}",
	    "id", jstr_new(d->id),
	    "paths_pending", (json_int_t)d->pending.n,
	    "batches_waiting", (json_int_t)unsent,
	    "batches_in_progress", (json_int_t)inflight,
	    "file_paths_in_progress", (json_int_t)d->inflight_files,
	    "wildcards_in_progress", (json_int_t)d->inflight_wild,
	    "paths_month", (json_int_t)d->month_paths,
	    "batches_sent", (json_int_t)d->count[DM_BATCHES_SENT],
	    "batches_retried", (json_int_t)d->count[DM_BATCHES_RETRIED],
	    "batches_failed", (json_int_t)d->count[DM_BATCHES_FAILED],
	    "paths_rejected", (json_int_t)d->count[DM_PATHS_REJECTED],
	    "keys_unchanged", (json_int_t)d->count[DM_KEYS_UNCHANGED],
	    "needless_evictions", (json_int_t)d->count[DM_NEEDLESS_EVICTIONS],
	    "last_rejected", jstr_new(d->last_rejected),
	    "last_error", jstr_new(d->last_error[0] != '\0' ? d->last_error :
	    d->last_rejected),
	    "refused_for_s", (json_int_t)(d->refused_ms != 0 ?
	    (now - d->refused_ms) / 1000 : 0),
	    "gives_up_in_s", (json_int_t)(d->refused_ms != 0 ? (d->refused_ms +
	    worker.cfg->cloudfront.give_up_after_ms - now + 999) / 1000 : 0),
	    "paths_given_up", (json_int_t)d->count[DM_PATHS_GIVEN_UP],
	    "refused", jstr_new(d->refused_why));
}

/* One of /status's "recent_batches": paths is how many it has, first_paths
 * the first RECENT_PATHS of them.  mtx held. */
static json_t *
json_recent(const struct recent *r)
{
	return json_pack("{s:I,s:o,s:I,s:I,s:o,s:s,s:I,s:I,s:o,s:o}",
	    "batch", (json_int_t)r->id,
	    "distribution", jstr_new(r->dist),
	    "paths", (json_int_t)r->n_paths,
	    "wildcards", (json_int_t)r->n_wild,
	    "invalidation_id", jstr_new(r->inval_id),
	    "state", batch_state_names[r->state],
	    "created", (json_int_t)r->created,
	    "completed", (json_int_t)r->completed,
	    "note", jstr_new(r->note),
	    "first_paths", json_strvec(&r->paths));
}

json_t *
inval_status_json(void)
{
	struct journal_stats st;
	json_t		*dists = json_array(), *recent = json_array();
	size_t		 i;
	uint64_t	 pending = 0, open = 0, total;
	int64_t		 now = util_mono_ms();
	json_t		*o;

	memset(&st, 0, sizeof(st));
	if (worker.started)
		journal_get_stats(worker.j, &st);
	pthread_mutex_lock(&worker.mtx);
	count_open(&pending, &open);
	total = worker_month_total();
	for (i = 0; i < worker.n_dists && dists != NULL; i++)
		dists = push(dists, json_dist(&worker.dists[i], now));
	for (i = 0; i < worker.n_recent && recent != NULL; i++)
		recent = push(recent,
		    json_recent(&worker.recent[worker.n_recent - 1 - i]));
	o = json_pack("{s:I,s:I,s:I,s:I,s:{s:I,s:I,s:f,s:s},"
	    "s:{s:I,s:b,s:I,s:I,s:b,s:b,s:o},s:o,s:o}",
	    "paths_pending", (json_int_t)pending,
	    "batches_open", (json_int_t)open,
	    "writes_recorded", (json_int_t)metrics_get(M_WRITES_RECORDED),
	    "journal_errors", (json_int_t)metrics_get(M_JOURNAL_ERRORS),
	    "month",
	    "paths", (json_int_t)total,
	    "free_paths", (json_int_t)(worker.cfg != NULL ?
	    worker.cfg->cloudfront.monthly_free_paths : 1000),
	    "estimated_cost_usd", worker_month_cost(&worker.policy, total),
	    "budget", worker.budget_mode != NULL ? worker.budget_mode :
	    "normal",
	    "journal",
	    "bytes", (json_int_t)st.size,
	    "writable", !st.failing,
	    "damaged_bytes", (json_int_t)(worker.jopen.bytes_damaged +
	    worker.jopen.bytes_garbage),
	    "torn_bytes", (json_int_t)worker.jopen.bytes_torn,
	    "lost", worker.jopen.lost != 0,
	    "recovering", st.lost != 0,
	    "damage", jstr_new(worker.jopen.damage),
	    "distributions", dists,
	    "recent_batches", recent);
	pthread_mutex_unlock(&worker.mtx);
	return o;
}
