/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_http_call: the one client for the daemon's own calls, against a
 * one-shot server in a thread (oneshot.h).
 *
 * - An unsigned PUT to a whole URL without a body (the IMDSv2 token
 *   call): extra header lines sent as given, Content-Length: 0, no
 *   Content-Type and no Expect; the answer read into a buffer allocated
 *   once at body_max.
 * - A signed POST: the Authorization header is exactly what
 *   sigv4_sign_request() gives for the same request and time, with
 *   content-type, host, x-amz-content-sha256, x-amz-date and
 *   x-amz-security-token signed and sent as signed.
 * - peer_ok refusing the address: nothing is sent, the answer says why.
 * - cancel set while the server is silent: the call stops within about
 *   a second (curl's progress callback), "stopped".
 * - an answer over body_max: too_big, failed.
 * - http_answer_retryable() over answers and failures.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "credentials.h"
#include "http_call.h"
#include "oneshot.h"
#include "sigv4.h"

#define OK_ANSWER	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" \
			"Connection: close\r\n\r\nhello"
#define BODY		"Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
#define NOW		((int64_t)1764000000)	/* 2025-11-24T16:00:00Z */

static void
url_of(char *out, size_t sz, unsigned port, const char *path)
{
	snprintf(out, sz, "http://127.0.0.1:%u%s", port, path);
}

static void
assert_header(const struct oneshot *o, const char *name, const char *want)
{
	char	*v = oneshot_header(o, name);

	if (want == NULL) {
		if (v != NULL)
			fail_msg("%s: %s sent", name, v);
		return;
	}
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

static void
test_unsigned_put(void **state)
{
	static const char *const lines[] = {
		"X-aws-ec2-metadata-token-ttl-seconds: 21600",
		"Accept: text/plain", NULL
	};
	struct oneshot		 o;
	struct http_call	 hc;
	struct http_answer	 an;
	char			 url[128], host[64];

	(void)state;
	oneshot_start(&o, OK_ANSWER, strlen(OK_ANSWER));
	url_of(url, sizeof(url), o.port, "/latest/api/token");
	memset(&hc, 0, sizeof(hc));
	hc.method = "PUT";
	hc.url = url;
	hc.headers = lines;
	hc.direct = 1;
	hc.secret = 1;
	hc.timeout_ms = 5000;
	hc.body_max = 4096;
	http_answer_init(&an);
	http_call_perform(&hc, &an);
	oneshot_join(&o);

	assert_false(an.failed);
	assert_int_equal(an.status, 200);
	assert_string_equal(buf_str(&an.body), "hello");
	/* Allocated once, at the cap: growing would leave copies. */
	assert_true(an.body.cap >= 4096 + 1);
	assert_memory_equal(o.req, "PUT /latest/api/token HTTP/1.1\r\n", 32);
	assert_header(&o, "x-aws-ec2-metadata-token-ttl-seconds", "21600");
	assert_header(&o, "accept", "text/plain");
	assert_header(&o, "content-length", "0");
	assert_header(&o, "content-type", NULL);
	assert_header(&o, "expect", NULL);
	assert_header(&o, "authorization", NULL);
	snprintf(host, sizeof(host), "127.0.0.1:%u", o.port);
	assert_header(&o, "host", host);
	assert_int_equal(o.req_len, o.head_len);
	http_answer_fini(&an);
	assert_null(an.body.data);
}

static void
test_signed_post(void **state)
{
	struct credentials	 c;
	struct sigv4_header	 ct;
	struct sigv4_outgoing	 so;
	struct oneshot		 o;
	struct http_call	 hc;
	struct http_answer	 an;
	struct buf		 want;
	char			 host[64], amz_date[17], hash[SIGV4_HEX_LEN + 1];

	(void)state;
	memset(&c, 0, sizeof(c));
	snprintf(c.access_key_id, sizeof(c.access_key_id), "AKIDHTTPCALL");
	snprintf(c.secret_access_key, sizeof(c.secret_access_key), "s3cr3t");
	snprintf(c.session_token, sizeof(c.session_token), "tok+en/==");
	oneshot_start(&o, OK_ANSWER, strlen(OK_ANSWER));
	snprintf(host, sizeof(host), "127.0.0.1:%u", o.port);
	memset(&hc, 0, sizeof(hc));
	hc.method = "POST";
	hc.scheme = "http";
	hc.host = host;
	hc.path = "/a%20b/c";
	hc.content_type = "application/x-www-form-urlencoded";
	hc.body = BODY;
	hc.body_len = strlen(BODY);
	hc.timeout_ms = 5000;
	hc.body_max = 4096;
	hc.cred = &c;
	hc.region = "us-east-1";
	hc.service = "sts";
	hc.now = NOW;
	http_answer_init(&an);
	http_call_perform(&hc, &an);
	oneshot_join(&o);
	assert_false(an.failed);
	assert_int_equal(an.status, 200);

	/* The one signing entry point, on the same request. */
	sigv4_sha256_hex(hash, BODY, strlen(BODY));
	ct.name = "Content-Type";
	ct.value = hc.content_type;
	memset(&so, 0, sizeof(so));
	so.method = "POST";
	so.host = host;
	so.canonical_uri = "/a%20b/c";
	so.canonical_query = "";
	so.headers = &ct;
	so.n_headers = 1;
	so.payload_hash = hash;
	so.region = "us-east-1";
	so.service = "sts";
	so.access_key_id = c.access_key_id;
	so.secret_access_key = c.secret_access_key;
	so.session_token = c.session_token;
	so.now = NOW;
	buf_init(&want);
	assert_int_equal(sigv4_sign_request(&so, NULL, amz_date, &want), 0);
	assert_non_null(strstr(buf_str(&want), "SignedHeaders=content-type;"
	    "host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"));

	assert_memory_equal(o.req, "POST /a%20b/c HTTP/1.1\r\n", 24);
	assert_header(&o, "authorization", buf_str(&want));
	assert_header(&o, "x-amz-date", amz_date);
	assert_header(&o, "x-amz-content-sha256", hash);
	assert_header(&o, "x-amz-security-token", "tok+en/==");
	assert_header(&o, "content-type", "application/x-www-form-urlencoded");
	assert_header(&o, "host", host);
	assert_header(&o, "expect", NULL);
	assert_int_equal(o.req_len - o.head_len, strlen(BODY));
	assert_memory_equal(o.req + o.head_len, BODY, strlen(BODY));
	buf_fini(&want);
	http_answer_fini(&an);
}

static int
refuse(const char *ip)
{
	(void)ip;
	return 0;
}

static void
test_peer_refused(void **state)
{
	struct oneshot		 o;
	struct http_call	 hc;
	struct http_answer	 an;
	char			 url[128];

	(void)state;
	oneshot_start(&o, NULL, 0);
	url_of(url, sizeof(url), o.port, "/creds");
	memset(&hc, 0, sizeof(hc));
	hc.method = "GET";
	hc.url = url;
	hc.peer_ok = refuse;
	hc.timeout_ms = 5000;
	hc.body_max = 4096;
	http_answer_init(&an);
	http_call_perform(&hc, &an);
	oneshot_join(&o);
	assert_true(an.failed);
	assert_true(an.peer_refused);
	assert_non_null(strstr(an.error, "127.0.0.1"));
	assert_int_equal(o.req_len, 0);
	assert_false(http_answer_retryable(&an));
	http_answer_fini(&an);
}

/* Set the flag after 300 ms: a call under way is stopped. */
static void *
stop_later(void *arg)
{
	struct timespec	 ts = { 0, 300000000L };

	nanosleep(&ts, NULL);
	atomic_store((atomic_int *)arg, 1);
	return NULL;
}

static void
test_cancel(void **state)
{
	struct oneshot		 o;
	struct http_call	 hc;
	struct http_answer	 an;
	atomic_int		 stop;
	pthread_t		 t;
	char			 url[128];
	time_t			 t0;

	(void)state;
	atomic_init(&stop, 0);
	oneshot_start(&o, NULL, 0);
	url_of(url, sizeof(url), o.port, "/slow");
	memset(&hc, 0, sizeof(hc));
	hc.method = "GET";
	hc.url = url;
	hc.cancel = &stop;
	hc.timeout_ms = 10000;
	hc.body_max = 4096;
	http_answer_init(&an);
	t0 = time(NULL);
	assert_int_equal(pthread_create(&t, NULL, stop_later, &stop), 0);
	http_call_perform(&hc, &an);
	assert_true(time(NULL) - t0 <= 3);
	pthread_join(t, NULL);
	oneshot_join(&o);
	assert_true(an.failed);
	assert_true(an.cancelled);
	assert_string_equal(an.error, "stopped");
	assert_false(http_answer_retryable(&an));
	http_answer_fini(&an);
}

static void
test_too_big(void **state)
{
	static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n"
	    "Connection: close\r\n\r\n0123456789012345678901234567890123456789";
	struct oneshot		 o;
	struct http_call	 hc;
	struct http_answer	 an;
	char			 url[128];

	(void)state;
	oneshot_start(&o, answer, strlen(answer));
	url_of(url, sizeof(url), o.port, "/big");
	memset(&hc, 0, sizeof(hc));
	hc.method = "GET";
	hc.url = url;
	hc.secret = 1;
	hc.timeout_ms = 5000;
	hc.body_max = 16;
	http_answer_init(&an);
	http_call_perform(&hc, &an);
	oneshot_join(&o);
	assert_true(an.failed);
	assert_true(an.too_big);
	assert_non_null(strstr(an.error, "over 16 bytes"));
	assert_true(an.body.len <= 16);
	http_answer_fini(&an);
}

static void
test_retryable(void **state)
{
	static const struct {
		long	 status;
		int	 failed, cancelled, peer_refused, want;
	} rows[] = {
		{ 200, 0, 0, 0, 0 }, { 201, 0, 0, 0, 0 }, { 400, 0, 0, 0, 0 },
		{ 403, 0, 0, 0, 0 }, { 404, 0, 0, 0, 0 }, { 408, 0, 0, 0, 1 },
		{ 429, 0, 0, 0, 1 }, { 500, 0, 0, 0, 1 }, { 503, 0, 0, 0, 1 },
		{ 599, 0, 0, 0, 1 }, { 0, 1, 0, 0, 1 }, { 200, 1, 0, 0, 1 },
		{ 0, 1, 1, 0, 0 }, { 0, 1, 0, 1, 0 },
	};
	struct http_answer	 an;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		http_answer_init(&an);
		an.status = rows[i].status;
		an.failed = rows[i].failed;
		an.cancelled = rows[i].cancelled;
		an.peer_refused = rows[i].peer_refused;
		if (http_answer_retryable(&an) != rows[i].want)
			fail_msg("row %zu: status %ld", i, rows[i].status);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsigned_put),
		cmocka_unit_test(test_signed_post),
		cmocka_unit_test(test_peer_refused),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_retryable),
	};
	int	 rc;

	/* A client that stops reading must not kill the test server. */
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("http_call", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
