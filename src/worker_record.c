/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_record: writes in.  A producer's write is appended to the
 * journal (durably, on the journal's commit thread), then posted to the
 * worker's inbox and only then acknowledged (inval_record_async(),
 * inval_record()); the worker takes the inbox into its pending paths
 * (worker_take_inbox()).  Also the journal's health for /readyz and the
 * writes skipped as unchanged.
 *
 * Threading: producers and the commit thread touch only the shared
 * fields (the inbox, the unposted count, the held list, the counters)
 * under worker.mtx; a record belongs to whoever holds it (the producer's
 * call, then the journal, then on_durable()).  worker_take_inbox() and
 * worker_record_hold() run on the worker thread with the mutex held.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "util.h"
#include "worker_record.h"
#include "worker_state.h"

void
inval_note_skipped(const struct cfg_bucket *bk, size_t n)
{
	struct dist	*d;
	size_t		 i;

	pthread_mutex_lock(&worker.mtx);
	for (i = 0; i < bk->n_distributions; i++) {
		d = worker_dist_find(bk->distributions[i]);
		if (d == NULL)
			continue;
		d->skipped_pending += n;
		d->count[DM_KEYS_UNCHANGED] += n;
		d->last_skip_ms = util_mono_ms();
	}
	pthread_cond_signal(&worker.wake);
	pthread_mutex_unlock(&worker.mtx);
}

int
inval_bucket_wants(const struct cfg_bucket *bk)
{
	return bk != NULL && bk->n_distributions > 0;
}

static void
record_free(struct record *rc)
{
	free(rc->bucket);
	strvec_fini(&rc->keys);
	free(rc);
}

/* Tell the caller and forget the record. */
static void
record_end(struct record *rc, int result)
{
	rc->done(rc->arg, result);
	record_free(rc);
}

static void	on_durable(void *, uint64_t, int);

/* Append rec's write to the journal; its end comes in on_durable(). */
static void
submit(struct record *rc)
{
	struct journal_rec	 r;
	int			 err;

	pthread_mutex_lock(&worker.mtx);
	if (worker.compacting) {
		rc->next = NULL;
		*worker.held_tail = rc;
		worker.held_tail = &rc->next;
		pthread_mutex_unlock(&worker.mtx);
		return;
	}
	worker.unposted++;
	pthread_mutex_unlock(&worker.mtx);
	memset(&r, 0, sizeof(r));
	r.type = JOURNAL_WRITE;
	r.bucket = rc->bucket;
	r.items = (const char *const *)rc->keys.v;
	r.n_items = rc->keys.n;
	if (journal_append_async(worker.j, &r, on_durable, rc) == 0)
		return;
	err = errno;
	on_durable(rc, 0, err);
}

/*
 * Compaction begins: writes recorded from now on are held, and every
 * write already appended is waited for until it is posted (see struct
 * worker).  mtx held.
 */
void
worker_record_hold(void)
{
	worker.compacting = 1;
	while (worker.unposted > 0)
		pthread_cond_wait(&worker.posted, &worker.mtx);
}

/* Compaction is over: append the writes held meanwhile.  No mutex. */
void
worker_record_release(void)
{
	struct record	*held, *rc;

	pthread_mutex_lock(&worker.mtx);
	worker.compacting = 0;
	held = worker.held;
	worker.held = NULL;
	worker.held_tail = &worker.held;
	pthread_mutex_unlock(&worker.mtx);
	while ((rc = held) != NULL) {
		held = rc->next;
		submit(rc);
	}
}

/*
 * The journal's answer for one write (the commit thread's, or submit()'s
 * at once): post it to the worker and tell the caller, or record it again
 * when a batch past its seq was cut meanwhile (see the header).
 */
static void
on_durable(void *arg, uint64_t seq, int err)
{
	struct record		*rc = arg;
	struct inbox_item	*it = NULL;
	struct dist		*d;
	size_t			 i;
	int			 stale = 0;

	if (err == 0) {
		it = calloc(1, sizeof(*it));
		if (it == NULL)
			err = ENOMEM;
	}
	pthread_mutex_lock(&worker.mtx);
	for (i = 0; err == 0 && i < rc->bk->n_distributions; i++) {
		d = worker_dist_find(rc->bk->distributions[i]);
		if (d != NULL && seq <= d->covered)
			stale = 1;
	}
	if (err == 0 && !stale) {
		it->seq = seq;
		it->bucket = rc->bk;
		it->bucket_name = rc->bucket;
		it->keys = rc->keys;
		rc->bucket = NULL;
		strvec_init(&rc->keys);
		*worker.inbox_tail = it;
		worker.inbox_tail = &it->next;
		metrics_add(M_WRITES_RECORDED, 1);
		metrics_add(M_KEYS_RECORDED, (int64_t)it->keys.n);
		pthread_cond_signal(&worker.wake);
	} else if (err == 0)
		worker.reappends++;
	else
		metrics_add(M_JOURNAL_ERRORS, 1);
	if (--worker.unposted == 0 && worker.compacting)
		pthread_cond_signal(&worker.posted);
	pthread_mutex_unlock(&worker.mtx);

	if (err != 0) {
		free(it);
		log_error("journal: cannot record a write to %s: %s; "
		    "answering 503 so the client retries", rc->bucket,
		    strerror(err));
		record_end(rc, -1);
	} else if (!stale)
		record_end(rc, 0);
	else {
		free(it);
		/* A batch past this seq was cut while it was appended:
		 * record the write again so replay cannot think it
		 * covered.  Cannot happen with callbacks in seq order;
		 * kept as the rule that makes it safe if it ever can. */
		if (++rc->tries >= 100)
			record_end(rc, -1);
		else
			submit(rc);
	}
}

void
inval_record_async(const struct cfg_bucket *bk, const char *bucket,
    const char *const *keys, size_t n, inval_done_fn done, void *arg)
{
	struct record	*rc;
	size_t		 i;

	if (!inval_bucket_wants(bk) || n == 0) {
		done(arg, 0);
		return;
	}
	if (!worker.started) {
		done(arg, -1);
		return;
	}
	rc = calloc(1, sizeof(*rc));
	if (rc == NULL) {
		done(arg, -1);
		return;
	}
	rc->bk = bk;
	rc->done = done;
	rc->arg = arg;
	strvec_init(&rc->keys);
	rc->bucket = strdup(bucket);
	for (i = 0; rc->bucket != NULL && i < n; i++)
		if (strvec_push(&rc->keys, keys[i]) == -1)
			break;
	if (rc->bucket == NULL || i < n) {
		record_free(rc);
		done(arg, -1);
		return;
	}
	submit(rc);
}

/* inval_record(): the async call and a wait of the caller's own. */
struct record_wait {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 done;
	int		 result;
};

static void
record_waited(void *arg, int result)
{
	struct record_wait	*rw = arg;

	pthread_mutex_lock(&rw->mu);
	rw->done = 1;
	rw->result = result;
	pthread_cond_signal(&rw->cv);
	pthread_mutex_unlock(&rw->mu);
}

int
inval_record(const struct cfg_bucket *bk, const char *bucket,
    const char *const *keys, size_t n)
{
	struct record_wait	 rw;

	memset(&rw, 0, sizeof(rw));
	pthread_mutex_init(&rw.mu, NULL);
	pthread_cond_init(&rw.cv, NULL);
	inval_record_async(bk, bucket, keys, n, record_waited, &rw);
	pthread_mutex_lock(&rw.mu);
	while (!rw.done)
		pthread_cond_wait(&rw.cv, &rw.mu);
	pthread_mutex_unlock(&rw.mu);
	pthread_cond_destroy(&rw.cv);
	pthread_mutex_destroy(&rw.mu);
	if (rw.result == -1)
		errno = EIO;
	return rw.result;
}

/*
 * Not ready while the journal's last write failed (issue 13: /readyz
 * fails until an append succeeds again).  A load balancer that believes
 * it sends no more writes, so the only append that can clear it is ours:
 * a probe, at most one a second, on the asking thread.
 */
int
inval_ready(void)
{
	struct journal_stats	 st;
	int64_t			 now = util_mono_ms();
	int			 probe = 0;

	if (!worker.started)
		return 1;
	journal_get_stats(worker.j, &st);
	if (st.failing) {
		pthread_mutex_lock(&worker.mtx);
		if (now - worker.probe_ms >= 1000) {
			worker.probe_ms = now;
			probe = 1;
		}
		pthread_mutex_unlock(&worker.mtx);
		if (!probe || journal_probe(worker.j) == -1)
			return 0;
	}
	return access(worker.cfg->server.state_dir, W_OK) == 0;
}

/* Merge the inbox into pending.  mtx held. */
void
worker_take_inbox(int64_t now)
{
	struct inbox_item	*it;
	struct write_rec	*wr;

	while ((it = worker.inbox) != NULL) {
		worker.inbox = it->next;
		if (worker.inbox == NULL)
			worker.inbox_tail = &worker.inbox;
		if (worker_merge_write(it->bucket, it->seq,
		    (const char *const *)it->keys.v, it->keys.n, now) == -1)
			log_error("out of memory mapping keys; they stay in "
			    "the journal");
		wr = calloc(1, sizeof(*wr));
		if (wr != NULL) {
			wr->seq = it->seq;
			wr->bucket = it->bucket_name;
			wr->keys = it->keys;
			wr->next = worker.writes;
			worker.writes = wr;
		} else {
			free(it->bucket_name);
			strvec_fini(&it->keys);
		}
		free(it);
	}
}
