/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cred_set: what every source of the credential chain shares (see
 * cred.h): the checks a set must pass to be signed with, ISO 8601 times,
 * reading secret files (wiped as they grow and before they are freed),
 * error text, and the options of the chain's HTTP calls.  Pure but for
 * the file reads.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cred.h"
#include "date.h"

void
cred_seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list	 ap;

	if (errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

static const char *
env_get(char *const *envp, const char *name)
{
	size_t	 n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* A variable that is set and not empty, or NULL. */
const char *
cred_env_val(char *const *envp, const char *name)
{
	const char	*v = env_get(envp, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

int
cred_copy(char *dst, size_t dstsz, const char *src)
{
	size_t	 n = strlen(src);

	if (n >= dstsz)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* Printable ASCII without blanks: what may go into a header or a
 * credential scope. */
int
cred_printable(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* A header value: visible ASCII, blanks inside, no line break or other
 * control character (RFC 9110, "field-value"). */
int
cred_header_safe(const char *s)
{
	if (*s == '\0' || *s == ' ' || *s == '\t')
		return 0;
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') ||
		    (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* The set is usable: the key id fits in "Credential=AKID/date/...", the
 * secret and token are header-safe. */
int
cred_check_set(const struct credentials *c, char *err, size_t errsz)
{
	if (!cred_printable(c->access_key_id) ||
	    strpbrk(c->access_key_id, "/,;=") != NULL) {
		cred_seterr(err, errsz, "the access key id is empty or has "
		    "characters that cannot be signed");
		return -1;
	}
	if (!cred_printable(c->secret_access_key)) {
		cred_seterr(err, errsz, "the secret access key is empty or not "
		    "printable ASCII");
		return -1;
	}
	if (c->session_token[0] != '\0' && !cred_printable(c->session_token)) {
		cred_seterr(err, errsz, "the session token is not printable "
		    "ASCII");
		return -1;
	}
	return 0;
}

/* Keep printable ASCII of s (for text that came from a server), at most
 * max characters. */
void
cred_sanitize(char *s, size_t max)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= max) {
			s[i] = '\0';
			break;
		}
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			s[i] = '?';
	}
}

/* Trim trailing blanks and line ends in place. */
void
cred_rtrim(char *s)
{
	size_t	 n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
	    s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/*
 * The whole file at path, NUL-terminated, in *out (the caller wipes and
 * frees it).  0; or -1 with errno (ENOENT when missing, EFBIG over max).
 * A buffer that grows is wiped before it is freed: files hold secrets.
 */
int
cred_read_file(const char *path, size_t max, char **out, size_t *lenp)
{
	char	*b = NULL, *nb;
	size_t	 cap = 4096, len = 0;
	ssize_t	 r;
	int	 fd, rc = -1, saved = 0;

	*out = NULL;
	*lenp = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	b = malloc(cap + 1);
	if (b == NULL)
		goto out;
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				saved = EFBIG;
				goto out;
			}
			nb = malloc(cap * 2 + 1);
			if (nb == NULL)
				goto out;
			memcpy(nb, b, len);
			OPENSSL_cleanse(b, cap + 1);
			free(b);
			b = nb;
			cap *= 2;
		}
		r = read(fd, b + len, cap - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto out;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > max) {
		saved = EFBIG;
		goto out;
	}
	b[len] = '\0';
	*out = b;
	*lenp = len;
	b = NULL;
	rc = 0;
out:
	if (saved == 0)
		saved = errno;
	if (b != NULL) {
		OPENSSL_cleanse(b, cap + 1);
		free(b);
	}
	close(fd);
	errno = saved;
	return rc;
}

void
cred_free_secret(char *p, size_t n)
{
	if (p != NULL) {
		OPENSSL_cleanse(p, n);
		free(p);
	}
}

/* A token file's content, trailing line ends removed; -1 + err. */
int
cred_read_token(const char *path, size_t max, const char *what, char **out,
    size_t *lenp, char *err, size_t errsz)
{
	int	 bad;

	if (cred_read_file(path, max, out, lenp) == -1) {
		cred_seterr(err, errsz, "%s %s: %s", what, path,
		    errno == EFBIG ? "too long" : strerror(errno));
		return -1;
	}
	/* No NUL inside; trailing blanks and line ends go; what is left
	 * must fit in a header (an Authorization value is "Bearer ..."). */
	bad = memchr(*out, '\0', *lenp) != NULL;
	cred_rtrim(*out);
	if (bad || !cred_header_safe(*out)) {
		cred_seterr(err, errsz, "%s %s is empty or has characters "
		    "other than printable ASCII", what, path);
		cred_free_secret(*out, *lenp + 1);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* An http(s) URL without user info or fragment; into out without a
 * trailing '/'. */
int
cred_base_url(const char *url, char *out, size_t outsz)
{
	size_t	 n, skip;

	if (strncasecmp(url, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		skip = 8;
	else
		return -1;
	if (!cred_printable(url) || strpbrk(url, "@#") != NULL ||
	    cred_copy(out, outsz, url) == -1)
		return -1;
	n = strlen(out);
	while (n > skip && out[n - 1] == '/')
		out[--n] = '\0';
	return n > skip && out[skip] != '/' ? 0 : -1;
}

/* The n digits at s into *out; 0 when one is not a digit. */
static int
digits(const char *s, int n, int *out)
{
	*out = date_digits(s, n);
	return *out >= 0;
}

int
credentials_parse_time(const char *s, int64_t *out)
{
	const char	*p;
	int		 y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;

	if (s == NULL || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (!digits(p + 1, 2, &oh))
			return -1;
		p += 3;
		if (*p == ':')
			p++;
		if (!digits(p, 2, &om))
			return -1;
		p += 2;
		if (oh > 23 || om > 59)
			return -1;
	} else
		return -1;
	if (*p != '\0')
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > date_days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return -1;
	*out = date_days_from_civil(y, mo, d) * 86400 +
	    h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	return 0;
}

void
credentials_wipe(struct credentials *c)
{
	if (c != NULL)
		OPENSSL_cleanse(c, sizeof(*c));
}

const char *
credentials_kind_name(enum credentials_kind k)
{
	switch (k) {
	case CREDENTIALS_ENV:
		return "environment";
	case CREDENTIALS_PROFILE:
		return "profile";
	case CREDENTIALS_WEB_IDENTITY:
		return "web_identity";
	case CREDENTIALS_CONTAINER:
		return "container";
	case CREDENTIALS_IMDS:
		return "imds";
	case CREDENTIALS_NONE:
		break;
	}
	return "none";
}

/* A call of ours to url: a secret answer, cancelled by
 * credentials_fini(). */
void
cred_call_init(struct http_call *hc, const char *method, const char *url,
    long connect_ms, long total_ms)
{
	memset(hc, 0, sizeof(*hc));
	hc->method = method;
	hc->url = url;
	hc->connect_timeout_ms = connect_ms;
	hc->timeout_ms = total_ms;
	hc->body_max = CRED_BODY_MAX;
	hc->cancel = &cred_stop;
	hc->secret = 1;
}

/* Why an answer failed, for err: the call's own reason. */
const char *
cred_call_error(const struct http_answer *an)
{
	if (an->peer_refused)
		return "the host resolved to an address that is not loopback "
		    "or a container credentials agent: refused (plain http)";
	return an->error;
}
