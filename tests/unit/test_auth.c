/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of auth: requests signed here with sigv4.c (itself checked
 * against the AWS suite) must verify; every way of getting them wrong must
 * give its S3 error.  A fixed clock throughout.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth.h"
#include "buf.h"
#include "cfg.h"
#include "sigv4.h"

#define NOW	1795766400		/* 2026-11-18T00:00:00Z */
#define AKID	"AKIDTESTDEPLOY000001"
#define SECRET	"testSecretKey0123456789abcdefghijABCDEFG"
#define RAKID	"AKIDTESTREADER000001"
#define RSECRET	"readerSecretKey0123456789abcdefghijABCDE"

static struct cfg *
make_cfg(const char *mode)
{
	struct cfg	*cfg = NULL;
	char		 path[] = "/tmp/test_auth.XXXXXX";
	FILE		*f;
	int		 fd;
	char *const	 env[] = { NULL };

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "[auth]\nmode = %s\n"
	    "[client deploy]\naccess_key_id = " AKID "\n"
	    "secret_access_key = " SECRET "\nbuckets = blog:rw\n"
	    "[client reader]\naccess_key_id = " RAKID "\n"
	    "secret_access_key = " RSECRET "\nbuckets = blog:r\n"
	    "[bucket blog]\n", mode);
	fclose(f);
	assert_int_equal(cfg_load(path, env, stderr, &cfg), 0);
	unlink(path);
	return cfg;
}

struct req {
	const char		*method;
	const char		*path;
	char			 query[2048];
	struct sigv4_header	 h[8];
	size_t			 n;
	char			 authz[512];
	char			 date[17];
};

/* Sign r (header auth) with akid/secret at time t, hash as given. */
static void
sign(struct req *r, const char *akid, const char *secret, int64_t t,
    const char *hash, const char *region)
{
	struct buf		 uri, q, creq, scope, sts;
	struct sigv4_request	 sr;
	unsigned char		 key[SIGV4_KEY_LEN];
	char			 sig[SIGV4_HEX_LEN + 1], d8[9];

	sigv4_format_amz_date(r->date, t);
	memcpy(d8, r->date, 8);
	d8[8] = '\0';
	r->n = 0;
	r->h[r->n].name = "Host";
	r->h[r->n++].value = "127.0.0.1:8080";
	r->h[r->n].name = "X-Amz-Date";
	r->h[r->n++].value = r->date;
	r->h[r->n].name = "x-amz-content-sha256";
	r->h[r->n++].value = hash;
	buf_init(&uri);
	buf_init(&q);
	buf_init(&creq);
	buf_init(&scope);
	buf_init(&sts);
	sigv4_canonical_uri(&uri, r->path, strlen(r->path));
	sigv4_canonical_query(&q, r->query, NULL);
	memset(&sr, 0, sizeof(sr));
	sr.method = r->method;
	sr.canonical_uri = buf_str(&uri);
	sr.canonical_query = buf_str(&q);
	sr.headers = r->h;
	sr.n_headers = r->n;
	sr.signed_headers = "host;x-amz-content-sha256;x-amz-date";
	sr.payload_hash = hash;
	assert_int_equal(sigv4_canonical_request(&creq, &sr), 0);
	sigv4_scope(&scope, d8, region, "s3");
	sigv4_string_to_sign(&sts, r->date, buf_str(&scope), buf_str(&creq),
	    creq.len);
	sigv4_signing_key(key, secret, d8, region, "s3");
	sigv4_sign(sig, key, buf_str(&sts), sts.len);
	snprintf(r->authz, sizeof(r->authz), "AWS4-HMAC-SHA256 Credential="
	    "%s/%s, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
	    "Signature=%s", akid, buf_str(&scope), sig);
	r->h[r->n].name = "Authorization";
	r->h[r->n++].value = r->authz;
	buf_fini(&uri);
	buf_fini(&q);
	buf_fini(&creq);
	buf_fini(&scope);
	buf_fini(&sts);
}

/* Presign r's path at time t for expires seconds into r->query. */
static void
presign(struct req *r, const char *akid, const char *secret, int64_t t,
    long expires)
{
	struct buf		 uri, q, creq, scope, sts, cred;
	struct sigv4_request	 sr;
	unsigned char		 key[SIGV4_KEY_LEN];
	char			 sig[SIGV4_HEX_LEN + 1], d8[9];

	sigv4_format_amz_date(r->date, t);
	memcpy(d8, r->date, 8);
	d8[8] = '\0';
	buf_init(&uri);
	buf_init(&q);
	buf_init(&creq);
	buf_init(&scope);
	buf_init(&sts);
	buf_init(&cred);
	sigv4_scope(&scope, d8, "us-east-1", "s3");
	buf_printf(&cred, "%s/%s", akid, buf_str(&scope));
	buf_puts(&q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
	sigv4_uri_encode(&q, buf_str(&cred), cred.len, 0);
	buf_printf(&q, "&X-Amz-Date=%s&X-Amz-Expires=%ld"
	    "&X-Amz-SignedHeaders=host", r->date, expires);
	snprintf(r->query, sizeof(r->query), "%s", buf_str(&q));
	buf_reset(&q);
	r->n = 0;
	r->h[r->n].name = "Host";
	r->h[r->n++].value = "127.0.0.1:8080";
	sigv4_canonical_uri(&uri, r->path, strlen(r->path));
	sigv4_canonical_query(&q, r->query, NULL);
	memset(&sr, 0, sizeof(sr));
	sr.method = r->method;
	sr.canonical_uri = buf_str(&uri);
	sr.canonical_query = buf_str(&q);
	sr.headers = r->h;
	sr.n_headers = r->n;
	sr.signed_headers = "host";
	sr.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	assert_int_equal(sigv4_canonical_request(&creq, &sr), 0);
	sigv4_string_to_sign(&sts, r->date, buf_str(&scope), buf_str(&creq),
	    creq.len);
	sigv4_signing_key(key, secret, d8, "us-east-1", "s3");
	sigv4_sign(sig, key, buf_str(&sts), sts.len);
	strncat(r->query, "&X-Amz-Signature=", sizeof(r->query) -
	    strlen(r->query) - 1);
	strncat(r->query, sig, sizeof(r->query) - strlen(r->query) - 1);
	buf_fini(&uri);
	buf_fini(&q);
	buf_fini(&creq);
	buf_fini(&scope);
	buf_fini(&sts);
	buf_fini(&cred);
}

static enum s3_err
check(const struct cfg *cfg, struct req *r, int write, int64_t now,
    struct auth_result *res)
{
	struct auth_input	 in;

	memset(&in, 0, sizeof(in));
	in.method = r->method;
	in.raw_path = r->path;
	in.raw_query = r->query;
	in.headers = r->h;
	in.n_headers = r->n;
	in.bucket = "blog";
	in.needs_write = write;
	return auth_check(cfg, &in, now, res);
}

static void
test_header_auth(void **state)
{
	struct cfg		*cfg = make_cfg("sigv4");
	struct auth_result	 res;
	struct req		 r = { "PUT", "/blog/a%20b/caf%C3%A9~(1).txt" };

	sign(&r, AKID, SECRET, NOW, SIGV4_EMPTY_SHA256, "us-east-1");
	assert_int_equal(check(cfg, &r, 1, NOW, &res), S3_OK);
	assert_int_equal(res.payload, AUTH_PAYLOAD_HEX);
	assert_string_equal(res.payload_hash, SIGV4_EMPTY_SHA256);
	assert_string_equal(res.client->name, "deploy");
	auth_result_fini(&res);

	/* Any region the client signs for is its own scope. */
	sign(&r, AKID, SECRET, NOW, SIGV4_UNSIGNED_PAYLOAD, "eu-west-1");
	assert_int_equal(check(cfg, &r, 1, NOW, &res), S3_OK);
	assert_int_equal(res.payload, AUTH_PAYLOAD_UNSIGNED);
	auth_result_fini(&res);

	/* Skew: 14 minutes fine, 16 not, both ways. */
	sign(&r, AKID, SECRET, NOW - 14 * 60, SIGV4_EMPTY_SHA256, "us-east-1");
	assert_int_equal(check(cfg, &r, 1, NOW, &res), S3_OK);
	auth_result_fini(&res);
	sign(&r, AKID, SECRET, NOW - 16 * 60, SIGV4_EMPTY_SHA256, "us-east-1");
	assert_int_equal(check(cfg, &r, 1, NOW, &res),
	    S3_ERR_REQUEST_TIME_TOO_SKEWED);
	auth_result_fini(&res);
	sign(&r, AKID, SECRET, NOW + 16 * 60, SIGV4_EMPTY_SHA256, "us-east-1");
	assert_int_equal(check(cfg, &r, 1, NOW, &res),
	    S3_ERR_REQUEST_TIME_TOO_SKEWED);
	auth_result_fini(&res);
	cfg_free(cfg);
}

static void
test_header_refusals(void **state)
{
	struct cfg		*cfg = make_cfg("sigv4");
	struct auth_result	 res;
	struct req		 r = { "PUT", "/blog/k" };

	sign(&r, AKID, "wrong" SECRET, NOW, SIGV4_EMPTY_SHA256, "us-east-1");
	assert_int_equal(check(cfg, &r, 1, NOW, &res),
	    S3_ERR_SIGNATURE_DOES_NOT_MATCH);
	assert_non_null(res.string_to_sign);
	assert_non_null(strstr(res.canonical_request, "/blog/k"));
	assert_string_equal(res.access_key_id, AKID);
	auth_result_fini(&res);

	sign(&r, "AKIDUNKNOWN", SECRET, NOW, SIGV4_EMPTY_SHA256, "us-east-1");
	assert_int_equal(check(cfg, &r, 1, NOW, &res),
	    S3_ERR_INVALID_ACCESS_KEY_ID);
	auth_result_fini(&res);

	/* The reader may read, not write. */
	sign(&r, RAKID, RSECRET, NOW, SIGV4_EMPTY_SHA256, "us-east-1");
	assert_int_equal(check(cfg, &r, 0, NOW, &res), S3_OK);
	auth_result_fini(&res);
	assert_int_equal(check(cfg, &r, 1, NOW, &res), S3_ERR_ACCESS_DENIED);
	auth_result_fini(&res);

	/* A tampered path fails the signature. */
	sign(&r, AKID, SECRET, NOW, SIGV4_EMPTY_SHA256, "us-east-1");
	r.path = "/blog/other";
	assert_int_equal(check(cfg, &r, 1, NOW, &res),
	    S3_ERR_SIGNATURE_DOES_NOT_MATCH);
	auth_result_fini(&res);
	r.path = "/blog/k";

	sign(&r, AKID, SECRET, NOW, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
	    "us-east-1");
	assert_int_equal(check(cfg, &r, 1, NOW, &res), S3_OK);
	assert_int_equal(res.payload, AUTH_PAYLOAD_STREAMING);
	assert_string_equal(res.seed_signature, strrchr(r.authz, '=') + 1);
	auth_result_fini(&res);

	/* An x-amz-* header the signature does not cover. */
	sign(&r, AKID, SECRET, NOW, SIGV4_EMPTY_SHA256, "us-east-1");
	r.h[r.n].name = "X-Amz-Acl";
	r.h[r.n++].value = "public-read";
	assert_int_equal(check(cfg, &r, 1, NOW, &res), S3_ERR_ACCESS_DENIED);
	assert_non_null(strstr(res.message, "not signed"));
	auth_result_fini(&res);

	sign(&r, AKID, SECRET, NOW, "not-a-hash", "us-east-1");
	assert_int_equal(check(cfg, &r, 1, NOW, &res),
	    S3_ERR_INVALID_ARGUMENT);
	auth_result_fini(&res);

	/* SigV2, anonymous, malformed. */
	r.n = 0;
	r.h[r.n].name = "Authorization";
	r.h[r.n++].value = "AWS " AKID ":c2lnbmF0dXJl";
	assert_int_equal(check(cfg, &r, 1, NOW, &res),
	    S3_ERR_INVALID_REQUEST);
	auth_result_fini(&res);
	r.n = 0;
	assert_int_equal(check(cfg, &r, 0, NOW, &res), S3_ERR_ACCESS_DENIED);
	auth_result_fini(&res);
	r.h[r.n].name = "Authorization";
	r.h[r.n++].value = "AWS4-HMAC-SHA256 Credential=x";
	assert_int_equal(check(cfg, &r, 0, NOW, &res),
	    S3_ERR_AUTH_HEADER_MALFORMED);
	auth_result_fini(&res);
	cfg_free(cfg);
}

static void
test_presigned(void **state)
{
	struct cfg		*cfg = make_cfg("sigv4");
	struct auth_result	 res;
	struct req		 r = { "GET", "/blog/dir/a%20file.html" };

	presign(&r, AKID, SECRET, NOW, 3600);
	assert_int_equal(check(cfg, &r, 0, NOW + 10, &res), S3_OK);
	assert_true(res.presigned);
	assert_int_equal(res.payload, AUTH_PAYLOAD_UNSIGNED);
	auth_result_fini(&res);
	/* Expired, and not valid yet. */
	assert_int_equal(check(cfg, &r, 0, NOW + 3601, &res),
	    S3_ERR_ACCESS_DENIED);
	assert_string_equal(res.message, "Request has expired");
	auth_result_fini(&res);
	assert_int_equal(check(cfg, &r, 0, NOW - 16 * 60, &res),
	    S3_ERR_ACCESS_DENIED);
	auth_result_fini(&res);
	/* Seven days at most. */
	presign(&r, AKID, SECRET, NOW, 604801);
	assert_int_equal(check(cfg, &r, 0, NOW, &res),
	    S3_ERR_AUTH_QUERY_MALFORMED);
	auth_result_fini(&res);
	presign(&r, AKID, SECRET, NOW, 604800);
	assert_int_equal(check(cfg, &r, 0, NOW + 604000, &res), S3_OK);
	auth_result_fini(&res);
	/* A changed parameter breaks it. */
	presign(&r, AKID, SECRET, NOW, 60);
	strncat(r.query, "&x-id=GetObject", sizeof(r.query) - strlen(r.query)
	    - 1);
	assert_int_equal(check(cfg, &r, 0, NOW, &res),
	    S3_ERR_SIGNATURE_DOES_NOT_MATCH);
	auth_result_fini(&res);
	presign(&r, "AKIDNOPE", SECRET, NOW, 60);
	assert_int_equal(check(cfg, &r, 0, NOW, &res),
	    S3_ERR_INVALID_ACCESS_KEY_ID);
	auth_result_fini(&res);
	cfg_free(cfg);
}

static void
test_mode_none(void **state)
{
	struct cfg		*cfg = make_cfg("none");
	struct auth_result	 res;
	struct req		 r = { "PUT", "/blog/k" };

	r.n = 0;
	assert_int_equal(check(cfg, &r, 1, NOW, &res), S3_OK);
	assert_null(res.client);
	assert_int_equal(res.payload, AUTH_PAYLOAD_UNSIGNED);
	auth_result_fini(&res);
	cfg_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_auth),
		cmocka_unit_test(test_header_refusals),
		cmocka_unit_test(test_presigned),
		cmocka_unit_test(test_mode_none),
	};

	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
