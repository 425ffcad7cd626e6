/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_state: the worker's per-distribution state and its batches (see
 * worker_state.h): find or add a distribution, map a write's keys into its
 * pending paths, make, count and name batches, and keep the ring of
 * recent batches that /status shows.
 *
 * Threading: distributions and the ring are shared, so every function
 * here that touches them runs with worker.mtx held; batches are made and
 * named by the worker thread before anyone else can see them.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "inval_map.h"
#include "log.h"
#include "sigv4.h"
#include "util.h"
#include "worker_plan.h"
#include "worker_state.h"

struct dist *
worker_dist_find(const char *id)
{
	size_t	 i;

	for (i = 0; i < worker.n_dists; i++)
		if (strcmp(worker.dists[i].id, id) == 0)
			return &worker.dists[i];
	return NULL;
}

struct dist *
worker_dist_get(const char *id)
{
	struct dist	*d, *nd;

	d = worker_dist_find(id);
	if (d != NULL)
		return d;
	nd = realloc(worker.dists, (worker.n_dists + 1) * sizeof(*nd));
	if (nd == NULL)
		return NULL;
	worker.dists = nd;
	d = &worker.dists[worker.n_dists];
	memset(d, 0, sizeof(*d));
	d->id = strdup(id);
	if (d->id == NULL)
		return NULL;
	strvec_init(&d->pending);
	worker.n_dists++;
	return d;
}

/* 1 when id is a distribution of the configuration. */
int
worker_dist_configured(const char *id)
{
	const struct cfg_bucket	*bk;
	size_t			 i, k;

	for (i = 0; i < worker.cfg->n_buckets; i++) {
		bk = &worker.cfg->buckets[i];
		for (k = 0; k < bk->n_distributions; k++)
			if (strcmp(bk->distributions[k], id) == 0)
				return 1;
	}
	return 0;
}

struct batch *
worker_batch_new(uint64_t from, uint64_t upto, const char *dist)
{
	struct batch	*b;

	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	strvec_init(&b->paths);
	b->id = worker.next_batch_id++;
	b->from_seq = from;
	b->upto_seq = upto;
	b->created = util_now();
	(void)dist;
	return b;
}

void
worker_batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	strvec_fini(&b->paths);
	free(b->inval_id);
	free(b);
}

void
worker_batch_count(struct batch *b)
{
	size_t	 i, n;

	b->n_wild = b->n_files = 0;
	for (i = 0; i < b->paths.n; i++) {
		n = strlen(b->paths.v[i]);
		if (n > 0 && b->paths.v[i][n - 1] == '*')
			b->n_wild++;
		else
			b->n_files++;
	}
}

/* CallerReference: the state_dir's instance, this run, the distribution,
 * the batch's sequence and content.  Kept in the journal with the batch,
 * so a retry after a restart sends the same one. */
void
worker_batch_ref(struct batch *b, const char *dist)
{
	EVP_MD_CTX	*ctx;
	unsigned char	 md[32];
	char		 hex[65], seq[32];
	unsigned	 n = 0;
	size_t		 i;

	ctx = EVP_MD_CTX_new();
	snprintf(seq, sizeof(seq), "%" PRIu64 "/%" PRIu64, b->id, b->upto_seq);
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto fallback;
	EVP_DigestUpdate(ctx, worker.instance, strlen(worker.instance) + 1);
	/* This run's too: after damage, a lost batch's id may be handed
	 * out again, and its reference must not come back with it. */
	EVP_DigestUpdate(ctx, worker.boot, strlen(worker.boot) + 1);
	EVP_DigestUpdate(ctx, dist, strlen(dist) + 1);
	EVP_DigestUpdate(ctx, seq, strlen(seq) + 1);
	for (i = 0; i < b->paths.n; i++)
		EVP_DigestUpdate(ctx, b->paths.v[i], strlen(b->paths.v[i]) + 1);
	if (EVP_DigestFinal_ex(ctx, md, &n) != 1)
		goto fallback;
	EVP_MD_CTX_free(ctx);
	sigv4_hex(hex, md, 16);
	snprintf(b->ref, sizeof(b->ref), "s3inval-%.12s-%" PRIu64 "-%.32s",
	    worker.instance, b->id, hex);
	return;
fallback:
	EVP_MD_CTX_free(ctx);
	snprintf(b->ref, sizeof(b->ref), "s3inval-%.12s-%" PRIu64 "-%" PRIu64,
	    worker.instance, b->id, b->upto_seq);
}

void
worker_recent_clear(void)
{
	size_t	 i;

	for (i = 0; i < worker.n_recent; i++)
		strvec_fini(&worker.recent[i].paths);
	worker.n_recent = 0;
}

void
worker_recent_note(const struct batch *b, const char *dist, const char *note)
{
	struct recent	*r = NULL;
	size_t		 i;

	for (i = 0; i < worker.n_recent; i++)
		if (worker.recent[i].id == b->id)
			r = &worker.recent[i];
	if (r == NULL) {
		if (worker.n_recent == RECENT_MAX) {
			strvec_fini(&worker.recent[0].paths);
			memmove(&worker.recent[0], &worker.recent[1],
			    (RECENT_MAX - 1) * sizeof(worker.recent[0]));
			worker.n_recent--;
		}
		r = &worker.recent[worker.n_recent++];
		memset(r, 0, sizeof(*r));
		strvec_init(&r->paths);
		r->id = b->id;
		r->created = b->created;
	}
	/* /status lists them; out of memory, it lists fewer. */
	for (i = r->paths.n; i < b->paths.n && i < RECENT_PATHS; i++)
		if (strvec_push(&r->paths, b->paths.v[i]) == -1)
			break;
	snprintf(r->dist, sizeof(r->dist), "%s", dist);
	r->n_paths = b->paths.n;
	r->n_wild = b->n_wild;
	snprintf(r->inval_id, sizeof(r->inval_id), "%s",
	    b->inval_id != NULL ? b->inval_id : "");
	r->state = b->state;
	if (b->state == B_DONE && r->completed == 0)
		r->completed = util_now();
	if (note != NULL)
		snprintf(r->note, sizeof(r->note), "%s", note);
}

/* Map one write's keys for every distribution of its bucket.  mtx held. */
int
worker_merge_write(const struct cfg_bucket *bk, uint64_t seq,
    const char *const *keys, size_t n, int64_t now)
{
	struct inval_map_cfg	 mc;
	struct dist		*d;
	size_t			 i, k, before;
	int			 too_long;

	worker_map_cfg(bk, &mc);
	for (i = 0; i < bk->n_distributions; i++) {
		d = worker_dist_get(bk->distributions[i]);
		if (d == NULL)
			return -1;
		if (seq <= d->covered)
			continue;	/* replay: already in a batch */
		before = d->pending.n;
		for (k = 0; k < n; k++) {
			too_long = 0;
			if (inval_map_key(&mc, keys[k], &d->pending,
			    &too_long) == -1)
				return -1;
			if (too_long)
				log_warn("key longer than CloudFront allows "
				    "as a path; invalidating its folder: %.200s"
				    "...", keys[k]);
		}
		/* Keys outside the origin path need nothing here; a
		 * distribution with no paths must not look pending. */
		if (d->pending.n == before)
			continue;
		d->keys_pending += n;
		if (d->pending_from == 0 || seq < d->pending_from)
			d->pending_from = seq;
		if (seq > d->pending_upto)
			d->pending_upto = seq;
		if (d->first_ms == 0)
			d->first_ms = now;
		d->last_ms = now;
	}
	return 0;
}

void
worker_cond_wait_ms(pthread_cond_t *cv, int64_t ms)
{
	struct timespec	 ts;

	if (ms < 0) {
		pthread_cond_wait(cv, &worker.mtx);
		return;
	}
	/* The condvar clock is CLOCK_REALTIME: convert. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(cv, &worker.mtx, &ts);
}
