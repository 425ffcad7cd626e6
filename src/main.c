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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "admin.h"
#include "buf.h"
#include "cfg.h"
#include "credentials.h"
#include "http_front.h"
#include "inval_map.h"
#include "inval_plan.h"
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
"       s3inval flush [--wait[=SECONDS]] [--admin URL]\n"
"                                           submit pending invalidations "
"now\n"
"       s3inval plan [-c FILE] [--bucket NAME]\n"
"                                           dry run: keys on stdin -> "
"paths\n"
"       s3inval healthcheck [--admin URL]   exit 0 when /healthz answers "
"200\n"
"       s3inval --version | --help\n"
"\n"
"  -c FILE   configuration file (default %s; without it, only\n"
"            defaults and S3INVAL_* environment variables)\n"
"  -f        stay in the foreground and log to stderr\n"
"\n"
"Every key of [server] [upstream] [auth] [cloudfront] [log] can be set as\n"
"S3INVAL_<SECTION>_<KEY>. Upstream credentials come from the AWS chain:\n"
"environment, shared files (AWS_PROFILE), web identity, container\n"
"credentials, EC2 IMDSv2. See s3inval(8) and s3inval.conf(5).\n",
	    CFG_DEFAULT_PATH);
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

static size_t
collect(char *p, size_t size, size_t n, void *ud)
{
	return buf_append(ud, p, size * n) == 0 ? size * n : 0;
}

/* s3inval flush [--wait[=SECONDS]] [--admin URL]: POST /flush. */
static int
cmd_flush(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wait", optional_argument, NULL, 'w' },
		{ "admin", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct buf	 url, body;
	const char	*admin = NULL, *env;
	char		*end;
	long		 wait_s = -1, status = 0;
	int		 ch, rc = 1;
	CURL		*e;
	CURLcode	 cc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			wait_s = 300;
			if (optarg != NULL) {
				wait_s = strtol(optarg, &end, 10);
				if (*optarg == '\0' || *end != '\0' ||
				    wait_s < 0 || wait_s > 3600) {
					fprintf(stderr, "s3inval flush: --wait "
					    "takes 0 to 3600 seconds\n");
					return 2;
				}
			}
			break;
		case 'a':
			admin = optarg;
			break;
		default:
			fprintf(stderr, "usage: s3inval flush [--wait[=SECONDS]]"
			    " [--admin URL]\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	buf_init(&url);
	buf_init(&body);
	env = getenv("S3INVAL_SERVER_ADMIN_LISTEN");
	if (admin != NULL)
		buf_puts(&url, admin);
	else
		buf_printf(&url, "http://%s", env != NULL && *env != '\0' ?
		    env : "127.0.0.1:9090");
	while (url.len > 0 && url.data[url.len - 1] == '/')
		url.data[--url.len] = '\0';
	if (strstr(buf_str(&url), "://") == NULL) {
		struct buf	 t;

		buf_init(&t);
		buf_printf(&t, "http://%s", buf_str(&url));
		buf_fini(&url);
		url = t;
	}
	buf_puts(&url, "/flush");
	if (wait_s >= 0)
		buf_printf(&url, "?wait=%ld", wait_s);
	e = curl_easy_init();
	if (e == NULL || !buf_ok(&url))
		goto out;
	curl_easy_setopt(e, CURLOPT_URL, buf_str(&url));
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TIMEOUT, wait_s > 0 ? wait_s + 30 : 30L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
	cc = curl_easy_perform(e);
	if (cc != CURLE_OK) {
		fprintf(stderr, "s3inval flush: %s: %s\n", buf_str(&url),
		    curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	fputs(buf_str(&body), stdout);
	if (status != 200) {
		fprintf(stderr, "s3inval flush: HTTP %ld\n", status);
		goto out;
	}
	/* With --wait, success means everything is Completed. */
	rc = (wait_s > 0 && strstr(buf_str(&body), "\"done\":true") == NULL) ?
	    1 : 0;
	if (rc == 1)
		fprintf(stderr, "s3inval flush: not all Completed within %lds\n",
		    wait_s);
out:
	curl_easy_cleanup(e);
	buf_fini(&url);
	buf_fini(&body);
	return rc;
}

/* s3inval plan [-c FILE] [--bucket NAME]: the worker's mapping and
 * planning on keys from stdin, a dry run. */
static int
cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bucket", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cfg		*cfg = NULL;
	const struct cfg_bucket	*bk = NULL;
	struct inval_map_cfg	 mc;
	struct inval_plan_params pp;
	struct inval_plan_result res;
	struct strvec		 keys, paths, known;
	struct etag_index	*idx = NULL;
	const char		*file = NULL, *name = NULL;
	char			*line = NULL;
	size_t			 cap = 0, i, k, nd;
	ssize_t			 n;
	int			 ch, rc = 2;

	strvec_init(&keys);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'b':
			name = optarg;
			break;
		default:
			fprintf(stderr, "usage: s3inval plan [-c FILE] "
			    "[--bucket NAME] < keys\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	if (cfg_load(config_path(file), environ, stderr, &cfg) > 0)
		return 2;
	if (name != NULL)
		bk = cfg_bucket_find(cfg, name);
	else
		for (i = 0; i < cfg->n_buckets; i++)
			if (strcmp(cfg->buckets[i].name, "*") != 0) {
				if (bk != NULL) {
					fprintf(stderr, "s3inval plan: several "
					    "buckets: name one with --bucket\n");
					goto out;
				}
				bk = &cfg->buckets[i];
			}
	if (bk == NULL) {
		fprintf(stderr, "s3inval plan: no such bucket in the "
		    "configuration\n");
		goto out;
	}
	while ((n = getline(&line, &cap, stdin)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n > 0 && strvec_push(&keys, line) == -1)
			goto out;
	}
	memset(&mc, 0, sizeof(mc));
	mc.origin_path = bk->origin_path != NULL ? bk->origin_path : "";
	mc.index_documents = (const char *const *)bk->index_documents;
	mc.n_index_documents = bk->n_index_documents;
	mc.index_without_slash = bk->index_without_slash;
	memset(&pp, 0, sizeof(pp));
	pp.wildcard_threshold = cfg->cloudfront.wildcard_threshold;
	pp.max_wildcards = 15;
	/* The index the daemon saved, if any: what wildcards would evict. */
	idx = etag_index_open(cfg->server.state_dir, 0);
	nd = bk->n_distributions > 0 ? bk->n_distributions : 1;
	for (i = 0; i < nd; i++) {
		strvec_init(&paths);
		strvec_init(&known);
		for (k = 0; k < keys.n; k++)
			if (inval_map_key(&mc, keys.v[k], &paths, NULL) == -1)
				goto out;
		strvec_sort_unique(&paths);
		if (bk->n_distributions > 0)
			inval_known_paths(cfg, idx, bk->distributions[i],
			    &known);
		pp.known = known.n > 0 ? (const char *const *)known.v : NULL;
		pp.n_known = known.n;
		pp.eviction_weight = cfg->cloudfront.eviction_weight;
		if (inval_plan(&pp, (const char *const *)paths.v, paths.n,
		    &res) == -1) {
			strvec_fini(&paths);
			strvec_fini(&known);
			goto out;
		}
		printf("# distribution %s: %zu keys, %zu paths -> %zu to "
		    "submit (%zu exact, %zu wildcard)",
		    bk->n_distributions > 0 ? bk->distributions[i] :
		    "(none configured)", keys.n, paths.n, res.paths.n,
		    res.n_exact, res.n_wildcards);
		if (known.n > 0)
			printf(", %zu unchanged objects evicted of %zu known",
			    res.n_evicted, known.n);
		else
			printf(", no index: threshold rule");
		printf("; $%.3f beyond the free tier\n",
		    (double)res.paths.n * 0.005);
		for (k = 0; k < res.paths.n; k++)
			printf("%s\n", res.paths.v[k]);
		inval_plan_fini(&res);
		strvec_fini(&paths);
		strvec_fini(&known);
	}
	rc = 0;
out:
	etag_index_close(idx);
	free(line);
	strvec_fini(&keys);
	cfg_free(cfg);
	return rc;
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
	const char	*path = config_path(file);
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

/* s3inval healthcheck [--admin URL]: GET /healthz, for container
 * HEALTHCHECKs (no curl or wget in the image). */
static int
cmd_healthcheck(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "admin", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	struct buf	 url;
	const char	*admin = NULL, *env;
	long		 status = 0;
	int		 ch, rc = 1;
	CURL		*e;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'a') {
			fprintf(stderr, "usage: s3inval healthcheck "
			    "[--admin URL]\n");
			return 2;
		}
		admin = optarg;
	}
	buf_init(&url);
	env = getenv("S3INVAL_SERVER_ADMIN_LISTEN");
	if (admin != NULL)
		buf_puts(&url, admin);
	else
		buf_printf(&url, "http://%s", env != NULL && *env != '\0' ?
		    env : "127.0.0.1:9090");
	if (strstr(buf_str(&url), "://") == NULL) {
		struct buf	 t;

		buf_init(&t);
		buf_printf(&t, "http://%s", buf_str(&url));
		buf_fini(&url);
		url = t;
	}
	buf_puts(&url, "/healthz");
	e = curl_easy_init();
	if (e != NULL && buf_ok(&url)) {
		curl_easy_setopt(e, CURLOPT_URL, buf_str(&url));
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_TIMEOUT, 5L);
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		if (curl_easy_perform(e) == CURLE_OK &&
		    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) ==
		    CURLE_OK && status == 200)
			rc = 0;
	}
	if (rc != 0)
		fprintf(stderr, "s3inval healthcheck: %s: not healthy\n",
		    buf_str(&url));
	curl_easy_cleanup(e);
	buf_fini(&url);
	return rc;
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
