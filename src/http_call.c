/* SPDX-License-Identifier: Apache-2.0 */
/* http_call: see http_call.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "http_call.h"
#include "sigv4.h"

#ifdef PACKAGE_VERSION
#define HC_USER_AGENT		"s3inval/" PACKAGE_VERSION
#else
#define HC_USER_AGENT		"s3inval"
#endif

struct reading {
	struct http_answer	*an;
	size_t			 max;
};

void
http_answer_init(struct http_answer *an)
{
	memset(an, 0, sizeof(*an));
	buf_init(&an->body);
}

void
http_answer_fini(struct http_answer *an)
{
	if (an == NULL)
		return;
	buf_wipe(&an->body);
	memset(an, 0, sizeof(*an));
	buf_init(&an->body);
}

int
http_answer_retryable(const struct http_answer *an)
{
	if (an->failed)
		return !an->cancelled && !an->peer_refused;
	return an->status >= 500 || an->status == 429 || an->status == 408;
}

static size_t
body_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct reading	*r = ud;
	size_t		 n = size * nmemb;

	if (n > r->max - r->an->body.len) {
		r->an->too_big = 1;
		return 0;
	}
	if (buf_append(&r->an->body, p, n) == -1)
		return 0;
	return n;
}

/* The value of header line p (len bytes, "Name: value\r\n") into dst when
 * its name is name: trimmed, control bytes made spaces, cut to fit. */
static int
header_value(const char *p, size_t len, const char *name, char *dst,
    size_t dstsz)
{
	size_t	 n = strlen(name), i, o = 0;

	if (len <= n || p[n] != ':' || strncasecmp(p, name, n) != 0)
		return 0;
	p += n + 1;
	len -= n + 1;
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
	    p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	for (i = 0; i < len && o + 1 < dstsz; i++) {
		unsigned char	 c = (unsigned char)p[i];

		dst[o++] = (c < 0x20 || c == 0x7F) ? ' ' : (char)c;
	}
	dst[o] = '\0';
	return 1;
}

static size_t
header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct reading		*r = ud;
	struct http_answer	*an = r->an;
	static const char *const aws[] = {
		"x-amz-request-id", "x-amz-id-2", "x-amzn-requestid",
		"x-amz-bucket-region",
	};
	char			 scratch[8];
	size_t			 n = size * nmemb, i;

	/* A new head (after "100 Continue", say) starts over. */
	if (n > 5 && strncmp(p, "HTTP/", 5) == 0) {
		an->date[0] = an->server[0] = an->content_type[0] = '\0';
		an->bucket_region[0] = '\0';
		an->aws_headers = 0;
		return n;
	}
	for (i = 0; i < sizeof(aws) / sizeof(aws[0]); i++)
		if (header_value(p, n, aws[i], scratch, sizeof(scratch)))
			an->aws_headers++;
	header_value(p, n, "date", an->date, sizeof(an->date));
	header_value(p, n, "server", an->server, sizeof(an->server));
	header_value(p, n, "content-type", an->content_type,
	    sizeof(an->content_type));
	header_value(p, n, "x-amz-bucket-region", an->bucket_region,
	    sizeof(an->bucket_region));
	return n;
}

static int
progress_cb(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	const struct http_call	*hc = ud;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return atomic_load(hc->cancel) ? 1 : 0;
}

struct peer_check {
	const struct http_call	*hc;
	struct http_answer	*an;
};

static int
prereq_cb(void *ud, char *ip, char *local_ip, int port, int local_port)
{
	struct peer_check	*pc = ud;

	(void)local_ip;
	(void)port;
	(void)local_port;
	if (pc->hc->peer_ok(ip))
		return CURL_PREREQFUNC_OK;
	pc->an->peer_refused = 1;
	snprintf(pc->an->error, sizeof(pc->an->error), "refused to send "
	    "to %.64s: not an address this call may reach", ip);
	return CURL_PREREQFUNC_ABORT;
}

static int
append(struct curl_slist **list, const char *line)
{
	struct curl_slist	*n = curl_slist_append(*list, line);

	if (n == NULL)
		return -1;
	*list = n;
	return 0;
}

static int
add_header(struct curl_slist **list, const char *name, const char *value)
{
	struct buf	 b;
	int		 rc = -1;

	buf_init(&b);
	buf_printf(&b, "%s: %s", name, value);
	if (buf_ok(&b))
		rc = append(list, buf_str(&b));
	buf_wipe(&b);
	return rc;
}

/* The list may hold the Authorization header and a session token. */
static void
slist_wipe(struct curl_slist *list)
{
	struct curl_slist	*p;

	for (p = list; p != NULL; p = p->next)
		OPENSSL_cleanse(p->data, strlen(p->data));
	curl_slist_free_all(list);
}

/*
 * The headers to send, signed by sigv4_sign_request() (the one signing
 * entry point): Content-Type (when sent, signed too), Host,
 * X-Amz-Content-Sha256, X-Amz-Date, X-Amz-Security-Token (session
 * credentials) as signed, then Authorization.  Returns 0, or -1 when out
 * of memory.
 */
static int
sign(const struct http_call *hc, struct curl_slist **hdrs)
{
	struct sigv4_header	 ct;
	struct sigv4_outgoing	 o;
	struct buf		 auth;
	char			 amz_date[17];
	char			 payload[SIGV4_HEX_LEN + 1];
	int			 rc = -1;

	buf_init(&auth);
	sigv4_sha256_hex(payload, hc->body != NULL ? hc->body : "",
	    hc->body != NULL ? hc->body_len : 0);
	ct.name = "content-type";
	ct.value = hc->content_type;
	memset(&o, 0, sizeof(o));
	o.method = hc->method;
	o.host = hc->host;
	o.canonical_uri = hc->path;
	o.canonical_query = "";
	o.headers = &ct;
	o.n_headers = hc->content_type != NULL ? 1 : 0;
	o.payload_hash = payload;
	o.region = hc->region;
	o.service = hc->service;
	o.access_key_id = hc->cred->access_key_id;
	o.secret_access_key = hc->cred->secret_access_key;
	o.session_token = hc->cred->session_token;
	o.now = hc->now;
	if (sigv4_sign_request(&o, NULL, amz_date, &auth) == -1)
		goto out;
	/* What is signed is what is sent, Host included (curl's own would
	 * be the same). */
	if ((hc->content_type != NULL && add_header(hdrs, "Content-Type",
	    hc->content_type) == -1) ||
	    add_header(hdrs, "Host", hc->host) == -1 ||
	    add_header(hdrs, "X-Amz-Content-Sha256", payload) == -1 ||
	    add_header(hdrs, "X-Amz-Date", amz_date) == -1 ||
	    (hc->cred->session_token[0] != '\0' && add_header(hdrs,
	    "X-Amz-Security-Token", hc->cred->session_token) == -1) ||
	    add_header(hdrs, "Authorization", buf_str(&auth)) == -1)
		goto out;
	rc = 0;
out:
	buf_wipe(&auth);
	return rc;
}

static void
failed(struct http_answer *an, const char *why)
{
	an->failed = 1;
	snprintf(an->error, sizeof(an->error), "%s", why);
}

/* Every header of the request into *hdrs.  0, or -1 when out of memory. */
static int
headers(const struct http_call *hc, struct curl_slist **hdrs)
{
	struct buf	 bearer;
	size_t		 i;
	int		 bad = 0;

	buf_init(&bearer);
	if (hc->cred != NULL)
		bad = sign(hc, hdrs);
	else {
		if (hc->url == NULL)
			bad = add_header(hdrs, "Host", hc->host);
		if (!bad && hc->content_type != NULL)
			bad = add_header(hdrs, "Content-Type",
			    hc->content_type);
		if (!bad && hc->bearer != NULL) {
			buf_printf(&bearer, "Bearer %s", hc->bearer);
			bad = !buf_ok(&bearer) || add_header(hdrs,
			    "Authorization", buf_str(&bearer));
		}
	}
	for (i = 0; !bad && hc->headers != NULL && hc->headers[i] != NULL;
	    i++)
		bad = append(hdrs, hc->headers[i]);
	/* Sent as signed: no "Expect: 100-continue" (a long body), no form
	 * Content-Type of curl's own (an empty PUT or POST). */
	if (!bad)
		bad = append(hdrs, "Expect:");
	if (!bad && hc->content_type == NULL && (hc->body != NULL ||
	    strcmp(hc->method, "PUT") == 0 || strcmp(hc->method, "POST") == 0))
		bad = append(hdrs, "Content-Type:");
	buf_wipe(&bearer);
	return bad ? -1 : 0;
}

void
http_call_perform(const struct http_call *hc, struct http_answer *an)
{
	struct reading		 rd;
	struct peer_check	 pc;
	struct curl_slist	*hdrs = NULL, *ct = NULL;
	struct buf		 url;
	const char		*body = hc->body;
	char			 errbuf[CURL_ERROR_SIZE];
	CURL			*e = NULL;
	CURLcode		 cc;
	long			 cto;
	int			 bad = 0;

	http_answer_fini(an);
	buf_init(&url);
	errbuf[0] = '\0';
	rd.an = an;
	rd.max = hc->body_max;
	pc.hc = hc;
	pc.an = an;
	/* Room for all of it now: a buffer that grew would leave a copy. */
	if (hc->secret)
		bad = buf_reserve(&an->body, hc->body_max + 1) == -1;
	if (body == NULL && (strcmp(hc->method, "PUT") == 0 ||
	    strcmp(hc->method, "POST") == 0))
		body = "";
	bad = bad || headers(hc, &hdrs) == -1;
	if (!bad && hc->connect_to != NULL)
		bad = append(&ct, hc->connect_to) == -1;
	if (hc->url != NULL)
		buf_puts(&url, hc->url);
	else
		buf_printf(&url, "%s://%s%s", hc->scheme, hc->host, hc->path);
	e = curl_easy_init();
	if (bad || e == NULL || !buf_ok(&url)) {
		failed(an, "out of memory");
		goto out;
	}

	cto = hc->connect_timeout_ms > 0 ? hc->connect_timeout_ms :
	    hc->timeout_ms;
	bad |= curl_easy_setopt(e, CURLOPT_URL, buf_str(&url)) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR,
	    "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, hc->timeout_ms) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cto) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, HC_USER_AGENT) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_cb) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, &rd) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, &rd) != CURLE_OK;
	if (ct != NULL)
		bad |= curl_easy_setopt(e, CURLOPT_CONNECT_TO, ct) != CURLE_OK;
	if (hc->direct)
		bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
	if (hc->peer_ok != NULL) {
		bad |= curl_easy_setopt(e, CURLOPT_PREREQFUNCTION,
		    prereq_cb) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_PREREQDATA, &pc) !=
		    CURLE_OK;
	}
	if (hc->cancel != NULL) {
		bad |= curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION,
		    progress_cb) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_XFERINFODATA, hc) !=
		    CURLE_OK;
	}
	if (body != NULL) {
		bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(hc->body != NULL ? hc->body_len : 0)) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) !=
		    CURLE_OK;
		if (strcmp(hc->method, "POST") != 0)
			bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
			    hc->method) != CURLE_OK;
	} else if (strcmp(hc->method, "HEAD") == 0)
		bad |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L) != CURLE_OK;
	else if (strcmp(hc->method, "GET") == 0)
		bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	else
		bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
		    hc->method) != CURLE_OK;
	if (bad) {
		failed(an, "curl refused an option");
		goto out;
	}

	cc = curl_easy_perform(e);
	if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &an->status) !=
	    CURLE_OK)
		an->status = 0;
	if (cc == CURLE_OK)
		goto out;
	an->failed = 1;
	if (cc == CURLE_WRITE_ERROR && an->too_big)
		snprintf(an->error, sizeof(an->error), "HTTP %ld, response "
		    "body over %zu bytes", an->status, hc->body_max);
	else if (hc->cancel != NULL && atomic_load(hc->cancel)) {
		an->cancelled = 1;
		snprintf(an->error, sizeof(an->error), "stopped");
	} else if (!an->peer_refused)	/* else prereq_cb() said why */
		snprintf(an->error, sizeof(an->error), "%s: %s",
		    curl_easy_strerror(cc), errbuf[0] != '\0' ? errbuf : "-");
out:
	curl_easy_cleanup(e);
	slist_wipe(hdrs);
	curl_slist_free_all(ct);
	buf_fini(&url);
}
