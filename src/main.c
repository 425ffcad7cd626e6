/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main: arguments, signals, start-up and shutdown order.  Nothing else.
 *
 * Start-up: configuration, logs, state directory, upstream credentials,
 * upstream client, invalidation worker (journal replay: nothing pending is
 * forgotten before the first request), client listener, admin listener.
 * Shutdown, in reverse: stop accepting, close the client listener
 * (in-flight requests end), admin, worker (pending work stays in the
 * journal), upstream client, logs.
 * Signals are blocked in every thread and taken by sigwait() here.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "admin.h"
#include "buf.h"
#include "cfg.h"
#include "cmd.h"
#include "credentials.h"
#include "http_front.h"
#include "inval_worker.h"
#include "log.h"
#include "upstream.h"
#include "util.h"

extern char **environ;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: s3inval [-c FILE] [-f]              run the daemon\n"
"       s3inval check-config [-c FILE]      validate; print the effective "
"configuration\n"
"       s3inval flush [-c FILE] [--wait[=SECONDS]] [--admin URL]\n"
"                                           submit pending invalidations "
"now\n"
"       s3inval plan [-c FILE] [--bucket NAME]\n"
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

static int
mkdir_p(const char *path)
{
	char	 tmp[4096];
	char	*p;

	if (strlen(path) >= sizeof(tmp))
		return -1;
	strcpy(tmp, path);
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0750) == -1 && errno != EEXIST)
		return -1;
	return 0;
}


/*
 * SIGHUP: read the configuration again and take its [client] sections and
 * [auth] settings for new requests: keys can be rotated without a restart.
 * Everything else needs one; a bad file changes nothing.  Configurations
 * stay allocated until exit, since requests in flight may point into them.
 */
static void
reload(const char *file, struct http_front *front, struct cfg ***olds,
    size_t *n)
{
	struct cfg	*nc = NULL, **v;
	const char	*path = cfg_path(file);
	int		 errs;

	errs = cfg_load(path, environ, stderr, &nc);
	if (errs > 0) {
		log_error("SIGHUP: %d error%s in %s: client keys unchanged",
		    errs, errs == 1 ? "" : "s", path != NULL ? path : "(env)");
		return;
	}
	v = realloc(*olds, (*n + 1) * sizeof(*v));
	if (v == NULL) {
		cfg_free(nc);
		return;
	}
	*olds = v;
	v[(*n)++] = nc;
	http_front_set_auth_cfg(front, nc);
	log_info("SIGHUP: log reopened; %zu client key%s loaded (other "
	    "settings take a restart)", nc->n_clients,
	    nc->n_clients == 1 ? "" : "s");
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
		inval_flush(left, &fr);
		log_info("flush on shutdown: %s (%llu paths pending, %llu "
		    "batches open)", fr.done ? "all Completed" :
		    "not all Completed; kept in the journal",
		    (unsigned long long)fr.pending_paths,
		    (unsigned long long)fr.batches_open);
	}
}


static int
run_daemon(int argc, char **argv)
{
	struct cfg		*cfg = NULL;
	struct http_front	*front = NULL;
	struct admin		*admin = NULL;
	struct cfg		**old_cfgs = NULL;
	size_t			 n_old = 0;
	const char		*file = NULL;
	sigset_t		 set;
	char			 err[512];
	int			 ch, n, sig, fg = 0, rc = 1;

	optind = 1;
	while ((ch = getopt(argc, argv, "c:f")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	n = cfg_load(cfg_path(file), environ, stderr, &cfg);
	if (n > 0) {
		fprintf(stderr, "s3inval: %d error%s in the configuration\n",
		    n, n == 1 ? "" : "s");
		return 2;
	}
	if (log_init(cfg->log.format == CFG_LOG_JSON,
	    (enum log_level)cfg->log.level, cfg->log.file) == -1) {
		fprintf(stderr, "s3inval: log.file %s: %s\n", cfg->log.file,
		    strerror(errno));
		goto out;
	}
	if (mkdir_p(cfg->server.state_dir) == -1) {
		log_error("server.state_dir %s: %s", cfg->server.state_dir,
		    strerror(errno));
		goto out;
	}
	if (credentials_init(environ, err, sizeof(err)) == -1) {
		log_error("%s", err);
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
		log_error("invalidation: %s", err);
		goto out;
	}

	/* Block the signals we wait for before any thread starts, so every
	 * thread inherits the mask and only sigwait() sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A journal over a file size limit must fail its write (EFBIG) and
	 * answer 503, not kill the daemon. */
	signal(SIGXFSZ, SIG_IGN);

	if (!fg && daemon(0, cfg->log.file[0] == '\0') == -1) {
		log_error("daemon: %s", strerror(errno));
		goto out;
	}
	front = http_front_start(cfg);
	if (front == NULL)
		goto out;
	admin = admin_start(cfg);
	if (admin == NULL)
		goto out;
	log_info("s3inval %s listening on %s%s, upstream %s (%s addressing), "
	    "auth %s", PACKAGE_VERSION,
	    cfg->server.tls_cert[0] != '\0' ? "https://" : "http://",
	    cfg->server.listen,
	    cfg->upstream.endpoint,
	    cfg->upstream.addressing == CFG_ADDR_PATH ? "path" : "virtual",
	    cfg->auth.mode == CFG_AUTH_NONE ? "none" : "sigv4");

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			if (log_reopen() == -1)
				log_error("cannot reopen log.file %s: %s",
				    cfg->log.file, strerror(errno));
			reload(file, front, &old_cfgs, &n_old);
			continue;
		}
		log_info("signal %d: stopping", sig);
		break;
	}
	graceful_stop(cfg, front);
	rc = 0;
out:
	http_front_stop(front);
	admin_stop(admin);
	inval_stop();
	upstream_fini();
	credentials_fini();
	log_info("stopped");
	log_fini();
	while (n_old > 0)
		cfg_free(old_cfgs[--n_old]);
	free(old_cfgs);
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
