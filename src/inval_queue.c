/* SPDX-License-Identifier: Apache-2.0 */
/* inval_queue: see inval_queue.h. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "etag_index.h"
#include "inval_map.h"
#include "inval_queue.h"
#include "inval_worker.h"
#include "log.h"
#include "metrics.h"
#include "s3_xml.h"
#include "util.h"

struct iq_read {
	struct etag_learner	*learner;
};

/* What the table does not know, logged once per name (s3_req_describe);
 * past SEEN_MAX names, counted only. */
#define SEEN_MAX	64
#define SEEN_LEN	96

static pthread_mutex_t	 seen_mu = PTHREAD_MUTEX_INITIALIZER;
static char		 seen[SEEN_MAX][SEEN_LEN];
static size_t		 n_seen;

static int
is_write(enum s3_op op)
{
	return s3_op_change(op) != S3_CHG_NOTHING;
}

int
inval_queue_wants(const struct cfg_bucket *bk, enum s3_op op, int status)
{
	return status / 100 == 2 && inval_bucket_wants(bk) && is_write(op);
}

int
inval_queue_wants_body(enum s3_op op)
{
	return (s3_op_flags(op) & S3_F_RESP_BODY) != 0;
}

int
inval_queue_wants_request_body(enum s3_op op)
{
	return (s3_op_flags(op) & S3_F_REQ_BODY) != 0;
}

/* A successful write s3_op_table.h does not know (issue 13): counted
 * always, logged the first time its name is seen. */
static void
note_unclassified(const struct iq_write *w, int whole)
{
	char	 name[SEEN_LEN];
	size_t	 i;
	int	 fresh = 1;

	metrics_unclassified_write();
	s3_req_describe(w->s3, name, sizeof(name));
	pthread_mutex_lock(&seen_mu);
	for (i = 0; i < n_seen && fresh; i++)
		fresh = strcmp(seen[i], name) != 0;
	if (fresh && n_seen < SEEN_MAX)
		memcpy(seen[n_seen++], name, sizeof(name));
	else
		fresh = 0;
	pthread_mutex_unlock(&seen_mu);
	if (fresh)
		log_event(LOG_WARN, "unclassified_write", (struct log_field[]){
		    LOG_STR("operation", name),
		    LOG_STR("bucket", w->s3->bucket),
		    LOG_STR("invalidating", whole ? "the whole bucket" :
		    "its key"),
		    LOG_STR("note", "an operation s3inval does not know "
		    "succeeded; logged once per operation, counted in "
		    "s3inval_unclassified_writes_total") }, 4);
}

/* The answer to a successful write could not be read: what the request
 * could have changed is recorded instead (issue 13, fail closed). */
static void
note_fallback(const struct iq_write *w, const char *instead)
{
	metrics_write_fallback();
	log_event(LOG_WARN, "write_fallback", (struct log_field[]){
	    LOG_STR("op", s3_op_name(w->s3->op)),
	    LOG_STR("bucket", w->s3->bucket),
	    LOG_NUM("status", w->status),
	    LOG_NUM("answer_bytes", w->body_len),
	    LOG_STR("invalidating", instead) }, 5);
}

static int
push_all(struct strvec *to, const struct strvec *from)
{
	size_t	 i;

	for (i = 0; i < from->n; i++)
		if (strvec_push(to, from->v[i]) == -1)
			return -1;
	return 0;
}

/*
 * DeleteObjects: the keys the answer says were deleted; with a quiet
 * request (whose answer lists only failures) every key the request named;
 * with an answer that cannot be read, the same; without the request body
 * either, the whole bucket.
 */
static int
deleted_keys(const struct iq_write *w, struct strvec *keys)
{
	struct strvec	 req, resp;
	int		 n, have_req = 0, quiet = 0, rc = -1;

	strvec_init(&req);
	strvec_init(&resp);
	if (w->req_body != NULL)
		have_req = s3_xml_delete_request(w->req_body, w->req_body_len,
		    &req, &quiet) >= 0;
	n = s3_xml_deleted_keys(w->body, w->body_len, &resp);
	if (have_req && (quiet || n < 0)) {
		if (n < 0)
			note_fallback(w, "the keys the request named");
		rc = push_all(keys, &req);
	} else if (n < 0 || (!have_req && n == 0)) {
		/* No request to fall back to; an empty answer may be a quiet
		 * one, whose deletions it does not list. */
		note_fallback(w, "the whole bucket");
		rc = strvec_push(keys, INVAL_WHOLE_BUCKET);
	} else
		rc = push_all(keys, &resp);
	strvec_fini(&req);
	strvec_fini(&resp);
	return rc;
}

/*
 * The keys a successful write changed (s3_op_table.h), INVAL_WHOLE_BUCKET
 * for all of them.  Returns 0, or -1 when memory runs out.
 */
static int
changed_keys(const struct iq_write *w, struct strvec *keys)
{
	enum s3_op	 op = w->s3->op;

	switch (s3_op_change(op)) {
	case S3_CHG_NOTHING:
		return 0;
	case S3_CHG_BUCKET:
		return strvec_push(keys, INVAL_WHOLE_BUCKET);
	case S3_CHG_RESPONSE_KEYS:
		return deleted_keys(w, keys);
	case S3_CHG_KEY:
		break;
	}
	if (op == S3_OP_UNKNOWN)
		note_unclassified(w, w->s3->key == NULL);
	if (inval_queue_wants_body(op)) {
		switch (s3_xml_is_error(w->body, w->body_len)) {
		case 1:
			/* 200 with an <Error>: it did not happen. */
			return 0;
		case -1:
			note_fallback(w, "its key");
			break;
		default:
			break;
		}
	}
	return strvec_push(keys, w->s3->key != NULL ? w->s3->key :
	    INVAL_WHOLE_BUCKET);
}

/* The ETag a successful write reports: the ETag header of PutObject, the
 * <ETag> of a Copy or Complete result. */
static const char *
write_etag(const struct iq_write *w, char *out, size_t outsz)
{
	const char	*v;

	if (w->s3->op == S3_OP_PUT_OBJECT) {
		v = auth_header(w->resp_headers, w->n_resp_headers, "etag");
		if (v == NULL || strlen(v) >= outsz)
			return NULL;
		memcpy(out, v, strlen(v) + 1);
		return out;
	}
	if ((w->s3->op == S3_OP_COPY_OBJECT ||
	    w->s3->op == S3_OP_COMPLETE_MPU) &&
	    s3_xml_result_etag(w->body, w->body_len, out, outsz) == 0)
		return out;
	return NULL;
}

/*
 * Keep the index true after a write: the new ETag, or the key forgotten.
 * After a failure the key is forgotten too: the client retries the same
 * bytes, and a remembered ETag would wrongly skip that retry.
 */
static void
index_after_write(const struct iq_write *w, struct etag_index *idx,
    const struct strvec *keys, const char *etag, int failed)
{
	size_t	 i;

	if (w->bucket->index != CFG_INDEX_LEARN)
		return;
	for (i = 0; i < keys->n; i++) {
		if (!failed && etag != NULL && keys->n == 1 &&
		    w->s3->op != S3_OP_DELETE_OBJECT &&
		    w->s3->op != S3_OP_DELETE_OBJECTS)
			etag_index_put(idx, w->s3->bucket, keys->v[i], etag,
			    util_now(), 0);
		else
			etag_index_del(idx, w->s3->bucket, keys->v[i]);
	}
}

/* The same bytes again (a fresh CI build re-uploads every file): nothing
 * for the CDN to forget.  Only on a fresh index entry. */
static int
unchanged(const struct iq_write *w, struct etag_index *idx,
    const struct strvec *keys, const char *etag)
{
	const struct cfg_bucket	*bk = w->bucket;

	return etag != NULL && idx != NULL && keys->n == 1 &&
	    bk->skip_unchanged && bk->index == CFG_INDEX_LEARN &&
	    etag_index_same(idx, w->s3->bucket, keys->v[0], etag,
	    util_now() - bk->index_max_age_ms / 1000);
}

int
inval_queue_changed_keys(const struct iq_write *w, struct strvec *keys)
{
	return changed_keys(w, keys);
}

#define NOT_RECORDED	"The write could not be recorded for CDN " \
	"invalidation; please retry."

/* A write being recorded: what the index must learn once it is. */
struct pending {
	struct iq_write		 w;		/* what it points to outlives us */
	struct iq_result	*res;
	struct strvec		 keys;
	char			 etag_buf[128];
	const char		*etag;
	iq_done_fn		 done;
	void			*arg;
};

static void
pending_free(struct pending *p)
{
	strvec_fini(&p->keys);
	free(p);
}

/*
 * What w changed (p->keys, p->etag), and whether that is nothing the CDN
 * serves differently (IQ_UNCHANGED) or nothing at all (IQ_NONE).  Returns
 * 0, or -1 (out of memory: the client is told to retry rather than lose
 * the change).
 */
static int
decide(struct pending *p)
{
	struct etag_index	*idx = inval_index();

	if (changed_keys(&p->w, &p->keys) == -1)
		return -1;
	p->etag = write_etag(&p->w, p->etag_buf, sizeof(p->etag_buf));
	if (unchanged(&p->w, idx, &p->keys, p->etag)) {
		p->res->outcome = IQ_UNCHANGED;
		inval_note_skipped(p->w.bucket, 1);
	}
	return 0;
}

/* The record is durable (result 0) or failed: tell the index and the
 * front. */
static void
recorded(void *arg, int result)
{
	struct pending		*p = arg;
	struct etag_index	*idx = inval_index();
	iq_done_fn		 done = p->done;
	void			*darg = p->arg;

	if (result == 0) {
		p->res->outcome = IQ_RECORDED;
		p->res->keys = p->keys.n;
	} else {
		p->res->outcome = IQ_FAILED;
		p->res->keys = 0;
		p->res->message = NOT_RECORDED;
	}
	if (idx != NULL)
		index_after_write(&p->w, idx, &p->keys, p->etag, result != 0);
	pending_free(p);
	done(darg);
}

void
inval_queue_write_async(const struct iq_write *w, struct iq_result *res,
    iq_done_fn done, void *arg)
{
	struct pending	*p;

	memset(res, 0, sizeof(*res));
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		res->outcome = IQ_FAILED;
		res->message = NOT_RECORDED;
		done(arg);
		return;
	}
	p->w = *w;
	p->res = res;
	p->done = done;
	p->arg = arg;
	strvec_init(&p->keys);
	if (decide(p) == -1) {
		recorded(p, -1);
		return;
	}
	if (res->outcome == IQ_UNCHANGED || p->keys.n == 0) {
		/* Nothing to journal: the index still learns the write. */
		if (inval_index() != NULL)
			index_after_write(&p->w, inval_index(), &p->keys,
			    p->etag, 0);
		pending_free(p);
		done(arg);
		return;
	}
	inval_record_async(w->bucket, w->s3->bucket,
	    (const char *const *)p->keys.v, p->keys.n, recorded, p);
}

/* inval_queue_write(): the asynchronous one, waited for. */
struct waiter {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 done;
};

static void
wake_waiter(void *arg)
{
	struct waiter	*wt = arg;

	pthread_mutex_lock(&wt->mu);
	wt->done = 1;
	pthread_cond_signal(&wt->cv);
	pthread_mutex_unlock(&wt->mu);
}

int
inval_queue_write(const struct iq_write *w, struct iq_result *res)
{
	struct waiter	 wt;

	memset(&wt, 0, sizeof(wt));
	pthread_mutex_init(&wt.mu, NULL);
	pthread_cond_init(&wt.cv, NULL);
	inval_queue_write_async(w, res, wake_waiter, &wt);
	pthread_mutex_lock(&wt.mu);
	while (!wt.done)
		pthread_cond_wait(&wt.cv, &wt.mu);
	pthread_mutex_unlock(&wt.mu);
	pthread_cond_destroy(&wt.cv);
	pthread_mutex_destroy(&wt.mu);
	return res->outcome == IQ_FAILED ? -1 : 0;
}

struct iq_read *
inval_queue_read_begin(const struct cfg_bucket *bk, const struct s3_req *s3,
    const char *method, int status)
{
	struct iq_read	*r;

	/* A listing (every aws s3 sync starts with one) teaches the index
	 * each key's ETag as it streams by. */
	if (status != 200 || (s3->op != S3_OP_LIST_OBJECTS &&
	    s3->op != S3_OP_LIST_OBJECTS_V2) ||
	    strcmp(method, "HEAD") == 0 || !inval_bucket_wants(bk) ||
	    bk->index != CFG_INDEX_LEARN || inval_index() == NULL)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->learner = etag_learner_new(inval_index(), s3->bucket, util_now());
	if (r->learner == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
inval_queue_read_feed(struct iq_read *r, const char *p, size_t n)
{
	if (r != NULL)
		etag_learner_feed(r->learner, p, n);
}

void
inval_queue_read_end(struct iq_read *r)
{
	if (r == NULL)
		return;
	etag_learner_free(r->learner);
	free(r);
}
