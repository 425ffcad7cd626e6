/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of s3_meta: a request's headers and a HEAD's agree on the
 * same stored metadata (S3's and moto's defaults, aws-chunked stripped),
 * every field changes the digest, case and whitespace rules, x-amz-meta-*
 * in any order, what is unknown (and never equal, not even to itself),
 * CopyObject's directives, x-amz-copy-source, and the UploadId of a
 * CreateMultipartUpload answer.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "s3_meta.h"

#define MAXH	12

/* A header list: names and values, NULL-terminated. */
struct hl {
	struct sigv4_header h[MAXH + 1];
};

static size_t
count(const struct hl *l)
{
	size_t	 n = 0;

	while (n < MAXH && l->h[n].name != NULL)
		n++;
	return n;
}

static struct s3_meta
req(const struct hl *l)
{
	struct s3_meta	 m;

	s3_meta_from_request(l->h, count(l), &m);
	return m;
}

static struct s3_meta
resp(const struct hl *l)
{
	struct s3_meta	 m;

	s3_meta_from_response(l->h, count(l), &m);
	return m;
}

/* The headers a real exchange carries besides the fields. */
#define REQ_NOISE							\
	{ "Host", "127.0.0.1:9000" }, { "X-Amz-Date", "20260101T000000Z" },\
	{ "Authorization", "AWS4-HMAC-SHA256 Credential=..." },		\
	{ "Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==" },			\
	{ "x-amz-acl", "public-read" }
#define RESP_NOISE							\
	{ "ETag", "\"d41d8cd98f00b204e9800998ecf8427e\"" },		\
	{ "Last-Modified", "Thu, 01 Jan 2026 00:00:00 GMT" },		\
	{ "Content-Length", "5" }, { "Accept-Ranges", "bytes" }

/* Same stored metadata: the request that stored it, the HEAD after. */
static void
test_request_response_agree(void **state)
{
	static const struct {
		const char	*what;
		struct hl	 rq, rs;
	} rows[] = {
		{ "nothing set: S3's default type",
		  { { REQ_NOISE } },
		  { { RESP_NOISE,
		      { "Content-Type", S3_META_DEFAULT_TYPE } } } },
		{ "type and cache-control",
		  { { { "Content-Type", "text/html" },
		      { "Cache-Control", "max-age=60" }, REQ_NOISE } },
		  { { { "content-type", "text/html" },
		      { "cache-control", "max-age=60" }, RESP_NOISE } } },
		{ "every field, names in another case and order",
		  { { { "Content-Type", "text/html; charset=utf-8" },
		      { "Content-Encoding", "gzip" },
		      { "Content-Language", "en-GB" },
		      { "Content-Disposition", "inline; filename=\"a.html\"" },
		      { "Cache-Control", "public, max-age=31536000" },
		      { "Expires", "Thu, 01 Dec 2044 16:00:00 GMT" },
		      { "x-amz-website-redirect-location", "/b.html" },
		      { "X-Amz-Meta-Author", "Ann" },
		      { "x-amz-meta-b", "" } } },
		  { { { "x-amz-meta-b", "" },
		      { "x-amz-meta-author", "Ann" },
		      { "X-AMZ-WEBSITE-REDIRECT-LOCATION", "/b.html" },
		      { "expires", "Thu, 01 Dec 2044 16:00:00 GMT" },
		      { "cache-control", "public, max-age=31536000" },
		      { "content-disposition", "inline; filename=\"a.html\"" },
		      { "content-language", "en-GB" },
		      { "content-encoding", "gzip" },
		      { "content-type", "text/html; charset=utf-8" },
		      RESP_NOISE } } },
		{ "aws-chunked alone is framing, not stored",
		  { { { "Content-Encoding", "aws-chunked" },
		      { "Content-Type", "text/css" } } },
		  { { { "Content-Type", "text/css" }, RESP_NOISE } } },
		{ "botocore's gzip,aws-chunked is stored as gzip",
		  { { { "Content-Encoding", "gzip,aws-chunked" },
		      { "Content-Type", "text/css" } } },
		  { { { "Content-Type", "text/css" },
		      { "Content-Encoding", "gzip" } } } },
		{ "optional whitespace around values is not part of them",
		  { { { "Cache-Control", " \tmax-age=60 " },
		      { "x-amz-meta-a", "  x y  " } } },
		  { { { "Cache-Control", "max-age=60" },
		      { "x-amz-meta-a", "x y" },
		      { "Content-Type", S3_META_DEFAULT_TYPE } } } },
		{ "x-amz-meta-* in any order",
		  { { { "x-amz-meta-c", "3" }, { "x-amz-meta-a", "1" },
		      { "x-amz-meta-b", "2" } } },
		  { { { "x-amz-meta-b", "2" }, { "x-amz-meta-c", "3" },
		      { "Content-Type", S3_META_DEFAULT_TYPE },
		      { "x-amz-meta-a", "1" } } } },
	};
	struct s3_meta	 a, b;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		a = req(&rows[i].rq);
		b = resp(&rows[i].rs);
		if (!a.known || !b.known || !s3_meta_equal(&a, &b))
			fail_msg("%s: known %d %d, %016llx %016llx",
			    rows[i].what, a.known, b.known,
			    (unsigned long long)a.digest,
			    (unsigned long long)b.digest);
	}
}

/* A base with every field; each row changes one thing. */
#define BASE_TYPE	{ "Content-Type", "text/html" }
#define BASE_ENC	{ "Content-Encoding", "gzip" }
#define BASE_LANG	{ "Content-Language", "en" }
#define BASE_DISP	{ "Content-Disposition", "inline" }
#define BASE_CC		{ "Cache-Control", "max-age=31536000" }
#define BASE_EXP	{ "Expires", "Thu, 01 Dec 2044 16:00:00 GMT" }
#define BASE_REDIR	{ "x-amz-website-redirect-location", "/x" }
#define BASE_META	{ "x-amz-meta-a", "1" }, { "x-amz-meta-b", "two" }

static void
test_every_field_counts(void **state)
{
	static const struct hl base = { { BASE_TYPE, BASE_ENC, BASE_LANG,
	    BASE_DISP, BASE_CC, BASE_EXP, BASE_REDIR, BASE_META } };
	static const struct {
		const char	*what;
		struct hl	 h;
	} rows[] = {
		{ "Content-Type", { { { "Content-Type", "text/plain" },
		    BASE_ENC, BASE_LANG, BASE_DISP, BASE_CC, BASE_EXP,
		    BASE_REDIR, BASE_META } } },
		{ "no Content-Type (default)", { { BASE_ENC, BASE_LANG,
		    BASE_DISP, BASE_CC, BASE_EXP, BASE_REDIR, BASE_META } } },
		{ "Content-Encoding", { { BASE_TYPE, { "Content-Encoding",
		    "br" }, BASE_LANG, BASE_DISP, BASE_CC, BASE_EXP,
		    BASE_REDIR, BASE_META } } },
		{ "no Content-Encoding", { { BASE_TYPE, BASE_LANG, BASE_DISP,
		    BASE_CC, BASE_EXP, BASE_REDIR, BASE_META } } },
		{ "Content-Language", { { BASE_TYPE, BASE_ENC,
		    { "Content-Language", "fr" }, BASE_DISP, BASE_CC,
		    BASE_EXP, BASE_REDIR, BASE_META } } },
		{ "Content-Disposition", { { BASE_TYPE, BASE_ENC, BASE_LANG,
		    { "Content-Disposition", "attachment" }, BASE_CC,
		    BASE_EXP, BASE_REDIR, BASE_META } } },
		{ "Cache-Control", { { BASE_TYPE, BASE_ENC, BASE_LANG,
		    BASE_DISP, { "Cache-Control", "max-age=60" }, BASE_EXP,
		    BASE_REDIR, BASE_META } } },
		{ "no Cache-Control", { { BASE_TYPE, BASE_ENC, BASE_LANG,
		    BASE_DISP, BASE_EXP, BASE_REDIR, BASE_META } } },
		{ "Expires", { { BASE_TYPE, BASE_ENC, BASE_LANG, BASE_DISP,
		    BASE_CC, { "Expires", "Fri, 02 Dec 2044 16:00:00 GMT" },
		    BASE_REDIR, BASE_META } } },
		{ "redirect", { { BASE_TYPE, BASE_ENC, BASE_LANG, BASE_DISP,
		    BASE_CC, BASE_EXP,
		    { "x-amz-website-redirect-location", "/y" },
		    BASE_META } } },
		{ "no redirect", { { BASE_TYPE, BASE_ENC, BASE_LANG,
		    BASE_DISP, BASE_CC, BASE_EXP, BASE_META } } },
		{ "a meta value", { { BASE_TYPE, BASE_ENC, BASE_LANG,
		    BASE_DISP, BASE_CC, BASE_EXP, BASE_REDIR,
		    { "x-amz-meta-a", "2" }, { "x-amz-meta-b", "two" } } } },
		{ "a meta value's case", { { BASE_TYPE, BASE_ENC, BASE_LANG,
		    BASE_DISP, BASE_CC, BASE_EXP, BASE_REDIR,
		    { "x-amz-meta-a", "1" }, { "x-amz-meta-b", "Two" } } } },
		{ "a meta value emptied", { { BASE_TYPE, BASE_ENC, BASE_LANG,
		    BASE_DISP, BASE_CC, BASE_EXP, BASE_REDIR,
		    { "x-amz-meta-a", "1" }, { "x-amz-meta-b", "" } } } },
		{ "a meta removed", { { BASE_TYPE, BASE_ENC, BASE_LANG,
		    BASE_DISP, BASE_CC, BASE_EXP, BASE_REDIR,
		    { "x-amz-meta-a", "1" } } } },
		{ "a meta added", { { BASE_TYPE, BASE_ENC, BASE_LANG,
		    BASE_DISP, BASE_CC, BASE_EXP, BASE_REDIR, BASE_META,
		    { "x-amz-meta-c", "" } } } },
		{ "a meta renamed", { { BASE_TYPE, BASE_ENC, BASE_LANG,
		    BASE_DISP, BASE_CC, BASE_EXP, BASE_REDIR,
		    { "x-amz-meta-a", "1" }, { "x-amz-meta-bb", "two" } } } },
		{ "name/value boundary moved", { { BASE_TYPE, BASE_ENC,
		    BASE_LANG, BASE_DISP, BASE_CC, BASE_EXP, BASE_REDIR,
		    { "x-amz-meta-a", "1" }, { "x-amz-meta-bt", "wo" } } } },
		{ "inner whitespace", { { BASE_TYPE, BASE_ENC, BASE_LANG,
		    BASE_DISP, BASE_CC, BASE_EXP, BASE_REDIR, { "x-amz-meta-a", "1" },
		    { "x-amz-meta-b", "t wo" } } } },
	};
	struct s3_meta	 b, m, seen[sizeof(rows) / sizeof(rows[0])];
	size_t		 i, j;

	b = req(&base);
	assert_true(b.known);
	assert_true(b.redirect);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		m = req(&rows[i].h);
		if (!m.known || s3_meta_equal(&b, &m))
			fail_msg("%s: known %d, same as the base", rows[i].what,
			    m.known);
		/* The response form tells the same change. */
		m = resp(&rows[i].h);
		if (m.known && s3_meta_equal(&b, &m))
			fail_msg("%s (response form)", rows[i].what);
		seen[i] = req(&rows[i].h);
		for (j = 0; j < i; j++)
			if (s3_meta_equal(&seen[i], &seen[j]))
				fail_msg("%s and %s agree", rows[i].what,
				    rows[j].what);
	}
	/* Its own copy is equal: the rows above are not all unknown. */
	m = req(&base);
	assert_true(s3_meta_equal(&b, &m));
}

static void
test_case_and_whitespace(void **state)
{
	static const struct hl a = { { { "Cache-Control", "max-age=60" },
	    { "X-Amz-Meta-Owner", "Web Team" } } };
	static const struct hl names = { { { "CACHE-CONTROL", "max-age=60" },
	    { "x-amz-meta-owner", "Web Team" } } };
	static const struct hl ows = { { { "cache-control", "\tmax-age=60" },
	    { "x-amz-meta-OWNER", "Web Team \t" } } };
	static const struct hl vcase = { { { "Cache-Control", "Max-Age=60" },
	    { "X-Amz-Meta-Owner", "Web Team" } } };
	static const struct hl inner = { { { "Cache-Control", "max-age=60" },
	    { "X-Amz-Meta-Owner", "Web  Team" } } };
	struct s3_meta	 ma = req(&a), mb;

	mb = req(&names);
	assert_true(s3_meta_equal(&ma, &mb));
	mb = req(&ows);
	assert_true(s3_meta_equal(&ma, &mb));
	mb = req(&vcase);
	assert_false(s3_meta_equal(&ma, &mb));
	mb = req(&inner);
	assert_false(s3_meta_equal(&ma, &mb));
}

static void
test_defaults(void **state)
{
	static const struct hl none = { { { "x-amz-meta-a", "1" } } };
	static const struct hl dflt = { { { "x-amz-meta-a", "1" },
	    { "Content-Type", S3_META_DEFAULT_TYPE } } };
	static const struct hl app = { { { "x-amz-meta-a", "1" },
	    { "Content-Type", "application/octet-stream" } } };
	struct s3_meta	 a, b;

	/* A request without a type stores the default... */
	a = req(&none);
	b = req(&dflt);
	assert_true(s3_meta_equal(&a, &b));
	b = resp(&dflt);
	assert_true(s3_meta_equal(&a, &b));
	/* ...which is not application/octet-stream... */
	b = req(&app);
	assert_false(s3_meta_equal(&a, &b));
	/* ...and a response without one did not come from S3's default. */
	b = resp(&none);
	assert_true(b.known);
	assert_false(s3_meta_equal(&a, &b));
	assert_false(a.redirect);
}

/* What cannot be told is unknown, and unknown equals nothing. */
static void
test_unknown(void **state)
{
	static const struct {
		const char	*what;
		int		 response;
		struct hl	 h;
	} rows[] = {
		{ "a field twice", 0, { { { "Cache-Control", "a" },
		    { "cache-control", "a" } } } },
		{ "a meta twice", 0, { { { "x-amz-meta-x", "1" },
		    { "X-Amz-Meta-X", "2" } } } },
		{ "a field twice (response)", 1, { { { "Expires", "a" },
		    { "Expires", "a" } } } },
		{ "non-ASCII value", 0, { { { "x-amz-meta-name",
		    "Ren\xc3\xa9" } } } },
		{ "non-ASCII value (response)", 1, { { { "Content-Disposition",
		    "inline; filename=\xc3\xa9" } } } },
		{ "control byte", 0, { { { "x-amz-meta-a", "a\x01" } } } },
		{ "empty Content-Type", 0, { { { "Content-Type", "" } } } },
		{ "x-amz-meta- without a name", 0, { { { "x-amz-meta-",
		    "v" } } } },
		{ "metadata S3 could not return", 1, { { { "Content-Type",
		    "text/html" }, { "x-amz-missing-meta", "1" } } } },
		{ "aws-chunked with a space", 0, { { { "Content-Encoding",
		    "gzip, aws-chunked" } } } },
		{ "aws-chunked first", 0, { { { "Content-Encoding",
		    "aws-chunked,gzip" } } } },
		{ "aws-chunked in capitals", 0, { { { "Content-Encoding",
		    "AWS-CHUNKED" } } } },
		{ "aws-chunked twice", 0, { { { "Content-Encoding",
		    "aws-chunked,aws-chunked" } } } },
		{ "aws-chunked after an empty coding", 0, { {
		    { "Content-Encoding", ",aws-chunked" } } } },
	};
	struct s3_meta	 a, b;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		a = rows[i].response ? resp(&rows[i].h) : req(&rows[i].h);
		b = a;
		if (a.known || s3_meta_equal(&a, &b))
			fail_msg("%s: known", rows[i].what);
	}
	assert_false(s3_meta_equal(NULL, NULL));
	/* The response form keeps what the store shows, aws-chunked too. */
	a = resp(&rows[9].h);
	assert_true(a.known);
}

static void
test_copy(void **state)
{
	static const struct hl src_h = { { { "Content-Type", "text/html" },
	    { "Cache-Control", "max-age=60" } } };
	static const struct hl redir_h = { { { "Content-Type", "text/html" },
	    { "x-amz-website-redirect-location", "/r" } } };
	static const struct hl plain = { { { "x-amz-copy-source", "b/k" } } };
	static const struct hl copy = { { { "x-amz-copy-source", "b/k" },
	    { "x-amz-metadata-directive", "COPY" } } };
	static const struct hl copy_sets = { { { "x-amz-copy-source", "b/k" },
	    { "Cache-Control", "no-cache" } } };
	static const struct hl replace = { { { "x-amz-copy-source", "b/k" },
	    { "x-amz-metadata-directive", "REPLACE" },
	    { "Content-Type", "text/html" },
	    { "Cache-Control", "no-cache" } } };
	static const struct hl replace_bare = { {
	    { "x-amz-copy-source", "b/k" },
	    { "x-amz-metadata-directive", "REPLACE" } } };
	static const struct hl lower = { { { "x-amz-copy-source", "b/k" },
	    { "x-amz-metadata-directive", "replace" } } };
	static const struct hl twice = { { { "x-amz-copy-source", "b/k" },
	    { "x-amz-metadata-directive", "REPLACE" },
	    { "x-amz-metadata-directive", "REPLACE" } } };
	static const struct hl redir_only = { {
	    { "x-amz-copy-source", "b/k" },
	    { "x-amz-website-redirect-location", "/r" } } };
	struct s3_meta	 src = req(&src_h), redir = req(&redir_h), m, want;

	s3_meta_for_copy(plain.h, count(&plain), &src, &m);
	assert_true(s3_meta_equal(&m, &src));
	s3_meta_for_copy(copy.h, count(&copy), &src, &m);
	assert_true(s3_meta_equal(&m, &src));
	/* The source unknown, absent, or with a redirect (not copied). */
	s3_meta_for_copy(copy.h, count(&copy), NULL, &m);
	assert_false(m.known);
	want = src;
	want.known = 0;
	s3_meta_for_copy(copy.h, count(&copy), &want, &m);
	assert_false(m.known);
	s3_meta_for_copy(copy.h, count(&copy), &redir, &m);
	assert_false(m.known);
	s3_meta_for_copy(redir_only.h, count(&redir_only), &src, &m);
	assert_false(m.known);
	/* COPY with fields S3 ignores (and moto may apply). */
	s3_meta_for_copy(copy_sets.h, count(&copy_sets), &src, &m);
	assert_false(m.known);
	/* REPLACE: the request's, whatever the source. */
	s3_meta_for_copy(replace.h, count(&replace), NULL, &m);
	want = req(&replace);
	assert_true(m.known);
	assert_true(s3_meta_equal(&m, &want));
	assert_false(s3_meta_equal(&m, &src));
	s3_meta_for_copy(replace_bare.h, count(&replace_bare), &src, &m);
	want = req(&replace_bare);
	assert_true(s3_meta_equal(&m, &want));
	assert_false(s3_meta_equal(&m, &src));
	/* Not a directive S3 knows, or said twice. */
	s3_meta_for_copy(lower.h, count(&lower), &src, &m);
	assert_false(m.known);
	s3_meta_for_copy(twice.h, count(&twice), &src, &m);
	assert_false(m.known);
}

static void
test_copy_source(void **state)
{
	static const struct {
		const char	*in, *bucket, *key;
	} rows[] = {
		{ "blog/index.html", "blog", "index.html" },
		{ "/blog/a/b.html", "blog", "a/b.html" },
		{ "blog/caf%C3%A9%20%2B+x", "blog", "caf\xc3\xa9 ++x" },
		{ "blog/what%3F", "blog", "what?" },
		{ "blog/k?versionId=3", NULL, NULL },
		{ "blog", NULL, NULL },
		{ "blog/", NULL, NULL },
		{ "/k", NULL, NULL },
		{ "", NULL, NULL },
		{ "blog/a%zz", NULL, NULL },
		{ "blog/a%00b", NULL, NULL },
	};
	struct buf	 b, k;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		buf_init(&b);
		buf_init(&k);
		rc = s3_meta_copy_source(rows[i].in, &b, &k);
		if (rows[i].bucket == NULL ? rc != -1 : rc != 0 ||
		    strcmp(buf_str(&b), rows[i].bucket) != 0 ||
		    strcmp(buf_str(&k), rows[i].key) != 0)
			fail_msg("row %zu (%s): rc %d, %s %s", i, rows[i].in,
			    rc, buf_str(&b), buf_str(&k));
		buf_fini(&b);
		buf_fini(&k);
	}
	assert_int_equal(s3_meta_copy_source(NULL, &b, &k), -1);
}

static void
test_field(void **state)
{
	static const char *const yes[] = { "Content-Type", "content-type",
	    "CONTENT-ENCODING", "Content-Language", "Content-Disposition",
	    "Cache-Control", "Expires", "x-amz-website-redirect-location",
	    "x-amz-meta-a", "X-AMZ-META-Long-Name" };
	static const char *const no[] = { "Content-Length", "Content-MD5",
	    "ETag", "x-amz-acl", "x-amz-tagging", "x-amz-storage-class",
	    "x-amz-meta", "Last-Modified", "x-amz-server-side-encryption",
	    "Content-Typ", "" };
	size_t	 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!s3_meta_field(yes[i]))
			fail_msg("%s", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (s3_meta_field(no[i]))
			fail_msg("%s", no[i]);
	assert_false(s3_meta_field(NULL));
}

static void
test_upload_id(void **state)
{
	static const struct {
		const char	*doc, *id;
	} rows[] = {
		/* S3 API Reference, CreateMultipartUpload. */
		{ "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		  "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws"
		  ".com/doc/2006-03-01/\"><Bucket>example-bucket</Bucket>"
		  "<Key>example-object</Key><UploadId>VXBsb2FkIElEIGZvciA2aWWp"
		  "bmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>"
		  "</InitiateMultipartUploadResult>",
		  "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA" },
		/* A key that looks like the element, escaped as S3 does. */
		{ "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>"
		  "&lt;UploadId&gt;x&lt;/UploadId&gt;</Key><UploadId>a.b_c-d~e"
		  "+f/g=</UploadId></InitiateMultipartUploadResult>",
		  "a.b_c-d~e+f/g=" },
		/* Cut short before the end tag: not yet. */
		{ "<InitiateMultipartUploadResult><UploadId>abc", NULL },
		{ "<InitiateMultipartUploadResult><UploadId>abc</Upload", NULL },
		{ "<InitiateMultipartUploadResult><UploadId></UploadId>", NULL },
		{ "<InitiateMultipartUploadResult><UploadId>a b</UploadId>",
		  NULL },
		{ "<InitiateMultipartUploadResult><UploadId>a&amp;b"
		  "</UploadId>", NULL },
		{ "<InitiateMultipartUploadResult><UploadId>a</UploadId>"
		  "<UploadId>b</UploadId>", NULL },
		{ "<Error><UploadId>abc</UploadId></Error>", NULL },
		{ "", NULL },
	};
	static const char nul[] = "<InitiateMultipartUploadResult>"
	    "<UploadId>a\0b</UploadId>";
	char	 out[64], small[4], doc[sizeof(nul)];
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rc = s3_meta_upload_id(rows[i].doc, strlen(rows[i].doc), out,
		    sizeof(out));
		if (rows[i].id == NULL ? rc != -1 : rc != 0 ||
		    strcmp(out, rows[i].id) != 0)
			fail_msg("row %zu: rc %d", i, rc);
	}
	/* Too long for out; a NUL inside (55 bytes). */
	assert_int_equal(s3_meta_upload_id(rows[0].doc, strlen(rows[0].doc),
	    small, sizeof(small)), -1);
	assert_int_equal(s3_meta_upload_id(nul, sizeof(nul) - 1, out,
	    sizeof(out)), -1);
	memcpy(doc, nul, sizeof(nul));
	assert_int_equal(doc[42], '\0');
	doc[42] = 'x';		/* the test is right: "axb" is an ID */
	assert_int_equal(s3_meta_upload_id(doc, sizeof(doc) - 1, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "axb");
	assert_int_equal(s3_meta_upload_id(NULL, 0, out, sizeof(out)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_response_agree),
		cmocka_unit_test(test_every_field_counts),
		cmocka_unit_test(test_case_and_whitespace),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_copy_source),
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_upload_id),
	};

	return cmocka_run_group_tests_name("s3_meta", tests, NULL, NULL);
}
