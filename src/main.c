/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main: arguments, signals, start-up and shutdown order.  Nothing else.
 *
 * Start-up: configuration, logs, state directory, upstream credentials,
 * upstream client, client listener.  Shutdown, in reverse: stop accepting,
 * close the listener (in-flight requests end), upstream client, logs.
 * Signals are blocked in every thread and taken by sigwait() here.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "credentials.h"
#include "http_front.h"
#include "log.h"
#include "upstream.h"

extern char **environ;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: s3inval [-c FILE] [-f]              run the daemon\n"
"       s3inval check-config [-c FILE]      validate; print the effective "
"configuration\n"
"       s3inval flush [--wait[=SECONDS]] [--admin URL]\n"
"                                           submit pending invalidations "
"now\n"
"       s3inval plan [-c FILE] [--bucket NAME]\n"
"                                           dry run: keys on stdin -> "
"paths\n"
"       s3inval --version | --help\n"
"\n"
"  -c FILE   configuration file (default %s; without it, only\n"
"            defaults and S3INVAL_* environment variables)\n"
"  -f        stay in the foreground and log to stderr\n"
"\n"
"Every key of [server] [upstream] [auth] [cloudfront] [log] can be set as\n"
"S3INVAL_<SECTION>_<KEY>. Upstream credentials come from the AWS chain:\n"
"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_PROFILE in the shared\n"
"credentials file. See s3inval(8) and s3inval.conf(5).\n", CFG_DEFAULT_PATH);
}

/* -c FILE, or the default file when it exists, or none. */
static const char *
config_path(const char *opt)
{
	if (opt != NULL)
		return opt;
	if (access(CFG_DEFAULT_PATH, R_OK) == 0)
		return CFG_DEFAULT_PATH;
	return NULL;
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

static int
cmd_check_config(int argc, char **argv)
{
	struct cfg	*cfg = NULL;
	const char	*file = NULL;
	int		 ch, n;

	optind = 1;
	while ((ch = getopt(argc, argv, "c:")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	n = cfg_load(config_path(file), environ, stderr, &cfg);
	if (n > 0) {
		fprintf(stderr, "s3inval: %d error%s in the configuration\n",
		    n, n == 1 ? "" : "s");
		return 2;
	}
	cfg_print(cfg, stdout);
	cfg_free(cfg);
	return 0;
}

static int
run_daemon(int argc, char **argv)
{
	struct cfg		*cfg = NULL;
	struct http_front	*front = NULL;
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
	n = cfg_load(config_path(file), environ, stderr, &cfg);
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

	/* Block the signals we wait for before any thread starts, so every
	 * thread inherits the mask and only sigwait() sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!fg && daemon(0, cfg->log.file[0] == '\0') == -1) {
		log_error("daemon: %s", strerror(errno));
		goto out;
	}
	front = http_front_start(cfg);
	if (front == NULL)
		goto out;
	log_info("s3inval %s listening on %s, upstream %s (%s addressing), "
	    "auth %s", PACKAGE_VERSION, cfg->server.listen,
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
			else
				log_info("SIGHUP: log reopened");
			continue;
		}
		log_info("signal %d: stopping", sig);
		break;
	}
	http_front_quiesce(front);
	rc = 0;
out:
	http_front_stop(front);
	upstream_fini();
	credentials_fini();
	log_fini();
	cfg_free(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
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
	if (argc > 1 && (strcmp(argv[1], "flush") == 0 ||
	    strcmp(argv[1], "plan") == 0)) {
		fprintf(stderr, "s3inval: %s: the invalidation pipeline is not "
		    "in this build yet\n", argv[1]);
		return 2;
	}
	return run_daemon(argc, argv);
}
