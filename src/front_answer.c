/* SPDX-License-Identifier: Apache-2.0 */
/*
 * front_answer: the answers of the client-facing front (front.h): the
 * upstream's response relayed (its head filtered, its body streamed from
 * the upstream transfer), a write's answer once inval_queue recorded it,
 * ListBuckets filtered, and the proxy's own S3 errors; and the waiting a
 * request does for any of them.
 *
 * Waiting: a request that cannot go on suspends its connection and notes
 * why (r->waiting); the upstream's events (called inside curl's callbacks:
 * they only wake), the journal's completion (posted to the loop) and the
 * response reader's hunger resume it, on its loop's thread.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "front.h"
#include "log.h"
#include "s3_xml.h"
#include "util.h"

#define BLOCK_SIZE	(64 * 1024)

void
front_window(struct conn *cn)
{
	if (cn != NULL) {
		cn->win_at = util_mono_ms();
		cn->win_bytes = 0;
	}
}

void
front_wait(struct front_req *r, enum waiting why)
{
	r->waiting = why;
	if (!r->suspended) {
		r->suspended = 1;
		MHD_suspend_connection(r->c);
	}
}

void
front_wake(struct front_req *r)
{
	r->waiting = W_NONE;
	if (r->suspended) {
		r->suspended = 0;
		front_window(r->conn);
		MHD_resume_connection(r->c);
		r->loop->run_mhd = 1;
	}
}

/* Upstream events: called inside curl's callbacks; they only wake. */
static void
ev_wants_body(void *arg)
{
	struct front_req	*r = arg;

	if (r->waiting == W_CONTINUE)
		front_wake(r);
}

static void
ev_drained(void *arg)
{
	struct front_req	*r = arg;

	if (r->waiting == W_SEND)
		front_wake(r);
}

static void
ev_head(void *arg)
{
	struct front_req	*r = arg;

	if (r->waiting == W_CONTINUE || r->waiting == W_HEAD)
		front_wake(r);
}

static void
ev_data(void *arg)
{
	struct front_req	*r = arg;

	if (r->waiting == W_DATA || r->waiting == W_WBODY)
		front_wake(r);
}

static void
ev_done(void *arg)
{
	struct front_req	*r = arg;

	if (r->waiting != W_NONE && r->waiting != W_RECORD)
		front_wake(r);
}

const struct upstream_events front_xfer_events = {
	ev_wants_body, ev_drained, ev_head, ev_data, ev_done
};

static const char *const hop_by_hop[] = {
	"connection", "keep-alive", "proxy-authenticate",
	"proxy-authorization", "proxy-connection", "te", "trailer",
	"transfer-encoding", "upgrade", NULL
};

int
front_hop_by_hop(const char *name)
{
	int	 i;

	for (i = 0; hop_by_hop[i] != NULL; i++)
		if (strcasecmp(name, hop_by_hop[i]) == 0)
			return 1;
	return 0;
}

static const char *
resource(const struct front_req *r)
{
	return r->s3.path != NULL ? r->s3.path : "/";
}

/* While stopping, every answer ends its connection, so keep-alive clients
 * move to the next instance instead of holding this one open; and so does
 * the answer to a request whose framing says so (http_frame.h). */
void
front_closing(struct front_req *r, struct MHD_Response *resp)
{
	if (atomic_load(&r->loop->f->stopping) || r->close)
		MHD_add_response_header(resp, "Connection", "close");
}

static enum MHD_Result
queue(struct front_req *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result	 ret;

	ret = MHD_queue_response(r->c, status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	r->phase = PH_ANSWERED;
	return ret;
}

static enum MHD_Result
queue_xml(struct front_req *r, unsigned status, struct buf *body,
    int close_conn)
{
	struct MHD_Response	*resp;

	resp = MHD_create_response_from_buffer(body->len, body->data,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/xml");
	MHD_add_response_header(resp, "x-amz-request-id", r->id);
	if (close_conn)
		MHD_add_response_header(resp, "Connection", "close");
	else
		front_closing(r, resp);
	if (status == 503)
		MHD_add_response_header(resp, "Retry-After", "1");
	r->bytes_out = body->len;
	return queue(r, status, resp);
}

enum MHD_Result
front_error_close(struct front_req *r, enum s3_err e, const char *msg,
    int close_conn)
{
	struct s3_err_extra	 ex[4];
	size_t			 n = 0;
	struct buf		 b;
	enum MHD_Result		 ret;

	upstream_free(r->x);		/* aborts: nothing half-sent stays */
	r->x = NULL;
	r->detail = msg != NULL ? msg : s3_err_message(e);
	if (e == S3_ERR_SIGNATURE_DOES_NOT_MATCH &&
	    r->auth.string_to_sign != NULL) {
		ex[n].name = "AWSAccessKeyId";
		ex[n++].value = r->auth.access_key_id;
		ex[n].name = "StringToSign";
		ex[n++].value = r->auth.string_to_sign;
		ex[n].name = "SignatureProvided";
		ex[n++].value = r->auth.signature_provided;
		ex[n].name = "CanonicalRequest";
		ex[n++].value = r->auth.canonical_request;
	} else if (e == S3_ERR_INVALID_ACCESS_KEY_ID) {
		ex[n].name = "AWSAccessKeyId";
		ex[n++].value = r->auth.access_key_id;
	}
	buf_init(&b);
	s3_err_xml(&b, e, msg, resource(r), r->id, ex, n);
	if (!buf_ok(&b)) {
		buf_fini(&b);
		return MHD_NO;
	}
	if (e == S3_ERR_INTERNAL_ERROR || s3_err_status(e) >= 502)
		log_event(LOG_WARN, "error", (struct log_field[]){
		    LOG_STR("id", r->id), LOG_STR("code", s3_err_code(e)),
		    LOG_STR("detail", msg) }, 3);
	ret = queue_xml(r, s3_err_status(e), &b, close_conn);
	buf_fini(&b);
	return ret;
}

enum MHD_Result
front_error(struct front_req *r, enum s3_err e, const char *msg)
{
	return front_error_close(r, e, msg, 0);
}

/* The upstream gave no usable answer. */
enum MHD_Result
front_upstream_failed(struct front_req *r)
{
	if (r->x != NULL && upstream_status(r->x) == 0 &&
	    strstr(upstream_error(r->x), "head is too large") != NULL) {
		log_event(LOG_WARN, "upstream_head_too_large",
		    (struct log_field[]){ LOG_STR("id", r->id) }, 1);
		return front_error(r, S3_ERR_BAD_GATEWAY,
		    "The upstream's response head is too large to relay.");
	}
	if (r->x != NULL)
		log_event(LOG_WARN, "upstream_failed", (struct log_field[]){
		    LOG_STR("id", r->id),
		    LOG_STR("detail", upstream_error(r->x)) }, 2);
	return front_error(r, S3_ERR_SERVICE_UNAVAILABLE,
	    "The upstream is unreachable or did not answer in time.");
}

static ssize_t
body_reader(void *cls, uint64_t pos, char *dst, size_t max)
{
	struct front_req	*r = cls;
	size_t			 n;

	(void)pos;
	if (r->loop->stopping)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = upstream_read(r->x, dst, max);
	if (n > 0) {
		r->bytes_out += n;
		r->conn->win_bytes += n;
		inval_queue_read_feed(r->learner, dst, n);
		return (ssize_t)n;
	}
	if (upstream_eof(r->x)) {
		if (!upstream_failed(r->x))
			return MHD_CONTENT_READER_END_OF_STREAM;
		log_event(LOG_WARN, "upstream_abort", (struct log_field[]){
		    LOG_STR("id", r->id),
		    LOG_STR("detail", upstream_error(r->x)) }, 2);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	front_wait(r, W_DATA);
	return 0;
}

/* The upstream's headers for the client: not hop-by-hop, not those its
 * Connection header names (RFC 9110 §7.6.1), not Content-Length (ours). */
static void
add_upstream_headers(struct front_req *r, struct MHD_Response *resp)
{
	const struct sigv4_header *h;
	const char		*conn = NULL;
	size_t			 i, n;
	int			 has_id = 0;

	h = upstream_headers(r->x, &n);
	for (i = 0; i < n; i++)
		if (strcasecmp(h[i].name, "connection") == 0)
			conn = h[i].value;
	for (i = 0; i < n; i++) {
		if (front_hop_by_hop(h[i].name) ||
		    strcasecmp(h[i].name, "content-length") == 0 ||
		    (conn != NULL && util_token_in(conn, h[i].name)))
			continue;
		if (strcasecmp(h[i].name, "x-amz-request-id") == 0)
			has_id = 1;
		MHD_add_response_header(resp, h[i].name, h[i].value);
	}
	if (!has_id)
		MHD_add_response_header(resp, "x-amz-request-id", r->id);
}

/* A response whose body is all in hand. */
static enum MHD_Result
answer_buffered(struct front_req *r, int status, const char *body,
    size_t len)
{
	struct MHD_Response	*resp;

	resp = MHD_create_response_from_buffer(len, (void *)body,
	    len > 0 ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	add_upstream_headers(r, resp);
	front_closing(r, resp);
	r->bytes_out = len;
	if (r->conn != NULL)
		r->conn->win_bytes += len;
	return queue(r, (unsigned)status, resp);
}

/* Read the upstream's answer whole into r->wbody.  Returns 1 when it is
 * all there, 0 when waiting for more, -1 when it failed or is too big. */
static int
read_whole(struct front_req *r)
{
	char	 blk[16384];
	size_t	 n;

	for (;;) {
		n = upstream_read(r->x, blk, sizeof(blk));
		if (n == 0)
			break;
		if (r->wbody.len + n > IQ_BODY_MAX ||
		    buf_append(&r->wbody, blk, n) == -1)
			return -1;
	}
	if (!upstream_ended(r->x)) {
		front_wait(r, W_WBODY);
		return 0;
	}
	return upstream_failed(r->x) ? -1 : 1;
}

/* On the loop's thread: the write is recorded (or failed). */
static void
record_done(void *arg)
{
	struct front_req	*r = arg;

	atomic_fetch_sub(&r->loop->f->recording, 1);
	r->record_done = 1;
	if (r->waiting == W_RECORD)
		front_wake(r);
}

/* From inval_queue: on the journal's commit thread, or on ours when
 * nothing needed the journal.  The request waits suspended meanwhile, so
 * nothing else touches it. */
static void
record_posted(void *arg)
{
	struct front_req	*r = arg;

	if (pthread_equal(pthread_self(), r->loop->thread))
		record_done(r);
	else {
		r->record_job.fn = record_done;
		r->record_job.arg = r;
		evloop_post_job(r->loop->ev, &r->record_job);
	}
}

/*
 * A 2xx to a write (DESIGN §3): the write path decides what it changed and
 * records it, and only then is the client answered.  CopyObject,
 * CompleteMultipartUpload and DeleteObjects bodies are small and read whole
 * first: the first two can be 200 with an <Error>, the last lists what was
 * really deleted.
 */
static enum MHD_Result
answer_write(struct front_req *r, int status)
{
	const struct sigv4_header *rh;
	struct iq_write		 w;
	size_t			 nh;
	int			 rc;

	if (!r->record_started) {
		if (inval_queue_wants_body(r->s3.op)) {
			rc = read_whole(r);
			if (rc == 0)
				return MHD_YES;
			if (rc == -1)
				return front_error(r,
				    S3_ERR_SERVICE_UNAVAILABLE, "The upstream's "
				    "answer to the write could not be read.");
		}
		rh = upstream_headers(r->x, &nh);
		memset(&w, 0, sizeof(w));
		w.bucket = r->bucket;
		w.s3 = &r->s3;
		w.req_headers = r->hdrs;
		w.n_req_headers = r->n_hdrs;
		w.status = status;
		w.resp_headers = rh;
		w.n_resp_headers = nh;
		w.body = buf_str(&r->wbody);
		w.body_len = r->wbody.len;
		if (inval_queue_wants_request_body(r->s3.op) &&
		    !r->req_body_over) {
			w.req_body = buf_str(&r->req_body);
			w.req_body_len = r->req_body.len;
		}
		atomic_fetch_add(&r->loop->f->recording, 1);
		r->record_started = 1;
		inval_queue_write_async(&w, &r->recorded, record_posted, r);
	}
	if (!r->record_done) {
		front_wait(r, W_RECORD);
		return MHD_YES;
	}
	if (r->recorded.outcome == IQ_FAILED)
		return front_error(r, S3_ERR_SERVICE_UNAVAILABLE,
		    r->recorded.message);
	return answer_buffered(r, status, buf_str(&r->wbody), r->wbody.len);
}

/* The client-facing names under which this client may see an upstream
 * bucket. */
static void
bucket_names(void *arg, const char *up, struct strvec *out)
{
	struct front_req	*r = arg;
	const struct cfg	*cfg = r->loop->f->cfg;
	const struct cfg_bucket	*bk;
	size_t			 i;

	for (i = 0; i < cfg->n_buckets; i++) {
		bk = &cfg->buckets[i];
		if (strcmp(bk->name, "*") == 0 || strcmp(bk->upstream_bucket !=
		    NULL ? bk->upstream_bucket : bk->name, up) != 0)
			continue;
		if (r->auth.client == NULL ||
		    cfg_client_may(r->auth.client, bk->name, 0))
			strvec_push(out, bk->name);
	}
	/* [bucket *] serves a bucket as itself when no section names it. */
	bk = cfg_bucket_find(cfg, up);
	if (bk != NULL && strcmp(bk->name, "*") == 0 &&
	    s3_bucket_name_valid(up) && (r->auth.client == NULL ||
	    cfg_client_may(r->auth.client, up, 0)))
		strvec_push(out, up);
}

/* ListBuckets: the upstream's list, less what this client may not see,
 * under the names it uses (DESIGN §1: only configured buckets). */
static enum MHD_Result
answer_list_buckets(struct front_req *r, int status)
{
	struct buf	 out;
	enum MHD_Result	 ret;
	int		 rc;

	rc = read_whole(r);
	if (rc == 0)
		return MHD_YES;
	buf_init(&out);
	if (rc == -1 || s3_xml_filter_buckets(buf_str(&r->wbody),
	    r->wbody.len, bucket_names, r, &out) == -1) {
		buf_fini(&out);
		return front_error(r, S3_ERR_BAD_GATEWAY, "The upstream's "
		    "bucket list could not be read.");
	}
	ret = answer_buffered(r, status, buf_str(&out), out.len);
	buf_fini(&out);
	return ret;
}

/* Relay the upstream's response: status, headers and a streamed body. */
enum MHD_Result
front_answer(struct front_req *r)
{
	struct iq_read_head	 rd;
	struct MHD_Response	*resp;
	int64_t			 cl;
	int			 status, head;

	status = upstream_status(r->x);
	if (status == 0) {
		if (upstream_ended(r->x))
			return front_upstream_failed(r);
		front_wait(r, W_HEAD);
		return MHD_YES;
	}
	r->upstream_answered = 1;
	head = strcmp(r->method, "HEAD") == 0;
	if (r->s3.op == S3_OP_LIST_BUCKETS && status == 200 && !head)
		return answer_list_buckets(r, status);
	if (inval_queue_wants(r->bucket, r->s3.op, status))
		return answer_write(r, status);
	/* What a read shows (a listing's ETags, an object's served headers)
	 * teaches the index before the client sees it. */
	memset(&rd, 0, sizeof(rd));
	rd.bucket = r->bucket;
	rd.s3 = &r->s3;
	rd.method = r->method;
	rd.status = status;
	rd.req_headers = r->hdrs;
	rd.n_req_headers = r->n_hdrs;
	rd.resp_headers = upstream_headers(r->x, &rd.n_resp_headers);
	rd.started_ms = r->t0_wall;
	r->learner = inval_queue_read_begin(&rd);
	cl = upstream_content_length(r->x);
	if (status == 204 || status == 304 || status < 200 || (head && cl < 0))
		return answer_buffered(r, status, NULL, 0);
	/* A small answer that is all here already: one buffer. */
	if (!head && r->learner == NULL && cl >= 0 && cl <= BLOCK_SIZE &&
	    upstream_eof(r->x) == 0 && upstream_ended(r->x) &&
	    !upstream_failed(r->x)) {
		if (read_whole(r) == 1 && r->wbody.len == (uint64_t)cl)
			return answer_buffered(r, status, buf_str(&r->wbody),
			    r->wbody.len);
		return front_upstream_failed(r);
	}
	if (!head && cl == 0)
		return answer_buffered(r, status, NULL, 0);
	/* For HEAD libmicrohttpd sends the size as Content-Length and never
	 * calls the reader. */
	resp = MHD_create_response_from_callback(cl >= 0 ? (uint64_t)cl :
	    MHD_SIZE_UNKNOWN, cl > 0 && cl < BLOCK_SIZE ? (size_t)cl :
	    BLOCK_SIZE, body_reader, r, NULL);
	if (resp == NULL)
		return MHD_NO;
	add_upstream_headers(r, resp);
	front_closing(r, resp);
	return queue(r, (unsigned)status, resp);
}

/* CreateBucket of a bucket the client may write but not administer:
 * answered as S3 answers the bucket's owner, without forwarding (clients
 * such as rclone create their bucket before writing). */
enum MHD_Result
front_owned_bucket(struct front_req *r)
{
	struct MHD_Response	*resp;
	char			 loc[1200];

	if (s3_req_owned_bucket_status(r->loop->f->cfg->upstream.region,
	    r->s3.bucket, loc, sizeof(loc)) != 200)
		return front_error(r, S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU, NULL);
	resp = MHD_create_response_from_buffer(0, NULL,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	if (loc[0] != '\0')
		MHD_add_response_header(resp, "Location", loc);
	MHD_add_response_header(resp, "x-amz-request-id", r->id);
	front_closing(r, resp);
	return queue(r, 200, resp);
}

/* A head refused by a framing rule (http_frame_table.h): one S3 error,
 * and the connection ends with it. */
enum MHD_Result
front_frame_refused(struct front_req *r, enum http_frame_rule rule)
{
	log_event(LOG_INFO, "framing_refused", (struct log_field[]){
	    LOG_STR("id", r->id), LOG_STR("rule", http_frame_name(rule)),
	    LOG_STR("field", r->frame.field != NULL ? r->frame.field : "-") },
	    3);
	return front_error_close(r, http_frame_error(rule),
	    http_frame_message(rule), http_frame_closes(rule));
}
