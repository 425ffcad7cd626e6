/* SPDX-License-Identifier: Apache-2.0 */
/* admin_auth: see admin_auth.h. */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "admin_auth.h"
#include "util.h"

/* An IPv4 or IPv6 address in network order; family 0: not a literal. */
struct lit {
	int		 family;
	unsigned char	 a[16];
};

static void
literal(const char *s, int bracketed, struct lit *l)
{
	memset(l, 0, sizeof(*l));
	if (bracketed) {
		if (inet_pton(AF_INET6, s, l->a) == 1)
			l->family = AF_INET6;
	} else if (inet_pton(AF_INET, s, l->a) == 1)
		l->family = AF_INET;
}

static int
lit_eq(const struct lit *x, const struct lit *y)
{
	return x->family != 0 && x->family == y->family &&
	    memcmp(x->a, y->a, x->family == AF_INET ? 4 : 16) == 0;
}

static int
lit_any(const struct lit *l)
{
	static const unsigned char zero[16];

	return l->family != 0 &&
	    memcmp(l->a, zero, l->family == AF_INET ? 4 : 16) == 0;
}

/* ":PORT" or "" after the host of a Host header; 1 when it fits port. */
static int
port_ok(const char *rest, unsigned port)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (*rest == '\0')
		return 1;
	if (*rest++ != ':' || *rest == '\0' || strlen(rest) > 5)
		return 0;
	for (i = 0; rest[i] != '\0'; i++) {
		if (rest[i] < '0' || rest[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(rest[i] - '0');
	}
	return v == port;
}

int
admin_auth_host_ok(const char *listen, const char *names, const char *host)
{
	struct lit	 want, got, loop;
	const char	*rest, *close;
	char		 lhost[256], name[256];
	unsigned	 lport;
	size_t		 n;
	int		 br;

	if (listen == NULL || host == NULL ||
	    util_split_hostport(listen, lhost, sizeof(lhost), &lport) == -1)
		return 0;
	br = host[0] == '[';
	if (br) {
		close = strchr(host, ']');
		if (close == NULL)
			return 0;
		n = (size_t)(close - host - 1);
		host++;
		rest = close + 1;
	} else {
		n = strcspn(host, ":");
		rest = host + n;
	}
	if (n == 0 || n >= sizeof(name) || !port_ok(rest, lport))
		return 0;
	memcpy(name, host, n);
	name[n] = '\0';

	literal(name, br, &got);
	if (br && got.family == 0)
		return 0;		/* "[name]" is nothing */
	literal(lhost, strchr(lhost, ':') != NULL, &want);
	if (got.family == 0)		/* a name: only those named */
		return strcasecmp(name, "localhost") == 0 ||
		    (want.family == 0 && strcasecmp(name, lhost) == 0) ||
		    (names != NULL && util_token_in(names, name));
	if (lit_any(&want) || lit_eq(&got, &want))
		return 1;
	literal(br ? "::1" : "127.0.0.1", br, &loop);
	return lit_eq(&got, &loop);
}

const char *
admin_auth_token_invalid(const char *tok)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-._~+/";
	size_t			 n, len;

	len = strlen(tok);
	if (len < ADMIN_TOKEN_MIN)
		return "shorter than 16 characters (make one with: "
		    "openssl rand -hex 32)";
	if (len > ADMIN_TOKEN_MAX)
		return "longer than 1024 characters";
	n = strspn(tok, b64);
	while (tok[n] == '=')
		n++;
	if (n != len)
		return "only letters, digits, - . _ ~ + / and a trailing = "
		    "may be used (RFC 6750 b64token)";
	return NULL;
}

/* The first line of path, without its line ending, into *out. */
static int
read_token_file(const char *path, char **out, char *err, size_t errsz)
{
	struct stat	 st;
	char		 buf[ADMIN_TOKEN_MAX + 4];
	ssize_t		 r;
	size_t		 len = 0;
	int		 fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		snprintf(err, errsz, "server.admin_token_file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "server.admin_token_file %s: not a "
		    "regular file", path);
		goto out;
	}
	while (len < sizeof(buf) - 1) {
		r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errsz, "server.admin_token_file %s: %s",
			    path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	/* One line: what an editor or `echo` leaves after it goes. */
	len = strcspn(buf, "\r\n");
	if (strspn(buf + len, "\r\n") != strlen(buf + len)) {
		snprintf(err, errsz, "server.admin_token_file %s: more than "
		    "one line, or longer than %d characters", path,
		    ADMIN_TOKEN_MAX);
		goto out;
	}
	buf[len] = '\0';
	*out = strdup(buf);
	if (*out == NULL) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}

int
admin_auth_token_get(const char *token, const char *file, char **out,
    char *err, size_t errsz)
{
	const char	*why;
	int		 has_tok = token != NULL && *token != '\0';
	int		 has_file = file != NULL && *file != '\0';

	*out = NULL;
	if (has_tok && has_file) {
		snprintf(err, errsz, "server.admin_token and "
		    "server.admin_token_file are both set: keep one");
		return -1;
	}
	if (has_file && file[0] != '/') {
		snprintf(err, errsz, "server.admin_token_file %s: give an "
		    "absolute path", file);
		return -1;
	}
	if (has_file) {
		if (read_token_file(file, out, err, errsz) == -1)
			return -1;
	} else if (has_tok) {
		*out = strdup(token);
		if (*out == NULL) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
	} else
		return 0;
	why = admin_auth_token_invalid(*out);
	if (why != NULL) {
		snprintf(err, errsz, "%s%s: %s", has_file ?
		    "the token in server.admin_token_file " : "server.admin_token",
		    has_file ? file : "", why);
		admin_auth_token_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

void
admin_auth_token_free(char *tok)
{
	if (tok != NULL)
		OPENSSL_cleanse(tok, strlen(tok));
	free(tok);
}

void
admin_auth_digest(const char *tok, unsigned char out[ADMIN_DIGEST_LEN])
{
	SHA256((const unsigned char *)tok, strlen(tok), out);
}

int
admin_auth_bearer_ok(const unsigned char want[ADMIN_DIGEST_LEN],
    const char *authz)
{
	unsigned char	 got[ADMIN_DIGEST_LEN];
	int		 ok;

	if (authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0)
		return 0;
	authz += 7;
	authz += strspn(authz, " ");
	if (*authz == '\0' || strlen(authz) > ADMIN_TOKEN_MAX)
		return 0;
	/* Digests of equal length: the time taken says nothing about
	 * where, or whether, the token differs. */
	admin_auth_digest(authz, got);
	ok = CRYPTO_memcmp(got, want, ADMIN_DIGEST_LEN) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}
