/* SPDX-License-Identifier: Apache-2.0 */
/* inval_queue: see inval_queue.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "etag_index.h"
#include "inval_map.h"
#include "inval_queue.h"
#include "inval_worker.h"
#include "s3_xml.h"
#include "util.h"

struct iq_read {
	struct etag_learner	*learner;
};

static int
is_write(enum s3_op op)
{
	return op == S3_OP_PUT_OBJECT || op == S3_OP_COPY_OBJECT ||
	    op == S3_OP_DELETE_OBJECT || op == S3_OP_DELETE_OBJECTS ||
	    op == S3_OP_COMPLETE_MPU;
}

int
inval_queue_wants(const struct cfg_bucket *bk, enum s3_op op, int status)
{
	return status / 100 == 2 && inval_bucket_wants(bk) && is_write(op);
}

int
inval_queue_wants_body(enum s3_op op)
{
	return op == S3_OP_COPY_OBJECT || op == S3_OP_COMPLETE_MPU ||
	    op == S3_OP_DELETE_OBJECTS;
}

/*
 * The keys a successful write changed (DESIGN §3).  Returns 0, or -1 when
 * they cannot be told (an unreadable DeleteObjects result).
 */
static int
changed_keys(const struct iq_write *w, struct strvec *keys)
{
	const char	*enc;
	enum s3_op	 op = w->s3->op;

	switch (op) {
	case S3_OP_PUT_OBJECT:
	case S3_OP_DELETE_OBJECT:
		return strvec_push(keys, w->s3->key);
	case S3_OP_COPY_OBJECT:
	case S3_OP_COMPLETE_MPU:
		if (s3_xml_is_error(w->body, w->body_len))
			return 0;
		return strvec_push(keys, w->s3->key);
	case S3_OP_DELETE_OBJECTS:
		enc = s3_req_param(w->s3, "encoding-type");
		return s3_xml_deleted_keys(w->body, w->body_len,
		    enc != NULL && strcmp(enc, "url") == 0, keys) < 0 ? -1 : 0;
	default:
		return 0;
	}
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
inval_queue_write(const struct iq_write *w, struct iq_result *res)
{
	struct strvec		 keys;
	struct etag_index	*idx = inval_index();
	const char		*etag = NULL;
	char			 etag_buf[128];
	int			 failed = 0;

	memset(res, 0, sizeof(*res));
	strvec_init(&keys);
	if (changed_keys(w, &keys) == -1) {
		/* Unreadable: we cannot tell what was deleted.  The client
		 * is told to retry rather than lose any. */
		failed = 1;
		res->message = "The upstream's answer to the write could not "
		    "be read.";
	}
	if (!failed)
		etag = write_etag(w, etag_buf, sizeof(etag_buf));
	if (!failed && unchanged(w, idx, &keys, etag)) {
		res->outcome = IQ_UNCHANGED;
		inval_note_skipped(w->bucket, 1);
	} else if (!failed && keys.n > 0) {
		if (inval_record(w->bucket, w->s3->bucket,
		    (const char *const *)keys.v, keys.n) == -1) {
			failed = 1;
			res->message = "The write could not be recorded for "
			    "CDN invalidation; please retry.";
		} else {
			res->outcome = IQ_RECORDED;
			res->keys = keys.n;
		}
	}
	if (idx != NULL)
		index_after_write(w, idx, &keys, etag, failed);
	strvec_fini(&keys);
	if (failed) {
		res->outcome = IQ_FAILED;
		res->keys = 0;
		return -1;
	}
	return 0;
}

struct iq_read *
inval_queue_read_begin(const struct iq_read_head *h)
{
	struct iq_read	*r;

	/* A listing (every aws s3 sync starts with one) teaches the index
	 * each key's ETag as it streams by. */
	if (h->status != 200 || h->s3->op != S3_OP_LIST_OBJECTS ||
	    strcmp(h->method, "HEAD") == 0 || !inval_bucket_wants(h->bucket) ||
	    h->bucket->index != CFG_INDEX_LEARN || inval_index() == NULL)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->learner = etag_learner_new(inval_index(), h->s3->bucket,
	    util_now());
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
