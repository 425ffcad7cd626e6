/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cfg: the configuration module, table-driven.  Good files must load
 * and survive cfg_print() -> cfg_load() unchanged; every class of error
 * must come out as "file:line: message" with the right line, all of them in
 * one pass; the environment must win over the file; and the example file
 * must document every key of cfg_keys.h with its default, and load.
 *
 * Files are written under a mkdtemp() directory, removed at the end.  The
 * example is found under $TOP_SRCDIR (default ".").
 */
#include "config.h"

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"

/* cfg_env.c's answer to an S3INVAL_ name that is no key. */
#define UNKNOWN_VAR	": unknown variable (S3INVAL_* names are " \
	"configuration keys: give other variables another prefix)\n"
#include "cfg_value.h"

/* The key table, as the example file must document it. */
struct tkey {
	const char	*section;
	const char	*name;
	const char	*type;
	const char	*def;
	const char	*choices;	/* numbers: the key's own bound */
	const char	*desc;
};

static const struct tkey tkeys[] = {
#define CFG_KEY(s, k, t, f, d, ch, desc)	{ #s, #k, #t, d, ch, desc },
#define CFG_LIST(s, k, t, f, d, desc)		{ #s, #k, #t, d, NULL, desc },
#include "cfg_keys.h"
};
#define NTKEYS	(sizeof(tkeys) / sizeof(tkeys[0]))

/* Each numeric type's bound, for keys that name none. */
static const struct {
	const char	*type;
	const char	*max;
} ttype_max[] = {
#define CFG_KEY(s, k, t, f, d, ch, desc)
#define CFG_LIST(s, k, t, f, d, desc)
#define CFG_TYPE_MAX(t, max)	{ #t, max },
#include "cfg_keys.h"
};

static int
is_number(const struct tkey *k)
{
	return strcmp(k->type, "DURATION") == 0 ||
	    strcmp(k->type, "SIZE") == 0 || strcmp(k->type, "UINT") == 0 ||
	    strcmp(k->type, "DOUBLE") == 0;
}

/* The upper bound that applies to a numeric key, as text. */
static const char *
tkey_max(const struct tkey *k)
{
	size_t	 i;

	if (k->choices != NULL)
		return k->choices;
	for (i = 0; i < sizeof(ttype_max) / sizeof(ttype_max[0]); i++)
		if (strcmp(ttype_max[i].type, k->type) == 0)
			return ttype_max[i].max;
	fail_msg("%s.%s: no bound for type %s", k->section, k->name, k->type);
	return NULL;
}

static char	 tmpdir[256];
static int	 nfiles;

/* A writable string, as in a real environment. */
#define E(s)	((char []){ s })

/* Environment of most tests: no [client] needed. */
static char *const env_none[] = { E("S3INVAL_AUTH_MODE=none"), NULL };
static char *const env_empty[] = { NULL };

static int
setup(void **state)
{
	const char	*t;

	(void)state;
	t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_cfg.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	 path[512];
	int	 i;

	(void)state;
	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/c%d.conf", tmpdir, i);
		unlink(path);
	}
	return rmdir(tmpdir);
}

/* Writes n bytes to a new file; returns its path (caller frees). */
static char *
write_file(const char *text, size_t n)
{
	char	*path;
	FILE	*fp;

	path = malloc(512);
	assert_non_null(path);
	snprintf(path, 512, "%s/c%d.conf", tmpdir, nfiles++);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
	return path;
}

/* Every occurrence of from in s replaced by to; caller frees. */
static char *
subst(const char *s, const char *from, const char *to)
{
	char		*out, *o;
	const char	*p;
	size_t		 flen, tlen;

	flen = strlen(from);
	tlen = strlen(to);
	out = malloc(strlen(s) * (tlen > flen ? tlen : 1) + 1);
	assert_non_null(out);
	o = out;
	for (p = s; *p != '\0';) {
		if (flen > 0 && strncmp(p, from, flen) == 0) {
			memcpy(o, to, tlen);
			o += tlen;
			p += flen;
		} else
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/*
 * Load text (n bytes; NULL: no file) with env.  *errs gets what cfg_load()
 * reported, the file's path written as "F".  Returns the error count.
 */
static int
load_n(const char *text, size_t n, char *const *env, struct cfg **out,
    char **errs)
{
	char	*path, *buf;
	size_t	 size;
	FILE	*fp;
	int	 nerr;

	path = text != NULL ? write_file(text, n) : NULL;
	buf = NULL;
	fp = open_memstream(&buf, &size);
	assert_non_null(fp);
	nerr = cfg_load(path, env, fp, out);
	assert_int_equal(fclose(fp), 0);
	*errs = subst(buf, path != NULL ? path : "\001", "F");
	free(buf);
	free(path);
	if (nerr == 0)
		assert_non_null(*out);
	else
		assert_null(*out);
	return nerr;
}

static int
load(const char *text, char *const *env, struct cfg **out, char **errs)
{
	return load_n(text, text != NULL ? strlen(text) : 0, env, out, errs);
}

static char *
print_str(const struct cfg *c)
{
	char	*buf;
	size_t	 size;
	FILE	*fp;

	buf = NULL;
	fp = open_memstream(&buf, &size);
	assert_non_null(fp);
	cfg_print(c, fp);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

/* ---- good files ---------------------------------------------------- */

static const char good_full[] =
    "\xef\xbb\xbf; a BOM, CRLF lines and every key\r\n"
    "[server]\r\n"
    "listen = [::1]:0\r\n"
    "admin_listen = localhost:9191 ; an inline comment\r\n"
    "state_dir = /srv/s3inval state\r\n"
    "virtual_host_base = s3.local\r\n"
    "tls_cert = /etc/ssl/c.pem\r\n"
    "tls_key = /etc/ssl/k.pem\r\n"
    "max_header_size = 1536\r\n"
    "spool_max = 3K\r\n"
    "client_timeout = 1500ms\r\n"
    "max_connections = 7\r\n"
    "\r\n"
    "[upstream]\r\n"
    "endpoint = HTTP://127.0.0.1:5000/\r\n"
    "region = eu-west-3\r\n"
    "addressing = path\r\n"
    "connect_timeout = 90\r\n"
    "timeout = 2h\r\n"
    "[auth]\r\n"
    "mode = sigv4\r\n"
    "max_skew = 1d\r\n"
    "[cloudfront]\r\n"
    "endpoint = http://[::1]:5001\r\n"
    "quiet_period = 0\r\n"
    "max_delay = 0ms\r\n"
    "wildcard_threshold = 2\r\n"
    "max_requests_per_second = 1e-3\r\n"
    "monthly_free_paths = 0\r\n"
    "[log]\r\n"
    "format = json\r\n"
    "level = debug\r\n"
    "file = /var/log/s3inval.log\r\n"
    "[client deploy]\r\n"
    "access_key_id = AKIADEPLOY\r\n"
    "secret_access_key = s3cr3t/with+odd=chars\r\n"
    "buckets = blog:rw,\r\n"
    "    assets:r ; continued\r\n"
    "\tother:w, blog:admin\r\n"
    "[client reader]\r\n"
    "access_key_id = AKIAREADER\r\n"
    "secret_access_key = another\r\n"
    "buckets = *:r\r\n"
    "[bucket blog]\r\n"
    "distributions = E1, E2\r\n"
    "[bucket assets]\r\n"
    "upstream_bucket = real-assets\r\n"
    "origin_path = site/v2/\r\n"
    "index_documents =\r\n"
    "[bucket *]\r\n"
    "distributions = EALL\r\n"
    "origin_path = /\r\n"
    "index_documents = index.html, index.htm\r\n";

static const char *const good_files[] = {
	good_full,
	/* The smallest useful file. */
	"[client deploy]\n"
	"access_key_id = AKIA1\n"
	"secret_access_key = s\n"
	"buckets = blog:rw\n"
	"[bucket blog]\n",
	/* No clients with auth none; lists on several lines. */
	"[auth]\n"
	"mode = none\n"
	"[bucket b]\n"
	"distributions =\n"
	"  E1,\n"
	"  E2\n"
	"index_documents = a.html, b.html\n"
	"[server]\n"
	"virtual_host_base =\n",
	/* Empty file, client from the environment instead. */
	"",
};

static void
test_good_roundtrip(void **state)
{
	char *const env[] = {
		E("S3INVAL_CLIENT_ACCESS_KEY_ID=AKIAENV"),
		E("S3INVAL_CLIENT_SECRET_ACCESS_KEY=envsecret"),
		NULL
	};
	struct cfg	*c, *c2;
	char		*errs, *p1, *p2;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(good_files) / sizeof(good_files[0]); i++) {
		if (load(good_files[i], env, &c, &errs) != 0)
			fail_msg("good file %zu:\n%s", i, errs);
		free(errs);
		p1 = print_str(c);
		assert_null(strstr(p1, "s3cr3t"));
		assert_null(strstr(p1, "envsecret"));
		assert_non_null(strstr(p1, "secret_access_key = ********\n"));
		assert_non_null(strstr(p1, "access_key_id = AKIAENV\n"));

		if (load(p1, env_empty, &c2, &errs) != 0)
			fail_msg("good file %zu, printed:\n%s\n%s", i, p1,
			    errs);
		free(errs);
		p2 = print_str(c2);
		if (strcmp(p1, p2) != 0)
			fail_msg("good file %zu: printed\n%s\nreprinted\n%s", i,
			    p1, p2);
		assert_int_equal(c2->n_clients, c->n_clients);
		assert_int_equal(c2->n_buckets, c->n_buckets);
		free(p1);
		free(p2);
		cfg_free(c);
		cfg_free(c2);
	}
}

static void
test_good_values(void **state)
{
	const struct cfg_client	*cl;
	const struct cfg_bucket	*b;
	struct cfg		*c;
	char			*errs;

	(void)state;
	assert_int_equal(load(good_full, env_empty, &c, &errs), 0);
	free(errs);
	assert_non_null(c->path);
	assert_string_equal(c->server.listen, "[::1]:0");
	assert_string_equal(c->server.admin_listen, "localhost:9191");
	assert_string_equal(c->server.state_dir, "/srv/s3inval state");
	assert_string_equal(c->server.virtual_host_base, "s3.local");
	assert_string_equal(c->server.tls_cert, "/etc/ssl/c.pem");
	assert_string_equal(c->server.tls_key, "/etc/ssl/k.pem");
	assert_true(c->server.max_header_size == 1536);
	assert_true(c->server.spool_max == 3072);
	assert_true(c->server.client_timeout_ms == 1500);
	assert_int_equal(c->server.max_connections, 7);
	/* Scheme lower-cased, trailing "/" dropped. */
	assert_string_equal(c->upstream.endpoint, "http://127.0.0.1:5000");
	assert_string_equal(c->upstream.region, "eu-west-3");
	assert_int_equal(c->upstream.addressing, CFG_ADDR_PATH);
	assert_true(c->upstream.connect_timeout_ms == 90000);
	assert_true(c->upstream.timeout_ms == 2 * 3600 * 1000);
	assert_int_equal(c->auth.mode, CFG_AUTH_SIGV4);
	assert_true(c->auth.max_skew_ms == 86400000);
	assert_string_equal(c->cloudfront.endpoint, "http://[::1]:5001");
	assert_true(c->cloudfront.quiet_period_ms == 0);
	assert_true(c->cloudfront.max_delay_ms == 0);
	assert_int_equal(c->cloudfront.wildcard_threshold, 2);
	assert_true(c->cloudfront.max_requests_per_second == 1e-3);
	assert_int_equal(c->cloudfront.monthly_free_paths, 0);
	assert_int_equal(c->log.format, CFG_LOG_JSON);
	assert_int_equal(c->log.level, CFG_LOG_DEBUG);
	assert_string_equal(c->log.file, "/var/log/s3inval.log");

	assert_int_equal(c->n_clients, 2);
	cl = &c->clients[0];
	assert_string_equal(cl->name, "deploy");
	assert_string_equal(cl->access_key_id, "AKIADEPLOY");
	assert_string_equal(cl->secret_access_key, "s3cr3t/with+odd=chars");
	/* blog named twice: one grant, the rights added up. */
	assert_int_equal(cl->n_grants, 3);
	assert_string_equal(cl->grants[0].bucket, "blog");
	assert_int_equal(cl->grants[0].rights, CFG_RIGHT_BIT(CFG_RIGHT_R) |
	    CFG_RIGHT_BIT(CFG_RIGHT_W) | CFG_RIGHT_BIT(CFG_RIGHT_ADMIN));
	assert_string_equal(cl->grants[1].bucket, "assets");
	assert_int_equal(cl->grants[1].rights, CFG_RIGHT_BIT(CFG_RIGHT_R));
	assert_string_equal(cl->grants[2].bucket, "other");
	assert_int_equal(cl->grants[2].rights, CFG_RIGHT_BIT(CFG_RIGHT_W));

	assert_int_equal(c->n_buckets, 3);
	b = &c->buckets[0];
	assert_string_equal(b->name, "blog");
	assert_string_equal(b->upstream_bucket, "blog");
	assert_int_equal(b->n_distributions, 2);
	assert_string_equal(b->distributions[0], "E1");
	assert_string_equal(b->distributions[1], "E2");
	assert_string_equal(b->origin_path, "");
	assert_int_equal(b->n_index_documents, 1);
	assert_string_equal(b->index_documents[0], "index.html");
	b = &c->buckets[1];
	assert_string_equal(b->upstream_bucket, "real-assets");
	assert_string_equal(b->origin_path, "/site/v2");
	assert_int_equal(b->n_index_documents, 0);
	assert_null(b->index_documents);
	b = &c->buckets[2];
	assert_string_equal(b->name, "*");
	assert_null(b->upstream_bucket);
	assert_string_equal(b->origin_path, "");
	assert_int_equal(b->n_index_documents, 2);
	assert_string_equal(b->index_documents[1], "index.htm");
	cfg_free(c);
}

static void
test_defaults(void **state)
{
	struct cfg	*c;
	char		*errs;

	(void)state;
	assert_int_equal(load(NULL, env_none, &c, &errs), 0);
	free(errs);
	assert_null(c->path);
	assert_string_equal(c->server.listen, "127.0.0.1:8080");
	assert_string_equal(c->server.admin_listen, "127.0.0.1:9090");
	assert_string_equal(c->server.state_dir, "/var/lib/s3inval");
	assert_string_equal(c->server.virtual_host_base, "");
	assert_string_equal(c->server.tls_cert, "");
	assert_string_equal(c->server.tls_key, "");
	assert_true(c->server.max_header_size == 8 * 1024);
	assert_true(c->server.spool_max == 1024 * 1024 * 1024);
	assert_true(c->server.client_timeout_ms == 60000);
	assert_int_equal(c->server.max_connections, 1024);
	assert_string_equal(c->upstream.endpoint,
	    "https://s3.us-east-1.amazonaws.com");
	assert_string_equal(c->upstream.region, "us-east-1");
	assert_int_equal(c->upstream.addressing, CFG_ADDR_VIRTUAL);
	assert_true(c->upstream.connect_timeout_ms == 5000);
	assert_true(c->upstream.timeout_ms == 30000);
	assert_int_equal(c->auth.mode, CFG_AUTH_NONE);
	assert_true(c->auth.max_skew_ms == 15 * 60 * 1000);
	assert_string_equal(c->cloudfront.endpoint,
	    "https://cloudfront.amazonaws.com");
	assert_true(c->cloudfront.quiet_period_ms == 5000);
	assert_true(c->cloudfront.max_delay_ms == 60000);
	assert_int_equal(c->cloudfront.wildcard_threshold, 5);
	assert_true(c->cloudfront.max_requests_per_second == 0.5);
	assert_int_equal(c->cloudfront.monthly_free_paths, 1000);
	assert_int_equal(c->log.format, CFG_LOG_TEXT);
	assert_int_equal(c->log.level, CFG_LOG_INFO);
	assert_string_equal(c->log.file, "");
	assert_int_equal(c->n_clients, 0);
	assert_int_equal(c->n_buckets, 0);
	cfg_free(c);

	/* The default auth.mode needs a client. */
	assert_int_equal(load(NULL, env_empty, &c, &errs), 1);
	assert_string_equal(errs,
	    "config: auth.mode = sigv4 but no [client] section\n");
	free(errs);
	assert_int_equal(load(NULL, NULL, &c, &errs), 1);
	free(errs);

	cfg_free(NULL);
}

/* ---- errors -------------------------------------------------------- */

struct bad {
	const char	*text;		/* NULL: no file */
	char *const	*env;		/* NULL: env_none */
	const char	*errs;		/* "F" is the file */
};

static char *const env_sigv4[] = { NULL };
static char *const env_bad_listen[] = {
	E("S3INVAL_AUTH_MODE=none"), E("S3INVAL_SERVER_LISTEN=nope"), NULL
};
static char *const env_ctl[] = {
	E("S3INVAL_AUTH_MODE=none"), E("S3INVAL_SERVER_STATE_DIR=/a\nb"), NULL
};
static char *const env_unknown[] = {
	E("PATH=/bin"), E("s3inval_lower=1"), E("S3INVAL_AUTH_MODE=none"),
	E("S3INVAL_FOO=1"), E("S3INVAL_SERVER_NOPE=2"), E("S3INVAL_SERVER=3"),
	E("S3INVAL_BUCKET_BUCKETS=x"), E("S3INVAL_CLIENT_NAME=y"), NULL
};
static char *const env_bucket_dup[] = {
	E("S3INVAL_AUTH_MODE=none"), E("S3INVAL_BUCKET_NAME=blog"), NULL
};
static char *const env_bucket_noname[] = {
	E("S3INVAL_AUTH_MODE=none"), E("S3INVAL_BUCKET_DISTRIBUTIONS=E1"), NULL
};
static char *const env_client_nosecret[] = {
	E("S3INVAL_CLIENT_ACCESS_KEY_ID=AKIA1"), NULL
};
static char *const env_client_dup[] = {
	E("S3INVAL_CLIENT_ACCESS_KEY_ID=AKIA1"),
	E("S3INVAL_CLIENT_SECRET_ACCESS_KEY=s"), NULL
};
static char *const env_too_big[] = {
	E("S3INVAL_AUTH_MODE=none"), E("S3INVAL_SERVER_MAX_HEADER_SIZE=64g"),
	NULL
};
static char *const env_bad_values[] = {
	E("S3INVAL_AUTH_MODE=maybe"),
	E("S3INVAL_CLOUDFRONT_QUIET_PERIOD=5 s"),
	E("S3INVAL_BUCKET_NAME=b"),
	E("S3INVAL_BUCKET_ORIGIN_PATH=/a/../b"),
	E("S3INVAL_CLIENT_ACCESS_KEY_ID=AKIA1"),
	E("S3INVAL_CLIENT_SECRET_ACCESS_KEY=s"),
	E("S3INVAL_CLIENT_BUCKETS=b"),
	NULL
};
static char *const env_quiet[] = {
	E("S3INVAL_AUTH_MODE=none"), E("S3INVAL_CLOUDFRONT_QUIET_PERIOD=2m"),
	NULL
};

#define CLIENT_A							\
	"[client a]\naccess_key_id = K\nsecret_access_key = s\n"

static const struct bad bad_files[] = {
	/* Sections and keys. */
	{ "[nope]\nfoo = 1\n[server]\nlisten = 1.2.3.4:80\n", NULL,
	  "F:1: unknown section [nope]\n" },
	{ "[server]\nlisten = 127.0.0.1:1\nnope = 2\n", NULL,
	  "F:3: unknown key \"nope\" in [server]\n" },
	{ "[server]\n; c\nlisten = 127.0.0.1:1\n\nlisten = 127.0.0.1:2\n",
	  NULL, "F:5: duplicate key \"listen\" (first at line 3)\n" },
	{ "[log]\nlevel = info\n[server]\n[log]\nlevel = debug\n", NULL,
	  "F:5: duplicate key \"level\" (first at line 2)\n" },
	{ CLIENT_A "[client a]\naccess_key_id = K2\n", NULL,
	  "F:4: [client a] is defined twice (first at line 1)\n" },
	{ "[bucket b]\n\n[bucket   b  ]\n", NULL,
	  "F:3: [bucket b] is defined twice (first at line 1)\n" },
	{ "[server x]\n[client]\n[bucket a/b]\n[client a b]\n", NULL,
	  "F:1: section [server] takes no name\n"
	  "F:2: section [client] needs a name, as [client deploy]\n"
	  "F:3: bad name in [bucket a/b]: use letters, digits, '.', '-' and "
	  "'_', or *\n"
	  "F:4: bad name in [client a b]: use letters, digits, '.', '-' and "
	  "'_'\n" },
	{ "listen = 127.0.0.1:1\n[server\njunk\n= x\n[log] text\n"
	  "[log] ; fine\n", NULL,
	  "F:1: key \"listen\" is outside any section\n"
	  "F:2: section header without a closing ']'\n"
	  "F:3: expected \"key = value\", \"[section]\" or a comment\n"
	  "F:4: missing key name before '='\n"
	  "F:5: unexpected text after ']' (comments start with ';')\n" },
	{ "[server]\nlisten = 127.0.0.1:1\n  admin_listen = 127.0.0.1:2\n",
	  NULL, "F:3: indented line continues the value of \"listen\", "
	  "which is not a list (unindent it?)\n" },

	/* Clients. */
	{ CLIENT_A "[client b]\naccess_key_id = K\nsecret_access_key = t\n",
	  NULL, "F:5: access_key_id \"K\" is also used by [client a] "
	  "(at line 2)\n" },
	{ "[client a]\nbuckets =\n", NULL,
	  "F:1: [client a] has no access_key_id\n"
	  "F:1: [client a] has no secret_access_key\n" },
	{ "[client a]\naccess_key_id = K\nsecret_access_key =\n", NULL,
	  "F:3: bad secret_access_key: must not be empty\n" },
	{ "[client a]\naccess_key_id = A B\nsecret_access_key = s\n", NULL,
	  "F:2: bad access_key_id \"A B\": expected one word without "
	  "spaces\n" },
	{ CLIENT_A "buckets = blog:rw\n", NULL,
	  "F:4: [client a] grants bucket \"blog\", which has no "
	  "[bucket blog] section (nor is there a [bucket *])\n" },
	{ CLIENT_A "buckets = blog, c:x, d:rw, d:r, :r, a/b:r, e:wr, "
	  "f:ADMIN, g:, d:admin, d:admin\n"
	  "[bucket d]\n", NULL,
	  "F:4: bad buckets item \"blog\": expected bucket:RIGHT, RIGHT one "
	  "of r, w, rw or admin\n"
	  "F:4: bad buckets item \"c:x\": the right must be r (read), w "
	  "(write objects), rw (both) or admin (bucket configuration)\n"
	  "F:4: bucket \"d\" appears twice in buckets: \"d:r\" adds no "
	  "right\n"
	  "F:4: bad buckets item \":r\": \"\" is not a bucket name or *\n"
	  "F:4: bad buckets item \"a/b:r\": \"a/b\" is not a bucket name "
	  "or *\n"
	  "F:4: bad buckets item \"e:wr\": the right must be r (read), w "
	  "(write objects), rw (both) or admin (bucket configuration)\n"
	  "F:4: bad buckets item \"f:ADMIN\": the right must be r (read), w "
	  "(write objects), rw (both) or admin (bucket configuration)\n"
	  "F:4: bad buckets item \"g:\": the right must be r (read), w "
	  "(write objects), rw (both) or admin (bucket configuration)\n"
	  "F:4: bucket \"d\" appears twice in buckets: \"d:admin\" adds no "
	  "right\n" },

	/* Buckets. */
	{ "[bucket *]\nupstream_bucket = x\n", NULL,
	  "F:2: [bucket *] serves each bucket as itself: upstream_bucket "
	  "must be empty\n" },
	{ "[bucket b]\nupstream_bucket = a b\ndistributions = E1,,E2\n"
	  "index_documents = a/b.html, ..\n", NULL,
	  "F:2: bad upstream_bucket \"a b\": expected a bucket name "
	  "(letters, digits, '.', '-', '_')\n"
	  "F:3: bad distributions: empty item in the list\n"
	  "F:4: bad index_documents item \"a/b.html\": expected a file name, "
	  "as index.html\n"
	  "F:4: bad index_documents item \"..\": expected a file name, as "
	  "index.html\n" },
	{ "[bucket b]\ndistributions = E1, bad-id\n", NULL,
	  "F:2: bad distributions item \"bad-id\": expected a CloudFront "
	  "distribution id, as E2EXAMPLE1\n" },
	{ "[bucket a]\norigin_path = /a/../b\n[bucket b]\norigin_path = "
	  "/a//b\n[bucket c]\norigin_path = //\n[bucket d]\norigin_path = "
	  "./x\n[bucket e]\norigin_path = /x//\nnope = 1\n"
	  "[client c]\nnope = 2\n", NULL,
	  "F:2: bad origin_path \"/a/../b\": \".\" and \"..\" are not "
	  "allowed in origin path\n"
	  "F:4: bad origin_path \"/a//b\": empty segment (//) in origin "
	  "path\n"
	  "F:6: bad origin_path \"//\": empty segment (//) in origin path\n"
	  "F:8: bad origin_path \"./x\": \".\" and \"..\" are not allowed "
	  "in origin path\n"
	  "F:10: bad origin_path \"/x//\": empty segment (//) in origin "
	  "path\n"
	  "F:11: unknown key \"nope\" in [bucket e]\n"
	  "F:13: unknown key \"nope\" in [client c]\n"
	  "F:12: [client c] has no access_key_id\n"
	  "F:12: [client c] has no secret_access_key\n" },

	/* Values. */
	{ "[server]\nclient_timeout = 5x\n", NULL,
	  "F:2: bad client_timeout \"5x\": expected a duration: a whole "
	  "number and ms, s, m, h or d, as 500ms, 5s or 2m\n" },
	{ "[server]\nspool_max = -1\n", NULL,
	  "F:2: bad spool_max \"-1\": expected a size: a whole number of "
	  "bytes, or with k, m, g or t, as 64k or 1g\n" },
	{ "[server]\nmax_connections = 1.5\nstate_dir =\n", NULL,
	  "F:2: bad max_connections \"1.5\": expected a whole number\n"
	  "F:3: bad state_dir \"\": must not be empty\n" },
	{ "[server]\nmax_connections = 0\nmax_header_size = 0\n", NULL,
	  "F:3: max_header_size must not be 0\n"
	  "F:2: max_connections must be at least 1\n" },
	{ "[cloudfront]\nmax_requests_per_second = fast\n", NULL,
	  "F:2: bad max_requests_per_second \"fast\": expected a number, "
	  "as 0.5\n" },
	{ "[upstream]\naddressing = dns\n[log]\nlevel = trace\n"
	  "format = xml\n[auth]\nmode = SIGV4\n", NULL,
	  "F:2: bad addressing \"dns\": expected virtual or path\n"
	  "F:4: bad level \"trace\": expected error, warn, info or debug\n"
	  "F:5: bad format \"xml\": expected text or json\n"
	  "F:7: bad mode \"SIGV4\": expected sigv4 or none\n" },
	{ "[server]\nlisten = 8080\nadmin_listen = ::1:80\n", NULL,
	  "F:2: bad listen \"8080\": expected host:port, as "
	  "127.0.0.1:8080\n"
	  "F:3: bad admin_listen \"::1:80\": an IPv6 address needs "
	  "brackets, as [::1]:8080\n" },
	{ "[server]\nlisten = 127.0.0.1:65536\nadmin_listen = [::1]\n", NULL,
	  "F:2: bad listen \"127.0.0.1:65536\": the port must be a number "
	  "from 0 to 65535\n"
	  "F:3: bad admin_listen \"[::1]\": expected host:port, as "
	  "[::1]:8080\n" },
	{ "[server]\nlisten = [zz]:80\nadmin_listen = :8080\n", NULL,
	  "F:2: bad listen \"[zz]:80\": expected host:port with an IPv6 "
	  "address in brackets, as [::1]:8080\n"
	  "F:3: bad admin_listen \":8080\": expected host:port with a host "
	  "name or address, as 127.0.0.1:8080 or localhost:8080\n" },
	{ "[upstream]\nendpoint = ftp://x\n[cloudfront]\n"
	  "endpoint = https://u@h\n", NULL,
	  "F:2: bad endpoint \"ftp://x\": expected a URL starting with "
	  "http:// or https://\n"
	  "F:4: bad endpoint \"https://u@h\": a URL with user information "
	  "(user@) is not allowed\n" },
	{ "[upstream]\nendpoint = https://h/path\n[cloudfront]\n"
	  "endpoint = https://h?x=1\n", NULL,
	  "F:2: bad endpoint \"https://h/path\": a URL with a path is not "
	  "allowed: only scheme://host[:port]\n"
	  "F:4: bad endpoint \"https://h?x=1\": a URL with a query or "
	  "fragment is not allowed\n" },
	{ "[upstream]\nendpoint = https://\n[cloudfront]\n"
	  "endpoint = http://h:0\n", NULL,
	  "F:2: bad endpoint \"https://\": the URL has no valid host name\n"
	  "F:4: bad endpoint \"http://h:0\": the URL's port must be a "
	  "number from 1 to 65535\n" },
	{ "[server]\nvirtual_host_base = https://s3.local\n", NULL,
	  "F:2: bad virtual_host_base \"https://s3.local\": expected a host "
	  "name without a scheme, as s3.local\n" },
	{ "[server]\nvirtual_host_base = s3.local:80\n", NULL,
	  "F:2: bad virtual_host_base \"s3.local:80\": expected a host name "
	  "without a port, as s3.local\n" },

	/* Upper bounds (issue 14: 8g took 1.5 GB, 64g reset every
	 * connection); test_bounds() tries every numeric key. */
	{ "[server]\nmax_header_size = 8g\nspool_max = 64g\n"
	  "max_connections = 4000000000\n[bucket b]\nindex_max_age = 31d\n",
	  NULL,
	  "F:2: bad max_header_size \"8g\": must be at most 64k\n"
	  "F:3: bad spool_max \"64g\": must be at most 5g\n"
	  "F:4: bad max_connections \"4000000000\": must be at most 65536\n"
	  "F:6: bad index_max_age \"31d\": must be at most 30d\n" },
	{ NULL, env_too_big,
	  "env S3INVAL_SERVER_MAX_HEADER_SIZE: bad max_header_size \"64g\": "
	  "must be at most 64k\n" },

	/* Checks across keys. */
	{ "[server]\ntls_cert = /c.pem\n", NULL,
	  "F:2: tls_cert is set but tls_key is not\n" },
	{ "[server]\n\ntls_key = /k.pem\n", NULL,
	  "F:3: tls_key is set but tls_cert is not\n" },
	{ "[cloudfront]\nquiet_period = 2m\nmax_delay = 1m\n", NULL,
	  "F:2: quiet_period (2m) must not be longer than max_delay (1m)\n" },
	{ "[cloudfront]\nmax_delay = 1s\n", NULL,
	  "F:2: quiet_period (5s) must not be longer than max_delay (1s)\n" },
	{ "[cloudfront]\nmax_requests_per_second = 0\n", NULL,
	  "F:2: max_requests_per_second must be more than 0\n" },
	{ "[cloudfront]\nmax_requests_per_second = -1.5\n", NULL,
	  "F:2: max_requests_per_second must be more than 0\n" },
	{ "[cloudfront]\nwildcard_threshold = 1\n", NULL,
	  "F:2: wildcard_threshold must be at least 2\n" },
	{ "[server]\n", env_sigv4,
	  "F: auth.mode = sigv4 but no [client] section\n" },
	{ "[auth]\nmode = sigv4\n", env_sigv4,
	  "F:2: auth.mode = sigv4 but no [client] section\n" },
	{ "", env_quiet,
	  "env S3INVAL_CLOUDFRONT_QUIET_PERIOD: quiet_period (2m) must not "
	  "be longer than max_delay (1m)\n" },

	/* The environment. */
	{ "[server]\nlisten = 127.0.0.1:1\n", env_bad_listen,
	  "env S3INVAL_SERVER_LISTEN: bad listen \"nope\": expected "
	  "host:port, as 127.0.0.1:8080\n" },
	{ NULL, env_ctl,
	  "env S3INVAL_SERVER_STATE_DIR: bad state_dir: the value contains "
	  "a control character\n" },
	{ NULL, env_unknown,
	  "env S3INVAL_FOO" UNKNOWN_VAR
	  "env S3INVAL_SERVER_NOPE" UNKNOWN_VAR
	  "env S3INVAL_SERVER" UNKNOWN_VAR
	  "env S3INVAL_BUCKET_BUCKETS" UNKNOWN_VAR
	  "env S3INVAL_CLIENT_NAME" UNKNOWN_VAR },
	{ "[bucket blog]\n", env_bucket_dup,
	  "env S3INVAL_BUCKET_NAME: [bucket blog] is defined twice (first at "
	  "line 1)\n" },
	{ NULL, env_bucket_noname,
	  "env S3INVAL_BUCKET_DISTRIBUTIONS: needs S3INVAL_BUCKET_NAME too\n" },
	{ NULL, env_client_nosecret,
	  "env S3INVAL_CLIENT_ACCESS_KEY_ID: [client env] has no "
	  "secret_access_key (S3INVAL_CLIENT_SECRET_ACCESS_KEY)\n" },
	{ "[client env]\naccess_key_id = K\nsecret_access_key = s\n",
	  env_client_dup,
	  "env S3INVAL_CLIENT_ACCESS_KEY_ID: [client env] is defined twice "
	  "(first at line 1)\n" },
	{ NULL, env_bad_values,
	  "env S3INVAL_AUTH_MODE: bad mode \"maybe\": expected sigv4 or "
	  "none\n"
	  "env S3INVAL_CLOUDFRONT_QUIET_PERIOD: bad quiet_period \"5 s\": "
	  "expected a duration: a whole number and ms, s, m, h or d, as "
	  "500ms, 5s or 2m\n"
	  "env S3INVAL_BUCKET_ORIGIN_PATH: bad origin_path \"/a/../b\": "
	  "\".\" and \"..\" are not allowed in origin path\n"
	  "env S3INVAL_CLIENT_BUCKETS: bad buckets item \"b\": expected "
	  "bucket:RIGHT, RIGHT one of r, w, rw or admin\n" },

	/* Many problems in one file: all reported, in order. */
	{ "; several errors\n"
	  "[server]\n"
	  "listen = nowhere\n"
	  "client_timeout = -5s\n"
	  "bogus = 1\n"
	  "[upstream]\n"
	  "addressing = sideways\n"
	  "[client a]\n"
	  "access_key_id = K\n"
	  "buckets = blog:rw\n"
	  "[client b]\n"
	  "access_key_id = K\n"
	  "secret_access_key = s\n"
	  "[cloudfront]\n"
	  "wildcard_threshold = 0\n"
	  "[bucket blog]\n"
	  "[bucket blog]\n"
	  "[mystery]\n",
	  env_sigv4,
	  "F:3: bad listen \"nowhere\": expected host:port, as "
	  "127.0.0.1:8080\n"
	  "F:4: bad client_timeout \"-5s\": expected a duration: a whole "
	  "number and ms, s, m, h or d, as 500ms, 5s or 2m\n"
	  "F:5: unknown key \"bogus\" in [server]\n"
	  "F:7: bad addressing \"sideways\": expected virtual or path\n"
	  "F:17: [bucket blog] is defined twice (first at line 16)\n"
	  "F:18: unknown section [mystery]\n"
	  "F:8: [client a] has no secret_access_key\n"
	  "F:12: access_key_id \"K\" is also used by [client a] (at line 9)\n"
	  "F:15: wildcard_threshold must be at least 2\n" },
};

static void
test_errors(void **state)
{
	struct cfg	*c;
	char		*errs;
	size_t		 i, lines;
	const char	*p;
	int		 n;

	(void)state;
	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		n = load(bad_files[i].text, bad_files[i].env != NULL ?
		    bad_files[i].env : env_none, &c, &errs);
		if (strcmp(errs, bad_files[i].errs) != 0)
			fail_msg("bad file %zu: got\n%swant\n%s", i, errs,
			    bad_files[i].errs);
		/* The count is the number of lines printed. */
		lines = 0;
		for (p = errs; *p != '\0'; p++)
			lines += *p == '\n';
		assert_int_equal(n, (int)lines);
		free(errs);
	}
}

static void
test_missing_file(void **state)
{
	struct cfg	*c;
	char		 path[512];
	char		*buf;
	size_t		 size;
	FILE		*fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
	buf = NULL;
	fp = open_memstream(&buf, &size);
	assert_non_null(fp);
	assert_int_equal(cfg_load(path, env_none, fp, &c), 1);
	fclose(fp);
	assert_null(c);
	assert_non_null(strstr(buf, ": cannot open: "));
	assert_int_equal(strncmp(buf, path, strlen(path)), 0);
	free(buf);

	/* errs may be NULL: only the count. */
	assert_int_equal(cfg_load(path, env_none, NULL, &c), 1);
	assert_null(c);
}

/* A file setting key k to value, on line 2. */
static void
key_file(char *buf, size_t size, const struct tkey *k, const char *value)
{
	snprintf(buf, size, "[%s%s]\n%s = %s\n", k->section,
	    strcmp(k->section, "bucket") == 0 ? " b" : "", k->name, value);
}

/*
 * Every numeric key takes its bound and refuses one step more, as
 * "file:line: bad KEY "V": must be at most MAX".  Other checks may object
 * to a value at the bound (quiet_period = 1d is longer than max_delay):
 * only the bound's own message is looked at.
 */
static void
test_bounds(void **state)
{
	const struct tkey	*k;
	struct cfg		*c;
	char			 text[256], val[64], want[256], bad[128];
	char			*errs;
	const char		*max;
	int64_t			 ms;
	uint64_t		 n;
	size_t			 i;
	int			 checked = 0;

	(void)state;
	for (i = 0; i < NTKEYS; i++) {
		k = &tkeys[i];
		if (!is_number(k))
			continue;
		max = tkey_max(k);
		if (strcmp(k->type, "DURATION") == 0) {
			assert_int_equal(cfg_parse_duration(max, &ms), 0);
			snprintf(val, sizeof(val), "%lldms",
			    (long long)ms + 1);
		} else if (strcmp(k->type, "SIZE") == 0) {
			assert_int_equal(cfg_parse_size(max, &n), 0);
			snprintf(val, sizeof(val), "%llu",
			    (unsigned long long)n + 1);
		} else if (strcmp(k->type, "UINT") == 0)
			snprintf(val, sizeof(val), "%llu",
			    strtoull(max, NULL, 10) + 1);
		else
			snprintf(val, sizeof(val), "%.17g",
			    strtod(max, NULL) * 1.5);
		snprintf(bad, sizeof(bad), "bad %s \"", k->name);

		/* At the bound: no word about it. */
		key_file(text, sizeof(text), k, max);
		load(text, env_none, &c, &errs);
		if (strstr(errs, bad) != NULL)
			fail_msg("%s = %s (its bound) refused:\n%s", k->name,
			    max, errs);
		free(errs);
		cfg_free(c);

		/* One step above: refused on its line. */
		key_file(text, sizeof(text), k, val);
		assert_true(load(text, env_none, &c, &errs) >= 1);
		snprintf(want, sizeof(want), "F:2: bad %s \"%s\": must be at "
		    "most %s\n", k->name, val, max);
		if (strstr(errs, want) == NULL)
			fail_msg("%s = %s: want\n%sgot\n%s", k->name, val,
			    want, errs);
		free(errs);
		checked++;
	}
	/* The table has numbers of every type. */
	assert_true(checked >= 15);
}

/* A path to a new name in tmpdir (caller frees and removes it). */
static char *
tmp_name(const char *name)
{
	char	*path;

	path = malloc(512);
	assert_non_null(path);
	snprintf(path, 512, "%s/%s", tmpdir, name);
	return path;
}

static void
expect_refused(const char *path, const char *what)
{
	struct cfg	*c;
	char		*buf, want[600];
	size_t		 size;
	FILE		*fp;

	buf = NULL;
	fp = open_memstream(&buf, &size);
	assert_non_null(fp);
	assert_int_equal(cfg_load(path, env_none, fp, &c), 1);
	assert_int_equal(fclose(fp), 0);
	assert_null(c);
	snprintf(want, sizeof(want), "%s: %s\n", path, what);
	if (strcmp(buf, want) != 0)
		fail_msg("want\n%sgot\n%s", want, buf);
	free(buf);
}

/*
 * Only a regular file is read (issue 13): a FIFO hung check-config and
 * SIGHUP until a writer came (this test would hang), /dev/zero never
 * ended.  Each is refused at once, with what it is.
 */
static void
test_not_regular(void **state)
{
	static const struct {
		const char	*name;		/* in tmpdir, or an absolute path */
		int		 make;		/* 'p' FIFO, 'd' directory */
		const char	*what;
	} specials[] = {
		{ "fifo.conf", 'p', "a FIFO" },
		{ "dir.conf", 'd', "a directory" },
		{ "/dev/zero", 0, "a character device" },
	};
	char	*path, *text, want[256];
	FILE	*fp;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		path = specials[i].make != 0 ? tmp_name(specials[i].name) :
		    strdup(specials[i].name);
		assert_non_null(path);
		if (specials[i].make == 'p')
			assert_int_equal(mkfifo(path, 0600), 0);
		else if (specials[i].make == 'd')
			assert_int_equal(mkdir(path, 0700), 0);
		snprintf(want, sizeof(want), "cannot read %s: a configuration "
		    "file must be a regular file", specials[i].what);
		expect_refused(path, want);
		if (specials[i].make != 0)
			assert_int_equal(remove(path), 0);
		free(path);
	}

	/* A regular file, but larger than any configuration. */
	path = tmp_name("big.conf");
	text = malloc(CFG_FILE_MAX + 1);
	assert_non_null(text);
	memset(text, ';', CFG_FILE_MAX);
	text[CFG_FILE_MAX] = '\n';
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, CFG_FILE_MAX + 1, fp),
	    CFG_FILE_MAX + 1);
	assert_int_equal(fclose(fp), 0);
	expect_refused(path, "larger than 1024 KiB: not a configuration "
	    "file?");
	unlink(path);
	free(path);
	free(text);
}

/* SIGHUP keeps its configuration when the file has the same bytes. */
static void
test_same_file(void **state)
{
	static const char	 text[] = "[server]\nlisten = 127.0.0.1:1\n";
	struct cfg		*a, *b, *d, *none1, *none2;
	char			*path, *errs;
	FILE			*fp;

	(void)state;
	path = write_file(text, strlen(text));
	assert_int_equal(cfg_load(path, env_none, NULL, &a), 0);
	assert_int_equal(cfg_load(path, env_none, NULL, &b), 0);
	assert_int_equal(cfg_same_file(a, b), 1);
	fp = fopen(path, "ab");
	assert_non_null(fp);
	fputs("; a comment is a change of bytes\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(cfg_load(path, env_none, NULL, &d), 0);
	assert_int_equal(cfg_same_file(a, d), 0);
	assert_int_equal(load(NULL, env_none, &none1, &errs), 0);
	free(errs);
	assert_int_equal(load(NULL, env_none, &none2, &errs), 0);
	free(errs);
	assert_int_equal(cfg_same_file(none1, none2), 1);
	assert_int_equal(cfg_same_file(none1, a), 0);
	assert_int_equal(cfg_same_file(NULL, a), 0);
	cfg_free(a);
	cfg_free(b);
	cfg_free(d);
	cfg_free(none1);
	cfg_free(none2);
	free(path);
}

/* Lines longer than libinih's buffer are errors, on the right line. */
static void
test_long_lines(void **state)
{
	struct {
		char	 s[4096];
		size_t	 n;
	} b;
	struct cfg	*c;
	char		*errs;

	(void)state;
	b.n = 0;
#define ADD(...)							\
	b.n += (size_t)snprintf(b.s + b.n, sizeof(b.s) - b.n, __VA_ARGS__)
	ADD("[server]\n");					/* 1 */
	ADD("; %0195d\n", 0);				/* 2: 197 chars */
	ADD("; %0196d\n", 0);				/* 3: 198 */
	ADD("nope = 1\n");					/* 4 */
	ADD("state_dir = /%0500d\n", 0);			/* 5 */
	ADD("[%0300d]\n", 0);					/* 6 */
	ADD("foo = 1\n");					/* 7 */
	ADD("[log]\n");						/* 8 */
	ADD("bar = 2\n");					/* 9 */
	ADD("[server]\r\n");					/* 10 */
	ADD("state_dir = /%0184d\r\n", 0);			/* 11: 197 */
	ADD("  ; indented comment\n");				/* 12 */
	ADD("nope2 = 1");					/* 13, no \n */
#undef ADD
	assert_int_equal(load_n(b.s, b.n, env_none, &c, &errs), 6);
	assert_string_equal(errs,
	    "F:3: line too long (more than 197 characters)\n"
	    "F:4: unknown key \"nope\" in [server]\n"
	    "F:5: line too long (more than 197 characters)\n"
	    "F:6: line too long (more than 197 characters)\n"
	    "F:9: unknown key \"bar\" in [log]\n"
	    "F:13: unknown key \"nope2\" in [server]\n");
	free(errs);
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "[server]\nstate_dir = /a\0b\nnope = 1\n";
	struct cfg	*c;
	char		*errs;

	(void)state;
	assert_int_equal(load_n(text, sizeof(text) - 1, env_none, &c, &errs),
	    2);
	assert_string_equal(errs, "F:2: NUL character in line\n"
	    "F:3: unknown key \"nope\" in [server]\n");
	free(errs);
}

/* ---- the environment ----------------------------------------------- */

static void
test_env_overrides(void **state)
{
	char *const env[] = {
		E("S3INVAL_AUTH_MODE=none"),
		E("S3INVAL_SERVER_LISTEN=0.0.0.0:80"),
		E("S3INVAL_SERVER_STATE_DIR=/data"),
		E("S3INVAL_UPSTREAM_ENDPOINT=http://moto:5000"),
		E("S3INVAL_UPSTREAM_ADDRESSING=path"),
		E("S3INVAL_CLOUDFRONT_MAX_REQUESTS_PER_SECOND=3"),
		E("S3INVAL_LOG_LEVEL=debug"),
		/* The first of two wins, as with getenv(). */
		E("S3INVAL_LOG_FORMAT=json"),
		E("S3INVAL_LOG_FORMAT=text"),
		E("S3INVAL_SERVER_TLS_CERT="),
		NULL
	};
	static const char text[] =
	    "[server]\n"
	    "listen = 127.0.0.1:1\n"
	    "admin_listen = 127.0.0.1:2\n"
	    "[upstream]\n"
	    "endpoint = https://s3.example.com\n"
	    "[auth]\n"
	    "mode = sigv4\n"
	    "[log]\n"
	    "level = error\n";
	struct cfg	*c;
	char		*errs;

	(void)state;
	assert_int_equal(load(text, env, &c, &errs), 0);
	free(errs);
	assert_string_equal(c->server.listen, "0.0.0.0:80");
	assert_string_equal(c->server.admin_listen, "127.0.0.1:2");
	assert_string_equal(c->server.state_dir, "/data");
	assert_string_equal(c->server.tls_cert, "");
	assert_string_equal(c->upstream.endpoint, "http://moto:5000");
	assert_int_equal(c->upstream.addressing, CFG_ADDR_PATH);
	assert_int_equal(c->auth.mode, CFG_AUTH_NONE);
	assert_true(c->cloudfront.max_requests_per_second == 3);
	assert_int_equal(c->log.level, CFG_LOG_DEBUG);
	assert_int_equal(c->log.format, CFG_LOG_JSON);
	cfg_free(c);
}

static void
test_env_bucket_client(void **state)
{
	char *const env[] = {
		E("S3INVAL_BUCKET_NAME=site"),
		E("S3INVAL_BUCKET_UPSTREAM_BUCKET=site-prod"),
		E("S3INVAL_BUCKET_DISTRIBUTIONS=EA, EB"),
		E("S3INVAL_BUCKET_ORIGIN_PATH=/www/"),
		E("S3INVAL_BUCKET_INDEX_DOCUMENTS="),
		E("S3INVAL_CLIENT_ACCESS_KEY_ID=AKIAENV"),
		E("S3INVAL_CLIENT_SECRET_ACCESS_KEY=envsecret"),
		E("S3INVAL_CLIENT_BUCKETS=site:rw, blog:r"),
		NULL
	};
	static const char text[] = "[bucket blog]\n";
	const struct cfg_bucket	*b;
	const struct cfg_client	*cl;
	struct cfg		*c;
	char			*errs;

	(void)state;
	assert_int_equal(load(text, env, &c, &errs), 0);
	free(errs);
	assert_int_equal(c->n_buckets, 2);
	b = cfg_bucket_find(c, "site");
	assert_non_null(b);
	assert_string_equal(b->upstream_bucket, "site-prod");
	assert_int_equal(b->n_distributions, 2);
	assert_string_equal(b->distributions[1], "EB");
	assert_string_equal(b->origin_path, "/www");
	assert_int_equal(b->n_index_documents, 0);
	assert_int_equal(c->n_clients, 1);
	cl = cfg_client_find(c, "AKIAENV");
	assert_non_null(cl);
	assert_string_equal(cl->name, "env");
	assert_string_equal(cl->secret_access_key, "envsecret");
	assert_true(cfg_client_may(cl, "site", 1));
	assert_true(cfg_client_may(cl, "blog", 0));
	assert_false(cfg_client_may(cl, "blog", 1));
	cfg_free(c);

	/* Environment only, no file at all. */
	assert_int_equal(load(NULL, env, &c, &errs), 1);
	assert_string_equal(errs, "env S3INVAL_CLIENT_BUCKETS: [client env] "
	    "grants bucket \"blog\", which has no [bucket blog] section (nor "
	    "is there a [bucket *])\n");
	free(errs);
}

/* ---- lookups ------------------------------------------------------- */

static void
test_lookups(void **state)
{
	static const char text[] =
	    "[client w]\naccess_key_id = AKIAW\nsecret_access_key = s\n"
	    "buckets = blog:rw, assets:r\n"
	    "[client any]\naccess_key_id = AKIAANY\nsecret_access_key = t\n"
	    "buckets = *:r, blog:rw\n"
	    "[bucket blog]\n[bucket assets]\n";
	static const char text_star[] =
	    "[auth]\nmode = none\n[bucket *]\n[bucket blog]\n";
	static const char text_rights[] =
	    "[client w]\naccess_key_id = AKIAWO\nsecret_access_key = s\n"
	    "buckets = blog:w\n"
	    "[client adm]\naccess_key_id = AKIAADM\nsecret_access_key = s\n"
	    "buckets = blog:r, *:admin, blog:w, assets:r\n"
	    "[bucket blog]\n[bucket assets]\n";
	const struct cfg_client	*w, *any;
	struct cfg		*c;
	char			*errs, *printed;

	(void)state;
	assert_int_equal(load(text, env_empty, &c, &errs), 0);
	free(errs);
	w = cfg_client_find(c, "AKIAW");
	any = cfg_client_find(c, "AKIAANY");
	assert_non_null(w);
	assert_non_null(any);
	assert_null(cfg_client_find(c, "AKIANONE"));
	assert_null(cfg_client_find(c, NULL));
	assert_true(cfg_client_may(w, "blog", CFG_RIGHT_R));
	assert_true(cfg_client_may(w, "blog", CFG_RIGHT_W));
	assert_false(cfg_client_may(w, "blog", CFG_RIGHT_ADMIN));
	assert_true(cfg_client_may(w, "assets", CFG_RIGHT_R));
	assert_false(cfg_client_may(w, "assets", CFG_RIGHT_W));
	assert_false(cfg_client_may(w, "other", CFG_RIGHT_R));
	assert_false(cfg_client_may(w, "blo", CFG_RIGHT_R));
	assert_true(cfg_client_may(any, "other", CFG_RIGHT_R));
	assert_false(cfg_client_may(any, "other", CFG_RIGHT_W));
	assert_true(cfg_client_may(any, "blog", CFG_RIGHT_W));
	assert_false(cfg_client_may(NULL, "blog", CFG_RIGHT_R));
	assert_false(cfg_client_may(w, NULL, CFG_RIGHT_R));
	assert_string_equal(cfg_bucket_find(c, "blog")->name, "blog");
	assert_null(cfg_bucket_find(c, "other"));
	cfg_free(c);

	/* w, admin, and the rights of "*" and a name added up. */
	assert_int_equal(load(text_rights, env_empty, &c, &errs), 0);
	free(errs);
	w = cfg_client_find(c, "AKIAWO");
	assert_false(cfg_client_may(w, "blog", CFG_RIGHT_R));
	assert_true(cfg_client_may(w, "blog", CFG_RIGHT_W));
	assert_false(cfg_client_may(w, "blog", CFG_RIGHT_ADMIN));
	any = cfg_client_find(c, "AKIAADM");
	assert_true(cfg_client_may(any, "blog", CFG_RIGHT_R));
	assert_true(cfg_client_may(any, "blog", CFG_RIGHT_W));
	assert_true(cfg_client_may(any, "blog", CFG_RIGHT_ADMIN));
	assert_true(cfg_client_may(any, "assets", CFG_RIGHT_R));
	assert_false(cfg_client_may(any, "assets", CFG_RIGHT_W));
	assert_true(cfg_client_may(any, "assets", CFG_RIGHT_ADMIN));
	/* Printed as items that load back the same. */
	printed = print_str(c);
	assert_non_null(strstr(printed, "buckets = blog:w\n"));
	assert_non_null(strstr(printed, "buckets = blog:rw, *:admin, "
	    "assets:r\n"));
	free(printed);
	cfg_free(c);

	assert_int_equal(load(text_star, env_empty, &c, &errs), 0);
	free(errs);
	/* Exact name first, though "*" comes first in the file. */
	assert_string_equal(cfg_bucket_find(c, "blog")->name, "blog");
	assert_string_equal(cfg_bucket_find(c, "other")->name, "*");
	assert_null(cfg_bucket_find(c, "other")->upstream_bucket);
	cfg_free(c);
}

/* ---- durations and sizes ------------------------------------------- */

static void
test_durations(void **state)
{
	static const struct {
		const char	*s;
		int		 ok;
		int64_t		 ms;
	} t[] = {
		{ "0", 1, 0 },
		{ "5", 1, 5000 },
		{ "0ms", 1, 0 },
		{ "500ms", 1, 500 },
		{ "5s", 1, 5000 },
		{ "2m", 1, 120000 },
		{ "1h", 1, 3600000 },
		{ "1d", 1, 86400000 },
		{ "007s", 1, 7000 },
		{ "9223372036854775807ms", 1, INT64_MAX },
		{ "9223372036854775s", 1, INT64_C(9223372036854775000) },
		{ "106751991167d", 1, INT64_C(9223372036828800000) },
		{ "9223372036854775808ms", 0, 0 },
		{ "9223372036854776s", 0, 0 },
		{ "106751991168d", 0, 0 },
		{ "99999999999999999999999", 0, 0 },
		{ "", 0, 0 },
		{ "-1", 0, 0 },
		{ "-1s", 0, 0 },
		{ "+1s", 0, 0 },
		{ " 5s", 0, 0 },
		{ "5s ", 0, 0 },
		{ "5 s", 0, 0 },
		{ "1.5s", 0, 0 },
		{ "5sec", 0, 0 },
		{ "5S", 0, 0 },
		{ "1h30m", 0, 0 },
		{ "ms", 0, 0 },
		{ "s", 0, 0 },
		{ "0x10", 0, 0 },
	};
	size_t	 i;
	int64_t	 ms;
	int	 rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ms = -42;
		rc = cfg_parse_duration(t[i].s, &ms);
		if (rc != (t[i].ok ? 0 : -1) || ms != (t[i].ok ? t[i].ms : -42))
			fail_msg("duration \"%s\": rc %d, %lld ms", t[i].s, rc,
			    (long long)ms);
	}
	assert_int_equal(cfg_parse_duration(NULL, &ms), -1);
}

static void
test_sizes(void **state)
{
	static const struct {
		const char	*s;
		int		 ok;
		uint64_t	 n;
	} t[] = {
		{ "0", 1, 0 },
		{ "512", 1, 512 },
		{ "64k", 1, 65536 },
		{ "64K", 1, 65536 },
		{ "8m", 1, 8388608 },
		{ "8M", 1, 8388608 },
		{ "1g", 1, 1073741824 },
		{ "1G", 1, 1073741824 },
		{ "1t", 1, UINT64_C(1099511627776) },
		{ "2T", 1, UINT64_C(2199023255552) },
		{ "0k", 1, 0 },
		{ "18446744073709551615", 1, UINT64_MAX },
		{ "16777215t", 1, UINT64_C(16777215) << 40 },
		{ "16777216t", 0, 0 },
		{ "17179869184g", 0, 0 },
		{ "18446744073709551616", 0, 0 },
		{ "", 0, 0 },
		{ "-1", 0, 0 },
		{ "+1", 0, 0 },
		{ "1kb", 0, 0 },
		{ "1kib", 0, 0 },
		{ "1.5k", 0, 0 },
		{ "k", 0, 0 },
		{ " 1k", 0, 0 },
		{ "1k ", 0, 0 },
		{ "1x", 0, 0 },
		{ "1p", 0, 0 },
	};
	size_t		 i;
	uint64_t	 n;
	int		 rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = 42;
		rc = cfg_parse_size(t[i].s, &n);
		if (rc != (t[i].ok ? 0 : -1) || n != (t[i].ok ? t[i].n : 42))
			fail_msg("size \"%s\": rc %d, %llu bytes", t[i].s, rc,
			    (unsigned long long)n);
	}
	assert_int_equal(cfg_parse_size(NULL, &n), -1);
}

/* Whole numbers (UINT keys), read by the same decimal reader as sizes
 * and durations: up to UINT_MAX exactly. */
static void
test_whole_numbers(void **state)
{
	static const struct {
		const char	*s;
		int		 ok;
		unsigned	 n;
	} t[] = {
		{ "0", 1, 0 },
		{ "15", 1, 15 },
		{ "007", 1, 7 },
		{ "4294967295", 1, 4294967295u },
		{ "4294967296", 0, 0 },
		{ "42949672950", 0, 0 },
		{ "99999999999999999999999", 0, 0 },
		{ "", 0, 0 },
		{ "-1", 0, 0 },
		{ "+1", 0, 0 },
		{ " 1", 0, 0 },
		{ "1 ", 0, 0 },
		{ "1k", 0, 0 },
		{ "1.0", 0, 0 },
		{ "0x10", 0, 0 },
	};
	size_t		 i;
	unsigned	 n;
	int		 rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = 42;
		rc = cfg_value_uint(t[i].s, &n);
		if (rc != (t[i].ok ? 0 : -1) || n != (t[i].ok ? t[i].n : 42))
			fail_msg("whole number \"%s\": rc %d, %u", t[i].s, rc,
			    n);
	}
}

/* Printing picks the largest exact unit; loading reads it back. */
static void
test_print_units(void **state)
{
	char *const env[] = {
		E("S3INVAL_AUTH_MODE=none"),
		E("S3INVAL_SERVER_CLIENT_TIMEOUT=90000ms"),
		E("S3INVAL_SERVER_SPOOL_MAX=1048576"),
		E("S3INVAL_SERVER_MAX_HEADER_SIZE=1025"),
		E("S3INVAL_UPSTREAM_TIMEOUT=1500ms"),
		E("S3INVAL_CLOUDFRONT_MAX_REQUESTS_PER_SECOND=0.1"),
		NULL
	};
	struct cfg	*c;
	char		*errs, *p;

	(void)state;
	assert_int_equal(load(NULL, env, &c, &errs), 0);
	free(errs);
	p = print_str(c);
	assert_non_null(strstr(p, "\nclient_timeout = 90s\n"));
	assert_non_null(strstr(p, "\nspool_max = 1m\n"));
	assert_non_null(strstr(p, "\nmax_header_size = 1025\n"));
	assert_non_null(strstr(p, "\ntimeout = 1500ms\n"));
	assert_non_null(strstr(p, "\nmax_requests_per_second = 0.1\n"));
	assert_non_null(strstr(p, "\nmax_skew = 15m\n"));
	assert_non_null(strstr(p, "\nmonthly_free_paths = 1000\n"));
	assert_non_null(strstr(p, "\nmode = none\n"));
	assert_non_null(strstr(p, "\nvirtual_host_base =\n"));
	free(p);
	cfg_free(c);
}

/* ---- server.admin_token -------------------------------------------- */

static const struct {
	const char	*text;
	const char	*printed;	/* in cfg_print()'s output */
	const char	*err;		/* NULL: loads */
} admin_tokens[] = {
	{ "", "admin_token =\n", NULL },
	{ "[server]\nadmin_token =\n", "admin_token =\n", NULL },
	{ "[server]\nadmin_token = s3cr3t-t0ken-0123456789\n",
	    "admin_token = ********\n", NULL },
	{ "[server]\nadmin_token_file = /run/secrets/admin\n",
	    "admin_token_file = /run/secrets/admin\n", NULL },
	{ "[server]\nadmin_token = s3cr3t-t0ken-0123456789\n"
	    "admin_token_file = /run/secrets/admin\n", NULL,
	    "F:3: admin_token and admin_token_file are both set: keep one\n" },
	/* Only the server's token may be empty, never a client's secret. */
	{ "[client c]\naccess_key_id = AKIA1\nsecret_access_key =\n", NULL,
	    "F:3: bad secret_access_key: must not be empty\n" },
};

static void
test_admin_token(void **state)
{
	struct cfg	*c;
	char		*errs, *p;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(admin_tokens) / sizeof(admin_tokens[0]); i++) {
		if (admin_tokens[i].err != NULL) {
			assert_int_equal(load(admin_tokens[i].text, env_none,
			    &c, &errs), 1);
			assert_string_equal(errs, admin_tokens[i].err);
			free(errs);
			continue;
		}
		if (load(admin_tokens[i].text, env_none, &c, &errs) != 0)
			fail_msg("%s: %s", admin_tokens[i].text, errs);
		free(errs);
		p = print_str(c);
		if (strstr(p, admin_tokens[i].printed) == NULL)
			fail_msg("%s: no \"%s\" in\n%s", admin_tokens[i].text,
			    admin_tokens[i].printed, p);
		assert_null(strstr(p, "s3cr3t"));
		free(p);
		cfg_free(c);
	}
}

/* ---- the example file ---------------------------------------------- */

static char *
read_example(size_t *len)
{
	const char	*top;
	char		 path[1024];
	char		*text;
	FILE		*fp;
	long		 n;

	top = getenv("TOP_SRCDIR");
	snprintf(path, sizeof(path), "%s/config/s3inval.conf.example",
	    top != NULL && *top != '\0' ? top : ".");
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s (set TOP_SRCDIR)", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	text = malloc((size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	text[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return text;
}

/*
 * Every key of the table appears as "#key = value" in its section, right
 * under a block of comment lines that starts "; <the table's
 * description>" and, for a number, says "at most <its bound>"; for
 * [server] and the like, value is the table's default.
 */
static void
test_example_documents_keys(void **state)
{
	char		*text, *line, *save, *first;
	char		 section[64], want[256], block[1024];
	size_t		 len, k;
	int		 found[NTKEYS];

	(void)state;
	memset(found, 0, sizeof(found));
	text = read_example(&len);
	section[0] = '\0';
	first = NULL;
	block[0] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strlen(line) > 80)
			fail_msg("example line over 80 columns: %s", line);
		if (line[0] == '[' || (line[0] == '#' && line[1] == '[')) {
			snprintf(section, sizeof(section), "%.*s",
			    (int)strcspn(line + 1 + (line[0] == '#'), " ]"),
			    line + 1 + (line[0] == '#'));
		}
		for (k = 0; k < NTKEYS; k++) {
			if (strcmp(tkeys[k].section, section) != 0)
				continue;
			/* Commented out, or set (the [client] and [bucket]
			 * of the example, so that it loads as shipped). */
			snprintf(want, sizeof(want), "#%s =", tkeys[k].name);
			if (strncmp(line, want, strlen(want)) != 0 &&
			    strncmp(line, want + 1, strlen(want + 1)) != 0)
				continue;
			if (first == NULL || strncmp(first + 2, tkeys[k].desc,
			    strlen(tkeys[k].desc)) != 0)
				fail_msg("[%s] %s: the comment above it must "
				    "start \"; %s\"", section, tkeys[k].name,
				    tkeys[k].desc);
			snprintf(want, sizeof(want), "at most %s",
			    is_number(&tkeys[k]) ? tkey_max(&tkeys[k]) : "");
			if (is_number(&tkeys[k]) &&
			    strstr(block, want) == NULL)
				fail_msg("[%s] %s: the comment above it must "
				    "say \"%s\"", section, tkeys[k].name,
				    want);
			if (strcmp(section, "client") != 0 &&
			    strcmp(section, "bucket") != 0) {
				snprintf(want, sizeof(want), "#%s =%s%s",
				    tkeys[k].name,
				    *tkeys[k].def != '\0' ? " " : "",
				    tkeys[k].def);
				if (strcmp(line, want) != 0)
					fail_msg("example has \"%s\", the "
					    "default is \"%s\"", line, want);
			}
			found[k]++;
		}
		/* The block of "; " lines right above the next line. */
		if (strncmp(line, "; ", 2) == 0) {
			if (first == NULL) {
				first = line;
				block[0] = '\0';
			}
			if (strlen(block) + strlen(line) + 2 < sizeof(block)) {
				strcat(block, line + 1);
				strcat(block, " ");
			}
		} else
			first = NULL;
	}
	for (k = 0; k < NTKEYS; k++) {
		if (found[k] != 1)
			fail_msg("[%s] %s: documented %d times, not once",
			    tkeys[k].section, tkeys[k].name, found[k]);
	}
	free(text);
}

static void
test_example_loads(void **state)
{
	const struct cfg_bucket	*b;
	struct cfg		*c;
	char			*text, *on, *errs;
	size_t			 len, i, j;

	(void)state;
	text = read_example(&len);

	/* As shipped: it loads (issue 11), with its placeholder client and
	 * bucket. */
	assert_int_equal(load(text, env_empty, &c, &errs), 0);
	assert_string_equal(errs, "");
	free(errs);
	assert_int_equal(c->n_clients, 1);
	assert_int_equal(c->n_buckets, 1);
	cfg_free(c);

	/* Every "#setting" uncommented. */
	on = malloc(len + 1);
	assert_non_null(on);
	for (i = j = 0; i < len; i++) {
		if (text[i] == '#' && (i == 0 || text[i - 1] == '\n') &&
		    (text[i + 1] == '[' || (text[i + 1] >= 'a' &&
		    text[i + 1] <= 'z')))
			continue;
		on[j++] = text[i];
	}
	on[j] = '\0';
	assert_int_equal(load(on, env_empty, &c, &errs), 0);
	assert_string_equal(errs, "");
	free(errs);
	assert_int_equal(c->n_clients, 1);
	assert_string_equal(c->clients[0].name, "deploy");
	assert_true(cfg_client_may(&c->clients[0], "blog", 1));
	b = cfg_bucket_find(c, "blog");
	assert_non_null(b);
	assert_int_equal(b->n_distributions, 1);
	assert_string_equal(b->index_documents[0], "index.html");
	assert_string_equal(c->server.listen, "127.0.0.1:8080");
	cfg_free(c);
	free(on);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_values),
		cmocka_unit_test(test_good_roundtrip),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_same_file),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_env_overrides),
		cmocka_unit_test(test_env_bucket_client),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_whole_numbers),
		cmocka_unit_test(test_print_units),
		cmocka_unit_test(test_admin_token),
		cmocka_unit_test(test_example_documents_keys),
		cmocka_unit_test(test_example_loads),
	};

	return cmocka_run_group_tests_name("cfg", tests, setup, teardown);
}
