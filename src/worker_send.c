/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_send: the worker's CloudFront calls (DESIGN §7): send a batch
 * (CreateInvalidation) when it fits the distribution's limits, poll one in
 * progress (GetInvalidation) until Completed, one call at a time and
 * paced (max_requests_per_second); retry throttling and 5xx with
 * exponential backoff and jitter; split a batch CloudFront refuses as
 * invalid until the bad path is alone; keep the paths of a distribution
 * that refuses them (NoSuchDistribution, AccessDenied) for give_up_after,
 * then drop them.
 *
 * Threading: worker thread only.  Each function is entered and left with
 * worker.mtx held and releases it around the CloudFront call and the
 * journal appends; the batch it works on is the worker's own meanwhile.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloudfront.h"
#include "journal.h"
#include "log.h"
#include "util.h"
#include "worker_journal.h"
#include "worker_policy.h"
#include "worker_send.h"
#include "worker_state.h"
#include "worker_usage.h"

/* Jitter for the backoff: the worker's own random source. */
static int64_t
backoff_ms(unsigned attempts)
{
	return worker_backoff(&worker.policy, attempts, (uint32_t)random());
}

static void
unlink_batch(struct dist *d, struct batch *b)
{
	struct batch	**bp;

	for (bp = &d->batches; *bp != NULL; bp = &(*bp)->next)
		if (*bp == b) {
			*bp = b->next;
			return;
		}
}

/* Completed (or given up): free its capacity.  mtx held. */
static void
finish_batch(struct dist *d, struct batch *b, const char *note)
{
	if (b->state == B_INFLIGHT) {
		d->inflight_files -= b->n_files;
		d->inflight_wild -= b->n_wild;
	}
	b->state = B_DONE;
	worker_recent_note(b, d->id, note);
	unlink_batch(d, b);
	worker.dirty = 1;
	pthread_cond_broadcast(&worker.progress);
}

/* Split a batch CloudFront refused as invalid into halves.  mtx held. */
static int
bisect(struct dist *d, struct batch *b, struct batch **first,
    struct batch **second)
{
	struct batch	*h1, *h2;
	size_t		 i, half = b->paths.n / 2;

	h1 = worker_batch_new(b->from_seq, b->upto_seq, d->id);
	h2 = worker_batch_new(b->from_seq, b->upto_seq, d->id);
	if (h1 == NULL || h2 == NULL)
		goto fail;
	for (i = 0; i < b->paths.n; i++)
		if (strvec_push(i < half ? &h1->paths : &h2->paths,
		    b->paths.v[i]) == -1)
			goto fail;
	worker_batch_count(h1);
	worker_batch_count(h2);
	worker_batch_ref(h1, d->id);
	worker_batch_ref(h2, d->id);
	*first = h1;
	*second = h2;
	return 0;
fail:
	worker_batch_free(h1);
	worker_batch_free(h2);
	return -1;
}

static void
call_pacing(void)
{
	worker.next_call_ms = worker_pace(&worker.policy, util_mono_ms());
}

/*
 * CloudFront answers NoSuchDistribution or AccessDenied for this
 * distribution: its paths stay pending for give_up_after, and a flush
 * reports them as failed instead of waiting (issue 13 item 5).  Anything
 * else (credentials, throttling) is not the distribution's.
 */
static int
refuses(const struct cf_result *res)
{
	return res->outcome == CF_FATAL &&
	    (strcmp(res->code, "NoSuchDistribution") == 0 ||
	    strcmp(res->code, "AccessDenied") == 0 ||
	    strcmp(res->code, "AccessDeniedException") == 0);
}

/* An attempt that began at flush generation gen ended.  mtx held. */
static void
note_answer(struct dist *d, const struct cf_result *res, uint64_t gen)
{
	if (refuses(res)) {
		if (d->refused_ms == 0) {
			d->refused_ms = util_mono_ms();
			log_event(LOG_ERROR, "distribution_refused",
			    (struct log_field[]){
			    LOG_STR("distribution", d->id),
			    LOG_STR("code", res->code),
			    LOG_STR("message", res->message),
			    LOG_NUM("give_up_after_s",
			    worker.cfg->cloudfront.give_up_after_ms / 1000) },
			    4);
		}
		d->refused_gen = gen;
		snprintf(d->refused_why, sizeof(d->refused_why),
		    "%.60s: %.130s", res->code, res->message);
		/* Flushes see it. */
		pthread_cond_broadcast(&worker.progress);
	} else if (res->outcome == CF_OK || res->outcome == CF_ALREADY_DONE) {
		if (d->refused_ms != 0)
			log_info("distribution %s accepts invalidations again",
			    d->id);
		d->refused_ms = 0;
		d->refused_why[0] = '\0';
	}
}

/* Send batch b of distribution di.  Worker thread; mtx held on entry and
 * on return, released during the call. */
static void
send_batch(size_t di, struct batch *b)
{
	struct cf_result	 res;
	struct batch		*h1 = NULL, *h2 = NULL;
	struct dist		*d;
	char			 dist[128];
	uint64_t		 gen = worker.flush_gen;
	int			 journaled = b->next_ms != -1;

	snprintf(dist, sizeof(dist), "%s", worker.dists[di].id);
	pthread_mutex_unlock(&worker.mtx);
	if (!journaled && worker_journal_batch(b, dist) == -1) {
		pthread_mutex_lock(&worker.mtx);
		b->next_ms = -1;
		metrics_add(M_JOURNAL_ERRORS, 1);
		/* Try again later; nothing is sent unrecorded. */
		b->attempts++;
		worker.dists[di].last_ms = util_mono_ms();
		return;
	}
	memset(&res, 0, sizeof(res));
	cloudfront_create(dist, b->ref, (const char *const *)b->paths.v,
	    b->paths.n, &res);
	call_pacing();
	pthread_mutex_lock(&worker.mtx);
	d = &worker.dists[di];
	note_answer(d, &res, gen);
	b->next_ms = util_mono_ms();
	switch (res.outcome) {
	case CF_OK:
		b->state = B_INFLIGHT;
		free(b->inval_id);
		b->inval_id = strdup(res.invalidation_id);
		d->inflight_files += b->n_files;
		d->inflight_wild += b->n_wild;
		d->count[DM_BATCHES_SENT]++;
		if (worker.month != worker_this_month()) {
			size_t	 i;

			for (i = 0; i < worker.n_dists; i++)
				worker.dists[i].month_paths = 0;
			worker.month = worker_this_month();
		}
		d->month_paths += b->paths.n;
		worker_usage_save();
		d->last_error[0] = '\0';
		b->next_ms = util_mono_ms() +
		    worker.cfg->cloudfront.poll_interval_ms;
		worker_recent_note(b, dist, "accepted");
		pthread_mutex_unlock(&worker.mtx);
		log_event(LOG_INFO, "invalidation", (struct log_field[]){
		    LOG_STR("distribution", dist),
		    LOG_STR("id", res.invalidation_id),
		    LOG_STR("caller_reference", b->ref),
		    LOG_NUM("paths", b->paths.n),
		    LOG_NUM("wildcards", b->n_wild),
		    LOG_STR("status", res.status) }, 6);
		worker_journal_mark(JOURNAL_ACCEPTED, b->id,
		    res.invalidation_id);
		pthread_mutex_lock(&worker.mtx);
		if (strcasecmp(res.status, "Completed") == 0) {
			pthread_mutex_unlock(&worker.mtx);
			worker_journal_mark(JOURNAL_COMPLETED, b->id, NULL);
			pthread_mutex_lock(&worker.mtx);
			finish_batch(&worker.dists[di], b, "completed");
			worker_batch_free(b);
		}
		break;
	case CF_ALREADY_DONE:
		/* CloudFront has this CallerReference already: sent before a
		 * restart.  Nothing to poll by id; it is done here. */
		pthread_mutex_unlock(&worker.mtx);
		log_info("invalidation %s for %s existed already (%s)", b->ref,
		    dist, res.code);
		worker_journal_mark(JOURNAL_COMPLETED, b->id, NULL);
		pthread_mutex_lock(&worker.mtx);
		finish_batch(&worker.dists[di], b, "already submitted");
		worker_batch_free(b);
		break;
	case CF_RETRY:
		b->attempts++;
		d->count[DM_BATCHES_RETRIED]++;
		snprintf(d->last_error, sizeof(d->last_error), "%ld %s %.160s",
		    res.http_status, res.code, res.message);
		b->next_ms = util_mono_ms() + backoff_ms(b->attempts);
		worker_recent_note(b, dist,
		    res.code[0] ? res.code : "retrying");
		log_event(LOG_WARN, "invalidation_retry", (struct log_field[]){
		    LOG_STR("distribution", dist),
		    LOG_STR("caller_reference", b->ref),
		    LOG_NUM("http_status", res.http_status),
		    LOG_STR("code", res.code),
		    LOG_NUM("attempt", b->attempts),
		    LOG_NUM("retry_in_ms", b->next_ms - util_mono_ms()) }, 6);
		break;
	case CF_BAD_ARGUMENT:
		if (b->paths.n > 1 && bisect(d, b, &h1, &h2) == 0) {
			h1->next = h2;
			h2->next = b->next;
			b->next = h1;
			pthread_mutex_unlock(&worker.mtx);
			log_warn("CloudFront refused a batch of %zu paths for "
			    "%s (%s); splitting it to find the bad paths",
			    b->paths.n, dist, res.message);
			if (worker_journal_batch(h1, dist) == -1)
				h1->next_ms = -1;
			if (worker_journal_batch(h2, dist) == -1)
				h2->next_ms = -1;
			worker_journal_mark(JOURNAL_COMPLETED, b->id, NULL);
			pthread_mutex_lock(&worker.mtx);
			finish_batch(&worker.dists[di], b, "split");
			worker_batch_free(b);
			break;
		}
		d->count[DM_PATHS_REJECTED] += b->paths.n;
		d->count[DM_BATCHES_FAILED]++;
		snprintf(d->last_rejected, sizeof(d->last_rejected),
		    "rejected path %.80s: %.120s",
		    b->paths.n ? b->paths.v[0] : "",
		    res.message);
		pthread_mutex_unlock(&worker.mtx);
		log_event(LOG_ERROR, "invalidation_rejected",
		    (struct log_field[]){
		    LOG_STR("distribution", dist),
		    LOG_STR("path", b->paths.n ? b->paths.v[0] : ""),
		    LOG_STR("code", res.code),
		    LOG_STR("message", res.message) }, 4);
		worker_journal_mark(JOURNAL_COMPLETED, b->id, NULL);
		pthread_mutex_lock(&worker.mtx);
		finish_batch(&worker.dists[di], b, "rejected by CloudFront");
		worker_batch_free(b);
		break;
	case CF_FATAL:
		b->attempts++;
		d->count[DM_BATCHES_FAILED]++;
		snprintf(d->last_error, sizeof(d->last_error), "%ld %s %.160s",
		    res.http_status, res.code, res.message);
		b->next_ms = util_mono_ms() +
		    worker.cfg->cloudfront.retry_max_ms;
		worker_recent_note(b, dist, res.code[0] ? res.code : "failed");
		log_event(LOG_ERROR, "invalidation_failed",
		    (struct log_field[]){
		    LOG_STR("distribution", dist),
		    LOG_NUM("http_status", res.http_status),
		    LOG_STR("code", res.code),
		    LOG_STR("message", res.message),
		    LOG_STR("action", "kept pending; retrying slowly") }, 5);
		break;
	}
	pthread_cond_broadcast(&worker.progress);
}

/* Poll an invalidation in progress.  mtx held on entry and return. */
static void
poll_batch(size_t di, struct batch *b)
{
	struct cf_result	 res;
	char			 dist[128], id[128];
	uint64_t		 gen = worker.flush_gen;
	int			 done;

	snprintf(dist, sizeof(dist), "%s", worker.dists[di].id);
	snprintf(id, sizeof(id), "%s", b->inval_id != NULL ? b->inval_id : "");
	pthread_mutex_unlock(&worker.mtx);
	memset(&res, 0, sizeof(res));
	cloudfront_get(dist, id, &res);
	call_pacing();
	done = (res.outcome == CF_OK &&
	    strcasecmp(res.status, "Completed") == 0) ||
	    (res.outcome == CF_FATAL &&
	    strcmp(res.code, "NoSuchInvalidation") == 0);
	if (done) {
		worker_journal_mark(JOURNAL_COMPLETED, b->id, NULL);
		log_event(LOG_INFO, "invalidation_completed",
		    (struct log_field[]){
		    LOG_STR("distribution", dist), LOG_STR("id", id),
		    LOG_NUM("paths", b->paths.n) }, 3);
	}
	pthread_mutex_lock(&worker.mtx);
	note_answer(&worker.dists[di], &res, gen);
	if (done) {
		finish_batch(&worker.dists[di], b, "completed");
		worker_batch_free(b);
		return;
	}
	if (res.outcome == CF_OK)
		b->next_ms = util_mono_ms() +
		    worker.cfg->cloudfront.poll_interval_ms;
	else {
		b->attempts++;
		b->next_ms = util_mono_ms() + backoff_ms(b->attempts);
	}
}

/*
 * Distribution di refused its paths for give_up_after: drop them, with an
 * error line, so they stop costing calls and holding flushes.  Each
 * batch is journaled COMPLETED and the pending writes as covered, so a
 * restart does not bring them back.  Worker thread; mtx held on entry and
 * return, released while journaling.
 */
static void
give_up(size_t di)
{
	struct journal_rec	 r;
	struct batch		*list, *b;
	struct dist		*d = &worker.dists[di];
	uint64_t		 paths = d->pending.n, batches = 0, upto;
	char			 dist[128], why[200];

	snprintf(dist, sizeof(dist), "%s", d->id);
	snprintf(why, sizeof(why), "%s", d->refused_why);
	list = d->batches;
	d->batches = NULL;
	d->inflight_files = d->inflight_wild = 0;
	for (b = list; b != NULL; b = b->next) {
		paths += b->paths.n;
		batches++;
		worker_recent_note(b, dist, "given up: refused");
	}
	if (d->pending_upto > d->covered)
		d->covered = d->pending_upto;
	upto = d->covered;
	strvec_fini(&d->pending);
	strvec_init(&d->pending);
	d->pending_from = d->pending_upto = 0;
	d->keys_pending = 0;
	d->first_ms = d->last_ms = 0;
	d->refused_ms = 0;
	d->refused_why[0] = '\0';
	d->count[DM_PATHS_GIVEN_UP] += paths;
	worker.dirty = 1;
	pthread_mutex_unlock(&worker.mtx);

	log_event(LOG_ERROR, "distribution_given_up", (struct log_field[]){
	    LOG_STR("distribution", dist),
	    LOG_NUM("paths_dropped", paths),
	    LOG_NUM("batches_dropped", batches),
	    LOG_STR("reason", why),
	    LOG_NUM("refused_for_s",
	    worker.cfg->cloudfront.give_up_after_ms / 1000) }, 5);
	for (b = list; b != NULL; b = b->next)
		worker_journal_mark(JOURNAL_COMPLETED, b->id, NULL);
	/* A finished empty batch records how far this distribution is
	 * covered: the writes behind the dropped paths count as done. */
	memset(&r, 0, sizeof(r));
	r.type = JOURNAL_BATCH;
	r.distribution = dist;
	r.caller_reference = "";
	r.upto_seq = upto;
	pthread_mutex_lock(&worker.mtx);
	r.batch_id = worker.next_batch_id++;
	pthread_mutex_unlock(&worker.mtx);
	if (journal_append(worker.j, &r) == 0)
		worker_journal_mark(JOURNAL_COMPLETED, r.batch_id, NULL);
	while ((b = list) != NULL) {
		list = b->next;
		worker_batch_free(b);
	}
	pthread_mutex_lock(&worker.mtx);
	pthread_cond_broadcast(&worker.progress);
}

/* The one CloudFront call due first (worker_pick()).  mtx held. */
int64_t
worker_call_due(int64_t now, struct worker_call *call)
{
	return worker_pick(worker.dists, worker.n_dists, now,
	    worker.next_call_ms, &call->di, &call->b, &call->poll);
}

void
worker_call(const struct worker_call *call)
{
	if (call->poll)
		poll_batch(call->di, call->b);
	else
		send_batch(call->di, call->b);
}

/* Distributions refused for give_up_after lose their paths.  mtx held. */
void
worker_give_up_due(int64_t now)
{
	size_t	 i;

	for (i = 0; i < worker.n_dists; i++)
		if (worker_give_up_now(&worker.policy, now,
		    worker.dists[i].refused_ms))
			give_up(i);
}

/* When worker_give_up_due() has work next (mono ms), -1: none. */
int64_t
worker_give_up_next(void)
{
	int64_t	 next = -1;
	size_t	 i;

	for (i = 0; i < worker.n_dists; i++)
		next = worker_deadline(next, worker_give_up_at(&worker.policy,
		    worker.dists[i].refused_ms));
	return next;
}
