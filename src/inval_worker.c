/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_worker: the invalidation worker's thread (see inval_worker.h):
 * its start and stop, and its loop.  The rest of the family, by concern:
 *
 *   worker_state.c    per-distribution state, batches, the recent ring
 *   worker_record.c   writes in: journaled, posted, taken from the inbox
 *   worker_journal.c  replay and recovery at start, batch records,
 *                     compaction
 *   worker_plan.c     changed paths to batches: known paths, budget
 *   worker_usage.c    the month's paths and cost
 *   worker_send.c     CloudFront calls: send, poll, backoff, bisection
 *   worker_flush.c    /flush and its wait
 *   worker_status.c   /status, /metrics
 *
 * Threading: the struct worker (worker_state.h) says which fields are
 * shared under worker.mtx and which this thread owns.  The loop holds the
 * mutex except while it plans, calls CloudFront, journals or compacts.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloudfront.h"
#include "etag_index.h"
#include "inval_worker.h"
#include "journal.h"
#include "log.h"
#include "util.h"
#include "worker_journal.h"
#include "worker_plan.h"
#include "worker_record.h"
#include "worker_send.h"
#include "worker_state.h"
#include "worker_usage.h"

struct worker worker = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.progress = PTHREAD_COND_INITIALIZER,
	.posted = PTHREAD_COND_INITIALIZER,
};

struct etag_index *
inval_index(void)
{
	return worker.index;
}

static int64_t
min_deadline(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void *
worker_main(void *arg)
{
	struct strvec	 taken;
	struct dist	*d;
	struct batch	*b, *act;
	size_t		 i, act_dist = 0;
	int64_t		 now, next, due, q, md, best;
	uint64_t	 from, upto, tkeys, tskipped;
	int		 act_poll;
	struct timespec	 ts;

	(void)arg;
	q = worker.cfg->cloudfront.quiet_period_ms;
	md = worker.cfg->cloudfront.max_delay_ms;
	pthread_mutex_lock(&worker.mtx);
	while (worker.running) {
		now = util_mono_ms();
		worker_take_inbox(now);

		/* Coalescing: plan a distribution once it has been quiet for
		 * quiet_period, or max_delay after its first pending write,
		 * or at once on a flush. */
		for (i = 0; i < worker.n_dists; i++) {
			d = &worker.dists[i];
			if (d->pending.n == 0)
				continue;
			if (!worker.flush_now && now - d->last_ms < q &&
			    now - d->first_ms < md)
				continue;
			taken = d->pending;
			strvec_init(&d->pending);
			from = d->pending_from;
			upto = d->pending_upto;
			/* Neither pending nor batches while planned, but
			 * still open to a flush. */
			d->planning_from = from;
			tkeys = d->keys_pending;
			tskipped = d->skipped_pending;
			d->keys_pending = d->skipped_pending = 0;
			if (upto > d->covered)
				d->covered = upto;
			d->pending_from = d->pending_upto = 0;
			d->first_ms = d->last_ms = 0;
			pthread_mutex_unlock(&worker.mtx);
			strvec_sort_unique(&taken);
			worker_plan_dist(i, &taken, from, upto, tkeys,
			    tskipped);
			strvec_fini(&taken);
			pthread_mutex_lock(&worker.mtx);
			worker.dirty = 1;
		}
		/* A deploy whose every write stored the same bytes: nothing
		 * to submit, but its figures get their line too. */
		for (i = 0; i < worker.n_dists; i++) {
			d = &worker.dists[i];
			if (d->pending.n > 0 || d->skipped_pending == 0 ||
			    (!worker.flush_now && now - d->last_skip_ms < q))
				continue;
			log_event(LOG_INFO, "plan", (struct log_field[]){
			    LOG_STR("distribution", d->id),
			    LOG_NUM("keys_changed", 0),
			    LOG_NUM("keys_unchanged_skipped",
			    d->skipped_pending),
			    LOG_NUM("paths_exact", 0),
			    LOG_NUM("paths_wildcard", 0),
			    LOG_NUM("paths_month", worker_month_total()) }, 6);
			d->skipped_pending = 0;
		}
		/* A flush asks refusing distributions once more, now: it
		 * waits for that answer only (inval_flush()). */
		for (i = 0; worker.flush_now && i < worker.n_dists; i++) {
			d = &worker.dists[i];
			if (d->refused_ms == 0)
				continue;
			for (b = d->batches; b != NULL; b = b->next)
				if (b->next_ms > now)
					b->next_ms = now;
		}
		worker.flush_now = 0;
		pthread_cond_broadcast(&worker.progress);
		for (i = 0; i < worker.n_dists; i++) {
			d = &worker.dists[i];
			if (d->refused_ms != 0 && now - d->refused_ms >=
			    worker.cfg->cloudfront.give_up_after_ms)
				worker_give_up(i);
		}

		/* One CloudFront call at a time, paced; the one due first,
		 * whatever its distribution, so a busy one cannot hold the
		 * others back. */
		now = util_mono_ms();
		next = -1;
		act = NULL;
		act_poll = 0;
		best = -1;
		for (i = 0; i < worker.n_dists; i++) {
			d = &worker.dists[i];
			for (b = d->batches; b != NULL; b = b->next) {
				if (b->state == B_INFLIGHT)
					due = b->next_ms;
				else if (b->state == B_UNSENT &&
				    worker_fits(d, b))
					due = b->next_ms < 0 ? 0 : b->next_ms;
				else if (b->state == B_UNSENT)
					break;	/* waits for capacity */
				else
					continue;
				if (best < 0 || due < best) {
					best = due;
					act = b;
					act_dist = i;
					act_poll = b->state == B_INFLIGHT;
				}
				/* Later unsent batches wait for this one. */
				if (b->state == B_UNSENT)
					break;
			}
		}
		if (act != NULL) {
			due = best < worker.next_call_ms ?
			    worker.next_call_ms : best;
			if (due > now) {
				next = due;
				act = NULL;
			}
		}
		if (act != NULL) {
			if (act_poll)
				worker_poll(act_dist, act);
			else
				worker_send(act_dist, act);
			continue;
		}
		if (worker.dirty) {
			worker.dirty = 0;
			worker_prune_writes();
			pthread_mutex_unlock(&worker.mtx);
			worker_compact();
			pthread_mutex_lock(&worker.mtx);
			continue;
		}
		for (i = 0; i < worker.n_dists; i++) {
			d = &worker.dists[i];
			if (d->refused_ms != 0)
				next = min_deadline(next, d->refused_ms +
				    worker.cfg->cloudfront.give_up_after_ms);
			if (d->pending.n == 0) {
				if (d->skipped_pending > 0)
					next = min_deadline(next,
					    d->last_skip_ms + q);
				continue;
			}
			next = min_deadline(next, d->last_ms + q);
			next = min_deadline(next, d->first_ms + md);
		}
		if (worker.inbox != NULL || worker.flush_now)
			continue;
		/* The index is a cache: saved now and then, and at stop. */
		if (worker.index != NULL &&
		    util_mono_ms() - worker.index_saved_ms > 600000) {
			worker.index_saved_ms = util_mono_ms();
			pthread_mutex_unlock(&worker.mtx);
			if (etag_index_save(worker.index) == -1)
				log_warn("cannot save the ETag index: %s",
				    strerror(errno));
			pthread_mutex_lock(&worker.mtx);
			continue;
		}
		if (next < 0) {
			pthread_cond_wait(&worker.wake, &worker.mtx);
		} else {
			int64_t wait_ms = next - util_mono_ms();

			if (wait_ms <= 0)
				continue;
			/* The condvar clock is CLOCK_REALTIME: convert. */
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += wait_ms / 1000;
			ts.tv_nsec += (wait_ms % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&worker.wake, &worker.mtx, &ts);
		}
	}
	pthread_mutex_unlock(&worker.mtx);
	return NULL;
}

int
inval_start(const struct cfg *cfg, char *err, size_t errsz)
{
	size_t	 i;
	int	 any = 0;

	worker.cfg = cfg;
	worker.inbox = NULL;
	worker.inbox_tail = &worker.inbox;
	worker.held = NULL;
	worker.held_tail = &worker.held;
	worker.next_batch_id = 1;
	worker.month = worker_this_month();
	srandom((unsigned)util_now_ms());
	for (i = 0; i < cfg->n_buckets; i++)
		if (cfg->buckets[i].n_distributions > 0)
			any = 1;
	worker.index = etag_index_open(cfg->server.state_dir,
	    (size_t)cfg->server.index_max_memory);
	worker.index_saved_ms = util_mono_ms();
	if (worker_journal_open(err, errsz) == -1)
		return -1;
	pthread_mutex_lock(&worker.mtx);
	worker.dirty = 1;
	worker.running = 1;
	pthread_mutex_unlock(&worker.mtx);
	if (cloudfront_init(cfg->cloudfront.endpoint,
	    (long)cfg->cloudfront.timeout_ms) == -1) {
		snprintf(err, errsz, "cannot set up the CloudFront client");
		goto fail;
	}
	if (pthread_create(&worker.thread, NULL, worker_main, NULL) != 0) {
		snprintf(err, errsz, "cannot start the worker thread");
		goto fail;
	}
	worker.started = 1;
	if (!any)
		log_info("no bucket has distributions: nothing will be "
		    "invalidated");
	return 0;
fail:
	journal_close(worker.j);
	worker.j = NULL;
	return -1;
}

void
inval_stop(void)
{
	struct write_rec	*wr;
	struct inbox_item	*it;
	struct batch		*b;
	size_t			 i;

	if (!worker.started)
		return;
	pthread_mutex_lock(&worker.mtx);
	worker.running = 0;
	pthread_cond_broadcast(&worker.wake);
	pthread_cond_broadcast(&worker.progress);
	pthread_mutex_unlock(&worker.mtx);
	pthread_join(worker.thread, NULL);
	worker.started = 0;
	if (worker.index != NULL && etag_index_save(worker.index) == -1)
		log_warn("cannot save the ETag index: %s", strerror(errno));
	etag_index_close(worker.index);
	worker.index = NULL;
	cloudfront_fini();
	journal_close(worker.j);
	worker.j = NULL;
	while ((wr = worker.writes) != NULL) {
		worker.writes = wr->next;
		free(wr->bucket);
		strvec_fini(&wr->keys);
		free(wr);
	}
	while ((it = worker.inbox) != NULL) {
		worker.inbox = it->next;
		free(it->bucket_name);
		strvec_fini(&it->keys);
		free(it);
	}
	for (i = 0; i < worker.n_dists; i++) {
		while ((b = worker.dists[i].batches) != NULL) {
			worker.dists[i].batches = b->next;
			worker_batch_free(b);
		}
		strvec_fini(&worker.dists[i].pending);
		free(worker.dists[i].id);
	}
	free(worker.dists);
	worker.dists = NULL;
	worker.n_dists = 0;
}
