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
#include "uri.h"

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
	uri_encode(&q, buf_str(&cred), cred.len, 0);
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

/* auth_check() of r for operation op on bucket. */
static enum s3_err
check_op(const struct cfg *cfg, struct req *r, enum s3_op op,
    const char *bucket, int64_t now, struct auth_result *res)
{
	struct auth_input	 in;
	struct s3_req		 s3;

	memset(&s3, 0, sizeof(s3));
	s3.op = op;
	s3.method = r->method;
	s3.bucket = (char *)bucket;
	memset(&in, 0, sizeof(in));
	in.method = r->method;
	in.raw_path = r->path;
	in.raw_query = r->query;
	in.headers = r->h;
	in.n_headers = r->n;
	in.bucket = bucket;
	in.s3 = &s3;
	return auth_check(cfg, &in, now, res);
}

/* A write (PutObject) or a read (GetObject) of blog. */
static enum s3_err
check(const struct cfg *cfg, struct req *r, int write, int64_t now,
    struct auth_result *res)
{
	return check_op(cfg, r, write ? S3_OP_PUT_OBJECT : S3_OP_GET_OBJECT,
	    "blog", now, res);
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

/* Every client of the rights table, by grant. */
static const struct {
	const char	*name;
	const char	*akid;
	const char	*buckets;
} clients[] = {
	{ "rw", "AKIDRIGHTSRW0000001", "blog:rw" },
	{ "r", "AKIDRIGHTSR00000001", "blog:r" },
	{ "w", "AKIDRIGHTSW00000001", "blog:w" },
	{ "admin", "AKIDRIGHTSADMIN0001", "blog:admin" },
	{ "rwadmin", "AKIDRIGHTSRWADMIN01", "blog:rw, blog:admin" },
	{ "star", "AKIDRIGHTSSTAR00001", "*:rw" },
	{ "other", "AKIDRIGHTSOTHER0001", "other:rw, other:admin" },
};

static const struct {
	const char	*client;
	enum s3_op	 op;
	const char	*bucket;
	enum s3_err	 want;
	const char	*right;		/* named in the AccessDenied */
} rights[] = {
	/* rw keeps working for deploys... */
	{ "rw", S3_OP_PUT_OBJECT, "blog", S3_OK, NULL },
	{ "rw", S3_OP_GET_OBJECT, "blog", S3_OK, NULL },
	{ "rw", S3_OP_LIST_OBJECTS_V2, "blog", S3_OK, NULL },
	{ "rw", S3_OP_COPY_OBJECT, "blog", S3_OK, NULL },
	{ "rw", S3_OP_DELETE_OBJECT, "blog", S3_OK, NULL },
	{ "rw", S3_OP_DELETE_OBJECTS, "blog", S3_OK, NULL },
	{ "rw", S3_OP_CREATE_MPU, "blog", S3_OK, NULL },
	{ "rw", S3_OP_UPLOAD_PART, "blog", S3_OK, NULL },
	{ "rw", S3_OP_UPLOAD_PART_COPY, "blog", S3_OK, NULL },
	{ "rw", S3_OP_COMPLETE_MPU, "blog", S3_OK, NULL },
	{ "rw", S3_OP_ABORT_MPU, "blog", S3_OK, NULL },
	{ "rw", S3_OP_PUT_OBJECT_ACL, "blog", S3_OK, NULL },
	{ "rw", S3_OP_PUT_OBJECT_TAGGING, "blog", S3_OK, NULL },
	{ "rw", S3_OP_PUT_OBJECT_RETENTION, "blog", S3_OK, NULL },
	{ "rw", S3_OP_GET_BUCKET_POLICY, "blog", S3_OK, NULL },
	{ "rw", S3_OP_OPTIONS, "blog", S3_OK, NULL },
	/* ... and never reaches bucket configuration. */
	{ "rw", S3_OP_PUT_BUCKET_POLICY, "blog", S3_ERR_ACCESS_DENIED,
	    "admin" },
	{ "rw", S3_OP_PUT_BUCKET_ACL, "blog", S3_ERR_ACCESS_DENIED, "admin" },
	{ "rw", S3_OP_PUT_BUCKET_CORS, "blog", S3_ERR_ACCESS_DENIED, "admin" },
	{ "rw", S3_OP_DELETE_BUCKET, "blog", S3_ERR_ACCESS_DENIED, "admin" },
	{ "rw", S3_OP_PUT_BUCKET_WEBSITE, "blog", S3_ERR_ACCESS_DENIED,
	    "admin" },
	{ "rw", S3_OP_PUT_BUCKET_LIFECYCLE, "blog", S3_ERR_ACCESS_DENIED,
	    "admin" },
	{ "rw", S3_OP_UNKNOWN, "blog", S3_ERR_ACCESS_DENIED, "admin" },
	{ "rw", S3_OP_UNKNOWN_READ, "blog", S3_ERR_ACCESS_DENIED, "admin" },
	/* CreateBucket of its own bucket: S3's answer to the owner. */
	{ "rw", S3_OP_CREATE_BUCKET, "blog",
	    S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU, NULL },
	/* r reads only. */
	{ "r", S3_OP_GET_OBJECT, "blog", S3_OK, NULL },
	{ "r", S3_OP_HEAD_BUCKET, "blog", S3_OK, NULL },
	{ "r", S3_OP_PUT_OBJECT, "blog", S3_ERR_ACCESS_DENIED, "w" },
	{ "r", S3_OP_DELETE_OBJECTS, "blog", S3_ERR_ACCESS_DENIED, "w" },
	{ "r", S3_OP_CREATE_BUCKET, "blog", S3_ERR_ACCESS_DENIED, "admin" },
	/* w writes only. */
	{ "w", S3_OP_PUT_OBJECT, "blog", S3_OK, NULL },
	{ "w", S3_OP_COMPLETE_MPU, "blog", S3_OK, NULL },
	{ "w", S3_OP_GET_OBJECT, "blog", S3_ERR_ACCESS_DENIED, "r" },
	{ "w", S3_OP_LIST_OBJECTS, "blog", S3_ERR_ACCESS_DENIED, "r" },
	{ "w", S3_OP_PUT_BUCKET_POLICY, "blog", S3_ERR_ACCESS_DENIED,
	    "admin" },
	{ "w", S3_OP_CREATE_BUCKET, "blog",
	    S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU, NULL },
	/* admin alone: bucket configuration, no objects. */
	{ "admin", S3_OP_PUT_BUCKET_POLICY, "blog", S3_OK, NULL },
	{ "admin", S3_OP_DELETE_BUCKET, "blog", S3_OK, NULL },
	{ "admin", S3_OP_CREATE_BUCKET, "blog", S3_OK, NULL },
	{ "admin", S3_OP_UNKNOWN, "blog", S3_OK, NULL },
	{ "admin", S3_OP_PUT_OBJECT, "blog", S3_ERR_ACCESS_DENIED, "w" },
	{ "admin", S3_OP_GET_BUCKET_POLICY, "blog", S3_ERR_ACCESS_DENIED,
	    "r" },
	/* Both: everything, and CreateBucket goes upstream. */
	{ "rwadmin", S3_OP_PUT_BUCKET_WEBSITE, "blog", S3_OK, NULL },
	{ "rwadmin", S3_OP_PUT_OBJECT, "blog", S3_OK, NULL },
	{ "rwadmin", S3_OP_CREATE_BUCKET, "blog", S3_OK, NULL },
	/* "*": a configured bucket is owned; another is not ours. */
	{ "star", S3_OP_CREATE_BUCKET, "blog",
	    S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU, NULL },
	{ "star", S3_OP_CREATE_BUCKET, "elsewhere", S3_ERR_ACCESS_DENIED,
	    "admin" },
	{ "star", S3_OP_PUT_BUCKET_POLICY, "blog", S3_ERR_ACCESS_DENIED,
	    "admin" },
	/* Nothing on blog: not even a preflight's right is needed. */
	{ "other", S3_OP_GET_OBJECT, "blog", S3_ERR_ACCESS_DENIED, "r" },
	{ "other", S3_OP_OPTIONS, "blog", S3_OK, NULL },
	{ "other", S3_OP_LIST_BUCKETS, NULL, S3_OK, NULL },
	/* Refused operations never pass, whoever asks. */
	{ "rwadmin", S3_OP_POST_OBJECT, "blog", S3_ERR_ACCESS_DENIED, NULL },
};

static void
test_rights(void **state)
{
	struct cfg		*cfg = NULL;
	struct auth_result	 res;
	struct req		 r = { "GET", "/blog/k" };
	char			 path[] = "/tmp/test_auth.XXXXXX", want[128];
	char *const		 env[] = { NULL };
	const char		*akid;
	enum s3_err		 e;
	size_t			 i, j;
	FILE			*f;
	int			 fd, served;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	for (i = 0; i < sizeof(clients) / sizeof(clients[0]); i++)
		fprintf(f, "[client %s]\naccess_key_id = %s\n"
		    "secret_access_key = " SECRET "\nbuckets = %s\n",
		    clients[i].name, clients[i].akid, clients[i].buckets);
	fprintf(f, "[bucket blog]\n[bucket other]\n");
	fclose(f);
	assert_int_equal(cfg_load(path, env, stderr, &cfg), 0);
	unlink(path);
	for (i = 0; i < sizeof(rights) / sizeof(rights[0]); i++) {
		akid = NULL;
		for (j = 0; j < sizeof(clients) / sizeof(clients[0]); j++)
			if (strcmp(clients[j].name, rights[i].client) == 0)
				akid = clients[j].akid;
		assert_non_null(akid);
		sign(&r, akid, SECRET, NOW, SIGV4_EMPTY_SHA256, "us-east-1");
		e = check_op(cfg, &r, rights[i].op, rights[i].bucket, NOW,
		    &res);
		if (e != rights[i].want)
			fail_msg("%s %s on %s: %s, want %s", rights[i].client,
			    s3_op_name(rights[i].op), rights[i].bucket,
			    s3_err_code(e), s3_err_code(rights[i].want));
		/* Every AccessDenied of the rights names the right. */
		if (rights[i].right != NULL) {
			served = cfg_bucket_find(cfg, rights[i].bucket) !=
			    NULL;
			/* An unserved bucket: the section and the grant. */
			if (served)
				snprintf(want, sizeof(want), "needs the %s "
				    "right on bucket %s (buckets = %s:%s)",
				    rights[i].right, rights[i].bucket,
				    rights[i].bucket, rights[i].right);
			else
				snprintf(want, sizeof(want), "needs a "
				    "[bucket %s] section (or [bucket *]) and "
				    "this key a grant (buckets = %s:%s)",
				    rights[i].bucket, rights[i].bucket,
				    rights[i].right);
			if (res.message == NULL ||
			    strstr(res.message, want) == NULL ||
			    (served && strstr(res.message, rights[i].op ==
			    S3_OP_UNKNOWN || rights[i].op ==
			    S3_OP_UNKNOWN_READ ? "does not know" :
			    s3_op_name(rights[i].op)) == NULL))
				fail_msg("%s %s: message \"%s\"",
				    rights[i].client,
				    s3_op_name(rights[i].op), res.message);
		}
		auth_result_fini(&res);
	}
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
		cmocka_unit_test(test_rights),
	};

	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
