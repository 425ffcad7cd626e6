/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of s3_req: addressing, bucket and key decoding, operations,
 * and the errors for targets that must never reach the upstream. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "s3_err.h"
#include "s3_req.h"

struct row {
	const char	*method;
	const char	*target;
	const char	*host;
	const char	*vbase;
	int		 copy;
	enum s3_err	 err;
	const char	*bucket;	/* NULL: none */
	const char	*key;		/* NULL: none */
	enum s3_op	 op;
};

static const struct row rows[] = {
	{ "GET", "/", "127.0.0.1:8080", "", 0, S3_OK, NULL, NULL,
	    S3_OP_LIST_BUCKETS },
	{ "PUT", "/blog", NULL, "", 0, S3_OK, "blog", NULL,
	    S3_OP_CREATE_BUCKET },
	{ "GET", "/blog?list-type=2&prefix=a%2F", NULL, "", 0, S3_OK, "blog",
	    NULL, S3_OP_LIST_OBJECTS },
	{ "GET", "/blog/", NULL, "", 0, S3_OK, "blog", NULL,
	    S3_OP_LIST_OBJECTS },
	{ "PUT", "/blog/a/b/index.html", NULL, "", 0, S3_OK, "blog",
	    "a/b/index.html", S3_OP_PUT_OBJECT },
	{ "PUT", "/blog/a%20b%2Bc~%28%21%29%2A%27%26%3D%25.txt", NULL, "", 0,
	    S3_OK, "blog", "a b+c~(!)*'&=%.txt", S3_OP_PUT_OBJECT },
	{ "PUT", "/blog/caf%C3%A9", NULL, "", 0, S3_OK, "blog",
	    "caf\xc3\xa9", S3_OP_PUT_OBJECT },
	{ "PUT", "/blog/x//y/./z/../w", NULL, "", 0, S3_OK, "blog",
	    "x//y/./z/../w", S3_OP_PUT_OBJECT },
	{ "PUT", "/blog/k", NULL, "", 1, S3_OK, "blog", "k",
	    S3_OP_COPY_OBJECT },
	{ "PUT", "/blog/k?partNumber=1&uploadId=u", NULL, "", 0, S3_OK,
	    "blog", "k", S3_OP_UPLOAD_PART },
	{ "PUT", "/blog/k?partNumber=1&uploadId=u", NULL, "", 1, S3_OK,
	    "blog", "k", S3_OP_UPLOAD_PART_COPY },
	{ "PUT", "/blog/k?tagging", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_OBJECT_OTHER },
	{ "PUT", "/blog/k?acl", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_OBJECT_OTHER },
	{ "POST", "/blog/k?uploads", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_CREATE_MPU },
	{ "POST", "/blog/k?uploadId=abc", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_COMPLETE_MPU },
	{ "DELETE", "/blog/k?uploadId=abc", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_ABORT_MPU },
	{ "POST", "/blog?delete", NULL, "", 0, S3_OK, "blog", NULL,
	    S3_OP_DELETE_OBJECTS },
	{ "POST", "/blog/?delete=", NULL, "", 0, S3_OK, "blog", NULL,
	    S3_OP_DELETE_OBJECTS },
	{ "DELETE", "/blog/k", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_DELETE_OBJECT },
	{ "GET", "/blog/k", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_GET_OBJECT },
	{ "HEAD", "/blog/k", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_HEAD_OBJECT },
	{ "GET", "/blog/k?uploadId=1", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_LIST_PARTS },
	{ "OPTIONS", "/blog/k", NULL, "", 0, S3_OK, "blog", "k",
	    S3_OP_OPTIONS },
	/* Virtual-hosted. */
	{ "PUT", "/a/index.html", "blog.s3.local:8080", "s3.local", 0, S3_OK,
	    "blog", "a/index.html", S3_OP_PUT_OBJECT },
	{ "GET", "/", "BLOG.S3.LOCAL", "s3.local", 0, S3_OK, "blog", NULL,
	    S3_OP_LIST_OBJECTS },
	{ "GET", "/blog/k", "s3.local", "s3.local", 0, S3_OK, "blog", "k",
	    S3_OP_GET_OBJECT },
	{ "GET", "/blog/k", "evil.example", "s3.local", 0, S3_OK, "blog", "k",
	    S3_OP_GET_OBJECT },
	/* Refused. */
	{ "GET", "http://evil.example/blog/k", NULL, "", 0,
	    S3_ERR_INVALID_URI, NULL, NULL, S3_OP_OTHER },
	{ "GET", "*", NULL, "", 0, S3_ERR_INVALID_URI, NULL, NULL,
	    S3_OP_OTHER },
	{ "CONNECT", "evil.example:443", NULL, "", 0,
	    S3_ERR_METHOD_NOT_ALLOWED, NULL, NULL, S3_OP_OTHER },
	{ "TRACE", "/blog/k", NULL, "", 0, S3_ERR_METHOD_NOT_ALLOWED, NULL,
	    NULL, S3_OP_OTHER },
	{ "GET", "/blog/a%2", NULL, "", 0, S3_ERR_INVALID_URI, NULL, NULL,
	    S3_OP_OTHER },
	{ "GET", "/blog/a%00b", NULL, "", 0, S3_ERR_INVALID_URI, NULL, NULL,
	    S3_OP_OTHER },
	{ "GET", "/Bad_Bucket/k", NULL, "", 0, S3_ERR_INVALID_BUCKET_NAME,
	    NULL, NULL, S3_OP_OTHER },
	{ "GET", "/a/k", NULL, "", 0, S3_ERR_INVALID_BUCKET_NAME, NULL, NULL,
	    S3_OP_OTHER },
	{ "GET", "/192.168.1.1/k", NULL, "", 0, S3_ERR_INVALID_BUCKET_NAME,
	    NULL, NULL, S3_OP_OTHER },
	{ "GET", "/x.y%2Fevil/k", NULL, "", 0, S3_ERR_INVALID_BUCKET_NAME,
	    NULL, NULL, S3_OP_OTHER },
	{ "GET", "/x#y/k", NULL, "", 0, S3_ERR_INVALID_URI, NULL, NULL,
	    S3_OP_OTHER },
	{ "GET", "/evil.example#.s3.local/k", "evil.example#.s3.local",
	    "s3.local", 0, S3_ERR_INVALID_URI, NULL, NULL, S3_OP_OTHER },
	{ "GET", "/k", "ev!l.s3.local", "s3.local", 0,
	    S3_ERR_INVALID_BUCKET_NAME, NULL, NULL, S3_OP_OTHER },
};

static void
test_table(void **state)
{
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		struct s3_req	 r;
		enum s3_err	 e;

		e = s3_req_parse(&r, w->method, w->target, w->host, w->vbase,
		    w->copy);
		if (e != w->err)
			fail_msg("row %zu %s %s: err %d, want %d", i,
			    w->method, w->target, e, w->err);
		if (e == S3_OK) {
			if (w->bucket == NULL)
				assert_null(r.bucket);
			else
				assert_string_equal(r.bucket, w->bucket);
			if (w->key == NULL)
				assert_null(r.key);
			else
				assert_string_equal(r.key, w->key);
			if (r.op != w->op)
				fail_msg("row %zu %s %s: op %s, want %s", i,
				    w->method, w->target, s3_op_name(r.op),
				    s3_op_name(w->op));
		}
		s3_req_fini(&r);
	}
}

static void
test_params(void **state)
{
	struct s3_req	 r;

	assert_int_equal(s3_req_parse(&r, "GET",
	    "/blog?prefix=a%20b&delimiter=%2F&uploads&x=", NULL, "", 0),
	    S3_OK);
	assert_string_equal(s3_req_param(&r, "prefix"), "a b");
	assert_string_equal(s3_req_param(&r, "delimiter"), "/");
	assert_string_equal(s3_req_param(&r, "uploads"), "");
	assert_string_equal(s3_req_param(&r, "x"), "");
	assert_null(s3_req_param(&r, "missing"));
	assert_int_equal(r.op, S3_OP_LIST_UPLOADS);
	s3_req_fini(&r);
}

static void
test_bucket_names(void **state)
{
	assert_true(s3_bucket_name_valid("blog"));
	assert_true(s3_bucket_name_valid("my-site.example.com"));
	assert_true(s3_bucket_name_valid("a1b"));
	assert_false(s3_bucket_name_valid("ab"));
	assert_false(s3_bucket_name_valid("-ab"));
	assert_false(s3_bucket_name_valid("ab-"));
	assert_false(s3_bucket_name_valid("a..b"));
	assert_false(s3_bucket_name_valid("UPPER"));
	assert_false(s3_bucket_name_valid("under_score"));
	assert_false(s3_bucket_name_valid("10.0.0.1"));
	assert_false(s3_bucket_name_valid(
	    "a234567890123456789012345678901234567890123456789012345678901234"));
}

static void
test_write_ops(void **state)
{
	assert_true(s3_op_needs_write(S3_OP_PUT_OBJECT));
	assert_true(s3_op_needs_write(S3_OP_DELETE_OBJECTS));
	assert_true(s3_op_needs_write(S3_OP_COMPLETE_MPU));
	assert_true(s3_op_needs_write(S3_OP_CREATE_BUCKET));
	assert_false(s3_op_needs_write(S3_OP_GET_OBJECT));
	assert_false(s3_op_needs_write(S3_OP_LIST_OBJECTS));
	assert_false(s3_op_needs_write(S3_OP_HEAD_OBJECT));
	assert_false(s3_op_needs_write(S3_OP_LIST_BUCKETS));
}

static void
test_err_table(void **state)
{
	struct buf	 b;

	assert_int_equal(s3_err_status(S3_ERR_SIGNATURE_DOES_NOT_MATCH), 403);
	assert_string_equal(s3_err_code(S3_ERR_NO_SUCH_BUCKET),
	    "NoSuchBucket");
	assert_int_equal(s3_err_status(S3_ERR_SERVICE_UNAVAILABLE), 503);
	assert_true(s3_err_is_retryable(S3_ERR_SERVICE_UNAVAILABLE));
	assert_false(s3_err_is_retryable(S3_ERR_ACCESS_DENIED));
	buf_init(&b);
	assert_int_equal(s3_err_xml(&b, S3_ERR_NO_SUCH_BUCKET, NULL,
	    "/a<b>&\"'", "REQ1", NULL, 0), 0);
	assert_non_null(strstr(b.data, "<Code>NoSuchBucket</Code>"));
	assert_non_null(strstr(b.data,
	    "<Resource>/a&lt;b&gt;&amp;&quot;&apos;</Resource>"));
	assert_non_null(strstr(b.data, "<RequestId>REQ1</RequestId>"));
	buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_bucket_names),
		cmocka_unit_test(test_write_ops),
		cmocka_unit_test(test_err_table),
	};

	return cmocka_run_group_tests_name("s3_req", tests, NULL, NULL);
}
