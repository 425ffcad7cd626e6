/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_front: see http_front.h.
 *
 * Body integrity: when the client signed a hex x-amz-content-sha256, the
 * body is hashed as it streams through and its last byte is held back
 * until the hash matches; on a mismatch the upstream transfer is aborted
 * short of its Content-Length, so no object is ever committed from a body
 * the client did not sign, whatever the upstream checks.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth.h"
#include "aws_chunked.h"
#include "buf.h"
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
#define EXPECT_WAIT_MS	3000
/* Data bytes per aws-chunked chunk sent upstream (fixed, so the framed
 * length, and with it Content-Length, is known before the first byte). */
#define UP_CHUNK	(64 * 1024)

/*
 * A connection, as the watchdog sees it.  libmicrohttpd's timeout is an
 * idle timeout that every received byte resets, so a client sending its
 * head one byte a second (slowloris) would hold a thread and a connection
 * slot for ever; the watchdog closes a connection whose request head has
 * taken longer than client_timeout.
 */
struct conn_watch {
	int			 fd;
	int64_t			 since;		/* head phase began */
	int			 in_request;	/* head done, being served */
	int			 cut;
	struct http_frame_tls_guard tls;	/* GnuTLS reads through it */
	struct conn_watch	*prev, *next;
};

struct http_front {
	struct MHD_Daemon	*mhd;
	pthread_mutex_t		 watch_lock;
	struct conn_watch	*watch;		/* every open connection */
	pthread_t		 watchdog;
	int			 watchdog_on;
	atomic_int		 watchdog_stop;
	atomic_uint_fast64_t	 cut_slow;	/* connections cut */
	const struct cfg	*cfg;
	_Atomic(const struct cfg *) auth_cfg;	/* clients; SIGHUP swaps */
	atomic_uint		 active;	/* requests in progress */
	atomic_int		 stopping;
	int64_t			 started;	/* wall clock, for ListBuckets */
	char			*tls_cert;	/* PEM, in memory for MHD */
	char			*tls_key;	/* PEM; wiped when freed */
};

enum fr_state {
	FR_NEW = 0,
	FR_BODY,		/* streaming the body upstream */
	FR_SPOOL,		/* chunked body into the spool file */
	FR_STREAM,		/* aws-chunked: decoded, checked, re-sent */
	FR_DRAIN,		/* body not wanted: read and drop it */
	FR_ANSWERED		/* a response is queued */
};

struct front_req {
	struct http_front	*front;
	char			 id[17];
	char			*target;	/* raw request target */
	int64_t			 t0;
	enum fr_state		 state;

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
	int			 has_body;
	int			 chunked;
	uint64_t		 body_len;
	uint64_t		 received;
	EVP_MD_CTX		*sha;
	char			 held;
	int			 holding;
	int			 spool_fd;
	uint64_t		 spooled;

	/* aws-chunked (FR_STREAM) */
	struct ac_decoder	*acd;
	struct ac_encoder	*ace;		/* trailer modes: re-framing */
	const char		*up_payload;	/* x-amz-content-sha256 upstream */
	char			*ce_fwd;	/* Content-Encoding less aws-chunked */
	char			*copy_src;	/* x-amz-copy-source, upstream name */
	int			 up_early;	/* the upstream answered already */
	int			 up_failed;

	enum s3_err		 pending;	/* answer once drained */
	const char		*pending_msg;

	unsigned		 status;
	uint64_t		 bytes_out;
	int			 upstream_answered;
	size_t			 keys_recorded;
	int			 skipped;	/* same ETag: not invalidated */
	/* A copy of the request body, when inval_queue_write() wants it
	 * (DeleteObjects: the keys to fall back to). */
	struct buf		 req_body;
	int			 req_body_over;	/* past IQ_REQ_BODY_MAX */
	struct iq_read		*learner;	/* a listing passing through */
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
	if (atomic_load(&r->front->stopping) || r->close)
		MHD_add_response_header(resp, "Connection", "close");
}

static enum MHD_Result
queue_xml(struct front_req *r, struct MHD_Connection *c, unsigned status,
    struct buf *body)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	resp = MHD_create_response_from_buffer(body->len, body->data,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/xml");
	MHD_add_response_header(resp, "x-amz-request-id", r->id);
	closing(r, resp);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	r->bytes_out = body->len;
	r->state = FR_ANSWERED;
	return ret;
}

static enum MHD_Result
answer_error(struct front_req *r, struct MHD_Connection *c, enum s3_err e,
    const char *msg)
{
	struct s3_err_extra	 ex[4];
	size_t			 n = 0;
	struct buf		 b;
	enum MHD_Result		 ret;

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
	if (e == S3_ERR_INTERNAL_ERROR || e == S3_ERR_SERVICE_UNAVAILABLE)
		log_event(LOG_WARN, "error", (struct log_field[]){
		    LOG_STR("id", r->id), LOG_STR("code", s3_err_code(e)),
		    LOG_STR("detail", msg) }, 3);
	ret = queue_xml(r, c, s3_err_status(e), &b);
	buf_fini(&b);
	return ret;
}

static ssize_t
body_reader(void *cls, uint64_t pos, char *dst, size_t max)
{
	struct front_req	*r = cls;
	ssize_t			 n;

	n = upstream_read(r->x, dst, max);
	if (n > 0) {
		r->bytes_out += (uint64_t)n;
		inval_queue_read_feed(r->learner, dst, (size_t)n);
		return n;
	}
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	log_event(LOG_WARN, "upstream_abort", (struct log_field[]){
	    LOG_STR("id", r->id), LOG_STR("detail", upstream_error(r->x)) }, 2);
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void
add_upstream_headers(struct front_req *r, struct MHD_Response *resp)
{
	const struct upstream_header *h;
	size_t			 i, n;
	int			 has_id = 0;

	h = upstream_headers(r->x, &n);
	for (i = 0; i < n; i++) {
		if (is_hop_by_hop(h[i].name) ||
		    strcasecmp(h[i].name, "content-length") == 0)
			continue;
		if (strcasecmp(h[i].name, "x-amz-request-id") == 0)
			has_id = 1;
		MHD_add_response_header(resp, h[i].name, h[i].value);
	}
	if (!has_id)
		MHD_add_response_header(resp, "x-amz-request-id", r->id);
}

/* The upstream's response headers in the form inval_queue takes (the
 * strings stay the upstream's); the caller frees the array.  NULL when
 * out of memory. */
static struct sigv4_header *
upstream_head(struct front_req *r, size_t *n)
{
	const struct upstream_header *uh;
	struct sigv4_header	*rh;
	size_t			 i;

	uh = upstream_headers(r->x, n);
	rh = calloc(*n + 1, sizeof(*rh));
	for (i = 0; rh != NULL && i < *n; i++) {
		rh[i].name = uh[i].name;
		rh[i].value = uh[i].value;
	}
	return rh;
}

/*
 * A 2xx to a write (DESIGN §3): the write path decides what it changed and
 * records it, and only then is the client answered.  CopyObject,
 * CompleteMultipartUpload and DeleteObjects bodies are small and read whole
 * first: the first two can be 200 with an <Error>, the last lists what was
 * really deleted.
 */
static enum MHD_Result
answer_write(struct front_req *r, struct MHD_Connection *c, int status)
{
	struct MHD_Response	*resp;
	struct buf		 body;
	struct iq_write		 w;
	struct iq_result	 res;
	struct sigv4_header	*rh = NULL;
	char			 blk[BLOCK_SIZE];
	size_t			 nh;
	ssize_t			 n;
	int			 failed = 0;
	enum MHD_Result		 ret;

	buf_init(&body);
	while (inval_queue_wants_body(r->s3.op) && !failed) {
		n = upstream_read(r->x, blk, sizeof(blk));
		if (n == 0)
			break;
		if (n < 0 || body.len + (size_t)n > IQ_BODY_MAX ||
		    buf_append(&body, blk, (size_t)n) == -1)
			failed = 1;
	}
	rh = upstream_head(r, &nh);
	if (failed || rh == NULL) {
		buf_fini(&body);
		free(rh);
		return answer_error(r, c, S3_ERR_SERVICE_UNAVAILABLE,
		    "The upstream's answer to the write could not be read.");
	}
	memset(&w, 0, sizeof(w));
	w.bucket = r->bucket;
	w.s3 = &r->s3;
	w.req_headers = r->hdrs;
	w.n_req_headers = r->n_hdrs;
	w.status = status;
	w.resp_headers = rh;
	w.n_resp_headers = nh;
	w.body = buf_str(&body);
	w.body_len = body.len;
	if (inval_queue_wants_request_body(r->s3.op) && !r->req_body_over) {
		w.req_body = buf_str(&r->req_body);
		w.req_body_len = r->req_body.len;
	}
	failed = inval_queue_write(&w, &res) == -1;
	free(rh);
	r->skipped = res.outcome == IQ_UNCHANGED;
	r->keys_recorded = res.keys;
	if (failed) {
		buf_fini(&body);
		return answer_error(r, c, S3_ERR_SERVICE_UNAVAILABLE,
		    res.message);
	}
	resp = MHD_create_response_from_buffer(body.len, body.data,
	    MHD_RESPMEM_MUST_COPY);
	buf_fini(&body);
	if (resp == NULL)
		return MHD_NO;
	add_upstream_headers(r, resp);
	closing(r, resp);
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	r->bytes_out = 0;
	r->status = (unsigned)status;
	r->state = FR_ANSWERED;
	return ret;
}

/* Relay the upstream's response: status, headers and a streamed body. */
static enum MHD_Result
answer_upstream(struct front_req *r, struct MHD_Connection *c)
{
	struct MHD_Response	*resp;
	struct iq_read_head	 rd;
	struct sigv4_header	*rh;
	enum MHD_Result		 ret;
	int64_t			 cl;
	int			 status, head;

	status = upstream_wait_head(r->x);
	if (status < 0)
		return answer_error(r, c, S3_ERR_SERVICE_UNAVAILABLE,
		    "The upstream is unreachable or did not answer in time.");
	r->upstream_answered = 1;
	if (inval_queue_wants(r->bucket, r->s3.op, status))
		return answer_write(r, c, status);
	head = strcmp(r->method, "HEAD") == 0;
	cl = upstream_content_length(r->x);
	/* Reads teach the ETag index (a listing, a HEAD/GET's headers). */
	memset(&rd, 0, sizeof(rd));
	rd.bucket = r->bucket;
	rd.s3 = &r->s3;
	rd.method = r->method;
	rd.status = status;
	rd.req_headers = r->hdrs;
	rd.n_req_headers = r->n_hdrs;
	rd.started_ms = util_now_ms() - (util_mono_ms() - r->t0);
	rh = upstream_head(r, &rd.n_resp_headers);
	rd.resp_headers = rh;
	if (rh != NULL)
		r->learner = inval_queue_read_begin(&rd);
	free(rh);
	if (status == 204 || status == 304 || status < 200 ||
	    (head && cl < 0))
		resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	else
		/* For HEAD libmicrohttpd sends the size as Content-Length
		 * and never calls the reader. */
		resp = MHD_create_response_from_callback(cl >= 0 ?
		    (uint64_t)cl : MHD_SIZE_UNKNOWN, cl > 0 && cl < BLOCK_SIZE ?
		    (size_t)cl : BLOCK_SIZE, body_reader, r, NULL);
	if (resp == NULL)
		return MHD_NO;
	add_upstream_headers(r, resp);
	closing(r, resp);
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	r->status = (unsigned)status;
	r->state = FR_ANSWERED;
	return ret;
}

/* ListBuckets is answered here: the buckets this client may read, never
 * the upstream account's list. */
static enum MHD_Result
answer_list_buckets(struct front_req *r, struct MHD_Connection *c)
{
	const struct cfg	*cfg = r->front->cfg;
	struct buf		 b;
	char			 date[32];
	struct tm		 tm;
	time_t			 t = (time_t)r->front->started;
	size_t			 i;
	enum MHD_Result		 ret;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	buf_init(&b);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\"><Owner><ID>s3inval</ID><DisplayName>s3inval"
	    "</DisplayName></Owner><Buckets>");
	for (i = 0; i < cfg->n_buckets; i++) {
		const char *name = cfg->buckets[i].name;

		if (strcmp(name, "*") == 0 || (r->auth.client != NULL &&
		    !cfg_client_may(r->auth.client, name, 0)))
			continue;
		buf_puts(&b, "<Bucket><Name>");
		s3_xml_escape(&b, name);
		buf_printf(&b, "</Name><CreationDate>%s</CreationDate>"
		    "</Bucket>", date);
	}
	buf_puts(&b, "</Buckets></ListAllMyBucketsResult>");
	ret = buf_ok(&b) ? queue_xml(r, c, 200, &b) : MHD_NO;
	buf_fini(&b);
	return ret;
}

#define TCHARS	"!#$%&'*+-.^_`|~0123456789" \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* --- request head --------------------------------------------------------- */

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *k,
    const char *v)
{
	struct front_req	*r = cls;
	struct sigv4_header	*nh;
	const char		*p;

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
		if (r->state == FR_STREAM && r->ace == NULL &&
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
	uq.has_body = r->has_body;
	uq.body_len = r->body_len;
	uq.expect_continue = r->has_body && r->body_len > 0 &&
	    header(r, "expect") != NULL &&
	    strcasecmp(header(r, "expect"), "100-continue") == 0;
	if (!buf_ok(&q))
		goto out;
	r->x = upstream_start(&uq);
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
	buf_printf(&p, "%s/spool.XXXXXX", r->front->cfg->server.state_dir);
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
 * with a Content-Length computed up front.
 */
static enum MHD_Result
start_streaming(struct front_req *r, struct MHD_Connection *c)
{
	struct ac_params	 p;
	enum ac_mode		 mode;
	enum s3_err		 err = S3_ERR_INTERNAL_ERROR;
	const char		*sha, *dl, *trailer, *msg = NULL, *ce;
	char			*end;
	uint64_t		 decoded;

	sha = header(r, "x-amz-content-sha256");
	if (sha == NULL || aws_chunked_mode(sha, &mode) == -1)
		return answer_error(r, c, S3_ERR_NOT_IMPLEMENTED,
		    "This x-amz-content-sha256 streaming mode is not "
		    "supported (SigV4a streaming among them).");
	if (mode != AC_UNSIGNED_TRAILER && r->auth.seed_signature[0] == '\0')
		return answer_error(r, c, S3_ERR_NOT_IMPLEMENTED,
		    "Signed aws-chunked payloads need header authentication "
		    "(auth.mode = sigv4).");
	dl = header(r, "x-amz-decoded-content-length");
	errno = 0;
	decoded = dl != NULL ? strtoull(dl, &end, 10) : 0;
	if (dl == NULL || *dl == '\0' || *dl == '-' || *end != '\0' ||
	    errno != 0)
		return answer_error(r, c, S3_ERR_MISSING_CONTENT_LENGTH,
		    "aws-chunked needs a valid x-amz-decoded-content-length.");
	trailer = header(r, "x-amz-trailer");
	memset(&p, 0, sizeof(p));
	p.mode = mode;
	p.trailer = trailer;
	p.decoded_length = decoded;
	memcpy(p.signing_key, r->auth.signing_key, sizeof(p.signing_key));
	p.amz_date = r->auth.amz_date;
	p.scope = r->auth.scope;
	p.seed_signature = r->auth.seed_signature;
	r->acd = aws_chunked_decoder_new(&p, &err, &msg);
	OPENSSL_cleanse(p.signing_key, sizeof(p.signing_key));
	if (r->acd == NULL)
		return answer_error(r, c, err, msg);
	r->state = FR_STREAM;
	r->has_body = 1;
	if (mode == AC_SIGNED) {
		r->up_payload = SIGV4_UNSIGNED_PAYLOAD;
		r->body_len = decoded;
		ce = header(r, "content-encoding");
		if (ce != NULL) {
			r->ce_fwd = strip_aws_chunked(ce);
			if (r->ce_fwd == NULL)
				return answer_error(r, c,
				    S3_ERR_INTERNAL_ERROR, NULL);
		}
	} else {
		r->up_payload = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
		/* What we send upstream is aws-chunked, said or not. */
		if (header(r, "content-encoding") == NULL) {
			r->ce_fwd = strdup("aws-chunked");
			if (r->ce_fwd == NULL)
				return answer_error(r, c,
				    S3_ERR_INTERNAL_ERROR, NULL);
		}
		r->ace = aws_chunked_encoder_new(UP_CHUNK);
		if (r->ace == NULL)
			return answer_error(r, c, S3_ERR_INTERNAL_ERROR, NULL);
		r->body_len = aws_chunked_encoded_length(decoded, UP_CHUNK,
		    trailer, aws_chunked_checksum_b64_len(
		    aws_chunked_checksum(trailer)));
	}
	if (build_forward(r) == -1 || start_upstream(r) == -1)
		return answer_error(r, c, S3_ERR_SERVICE_UNAVAILABLE,
		    "cannot start the upstream request (credentials?)");
	if (header(r, "expect") != NULL) {
		switch (upstream_wait_continue(r->x, EXPECT_WAIT_MS)) {
		case 1:
			return answer_upstream(r, c);
		case -1:
			return answer_error(r, c, S3_ERR_SERVICE_UNAVAILABLE,
			    "The upstream is unreachable.");
		default:
			break;
		}
	}
	return MHD_YES;
}

/*
 * x-amz-copy-source ("[/]bucket/key[?versionId=v]", URL-encoded): a copy
 * reads the source, so the source bucket must be one we serve and this
 * client must be allowed to read it; and it is named upstream by its
 * upstream name.  Without this a client could copy from any bucket the
 * proxy's own credentials can read.
 */
static enum s3_err
copy_source(struct front_req *r, const struct cfg *acfg)
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
	src = cfg_bucket_find(r->front->cfg, buf_str(&name));
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
	(void)acfg;
	buf_fini(&name);
	buf_fini(&out);
	return e;
}

/* A head refused by a framing rule (http_frame_table.h): one S3 error,
 * and the connection ends with it. */
static enum MHD_Result
answer_frame(struct front_req *r, struct MHD_Connection *c,
    enum http_frame_rule rule)
{
	log_event(LOG_INFO, "framing_refused", (struct log_field[]){
	    LOG_STR("id", r->id), LOG_STR("rule", http_frame_name(rule)),
	    LOG_STR("field", r->frame.field != NULL ? r->frame.field : "-") },
	    3);
	r->close = http_frame_closes(rule);
	return answer_error(r, c, http_frame_error(rule),
	    http_frame_message(rule));
}

static enum MHD_Result
on_head(struct front_req *r, struct MHD_Connection *c, const char *method,
    const char *version)
{
	const struct cfg	*cfg = r->front->cfg;
	const struct cfg	*acfg = atomic_load(&r->front->auth_cfg);
	struct auth_input	 ai;
	const char		*cl, *te, *ce;
	enum s3_err		 e;
	enum http_frame_rule	 fr;
	char			*end;
	int			 ret, queued;

	r->method = method;
	/* Framing first (issue 14 item 1): nothing else reads a head that
	 * a proxy in front could have framed differently. */
	fr = http_frame_check_mhd(c, method, version, r->target, &r->frame,
	    &queued);
	if (queued) {
		r->state = FR_ANSWERED;	/* MHD answered: one answer only */
		return MHD_YES;
	}
	if (fr != HTTP_FRAME_OK)
		return answer_frame(r, c, fr);
	r->close = r->frame.close_after;
	if (MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, r) <
	    0 || r->target == NULL)
		return answer_error(r, c, S3_ERR_INTERNAL_ERROR, NULL);
	if (r->bad_header)
		return answer_error(r, c, S3_ERR_INVALID_ARGUMENT,
		    "Header names must be tokens and values must not contain "
		    "control characters.");
	if (r->hdr_bytes + strlen(r->target) > cfg->server.max_header_size)
		return answer_error(r, c, S3_ERR_REQUEST_HEADER_TOO_LARGE,
		    NULL);
	e = s3_req_parse(&r->s3, method, r->target, header(r, "host"),
	    cfg->server.virtual_host_base,
	    header(r, "x-amz-copy-source") != NULL ? S3_HDR_COPY_SOURCE : 0);
	if (e != S3_OK)
		return answer_error(r, c, e, r->s3.message);

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
			return answer_frame(r, c, fr);
		memset(&r->auth, 0, sizeof(r->auth));
	} else {
		e = auth_check(acfg, &ai, util_now(), &r->auth);
		if (e != S3_OK)
			return answer_error(r, c, e, r->auth.message);
	}

	if (r->s3.bucket == NULL) {
		if (r->s3.op == S3_OP_LIST_BUCKETS)
			return answer_list_buckets(r, c);
		return answer_error(r, c, S3_ERR_METHOD_NOT_ALLOWED, NULL);
	}
	r->bucket = cfg_bucket_find(cfg, r->s3.bucket);
	if (r->bucket == NULL)
		return answer_error(r, c, S3_ERR_NO_SUCH_BUCKET, NULL);
	r->upstream_bucket = r->bucket->upstream_bucket != NULL ?
	    r->bucket->upstream_bucket : r->s3.bucket;
	if (header(r, "x-amz-copy-source") != NULL) {
		e = copy_source(r, acfg);
		if (e != S3_OK)
			return answer_error(r, c, e, e == S3_ERR_ACCESS_DENIED ?
			    "The copy source is not readable with this key." :
			    "Invalid copy source.");
	}

	ce = header(r, "content-encoding");
	if (r->auth.payload == AUTH_PAYLOAD_STREAMING ||
	    (ce != NULL && util_token_in(ce, "aws-chunked")))
		return start_streaming(r, c);

	cl = header(r, "content-length");
	te = header(r, "transfer-encoding");
	if (te != NULL && strcasecmp(te, "identity") != 0) {
		if (strcasecmp(te, "chunked") != 0)
			return answer_error(r, c, S3_ERR_NOT_IMPLEMENTED,
			    "Transfer-Encoding other than chunked");
		r->chunked = 1;
		r->has_body = 1;
	} else if (cl != NULL) {
		errno = 0;
		r->body_len = strtoull(cl, &end, 10);
		if (*cl == '\0' || *end != '\0' || errno != 0 || *cl == '-')
			return answer_error(r, c, S3_ERR_INVALID_ARGUMENT,
			    "Invalid Content-Length");
		r->has_body = r->body_len > 0 || strcmp(method, "PUT") == 0 ||
		    strcmp(method, "POST") == 0;
	} else if (strcmp(method, "PUT") == 0 && r->s3.key != NULL) {
		return answer_error(r, c, S3_ERR_MISSING_CONTENT_LENGTH, NULL);
	} else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		r->has_body = 1;	/* an empty body, sent as such */
	}
	if (r->auth.payload == AUTH_PAYLOAD_HEX) {
		r->sha = EVP_MD_CTX_new();
		if (r->sha == NULL ||
		    EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL) != 1)
			return answer_error(r, c, S3_ERR_INTERNAL_ERROR, NULL);
	}
	if (build_forward(r) == -1)
		return answer_error(r, c, S3_ERR_INTERNAL_ERROR, NULL);

	if (r->chunked) {
		/* The upstream wants a Content-Length: spool first. */
		if (open_spool(r) == -1)
			return answer_error(r, c, S3_ERR_INTERNAL_ERROR,
			    "cannot create a spool file in state_dir");
		r->state = FR_SPOOL;
		return MHD_YES;
	}
	/* No valid credentials (an expired set being refreshed) is an
	 * outage SDKs should retry, not an internal error. */
	if (start_upstream(r) == -1)
		return answer_error(r, c, S3_ERR_SERVICE_UNAVAILABLE,
		    "cannot start the upstream request (credentials?)");
	r->state = FR_BODY;
	if (r->has_body && r->body_len > 0 && header(r, "expect") != NULL) {
		/* Expect: 100-continue end to end: if the upstream refuses
		 * before the body, so do we, and the body is never read. */
		ret = upstream_wait_continue(r->x, EXPECT_WAIT_MS);
		if (ret == 1)
			return answer_upstream(r, c);
		if (ret == -1)
			return answer_error(r, c, S3_ERR_SERVICE_UNAVAILABLE,
			    "The upstream is unreachable.");
	}
	return MHD_YES;
}

/* --- request body ------------------------------------------------------- */

static void
drain(struct front_req *r, enum s3_err e, const char *msg)
{
	if (r->pending == S3_OK && e != S3_OK) {
		r->pending = e;
		r->pending_msg = msg;
	}
	r->state = FR_DRAIN;
}

/* Framed (or decoded) bytes to the upstream. */
static int
stream_push(void *arg, const char *data, size_t len)
{
	struct front_req	*r = arg;
	int			 rc;

	if (len == 0)
		return 0;
	rc = upstream_push(r->x, data, len);
	if (rc == 1)
		r->up_early = 1;
	else if (rc == -1)
		r->up_failed = 1;
	return rc == 0 ? 0 : -1;
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
		return aws_chunked_encode(r->ace, data, len, stream_push, r);
	if (r->holding && stream_push(r, &r->held, 1) == -1)
		return -1;
	if (stream_push(r, data, len - 1) == -1)
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
	int	 rc;

	r->received += len;
	if (r->state == FR_DRAIN || r->state == FR_ANSWERED)
		return;
	if (r->state != FR_STREAM)
		keep_request_body(r, data, len);
	if (r->state == FR_STREAM) {
		if (aws_chunked_decode(r->acd, data, len, stream_emit, r) == -1)
			stream_failed(r);
		return;
	}
	if (r->sha != NULL)
		EVP_DigestUpdate(r->sha, data, len);
	if (r->state == FR_SPOOL) {
		if (r->spooled + len > r->front->cfg->server.spool_max) {
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
	}
	if (r->received > r->body_len) {
		drain(r, S3_ERR_INVALID_REQUEST, "body longer than "
		    "Content-Length");
		return;
	}
	if (r->sha != NULL && r->received == r->body_len && len > 0) {
		r->held = data[len - 1];
		r->holding = 1;
		len--;
	}
	rc = upstream_push(r->x, data, len);
	if (rc == 1)
		drain(r, S3_OK, NULL);	/* the upstream answered already */
	else if (rc == -1)
		drain(r, S3_ERR_SERVICE_UNAVAILABLE,
		    "The upstream failed during the upload.");
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

static enum MHD_Result
send_spool(struct front_req *r, struct MHD_Connection *c)
{
	char		*blk;
	ssize_t		 n;
	off_t		 off = 0;
	int		 rc = 0;

	r->body_len = r->spooled;
	if (start_upstream(r) == -1)
		return answer_error(r, c, S3_ERR_INTERNAL_ERROR, NULL);
	blk = malloc(BLOCK_SIZE);
	if (blk == NULL)
		return answer_error(r, c, S3_ERR_INTERNAL_ERROR, NULL);
	while (rc == 0 && (uint64_t)off < r->spooled) {
		n = pread(r->spool_fd, blk, BLOCK_SIZE, off);
		if (n <= 0) {
			free(blk);
			return answer_error(r, c, S3_ERR_INTERNAL_ERROR,
			    "cannot read the spool file");
		}
		off += n;
		rc = upstream_push(r->x, blk, (size_t)n);
	}
	free(blk);
	if (rc == -1)
		return answer_error(r, c, S3_ERR_SERVICE_UNAVAILABLE,
		    "The upstream failed during the upload.");
	upstream_body_done(r->x);
	return answer_upstream(r, c);
}

/* The whole aws-chunked body is in: only now, if every check passed, does
 * the upstream get its last bytes (the final chunk and the trailer, or the
 * held-back byte), without which it stores nothing. */
static enum MHD_Result
stream_complete(struct front_req *r, struct MHD_Connection *c)
{
	enum s3_err	 e;
	const char	*msg = NULL;
	int		 rc;

	if (aws_chunked_decode_finish(r->acd) == -1) {
		upstream_free(r->x);
		r->x = NULL;
		if (r->up_early || r->up_failed) {
			stream_failed(r);
			return answer_error(r, c, r->pending, r->pending_msg);
		}
		e = aws_chunked_decoder_error(r->acd, &msg);
		return answer_error(r, c, e, msg);
	}
	if (r->ace != NULL)
		rc = aws_chunked_encode_finish(r->ace,
		    aws_chunked_trailer_name(r->acd),
		    aws_chunked_trailer_value(r->acd), stream_push, r);
	else
		rc = r->holding ? stream_push(r, &r->held, 1) : 0;
	if (rc == -1 && !r->up_early)
		return answer_error(r, c, S3_ERR_SERVICE_UNAVAILABLE,
		    "The upstream failed during the upload.");
	upstream_body_done(r->x);
	return answer_upstream(r, c);
}

static enum MHD_Result
on_complete(struct front_req *r, struct MHD_Connection *c)
{
	int	 rc;

	if (r->pending != S3_OK) {
		upstream_free(r->x);
		r->x = NULL;
		return answer_error(r, c, r->pending, r->pending_msg);
	}
	if (r->state == FR_DRAIN && r->x != NULL)
		return answer_upstream(r, c);
	if (r->state == FR_STREAM)
		return stream_complete(r, c);
	if (!hash_matches(r)) {
		upstream_free(r->x);	/* aborts: the object is never whole */
		r->x = NULL;
		return answer_error(r, c, S3_ERR_CONTENT_SHA256_MISMATCH,
		    NULL);
	}
	if (r->state == FR_SPOOL)
		return send_spool(r, c);
	if (r->has_body) {
		if (r->received != r->body_len)
			return answer_error(r, c, S3_ERR_INCOMPLETE_BODY, NULL);
		if (r->holding) {
			rc = upstream_push(r->x, &r->held, 1);
			if (rc == -1)
				return answer_error(r, c,
				    S3_ERR_SERVICE_UNAVAILABLE,
				    "The upstream failed during the upload.");
		}
		upstream_body_done(r->x);
	}
	return answer_upstream(r, c);
}

/* --- libmicrohttpd callbacks -------------------------------------------- */

static struct conn_watch *
watch_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

static void
watch_set(struct http_front *f, struct MHD_Connection *c, int in_request)
{
	struct conn_watch	*w = watch_of(c);

	if (w == NULL)
		return;
	pthread_mutex_lock(&f->watch_lock);
	w->in_request = in_request;
	if (!in_request)
		w->since = util_mono_ms();
	pthread_mutex_unlock(&f->watch_lock);
}

static void
notify_cb(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_front	*f = cls;
	struct conn_watch	*w;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		w = calloc(1, sizeof(*w));
		/* Bound what a TLS handshake may make GnuTLS hold, before
		 * its first byte is read (issue 14 item 2); a connection
		 * that cannot be guarded is closed. */
		if (f->tls_cert != NULL && ci != NULL && (w == NULL ||
		    http_frame_tls_guard(c, &w->tls) == -1)) {
			log_warn("tls: cannot guard the handshake; closing");
			shutdown(ci->connect_fd, SHUT_RDWR);
		}
		if (w == NULL || ci == NULL) {
			free(w);
			return;
		}
		w->fd = ci->connect_fd;
		w->since = util_mono_ms();
		pthread_mutex_lock(&f->watch_lock);
		w->next = f->watch;
		if (f->watch != NULL)
			f->watch->prev = w;
		f->watch = w;
		pthread_mutex_unlock(&f->watch_lock);
		*socket_context = w;
		return;
	}
	w = *socket_context;
	if (w == NULL)
		return;
	/* Unlinked before libmicrohttpd closes the socket, so the
	 * watchdog never touches a descriptor that was reused. */
	pthread_mutex_lock(&f->watch_lock);
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		f->watch = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&f->watch_lock);
	free(w);
	*socket_context = NULL;
}

static void *
watchdog_main(void *arg)
{
	struct http_front	*f = arg;
	struct conn_watch	*w;
	int64_t			 limit = f->cfg->server.client_timeout_ms, now;

	while (!atomic_load(&f->watchdog_stop)) {
		usleep(250000);
		now = util_mono_ms();
		pthread_mutex_lock(&f->watch_lock);
		for (w = f->watch; w != NULL; w = w->next) {
			if (w->in_request || w->cut || now - w->since <= limit)
				continue;
			/* The connection's own thread sees the error and
			 * closes it. */
			shutdown(w->fd, SHUT_RDWR);
			w->cut = 1;
			atomic_fetch_add(&f->cut_slow, 1);
		}
		pthread_mutex_unlock(&f->watch_lock);
	}
	return NULL;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct front_req	*r = *req_cls;

	if (r == NULL)
		return MHD_NO;
	if (r->state == FR_NEW) {
		watch_set(r->front, c, 1);
		return on_head(r, c, method, version);
	}
	if (*upload_data_size > 0) {
		on_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* The request is complete only at the call without upload_data:
	 * libmicrohttpd 0.9.75 also calls with no data while bytes wait
	 * behind a bodiless request that expected 100-continue, when no
	 * response can be queued yet (one answer per request, issue 14). */
	if (upload_data != NULL)
		return MHD_YES;
	if (r->state == FR_ANSWERED)
		return MHD_YES;
	return on_complete(r, c);
}

static void *
uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct front_req	*r;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->front = cls;
	atomic_fetch_add(&r->front->active, 1);
	r->t0 = util_mono_ms();
	r->spool_fd = -1;
	util_request_id(r->id);
	r->target = strdup(uri != NULL ? uri : "");
	return r;
}

static void
completed_cb(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct front_req	*r = *req_cls;
	const char		*akid;

	if (r == NULL)
		return;
	*req_cls = NULL;
	watch_set(r->front, c, 0);
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
	    LOG_NUM("keys_journaled", r->keys_recorded),
	    LOG_STR("unchanged", r->skipped ? "yes" : "no"),
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
	buf_fini(&r->req_body);
	if (r->spool_fd != -1)
		close(r->spool_fd);
	EVP_MD_CTX_free(r->sha);
	auth_result_fini(&r->auth);
	s3_req_fini(&r->s3);
	free(r->hdrs);
	free(r->fwd);
	free(r->target);
	atomic_fetch_sub(&r->front->active, 1);
	free(r);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct buf	 b;

	buf_init(&b);
	buf_vprintf(&b, fmt, ap);
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	log_msg(LOG_DEBUG, "http: %s", buf_str(&b));
	buf_fini(&b);
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

struct http_front *
http_front_start(const struct cfg *cfg)
{
	struct http_front	*f;
	struct addrinfo		 hints, *ai = NULL;
	struct MHD_OptionItem	 opts[20];
	char			 host[256], port_s[8];
	unsigned		 port;
	unsigned		 flags;
	size_t			 n;
	int			 rc;

	if (util_split_hostport(cfg->server.listen, host, sizeof(host),
	    &port) == -1) {
		log_error("server.listen: bad address %s", cfg->server.listen);
		return NULL;
	}
	snprintf(port_s, sizeof(port_s), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port_s, &hints, &ai);
	if (rc != 0) {
		log_error("server.listen %s: %s", cfg->server.listen,
		    gai_strerror(rc));
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		freeaddrinfo(ai);
		return NULL;
	}
	f->cfg = cfg;
	pthread_mutex_init(&f->watch_lock, NULL);
	atomic_store(&f->auth_cfg, cfg);
	f->started = util_now();
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	n = 0;
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
	    (intptr_t)mhd_log, f };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0,
	    ai->ai_addr };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_URI_LOG_CALLBACK,
	    (intptr_t)uri_cb, f };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
	    (intptr_t)completed_cb, f };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION,
	    (intptr_t)notify_cb, f };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
	    (intptr_t)(cfg->server.client_timeout_ms / 1000), NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
	    (intptr_t)cfg->server.max_connections, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (intptr_t)(cfg->server.max_header_size * 2 + 64 * 1024), NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_STACK_SIZE,
	    (intptr_t)(1024 * 1024), NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_BACKLOG_SIZE,
	    1024, NULL };
	/* Refuse what RFC 9112 says to refuse (obs-fold, space before the
	 * colon) rather than guess. */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    NULL };
	if (cfg->server.tls_cert[0] != '\0') {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			log_error("server.tls_cert is set, but libmicrohttpd "
			    "was built without TLS");
			goto fail;
		}
		f->tls_cert = read_pem(cfg->server.tls_cert);
		f->tls_key = read_pem(cfg->server.tls_key);
		if (f->tls_cert == NULL || f->tls_key == NULL)
			goto fail;
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
	f->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL,
	    access_cb, f, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (f->mhd == NULL)
		log_error("cannot listen on %s (in use, not permitted, or a "
		    "bad certificate or key)", cfg->server.listen);
	else if (pthread_create(&f->watchdog, NULL, watchdog_main, f) == 0)
		f->watchdog_on = 1;
fail:
	freeaddrinfo(ai);
	if (f->mhd == NULL) {
		free_tls(f);
		free(f);
		return NULL;
	}
	return f;
}

void
http_front_quiesce(struct http_front *f)
{
	MHD_socket	 s;

	if (f == NULL || f->mhd == NULL)
		return;
	atomic_store(&f->stopping, 1);
	s = MHD_quiesce_daemon(f->mhd);
	if (s != MHD_INVALID_SOCKET)
		close(s);
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

void
http_front_stop(struct http_front *f)
{
	if (f == NULL)
		return;
	if (f->watchdog_on) {
		atomic_store(&f->watchdog_stop, 1);
		pthread_join(f->watchdog, NULL);
	}
	if (f->mhd != NULL)
		MHD_stop_daemon(f->mhd);
	pthread_mutex_destroy(&f->watch_lock);
	free_tls(f);
	free(f);
}
