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
#include "s3_meta.h"
#include "s3_xml.h"
#include "util.h"

/* A CreateMultipartUpload answer is a few hundred bytes (its key
 * XML-escaped at most): more is not S3's. */
#define MPU_BODY_MAX	(16 * 1024)

struct iq_read {
	struct etag_learner	*learner;	/* a listing */
	/* CreateMultipartUpload: its headers' digest, until the UploadId
	 * is read from the answer. */
	int			 mpu;
	struct s3_meta		 meta;
	char			*bucket, *key;
	struct buf		 body;
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

	metrics_add(M_UNCLASSIFIED_WRITES, 1);
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
	metrics_add(M_WRITE_FALLBACKS, 1);
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
 * Keep the index true after a write: the new ETag with what is known of
 * the headers it left, or the key forgotten.  After a failure the key is
 * forgotten too: the client retries the same bytes, and a remembered ETag
 * would wrongly skip that retry.
 */
static void
index_after_write(const struct iq_write *w, struct etag_index *idx,
    const struct strvec *keys, const char *etag, const struct s3_meta *meta,
    int failed)
{
	size_t	 i;

	if (w->bucket->index != CFG_INDEX_LEARN)
		return;
	for (i = 0; i < keys->n; i++) {
		if (!failed && etag != NULL && keys->n == 1 &&
		    w->s3->op != S3_OP_DELETE_OBJECT &&
		    w->s3->op != S3_OP_DELETE_OBJECTS)
			etag_index_put_meta(idx, w->s3->bucket, keys->v[i],
			    etag, meta, util_now(), 0);
		else
			etag_index_del(idx, w->s3->bucket, keys->v[i]);
	}
}

/* Entries learned before this are too old to vouch for anything. */
static int64_t
not_before(const struct cfg_bucket *bk)
{
	return util_now() - bk->index_max_age_ms / 1000;
}

/* A presigned URL may carry x-amz-meta-* in its query (SDKs hoist x-amz-*
 * headers there, and S3 applies them); moto even takes Content-Type from
 * there: a write that names any is one we cannot be sure of. */
static int
query_sets_meta(const struct s3_req *s3)
{
	size_t	 i;

	for (i = 0; i < s3->n_params; i++)
		if (s3_meta_field(s3->params[i].name))
			return 1;
	return 0;
}

/*
 * The served headers a successful write left on its key, as far as can
 * be told (meta->known 0 otherwise): a PutObject's own, a CopyObject's
 * (REPLACE: its own; COPY: the source's, when the index knows the source
 * with the ETag the copy reports), a CompleteMultipartUpload's from its
 * CreateMultipartUpload when that passed through the proxy.
 */
static void
write_meta(const struct iq_write *w, struct etag_index *idx,
    const char *etag, struct s3_meta *meta)
{
	struct s3_meta	 src;
	struct buf	 sb, sk;
	const char	*id;
	int		 have_src;

	memset(meta, 0, sizeof(*meta));
	if (query_sets_meta(w->s3))
		return;
	switch (w->s3->op) {
	case S3_OP_PUT_OBJECT:
		s3_meta_from_request(w->req_headers, w->n_req_headers, meta);
		break;
	case S3_OP_COPY_OBJECT:
		buf_init(&sb);
		buf_init(&sk);
		have_src = etag != NULL && s3_meta_copy_source(
		    auth_header(w->req_headers, w->n_req_headers,
		    "x-amz-copy-source"), &sb, &sk) == 0 &&
		    etag_index_lookup(idx, buf_str(&sb), buf_str(&sk), etag,
		    not_before(w->bucket), &src);
		s3_meta_for_copy(w->req_headers, w->n_req_headers,
		    have_src ? &src : NULL, meta);
		buf_fini(&sb);
		buf_fini(&sk);
		break;
	case S3_OP_COMPLETE_MPU:
		id = s3_req_param(w->s3, "uploadId");
		if (id != NULL)
			(void)etag_index_upload_take(idx, w->s3->bucket,
			    w->s3->key, id, meta);
		break;
	default:
		break;
	}
}

/* Writes of bytes the index knew, invalidated for their headers. */

/*
 * The same bytes and the same served headers again (a fresh CI build
 * re-uploads every file): nothing for the CDN to forget.  Only when both
 * are known, from a fresh index entry: same bytes with other headers (a
 * new Cache-Control, a CopyObject with REPLACE), or headers that cannot
 * be told, change what CloudFront serves (issue 13).  The second kind is
 * the fail-closed one: logged and counted.
 */
static int
unchanged(const struct iq_write *w, struct etag_index *idx,
    const struct strvec *keys, const char *etag, const struct s3_meta *meta)
{
	const struct cfg_bucket	*bk = w->bucket;
	struct s3_meta		 old;

	if (etag == NULL || idx == NULL || keys->n != 1 ||
	    !bk->skip_unchanged || bk->index != CFG_INDEX_LEARN ||
	    !etag_index_lookup(idx, w->s3->bucket, keys->v[0], etag,
	    not_before(bk), &old))
		return 0;
	if (s3_meta_equal(&old, meta))
		return 1;
	if (old.known && meta->known) {
		metrics_add(M_WRITES_HEADERS_CHANGED, 1);
		return 0;
	}
	metrics_add(M_WRITES_HEADERS_UNKNOWN, 1);
	log_event(LOG_INFO, "headers_unknown", (struct log_field[]){
	    LOG_STR("bucket", w->s3->bucket), LOG_STR("key", keys->v[0]),
	    LOG_STR("op", s3_op_name(w->s3->op)),
	    LOG_STR("unknown", old.known ? "new" : "old") }, 4);
	return 0;
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
	struct s3_meta		 meta;		/* its served headers */
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
	if (idx != NULL && p->keys.n == 1 &&
	    p->w.bucket->index == CFG_INDEX_LEARN)
		write_meta(&p->w, idx, p->etag, &p->meta);
	if (unchanged(&p->w, idx, &p->keys, p->etag, &p->meta)) {
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
		index_after_write(&p->w, idx, &p->keys, p->etag, &p->meta,
		    result != 0);
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
			    p->etag, &p->meta, 0);
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

/* 1 when a parameter of the request asks S3 to answer with other headers
 * than the object's (response-content-type=..., GetObject) or names
 * another version than the current one. */
static int
not_the_object(const struct s3_req *s3)
{
	size_t	 i;

	for (i = 0; i < s3->n_params; i++)
		if (strncasecmp(s3->params[i].name, "response-", 9) == 0 ||
		    strcmp(s3->params[i].name, "versionId") == 0)
			return 1;
	return 0;
}

/*
 * When a read's answer was true: no earlier than when its request came
 * in.  Learned as of then, it never replaces what a write recorded
 * later, or in the same second (the index lets a write win a tie): a
 * write that commits while a listing streams, or between a HEAD's answer
 * and this call, is never undone by the older view.
 */
static int64_t
read_time(const struct iq_read_head *h)
{
	return (h->started_ms > 0 ? h->started_ms : util_now_ms()) / 1000;
}

/* A HEAD or GET of an object: its ETag and the headers it is served
 * with, as they were when it was asked. */
static void
learn_object(const struct iq_read_head *h)
{
	struct s3_meta	 meta;
	const char	*etag;

	if ((h->status != 200 && h->status != 206) || h->s3->key == NULL ||
	    not_the_object(h->s3))
		return;
	etag = auth_header(h->resp_headers, h->n_resp_headers, "etag");
	if (etag == NULL)
		return;
	s3_meta_from_response(h->resp_headers, h->n_resp_headers, &meta);
	(void)etag_index_put_meta(inval_index(), h->s3->bucket, h->s3->key,
	    etag, &meta, read_time(h), 1);
}

/* A CreateMultipartUpload: what its headers are, for the answer's
 * UploadId to carry to CompleteMultipartUpload. */
static struct iq_read *
learn_upload(const struct iq_read_head *h)
{
	struct iq_read	*r;
	struct s3_meta	 meta;

	if (h->status != 200 || h->s3->key == NULL ||
	    query_sets_meta(h->s3))
		return NULL;
	s3_meta_from_request(h->req_headers, h->n_req_headers, &meta);
	if (!meta.known)
		return NULL;	/* completes as unknown anyway */
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->mpu = 1;
	r->meta = meta;
	buf_init(&r->body);
	r->bucket = strdup(h->s3->bucket);
	r->key = strdup(h->s3->key);
	if (r->bucket == NULL || r->key == NULL) {
		inval_queue_read_end(r);
		return NULL;
	}
	return r;
}

struct iq_read *
inval_queue_read_begin(const struct iq_read_head *h)
{
	struct iq_read	*r;

	if (!inval_bucket_wants(h->bucket) ||
	    h->bucket->index != CFG_INDEX_LEARN || inval_index() == NULL)
		return NULL;
	switch (h->s3->op) {
	case S3_OP_HEAD_OBJECT:
	case S3_OP_GET_OBJECT:
		learn_object(h);
		return NULL;
	case S3_OP_CREATE_MPU:
		return learn_upload(h);
	case S3_OP_LIST_OBJECTS:
	case S3_OP_LIST_OBJECTS_V2:
		break;
	default:
		return NULL;
	}
	/* A listing (every aws s3 sync starts with one) teaches the index
	 * each key's ETag as it streams by. */
	if (h->status != 200 || strcmp(h->method, "HEAD") == 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	buf_init(&r->body);
	r->learner = etag_learner_new(inval_index(), h->s3->bucket,
	    read_time(h));
	if (r->learner == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

/* Once the answer holds the UploadId: remember the upload's headers. */
static void
upload_learned(struct iq_read *r)
{
	char	 id[1025];

	if (s3_meta_upload_id(r->body.data, r->body.len, id,
	    sizeof(id)) == -1)
		return;
	(void)etag_index_upload_put(inval_index(), r->bucket, r->key, id,
	    &r->meta);
	r->mpu = 0;
	buf_fini(&r->body);
}

void
inval_queue_read_feed(struct iq_read *r, const char *p, size_t n)
{
	if (r == NULL)
		return;
	if (r->learner != NULL)
		etag_learner_feed(r->learner, p, n);
	if (!r->mpu)
		return;
	if (r->body.len + n > MPU_BODY_MAX) {
		r->mpu = 0;
		buf_fini(&r->body);
		return;
	}
	buf_append(&r->body, p, n);
	if (buf_ok(&r->body))
		upload_learned(r);
}

void
inval_queue_read_end(struct iq_read *r)
{
	if (r == NULL)
		return;
	etag_learner_free(r->learner);
	buf_fini(&r->body);
	free(r->bucket);
	free(r->key);
	free(r);
}
