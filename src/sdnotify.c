/* SPDX-License-Identifier: Apache-2.0 */
/* sdnotify: see sdnotify.h. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "admin_auth.h"
#include "cfg.h"
#include "http_call.h"
#include "log.h"
#include "sdnotify.h"
#include "util.h"

#define WD_PROBE_MAX_MS	10000L	/* a probe waits at most this long */
#define WD_PROBE_MIN_MS	100L

static struct {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;		/* on CLOCK_MONOTONIC */
	pthread_t	 thread;
	int		 running;
	int		 stop;		/* mtx */
	uint64_t	 usec;
	char		 host[300];	/* the admin listener, as asked */
	char		*token;		/* NULL: none; wiped when freed */
} wd = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
};

void
sdnotify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void
sdnotify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: finishing requests in "
	    "flight");
}

uint64_t
sdnotify_watchdog_usec(void)
{
	const char	*sock = getenv("NOTIFY_SOCKET");
	uint64_t	 usec = 0;

	/* sd_watchdog_enabled() reads WATCHDOG_USEC alone: pings with no
	 * socket to go to would be probes for nothing. */
	if (sock == NULL || *sock == '\0')
		return 0;
	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

/* 1 when the admin listener gives any HTTP answer to GET /healthz. */
static int
probe(long timeout_ms, char *why, size_t whysz)
{
	struct http_call	 hc;
	struct http_answer	 an;
	int			 alive;

	memset(&hc, 0, sizeof(hc));
	hc.method = "GET";
	hc.scheme = "http";
	hc.host = wd.host;
	hc.path = "/healthz";
	hc.timeout_ms = timeout_ms;
	hc.body_max = 4096;
	hc.bearer = wd.token;
	http_answer_init(&an);
	http_call_perform(&hc, &an);
	alive = an.status != 0;
	snprintf(why, whysz, "%s", an.error);
	http_answer_fini(&an);
	return alive;
}

static void *
watchdog_run(void *arg)
{
	struct timespec	 ts;
	char		 why[512];
	long		 timeout_ms;
	int64_t		 period_ms = (int64_t)(wd.usec / 2000);
	int		 failing = 0, stop;

	(void)arg;
	timeout_ms = (long)(wd.usec / 4000);
	if (timeout_ms < WD_PROBE_MIN_MS)
		timeout_ms = WD_PROBE_MIN_MS;
	if (timeout_ms > WD_PROBE_MAX_MS)
		timeout_ms = WD_PROBE_MAX_MS;
	if (period_ms < 1)
		period_ms = 1;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(period_ms / 1000);
		ts.tv_nsec += (long)(period_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (probe(timeout_ms, why, sizeof(why))) {
			sd_notify(0, "WATCHDOG=1");
			if (failing)
				log_info("watchdog: the admin listener answers "
				    "again; pinging systemd");
			failing = 0;
		} else if (!failing) {
			/* systemd restarts us after WatchdogSec= of this. */
			log_warn("watchdog: the admin listener did not answer "
			    "GET /healthz within %ld ms (%s): not pinging "
			    "systemd", timeout_ms, why);
			failing = 1;
		}
		pthread_mutex_lock(&wd.mtx);
		while (!wd.stop && pthread_cond_timedwait(&wd.cv, &wd.mtx,
		    &ts) != ETIMEDOUT)
			continue;
		stop = wd.stop;
		pthread_mutex_unlock(&wd.mtx);
		if (stop)
			break;
	}
	return NULL;
}

int
sdnotify_watchdog_start(const struct cfg *cfg)
{
	pthread_condattr_t	 ca;
	char			 host[256], err[512];
	unsigned		 port;

	wd.usec = sdnotify_watchdog_usec();
	if (wd.usec == 0)
		return 0;
	if (util_split_hostport(cfg->server.admin_listen, host, sizeof(host),
	    &port) == -1) {
		log_error("watchdog: admin_listen %s is not host:port",
		    cfg->server.admin_listen);
		return -1;
	}
	/* A wildcard address is asked on loopback, as `s3inval flush`. */
	if (strcmp(host, "0.0.0.0") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (strcmp(host, "::") == 0)
		snprintf(host, sizeof(host), "::1");
	snprintf(wd.host, sizeof(wd.host), strchr(host, ':') != NULL ?
	    "[%s]:%u" : "%s:%u", host, port);
	/* Without the token the probe's 401 would still prove the listener
	 * alive, but count as a refusal in the metrics. */
	if (admin_auth_token_get(cfg->server.admin_token,
	    cfg->server.admin_token_file, &wd.token, err, sizeof(err)) == -1)
		log_warn("watchdog: %s: probing without the token", err);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wd.cv, &ca);
	pthread_condattr_destroy(&ca);
	wd.stop = 0;
	if (pthread_create(&wd.thread, NULL, watchdog_run, NULL) != 0) {
		log_error("watchdog: cannot start its thread");
		pthread_cond_destroy(&wd.cv);
		admin_auth_token_free(wd.token);
		wd.token = NULL;
		return -1;
	}
	wd.running = 1;
	log_info("watchdog: pinging systemd every %llu ms while the admin "
	    "listener answers", (unsigned long long)(wd.usec / 2000));
	return 0;
}

void
sdnotify_watchdog_stop(void)
{
	if (!wd.running)
		return;
	pthread_mutex_lock(&wd.mtx);
	wd.stop = 1;
	pthread_cond_signal(&wd.cv);
	pthread_mutex_unlock(&wd.mtx);
	pthread_join(wd.thread, NULL);
	pthread_cond_destroy(&wd.cv);
	admin_auth_token_free(wd.token);
	wd.token = NULL;
	wd.running = 0;
}
