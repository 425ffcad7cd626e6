/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_worker: see inval_worker.h.
 *
 * CloudFront limits (Developer Guide, "Concurrent invalidation request
 * maximum"): per distribution at most 3,000 file paths and 15 wildcard
 * paths in progress; a batch that does not fit waits until running ones
 * complete.  Pricing: 1,000 paths a month free, then $0.005 per path.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cloudfront.h"
#include "etag_index.h"
#include "inval_map.h"
#include "inval_plan.h"
#include "inval_worker.h"
#include "journal.h"
#include "log.h"
#include "sigv4.h"
#include "state_file.h"
#include "util.h"

#define CF_MAX_FILES		3000
#define CF_MAX_WILDCARDS	15
#define RECENT_MAX		20
#define COMPACT_MIN_BYTES	(1024 * 1024)
#define PRICE_PER_PATH		0.005
#define INSTANCE_FILE		"instance-id"
#define USAGE_FILE		"usage"
#define USAGE_MAX		(1024 * 1024)	/* read at most */

enum batch_state {
	B_UNSENT = 0,
	B_INFLIGHT,
	B_DONE
};

static const char *const batch_state_names[] = {
	"pending", "in_progress", "completed"
};

struct batch {
	uint64_t	 id;
	char		 ref[80];		/* CallerReference */
	uint64_t	 from_seq, upto_seq;
	struct strvec	 paths;
	size_t		 n_wild, n_files;
	char		*inval_id;
	enum batch_state state;
	unsigned	 attempts;
	int64_t		 next_ms;		/* next send or poll */
	int64_t		 created;		/* wall clock */
	struct batch	*next;
};

struct dist {
	char		*id;
	struct strvec	 pending;		/* paths, unsorted */
	uint64_t	 pending_from;		/* 0: none pending */
	uint64_t	 pending_upto;
	uint64_t	 planning_from;		/* taken, not yet in batches */
	uint64_t	 covered;		/* highest upto journaled */
	int64_t		 first_ms, last_ms;
	struct batch	*batches;		/* unsent and in progress */
	size_t		 inflight_files, inflight_wild;
	uint64_t	 month_paths;
	uint64_t	 batches_sent, batches_retried, batches_failed;
	uint64_t	 paths_rejected;
	uint64_t	 keys_pending;		/* keys behind pending paths */
	uint64_t	 skipped_pending;	/* unchanged writes since */
	int64_t		 last_skip_ms;
	uint64_t	 keys_skipped;		/* totals */
	uint64_t	 evictions;		/* needless, when known */
	char		 last_error[256];	/* cleared by a success */
	char		 last_rejected[256];	/* kept: a permanent error */
	/* Refused: NoSuchDistribution or AccessDenied (issue 13 item 5). */
	int64_t		 refused_ms;		/* since (mono); 0: not */
	uint64_t	 refused_gen;		/* flush_gen the attempt saw */
	char		 refused_why[200];
	uint64_t	 paths_given_up;
};

struct write_rec {			/* kept for compaction */
	uint64_t	 seq;
	char		*bucket;
	struct strvec	 keys;
	struct write_rec *next;
};

struct inbox_item {
	uint64_t	 seq;
	const struct cfg_bucket *bucket;
	char		*bucket_name;
	struct strvec	 keys;
	struct inbox_item *next;
};

/* One write being recorded (inval_record_async), until its caller is
 * told. */
struct record {
	const struct cfg_bucket	*bk;
	char			*bucket;
	struct strvec		 keys;
	inval_done_fn		 done;
	void			*arg;
	int			 tries;
	struct record		*next;		/* on w.held */
};

struct recent {
	uint64_t	 id;
	char		 dist[64];
	size_t		 n_paths, n_wild;
	char		 inval_id[64];
	enum batch_state state;
	int64_t		 created, completed;
	char		 note[96];
};

static struct {
	/* Immutable after start. */
	const struct cfg	*cfg;
	struct journal		*j;
	pthread_t		 thread;
	int			 started;

	/* Shared, under mtx. */
	pthread_mutex_t		 mtx;
	pthread_cond_t		 wake;		/* the worker sleeps on it */
	pthread_cond_t		 progress;	/* flush waiters sleep on it */
	/*
	 * A write is "unposted" from its journal append until it is in the
	 * inbox.  Compaction sets compacting and waits (on posted) until
	 * none is, then snapshots: so no record that is durable but not yet
	 * posted can be left out of a compacted journal.  Writes recorded
	 * meanwhile are held until the new file is in place, so a steady
	 * stream of them cannot starve the compaction.
	 */
	pthread_cond_t		 posted;
	uint64_t		 unposted;
	int			 compacting;
	struct record		*held, **held_tail;
	int			 running;
	int			 flush_now;
	struct inbox_item	*inbox, **inbox_tail;
	struct dist		*dists;
	size_t			 n_dists;
	struct recent		 recent[RECENT_MAX];
	size_t			 n_recent;
	int			 month;		/* yyyymm of month_paths */
	uint64_t		 journal_errors;
	uint64_t		 writes_recorded;
	uint64_t		 keys_recorded;
	uint64_t		 reappends;
	int			 dirty;		/* compact and prune soon */
	int64_t			 probe_ms;	/* inval_ready()'s last */
	uint64_t		 flush_gen;	/* flushes begun */
	int			 quiesced;	/* flushes wait no more */
	struct journal_stats	 jopen;		/* what the open found */

	/* Owned by the worker thread. */
	struct write_rec	*writes;
	uint64_t		 next_batch_id;
	int64_t			 next_call_ms;
	uint64_t		 compacted_size;
	int			 force_compact;	/* a recovery awaits it */
	char			 instance[33];	/* random, kept in state_dir */
	char			 boot[17];	/* random, this run's */
	struct etag_index	*index;
	int64_t			 index_saved_ms;
	const char		*budget_mode;	/* "normal", "tight", "over" */
} w = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.progress = PTHREAD_COND_INITIALIZER,
	.posted = PTHREAD_COND_INITIALIZER,
};

/* --- helpers ------------------------------------------------------------ */

static int
this_month(void)
{
	time_t		 t = time(NULL);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 100 + tm.tm_mon + 1;
}

static struct dist *
dist_find(const char *id)
{
	size_t	 i;

	for (i = 0; i < w.n_dists; i++)
		if (strcmp(w.dists[i].id, id) == 0)
			return &w.dists[i];
	return NULL;
}

static struct dist *
dist_get(const char *id)
{
	struct dist	*d, *nd;

	d = dist_find(id);
	if (d != NULL)
		return d;
	nd = realloc(w.dists, (w.n_dists + 1) * sizeof(*nd));
	if (nd == NULL)
		return NULL;
	w.dists = nd;
	d = &w.dists[w.n_dists];
	memset(d, 0, sizeof(*d));
	d->id = strdup(id);
	if (d->id == NULL)
		return NULL;
	strvec_init(&d->pending);
	w.n_dists++;
	return d;
}

static void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	strvec_fini(&b->paths);
	free(b->inval_id);
	free(b);
}

static void
count_paths(struct batch *b)
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
static void
make_ref(struct batch *b, const char *dist)
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
	EVP_DigestUpdate(ctx, w.instance, strlen(w.instance) + 1);
	/* This run's too: after damage, a lost batch's id may be handed
	 * out again, and its reference must not come back with it. */
	EVP_DigestUpdate(ctx, w.boot, strlen(w.boot) + 1);
	EVP_DigestUpdate(ctx, dist, strlen(dist) + 1);
	EVP_DigestUpdate(ctx, seq, strlen(seq) + 1);
	for (i = 0; i < b->paths.n; i++)
		EVP_DigestUpdate(ctx, b->paths.v[i], strlen(b->paths.v[i]) + 1);
	if (EVP_DigestFinal_ex(ctx, md, &n) != 1)
		goto fallback;
	EVP_MD_CTX_free(ctx);
	sigv4_hex(hex, md, 16);
	snprintf(b->ref, sizeof(b->ref), "s3inval-%.12s-%" PRIu64 "-%.32s",
	    w.instance, b->id, hex);
	return;
fallback:
	EVP_MD_CTX_free(ctx);
	snprintf(b->ref, sizeof(b->ref), "s3inval-%.12s-%" PRIu64 "-%" PRIu64,
	    w.instance, b->id, b->upto_seq);
}

static void
recent_note(const struct batch *b, const char *dist, const char *note)
{
	struct recent	*r = NULL;
	size_t		 i;

	for (i = 0; i < w.n_recent; i++)
		if (w.recent[i].id == b->id)
			r = &w.recent[i];
	if (r == NULL) {
		if (w.n_recent == RECENT_MAX) {
			memmove(&w.recent[0], &w.recent[1],
			    (RECENT_MAX - 1) * sizeof(w.recent[0]));
			w.n_recent--;
		}
		r = &w.recent[w.n_recent++];
		memset(r, 0, sizeof(*r));
		r->id = b->id;
		r->created = b->created;
	}
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
static int
merge_write(const struct cfg_bucket *bk, uint64_t seq,
    const char *const *keys, size_t n, int64_t now)
{
	struct inval_map_cfg	 mc;
	struct dist		*d;
	size_t			 i, k, before;
	int			 too_long;

	memset(&mc, 0, sizeof(mc));
	mc.origin_path = bk->origin_path != NULL ? bk->origin_path : "";
	mc.index_documents = (const char *const *)bk->index_documents;
	mc.n_index_documents = bk->n_index_documents;
	mc.index_without_slash = bk->index_without_slash;
	for (i = 0; i < bk->n_distributions; i++) {
		d = dist_get(bk->distributions[i]);
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

/*
 * The instance id: random, made once per state_dir and kept there, so two
 * state directories (a lost one, a second proxy on the same distribution)
 * never make the same CallerReference: CloudFront would answer the second
 * batch with the first one's invalidation and invalidate nothing new.
 */
static int
load_instance(const char *dir, char *err, size_t errsz)
{
	unsigned char	 r[16];
	char		 hex[40];
	ssize_t		 n;

	state_file_clean(dir, INSTANCE_FILE);
	n = state_file_read(dir, INSTANCE_FILE, hex, sizeof(hex));
	if (n == 32 && strspn(hex, "0123456789abcdef") == 32) {
		memcpy(w.instance, hex, 33);
		return 0;
	}
	if (n != -1 || errno != ENOENT)
		log_warn("%s/%s is damaged: making a new instance id", dir,
		    INSTANCE_FILE);
	if (RAND_bytes(r, sizeof(r)) != 1) {
		snprintf(err, errsz, "no randomness for the instance id");
		return -1;
	}
	sigv4_hex(hex, r, sizeof(r));
	if (state_file_write(dir, INSTANCE_FILE, hex, 32) == -1) {
		snprintf(err, errsz, "%s/%s: %s", dir, INSTANCE_FILE,
		    strerror(errno));
		return -1;
	}
	memcpy(w.instance, hex, 33);
	return 0;
}

/*
 * Paths submitted this month, per distribution, kept in state_dir/usage
 * ("yyyymm distribution count" lines) so a restart does not forget what the
 * month has cost.  Replaced (state_file_write) after each accepted batch.
 * mtx held.
 */
static void
usage_save(void)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	for (i = 0; i < w.n_dists; i++)
		buf_printf(&b, "%d %s %" PRIu64 "\n", w.month, w.dists[i].id,
		    w.dists[i].month_paths);
	if (buf_ok(&b) && state_file_write(w.cfg->server.state_dir,
	    USAGE_FILE, b.data != NULL ? b.data : "", b.len) == -1)
		log_warn("cannot save %s/%s: %s", w.cfg->server.state_dir,
		    USAGE_FILE, strerror(errno));
	buf_fini(&b);
}

static void
usage_load(void)
{
	char		*text, *line, *save = NULL, id[129];
	struct dist	*d;
	unsigned long long n;
	int		 month;

	state_file_clean(w.cfg->server.state_dir, USAGE_FILE);
	text = malloc(USAGE_MAX);
	if (text == NULL || state_file_read(w.cfg->server.state_dir,
	    USAGE_FILE, text, USAGE_MAX) == -1) {
		free(text);
		return;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%d %128s %llu", &month, id, &n) != 3 ||
		    month != w.month)
			continue;
		d = dist_get(id);
		if (d != NULL)
			d->month_paths = n;
	}
	free(text);
}

/* --- replay ------------------------------------------------------------- */


struct rbatch {
	struct batch	*b;
	char		*dist;
	int		 done;
	struct rbatch	*next;
};

struct rstate {
	struct rbatch	*batches;
	int		 failed;
};

static struct rbatch *
rbatch_find(struct rstate *rs, uint64_t id)
{
	struct rbatch	*rb;

	for (rb = rs->batches; rb != NULL; rb = rb->next)
		if (rb->b->id == id)
			return rb;
	return NULL;
}

static int
replay_cb(void *arg, const struct journal_rec *r)
{
	struct rstate	*rs = arg;
	struct write_rec *wr;
	struct rbatch	*rb;
	size_t		 i;

	switch (r->type) {
	case JOURNAL_WRITE:
		if (r->n_items == 0)
			return 0;	/* a sequence marker */
		wr = calloc(1, sizeof(*wr));
		if (wr == NULL)
			return -1;
		wr->seq = r->seq;
		wr->bucket = strdup(r->bucket != NULL ? r->bucket : "");
		strvec_init(&wr->keys);
		for (i = 0; i < r->n_items; i++)
			if (strvec_push(&wr->keys, r->items[i]) == -1)
				return -1;
		wr->next = w.writes;
		w.writes = wr;
		return wr->bucket == NULL ? -1 : 0;
	case JOURNAL_BATCH:
		rb = calloc(1, sizeof(*rb));
		if (rb == NULL)
			return -1;
		rb->b = calloc(1, sizeof(*rb->b));
		rb->dist = strdup(r->distribution != NULL ?
		    r->distribution : "");
		if (rb->b == NULL || rb->dist == NULL)
			return -1;
		rb->b->id = r->batch_id;
		snprintf(rb->b->ref, sizeof(rb->b->ref), "%s",
		    r->caller_reference != NULL ? r->caller_reference : "");
		rb->b->upto_seq = r->upto_seq;
		rb->b->from_seq = 1;
		rb->b->created = util_now();
		strvec_init(&rb->b->paths);
		for (i = 0; i < r->n_items; i++)
			if (strvec_push(&rb->b->paths, r->items[i]) == -1)
				return -1;
		count_paths(rb->b);
		rb->next = rs->batches;
		rs->batches = rb;
		if (r->batch_id >= w.next_batch_id)
			w.next_batch_id = r->batch_id + 1;
		return 0;
	case JOURNAL_ACCEPTED:
		/* Its BATCH may be lost to damage: never reuse the id. */
		if (r->batch_id >= w.next_batch_id)
			w.next_batch_id = r->batch_id + 1;
		rb = rbatch_find(rs, r->batch_id);
		if (rb != NULL && r->invalidation_id != NULL) {
			free(rb->b->inval_id);
			rb->b->inval_id = strdup(r->invalidation_id);
			rb->b->state = B_INFLIGHT;
		}
		return 0;
	case JOURNAL_COMPLETED:
		if (r->batch_id >= w.next_batch_id)
			w.next_batch_id = r->batch_id + 1;
		rb = rbatch_find(rs, r->batch_id);
		if (rb != NULL)
			rb->done = 1;
		return 0;
	}
	return 0;
}

/* What a start drops because the configuration changed: per name, how
 * many batches (writes) and paths (keys). */
struct gone {
	char		*name;
	uint64_t	 count, items;
	struct gone	*next;
};

static void
note_unconfigured(struct gone **list, const char *name, size_t items)
{
	struct gone	*g;

	for (g = *list; g != NULL; g = g->next)
		if (strcmp(g->name, name) == 0)
			break;
	if (g == NULL) {
		g = calloc(1, sizeof(*g));
		if (g == NULL || (g->name = strdup(name)) == NULL) {
			free(g);
			return;			/* only the warning is lost */
		}
		g->next = *list;
		*list = g;
	}
	g->count++;
	g->items += items;
}

static void
gone_free(struct gone *g)
{
	struct gone	*n;

	for (; g != NULL; g = n) {
		n = g->next;
		free(g->name);
		free(g);
	}
}

static int	dist_configured(const char *);

/*
 * Rebuild the state from the replayed records.  Batches for a distribution
 * that is no longer configured are dropped, and so are writes to a bucket
 * that nothing serves now, each with a warning: sending them would fail
 * for ever (issue 13 item 5).  mtx held.
 */
static int
restore(struct rstate *rs)
{
	const struct cfg_bucket	*bk;
	struct rbatch		*rb, **tail;
	struct write_rec	*wr, *rev = NULL;
	struct dist		*d;
	struct batch		**bt;
	struct gone		*gone = NULL, *gone_buckets = NULL, *g;
	int64_t			 now = util_mono_ms();
	uint64_t		 resumed = 0;

	/* Coverage first: every batch counts, completed or not. */
	for (rb = rs->batches; rb != NULL; rb = rb->next) {
		if (rb->dist[0] == '\0')
			continue;
		d = dist_get(rb->dist);
		if (d == NULL)
			return -1;
		if (rb->b->upto_seq > d->covered)
			d->covered = rb->b->upto_seq;
	}
	/* Unfinished batches, oldest first, go back on their queue. */
	tail = &rs->batches;
	while (*tail != NULL)
		tail = &(*tail)->next;
	{
		/* rs->batches is newest first: reverse it. */
		struct rbatch *prev = NULL, *cur = rs->batches, *nx;

		while (cur != NULL) {
			nx = cur->next;
			cur->next = prev;
			prev = cur;
			cur = nx;
		}
		rs->batches = prev;
	}
	while ((rb = rs->batches) != NULL) {
		rs->batches = rb->next;
		if (!rb->done && rb->dist[0] != '\0' && rb->b->paths.n > 0 &&
		    !dist_configured(rb->dist)) {
			note_unconfigured(&gone, rb->dist, rb->b->paths.n);
			batch_free(rb->b);
		} else if (rb->done || rb->dist[0] == '\0' ||
		    rb->b->paths.n == 0) {
			batch_free(rb->b);
		} else {
			d = dist_get(rb->dist);
			if (d == NULL)
				return -1;
			rb->b->next_ms = now;
			for (bt = &d->batches; *bt != NULL; bt = &(*bt)->next)
				;
			*bt = rb->b;
			if (rb->b->state == B_INFLIGHT) {
				d->inflight_files += rb->b->n_files;
				d->inflight_wild += rb->b->n_wild;
			}
			recent_note(rb->b, d->id, "resumed after restart");
			resumed++;
		}
		free(rb->dist);
		free(rb);
	}
	/* Writes, oldest first, into pending where not covered. */
	while ((wr = w.writes) != NULL) {
		w.writes = wr->next;
		wr->next = rev;
		rev = wr;
	}
	w.writes = rev;
	for (wr = w.writes; wr != NULL; wr = wr->next) {
		bk = cfg_bucket_find(w.cfg, wr->bucket);
		if (bk == NULL || bk->n_distributions == 0) {
			if (wr->bucket[0] != '\0')
				note_unconfigured(&gone_buckets, wr->bucket,
				    wr->keys.n);
			continue;
		}
		if (merge_write(bk, wr->seq, (const char *const *)wr->keys.v,
		    wr->keys.n, now) == -1)
			return -1;
	}
	if (resumed > 0)
		log_info("journal: %" PRIu64 " unfinished batch%s resumed",
		    resumed, resumed == 1 ? "" : "es");
	for (g = gone; g != NULL; g = g->next)
		log_event(LOG_WARN, "distribution_removed",
		    (struct log_field[]){
		    LOG_STR("distribution", g->name),
		    LOG_NUM("batches_dropped", g->count),
		    LOG_NUM("paths_dropped", g->items),
		    LOG_STR("why", "no longer in the configuration") }, 4);
	for (g = gone_buckets; g != NULL; g = g->next)
		log_event(LOG_WARN, "bucket_removed", (struct log_field[]){
		    LOG_STR("bucket", g->name),
		    LOG_NUM("writes_dropped", g->count),
		    LOG_NUM("keys_dropped", g->items),
		    LOG_STR("why", "no distribution of the configuration "
		    "serves it now") }, 4);
	if (gone != NULL || gone_buckets != NULL)
		w.force_compact = 1;	/* so they stay dropped */
	gone_free(gone);
	gone_free(gone_buckets);
	return 0;
}

static void	drain_inbox(int64_t);

/* --- compaction ------------------------------------------------------------ */

/* Forget the writes every distribution of their bucket has put in a
 * batch: the batches hold their paths now.  mtx held. */
static void
prune_writes(void)
{
	const struct cfg_bucket	*bk;
	struct write_rec	*wr, **wp;
	struct dist		*d;
	size_t			 i;
	int			 need;

	for (wp = &w.writes; (wr = *wp) != NULL;) {
		need = 0;
		bk = cfg_bucket_find(w.cfg, wr->bucket);
		for (i = 0; bk != NULL && i < bk->n_distributions; i++) {
			d = dist_find(bk->distributions[i]);
			if (d == NULL || wr->seq > d->covered)
				need = 1;
		}
		if (need) {
			wp = &wr->next;
			continue;
		}
		*wp = wr->next;
		free(wr->bucket);
		strvec_fini(&wr->keys);
		free(wr);
	}
}

static int
reserve(struct journal_rec **recs, size_t *cap, size_t need)
{
	struct journal_rec	*nr;
	size_t			 c = *cap;

	if (need < c)
		return 0;
	while (c <= need)
		c *= 2;
	nr = realloc(*recs, c * sizeof(*nr));
	if (nr == NULL)
		return -1;
	*recs = nr;
	*cap = c;
	return 0;
}

static void	submit(struct record *);

/* Rewrite the journal with only what is still needed.  Worker thread. */
static void
compact(void)
{
	struct journal_rec	*recs = NULL;
	struct journal_stats	 st;
	struct write_rec	*wr;
	struct batch		*b;
	struct dist		*d;
	struct record		*held, *rc;
	size_t			 n = 0, cap = 16, i;
	uint64_t		 last_seq, marker_id;
	int			 ok = 0;

	journal_get_stats(w.j, &st);
	if (!w.force_compact && (st.size < COMPACT_MIN_BYTES ||
	    st.size < 2 * w.compacted_size))
		return;
	pthread_mutex_lock(&w.mtx);
	w.compacting = 1;
	while (w.unposted > 0)
		pthread_cond_wait(&w.posted, &w.mtx);
	/* Every durable write is posted now: take them all in. */
	drain_inbox(util_mono_ms());
	prune_writes();
	recs = calloc(cap, sizeof(*recs));
	if (recs == NULL)
		goto out;
	last_seq = journal_last_seq(w.j);
	/* Keep the sequence from going back when every write is gone. */
	if (reserve(&recs, &cap, n + 2) == -1)
		goto out;
	memset(&recs[n], 0, sizeof(recs[n]));
	recs[n].type = JOURNAL_WRITE;
	recs[n].seq = last_seq;
	recs[n].bucket = "";
	n++;
	for (wr = w.writes; wr != NULL; wr = wr->next) {
		if (reserve(&recs, &cap, n + 2) == -1)
			goto out;
		memset(&recs[n], 0, sizeof(recs[n]));
		recs[n].type = JOURNAL_WRITE;
		recs[n].seq = wr->seq;
		recs[n].bucket = wr->bucket;
		recs[n].items = (const char *const *)wr->keys.v;
		recs[n].n_items = wr->keys.n;
		n++;
	}
	for (i = 0; i < w.n_dists; i++) {
		d = &w.dists[i];
		/* A completed marker keeps what this distribution covers. */
		marker_id = w.next_batch_id++;
		if (reserve(&recs, &cap, n + 2) == -1)
			goto out;
		memset(&recs[n], 0, sizeof(recs[n]));
		recs[n].type = JOURNAL_BATCH;
		recs[n].batch_id = marker_id;
		recs[n].distribution = d->id;
		recs[n].caller_reference = "";
		recs[n].upto_seq = d->covered;
		n++;
		memset(&recs[n], 0, sizeof(recs[n]));
		recs[n].type = JOURNAL_COMPLETED;
		recs[n].batch_id = marker_id;
		n++;
		for (b = d->batches; b != NULL; b = b->next) {
			if (reserve(&recs, &cap, n + 2) == -1)
			goto out;
			memset(&recs[n], 0, sizeof(recs[n]));
			recs[n].type = JOURNAL_BATCH;
			recs[n].batch_id = b->id;
			recs[n].distribution = d->id;
			recs[n].caller_reference = b->ref;
			recs[n].upto_seq = b->upto_seq;
			recs[n].items = (const char *const *)b->paths.v;
			recs[n].n_items = b->paths.n;
			n++;
			if (b->inval_id != NULL) {
				memset(&recs[n], 0, sizeof(recs[n]));
				recs[n].type = JOURNAL_ACCEPTED;
				recs[n].batch_id = b->id;
				recs[n].invalidation_id = b->inval_id;
				n++;
			}
		}
	}
	/* The records point into worker-owned state, which only this thread
	 * changes: safe to write them without the mutex. */
	pthread_mutex_unlock(&w.mtx);
	ok = journal_compact(w.j, recs, n) == 0;
	pthread_mutex_lock(&w.mtx);
	if (!ok)
		log_error("journal: compaction failed: %s", strerror(errno));
out:
	w.compacting = 0;
	held = w.held;
	w.held = NULL;
	w.held_tail = &w.held;
	pthread_mutex_unlock(&w.mtx);
	while ((rc = held) != NULL) {
		held = rc->next;
		submit(rc);
	}
	free(recs);
	journal_get_stats(w.j, &st);
	w.compacted_size = st.size;
	if (ok && w.force_compact && !st.lost) {
		w.force_compact = 0;
		log_info("journal: damaged file replaced; the whole-site "
		    "invalidations that cover it are journaled");
	}
	if (ok)
		log_debug("journal: compacted to %" PRIu64 " bytes", st.size);
}

/* --- planning --------------------------------------------------------------- */

static int64_t
backoff_ms(unsigned attempts)
{
	int64_t		 d = w.cfg->cloudfront.retry_base_ms;
	unsigned	 i;
	uint32_t	 r;

	for (i = 1; i < attempts && d < w.cfg->cloudfront.retry_max_ms; i++)
		d *= 2;
	if (d > w.cfg->cloudfront.retry_max_ms)
		d = w.cfg->cloudfront.retry_max_ms;
	/* Full jitter in the upper half: synchronized retries spread out
	 * (AWS Architecture Blog, "Exponential Backoff and Jitter"). */
	r = (uint32_t)random();
	return d / 2 + (int64_t)(r % (uint32_t)(d / 2 + 1));
}

static struct batch *
batch_new(uint64_t from, uint64_t upto, const char *dist)
{
	struct batch	*b;

	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	strvec_init(&b->paths);
	b->id = w.next_batch_id++;
	b->from_seq = from;
	b->upto_seq = upto;
	b->created = util_now();
	(void)dist;
	return b;
}

/* Journal a batch before it is first sent.  Worker thread, no mutex. */
static int
journal_batch(struct batch *b, const char *dist)
{
	struct journal_rec	 r;

	memset(&r, 0, sizeof(r));
	r.type = JOURNAL_BATCH;
	r.batch_id = b->id;
	r.distribution = dist;
	r.caller_reference = b->ref;
	r.upto_seq = b->upto_seq;
	r.items = (const char *const *)b->paths.v;
	r.n_items = b->paths.n;
	return journal_append(w.j, &r);
}

static void
journal_mark(enum journal_type type, uint64_t id, const char *inval_id)
{
	struct journal_rec	 r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.batch_id = id;
	r.invalidation_id = inval_id;
	if (journal_append(w.j, &r) == -1) {
		/* Not fatal: replay then re-sends or re-polls the batch,
		 * with the same CallerReference. */
		log_error("journal: cannot record batch %" PRIu64 ": %s", id,
		    strerror(errno));
		pthread_mutex_lock(&w.mtx);
		w.journal_errors++;
		pthread_mutex_unlock(&w.mtx);
	}
}

/*
 * Plan the taken paths of one distribution into batches that each fit
 * CloudFront's limits, journal them, and queue them.  Worker thread; the
 * mutex is not held on entry.  On a journal failure the batch stays queued
 * unjournaled and is journaled again before it is sent.
 */
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

static uint64_t month_total(void);
static double month_cost(const struct cfg *, uint64_t);

/*
 * Near the free tier or the budget, paths cost more than evictions: the
 * planner is told so by a smaller eviction weight.  mtx held.
 */
static double
budget_weight(void)
{
	const struct cfg	*c = w.cfg;
	static const char *const names[] = { "normal", "tight", "over" };
	double			 allowed, used, ratio, f;
	int			 level;

	used = (double)month_total();
	allowed = (double)c->cloudfront.monthly_free_paths;
	if (c->cloudfront.monthly_budget_usd > 0)
		allowed += c->cloudfront.monthly_budget_usd / PRICE_PER_PATH;
	ratio = allowed > 0 ? used / allowed : 1.0;
	level = ratio < 0.8 ? 0 : ratio < 1.0 ? 1 : 2;
	f = level == 0 ? 1.0 : level == 1 ? 0.2 : 0.02;
	if (w.budget_mode != names[level]) {
		if (level > 0)
			log_warn("budget: %.0f of %.0f paths used this month "
			    "(%s): preferring fewer, wider paths", used,
			    allowed, names[level]);
		w.budget_mode = names[level];
	}
	return c->cloudfront.eviction_weight * f;
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

	pthread_mutex_lock(&w.mtx);
	snprintf(dist, sizeof(dist), "%s", w.dists[di].id);
	weight = budget_weight();
	pthread_mutex_unlock(&w.mtx);
	strvec_init(&known);
	inval_known_paths(w.cfg, w.index, dist, &known);
	memset(&pp, 0, sizeof(pp));
	pp.wildcard_threshold = w.cfg->cloudfront.wildcard_threshold;
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
			if (b == NULL || (!wild && b->paths.n == CF_MAX_FILES)) {
				b = batch_new(from, upto, dist);
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
		count_paths(b);
		make_ref(b, dist);
		if (journal_batch(b, dist) == -1) {
			log_error("journal: cannot record a batch for %s: %s; "
			    "it is kept in memory and recorded before it is "
			    "sent", dist, strerror(errno));
			b->attempts = 0;
			b->state = B_UNSENT;
			b->inval_id = NULL;
			b->next_ms = -1;	/* -1: not journaled yet */
		}
	}
	pthread_mutex_lock(&w.mtx);
	w.dists[di].evictions += res.n_evicted;
	month = month_total() + res.paths.n;
	pthread_mutex_unlock(&w.mtx);
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
	    LOG_NUM("cost_month_millicents", (int64_t)(month_cost(w.cfg,
	    month) * 100000.0)),
	    LOG_NUM("seq_from", from), LOG_NUM("seq_upto", upto) }, 12);
out:
	inval_plan_fini(&res);
	strvec_fini(&known);
	pthread_mutex_lock(&w.mtx);
	for (bt = &w.dists[di].batches; *bt != NULL; bt = &(*bt)->next)
		;
	*bt = list;
	w.dists[di].planning_from = 0;
	for (b = list; b != NULL; b = b->next)
		recent_note(b, dist, "planned");
	pthread_mutex_unlock(&w.mtx);
}

/* --- CloudFront calls --------------------------------------------------------- */

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
	recent_note(b, d->id, note);
	unlink_batch(d, b);
	w.dirty = 1;
	pthread_cond_broadcast(&w.progress);
}

static int
fits(const struct dist *d, const struct batch *b)
{
	return d->inflight_files + b->n_files <= CF_MAX_FILES &&
	    d->inflight_wild + b->n_wild <= CF_MAX_WILDCARDS;
}

/* Split a batch CloudFront refused as invalid into halves.  mtx held. */
static int
bisect(struct dist *d, struct batch *b, struct batch **first,
    struct batch **second)
{
	struct batch	*h1, *h2;
	size_t		 i, half = b->paths.n / 2;

	h1 = batch_new(b->from_seq, b->upto_seq, d->id);
	h2 = batch_new(b->from_seq, b->upto_seq, d->id);
	if (h1 == NULL || h2 == NULL)
		goto fail;
	for (i = 0; i < b->paths.n; i++)
		if (strvec_push(i < half ? &h1->paths : &h2->paths,
		    b->paths.v[i]) == -1)
			goto fail;
	count_paths(h1);
	count_paths(h2);
	make_ref(h1, d->id);
	make_ref(h2, d->id);
	*first = h1;
	*second = h2;
	return 0;
fail:
	batch_free(h1);
	batch_free(h2);
	return -1;
}

static void
call_pacing(void)
{
	double	 rps = w.cfg->cloudfront.max_requests_per_second;

	w.next_call_ms = util_mono_ms() + (int64_t)(1000.0 / rps);
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
			    w.cfg->cloudfront.give_up_after_ms / 1000) }, 4);
		}
		d->refused_gen = gen;
		snprintf(d->refused_why, sizeof(d->refused_why), "%.60s: %.130s",
		    res->code, res->message);
		pthread_cond_broadcast(&w.progress);	/* flushes see it */
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
	uint64_t		 gen = w.flush_gen;
	int			 journaled = b->next_ms != -1;

	snprintf(dist, sizeof(dist), "%s", w.dists[di].id);
	pthread_mutex_unlock(&w.mtx);
	if (!journaled && journal_batch(b, dist) == -1) {
		pthread_mutex_lock(&w.mtx);
		b->next_ms = -1;
		w.journal_errors++;
		/* Try again later; nothing is sent unrecorded. */
		b->attempts++;
		w.dists[di].last_ms = util_mono_ms();
		return;
	}
	memset(&res, 0, sizeof(res));
	cloudfront_create(dist, b->ref, (const char *const *)b->paths.v,
	    b->paths.n, &res);
	call_pacing();
	pthread_mutex_lock(&w.mtx);
	d = &w.dists[di];
	note_answer(d, &res, gen);
	b->next_ms = util_mono_ms();
	switch (res.outcome) {
	case CF_OK:
		b->state = B_INFLIGHT;
		free(b->inval_id);
		b->inval_id = strdup(res.invalidation_id);
		d->inflight_files += b->n_files;
		d->inflight_wild += b->n_wild;
		d->batches_sent++;
		if (w.month != this_month()) {
			size_t	 i;

			for (i = 0; i < w.n_dists; i++)
				w.dists[i].month_paths = 0;
			w.month = this_month();
		}
		d->month_paths += b->paths.n;
		usage_save();
		d->last_error[0] = '\0';
		b->next_ms = util_mono_ms() + w.cfg->cloudfront.poll_interval_ms;
		recent_note(b, dist, "accepted");
		pthread_mutex_unlock(&w.mtx);
		log_event(LOG_INFO, "invalidation", (struct log_field[]){
		    LOG_STR("distribution", dist),
		    LOG_STR("id", res.invalidation_id),
		    LOG_STR("caller_reference", b->ref),
		    LOG_NUM("paths", b->paths.n),
		    LOG_NUM("wildcards", b->n_wild),
		    LOG_STR("status", res.status) }, 6);
		journal_mark(JOURNAL_ACCEPTED, b->id, res.invalidation_id);
		pthread_mutex_lock(&w.mtx);
		if (strcasecmp(res.status, "Completed") == 0) {
			pthread_mutex_unlock(&w.mtx);
			journal_mark(JOURNAL_COMPLETED, b->id, NULL);
			pthread_mutex_lock(&w.mtx);
			finish_batch(&w.dists[di], b, "completed");
			batch_free(b);
		}
		break;
	case CF_ALREADY_DONE:
		/* CloudFront has this CallerReference already: sent before a
		 * restart.  Nothing to poll by id; it is done here. */
		pthread_mutex_unlock(&w.mtx);
		log_info("invalidation %s for %s existed already (%s)", b->ref,
		    dist, res.code);
		journal_mark(JOURNAL_COMPLETED, b->id, NULL);
		pthread_mutex_lock(&w.mtx);
		finish_batch(&w.dists[di], b, "already submitted");
		batch_free(b);
		break;
	case CF_RETRY:
		b->attempts++;
		d->batches_retried++;
		snprintf(d->last_error, sizeof(d->last_error), "%ld %s %.160s",
		    res.http_status, res.code, res.message);
		b->next_ms = util_mono_ms() + backoff_ms(b->attempts);
		recent_note(b, dist, res.code[0] ? res.code : "retrying");
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
			pthread_mutex_unlock(&w.mtx);
			log_warn("CloudFront refused a batch of %zu paths for "
			    "%s (%s); splitting it to find the bad paths",
			    b->paths.n, dist, res.message);
			if (journal_batch(h1, dist) == -1)
				h1->next_ms = -1;
			if (journal_batch(h2, dist) == -1)
				h2->next_ms = -1;
			journal_mark(JOURNAL_COMPLETED, b->id, NULL);
			pthread_mutex_lock(&w.mtx);
			finish_batch(&w.dists[di], b, "split");
			batch_free(b);
			break;
		}
		d->paths_rejected += b->paths.n;
		d->batches_failed++;
		snprintf(d->last_rejected, sizeof(d->last_rejected),
		    "rejected path %.80s: %.120s",
		    b->paths.n ? b->paths.v[0] : "",
		    res.message);
		pthread_mutex_unlock(&w.mtx);
		log_event(LOG_ERROR, "invalidation_rejected",
		    (struct log_field[]){
		    LOG_STR("distribution", dist),
		    LOG_STR("path", b->paths.n ? b->paths.v[0] : ""),
		    LOG_STR("code", res.code),
		    LOG_STR("message", res.message) }, 4);
		journal_mark(JOURNAL_COMPLETED, b->id, NULL);
		pthread_mutex_lock(&w.mtx);
		finish_batch(&w.dists[di], b, "rejected by CloudFront");
		batch_free(b);
		break;
	case CF_FATAL:
		b->attempts++;
		d->batches_failed++;
		snprintf(d->last_error, sizeof(d->last_error), "%ld %s %.160s",
		    res.http_status, res.code, res.message);
		b->next_ms = util_mono_ms() + w.cfg->cloudfront.retry_max_ms;
		recent_note(b, dist, res.code[0] ? res.code : "failed");
		log_event(LOG_ERROR, "invalidation_failed", (struct log_field[]){
		    LOG_STR("distribution", dist),
		    LOG_NUM("http_status", res.http_status),
		    LOG_STR("code", res.code),
		    LOG_STR("message", res.message),
		    LOG_STR("action", "kept pending; retrying slowly") }, 5);
		break;
	}
	pthread_cond_broadcast(&w.progress);
}

/* Poll an invalidation in progress.  mtx held on entry and return. */
static void
poll_batch(size_t di, struct batch *b)
{
	struct cf_result	 res;
	char			 dist[128], id[128];
	uint64_t		 gen = w.flush_gen;
	int			 done;

	snprintf(dist, sizeof(dist), "%s", w.dists[di].id);
	snprintf(id, sizeof(id), "%s", b->inval_id != NULL ? b->inval_id : "");
	pthread_mutex_unlock(&w.mtx);
	memset(&res, 0, sizeof(res));
	cloudfront_get(dist, id, &res);
	call_pacing();
	done = (res.outcome == CF_OK &&
	    strcasecmp(res.status, "Completed") == 0) ||
	    (res.outcome == CF_FATAL &&
	    strcmp(res.code, "NoSuchInvalidation") == 0);
	if (done) {
		journal_mark(JOURNAL_COMPLETED, b->id, NULL);
		log_event(LOG_INFO, "invalidation_completed",
		    (struct log_field[]){
		    LOG_STR("distribution", dist), LOG_STR("id", id),
		    LOG_NUM("paths", b->paths.n) }, 3);
	}
	pthread_mutex_lock(&w.mtx);
	note_answer(&w.dists[di], &res, gen);
	if (done) {
		finish_batch(&w.dists[di], b, "completed");
		batch_free(b);
		return;
	}
	if (res.outcome == CF_OK)
		b->next_ms = util_mono_ms() + w.cfg->cloudfront.poll_interval_ms;
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
	struct dist		*d = &w.dists[di];
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
		recent_note(b, dist, "given up: refused");
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
	d->paths_given_up += paths;
	w.dirty = 1;
	pthread_mutex_unlock(&w.mtx);

	log_event(LOG_ERROR, "distribution_given_up", (struct log_field[]){
	    LOG_STR("distribution", dist),
	    LOG_NUM("paths_dropped", paths),
	    LOG_NUM("batches_dropped", batches),
	    LOG_STR("reason", why),
	    LOG_NUM("refused_for_s",
	    w.cfg->cloudfront.give_up_after_ms / 1000) }, 5);
	for (b = list; b != NULL; b = b->next)
		journal_mark(JOURNAL_COMPLETED, b->id, NULL);
	/* A finished empty batch records how far this distribution is
	 * covered: the writes behind the dropped paths count as done. */
	memset(&r, 0, sizeof(r));
	r.type = JOURNAL_BATCH;
	r.distribution = dist;
	r.caller_reference = "";
	r.upto_seq = upto;
	pthread_mutex_lock(&w.mtx);
	r.batch_id = w.next_batch_id++;
	pthread_mutex_unlock(&w.mtx);
	if (journal_append(w.j, &r) == 0)
		journal_mark(JOURNAL_COMPLETED, r.batch_id, NULL);
	while ((b = list) != NULL) {
		list = b->next;
		batch_free(b);
	}
	pthread_mutex_lock(&w.mtx);
	pthread_cond_broadcast(&w.progress);
}

/* --- the thread ----------------------------------------------------------------- */

/* Merge the inbox into pending.  mtx held. */
static void
drain_inbox(int64_t now)
{
	struct inbox_item	*it;
	struct write_rec	*wr;

	while ((it = w.inbox) != NULL) {
		w.inbox = it->next;
		if (w.inbox == NULL)
			w.inbox_tail = &w.inbox;
		if (merge_write(it->bucket, it->seq,
		    (const char *const *)it->keys.v, it->keys.n, now) == -1)
			log_error("out of memory mapping keys; they stay in "
			    "the journal");
		wr = calloc(1, sizeof(*wr));
		if (wr != NULL) {
			wr->seq = it->seq;
			wr->bucket = it->bucket_name;
			wr->keys = it->keys;
			wr->next = w.writes;
			w.writes = wr;
		} else {
			free(it->bucket_name);
			strvec_fini(&it->keys);
		}
		free(it);
	}
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
	q = w.cfg->cloudfront.quiet_period_ms;
	md = w.cfg->cloudfront.max_delay_ms;
	pthread_mutex_lock(&w.mtx);
	while (w.running) {
		now = util_mono_ms();
		drain_inbox(now);

		/* Coalescing: plan a distribution once it has been quiet for
		 * quiet_period, or max_delay after its first pending write,
		 * or at once on a flush. */
		for (i = 0; i < w.n_dists; i++) {
			d = &w.dists[i];
			if (d->pending.n == 0)
				continue;
			if (!w.flush_now && now - d->last_ms < q &&
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
			pthread_mutex_unlock(&w.mtx);
			strvec_sort_unique(&taken);
			plan_dist(i, &taken, from, upto, tkeys, tskipped);
			strvec_fini(&taken);
			pthread_mutex_lock(&w.mtx);
			w.dirty = 1;
		}
		/* A deploy whose every write stored the same bytes: nothing
		 * to submit, but its figures get their line too. */
		for (i = 0; i < w.n_dists; i++) {
			d = &w.dists[i];
			if (d->pending.n > 0 || d->skipped_pending == 0 ||
			    (!w.flush_now && now - d->last_skip_ms < q))
				continue;
			log_event(LOG_INFO, "plan", (struct log_field[]){
			    LOG_STR("distribution", d->id),
			    LOG_NUM("keys_changed", 0),
			    LOG_NUM("keys_unchanged_skipped",
			    d->skipped_pending),
			    LOG_NUM("paths_exact", 0),
			    LOG_NUM("paths_wildcard", 0),
			    LOG_NUM("paths_month", month_total()) }, 6);
			d->skipped_pending = 0;
		}
		/* A flush asks refusing distributions once more, now: it
		 * waits for that answer only (inval_flush()). */
		for (i = 0; w.flush_now && i < w.n_dists; i++) {
			d = &w.dists[i];
			if (d->refused_ms == 0)
				continue;
			for (b = d->batches; b != NULL; b = b->next)
				if (b->next_ms > now)
					b->next_ms = now;
		}
		w.flush_now = 0;
		pthread_cond_broadcast(&w.progress);
		for (i = 0; i < w.n_dists; i++) {
			d = &w.dists[i];
			if (d->refused_ms != 0 && now - d->refused_ms >=
			    w.cfg->cloudfront.give_up_after_ms)
				give_up(i);
		}

		/* One CloudFront call at a time, paced; the one due first,
		 * whatever its distribution, so a busy one cannot hold the
		 * others back. */
		now = util_mono_ms();
		next = -1;
		act = NULL;
		act_poll = 0;
		best = -1;
		for (i = 0; i < w.n_dists; i++) {
			d = &w.dists[i];
			for (b = d->batches; b != NULL; b = b->next) {
				if (b->state == B_INFLIGHT)
					due = b->next_ms;
				else if (b->state == B_UNSENT && fits(d, b))
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
			due = best < w.next_call_ms ? w.next_call_ms : best;
			if (due > now) {
				next = due;
				act = NULL;
			}
		}
		if (act != NULL) {
			if (act_poll)
				poll_batch(act_dist, act);
			else
				send_batch(act_dist, act);
			continue;
		}
		if (w.dirty) {
			w.dirty = 0;
			prune_writes();
			pthread_mutex_unlock(&w.mtx);
			compact();
			pthread_mutex_lock(&w.mtx);
			continue;
		}
		for (i = 0; i < w.n_dists; i++) {
			d = &w.dists[i];
			if (d->refused_ms != 0)
				next = min_deadline(next, d->refused_ms +
				    w.cfg->cloudfront.give_up_after_ms);
			if (d->pending.n == 0) {
				if (d->skipped_pending > 0)
					next = min_deadline(next,
					    d->last_skip_ms + q);
				continue;
			}
			next = min_deadline(next, d->last_ms + q);
			next = min_deadline(next, d->first_ms + md);
		}
		if (w.inbox != NULL || w.flush_now)
			continue;
		/* The index is a cache: saved now and then, and at stop. */
		if (w.index != NULL && util_mono_ms() - w.index_saved_ms >
		    600000) {
			w.index_saved_ms = util_mono_ms();
			pthread_mutex_unlock(&w.mtx);
			if (etag_index_save(w.index) == -1)
				log_warn("cannot save the ETag index: %s",
				    strerror(errno));
			pthread_mutex_lock(&w.mtx);
			continue;
		}
		if (next < 0) {
			pthread_cond_wait(&w.wake, &w.mtx);
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
			pthread_cond_timedwait(&w.wake, &w.mtx, &ts);
		}
	}
	pthread_mutex_unlock(&w.mtx);
	return NULL;
}

/* --- a damaged journal ---------------------------------------------------- */

/* 1 when id is a distribution of the configuration. */
static int
dist_configured(const char *id)
{
	const struct cfg_bucket	*bk;
	size_t			 i, k;

	for (i = 0; i < w.cfg->n_buckets; i++) {
		bk = &w.cfg->buckets[i];
		for (k = 0; k < bk->n_distributions; k++)
			if (strcmp(bk->distributions[k], id) == 0)
				return 1;
	}
	return 0;
}

/*
 * The journal may have lost acknowledged records (journal.h), and nobody
 * can say which keys they held: every configured distribution gets one
 * batch of the single path "/" "*", covering every write numbered so far
 * (issue 13: invalidate more, never less).  It replaces what was pending
 * there and the batches found unfinished, which it covers too.  The batch
 * is journaled by the compaction that follows (which ends the recovery)
 * or before it is sent, whichever comes first.  mtx held, at start.
 */
static int
cover_loss(uint64_t upto, struct buf *names)
{
	struct batch	*b;
	struct dist	*d;
	size_t		 i;

	for (i = 0; i < w.n_dists; i++) {
		d = &w.dists[i];
		if (!dist_configured(d->id))
			continue;
		while ((b = d->batches) != NULL) {
			d->batches = b->next;
			batch_free(b);
		}
		d->inflight_files = d->inflight_wild = 0;
		strvec_fini(&d->pending);
		strvec_init(&d->pending);
		d->pending_from = d->pending_upto = 0;
		d->keys_pending = 0;
		d->first_ms = d->last_ms = 0;
		b = batch_new(1, upto, d->id);
		if (b == NULL || strvec_push(&b->paths, "/*") == -1) {
			batch_free(b);
			return -1;
		}
		count_paths(b);
		make_ref(b, d->id);
		b->next_ms = -1;		/* not journaled yet */
		d->batches = b;
		if (upto > d->covered)
			d->covered = upto;
		recent_note(b, d->id, "journal damage: whole site");
		buf_printf(names, "%s%s", names->len > 0 ? ", " : "", d->id);
	}
	w.force_compact = 1;
	w.dirty = 1;
	return 0;
}

/* Say what the journal's open found: one line, with the numbers. */
static void
report_open(const char *covered)
{
	const struct journal_stats *st = &w.jopen;

	if (st->lost)
		log_event(LOG_ERROR, "journal_damaged", (struct log_field[]){
		    LOG_NUM("bytes_dropped", st->bytes_dropped),
		    LOG_NUM("bytes_damaged", st->bytes_damaged),
		    LOG_STR("detail", st->damage),
		    LOG_STR("action", "acknowledged writes may be lost: "
		    "invalidating /* on every distribution"),
		    LOG_STR("distributions", covered) }, 5);
	else if (st->bytes_garbage > 0)
		log_event(LOG_WARN, "journal_garbage", (struct log_field[]){
		    LOG_NUM("bytes_dropped", st->bytes_garbage),
		    LOG_STR("detail", st->damage),
		    LOG_STR("action", "dropped; every record of the clean "
		    "stop is there, nothing is lost") }, 3);
	else if (st->bytes_torn > 0)
		log_info("journal: %s; dropped", st->damage);
	else if (st->damage[0] != '\0')
		log_warn("journal: %s", st->damage);
}

/* --- the public side ------------------------------------------------------------- */

struct etag_index *
inval_index(void)
{
	return w.index;
}

void
inval_note_skipped(const struct cfg_bucket *bk, size_t n)
{
	struct dist	*d;
	size_t		 i;

	pthread_mutex_lock(&w.mtx);
	for (i = 0; i < bk->n_distributions; i++) {
		d = dist_find(bk->distributions[i]);
		if (d == NULL)
			continue;
		d->skipped_pending += n;
		d->keys_skipped += n;
		d->last_skip_ms = util_mono_ms();
	}
	pthread_cond_signal(&w.wake);
	pthread_mutex_unlock(&w.mtx);
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

	pthread_mutex_lock(&w.mtx);
	if (w.compacting) {
		rc->next = NULL;
		*w.held_tail = rc;
		w.held_tail = &rc->next;
		pthread_mutex_unlock(&w.mtx);
		return;
	}
	w.unposted++;
	pthread_mutex_unlock(&w.mtx);
	memset(&r, 0, sizeof(r));
	r.type = JOURNAL_WRITE;
	r.bucket = rc->bucket;
	r.items = (const char *const *)rc->keys.v;
	r.n_items = rc->keys.n;
	if (journal_append_async(w.j, &r, on_durable, rc) == 0)
		return;
	err = errno;
	on_durable(rc, 0, err);
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
	pthread_mutex_lock(&w.mtx);
	for (i = 0; err == 0 && i < rc->bk->n_distributions; i++) {
		d = dist_find(rc->bk->distributions[i]);
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
		*w.inbox_tail = it;
		w.inbox_tail = &it->next;
		w.writes_recorded++;
		w.keys_recorded += it->keys.n;
		pthread_cond_signal(&w.wake);
	} else if (err == 0)
		w.reappends++;
	else
		w.journal_errors++;
	if (--w.unposted == 0 && w.compacting)
		pthread_cond_signal(&w.posted);
	pthread_mutex_unlock(&w.mtx);

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
	if (!w.started) {
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

static void	json_str(struct buf *, const char *);

/* Paths pending and batches open, over every distribution.  mtx held. */
static void
count_open(uint64_t *pending, uint64_t *open)
{
	struct batch	*b;
	size_t		 i;

	*pending = *open = 0;
	for (i = 0; i < w.n_dists; i++) {
		*pending += w.dists[i].pending.n;
		for (b = w.dists[i].batches; b != NULL; b = b->next)
			(*open)++;
	}
}

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
	for (it = w.inbox; it != NULL; it = it->next)
		if (it->seq <= target)
			settled = 0;
	for (i = 0; i < w.n_dists; i++) {
		d = &w.dists[i];
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
			f->give_up_in_ms = d->refused_ms +
			    w.cfg->cloudfront.give_up_after_ms - util_mono_ms();
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
	struct timespec	 ts;
	int64_t		 t0 = util_mono_ms(), deadline, left;
	uint64_t	 target, gen;
	int		 settled;

	memset(res, 0, sizeof(*res));
	if (!w.started) {
		res->done = 1;
		return;
	}
	target = journal_last_seq(w.j);
	deadline = t0 + wait_ms;
	pthread_mutex_lock(&w.mtx);
	gen = ++w.flush_gen;
	w.flush_now = 1;
	pthread_cond_signal(&w.wake);
	for (;;) {
		settled = flush_settled(target, gen, res);
		res->done = settled && res->n_failed == 0;
		res->stopping = w.quiesced || !w.running;
		left = deadline - util_mono_ms();
		if (settled || wait_ms <= 0 || left <= 0 || !w.running ||
		    (w.quiesced && !final))
			break;
		if (left > 1000)
			left = 1000;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&w.progress, &w.mtx, &ts);
	}
	pthread_mutex_unlock(&w.mtx);
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
	pthread_mutex_lock(&w.mtx);
	w.quiesced = 1;
	pthread_cond_broadcast(&w.progress);
	pthread_mutex_unlock(&w.mtx);
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

	if (!w.started)
		return 1;
	journal_get_stats(w.j, &st);
	if (st.failing) {
		pthread_mutex_lock(&w.mtx);
		if (now - w.probe_ms >= 1000) {
			w.probe_ms = now;
			probe = 1;
		}
		pthread_mutex_unlock(&w.mtx);
		if (!probe || journal_probe(w.j) == -1)
			return 0;
	}
	return access(w.cfg->server.state_dir, W_OK) == 0;
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
	struct rstate	 rs;
	struct rbatch	*rb;
	struct buf	 covered;
	unsigned char	 rnd[8];
	size_t		 i, k;
	int		 any = 0;

	w.cfg = cfg;
	w.inbox = NULL;
	w.inbox_tail = &w.inbox;
	w.held = NULL;
	w.held_tail = &w.held;
	w.next_batch_id = 1;
	w.month = this_month();
	srandom((unsigned)util_now_ms());
	for (i = 0; i < cfg->n_buckets; i++)
		if (cfg->buckets[i].n_distributions > 0)
			any = 1;
	memset(&rs, 0, sizeof(rs));
	if (load_instance(cfg->server.state_dir, err, errsz) == -1)
		goto fail;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		snprintf(err, errsz, "no randomness for this run's id");
		goto fail;
	}
	sigv4_hex(w.boot, rnd, sizeof(rnd));
	if (index_forget_after_crash(cfg->server.state_dir) == -1) {
		snprintf(err, errsz, "cannot remove %s/%s left by a crash: %s",
		    cfg->server.state_dir, ETAG_INDEX_FILE, strerror(errno));
		goto fail;
	}
	w.index = etag_index_open(cfg->server.state_dir,
	    (size_t)cfg->server.index_max_memory);
	w.index_saved_ms = util_mono_ms();
	if (journal_open(cfg->server.state_dir, replay_cb, &rs, &w.j, err,
	    errsz) == -1)
		goto fail;
	pthread_mutex_lock(&w.mtx);
	for (i = 0; i < cfg->n_buckets; i++)
		for (k = 0; k < cfg->buckets[i].n_distributions; k++)
			if (dist_get(cfg->buckets[i].distributions[k]) ==
			    NULL) {
				pthread_mutex_unlock(&w.mtx);
				snprintf(err, errsz, "out of memory");
				goto fail;
			}
	usage_load();
	if (restore(&rs) == -1) {
		pthread_mutex_unlock(&w.mtx);
		snprintf(err, errsz, "out of memory replaying the journal");
		goto fail;
	}
	journal_get_stats(w.j, &w.jopen);
	buf_init(&covered);
	if (w.jopen.lost && (cover_loss(journal_last_seq(w.j), &covered) ==
	    -1 || !buf_ok(&covered))) {
		pthread_mutex_unlock(&w.mtx);
		buf_fini(&covered);
		snprintf(err, errsz, "out of memory covering journal damage");
		goto fail;
	}
	w.dirty = 1;
	w.running = 1;
	pthread_mutex_unlock(&w.mtx);
	report_open(buf_str(&covered));
	buf_fini(&covered);
	if (cloudfront_init(cfg->cloudfront.endpoint,
	    (long)cfg->cloudfront.timeout_ms) == -1) {
		snprintf(err, errsz, "cannot set up the CloudFront client");
		goto fail;
	}
	if (pthread_create(&w.thread, NULL, worker_main, NULL) != 0) {
		snprintf(err, errsz, "cannot start the worker thread");
		goto fail;
	}
	w.started = 1;
	if (!any)
		log_info("no bucket has distributions: nothing will be "
		    "invalidated");
	return 0;
fail:
	while ((rb = rs.batches) != NULL) {
		rs.batches = rb->next;
		batch_free(rb->b);
		free(rb->dist);
		free(rb);
	}
	journal_close(w.j);
	w.j = NULL;
	return -1;
}

void
inval_stop(void)
{
	struct write_rec	*wr;
	struct inbox_item	*it;
	struct batch		*b;
	size_t			 i;

	if (!w.started)
		return;
	pthread_mutex_lock(&w.mtx);
	w.running = 0;
	pthread_cond_broadcast(&w.wake);
	pthread_cond_broadcast(&w.progress);
	pthread_mutex_unlock(&w.mtx);
	pthread_join(w.thread, NULL);
	w.started = 0;
	if (w.index != NULL && etag_index_save(w.index) == -1)
		log_warn("cannot save the ETag index: %s", strerror(errno));
	etag_index_close(w.index);
	w.index = NULL;
	cloudfront_fini();
	journal_close(w.j);
	w.j = NULL;
	while ((wr = w.writes) != NULL) {
		w.writes = wr->next;
		free(wr->bucket);
		strvec_fini(&wr->keys);
		free(wr);
	}
	while ((it = w.inbox) != NULL) {
		w.inbox = it->next;
		free(it->bucket_name);
		strvec_fini(&it->keys);
		free(it);
	}
	for (i = 0; i < w.n_dists; i++) {
		while ((b = w.dists[i].batches) != NULL) {
			w.dists[i].batches = b->next;
			batch_free(b);
		}
		strvec_fini(&w.dists[i].pending);
		free(w.dists[i].id);
	}
	free(w.dists);
	w.dists = NULL;
	w.n_dists = 0;
}

/* --- metrics and status ----------------------------------------------------------- */

static uint64_t
month_total(void)
{
	uint64_t	 t = 0;
	size_t		 i;

	for (i = 0; i < w.n_dists; i++)
		t += w.dists[i].month_paths;
	return t;
}

static double
month_cost(const struct cfg *cfg, uint64_t total)
{
	if (cfg == NULL || total <= cfg->cloudfront.monthly_free_paths)
		return 0.0;
	return (double)(total - cfg->cloudfront.monthly_free_paths) *
	    PRICE_PER_PATH;
}

/* The per-distribution series of /metrics: one table, one loop. */
static const struct {
	const char	*name;
	const char	*type;
	size_t		 off;
	const char	*help;
} dist_metrics[] = {
	{ "batches_sent_total", "counter", offsetof(struct dist, batches_sent),
	    "Invalidation batches CloudFront accepted." },
	{ "batches_retried_total", "counter",
	    offsetof(struct dist, batches_retried),
	    "Retries after throttling or errors." },
	{ "batches_failed_total", "counter",
	    offsetof(struct dist, batches_failed),
	    "Batches refused (kept pending unless a path was invalid)." },
	{ "paths_rejected_total", "counter",
	    offsetof(struct dist, paths_rejected),
	    "Paths CloudFront refused as invalid." },
	{ "keys_unchanged_total", "counter",
	    offsetof(struct dist, keys_skipped),
	    "Writes that stored the same ETag again: not invalidated." },
	{ "needless_evictions_total", "counter",
	    offsetof(struct dist, evictions),
	    "Unchanged objects the plans' wildcards evicted (as far as "
	    "known)." },
	{ "paths_month", "gauge", offsetof(struct dist, month_paths),
	    "Paths submitted this calendar month (UTC)." },
	{ "paths_given_up_total", "counter",
	    offsetof(struct dist, paths_given_up),
	    "Paths dropped after the distribution refused them "
	    "(NoSuchDistribution, AccessDenied) for give_up_after." },
};

void
inval_metrics(struct buf *b)
{
	struct journal_stats	 st;
	size_t			 i, k;
	uint64_t		 pending = 0, open = 0;

	memset(&st, 0, sizeof(st));
	if (w.started)
		journal_get_stats(w.j, &st);
	pthread_mutex_lock(&w.mtx);
	count_open(&pending, &open);
	buf_printf(b, "# HELP s3inval_writes_recorded_total Writes journaled "
	    "for invalidation.\n# TYPE s3inval_writes_recorded_total counter\n"
	    "s3inval_writes_recorded_total %" PRIu64 "\n", w.writes_recorded);
	buf_printf(b, "# HELP s3inval_keys_recorded_total Keys journaled.\n"
	    "# TYPE s3inval_keys_recorded_total counter\n"
	    "s3inval_keys_recorded_total %" PRIu64 "\n", w.keys_recorded);
	buf_printf(b, "# HELP s3inval_paths_pending Paths waiting for their "
	    "quiet period.\n# TYPE s3inval_paths_pending gauge\n"
	    "s3inval_paths_pending %" PRIu64 "\n", pending);
	buf_printf(b, "# HELP s3inval_batches_open Batches not yet "
	    "Completed.\n# TYPE s3inval_batches_open gauge\n"
	    "s3inval_batches_open %" PRIu64 "\n", open);
	for (k = 0; k < sizeof(dist_metrics) / sizeof(dist_metrics[0]); k++) {
		buf_printf(b, "# HELP s3inval_%s %s\n# TYPE s3inval_%s %s\n",
		    dist_metrics[k].name, dist_metrics[k].help,
		    dist_metrics[k].name, dist_metrics[k].type);
		for (i = 0; i < w.n_dists; i++)
			buf_printf(b, "s3inval_%s{distribution=\"%s\"} %" PRIu64
			    "\n", dist_metrics[k].name, w.dists[i].id,
			    *(const uint64_t *)(const void *)((const char *)
			    &w.dists[i] + dist_metrics[k].off));
	}
	buf_printf(b, "# HELP s3inval_index_bytes Memory of the ETag index.\n"
	    "# TYPE s3inval_index_bytes gauge\ns3inval_index_bytes %zu\n",
	    w.index != NULL ? etag_index_bytes(w.index) : (size_t)0);
	buf_printf(b, "# HELP s3inval_cost_usd_month Estimated invalidation "
	    "cost this month: %u paths free, then $0.005 a path.\n"
	    "# TYPE s3inval_cost_usd_month gauge\n"
	    "s3inval_cost_usd_month %.3f\n",
	    w.cfg != NULL ? w.cfg->cloudfront.monthly_free_paths : 1000,
	    month_cost(w.cfg, month_total()));
	buf_printf(b, "# HELP s3inval_journal_bytes Journal size.\n"
	    "# TYPE s3inval_journal_bytes gauge\ns3inval_journal_bytes %"
	    PRIu64 "\n", st.size);
	buf_printf(b, "# HELP s3inval_journal_syncs_total fdatasync calls "
	    "(group commit shares them).\n"
	    "# TYPE s3inval_journal_syncs_total counter\n"
	    "s3inval_journal_syncs_total %" PRIu64 "\n", st.syncs);
	buf_printf(b, "# HELP s3inval_journal_errors_total Journal writes "
	    "that failed.\n# TYPE s3inval_journal_errors_total counter\n"
	    "s3inval_journal_errors_total %" PRIu64 "\n", w.journal_errors);
	buf_printf(b, "# HELP s3inval_journal_damaged_bytes_total Journal "
	    "bytes found damaged at start (unreadable, missing, or written "
	    "after a clean stop).\n"
	    "# TYPE s3inval_journal_damaged_bytes_total counter\n"
	    "s3inval_journal_damaged_bytes_total %" PRIu64 "\n",
	    w.jopen.bytes_damaged + w.jopen.bytes_garbage);
	buf_printf(b, "# HELP s3inval_journal_torn_bytes_total Journal bytes "
	    "of an unacknowledged write a crash cut short, dropped at start.\n"
	    "# TYPE s3inval_journal_torn_bytes_total counter\n"
	    "s3inval_journal_torn_bytes_total %" PRIu64 "\n",
	    w.jopen.bytes_torn);
	pthread_mutex_unlock(&w.mtx);
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
inval_status_json(struct buf *b)
{
	struct journal_stats st;
	struct batch	*bt;
	struct dist	*d;
	size_t		 i, unsent, inflight;
	uint64_t	 pending = 0, open = 0, total;
	int64_t		 now = util_mono_ms();

	memset(&st, 0, sizeof(st));
	if (w.started)
		journal_get_stats(w.j, &st);
	pthread_mutex_lock(&w.mtx);
	count_open(&pending, &open);
	total = month_total();
	buf_printf(b, "{\"paths_pending\":%" PRIu64 ",\"batches_open\":%"
	    PRIu64 ",\"writes_recorded\":%" PRIu64 ",\"journal_errors\":%"
	    PRIu64 ",\"month\":{\"paths\":%" PRIu64 ",\"free_paths\":%u,"
	    "\"estimated_cost_usd\":%.3f,\"budget\":\"%s\"},",
	    pending, open, w.writes_recorded, w.journal_errors, total,
	    w.cfg != NULL ? w.cfg->cloudfront.monthly_free_paths : 1000,
	    month_cost(w.cfg, total),
	    w.budget_mode != NULL ? w.budget_mode : "normal");
	buf_printf(b, "\"journal\":{\"bytes\":%" PRIu64 ",\"writable\":%s,"
	    "\"damaged_bytes\":%" PRIu64 ",\"torn_bytes\":%" PRIu64
	    ",\"lost\":%s,\"recovering\":%s,\"damage\":", st.size,
	    st.failing ? "false" : "true",
	    w.jopen.bytes_damaged + w.jopen.bytes_garbage, w.jopen.bytes_torn,
	    w.jopen.lost ? "true" : "false", st.lost ? "true" : "false");
	json_str(b, w.jopen.damage);
	buf_puts(b, "},\"distributions\":[");
	for (i = 0; i < w.n_dists; i++) {
		d = &w.dists[i];
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
		    d->batches_sent, d->batches_retried, d->batches_failed,
		    d->paths_rejected, d->keys_skipped, d->evictions);
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
		    d->refused_ms != 0 ? (d->refused_ms + w.cfg->cloudfront.
		    give_up_after_ms - now + 999) / 1000 : 0, d->paths_given_up);
		json_str(b, d->refused_why);
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"recent_batches\":[");
	for (i = 0; i < w.n_recent; i++) {
		struct recent *r = &w.recent[w.n_recent - 1 - i];

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
	pthread_mutex_unlock(&w.mtx);
}
