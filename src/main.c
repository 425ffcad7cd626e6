/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main: arguments, signals, start-up and shutdown order.  Nothing else.
 *
 * Start-up, in this order (issue 13):
 *  1. SIGTERM, SIGINT and SIGHUP blocked, first of all: every thread
 *     started later inherits the mask, so they reach sigwait() here and
 *     nowhere else, whatever their number or order;
 *  2. configuration, logs;
 *  3. state_dir created and locked (one process per state_dir), warnings
 *     about what others may write;
 *  4. without -f, detach (fork) while no thread exists yet: fork() keeps
 *     only the calling thread; the child writes its PID into the lock;
 *  5. what starts threads: upstream credentials (refresher), upstream
 *     client, invalidation worker (journal replay: nothing pending is
 *     forgotten before the first request), client listener, admin
 *     listener;
 *  6. ready: the parent of a detached daemon exits 0; systemd hears
 *     READY=1 (Type=notify) and, with WatchdogSec=, the pings start.
 * Shutdown, in reverse: systemd hears STOPPING=1; stop accepting, let
 * requests in flight finish
 * (within server.shutdown_grace), flush if asked, close the client
 * listener, admin, worker (pending work stays in the journal), upstream
 * client, logs; the state_dir lock goes with the process.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "admin.h"
#include "buf.h"
#include "cfg.h"
#include "cmd.h"
#include "credentials.h"
#include "detach.h"
#include "http_front.h"
#include "inval_worker.h"
#include "log.h"
#include "perm.h"
#include "sdnotify.h"
#include "state_dir.h"
#include "upstream.h"
#include "util.h"

extern char **environ;

/*
 * SIGHUPs close together are answered by one reload: it waits until none
 * came for HUP_QUIET_MS, at most HUP_MAX_MS after the first, so a storm of
 * them reads the file a few times a second at most, not once each.
 */
#define HUP_QUIET_MS	100
#define HUP_MAX_MS	1000

static void
usage(FILE *f)
{
	fprintf(f,
"usage: s3inval [-c FILE] [-f]              run the daemon\n"
"       s3inval check-config [-c FILE] [--online]\n"
"                                           validate; print the effective "
"configuration;\n"
"                                           --online: check state_dir, "
"addresses,\n"
"                                           credentials, buckets, clock, "
"distributions\n"
"       s3inval flush [-c FILE] [--wait[=SECONDS]] [--admin URL]\n"
"                                           submit pending invalidations "
"now\n"
"       s3inval plan [-c FILE] [--bucket NAME] [--json]\n"
"                                           dry run: keys on stdin -> "
"paths\n"
"       s3inval healthcheck [-c FILE] [--admin URL]\n"
"                                           exit 0 when /healthz answers "
"200\n"
"       s3inval --version | --help\n"
"\n"
"  -c FILE   configuration file (default %s; without it, only\n"
"            defaults and S3INVAL_* environment variables)\n"
"  -f        stay in the foreground and log to stderr\n"
"  flush and healthcheck find admin_listen and admin_token in FILE and\n"
"  say why they fail; s3inval flush --help lists the exit statuses.\n"
"\n"
"Every key of [server] [upstream] [auth] [cloudfront] [log] can be set as\n"
"S3INVAL_<SECTION>_<KEY>. Upstream credentials come from the AWS chain:\n"
"environment, shared files (AWS_PROFILE), web identity, container\n"
"credentials, EC2 IMDSv2. See s3inval(8) and s3inval.conf(5).\n",
	    CFG_DEFAULT_PATH);
}

/* What SIGHUP works on. */
struct reload_state {
	const char		*file;		/* -c FILE, or NULL */
	struct http_front	*front;
	const struct cfg	*current;	/* what the front uses */
	struct cfg		**kept;		/* loaded since */
	size_t			 n_kept;
};

/*
 * A failed start: to the log and, when the log is a file, to standard
 * error too, where whoever started us looks (a second instance on a
 * state_dir in use says so on the terminal).
 */
static void
startup_error(const struct cfg *cfg, const char *msg)
{
	log_error("%s", msg);
	if (cfg->log.file[0] != '\0')
		fprintf(stderr, "s3inval: %s\n", msg);
}

static void
log_warn_cb(void *arg, const char *msg)
{
	(void)arg;
	log_warn("%s", msg);
}

/* Each line of text as an error line of the log. */
static void
log_lines(const char *text)
{
	const char	*p, *nl;

	for (p = text; p != NULL && *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL) {
			log_error("%s", p);
			break;
		}
		log_error("%.*s", (int)(nl - p), p);
	}
}

/*
 * SIGHUP: read the configuration again and take its [client] sections and
 * [auth] settings for new requests: keys can be rotated without a restart.
 * Everything else needs one; a bad file changes nothing, and a file with
 * the same bytes keeps the configuration in use.  Configurations stay
 * allocated until exit (http_front.h: requests in flight may point into
 * them), so only a changed file adds one.
 */
static void
reload(struct reload_state *rs, unsigned signals)
{
	struct cfg	*nc = NULL, **v;
	const char	*path = cfg_path(rs->file);
	char		*msgs = NULL, why[PATH_MAX + 200];
	size_t		 len;
	FILE		*fp;
	int		 errs;

	/* Messages go to the log: stderr may be /dev/null by now. */
	fp = open_memstream(&msgs, &len);
	errs = cfg_load(path, environ, fp != NULL ? fp : stderr, &nc);
	if (fp != NULL)
		fclose(fp);
	log_lines(msgs);
	free(msgs);
	if (errs > 0) {
		log_error("SIGHUP: %d error%s in %s: client keys unchanged",
		    errs, errs == 1 ? "" : "s", path != NULL ? path : "(env)");
		return;
	}
	if (nc->path != NULL && perm_others_may_write("configuration file",
	    nc->path, 0, why, sizeof(why)))
		log_warn("%s", why);
	if (cfg_same_file(rs->current, nc)) {
		cfg_free(nc);
		log_info("SIGHUP (%u signal%s): log reopened; configuration "
		    "unchanged", signals, signals == 1 ? "" : "s");
		return;
	}
	v = realloc(rs->kept, (rs->n_kept + 1) * sizeof(*v));
	if (v == NULL) {
		cfg_free(nc);
		log_error("SIGHUP: out of memory: client keys unchanged");
		return;
	}
	rs->kept = v;
	v[rs->n_kept++] = nc;
	rs->current = nc;
	http_front_set_auth_cfg(rs->front, nc);
	log_info("SIGHUP (%u signal%s): log reopened; %zu client key%s "
	    "loaded (other settings take a restart)", signals,
	    signals == 1 ? "" : "s", nc->n_clients,
	    nc->n_clients == 1 ? "" : "s");
}

/*
 * The next of the signals in set, taken by sigwait().  After a SIGHUP,
 * more SIGHUPs are gathered (see HUP_QUIET_MS), counted in *hups; a
 * SIGTERM or SIGINT meanwhile is returned at once.
 */
static int
next_signal(const sigset_t *set, unsigned *hups)
{
	struct timespec	 ts;
	int64_t		 t0, left;
	int		 sig;

	*hups = 0;
	while (sigwait(set, &sig) != 0)
		continue;
	if (sig != SIGHUP)
		return sig;
	*hups = 1;
	t0 = util_mono_ms();
	for (;;) {
		left = HUP_MAX_MS - (util_mono_ms() - t0);
		if (left <= 0)
			return SIGHUP;
		if (left > HUP_QUIET_MS)
			left = HUP_QUIET_MS;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		sig = sigtimedwait(set, NULL, &ts);
		if (sig == -1 && errno == EINTR)
			continue;
		if (sig == -1)
			return SIGHUP;	/* quiet for HUP_QUIET_MS */
		if (sig != SIGHUP)
			return sig;
		(*hups)++;
	}
}

/*
 * SIGTERM: stop accepting; let requests in flight finish within
 * server.shutdown_grace (their journal records are synced as they go);
 * with cloudfront.flush_on_shutdown, submit what is pending in what time is
 * left.  Whatever is not Completed stays in the journal for the next start.
 */
static void
graceful_stop(const struct cfg *cfg, struct http_front *front)
{
	struct inval_flush_result fr;
	int64_t		 t0 = util_mono_ms(), left;
	unsigned	 active;

	http_front_quiesce(front);
	while ((active = http_front_active(front)) > 0 &&
	    util_mono_ms() - t0 < cfg->server.shutdown_grace_ms)
		usleep(20000);
	if (active > 0)
		log_warn("stopping with %u request%s still in progress after "
		    "%lld ms", active, active == 1 ? "" : "s",
		    (long long)cfg->server.shutdown_grace_ms);
	left = cfg->server.shutdown_grace_ms - (util_mono_ms() - t0);
	if (cfg->cloudfront.flush_on_shutdown && left > 0) {
		inval_flush_final(left, &fr);
		log_info("flush on shutdown: %s (%llu paths pending, %llu "
		    "batches open)", fr.done ? "all Completed" :
		    "not all Completed; kept in the journal",
		    (unsigned long long)fr.pending_paths,
		    (unsigned long long)fr.batches_open);
	}
}

/*
 * Every client connection, every upstream one and the journal's files are
 * descriptors: take what the hard limit allows (the soft default, 1024,
 * is below the default server.max_connections), and say so when even
 * that is short.
 */
static void
raise_fd_limit(const struct cfg *cfg)
{
	struct rlimit	 rl;
	rlim_t		 want = (rlim_t)cfg->server.max_connections * 2 + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		log_warn("the open-file limit (%llu) is below what "
		    "server.max_connections = %u may need (%llu): raise it "
		    "(ulimit -n, LimitNOFILE=)", (unsigned long long)rl.rlim_cur,
		    cfg->server.max_connections, (unsigned long long)want);
}

static int
run_daemon(int argc, char **argv)
{
	struct reload_state	 rs;
	struct cfg		*cfg = NULL;
	struct http_front	*front = NULL;
	struct admin		*admin = NULL;
	const char		*file = NULL;
	sigset_t		 set;
	char			 err[PATH_MAX + 512];
	unsigned		 hups;
	int			 ch, sig, fg = 0, rc = 1, lockfd = -1;
	int			 started = 0;

	/* First of all: no thread, now or later, may take these. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A journal over a file size limit must fail its write (EFBIG) and
	 * answer 503, not kill the daemon. */
	signal(SIGXFSZ, SIG_IGN);
	memset(&rs, 0, sizeof(rs));

	optind = 1;
	while ((ch = cmd_getopt(argc, argv, "c:f", NULL, &file)) != -1) {
		switch (ch) {
		case 'f':
			fg = 1;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (cmd_load_cfg(file, &cfg) == -1)
		return 2;
	if (log_init(cfg->log.format == CFG_LOG_JSON,
	    (enum log_level)cfg->log.level, cfg->log.file) == -1) {
		fprintf(stderr, "s3inval: log.file %s: %s\n", cfg->log.file,
		    strerror(errno));
		goto out;
	}
	lockfd = state_dir_lock(cfg->server.state_dir, err, sizeof(err));
	if (lockfd == -1) {
		startup_error(cfg, err);
		goto out;
	}
	perm_check(cfg, log_warn_cb, NULL);
	raise_fd_limit(cfg);
	if (!fg) {
		if (detach_start() == -1) {
			snprintf(err, sizeof(err), "cannot detach: %s",
			    strerror(errno));
			startup_error(cfg, err);
			goto out;
		}
		/* The child's PID is the one a second instance must name. */
		if (state_dir_set_pid(lockfd) == -1)
			log_warn("cannot write %s/%s: %s",
			    cfg->server.state_dir, STATE_DIR_LOCK_FILE,
			    strerror(errno));
	}

	if (credentials_init(environ, err, sizeof(err)) == -1) {
		startup_error(cfg, err);
		goto out;
	}
	if (cfg->auth.mode == CFG_AUTH_NONE)
		log_warn("auth.mode = none: every request is accepted "
		    "unauthenticated; use this on a trusted network only");
	if (upstream_init(cfg) == -1) {
		log_error("cannot set up the upstream client");
		goto out;
	}
	if (inval_start(cfg, err, sizeof(err)) == -1) {
		startup_error(cfg, err);
		goto out;
	}
	front = http_front_start(cfg);
	if (front == NULL)
		goto out;
	admin = admin_start(cfg);
	if (admin == NULL)
		goto out;
	log_info("s3inval %s listening on %s%s, upstream %s (%s addressing), "
	    "auth %s, pid %ld", PACKAGE_VERSION,
	    cfg->server.tls_cert[0] != '\0' ? "https://" : "http://",
	    cfg->server.listen,
	    cfg->upstream.endpoint,
	    cfg->upstream.addressing == CFG_ADDR_PATH ? "path" : "virtual",
	    cfg->auth.mode == CFG_AUTH_NONE ? "none" : "sigv4",
	    (long)getpid());
	detach_ready(cfg->log.file[0] == '\0');
	snprintf(err, sizeof(err), "listening on %s, admin on %s",
	    cfg->server.listen, cfg->server.admin_listen);
	sdnotify_ready(err);
	if (sdnotify_watchdog_start(cfg) == -1)
		goto out;
	started = 1;

	rs.file = file;
	rs.front = front;
	rs.current = cfg;
	for (;;) {
		sig = next_signal(&set, &hups);
		if (sig != SIGHUP)
			break;
		if (log_reopen() == -1)
			log_error("cannot reopen log.file %s: %s",
			    cfg->log.file, strerror(errno));
		reload(&rs, hups);
	}
	log_info("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	/* A flush?wait in progress answers now, with what is still open,
	 * while the admin listener is up to send it. */
	inval_quiesce();
	sdnotify_stopping();
	graceful_stop(cfg, front);
	rc = 0;
out:
	/* The pings need the admin listener: they stop first. */
	sdnotify_watchdog_stop();
	http_front_stop(front);
	admin_stop(admin);
	inval_stop();
	upstream_fini();
	credentials_fini();
	if (started)
		log_info("stopped");
	log_fini();
	if (lockfd != -1)
		close(lockfd);
	while (rs.n_kept > 0)
		cfg_free(rs.kept[--rs.n_kept]);
	free(rs.kept);
	cfg_free(cfg);
	return rc;
}

/* libxml2 reports parse errors on stderr by default, around the log
 * module (and through JSON logs); every caller checks results instead. */
static void
xml_silent(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

static void
xml_silent_structured(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

int
main(int argc, char **argv)
{
	xmlInitParser();
	/* For this thread, and as the default of every thread started
	 * later (libxml2 keeps these per thread). */
	xmlSetGenericErrorFunc(NULL, xml_silent);
	xmlSetStructuredErrorFunc(NULL, xml_silent_structured);
	xmlThrDefSetGenericErrorFunc(NULL, xml_silent);
	xmlThrDefSetStructuredErrorFunc(NULL, xml_silent_structured);
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("s3inval %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "check-config") == 0)
		return cmd_check_config(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "flush") == 0)
		return cmd_flush(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "plan") == 0)
		return cmd_plan(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "healthcheck") == 0)
		return cmd_healthcheck(argc - 1, argv + 1);
	return run_daemon(argc, argv);
}
