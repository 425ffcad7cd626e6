/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_front: see http_front.h.
 *
 * libmicrohttpd calls the access handler in these moments, and a request
 * here follows them (phase):
 *   PH_HEAD	the head is complete: first call, upload_data_size 0;
 *		called again with size 0 after a resume while the request
 *		still waits for the upstream's verdict on "Expect:
 *		100-continue" (PH_CONTINUE);
 *   PH_BODY	body bytes, in pieces;
 *   PH_FINAL	the whole request is in: size 0, called again after every
 *		resume until a response is queued.
 * A response may only be queued in PH_HEAD or PH_FINAL (libmicrohttpd
 * refuses one while the body is being read), so a failure during the body
 * drains what is left and answers in PH_FINAL.
 *
 * Waiting: a request that cannot go on suspends its connection and notes
 * why (r->waiting); the upstream's events, the journal's completion and
 * the response reader's hunger resume it, on this loop's thread.
 *
 * Body integrity: when the client signed a hex x-amz-content-sha256, the
 * body is hashed as it streams through and its last byte is held back
 * until the hash matches; on a mismatch the upstream transfer is aborted
 * short of its Content-Length, so no object is ever committed from a body
 * the client did not sign, whatever the upstream checks.  aws-chunked
 * bodies hold back their final chunk (or last byte) the same way until
 * every chunk signature and the trailer checksum passed.
 *
 * Slow and idle clients: each loop's watchdog closes a connection whose
 * request head is not complete within server.client_timeout, and one that
 * sends its body or reads its answer slower than server.min_rate over a
 * RATE_WINDOW_MS window (time the request waits on the upstream or the
 * journal does not count).  Past server.max_connections a connection is
 * still accepted, up to a margin, so that its request gets a 503 with
 * Retry-After instead of a reset.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth.h"
#include "aws_chunked.h"
#include "buf.h"
#include "evloop.h"
#include "http_frame.h"
#include "http_front.h"
#include "inval_queue.h"
#include "log.h"
#include "metrics.h"
#include "s3_err.h"
#include "s3_req.h"
#include "s3_xml.h"
#include "sigv4.h"
#include "upstream.h"
#include "util.h"

#define BLOCK_SIZE	(64 * 1024)
/* Data bytes per aws-chunked chunk sent upstream (fixed, so the framed
 * length, and with it Content-Length, is known before the first byte). */
#define UP_CHUNK	(64 * 1024)
#define WATCHDOG_MS	500
#define RATE_WINDOW_MS	10000
#define ACCEPT_BATCH	64
#define MAX_THREADS	64

enum phase {
	PH_HEAD = 0,
	PH_CONTINUE,		/* suspended: the upstream decides on 100 */
	PH_BODY,
	PH_FINAL,
	PH_ANSWERED		/* a response is queued */
};

enum body_mode {
	BM_NONE = 0,
	BM_PLAIN,		/* Content-Length: streamed upstream */
	BM_SPOOL,		/* chunked: into the spool file first */
	BM_STREAM,		/* aws-chunked: decoded, checked, re-sent */
	BM_DRAIN		/* not wanted: read and dropped */
};

enum waiting {
	W_NONE = 0,
	W_CONTINUE,		/* the upstream's 100 or early answer */
	W_SEND,			/* the send buffer to drain */
	W_HEAD,			/* the response head */
	W_WBODY,		/* a write's answer, read whole */
	W_RECORD,		/* the write being recorded */
	W_DATA			/* response bytes for the reader */
};

struct loop;
struct front_req;

/* A connection, as the watchdog sees it. */
struct conn {
	struct loop		*loop;
	int			 fd;
	int64_t			 since;		/* head phase began */
	int64_t			 win_at;	/* rate window began */
	uint64_t		 win_bytes;
	struct front_req	*req;		/* in progress, or NULL */
	int			 over_limit;	/* accepted past max_conn. */
	int			 cut;
	struct http_frame_tls_guard tls;	/* GnuTLS reads through it */
	struct conn		*prev, *next;
};

struct loop {
	struct http_front	*f;
	unsigned		 idx;
	pthread_t		 thread;
	int			 running;
	struct evloop		*ev;
	struct MHD_Daemon	*mhd;
	struct evwatch		 mhd_w;
	struct evwatch		 listen_w;
	struct upstream_client	*up;
	struct conn		*conns;
	int64_t			 watchdog_at;
	uint64_t		 rid;		/* request id generator */
	int			 run_mhd;	/* MHD has work */
	int			 stopping;	/* loop_stop() ran */
};

struct http_front {
	const struct cfg	*cfg;
	_Atomic(const struct cfg *) auth_cfg;	/* clients; SIGHUP swaps */
	int			 listen_fd;
	atomic_int		 unwatched;	/* loops off the listen fd */
	struct loop		*loops;
	unsigned		 n_loops;
	atomic_uint		 active;	/* requests in progress */
	atomic_uint		 conns;		/* connections open */
	atomic_uint		 recording;	/* journal records in flight */
	atomic_int		 stopping;
	unsigned		 hard_limit;	/* max_connections + margin */
	atomic_int_fast64_t	 refuse_logged_at;
	atomic_uint_fast64_t	 refused_since_log;
	int64_t			 started;
	char			*tls_cert;	/* PEM, in memory for MHD */
	char			*tls_key;	/* PEM; wiped when freed */
};

struct front_req {
	struct loop		*loop;
	struct conn		*conn;
	struct MHD_Connection	*c;
	char			 id[17];
	char			*target;	/* raw request target */
	int64_t			 t0;
	int64_t			 t0_wall;	/* ms since the epoch */
	enum phase		 phase;
	enum body_mode		 body;
	enum waiting		 waiting;
	int			 suspended;

	struct s3_req		 s3;
	const struct cfg_bucket	*bucket;
	const char		*upstream_bucket;
	struct auth_result	 auth;
	const char		*method;
	struct http_frame_verdict frame;	/* framing, checked first */
	int			 close;		/* end the connection after */

	struct sigv4_header	*hdrs;		/* all, as received */
	size_t			 n_hdrs;
	size_t			 hdrs_cap;
	size_t			 hdr_bytes;
	int			 bad_header;
	struct sigv4_header	*fwd;		/* to forward */
	size_t			 n_fwd;

	struct upstream_xfer	*x;
	uint64_t		 body_len;	/* to send upstream */
	uint64_t		 received;	/* from the client */
	int			 expect;
	int			 send_full;	/* wait for "drained" */
	EVP_MD_CTX		*sha;
	char			 held;
	int			 holding;
	int			 spool_fd;
	uint64_t		 spooled;
	uint64_t		 spool_sent;

	/* aws-chunked (BM_STREAM) */
	struct ac_decoder	*acd;
	struct ac_encoder	*ace;		/* trailer modes: re-framing */
	const char		*up_payload;	/* x-amz-content-sha256 upstream */
	char			*ce_fwd;	/* Content-Encoding less aws-chunked */
	char			*copy_src;	/* x-amz-copy-source, upstream name */
	int			 up_early;	/* the upstream answered already */
	int			 up_failed;

	enum s3_err		 pending;	/* answer once drained */
	const char		*pending_msg;

	struct buf		 wbody;		/* a write's answer, whole */
	/* A copy of the request body, when inval_queue_write() wants it
	 * (DeleteObjects: the keys to fall back to). */
	struct buf		 req_body;
	int			 req_body_over;	/* past IQ_REQ_BODY_MAX */
	struct iq_result	 recorded;
	int			 record_started;
	int			 record_done;
	struct evloop_job	 record_job;	/* its completion, posted */

	unsigned		 status;
	uint64_t		 bytes_out;
	int			 upstream_answered;
	struct iq_read		*learner;	/* a listing passing through */
};

/* --- waiting ----------------------------------------------------------------- */

static void
conn_window(struct conn *cn)
{
	if (cn != NULL) {
		cn->win_at = util_mono_ms();
		cn->win_bytes = 0;
	}
}

static void
wait_for(struct front_req *r, enum waiting why)
{
	r->waiting = why;
	if (!r->suspended) {
		r->suspended = 1;
		MHD_suspend_connection(r->c);
	}
}

static void
wake(struct front_req *r)
{
	r->waiting = W_NONE;
	if (r->suspended) {
		r->suspended = 0;
		conn_window(r->conn);
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
		wake(r);
}

static void
ev_drained(void *arg)
{
	struct front_req	*r = arg;

	if (r->waiting == W_SEND)
		wake(r);
}

static void
ev_head(void *arg)
{
	struct front_req	*r = arg;

	if (r->waiting == W_CONTINUE || r->waiting == W_HEAD)
		wake(r);
}

static void
ev_data(void *arg)
{
	struct front_req	*r = arg;

	if (r->waiting == W_DATA || r->waiting == W_WBODY)
		wake(r);
}

static void
ev_done(void *arg)
{
	struct front_req	*r = arg;

	if (r->waiting != W_NONE && r->waiting != W_RECORD)
		wake(r);
}

static const struct upstream_events xfer_events = {
	ev_wants_body, ev_drained, ev_head, ev_data, ev_done
};

/* --- responses ---------------------------------------------------------- */

static const char *const hop_by_hop[] = {
	"connection", "keep-alive", "proxy-authenticate",
	"proxy-authorization", "proxy-connection", "te", "trailer",
	"transfer-encoding", "upgrade", NULL
};

static int
is_hop_by_hop(const char *name)
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
static void
closing(struct front_req *r, struct MHD_Response *resp)
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
		closing(r, resp);
	if (status == 503)
		MHD_add_response_header(resp, "Retry-After", "1");
	r->bytes_out = body->len;
	return queue(r, status, resp);
}

static enum MHD_Result
answer_error_close(struct front_req *r, enum s3_err e, const char *msg,
    int close_conn)
{
	struct s3_err_extra	 ex[4];
	size_t			 n = 0;
	struct buf		 b;
	enum MHD_Result		 ret;

	upstream_free(r->x);		/* aborts: nothing half-sent stays */
	r->x = NULL;
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

static enum MHD_Result
answer_error(struct front_req *r, enum s3_err e, const char *msg)
{
	return answer_error_close(r, e, msg, 0);
}

/* The upstream gave no usable answer. */
static enum MHD_Result
answer_upstream_failed(struct front_req *r)
{
	if (r->x != NULL && upstream_status(r->x) == 0 &&
	    strstr(upstream_error(r->x), "head is too large") != NULL) {
		log_event(LOG_WARN, "upstream_head_too_large",
		    (struct log_field[]){ LOG_STR("id", r->id) }, 1);
		return answer_error(r, S3_ERR_BAD_GATEWAY,
		    "The upstream's response head is too large to relay.");
	}
	if (r->x != NULL)
		log_event(LOG_WARN, "upstream_failed", (struct log_field[]){
		    LOG_STR("id", r->id),
		    LOG_STR("detail", upstream_error(r->x)) }, 2);
	return answer_error(r, S3_ERR_SERVICE_UNAVAILABLE,
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
	wait_for(r, W_DATA);
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
		if (is_hop_by_hop(h[i].name) ||
		    strcasecmp(h[i].name, "content-length") == 0 ||
		    (conn != NULL && util_token_in(conn, h[i].name)))
			continue;
		if (strcasecmp(h[i].name, "x-amz-request-id") == 0)
			has_id = 1;
		/* libmicrohttpd (0.9.75) refuses an empty value, and S3 sends
		 * one for an empty x-amz-meta-*: a space is sent instead,
		 * which HTTP reads as the same empty value (RFC 9112 §5: the
		 * whitespace around a field value is not part of it). */
		MHD_add_response_header(resp, h[i].name,
		    h[i].value[0] != '\0' ? h[i].value : " ");
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
	closing(r, resp);
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
		wait_for(r, W_WBODY);
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
		wake(r);
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
				return answer_error(r,
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
		wait_for(r, W_RECORD);
		return MHD_YES;
	}
	if (r->recorded.outcome == IQ_FAILED)
		return answer_error(r, S3_ERR_SERVICE_UNAVAILABLE,
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
		return answer_error(r, S3_ERR_BAD_GATEWAY, "The upstream's "
		    "bucket list could not be read.");
	}
	ret = answer_buffered(r, status, buf_str(&out), out.len);
	buf_fini(&out);
	return ret;
}

/* Relay the upstream's response: status, headers and a streamed body. */
static enum MHD_Result
answer_upstream(struct front_req *r)
{
	struct iq_read_head	 rd;
	struct MHD_Response	*resp;
	int64_t			 cl;
	int			 status, head;

	status = upstream_status(r->x);
	if (status == 0) {
		if (upstream_ended(r->x))
			return answer_upstream_failed(r);
		wait_for(r, W_HEAD);
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
		return answer_upstream_failed(r);
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
	closing(r, resp);
	return queue(r, (unsigned)status, resp);
}

/* --- request head --------------------------------------------------------- */

#define TCHARS	"!#$%&'*+-.^_`|~0123456789" \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *k,
    const char *v)
{
	struct front_req	*r = cls;
	struct sigv4_header	*nh;
	const char		*p;

	(void)kind;
	if (v == NULL)
		v = "";
	r->hdr_bytes += strlen(k) + strlen(v) + 4;
	/* A field name is a token (RFC 9110 §5.1): no space, CR, colon or
	 * fold may pass, or the upstream would read a different head. */
	if (*k == '\0')
		r->bad_header = 1;
	for (p = k; *p != '\0'; p++)
		if (strchr(TCHARS, *p) == NULL)
			r->bad_header = 1;
	for (p = v; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n' || (unsigned char)*p == 0x7f ||
		    ((unsigned char)*p < 0x20 && *p != '\t'))
			r->bad_header = 1;
	if (r->n_hdrs == r->hdrs_cap) {
		size_t cap = r->hdrs_cap ? r->hdrs_cap * 2 : 32;

		nh = realloc(r->hdrs, cap * sizeof(*nh));
		if (nh == NULL)
			return MHD_NO;
		r->hdrs = nh;
		r->hdrs_cap = cap;
	}
	r->hdrs[r->n_hdrs].name = k;
	r->hdrs[r->n_hdrs].value = v;
	r->n_hdrs++;
	return MHD_YES;
}

static const char *
header(const struct front_req *r, const char *name)
{
	return auth_header(r->hdrs, r->n_hdrs, name);
}

/* Headers that are the proxy's to set, or hop-by-hop: never forwarded. */
static const char *const not_forwarded[] = {
	"host", "authorization", "expect", "content-length",
	"x-amz-date", "x-amz-security-token", "x-amz-content-sha256", NULL
};

static int
build_forward(struct front_req *r)
{
	const char	*conn = header(r, "connection");
	size_t		 i;
	int		 j, skip;

	r->fwd = calloc(r->n_hdrs + 1, sizeof(*r->fwd));
	if (r->fwd == NULL)
		return -1;
	for (i = 0; i < r->n_hdrs; i++) {
		skip = is_hop_by_hop(r->hdrs[i].name);
		for (j = 0; not_forwarded[j] != NULL; j++)
			if (strcasecmp(r->hdrs[i].name, not_forwarded[j]) == 0)
				skip = 1;
		/* Headers the Connection header names are hop-by-hop too. */
		if (conn != NULL && util_token_in(conn, r->hdrs[i].name))
			skip = 1;
		/* Sent decoded: the body is no longer aws-chunked. */
		if (r->body == BM_STREAM && r->ace == NULL &&
		    (strcasecmp(r->hdrs[i].name, "content-encoding") == 0 ||
		    strcasecmp(r->hdrs[i].name,
		    "x-amz-decoded-content-length") == 0 ||
		    strcasecmp(r->hdrs[i].name, "x-amz-trailer") == 0))
			skip = 1;
		if (!skip) {
			r->fwd[r->n_fwd] = r->hdrs[i];
			if (r->copy_src != NULL && strcasecmp(r->hdrs[i].name,
			    "x-amz-copy-source") == 0)
				r->fwd[r->n_fwd].value = r->copy_src;
			r->n_fwd++;
		}
	}
	if (r->ce_fwd != NULL && r->ce_fwd[0] != '\0') {
		r->fwd[r->n_fwd].name = "Content-Encoding";
		r->fwd[r->n_fwd++].value = r->ce_fwd;
	}
	return 0;
}

/* Content-Encoding without its aws-chunked token ("gzip,aws-chunked" ->
 * "gzip"): the other codings still describe the object. */
static char *
strip_aws_chunked(const char *ce)
{
	struct buf	 b;
	const char	*p, *e, *t, *te;

	buf_init(&b);
	for (p = ce; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, ",");
		t = p;
		te = e;
		while (t < te && (*t == ' ' || *t == '\t'))
			t++;
		while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
			te--;
		if (te == t || ((size_t)(te - t) == 11 &&
		    strncasecmp(t, "aws-chunked", 11) == 0))
			continue;
		buf_printf(&b, "%s%.*s", b.len ? "," : "", (int)(te - t), t);
	}
	return buf_take(&b);
}

static int
start_upstream(struct front_req *r)
{
	struct upstream_req	 uq;
	struct buf		 q;
	int			 rc = -1;

	buf_init(&q);
	/* The canonical query, less a presigned URL's own parameters. */
	if (sigv4_canonical_query(&q, r->s3.query, NULL) == -1)
		goto out;
	if (r->auth.presigned) {
		struct buf	 f;
		const char	*p, *amp;

		buf_init(&f);
		for (p = buf_str(&q); *p != '\0'; p = *amp ? amp + 1 : amp) {
			amp = p + strcspn(p, "&");
			if (strncmp(p, "X-Amz-Algorithm=", 16) == 0 ||
			    strncmp(p, "X-Amz-Credential=", 17) == 0 ||
			    strncmp(p, "X-Amz-Date=", 11) == 0 ||
			    strncmp(p, "X-Amz-Expires=", 14) == 0 ||
			    strncmp(p, "X-Amz-SignedHeaders=", 20) == 0 ||
			    strncmp(p, "X-Amz-Signature=", 16) == 0 ||
			    strncmp(p, "X-Amz-Security-Token=", 21) == 0)
				continue;
			buf_printf(&f, "%s%.*s", f.len ? "&" : "",
			    (int)(amp - p), p);
		}
		buf_fini(&q);
		q = f;
	}
	memset(&uq, 0, sizeof(uq));
	uq.method = r->method;
	uq.bucket = r->upstream_bucket;
	uq.key = r->s3.key;
	uq.query = buf_str(&q);
	uq.headers = r->fwd;
	uq.n_headers = r->n_fwd;
	uq.payload_hash = r->up_payload != NULL ? r->up_payload :
	    r->auth.payload == AUTH_PAYLOAD_HEX ? r->auth.payload_hash :
	    SIGV4_UNSIGNED_PAYLOAD;
	uq.has_body = r->body != BM_NONE;
	uq.body_len = r->body_len;
	uq.expect_continue = r->expect && r->body != BM_NONE &&
	    r->body_len > 0;
	if (!buf_ok(&q))
		goto out;
	r->x = upstream_start(r->loop->up, &uq, &xfer_events, r);
	rc = r->x != NULL ? 0 : -1;
out:
	buf_fini(&q);
	return rc;
}

static int
open_spool(struct front_req *r)
{
	struct buf	 p;

	buf_init(&p);
	buf_printf(&p, "%s/spool.XXXXXX", r->loop->f->cfg->server.state_dir);
	r->spool_fd = buf_ok(&p) ? mkstemp(p.data) : -1;
	if (r->spool_fd != -1)
		unlink(p.data);
	buf_fini(&p);
	return r->spool_fd == -1 ? -1 : 0;
}

/*
 * An aws-chunked body (DESIGN §1): decoded and checked on the fly.  Trailer
 * modes go upstream re-framed as STREAMING-UNSIGNED-PAYLOAD-TRAILER with
 * the same trailer, so the object keeps its checksum; signed chunks without
 * a trailer go decoded as UNSIGNED-PAYLOAD (we checked every chunk).  Both
 * with a Content-Length computed up front.  Returns S3_OK, or the error.
 */
static enum s3_err
setup_streaming(struct front_req *r, const char **msg)
{
	struct ac_params	 p;
	enum ac_mode		 mode;
	enum s3_err		 err = S3_ERR_INTERNAL_ERROR;
	const char		*sha, *dl, *trailer, *ce;
	char			*end;
	uint64_t		 decoded;

	*msg = NULL;
	sha = header(r, "x-amz-content-sha256");
	if (sha == NULL || aws_chunked_mode(sha, &mode) == -1) {
		*msg = "This x-amz-content-sha256 streaming mode is not "
		    "supported (SigV4a streaming among them).";
		return S3_ERR_NOT_IMPLEMENTED;
	}
	if (mode != AC_UNSIGNED_TRAILER && r->auth.seed_signature[0] == '\0') {
		*msg = "Signed aws-chunked payloads need header "
		    "authentication (auth.mode = sigv4).";
		return S3_ERR_NOT_IMPLEMENTED;
	}
	dl = header(r, "x-amz-decoded-content-length");
	errno = 0;
	decoded = dl != NULL ? strtoull(dl, &end, 10) : 0;
	if (dl == NULL || *dl == '\0' || *dl == '-' || *end != '\0' ||
	    errno != 0) {
		*msg = "aws-chunked needs a valid x-amz-decoded-content-length.";
		return S3_ERR_MISSING_CONTENT_LENGTH;
	}
	trailer = header(r, "x-amz-trailer");
	memset(&p, 0, sizeof(p));
	p.mode = mode;
	p.trailer = trailer;
	p.decoded_length = decoded;
	memcpy(p.signing_key, r->auth.signing_key, sizeof(p.signing_key));
	p.amz_date = r->auth.amz_date;
	p.scope = r->auth.scope;
	p.seed_signature = r->auth.seed_signature;
	/* The end of the body is held back until every check passed. */
	p.stream = 1;
	r->acd = aws_chunked_decoder_new(&p, &err, msg);
	OPENSSL_cleanse(p.signing_key, sizeof(p.signing_key));
	if (r->acd == NULL)
		return err;
	r->body = BM_STREAM;
	if (mode == AC_SIGNED) {
		r->up_payload = SIGV4_UNSIGNED_PAYLOAD;
		r->body_len = decoded;
		ce = header(r, "content-encoding");
		if (ce != NULL) {
			r->ce_fwd = strip_aws_chunked(ce);
			if (r->ce_fwd == NULL)
				return S3_ERR_INTERNAL_ERROR;
		}
	} else {
		r->up_payload = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
		/* What we send upstream is aws-chunked, said or not. */
		if (header(r, "content-encoding") == NULL) {
			r->ce_fwd = strdup("aws-chunked");
			if (r->ce_fwd == NULL)
				return S3_ERR_INTERNAL_ERROR;
		}
		r->ace = aws_chunked_encoder_new(UP_CHUNK);
		if (r->ace == NULL)
			return S3_ERR_INTERNAL_ERROR;
		r->body_len = aws_chunked_encoded_length(decoded, UP_CHUNK,
		    trailer, aws_chunked_checksum_b64_len(
		    aws_chunked_checksum(trailer)));
	}
	return S3_OK;
}

/*
 * x-amz-copy-source ("[/]bucket/key[?versionId=v]", URL-encoded): a copy
 * reads the source, so the source bucket must be one we serve and this
 * client must be allowed to read it; and it is named upstream by its
 * upstream name.  Without this a client could copy from any bucket the
 * proxy's own credentials can read.
 */
static enum s3_err
copy_source(struct front_req *r)
{
	const struct cfg_bucket	*src;
	const char		*v, *slash, *up;
	struct buf		 name, out;
	enum s3_err		 e = S3_ERR_INVALID_ARGUMENT;

	v = header(r, "x-amz-copy-source");
	if (*v == '/')
		v++;
	slash = strchr(v, '/');
	if (slash == NULL || slash == v || slash[1] == '\0')
		return S3_ERR_INVALID_ARGUMENT;
	buf_init(&name);
	buf_init(&out);
	if (sigv4_uri_decode(&name, v, (size_t)(slash - v)) == -1 ||
	    !buf_ok(&name) || !s3_bucket_name_valid(buf_str(&name)))
		goto out;
	src = cfg_bucket_find(r->loop->f->cfg, buf_str(&name));
	if (src == NULL || (r->auth.client != NULL &&
	    !cfg_client_may(r->auth.client, buf_str(&name), 0))) {
		e = S3_ERR_ACCESS_DENIED;
		goto out;
	}
	up = src->upstream_bucket != NULL ? src->upstream_bucket :
	    buf_str(&name);
	buf_printf(&out, "%s%s", up, slash);
	if (!buf_ok(&out)) {
		e = S3_ERR_INTERNAL_ERROR;
		goto out;
	}
	r->copy_src = buf_take(&out);
	e = S3_OK;
out:
	buf_fini(&name);
	buf_fini(&out);
	return e;
}

static void
note_refused(struct http_front *f)
{
	int64_t	 now = util_mono_ms(), last;
	uint64_t n;

	metrics_conn_refused();
	atomic_fetch_add(&f->refused_since_log, 1);
	last = atomic_load(&f->refuse_logged_at);
	if (now - last < 1000 ||
	    !atomic_compare_exchange_strong(&f->refuse_logged_at, &last, now))
		return;
	n = atomic_exchange(&f->refused_since_log, 0);
	log_warn("server.max_connections (%u) reached: %llu request%s "
	    "answered 503 since the last such line",
	    f->cfg->server.max_connections, (unsigned long long)n,
	    n == 1 ? "" : "s");
}

/* The body as the request announces it: sets r->body and r->body_len. */
static enum s3_err
body_framing(struct front_req *r, const char **msg)
{
	const char	*cl, *te, *ce;
	char		*end;

	*msg = NULL;
	ce = header(r, "content-encoding");
	if (r->auth.payload == AUTH_PAYLOAD_STREAMING ||
	    (ce != NULL && util_token_in(ce, "aws-chunked")))
		return setup_streaming(r, msg);
	cl = header(r, "content-length");
	te = header(r, "transfer-encoding");
	if (te != NULL && strcasecmp(te, "identity") != 0) {
		if (strcasecmp(te, "chunked") != 0) {
			*msg = "Transfer-Encoding other than chunked";
			return S3_ERR_NOT_IMPLEMENTED;
		}
		r->body = BM_SPOOL;
	} else if (cl != NULL) {
		errno = 0;
		r->body_len = strtoull(cl, &end, 10);
		if (*cl == '\0' || *end != '\0' || errno != 0 || *cl == '-') {
			*msg = "Invalid Content-Length";
			return S3_ERR_INVALID_ARGUMENT;
		}
		if (r->body_len > 0 || strcmp(r->method, "PUT") == 0 ||
		    strcmp(r->method, "POST") == 0)
			r->body = BM_PLAIN;
	} else if (strcmp(r->method, "PUT") == 0 && r->s3.key != NULL) {
		return S3_ERR_MISSING_CONTENT_LENGTH;
	} else if (strcmp(r->method, "POST") == 0 ||
	    strcmp(r->method, "PUT") == 0) {
		r->body = BM_PLAIN;	/* an empty body, sent as such */
	}
	return S3_OK;
}

/* CreateBucket of a bucket the client may write but not administer:
 * answered as S3 answers the bucket's owner, without forwarding (clients
 * such as rclone create their bucket before writing). */
static enum MHD_Result
answer_owned_bucket(struct front_req *r)
{
	struct MHD_Response	*resp;
	char			 loc[1200];

	if (s3_req_owned_bucket_status(r->loop->f->cfg->upstream.region,
	    r->s3.bucket, loc, sizeof(loc)) != 200)
		return answer_error(r, S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU, NULL);
	resp = MHD_create_response_from_buffer(0, NULL,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	if (loc[0] != '\0')
		MHD_add_response_header(resp, "Location", loc);
	MHD_add_response_header(resp, "x-amz-request-id", r->id);
	closing(r, resp);
	return queue(r, 200, resp);
}

/* A head refused by a framing rule (http_frame_table.h): one S3 error,
 * and the connection ends with it. */
static enum MHD_Result
answer_frame(struct front_req *r, enum http_frame_rule rule)
{
	log_event(LOG_INFO, "framing_refused", (struct log_field[]){
	    LOG_STR("id", r->id), LOG_STR("rule", http_frame_name(rule)),
	    LOG_STR("field", r->frame.field != NULL ? r->frame.field : "-") },
	    3);
	return answer_error_close(r, http_frame_error(rule),
	    http_frame_message(rule), http_frame_closes(rule));
}

static enum MHD_Result
on_head(struct front_req *r, const char *method, const char *version)
{
	struct http_front	*f = r->loop->f;
	const struct cfg	*cfg = f->cfg;
	const struct cfg	*acfg = atomic_load(&f->auth_cfg);
	struct auth_input	 ai;
	const char		*msg = NULL, *ex;
	enum s3_err		 e;
	enum http_frame_rule	 fr;
	int			 queued;

	r->method = method;
	/* Framing first (issue 14 item 1), while the head is still in
	 * libmicrohttpd's buffer: nothing else reads a head that a proxy in
	 * front could have framed differently. */
	fr = http_frame_check_mhd(r->c, method, version, r->target, &r->frame,
	    &queued);
	if (queued) {
		r->phase = PH_ANSWERED;	/* MHD answered: one answer only */
		return MHD_YES;
	}
	if (fr != HTTP_FRAME_OK)
		return answer_frame(r, fr);
	r->close = r->frame.close_after;
	if (r->conn != NULL && r->conn->over_limit) {
		note_refused(f);
		return answer_error_close(r, S3_ERR_SERVICE_UNAVAILABLE,
		    "Too many connections (server.max_connections); retry.",
		    1);
	}
	if (MHD_get_connection_values(r->c, MHD_HEADER_KIND, collect_header,
	    r) < 0 || r->target == NULL)
		return answer_error(r, S3_ERR_INTERNAL_ERROR, NULL);
	if (r->bad_header)
		return answer_error_close(r, S3_ERR_INVALID_ARGUMENT,
		    "Header names must be tokens and values must not contain "
		    "control characters.", 1);
	if (r->hdr_bytes + strlen(r->target) > cfg->server.max_header_size)
		return answer_error_close(r, S3_ERR_REQUEST_HEADER_TOO_LARGE,
		    NULL, 1);
	e = s3_req_parse(&r->s3, method, r->target, header(r, "host"),
	    cfg->server.virtual_host_base,
	    header(r, "x-amz-copy-source") != NULL ? S3_HDR_COPY_SOURCE : 0);
	if (e != S3_OK)
		return answer_error(r, e, r->s3.message);

	memset(&ai, 0, sizeof(ai));
	ai.method = method;
	ai.raw_path = r->s3.path;
	ai.raw_query = r->s3.query;
	ai.headers = r->hdrs;
	ai.n_headers = r->n_hdrs;
	ai.bucket = r->s3.bucket;
	ai.s3 = &r->s3;
	/* CORS preflight carries no credentials (S3 User Guide, "CORS"); so
	 * it gets no body either: nothing is read, spooled or forwarded for
	 * a request nobody signed (issue 14 item 2). */
	if (r->s3.op == S3_OP_OPTIONS && header(r, "authorization") == NULL &&
	    strstr(r->s3.query, "X-Amz-Signature") == NULL) {
		fr = http_frame_preflight(&r->frame);
		if (fr != HTTP_FRAME_OK)
			return answer_frame(r, fr);
		memset(&r->auth, 0, sizeof(r->auth));
	} else {
		e = auth_check(acfg, &ai, util_now(), &r->auth);
		if (e == S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU)
			return answer_owned_bucket(r);
		if (e != S3_OK)
			return answer_error(r, e, r->auth.message);
	}

	if (r->s3.bucket == NULL) {
		if (r->s3.op != S3_OP_LIST_BUCKETS)
			return answer_error(r, S3_ERR_METHOD_NOT_ALLOWED, NULL);
	} else {
		r->bucket = cfg_bucket_find(cfg, r->s3.bucket);
		if (r->bucket == NULL)
			return answer_error(r, S3_ERR_NO_SUCH_BUCKET, NULL);
		r->upstream_bucket = r->bucket->upstream_bucket != NULL ?
		    r->bucket->upstream_bucket : r->s3.bucket;
	}
	if (header(r, "x-amz-copy-source") != NULL) {
		e = copy_source(r);
		if (e != S3_OK)
			return answer_error(r, e, e == S3_ERR_ACCESS_DENIED ?
			    "The copy source is not readable with this key." :
			    "Invalid copy source.");
	}
	e = body_framing(r, &msg);
	if (e != S3_OK)
		return answer_error(r, e, msg);
	if (r->auth.payload == AUTH_PAYLOAD_HEX && r->body != BM_STREAM) {
		r->sha = EVP_MD_CTX_new();
		if (r->sha == NULL ||
		    EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL) != 1)
			return answer_error(r, S3_ERR_INTERNAL_ERROR, NULL);
	}
	ex = header(r, "expect");
	r->expect = ex != NULL && strcasecmp(ex, "100-continue") == 0;
	if (build_forward(r) == -1)
		return answer_error(r, S3_ERR_INTERNAL_ERROR, NULL);
	if (r->body == BM_SPOOL) {
		/* The upstream wants a Content-Length: spool first. */
		if (open_spool(r) == -1)
			return answer_error(r, S3_ERR_INTERNAL_ERROR,
			    "cannot create a spool file in state_dir");
		r->phase = PH_BODY;
		return MHD_YES;
	}
	/* No valid credentials (an expired set being refreshed) is an
	 * outage SDKs should retry, not an internal error. */
	if (start_upstream(r) == -1)
		return answer_error(r, S3_ERR_SERVICE_UNAVAILABLE,
		    "cannot start the upstream request (credentials?)");
	if (r->body != BM_NONE && r->body_len > 0 && r->expect) {
		/* Expect: 100-continue end to end: if the upstream refuses
		 * before the body, so do we, and the body is never read. */
		r->phase = PH_CONTINUE;
		wait_for(r, W_CONTINUE);
		return MHD_YES;
	}
	r->phase = r->body != BM_NONE ? PH_BODY : PH_FINAL;
	return MHD_YES;
}

/* Resumed while waiting for the upstream's verdict on the body. */
static enum MHD_Result
on_continue(struct front_req *r)
{
	if (upstream_status(r->x) != 0 ||
	    (upstream_ended(r->x) && !upstream_wants_body(r->x)))
		return answer_upstream(r);	/* refused before the body */
	r->phase = PH_BODY;
	return MHD_YES;				/* 100 Continue goes out */
}

/* --- request body ------------------------------------------------------- */

static void
drain(struct front_req *r, enum s3_err e, const char *msg)
{
	if (r->pending == S3_OK && e != S3_OK) {
		r->pending = e;
		r->pending_msg = msg;
	}
	r->body = BM_DRAIN;
}

/* Bytes to the upstream; a full send buffer suspends the body. */
static int
push(struct front_req *r, const char *data, size_t len)
{
	int	 rc;

	if (len == 0)
		return 0;
	rc = upstream_write(r->x, data, len);
	if (rc == 1)
		r->send_full = 1;
	if (rc == -1) {
		if (upstream_status(r->x) != 0)
			r->up_early = 1;
		else
			r->up_failed = 1;
		return -1;
	}
	return 0;
}

/* Keep what inval_queue_write() wants of the request body (as the client
 * sent it, aws-chunked decoded), at most IQ_REQ_BODY_MAX bytes. */
static void
keep_request_body(struct front_req *r, const char *data, size_t len)
{
	if (r->req_body_over || !inval_queue_wants_request_body(r->s3.op))
		return;
	if (r->req_body.len + len > IQ_REQ_BODY_MAX ||
	    buf_append(&r->req_body, data, len) == -1) {
		buf_fini(&r->req_body);
		r->req_body_over = 1;
	}
}

static int
push_cb(void *arg, const char *data, size_t len)
{
	return push(arg, data, len);
}

/* Decoded bytes from the decoder: re-framed, or sent as they are with the
 * last byte held back until every check passed. */
static int
stream_emit(void *arg, const char *data, size_t len)
{
	struct front_req	*r = arg;

	if (len == 0)
		return 0;
	keep_request_body(r, data, len);
	if (r->ace != NULL)
		return aws_chunked_encode(r->ace, data, len, push_cb, r);
	if (r->holding && push(r, &r->held, 1) == -1)
		return -1;
	if (push(r, data, len - 1) == -1)
		return -1;
	r->held = data[len - 1];
	r->holding = 1;
	return 0;
}

static void
stream_failed(struct front_req *r)
{
	enum s3_err	 e;
	const char	*msg = NULL;

	if (r->up_early) {
		drain(r, S3_OK, NULL);
		return;
	}
	if (r->up_failed) {
		drain(r, S3_ERR_SERVICE_UNAVAILABLE,
		    "The upstream failed during the upload.");
		return;
	}
	e = aws_chunked_decoder_error(r->acd, &msg);
	drain(r, e != S3_OK ? e : S3_ERR_INTERNAL_ERROR, msg);
}

static void
on_body(struct front_req *r, const char *data, size_t len)
{
	ssize_t	 w;
	size_t	 off;

	r->received += len;
	if (r->conn != NULL)
		r->conn->win_bytes += len;
	switch (r->body) {
	case BM_DRAIN:
	case BM_NONE:
		return;
	case BM_STREAM:
		if (aws_chunked_decode(r->acd, data, len, stream_emit, r) == -1)
			stream_failed(r);
		return;
	case BM_SPOOL:
		keep_request_body(r, data, len);
		if (r->sha != NULL)
			EVP_DigestUpdate(r->sha, data, len);
		if (r->spooled + len > r->loop->f->cfg->server.spool_max) {
			drain(r, S3_ERR_ENTITY_TOO_LARGE, "A chunked body "
			    "larger than server.spool_max; send a "
			    "Content-Length instead");
			return;
		}
		for (off = 0; off < len; off += (size_t)w) {
			w = write(r->spool_fd, data + off, len - off);
			if (w == -1 && errno == EINTR)
				w = 0;
			else if (w <= 0) {
				drain(r, S3_ERR_SERVICE_UNAVAILABLE,
				    "cannot spool the request body");
				return;
			}
		}
		r->spooled += len;
		return;
	case BM_PLAIN:
		break;
	}
	keep_request_body(r, data, len);
	if (r->received > r->body_len) {
		drain(r, S3_ERR_INVALID_REQUEST, "body longer than "
		    "Content-Length");
		return;
	}
	if (r->sha != NULL) {
		EVP_DigestUpdate(r->sha, data, len);
		if (r->received == r->body_len && len > 0) {
			r->held = data[len - 1];
			r->holding = 1;
			len--;
		}
	}
	if (push(r, data, len) == -1) {
		if (r->up_early)
			drain(r, S3_OK, NULL);	/* it answered already */
		else
			drain(r, S3_ERR_SERVICE_UNAVAILABLE,
			    "The upstream failed during the upload.");
	}
}

static int
hash_matches(struct front_req *r)
{
	unsigned char	 d[32];
	char		 hex[SIGV4_HEX_LEN + 1];
	unsigned	 n = 0;

	if (r->sha == NULL)
		return 1;
	if (EVP_DigestFinal_ex(r->sha, d, &n) != 1 || n != 32)
		return 0;
	sigv4_hex(hex, d, 32);
	return sigv4_equal(hex, r->auth.payload_hash);
}

/* The spooled body to the upstream, as far as its send buffer takes it.
 * Returns 1 when all of it was handed over, 0 when waiting, -1 on error. */
static int
pump_spool(struct front_req *r)
{
	char	 blk[16384];
	ssize_t	 n;
	int	 rc;

	while (r->spool_sent < r->spooled) {
		n = pread(r->spool_fd, blk, sizeof(blk), (off_t)r->spool_sent);
		if (n <= 0)
			return -1;
		r->spool_sent += (uint64_t)n;
		rc = upstream_write(r->x, blk, (size_t)n);
		if (rc == -1)
			return upstream_status(r->x) != 0 ? 1 : -1;
		if (rc == 1) {
			wait_for(r, W_SEND);
			return 0;
		}
	}
	upstream_write_end(r->x);
	return 1;
}

/* The whole aws-chunked body is in: only now, if every check passed, does
 * the upstream get its last bytes (the final chunk and the trailer, or the
 * held-back byte), without which it stores nothing. */
static enum MHD_Result
stream_complete(struct front_req *r)
{
	enum s3_err	 e;
	const char	*msg = NULL;
	int		 rc;

	if (aws_chunked_decode_finish(r->acd) == -1) {
		e = aws_chunked_decoder_error(r->acd, &msg);
		return answer_error(r, e, msg);
	}
	if (r->ace != NULL)
		rc = aws_chunked_encode_finish(r->ace,
		    aws_chunked_trailer_name(r->acd),
		    aws_chunked_trailer_value(r->acd), push_cb, r);
	else
		rc = r->holding ? push(r, &r->held, 1) : 0;
	if (rc == -1 && !r->up_early)
		return answer_error(r, S3_ERR_SERVICE_UNAVAILABLE,
		    "The upstream failed during the upload.");
	upstream_write_end(r->x);
	r->body = BM_NONE;
	return answer_upstream(r);
}

/* The whole request is in (or resumed after it was): go on with it. */
static enum MHD_Result
on_final(struct front_req *r)
{
	int	 rc;

	if (r->pending != S3_OK)
		return answer_error(r, r->pending, r->pending_msg);
	switch (r->body) {
	case BM_DRAIN:
		if (r->x == NULL)
			return answer_error(r, S3_ERR_INTERNAL_ERROR, NULL);
		r->body = BM_NONE;
		break;
	case BM_STREAM:
		return stream_complete(r);
	case BM_SPOOL:
		if (!hash_matches(r))
			return answer_error(r, S3_ERR_CONTENT_SHA256_MISMATCH,
			    NULL);
		EVP_MD_CTX_free(r->sha);
		r->sha = NULL;
		if (r->x == NULL) {
			r->body_len = r->spooled;
			if (start_upstream(r) == -1)
				return answer_error(r,
				    S3_ERR_SERVICE_UNAVAILABLE, "cannot start "
				    "the upstream request (credentials?)");
		}
		rc = pump_spool(r);
		if (rc == 0)
			return MHD_YES;
		if (rc == -1)
			return answer_upstream_failed(r);
		r->body = BM_NONE;
		break;
	case BM_PLAIN:
		if (!hash_matches(r))
			return answer_error(r, S3_ERR_CONTENT_SHA256_MISMATCH,
			    NULL);
		if (r->received != r->body_len)
			return answer_error(r, S3_ERR_INCOMPLETE_BODY, NULL);
		if (r->holding && push(r, &r->held, 1) == -1 && !r->up_early)
			return answer_error(r, S3_ERR_SERVICE_UNAVAILABLE,
			    "The upstream failed during the upload.");
		r->holding = 0;
		upstream_write_end(r->x);
		r->body = BM_NONE;
		break;
	case BM_NONE:
		break;
	}
	return answer_upstream(r);
}

/* --- libmicrohttpd callbacks -------------------------------------------- */

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct front_req	*r = *req_cls;

	(void)cls;
	(void)url;
	(void)version;
	if (r == NULL || r->loop->stopping)
		return MHD_NO;
	r->c = c;
	switch (r->phase) {
	case PH_HEAD:
		if (r->conn == NULL) {
			r->conn = conn_of(c);
			if (r->conn != NULL) {
				r->conn->req = r;
				conn_window(r->conn);
			}
		}
		return on_head(r, method, version);
	case PH_CONTINUE:
		return on_continue(r);
	case PH_BODY:
		if (*upload_data_size > 0) {
			on_body(r, upload_data, *upload_data_size);
			*upload_data_size = 0;
			if (r->send_full && r->body != BM_DRAIN)
				wait_for(r, W_SEND);
			r->send_full = 0;
			return MHD_YES;
		}
		/* The request is complete only at the call without
		 * upload_data: libmicrohttpd 0.9.75 also calls with no data
		 * while bytes wait behind a bodiless request that expected
		 * 100-continue, when no response can be queued yet. */
		if (upload_data != NULL)
			return MHD_YES;
		r->phase = PH_FINAL;
		return on_final(r);
	case PH_FINAL:
		if (upload_data != NULL)	/* see PH_BODY */
			return MHD_YES;
		if (r->body != BM_NONE)
			return on_final(r);
		return answer_upstream(r);
	case PH_ANSWERED:
		return MHD_YES;
	}
	return MHD_YES;
}

static void *
uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct loop		*l = cls;
	struct front_req	*r;
	uint64_t		 x;
	int			 i;

	(void)c;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->loop = l;
	atomic_fetch_add(&l->f->active, 1);
	r->t0 = util_mono_ms();
	r->t0_wall = util_now_ms();
	r->spool_fd = -1;
	buf_init(&r->wbody);
	buf_init(&r->req_body);
	/* xorshift64*: request ids need to be unique, not secret. */
	l->rid ^= l->rid >> 12;
	l->rid ^= l->rid << 25;
	l->rid ^= l->rid >> 27;
	x = l->rid * 2685821657736338717ULL;
	for (i = 15; i >= 0; i--, x >>= 4)
		r->id[i] = "0123456789ABCDEF"[x & 15];
	r->id[16] = '\0';
	r->target = strdup(uri != NULL ? uri : "");
	return r;
}

static void
completed_cb(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct front_req	*r = *req_cls;
	const char		*akid;

	(void)cls;
	(void)c;
	if (r == NULL)
		return;
	*req_cls = NULL;
	if (r->conn != NULL) {
		r->conn->req = NULL;
		r->conn->since = util_mono_ms();
	}
	akid = r->auth.access_key_id[0] != '\0' ? r->auth.access_key_id : "-";
	log_event(LOG_INFO, "request", (struct log_field[]){
	    LOG_STR("id", r->id),
	    LOG_STR("client", akid),
	    LOG_STR("method", r->method != NULL ? r->method : "-"),
	    LOG_STR("bucket", r->s3.bucket != NULL ? r->s3.bucket : "-"),
	    LOG_STR("key", r->s3.key != NULL ? r->s3.key : "-"),
	    LOG_STR("op", s3_op_name(r->s3.op)),
	    LOG_NUM("status", r->status),
	    LOG_NUM("in", r->received),
	    LOG_NUM("out", r->bytes_out),
	    LOG_NUM("upstream_ms", r->upstream_answered ? upstream_ms(r->x) :
	    -1),
	    LOG_NUM("ms", util_mono_ms() - r->t0),
	    LOG_NUM("keys_journaled", r->recorded.keys),
	    LOG_STR("unchanged", r->recorded.outcome == IQ_UNCHANGED ? "yes" :
	    "no"),
	    LOG_STR("end", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" :
	    "aborted") }, 14);
	metrics_request(r->s3.op, r->status, r->received, r->bytes_out,
	    r->upstream_answered ? upstream_ms(r->x) : -1);
	inval_queue_read_end(r->learner);
	upstream_free(r->x);
	aws_chunked_decoder_free(r->acd);
	aws_chunked_encoder_free(r->ace);
	free(r->ce_fwd);
	free(r->copy_src);
	if (r->spool_fd != -1)
		close(r->spool_fd);
	EVP_MD_CTX_free(r->sha);
	auth_result_fini(&r->auth);
	s3_req_fini(&r->s3);
	buf_fini(&r->wbody);
	buf_fini(&r->req_body);
	free(r->hdrs);
	free(r->fwd);
	free(r->target);
	atomic_fetch_sub(&r->loop->f->active, 1);
	free(r);
}

static void
notify_cb(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct loop		*l = cls;
	struct conn		*cn;
	const union MHD_ConnectionInfo *ci;
	unsigned		 n;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		cn = calloc(1, sizeof(*cn));
		if (cn == NULL || ci == NULL) {
			free(cn);
			return;
		}
		cn->loop = l;
		cn->fd = ci->connect_fd;
		/* Bound what a TLS handshake may make GnuTLS hold, before
		 * its first byte is read (issue 14 item 2); a connection
		 * that cannot be guarded is closed. */
		if (l->f->tls_cert != NULL &&
		    http_frame_tls_guard(c, &cn->tls) == -1) {
			log_warn("tls: cannot guard the handshake; closing");
			shutdown(cn->fd, SHUT_RDWR);
		}
		cn->since = util_mono_ms();
		n = atomic_fetch_add(&l->f->conns, 1) + 1;
		cn->over_limit = n > l->f->cfg->server.max_connections;
		cn->next = l->conns;
		if (l->conns != NULL)
			l->conns->prev = cn;
		l->conns = cn;
		*socket_context = cn;
		metrics_conn_open(1);
		return;
	}
	cn = *socket_context;
	if (cn == NULL)
		return;
	if (cn->prev != NULL)
		cn->prev->next = cn->next;
	else
		l->conns = cn->next;
	if (cn->next != NULL)
		cn->next->prev = cn->prev;
	atomic_fetch_sub(&l->f->conns, 1);
	metrics_conn_open(-1);
	free(cn);
	*socket_context = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct buf	 b;

	(void)cls;
	buf_init(&b);
	buf_vprintf(&b, fmt, ap);
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	log_msg(LOG_DEBUG, "http: %s", buf_str(&b));
	buf_fini(&b);
}

/* --- the loops ------------------------------------------------------------- */

/*
 * Close a connection from the watchdog: libmicrohttpd sees the error on
 * its next read or write and closes it.  A client too slow at its body
 * or its answer gets a reset (no linger): the data queued for it is
 * dropped at once instead of holding kernel memory until it reads; an
 * idle or unfinished head gets an orderly close.
 */
static void
cut(struct conn *cn, int slow)
{
	struct linger	 lg = { 1, 0 };

	if (slow) {
		setsockopt(cn->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		metrics_conn_cut_slow();
	}
	shutdown(cn->fd, SHUT_RDWR);
	cn->cut = 1;
	cn->loop->run_mhd = 1;
}

static void
watchdog(struct loop *l, int64_t now)
{
	const struct cfg	*cfg = l->f->cfg;
	struct conn		*cn;
	struct front_req	*r;
	uint64_t		 need;

	need = cfg->server.min_rate * RATE_WINDOW_MS / 1000;
	for (cn = l->conns; cn != NULL; cn = cn->next) {
		r = cn->req;
		if (cn->cut)
			continue;
		/* The head: complete within client_timeout of the
		 * connection's start or of the previous request's end. */
		if (r == NULL || r->phase == PH_HEAD) {
			if (now - cn->since > cfg->server.client_timeout_ms)
				cut(cn, 0);
			continue;
		}
		/* Waiting on the upstream or the journal: not the client's
		 * doing. */
		if (r->suspended || need == 0 ||
		    (r->phase != PH_BODY && r->phase != PH_ANSWERED))
			continue;
		if (now - cn->win_at < RATE_WINDOW_MS)
			continue;
		if (cn->win_bytes < need)
			cut(cn, 1);
		else
			conn_window(cn);
	}
}

static void
on_accept(struct evwatch *w, uint32_t events)
{
	struct loop		*l = w->arg;
	struct http_front	*f = l->f;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 i, fd;

	(void)events;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		sl = sizeof(ss);
		fd = accept4(w->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			break;
		if (atomic_load(&f->stopping) ||
		    atomic_load(&f->conns) >= f->hard_limit) {
			/* Past the margin: no answer is affordable. */
			note_refused(f);
			close(fd);
			continue;
		}
		if (MHD_add_connection(l->mhd, fd, (struct sockaddr *)&ss,
		    sl) != MHD_YES)
			log_debug("http: cannot add a connection: %s",
			    strerror(errno));
		l->run_mhd = 1;
	}
}

static void
on_mhd(struct evwatch *w, uint32_t events)
{
	struct loop	*l = w->arg;

	(void)events;
	l->run_mhd = 1;
}

static int64_t
loop_next(void *arg)
{
	struct loop		*l = arg;
	MHD_UNSIGNED_LONG_LONG	 mt;
	int64_t			 next, u, now = util_mono_ms();

	if (l->run_mhd)
		return 0;
	next = l->watchdog_at > now ? l->watchdog_at - now : 0;
	u = upstream_client_next_ms(l->up);
	if (u >= 0 && u < next)
		next = u;
	if (MHD_get_timeout(l->mhd, &mt) == MHD_YES && (int64_t)mt < next)
		next = (int64_t)mt;
	return next;
}

static void
loop_tick(void *arg)
{
	struct loop	*l = arg;
	int64_t		 now;
	int		 rounds;

	/* Handlers start transfers and wake requests, and transfers wake
	 * handlers: run both until neither has more to do (bounded). */
	for (rounds = 0; rounds < 4; rounds++) {
		upstream_client_tick(l->up);
		if (!l->run_mhd && rounds > 0)
			break;
		l->run_mhd = 0;
		MHD_run(l->mhd);
	}
	now = util_mono_ms();
	if (now >= l->watchdog_at) {
		l->watchdog_at = now + WATCHDOG_MS;
		watchdog(l, now);
	}
}

static void *
loop_main(void *arg)
{
	struct loop	*l = arg;
	char		 name[16];

	snprintf(name, sizeof(name), "front/%u", l->idx);
	pthread_setname_np(pthread_self(), name);
	evloop_run(l->ev, loop_next, loop_tick, l);
	return NULL;
}

/* A PEM file, whole, NUL-terminated (libmicrohttpd takes PEM in memory). */
static char *
read_pem(const char *path)
{
	struct buf	 b;
	char		 blk[4096];
	size_t		 n;
	FILE		*fp;

	fp = fopen(path, "r");
	if (fp == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(blk, 1, sizeof(blk), fp)) > 0 && b.len < 1048576)
		buf_append(&b, blk, n);
	OPENSSL_cleanse(blk, sizeof(blk));
	fclose(fp);
	if (!buf_ok(&b) || b.len == 0 || b.len >= 1048576) {
		log_error("%s: empty, too large or unreadable", path);
		buf_wipe(&b);
		return NULL;
	}
	return buf_take(&b);
}

static void
free_tls(struct http_front *f)
{
	if (f->tls_key != NULL)
		OPENSSL_cleanse(f->tls_key, strlen(f->tls_key));
	free(f->tls_key);
	free(f->tls_cert);
	f->tls_key = f->tls_cert = NULL;
}

static int
loop_init(struct http_front *f, struct loop *l, unsigned idx)
{
	const struct cfg	*cfg = f->cfg;
	const union MHD_DaemonInfo *di;
	struct MHD_OptionItem	 opts[20];
	unsigned		 flags;
	size_t			 n = 0;

	l->f = f;
	l->idx = idx;
	if (RAND_bytes((unsigned char *)&l->rid, sizeof(l->rid)) != 1 ||
	    l->rid == 0)
		l->rid = (uint64_t)util_now_ms() * 2654435761ULL + idx + 1;
	l->ev = evloop_new();
	if (l->ev == NULL)
		return -1;
	l->up = upstream_client_new(l->ev);
	if (l->up == NULL)
		return -1;
	flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
	    (intptr_t)mhd_log, l };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_URI_LOG_CALLBACK,
	    (intptr_t)uri_cb, l };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
	    (intptr_t)completed_cb, l };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION,
	    (intptr_t)notify_cb, l };
	/* The watchdog enforces client_timeout and min_rate (over a window
	 * or two: the kernel's buffers make the first one pass); this is
	 * only a backstop behind it, or what cuts a stalled transfer when
	 * min_rate is 0. */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
	    (intptr_t)((cfg->server.client_timeout_ms + (cfg->server.min_rate >
	    0 ? 3 * RATE_WINDOW_MS : 0) + 999) / 1000), NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
	    (intptr_t)f->hard_limit, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (intptr_t)(cfg->server.max_header_size + 16 * 1024), NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SIGPIPE_HANDLED_BY_APP,
	    1, NULL };
	/* Refuse what RFC 9112 says to refuse rather than guess. */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    NULL };
	if (f->tls_cert != NULL) {
		flags |= MHD_USE_TLS;
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT,
		    0, f->tls_cert };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY,
		    0, f->tls_key };
		/* TLS 1.2 and 1.3 only (GnuTLS priority string). */
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_PRIORITIES, 0,
		    (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" };
	}
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, l,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (l->mhd == NULL)
		return -1;
	di = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL)
		return -1;
	l->mhd_w.fd = di->epoll_fd;
	l->mhd_w.cb = on_mhd;
	l->mhd_w.arg = l;
	l->listen_w.fd = f->listen_fd;
	l->listen_w.cb = on_accept;
	l->listen_w.arg = l;
	if (evloop_watch(l->ev, &l->mhd_w, EPOLLIN) == -1 ||
	    evloop_watch(l->ev, &l->listen_w, EPOLLIN | EPOLLEXCLUSIVE) == -1)
		return -1;
	return 0;
}

static int
open_listener(const struct cfg *cfg)
{
	struct addrinfo	 hints, *ai = NULL;
	char		 host[256], port_s[8];
	unsigned	 port;
	int		 fd = -1, one = 1, rc;

	if (util_split_hostport(cfg->server.listen, host, sizeof(host),
	    &port) == -1) {
		log_error("server.listen: bad address %s", cfg->server.listen);
		return -1;
	}
	snprintf(port_s, sizeof(port_s), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port_s, &hints, &ai);
	if (rc != 0) {
		log_error("server.listen %s: %s", cfg->server.listen,
		    gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, 1024) == -1) {
		log_error("cannot listen on %s: %s", cfg->server.listen,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static unsigned
thread_count(const struct cfg *cfg)
{
	long	 n = (long)cfg->server.threads;

	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	return (unsigned)n;
}

static void
free_front(struct http_front *f)
{
	unsigned	 i;

	for (i = 0; i < f->n_loops; i++) {
		struct loop *l = &f->loops[i];

		if (l->mhd != NULL)
			MHD_stop_daemon(l->mhd);
		upstream_client_free(l->up);
		evloop_free(l->ev);
	}
	free(f->loops);
	if (f->listen_fd != -1)
		close(f->listen_fd);
	free_tls(f);
	free(f);
}

struct http_front *
http_front_start(const struct cfg *cfg)
{
	struct http_front	*f;
	unsigned		 i, margin;

	if (cfg->server.tls_cert[0] != '\0' &&
	    MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		log_error("server.tls_cert is set, but libmicrohttpd was built "
		    "without TLS");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->cfg = cfg;
	f->listen_fd = -1;
	atomic_store(&f->auth_cfg, cfg);
	f->started = util_now();
	margin = cfg->server.max_connections / 16;
	f->hard_limit = cfg->server.max_connections + (margin < 16 ? 16 :
	    margin);
	if (cfg->server.tls_cert[0] != '\0') {
		f->tls_cert = read_pem(cfg->server.tls_cert);
		f->tls_key = read_pem(cfg->server.tls_key);
		if (f->tls_cert == NULL || f->tls_key == NULL)
			goto fail;
	}
	f->listen_fd = open_listener(cfg);
	if (f->listen_fd == -1)
		goto fail;
	f->n_loops = thread_count(cfg);
	f->loops = calloc(f->n_loops, sizeof(*f->loops));
	if (f->loops == NULL)
		goto fail;
	for (i = 0; i < f->n_loops; i++)
		if (loop_init(f, &f->loops[i], i) == -1) {
			log_error("cannot set up the front's event loop %u "
			    "(a bad certificate or key?)", i);
			f->n_loops = i + 1;
			goto fail;
		}
	for (i = 0; i < f->n_loops; i++) {
		if (pthread_create(&f->loops[i].thread, NULL, loop_main,
		    &f->loops[i]) != 0) {
			log_error("cannot start the front's threads");
			http_front_stop(f);
			return NULL;
		}
		f->loops[i].running = 1;
	}
	return f;
fail:
	free_front(f);
	return NULL;
}

static void
loop_quiesce(void *arg)
{
	struct loop	*l = arg;
	struct http_front *f = l->f;

	evloop_watch(l->ev, &l->listen_w, 0);
	/* The last loop off the socket closes it: no loop can then act on
	 * a descriptor number reused by someone else. */
	if ((unsigned)atomic_fetch_add(&f->unwatched, 1) + 1 == f->n_loops) {
		close(f->listen_fd);
		f->listen_fd = -1;
	}
}

void
http_front_quiesce(struct http_front *f)
{
	unsigned	 i;

	if (f == NULL || atomic_exchange(&f->stopping, 1))
		return;
	for (i = 0; i < f->n_loops; i++)
		evloop_post(f->loops[i].ev, loop_quiesce, &f->loops[i]);
}

unsigned
http_front_active(struct http_front *f)
{
	return f != NULL ? atomic_load(&f->active) : 0;
}

void
http_front_set_auth_cfg(struct http_front *f, const struct cfg *cfg)
{
	atomic_store(&f->auth_cfg, cfg);
}

/* On the loop's thread: resume what waits (libmicrohttpd may not be
 * stopped with suspended connections) and leave the loop. */
static void
loop_stop(void *arg)
{
	struct loop		*l = arg;
	struct conn		*cn;

	l->stopping = 1;
	for (cn = l->conns; cn != NULL; cn = cn->next)
		if (cn->req != NULL && cn->req->suspended) {
			cn->req->waiting = W_NONE;
			cn->req->suspended = 0;
			MHD_resume_connection(cn->req->c);
			shutdown(cn->fd, SHUT_RDWR);
		}
	MHD_run(l->mhd);
	evloop_stop(l->ev);
}

void
http_front_stop(struct http_front *f)
{
	unsigned	 i;

	if (f == NULL)
		return;
	http_front_quiesce(f);
	/* A record in flight points at its request: let it land. */
	for (i = 0; i < 1000 && atomic_load(&f->recording) > 0; i++)
		usleep(10000);
	for (i = 0; i < f->n_loops; i++)
		if (f->loops[i].running)
			evloop_post(f->loops[i].ev, loop_stop, &f->loops[i]);
	for (i = 0; i < f->n_loops; i++)
		if (f->loops[i].running)
			pthread_join(f->loops[i].thread, NULL);
	free_front(f);
}
