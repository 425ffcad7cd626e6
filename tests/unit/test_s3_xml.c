/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of s3_xml: the 200-with-Error quirk, DeleteObjects results and
 * requests, fed whole, with the padding S3 adds to slow answers, cut short
 * at every byte, and as garbage.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "s3_xml.h"

static void
test_is_error(void **state)
{
	static const struct {
		const char	*doc;
		int		 err;
	} rows[] = {
		{ "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		  "<CopyObjectResult><ETag>\"x\"</ETag></CopyObjectResult>", 0 },
		{ "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws"
		  ".com/doc/2006-03-01/\"><Location>l</Location><Bucket>b"
		  "</Bucket><Key>k</Key><ETag>\"e-2\"</ETag>"
		  "</CompleteMultipartUploadResult>", 0 },
		/* The quirk: 200 OK, then whitespace, then an Error. */
		{ "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n"
		  "<Error><Code>InternalError</Code><Message>We encountered "
		  "an internal error.</Message></Error>", 1 },
		{ "          \n          \n<?xml version=\"1.0\"?><Error>"
		  "<Code>SlowDown</Code></Error>", 1 },
		{ "   \n   <CopyObjectResult/>", 0 },
		/* Nothing can be told: the caller falls back. */
		{ "", -1 },
		{ "   ", -1 },
		{ "<CopyObjectResult>", -1 },
		{ "not xml at all", -1 },
		{ "<html><body>502 Bad Gateway</body>", -1 },
		{ "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
		  "<CopyObjectResult>&e;</CopyObjectResult>", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (s3_xml_is_error(rows[i].doc, strlen(rows[i].doc)) !=
		    rows[i].err)
			fail_msg("row %zu: want %d", i, rows[i].err);
}

static void
test_deleted(void **state)
{
	const char	*doc =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Deleted><Key>a/index.html</Key></Deleted>"
	    "<Error><Key>locked.txt</Key><Code>AccessDenied</Code>"
	    "<Message>Access Denied</Message></Error>"
	    "<Deleted><Key>caf\xc3\xa9 &amp; more.txt</Key>"
	    "<VersionId>v1</VersionId></Deleted>"
	    "<Deleted><Key>x+y.txt</Key></Deleted>"
	    "</DeleteResult>";
	struct strvec	 v;

	strvec_init(&v);
	assert_int_equal(s3_xml_deleted_keys(doc, strlen(doc), &v), 3);
	assert_int_equal(v.n, 3);
	assert_string_equal(v.v[0], "a/index.html");
	assert_string_equal(v.v[1], "caf\xc3\xa9 & more.txt");
	assert_string_equal(v.v[2], "x+y.txt");
	strvec_fini(&v);
}

static void
test_deleted_url_encoded(void **state)
{
	/* The answer says url: S3 form-encodes keys ('+' is a space). */
	const char	*doc =
	    "<DeleteResult><EncodingType>url</EncodingType>"
	    "<Deleted><Key>a+b%2Bc%2Fd.txt</Key></Deleted>"
	    "<Deleted><Key>caf%C3%A9</Key></Deleted></DeleteResult>";
	/* It does not (moto, whatever the request asked): keys as they
	 * are (issue 13: "a+b.html" became "/a%20b.html"). */
	const char	*plain = "<DeleteResult><Deleted><Key>a+b.html</Key>"
	    "</Deleted><Deleted><Key>a%20b</Key></Deleted></DeleteResult>";
	const char	*other = "<DeleteResult><EncodingType>none"
	    "</EncodingType><Deleted><Key>a+b</Key></Deleted></DeleteResult>";
	struct strvec	 v;

	strvec_init(&v);
	assert_int_equal(s3_xml_deleted_keys(doc, strlen(doc), &v), 2);
	assert_string_equal(v.v[0], "a b+c/d.txt");
	assert_string_equal(v.v[1], "caf\xc3\xa9");
	strvec_fini(&v);
	strvec_init(&v);
	assert_int_equal(s3_xml_deleted_keys(plain, strlen(plain), &v), 2);
	assert_string_equal(v.v[0], "a+b.html");
	assert_string_equal(v.v[1], "a%20b");
	strvec_fini(&v);
	strvec_init(&v);
	assert_int_equal(s3_xml_deleted_keys(other, strlen(other), &v), 1);
	assert_string_equal(v.v[0], "a+b");
	strvec_fini(&v);
}

static void
test_deleted_bad(void **state)
{
	static const char *const bad[] = {
		"", "<Error><Code>x</Code></Error>", "<DeleteResult>",
		"<DeleteResult><EncodingType>url</EncodingType><Deleted><Key>"
		"%zz</Key></Deleted></DeleteResult>",
	};
	struct strvec	 v;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strvec_init(&v);
		assert_int_equal(s3_xml_deleted_keys(bad[i], strlen(bad[i]),
		    &v), -1);
		strvec_fini(&v);
	}
	strvec_init(&v);
	assert_int_equal(s3_xml_deleted_keys("<DeleteResult/>", 15, &v), 0);
	strvec_fini(&v);
}

static void
test_pieces(void **state)
{
	/* The same document cut anywhere is never taken for a success. */
	const char	*doc = "<CopyObjectResult><ETag>\"e\"</ETag>"
	    "<LastModified>2026-01-01T00:00:00Z</LastModified>"
	    "</CopyObjectResult>";
	size_t		 n = strlen(doc), i;

	for (i = 0; i < n; i++)
		assert_int_equal(s3_xml_is_error(doc, i), -1);
	assert_int_equal(s3_xml_is_error(doc, n), 0);
}

/* What boto3's delete_objects sends (botocore 1.43), with the kinds of
 * key that need escaping. */
static const char delete_req[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Object><Key>a+b.html</Key></Object>"
    "<Object><Key>a b &amp; c.html</Key><VersionId>v1</VersionId></Object>"
    "<Object><Key>caf\xc3\xa9/%41.txt</Key></Object>"
    "<Object><Key>x</Key><ETag>\"e\"</ETag><Size>3</Size></Object>"
    "<Quiet>false</Quiet></Delete>";

static void
test_delete_request(void **state)
{
	static const struct {
		const char	*doc;
		int		 n;
		int		 quiet;
	} rows[] = {
		{ delete_req, 4, 0 },
		{ "<Delete><Object><Key>k</Key></Object><Quiet>true</Quiet>"
		  "</Delete>", 1, 1 },
		/* Fail closed: anything but false is quiet. */
		{ "<Delete><Quiet>TRUE</Quiet><Object><Key>k</Key></Object>"
		  "</Delete>", 1, 1 },
		{ "<Delete><Quiet>1</Quiet></Delete>", 0, 1 },
		{ "<Delete><Quiet>False</Quiet></Delete>", 0, 0 },
		{ "<Delete/>", 0, 0 },
		{ "  \n<Delete><Object><Key></Key></Object></Delete>", 1, 0 },
		{ "<DeleteResult><Deleted><Key>k</Key></Deleted>"
		  "</DeleteResult>", -1, 0 },
		{ "<Delete><Object><Key>k</Key></Object>", -1, 0 },
		{ "", -1, 0 },
		{ "Key=k", -1, 0 },
	};
	struct strvec	 v;
	size_t		 i;
	int		 quiet;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		strvec_init(&v);
		assert_int_equal(s3_xml_delete_request(rows[i].doc,
		    strlen(rows[i].doc), &v, &quiet), rows[i].n);
		if (rows[i].n >= 0) {
			assert_int_equal((int)v.n, rows[i].n);
			assert_int_equal(quiet, rows[i].quiet);
		}
		strvec_fini(&v);
	}
	/* Keys as they are: never URL-decoded, entities resolved. */
	strvec_init(&v);
	assert_int_equal(s3_xml_delete_request(delete_req, strlen(delete_req),
	    &v, &quiet), 4);
	assert_string_equal(v.v[0], "a+b.html");
	assert_string_equal(v.v[1], "a b & c.html");
	assert_string_equal(v.v[2], "caf\xc3\xa9/%41.txt");
	assert_string_equal(v.v[3], "x");
	strvec_fini(&v);
}

/* A deterministic generator, so a failure names its seed. */
static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_cut_and_garbage(void **state)
{
	const char	*resp = "<DeleteResult><Deleted><Key>a</Key></Deleted>"
	    "<Deleted><Key>b</Key></Deleted></DeleteResult>";
	struct strvec	 v;
	char		 buf[512];
	size_t		 i, j, n, len;
	uint32_t	 seed = 20261118;
	int		 quiet, rc;

	/* Cut anywhere, a document is never read as a shorter success. */
	for (i = 0; i < strlen(delete_req); i++) {
		strvec_init(&v);
		assert_int_equal(s3_xml_delete_request(delete_req, i, &v,
		    &quiet), -1);
		strvec_fini(&v);
	}
	for (i = 0; i < strlen(resp); i++) {
		strvec_init(&v);
		assert_int_equal(s3_xml_deleted_keys(resp, i, &v), -1);
		strvec_fini(&v);
	}
	/* Random bytes, and a document with random bytes overwritten:
	 * never a crash, and a count is what was appended. */
	for (i = 0; i < 2000; i++) {
		len = next(&seed) % sizeof(buf);
		if (i % 2 == 0) {
			for (j = 0; j < len; j++)
				buf[j] = (char)next(&seed);
		} else {
			len = strlen(delete_req) < sizeof(buf) ?
			    strlen(delete_req) : sizeof(buf);
			memcpy(buf, delete_req, len);
			for (n = next(&seed) % 4 + 1; n > 0; n--)
				buf[next(&seed) % len] = (char)next(&seed);
		}
		strvec_init(&v);
		rc = s3_xml_delete_request(buf, len, &v, &quiet);
		if (rc >= 0)
			assert_int_equal((size_t)rc, v.n);
		strvec_fini(&v);
		strvec_init(&v);
		rc = s3_xml_deleted_keys(buf, len, &v);
		if (rc >= 0)
			assert_int_equal((size_t)rc, v.n);
		strvec_fini(&v);
		rc = s3_xml_is_error(buf, len);
		assert_true(rc >= -1 && rc <= 1);
	}
}

static void
test_result_etag(void **state)
{
	const char	*copy = "<CopyObjectResult><LastModified>2026-01-01T00:00:00"
	    "Z</LastModified><ETag>\"9b2cf535f27731c974343645a3985328\""
	    "</ETag></CopyObjectResult>";
	const char	*mpu = "  \n<CompleteMultipartUploadResult xmlns=\"x\">"
	    "<Bucket>b</Bucket><Key>k</Key><ETag>&quot;3858f62230ac3c915f300c"
	    "664312c11f-9&quot;</ETag></CompleteMultipartUploadResult>";
	char		 e[80];

	assert_int_equal(s3_xml_result_etag(copy, strlen(copy), e, sizeof(e)),
	    0);
	assert_string_equal(e, "\"9b2cf535f27731c974343645a3985328\"");
	assert_int_equal(s3_xml_result_etag(mpu, strlen(mpu), e, sizeof(e)),
	    0);
	assert_string_equal(e, "\"3858f62230ac3c915f300c664312c11f-9\"");
	assert_int_equal(s3_xml_result_etag("<Error/>", 8, e, sizeof(e)), -1);
	assert_int_equal(s3_xml_result_etag(copy, strlen(copy), e, 8), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_error),
		cmocka_unit_test(test_deleted),
		cmocka_unit_test(test_deleted_url_encoded),
		cmocka_unit_test(test_deleted_bad),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_delete_request),
		cmocka_unit_test(test_cut_and_garbage),
		cmocka_unit_test(test_result_etag),
	};

	return cmocka_run_group_tests_name("s3_xml", tests, NULL, NULL);
}
