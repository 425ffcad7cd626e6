/* SPDX-License-Identifier: Apache-2.0 */
/* admin: see admin.h. */
#include "config.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <microhttpd.h>

#include "admin.h"
#include "buf.h"
#include "inval_worker.h"
#include "log.h"
#include "metrics.h"
#include "upstream.h"
#include "util.h"

#define FLUSH_WAIT_MAX_S	3600

struct admin {
	struct MHD_Daemon	*mhd;
	const struct cfg	*cfg;
	int64_t			 started;
};

int
admin_is_loopback(const char *host)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type,
    struct buf *b)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	r = MHD_create_response_from_buffer(b->len, b->data,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
text(struct MHD_Connection *c, unsigned status, const char *s)
{
	struct buf	 b;
	enum MHD_Result	 ret;

	buf_init(&b);
	buf_puts(&b, s);
	ret = reply(c, status, "text/plain; charset=utf-8", &b);
	buf_fini(&b);
	return ret;
}

static enum MHD_Result
do_flush(struct admin *a, struct MHD_Connection *c)
{
	struct inval_flush_result res;
	struct buf		 b;
	const char		*ws, *st;
	char			*end;
	long			 wait_s = 0;
	int			 strict;
	enum MHD_Result		 ret;

	ws = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "wait");
	st = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "strict");
	strict = st != NULL && strcmp(st, "1") == 0;
	if (ws != NULL) {
		wait_s = *ws == '\0' ? 300 : strtol(ws, &end, 10);
		if (*ws != '\0' && (*end != '\0' || wait_s < 0 ||
		    wait_s > FLUSH_WAIT_MAX_S))
			return text(c, 400, "wait: seconds, 0 to 3600\n");
	}
	inval_flush(wait_s * 1000, &res);
	buf_init(&b);
	inval_flush_json(&b, &res);
	log_event(LOG_INFO, "flush", (struct log_field[]){
	    LOG_NUM("wait_s", wait_s), LOG_STR("done", res.done ? "yes" : "no"),
	    LOG_NUM("paths_pending", res.pending_paths),
	    LOG_NUM("batches_open", res.batches_open),
	    LOG_NUM("distributions_failed", res.n_failed) }, 5);
	ret = reply(c, (!res.done && strict && wait_s > 0) ? 504 : 200,
	    "application/json", &b);
	buf_fini(&b);
	(void)a;
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req_cls)
{
	struct admin	*a = cls;
	struct buf	 b;
	enum MHD_Result	 ret;
	int		 get = strcmp(method, "GET") == 0 ||
			    strcmp(method, "HEAD") == 0;

	if (*req_cls == NULL) {
		*req_cls = a;		/* first call: headers only */
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;	/* no endpoint takes a body */
		return MHD_YES;
	}
	if (strcmp(url, "/healthz") == 0 && get)
		return text(c, 200, "ok\n");
	if (strcmp(url, "/readyz") == 0 && get) {
		if (!inval_ready())
			return text(c, 503, "journal not writable\n");
		if (!upstream_reachable(2000))
			return text(c, 503, "upstream unreachable\n");
		return text(c, 200, "ready\n");
	}
	if (strcmp(url, "/metrics") == 0 && get) {
		buf_init(&b);
		metrics_render(&b);
		inval_metrics(&b);
		ret = buf_ok(&b) ? reply(c, 200,
		    "text/plain; version=0.0.4; charset=utf-8", &b) : MHD_NO;
		buf_fini(&b);
		return ret;
	}
	if (strcmp(url, "/status") == 0 && get) {
		buf_init(&b);
		buf_printf(&b, "{\"version\":\"%s\",\"uptime_s\":%lld,"
		    "\"invalidation\":", PACKAGE_VERSION,
		    (long long)(util_now() - a->started));
		inval_status_json(&b);
		buf_puts(&b, "}\n");
		ret = buf_ok(&b) ? reply(c, 200, "application/json", &b) :
		    MHD_NO;
		buf_fini(&b);
		return ret;
	}
	if (strcmp(url, "/flush") == 0) {
		if (strcmp(method, "POST") != 0)
			return text(c, 405, "POST /flush[?wait=SECONDS]\n");
		return do_flush(a, c);
	}
	return text(c, 404, "endpoints: /healthz /readyz /metrics /status "
	    "POST /flush[?wait=SECONDS][&strict=1]\n");
}

struct admin *
admin_start(const struct cfg *cfg)
{
	struct admin		*a;
	struct addrinfo		 hints, *ai = NULL;
	char			 host[256], port_s[8];
	unsigned		 port, flags;

	if (util_split_hostport(cfg->server.admin_listen, host, sizeof(host),
	    &port) == -1) {
		log_error("server.admin_listen: bad address");
		return NULL;
	}
	if (!admin_is_loopback(host) && !cfg->server.admin_allow_remote) {
		log_error("server.admin_listen %s is not a loopback address; "
		    "the admin listener has no authentication: set "
		    "server.admin_allow_remote = yes to bind it anyway",
		    cfg->server.admin_listen);
		return NULL;
	}
	snprintf(port_s, sizeof(port_s), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, port_s, &hints, &ai) != 0) {
		log_error("server.admin_listen %s: cannot resolve",
		    cfg->server.admin_listen);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		freeaddrinfo(ai);
		return NULL;
	}
	a->cfg = cfg;
	a->started = util_now();
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_POLL | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	a->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, a,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_CONNECTION_TIMEOUT, 3700U,
	    MHD_OPTION_CONNECTION_LIMIT, 64U,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (a->mhd == NULL) {
		log_error("cannot listen on %s (admin)",
		    cfg->server.admin_listen);
		free(a);
		return NULL;
	}
	return a;
}

void
admin_stop(struct admin *a)
{
	if (a == NULL)
		return;
	if (a->mhd != NULL)
		MHD_stop_daemon(a->mhd);
	free(a);
}
