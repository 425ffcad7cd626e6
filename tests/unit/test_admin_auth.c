/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_admin_auth: the admin listener's Host check against a table of
 * listen addresses and Host values (DNS rebinding sends a name; an IP
 * literal cannot be rebound; server.admin_hosts names more); the token rules (RFC 6750 b64token, 16 to
 * 1024 characters); reading admin_token_file (one line, an absolute path,
 * not both keys); and the bearer comparison.
 *
 * Files are written under a mkdtemp() directory, removed at the end.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin_auth.h"

#define TOKEN	"0123456789abcdef0123456789abcdef"

static const struct {
	const char	*listen;
	const char	*host;
	int		 ok;
} hosts[] = {
	/* The configured address, with its port or bare. */
	{ "127.0.0.1:9090", "127.0.0.1:9090", 1 },
	{ "127.0.0.1:9090", "127.0.0.1", 1 },
	{ "127.0.0.1:9090", "localhost:9090", 1 },
	{ "127.0.0.1:9090", "LocalHost", 1 },
	{ "127.0.0.1:9090", "[::1]:9090", 1 },
	{ "127.0.0.1:9090", "[::1]", 1 },
	{ "127.0.0.1:9090", "[0:0:0:0:0:0:0:1]:9090", 1 },
	{ "127.0.0.1:9090", "127.0.0.1:09090", 1 },
	/* Another port, another name, no Host: refused. */
	{ "127.0.0.1:9090", "127.0.0.1:9091", 0 },
	{ "127.0.0.1:9090", "localhost:80", 0 },
	{ "127.0.0.1:9090", "evil.example:9090", 0 },
	{ "127.0.0.1:9090", "evil.example", 0 },
	{ "127.0.0.1:9090", "localhost.:9090", 0 },
	{ "127.0.0.1:9090", "localhost.evil.example:9090", 0 },
	{ "127.0.0.1:9090", "127.0.0.2:9090", 0 },
	{ "127.0.0.1:9090", "10.0.0.1:9090", 0 },
	{ "127.0.0.1:9090", NULL, 0 },
	{ "127.0.0.1:9090", "", 0 },
	{ "127.0.0.1:9090", ":9090", 0 },
	{ "127.0.0.1:9090", "127.0.0.1:", 0 },
	{ "127.0.0.1:9090", "127.0.0.1:9090:9090", 0 },
	{ "127.0.0.1:9090", "127.0.0.1:90x0", 0 },
	{ "127.0.0.1:9090", "127.0.0.1:909000", 0 },
	{ "127.0.0.1:9090", "[127.0.0.1]:9090", 0 },
	{ "127.0.0.1:9090", "[localhost]:9090", 0 },
	{ "127.0.0.1:9090", "[::1", 0 },
	{ "127.0.0.1:9090", "[::1]x", 0 },
	{ "127.0.0.1:9090", "::1:9090", 0 },
	{ "127.0.0.1:9090", "127.0.0.1 :9090", 0 },
	/* IPv6 listen address. */
	{ "[::1]:9090", "[::1]:9090", 1 },
	{ "[::1]:9090", "localhost:9090", 1 },
	{ "[::1]:9090", "[::2]:9090", 0 },
	/* A name as the listen host. */
	{ "localhost:9090", "localhost:9090", 1 },
	{ "admin.internal:9090", "admin.internal:9090", 1 },
	{ "admin.internal:9090", "ADMIN.internal", 1 },
	{ "admin.internal:9090", "other.internal:9090", 0 },
	/* A specific remote address: itself and loopback. */
	{ "10.1.2.3:9090", "10.1.2.3:9090", 1 },
	{ "10.1.2.3:9090", "127.0.0.1:9090", 1 },
	{ "10.1.2.3:9090", "10.1.2.4:9090", 0 },
	{ "10.1.2.3:9090", "pod.example:9090", 0 },
	/* Wildcards take any IP literal, never a name. */
	{ "0.0.0.0:9090", "10.1.2.3:9090", 1 },
	{ "0.0.0.0:9090", "[fd00::5]:9090", 1 },
	{ "0.0.0.0:9090", "evil.example:9090", 0 },
	{ "0.0.0.0:9090", "10.1.2.3:9091", 0 },
	{ "[::]:9090", "192.168.1.1:9090", 1 },
	{ "[::]:9090", "rebind.example:9090", 0 },
	/* Names from server.admin_hosts, on any listen address. */
	{ "0.0.0.0:9090", "s3inval:9090", 1 },
	{ "0.0.0.0:9090", "S3INVAL", 1 },
	{ "0.0.0.0:9090", "s3inval:9091", 0 },
	{ "0.0.0.0:9090", "s3inval.evil.example:9090", 0 },
	{ "127.0.0.1:9090", "admin.svc.internal:9090", 1 },
	{ "127.0.0.1:9090", "svc.internal:9090", 0 },
	{ "127.0.0.1:9090", "s3inval,admin.svc.internal", 0 },
	{ "127.0.0.1:9090", "", 0 },
};

static void
test_host(void **state)
{
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		if (admin_auth_host_ok(hosts[i].listen,
		    " s3inval,admin.svc.internal ", hosts[i].host) !=
		    hosts[i].ok)
			fail_msg("listen %s, Host %s: want %s", hosts[i].listen,
			    hosts[i].host != NULL ? hosts[i].host : "(none)",
			    hosts[i].ok ? "served" : "refused");
	}
}

static const struct {
	const char	*tok;
	int		 ok;
} tokens[] = {
	{ TOKEN, 1 },
	{ "abcdefghijklmnop", 1 },		/* 16: the shortest */
	{ "abcdefghijklmno", 0 },		/* 15 */
	{ "", 0 },
	{ "AZaz09-._~+/AZaz09==", 1 },
	{ "abcdefghijklmnop=q", 0 },		/* = only at the end */
	{ "abcdefgh ijklmnop", 0 },
	{ "abcdefghijklmnop\"", 0 },
	{ "abcdefghijklmnop,", 0 },
	{ "abcdefghijklmnop\t", 0 },
	{ "abcdefghijklmnop\xc3\xa9", 0 },
};

static void
test_token_rules(void **state)
{
	char	 big[ADMIN_TOKEN_MAX + 2];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		if ((admin_auth_token_invalid(tokens[i].tok) == NULL) !=
		    tokens[i].ok)
			fail_msg("token \"%s\": want %s", tokens[i].tok,
			    tokens[i].ok ? "valid" : "invalid");
	}
	memset(big, 'a', sizeof(big));
	big[ADMIN_TOKEN_MAX] = '\0';
	assert_null(admin_auth_token_invalid(big));
	big[ADMIN_TOKEN_MAX] = 'a';
	big[ADMIN_TOKEN_MAX + 1] = '\0';
	assert_non_null(admin_auth_token_invalid(big));
}

static char	 dir[256];

static const char *
file_with(const char *name, const char *text)
{
	static char	 path[512];
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

static const struct {
	const char	*text;		/* the file's content */
	int		 ok;
} files[] = {
	{ TOKEN, 1 },
	{ TOKEN "\n", 1 },
	{ TOKEN "\r\n", 1 },
	{ TOKEN "\n\n", 1 },
	{ TOKEN "\n" TOKEN "\n", 0 },		/* two lines */
	{ TOKEN " \n", 0 },			/* a space is not a token */
	{ "\n", 0 },
	{ "", 0 },
	{ "short\n", 0 },
};

static void
test_token_file(void **state)
{
	const char	*path;
	char		*tok;
	char		 err[512];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path = file_with("token", files[i].text);
		err[0] = '\0';
		if ((admin_auth_token_get(NULL, path, &tok, err,
		    sizeof(err)) == 0) != files[i].ok)
			fail_msg("file \"%s\": want %s (%s)", files[i].text,
			    files[i].ok ? "read" : "refused", err);
		if (files[i].ok)
			assert_string_equal(tok, TOKEN);
		else {
			assert_null(tok);
			/* The message never holds the token. */
			assert_null(strstr(err, TOKEN));
		}
		admin_auth_token_free(tok);
	}
	unlink(path);

	/* Neither: no token; the key: itself; both: refused. */
	assert_int_equal(admin_auth_token_get(NULL, "", &tok, err,
	    sizeof(err)), 0);
	assert_null(tok);
	assert_int_equal(admin_auth_token_get(TOKEN, NULL, &tok, err,
	    sizeof(err)), 0);
	assert_string_equal(tok, TOKEN);
	admin_auth_token_free(tok);
	assert_int_equal(admin_auth_token_get(TOKEN, "/etc/hostname", &tok,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "both"));
	assert_int_equal(admin_auth_token_get("too short", NULL, &tok, err,
	    sizeof(err)), -1);
	assert_null(strstr(err, "too short"));
	/* A relative path, a missing file, a directory. */
	assert_int_equal(admin_auth_token_get(NULL, "token", &tok, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "absolute"));
	assert_int_equal(admin_auth_token_get(NULL, "/nonexistent/token",
	    &tok, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/token"));
	assert_int_equal(admin_auth_token_get(NULL, dir, &tok, err,
	    sizeof(err)), -1);
}

static const struct {
	const char	*authz;
	int		 ok;
} bearers[] = {
	{ "Bearer " TOKEN, 1 },
	{ "bearer " TOKEN, 1 },
	{ "BEARER  " TOKEN, 1 },
	{ "Bearer " TOKEN "x", 0 },
	{ "Bearer " "0123456789abcdef0123456789abcdeF", 0 },
	{ "Bearer 0123456789abcdef", 0 },
	{ "Bearer", 0 },
	{ "Bearer ", 0 },
	{ "Basic " TOKEN, 0 },
	{ TOKEN, 0 },
	{ "Bearer" TOKEN, 0 },
	{ NULL, 0 },
};

static void
test_bearer(void **state)
{
	unsigned char	 want[ADMIN_DIGEST_LEN];
	size_t		 i;

	(void)state;
	admin_auth_digest(TOKEN, want);
	for (i = 0; i < sizeof(bearers) / sizeof(bearers[0]); i++) {
		if (admin_auth_bearer_ok(want, bearers[i].authz) !=
		    bearers[i].ok)
			fail_msg("Authorization \"%s\": want %s",
			    bearers[i].authz != NULL ? bearers[i].authz :
			    "(none)", bearers[i].ok ? "accepted" : "refused");
	}
}

static int
setup(void **state)
{
	const char	*t = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_admin_auth.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_token_rules),
		cmocka_unit_test(test_token_file),
		cmocka_unit_test(test_bearer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
