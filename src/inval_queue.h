/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_queue: the write path between the front and the invalidation
 * worker (DESIGN §3, §4).  The front calls it once per answered request
 * and knows nothing of the worker, the journal or the ETag index.
 *
 * For a request the upstream answered with a 2xx, inval_queue decides
 * what it changed (which keys of which bucket), skips a write that stored
 * exactly what CloudFront already serves (the same bytes and the same
 * served headers, both known from the index: issue 13), and records the
 * rest durably (journal, group commit) before handing it to the worker.
 * Only once inval_queue_write() returned success may the client see the
 * upstream's 2xx; on failure the client gets 503 so that it retries.
 *
 * Reads that pass through teach the index (inval_queue_read_*): a
 * listing's keys and ETags as the body streams by; a HEAD or GET of an
 * object its ETag and served headers; a CreateMultipartUpload the headers
 * its upload will complete with.
 *
 * Threads: any request thread may call these; the state they touch (the
 * journal, the worker's inbox, the index) has its own locks.  Nothing is
 * kept between calls but the struct iq_read a caller owns.
 */
#ifndef S3I_INVAL_QUEUE_H
#define S3I_INVAL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "s3_req.h"
#include "sigv4.h"

/* What the front knows of an answered request. */
struct iq_write {
	const struct cfg_bucket	*bucket;	/* the [bucket] serving it */
	const struct s3_req	*s3;		/* client-facing bucket, key, op */
	const struct sigv4_header *req_headers;	/* as the client sent them */
	size_t			 n_req_headers;
	int			 status;	/* the upstream's */
	const struct sigv4_header *resp_headers; /* the upstream's */
	size_t			 n_resp_headers;
	const char		*body;		/* when inval_queue_wants_body() */
	size_t			 body_len;
	/* The whole request body, when inval_queue_wants_request_body()
	 * (DeleteObjects: the keys to fall back to when the answer cannot
	 * be read); NULL when it was not kept (larger than
	 * IQ_REQ_BODY_MAX): the fallback is then the whole bucket. */
	const char		*req_body;
	size_t			 req_body_len;
};

enum iq_outcome {
	IQ_NONE = 0,		/* not a write, or nothing to invalidate */
	IQ_RECORDED,		/* journaled and handed to the worker */
	IQ_UNCHANGED,		/* stored what was there: nothing to do */
	IQ_FAILED		/* could not be recorded: answer 503 */
};

struct iq_result {
	enum iq_outcome	 outcome;
	size_t		 keys;		/* recorded */
	const char	*message;	/* for IQ_FAILED, static */
};

/* The largest write response read whole before answering: a DeleteObjects
 * result lists up to 1,000 keys of up to 1,024 bytes, escaped. */
#define IQ_BODY_MAX	(8 * 1024 * 1024)
/* The largest request body kept for inval_queue_write(): a DeleteObjects
 * request names up to 1,000 keys of up to 1,024 bytes, escaped. */
#define IQ_REQ_BODY_MAX	(8 * 1024 * 1024)

/* 1 when the answer to this request must pass inval_queue_write() before
 * the client may see it: a 2xx to an operation that changes what the CDN
 * serves (s3_op_table.h; an unknown operation but a read does), on a
 * bucket with distributions. */
int	inval_queue_wants(const struct cfg_bucket *, enum s3_op, int status);

/* 1 when inval_queue_write() needs the response body, read whole (at most
 * IQ_BODY_MAX bytes): CopyObject and CompleteMultipartUpload may be a 200
 * with an <Error>; DeleteObjects lists what it deleted. */
int	inval_queue_wants_body(enum s3_op);

/* 1 when the front must keep a copy of the request body as it forwards it
 * (at most IQ_REQ_BODY_MAX bytes; the decoded bytes of an aws-chunked
 * body) and pass it in struct iq_write: DeleteObjects, whose request names
 * the keys to fall back to. */
int	inval_queue_wants_request_body(enum s3_op);

/*
 * Decide, skip or record; blocks until the record is durable.  Returns 0,
 * or -1 with res->outcome IQ_FAILED.  An answer that cannot be read falls
 * back to what the request could have changed (CopyObject and
 * CompleteMultipartUpload: the key; DeleteObjects: every key the request
 * named, else the whole bucket), logged as event=write_fallback and
 * counted; the client still gets the upstream's answer.  An operation
 * s3_op_table.h does not know changes its key (or its bucket): counted,
 * logged once per operation (event=unclassified_write).
 */
int	inval_queue_write(const struct iq_write *, struct iq_result *res);

/*
 * inval_queue_write() without blocking, for the front's event loops: res
 * is filled and done(arg) called exactly once: before this returns when
 * nothing needs recording (or it failed at once), else from the journal's
 * commit thread once the record is durable or failed.  w itself is
 * copied; what it points to must stay valid until done runs, which must
 * not block.
 */
typedef void (*iq_done_fn)(void *arg);
void	inval_queue_write_async(const struct iq_write *, struct iq_result *res,
	    iq_done_fn done, void *arg);

/*
 * What a successful write changed (s3_op_table.h), decided as
 * inval_queue_write() decides it, appended to keys: the keys, or
 * INVAL_WHOLE_BUCKET.  Nothing for a write that did not happen (200 with
 * an <Error>) or changes nothing.  Returns 0, or -1 when memory runs out.
 * Logs and counts as inval_queue_write() does; no I/O else.
 */
struct strvec;
int	inval_queue_changed_keys(const struct iq_write *, struct strvec *keys);

/* What the front knows of a read when the upstream's head arrives. */
struct iq_read_head {
	const struct cfg_bucket	*bucket;	/* the [bucket] serving it */
	const struct s3_req	*s3;		/* client-facing bucket, key, op */
	const char		*method;
	int			 status;	/* the upstream's */
	const struct sigv4_header *req_headers;	/* as the client sent them */
	size_t			 n_req_headers;
	const struct sigv4_header *resp_headers; /* the upstream's */
	size_t			 n_resp_headers;
	int64_t			 started_ms;	/* wall clock when the request
						 * came in; 0: now */
};

/*
 * A read's response, to learn from: called once the upstream's head is
 * in, before the client sees it.  A HEAD/GET is learned from at once;
 * for a listing or a CreateMultipartUpload it returns a reader, which
 * the caller feeds every body byte, then ends (NULL: nothing to learn).
 * Nothing in h is kept past the call.
 *
 * A HEAD probe made by the proxy itself before a write commits (issue 13
 * allows it) is learned from the same way: its head passed here, as a
 * HeadObject of the key, before the write's inval_queue_write().
 */
struct iq_read;

struct iq_read *inval_queue_read_begin(const struct iq_read_head *h);
void	inval_queue_read_feed(struct iq_read *, const char *, size_t);
void	inval_queue_read_end(struct iq_read *);

#endif
