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
#include "state_file.h"
#include "util.h"
#include "worker_journal.h"
#include "worker_flush.h"
#include "worker_plan.h"
#include "worker_record.h"
#include "worker_send.h"
#include "worker_state.h"
#include "worker_usage.h"

#define INDEX_SAVE_MS		600000	/* the ETag index, while running */

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

/*
 * Wait until next (mono ms; -1: until woken) unless there is work at hand
 * already: a post in the inbox, a flush, a stop.  mtx held.  Returns 0
 * once the worker must stop.
 */
static int
sleep_until(int64_t next)
{
	int64_t	 now;

	if (!worker.running || worker.inbox != NULL || worker.flush_now)
		return worker.running;
	now = util_mono_ms();
	if (next < 0 || next > now)
		worker_cond_wait_ms(&worker.wake, next < 0 ? -1 : next - now);
	return worker.running;
}

/*
 * What is left when nothing is due: the compaction a finished batch or a
 * plan asked for, and now and then a save of the ETag index (a cache:
 * saved at stop too).  mtx held, released while working.  Returns 1 when
 * it did something.
 */
static int
housekeep(void)
{
	if (worker.dirty) {
		worker.dirty = 0;
		worker_prune_writes();
		pthread_mutex_unlock(&worker.mtx);
		worker_compact();
		pthread_mutex_lock(&worker.mtx);
		return 1;
	}
	if (worker.inbox != NULL || worker.flush_now)
		return 0;
	if (worker.index == NULL ||
	    util_mono_ms() - worker.index_saved_ms <= INDEX_SAVE_MS)
		return 0;
	worker.index_saved_ms = util_mono_ms();
	pthread_mutex_unlock(&worker.mtx);
	if (etag_index_save(worker.index) == -1)
		log_warn("cannot save the ETag index: %s", strerror(errno));
	pthread_mutex_lock(&worker.mtx);
	return 1;
}

/*
 * The thread, as Varnish's exp_thread: wait for the next deadline or a
 * signal, take the inbox, decide what is due and hand it off, each step
 * in the file that owns it.  One CloudFront call per turn; after any
 * work, look again at once.
 */
static void *
worker_main(void *arg)
{
	struct worker_call	 call;
	int64_t			 now, next = 0;	/* 0: at once */

	(void)arg;
	pthread_mutex_lock(&worker.mtx);
	while (sleep_until(next)) {
		now = util_mono_ms();
		worker_take_inbox(now);
		worker_plan_due(now);
		worker_flush_turn(now);
		worker_give_up_due(now);
		next = worker_call_due(util_mono_ms(), &call);
		if (call.b != NULL) {
			worker_call(&call);
			next = 0;
		} else if (housekeep())
			next = 0;
		else {
			next = worker_deadline(next, worker_plan_next());
			next = worker_deadline(next, worker_give_up_next());
		}
	}
	pthread_mutex_unlock(&worker.mtx);
	return NULL;
}

/*
 * The ETag index file is trusted only after a clean stop, which saves it
 * last (journal.clean is written after it).  After a crash the file is
 * what the last clean stop or periodic save left, older than the writes
 * since: a rollback to what it remembers would look unchanged and never
 * be invalidated, while CloudFront may hold what came between (issue 13,
 * found by t31_property).  So the start after a crash goes without it.
 * Returns 0, or -1 with errno when the file cannot be removed.
 */
static int
index_forget_after_crash(const char *dir)
{
	char	 text[8];

	if (state_file_read(dir, JOURNAL_CLEAN, text, sizeof(text)) != -1)
		return 0;
	if (state_file_read(dir, ETAG_INDEX_FILE, text, sizeof(text)) == -1 &&
	    errno == ENOENT)
		return 0;
	if (state_file_remove(dir, ETAG_INDEX_FILE) == -1)
		return -1;
	log_event(LOG_WARN, "index_dropped", (struct log_field[]){
	    LOG_STR("file", ETAG_INDEX_FILE),
	    LOG_STR("reason", "the last run did not stop cleanly; writes "
	    "after the file was saved may be missing from it") }, 2);
	return 0;
}

int
inval_start(const struct cfg *cfg, char *err, size_t errsz)
{
	size_t	 i;
	int	 any = 0;

	worker.cfg = cfg;
	worker_policy_init(&worker.policy, cfg);
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
	if (index_forget_after_crash(cfg->server.state_dir) == -1) {
		snprintf(err, errsz, "cannot remove %s/%s left by a crash: %s",
		    cfg->server.state_dir, ETAG_INDEX_FILE, strerror(errno));
		return -1;
	}
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
	worker_recent_clear();
}
