/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth: see auth.h.  Rules from the Amazon S3 API Reference,
 * "Authenticating Requests (AWS Signature Version 4)": header auth
 * requires x-amz-content-sha256; presigned URLs carry X-Amz-Algorithm,
 * X-Amz-Credential, X-Amz-Date, X-Amz-Expires (1..604800),
 * X-Amz-SignedHeaders and X-Amz-Signature and sign UNSIGNED-PAYLOAD; the
 * signed headers must include host.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "buf.h"
#include "uri.h"

#define PRESIGN_MAX_EXPIRES	604800	/* 7 days */

const char *
auth_header(const struct sigv4_header *h, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcasecmp(h[i].name, name) == 0)
			return h[i].value;
	return NULL;
}

void
auth_result_fini(struct auth_result *r)
{
	if (r == NULL)
		return;
	OPENSSL_cleanse(r->signing_key, sizeof(r->signing_key));
	free(r->string_to_sign);
	free(r->canonical_request);
	r->string_to_sign = NULL;
	r->canonical_request = NULL;
}

/* One query parameter's decoded value, or NULL. */
static char *
query_param(const char *query, const char *name)
{
	const char	*p, *amp, *eq;
	size_t		 n = strlen(name);
	struct buf	 b;

	for (p = query; *p != '\0'; p = *amp != '\0' ? amp + 1 : amp) {
		amp = p + strcspn(p, "&");
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL || (size_t)(eq - p) != n ||
		    strncmp(p, name, n) != 0)
			continue;
		buf_init(&b);
		if (uri_decode(&b, eq + 1, (size_t)(amp - eq - 1)) == -1) {
			buf_fini(&b);
			return NULL;
		}
		return buf_take(&b);
	}
	return NULL;
}

static int
signed_has_host(const char *sh)
{
	const char	*p;

	for (p = sh; *p != '\0'; p += strcspn(p, ";"), p += *p == ';') {
		if (strncmp(p, "host", 4) == 0 && (p[4] == ';' || p[4] == '\0'))
			return 1;
	}
	return 0;
}

/* 1 when name (any case) is in the ';'-separated lower-case list. */
static int
in_signed(const char *list, const char *name)
{
	const char	*p;
	size_t		 n = strlen(name);

	for (p = list; *p != '\0'; p += strcspn(p, ";"), p += *p == ';')
		if (strncasecmp(p, name, n) == 0 &&
		    (p[n] == ';' || p[n] == '\0'))
			return 1;
	return 0;
}

/*
 * S3 refuses x-amz-* headers the signature does not cover (AccessDenied,
 * "There were headers present in the request which were not signed"): a
 * header added on the way (x-amz-acl, x-amz-copy-source) would otherwise
 * ride on someone else's signature, and the proxy would sign it upstream.
 */
static const char *
unsigned_amz_header(const struct auth_input *in, const char *signed_list)
{
	size_t	 i;

	for (i = 0; i < in->n_headers; i++)
		if (strncasecmp(in->headers[i].name, "x-amz-", 6) == 0 &&
		    !in_signed(signed_list, in->headers[i].name))
			return in->headers[i].name;
	return NULL;
}

static enum s3_err
payload_mode(const struct auth_input *in, int presigned,
    struct auth_result *r)
{
	const char	*h;

	h = auth_header(in->headers, in->n_headers, "x-amz-content-sha256");
	if (h == NULL) {
		if (presigned || r->client == NULL) {
			r->payload = AUTH_PAYLOAD_UNSIGNED;
			return S3_OK;
		}
		r->message = "Missing required header for this request: "
		    "x-amz-content-sha256";
		return S3_ERR_INVALID_REQUEST;
	}
	if (strcmp(h, SIGV4_UNSIGNED_PAYLOAD) == 0) {
		r->payload = AUTH_PAYLOAD_UNSIGNED;
		return S3_OK;
	}
	if (sigv4_is_hex_hash(h)) {
		size_t	 i;

		r->payload = AUTH_PAYLOAD_HEX;
		for (i = 0; i < SIGV4_HEX_LEN; i++)
			r->payload_hash[i] = (char)(h[i] | 0x20);
		r->payload_hash[SIGV4_HEX_LEN] = '\0';
		return S3_OK;
	}
	if (strncmp(h, "STREAMING-", 10) == 0 &&
	    strlen(h) < sizeof(r->streaming)) {
		r->payload = AUTH_PAYLOAD_STREAMING;
		strcpy(r->streaming, h);
		return S3_OK;
	}
	r->message = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
	    "STREAMING-..., or a valid sha256 value.";
	return S3_ERR_INVALID_ARGUMENT;
}

static enum cfg_right
cfg_right_of(enum s3_right need)
{
	switch (need) {
	case S3_RIGHT_R:
		return CFG_RIGHT_R;
	case S3_RIGHT_W:
		return CFG_RIGHT_W;
	default:
		return CFG_RIGHT_ADMIN;
	}
}

/*
 * The client's grant against the right the operation needs (issue 14,
 * "Rights that match the work").  Operations the table does not know need
 * admin; refused ones never get here (s3_req_parse() answers them).
 */
static enum s3_err
rights(const struct cfg *cfg, const struct auth_input *in,
    struct auth_result *r)
{
	enum s3_op	 op = in->s3 != NULL ? in->s3->op : S3_OP_UNKNOWN;
	enum s3_right	 need = s3_op_right(op);
	char		 what[128];

	if (r->client == NULL || in->bucket == NULL || need == S3_RIGHT_NONE)
		return S3_OK;
	if (need != S3_RIGHT_REFUSED &&
	    cfg_client_may(r->client, in->bucket, cfg_right_of(need)))
		return S3_OK;
	if (op == S3_OP_CREATE_BUCKET &&
	    cfg_client_may(r->client, in->bucket, CFG_RIGHT_W) &&
	    cfg_bucket_find(cfg, in->bucket) != NULL) {
		r->message = "The bucket exists and this key may write it; "
		    "creating buckets needs the admin right";
		return S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU;
	}
	if (in->s3 != NULL)
		s3_req_describe(in->s3, what, sizeof(what));
	else
		snprintf(what, sizeof(what), "%s", s3_op_name(op));
	if (need == S3_RIGHT_REFUSED)
		snprintf(r->message_buf, sizeof(r->message_buf), "Access "
		    "Denied: %s is never allowed through s3inval", what);
	else if (*in->bucket != '\0' && cfg_bucket_find(cfg, in->bucket) ==
	    NULL)
		/* A grant alone would not do: say the whole of it. */
		snprintf(r->message_buf, sizeof(r->message_buf), "Access "
		    "Denied: the bucket %s is not served by this proxy: its "
		    "configuration needs a [bucket %s] section (or [bucket *]) "
		    "and this key a grant (buckets = %s:%s)", in->bucket,
		    in->bucket, in->bucket, s3_right_name(need));
	else
		snprintf(r->message_buf, sizeof(r->message_buf), "Access "
		    "Denied: %s%s needs the %s right on bucket %s (buckets = "
		    "%s:%s)", what, op == S3_OP_UNKNOWN ||
		    op == S3_OP_UNKNOWN_READ ? ", an operation s3inval does "
		    "not know," : "", s3_right_name(need), in->bucket,
		    in->bucket, s3_right_name(need));
	r->message = r->message_buf;
	return S3_ERR_ACCESS_DENIED;
}

enum s3_err
auth_check(const struct cfg *cfg, const struct auth_input *in, int64_t now,
    struct auth_result *r)
{
	struct sigv4_auth	 a;
	struct sigv4_request	 sr;
	struct buf		 uri, query, creq, scope, sts;
	const char		*authz, *date_h;
	char			*q_alg = NULL, *q_cred = NULL, *q_date = NULL;
	char			*q_exp = NULL, *q_sh = NULL, *q_sig = NULL;
	char			 amz_date[17], sig[SIGV4_HEX_LEN + 1];
	unsigned char		 key[SIGV4_KEY_LEN] = { 0 };
	int64_t			 t, skew, expires = 0;
	enum s3_err		 err = S3_OK;
	char			*end;

	memset(r, 0, sizeof(*r));
	memset(&a, 0, sizeof(a));
	buf_init(&uri);
	buf_init(&query);
	buf_init(&creq);
	buf_init(&scope);
	buf_init(&sts);

	if (cfg->auth.mode == CFG_AUTH_NONE) {
		err = payload_mode(in, 0, r);
		goto out;
	}

	authz = auth_header(in->headers, in->n_headers, "authorization");
	q_alg = query_param(in->raw_query, "X-Amz-Algorithm");
	if (authz != NULL && strncmp(authz, "AWS ", 4) == 0) {
		r->message = "Signature Version 2 is not supported: sign "
		    "requests with AWS Signature Version 4 (AWS4-HMAC-SHA256)";
		err = S3_ERR_INVALID_REQUEST;
		goto out;
	}
	if (authz == NULL && q_alg == NULL) {
		/* Found by fuzzing: the decoded value was leaked on every
		 * such request; only its presence matters here. */
		q_sig = query_param(in->raw_query, "Signature");
		if (q_sig != NULL ||
		    strstr(in->raw_query, "AWSAccessKeyId=") != NULL) {
			r->message = "Signature Version 2 is not supported: "
			    "presign with AWS Signature Version 4";
			err = S3_ERR_INVALID_REQUEST;
		} else {
			r->message = "Anonymous access is not allowed: sign "
			    "the request with AWS Signature Version 4";
			err = S3_ERR_ACCESS_DENIED;
		}
		goto out;
	}
	if (authz != NULL && q_alg != NULL) {
		r->message = "Only one auth mechanism allowed; only the "
		    "X-Amz-Algorithm query parameter or the Authorization "
		    "header may be specified";
		err = S3_ERR_INVALID_ARGUMENT;
		goto out;
	}

	if (authz != NULL) {
		if (strncmp(authz, SIGV4_ALGORITHM " ",
		    sizeof(SIGV4_ALGORITHM)) != 0) {
			r->message = "Unsupported Authorization type";
			err = S3_ERR_AUTH_HEADER_MALFORMED;
			goto out;
		}
		if (sigv4_parse_authorization(authz, &a) == -1) {
			err = S3_ERR_AUTH_HEADER_MALFORMED;
			goto out;
		}
		date_h = auth_header(in->headers, in->n_headers, "x-amz-date");
		if (date_h == NULL || sigv4_parse_amz_date(date_h, &t) == -1) {
			r->message = "AWS authentication requires a valid "
			    "X-Amz-Date header";
			err = S3_ERR_ACCESS_DENIED;
			goto out;
		}
		strcpy(amz_date, date_h);
	} else {
		r->presigned = 1;
		q_cred = query_param(in->raw_query, "X-Amz-Credential");
		q_date = query_param(in->raw_query, "X-Amz-Date");
		q_exp = query_param(in->raw_query, "X-Amz-Expires");
		q_sh = query_param(in->raw_query, "X-Amz-SignedHeaders");
		q_sig = query_param(in->raw_query, "X-Amz-Signature");
		if (strcmp(q_alg, SIGV4_ALGORITHM) != 0) {
			r->message = "X-Amz-Algorithm only supports "
			    "\"AWS4-HMAC-SHA256\"";
			err = S3_ERR_AUTH_QUERY_MALFORMED;
			goto out;
		}
		if (q_cred == NULL || q_date == NULL || q_exp == NULL ||
		    q_sh == NULL || q_sig == NULL) {
			r->message = "Query-string authentication version 4 "
			    "requires the X-Amz-Algorithm, X-Amz-Credential, "
			    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
			    "and X-Amz-Expires parameters.";
			err = S3_ERR_AUTH_QUERY_MALFORMED;
			goto out;
		}
		if (sigv4_parse_credential(q_cred, &a.cred) == -1 ||
		    strlen(q_sh) >= sizeof(a.signed_headers) ||
		    strlen(q_sig) != SIGV4_HEX_LEN) {
			err = S3_ERR_AUTH_QUERY_MALFORMED;
			goto out;
		}
		strcpy(a.signed_headers, q_sh);
		strcpy(a.signature, q_sig);
		if (sigv4_parse_amz_date(q_date, &t) == -1) {
			r->message = "X-Amz-Date must be in the ISO8601 Long "
			    "Format \"yyyyMMdd'T'HHmmss'Z'\"";
			err = S3_ERR_AUTH_QUERY_MALFORMED;
			goto out;
		}
		expires = strtoll(q_exp, &end, 10);
		if (*q_exp == '\0' || *end != '\0' || expires < 1 ||
		    expires > PRESIGN_MAX_EXPIRES) {
			r->message = "X-Amz-Expires must be between 1 and "
			    "604800 seconds";
			err = S3_ERR_AUTH_QUERY_MALFORMED;
			goto out;
		}
		strcpy(amz_date, q_date);
	}
	strcpy(r->access_key_id, a.cred.access_key_id);
	strcpy(r->signature_provided, a.signature);

	r->client = cfg_client_find(cfg, a.cred.access_key_id);
	if (r->client == NULL) {
		err = S3_ERR_INVALID_ACCESS_KEY_ID;
		goto out;
	}
	if (strcmp(a.cred.service, "s3") != 0) {
		r->message = "The credential scope's service must be s3";
		err = r->presigned ? S3_ERR_AUTH_QUERY_MALFORMED :
		    S3_ERR_AUTH_HEADER_MALFORMED;
		goto out;
	}
	if (strncmp(a.cred.date, amz_date, 8) != 0) {
		r->message = "Invalid credential date. Date is not the same "
		    "as X-Amz-Date.";
		err = r->presigned ? S3_ERR_AUTH_QUERY_MALFORMED :
		    S3_ERR_AUTH_HEADER_MALFORMED;
		goto out;
	}
	if (!signed_has_host(a.signed_headers)) {
		r->message = "The host header must be signed";
		err = r->presigned ? S3_ERR_AUTH_QUERY_MALFORMED :
		    S3_ERR_AUTH_HEADER_MALFORMED;
		goto out;
	}
	skew = (now - t) * 1000;
	if (r->presigned) {
		if (t - now > cfg->auth.max_skew_ms / 1000) {
			r->message = "Request is not valid yet";
			err = S3_ERR_ACCESS_DENIED;
			goto out;
		}
		if (now > t + expires) {
			r->message = "Request has expired";
			err = S3_ERR_ACCESS_DENIED;
			goto out;
		}
	} else if (skew > cfg->auth.max_skew_ms ||
	    -skew > cfg->auth.max_skew_ms) {
		err = S3_ERR_REQUEST_TIME_TOO_SKEWED;
		goto out;
	}

	err = payload_mode(in, r->presigned, r);
	if (err != S3_OK)
		goto out;

	/* The canonical request, as the client must have built it. */
	if (sigv4_canonical_uri(&uri, in->raw_path, strlen(in->raw_path)) ||
	    sigv4_canonical_query(&query, in->raw_query,
	    r->presigned ? "X-Amz-Signature" : NULL)) {
		err = S3_ERR_INVALID_URI;
		goto out;
	}
	memset(&sr, 0, sizeof(sr));
	sr.method = in->method;
	sr.canonical_uri = buf_str(&uri);
	sr.canonical_query = buf_str(&query);
	sr.headers = in->headers;
	sr.n_headers = in->n_headers;
	sr.signed_headers = a.signed_headers;
	sr.payload_hash = r->presigned ? SIGV4_UNSIGNED_PAYLOAD :
	    auth_header(in->headers, in->n_headers, "x-amz-content-sha256");
	switch (sigv4_canonical_request(&creq, &sr)) {
	case 0:
		break;
	case -2:
		r->message = "A header named in SignedHeaders is missing or "
		    "SignedHeaders is not lower-case and sorted";
		err = r->presigned ? S3_ERR_AUTH_QUERY_MALFORMED :
		    S3_ERR_AUTH_HEADER_MALFORMED;
		goto out;
	default:
		err = S3_ERR_INTERNAL_ERROR;
		goto out;
	}
	sigv4_scope(&scope, a.cred.date, a.cred.region, "s3");
	sigv4_string_to_sign(&sts, amz_date, buf_str(&scope), buf_str(&creq),
	    creq.len);
	if (!buf_ok(&uri) || !buf_ok(&query) || !buf_ok(&creq) ||
	    !buf_ok(&scope) || !buf_ok(&sts)) {
		err = S3_ERR_INTERNAL_ERROR;
		goto out;
	}
	sigv4_signing_key(key, r->client->secret_access_key, a.cred.date,
	    a.cred.region, "s3");
	sigv4_sign(sig, key, buf_str(&sts), sts.len);
	if (!sigv4_equal(sig, a.signature)) {
		OPENSSL_cleanse(key, sizeof(key));
		r->string_to_sign = buf_take(&sts);
		r->canonical_request = buf_take(&creq);
		err = S3_ERR_SIGNATURE_DOES_NOT_MATCH;
		goto out;
	}
	if (unsigned_amz_header(in, a.signed_headers) != NULL) {
		r->message = "There were headers present in the request which "
		    "were not signed";
		err = S3_ERR_ACCESS_DENIED;
		goto out;
	}
	if (!r->presigned) {
		strcpy(r->seed_signature, a.signature);
		if (r->payload == AUTH_PAYLOAD_STREAMING) {
			memcpy(r->signing_key, key, sizeof(key));
			snprintf(r->amz_date, sizeof(r->amz_date), "%s",
			    amz_date);
			snprintf(r->scope, sizeof(r->scope), "%s",
			    buf_str(&scope));
		}
	}
	OPENSSL_cleanse(key, sizeof(key));
	err = rights(cfg, in, r);
out:
	OPENSSL_cleanse(key, sizeof(key));
	free(q_alg);
	free(q_cred);
	free(q_date);
	free(q_exp);
	free(q_sh);
	free(q_sig);
	buf_fini(&uri);
	buf_fini(&query);
	buf_fini(&creq);
	buf_fini(&scope);
	buf_fini(&sts);
	return err;
}
