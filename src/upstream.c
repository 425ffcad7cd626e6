/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upstream: see upstream.h.
 *
 * libcurl 7.88's CURLOPT_AWS_SIGV4 does not sort the query and does not
 * send x-amz-content-sha256, so requests are signed here with sigv4.c.
 * The request is sent exactly as it was signed: the path is encoded once
 * and CURLOPT_PATH_AS_IS keeps curl from squashing "/../" in keys, the
 * query is the canonical one, and the Host header is set explicitly.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "credentials.h"
#include "log.h"
#include "sigv4.h"
#include "upstream.h"
#include "util.h"

#define HEAD_MAX	(64 * 1024)	/* response head bytes we keep */
#define CURL_BUF	(64 * 1024)
#define POOL_IDLE_MAX	64	/* each keeps UPSTREAM_BUF: 16 MiB at most */

/* Immutable after upstream_init(). */
static struct {
	char		 scheme[8];
	char		 host[256];
	unsigned	 port;
	int		 default_port;
	char		 region[65];
	int		 virtual_host;
	int64_t		 connect_timeout_ms;
	int64_t		 timeout_ms;
} up;

struct handle {
	CURLM		*multi;
	CURL		*easy;
	char		*rbuf;		/* UPSTREAM_BUF, kept with the handle */
	struct handle	*next;
};

static pthread_mutex_t	 pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct handle	*pool_head;
static int		 pool_idle;
static atomic_uint_fast64_t connections_opened;

/* Signing keys, cached per access key, day and region (one entry: the
 * proxy signs for one region with one identity at a time). */
static pthread_mutex_t	 key_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char		 akid[129];
	char		 date[9];
	unsigned char	 key[SIGV4_KEY_LEN];
	int		 valid;
} key_cache;

struct upstream_xfer {
	struct handle		*h;
	struct curl_slist	*slist;
	char			 errbuf[CURL_ERROR_SIZE];
	int64_t			 started;
	int64_t			 head_at;
	int64_t			 last_progress;

	/* Request body: the bytes the caller is pushing right now. */
	const char		*src;
	size_t			 src_len;
	int			 body_eof;
	int			 wants_body;
	int			 send_paused;
	uint64_t		 sent;

	/* Response. */
	int			 status;
	int			 head_done;
	struct upstream_header	*hdrs;
	size_t			 n_hdrs;
	size_t			 hdr_bytes;
	int			 head_overflow;
	int64_t			 content_length;
	char			*rbuf;
	size_t			 r_rd, r_wr;
	int			 recv_paused;

	int			 done;
	CURLcode		 result;
	int			 added;
	struct curl_slist	*connect_to;
	uint64_t		 events;	/* callbacks so far */
};

int
upstream_init(const struct cfg *cfg)
{
	memset(&up, 0, sizeof(up));
	if (util_split_url(cfg->upstream.endpoint, up.scheme, sizeof(up.scheme),
	    up.host, sizeof(up.host), &up.port) == -1)
		return -1;
	up.default_port = (strcasecmp(up.scheme, "http") == 0 && up.port == 80)
	    || (strcasecmp(up.scheme, "https") == 0 && up.port == 443);
	snprintf(up.region, sizeof(up.region), "%s", cfg->upstream.region);
	up.virtual_host = cfg->upstream.addressing == CFG_ADDR_VIRTUAL;
	up.connect_timeout_ms = cfg->upstream.connect_timeout_ms;
	up.timeout_ms = cfg->upstream.timeout_ms;
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
upstream_fini(void)
{
	struct handle	*h;

	pthread_mutex_lock(&pool_lock);
	while (pool_head != NULL) {
		h = pool_head;
		pool_head = h->next;
		curl_easy_cleanup(h->easy);
		curl_multi_cleanup(h->multi);
		free(h->rbuf);
		free(h);
	}
	pool_idle = 0;
	pthread_mutex_unlock(&pool_lock);
	pthread_mutex_lock(&key_lock);
	OPENSSL_cleanse(&key_cache, sizeof(key_cache));
	pthread_mutex_unlock(&key_lock);
	curl_global_cleanup();
}

uint64_t
upstream_connections_opened(void)
{
	return atomic_load(&connections_opened);
}

static struct handle *
pool_get(void)
{
	struct handle	*h;

	pthread_mutex_lock(&pool_lock);
	h = pool_head;
	if (h != NULL) {
		pool_head = h->next;
		pool_idle--;
	}
	pthread_mutex_unlock(&pool_lock);
	if (h != NULL) {
		curl_easy_reset(h->easy);
		return h;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->multi = curl_multi_init();
	h->easy = curl_easy_init();
	h->rbuf = malloc(UPSTREAM_BUF);
	if (h->multi == NULL || h->easy == NULL || h->rbuf == NULL) {
		curl_easy_cleanup(h->easy);
		curl_multi_cleanup(h->multi);
		free(h->rbuf);
		free(h);
		return NULL;
	}
	return h;
}

static void
pool_put(struct handle *h, int reusable)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&pool_lock);
	if (reusable && pool_idle < POOL_IDLE_MAX) {
		h->next = pool_head;
		pool_head = h;
		pool_idle++;
		h = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	if (h != NULL) {
		curl_easy_cleanup(h->easy);
		curl_multi_cleanup(h->multi);
		free(h->rbuf);
		free(h);
	}
}

static void
signing_key(unsigned char out[SIGV4_KEY_LEN], const struct credentials *c,
    const char *date8)
{
	pthread_mutex_lock(&key_lock);
	if (!key_cache.valid || strcmp(key_cache.akid, c->access_key_id) != 0 ||
	    strcmp(key_cache.date, date8) != 0) {
		sigv4_signing_key(key_cache.key, c->secret_access_key, date8,
		    up.region, "s3");
		snprintf(key_cache.akid, sizeof(key_cache.akid), "%s",
		    c->access_key_id);
		snprintf(key_cache.date, sizeof(key_cache.date), "%s", date8);
		key_cache.valid = 1;
	}
	memcpy(out, key_cache.key, SIGV4_KEY_LEN);
	pthread_mutex_unlock(&key_lock);
}

/* --- curl callbacks ---------------------------------------------------- */

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *ud)
{
	struct upstream_xfer	*x = ud;
	size_t			 n = size * nmemb;

	x->wants_body = 1;
	x->events++;
	x->last_progress = util_mono_ms();
	if (x->src_len == 0) {
		if (x->body_eof)
			return 0;
		x->send_paused = 1;
		return CURL_READFUNC_PAUSE;
	}
	if (n > x->src_len)
		n = x->src_len;
	memcpy(dst, x->src, n);
	x->src += n;
	x->src_len -= n;
	x->sent += n;
	return n;
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct upstream_xfer	*x = ud;
	size_t			 n = size * nmemb;

	x->events++;
	x->last_progress = util_mono_ms();
	if (x->r_rd == x->r_wr)
		x->r_rd = x->r_wr = 0;
	if (UPSTREAM_BUF - x->r_wr < n && x->r_rd > 0) {
		memmove(x->rbuf, x->rbuf + x->r_rd, x->r_wr - x->r_rd);
		x->r_wr -= x->r_rd;
		x->r_rd = 0;
	}
	if (UPSTREAM_BUF - x->r_wr < n) {
		x->recv_paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	memcpy(x->rbuf + x->r_wr, p, n);
	x->r_wr += n;
	return n;
}

static void
clear_headers(struct upstream_xfer *x)
{
	size_t	 i;

	for (i = 0; i < x->n_hdrs; i++) {
		free(x->hdrs[i].name);
		free(x->hdrs[i].value);
	}
	free(x->hdrs);
	x->hdrs = NULL;
	x->n_hdrs = 0;
	x->hdr_bytes = 0;
	x->content_length = -1;
}

static size_t
header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct upstream_xfer	*x = ud;
	size_t			 n = size * nmemb, nl, vl;
	const char		*colon, *v;
	struct upstream_header	*nh;
	char			*end;

	x->events++;
	x->last_progress = util_mono_ms();
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		const char *sp = memchr(p, ' ', n);

		clear_headers(x);
		x->status = sp != NULL ? atoi(sp + 1) : 0;
		return size * nmemb;
	}
	if (n == 0) {
		/* End of a head; a 1xx head is followed by another. */
		if (x->status >= 200) {
			x->head_done = 1;
			x->head_at = util_mono_ms();
		}
		return size * nmemb;
	}
	if (x->head_overflow)
		return size * nmemb;
	x->hdr_bytes += n;
	colon = memchr(p, ':', n);
	if (x->hdr_bytes > HEAD_MAX || colon == NULL) {
		x->head_overflow = x->hdr_bytes > HEAD_MAX;
		return size * nmemb;
	}
	nl = (size_t)(colon - p);
	v = colon + 1;
	while (v < p + n && (*v == ' ' || *v == '\t'))
		v++;
	vl = (size_t)(p + n - v);
	nh = realloc(x->hdrs, (x->n_hdrs + 1) * sizeof(*nh));
	if (nh == NULL)
		return 0;
	x->hdrs = nh;
	nh[x->n_hdrs].name = strndup(p, nl);
	nh[x->n_hdrs].value = strndup(v, vl);
	if (nh[x->n_hdrs].name == NULL || nh[x->n_hdrs].value == NULL) {
		free(nh[x->n_hdrs].name);
		free(nh[x->n_hdrs].value);
		return 0;
	}
	if (strcasecmp(nh[x->n_hdrs].name, "content-length") == 0) {
		long long cl = strtoll(nh[x->n_hdrs].value, &end, 10);

		x->content_length = (*end == '\0' && cl >= 0) ? cl : -1;
	}
	x->n_hdrs++;
	return size * nmemb;
}

/* --- driving ------------------------------------------------------------ */

static void
check_done(struct upstream_xfer *x)
{
	CURLMsg	*m;
	int	 left;
	long	 nc = 0;

	while ((m = curl_multi_info_read(x->h->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE || m->easy_handle != x->h->easy)
			continue;
		x->done = 1;
		x->result = m->data.result;
		if (curl_easy_getinfo(x->h->easy, CURLINFO_NUM_CONNECTS, &nc) ==
		    CURLE_OK && nc > 0)
			atomic_fetch_add(&connections_opened, (uint64_t)nc);
		/* A head that never ended (the connection closed inside it)
		 * is a failure, whatever curl says: head_done stays 0. */
	}
}

/* One round: let curl work, then wait for sockets up to wait_ms.  Returns
 * -1 when the transfer has made no progress for upstream.timeout. */
static int
drive(struct upstream_xfer *x, int wait_ms)
{
	uint64_t before = x->events;
	int	 running;

	curl_multi_perform(x->h->multi, &running);
	check_done(x);
	/* Progress already: let the caller look before sleeping, or a
	 * paused transfer would wait out the whole poll. */
	if (x->done || x->events != before)
		return 0;
	curl_multi_poll(x->h->multi, NULL, 0, wait_ms, NULL);
	curl_multi_perform(x->h->multi, &running);
	check_done(x);
	if (!x->done && util_mono_ms() - x->last_progress > up.timeout_ms) {
		snprintf(x->errbuf, sizeof(x->errbuf),
		    "no progress from the upstream for %lld ms",
		    (long long)up.timeout_ms);
		x->result = CURLE_OPERATION_TIMEDOUT;
		return -1;
	}
	return 0;
}

static void
unpause(struct upstream_xfer *x)
{
	int	 mask = 0;

	if (x->send_paused && (x->src_len > 0 || x->body_eof))
		x->send_paused = 0;
	if (x->recv_paused && UPSTREAM_BUF - (x->r_wr - x->r_rd) >= CURL_BUF)
		x->recv_paused = 0;
	if (x->send_paused)
		mask |= CURLPAUSE_SEND;
	if (x->recv_paused)
		mask |= CURLPAUSE_RECV;
	curl_easy_pause(x->h->easy, mask);
}

/* --- the request -------------------------------------------------------- */

static int
cmp_hdr(const void *a, const void *b)
{
	const struct sigv4_header *ha = a, *hb = b;

	return strcmp(ha->name, hb->name);
}

static char *
lower_dup(const char *s)
{
	char	*d = strdup(s);
	char	*p;

	for (p = d; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return d;
}

static int
has_header(const struct upstream_req *rq, const char *name)
{
	size_t	 i;

	for (i = 0; i < rq->n_headers; i++)
		if (strcasecmp(rq->headers[i].name, name) == 0)
			return 1;
	return 0;
}

static int
add_header(struct upstream_xfer *x, const char *name, const char *value)
{
	struct buf		 b;
	struct curl_slist	*n;

	buf_init(&b);
	/* "Name;" is curl's way to send a header with an empty value. */
	if (value[0] == '\0')
		buf_printf(&b, "%s;", name);
	else
		buf_printf(&b, "%s: %s", name, value);
	n = buf_ok(&b) ? curl_slist_append(x->slist, buf_str(&b)) : NULL;
	buf_fini(&b);
	if (n == NULL)
		return -1;
	x->slist = n;
	return 0;
}

struct upstream_xfer *
upstream_start(const struct upstream_req *rq)
{
	struct upstream_xfer	*x = NULL;
	struct credentials	 c;
	struct sigv4_header	*sh = NULL;
	struct sigv4_request	 sr;
	struct buf		 host, path, url, names, creq, scope, sts, auth;
	char			 amz_date[17], date8[9], sig[SIGV4_HEX_LEN + 1];
	unsigned char		 key[SIGV4_KEY_LEN];
	size_t			 i, n = 0, nsh;
	int			 ok = 0;
	CURL			*e;

	memset(&c, 0, sizeof(c));
	buf_init(&host);
	buf_init(&path);
	buf_init(&url);
	buf_init(&names);
	buf_init(&creq);
	buf_init(&scope);
	buf_init(&sts);
	buf_init(&auth);

	if (credentials_get(&c) == -1)
		goto out;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		goto out;
	x->content_length = -1;
	x->started = x->last_progress = util_mono_ms();
	/* Buffers live with the pooled handle: a small request allocates
	 * (and faults in) nothing large. */
	x->h = pool_get();
	if (x->h == NULL)
		goto out;
	x->rbuf = x->h->rbuf;
	e = x->h->easy;

	/* Host and path, exactly as they will be sent and signed. */
	if (up.virtual_host && rq->bucket != NULL)
		buf_printf(&host, "%s.", rq->bucket);
	if (strchr(up.host, ':') != NULL)
		buf_printf(&host, "[%s]", up.host);
	else
		buf_puts(&host, up.host);
	if (!up.default_port)
		buf_printf(&host, ":%u", up.port);
	buf_putc(&path, '/');
	if (!up.virtual_host && rq->bucket != NULL) {
		buf_puts(&path, rq->bucket);
		if (rq->key != NULL)
			buf_putc(&path, '/');
	}
	if (rq->key != NULL)
		sigv4_uri_encode(&path, rq->key, strlen(rq->key), 1);
	buf_printf(&url, "%s://%s%s%s%s", up.scheme, buf_str(&host),
	    buf_str(&path), rq->query[0] != '\0' ? "?" : "", rq->query);

	sigv4_format_amz_date(amz_date, util_now());
	memcpy(date8, amz_date, 8);
	date8[8] = '\0';

	/* Headers to sign: all we forward but User-Agent (as the AWS SDKs
	 * do), plus ours. */
	sh = calloc(rq->n_headers + 4, sizeof(*sh));
	if (sh == NULL)
		goto out;
	for (i = 0; i < rq->n_headers; i++) {
		if (strcasecmp(rq->headers[i].name, "user-agent") == 0)
			continue;
		sh[n].name = lower_dup(rq->headers[i].name);
		sh[n].value = rq->headers[i].value;
		if (sh[n].name == NULL)
			goto out;
		n++;
	}
	sh[n].name = strdup("host");
	sh[n++].value = buf_str(&host);
	sh[n].name = strdup("x-amz-content-sha256");
	sh[n++].value = rq->payload_hash;
	sh[n].name = strdup("x-amz-date");
	sh[n++].value = amz_date;
	if (c.session_token[0] != '\0') {
		sh[n].name = strdup("x-amz-security-token");
		sh[n++].value = c.session_token;
	}
	for (i = 0; i < n; i++)
		if (sh[i].name == NULL)
			goto out;
	qsort(sh, n, sizeof(*sh), cmp_hdr);
	for (i = 0, nsh = 0; i < n; i++) {
		if (i > 0 && strcmp(sh[i].name, sh[i - 1].name) == 0)
			continue;
		buf_printf(&names, "%s%s", nsh++ ? ";" : "", sh[i].name);
	}
	memset(&sr, 0, sizeof(sr));
	sr.method = rq->method;
	sr.canonical_uri = buf_str(&path);
	sr.canonical_query = rq->query;
	sr.headers = sh;
	sr.n_headers = n;
	sr.signed_headers = buf_str(&names);
	sr.payload_hash = rq->payload_hash;
	if (sigv4_canonical_request(&creq, &sr) != 0)
		goto out;
	sigv4_scope(&scope, date8, up.region, "s3");
	sigv4_string_to_sign(&sts, amz_date, buf_str(&scope), buf_str(&creq),
	    creq.len);
	signing_key(key, &c, date8);
	sigv4_sign(sig, key, buf_str(&sts), sts.len);
	OPENSSL_cleanse(key, sizeof(key));
	buf_printf(&auth, "%s Credential=%s/%s, SignedHeaders=%s, "
	    "Signature=%s", SIGV4_ALGORITHM, c.access_key_id, buf_str(&scope),
	    buf_str(&names), sig);
	if (!buf_ok(&host) || !buf_ok(&path) || !buf_ok(&url) ||
	    !buf_ok(&names) || !buf_ok(&auth))
		goto out;

	if (add_header(x, "Host", buf_str(&host)) ||
	    add_header(x, "x-amz-date", amz_date) ||
	    add_header(x, "x-amz-content-sha256", rq->payload_hash) ||
	    (c.session_token[0] != '\0' &&
	    add_header(x, "x-amz-security-token", c.session_token)) ||
	    add_header(x, "Authorization", buf_str(&auth)))
		goto out;
	for (i = 0; i < rq->n_headers; i++)
		if (add_header(x, rq->headers[i].name, rq->headers[i].value))
			goto out;
	/* Only what the client asked for: no Expect or Accept of curl's. */
	if (rq->expect_continue) {
		if (add_header(x, "Expect", "100-continue"))
			goto out;
	} else if ((x->slist = curl_slist_append(x->slist, "Expect:")) == NULL)
		goto out;
	if (!has_header(rq, "accept") &&
	    (x->slist = curl_slist_append(x->slist, "Accept:")) == NULL)
		goto out;

	curl_easy_setopt(e, CURLOPT_URL, buf_str(&url));
	if (up.virtual_host && rq->bucket != NULL) {
		struct curl_slist	*ct;
		struct buf		 b;

		buf_init(&b);
		buf_printf(&b, "%s.%s:%u:%s:%u", rq->bucket, up.host, up.port,
		    up.host, up.port);
		ct = buf_ok(&b) ? curl_slist_append(NULL, buf_str(&b)) : NULL;
		buf_fini(&b);
		if (ct == NULL)
			goto out;
		x->connect_to = ct;
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, ct);
	}
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->slist);
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)up.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_EXPECT_100_TIMEOUT_MS, 1000L);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)CURL_BUF);
	curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, (long)CURL_BUF);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(e, CURLOPT_READDATA, x);
	if (strcmp(rq->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (rq->has_body) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)rq->body_len);
		if (strcmp(rq->method, "PUT") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq->method);
	} else if (strcmp(rq->method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq->method);
	if (rq->has_body && rq->body_len == 0)
		x->body_eof = 1;

	if (curl_multi_add_handle(x->h->multi, e) != CURLM_OK)
		goto out;
	x->added = 1;
	ok = 1;
out:
	credentials_wipe(&c);
	if (sh != NULL) {
		for (i = 0; i < n; i++)
			free((char *)sh[i].name);
		free(sh);
	}
	buf_fini(&host);
	buf_fini(&path);
	buf_fini(&url);
	buf_fini(&names);
	buf_fini(&creq);
	buf_fini(&scope);
	buf_fini(&sts);
	buf_wipe(&auth);
	if (!ok) {
		upstream_free(x);
		return NULL;
	}
	return x;
}

int
upstream_push(struct upstream_xfer *x, const char *p, size_t len)
{
	x->src = p;
	x->src_len = len;
	while (x->src_len > 0) {
		if (x->done)
			return x->result == CURLE_OK ? 1 : -1;
		/* An answer of 300 or more during the upload: curl stops
		 * sending and the rest of the body is not wanted. */
		if (x->head_done && x->status >= 300)
			return 1;
		unpause(x);
		if (drive(x, 1000) == -1)
			return -1;
	}
	x->src = NULL;
	return 0;
}

void
upstream_body_done(struct upstream_xfer *x)
{
	x->body_eof = 1;
	x->src = NULL;
	x->src_len = 0;
	if (x->send_paused) {
		unpause(x);
		drive(x, 0);
	}
}

int
upstream_wait_continue(struct upstream_xfer *x, int64_t timeout_ms)
{
	int64_t	 deadline = util_mono_ms() + timeout_ms;

	while (!x->wants_body && !x->head_done && !x->done) {
		if (util_mono_ms() > deadline)
			return 0;
		if (drive(x, 100) == -1)
			return -1;
	}
	if (x->head_done)
		return 1;
	if (x->done)
		return x->result == CURLE_OK ? 1 : -1;
	return 0;
}

int
upstream_wait_head(struct upstream_xfer *x)
{
	while (!x->head_done && !x->done) {
		unpause(x);
		if (drive(x, 1000) == -1)
			return -1;
	}
	if (!x->head_done)
		return -1;
	return x->status;
}

const struct upstream_header *
upstream_headers(const struct upstream_xfer *x, size_t *n)
{
	*n = x->n_hdrs;
	return x->hdrs;
}

int64_t
upstream_content_length(const struct upstream_xfer *x)
{
	return x->content_length;
}

ssize_t
upstream_read(struct upstream_xfer *x, char *dst, size_t max)
{
	size_t	 n;

	for (;;) {
		if (x->r_wr > x->r_rd) {
			n = x->r_wr - x->r_rd;
			if (n > max)
				n = max;
			memcpy(dst, x->rbuf + x->r_rd, n);
			x->r_rd += n;
			return (ssize_t)n;
		}
		if (x->done)
			return x->result == CURLE_OK ? 0 : -1;
		unpause(x);
		if (x->r_wr > x->r_rd)
			continue;	/* unpausing delivered held data */
		if (drive(x, 1000) == -1)
			return -1;
	}
}

int64_t
upstream_ms(const struct upstream_xfer *x)
{
	if (x == NULL)
		return 0;
	return (x->head_at ? x->head_at : util_mono_ms()) - x->started;
}

uint64_t
upstream_bytes_sent(const struct upstream_xfer *x)
{
	return x != NULL ? x->sent : 0;
}

const char *
upstream_error(const struct upstream_xfer *x)
{
	if (x == NULL)
		return "no transfer";
	if (x->errbuf[0] != '\0')
		return x->errbuf;
	return curl_easy_strerror(x->result);
}

void
upstream_free(struct upstream_xfer *x)
{
	int	 clean;

	if (x == NULL)
		return;
	clean = x->done && x->result == CURLE_OK;
	if (x->h != NULL && x->added) {
		/* Removing an unfinished transfer closes its connection, so
		 * a half-sent body is never completed by anyone. */
		curl_multi_remove_handle(x->h->multi, x->h->easy);
	}
	if (x->h != NULL) {
		curl_easy_setopt(x->h->easy, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(x->h->easy, CURLOPT_CONNECT_TO, NULL);
		curl_easy_setopt(x->h->easy, CURLOPT_ERRORBUFFER, NULL);
	}
	pool_put(x->h, clean || !x->added);
	curl_slist_free_all(x->slist);
	curl_slist_free_all(x->connect_to);
	clear_headers(x);
	free(x);
}

int
upstream_reachable(long timeout_ms)
{
	CURL	*e;
	char	 url[300];
	int	 ok;

	e = curl_easy_init();
	if (e == NULL)
		return 0;
	snprintf(url, sizeof(url), "%s://%s%s%s:%u/", up.scheme,
	    strchr(up.host, ':') != NULL ? "[" : "", up.host,
	    strchr(up.host, ':') != NULL ? "]" : "", up.port);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	ok = curl_easy_perform(e) == CURLE_OK;
	curl_easy_cleanup(e);
	return ok;
}
