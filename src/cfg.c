/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg: load, check and print the configuration (see cfg.h): an INI file
 * read by libinih, then the S3INVAL_* environment, checked against the
 * table of keys in cfg_keys.h.
 *
 * One pass reports every problem as "file:line: message" ("env NAME:
 * message" for the environment, "file: message" when no single line is to
 * blame), so an operator fixes a file in one go.  The file is read whole
 * first, and only a regular file of at most CFG_FILE_MAX bytes (a FIFO or
 * a device would hang or never end).  libinih reads it through our own
 * line reader, which counts lines, rejects a line longer
 * than libinih's buffer instead of letting libinih split it, and follows
 * libinih's rules to know each line's section and whether it continues the
 * previous value (libinih tells its handler neither the line number nor
 * about a section without keys).  Indented lines continue a value, as in
 * Python's configparser; only lists may be continued.  Every number has
 * an upper bound (cfg_keys.h).
 *
 * This module does no I/O other than reading the file and writing to the
 * streams it is given, and keeps no globals: tests load many configurations
 * side by side.  The secrets pass through our buffers and libinih's line
 * buffer; both are wiped.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "buf.h"
#include "cfg.h"

#define ENV_PREFIX	"S3INVAL_"
#define MASK		"********"
#define ENV_NAME_MAX	64

/*
 * Longest line accepted, without its line ending: libinih needs room for
 * "\r\n" and the NUL after it (ini.h).
 */
#define LINE_MAX_LEN	(INI_MAX_LINE - 3)

enum ktype {
	T_STRING,
	T_NONEMPTY,
	T_WORD,
	T_HOSTPORT,
	T_URL,
	T_HOST,
	T_DURATION,
	T_SIZE,
	T_UINT,
	T_DOUBLE,
	T_BOOL,
	T_ENUM,
	T_SECRET,
	T_BUCKET,
	T_PREFIX,
	T_IDS,
	T_NAMES,
	T_GRANTS
};

enum scope {
	SCOPE_GLOBAL,
	SCOPE_CLIENT,
	SCOPE_BUCKET
};

/* Section name (the table's first column) -> scope and struct. */
#define SCOPE_server		SCOPE_GLOBAL
#define SCOPE_upstream		SCOPE_GLOBAL
#define SCOPE_auth		SCOPE_GLOBAL
#define SCOPE_cloudfront	SCOPE_GLOBAL
#define SCOPE_log		SCOPE_GLOBAL
#define SCOPE_client		SCOPE_CLIENT
#define SCOPE_bucket		SCOPE_BUCKET
#define STRUCT_server		struct cfg
#define STRUCT_upstream		struct cfg
#define STRUCT_auth		struct cfg
#define STRUCT_cloudfront	struct cfg
#define STRUCT_log		struct cfg
#define STRUCT_client		struct cfg_client
#define STRUCT_bucket		struct cfg_bucket

/*
 * Check at compile time that each field has the C type its key's type
 * stores, so the table and the structs in cfg.h cannot drift apart.  An
 * enum is compatible with some integer type of int's size.
 */
#define KIND(e) _Generic((e),						\
	char *: 1, int64_t: 2, uint64_t: 3, unsigned int: 4,		\
	double: 5, int: 6, char **: 7, struct cfg_grant *: 8,		\
	default: 0)
#define IS_STRING(e)	(KIND(e) == 1)
#define IS_NONEMPTY(e)	(KIND(e) == 1)
#define IS_WORD(e)	(KIND(e) == 1)
#define IS_HOSTPORT(e)	(KIND(e) == 1)
#define IS_URL(e)	(KIND(e) == 1)
#define IS_HOST(e)	(KIND(e) == 1)
#define IS_SECRET(e)	(KIND(e) == 1)
#define IS_BUCKET(e)	(KIND(e) == 1)
#define IS_PREFIX(e)	(KIND(e) == 1)
#define IS_DURATION(e)	(KIND(e) == 2)
#define IS_SIZE(e)	(KIND(e) == 3)
#define IS_UINT(e)	(KIND(e) == 4)
#define IS_DOUBLE(e)	(KIND(e) == 5)
#define IS_BOOL(e)	(KIND(e) == 6)
#define IS_ENUM(e)	(sizeof(e) == sizeof(int) &&			\
			    (KIND(e) == 4 || KIND(e) == 6))
#define IS_IDS(e)	(KIND(e) == 7)
#define IS_NAMES(e)	(KIND(e) == 7)
#define IS_GRANTS(e)	(KIND(e) == 8)

#define CFG_KEY(s, k, t, f, d, ch, desc)				\
	_Static_assert(IS_##t(((STRUCT_##s *)0)->f),			\
	    #s "." #k ": field type does not match " #t);
#define CFG_LIST(s, k, t, f, d, desc)					\
	_Static_assert(IS_##t(((STRUCT_##s *)0)->f) &&			\
	    sizeof(((STRUCT_##s *)0)->n_##f) == sizeof(size_t),		\
	    #s "." #k ": field type does not match " #t);
#include "cfg_keys.h"

_Static_assert(sizeof(enum cfg_auth_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_addressing) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_log_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_log_level) == sizeof(int), "enum size");

enum key_id {
#define CFG_KEY(s, k, t, f, d, ch, desc)	K_##s##_##k,
#define CFG_LIST(s, k, t, f, d, desc)		K_##s##_##k,
#include "cfg_keys.h"
	K__COUNT
};

struct keydef {
	const char	*section;
	const char	*name;
	enum scope	 scope;
	enum ktype	 type;
	size_t		 off;		/* of the value in its struct */
	size_t		 noff;		/* lists: of the count */
	const char	*def;		/* default text, or NULL */
	const char	*choices;	/* ENUM "a|b|c"; numbers: max */
	const char	*desc;
};

/* Each numeric type's upper bound, for keys that name none. */
static const struct {
	enum ktype	 type;
	const char	*max;
} type_max[] = {
#define CFG_KEY(s, k, t, f, d, ch, desc)
#define CFG_LIST(s, k, t, f, d, desc)
#define CFG_TYPE_MAX(t, max)	{ T_##t, max },
#include "cfg_keys.h"
};

static const struct keydef keys[K__COUNT] = {
#define CFG_KEY(s, k, t, f, d, ch, desc)				\
	{ #s, #k, SCOPE_##s, T_##t, offsetof(STRUCT_##s, f), 0,		\
	    d, ch, desc },
#define CFG_LIST(s, k, t, f, d, desc)					\
	{ #s, #k, SCOPE_##s, T_##t, offsetof(STRUCT_##s, f),		\
	    offsetof(STRUCT_##s, n_##f), d, NULL, desc },
#include "cfg_keys.h"
};

/* Where a value came from, for messages. */
struct origin {
	int		 line;		/* line of the file, or 0 */
	const char	*env;		/* "NAME=value" in envp, or NULL */
};

/* A [client] or [bucket] while loading; parallel to the cfg's array. */
struct ent {
	struct origin	 at;		/* its section header */
	struct origin	 o[K__COUNT];	/* where each of its keys was set */
};

enum ctx {
	CTX_NONE,		/* before the first section */
	CTX_SKIP,		/* in a section already reported as bad */
	CTX_GLOBAL,
	CTX_CLIENT,
	CTX_BUCKET
};

enum line_kind {
	L_BLANK,		/* empty, a comment, or already reported */
	L_SECTION,
	L_KEY,
	L_CONT,			/* indented: continues the previous value */
	L_BAD
};

struct loader {
	struct cfg	*c;
	FILE		*errs;		/* may be NULL */
	const char	*path;		/* NULL: no file */
	int		 nerr;
	int		 oom;		/* "out of memory" reported */

	/* The file, read whole, and the line reader libinih calls. */
	char		*data;
	size_t		 len;
	size_t		 pos;		/* next byte to read */
	int		 lineno;
	int		 first_bad;	/* first syntax error we reported */
	int		 inih_prev;	/* libinih has a name to continue */
	enum line_kind	 kind;		/* of the line just read */
	char		 cont[INI_MAX_LINE]; /* a continuation's value */

	/* Where keys go. */
	enum ctx	 ctx;
	const char	*section;	/* CTX_GLOBAL: its name, from keys[] */
	size_t		 ent;		/* CTX_CLIENT, CTX_BUCKET: index */
	int		 prev;		/* key a continuation extends, or -1 */

	struct origin	 o[K__COUNT];	/* the global keys */
	struct ent	*cm;		/* c->clients */
	struct ent	*bm;		/* c->buckets */
};

static void	report(struct loader *, const struct origin *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
static void	fmt_duration(struct buf *, int64_t);

static void *
field_ptr(const void *base, size_t off)
{
	return (char *)(uintptr_t)base + off;
}

static void
report(struct loader *ld, const struct origin *at, const char *fmt, ...)
{
	va_list	 ap;

	ld->nerr++;
	if (ld->errs == NULL)
		return;
	if (at != NULL && at->line > 0 && ld->path != NULL)
		fprintf(ld->errs, "%s:%d: ", ld->path, at->line);
	else if (at != NULL && at->env != NULL)
		fprintf(ld->errs, "env %.*s: ", (int)strcspn(at->env, "="),
		    at->env);
	else if (ld->path != NULL)
		fprintf(ld->errs, "%s: ", ld->path);
	else
		fputs("config: ", ld->errs);
	va_start(ap, fmt);
	vfprintf(ld->errs, fmt, ap);
	va_end(ap);
	fputc('\n', ld->errs);
}

static void
report_oom(struct loader *ld)
{
	if (!ld->oom)
		report(ld, NULL, "out of memory");
	ld->oom = 1;
}

static char *
xstrndup(struct loader *ld, const char *s, size_t n)
{
	char	*p;

	p = malloc(n + 1);
	if (p == NULL) {
		report_oom(ld);
		return NULL;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *
xstrdup(struct loader *ld, const char *s)
{
	return xstrndup(ld, s, strlen(s));
}

static void
free_secret(char *s)
{
	if (s != NULL)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* "line 12" or "S3INVAL_X", for "first at ..." */
static void
origin_str(const struct origin *o, char *buf, size_t size)
{
	if (o->line > 0)
		snprintf(buf, size, "line %d", o->line);
	else if (o->env != NULL)
		snprintf(buf, size, "%.*s", (int)strcspn(o->env, "="),
		    o->env);
	else
		snprintf(buf, size, "the defaults");
}

static int
is_set(const struct origin *o)
{
	return o->line > 0 || o->env != NULL;
}

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if (iscntrl((unsigned char)*s) && *s != '\t')
			return 1;
	return 0;
}

static void
env_name(const struct keydef *kd, char *buf, size_t size)
{
	size_t	 i;

	snprintf(buf, size, "%s%s_%s", ENV_PREFIX, kd->section, kd->name);
	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
}

/* ---- value syntax -------------------------------------------------- */

int
cfg_parse_duration(const char *s, int64_t *ms)
{
	const char	*p;
	int64_t		 n, mult;
	int		 d;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	n = 0;
	for (p = s; isdigit((unsigned char)*p); p++) {
		d = *p - '0';
		if (n > (INT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
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
	if (n > INT64_MAX / mult)
		return -1;
	*ms = n * mult;
	return 0;
}

int
cfg_parse_size(const char *s, uint64_t *bytes)
{
	const char	*p;
	uint64_t	 n;
	unsigned	 shift;
	int		 d;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	n = 0;
	for (p = s; isdigit((unsigned char)*p); p++) {
		d = *p - '0';
		if (n > (UINT64_MAX - (uint64_t)d) / 10)
			return -1;
		n = n * 10 + (uint64_t)d;
	}
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

static int
parse_uint(const char *s, unsigned *out)
{
	unsigned long	 n;
	const char	*p;

	if (!isdigit((unsigned char)*s))
		return -1;
	n = 0;
	for (p = s; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > UINT_MAX)
			return -1;
	}
	if (*p != '\0')
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int
parse_double(const char *s, double *out)
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

static int
parse_bool(const char *s, int *out)
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
static int
parse_enum(const char *choices, const char *s)
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
static void
enum_name(struct buf *b, const char *choices, int idx)
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
static void
enum_expected(struct buf *b, const char *choices)
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
static const char *
check_hostport(const char *s)
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
static const char *
check_url(struct loader *ld, const char *s, char **norm)
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
	if (*norm == NULL)
		report_oom(ld);
	return NULL;
}

static const char *
check_host(const char *s)
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
static int
valid_bucket(const char *s, size_t n)
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

static int
valid_word(const char *s, size_t n)
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
static const char *
check_prefix(struct loader *ld, const char *s, char **norm)
{
	const char	*rest, *p, *seg;
	size_t		 len, n;

	*norm = NULL;
	if (*s == '\0' || strcmp(s, "/") == 0) {
		*norm = xstrdup(ld, "");
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
	if (*norm == NULL) {
		report_oom(ld);
		return NULL;
	}
	(*norm)[0] = '/';
	memcpy(*norm + 1, rest, len);
	(*norm)[len + 1] = '\0';
	return NULL;
}

/* ---- storing values ------------------------------------------------ */

static void
set_string(const struct keydef *kd, void *base, char *v)
{
	char	**sp;

	sp = field_ptr(base, kd->off);
	if (kd->type == T_SECRET)
		free_secret(*sp);
	else
		free(*sp);
	*sp = v;
}

static void
free_field(const struct keydef *kd, void *base)
{
	char			***lp;
	struct cfg_grant	**gp;
	size_t			*np, i;

	switch (kd->type) {
	case T_IDS:
	case T_NAMES:
		lp = field_ptr(base, kd->off);
		np = field_ptr(base, kd->noff);
		for (i = 0; i < *np; i++)
			free((*lp)[i]);
		free(*lp);
		*lp = NULL;
		*np = 0;
		break;
	case T_GRANTS:
		gp = field_ptr(base, kd->off);
		np = field_ptr(base, kd->noff);
		for (i = 0; i < *np; i++)
			free((*gp)[i].bucket);
		free(*gp);
		*gp = NULL;
		*np = 0;
		break;
	case T_STRING:
	case T_NONEMPTY:
	case T_WORD:
	case T_HOSTPORT:
	case T_URL:
	case T_HOST:
	case T_SECRET:
	case T_BUCKET:
	case T_PREFIX:
		set_string(kd, base, NULL);
		break;
	case T_DURATION:
	case T_SIZE:
	case T_UINT:
	case T_DOUBLE:
	case T_BOOL:
	case T_ENUM:
		break;
	}
}

static void
free_fields(enum scope sc, void *base)
{
	size_t	 k;

	for (k = 0; k < K__COUNT; k++)
		if (keys[k].scope == sc)
			free_field(&keys[k], base);
}

/* The rights of a grant's RIGHT (r, w, rw, admin), or 0. */
static unsigned
grant_rights(const char *s, size_t n)
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

/* One item of a list key; 0, or -1 after reporting. */
static int
add_item(struct loader *ld, const struct keydef *kd, void *base,
    const char *item, size_t n, const struct origin *at)
{
	char			***lp, **items, *name;
	struct cfg_grant	**gp, *grants;
	const char		*colon;
	size_t			*np, i, nlen;
	unsigned		 rights;

	np = field_ptr(base, kd->noff);
	if (kd->type == T_IDS || kd->type == T_NAMES) {
		if (kd->type == T_IDS) {
			for (i = 0; i < n; i++)
				if (!isalnum((unsigned char)item[i]))
					break;
			if (i < n || n > 128) {
				report(ld, at, "bad %s item \"%.*s\": expected "
				    "a CloudFront distribution id, as "
				    "E2EXAMPLE1", kd->name, (int)n, item);
				return -1;
			}
		} else if (!valid_word(item, n) ||
		    memchr(item, '/', n) != NULL ||
		    (n == 1 && item[0] == '.') ||
		    (n == 2 && item[0] == '.' && item[1] == '.')) {
			report(ld, at, "bad %s item \"%.*s\": expected a file "
			    "name, as index.html", kd->name, (int)n, item);
			return -1;
		}
		name = xstrndup(ld, item, n);
		if (name == NULL)
			return -1;
		lp = field_ptr(base, kd->off);
		items = realloc(*lp, (*np + 1) * sizeof(*items));
		if (items == NULL) {
			free(name);
			report_oom(ld);
			return -1;
		}
		items[(*np)++] = name;
		*lp = items;
		return 0;
	}

	/* T_GRANTS: "bucket:RIGHT"; a bucket named again adds rights. */
	colon = memchr(item, ':', n);
	if (colon == NULL) {
		report(ld, at, "bad %s item \"%.*s\": expected bucket:RIGHT, "
		    "RIGHT one of r, w, rw or admin", kd->name, (int)n, item);
		return -1;
	}
	nlen = (size_t)(colon - item);
	rights = grant_rights(colon + 1, n - nlen - 1);
	if (rights == 0) {
		report(ld, at, "bad %s item \"%.*s\": the right must be r "
		    "(read), w (write objects), rw (both) or admin (bucket "
		    "configuration)", kd->name, (int)n, item);
		return -1;
	}
	if (!(nlen == 1 && item[0] == '*') && !valid_bucket(item, nlen)) {
		report(ld, at, "bad %s item \"%.*s\": \"%.*s\" is not a "
		    "bucket name or *", kd->name, (int)n, item, (int)nlen,
		    item);
		return -1;
	}
	gp = field_ptr(base, kd->off);
	for (i = 0; i < *np; i++) {
		if (strlen((*gp)[i].bucket) != nlen ||
		    strncmp((*gp)[i].bucket, item, nlen) != 0)
			continue;
		if ((rights & ~(*gp)[i].rights) == 0) {
			report(ld, at, "bucket \"%.*s\" appears twice in %s: "
			    "\"%.*s\" adds no right", (int)nlen, item,
			    kd->name, (int)n, item);
			return -1;
		}
		(*gp)[i].rights |= rights;
		return 0;
	}
	name = xstrndup(ld, item, nlen);
	if (name == NULL)
		return -1;
	grants = realloc(*gp, (*np + 1) * sizeof(*grants));
	if (grants == NULL) {
		free(name);
		report_oom(ld);
		return -1;
	}
	grants[*np].bucket = name;
	grants[*np].rights = rights;
	(*np)++;
	*gp = grants;
	return 0;
}

static int
set_list(struct loader *ld, const struct keydef *kd, void *base,
    const char *text, int append, const struct origin *at)
{
	const char	*p, *item, *end;
	size_t		 n, len;
	int		 rc;

	if (!append)
		free_field(kd, base);
	p = text;
	while (isspace((unsigned char)*p))
		p++;
	/* A trailing comma is fine: the list may go on the next line. */
	len = strlen(p);
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	if (len > 0 && p[len - 1] == ',')
		len--;
	if (len == 0)
		return 0;
	rc = 0;
	for (;;) {
		n = strcspn(p, ",");
		if (n > len)
			n = len;
		item = p;
		end = p + n;
		while (item < end && isspace((unsigned char)*item))
			item++;
		while (end > item && isspace((unsigned char)end[-1]))
			end--;
		if (end == item) {
			report(ld, at, "bad %s: empty item in the list",
			    kd->name);
			rc = -1;
		} else if (add_item(ld, kd, base, item,
		    (size_t)(end - item), at) == -1)
			rc = -1;
		if (n >= len)
			break;
		p += n + 1;
		len -= n + 1;
	}
	return rc;
}

/* A numeric key's upper bound, as text in the key's own syntax. */
static const char *
key_max(const struct keydef *kd)
{
	size_t	 i;

	if (kd->choices != NULL)
		return kd->choices;
	for (i = 0; i < sizeof(type_max) / sizeof(type_max[0]); i++)
		if (type_max[i].type == kd->type)
			return type_max[i].max;
	return NULL;
}

/*
 * 1 when v (parsed as kd's type) is above kd's upper bound, with why in
 * buf; 0 when it is not.  The bound is read with the value's own parser,
 * so "64k" means here what it means in the file.
 */
static int
above_max(const struct keydef *kd, const void *v, char *buf, size_t size)
{
	const char	*max = key_max(kd);
	int64_t		 ms;
	uint64_t	 n;
	unsigned	 u;
	double		 d;
	int		 above;

	if (max == NULL)
		return 0;
	switch (kd->type) {
	case T_DURATION:
		above = cfg_parse_duration(max, &ms) == -1 ||
		    *(const int64_t *)v > ms;
		break;
	case T_SIZE:
		above = cfg_parse_size(max, &n) == -1 ||
		    *(const uint64_t *)v > n;
		break;
	case T_UINT:
		above = parse_uint(max, &u) == -1 || *(const unsigned *)v > u;
		break;
	case T_DOUBLE:
		above = parse_double(max, &d) == -1 || *(const double *)v > d;
		break;
	default:
		return 0;
	}
	if (above)
		snprintf(buf, size, "must be at most %s", max);
	return above;
}

/*
 * Parse text as key kd's type and store it in base (the struct cfg,
 * cfg_client or cfg_bucket).  append: a continuation line adds to a list.
 * Returns 0, or -1 after reporting the problem at at.
 */
static int
set_value(struct loader *ld, const struct keydef *kd, void *base,
    const char *text, int append, const struct origin *at)
{
	struct buf	 b;
	const char	*why;
	char		*norm, over[128];
	void		*field;
	int64_t		 ms;
	uint64_t	 size;
	unsigned	 u;
	double		 d;
	int		 i;

	why = NULL;
	norm = NULL;
	field = field_ptr(base, kd->off);
	if (has_ctl(text)) {
		report(ld, at, "bad %s: the value contains a control character",
		    kd->name);
		return -1;
	}
	switch (kd->type) {
	case T_IDS:
	case T_NAMES:
	case T_GRANTS:
		return set_list(ld, kd, base, text, append, at);
	case T_STRING:
		break;
	case T_NONEMPTY:
		if (*text == '\0')
			why = "must not be empty";
		break;
	case T_SECRET:
		/* An optional secret (server.admin_token) may be empty:
		 * none.  A client's never is. */
		if (*text == '\0' && kd->scope != SCOPE_GLOBAL)
			why = "must not be empty";
		break;
	case T_WORD:
		if (!valid_word(text, strlen(text)))
			why = "expected one word without spaces";
		break;
	case T_HOSTPORT:
		why = check_hostport(text);
		break;
	case T_URL:
		why = check_url(ld, text, &norm);
		if (why == NULL && norm == NULL)
			return -1;
		break;
	case T_HOST:
		why = check_host(text);
		break;
	case T_BUCKET:
		if (*text != '\0' && !valid_bucket(text, strlen(text)))
			why = "expected a bucket name (letters, digits, "
			    "'.', '-', '_')";
		break;
	case T_PREFIX:
		why = check_prefix(ld, text, &norm);
		if (why == NULL && norm == NULL)
			return -1;
		break;
	case T_DURATION:
		if (cfg_parse_duration(text, &ms) == -1)
			why = "expected a duration: a whole number and ms, s, "
			    "m, h or d, as 500ms, 5s or 2m";
		else if (above_max(kd, &ms, over, sizeof(over)))
			why = over;
		else
			*(int64_t *)field = ms;
		break;
	case T_SIZE:
		if (cfg_parse_size(text, &size) == -1)
			why = "expected a size: a whole number of bytes, or "
			    "with k, m, g or t, as 64k or 1g";
		else if (above_max(kd, &size, over, sizeof(over)))
			why = over;
		else
			*(uint64_t *)field = size;
		break;
	case T_UINT:
		if (parse_uint(text, &u) == -1)
			why = "expected a whole number";
		else if (above_max(kd, &u, over, sizeof(over)))
			why = over;
		else
			*(unsigned *)field = u;
		break;
	case T_DOUBLE:
		if (parse_double(text, &d) == -1)
			why = "expected a number, as 0.5";
		else if (above_max(kd, &d, over, sizeof(over)))
			why = over;
		else
			*(double *)field = d;
		break;
	case T_BOOL:
		if (parse_bool(text, &i) == -1)
			why = "expected yes or no";
		else
			*(int *)field = i;
		break;
	case T_ENUM:
		i = parse_enum(kd->choices, text);
		if (i == -1) {
			buf_init(&b);
			buf_puts(&b, "expected ");
			enum_expected(&b, kd->choices);
			report(ld, at, "bad %s \"%s\": %s", kd->name, text,
			    buf_str(&b));
			buf_fini(&b);
			return -1;
		}
		*(int *)field = i;
		break;
	}
	if (why != NULL) {
		if (kd->type == T_SECRET)
			report(ld, at, "bad %s: %s", kd->name, why);
		else
			report(ld, at, "bad %s \"%s\": %s", kd->name, text,
			    why);
		free(norm);
		return -1;
	}
	switch (kd->type) {
	case T_STRING:
	case T_NONEMPTY:
	case T_WORD:
	case T_HOSTPORT:
	case T_URL:
	case T_HOST:
	case T_SECRET:
	case T_BUCKET:
	case T_PREFIX:
		if (norm == NULL)
			norm = xstrdup(ld, text);
		if (norm == NULL)
			return -1;
		set_string(kd, base, norm);
		break;
	default:
		break;
	}
	return 0;
}

static void
apply_defaults(struct loader *ld, enum scope sc, void *base)
{
	size_t	 k;

	for (k = 0; k < K__COUNT; k++)
		if (keys[k].scope == sc && keys[k].def != NULL)
			set_value(ld, &keys[k], base, keys[k].def, 0, NULL);
}

/* ---- sections ------------------------------------------------------ */

/* The table's name for a [server]-like section, or NULL. */
static const char *
global_section(const char *s, size_t n)
{
	size_t	 k;

	for (k = 0; k < K__COUNT; k++)
		if (keys[k].scope == SCOPE_GLOBAL &&
		    strlen(keys[k].section) == n &&
		    strncmp(keys[k].section, s, n) == 0)
			return keys[k].section;
	return NULL;
}

static int
find_key(enum scope sc, const char *section, const char *name)
{
	size_t	 k;

	for (k = 0; k < K__COUNT; k++)
		if (keys[k].scope == sc &&
		    strcmp(keys[k].section, section) == 0 &&
		    strcmp(keys[k].name, name) == 0)
			return (int)k;
	return -1;
}

static const char *
ent_name(const struct cfg *c, enum scope sc, size_t i)
{
	return sc == SCOPE_CLIENT ? c->clients[i].name : c->buckets[i].name;
}

static void *
ent_base(const struct cfg *c, enum scope sc, size_t i)
{
	if (sc == SCOPE_CLIENT)
		return &c->clients[i];
	return &c->buckets[i];
}

/*
 * A new [client NAME] or [bucket NAME] with its defaults; sets *idx.
 * Returns 0, or -1 after reporting a duplicate name or no memory.
 */
static int
add_ent(struct loader *ld, enum scope sc, const char *name, size_t n,
    const struct origin *at, size_t *idx)
{
	struct cfg		*c = ld->c;
	struct cfg_client	*cl;
	struct cfg_bucket	*bk;
	struct ent		*meta, **mp;
	const char		*kind;
	char			*copy, where[ENV_NAME_MAX];
	size_t			 i, count;

	kind = sc == SCOPE_CLIENT ? "client" : "bucket";
	count = sc == SCOPE_CLIENT ? c->n_clients : c->n_buckets;
	mp = sc == SCOPE_CLIENT ? &ld->cm : &ld->bm;
	for (i = 0; i < count; i++) {
		if (strlen(ent_name(c, sc, i)) == n &&
		    strncmp(ent_name(c, sc, i), name, n) == 0) {
			origin_str(&(*mp)[i].at, where, sizeof(where));
			report(ld, at, "[%s %.*s] is defined twice (first at "
			    "%s)", kind, (int)n, name, where);
			return -1;
		}
	}
	copy = xstrndup(ld, name, n);
	if (copy == NULL)
		return -1;
	meta = realloc(*mp, (count + 1) * sizeof(*meta));
	if (meta == NULL)
		goto oom;
	*mp = meta;
	memset(&meta[count], 0, sizeof(meta[count]));
	meta[count].at = *at;
	if (sc == SCOPE_CLIENT) {
		cl = realloc(c->clients, (count + 1) * sizeof(*cl));
		if (cl == NULL)
			goto oom;
		c->clients = cl;
		memset(&cl[count], 0, sizeof(cl[count]));
		cl[count].name = copy;
		c->n_clients++;
	} else {
		bk = realloc(c->buckets, (count + 1) * sizeof(*bk));
		if (bk == NULL)
			goto oom;
		c->buckets = bk;
		memset(&bk[count], 0, sizeof(bk[count]));
		bk[count].name = copy;
		c->n_buckets++;
	}
	apply_defaults(ld, sc, ent_base(c, sc, count));
	*idx = count;
	return 0;
oom:
	free(copy);
	report_oom(ld);
	return -1;
}

/* text: what is between '[' and ']' on line ld->lineno. */
static void
on_section(struct loader *ld, const char *text)
{
	struct origin	 at = { ld->lineno, NULL };
	const char	*type, *name, *end, *g;
	size_t		 tlen, nlen, idx;
	enum scope	 sc;

	ld->prev = -1;
	ld->ctx = CTX_SKIP;
	type = text;
	while (isspace((unsigned char)*type))
		type++;
	end = type + strlen(type);
	while (end > type && isspace((unsigned char)end[-1]))
		end--;
	for (tlen = 0; type + tlen < end &&
	    !isspace((unsigned char)type[tlen]); tlen++)
		continue;
	name = type + tlen;
	while (name < end && isspace((unsigned char)*name))
		name++;
	nlen = (size_t)(end - name);

	g = global_section(type, tlen);
	if (g != NULL) {
		if (nlen > 0) {
			report(ld, &at, "section [%s] takes no name", g);
			return;
		}
		ld->ctx = CTX_GLOBAL;
		ld->section = g;
		return;
	}
	if (tlen == 6 && strncmp(type, "client", 6) == 0)
		sc = SCOPE_CLIENT;
	else if (tlen == 6 && strncmp(type, "bucket", 6) == 0)
		sc = SCOPE_BUCKET;
	else {
		report(ld, &at, "unknown section [%.*s]", (int)(end - type),
		    type);
		return;
	}
	if (nlen == 0) {
		report(ld, &at, "section [%.*s] needs a name, as [%s %s]",
		    (int)tlen, type, sc == SCOPE_CLIENT ? "client" : "bucket",
		    sc == SCOPE_CLIENT ? "deploy" : "blog");
		return;
	}
	if (!valid_bucket(name, nlen) &&
	    !(sc == SCOPE_BUCKET && nlen == 1 && *name == '*')) {
		report(ld, &at, "bad name in [%.*s]: use letters, digits, "
		    "'.', '-' and '_'%s", (int)(end - type), type,
		    sc == SCOPE_BUCKET ? ", or *" : "");
		return;
	}
	if (add_ent(ld, sc, name, nlen, &at, &idx) == 0) {
		ld->ctx = sc == SCOPE_CLIENT ? CTX_CLIENT : CTX_BUCKET;
		ld->ent = idx;
	}
}

/* Where keys of the current section go; -1 when they go nowhere. */
static int
target(struct loader *ld, enum scope *sc, const char **section,
    void **base, struct origin **o)
{
	switch (ld->ctx) {
	case CTX_GLOBAL:
		*sc = SCOPE_GLOBAL;
		*section = ld->section;
		*base = ld->c;
		*o = ld->o;
		return 0;
	case CTX_CLIENT:
		*sc = SCOPE_CLIENT;
		*section = "client";
		*base = &ld->c->clients[ld->ent];
		*o = ld->cm[ld->ent].o;
		return 0;
	case CTX_BUCKET:
		*sc = SCOPE_BUCKET;
		*section = "bucket";
		*base = &ld->c->buckets[ld->ent];
		*o = ld->bm[ld->ent].o;
		return 0;
	case CTX_NONE:
	case CTX_SKIP:
		break;
	}
	return -1;
}

/* "name = value" on line ld->lineno. */
static void
on_pair(struct loader *ld, const char *name, const char *value)
{
	struct origin	 at = { ld->lineno, NULL };
	struct origin	*o;
	const char	*section;
	enum scope	 sc;
	void		*base;
	int		 k;

	ld->prev = -1;
	if (*name == '\0') {
		report(ld, &at, "missing key name before '='");
		return;
	}
	if (ld->ctx == CTX_NONE) {
		report(ld, &at, "key \"%s\" is outside any section", name);
		return;
	}
	if (target(ld, &sc, &section, &base, &o) == -1)
		return;
	k = find_key(sc, section, name);
	if (k == -1) {
		report(ld, &at, "unknown key \"%s\" in [%s%s%s]", name,
		    section, sc == SCOPE_GLOBAL ? "" : " ",
		    sc == SCOPE_GLOBAL ? "" : ent_name(ld->c, sc, ld->ent));
		return;
	}
	if (o[k].line > 0) {
		report(ld, &at, "duplicate key \"%s\" (first at line %d)",
		    name, o[k].line);
		return;
	}
	o[k] = at;
	set_value(ld, &keys[k], base, value, 0, &at);
	ld->prev = k;
}

/* An indented line on ld->lineno: more of the previous value. */
static void
on_cont(struct loader *ld)
{
	struct origin		 at = { ld->lineno, NULL };
	struct origin		*o;
	const struct keydef	*kd;
	const char		*section;
	enum scope		 sc;
	void			*base;

	if (ld->prev == -1 || target(ld, &sc, &section, &base, &o) == -1)
		return;
	kd = &keys[ld->prev];
	if (kd->type != T_IDS && kd->type != T_NAMES &&
	    kd->type != T_GRANTS) {
		report(ld, &at, "indented line continues the value of \"%s\", "
		    "which is not a list (unindent it?)", kd->name);
		return;
	}
	set_value(ld, kd, base, ld->cont, 1, &at);
}

static int
on_ini(void *arg, const char *section, const char *name, const char *value)
{
	struct loader	*ld = arg;

	(void)section;
	if (ld->kind == L_CONT)
		on_cont(ld);
	else
		on_pair(ld, name, value);
	return 1;
}

/* ---- reading lines ------------------------------------------------- */

/* libinih's rule: an inline comment is a ';' after white space. */
static const char *
find_chars_or_comment(const char *s, const char *chars)
{
	int	 was_space;

	was_space = 0;
	while (*s != '\0' && (chars == NULL || strchr(chars, *s) == NULL) &&
	    !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static void
bad_line(struct loader *ld, const char *msg)
{
	struct origin	 at = { ld->lineno, NULL };

	report(ld, &at, "%s", msg);
	if (ld->first_bad == 0)
		ld->first_bad = ld->lineno;
	ld->kind = L_BAD;
}

/*
 * Sort the line libinih is about to parse the way libinih will, and act on
 * section headers now: libinih only calls us for keys.
 */
static void
classify(struct loader *ld, const char *line)
{
	struct origin	 at = { ld->lineno, NULL };
	char		 text[INI_MAX_LINE];
	const char	*start, *end, *p;
	size_t		 n;

	ld->kind = L_BLANK;
	start = line;
	if (ld->lineno == 1 && strncmp(start, "\xef\xbb\xbf", 3) == 0)
		start += 3;
	while (isspace((unsigned char)*start))
		start++;
	if (*start == '\0' || *start == ';' || *start == '#')
		return;
	if (ld->inih_prev && start > line) {
		ld->kind = L_CONT;
		end = find_chars_or_comment(start, NULL);
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		n = (size_t)(end - start);
		memcpy(ld->cont, start, n);
		ld->cont[n] = '\0';
		return;
	}
	if (*start == '[') {
		end = find_chars_or_comment(start + 1, "]");
		if (*end != ']') {
			bad_line(ld, "section header without a closing ']'");
			return;
		}
		ld->kind = L_SECTION;
		ld->inih_prev = 0;
		for (p = end + 1; isspace((unsigned char)*p); p++)
			continue;
		if (*p != '\0' && *p != ';')
			report(ld, &at, "unexpected text after ']' (comments "
			    "start with ';')");
		n = (size_t)(end - start - 1);
		memcpy(text, start + 1, n);
		text[n] = '\0';
		on_section(ld, text);
		return;
	}
	end = find_chars_or_comment(start, "=:");
	if (*end != '=' && *end != ':') {
		bad_line(ld, "expected \"key = value\", \"[section]\" or a "
		    "comment");
		return;
	}
	ld->kind = L_KEY;
	ld->inih_prev = end > start;
}

/*
 * libinih's reader: like fgets(), but counts lines, and refuses a line
 * that does not fit libinih's buffer (which libinih would cut in two) or
 * holds a NUL, passing libinih an empty line instead.
 */
static char *
read_line(char *str, int num, void *arg)
{
	struct loader	*ld = arg;
	struct origin	 at;
	size_t		 len, lim;
	int		 ch, any, over, nul;
	const char	*p;

	if (num < 4)
		return NULL;
	lim = (size_t)num - 3;
	if (lim > LINE_MAX_LEN)
		lim = LINE_MAX_LEN;
	len = 0;
	any = over = nul = 0;
	for (;;) {
		ch = ld->pos < ld->len ? (unsigned char)ld->data[ld->pos++] :
		    EOF;
		if (ch == EOF || ch == '\n')
			break;
		any = 1;
		if (ch == '\0')
			nul = 1;
		if (len < lim + 1)
			str[len++] = (char)ch;
		else
			over = 1;
	}
	if (ch == EOF && !any) {
		/* The buffer held the last line: maybe a secret. */
		OPENSSL_cleanse(str, (size_t)num);
		return NULL;
	}
	ld->lineno++;
	at.line = ld->lineno;
	at.env = NULL;
	if (!over && len > 0 && str[len - 1] == '\r')
		len--;
	if (over || len > lim || nul) {
		if (nul)
			report(ld, &at, "NUL character in line");
		else
			report(ld, &at, "line too long (more than %zu "
			    "characters)", lim);
		/* Keys after a lost section header go nowhere. */
		for (p = str; p < str + len && isspace((unsigned char)*p); p++)
			continue;
		if (p < str + len && *p == '[')
			ld->ctx = CTX_SKIP;
		ld->prev = -1;
		ld->kind = L_BLANK;
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	str[len] = '\n';
	str[len + 1] = '\0';
	classify(ld, str);
	return str;
}

/* "a FIFO", "a directory", ... for "not a regular file" messages. */
static const char *
file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * Read the file whole into ld->data.  Only a regular file is read (issue
 * 13): a FIFO would block check-config and SIGHUP until a writer came,
 * /dev/zero would never end.  The open does not block (O_NONBLOCK: a FIFO
 * opens at once) and the type is checked on the descriptor read, so a file
 * swapped after a stat() changes nothing.  Returns 0, or -1 after
 * reporting.
 */
static int
read_file(struct loader *ld)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd, err;

	fd = open(ld->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		err = errno;
		/* A socket cannot be opened (ENXIO): say what it is. */
		if (stat(ld->path, &st) == 0 && !S_ISREG(st.st_mode))
			report(ld, NULL, "cannot read %s: a configuration "
			    "file must be a regular file",
			    file_kind(st.st_mode));
		else
			report(ld, NULL, "cannot open: %s", strerror(err));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		report(ld, NULL, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		report(ld, NULL, "cannot read %s: a configuration file must "
		    "be a regular file", file_kind(st.st_mode));
		goto fail;
	}
	if (st.st_size > CFG_FILE_MAX) {
		report(ld, NULL, "larger than %d KiB: not a configuration "
		    "file?", CFG_FILE_MAX / 1024);
		goto fail;
	}
	/* One byte more than allowed tells a file that grew meanwhile. */
	ld->data = malloc(CFG_FILE_MAX + 1);
	if (ld->data == NULL) {
		report_oom(ld);
		goto fail;
	}
	while (ld->len < CFG_FILE_MAX + 1) {
		n = read(fd, ld->data + ld->len, CFG_FILE_MAX + 1 - ld->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			report(ld, NULL, "read error: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		ld->len += (size_t)n;
	}
	if (ld->len > CFG_FILE_MAX) {
		report(ld, NULL, "larger than %d KiB: not a configuration "
		    "file?", CFG_FILE_MAX / 1024);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

/* Returns 0, or -1 when the file could not be read at all. */
static int
load_file(struct loader *ld)
{
	struct origin	 at = { 0, NULL };
	int		 rc, unread;

	unread = read_file(ld) == -1;
	if (!unread) {
		/* For cfg_same_file(): the environment does not change in
		 * a running process, so the same bytes give the same
		 * configuration. */
		if (EVP_Digest(ld->data, ld->len, ld->c->file_sha256, NULL,
		    EVP_sha256(), NULL) != 1)
			report_oom(ld);
		ld->ctx = CTX_NONE;
		ld->prev = -1;
		rc = ini_parse_stream(read_line, ld, on_ini, ld);
		/* We report every syntax error; libinih only knows the
		 * first. */
		if (rc > 0 && rc != ld->first_bad) {
			at.line = rc;
			report(ld, &at, "syntax error");
		} else if (rc < 0)
			report(ld, NULL, "cannot parse (libinih error %d)", rc);
	}
	/* The file holds the client secrets. */
	if (ld->data != NULL)
		OPENSSL_cleanse(ld->data, ld->len);
	free(ld->data);
	ld->data = NULL;
	ld->len = ld->pos = 0;
	return unread ? -1 : 0;
}

/* ---- the environment ----------------------------------------------- */

/* The key whose S3INVAL_ name is the n bytes at name, or -1. */
static int
env_key(const char *name, size_t n)
{
	char	 buf[ENV_NAME_MAX];
	size_t	 k;

	for (k = 0; k < K__COUNT; k++) {
		env_name(&keys[k], buf, sizeof(buf));
		if (strlen(buf) == n && strncmp(buf, name, n) == 0)
			return (int)k;
	}
	return -1;
}

/* S3INVAL_BUCKET_NAME and S3INVAL_BUCKET_<KEY>: one more bucket. */
static void
env_bucket(struct loader *ld, const char *namevar, const char **vars)
{
	struct origin	 at = { 0, NULL };
	const char	*name;
	size_t		 k, idx;

	if (namevar == NULL) {
		for (k = 0; k < K__COUNT; k++) {
			if (keys[k].scope != SCOPE_BUCKET || vars[k] == NULL)
				continue;
			at.env = vars[k];
			report(ld, &at, "needs S3INVAL_BUCKET_NAME too");
		}
		return;
	}
	at.env = namevar;
	name = strchr(namevar, '=') + 1;
	if (!valid_bucket(name, strlen(name)) && strcmp(name, "*") != 0) {
		report(ld, &at, "bad bucket name \"%s\": use letters, digits, "
		    "'.', '-' and '_', or *", name);
		return;
	}
	if (add_ent(ld, SCOPE_BUCKET, name, strlen(name), &at, &idx) == -1)
		return;
	for (k = 0; k < K__COUNT; k++) {
		if (keys[k].scope != SCOPE_BUCKET || vars[k] == NULL)
			continue;
		at.env = vars[k];
		ld->bm[idx].o[k] = at;
		set_value(ld, &keys[k], &ld->c->buckets[idx],
		    strchr(vars[k], '=') + 1, 0, &at);
	}
}

/* S3INVAL_CLIENT_<KEY>: one client named "env". */
static void
env_client(struct loader *ld, const char **vars)
{
	struct origin	 at = { 0, NULL };
	size_t		 k, idx;

	for (k = 0; k < K__COUNT && at.env == NULL; k++)
		if (keys[k].scope == SCOPE_CLIENT && vars[k] != NULL)
			at.env = vars[k];
	if (at.env == NULL)
		return;
	if (add_ent(ld, SCOPE_CLIENT, "env", 3, &at, &idx) == -1)
		return;
	for (k = 0; k < K__COUNT; k++) {
		if (keys[k].scope != SCOPE_CLIENT || vars[k] == NULL)
			continue;
		at.env = vars[k];
		ld->cm[idx].o[k] = at;
		set_value(ld, &keys[k], &ld->c->clients[idx],
		    strchr(vars[k], '=') + 1, 0, &at);
	}
}

/*
 * S3INVAL_<SECTION>_<KEY> overrides the file.  The first of two equal
 * names wins, as with getenv().
 */
static void
load_env(struct loader *ld, char *const *envp)
{
	struct origin	 at = { 0, NULL };
	const char	*bvars[K__COUNT], *cvars[K__COUNT], *bname;
	const char	*e, *eq;
	size_t		 i, n;
	int		 k;

	memset(bvars, 0, sizeof(bvars));
	memset(cvars, 0, sizeof(cvars));
	bname = NULL;
	for (i = 0; envp[i] != NULL; i++) {
		e = envp[i];
		if (strncmp(e, ENV_PREFIX, strlen(ENV_PREFIX)) != 0)
			continue;
		eq = strchr(e, '=');
		if (eq == NULL)
			continue;
		n = (size_t)(eq - e);
		at.env = e;
		if (n == strlen("S3INVAL_BUCKET_NAME") &&
		    strncmp(e, "S3INVAL_BUCKET_NAME", n) == 0) {
			if (bname == NULL)
				bname = e;
			continue;
		}
		k = env_key(e, n);
		if (k == -1) {
			report(ld, &at, "unknown variable");
			continue;
		}
		switch (keys[k].scope) {
		case SCOPE_GLOBAL:
			if (ld->o[k].env != NULL)
				break;
			ld->o[k] = at;
			set_value(ld, &keys[k], ld->c, eq + 1, 0, &at);
			break;
		case SCOPE_CLIENT:
			if (cvars[k] == NULL)
				cvars[k] = e;
			break;
		case SCOPE_BUCKET:
			if (bvars[k] == NULL)
				bvars[k] = e;
			break;
		}
	}
	env_bucket(ld, bname, bvars);
	env_client(ld, cvars);
}

/* ---- whole-configuration checks ------------------------------------ */

static void
check_buckets(struct loader *ld)
{
	struct cfg_bucket	*b;
	struct origin		*o;
	size_t			 i;

	for (i = 0; i < ld->c->n_buckets; i++) {
		b = &ld->c->buckets[i];
		o = ld->bm[i].o;
		if (strcmp(b->name, "*") == 0) {
			if (b->upstream_bucket != NULL &&
			    *b->upstream_bucket != '\0')
				report(ld, &o[K_bucket_upstream_bucket],
				    "[bucket *] serves each bucket as itself: "
				    "upstream_bucket must be empty");
			free(b->upstream_bucket);
			b->upstream_bucket = NULL;
		} else if (b->upstream_bucket == NULL ||
		    *b->upstream_bucket == '\0') {
			free(b->upstream_bucket);
			b->upstream_bucket = xstrdup(ld, b->name);
		}
	}
}

static void
check_clients(struct loader *ld)
{
	const struct cfg	*c = ld->c;
	const struct cfg_client	*cl;
	const struct cfg_grant	*g;
	struct ent		*m;
	char			 where[ENV_NAME_MAX];
	size_t			 i, j;

	for (i = 0; i < c->n_clients; i++) {
		cl = &c->clients[i];
		m = &ld->cm[i];
		/* A key that was set but bad is reported already. */
		if (cl->access_key_id == NULL &&
		    !is_set(&m->o[K_client_access_key_id]))
			report(ld, &m->at, "[client %s] has no access_key_id%s",
			    cl->name, m->at.env != NULL ?
			    " (S3INVAL_CLIENT_ACCESS_KEY_ID)" : "");
		if (cl->secret_access_key == NULL &&
		    !is_set(&m->o[K_client_secret_access_key]))
			report(ld, &m->at, "[client %s] has no "
			    "secret_access_key%s", cl->name, m->at.env != NULL ?
			    " (S3INVAL_CLIENT_SECRET_ACCESS_KEY)" : "");
		for (j = 0; j < i && cl->access_key_id != NULL; j++) {
			if (c->clients[j].access_key_id == NULL ||
			    strcmp(c->clients[j].access_key_id,
			    cl->access_key_id) != 0)
				continue;
			origin_str(&ld->cm[j].o[K_client_access_key_id], where,
			    sizeof(where));
			report(ld, &m->o[K_client_access_key_id],
			    "access_key_id \"%s\" is also used by [client %s] "
			    "(at %s)", cl->access_key_id, c->clients[j].name,
			    where);
			break;
		}
		for (j = 0; j < cl->n_grants; j++) {
			g = &cl->grants[j];
			if (strcmp(g->bucket, "*") != 0 &&
			    cfg_bucket_find(c, g->bucket) == NULL)
				report(ld, &m->o[K_client_buckets],
				    "[client %s] grants bucket \"%s\", which "
				    "has no [bucket %s] section (nor is there "
				    "a [bucket *])", cl->name, g->bucket,
				    g->bucket);
		}
	}
}

static void
check_all(struct loader *ld)
{
	const struct cfg	*c = ld->c;
	const struct origin	*o = ld->o;
	struct buf		 b;

	check_buckets(ld);
	check_clients(ld);

	if (*c->server.tls_cert != '\0' && *c->server.tls_key == '\0')
		report(ld, &o[K_server_tls_cert],
		    "tls_cert is set but tls_key is not");
	if (*c->server.tls_key != '\0' && *c->server.tls_cert == '\0')
		report(ld, &o[K_server_tls_key],
		    "tls_key is set but tls_cert is not");
	if (*c->server.admin_token != '\0' &&
	    *c->server.admin_token_file != '\0')
		report(ld, &o[K_server_admin_token_file],
		    "admin_token and admin_token_file are both set: keep one");
	if (c->server.max_header_size == 0)
		report(ld, &o[K_server_max_header_size],
		    "max_header_size must not be 0");
	if (c->server.max_connections == 0)
		report(ld, &o[K_server_max_connections],
		    "max_connections must be at least 1");
	if (c->cloudfront.quiet_period_ms > c->cloudfront.max_delay_ms) {
		buf_init(&b);
		fmt_duration(&b, c->cloudfront.quiet_period_ms);
		buf_puts(&b, ") must not be longer than max_delay (");
		fmt_duration(&b, c->cloudfront.max_delay_ms);
		report(ld, is_set(&o[K_cloudfront_quiet_period]) ?
		    &o[K_cloudfront_quiet_period] :
		    &o[K_cloudfront_max_delay],
		    "quiet_period (%s)", buf_str(&b));
		buf_fini(&b);
	}
	if (!(c->cloudfront.max_requests_per_second > 0))
		report(ld, &o[K_cloudfront_max_requests_per_second],
		    "max_requests_per_second must be more than 0");
	if (c->cloudfront.give_up_after_ms < 1000)
		report(ld, &o[K_cloudfront_give_up_after],
		    "give_up_after must be at least 1s");
	if (c->cloudfront.wildcard_threshold < 2)
		report(ld, &o[K_cloudfront_wildcard_threshold],
		    "wildcard_threshold must be at least 2");
	if (c->auth.mode == CFG_AUTH_SIGV4 && c->n_clients == 0)
		report(ld, &o[K_auth_mode],
		    "auth.mode = sigv4 but no [client] section");
}

const char *
cfg_path(const char *opt)
{
	if (opt != NULL)
		return opt;
	if (access(CFG_DEFAULT_PATH, R_OK) == 0)
		return CFG_DEFAULT_PATH;
	return NULL;
}

int
cfg_load(const char *path, char *const *envp, FILE *errs, struct cfg **out)
{
	static char *const	 noenv[] = { NULL };
	struct loader		*ld;
	int			 nerr, unread = 0;

	*out = NULL;
	/* Large (line and I/O buffers): keep it off the stack. */
	ld = calloc(1, sizeof(*ld));
	if (ld == NULL) {
		if (errs != NULL)
			fprintf(errs, "%s: out of memory\n",
			    path != NULL ? path : "config");
		return 1;
	}
	ld->errs = errs;
	ld->path = path;
	ld->prev = -1;
	ld->c = calloc(1, sizeof(*ld->c));
	if (ld->c == NULL) {
		report_oom(ld);
		goto out;
	}
	apply_defaults(ld, SCOPE_GLOBAL, ld->c);
	if (path != NULL) {
		ld->c->path = xstrdup(ld, path);
		unread = load_file(ld) == -1;
	}
	load_env(ld, envp != NULL ? envp : noenv);
	/* Checks of the whole are noise about a file never read. */
	if (!ld->oom && !unread)
		check_all(ld);
out:
	nerr = ld->nerr;
	if (nerr == 0) {
		*out = ld->c;
		ld->c = NULL;
	}
	cfg_free(ld->c);
	free(ld->cm);
	free(ld->bm);
	OPENSSL_cleanse(ld->cont, sizeof(ld->cont));
	free(ld);
	return nerr;
}

void
cfg_free(struct cfg *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	free_fields(SCOPE_GLOBAL, c);
	for (i = 0; i < c->n_clients; i++) {
		free_fields(SCOPE_CLIENT, &c->clients[i]);
		free(c->clients[i].name);
	}
	free(c->clients);
	for (i = 0; i < c->n_buckets; i++) {
		free_fields(SCOPE_BUCKET, &c->buckets[i]);
		free(c->buckets[i].name);
	}
	free(c->buckets);
	free(c->path);
	free(c);
}

int
cfg_same_file(const struct cfg *a, const struct cfg *b)
{
	if (a == NULL || b == NULL)
		return 0;
	if (a->path == NULL || b->path == NULL)
		return a->path == b->path;
	return strcmp(a->path, b->path) == 0 &&
	    memcmp(a->file_sha256, b->file_sha256,
	    sizeof(a->file_sha256)) == 0;
}

/* ---- printing ------------------------------------------------------ */

static void
fmt_duration(struct buf *b, int64_t ms)
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

static void
fmt_size(struct buf *b, uint64_t n)
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
static void
fmt_double(struct buf *b, double d)
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

/* ", "-separated items that load back as g: "blog:rw, blog:admin". */
static void
fmt_grant(struct buf *b, const struct cfg_grant *g, int first)
{
	static const char *const rw[] = { NULL, "r", "w", "rw" };
	unsigned	 low = g->rights & 3u;

	if (!first)
		buf_puts(b, ", ");
	if (low != 0)
		buf_printf(b, "%s:%s", g->bucket, rw[low]);
	if (g->rights & CFG_RIGHT_BIT(CFG_RIGHT_ADMIN))
		buf_printf(b, "%s%s:admin", low != 0 ? ", " : "", g->bucket);
}

static void
fmt_value(struct buf *b, const struct keydef *kd, const void *base)
{
	const void		*field;
	char *const		*items;
	const struct cfg_grant	*grants;
	const char		*s;
	size_t			 i, n;

	field = field_ptr(base, kd->off);
	switch (kd->type) {
	case T_SECRET:
		/* Unset shows as empty: nothing is hidden. */
		s = *(char *const *)field;
		if (s != NULL && *s != '\0')
			buf_puts(b, MASK);
		break;
	case T_STRING:
	case T_NONEMPTY:
	case T_WORD:
	case T_HOSTPORT:
	case T_URL:
	case T_HOST:
	case T_BUCKET:
	case T_PREFIX:
		s = *(char *const *)field;
		buf_puts(b, s != NULL ? s : "");
		break;
	case T_DURATION:
		fmt_duration(b, *(const int64_t *)field);
		break;
	case T_SIZE:
		fmt_size(b, *(const uint64_t *)field);
		break;
	case T_UINT:
		buf_printf(b, "%u", *(const unsigned *)field);
		break;
	case T_DOUBLE:
		fmt_double(b, *(const double *)field);
		break;
	case T_BOOL:
		buf_puts(b, *(const int *)field ? "yes" : "no");
		break;
	case T_ENUM:
		enum_name(b, kd->choices, *(const int *)field);
		break;
	case T_IDS:
	case T_NAMES:
		items = *(char **const *)field;
		n = *(const size_t *)field_ptr(base, kd->noff);
		for (i = 0; i < n; i++)
			buf_printf(b, "%s%s", i > 0 ? ", " : "", items[i]);
		break;
	case T_GRANTS:
		grants = *(struct cfg_grant *const *)field;
		n = *(const size_t *)field_ptr(base, kd->noff);
		for (i = 0; i < n; i++)
			fmt_grant(b, &grants[i], i == 0);
		break;
	}
}

static void
print_keys(FILE *fp, enum scope sc, const void *base)
{
	const char	*section;
	struct buf	 b;
	size_t		 k;

	buf_init(&b);
	section = NULL;
	for (k = 0; k < K__COUNT; k++) {
		if (keys[k].scope != sc)
			continue;
		if (sc == SCOPE_GLOBAL && (section == NULL ||
		    strcmp(section, keys[k].section) != 0)) {
			section = keys[k].section;
			fprintf(fp, "\n[%s]\n", section);
		}
		buf_reset(&b);
		fmt_value(&b, &keys[k], base);
		if (b.len > 0)
			fprintf(fp, "%s = %s\n", keys[k].name, buf_str(&b));
		else
			fprintf(fp, "%s =\n", keys[k].name);
	}
	buf_fini(&b);
}

void
cfg_print(const struct cfg *c, FILE *fp)
{
	size_t	 i;

	if (c == NULL)
		return;
	fputs("; s3inval: the effective configuration, secrets masked\n", fp);
	print_keys(fp, SCOPE_GLOBAL, c);
	for (i = 0; i < c->n_clients; i++) {
		fprintf(fp, "\n[client %s]\n", c->clients[i].name);
		print_keys(fp, SCOPE_CLIENT, &c->clients[i]);
	}
	for (i = 0; i < c->n_buckets; i++) {
		fprintf(fp, "\n[bucket %s]\n", c->buckets[i].name);
		print_keys(fp, SCOPE_BUCKET, &c->buckets[i]);
	}
}

/* ---- lookups ------------------------------------------------------- */

const struct cfg_bucket *
cfg_bucket_find(const struct cfg *c, const char *name)
{
	const struct cfg_bucket	*any;
	size_t			 i;

	if (c == NULL || name == NULL)
		return NULL;
	any = NULL;
	for (i = 0; i < c->n_buckets; i++) {
		if (strcmp(c->buckets[i].name, name) == 0)
			return &c->buckets[i];
		if (strcmp(c->buckets[i].name, "*") == 0)
			any = &c->buckets[i];
	}
	return any;
}

const struct cfg_client *
cfg_client_find(const struct cfg *c, const char *access_key_id)
{
	size_t	 i;

	if (c == NULL || access_key_id == NULL)
		return NULL;
	for (i = 0; i < c->n_clients; i++)
		if (c->clients[i].access_key_id != NULL &&
		    strcmp(c->clients[i].access_key_id, access_key_id) == 0)
			return &c->clients[i];
	return NULL;
}

int
cfg_client_may(const struct cfg_client *cl, const char *bucket,
    enum cfg_right right)
{
	const struct cfg_grant	*g;
	unsigned		 held = 0;
	size_t			 i;

	if (cl == NULL || bucket == NULL)
		return 0;
	for (i = 0; i < cl->n_grants; i++) {
		g = &cl->grants[i];
		if (strcmp(g->bucket, bucket) == 0 ||
		    strcmp(g->bucket, "*") == 0)
			held |= g->rights;
	}
	return (held & CFG_RIGHT_BIT(right)) != 0;
}
