/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker_journal: what the worker keeps in the journal (DESIGN §4) and
 * gets back from it: at start, the replay (writes not yet covered by a
 * batch go back to pending, unfinished batches back on their queue, with
 * their CallerReference), the recovery from a damaged journal (the whole
 * site, per distribution), and the instance id that makes CallerReferences
 * unique per state_dir; while running, the batch records (BATCH before a
 * batch is first sent, ACCEPTED, COMPLETED) and the compaction that keeps
 * the file bounded by what is pending.
 *
 * Threading: worker_journal_open() runs before the thread starts.  The
 * records are appended by the worker thread without the mutex.
 * Compaction runs on the worker thread: it holds new writes back
 * (worker_record_hold()) and snapshots the shared state under the mutex,
 * then writes the file without it (only this thread changes what the
 * records point into).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "buf.h"
#include "journal.h"
#include "log.h"
#include "sigv4.h"
#include "state_file.h"
#include "util.h"
#include "worker_journal.h"
#include "worker_record.h"
#include "worker_state.h"
#include "worker_usage.h"

#define COMPACT_MIN_BYTES	(1024 * 1024)
#define INSTANCE_FILE		"instance-id"

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
		memcpy(worker.instance, hex, 33);
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
	memcpy(worker.instance, hex, 33);
	return 0;
}

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
		wr->next = worker.writes;
		worker.writes = wr;
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
		worker_batch_count(rb->b);
		rb->next = rs->batches;
		rs->batches = rb;
		if (r->batch_id >= worker.next_batch_id)
			worker.next_batch_id = r->batch_id + 1;
		return 0;
	case JOURNAL_ACCEPTED:
		/* Its BATCH may be lost to damage: never reuse the id. */
		if (r->batch_id >= worker.next_batch_id)
			worker.next_batch_id = r->batch_id + 1;
		rb = rbatch_find(rs, r->batch_id);
		if (rb != NULL && r->invalidation_id != NULL) {
			free(rb->b->inval_id);
			rb->b->inval_id = strdup(r->invalidation_id);
			rb->b->state = B_INFLIGHT;
		}
		return 0;
	case JOURNAL_COMPLETED:
		if (r->batch_id >= worker.next_batch_id)
			worker.next_batch_id = r->batch_id + 1;
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
		d = worker_dist_get(rb->dist);
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
		    !worker_dist_configured(rb->dist)) {
			note_unconfigured(&gone, rb->dist, rb->b->paths.n);
			worker_batch_free(rb->b);
		} else if (rb->done || rb->dist[0] == '\0' ||
		    rb->b->paths.n == 0) {
			worker_batch_free(rb->b);
		} else {
			d = worker_dist_get(rb->dist);
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
			worker_recent_note(rb->b, d->id,
			    "resumed after restart");
			resumed++;
		}
		free(rb->dist);
		free(rb);
	}
	/* Writes, oldest first, into pending where not covered. */
	while ((wr = worker.writes) != NULL) {
		worker.writes = wr->next;
		wr->next = rev;
		rev = wr;
	}
	worker.writes = rev;
	for (wr = worker.writes; wr != NULL; wr = wr->next) {
		bk = cfg_bucket_find(worker.cfg, wr->bucket);
		if (bk == NULL || bk->n_distributions == 0) {
			if (wr->bucket[0] != '\0')
				note_unconfigured(&gone_buckets, wr->bucket,
				    wr->keys.n);
			continue;
		}
		if (worker_merge_write(bk, wr->seq,
		    (const char *const *)wr->keys.v, wr->keys.n, now) == -1)
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
		worker.force_compact = 1;	/* so they stay dropped */
	gone_free(gone);
	gone_free(gone_buckets);
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

	for (i = 0; i < worker.n_dists; i++) {
		d = &worker.dists[i];
		if (!worker_dist_configured(d->id))
			continue;
		while ((b = d->batches) != NULL) {
			d->batches = b->next;
			worker_batch_free(b);
		}
		d->inflight_files = d->inflight_wild = 0;
		strvec_fini(&d->pending);
		strvec_init(&d->pending);
		d->pending_from = d->pending_upto = 0;
		d->keys_pending = 0;
		d->first_ms = d->last_ms = 0;
		b = worker_batch_new(1, upto, d->id);
		if (b == NULL || strvec_push(&b->paths, "/*") == -1) {
			worker_batch_free(b);
			return -1;
		}
		worker_batch_count(b);
		worker_batch_ref(b, d->id);
		b->next_ms = -1;		/* not journaled yet */
		d->batches = b;
		if (upto > d->covered)
			d->covered = upto;
		worker_recent_note(b, d->id, "journal damage: whole site");
		buf_printf(names, "%s%s", names->len > 0 ? ", " : "", d->id);
	}
	worker.force_compact = 1;
	worker.dirty = 1;
	return 0;
}

/* Say what the journal's open found: one line, with the numbers. */
static void
report_open(const char *covered)
{
	const struct journal_stats *st = &worker.jopen;

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

int
worker_journal_open(char *err, size_t errsz)
{
	const struct cfg	*cfg = worker.cfg;
	struct rstate		 rs;
	struct rbatch		*rb;
	struct buf		 covered;
	unsigned char		 rnd[8];
	size_t			 i, k;
	int			 rc = -1;

	memset(&rs, 0, sizeof(rs));
	buf_init(&covered);
	if (load_instance(cfg->server.state_dir, err, errsz) == -1)
		goto out;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		snprintf(err, errsz, "no randomness for this run's id");
		goto out;
	}
	sigv4_hex(worker.boot, rnd, sizeof(rnd));
	if (journal_open(cfg->server.state_dir, replay_cb, &rs, &worker.j, err,
	    errsz) == -1)
		goto out;
	pthread_mutex_lock(&worker.mtx);
	for (i = 0; i < cfg->n_buckets; i++)
		for (k = 0; k < cfg->buckets[i].n_distributions; k++)
			if (worker_dist_get(cfg->buckets[i].distributions[k]) ==
			    NULL) {
				pthread_mutex_unlock(&worker.mtx);
				snprintf(err, errsz, "out of memory");
				goto out;
			}
	worker_usage_load();
	if (restore(&rs) == -1) {
		pthread_mutex_unlock(&worker.mtx);
		snprintf(err, errsz, "out of memory replaying the journal");
		goto out;
	}
	journal_get_stats(worker.j, &worker.jopen);
	if (worker.jopen.lost && (cover_loss(journal_last_seq(worker.j),
	    &covered) == -1 || !buf_ok(&covered))) {
		pthread_mutex_unlock(&worker.mtx);
		snprintf(err, errsz, "out of memory covering journal damage");
		goto out;
	}
	pthread_mutex_unlock(&worker.mtx);
	report_open(buf_str(&covered));
	rc = 0;
out:
	buf_fini(&covered);
	while ((rb = rs.batches) != NULL) {
		rs.batches = rb->next;
		worker_batch_free(rb->b);
		free(rb->dist);
		free(rb);
	}
	if (rc == -1) {
		journal_close(worker.j);
		worker.j = NULL;
	}
	return rc;
}

/* Journal a batch before it is first sent.  Worker thread, no mutex. */
int
worker_journal_batch(struct batch *b, const char *dist)
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
	return journal_append(worker.j, &r);
}

void
worker_journal_mark(enum journal_type type, uint64_t id, const char *inval_id)
{
	struct journal_rec	 r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.batch_id = id;
	r.invalidation_id = inval_id;
	if (journal_append(worker.j, &r) == -1) {
		/* Not fatal: replay then re-sends or re-polls the batch,
		 * with the same CallerReference. */
		log_error("journal: cannot record batch %" PRIu64 ": %s", id,
		    strerror(errno));
		metrics_add(M_JOURNAL_ERRORS, 1);
	}
}

/* Forget the writes every distribution of their bucket has put in a
 * batch: the batches hold their paths now.  mtx held. */
void
worker_prune_writes(void)
{
	const struct cfg_bucket	*bk;
	struct write_rec	*wr, **wp;
	struct dist		*d;
	size_t			 i;
	int			 need;

	for (wp = &worker.writes; (wr = *wp) != NULL;) {
		need = 0;
		bk = cfg_bucket_find(worker.cfg, wr->bucket);
		for (i = 0; bk != NULL && i < bk->n_distributions; i++) {
			d = worker_dist_find(bk->distributions[i]);
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

/* Rewrite the journal with only what is still needed.  Worker thread. */
void
worker_compact(void)
{
	struct journal_rec	*recs = NULL;
	struct journal_stats	 st;
	struct write_rec	*wr;
	struct batch		*b;
	struct dist		*d;
	size_t			 n = 0, cap = 16, i;
	uint64_t		 last_seq, marker_id;
	int			 ok = 0;

	journal_get_stats(worker.j, &st);
	if (!worker.force_compact && (st.size < COMPACT_MIN_BYTES ||
	    st.size < 2 * worker.compacted_size))
		return;
	pthread_mutex_lock(&worker.mtx);
	worker_record_hold();
	/* Every durable write is posted now: take them all in. */
	worker_take_inbox(util_mono_ms());
	worker_prune_writes();
	recs = calloc(cap, sizeof(*recs));
	if (recs == NULL)
		goto out;
	last_seq = journal_last_seq(worker.j);
	/* Keep the sequence from going back when every write is gone. */
	if (reserve(&recs, &cap, n + 2) == -1)
		goto out;
	memset(&recs[n], 0, sizeof(recs[n]));
	recs[n].type = JOURNAL_WRITE;
	recs[n].seq = last_seq;
	recs[n].bucket = "";
	n++;
	for (wr = worker.writes; wr != NULL; wr = wr->next) {
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
	for (i = 0; i < worker.n_dists; i++) {
		d = &worker.dists[i];
		/* A completed marker keeps what this distribution covers. */
		marker_id = worker.next_batch_id++;
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
	pthread_mutex_unlock(&worker.mtx);
	ok = journal_compact(worker.j, recs, n) == 0;
	pthread_mutex_lock(&worker.mtx);
	if (!ok)
		log_error("journal: compaction failed: %s", strerror(errno));
out:
	pthread_mutex_unlock(&worker.mtx);
	worker_record_release();
	free(recs);
	journal_get_stats(worker.j, &st);
	worker.compacted_size = st.size;
	if (ok && worker.force_compact && !st.lost) {
		worker.force_compact = 0;
		log_info("journal: damaged file replaced; the whole-site "
		    "invalidations that cover it are journaled");
	}
	if (ok)
		log_debug("journal: compacted to %" PRIu64 " bytes", st.size);
}
