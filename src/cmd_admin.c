/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_admin: the subcommands that talk to a running daemon's admin
 * listener: s3inval flush and s3inval healthcheck (DESIGN §9).
 *
 * Both find the listener as the daemon does (issue 11, item 3): -c FILE
 * (or the default file when readable) and the S3INVAL_* environment,
 * through cfg_load(), give server.admin_listen and the token
 * (server.admin_token or admin_token_file); --admin URL overrides the
 * address.  Without -c, a configuration that does not load (the default
 * file broken, or no [client] for sigv4 in the environment alone) is no
 * reason to fail: the three S3INVAL_SERVER_ADMIN_* variables are read
 * directly, and a failure says the configuration did not load.
 *
 * What went wrong is said on stderr, naming the URL and where it came
 * from; the exit status tells scripts which kind of failure it was (see
 * flush_usage()).  The token is wiped once the request is made.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "admin_auth.h"
#include "buf.h"
#include "cfg.h"
#include "cmd.h"
#include "util.h"

#define DEFAULT_ADMIN	"127.0.0.1:9090"
#define ENV_LISTEN	"S3INVAL_SERVER_ADMIN_LISTEN"
#define ENV_TOKEN	"S3INVAL_SERVER_ADMIN_TOKEN"
#define ENV_TOKEN_FILE	"S3INVAL_SERVER_ADMIN_TOKEN_FILE"

/* Exit statuses of flush (healthcheck: 0, 1, and 2 for usage only, since
 * container runtimes reserve 2). */
enum {
	EX_DONE = 0,		/* accepted; with --wait, all Completed */
	EX_NOT_DONE = 1,	/* time ran out, or a distribution fails */
	EX_USAGE = 2,		/* bad options or configuration */
	EX_UNREACHABLE = 3,	/* no answer from the admin listener */
	EX_REFUSED = 4		/* it answered with an error status */
};

extern char **environ;

/* Where the admin listener is, how to ask it, and how we know. */
struct target {
	struct buf	 url;		/* scheme://host:port, no slash */
	char		 from[700];	/* where the address came from */
	char		*token;		/* NULL: none; wiped when freed */
	char		 token_from[600];
	char		 note[700];	/* a configuration that did not load */
};

static const char *
env_nonempty(const char *name)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* http://host:port for admin_listen; a wildcard is asked on loopback. */
static void
url_of_listen(struct buf *url, const char *listen)
{
	char		 host[256];
	unsigned	 port;

	if (util_split_hostport(listen, host, sizeof(host), &port) == -1) {
		buf_printf(url, "http://%s", listen);
		return;
	}
	if (strcmp(host, "0.0.0.0") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (strcmp(host, "::") == 0)
		snprintf(host, sizeof(host), "::1");
	buf_printf(url, strchr(host, ':') != NULL ? "http://[%s]:%u" :
	    "http://%s:%u", host, port);
}

/* The configuration's errors, indented under a first line, to stderr. */
static void
print_errors(const char *cmd, const char *path, int n, const char *errs)
{
	fprintf(stderr, "s3inval %s: %d error%s in %s:\n%s", cmd, n,
	    n == 1 ? "" : "s", path != NULL ? path : "the environment",
	    errs);
}

static int
target_init(struct target *t, const char *cmd, const char *file,
    const char *admin)
{
	struct cfg	*cfg = NULL;
	const char	*path, *listen, *tok, *tfile;
	char		*errs = NULL;
	char		 err[600];
	size_t		 errlen = 0;
	FILE		*fp;
	int		 n, rc = -1;

	memset(t, 0, sizeof(*t));
	buf_init(&t->url);
	path = cfg_path(file);
	fp = open_memstream(&errs, &errlen);
	if (fp == NULL) {
		fprintf(stderr, "s3inval %s: out of memory\n", cmd);
		return -1;
	}
	n = cfg_load(path, environ, fp, &cfg);
	fclose(fp);
	if (n > 0 && file != NULL) {
		print_errors(cmd, path, n, errs);
		goto out;
	}
	/* The environment alone fails for want of a [client]: no news. */
	if (n > 0 && path != NULL)
		snprintf(t->note, sizeof(t->note), "%s did not load (%d "
		    "error%s: s3inval check-config says which); only the "
		    "S3INVAL_SERVER_ADMIN_* variables were read", path, n,
		    n == 1 ? "" : "s");
	else if (path == NULL && access(CFG_DEFAULT_PATH, F_OK) == 0)
		snprintf(t->note, sizeof(t->note), "%s exists but this user "
		    "cannot read it", CFG_DEFAULT_PATH);

	if (cfg != NULL) {
		listen = cfg->server.admin_listen;
		tok = cfg->server.admin_token;
		tfile = cfg->server.admin_token_file;
	} else {
		listen = env_nonempty(ENV_LISTEN);
		if (listen == NULL)
			listen = DEFAULT_ADMIN;
		tok = getenv(ENV_TOKEN);
		tfile = getenv(ENV_TOKEN_FILE);
	}

	if (admin != NULL) {
		buf_puts(&t->url, strstr(admin, "://") == NULL ? "http://" :
		    "");
		buf_puts(&t->url, admin);
		while (t->url.len > 0 && t->url.data[t->url.len - 1] == '/')
			t->url.data[--t->url.len] = '\0';
		snprintf(t->from, sizeof(t->from), "from --admin");
	} else {
		url_of_listen(&t->url, listen);
		if (env_nonempty(ENV_LISTEN) != NULL)
			snprintf(t->from, sizeof(t->from), "admin_listen from "
			    "%s", ENV_LISTEN);
		else if (cfg != NULL && path != NULL &&
		    strcmp(listen, DEFAULT_ADMIN) != 0)
			snprintf(t->from, sizeof(t->from), "admin_listen from "
			    "%s", path);
		else if (cfg != NULL && path != NULL)
			snprintf(t->from, sizeof(t->from), "admin_listen's "
			    "default; %s does not change it", path);
		else
			snprintf(t->from, sizeof(t->from), "admin_listen's "
			    "default; no configuration file: give -c FILE");
	}
	if (!buf_ok(&t->url)) {
		fprintf(stderr, "s3inval %s: out of memory\n", cmd);
		goto out;
	}

	if (admin_auth_token_get(tok, tfile, &t->token, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "s3inval %s: %s\n", cmd, err);
		goto out;
	}
	if (tfile != NULL && *tfile != '\0')
		snprintf(t->token_from, sizeof(t->token_from), "the token in "
		    "%s (admin_token_file%s)", tfile,
		    env_nonempty(ENV_TOKEN_FILE) != NULL ? " from " ENV_TOKEN_FILE
		    : "");
	else if (env_nonempty(ENV_TOKEN) != NULL)
		snprintf(t->token_from, sizeof(t->token_from), "the token from "
		    "%s", ENV_TOKEN);
	else
		snprintf(t->token_from, sizeof(t->token_from), "the "
		    "admin_token from %s", path != NULL ? path : "?");
	rc = 0;
out:
	if (errs != NULL)
		OPENSSL_cleanse(errs, errlen);
	free(errs);
	cfg_free(cfg);
	return rc;
}

static void
target_fini(struct target *t)
{
	admin_auth_token_free(t->token);
	t->token = NULL;
	buf_fini(&t->url);
}

struct answer {
	CURLcode	 cc;
	long		 status;
	char		 err[CURL_ERROR_SIZE];
	struct buf	 body;
};

static size_t
collect(char *p, size_t size, size_t n, void *ud)
{
	return buf_append(ud, p, size * n) == 0 ? size * n : 0;
}

/* One request to the admin listener; the answer in *an. */
static void
ask(const struct target *t, int post, const char *path, long timeout_s,
    struct answer *an)
{
	struct curl_slist	*hdrs = NULL;
	struct buf		 url, auth;
	CURL			*e;

	memset(an, 0, sizeof(*an));
	buf_init(&an->body);
	buf_init(&url);
	buf_init(&auth);
	buf_printf(&url, "%s%s", buf_str(&t->url), path);
	if (t->token != NULL)
		buf_printf(&auth, "Authorization: Bearer %s", t->token);
	an->cc = CURLE_OUT_OF_MEMORY;
	e = curl_easy_init();
	if (e == NULL || !buf_ok(&url) || !buf_ok(&auth))
		goto out;
	if (t->token != NULL) {
		hdrs = curl_slist_append(NULL, buf_str(&auth));
		if (hdrs == NULL)
			goto out;
	}
	curl_easy_setopt(e, CURLOPT_URL, buf_str(&url));
	if (post) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, an->err);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &an->body);
	an->cc = curl_easy_perform(e);
	if (an->cc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &an->status);
	if (an->err[0] == '\0')
		snprintf(an->err, sizeof(an->err), "%s",
		    curl_easy_strerror(an->cc));
out:
	if (hdrs != NULL) {
		/* curl's copy of the header is freed unwiped; ours not. */
		curl_slist_free_all(hdrs);
	}
	curl_easy_cleanup(e);
	buf_wipe(&auth);
	buf_fini(&url);
}

/*
 * Say why an answer is a failure (no answer, or an error status) on
 * stderr; returns the exit status for it, or EX_DONE when an is a
 * success (status 200, or 504 for flush's strict wait).
 */
static int
explain(const char *cmd, const struct target *t, const struct answer *an,
    long timeout_s)
{
	const char	*body;
	int		 len;

	if (an->cc != CURLE_OK) {
		if (an->cc == CURLE_OPERATION_TIMEDOUT)
			fprintf(stderr, "s3inval %s: %s (%s): no answer within "
			    "%ld s: %s\n", cmd, buf_str(&t->url), t->from,
			    timeout_s, an->err);
		else
			fprintf(stderr, "s3inval %s: cannot reach the admin "
			    "listener at %s (%s): %s%s\n", cmd,
			    buf_str(&t->url), t->from, an->err,
			    an->cc == CURLE_COULDNT_CONNECT ? "; is the daemon "
			    "running, and is this its admin_listen?" : "");
		if (t->note[0] != '\0')
			fprintf(stderr, "s3inval %s: note: %s\n", cmd, t->note);
		return EX_UNREACHABLE;
	}
	if (an->status == 200 || an->status == 504)
		return EX_DONE;
	/* The daemon's reason: the first line of its text answer. */
	body = buf_str(&an->body);
	len = (int)strcspn(body, "\r\n");
	if (len > 300)
		len = 300;
	fprintf(stderr, "s3inval %s: %s (%s) answered %ld%s%.*s\n", cmd,
	    buf_str(&t->url), t->from, an->status, len > 0 ? ": " : "", len,
	    body);
	if (an->status == 401 && t->token != NULL)
		fprintf(stderr, "s3inval %s: %s is not the daemon's "
		    "server.admin_token\n", cmd, t->token_from);
	else if (an->status == 401)
		fprintf(stderr, "s3inval %s: the daemon has a "
		    "server.admin_token: give the same one here (-c FILE with "
		    "admin_token or admin_token_file, or %s)\n", cmd,
		    ENV_TOKEN);
	else if (an->status == 421)
		fprintf(stderr, "s3inval %s: the Host of the URL does not "
		    "name the daemon's admin_listen: ask it by that address "
		    "(or localhost)\n", cmd);
	if (t->note[0] != '\0')
		fprintf(stderr, "s3inval %s: note: %s\n", cmd, t->note);
	return EX_REFUSED;
}

/* "E123: reason" for one item of the JSON's "failed" array. */
static void
print_failed(json_t *item)
{
	static const char *const ids[] = { "distribution", "id", NULL };
	static const char *const whys[] = { "error", "reason", "message",
	    "last_error", NULL };
	const char	*id = NULL, *why = NULL;
	char		*dump;
	size_t		 i;

	if (json_is_string(item)) {
		fprintf(stderr, "s3inval flush: distribution failing: %s\n",
		    json_string_value(item));
		return;
	}
	for (i = 0; json_is_object(item) && ids[i] != NULL && id == NULL;
	    i++)
		id = json_string_value(json_object_get(item, ids[i]));
	for (i = 0; json_is_object(item) && whys[i] != NULL && why == NULL;
	    i++)
		why = json_string_value(json_object_get(item, whys[i]));
	dump = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII);
	if (id != NULL && why != NULL)
		fprintf(stderr, "s3inval flush: distribution %s failing: %s\n",
		    id, why);
	else if (id != NULL)
		fprintf(stderr, "s3inval flush: distribution %s failing: %s\n",
		    id, dump != NULL ? dump : "?");
	else
		fprintf(stderr, "s3inval flush: distribution failing: %s\n",
		    dump != NULL ? dump : "?");
	free(dump);
}

/* flush's JSON answer: what is still open, what fails. */
static int
judge_flush(const struct target *t, const struct answer *an, long wait_s)
{
	json_error_t	 jerr;
	json_t		*doc, *done, *failed, *item;
	size_t		 i;
	int		 rc = EX_DONE;

	doc = json_loadb(an->body.data != NULL ? an->body.data : "",
	    an->body.len, JSON_REJECT_DUPLICATES, &jerr);
	done = json_object_get(doc, "done");
	if (!json_is_object(doc) || !json_is_boolean(done)) {
		fprintf(stderr, "s3inval flush: %s (%s) answered %ld, but not "
		    "with the JSON of POST /flush: %s\n", buf_str(&t->url),
		    t->from, an->status, doc == NULL ? jerr.text :
		    "no \"done\"");
		json_decref(doc);
		return EX_REFUSED;
	}
	failed = json_object_get(doc, "failed");
	if (json_is_array(failed) && json_array_size(failed) > 0) {
		json_array_foreach(failed, i, item)
			print_failed(item);
		rc = EX_NOT_DONE;
	}
	if (!json_is_true(done) && json_is_true(json_object_get(doc,
	    "stopping")))
		fprintf(stderr, "s3inval flush: the daemon is stopping; what "
		    "is not Completed stays in its journal for the next "
		    "start\n");
	if (wait_s > 0 && !json_is_true(done)) {
		/* The daemon ends the wait early when a distribution fails:
		 * say which happened. */
		if (rc == EX_NOT_DONE)
			fprintf(stderr, "s3inval flush: not all Completed: ");
		else
			fprintf(stderr, "s3inval flush: not all Completed "
			    "within %ld s: ", wait_s);
		fprintf(stderr, "%" JSON_INTEGER_FORMAT " path(s) pending, %"
		    JSON_INTEGER_FORMAT " batch(es) open (unsent or in "
		    "progress); the daemon keeps working on them\n",
		    json_integer_value(json_object_get(doc, "paths_pending")),
		    json_integer_value(json_object_get(doc, "batches_open")));
		rc = EX_NOT_DONE;
	}
	json_decref(doc);
	return rc;
}

static void
flush_usage(FILE *f)
{
	fprintf(f,
"usage: s3inval flush [-c FILE] [--wait[=SECONDS]] [--admin URL]\n"
"\n"
"Ask the running daemon to submit pending invalidations now; with --wait\n"
"(default 300 s, at most 3600), wait until CloudFront reports everything\n"
"written before the call Completed.  The daemon's JSON answer goes to\n"
"stdout, why it failed to stderr.\n"
"\n"
"  -c FILE      read admin_listen and admin_token (or admin_token_file)\n"
"               there, and S3INVAL_SERVER_ADMIN_* from the environment,\n"
"               as the daemon does (default %s)\n"
"  --admin URL  ask this admin listener instead (http://host:port)\n"
"\n"
"Exit status: 0 submitted (with --wait: all Completed); 1 not all\n"
"Completed in time, or a distribution failing; 2 bad usage or\n"
"configuration; 3 the admin listener did not answer; 4 it answered with\n"
"an error (401: token, 421: address).\n", CFG_DEFAULT_PATH);
}

/* s3inval flush [-c FILE] [--wait[=SECONDS]] [--admin URL]. */
int
cmd_flush(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wait", optional_argument, NULL, 'w' },
		{ "admin", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct target	 t;
	struct answer	 an;
	struct buf	 path;
	const char	*admin = NULL, *file = NULL;
	char		*end;
	long		 wait_s = -1, timeout_s;
	int		 ch, rc;

	optind = 1;
	while ((ch = cmd_getopt(argc, argv, "c:", longopts, &file)) != -1) {
		switch (ch) {
		case 'w':
			wait_s = 300;
			if (optarg == NULL)
				break;
			errno = 0;
			wait_s = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    wait_s < 0 || wait_s > 3600) {
				fprintf(stderr, "s3inval flush: --wait takes 0 "
				    "to 3600 seconds\n");
				return EX_USAGE;
			}
			break;
		case 'a':
			admin = optarg;
			break;
		case 'h':
			flush_usage(stdout);
			return EX_DONE;
		default:
			flush_usage(stderr);
			return EX_USAGE;
		}
	}
	if (target_init(&t, "flush", file, admin) == -1) {
		target_fini(&t);
		return EX_USAGE;
	}
	buf_init(&path);
	buf_puts(&path, "/flush");
	if (wait_s >= 0)
		buf_printf(&path, "?wait=%ld", wait_s);
	timeout_s = wait_s > 0 ? wait_s + 30 : 30;
	ask(&t, 1, buf_str(&path), timeout_s, &an);
	rc = explain("flush", &t, &an, timeout_s);
	if (rc == EX_DONE) {
		fputs(buf_str(&an.body), stdout);
		rc = judge_flush(&t, &an, wait_s);
	}
	buf_fini(&an.body);
	buf_fini(&path);
	target_fini(&t);
	return rc;
}

/* s3inval healthcheck [-c FILE] [--admin URL]: GET /healthz, for
 * container HEALTHCHECKs (no curl or wget in the image). */
int
cmd_healthcheck(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "admin", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct target	 t;
	struct answer	 an;
	const char	*admin = NULL, *file = NULL;
	int		 ch, rc;

	optind = 1;
	while ((ch = cmd_getopt(argc, argv, "c:", longopts, &file)) != -1) {
		if (ch == 'a')
			admin = optarg;
		else {
			fprintf(ch == 'h' ? stdout : stderr,
			    "usage: s3inval healthcheck [-c FILE] "
			    "[--admin URL]\n\n"
			    "GET /healthz of the running daemon, found as "
			    "s3inval flush finds it.\n"
			    "Exit status: 0 healthy; 1 not (why on stderr); "
			    "2 bad usage.\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	if (target_init(&t, "healthcheck", file, admin) == -1) {
		target_fini(&t);
		return 1;
	}
	ask(&t, 0, "/healthz", 5, &an);
	rc = an.cc == CURLE_OK && an.status == 200 ? 0 : 1;
	if (rc != 0 && explain("healthcheck", &t, &an, 5) == EX_DONE)
		fprintf(stderr, "s3inval healthcheck: %s/healthz answered "
		    "%ld\n", buf_str(&t.url), an.status);
	buf_fini(&an.body);
	target_fini(&t);
	return rc;
}
