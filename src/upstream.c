/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upstream: see upstream.h.
 *
 * libcurl 7.88's CURLOPT_AWS_SIGV4 does not sort the query and does not
 * send x-amz-content-sha256, so requests are signed here with
 * sigv4_sign_request().  The request is sent exactly as it was signed: the
 * path is encoded once and CURLOPT_PATH_AS_IS keeps curl from squashing
 * "/../" in keys, the query is the canonical one, and the Host header is
 * set explicitly.
 *
 * Sockets: curl tells socket_cb which descriptors to watch; their
 * watchers live on the client's evloop.  A watcher curl is done with is
 * stopped at once but freed only in upstream_client_tick(), after the
 * loop's round: an event for it may still be in that round's batch.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

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
#define IDLE_EASY_MAX	32	/* easy handles kept for reuse, per client */
#define IDLE_CONNS_MIN	128	/* idle upstream connections kept, per loop */
#define IDLE_CONNS_MAX	4096
#define WATCHDOG_MS	250
#define SEND_HOLD_MS	100	/* body bytes held for a batch, at most */

/* Immutable after upstream_init(). */
static struct {
	char		 scheme[8];
	char		 host[256];
	unsigned	 port;
	int		 default_port;
	char		 region[65];
	int		 virtual_host;
	int64_t		 connect_timeout_ms;
	long		 max_idle;	/* idle connections kept, per loop */
	int64_t		 timeout_ms;
} up;

static atomic_uint_fast64_t connections_opened;

struct sockw {
	struct evwatch		 w;
	struct upstream_client	*cl;
	struct sockw		*next_dead;
};

struct upstream_client {
	struct evloop		*loop;
	CURLM			*multi;
	int64_t			 timer_at;	/* mono ms; -1: none */
	int64_t			 watchdog_at;
	CURL			*idle[IDLE_EASY_MAX];
	int			 n_idle;
	struct sigv4_key_cache	 keys;
	struct upstream_xfer	*xfers;		/* every transfer not freed */
	struct sockw		*dead;
};

struct upstream_xfer {
	struct upstream_client	*cl;
	CURL			*easy;
	struct curl_slist	*slist;
	struct curl_slist	*connect_to;
	char			 errbuf[CURL_ERROR_SIZE];
	const struct upstream_events *ev;
	void			*arg;
	int64_t			 started;
	int64_t			 head_at;
	int64_t			 last_progress;
	struct upstream_xfer	*prev, *next;

	/* Request body. */
	char			*sbuf;
	size_t			 s_rd, s_wr, s_cap;
	int			 body_eof;
	int			 wants_body;
	int			 send_paused;
	int64_t			 held_since;	/* body bytes held while paused */
	int			 send_full;	/* caller told to wait */
	uint64_t		 sent;

	/* Response head. */
	int			 status;	/* of the head being read */
	int			 head_done;
	int			 head_overflow;
	struct buf		 hraw;		/* "name\0value\0" ... */
	size_t			 n_hdrs;
	struct sigv4_header	*hdrs;		/* into hraw, at head end */
	int64_t			 content_length;

	/* Response body. */
	char			*rbuf;
	size_t			 r_rd, r_wr, r_cap;
	int			 recv_paused;

	int			 added;
	int			 done;
	CURLcode		 result;
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
	/* As many idle connections as a loop may have requests at once:
	 * fewer, and a busy proxy closes what it opens a moment later (a
	 * soak of 1,000 clients opened one connection a request). */
	up.max_idle = (long)cfg->server.max_connections;
	if (up.max_idle < IDLE_CONNS_MIN)
		up.max_idle = IDLE_CONNS_MIN;
	if (up.max_idle > IDLE_CONNS_MAX)
		up.max_idle = IDLE_CONNS_MAX;
	up.timeout_ms = cfg->upstream.timeout_ms;
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
upstream_fini(void)
{
	curl_global_cleanup();
}

uint64_t
upstream_connections_opened(void)
{
	return atomic_load(&connections_opened);
}

/* --- the client's sockets and timer -------------------------------------- */

static void check_done(struct upstream_client *);
static void unpause(struct upstream_xfer *);

static void
sock_event(struct evwatch *w, uint32_t events)
{
	struct sockw	*sw = w->arg;
	int		 flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(sw->cl->multi, w->fd, flags, &running);
	check_done(sw->cl);
}

static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct upstream_client	*cl = userp;
	struct sockw		*sw = socketp;
	uint32_t		 events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (sw != NULL) {
			evloop_watch(cl->loop, &sw->w, 0);
			sw->next_dead = cl->dead;
			cl->dead = sw;
			curl_multi_assign(cl->multi, s, NULL);
		}
		return 0;
	}
	if (sw == NULL) {
		sw = calloc(1, sizeof(*sw));
		if (sw == NULL)
			return -1;
		sw->cl = cl;
		sw->w.fd = s;
		sw->w.cb = sock_event;
		sw->w.arg = sw;
		curl_multi_assign(cl->multi, s, sw);
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= EPOLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= EPOLLOUT;
	if (evloop_watch(cl->loop, &sw->w, events) == -1)
		log_warn("upstream: cannot watch socket %d: %s", (int)s,
		    strerror(errno));
	return 0;
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct upstream_client	*cl = userp;

	(void)multi;
	cl->timer_at = timeout_ms < 0 ? -1 : util_mono_ms() + timeout_ms;
	return 0;
}

struct upstream_client *
upstream_client_new(struct evloop *loop)
{
	struct upstream_client	*cl;

	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return NULL;
	cl->loop = loop;
	cl->timer_at = -1;
	cl->multi = curl_multi_init();
	if (cl->multi == NULL) {
		free(cl);
		return NULL;
	}
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	/* Idle connections kept for reuse (moto closes every one; S3
	 * keeps them). */
	curl_multi_setopt(cl->multi, CURLMOPT_MAXCONNECTS, up.max_idle);
	return cl;
}

static void
reap(struct upstream_client *cl)
{
	struct sockw	*sw;

	while ((sw = cl->dead) != NULL) {
		cl->dead = sw->next_dead;
		free(sw);
	}
}

void
upstream_client_free(struct upstream_client *cl)
{
	int	 i;

	if (cl == NULL)
		return;
	while (cl->xfers != NULL)
		upstream_free(cl->xfers);
	for (i = 0; i < cl->n_idle; i++)
		curl_easy_cleanup(cl->idle[i]);
	/* Closes the cached connections; socket_cb says REMOVE for each. */
	curl_multi_cleanup(cl->multi);
	reap(cl);
	sigv4_key_cache_wipe(&cl->keys);
	free(cl);
}

int64_t
upstream_client_next_ms(struct upstream_client *cl)
{
	int64_t	 now = util_mono_ms(), next = -1;

	if (cl->timer_at >= 0)
		next = cl->timer_at > now ? cl->timer_at - now : 0;
	if (cl->xfers != NULL) {
		int64_t w = cl->watchdog_at > now ? cl->watchdog_at - now : 0;

		if (next < 0 || w < next)
			next = w;
	}
	return next;
}

/* A transfer with nothing paused on our side (so it waits for the
 * upstream alone) that made no progress for upstream.timeout fails. */
static void
watchdog(struct upstream_client *cl, int64_t now)
{
	struct upstream_xfer	*x;

	for (x = cl->xfers; x != NULL; x = x->next) {
		/* A slow client's bytes go on within a tick, batch or not:
		 * an upstream times out a request that sends nothing. */
		if (x->send_paused && x->held_since != 0 &&
		    now - x->held_since >= SEND_HOLD_MS)
			unpause(x);
		if (x->done || !x->added || x->send_paused || x->recv_paused ||
		    now - x->last_progress <= up.timeout_ms)
			continue;
		snprintf(x->errbuf, sizeof(x->errbuf), "no progress from the "
		    "upstream for %lld ms", (long long)up.timeout_ms);
		curl_multi_remove_handle(cl->multi, x->easy);
		x->added = 0;
		x->done = 1;
		x->result = CURLE_OPERATION_TIMEDOUT;
		if (x->ev->done != NULL)
			x->ev->done(x->arg);
	}
}

void
upstream_client_tick(struct upstream_client *cl)
{
	int64_t	 now = util_mono_ms();
	int	 running;

	if (cl->timer_at >= 0 && now >= cl->timer_at) {
		cl->timer_at = -1;
		curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
		check_done(cl);
	}
	if (now >= cl->watchdog_at) {
		cl->watchdog_at = now + WATCHDOG_MS;
		watchdog(cl, now);
	}
	reap(cl);
}

static void
check_done(struct upstream_client *cl)
{
	struct upstream_xfer	*x;
	CURLMsg			*m;
	int			 left;
	long			 nc = 0;
	char			*priv;

	while ((m = curl_multi_info_read(cl->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct upstream_xfer *)(void *)priv;
		if (x == NULL || x->done)
			continue;
		x->done = 1;
		x->result = m->data.result;
		if (curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &nc) ==
		    CURLE_OK && nc > 0)
			atomic_fetch_add(&connections_opened, (uint64_t)nc);
		/* A head that never ended (the connection closed inside it)
		 * is a failure, whatever curl says: head_done stays 0. */
		if (x->ev->done != NULL)
			x->ev->done(x->arg);
	}
}

/* --- curl callbacks ---------------------------------------------------- */

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *ud)
{
	struct upstream_xfer	*x = ud;
	size_t			 n = size * nmemb, have;
	int			 first = !x->wants_body;

	x->wants_body = 1;
	x->last_progress = util_mono_ms();
	have = x->s_wr - x->s_rd;
	if (have == 0) {
		if (first && x->ev->wants_body != NULL)
			x->ev->wants_body(x->arg);
		if (x->body_eof)
			return 0;
		x->send_paused = 1;
		return CURL_READFUNC_PAUSE;
	}
	if (n > have)
		n = have;
	memcpy(dst, x->sbuf + x->s_rd, n);
	x->s_rd += n;
	x->sent += n;
	if (x->s_rd == x->s_wr)
		x->s_rd = x->s_wr = 0;
	if (first && x->ev->wants_body != NULL)
		x->ev->wants_body(x->arg);
	if (x->send_full && x->s_wr - x->s_rd < XFER_SEND_LOW) {
		x->send_full = 0;
		if (x->ev->drained != NULL)
			x->ev->drained(x->arg);
	}
	return n;
}

static int
grow(char **p, size_t *cap, size_t need, size_t max)
{
	size_t	 ncap = *cap ? *cap : 4096;
	char	*np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if (ncap > max)
		ncap = max;
	if (ncap < need)
		return -1;
	np = realloc(*p, ncap);
	if (np == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct upstream_xfer	*x = ud;
	size_t			 n = size * nmemb, want;

	x->last_progress = util_mono_ms();
	if (x->r_rd == x->r_wr)
		x->r_rd = x->r_wr = 0;
	if (x->r_cap - x->r_wr < n && x->r_rd > 0) {
		memmove(x->rbuf, x->rbuf + x->r_rd, x->r_wr - x->r_rd);
		x->r_wr -= x->r_rd;
		x->r_rd = 0;
	}
	if (x->r_cap - x->r_wr < n) {
		/* A known small body gets a buffer of its size. */
		want = x->r_wr + n;
		if (x->content_length > 0 && (uint64_t)x->content_length <
		    XFER_RECV_MAX && want < (size_t)x->content_length)
			want = (size_t)x->content_length;
		if (grow(&x->rbuf, &x->r_cap, want, XFER_RECV_MAX) == -1) {
			x->recv_paused = 1;
			return CURL_WRITEFUNC_PAUSE;
		}
	}
	memcpy(x->rbuf + x->r_wr, p, n);
	x->r_wr += n;
	if (x->ev->data != NULL)
		x->ev->data(x->arg);
	return n;
}

static void
finish_head(struct upstream_xfer *x)
{
	const char	*p = x->hraw.data;
	size_t		 i;

	x->hdrs = calloc(x->n_hdrs + 1, sizeof(*x->hdrs));
	if (x->hdrs == NULL) {
		x->head_overflow = 1;
		return;
	}
	for (i = 0; i < x->n_hdrs; i++) {
		x->hdrs[i].name = p;
		p += strlen(p) + 1;
		x->hdrs[i].value = p;
		p += strlen(p) + 1;
	}
	x->head_done = 1;
	x->head_at = util_mono_ms();
}

static size_t
header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct upstream_xfer	*x = ud;
	size_t			 n = size * nmemb, nl;
	const char		*colon, *v, *e;
	char			*end;
	long long		 cl;

	x->last_progress = util_mono_ms();
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		const char *sp = memchr(p, ' ', n);

		buf_reset(&x->hraw);
		x->n_hdrs = 0;
		x->content_length = -1;
		x->status = sp != NULL ? atoi(sp + 1) : 0;
		return size * nmemb;
	}
	if (n == 0) {
		/* End of a head; a 1xx head is followed by another. */
		if (x->status >= 200) {
			finish_head(x);
			if (x->head_overflow)
				return 0;
			if (x->ev->head != NULL)
				x->ev->head(x->arg);
		}
		return size * nmemb;
	}
	colon = memchr(p, ':', n);
	/* An upstream head too large to keep whole fails the request (the
	 * front answers 502): a silently shortened one could lose its
	 * ETag.  Returning 0 makes curl abort the transfer. */
	if (x->hraw.len + n + 2 > HEAD_MAX) {
		x->head_overflow = 1;
		return 0;
	}
	if (colon == NULL)
		return size * nmemb;	/* obs-fold or garbage: dropped */
	nl = (size_t)(colon - p);
	v = colon + 1;
	e = p + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	buf_append(&x->hraw, p, nl);
	buf_putc(&x->hraw, '\0');
	buf_append(&x->hraw, v, (size_t)(e - v));
	buf_putc(&x->hraw, '\0');
	if (!buf_ok(&x->hraw))
		return 0;
	x->n_hdrs++;
	if (nl == 14 && strncasecmp(p, "content-length", 14) == 0) {
		cl = strtoll(v, &end, 10);
		x->content_length = (end == e && v < e && cl >= 0) ? cl : -1;
	}
	return size * nmemb;
}

/* --- starting a transfer -------------------------------------------------- */

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
	buf_wipe(&b);
	if (n == NULL)
		return -1;
	x->slist = n;
	return 0;
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

/* What never changes between transfers of an easy handle. */
static CURL *
easy_new(void)
{
	CURL	*e = curl_easy_init();

	if (e == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
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
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	return e;
}

static int
set_method(CURL *e, const struct upstream_req *rq)
{
	int	 bad = 0;

	/* HTTPGET resets NOBODY and UPLOAD left by a previous transfer. */
	bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL) != CURLE_OK;
	if (strcmp(rq->method, "HEAD") == 0)
		bad |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L) != CURLE_OK;
	else if (rq->has_body) {
		bad |= curl_easy_setopt(e, CURLOPT_UPLOAD, 1L) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)rq->body_len) != CURLE_OK;
		if (strcmp(rq->method, "PUT") != 0)
			bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
			    rq->method) != CURLE_OK;
	} else if (strcmp(rq->method, "GET") != 0)
		bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq->method) !=
		    CURLE_OK;
	return bad ? -1 : 0;
}

/* The endpoint as the Host header names it: an IPv6 address in brackets,
 * the port unless it is the scheme's. */
static void
put_endpoint(struct buf *host)
{
	if (strchr(up.host, ':') != NULL)
		buf_printf(host, "[%s]", up.host);
	else
		buf_puts(host, up.host);
	if (!up.default_port)
		buf_printf(host, ":%u", up.port);
}

/* A request to the upstream as S3 signs it, with the proxy's keys. */
static void
outgoing(struct sigv4_outgoing *o, const struct credentials *c,
    const char *method, const char *host, const char *uri, const char *query,
    const char *payload_hash)
{
	memset(o, 0, sizeof(*o));
	o->method = method;
	o->host = host;
	o->canonical_uri = uri;
	o->canonical_query = query;
	o->payload_hash = payload_hash;
	o->region = up.region;
	o->service = "s3";
	o->access_key_id = c->access_key_id;
	o->secret_access_key = c->secret_access_key;
	o->session_token = c->session_token;
	o->now = util_now();
}

/* Sign the request and build curl's header list and URL. */
static int
prepare(struct upstream_xfer *x, const struct upstream_req *rq,
    struct buf *url)
{
	struct upstream_client	*cl = x->cl;
	struct credentials	 c;
	struct sigv4_outgoing	 o;
	struct sigv4_header	*sh = NULL;
	struct buf		 host, path, auth;
	char			 amz_date[17];
	size_t			 i, n = 0;
	int			 rc = -1;

	memset(&c, 0, sizeof(c));
	buf_init(&host);
	buf_init(&path);
	buf_init(&auth);
	if (credentials_get(&c) == -1)
		goto out;
	/* Host and path, exactly as they will be sent and signed. */
	if (up.virtual_host && rq->bucket != NULL)
		buf_printf(&host, "%s.", rq->bucket);
	put_endpoint(&host);
	buf_putc(&path, '/');
	if (!up.virtual_host && rq->bucket != NULL) {
		buf_puts(&path, rq->bucket);
		if (rq->key != NULL)
			buf_putc(&path, '/');
	}
	if (rq->key != NULL)
		sigv4_uri_encode(&path, rq->key, strlen(rq->key), 1);
	buf_printf(url, "%s://%s%s%s%s", up.scheme, buf_str(&host),
	    buf_str(&path), rq->query[0] != '\0' ? "?" : "", rq->query);
	if (!buf_ok(&host) || !buf_ok(&path) || !buf_ok(url))
		goto out;

	/* Signed: all we forward but User-Agent (as the AWS SDKs do). */
	sh = calloc(rq->n_headers + 1, sizeof(*sh));
	if (sh == NULL)
		goto out;
	for (i = 0; i < rq->n_headers; i++)
		if (strcasecmp(rq->headers[i].name, "user-agent") != 0)
			sh[n++] = rq->headers[i];
	outgoing(&o, &c, rq->method, buf_str(&host), buf_str(&path),
	    rq->query, rq->payload_hash);
	o.headers = sh;
	o.n_headers = n;
	if (sigv4_sign_request(&o, &cl->keys, amz_date, &auth) == -1)
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
	if (up.virtual_host && rq->bucket != NULL) {
		struct buf	 b;

		buf_init(&b);
		buf_printf(&b, "%s.%s:%u:%s:%u", rq->bucket, up.host, up.port,
		    up.host, up.port);
		x->connect_to = buf_ok(&b) ? curl_slist_append(NULL,
		    buf_str(&b)) : NULL;
		buf_fini(&b);
		if (x->connect_to == NULL)
			goto out;
	}
	rc = 0;
out:
	credentials_wipe(&c);
	free(sh);
	buf_fini(&host);
	buf_fini(&path);
	buf_wipe(&auth);
	return rc;
}

struct upstream_xfer *
upstream_start(struct upstream_client *cl, const struct upstream_req *rq,
    const struct upstream_events *ev, void *arg)
{
	static const struct upstream_events none;
	struct upstream_xfer	*x;
	struct buf		 url;
	CURL			*e;
	int			 bad = 0;

	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return NULL;
	buf_init(&url);
	buf_init(&x->hraw);
	x->cl = cl;
	x->ev = ev != NULL ? ev : &none;
	x->arg = arg;
	x->content_length = -1;
	x->started = x->last_progress = util_mono_ms();
	x->next = cl->xfers;
	if (cl->xfers != NULL)
		cl->xfers->prev = x;
	cl->xfers = x;
	x->easy = cl->n_idle > 0 ? cl->idle[--cl->n_idle] : easy_new();
	if (x->easy == NULL || prepare(x, rq, &url) == -1)
		goto fail;
	e = x->easy;
	bad |= curl_easy_setopt(e, CURLOPT_URL, buf_str(&url)) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECT_TO, x->connect_to) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->slist) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)(void *)x) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_READDATA, x) != CURLE_OK;
	bad |= set_method(e, rq) == -1;
	if (bad)
		goto fail;
	if (rq->has_body && rq->body_len == 0)
		x->body_eof = 1;
	if (curl_multi_add_handle(cl->multi, e) != CURLM_OK)
		goto fail;
	x->added = 1;
	buf_fini(&url);
	return x;
fail:
	buf_fini(&url);
	upstream_free(x);
	return NULL;
}

/* --- the caller's side ------------------------------------------------------ */

static void
unpause(struct upstream_xfer *x)
{
	int	 mask = 0;

	if (!x->added || x->done)
		return;
	if (!x->send_paused && !x->recv_paused)
		return;
	if (x->send_paused && (x->s_wr > x->s_rd || x->body_eof)) {
		x->send_paused = 0;
		x->held_since = 0;
	}
	if (x->recv_paused && x->r_cap - (x->r_wr - x->r_rd) >= CURL_BUF)
		x->recv_paused = 0;
	if (x->send_paused)
		mask |= CURLPAUSE_SEND;
	if (x->recv_paused)
		mask |= CURLPAUSE_RECV;
	x->last_progress = util_mono_ms();
	curl_easy_pause(x->easy, mask);
}

int
upstream_write(struct upstream_xfer *x, const char *p, size_t len)
{
	if (x->done || x->body_eof || (x->head_done && x->status >= 300))
		return -1;
	if (x->s_rd > 0 && x->s_rd == x->s_wr)
		x->s_rd = x->s_wr = 0;
	if (x->s_cap - x->s_wr < len && x->s_rd > 0) {
		memmove(x->sbuf, x->sbuf + x->s_rd, x->s_wr - x->s_rd);
		x->s_wr -= x->s_rd;
		x->s_rd = 0;
	}
	if (grow(&x->sbuf, &x->s_cap, x->s_wr + len, (size_t)-1) == -1)
		return -1;
	memcpy(x->sbuf + x->s_wr, p, len);
	x->s_wr += len;
	/* Wake curl for a batch, not for every piece the client's socket
	 * gave: a pause and a send per few KiB cost three times the CPU of
	 * the transfer itself (bench/transfer.sh).  The end of the body
	 * wakes it whatever is left (upstream_write_end). */
	if (x->send_paused && x->s_wr - x->s_rd >= XFER_SEND_BATCH)
		unpause(x);
	else if (x->send_paused && x->held_since == 0)
		x->held_since = util_mono_ms();
	if (x->s_wr - x->s_rd > XFER_SEND_HIGH) {
		x->send_full = 1;
		return 1;
	}
	return 0;
}

void
upstream_write_end(struct upstream_xfer *x)
{
	x->body_eof = 1;
	if (x->send_paused)
		unpause(x);
}

int
upstream_wants_body(const struct upstream_xfer *x)
{
	return x->wants_body;
}

int
upstream_status(const struct upstream_xfer *x)
{
	return x->head_done ? x->status : 0;
}

const struct sigv4_header *
upstream_headers(const struct upstream_xfer *x, size_t *n)
{
	*n = x->head_done ? x->n_hdrs : 0;
	return x->hdrs;
}

int64_t
upstream_content_length(const struct upstream_xfer *x)
{
	return x->content_length;
}

size_t
upstream_read(struct upstream_xfer *x, char *dst, size_t max)
{
	size_t	 n = x->r_wr - x->r_rd;

	if (n > max)
		n = max;
	if (n > 0) {
		memcpy(dst, x->rbuf + x->r_rd, n);
		x->r_rd += n;
	}
	if (x->recv_paused)
		unpause(x);
	return n;
}

int
upstream_ended(const struct upstream_xfer *x)
{
	return x->done;
}

int
upstream_failed(const struct upstream_xfer *x)
{
	return x->done && (x->result != CURLE_OK || !x->head_done);
}

int
upstream_eof(const struct upstream_xfer *x)
{
	return x->done && x->r_rd == x->r_wr;
}

const char *
upstream_error(const struct upstream_xfer *x)
{
	if (x == NULL)
		return "no transfer";
	if (x->head_overflow)
		return "the upstream's response head is too large";
	if (x->errbuf[0] != '\0')
		return x->errbuf;
	if (x->done && x->result == CURLE_OK && !x->head_done)
		return "the upstream closed the connection inside the head";
	return curl_easy_strerror(x->result);
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

void
upstream_free(struct upstream_xfer *x)
{
	struct upstream_client	*cl;
	int			 clean;

	if (x == NULL)
		return;
	cl = x->cl;
	clean = x->done && x->result == CURLE_OK && x->head_done;
	if (x->easy != NULL && x->added)
		/* Removing an unfinished transfer closes its connection, so
		 * a half-sent body is never completed by anyone. */
		curl_multi_remove_handle(cl->multi, x->easy);
	if (x->easy != NULL) {
		if ((clean || !x->added) && cl->n_idle < IDLE_EASY_MAX) {
			curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, NULL);
			curl_easy_setopt(x->easy, CURLOPT_CONNECT_TO, NULL);
			curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, NULL);
			curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
			cl->idle[cl->n_idle++] = x->easy;
		} else
			curl_easy_cleanup(x->easy);
	}
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		cl->xfers = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	curl_slist_free_all(x->slist);
	curl_slist_free_all(x->connect_to);
	buf_fini(&x->hraw);
	free(x->hdrs);
	free(x->sbuf);
	free(x->rbuf);
	free(x);
}

static size_t
probe_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct buf	*b = ud;

	if (b->len < 4096)
		buf_append(b, p, size * nmemb);
	return size * nmemb;
}

static size_t
probe_header(char *p, size_t size, size_t nmemb, void *ud)
{
	int	*s3 = ud;
	size_t	 n = size * nmemb;

	/* S3 names every answer; moto does so as AWS's other services do. */
	if ((n > 17 && strncasecmp(p, "x-amz-request-id:", 17) == 0) ||
	    (n > 17 && strncasecmp(p, "x-amzn-requestid:", 17) == 0))
		*s3 = 1;
	return n;
}

/*
 * /readyz: a signed GET / (ListBuckets) at the endpoint.  Any answer S3
 * could give is "ready", a 403 among them (a deploy key need not list
 * buckets); no answer, or one that is not S3's (no request id, no S3
 * document: a web server at a wrong endpoint), is not, with why.
 */
int
upstream_probe(long timeout_ms, char *why, size_t whysz)
{
	struct credentials	 c;
	struct sigv4_outgoing	 o;
	struct curl_slist	*hl = NULL, *n;
	struct buf		 host, url, auth, body, h;
	char			 amz_date[17];
	const char		*names[4], *values[4];
	long			 status = 0;
	int			 s3 = 0, ok = 0, i, nh = 0;
	CURL			*e = NULL;
	CURLcode		 cc;

	memset(&c, 0, sizeof(c));
	buf_init(&host);
	buf_init(&url);
	buf_init(&auth);
	buf_init(&body);
	buf_init(&h);
	if (credentials_get(&c) == -1) {
		snprintf(why, whysz, "no upstream credentials");
		goto out;
	}
	put_endpoint(&host);
	buf_printf(&url, "%s://%s/", up.scheme, buf_str(&host));
	outgoing(&o, &c, "GET", buf_str(&host), "/", "", SIGV4_EMPTY_SHA256);
	e = curl_easy_init();
	if (e == NULL || !buf_ok(&host) || !buf_ok(&url) ||
	    sigv4_sign_request(&o, NULL, amz_date, &auth) == -1) {
		snprintf(why, whysz, "out of memory");
		goto out;
	}
	names[nh] = "Host";
	values[nh++] = buf_str(&host);
	names[nh] = "x-amz-date";
	values[nh++] = amz_date;
	names[nh] = "x-amz-content-sha256";
	values[nh++] = SIGV4_EMPTY_SHA256;
	names[nh] = "Authorization";
	values[nh++] = buf_str(&auth);
	for (i = 0; i < nh; i++) {
		buf_reset(&h);
		buf_printf(&h, "%s: %s", names[i], values[i]);
		n = buf_ok(&h) ? curl_slist_append(hl, buf_str(&h)) : NULL;
		if (n == NULL)
			goto out;
		hl = n;
	}
	if (c.session_token[0] != '\0') {
		buf_reset(&h);
		buf_printf(&h, "x-amz-security-token: %s", c.session_token);
		n = buf_ok(&h) ? curl_slist_append(hl, buf_str(&h)) : NULL;
		if (n == NULL)
			goto out;
		hl = n;
	}
	curl_easy_setopt(e, CURLOPT_URL, buf_str(&url));
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, probe_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, probe_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &s3);
	cc = curl_easy_perform(e);
	if (cc != CURLE_OK) {
		snprintf(why, whysz, "upstream %s unreachable: %s",
		    buf_str(&url), curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (s3 || strstr(buf_str(&body), "<ListAllMyBucketsResult") != NULL ||
	    strstr(buf_str(&body), "<Error>") != NULL)
		ok = 1;
	else
		snprintf(why, whysz, "upstream %s answered HTTP %ld, not as S3 "
		    "does (no request id, no S3 document): a wrong "
		    "upstream.endpoint?", buf_str(&url), status);
out:
	curl_easy_cleanup(e);
	curl_slist_free_all(hl);
	credentials_wipe(&c);
	buf_wipe(&auth);
	buf_wipe(&h);
	buf_fini(&host);
	buf_fini(&url);
	buf_fini(&body);
	return ok;
}
