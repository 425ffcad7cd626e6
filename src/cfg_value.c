/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_value: see cfg_value.h.  Decimal digits only: no signs, no hex, no
 * "inf" or "nan"; every number checked for overflow.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "cfg.h"
#include "cfg_value.h"

/*
 * The decimal digits at *s (one at least) as a number of at most max; *s
 * then points past them.  Returns 0, or -1 when there is no digit or the
 * number is above max (*s then unchanged).
 */
static int
decimal(const char **s, uint64_t max, uint64_t *out)
{
	const char	*p = *s;
	uint64_t	 n = 0, d;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		d = (uint64_t)(*p - '0');
		if (n > (max - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*s = p;
	*out = n;
	return 0;
}

int
cfg_parse_duration(const char *s, int64_t *ms)
{
	const char	*p = s;
	uint64_t	 n;
	int64_t		 mult;

	if (s == NULL || decimal(&p, INT64_MAX, &n) == -1)
		return -1;
	if (*p == '\0' || strcmp(p, "s") == 0)
		mult = 1000;
	else if (strcmp(p, "ms") == 0)
		mult = 1;
	else if (strcmp(p, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(p, "h") == 0)
		mult = 60 * 60 * 1000;
	else if (strcmp(p, "d") == 0)
		mult = 24 * 60 * 60 * 1000;
	else
		return -1;
	if ((int64_t)n > INT64_MAX / mult)
		return -1;
	*ms = (int64_t)n * mult;
	return 0;
}

int
cfg_parse_size(const char *s, uint64_t *bytes)
{
	const char	*p = s;
	uint64_t	 n;
	unsigned	 shift;

	if (s == NULL || decimal(&p, UINT64_MAX, &n) == -1)
		return -1;
	shift = 0;
	if (*p != '\0') {
		if (p[1] != '\0')
			return -1;
		switch (tolower((unsigned char)*p)) {
		case 'k':
			shift = 10;
			break;
		case 'm':
			shift = 20;
			break;
		case 'g':
			shift = 30;
			break;
		case 't':
			shift = 40;
			break;
		default:
			return -1;
		}
	}
	if (n > (UINT64_MAX >> shift))
		return -1;
	*bytes = n << shift;
	return 0;
}

int
cfg_value_uint(const char *s, unsigned *out)
{
	const char	*p = s;
	uint64_t	 n;

	if (decimal(&p, UINT_MAX, &n) == -1 || *p != '\0')
		return -1;
	*out = (unsigned)n;
	return 0;
}

int
cfg_value_double(const char *s, double *out)
{
	char	*end;
	double	 v;

	/* Plain decimal only: no "inf", "nan" or hex. */
	if (*s == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int
cfg_value_bool(const char *s, int *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0)
		*out = 1;
	else if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0 || strcmp(s, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* Index of s in "a|b|c", or -1. */
int
cfg_value_enum(const char *choices, const char *s)
{
	const char	*p;
	size_t		 n, len;
	int		 i;

	len = strlen(s);
	p = choices;
	for (i = 0; *p != '\0'; i++) {
		n = strcspn(p, "|");
		if (n == len && len > 0 && strncmp(p, s, n) == 0)
			return i;
		p += n;
		if (*p == '|')
			p++;
	}
	return -1;
}

/* Writes the i-th name of "a|b|c" to b. */
void
cfg_value_enum_name(struct buf *b, const char *choices, int idx)
{
	const char	*p;
	size_t		 n;
	int		 i;

	p = choices;
	for (i = 0; *p != '\0'; i++) {
		n = strcspn(p, "|");
		if (i == idx) {
			buf_append(b, p, n);
			return;
		}
		p += n;
		if (*p == '|')
			p++;
	}
	buf_printf(b, "%d", idx);
}

/* "virtual or path", "error, warn, info or debug" */
void
cfg_value_enum_expected(struct buf *b, const char *choices)
{
	const char	*p;
	size_t		 n;

	for (p = choices; *p != '\0'; p += n + (p[n] == '|')) {
		n = strcspn(p, "|");
		if (p != choices)
			buf_puts(b, p[n] == '\0' ? " or " : ", ");
		buf_append(b, p, n);
	}
}

static int
valid_hostname(const char *s, size_t n)
{
	size_t	 i, label;

	if (n == 0 || n > 253)
		return 0;
	label = 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

static int
valid_ipv6(const char *s, size_t n)
{
	char		 tmp[INET6_ADDRSTRLEN + 1];
	unsigned char	 addr[16];

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, addr) == 1;
}

/* Decimal port of n characters in [min, 65535]. */
static int
valid_port(const char *s, size_t n, unsigned min)
{
	unsigned	 v;
	size_t		 i;

	if (n == 0 || n > 5)
		return 0;
	v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v >= min && v <= 65535;
}

/* NULL when s is host:port, else what is wrong. */
const char *
cfg_value_hostport(const char *s)
{
	const char	*rb, *colon;

	if (*s == '[') {
		rb = strchr(s, ']');
		if (rb == NULL || !valid_ipv6(s + 1, (size_t)(rb - s - 1)))
			return "expected host:port with an IPv6 address in "
			    "brackets, as [::1]:8080";
		if (rb[1] != ':')
			return "expected host:port, as [::1]:8080";
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return "expected host:port, as 127.0.0.1:8080";
		if (memchr(s, ':', (size_t)(colon - s)) != NULL)
			return "an IPv6 address needs brackets, "
			    "as [::1]:8080";
		if (!valid_hostname(s, (size_t)(colon - s)))
			return "expected host:port with a host name or "
			    "address, as 127.0.0.1:8080 or localhost:8080";
	}
	if (!valid_port(colon + 1, strlen(colon + 1), 0))
		return "the port must be a number from 0 to 65535";
	return NULL;
}

/*
 * NULL when s is http[s]://host[:port] (a trailing "/" is allowed), else
 * what is wrong.  *norm gets the URL with a lower-case scheme and without
 * the "/".
 */
const char *
cfg_value_url(const char *s, char **norm)
{
	const char	*auth, *end, *rb, *colon;
	size_t		 slen, i;
	struct buf	 b;

	*norm = NULL;
	if (strncasecmp(s, "http://", 7) == 0)
		slen = 4;
	else if (strncasecmp(s, "https://", 8) == 0)
		slen = 5;
	else
		return "expected a URL starting with http:// or https://";
	auth = s + slen + 3;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
		return "a URL with user information (user@) is not allowed";
	if (*end == '?' || *end == '#')
		return "a URL with a query or fragment is not allowed";
	if (*end == '/' && end[1] != '\0')
		return "a URL with a path is not allowed: "
		    "only scheme://host[:port]";
	if (*auth == '[') {
		rb = memchr(auth, ']', (size_t)(end - auth));
		if (rb == NULL ||
		    !valid_ipv6(auth + 1, (size_t)(rb - auth - 1)))
			return "the URL's IPv6 address is not valid";
		if (rb + 1 != end && rb[1] != ':')
			return "expected scheme://host[:port]";
		colon = rb + 1 == end ? NULL : rb + 1;
	} else {
		colon = memchr(auth, ':', (size_t)(end - auth));
		if (!valid_hostname(auth,
		    (size_t)((colon != NULL ? colon : end) - auth)))
			return "the URL has no valid host name";
	}
	if (colon != NULL &&
	    !valid_port(colon + 1, (size_t)(end - colon - 1), 1))
		return "the URL's port must be a number from 1 to 65535";

	buf_init(&b);
	for (i = 0; i < slen; i++)
		buf_putc(&b, (char)tolower((unsigned char)s[i]));
	buf_puts(&b, "://");
	buf_append(&b, auth, (size_t)(end - auth));
	*norm = buf_take(&b);
	return NULL;
}

const char *
cfg_value_host(const char *s)
{
	if (*s == '\0')
		return NULL;
	if (strstr(s, "://") != NULL)
		return "expected a host name without a scheme, as s3.local";
	if (strchr(s, ':') != NULL)
		return "expected a host name without a port, as s3.local";
	if (strchr(s, '/') != NULL)
		return "expected a host name without a path, as s3.local";
	if (!valid_hostname(s, strlen(s)))
		return "expected a host name, as s3.local";
	return NULL;
}

/* Client-facing and upstream bucket names; lenient for legacy names. */
int
cfg_value_bucket(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

int
cfg_value_word(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * An origin path: "" or "/a/b" without a trailing "/".  "a/b" and "/a/b/"
 * are taken as "/a/b"; empty, "." and ".." segments are refused.
 */
const char *
cfg_value_prefix(const char *s, char **norm)
{
	const char	*rest, *p, *seg;
	size_t		 len, n;

	*norm = NULL;
	if (*s == '\0' || strcmp(s, "/") == 0) {
		*norm = strdup("");
		return NULL;
	}
	/* Blanks at either end would not survive a print and reload
	 * (libinih trims them): refused rather than kept. */
	if (isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[strlen(s) - 1]))
		return "blanks at the start or end of an origin path";
	rest = s + (*s == '/');
	len = strlen(rest);
	if (len > 0 && rest[len - 1] == '/')
		len--;
	if (len == 0 || rest[len - 1] == '/')
		return "empty segment (//) in origin path";
	if (isspace((unsigned char)rest[len - 1]))
		return "blanks at the start or end of an origin path";
	for (p = rest; p < rest + len; p += n + 1) {
		seg = p;
		n = strcspn(seg, "/");
		if (seg + n > rest + len)
			n = (size_t)(rest + len - seg);
		if (n == 0)
			return "empty segment (//) in origin path";
		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return "\".\" and \"..\" are not allowed in "
			    "origin path";
	}
	*norm = malloc(len + 2);
	if (*norm == NULL)
		return NULL;
	(*norm)[0] = '/';
	memcpy(*norm + 1, rest, len);
	(*norm)[len + 1] = '\0';
	return NULL;
}

/* The rights of a grant's RIGHT (r, w, rw, admin), or 0. */
unsigned
cfg_value_rights(const char *s, size_t n)
{
	static const struct {
		const char	*name;
		unsigned	 rights;
	} names[] = {
		{ "r", CFG_RIGHT_BIT(CFG_RIGHT_R) },
		{ "w", CFG_RIGHT_BIT(CFG_RIGHT_W) },
		{ "rw", CFG_RIGHT_BIT(CFG_RIGHT_R) |
		    CFG_RIGHT_BIT(CFG_RIGHT_W) },
		{ "admin", CFG_RIGHT_BIT(CFG_RIGHT_ADMIN) },
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n &&
		    strncmp(names[i].name, s, n) == 0)
			return names[i].rights;
	return 0;
}

void
cfg_value_fmt_duration(struct buf *b, int64_t ms)
{
	static const struct {
		int64_t		 ms;
		const char	*unit;
	} units[] = {
		{ 24 * 60 * 60 * 1000, "d" },
		{ 60 * 60 * 1000, "h" },
		{ 60 * 1000, "m" },
		{ 1000, "s" },
	};
	size_t	 i;

	if (ms == 0) {
		buf_puts(b, "0s");
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms % units[i].ms == 0) {
			buf_printf(b, "%lld%s", (long long)(ms / units[i].ms),
			    units[i].unit);
			return;
		}
	}
	buf_printf(b, "%lldms", (long long)ms);
}

void
cfg_value_fmt_size(struct buf *b, uint64_t n)
{
	static const char	 units[] = "tgmk";
	unsigned		 shift;
	size_t			 i;

	for (i = 0, shift = 40; n != 0 && shift > 0; i++, shift -= 10) {
		if (n % ((uint64_t)1 << shift) == 0) {
			buf_printf(b, "%llu%c",
			    (unsigned long long)(n >> shift), units[i]);
			return;
		}
	}
	buf_printf(b, "%llu", (unsigned long long)n);
}

/* The shortest text that reads back as the same double. */
void
cfg_value_fmt_double(struct buf *b, double d)
{
	char	 tmp[64];
	int	 prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
	buf_puts(b, tmp);
}
