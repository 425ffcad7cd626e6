/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cred_refresh: the current set, what /status shows of it, and the
 * refresher thread that fetches a temporary set again before it expires
 * (SDKREF, "Standardized credential providers": refresh before expiry).
 *
 * Threads: one mutex guards the current set and the status; the refresher
 * thread owns the source description (read-only after init) and does all
 * network I/O without holding the mutex.  It sleeps on a condition
 * variable (monotonic clock) until the next refresh time, so
 * credentials_fini() wakes it at once; a transfer under way is aborted
 * through cred_stop (http_call's cancel).  daemon(3) forks after
 * credentials_init(): the pthread_atfork() child handler notes that the
 * thread is gone and the first credentials_get() in the child starts a
 * new one.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "cred.h"
#include "log.h"
#include "util.h"

#define NO_EXPIRY_REFRESH	900	/* s: refetch a set with no expiry */
#define REFRESH_MARGIN_MAX	300	/* s: refresh 5 minutes before expiry */
#define RETRY_DELAY_MAX		60	/* s: backoff cap after failures */
#define RETRY_EXPIRED_MAX	5	/* s: the cap once the set expired */

/*
 * Shared state.  cred_lock guards everything but cred_stop (atomic, read
 * by http_call's cancel check) and cred_curl (main thread only).
 */
static pthread_mutex_t		 cred_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 cred_cond;
static int			 cred_cond_ok;	/* cred_cond initialised */
static struct credentials	 cred_current;
static int			 cred_ready;
static struct credentials_status cred_st;
static unsigned			 cred_streak;	/* failures in a row */
static int			 cred_expired_logged;
static struct cred_src		*cred_src;	/* temporary sources only */
static pthread_t		 cred_thread;
static int			 cred_wanted;	/* a refresher should run */
static int			 cred_running;	/* it runs in this process */
atomic_int			 cred_stop;
static int			 cred_curl;	/* curl_global_init() done */
static pthread_once_t		 cred_once = PTHREAD_ONCE_INIT;

static const char *
last4(const char *akid)
{
	size_t	 n = strlen(akid);

	return n > 4 ? akid + n - 4 : akid;
}

static void
fmt_time(int64_t t, char *out, size_t n)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "never");
}

int64_t
credentials_next_refresh(int64_t now, int64_t fetched, int64_t expiration,
    unsigned failures)
{
	int64_t	 delay, left, margin, at;

	if (failures > 0) {
		delay = (int64_t)1 << (failures - 1 < 6 ? failures - 1 : 6);
		if (delay > RETRY_DELAY_MAX)
			delay = RETRY_DELAY_MAX;
		/* Close to expiry, try more often; once expired (requests
		 * fail), every few seconds. */
		left = expiration - now;
		if (expiration != 0 && left > 0 && delay > left / 4)
			delay = left / 4;
		if (expiration != 0 && left <= 0 && delay > RETRY_EXPIRED_MAX)
			delay = RETRY_EXPIRED_MAX;
		return now + (delay < 1 ? 1 : delay);
	}
	if (expiration == 0)
		at = fetched + NO_EXPIRY_REFRESH;
	else {
		margin = (expiration - fetched) / 2;
		if (margin > REFRESH_MARGIN_MAX)
			margin = REFRESH_MARGIN_MAX;
		at = expiration - margin;
	}
	return at < now + 1 ? now + 1 : at;
}

static void
cond_setup(void)
{
	pthread_condattr_t	 ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cred_cond, &ca);
	pthread_condattr_destroy(&ca);
	cred_cond_ok = 1;
}

/* Sleep on cred_cond for at most secs (cred_lock held). */
static void
wait_secs(int64_t secs)
{
	struct timespec	 ts;

	if (secs > 3600)
		secs = 3600;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)secs;
	pthread_cond_timedwait(&cred_cond, &cred_lock, &ts);
}

static void *
refresher(void *arg)
{
	struct cred_src		*s = arg;
	struct credentials	 fresh;
	char			 err[256], when[32], akid[8];
	const char		*why;
	size_t			 n;
	int64_t			 now, exp, next;
	unsigned		 streak;
	int			 rc, retry, expired;

	pthread_mutex_lock(&cred_lock);
	while (!atomic_load(&cred_stop)) {
		now = util_now();
		if (now < cred_st.next_refresh) {
			wait_secs(cred_st.next_refresh - now);
			continue;
		}
		pthread_mutex_unlock(&cred_lock);

		/* Every failure is retried with backoff, "not retryable" ones
		 * too: a token file may be rotated, a role attached. */
		err[0] = '\0';
		rc = cred_fetch(s, &fresh, err, sizeof(err), &retry);
		now = util_now();
		if (rc == 0 && fresh.expiration != 0 &&
		    fresh.expiration <= now) {
			snprintf(err, sizeof(err), "the new set has expired "
			    "already (clock skew?)");
			credentials_wipe(&fresh);
			rc = -1;
		}

		pthread_mutex_lock(&cred_lock);
		if (atomic_load(&cred_stop)) {
			credentials_wipe(&fresh);
			break;
		}
		if (rc == 0) {
			/* Wipe first: the old token may be the longer one. */
			credentials_wipe(&cred_current);
			cred_current = fresh;
			cred_ready = 1;
			cred_streak = 0;
			cred_expired_logged = 0;
			cred_st.refreshes++;
			cred_st.last_refresh = now;
			cred_st.expiration = fresh.expiration;
			cred_st.last_error[0] = '\0';
			snprintf(cred_st.access_key_id,
			    sizeof(cred_st.access_key_id), "%s",
			    fresh.access_key_id);
		} else {
			cred_streak++;
			cred_st.failures++;
			snprintf(cred_st.last_error,
			    sizeof(cred_st.last_error), "%s", err);
		}
		exp = cred_current.expiration;
		streak = cred_streak;
		next = credentials_next_refresh(now, cred_st.last_refresh, exp,
		    streak);
		cred_st.next_refresh = next;
		expired = rc != 0 && exp != 0 && now >= exp &&
		    !cred_expired_logged;
		if (expired)
			cred_expired_logged = 1;
		memcpy(akid, last4(fresh.access_key_id),
		    strlen(last4(fresh.access_key_id)) + 1);
		credentials_wipe(&fresh);
		pthread_mutex_unlock(&cred_lock);

		/* Log without the lock: stderr may block.  The reason need
		 * not repeat the source. */
		fmt_time(exp, when, sizeof(when));
		why = err;
		n = strlen(s->desc);
		if (strncmp(why, s->desc, n) == 0 && why[n] == ':')
			why += n + 1 + (why[n + 1] == ' ');
		if (rc == 0)
			log_info("credentials: refreshed from %s: key ...%s, "
			    "expires %s, next refresh in %llds", s->desc, akid,
			    when, (long long)(next - now));
		else if (exp != 0 && now >= exp)
			log_msg(expired ? LOG_ERROR : LOG_WARN, "credentials: "
			    "the set from %s expired at %s and no refresh "
			    "succeeded (%s): upstream requests fail until one "
			    "does; retry %u in %llds", s->desc, when, why,
			    streak, (long long)(next - now));
		else
			log_warn("credentials: refresh from %s failed (%s); "
			    "keeping the current set (expires %s); retry %u "
			    "in %llds", s->desc, why, when, streak,
			    (long long)(next - now));
		pthread_mutex_lock(&cred_lock);
	}
	pthread_mutex_unlock(&cred_lock);
	return NULL;
}

/* Start the refresher (cred_lock held). */
static int
start_refresher(void)
{
	if (!cred_cond_ok)
		cond_setup();
	if (pthread_create(&cred_thread, NULL, refresher, cred_src) != 0)
		return -1;
	cred_running = 1;
	return 0;
}

static void
atfork_prepare(void)
{
	pthread_mutex_lock(&cred_lock);
}

static void
atfork_parent(void)
{
	pthread_mutex_unlock(&cred_lock);
}

/* In the child only the forking thread exists: the refresher is gone,
 * and a waiter may be left in the condition variable's state. */
static void
atfork_child(void)
{
	cred_running = 0;
	if (cred_cond_ok)
		cond_setup();
	pthread_mutex_unlock(&cred_lock);
}

static void
register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int
credentials_init(char *const *envp, char *err, size_t errsz)
{
	struct cred_src		*s = NULL;
	struct credentials	 c;
	char			 when[32];
	int64_t			 now, next = 0;
	int			 rc = -1;

	memset(&c, 0, sizeof(c));
	pthread_once(&cred_once, register_atfork);
	credentials_fini();
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		cred_seterr(err, errsz, "out of memory");
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cred_seterr(err, errsz, "cannot initialise libcurl");
		goto out;
	}
	cred_curl = 1;
	if (cred_resolve(envp, s, &c, err, errsz) == -1)
		goto out;
	now = util_now();
	pthread_mutex_lock(&cred_lock);
	cred_current = c;
	cred_ready = 1;
	memset(&cred_st, 0, sizeof(cred_st));
	cred_st.kind = s->kind;
	snprintf(cred_st.source, sizeof(cred_st.source), "%s", s->desc);
	snprintf(cred_st.access_key_id, sizeof(cred_st.access_key_id), "%s",
	    c.access_key_id);
	cred_st.expiration = c.expiration;
	cred_st.last_refresh = now;
	cred_streak = 0;
	cred_expired_logged = 0;
	if (cred_temporary(s->kind)) {
		next = credentials_next_refresh(now, now, c.expiration, 0);
		cred_st.next_refresh = next;
		cred_src = s;
		s = NULL;
		cred_wanted = 1;
		if (start_refresher() == -1) {
			pthread_mutex_unlock(&cred_lock);
			cred_seterr(err, errsz, "cannot start the credentials "
			    "refresher thread");
			credentials_fini();
			goto out;
		}
	}
	pthread_mutex_unlock(&cred_lock);
	fmt_time(c.expiration, when, sizeof(when));
	if (c.expiration != 0)
		log_info("credentials: using %s: key ...%s%s, expires %s, "
		    "refreshed in the background (next in %llds)", c.source,
		    last4(c.access_key_id), c.session_token[0] != '\0' ?
		    " with a session token" : "", when,
		    (long long)(next - now));
	else
		log_info("credentials: using %s: key ...%s%s%s", c.source,
		    last4(c.access_key_id), c.session_token[0] != '\0' ?
		    " with a session token" : "", next != 0 ?
		    ", no expiry given, refetched every 15 minutes" : "");
	rc = 0;
out:
	if (rc == -1 && cred_curl && !cred_ready) {
		curl_global_cleanup();
		cred_curl = 0;
	}
	credentials_wipe(&c);
	cred_free_secret((char *)s, s != NULL ? sizeof(*s) : 0);
	return rc;
}

int
credentials_get(struct credentials *c)
{
	int	 ok;

	pthread_mutex_lock(&cred_lock);
	/* After a fork (daemon(3)) the refresher must be started again. */
	if (cred_wanted && !cred_running && start_refresher() == -1)
		log_error("credentials: cannot restart the refresher thread");
	ok = cred_ready && (cred_current.expiration == 0 ||
	    util_now() < cred_current.expiration);
	if (ok)
		*c = cred_current;
	pthread_mutex_unlock(&cred_lock);
	if (!ok)
		credentials_wipe(c);
	return ok ? 0 : -1;
}

enum credentials_kind
credentials_source(char *out, size_t n)
{
	enum credentials_kind	 k;

	pthread_mutex_lock(&cred_lock);
	k = cred_ready ? cred_st.kind : CREDENTIALS_NONE;
	if (n > 0)
		snprintf(out, n, "%s", cred_ready ? cred_st.source : "");
	pthread_mutex_unlock(&cred_lock);
	return k;
}

int
credentials_status(struct credentials_status *st)
{
	int	 ok;

	pthread_mutex_lock(&cred_lock);
	ok = cred_ready;
	if (ok)
		*st = cred_st;
	else
		memset(st, 0, sizeof(*st));
	pthread_mutex_unlock(&cred_lock);
	return ok ? 0 : -1;
}

void
credentials_fini(void)
{
	pthread_t	 t;
	int		 join;

	atomic_store(&cred_stop, 1);
	pthread_mutex_lock(&cred_lock);
	join = cred_running;
	t = cred_thread;
	cred_running = 0;
	cred_wanted = 0;
	if (join)
		pthread_cond_broadcast(&cred_cond);
	pthread_mutex_unlock(&cred_lock);
	if (join)
		pthread_join(t, NULL);

	pthread_mutex_lock(&cred_lock);
	credentials_wipe(&cred_current);
	cred_ready = 0;
	memset(&cred_st, 0, sizeof(cred_st));
	cred_streak = 0;
	if (cred_src != NULL) {
		OPENSSL_cleanse(cred_src, sizeof(*cred_src));
		free(cred_src);
		cred_src = NULL;
	}
	if (cred_cond_ok) {
		pthread_cond_destroy(&cred_cond);
		cred_cond_ok = 0;
	}
	pthread_mutex_unlock(&cred_lock);
	if (cred_curl) {
		curl_global_cleanup();
		cred_curl = 0;
	}
	atomic_store(&cred_stop, 0);
}
