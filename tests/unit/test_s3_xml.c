/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of s3_xml: the 200-with-Error quirk and DeleteObjects
 * results, fed whole and with the padding S3 adds to slow answers. */
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
		{ "", 1 },
		{ "   ", 1 },
		{ "<CopyObjectResult>", 1 },
		{ "not xml at all", 1 },
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
	assert_int_equal(s3_xml_deleted_keys(doc, strlen(doc), 0, &v), 3);
	assert_int_equal(v.n, 3);
	assert_string_equal(v.v[0], "a/index.html");
	assert_string_equal(v.v[1], "caf\xc3\xa9 & more.txt");
	assert_string_equal(v.v[2], "x+y.txt");
	strvec_fini(&v);
}

static void
test_deleted_url_encoded(void **state)
{
	/* encoding-type=url: S3 form-encodes keys ('+' is a space). */
	const char	*doc =
	    "<DeleteResult><EncodingType>url</EncodingType>"
	    "<Deleted><Key>a+b%2Bc%2Fd.txt</Key></Deleted>"
	    "<Deleted><Key>caf%C3%A9</Key></Deleted></DeleteResult>";
	const char	*plain = "<DeleteResult><Deleted><Key>a%20b</Key>"
	    "</Deleted></DeleteResult>";
	struct strvec	 v;

	strvec_init(&v);
	assert_int_equal(s3_xml_deleted_keys(doc, strlen(doc), 0, &v), 2);
	assert_string_equal(v.v[0], "a b+c/d.txt");
	assert_string_equal(v.v[1], "caf\xc3\xa9");
	strvec_fini(&v);
	strvec_init(&v);
	assert_int_equal(s3_xml_deleted_keys(plain, strlen(plain), 1, &v), 1);
	assert_string_equal(v.v[0], "a b");
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
		assert_int_equal(s3_xml_deleted_keys(bad[i], strlen(bad[i]), 0,
		    &v), -1);
		strvec_fini(&v);
	}
	strvec_init(&v);
	assert_int_equal(s3_xml_deleted_keys("<DeleteResult/>", 15, 0, &v), 0);
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
		assert_int_equal(s3_xml_is_error(doc, i), 1);
	assert_int_equal(s3_xml_is_error(doc, n), 0);
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
		cmocka_unit_test(test_result_etag),
	};

	return cmocka_run_group_tests_name("s3_xml", tests, NULL, NULL);
}
