/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of inval_queue's decision of what a successful write changed
 * (inval_queue_changed_keys(), s3_op_table.h): every kind of change, the
 * 200 with an <Error>, the fallbacks for answers that cannot be read, the
 * DeleteObjects encoding both ways, quiet requests, and the operations the
 * table does not know: logged once per name, counted every time.
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

#include "buf.h"
#include "inval_map.h"
#include "inval_queue.h"
#include "log.h"
#include "metrics.h"
#include "s3_req.h"

#define COPY_OK	"<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>"
#define MPU_OK	"<CompleteMultipartUploadResult><Key>k</Key><ETag>\"e-2\"" \
	"</ETag></CompleteMultipartUploadResult>"
#define ERR_200	"\n\n<Error><Code>InternalError</Code></Error>"
#define DEL_OK	"<DeleteResult><Deleted><Key>a+b.html</Key></Deleted>" \
	"<Deleted><Key>c d.html</Key></Deleted><Error><Key>e</Key>" \
	"<Code>AccessDenied</Code></Error></DeleteResult>"
#define DEL_URL	"<DeleteResult><EncodingType>url</EncodingType><Deleted>" \
	"<Key>a%2Bb.html</Key></Deleted><Deleted><Key>c+d.html</Key>" \
	"</Deleted></DeleteResult>"
#define DEL_EMPTY "<DeleteResult/>"
#define REQ	"<Delete><Object><Key>a+b.html</Key></Object><Object><Key>" \
	"c d.html</Key></Object><Object><Key>e</Key></Object></Delete>"
#define REQ_Q	"<Delete><Quiet>true</Quiet><Object><Key>x.html</Key>" \
	"</Object><Object><Key>y.html</Key></Object></Delete>"
#define W	INVAL_WHOLE_BUCKET

static const struct {
	const char	*method;
	const char	*target;
	unsigned	 hdrs;
	const char	*body;		/* the answer's, NULL: none */
	const char	*req;		/* the request's, NULL: not kept */
	const char	*want[4];	/* NULL-terminated */
	int		 fallback;	/* s3inval_write_fallbacks_total +1 */
	int		 unclassified;
} rows[] = {
	/* The key. */
	{ "PUT", "/blog/a/index.html", 0, NULL, NULL, { "a/index.html" } },
	{ "DELETE", "/blog/k?versionId=v", 0, NULL, NULL, { "k" } },
	{ "PUT", "/blog/k?acl", 0, NULL, NULL, { "k" } },
	/* Nothing. */
	{ "GET", "/blog/k", 0, NULL, NULL, { NULL } },
	{ "PUT", "/blog/k?tagging", 0, NULL, NULL, { NULL } },
	{ "PUT", "/blog/k?retention", 0, NULL, NULL, { NULL } },
	{ "PUT", "/blog/k?partNumber=1&uploadId=u", 0, NULL, NULL, { NULL } },
	{ "POST", "/blog/k?uploads", 0, NULL, NULL, { NULL } },
	{ "PUT", "/blog", 0, NULL, NULL, { NULL } },
	{ "PUT", "/blog?lifecycle", 0, NULL, NULL, { NULL } },
	{ "PUT", "/blog?versioning", 0, NULL, NULL, { NULL } },
	/* The whole bucket. */
	{ "PUT", "/blog?website", 0, NULL, NULL, { W } },
	{ "DELETE", "/blog?website", 0, NULL, NULL, { W } },
	{ "PUT", "/blog?policy", 0, NULL, NULL, { W } },
	{ "PUT", "/blog?acl", 0, NULL, NULL, { W } },
	{ "PUT", "/blog?cors", 0, NULL, NULL, { W } },
	{ "DELETE", "/blog", 0, NULL, NULL, { W } },
	/* Copy and Complete: the key; nothing after a 200 with an <Error>;
	 * the key again when the answer cannot be read. */
	{ "PUT", "/blog/dst", S3_HDR_COPY_SOURCE, COPY_OK, NULL, { "dst" } },
	{ "PUT", "/blog/dst", S3_HDR_COPY_SOURCE, ERR_200, NULL, { NULL } },
	{ "PUT", "/blog/dst", S3_HDR_COPY_SOURCE, "<CopyObjectRes", NULL,
	    { "dst" }, 1 },
	{ "PUT", "/blog/dst", S3_HDR_COPY_SOURCE, "", NULL, { "dst" }, 1 },
	{ "POST", "/blog/big?uploadId=u", 0, MPU_OK, NULL, { "big" } },
	{ "POST", "/blog/big?uploadId=u", 0, ERR_200, NULL, { NULL } },
	{ "POST", "/blog/big?uploadId=u", 0, "garbage", NULL, { "big" }, 1 },
	/* DeleteObjects: keys decoded only when the answer says url,
	 * whatever the request asked. */
	{ "POST", "/blog?delete", 0, DEL_OK, REQ,
	    { "a+b.html", "c d.html" } },
	{ "POST", "/blog?delete&encoding-type=url", 0, DEL_OK, REQ,
	    { "a+b.html", "c d.html" } },
	{ "POST", "/blog?delete", 0, DEL_URL, REQ,
	    { "a+b.html", "c d.html" } },
	/* An unreadable answer: what the request named, else all. */
	{ "POST", "/blog?delete", 0, "<html>502</html>", REQ,
	    { "a+b.html", "c d.html", "e" }, 1 },
	{ "POST", "/blog?delete", 0, "", NULL, { W }, 1 },
	{ "POST", "/blog?delete", 0, "<DeleteResult><Deleted><Key>%zz"
	    "</Key></Deleted><EncodingType>url</EncodingType></DeleteResult>",
	    REQ, { "a+b.html", "c d.html", "e" }, 1 },
	/* Quiet: the answer lists failures only; what the request named. */
	{ "POST", "/blog?delete", 0, DEL_EMPTY, REQ_Q,
	    { "x.html", "y.html" } },
	/* No request kept and nothing listed: maybe quiet, so all. */
	{ "POST", "/blog?delete", 0, DEL_EMPTY, NULL, { W }, 1 },
	/* A request that does not parse: the answer still counts. */
	{ "POST", "/blog?delete", 0, DEL_OK, "<Delete>",
	    { "a+b.html", "c d.html" } },
	/* Unknown operations: the key, or the bucket. */
	{ "PUT", "/blog/up.html?uploadId=x", 0, NULL, NULL, { "up.html" }, 0,
	    1 },
	{ "PUT", "/blog/up.html?uploadId=y", 0, NULL, NULL, { "up.html" }, 0,
	    1 },
	{ "POST", "/blog/k?newThing", 0, NULL, NULL, { "k" }, 0, 1 },
	{ "PUT", "/blog?newThing", 0, NULL, NULL, { W }, 0, 1 },
	/* An unknown read changes nothing. */
	{ "GET", "/blog/k?acl&tagging", 0, NULL, NULL, { NULL } },
};

/* The value of a counter in /metrics. */
static unsigned long
counter(const char *name)
{
	struct buf	 b;
	const char	*p;
	unsigned long	 v = 0;
	char		 pat[128];

	buf_init(&b);
	metrics_render(&b);
	snprintf(pat, sizeof(pat), "\n%s ", name);
	p = strstr(buf_str(&b), pat);
	assert_non_null(p);
	v = strtoul(p + strlen(pat), NULL, 10);
	buf_fini(&b);
	return v;
}

static void
test_changed(void **state)
{
	struct iq_write	 w;
	struct s3_req	 r;
	struct strvec	 keys;
	unsigned long	 fb, uc;
	size_t		 i, j, n;

	(void)state;
	/* The warnings are test_logged_once()'s to read. */
	assert_int_equal(log_init(0, LOG_ERROR, "/dev/null"), 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(s3_req_parse(&r, rows[i].method,
		    rows[i].target, NULL, "", rows[i].hdrs), S3_OK);
		memset(&w, 0, sizeof(w));
		w.s3 = &r;
		w.status = 200;
		w.body = rows[i].body;
		w.body_len = rows[i].body != NULL ? strlen(rows[i].body) : 0;
		w.req_body = rows[i].req;
		w.req_body_len = rows[i].req != NULL ? strlen(rows[i].req) : 0;
		fb = counter("s3inval_write_fallbacks_total");
		uc = counter("s3inval_unclassified_writes_total");
		strvec_init(&keys);
		assert_int_equal(inval_queue_changed_keys(&w, &keys), 0);
		for (n = 0; rows[i].want[n] != NULL; n++)
			;
		if (keys.n != n)
			fail_msg("row %zu %s %s: %zu keys, want %zu", i,
			    rows[i].method, rows[i].target, keys.n, n);
		for (j = 0; j < n; j++)
			if (strcmp(keys.v[j], rows[i].want[j]) != 0)
				fail_msg("row %zu: key %zu \"%s\", want "
				    "\"%s\"", i, j, keys.v[j],
				    rows[i].want[j]);
		assert_int_equal(counter("s3inval_write_fallbacks_total") - fb,
		    rows[i].fallback);
		assert_int_equal(counter("s3inval_unclassified_writes_total") -
		    uc, rows[i].unclassified);
		strvec_fini(&keys);
		s3_req_fini(&r);
	}
	log_fini();
}

/* Bodies are asked for where the table says so. */
static void
test_wants(void **state)
{
	(void)state;
	assert_true(inval_queue_wants_body(S3_OP_COPY_OBJECT));
	assert_true(inval_queue_wants_body(S3_OP_COMPLETE_MPU));
	assert_true(inval_queue_wants_body(S3_OP_DELETE_OBJECTS));
	assert_false(inval_queue_wants_body(S3_OP_PUT_OBJECT));
	assert_true(inval_queue_wants_request_body(S3_OP_DELETE_OBJECTS));
	assert_false(inval_queue_wants_request_body(S3_OP_PUT_OBJECT));
	assert_false(inval_queue_wants_request_body(S3_OP_COPY_OBJECT));
	/* No distributions, nothing to wait for. */
	assert_false(inval_queue_wants(NULL, S3_OP_PUT_OBJECT, 200));
}

/* An unknown operation is logged once per name. */
static void
test_logged_once(void **state)
{
	static const char *const targets[] = {
		"/blog/a?brandNew=1", "/blog/b?brandNew=2", "/blog/c?brandNew",
		"/blog?brandNew", "/blog/d?otherNew",
	};
	char		 path[] = "/tmp/test_inval_queue.XXXXXX", text[8192];
	struct iq_write	 w;
	struct s3_req	 r;
	struct strvec	 keys;
	const char	*p;
	size_t		 i, n;
	FILE		*f;
	int		 fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_init(0, LOG_INFO, path), 0);
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		assert_int_equal(s3_req_parse(&r, "PUT", targets[i], NULL, "",
		    0), S3_OK);
		memset(&w, 0, sizeof(w));
		w.s3 = &r;
		w.status = 200;
		strvec_init(&keys);
		assert_int_equal(inval_queue_changed_keys(&w, &keys), 0);
		assert_int_equal(keys.n, 1);
		strvec_fini(&keys);
		s3_req_fini(&r);
	}
	log_fini();
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	/* Three names: "PUT object?brandNew", "PUT bucket?brandNew",
	 * "PUT object?otherNew". */
	for (n = 0, p = text; (p = strstr(p, "event=unclassified_write"));
	    p++)
		n++;
	assert_int_equal(n, 3);
	assert_non_null(strstr(text, "PUT object?brandNew"));
	assert_non_null(strstr(text, "PUT bucket?brandNew"));
	assert_non_null(strstr(text, "PUT object?otherNew"));
	assert_non_null(strstr(text, "the whole bucket"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_changed),
		cmocka_unit_test(test_wants),
		cmocka_unit_test(test_logged_once),
	};

	return cmocka_run_group_tests_name("inval_queue", tests, NULL, NULL);
}
