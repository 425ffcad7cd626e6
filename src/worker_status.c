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
	metrics_single(b, M_WRITES_RECORDED, worker.writes_recorded);
	metrics_single(b, M_KEYS_RECORDED, worker.keys_recorded);
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
	metrics_single(b, M_JOURNAL_ERRORS, worker.journal_errors);
	metrics_single(b, M_JOURNAL_DAMAGED_BYTES,
	    worker.jopen.bytes_damaged + worker.jopen.bytes_garbage);
	metrics_single(b, M_JOURNAL_TORN_BYTES, worker.jopen.bytes_torn);
	pthread_mutex_unlock(&worker.mtx);
}

static void
json_str(struct buf *b, const char *s)
{
	const unsigned char *p;

	buf_putc(b, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			buf_printf(b, "\\u%04x", *p);
		else
			buf_putc(b, (char)*p);
	}
	buf_putc(b, '"');
}

void
inval_flush_json(struct buf *b, const struct inval_flush_result *res)
{
	const struct inval_flush_failed *f;
	size_t	 i;

	buf_printf(b, "{\"done\":%s,\"paths_pending\":%" PRIu64
	    ",\"batches_open\":%" PRIu64 ",\"waited_ms\":%" PRId64
	    ",\"stopping\":%s,\"failed\":[", res->done ? "true" : "false",
	    res->pending_paths, res->batches_open, res->waited_ms,
	    res->stopping ? "true" : "false");
	for (i = 0; i < res->n_failed; i++) {
		f = &res->failed[i];
		buf_printf(b, "%s{\"distribution\":", i > 0 ? "," : "");
		json_str(b, f->distribution);
		buf_printf(b, ",\"paths\":%" PRIu64 ",\"reason\":", f->paths);
		json_str(b, f->reason);
		buf_printf(b, ",\"gives_up_in_s\":%" PRId64 "}",
		    (f->give_up_in_ms + 999) / 1000);
	}
	buf_puts(b, "]}\n");
}

void
inval_status_json(struct buf *b)
{
	struct journal_stats st;
	struct batch	*bt;
	struct dist	*d;
	size_t		 i, unsent, inflight;
	uint64_t	 pending = 0, open = 0, total;
	int64_t		 now = util_mono_ms();

	memset(&st, 0, sizeof(st));
	if (worker.started)
		journal_get_stats(worker.j, &st);
	pthread_mutex_lock(&worker.mtx);
	count_open(&pending, &open);
	total = worker_month_total();
	buf_printf(b, "{\"paths_pending\":%" PRIu64 ",\"batches_open\":%"
	    PRIu64 ",\"writes_recorded\":%" PRIu64 ",\"journal_errors\":%"
	    PRIu64 ",\"month\":{\"paths\":%" PRIu64 ",\"free_paths\":%u,"
	    "\"estimated_cost_usd\":%.3f,\"budget\":\"%s\"},",
	    pending, open, worker.writes_recorded, worker.journal_errors, total,
	    worker.cfg != NULL ? worker.cfg->cloudfront.monthly_free_paths :
	    1000,
	    worker_month_cost(&worker.policy, total),
	    worker.budget_mode != NULL ? worker.budget_mode : "normal");
	buf_printf(b, "\"journal\":{\"bytes\":%" PRIu64 ",\"writable\":%s,"
	    "\"damaged_bytes\":%" PRIu64 ",\"torn_bytes\":%" PRIu64
	    ",\"lost\":%s,\"recovering\":%s,\"damage\":", st.size,
	    st.failing ? "false" : "true",
	    worker.jopen.bytes_damaged + worker.jopen.bytes_garbage,
	    worker.jopen.bytes_torn,
	    worker.jopen.lost ? "true" : "false", st.lost ? "true" : "false");
	json_str(b, worker.jopen.damage);
	buf_puts(b, "},\"distributions\":[");
	for (i = 0; i < worker.n_dists; i++) {
		d = &worker.dists[i];
		unsent = inflight = 0;
		for (bt = d->batches; bt != NULL; bt = bt->next) {
			if (bt->state == B_INFLIGHT)
				inflight++;
			else
				unsent++;
		}
		buf_printf(b, "%s{\"id\":", i ? "," : "");
		json_str(b, d->id);
		buf_printf(b, ",\"paths_pending\":%zu,\"batches_waiting\":%zu,"
		    "\"batches_in_progress\":%zu,\"file_paths_in_progress\":%zu,"
		    "\"wildcards_in_progress\":%zu,\"paths_month\":%" PRIu64
		    ",\"batches_sent\":%" PRIu64 ",\"batches_retried\":%" PRIu64
		    ",\"batches_failed\":%" PRIu64 ",\"paths_rejected\":%" PRIu64
		    ",\"keys_unchanged\":%" PRIu64 ",\"needless_evictions\":%"
		    PRIu64 ",\"last_rejected\":", d->pending.n, unsent, inflight,
		    d->inflight_files, d->inflight_wild, d->month_paths,
		    d->count[DM_BATCHES_SENT], d->count[DM_BATCHES_RETRIED],
		    d->count[DM_BATCHES_FAILED], d->count[DM_PATHS_REJECTED],
		    d->count[DM_KEYS_UNCHANGED],
		    d->count[DM_NEEDLESS_EVICTIONS]);
		json_str(b, d->last_rejected);
		/* A success clears a transient error; a rejected path stays
		 * the last error until another error replaces it. */
		buf_puts(b, ",\"last_error\":");
		json_str(b, d->last_error[0] != '\0' ? d->last_error :
		    d->last_rejected);
		/* Refusing (NoSuchDistribution, AccessDenied): since when,
		 * why, and when its paths are dropped. */
		buf_printf(b, ",\"refused_for_s\":%" PRId64 ",\"gives_up_in_s\":"
		    "%" PRId64 ",\"paths_given_up\":%" PRIu64 ",\"refused\":",
		    d->refused_ms != 0 ? (now - d->refused_ms) / 1000 : 0,
		    d->refused_ms != 0 ? (d->refused_ms + worker.cfg->
		    cloudfront.give_up_after_ms - now + 999) / 1000 : 0,
		    d->count[DM_PATHS_GIVEN_UP]);
		json_str(b, d->refused_why);
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"recent_batches\":[");
	for (i = 0; i < worker.n_recent; i++) {
		struct recent *r = &worker.recent[worker.n_recent - 1 - i];

		buf_printf(b, "%s{\"batch\":%" PRIu64 ",\"distribution\":",
		    i ? "," : "", r->id);
		json_str(b, r->dist);
		buf_printf(b, ",\"paths\":%zu,\"wildcards\":%zu,"
		    "\"invalidation_id\":", r->n_paths, r->n_wild);
		json_str(b, r->inval_id);
		buf_printf(b, ",\"state\":\"%s\",\"created\":%lld,"
		    "\"completed\":%lld,\"note\":", batch_state_names[r->state],
		    (long long)r->created, (long long)r->completed);
		json_str(b, r->note);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
	pthread_mutex_unlock(&worker.mtx);
}
