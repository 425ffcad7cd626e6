/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_check_online: the pure parts of `check-config --online`: what a
 * HeadBucket answer means (a table of answers: S3's, another region's, a
 * web server's, none), which origin domains are a bucket, the clock and
 * free-space levels, and the causes named for bind() errors.  The checks
 * against live services run in tests/integration/t29_check_online.py.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check_online.h"
#include "http_call.h"

#define URL	"http://127.0.0.1:9000/blog"

struct head_row {
	long		 status;
	int		 failed;
	int		 aws_headers;
	const char	*region;	/* x-amz-bucket-region, or "" */
	const char	*server;
	const char	*content_type;
	int64_t		 skew;
	enum check_level want;
	const char	*says;		/* in the message */
};

static const struct head_row head_rows[] = {
	/* S3's own answers. */
	{ 200, 0, 2, "us-east-1", "AmazonS3", "", 0, CHECK_OK,
	    "reachable (HeadBucket 200, region us-east-1)" },
	{ 200, 0, 1, "", "", "", 0, CHECK_OK, "reachable (HeadBucket 200)" },
	{ 200, 0, 3, "eu-west-1", "AmazonS3", "", 0, CHECK_WARN,
	    "set region = eu-west-1" },
	{ 301, 0, 3, "eu-west-1", "AmazonS3", "", 0, CHECK_FAIL,
	    "the bucket is in eu-west-1" },
	{ 400, 0, 3, "eu-west-1", "AmazonS3", "", 0, CHECK_FAIL,
	    "https://s3.eu-west-1.amazonaws.com" },
	{ 400, 0, 2, "", "AmazonS3", "", 0, CHECK_FAIL, "HTTP 400 from " URL },
	{ 403, 0, 2, "us-east-1", "AmazonS3", "", 0, CHECK_FAIL,
	    "s3:ListBucket" },
	{ 403, 0, 2, "", "AmazonS3", "", 30 * 60, CHECK_FAIL,
	    "the clock is 1800 s off" },
	{ 403, 0, 2, "", "AmazonS3", "", -16 * 60, CHECK_FAIL,
	    "the clock is -960 s off" },
	{ 404, 0, 1, "", "Werkzeug", "text/html", 0, CHECK_FAIL,
	    "404: no such bucket at " URL },
	{ 500, 0, 1, "", "", "", 0, CHECK_FAIL, "HTTP 500 from " URL },
	/* Not S3: no x-amz-* header at all, whatever the status. */
	{ 404, 0, 0, "", "nginx", "text/html", 0, CHECK_FAIL,
	    "does not answer like S3 (HTTP 404, Server: nginx, an HTML page" },
	{ 200, 0, 0, "", "", "text/plain", 0, CHECK_FAIL,
	    "does not answer like S3 (HTTP 200, no x-amz-request-id)" },
	/* No answer. */
	{ 0, 1, 0, "", "", "", 0, CHECK_FAIL,
	    "upstream unreachable at " URL ": Couldn't connect" },
};

static void
test_head_bucket(void **state)
{
	struct http_answer	 an;
	enum check_level	 lv;
	char			 msg[1024];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(head_rows) / sizeof(head_rows[0]); i++) {
		const struct head_row	*r = &head_rows[i];

		http_answer_init(&an);
		an.status = r->status;
		an.failed = r->failed;
		an.aws_headers = r->aws_headers;
		snprintf(an.bucket_region, sizeof(an.bucket_region), "%s",
		    r->region);
		snprintf(an.server, sizeof(an.server), "%s", r->server);
		snprintf(an.content_type, sizeof(an.content_type), "%s",
		    r->content_type);
		if (r->failed)
			snprintf(an.error, sizeof(an.error), "Couldn't connect "
			    "to server");
		lv = check_head_bucket(&an, "us-east-1", r->skew, URL, msg,
		    sizeof(msg));
		if (lv != r->want || strstr(msg, r->says) == NULL)
			print_message("# row %zu: %s %s\n", i,
			    check_level_name(lv), msg);
		assert_int_equal(lv, r->want);
		assert_non_null(strstr(msg, r->says));
		http_answer_fini(&an);
	}
}

static const struct {
	const char	*domain;
	const char	*bucket;
	const char	*endpoint_host;
	int		 is;
} origin_rows[] = {
	{ "blog.s3.amazonaws.com", "blog", "s3.amazonaws.com", 1 },
	{ "blog.s3.eu-west-1.amazonaws.com", "blog", "", 1 },
	{ "BLOG.S3-eu-west-1.AmazonAWS.com", "blog", "", 1 },
	{ "blog.s3.dualstack.eu-west-1.amazonaws.com", "blog", "", 1 },
	{ "blog.s3-website-us-east-1.amazonaws.com", "blog", "", 1 },
	{ "blog.s3-website.eu-west-1.amazonaws.com", "blog", "", 1 },
	{ "blog.s3.cn-north-1.amazonaws.com.cn", "blog", "", 1 },
	{ "www.example.com.s3.amazonaws.com", "www.example.com", "", 1 },
	/* Virtual-hosted S3 elsewhere: BUCKET.<the endpoint's host>. */
	{ "blog.minio.example.com", "blog", "minio.example.com", 1 },
	/* Not the bucket. */
	{ "blog.s3.amazonaws.com", "blo", "", 0 },
	{ "blog-old.s3.amazonaws.com", "blog", "", 0 },
	{ "blogs3.amazonaws.com", "blog", "", 0 },
	{ "blog.example.com", "blog", "", 0 },
	{ "blog.s3.amazonaws.com.evil.example", "blog", "", 0 },
	{ "blog.s3.amazonaws.com", "", "", 0 },
	{ "api.example.com", "blog", "minio.example.com", 0 },
	{ "blog.minio.example.com", "blog", NULL, 0 },
	{ "blog.s3.amazonaws.com", "www", "s3.amazonaws.com", 0 },
};

static void
test_origin_is_bucket(void **state)
{
	size_t	 i;
	int	 got;

	(void)state;
	for (i = 0; i < sizeof(origin_rows) / sizeof(origin_rows[0]); i++) {
		got = check_origin_is_bucket(origin_rows[i].domain,
		    origin_rows[i].bucket, origin_rows[i].endpoint_host);
		if (got != origin_rows[i].is)
			print_message("# %s bucket %s: %d\n",
			    origin_rows[i].domain, origin_rows[i].bucket, got);
		assert_int_equal(got, origin_rows[i].is);
	}
}

static void
test_levels(void **state)
{
	(void)state;
	assert_int_equal(check_skew_level(0), CHECK_OK);
	assert_int_equal(check_skew_level(60), CHECK_OK);
	assert_int_equal(check_skew_level(-60), CHECK_OK);
	assert_int_equal(check_skew_level(61), CHECK_WARN);
	assert_int_equal(check_skew_level(-61), CHECK_WARN);
	assert_int_equal(check_skew_level(900), CHECK_WARN);
	assert_int_equal(check_skew_level(901), CHECK_FAIL);
	assert_int_equal(check_skew_level(-3600), CHECK_FAIL);

	assert_int_equal(check_free_level(0, -1), CHECK_FAIL);
	assert_int_equal(check_free_level(CHECK_FREE_FAIL - 1, 10), CHECK_FAIL);
	assert_int_equal(check_free_level(CHECK_FREE_FAIL, 10), CHECK_WARN);
	assert_int_equal(check_free_level(CHECK_FREE_WARN - 1, -1),
	    CHECK_WARN);
	assert_int_equal(check_free_level(CHECK_FREE_WARN, -1), CHECK_OK);
	assert_int_equal(check_free_level(CHECK_FREE_WARN, 1), CHECK_OK);
	/* Space, but no inode for a new file. */
	assert_int_equal(check_free_level(UINT64_C(1) << 40, 0), CHECK_FAIL);

	assert_string_equal(check_level_name(CHECK_OK), "OK");
	assert_string_equal(check_level_name(CHECK_WARN), "WARN");
	assert_string_equal(check_level_name(CHECK_FAIL), "FAIL");
	assert_string_equal(check_level_name(CHECK_SKIP), "SKIP");
}

static void
test_bind_cause(void **state)
{
	(void)state;
	assert_non_null(strstr(check_bind_cause(EADDRINUSE, 8080),
	    "address in use"));
	assert_non_null(strstr(check_bind_cause(EACCES, 80),
	    "CAP_NET_BIND_SERVICE"));
	assert_null(strstr(check_bind_cause(EACCES, 8080),
	    "CAP_NET_BIND_SERVICE"));
	assert_non_null(strstr(check_bind_cause(EPERM, 8080),
	    "not permitted"));
	assert_non_null(strstr(check_bind_cause(EADDRNOTAVAIL, 8080),
	    "no such address"));
	assert_non_null(strstr(check_bind_cause(EAFNOSUPPORT, 8080),
	    "IPv6"));
	/* Others: strerror() is the caller's. */
	assert_null(check_bind_cause(EIO, 8080));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_bucket),
		cmocka_unit_test(test_origin_is_bucket),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_bind_cause),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
