/* SPDX-License-Identifier: Apache-2.0 */
/* admin: see admin.h. */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "admin.h"
#include "admin_auth.h"
#include "buf.h"
#include "inval_worker.h"
#include "jstr.h"
#include "log.h"
#include "metrics.h"
#include "upstream.h"
#include "util.h"

#define FLUSH_WAIT_MAX_S	3600
#define POOL_BYTES		(16 * 1024)	/* per connection: a head */
#define LOG_EVERY_MS		10000		/* one refusal line per reason */
#define TICK_MS			250		/* the watchdog's period */

/* What the watchdog knows of a connection (its socket context). */
enum phase {
	PH_HEAD,		/* until a complete head: deadline */
	PH_ANSWER,		/* until the answer is sent: deadline */
	PH_JOB			/* suspended while a job runs: none */
};

struct watch {
	int		 fd;
	enum phase	 phase;
	int64_t		 deadline;	/* monotonic ms */
	int		 cut;
	struct watch	*prev, *next;
};

enum refusal {
	RF_HOST,		/* Host names another server: 421 */
	RF_TOKEN,		/* no or wrong bearer token: 401 */
	RF_BODY,		/* a request with a body: 413 */
	RF_BUSY,		/* ADMIN_JOBS_MAX answers in progress: 503 */
	RF_LIMIT,		/* ADMIN_CONN_MAX connections: 503 */
	RF__COUNT
};

static const char *const refusal_names[RF__COUNT] = {
	"host", "token", "body", "busy", "limit"
};

struct admin {
	struct MHD_Daemon	*mhd;
	const struct cfg	*cfg;
	int64_t			 started;
	int			 lfd;		/* the listen socket */
	int			 wake[2];	/* stops the acceptor */
	pthread_t		 acceptor;
	int			 acceptor_on;
	int			 has_token;
	unsigned char		 digest[ADMIN_DIGEST_LEN];

	pthread_mutex_t		 lock;		/* everything below */
	pthread_cond_t		 idle;		/* jobs went to 0 */
	struct watch		*watch;		/* every open connection */
	unsigned		 conns;		/* started */
	unsigned		 handed;	/* accepted, not yet started */
	int64_t			 handed_ms;	/* the last one, when */
	unsigned		 jobs;
	unsigned		 answering;	/* resumed, answer not yet sent */
	int64_t			 logged[RF__COUNT];
	uint64_t		 quiet[RF__COUNT];	/* not logged since */

	atomic_uint_fast64_t	 refused[RF__COUNT];
	atomic_uint_fast64_t	 timed_out;
};

enum job {
	JOB_NONE,
	JOB_READY,
	JOB_FLUSH
};

/* One request (libmicrohttpd's request context). */
struct areq {
	struct admin		*a;
	struct MHD_Connection	*c;
	enum job		 job;
	int			 routed;	/* route() has run */
	atomic_int		 finished;	/* the job's answer is ready */
	long			 wait_s;
	int			 strict;
	unsigned		 status;
	const char		*type;
	struct buf		 body;
};

/* ---- the watchdog's view ------------------------------------------- */

static struct watch *
watch_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

static void
watch_set(struct admin *a, struct MHD_Connection *c, enum phase ph,
    int64_t ms)
{
	struct watch	*w = watch_of(c);

	if (w == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	w->phase = ph;
	w->deadline = util_mono_ms() + ms;
	pthread_mutex_unlock(&a->lock);
}

static void
notify_cb(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct admin			*a = cls;
	struct watch			*w;
	const union MHD_ConnectionInfo	*ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		w = calloc(1, sizeof(*w));
		pthread_mutex_lock(&a->lock);
		a->conns++;
		if (a->handed > 0)
			a->handed--;
		if (w != NULL && ci != NULL) {
			w->fd = ci->connect_fd;
			w->phase = PH_HEAD;
			w->deadline = util_mono_ms() + ADMIN_HEAD_S * 1000;
			w->next = a->watch;
			if (a->watch != NULL)
				a->watch->prev = w;
			a->watch = w;
			*socket_context = w;
		} else
			free(w);
		pthread_mutex_unlock(&a->lock);
		return;
	}
	/* Unlinked before libmicrohttpd closes the socket, so the
	 * watchdog never shuts down a descriptor that was reused. */
	w = *socket_context;
	pthread_mutex_lock(&a->lock);
	a->conns--;
	if (w != NULL) {
		if (w->prev != NULL)
			w->prev->next = w->next;
		else
			a->watch = w->next;
		if (w->next != NULL)
			w->next->prev = w->prev;
	}
	pthread_mutex_unlock(&a->lock);
	free(w);
	*socket_context = NULL;
}

/* Close what is past its deadline; libmicrohttpd's thread sees the
 * shut-down socket and closes the connection. */
static void
watchdog(struct admin *a)
{
	struct watch	*w;
	int64_t		 now = util_mono_ms();

	pthread_mutex_lock(&a->lock);
	/* libmicrohttpd starts what it is handed within microseconds;
	 * what it has not started by now it never will. */
	if (now - a->handed_ms > TICK_MS)
		a->handed = 0;
	for (w = a->watch; w != NULL; w = w->next) {
		if (w->cut || w->phase == PH_JOB || now <= w->deadline)
			continue;
		shutdown(w->fd, SHUT_RDWR);
		w->cut = 1;
		atomic_fetch_add(&a->timed_out, 1);
	}
	pthread_mutex_unlock(&a->lock);
}

static const struct sockaddr *
peer_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return ci != NULL ? ci->client_addr : NULL;
}

/* ---- refusals: counted always, logged at most once per LOG_EVERY_MS -- */

static void
refused(struct admin *a, enum refusal why, unsigned status,
    const struct sockaddr *sa, const char *method, const char *url,
    const char *host)
{
	char				 peer[INET6_ADDRSTRLEN + 8] = "-";
	char				 hostv[101];
	uint64_t			 quiet;
	int64_t				 now = util_mono_ms();
	socklen_t			 len;

	atomic_fetch_add(&a->refused[why], 1);
	pthread_mutex_lock(&a->lock);
	if (a->logged[why] != 0 && now - a->logged[why] < LOG_EVERY_MS) {
		a->quiet[why]++;
		pthread_mutex_unlock(&a->lock);
		return;
	}
	a->logged[why] = now;
	quiet = a->quiet[why];
	a->quiet[why] = 0;
	pthread_mutex_unlock(&a->lock);

	if (sa != NULL) {
		len = sa->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		if (getnameinfo(sa, len, peer, sizeof(peer), NULL, 0,
		    NI_NUMERICHOST) != 0)
			snprintf(peer, sizeof(peer), "-");
	}
	/* The Host is the client's text: shortened, and the log escapes
	 * it.  Never the Authorization header. */
	snprintf(hostv, sizeof(hostv), "%s", host != NULL ? host : "");
	log_event(LOG_WARN, "admin_refused", (struct log_field[]){
	    LOG_STR("reason", refusal_names[why]), LOG_NUM("status", status),
	    LOG_STR("peer", peer), LOG_STR("method", method),
	    LOG_STR("path", url), LOG_STR("host", hostv),
	    LOG_NUM("not_logged_before", quiet) }, 7);
}

/* ---- answers -------------------------------------------------------- */

static enum MHD_Result
reply_hdr(struct MHD_Connection *c, struct admin *a, unsigned status,
    const char *type, const struct buf *b, const char *hname,
    const char *hval)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	r = MHD_create_response_from_buffer(b->len, b->data,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (hname != NULL)
		MHD_add_response_header(r, hname, hval);
	watch_set(a, c, PH_ANSWER, ADMIN_SEND_S * 1000 +
	    (int64_t)(b->len * 1000 / ADMIN_MIN_RATE));
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
text_hdr(struct areq *r, unsigned status, const char *s, const char *hname,
    const char *hval)
{
	struct buf	 b;
	enum MHD_Result	 ret;

	buf_init(&b);
	buf_puts(&b, s);
	ret = reply_hdr(r->c, r->a, status, "text/plain; charset=utf-8", &b,
	    hname, hval);
	buf_fini(&b);
	return ret;
}

static enum MHD_Result
text(struct areq *r, unsigned status, const char *s)
{
	return text_hdr(r, status, s, NULL, NULL);
}

/* ---- the long answers, off libmicrohttpd's thread ------------------- */

/*
 * POST /flush: submit now; with wait_s > 0, wait until everything written
 * before the call is Completed or time runs out (strict: then 504).  The
 * JSON answer goes to b; returns the status.
 */
static unsigned
do_flush(long wait_s, int strict, struct buf *b)
{
	struct inval_flush_result res;

	inval_flush(wait_s * 1000, &res);
	if (inval_flush_json(b, &res) == -1)
		return 500;
	log_event(LOG_INFO, "flush", (struct log_field[]){
	    LOG_NUM("wait_s", wait_s), LOG_STR("done", res.done ? "yes" : "no"),
	    LOG_NUM("paths_pending", res.pending_paths),
	    LOG_NUM("batches_open", res.batches_open),
	    LOG_NUM("distributions_failed", res.n_failed) }, 5);
	return (!res.done && strict && wait_s > 0) ? 504 : 200;
}

static void
do_ready(struct areq *r)
{
	char		 why[512];

	why[0] = '\0';
	if (!inval_ready())
		snprintf(why, sizeof(why), "journal not writable");
	else
		(void)upstream_probe(2000, why, sizeof(why));
	r->status = why[0] != '\0' ? 503 : 200;
	buf_printf(&r->body, "%s\n", why[0] != '\0' ? why : "ready");
}

/* The answer is in r: hand the connection back to libmicrohttpd, whose
 * thread queues it (handle()).  r must not be touched after. */
static void
job_done(struct areq *r)
{
	struct admin	*a = r->a;

	atomic_store(&r->finished, 1);
	pthread_mutex_lock(&a->lock);
	a->answering++;
	pthread_mutex_unlock(&a->lock);
	MHD_resume_connection(r->c);
	pthread_mutex_lock(&a->lock);
	if (--a->jobs == 0)
		pthread_cond_broadcast(&a->idle);
	pthread_mutex_unlock(&a->lock);
}

static void *
job_main(void *arg)
{
	struct areq	*r = arg;

	r->type = "text/plain; charset=utf-8";
	if (r->job == JOB_FLUSH) {
		r->type = "application/json";
		r->status = do_flush(r->wait_s, r->strict, &r->body);
	} else
		do_ready(r);
	job_done(r);
	return NULL;
}

static enum MHD_Result
start_job(struct areq *r, enum job job)
{
	struct admin	*a = r->a;
	pthread_attr_t	 attr;
	pthread_t	 t;
	int		 rc;

	pthread_mutex_lock(&a->lock);
	if (a->jobs >= ADMIN_JOBS_MAX) {
		pthread_mutex_unlock(&a->lock);
		refused(a, RF_BUSY, 503, peer_of(r->c), "-", "-", NULL);
		return text_hdr(r, 503, "too many /readyz and /flush answers "
		    "in progress\n", "Retry-After", "1");
	}
	a->jobs++;
	pthread_mutex_unlock(&a->lock);
	r->job = job;
	watch_set(a, r->c, PH_JOB, 0);
	MHD_suspend_connection(r->c);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1024 * 1024);
	rc = pthread_create(&t, &attr, job_main, r);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		/* Answered on resume, from this thread. */
		r->status = 503;
		r->type = "text/plain; charset=utf-8";
		buf_puts(&r->body, "cannot start a thread\n");
		job_done(r);
	}
	return MHD_YES;
}

/* ---- routing -------------------------------------------------------- */

struct count_ctx {
	const char	*name;
	unsigned	 n;
};

static enum MHD_Result
count_cb(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct count_ctx	*cc = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, cc->name) == 0)
		cc->n++;
	return MHD_YES;
}

/* The one value of header name, or NULL when absent or repeated. */
static const char *
header_once(struct MHD_Connection *c, const char *name)
{
	struct count_ctx	 cc = { name, 0 };

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_cb, &cc);
	if (cc.n != 1)
		return NULL;
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Who asks, and whether a body comes, before any endpoint: a refusal is
 * queued here; MHD_YES with nothing queued lets the request through. */
static enum MHD_Result
gate(struct areq *r, const char *method, const char *url)
{
	struct admin	*a = r->a;
	const char	*host, *cl, *te;

	host = header_once(r->c, "Host");
	if (!admin_auth_host_ok(a->cfg->server.admin_listen,
	    a->cfg->server.admin_hosts, host)) {
		refused(a, RF_HOST, 421, peer_of(r->c), method, url,
		    MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Host"));
		return text(r, 421, "421 Misdirected Request: the Host header "
		    "must name this admin listener (its address, localhost, "
		    "127.0.0.1, [::1] or a name in server.admin_hosts)\n");
	}
	if (a->has_token && !admin_auth_bearer_ok(a->digest,
	    header_once(r->c, "Authorization"))) {
		refused(a, RF_TOKEN, 401, peer_of(r->c), method, url,
		    host);
		return text_hdr(r, 401, "401 Unauthorized: send "
		    "Authorization: Bearer <server.admin_token>\n",
		    "WWW-Authenticate", "Bearer realm=\"s3inval admin\"");
	}
	cl = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    "Content-Length");
	te = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    "Transfer-Encoding");
	if (te != NULL || (cl != NULL && strcmp(cl, "0") != 0)) {
		refused(a, RF_BODY, 413, peer_of(r->c), method, url,
		    host);
		return text(r, 413, "413: no admin endpoint takes a body\n");
	}
	return MHD_YES;
}

static enum MHD_Result
route(struct areq *r, const char *url, const char *method)
{
	struct admin	*a = r->a;
	struct buf	 b;
	const char	*ws, *st;
	json_t		*st_json;
	char		*end;
	size_t		 i;
	enum MHD_Result	 ret;
	int		 get = strcmp(method, "GET") == 0 ||
			    strcmp(method, "HEAD") == 0;

	if (strcmp(url, "/healthz") == 0 && get)
		return text(r, 200, "ok\n");
	if (strcmp(url, "/readyz") == 0 && get)
		return start_job(r, JOB_READY);
	if (strcmp(url, "/metrics") == 0 && get) {
		buf_init(&b);
		metrics_render(&b);
		inval_metrics(&b);
		metrics_head(&b, M_ADMIN_REFUSED);
		for (i = 0; i < RF__COUNT; i++)
			metrics_put(&b, M_ADMIN_REFUSED, &refusal_names[i],
			    atomic_load(&a->refused[i]));
		metrics_single(&b, M_ADMIN_TIMED_OUT,
		    atomic_load(&a->timed_out));
		pthread_mutex_lock(&a->lock);
		metrics_single(&b, M_ADMIN_CONNECTIONS, a->conns);
		pthread_mutex_unlock(&a->lock);
		ret = buf_ok(&b) ? reply_hdr(r->c, a, 200,
		    "text/plain; version=0.0.4; charset=utf-8", &b, NULL,
		    NULL) : MHD_NO;
		buf_fini(&b);
		return ret;
	}
	if (strcmp(url, "/status") == 0 && get) {
		buf_init(&b);
		st_json = json_pack("{s:s,s:I,s:o}", "version", PACKAGE_VERSION,
		    "uptime_s", (json_int_t)(util_now() - a->started),
		    "invalidation", inval_status_json());
		ret = jstr_dump(&b, st_json) == 0 && buf_putc(&b, '\n') == 0 ?
		    reply_hdr(r->c, a, 200, "application/json", &b, NULL,
		    NULL) : MHD_NO;
		json_decref(st_json);
		buf_fini(&b);
		return ret;
	}
	if (strcmp(url, "/flush") == 0) {
		if (strcmp(method, "POST") != 0)
			return text_hdr(r, 405, "POST /flush[?wait=SECONDS]\n",
			    "Allow", "POST");
		ws = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND,
		    "wait");
		st = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND,
		    "strict");
		r->strict = st != NULL && strcmp(st, "1") == 0;
		if (ws != NULL) {
			r->wait_s = *ws == '\0' ? 300 : strtol(ws, &end, 10);
			if (*ws != '\0' && (*end != '\0' || r->wait_s < 0 ||
			    r->wait_s > FLUSH_WAIT_MAX_S))
				return text(r, 400,
				    "wait: seconds, 0 to 3600\n");
		}
		return start_job(r, JOB_FLUSH);
	}
	/* A known path with another method: 405, as /flush answers. */
	if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0 ||
	    strcmp(url, "/metrics") == 0 || strcmp(url, "/status") == 0)
		return text_hdr(r, 405, "GET or HEAD only\n", "Allow",
		    "GET, HEAD");
	return text(r, 404, "endpoints: /healthz /readyz /metrics /status "
	    "POST /flush[?wait=SECONDS][&strict=1]\n");
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req_cls)
{
	struct admin	*a = cls;
	struct areq	*r = *req_cls;

	(void)version;
	(void)upload;
	if (r == NULL) {
		/* The head is complete: refuse now (and close), or answer
		 * on the next call, once the request is read whole, so
		 * that the connection may be kept alive. */
		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return MHD_NO;
		r->a = a;
		r->c = c;
		buf_init(&r->body);
		*req_cls = r;
		watch_set(a, c, PH_ANSWER, ADMIN_SEND_S * 1000);
		return gate(r, method, url);
	}
	if (*upload_size != 0) {	/* refused already; drop it */
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->job != JOB_NONE) {
		if (!atomic_load(&r->finished))
			return MHD_YES;
		r->job = JOB_NONE;
		return buf_ok(&r->body) ? reply_hdr(c, a, r->status, r->type,
		    &r->body, NULL, NULL) : MHD_NO;
	}
	if (r->routed)
		return MHD_YES;
	r->routed = 1;
	return route(r, url, method);
}

static void
completed_cb(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct admin	*a = cls;
	struct areq	*r = *req_cls;

	(void)toe;
	if (r != NULL) {
		if (atomic_load(&r->finished)) {
			/* A job's answer is sent (or its client gone). */
			pthread_mutex_lock(&a->lock);
			if (--a->answering == 0)
				pthread_cond_broadcast(&a->idle);
			pthread_mutex_unlock(&a->lock);
		}
		buf_fini(&r->body);
		free(r);
		*req_cls = NULL;
	}
	/* The next head is due within ADMIN_HEAD_S of this answer. */
	watch_set(a, c, PH_HEAD, ADMIN_HEAD_S * 1000);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	 msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("admin listener: %s", msg);
}

/* ---- the acceptor --------------------------------------------------- */

/* Past ADMIN_CONN_MAX: say so in HTTP, without reading the request. */
static void
refuse_conn(struct admin *a, int fd, const struct sockaddr *sa)
{
#define BUSY_BODY	"admin listener: too many connections\n"
	static const char	 busy[] =
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Retry-After: 1\r\n"
	    "Connection: close\r\n"
	    "Content-Length: 37\r\n"
	    "\r\n"
	    BUSY_BODY;
	_Static_assert(sizeof(BUSY_BODY) - 1 == 37, "Content-Length");
	char			 sink[512];
	ssize_t			 n;

	n = send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)n;
	shutdown(fd, SHUT_WR);
	/* What the client sent already, read so close() sends no RST
	 * that could overtake the answer. */
	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	close(fd);
	refused(a, RF_LIMIT, 503, sa, "-", "-", NULL);
}

static void
accept_some(struct admin *a)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	unsigned		 n, conns;
	int			 fd;

	for (n = 0; n < 64; n++) {
		len = sizeof(ss);
		fd = accept4(a->lfd, (struct sockaddr *)&ss, &len,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("admin listener: accept: %s",
				    strerror(errno));
			return;
		}
		pthread_mutex_lock(&a->lock);
		conns = a->conns + a->handed;
		pthread_mutex_unlock(&a->lock);
		if (conns >= ADMIN_CONN_MAX) {
			refuse_conn(a, fd, (struct sockaddr *)&ss);
			continue;
		}
		/* It closes fd when it fails. */
		if (MHD_add_connection(a->mhd, fd, (struct sockaddr *)&ss,
		    len) != MHD_YES) {
			refused(a, RF_LIMIT, 0, (struct sockaddr *)&ss, "-",
			    "-", NULL);
			continue;
		}
		pthread_mutex_lock(&a->lock);
		a->handed++;
		a->handed_ms = util_mono_ms();
		pthread_mutex_unlock(&a->lock);
	}
}

static void *
acceptor_main(void *arg)
{
	struct admin	*a = arg;
	struct pollfd	 pfd[2];
	int		 n;

	for (;;) {
		pfd[0].fd = a->lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = a->wake[0];
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		n = poll(pfd, 2, TICK_MS);
		if (n == -1 && errno != EINTR) {
			log_error("admin listener: poll: %s", strerror(errno));
			usleep(TICK_MS * 1000);
		}
		if (pfd[1].revents != 0)
			break;
		if ((pfd[0].revents & POLLIN) != 0)
			accept_some(a);
		watchdog(a);
	}
	return NULL;
}

/* ---- start and stop ------------------------------------------------- */

static int
load_token(struct admin *a)
{
	char	*tok = NULL;
	char	 err[512];

	if (admin_auth_token_get(a->cfg->server.admin_token,
	    a->cfg->server.admin_token_file, &tok, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	if (tok == NULL)
		return 0;
	admin_auth_digest(tok, a->digest);
	admin_auth_token_free(tok);
	a->has_token = 1;
	return 0;
}

struct admin *
admin_start(const struct cfg *cfg)
{
	struct admin	*a;
	char		 host[256], err[512];
	unsigned	 port, flags;

	if (util_split_hostport(cfg->server.admin_listen, host, sizeof(host),
	    &port) == -1) {
		log_error("server.admin_listen: bad address");
		return NULL;
	}
	if (!util_is_loopback(host) && !cfg->server.admin_allow_remote) {
		log_error("server.admin_listen %s is not a loopback address: "
		    "set server.admin_allow_remote = yes to bind it anyway "
		    "(and server.admin_token, so that only you may use it)",
		    cfg->server.admin_listen);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->cfg = cfg;
	a->started = util_now();
	a->lfd = a->wake[0] = a->wake[1] = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->idle, NULL);
	if (load_token(a) == -1)
		goto fail;
	if (!a->has_token && !util_is_loopback(host))
		log_warn("the admin listener on %s has no server.admin_token: "
		    "whoever reaches it may read /status and POST /flush",
		    cfg->server.admin_listen);
	a->lfd = util_listen(cfg->server.admin_listen, 128, err, sizeof(err));
	if (a->lfd == -1) {
		log_error("server.admin_listen: %s", err);
		goto fail;
	}
	if (pipe2(a->wake, O_CLOEXEC) == -1) {
		log_error("admin listener: pipe: %s", strerror(errno));
		goto fail;
	}
	/* poll(), not epoll: with epoll, libmicrohttpd 0.9.75 left
	 * connections handed to it in a burst unserved until some other
	 * event woke it (closed by their clients, still counted, the
	 * listener full); poll() sees their state every round. */
	flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_NO_LISTEN_SOCKET |
	    MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	a->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, a,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_cb, a,
	    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, a,
	    /* The watchdog's deadlines are the real bounds; this one
	     * only backs them up.  A suspended connection never times
	     * out. */
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(ADMIN_HEAD_S * 3),
	    /* Room over ADMIN_CONN_MAX: the acceptor counts the ones
	     * libmicrohttpd has started, not those handed to it. */
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)(ADMIN_CONN_MAX + 64),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)POOL_BYTES,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_END);
	if (a->mhd == NULL) {
		log_error("admin listener: cannot start libmicrohttpd");
		goto fail;
	}
	if (pthread_create(&a->acceptor, NULL, acceptor_main, a) != 0) {
		log_error("admin listener: cannot start its thread");
		goto fail;
	}
	a->acceptor_on = 1;
	return a;
fail:
	admin_stop(a);
	return NULL;
}

void
admin_stop(struct admin *a)
{
	struct timespec	 until;
	char		 c = 0;

	if (a == NULL)
		return;
	if (a->acceptor_on) {
		if (write(a->wake[1], &c, 1) != 1)
			log_warn("admin listener: cannot wake its thread");
		pthread_join(a->acceptor, NULL);
	}
	if (a->lfd != -1)
		close(a->lfd);
	/* A suspended connection must be resumed before the daemon stops:
	 * end the waits of /flush and let every job answer. */
	inval_quiesce();
	pthread_mutex_lock(&a->lock);
	while (a->jobs > 0)
		pthread_cond_wait(&a->idle, &a->lock);
	/* The resumed connections write their answers from libmicrohttpd's
	 * threads: give them a moment before the daemon closes them. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ADMIN_ANSWER_S;
	while (a->answering > 0 &&
	    pthread_cond_timedwait(&a->idle, &a->lock, &until) == 0)
		;
	pthread_mutex_unlock(&a->lock);
	if (a->mhd != NULL)
		MHD_stop_daemon(a->mhd);
	if (a->wake[0] != -1)
		close(a->wake[0]);
	if (a->wake[1] != -1)
		close(a->wake[1]);
	OPENSSL_cleanse(a->digest, sizeof(a->digest));
	pthread_cond_destroy(&a->idle);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
