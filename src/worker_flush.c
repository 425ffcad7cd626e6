/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_flush: POST /flush and `s3inval flush` (DESIGN §8): end the quiet
 * period now and, when asked, wait until every write acknowledged before
 * the call is Completed at CloudFront, or time runs out, or shutdown cuts
 * the wait; work for a distribution that refuses it is reported, not
 * waited on (issue 13 item 5).
 *
 * Threading: called from admin and shutdown threads.  A flush bumps
 * worker.flush_gen, sets flush_now and wakes the worker, then sleeps on
 * worker.progress, reading the shared state under worker.mtx; the
 * worker's turn (worker_flush_turn()) clears flush_now and broadcasts
 * progress.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "journal.h"
#include "util.h"
#include "worker_flush.h"
#include "worker_state.h"

/*
 * Where a flush that began at generation gen stands: 1 when nothing up to
 * target is open but the work of distributions that refused it since
 * (listed in res->failed); res's counts filled in.  mtx held.
 */
static int
flush_settled(uint64_t target, uint64_t gen, struct inval_flush_result *res)
{
	struct inval_flush_failed *f;
	struct inbox_item	*it;
	struct batch		*b;
	struct dist		*d;
	uint64_t		 paths;
	size_t			 i;
	int			 settled = 1, open;

	res->pending_paths = res->batches_open = 0;
	res->n_failed = 0;
	for (it = worker.inbox; it != NULL; it = it->next)
		if (it->seq <= target)
			settled = 0;
	for (i = 0; i < worker.n_dists; i++) {
		d = &worker.dists[i];
		res->pending_paths += d->pending.n;
		open = (d->pending_from != 0 && d->pending_from <= target) ||
		    (d->planning_from != 0 && d->planning_from <= target);
		paths = d->pending.n;
		for (b = d->batches; b != NULL; b = b->next) {
			res->batches_open++;
			paths += b->paths.n;
			if (b->from_seq <= target)
				open = 1;
		}
		if (!open)
			continue;
		/* Refused by an attempt made since this flush began: no
		 * use waiting, say why. */
		if (d->refused_ms != 0 && d->refused_gen >= gen) {
			if (res->n_failed == INVAL_FLUSH_FAILED_MAX)
				continue;
			f = &res->failed[res->n_failed++];
			snprintf(f->distribution, sizeof(f->distribution), "%s",
			    d->id);
			f->paths = paths;
			snprintf(f->reason, sizeof(f->reason), "%s",
			    d->refused_why);
			f->give_up_in_ms = d->refused_ms + worker.cfg->
			    cloudfront.give_up_after_ms - util_mono_ms();
			if (f->give_up_in_ms < 0)
				f->give_up_in_ms = 0;
			continue;
		}
		settled = 0;
	}
	return settled;
}

static void
flush_wait(int64_t wait_ms, struct inval_flush_result *res, int final)
{
	int64_t		 t0 = util_mono_ms(), deadline, left;
	uint64_t	 target, gen;
	int		 settled;

	memset(res, 0, sizeof(*res));
	if (!worker.started) {
		res->done = 1;
		return;
	}
	target = journal_last_seq(worker.j);
	deadline = t0 + wait_ms;
	pthread_mutex_lock(&worker.mtx);
	gen = ++worker.flush_gen;
	worker.flush_now = 1;
	pthread_cond_signal(&worker.wake);
	for (;;) {
		settled = flush_settled(target, gen, res);
		res->done = settled && res->n_failed == 0;
		res->stopping = worker.quiesced || !worker.running;
		left = deadline - util_mono_ms();
		if (settled || wait_ms <= 0 || left <= 0 || !worker.running ||
		    (worker.quiesced && !final))
			break;
		if (left > 1000)
			left = 1000;
		worker_cond_wait_ms(&worker.progress, left);
	}
	pthread_mutex_unlock(&worker.mtx);
	res->waited_ms = util_mono_ms() - t0;
}

void
inval_flush(int64_t wait_ms, struct inval_flush_result *res)
{
	flush_wait(wait_ms, res, 0);
}

void
inval_flush_final(int64_t wait_ms, struct inval_flush_result *res)
{
	flush_wait(wait_ms, res, 1);
}

void
inval_quiesce(void)
{
	pthread_mutex_lock(&worker.mtx);
	worker.quiesced = 1;
	pthread_cond_broadcast(&worker.progress);
	pthread_mutex_unlock(&worker.mtx);
}

/*
 * The worker's turn after a flush was asked for: planning has seen it
 * (worker_plan_due()); refusing distributions are asked once more, now,
 * and a flush waits for that answer only (inval_flush()).  Flush waiters
 * look again at every turn.  Worker thread, mtx held.
 */
void
worker_flush_turn(int64_t now)
{
	struct batch	*b;
	struct dist	*d;
	size_t		 i;

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
}
