/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_front: see http_front.h; the front's files are listed in front.h.
 * This one runs the event loops: the listening socket (each loop accepts
 * from it), libmicrohttpd in external-epoll mode and the upstream's curl
 * multi handle on one epoll per thread, the connections and their
 * watchdog, start, quiesce and stop.
 *
 * Slow and idle clients: each loop's watchdog closes a connection whose
 * request head is not complete within server.client_timeout, and one that
 * sends its body or reads its answer slower than server.min_rate over a
 * RATE_WINDOW_MS window (time the request waits on the upstream or the
 * journal does not count).  Past server.max_connections a connection is
 * still accepted, up to a margin, so that its request gets a 503 with
 * Retry-After instead of a reset.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "front.h"
#include "http_front.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define WATCHDOG_MS	500
#define ACCEPT_BATCH	64
#define POOL_SLACK	(2 * 1024)	/* parsed fields, our answer's head */
#define MAX_THREADS	64

void
front_note_refused(struct http_front *f)
{
	int64_t	 now = util_mono_ms(), last;
	uint64_t n;

	metrics_conn_refused();
	atomic_fetch_add(&f->refused_since_log, 1);
	last = atomic_load(&f->refuse_logged_at);
	if (now - last < 1000 ||
	    !atomic_compare_exchange_strong(&f->refuse_logged_at, &last, now))
		return;
	n = atomic_exchange(&f->refused_since_log, 0);
	log_warn("server.max_connections (%u) reached: %llu request%s "
	    "answered 503 since the last such line",
	    f->cfg->server.max_connections, (unsigned long long)n,
	    n == 1 ? "" : "s");
}

static void
notify_cb(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct loop		*l = cls;
	struct conn		*cn;
	const union MHD_ConnectionInfo *ci;
	unsigned		 n;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		cn = calloc(1, sizeof(*cn));
		if (cn == NULL || ci == NULL) {
			free(cn);
			return;
		}
		cn->loop = l;
		cn->fd = ci->connect_fd;
		/* Bound what a TLS handshake may make GnuTLS hold, before
		 * its first byte is read (issue 14 item 2); a connection
		 * that cannot be guarded is closed. */
		if (l->f->tls_cert != NULL &&
		    http_frame_tls_guard(c, &cn->tls) == -1) {
			log_warn("tls: cannot guard the handshake; front_closing");
			shutdown(cn->fd, SHUT_RDWR);
		}
		cn->since = util_mono_ms();
		n = atomic_fetch_add(&l->f->conns, 1) + 1;
		cn->over_limit = n > l->f->cfg->server.max_connections;
		cn->next = l->conns;
		if (l->conns != NULL)
			l->conns->prev = cn;
		l->conns = cn;
		*socket_context = cn;
		metrics_conn_open(1);
		return;
	}
	cn = *socket_context;
	if (cn == NULL)
		return;
	if (cn->prev != NULL)
		cn->prev->next = cn->next;
	else
		l->conns = cn->next;
	if (cn->next != NULL)
		cn->next->prev = cn->prev;
	atomic_fetch_sub(&l->f->conns, 1);
	metrics_conn_open(-1);
	free(cn);
	*socket_context = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct buf	 b;

	(void)cls;
	buf_init(&b);
	buf_vprintf(&b, fmt, ap);
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	log_msg(LOG_DEBUG, "http: %s", buf_str(&b));
	buf_fini(&b);
}

/*
 * Close a connection from the watchdog: libmicrohttpd sees the error on
 * its next read or write and closes it.  A client too slow at its body
 * or its answer gets a reset (no linger): the data queued for it is
 * dropped at once instead of holding kernel memory until it reads; an
 * idle or unfinished head gets an orderly close.
 */
static void
cut(struct conn *cn, int slow)
{
	struct linger	 lg = { 1, 0 };

	if (slow) {
		setsockopt(cn->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		metrics_conn_cut_slow();
	}
	shutdown(cn->fd, SHUT_RDWR);
	cn->cut = 1;
	cn->loop->run_mhd = 1;
}

static void
watchdog(struct loop *l, int64_t now)
{
	const struct cfg	*cfg = l->f->cfg;
	struct conn		*cn;
	struct front_req	*r;
	uint64_t		 need;

	need = cfg->server.min_rate * RATE_WINDOW_MS / 1000;
	for (cn = l->conns; cn != NULL; cn = cn->next) {
		r = cn->req;
		if (cn->cut)
			continue;
		/* The head: complete within client_timeout of the
		 * connection's start or of the previous request's end. */
		if (r == NULL || r->phase == PH_HEAD) {
			if (now - cn->since > cfg->server.client_timeout_ms)
				cut(cn, 0);
			continue;
		}
		/* Waiting on the upstream or the journal: not the client's
		 * doing. */
		if (r->suspended || need == 0 ||
		    (r->phase != PH_BODY && r->phase != PH_ANSWERED))
			continue;
		if (now - cn->win_at < RATE_WINDOW_MS)
			continue;
		if (cn->win_bytes < need)
			cut(cn, 1);
		else
			front_window(cn);
	}
}

static void
on_accept(struct evwatch *w, uint32_t events)
{
	struct loop		*l = w->arg;
	struct http_front	*f = l->f;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 i, fd;

	(void)events;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		sl = sizeof(ss);
		fd = accept4(w->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			break;
		if (atomic_load(&f->stopping) ||
		    atomic_load(&f->conns) >= f->hard_limit) {
			/* Past the margin: no answer is affordable. */
			front_note_refused(f);
			close(fd);
			continue;
		}
		if (MHD_add_connection(l->mhd, fd, (struct sockaddr *)&ss,
		    sl) != MHD_YES)
			log_debug("http: cannot add a connection: %s",
			    strerror(errno));
		l->run_mhd = 1;
	}
}

static void
on_mhd(struct evwatch *w, uint32_t events)
{
	struct loop	*l = w->arg;

	(void)events;
	l->run_mhd = 1;
}

static int64_t
loop_next(void *arg)
{
	struct loop		*l = arg;
	MHD_UNSIGNED_LONG_LONG	 mt;
	int64_t			 next, u, now = util_mono_ms();

	if (l->run_mhd)
		return 0;
	next = l->watchdog_at > now ? l->watchdog_at - now : 0;
	u = upstream_client_next_ms(l->up);
	if (u >= 0 && u < next)
		next = u;
	if (MHD_get_timeout(l->mhd, &mt) == MHD_YES && (int64_t)mt < next)
		next = (int64_t)mt;
	return next;
}

static void
loop_tick(void *arg)
{
	struct loop	*l = arg;
	int64_t		 now;
	int		 rounds;

	/* Handlers start transfers and wake requests, and transfers wake
	 * handlers: run both until neither has more to do (bounded). */
	for (rounds = 0; rounds < 4; rounds++) {
		upstream_client_tick(l->up);
		if (!l->run_mhd && rounds > 0)
			break;
		l->run_mhd = 0;
		MHD_run(l->mhd);
	}
	now = util_mono_ms();
	if (now >= l->watchdog_at) {
		l->watchdog_at = now + WATCHDOG_MS;
		watchdog(l, now);
	}
}

static void *
loop_main(void *arg)
{
	struct loop	*l = arg;
	char		 name[16];

	snprintf(name, sizeof(name), "front/%u", l->idx);
	pthread_setname_np(pthread_self(), name);
	evloop_run(l->ev, loop_next, loop_tick, l);
	return NULL;
}

/* A PEM file, whole, NUL-terminated (libmicrohttpd takes PEM in memory). */
static char *
read_pem(const char *path)
{
	struct buf	 b;
	char		 blk[4096];
	size_t		 n;
	FILE		*fp;

	fp = fopen(path, "r");
	if (fp == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(blk, 1, sizeof(blk), fp)) > 0 && b.len < 1048576)
		buf_append(&b, blk, n);
	OPENSSL_cleanse(blk, sizeof(blk));
	fclose(fp);
	if (!buf_ok(&b) || b.len == 0 || b.len >= 1048576) {
		log_error("%s: empty, too large or unreadable", path);
		buf_wipe(&b);
		return NULL;
	}
	return buf_take(&b);
}

static void
free_tls(struct http_front *f)
{
	if (f->tls_key != NULL)
		OPENSSL_cleanse(f->tls_key, strlen(f->tls_key));
	free(f->tls_key);
	free(f->tls_cert);
	f->tls_key = f->tls_cert = NULL;
}

static int
loop_init(struct http_front *f, struct loop *l, unsigned idx)
{
	const struct cfg	*cfg = f->cfg;
	const union MHD_DaemonInfo *di;
	struct MHD_OptionItem	 opts[20];
	unsigned		 flags;
	size_t			 n = 0;

	l->f = f;
	l->idx = idx;
	if (RAND_bytes((unsigned char *)&l->rid, sizeof(l->rid)) != 1 ||
	    l->rid == 0)
		l->rid = (uint64_t)util_now_ms() * 2654435761ULL + idx + 1;
	l->ev = evloop_new();
	if (l->ev == NULL)
		return -1;
	l->up = upstream_client_new(l->ev);
	if (l->up == NULL)
		return -1;
	flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
	    (intptr_t)mhd_log, l };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_URI_LOG_CALLBACK,
	    (intptr_t)front_req_new, l };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
	    (intptr_t)front_req_end, l };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION,
	    (intptr_t)notify_cb, l };
	/* The watchdog enforces client_timeout and min_rate (over a window
	 * or two: the kernel's buffers make the first one pass); this is
	 * only a backstop behind it, or what cuts a stalled transfer when
	 * min_rate is 0. */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
	    (intptr_t)((cfg->server.client_timeout_ms + (cfg->server.min_rate >
	    0 ? 3 * RATE_WINDOW_MS : 0) + 999) / 1000), NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
	    (intptr_t)f->hard_limit, NULL };
	/* libmicrohttpd's per-connection pool: the head, its parsed fields
	 * and our answer's head.  It is zeroed after every request, so it
	 * stays resident: its size is what an idle connection costs. */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (intptr_t)(cfg->server.max_header_size + POOL_SLACK), NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SIGPIPE_HANDLED_BY_APP,
	    1, NULL };
	/* Refuse what RFC 9112 says to refuse rather than guess. */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    NULL };
	if (f->tls_cert != NULL) {
		flags |= MHD_USE_TLS;
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT,
		    0, f->tls_cert };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY,
		    0, f->tls_key };
		/* TLS 1.2 and 1.3 only (GnuTLS priority string). */
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_PRIORITIES, 0,
		    (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" };
	}
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, front_access, l,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (l->mhd == NULL)
		return -1;
	di = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL)
		return -1;
	l->mhd_w.fd = di->epoll_fd;
	l->mhd_w.cb = on_mhd;
	l->mhd_w.arg = l;
	l->listen_w.fd = f->listen_fd;
	l->listen_w.cb = on_accept;
	l->listen_w.arg = l;
	if (evloop_watch(l->ev, &l->mhd_w, EPOLLIN) == -1 ||
	    evloop_watch(l->ev, &l->listen_w, EPOLLIN | EPOLLEXCLUSIVE) == -1)
		return -1;
	return 0;
}

static unsigned
thread_count(const struct cfg *cfg)
{
	long	 n = (long)cfg->server.threads;

	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	return (unsigned)n;
}

static void
free_front(struct http_front *f)
{
	unsigned	 i;

	for (i = 0; i < f->n_loops; i++) {
		struct loop *l = &f->loops[i];

		if (l->mhd != NULL)
			MHD_stop_daemon(l->mhd);
		upstream_client_free(l->up);
		evloop_free(l->ev);
	}
	free(f->loops);
	if (f->listen_fd != -1)
		close(f->listen_fd);
	free_tls(f);
	free(f);
}

struct http_front *
http_front_start(const struct cfg *cfg)
{
	struct http_front	*f;
	char			 err[512];
	unsigned		 i, margin;

	if (cfg->server.tls_cert[0] != '\0' &&
	    MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		log_error("server.tls_cert is set, but libmicrohttpd was built "
		    "without TLS");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->cfg = cfg;
	f->listen_fd = -1;
	atomic_store(&f->auth_cfg, cfg);
	f->started = util_now();
	margin = cfg->server.max_connections / 16;
	f->hard_limit = cfg->server.max_connections + (margin < 16 ? 16 :
	    margin);
	if (cfg->server.tls_cert[0] != '\0') {
		f->tls_cert = read_pem(cfg->server.tls_cert);
		f->tls_key = read_pem(cfg->server.tls_key);
		if (f->tls_cert == NULL || f->tls_key == NULL)
			goto fail;
	}
	f->listen_fd = util_listen(cfg->server.listen, 1024, err, sizeof(err));
	if (f->listen_fd == -1) {
		log_error("server.listen: %s", err);
		goto fail;
	}
	f->n_loops = thread_count(cfg);
	f->loops = calloc(f->n_loops, sizeof(*f->loops));
	if (f->loops == NULL)
		goto fail;
	for (i = 0; i < f->n_loops; i++)
		if (loop_init(f, &f->loops[i], i) == -1) {
			log_error("cannot set up the front's event loop %u "
			    "(a bad certificate or key?)", i);
			f->n_loops = i + 1;
			goto fail;
		}
	for (i = 0; i < f->n_loops; i++) {
		if (pthread_create(&f->loops[i].thread, NULL, loop_main,
		    &f->loops[i]) != 0) {
			log_error("cannot start the front's threads");
			http_front_stop(f);
			return NULL;
		}
		f->loops[i].running = 1;
	}
	return f;
fail:
	free_front(f);
	return NULL;
}

static void
loop_quiesce(void *arg)
{
	struct loop	*l = arg;
	struct http_front *f = l->f;

	evloop_watch(l->ev, &l->listen_w, 0);
	/* The last loop off the socket closes it: no loop can then act on
	 * a descriptor number reused by someone else. */
	if ((unsigned)atomic_fetch_add(&f->unwatched, 1) + 1 == f->n_loops) {
		close(f->listen_fd);
		f->listen_fd = -1;
	}
}

void
http_front_quiesce(struct http_front *f)
{
	unsigned	 i;

	if (f == NULL || atomic_exchange(&f->stopping, 1))
		return;
	for (i = 0; i < f->n_loops; i++)
		evloop_post(f->loops[i].ev, loop_quiesce, &f->loops[i]);
}

unsigned
http_front_active(struct http_front *f)
{
	return f != NULL ? atomic_load(&f->active) : 0;
}

void
http_front_set_auth_cfg(struct http_front *f, const struct cfg *cfg)
{
	atomic_store(&f->auth_cfg, cfg);
}

/* On the loop's thread: resume what waits (libmicrohttpd may not be
 * stopped with suspended connections) and leave the loop. */
static void
loop_stop(void *arg)
{
	struct loop		*l = arg;
	struct conn		*cn;

	l->stopping = 1;
	for (cn = l->conns; cn != NULL; cn = cn->next)
		if (cn->req != NULL && cn->req->suspended) {
			cn->req->waiting = W_NONE;
			cn->req->suspended = 0;
			MHD_resume_connection(cn->req->c);
			shutdown(cn->fd, SHUT_RDWR);
		}
	MHD_run(l->mhd);
	evloop_stop(l->ev);
}

void
http_front_stop(struct http_front *f)
{
	unsigned	 i;

	if (f == NULL)
		return;
	http_front_quiesce(f);
	/* A record in flight points at its request: let it land. */
	for (i = 0; i < 1000 && atomic_load(&f->recording) > 0; i++)
		usleep(10000);
	for (i = 0; i < f->n_loops; i++)
		if (f->loops[i].running)
			evloop_post(f->loops[i].ev, loop_stop, &f->loops[i]);
	for (i = 0; i < f->n_loops; i++)
		if (f->loops[i].running)
			pthread_join(f->loops[i].thread, NULL);
	free_front(f);
}
