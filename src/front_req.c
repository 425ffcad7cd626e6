/* SPDX-License-Identifier: Apache-2.0 */
/*
 * front_req: a request of the client-facing front (front.h) from its
 * head to its last call: the framing check, parsing, authentication and
 * the client's rights, the copy source, then the body to the upstream
 * transfer as it comes (streamed, spooled when chunked, or aws-chunked
 * decoded and checked), and the request's allocation and its log line.
 *
 * Body integrity: when the client signed a hex x-amz-content-sha256, the
 * body is hashed as it streams through and its last byte is held back
 * until the hash matches; on a mismatch the upstream transfer is aborted
 * short of its Content-Length, so no object is ever committed from a body
 * the client did not sign, whatever the upstream checks.  aws-chunked
 * bodies hold back their final chunk (or last byte) the same way until
 * every chunk signature and the trailer checksum passed.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "front.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

/* Data bytes per aws-chunked chunk sent upstream (fixed, so the framed
 * length, and with it Content-Length, is known before the first byte). */
#define UP_CHUNK	(64 * 1024)

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
		skip = front_hop_by_hop(r->hdrs[i].name);
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
	r->x = upstream_start(r->loop->up, &uq, &front_xfer_events, r);
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
		return front_frame_refused(r, fr);
	r->close = r->frame.close_after;
	if (r->conn != NULL && r->conn->over_limit) {
		front_note_refused(f);
		return front_error_close(r, S3_ERR_SERVICE_UNAVAILABLE,
		    "Too many connections (server.max_connections); retry.",
		    1);
	}
	if (MHD_get_connection_values(r->c, MHD_HEADER_KIND, collect_header,
	    r) < 0 || r->target == NULL)
		return front_error(r, S3_ERR_INTERNAL_ERROR, NULL);
	if (r->bad_header)
		return front_error_close(r, S3_ERR_INVALID_ARGUMENT,
		    "Header names must be tokens and values must not contain "
		    "control characters.", 1);
	if (r->hdr_bytes + strlen(r->target) > cfg->server.max_header_size)
		return front_error_close(r, S3_ERR_REQUEST_HEADER_TOO_LARGE,
		    NULL, 1);
	e = s3_req_parse(&r->s3, method, r->target, header(r, "host"),
	    cfg->server.virtual_host_base,
	    header(r, "x-amz-copy-source") != NULL ? S3_HDR_COPY_SOURCE : 0);
	if (e != S3_OK)
		return front_error(r, e, r->s3.message);

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
			return front_frame_refused(r, fr);
		memset(&r->auth, 0, sizeof(r->auth));
	} else {
		e = auth_check(acfg, &ai, util_now(), &r->auth);
		if (e == S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU)
			return front_owned_bucket(r);
		if (e != S3_OK)
			return front_error(r, e, r->auth.message);
	}

	if (r->s3.bucket == NULL) {
		if (r->s3.op != S3_OP_LIST_BUCKETS)
			return front_error(r, S3_ERR_METHOD_NOT_ALLOWED, NULL);
	} else {
		r->bucket = cfg_bucket_find(cfg, r->s3.bucket);
		if (r->bucket == NULL) {
			/* Not NoSuchBucket: the bucket may well exist; this
			 * proxy just does not serve it (issue 11). */
			buf_printf(&r->msg, "The bucket %s is not served by "
			    "this proxy: its configuration needs a [bucket %s] "
			    "section (or [bucket *]).", r->s3.bucket,
			    r->s3.bucket);
			return front_error(r, S3_ERR_ACCESS_DENIED,
			    buf_str(&r->msg));
		}
		r->upstream_bucket = r->bucket->upstream_bucket != NULL ?
		    r->bucket->upstream_bucket : r->s3.bucket;
	}
	if (header(r, "x-amz-copy-source") != NULL) {
		e = copy_source(r);
		if (e != S3_OK)
			return front_error(r, e, e == S3_ERR_ACCESS_DENIED ?
			    "The copy source is not readable with this key." :
			    "Invalid copy source.");
	}
	e = body_framing(r, &msg);
	if (e != S3_OK)
		return front_error(r, e, msg);
	if (r->auth.payload == AUTH_PAYLOAD_HEX && r->body != BM_STREAM) {
		r->sha = EVP_MD_CTX_new();
		if (r->sha == NULL ||
		    EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL) != 1)
			return front_error(r, S3_ERR_INTERNAL_ERROR, NULL);
	}
	ex = header(r, "expect");
	r->expect = ex != NULL && strcasecmp(ex, "100-continue") == 0;
	if (build_forward(r) == -1)
		return front_error(r, S3_ERR_INTERNAL_ERROR, NULL);
	if (r->body == BM_SPOOL) {
		/* The upstream wants a Content-Length: spool first. */
		if (open_spool(r) == -1)
			return front_error(r, S3_ERR_INTERNAL_ERROR,
			    "cannot create a spool file in state_dir");
		r->phase = PH_BODY;
		return MHD_YES;
	}
	/* No valid credentials (an expired set being refreshed) is an
	 * outage SDKs should retry, not an internal error. */
	if (start_upstream(r) == -1)
		return front_error(r, S3_ERR_SERVICE_UNAVAILABLE,
		    "cannot start the upstream request (credentials?)");
	if (r->body != BM_NONE && r->body_len > 0 && r->expect) {
		/* Expect: 100-continue end to end: if the upstream refuses
		 * before the body, so do we, and the body is never read. */
		r->phase = PH_CONTINUE;
		front_wait(r, W_CONTINUE);
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
		return front_answer(r);	/* refused before the body */
	r->phase = PH_BODY;
	return MHD_YES;				/* 100 Continue goes out */
}

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
			front_wait(r, W_SEND);
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
		return front_error(r, e, msg);
	}
	if (r->ace != NULL)
		rc = aws_chunked_encode_finish(r->ace,
		    aws_chunked_trailer_name(r->acd),
		    aws_chunked_trailer_value(r->acd), push_cb, r);
	else
		rc = r->holding ? push(r, &r->held, 1) : 0;
	if (rc == -1 && !r->up_early)
		return front_error(r, S3_ERR_SERVICE_UNAVAILABLE,
		    "The upstream failed during the upload.");
	upstream_write_end(r->x);
	r->body = BM_NONE;
	return front_answer(r);
}

/* The whole request is in (or resumed after it was): go on with it. */
static enum MHD_Result
on_final(struct front_req *r)
{
	int	 rc;

	if (r->pending != S3_OK)
		return front_error(r, r->pending, r->pending_msg);
	switch (r->body) {
	case BM_DRAIN:
		if (r->x == NULL)
			return front_error(r, S3_ERR_INTERNAL_ERROR, NULL);
		r->body = BM_NONE;
		break;
	case BM_STREAM:
		return stream_complete(r);
	case BM_SPOOL:
		if (!hash_matches(r))
			return front_error(r, S3_ERR_CONTENT_SHA256_MISMATCH,
			    NULL);
		EVP_MD_CTX_free(r->sha);
		r->sha = NULL;
		if (r->x == NULL) {
			r->body_len = r->spooled;
			if (start_upstream(r) == -1)
				return front_error(r,
				    S3_ERR_SERVICE_UNAVAILABLE, "cannot start "
				    "the upstream request (credentials?)");
		}
		rc = pump_spool(r);
		if (rc == 0)
			return MHD_YES;
		if (rc == -1)
			return front_upstream_failed(r);
		r->body = BM_NONE;
		break;
	case BM_PLAIN:
		if (!hash_matches(r))
			return front_error(r, S3_ERR_CONTENT_SHA256_MISMATCH,
			    NULL);
		if (r->received != r->body_len)
			return front_error(r, S3_ERR_INCOMPLETE_BODY, NULL);
		if (r->holding && push(r, &r->held, 1) == -1 && !r->up_early)
			return front_error(r, S3_ERR_SERVICE_UNAVAILABLE,
			    "The upstream failed during the upload.");
		r->holding = 0;
		upstream_write_end(r->x);
		r->body = BM_NONE;
		break;
	case BM_NONE:
		break;
	}
	return front_answer(r);
}

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

enum MHD_Result
front_access(void *cls, struct MHD_Connection *c, const char *url,
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
				front_window(r->conn);
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
				front_wait(r, W_SEND);
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
		return front_answer(r);
	case PH_ANSWERED:
		return MHD_YES;
	}
	return MHD_YES;
}

void *
front_req_new(void *cls, const char *uri, struct MHD_Connection *c)
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
	buf_init(&r->msg);
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

void
front_req_end(void *cls, struct MHD_Connection *c, void **req_cls,
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
	    "aborted"),
	    /* Which check refused it, when we did (issue 11). */
	    LOG_STR("detail", r->detail) }, r->detail != NULL ? 15 : 14);
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
	buf_fini(&r->msg);
	buf_fini(&r->req_body);
	free(r->hdrs);
	free(r->fwd);
	free(r->target);
	atomic_fetch_sub(&r->loop->f->active, 1);
	free(r);
}
