/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loadgen: a small HTTP/1.1 load generator that can sign with SigV4.
 *
 * wrk cannot sign S3 requests, so the bench measures s3inval with SigV4
 * verification with this instead.  It pre-signs N requests at start (with
 * the current time: a signature is valid 15 minutes either side), each to
 * a distinct key, using the daemon's own src/sigv4.c, then replays them in
 * turn over C keep-alive connections for D seconds and prints one line:
 *
 *   requests=N seconds=S rps=R p50_ms=A p99_ms=B max_ms=M errors=E
 *   non2xx=X connects=K
 *
 * Build (bench/run.sh does it):
 *   cc -O2 -pthread -I build/dev -I src bench/loadgen.c src/sigv4.c \
 *       src/uri.c src/hex.c src/date.c src/ascii.c src/buf.c -lcrypto \
 *       -o loadgen
 *
 * Usage: loadgen [-m PUT|GET] [-c conns] [-t threads] [-d seconds]
 *            [-n requests] [-b body bytes] [-k access-key -s secret]
 *            [-r region] http://127.0.0.1:PORT/bucket/prefix
 *
 * Requests: PUT|GET /bucket/prefix/NNNNNNNN, Host, Content-Length and a
 * body of -b bytes for PUT.  With -k/-s, also x-amz-date,
 * x-amz-content-sha256 (hex SHA-256 of the body; of nothing for GET) and
 * Authorization, SignedHeaders host;x-amz-content-sha256;x-amz-date.
 *
 * Design: T threads, each with an epoll set of about C/T connections
 * (connected blocking, then non-blocking; watched for output only while a
 * request could not be written whole), one request in flight per
 * connection (no pipelining), like wrk.  Requests are taken in turn from
 * the pre-built ones (-n, default 10000), so keys repeat only after N
 * requests.  The clock starts once every connection is open.  Latency is
 * from the first byte written to the last byte of the response read; every
 * sample is kept and sorted at the end (exact percentiles).  A response is
 * read by Content-Length or chunked framing; "Connection: close" or a
 * closed socket reconnects.  A non-2xx answer counts in non2xx and errors;
 * the first one is shown on stderr.  Requests in flight at the deadline are
 * not counted.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "sigv4.h"

#define RBUF_SIZE	16384
#define SIGNED_HEADERS	"host;x-amz-content-sha256;x-amz-date"

struct req {
	char	*data;
	size_t	 len;
};

enum rstate { R_HEAD, R_BODY, R_CHUNK_SIZE, R_CHUNK_DATA, R_CHUNK_CRLF,
    R_TRAILER };

struct conn {
	int		 fd;
	int		 busy;		/* a request is in flight */
	int		 want_out;	/* EPOLLOUT watched */
	const struct req *rq;
	size_t		 sent;
	uint64_t	 t0;		/* ns, first byte written */
	/* response parser */
	enum rstate	 st;
	char		 head[RBUF_SIZE];
	size_t		 hlen;
	unsigned	 status;
	int		 chunked, close_after;
	uint64_t	 left;		/* body or chunk bytes to go */
	char		 line[64];	/* chunk size or trailer line */
	size_t		 llen;
};

struct worker {
	pthread_t	 tid;
	int		 nconn;
	struct conn	*conns;
	int		 ep;
	uint32_t	*lat;		/* us, one per completed request */
	size_t		 nlat, caplat;
	uint64_t	 errors, non2xx, connects;
};

static struct sockaddr_storage	 addr;
static socklen_t		 addrlen;
static struct req		*reqs;
static size_t			 nreqs;
static atomic_size_t		 next_req;
static uint64_t			 t_start, t_end;
static atomic_int		 shown_error;

static uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *msg)
{
	fprintf(stderr, "loadgen: %s\n", msg);
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen [-m PUT|GET] [-c conns] [-t threads] "
	    "[-d seconds] [-n requests] [-b body-bytes]\n"
	    "               [-k access-key -s secret] [-r region] "
	    "http://HOST:PORT/bucket/prefix\n");
	exit(1);
}

/* Pre-build (and sign) n requests.  Returns 0 or -1. */
static int
build_requests(const char *method, const char *hostport, const char *prefix,
    size_t n, size_t body_len, const char *akid, const char *secret,
    const char *region)
{
	struct buf		 path, curi, creq, scope, sts, out;
	struct sigv4_header	 hdr[3];
	struct sigv4_request	 sr;
	unsigned char		 key[SIGV4_KEY_LEN];
	char			 amz_date[17], date8[9];
	char			 sig[SIGV4_HEX_LEN + 1];
	char			 body_hash[SIGV4_HEX_LEN + 1];
	char			*body = NULL;
	int			 put = strcmp(method, "PUT") == 0;
	size_t			 i;
	int			 rc = -1;

	buf_init(&path);
	buf_init(&curi);
	buf_init(&creq);
	buf_init(&scope);
	buf_init(&sts);
	buf_init(&out);
	if (put) {
		body = malloc(body_len + 1);
		if (body == NULL)
			goto out;
		for (i = 0; i < body_len; i++)
			body[i] = (char)('a' + i % 26);
		sigv4_sha256_hex(body_hash, body, body_len);
	} else {
		body_len = 0;
		snprintf(body_hash, sizeof(body_hash), "%s",
		    SIGV4_EMPTY_SHA256);
	}
	sigv4_format_amz_date(amz_date, (int64_t)time(NULL));
	memcpy(date8, amz_date, 8);
	date8[8] = '\0';
	if (akid != NULL) {
		sigv4_signing_key(key, secret, date8, region, "s3");
		sigv4_scope(&scope, date8, region, "s3");
	}
	reqs = calloc(n, sizeof(*reqs));
	if (reqs == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%08zu", prefix, i);
		buf_reset(&out);
		buf_printf(&out, "%s %s HTTP/1.1\r\nHost: %s\r\n", method,
		    buf_str(&path), hostport);
		if (put)
			buf_printf(&out, "Content-Length: %zu\r\n", body_len);
		if (akid != NULL) {
			hdr[0].name = "host";
			hdr[0].value = hostport;
			hdr[1].name = "x-amz-content-sha256";
			hdr[1].value = body_hash;
			hdr[2].name = "x-amz-date";
			hdr[2].value = amz_date;
			buf_reset(&curi);
			buf_reset(&creq);
			buf_reset(&sts);
			if (sigv4_canonical_uri(&curi, buf_str(&path),
			    path.len) == -1)
				goto out;
			memset(&sr, 0, sizeof(sr));
			sr.method = method;
			sr.canonical_uri = buf_str(&curi);
			sr.canonical_query = "";
			sr.headers = hdr;
			sr.n_headers = 3;
			sr.signed_headers = SIGNED_HEADERS;
			sr.payload_hash = body_hash;
			if (sigv4_canonical_request(&creq, &sr) != 0)
				goto out;
			sigv4_string_to_sign(&sts, amz_date, buf_str(&scope),
			    buf_str(&creq), creq.len);
			sigv4_sign(sig, key, buf_str(&sts), sts.len);
			buf_printf(&out, "x-amz-date: %s\r\n"
			    "x-amz-content-sha256: %s\r\n"
			    "Authorization: " SIGV4_ALGORITHM
			    " Credential=%s/%s, "
			    "SignedHeaders=" SIGNED_HEADERS ", "
			    "Signature=%s\r\n", amz_date, body_hash, akid,
			    buf_str(&scope), sig);
		}
		buf_puts(&out, "\r\n");
		if (put)
			buf_append(&out, body, body_len);
		if (!buf_ok(&out) || !buf_ok(&sts) || !buf_ok(&scope))
			goto out;
		reqs[i].len = out.len;
		reqs[i].data = buf_take(&out);
	}
	nreqs = n;
	rc = 0;
out:
	memset(key, 0, sizeof(key));
	free(body);
	buf_fini(&path);
	buf_fini(&curi);
	buf_fini(&creq);
	buf_fini(&scope);
	buf_fini(&sts);
	buf_fini(&out);
	return rc;
}

/*
 * Connect (blocking: loopback answers at once), then make the socket
 * non-blocking and watch it for input only; output is watched only while a
 * request could not be written whole.
 */
static int
conn_open(struct worker *w, struct conn *c)
{
	struct epoll_event	 ev;
	int			 one = 1;

	c->fd = socket(addr.ss_family, SOCK_STREAM, 0);
	if (c->fd == -1)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, addrlen) == -1 ||
	    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) == -1) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	w->connects++;
	c->busy = 0;
	return 0;
}

static void
conn_close(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->busy = 0;
	c->want_out = 0;
}

static void
set_events(struct worker *w, struct conn *c, uint32_t events)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_fail(struct worker *, struct conn *);

/* Write what is left of the request; watch output while some is left. */
static void
conn_send(struct worker *w, struct conn *c)
{
	ssize_t	 n;

	while (c->sent < c->rq->len) {
		n = send(c->fd, c->rq->data + c->sent, c->rq->len - c->sent,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (!c->want_out)
				set_events(w, c, EPOLLIN | EPOLLOUT);
			c->want_out = 1;
			return;
		}
		if (n == -1) {
			conn_fail(w, c);
			return;
		}
		c->sent += (size_t)n;
	}
	if (c->want_out)
		set_events(w, c, EPOLLIN);
	c->want_out = 0;
}

static void
conn_start(struct worker *w, struct conn *c)
{
	size_t	 i = atomic_fetch_add(&next_req, 1) % nreqs;

	c->rq = &reqs[i];
	c->sent = 0;
	c->busy = 1;
	c->st = R_HEAD;
	c->hlen = 0;
	c->status = 0;
	c->chunked = 0;
	c->close_after = 0;
	c->left = 0;
	c->llen = 0;
	c->t0 = now_ns();
	conn_send(w, c);
}

/* Header value of name in a NUL-terminated head, or NULL. */
static const char *
head_value(const char *head, const char *name, size_t *vlen)
{
	const char	*p = strstr(head, "\r\n"), *v, *e;
	size_t		 n = strlen(name);

	while (p != NULL && p[2] != '\r' && p[2] != '\0') {
		p += 2;
		e = strstr(p, "\r\n");
		if (e == NULL)
			return NULL;
		if ((size_t)(e - p) > n && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':') {
			v = p + n + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			*vlen = (size_t)(e - v);
			return v;
		}
		p = e;
	}
	return NULL;
}

/* Parse the head in c->head; returns 0 or -1. */
static int
parse_head(struct conn *c)
{
	const char	*v;
	size_t		 vlen;

	if (c->hlen < 12 || strncmp(c->head, "HTTP/1.", 7) != 0)
		return -1;
	c->status = (unsigned)strtoul(c->head + 9, NULL, 10);
	v = head_value(c->head, "transfer-encoding", &vlen);
	c->chunked = v != NULL && vlen >= 7 &&
	    strncasecmp(v + vlen - 7, "chunked", 7) == 0;
	v = head_value(c->head, "connection", &vlen);
	c->close_after = v != NULL && vlen >= 5 &&
	    strncasecmp(v, "close", 5) == 0;
	c->left = 0;
	if (!c->chunked) {
		v = head_value(c->head, "content-length", &vlen);
		if (v != NULL)
			c->left = strtoull(v, NULL, 10);
		else if (c->status >= 200 && c->status != 204 &&
		    c->status != 304 &&
		    strncmp(c->rq->data, "HEAD ", 5) != 0)
			c->close_after = 2;	/* body until close */
	}
	return 0;
}

static void
show_error(const struct conn *c)
{
	int	 expected = 0;
	char	 first[200];
	size_t	 n;

	if (!atomic_compare_exchange_strong(&shown_error, &expected, 1))
		return;
	n = c->hlen < sizeof(first) - 1 ? c->hlen : sizeof(first) - 1;
	memcpy(first, c->head, n);
	first[n] = '\0';
	fprintf(stderr, "loadgen: first non-2xx answer: %s\n", first);
}

/*
 * Feed n bytes of response.  Returns 1 when the response is complete (the
 * rest of the bytes, if any, would be garbage: we do not pipeline), 0 for
 * more, -1 on a framing error.
 */
static int
feed(struct conn *c, const char *p, size_t n)
{
	size_t	 i, take;
	char	*e;

	while (n > 0) {
		switch (c->st) {
		case R_HEAD:
			/* Byte by byte into head until CRLFCRLF. */
			for (i = 0; i < n; i++) {
				if (c->hlen >= sizeof(c->head) - 1)
					return -1;
				c->head[c->hlen++] = p[i];
				if (c->hlen >= 4 && memcmp(c->head + c->hlen
				    - 4, "\r\n\r\n", 4) == 0)
					break;
			}
			if (i == n)
				return 0;
			c->head[c->hlen] = '\0';
			p += i + 1;
			n -= i + 1;
			if (parse_head(c) == -1)
				return -1;
			if (c->status >= 100 && c->status < 200) {
				c->hlen = 0;	/* 100 Continue: again */
				break;
			}
			if (c->chunked)
				c->st = R_CHUNK_SIZE;
			else if (c->left == 0 && c->close_after != 2)
				return 1;
			else
				c->st = R_BODY;
			break;
		case R_BODY:
			take = c->close_after == 2 ? n :
			    (n < c->left ? n : (size_t)c->left);
			c->left -= c->close_after == 2 ? 0 : take;
			p += take;
			n -= take;
			if (c->close_after != 2 && c->left == 0)
				return 1;
			break;
		case R_CHUNK_SIZE:
		case R_TRAILER:
			if (c->llen >= sizeof(c->line) - 1)
				return -1;
			c->line[c->llen++] = *p++;
			n--;
			if (c->llen < 2 || c->line[c->llen - 2] != '\r' ||
			    c->line[c->llen - 1] != '\n')
				break;
			c->line[c->llen] = '\0';
			if (c->st == R_TRAILER) {
				if (c->llen == 2)
					return 1;	/* empty line: done */
				c->llen = 0;
				break;
			}
			c->left = strtoull(c->line, &e, 16);
			if (e == c->line)
				return -1;
			c->llen = 0;
			c->st = c->left == 0 ? R_TRAILER : R_CHUNK_DATA;
			break;
		case R_CHUNK_DATA:
			take = n < c->left ? n : (size_t)c->left;
			c->left -= take;
			p += take;
			n -= take;
			if (c->left == 0) {
				c->st = R_CHUNK_CRLF;
				c->llen = 0;
			}
			break;
		case R_CHUNK_CRLF:
			c->llen++;
			p++;
			n--;
			if (c->llen == 2) {
				c->llen = 0;
				c->st = R_CHUNK_SIZE;
			}
			break;
		}
	}
	return 0;
}

static void
record(struct worker *w, struct conn *c, uint64_t t)
{
	uint32_t	*nl;
	uint64_t	 us;

	if (c->t0 < t_start || t > t_end)
		return;
	if (c->status < 200 || c->status > 299) {
		w->non2xx++;
		w->errors++;
		show_error(c);
		return;
	}
	if (w->nlat == w->caplat) {
		w->caplat = w->caplat ? 2 * w->caplat : 65536;
		nl = realloc(w->lat, w->caplat * sizeof(*nl));
		if (nl == NULL)
			die("out of memory");
		w->lat = nl;
	}
	us = (t - c->t0) / 1000;
	w->lat[w->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* A failed connection: count, reopen, and carry on. */
static void
conn_fail(struct worker *w, struct conn *c)
{
	uint64_t	 t = now_ns();

	if (t >= t_start && t <= t_end)
		w->errors++;
	conn_close(c);
	if (t < t_end && conn_open(w, c) == 0)
		conn_start(w, c);
}

static void
on_event(struct worker *w, struct conn *c, uint32_t ev)
{
	char		 rb[RBUF_SIZE];
	ssize_t		 n;
	int		 done;
	uint64_t	 t;

	if (c->fd == -1)
		return;
	if ((ev & EPOLLOUT) && c->busy && c->sent < c->rq->len) {
		conn_send(w, c);
		if (c->fd == -1)
			return;
	}
	if (!(ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		n = recv(c->fd, rb, sizeof(rb), 0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == 0 && c->busy && c->close_after == 2 &&
		    c->st == R_BODY) {
			record(w, c, now_ns());
			conn_close(c);
			if (now_ns() < t_end && conn_open(w, c) == 0)
				conn_start(w, c);
			return;
		}
		if (n <= 0) {
			conn_fail(w, c);
			return;
		}
		done = feed(c, rb, (size_t)n);
		if (done == -1) {
			conn_fail(w, c);
			return;
		}
		if (done == 1) {
			t = now_ns();
			record(w, c, t);
			if (c->close_after) {
				conn_close(c);
				if (t < t_end && conn_open(w, c) == 0)
					conn_start(w, c);
				return;
			}
			if (t < t_end)
				conn_start(w, c);
			else
				c->busy = 0;
			return;
		}
	}
}

static void *
worker_run(void *arg)
{
	struct worker		*w = arg;
	struct epoll_event	 evs[64];
	uint64_t		 t;
	int			 i, n, ms;

	for (i = 0; i < w->nconn; i++)
		conn_start(w, &w->conns[i]);
	for (;;) {
		t = now_ns();
		if (t >= t_end)
			break;
		ms = (int)((t_end - t) / 1000000) + 1;
		n = epoll_wait(w->ep, evs, 64, ms);
		if (n == -1 && errno != EINTR)
			break;
		for (i = 0; i < n; i++)
			on_event(w, evs[i].data.ptr, evs[i].events);
	}
	for (i = 0; i < w->nconn; i++)
		conn_close(&w->conns[i]);
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct_ms(const uint32_t *v, size_t n, double p)
{
	size_t	 i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i] / 1000.0;
}

int
main(int argc, char **argv)
{
	const char		*method = "PUT", *akid = NULL, *secret = NULL;
	const char		*region = "us-east-1";
	char			 host[256], hostport[300], prefix[1024];
	const char		*url, *p, *slash, *colon;
	struct addrinfo		 hints, *ai = NULL;
	struct worker		*ws;
	struct conn		*conns;
	uint32_t		*all;
	size_t			 nall, k, body = 1024, n = 10000;
	uint64_t		 errors = 0, non2xx = 0, connects = 0;
	double			 secs = 10, elapsed;
	int			 c = 64, t = 2, i, j, opt, port;

	while ((opt = getopt(argc, argv, "m:c:t:d:n:b:k:s:r:")) != -1) {
		switch (opt) {
		case 'm': method = optarg; break;
		case 'c': c = atoi(optarg); break;
		case 't': t = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'b': body = strtoul(optarg, NULL, 10); break;
		case 'k': akid = optarg; break;
		case 's': secret = optarg; break;
		case 'r': region = optarg; break;
		default: usage();
		}
	}
	if (optind != argc - 1 || c < 1 || t < 1 || secs <= 0 || n < 1 ||
	    (akid == NULL) != (secret == NULL) ||
	    (strcmp(method, "PUT") != 0 && strcmp(method, "GET") != 0))
		usage();
	if (t > c)
		t = c;
	url = argv[optind];
	if (strncmp(url, "http://", 7) != 0)
		die("only http:// URLs");
	p = url + 7;
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	colon = memchr(p, ':', (size_t)(slash - p));
	if (colon == NULL || (size_t)(colon - p) >= sizeof(host))
		die("the URL needs host:port");
	memcpy(host, p, (size_t)(colon - p));
	host[colon - p] = '\0';
	port = atoi(colon + 1);
	snprintf(hostport, sizeof(hostport), "%.*s", (int)(slash - p), p);
	snprintf(prefix, sizeof(prefix), "%s", *slash ? slash : "/bench/lg");
	while (strlen(prefix) > 1 && prefix[strlen(prefix) - 1] == '/')
		prefix[strlen(prefix) - 1] = '\0';

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0 || ai == NULL)
		die("cannot resolve the host");
	memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
	addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (addr.ss_family == AF_INET)
		((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&addr)->sin6_port =
		    htons((uint16_t)port);

	if (build_requests(method, hostport, prefix, n, body, akid, secret,
	    region) == -1)
		die("cannot build the requests");

	ws = calloc((size_t)t, sizeof(*ws));
	conns = calloc((size_t)c, sizeof(*conns));
	if (ws == NULL || conns == NULL)
		die("out of memory");
	for (i = 0, j = 0; i < t; i++) {
		ws[i].nconn = c / t + (i < c % t);
		ws[i].conns = conns + j;
		j += ws[i].nconn;
		ws[i].ep = epoll_create1(0);
		if (ws[i].ep == -1)
			die("epoll_create1");
		for (k = 0; k < (size_t)ws[i].nconn; k++)
			if (conn_open(&ws[i], &ws[i].conns[k]) == -1)
				die("cannot connect");
	}
	t_start = now_ns();
	t_end = t_start + (uint64_t)(secs * 1e9);
	for (i = 0; i < t; i++)
		if (pthread_create(&ws[i].tid, NULL, worker_run, &ws[i]) != 0)
			die("pthread_create");
	nall = 0;
	for (i = 0; i < t; i++) {
		pthread_join(ws[i].tid, NULL);
		nall += ws[i].nlat;
		errors += ws[i].errors;
		non2xx += ws[i].non2xx;
		connects += ws[i].connects;
	}
	elapsed = (double)(t_end - t_start) / 1e9;
	all = malloc((nall ? nall : 1) * sizeof(*all));
	if (all == NULL)
		die("out of memory");
	for (i = 0, k = 0; i < t; i++) {
		if (ws[i].nlat > 0)
			memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof(*all));
		k += ws[i].nlat;
		free(ws[i].lat);
		close(ws[i].ep);
	}
	qsort(all, nall, sizeof(*all), cmp_u32);
	printf("requests=%zu seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f "
	    "max_ms=%.3f errors=%" PRIu64 " non2xx=%" PRIu64
	    " connects=%" PRIu64 "\n", nall, elapsed, (double)nall / elapsed,
	    pct_ms(all, nall, 0.50), pct_ms(all, nall, 0.99),
	    nall ? all[nall - 1] / 1000.0 : 0.0, errors, non2xx, connects);
	free(all);
	free(conns);
	free(ws);
	for (k = 0; k < nreqs; k++)
		free(reqs[k].data);
	free(reqs);
	return 0;
}
