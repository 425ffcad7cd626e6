/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cloudfront: the CloudFront client.
 *
 * - cloudfront_batch_xml: escaping (& < > quotes, tab, CR, LF, UTF-8),
 *   0, 1 and 3,000 paths read back with libxml2, and refusals (control
 *   characters, malformed UTF-8, empty caller reference).
 * - cloudfront_parse: every sample answer under tests/data/cloudfront/
 *   ($TOP_SRCDIR, default ".") to an outcome, code and message: the
 *   create and get answers, moto's upper-case COMPLETED, every documented
 *   error, an HTML 503, empty, garbage and truncated bodies, and entity
 *   bombs and external entities, which must not be expanded or fetched.
 * - cloudfront_parse_distribution: moto's and a hand-written
 *   GetDistribution answer (origins, paths, status, enabled), more
 *   origins than kept, and answers that are no Distribution.
 * - cloudfront_create/get/get_distribution against a one-shot HTTP server
 *   in a thread: the request as sent (method, path, headers, SigV4
 *   recomputed), a refused connection, a silent server (timeout), an
 *   over-long answer, an error answer.
 */
#include "config.h"
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L	/* strdup, mkstemp without autoconf's */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "buf.h"
#include "cloudfront.h"
#include "credentials.h"
#include "oneshot.h"
#include "sigv4.h"

#define DATA_DIR	"tests/data/cloudfront"
#define XMLNS		"http://cloudfront.amazonaws.com/doc/2020-05-31/"
#define XML_DECL	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
#define TEST_AKID	"AKIDCLOUDFRONTTEST01"
#define TEST_SECRET	"cloudfrontTestSecretKey/0123456789+abcdef"
#define TEST_TOKEN	"FwoGZXIvYXdzEXAMPLE//session+token=="

/* --- files ------------------------------------------------------------ */

/* The whole file under $TOP_SRCDIR, NUL-terminated; NULL when missing. */
static char *
slurp(const char *rel, size_t *lenp)
{
	struct buf	 path, data;
	const char	*top;
	char		 chunk[4096];
	FILE		*f = NULL;
	size_t		 n;
	char		*ret = NULL;

	buf_init(&path);
	buf_init(&data);
	top = getenv("TOP_SRCDIR");
	if (top == NULL || *top == '\0')
		top = ".";
	buf_printf(&path, "%s/%s", top, rel);
	f = fopen(buf_str(&path), "rb");
	if (f == NULL)
		goto out;
	for (;;) {
		n = fread(chunk, 1, sizeof(chunk), f);
		if (n == 0)
			break;
		buf_append(&data, chunk, n);
	}
	if (ferror(f) || !buf_ok(&data))
		goto out;
	/* An empty file is data too: "" rather than NULL. */
	buf_append(&data, "", 0);
	if (lenp != NULL)
		*lenp = data.len;
	ret = data.data != NULL ? buf_take(&data) : calloc(1, 1);
out:
	if (f != NULL)
		fclose(f);
	buf_fini(&path);
	buf_fini(&data);
	return ret;
}

static char *
slurp_data(const char *name, size_t *lenp)
{
	char	 rel[256];
	char	*s;

	snprintf(rel, sizeof(rel), "%s/%s", DATA_DIR, name);
	s = slurp(rel, lenp);
	if (s == NULL)
		fail_msg("cannot read %s (set TOP_SRCDIR)", rel);
	return s;
}

/* --- cloudfront_batch_xml ---------------------------------------------- */

static void
test_batch_escaping(void **state)
{
	static const char *const paths[] = {
		"/a&b.html", "/x<y>z", "/q\"uote's", "/%20already%2Aencoded",
	};
	struct buf	 b;

	(void)state;
	buf_init(&b);
	assert_int_equal(cloudfront_batch_xml(&b, "ref<&>'\"", paths, 4), 0);
	assert_string_equal(buf_str(&b), XML_DECL
	    "<InvalidationBatch xmlns=\"" XMLNS "\"><Paths>"
	    "<Quantity>4</Quantity><Items>"
	    "<Path>/a&amp;b.html</Path>"
	    "<Path>/x&lt;y&gt;z</Path>"
	    "<Path>/q&quot;uote&apos;s</Path>"
	    "<Path>/%20already%2Aencoded</Path>"
	    "</Items></Paths>"
	    "<CallerReference>ref&lt;&amp;&gt;&apos;&quot;</CallerReference>"
	    "</InvalidationBatch>");
	buf_fini(&b);
}

static void
test_batch_zero_one(void **state)
{
	static const char *const one[] = { "/index.html" };
	struct buf	 b;

	(void)state;
	buf_init(&b);
	assert_int_equal(cloudfront_batch_xml(&b, "r0", NULL, 0), 0);
	assert_string_equal(buf_str(&b), XML_DECL
	    "<InvalidationBatch xmlns=\"" XMLNS "\"><Paths>"
	    "<Quantity>0</Quantity></Paths>"
	    "<CallerReference>r0</CallerReference></InvalidationBatch>");
	buf_reset(&b);
	assert_int_equal(cloudfront_batch_xml(&b, "r1", one, 1), 0);
	assert_string_equal(buf_str(&b), XML_DECL
	    "<InvalidationBatch xmlns=\"" XMLNS "\"><Paths>"
	    "<Quantity>1</Quantity><Items><Path>/index.html</Path></Items>"
	    "</Paths><CallerReference>r1</CallerReference>"
	    "</InvalidationBatch>");

	/* The document is appended to what the buffer holds. */
	buf_reset(&b);
	buf_puts(&b, "prefix:");
	assert_int_equal(cloudfront_batch_xml(&b, "r1", one, 1), 0);
	assert_memory_equal(b.data, "prefix:" XML_DECL, 7 + strlen(XML_DECL));
	buf_fini(&b);
}

static xmlNodePtr
elem(xmlNodePtr parent, const char *name)
{
	xmlNodePtr	 n;

	for (n = parent != NULL ? parent->children : NULL; n != NULL;
	    n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

static char *
text_of(xmlNodePtr n)
{
	xmlChar	*s = xmlNodeGetContent(n);
	char	*r;

	assert_non_null(s);
	r = strdup((const char *)s);
	xmlFree(s);
	return r;
}

/* Parse a batch document back and compare every path and the reference. */
static void
check_roundtrip(const struct buf *b, const char *ref,
    const char *const *paths, size_t n)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root, p, items;
	size_t		 i = 0;
	char		*s;

	doc = xmlReadMemory(b->data, (int)b->len, NULL, NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	root = xmlDocGetRootElement(doc);
	assert_non_null(root);
	assert_string_equal((const char *)root->name, "InvalidationBatch");
	assert_non_null(root->ns);
	assert_string_equal((const char *)root->ns->href, XMLNS);
	s = text_of(elem(elem(root, "Paths"), "Quantity"));
	assert_int_equal(strtoul(s, NULL, 10), n);
	free(s);
	s = text_of(elem(root, "CallerReference"));
	assert_string_equal(s, ref);
	free(s);
	items = elem(elem(root, "Paths"), "Items");
	if (n == 0)
		assert_null(items);
	for (p = items != NULL ? items->children : NULL; p != NULL;
	    p = p->next) {
		if (p->type != XML_ELEMENT_NODE)
			continue;
		assert_string_equal((const char *)p->name, "Path");
		assert_true(i < n);
		s = text_of(p);
		assert_string_equal(s, paths[i]);
		free(s);
		i++;
	}
	assert_int_equal(i, n);
	xmlFreeDoc(doc);
}

static void
test_batch_3000(void **state)
{
	enum { N = 3000 };
	char		**paths;
	struct buf	 b;
	size_t		 i;

	(void)state;
	paths = calloc(N, sizeof(*paths));
	assert_non_null(paths);
	for (i = 0; i < N; i++) {
		paths[i] = malloc(64);
		assert_non_null(paths[i]);
		snprintf(paths[i], 64, "/dir%zu/file-%04zu&x<%zu>.html",
		    i % 7, i, i);
	}
	buf_init(&b);
	assert_int_equal(cloudfront_batch_xml(&b, "batch-3000",
	    (const char *const *)paths, N), 0);
	check_roundtrip(&b, "batch-3000", (const char *const *)paths, N);
	buf_fini(&b);
	for (i = 0; i < N; i++)
		free(paths[i]);
	free(paths);
}

static void
test_batch_roundtrip(void **state)
{
	/* White space and line ends must come back as they went, and UTF-8
	 * passes as it is. */
	static const char *const paths[] = {
		"/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.html",
		"/tab\there", "/lf\nhere", "/cr\rhere", "/crlf\r\nhere",
		"/  two  spaces ", "/emoji-\xf0\x9f\x98\x80",
		"/]]>cdata-end", "/&amp;-literally",
	};
	size_t		 n = sizeof(paths) / sizeof(paths[0]);
	struct buf	 b;

	(void)state;
	buf_init(&b);
	assert_int_equal(cloudfront_batch_xml(&b, "r\xc3\xa9" "f\r\n", paths,
	    n), 0);
	check_roundtrip(&b, "r\xc3\xa9" "f\r\n", paths, n);
	assert_non_null(strstr(buf_str(&b), "<Path>/cr&#13;here</Path>"));
	assert_non_null(strstr(buf_str(&b), "<Path>/tab&#9;here</Path>"));
	assert_non_null(strstr(buf_str(&b), "<Path>/lf&#10;here</Path>"));
	assert_non_null(strstr(buf_str(&b), "/&amp;amp;-literally"));
	buf_fini(&b);
}

static void
test_batch_refused(void **state)
{
	static const char *const bad[] = {
		"/ctl\x01", "/del-ok-but-esc\x1b", "/bad\xff", "/over\xc0\xaf",
		"/surrogate\xed\xa0\x80", "/nonchar\xef\xbf\xbe",
		"/short\xc3", "/cut\xe6\x97", "/big\xf4\x90\x80\x80",
		"/five\xf8\x88\x80\x80\x80", "/over3\xe0\x80\xaf",
	};
	static const char *const good[] = { "/ok" };
	const char	*one[1];
	struct buf	 b;
	size_t		 i;

	(void)state;
	buf_init(&b);
	buf_puts(&b, "keep");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		one[0] = bad[i];
		assert_int_equal(cloudfront_batch_xml(&b, "r", one, 1), -1);
		assert_int_equal(cloudfront_batch_xml(&b, bad[i], good, 1),
		    -1);
		assert_string_equal(buf_str(&b), "keep");
		assert_true(buf_ok(&b));
	}
	one[0] = NULL;
	assert_int_equal(cloudfront_batch_xml(&b, "r", one, 1), -1);
	assert_int_equal(cloudfront_batch_xml(&b, "r", NULL, 1), -1);
	assert_int_equal(cloudfront_batch_xml(&b, "", good, 1), -1);
	assert_int_equal(cloudfront_batch_xml(&b, NULL, good, 1), -1);
	assert_string_equal(buf_str(&b), "keep");
	/* DEL is an XML character: allowed. */
	one[0] = "/del\x7f";
	assert_int_equal(cloudfront_batch_xml(&b, "r", one, 1), 0);
	buf_fini(&b);
}

/* --- cloudfront_parse --------------------------------------------------- */

struct parse_row {
	const char	*file;
	long		 status;
	enum cf_outcome	 outcome;
	const char	*code;
	const char	*message;	/* a substring of it; "" any */
	const char	*id;		/* "" none */
	const char	*inv_status;
};

static const struct parse_row parse_rows[] = {
	/* Answers. */
	{ "create-201.xml", 201, CF_OK, "", "", "I2J0I21PCUYOIK",
	    "InProgress" },
	{ "get-inprogress.xml", 200, CF_OK, "", "", "I2J0I21PCUYOIK",
	    "InProgress" },
	{ "get-completed.xml", 200, CF_OK, "", "", "I2J0I21PCUYOIK",
	    "Completed" },
	{ "moto-create-201.xml", 201, CF_OK, "", "", "D97UTGAL1L09I",
	    "COMPLETED" },
	{ "moto-get-200.xml", 200, CF_OK, "", "", "D97UTGAL1L09I",
	    "COMPLETED" },
	/* A 2xx we cannot read: maybe created, so retry (same reference). */
	{ "truncated.xml", 201, CF_RETRY, "", "without an Invalidation Id",
	    "", "" },
	{ "no-id.xml", 201, CF_RETRY, "", "without an Invalidation Id", "",
	    "" },
	{ "bad-id.xml", 200, CF_RETRY, "", "without an Invalidation Id", "",
	    "" },
	{ "two-roots.xml", 201, CF_RETRY, "", "without", "", "" },
	{ "empty.xml", 201, CF_RETRY, "", "without", "", "" },
	{ "garbage.bin", 200, CF_RETRY, "", "without", "", "" },
	{ "access-denied.xml", 200, CF_RETRY, "", "without", "", "" },
	{ "xxe-parameter.xml", 200, CF_RETRY, "", "without", "", "" },

	/* Documented errors. */
	{ "access-denied.xml", 403, CF_FATAL, "AccessDenied",
	    "is not authorized to perform: cloudfront:CreateInvalidation", "",
	    "" },
	{ "batch-too-large.xml", 413, CF_BAD_ARGUMENT, "BatchTooLarge",
	    "too large", "", "" },
	{ "inconsistent-quantities.xml", 400, CF_BAD_ARGUMENT,
	    "InconsistentQuantities", "don't match", "", "" },
	{ "invalid-argument.xml", 400, CF_BAD_ARGUMENT, "InvalidArgument",
	    "invalid invalidation paths", "", "" },
	{ "invalid-argument-caller-ref.xml", 400, CF_ALREADY_DONE,
	    "InvalidArgument", "caller reference that was used for a "
	    "previous invalidation batch", "", "" },
	{ "batch-already-exists.xml", 409, CF_ALREADY_DONE,
	    "InvalidationBatchAlreadyExists", "different invalidation batch",
	    "", "" },
	{ "missing-body.xml", 400, CF_FATAL, "MissingBody",
	    "requires a body", "", "" },
	{ "no-such-distribution.xml", 404, CF_FATAL, "NoSuchDistribution",
	    "does not exist", "", "" },
	{ "moto-no-such-distribution.xml", 404, CF_FATAL,
	    "NoSuchDistribution", "does not exist", "", "" },
	{ "no-such-invalidation.xml", 404, CF_FATAL, "NoSuchInvalidation",
	    "does not exist", "", "" },
	{ "too-many-in-progress.xml", 400, CF_RETRY,
	    "TooManyInvalidationsInProgress", "wildcard", "", "" },
	{ "throttling.xml", 400, CF_RETRY, "Throttling", "Rate exceeded", "",
	    "" },
	{ "internal-error.xml", 500, CF_RETRY, "InternalError",
	    "internal error", "", "" },
	{ "signature-mismatch.xml", 403, CF_FATAL, "SignatureDoesNotMatch",
	    "signature we calculated", "", "" },
	{ "escaped-message.xml", 400, CF_BAD_ARGUMENT, "InvalidArgument",
	    "Invalid path: /a&b<c>\"d\" \xc3\xa9t\xc3\xa9", "", "" },
	/* Any 5xx retries, whatever its code says. */
	{ "access-denied.xml", 503, CF_RETRY, "AccessDenied", "", "", "" },

	/* Not CloudFront XML. */
	{ "service-unavailable-503.html", 503, CF_RETRY, "",
	    "HTTP 503, not a CloudFront error: ERROR: The request could not "
	    "be satisfied 503 Service Unavailable", "", "" },
	{ "moto-500-form.html", 500, CF_RETRY, "",
	    "500 Internal Server Error", "", "" },
	{ "empty.xml", 502, CF_RETRY, "", "HTTP 502, empty body", "", "" },
	{ "empty.xml", 429, CF_RETRY, "", "HTTP 429, empty body", "", "" },
	{ "empty.xml", 403, CF_FATAL, "", "HTTP 403, empty body", "", "" },
	{ "empty.xml", 0, CF_RETRY, "", "no answer", "", "" },
	{ "garbage.bin", 400, CF_FATAL, "", "HTTP 400, not a CloudFront "
	    "error: HTTP/1.1 200 OK", "", "" },
	{ "truncated.xml", 404, CF_FATAL, "", "HTTP 404", "", "" },
	{ "service-unavailable-503.html", 301, CF_FATAL, "", "HTTP 301", "",
	    "" },

	/* Entities are never expanded or fetched: a bomb or an external
	 * entity that would say "Throttling" (a retry) stays a plain 400. */
	{ "bomb.xml", 400, CF_FATAL, "", "HTTP 400, not a CloudFront error",
	    "", "" },
	{ "bomb.xml", 503, CF_RETRY, "", "HTTP 503", "", "" },
	{ "xxe.xml", 400, CF_FATAL, "", "HTTP 400, not a CloudFront error",
	    "", "" },
};

static void
check_clean(const char *s)
{
	for (; *s != '\0'; s++)
		assert_true((unsigned char)*s >= 0x20 && *s != 0x7F);
}

static void
test_parse_samples(void **state)
{
	struct cf_result	 r;
	size_t			 i, len;
	char			*body;

	(void)state;
	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		const struct parse_row *p = &parse_rows[i];

		body = slurp_data(p->file, &len);
		memset(&r, 0x5a, sizeof(r));
		cloudfront_parse(p->status, body, len, &r);
		if (r.outcome != p->outcome || strcmp(r.code, p->code) != 0 ||
		    strstr(r.message, p->message) == NULL)
			print_message("# %s %ld -> %d %s: %s\n", p->file,
			    p->status, r.outcome, r.code, r.message);
		assert_int_equal(r.http_status, p->status);
		assert_int_equal(r.outcome, p->outcome);
		assert_string_equal(r.code, p->code);
		assert_non_null(strstr(r.message, p->message));
		assert_string_equal(r.invalidation_id, p->id);
		assert_string_equal(r.status, p->inv_status);
		check_clean(r.message);
		/* Nothing of an entity got in. */
		assert_null(strstr(r.message, "lollol"));
		assert_null(strstr(r.message, "root:"));
		free(body);
	}
}

/* --- cloudfront_parse_distribution --------------------------------------- */

static void
test_parse_distribution(void **state)
{
	struct cf_distribution	 d;
	struct buf		 b;
	char			*body;
	size_t			 len, i;

	(void)state;
	body = slurp_data("moto-get-distribution-200.xml", &len);
	assert_int_equal(cloudfront_parse_distribution(body, len, &d), 0);
	assert_string_equal(d.status, "Deployed");
	assert_true(d.enabled);
	assert_int_equal(d.n_origins, 1);
	assert_string_equal(d.origins[0].id, "blog-origin");
	assert_string_equal(d.origins[0].domain, "blog.s3.amazonaws.com");
	assert_string_equal(d.origins[0].origin_path, "/site");
	assert_non_null(strstr(d.domain, ".cloudfront.net"));
	free(body);

	body = slurp_data("get-distribution-two-origins.xml", &len);
	assert_int_equal(cloudfront_parse_distribution(body, len, &d), 0);
	assert_string_equal(d.status, "InProgress");
	assert_false(d.enabled);
	assert_string_equal(d.domain, "d111111abcdef8.cloudfront.net");
	assert_int_equal(d.n_origins, 2);
	assert_string_equal(d.origins[0].domain, "api.example.com");
	assert_string_equal(d.origins[0].origin_path, "");
	assert_string_equal(d.origins[1].id, "S3-blog & assets");
	assert_string_equal(d.origins[1].domain,
	    "blog.s3.eu-west-1.amazonaws.com");
	assert_string_equal(d.origins[1].origin_path, "/public");
	free(body);

	/* More origins than kept: all counted, the first ones kept. */
	buf_init(&b);
	buf_puts(&b, "<Distribution><Id>E1</Id><DistributionConfig><Origins>"
	    "<Items>");
	for (i = 0; i < CF_ORIGINS_MAX + 3; i++)
		buf_printf(&b, "<Origin><Id>o%zu</Id><DomainName>h%zu"
		    "</DomainName></Origin>", i, i);
	buf_puts(&b, "</Items></Origins></DistributionConfig></Distribution>");
	assert_int_equal(cloudfront_parse_distribution(b.data, b.len, &d), 0);
	assert_int_equal(d.n_origins, CF_ORIGINS_MAX + 3);
	assert_string_equal(d.origins[CF_ORIGINS_MAX - 1].domain, "h24");
	buf_fini(&b);

	/* No Distribution with a valid Id: an error document, an
	 * Invalidation, garbage, nothing, an entity bomb. */
	body = slurp_data("no-such-distribution.xml", &len);
	assert_int_equal(cloudfront_parse_distribution(body, len, &d), -1);
	free(body);
	body = slurp_data("create-201.xml", &len);
	assert_int_equal(cloudfront_parse_distribution(body, len, &d), -1);
	free(body);
	body = slurp_data("bomb.xml", &len);
	assert_int_equal(cloudfront_parse_distribution(body, len, &d), -1);
	free(body);
	assert_int_equal(cloudfront_parse_distribution("", 0, &d), -1);
	assert_int_equal(cloudfront_parse_distribution(
	    "<Distribution><Id>E1/../x</Id></Distribution>", 44, &d), -1);
}

/* Status is stored as received; the worker compares without case. */
static void
test_parse_status_case(void **state)
{
	static const char *const st[] = { "Completed", "COMPLETED",
	    "completed", "InProgress", "INPROGRESS" };
	struct cf_result	 r;
	struct buf		 b;
	size_t			 i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		buf_reset(&b);
		buf_printf(&b, "<Invalidation xmlns=\"%s\"><Id>ABC123</Id>"
		    "<Status>\n  %s\n</Status></Invalidation>", XMLNS, st[i]);
		cloudfront_parse(200, b.data, b.len, &r);
		assert_int_equal(r.outcome, CF_OK);
		assert_string_equal(r.status, st[i]);
		assert_string_equal(r.invalidation_id, "ABC123");
	}
	buf_fini(&b);
}

/* An external entity pointing at a real file that says "Throttling". */
static void
test_parse_xxe_file(void **state)
{
	char			 path[512];
	const char		*tmp;
	struct cf_result	 r;
	struct buf		 b;
	FILE			*f;
	int			 fd;

	(void)state;
	tmp = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/test_cloudfront.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("Throttling", f);
	fclose(f);
	buf_init(&b);
	buf_printf(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE ErrorResponse "
	    "[<!ENTITY c SYSTEM \"file://%s\">]>\n<ErrorResponse><Error>"
	    "<Code>&c;</Code><Message>m</Message></Error></ErrorResponse>",
	    path);
	cloudfront_parse(400, b.data, b.len, &r);
	assert_int_equal(r.outcome, CF_FATAL);
	assert_string_equal(r.code, "");
	/* An internal entity is refused the same way. */
	buf_reset(&b);
	buf_puts(&b, "<!DOCTYPE E [<!ENTITY t \"Throttling\">]>"
	    "<ErrorResponse><Error><Code>&t;</Code></Error></ErrorResponse>");
	cloudfront_parse(400, b.data, b.len, &r);
	assert_int_equal(r.outcome, CF_FATAL);
	assert_string_equal(r.code, "");
	/* Without the DOCTYPE the same document is read. */
	buf_reset(&b);
	buf_puts(&b, "<ErrorResponse><Error><Code>Throttling</Code></Error>"
	    "</ErrorResponse>");
	cloudfront_parse(400, b.data, b.len, &r);
	assert_int_equal(r.outcome, CF_RETRY);
	assert_string_equal(r.code, "Throttling");
	buf_fini(&b);
	unlink(path);
}

static void
test_parse_error_forms(void **state)
{
	static const struct {
		const char	*xml;
		long		 status;
		enum cf_outcome	 outcome;
		const char	*code;
	} rows[] = {
		/* A bare <Error> (S3's shape) is read as well. */
		{ "<Error><Code>Throttling</Code><Message>m</Message></Error>",
		    400, CF_RETRY, "Throttling" },
		{ "<ErrorResponse><Error><Code>RequestLimitExceeded</Code>"
		    "</Error></ErrorResponse>", 400, CF_RETRY,
		    "RequestLimitExceeded" },
		{ "<ErrorResponse><Error><Code>ServiceUnavailable</Code>"
		    "</Error></ErrorResponse>", 400, CF_RETRY,
		    "ServiceUnavailable" },
		{ "<ErrorResponse><Error><Code>MalformedInput</Code>"
		    "</Error></ErrorResponse>", 400, CF_BAD_ARGUMENT,
		    "MalformedInput" },
		{ "<ErrorResponse><Error><Code>InvalidClientTokenId</Code>"
		    "</Error></ErrorResponse>", 403, CF_FATAL,
		    "InvalidClientTokenId" },
		{ "<ErrorResponse><Error><Code>SomethingNew</Code>"
		    "</Error></ErrorResponse>", 400, CF_FATAL,
		    "SomethingNew" },
		{ "<ErrorResponse><Error><Code>SomethingNew</Code>"
		    "</Error></ErrorResponse>", 429, CF_RETRY,
		    "SomethingNew" },
		/* The caller-reference wording, in other words. */
		{ "<ErrorResponse><Error><Code>InvalidArgument</Code><Message>"
		    "The CallerReference was already used with a different "
		    "batch.</Message></Error></ErrorResponse>", 400,
		    CF_ALREADY_DONE, "InvalidArgument" },
		{ "<ErrorResponse><Error><Code>InvalidArgument</Code><Message>"
		    "The caller reference is too long.</Message></Error>"
		    "</ErrorResponse>", 400, CF_BAD_ARGUMENT,
		    "InvalidArgument" },
		/* CDATA is text. */
		{ "<ErrorResponse><Error><Code><![CDATA[Throttling]]></Code>"
		    "</Error></ErrorResponse>", 400, CF_RETRY, "Throttling" },
	};
	struct cf_result	 r;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cloudfront_parse(rows[i].status, rows[i].xml,
		    strlen(rows[i].xml), &r);
		assert_int_equal(r.outcome, rows[i].outcome);
		assert_string_equal(r.code, rows[i].code);
	}
}

/* Over-long fields are cut, never overflowed, and never mid-character. */
static void
test_parse_long_fields(void **state)
{
	struct cf_result	 r;
	struct buf		 b;
	size_t			 i;

	(void)state;
	buf_init(&b);
	buf_puts(&b, "<ErrorResponse><Error><Code>");
	for (i = 0; i < 100; i++)
		buf_puts(&b, "Code");
	buf_puts(&b, "</Code><Message>xy");
	for (i = 0; i < 1000; i++)
		buf_puts(&b, "\xc3\xa9");
	buf_puts(&b, "\t\r\n</Message></Error></ErrorResponse>");
	cloudfront_parse(400, b.data, b.len, &r);
	assert_int_equal(strlen(r.code), sizeof(r.code) - 1);
	assert_int_equal(r.outcome, CF_FATAL);
	/* "xy" and 254 two-byte characters: 510 bytes; one more byte of
	 * room would split the next character, so it stays unused. */
	assert_int_equal(strlen(r.message), 510);
	assert_int_equal((unsigned char)r.message[509], 0xa9);

	/* An Id too long for the result is no usable Id. */
	buf_reset(&b);
	buf_puts(&b, "<Invalidation><Id>");
	for (i = 0; i < 200; i++)
		buf_putc(&b, 'A');
	buf_puts(&b, "</Id><Status>InProgress</Status></Invalidation>");
	cloudfront_parse(201, b.data, b.len, &r);
	assert_int_equal(r.outcome, CF_RETRY);
	assert_string_equal(r.invalidation_id, "");

	/* White space around an Id is no part of it, however much. */
	buf_reset(&b);
	buf_puts(&b, "<Invalidation><Id>");
	for (i = 0; i < 200; i++)
		buf_puts(&b, i % 20 == 0 ? "\n" : " ");
	buf_puts(&b, "I2J0I21PCUYOIK\n\t</Id><Status>Completed</Status>"
	    "</Invalidation>");
	cloudfront_parse(201, b.data, b.len, &r);
	assert_int_equal(r.outcome, CF_OK);
	assert_string_equal(r.invalidation_id, "I2J0I21PCUYOIK");

	/* Over 1 MiB is not parsed at all. */
	buf_reset(&b);
	buf_puts(&b, "<ErrorResponse><Error><Code>Throttling</Code><Message>");
	for (i = 0; i < 1100 * 1024 / 16; i++)
		buf_puts(&b, "0123456789abcdef");
	buf_puts(&b, "</Message></Error></ErrorResponse>");
	cloudfront_parse(400, b.data, b.len, &r);
	assert_int_equal(r.outcome, CF_FATAL);
	assert_string_equal(r.code, "");
	assert_true(strlen(r.message) < 300);
	buf_fini(&b);
}

/* --- requests ------------------------------------------------------------ */

/* A writable string, as in a real environment. */
#define E(s)	((char []){ s })

static char *const env_plain[] = {
	E("AWS_ACCESS_KEY_ID=" TEST_AKID),
	E("AWS_SECRET_ACCESS_KEY=" TEST_SECRET),
	NULL
};
static char *const env_token[] = {
	E("AWS_ACCESS_KEY_ID=" TEST_AKID),
	E("AWS_SECRET_ACCESS_KEY=" TEST_SECRET),
	E("AWS_SESSION_TOKEN=" TEST_TOKEN),
	NULL
};

/*
 * Recompute the signature of the captured request with sigv4.c from what
 * was sent, and check the scope, the header list and the payload hash.
 */
static void
check_signature(const struct oneshot *o, const char *method,
    const char *path, const char *want_signed, const char *token)
{
	struct sigv4_header	 sh[8];
	struct sigv4_request	 sr;
	struct sigv4_auth	 a;
	struct buf		 creq, scope, sts;
	unsigned char		 key[SIGV4_KEY_LEN];
	char			 sig[SIGV4_HEX_LEN + 1];
	char			 body_hash[SIGV4_HEX_LEN + 1];
	char			*auth, *date, *hash, *vals[8];
	char			 line[512], name[64];
	const char		*p, *q;
	size_t			 n = 0, i;

	snprintf(line, sizeof(line), "%s %s HTTP/1.1\r\n", method, path);
	assert_memory_equal(o->req, line, strlen(line));
	auth = oneshot_header(o, "authorization");
	assert_non_null(auth);
	assert_int_equal(sigv4_parse_authorization(auth, &a), 0);
	assert_string_equal(a.cred.access_key_id, TEST_AKID);
	assert_string_equal(a.cred.region, "us-east-1");
	assert_string_equal(a.cred.service, "cloudfront");
	assert_string_equal(a.signed_headers, want_signed);
	date = oneshot_header(o, "x-amz-date");
	assert_non_null(date);
	assert_memory_equal(date, a.cred.date, 8);
	hash = oneshot_header(o, "x-amz-content-sha256");
	assert_non_null(hash);
	sigv4_sha256_hex(body_hash, o->req + o->head_len,
	    o->req_len - o->head_len);
	assert_string_equal(hash, body_hash);
	if (token != NULL) {
		char *t = oneshot_header(o, "x-amz-security-token");

		assert_non_null(t);
		assert_string_equal(t, token);
		free(t);
	} else
		assert_null(oneshot_header(o, "x-amz-security-token"));
	assert_null(oneshot_header(o, "expect"));

	for (p = a.signed_headers; *p != '\0'; p = *q ? q + 1 : q) {
		q = strchr(p, ';');
		if (q == NULL)
			q = p + strlen(p);
		snprintf(name, sizeof(name), "%.*s", (int)(q - p), p);
		vals[n] = oneshot_header(o, name);
		assert_non_null(vals[n]);
		sh[n].name = strdup(name);
		sh[n].value = vals[n];
		n++;
	}
	memset(&sr, 0, sizeof(sr));
	sr.method = method;
	sr.canonical_uri = path;
	sr.canonical_query = "";
	sr.headers = sh;
	sr.n_headers = n;
	sr.signed_headers = a.signed_headers;
	sr.payload_hash = hash;
	buf_init(&creq);
	buf_init(&scope);
	buf_init(&sts);
	assert_int_equal(sigv4_canonical_request(&creq, &sr), 0);
	sigv4_scope(&scope, a.cred.date, "us-east-1", "cloudfront");
	sigv4_string_to_sign(&sts, date, buf_str(&scope), buf_str(&creq),
	    creq.len);
	sigv4_signing_key(key, TEST_SECRET, a.cred.date, "us-east-1",
	    "cloudfront");
	sigv4_sign(sig, key, buf_str(&sts), sts.len);
	assert_string_equal(sig, a.signature);
	for (i = 0; i < n; i++) {
		free((char *)sh[i].name);
		free(vals[i]);
	}
	buf_fini(&creq);
	buf_fini(&scope);
	buf_fini(&sts);
	free(auth);
	free(date);
	free(hash);
}

static char *
http_answer(const char *status_line, const char *file)
{
	struct buf	 b;
	char		*body;
	size_t		 len;

	body = slurp_data(file, &len);
	buf_init(&b);
	buf_printf(&b, "HTTP/1.1 %s\r\nContent-Type: text/xml\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status_line,
	    len);
	buf_append(&b, body, len);
	free(body);
	return buf_take(&b);
}

static void
endpoint_of(char *out, size_t sz, unsigned port)
{
	snprintf(out, sz, "http://127.0.0.1:%u", port);
}

static void
test_init_endpoints(void **state)
{
	static const char *const bad[] = {
		"", "ftp://cloudfront.amazonaws.com",
		"cloudfront.amazonaws.com",
		"http://h/prefix", "http://h/?q=1", "http://h#frag",
		"http://user:pw@h", "file:///etc/passwd", "http://",
	};
	static const char *const good[] = {
		"https://cloudfront.amazonaws.com", "http://127.0.0.1:5000/",
		"http://[::1]:8080", "HTTPS://CloudFront.amazonaws.com:443",
	};
	size_t	 i;

	(void)state;
	assert_int_equal(cloudfront_init(NULL, 1000), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cloudfront_init(bad[i], 1000), -1);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(cloudfront_init(good[i], 1000), 0);
		cloudfront_fini();
	}
}

static void
test_local_refusals(void **state)
{
	static const char *const one[] = { "/x" };
	static const char *const ctl[] = { "/ok", "/bad\x01" };
	struct cf_result	 r;

	(void)state;
	/* Before cloudfront_init(). */
	cloudfront_get("E2EXAMPLE1", "I2J0I21PCUYOIK", &r);
	assert_int_equal(r.outcome, CF_FATAL);
	assert_int_equal(r.http_status, 0);
	assert_non_null(strstr(r.message, "cloudfront_init"));

	assert_int_equal(cloudfront_init("http://127.0.0.1:9", 1000), 0);
	cloudfront_create("E2/../X", "r", one, 1, &r);
	assert_int_equal(r.outcome, CF_FATAL);
	cloudfront_create("", "r", one, 1, &r);
	assert_int_equal(r.outcome, CF_FATAL);
	cloudfront_create(NULL, "r", one, 1, &r);
	assert_int_equal(r.outcome, CF_FATAL);
	cloudfront_get("E2EXAMPLE1", "I2?x=1", &r);
	assert_int_equal(r.outcome, CF_FATAL);
	cloudfront_get("E2EXAMPLE1", NULL, &r);
	assert_int_equal(r.outcome, CF_FATAL);
	cloudfront_create("E2EXAMPLE1", "r", one, 0, &r);
	assert_int_equal(r.outcome, CF_BAD_ARGUMENT);
	cloudfront_create("E2EXAMPLE1", "r", ctl, 2, &r);
	assert_int_equal(r.outcome, CF_BAD_ARGUMENT);
	assert_int_equal(r.http_status, 0);
	cloudfront_create("E2EXAMPLE1", "", one, 1, &r);
	assert_int_equal(r.outcome, CF_BAD_ARGUMENT);
	cloudfront_fini();
}

static void
test_request_create(void **state)
{
	static const char *const paths[] = { "/index.html", "/a&b/*" };
	struct oneshot		 o;
	struct cf_result	 r;
	struct buf		 want;
	char			 ep[64], err[128], *answer, *v;

	(void)state;
	assert_int_equal(credentials_init(env_plain, err, sizeof(err)), 0);
	answer = http_answer("201 Created", "create-201.xml");
	oneshot_start(&o, answer, strlen(answer));
	endpoint_of(ep, sizeof(ep), o.port);
	assert_int_equal(cloudfront_init(ep, 5000), 0);
	cloudfront_create("E2EXAMPLE1", "ref-1", paths, 2, &r);
	oneshot_join(&o);
	assert_int_equal(r.outcome, CF_OK);
	assert_int_equal(r.http_status, 201);
	assert_string_equal(r.invalidation_id, "I2J0I21PCUYOIK");
	assert_string_equal(r.status, "InProgress");

	check_signature(&o, "POST",
	    "/2020-05-31/distribution/E2EXAMPLE1/invalidation",
	    "content-type;host;x-amz-content-sha256;x-amz-date", NULL);
	v = oneshot_header(&o, "content-type");
	assert_string_equal(v, "application/xml");
	free(v);
	v = oneshot_header(&o, "host");
	snprintf(ep, sizeof(ep), "127.0.0.1:%u", o.port);
	assert_string_equal(v, ep);
	free(v);
	buf_init(&want);
	cloudfront_batch_xml(&want, "ref-1", paths, 2);
	assert_int_equal(o.req_len - o.head_len, want.len);
	assert_memory_equal(o.req + o.head_len, want.data, want.len);
	buf_fini(&want);
	cloudfront_fini();
	credentials_fini();
	free(answer);
}

static void
test_request_get_token(void **state)
{
	struct oneshot		 o;
	struct cf_result	 r;
	char			 ep[64], err[128], *answer;

	(void)state;
	assert_int_equal(credentials_init(env_token, err, sizeof(err)), 0);
	answer = http_answer("200 OK", "moto-get-200.xml");
	oneshot_start(&o, answer, strlen(answer));
	endpoint_of(ep, sizeof(ep), o.port);
	assert_int_equal(cloudfront_init(ep, 5000), 0);
	cloudfront_get("E2EXAMPLE1", "D97UTGAL1L09I", &r);
	oneshot_join(&o);
	assert_int_equal(r.outcome, CF_OK);
	assert_int_equal(r.http_status, 200);
	assert_string_equal(r.status, "COMPLETED");
	check_signature(&o, "GET",
	    "/2020-05-31/distribution/E2EXAMPLE1/invalidation/D97UTGAL1L09I",
	    "host;x-amz-content-sha256;x-amz-date;x-amz-security-token",
	    TEST_TOKEN);
	assert_null(oneshot_header(&o, "content-type"));
	assert_int_equal(o.req_len, o.head_len);
	cloudfront_fini();
	credentials_fini();
	free(answer);
}

/* GetDistribution of id answered with file under status_line; the
 * request is left in *o. */
static void
get_distribution_from(struct oneshot *o, const char *status_line,
    const char *file, const char *id, struct cf_distribution *d,
    struct cf_result *r)
{
	char	 ep[64], *answer;

	answer = http_answer(status_line, file);
	oneshot_start(o, answer, strlen(answer));
	endpoint_of(ep, sizeof(ep), o->port);
	assert_int_equal(cloudfront_init(ep, 5000), 0);
	cloudfront_get_distribution(id, d, r);
	oneshot_join(o);
	cloudfront_fini();
	free(answer);
}

static void
test_request_get_distribution(void **state)
{
	struct oneshot		 o;
	struct cf_result	 r;
	struct cf_distribution	 d;
	char			 err[128];

	(void)state;
	assert_int_equal(credentials_init(env_plain, err, sizeof(err)), 0);
	get_distribution_from(&o, "200 OK", "moto-get-distribution-200.xml",
	    "Q2YZTRG0LACG8", &d, &r);
	assert_int_equal(r.outcome, CF_OK);
	assert_int_equal(r.http_status, 200);
	assert_string_equal(r.status, "Deployed");
	assert_int_equal(d.n_origins, 1);
	assert_string_equal(d.origins[0].origin_path, "/site");
	check_signature(&o, "GET", "/2020-05-31/distribution/Q2YZTRG0LACG8",
	    "host;x-amz-content-sha256;x-amz-date", NULL);
	assert_int_equal(o.req_len, o.head_len);

	/* NoSuchDistribution: the error, nothing filled in. */
	get_distribution_from(&o, "404 Not Found",
	    "moto-no-such-distribution.xml", "ENOSUCH", &d, &r);
	assert_int_equal(r.outcome, CF_FATAL);
	assert_int_equal(r.http_status, 404);
	assert_string_equal(r.code, "NoSuchDistribution");
	assert_int_equal(d.n_origins, 0);

	/* A 200 that is no Distribution. */
	get_distribution_from(&o, "200 OK", "create-201.xml", "E2EXAMPLE1",
	    &d, &r);
	assert_int_equal(r.outcome, CF_RETRY);
	assert_non_null(strstr(r.message, "without a Distribution"));

	/* Refused before anything is sent. */
	assert_int_equal(cloudfront_init("http://127.0.0.1:9", 1000), 0);
	cloudfront_get_distribution("E2/../X", &d, &r);
	assert_int_equal(r.outcome, CF_FATAL);
	assert_int_equal(r.http_status, 0);
	cloudfront_fini();
	credentials_fini();
}

static void
test_request_errors(void **state)
{
	static const char *const paths[] = { "/x" };
	struct oneshot		 o;
	struct cf_result	 r;
	struct buf		 big;
	char			 ep[64], err[128], *answer;
	unsigned		 port;
	int			 fd;
	time_t			 t0;
	size_t			 i;

	(void)state;
	assert_int_equal(credentials_init(env_plain, err, sizeof(err)), 0);

	/* No credentials installed would be CF_FATAL; these have some. */

	/* 503 with an HTML page. */
	answer = http_answer("503 Service Unavailable",
	    "service-unavailable-503.html");
	oneshot_start(&o, answer, strlen(answer));
	endpoint_of(ep, sizeof(ep), o.port);
	assert_int_equal(cloudfront_init(ep, 5000), 0);
	cloudfront_create("E2EXAMPLE1", "r", paths, 1, &r);
	oneshot_join(&o);
	assert_int_equal(r.outcome, CF_RETRY);
	assert_int_equal(r.http_status, 503);
	cloudfront_fini();
	free(answer);

	/* A 409 conflict. */
	answer = http_answer("409 Conflict", "batch-already-exists.xml");
	oneshot_start(&o, answer, strlen(answer));
	endpoint_of(ep, sizeof(ep), o.port);
	assert_int_equal(cloudfront_init(ep, 5000), 0);
	cloudfront_create("E2EXAMPLE1", "r", paths, 1, &r);
	oneshot_join(&o);
	assert_int_equal(r.outcome, CF_ALREADY_DONE);
	assert_int_equal(r.http_status, 409);
	cloudfront_fini();
	free(answer);

	/* An answer over 1 MiB is cut off: a 2xx we cannot read. */
	buf_init(&big);
	buf_printf(&big, "HTTP/1.1 201 Created\r\nContent-Length: %d\r\n"
	    "Connection: close\r\n\r\n<Invalidation><Id>X</Id><Message>",
	    2 * 1024 * 1024);
	for (i = 0; i < 2 * 1024 * 1024 / 8; i++)
		buf_puts(&big, "aaaaaaaa");
	oneshot_start(&o, big.data, big.len);
	endpoint_of(ep, sizeof(ep), o.port);
	assert_int_equal(cloudfront_init(ep, 5000), 0);
	cloudfront_create("E2EXAMPLE1", "r", paths, 1, &r);
	oneshot_join(&o);
	assert_int_equal(r.outcome, CF_RETRY);
	assert_int_equal(r.http_status, 201);
	assert_non_null(strstr(r.message, "over"));
	cloudfront_fini();
	buf_fini(&big);

	/* Connection refused: a bound port nobody listens on. */
	fd = oneshot_listen(&port, 0);
	endpoint_of(ep, sizeof(ep), port);
	assert_int_equal(cloudfront_init(ep, 5000), 0);
	cloudfront_create("E2EXAMPLE1", "r", paths, 1, &r);
	assert_int_equal(r.outcome, CF_RETRY);
	assert_int_equal(r.http_status, 0);
	assert_string_equal(r.code, "");
	assert_true(strlen(r.message) > 0);
	cloudfront_fini();
	close(fd);

	/* A server that never answers: timeout_ms bounds the call. */
	oneshot_start(&o, NULL, 0);
	endpoint_of(ep, sizeof(ep), o.port);
	assert_int_equal(cloudfront_init(ep, 300), 0);
	t0 = time(NULL);
	cloudfront_get("E2EXAMPLE1", "ABC", &r);
	assert_true(time(NULL) - t0 <= 2);
	assert_int_equal(r.outcome, CF_RETRY);
	assert_int_equal(r.http_status, 0);
	assert_non_null(strstr(r.message, "imeout"));
	oneshot_join(&o);
	cloudfront_fini();

	credentials_fini();
}

static void
test_request_no_credentials(void **state)
{
	static const char *const paths[] = { "/x" };
	struct cf_result	 r;

	(void)state;
	credentials_fini();
	assert_int_equal(cloudfront_init("http://127.0.0.1:9", 1000), 0);
	cloudfront_create("E2EXAMPLE1", "r", paths, 1, &r);
	assert_int_equal(r.outcome, CF_FATAL);
	assert_non_null(strstr(r.message, "credentials"));
	cloudfront_fini();
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_escaping),
		cmocka_unit_test(test_batch_zero_one),
		cmocka_unit_test(test_batch_3000),
		cmocka_unit_test(test_batch_roundtrip),
		cmocka_unit_test(test_batch_refused),
		cmocka_unit_test(test_parse_samples),
		cmocka_unit_test(test_parse_status_case),
		cmocka_unit_test(test_parse_distribution),
		cmocka_unit_test(test_parse_xxe_file),
		cmocka_unit_test(test_parse_error_forms),
		cmocka_unit_test(test_parse_long_fields),
		cmocka_unit_test(test_init_endpoints),
		cmocka_unit_test(test_local_refusals),
		cmocka_unit_test(test_request_create),
		cmocka_unit_test(test_request_get_token),
		cmocka_unit_test(test_request_get_distribution),
		cmocka_unit_test(test_request_errors),
		cmocka_unit_test(test_request_no_credentials),
	};

	/* A client that stops reading must not kill the test server. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("cloudfront", tests, NULL, NULL);
}
