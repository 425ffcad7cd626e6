/* SPDX-License-Identifier: Apache-2.0 */
/*
 * credentials: see credentials.h.  Where each rule comes from:
 *
 * - Order of the chain and refresh before expiry: AWS SDKs and Tools
 *   Reference Guide (SDKREF), "Standardized credential providers".
 * - Environment: SDKREF "AWS access keys".  An access key id without a
 *   secret (or the reverse) is an error, as in the SDKs, not a reason to
 *   look further.
 * - Files: AWS CLI User Guide, "Configuration and credential file
 *   settings": in the credentials file a profile is [NAME], in the config
 *   file [profile NAME] except [default]; '#' and ';' start a comment
 *   line; an indented line continues the setting above it (nested
 *   "s3 =" blocks).  Keys found in the credentials file win.  Read with
 *   our own reader, not inih: inih's default 200-byte lines cut session
 *   tokens short.  A profile that asks for a provider we do not have
 *   (credential_process, SSO, role_arn with source_profile or
 *   credential_source) is an error at start, not silently skipped.
 * - Web identity: SDKREF "Assume role credential provider" (settings
 *   web_identity_token_file, role_arn, role_session_name and
 *   AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME);
 *   AWS STS API Reference, "AssumeRoleWithWebIdentity" (unsigned Query
 *   API call, Version 2011-06-15, WebIdentityToken up to 20,000
 *   characters, RoleSessionName [\w+=,.@-]{2,64}); SDKREF "Service-specific
 *   endpoints" (AWS_ENDPOINT_URL_STS) and "AWS STS Regional endpoints"
 *   (regional by default; AWS_STS_REGIONAL_ENDPOINTS=legacy: global).
 *   The token file is read again at every refresh (it is rotated).
 * - Container: SDKREF "Container credential provider": RELATIVE_URI is
 *   appended to http://169.254.170.2; FULL_URI must be https or an http
 *   URL whose host is a loopback address, 169.254.170.2 (ECS) or
 *   169.254.170.23 / fd00:ec2::23 (EKS Pod Identity).  A host name is
 *   checked where it matters: the address curl actually connected to,
 *   before the request (and its Authorization token) is sent.  The token
 *   file wins over the token variable and is read at every refresh.
 * - IMDS: SDKREF "IMDS credential provider" and the Amazon EC2 User Guide,
 *   "Use the Instance Metadata Service to access instance metadata":
 *   IMDSv2 only (PUT /latest/api/token with
 *   X-aws-ec2-metadata-token-ttl-seconds, then GETs with
 *   X-aws-ec2-metadata-token); no IMDSv1 fallback: a token-less GET is
 *   what IMDSv2-only instances refuse, and newer SDKs dropped it too.
 *   1-second timeouts and one attempt, so that a machine outside EC2
 *   fails in about a second.  Link-local services never go through an
 *   HTTP proxy.
 *
 * - Container and IMDS answers are JSON, read with jansson (the library
 *   the JSON log writes with), strictly: see credentials_json_get().  The
 *   strings of the parsed tree are wiped before it is freed; the lexer's
 *   own scratch buffer inside jansson is not reachable and is freed as
 *   is.
 *
 * What it does not do: sign anything (callers sign with a copy of the
 * set), retry a request of a caller, or cache anything on disk.
 *
 * Secrets (keys, tokens, the web identity token, Authorization values,
 * file contents) live in buffers that are wiped before they are freed and
 * are never logged; logs name the source and the last four characters of
 * the access key id.
 *
 * Threads: one mutex guards the current set and the status; the refresher
 * thread owns the source description (read-only after init) and does all
 * network I/O without holding the mutex.  It sleeps on a condition
 * variable (monotonic clock) until the next refresh time, so
 * credentials_fini() wakes it at once; a transfer under way is aborted by
 * the progress callback.  daemon(3) forks after credentials_init(): the
 * pthread_atfork() child handler notes that the thread is gone and the
 * first credentials_get() in the child starts a new one.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "credentials.h"
#include "http_call.h"
#include "log.h"
#include "util.h"

#define BODY_MAX		(64 * 1024)	/* HTTP answer bytes kept */
#define PROFILE_FILE_MAX	(1024 * 1024)
#define WEB_TOKEN_MAX		20000		/* STS WebIdentityToken */
#define AUTH_TOKEN_MAX		(16 * 1024)	/* container Authorization */
#define IMDS_TOKEN_MAX		1024
#define ROLE_NAME_MAX		128
#define STS_ERR_MAX		160		/* of an STS error message */

#define ECS_BASE		"http://169.254.170.2"
#define IMDS_BASE_V4		"http://169.254.169.254"
#define IMDS_BASE_V6		"http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL		"21600"		/* seconds, as the SDKs */
#define IMDS_CREDS_PATH		"/latest/meta-data/iam/security-credentials/"
#define STS_GLOBAL		"https://sts.amazonaws.com"

#define NO_EXPIRY_REFRESH	900	/* s: refetch a set with no expiry */
#define REFRESH_MARGIN_MAX	300	/* s: refresh 5 minutes before expiry */
#define RETRY_DELAY_MAX		60	/* s: backoff cap after failures */
#define RETRY_EXPIRED_MAX	5	/* s: the cap once the set expired */

/* What to fetch again at each refresh: read-only once installed. */
struct cred_src {
	enum credentials_kind	 kind;
	char			 desc[160];	/* logs and status; no secret */
	/* web identity */
	char			 token_file[PATH_MAX];
	char			 role_arn[2048];
	char			 session_name[65];
	char			 sts_url[1024];
	/* container */
	char			 url[2048];
	char			 auth[AUTH_TOKEN_MAX];	/* secret */
	char			 auth_file[PATH_MAX];
	int			 peer_check;
	/* IMDS */
	char			 imds[1024];
	/* for the "nothing found" message */
	char			 tried[600];
};

/*
 * Shared state.  cred_lock guards everything but cred_stop (atomic, read
 * by curl's progress callback) and cred_curl (main thread only).
 */
static pthread_mutex_t		 cred_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 cred_cond;
static int			 cred_cond_ok;	/* cred_cond initialised */
static struct credentials	 cred_current;
static int			 cred_ready;
static struct credentials_status cred_st;
static unsigned			 cred_streak;	/* failures in a row */
static int			 cred_expired_logged;
static struct cred_src		*cred_src;	/* temporary sources only */
static pthread_t		 cred_thread;
static int			 cred_wanted;	/* a refresher should run */
static int			 cred_running;	/* it runs in this process */
static atomic_int		 cred_stop;
static int			 cred_curl;	/* curl_global_init() done */
static pthread_once_t		 cred_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------ */
/* small helpers                                                      */
/* ------------------------------------------------------------------ */

/* An error message, cut to fit (messages name paths and URLs of any
 * length). */
static void
seterr(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errsz, const char *fmt, ...)
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
static const char *
env_val(char *const *envp, const char *name)
{
	const char	*v = env_get(envp, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static int
copy(char *dst, size_t dstsz, const char *src)
{
	size_t	 n = strlen(src);

	if (n >= dstsz)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* Printable ASCII without blanks: what may go into a header or a
 * credential scope. */
static int
printable(const char *s)
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
static int
header_safe(const char *s)
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
static int
check_set(const struct credentials *c, char *err, size_t errsz)
{
	if (!printable(c->access_key_id) ||
	    strpbrk(c->access_key_id, "/,;=") != NULL) {
		seterr(err, errsz, "the access key id is empty or has "
		    "characters that cannot be signed");
		return -1;
	}
	if (!printable(c->secret_access_key)) {
		seterr(err, errsz, "the secret access key is empty or not "
		    "printable ASCII");
		return -1;
	}
	if (c->session_token[0] != '\0' && !printable(c->session_token)) {
		seterr(err, errsz, "the session token is not printable "
		    "ASCII");
		return -1;
	}
	return 0;
}

static const char *
last4(const char *akid)
{
	size_t	 n = strlen(akid);

	return n > 4 ? akid + n - 4 : akid;
}

static void
fmt_time(int64_t t, char *out, size_t n)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "never");
}

/* Keep printable ASCII of s (for text that came from a server), at most
 * max characters. */
static void
sanitize(char *s, size_t max)
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
static void
rtrim(char *s)
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
static int
read_file(const char *path, size_t max, char **out, size_t *lenp)
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

static void
free_secret(char *p, size_t n)
{
	if (p != NULL) {
		OPENSSL_cleanse(p, n);
		free(p);
	}
}

/* ------------------------------------------------------------------ */
/* time                                                               */
/* ------------------------------------------------------------------ */

static int
digits(const char *s, int n, int *out)
{
	int	 i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		 era;
	unsigned	 yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int
credentials_parse_time(const char *s, int64_t *out)
{
	static const int mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	const char	*p;
	int		 y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, leap;

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
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 60)
		return -1;
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	return 0;
}

/* ------------------------------------------------------------------ */
/* JSON (jansson)                                                     */
/* ------------------------------------------------------------------ */

/* Wipe every string of the tree before it is freed: it held secrets. */
static void
json_wipe(json_t *j)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (json_is_string(j))
		OPENSSL_cleanse((char *)json_string_value(j),
		    json_string_length(j));
	else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			json_wipe(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			json_wipe(v);
	}
}

int
credentials_json_get(const char *json, size_t len, const char *name,
    char *out, size_t outsz)
{
	json_error_t	 jerr;
	json_t		*doc = NULL, *v;
	size_t		 n;
	int		 rc = -1;

	if (out == NULL || outsz == 0 || json == NULL || name == NULL)
		return -1;
	out[0] = '\0';
	/* RFC 8259 strictly, as jansson reads it: one document, nothing
	 * after it, valid UTF-8, no \u0000; a name twice (anywhere) is
	 * ambiguous, so refused. */
	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc))
		goto out;
	v = json_object_get(doc, name);
	if (v == NULL) {
		rc = 0;
		goto out;
	}
	n = json_string_length(v);
	if (!json_is_string(v) || n >= outsz)
		goto out;
	memcpy(out, json_string_value(v), n + 1);
	rc = 1;
out:
	if (doc != NULL) {
		json_wipe(doc);
		json_decref(doc);
	}
	if (rc != 1)
		OPENSSL_cleanse(out, outsz);
	if (rc == 0)
		out[0] = '\0';
	return rc;
}

int
credentials_parse_json(const char *json, size_t len, struct credentials *c,
    char *err, size_t errsz)
{
	char	 v[64];
	int	 rc;

	memset(c, 0, sizeof(*c));
	rc = credentials_json_get(json, len, "Code", v, sizeof(v));
	if (rc == -1)
		goto bad;
	if (rc == 1 && strcmp(v, "Success") != 0) {
		sanitize(v, 40);
		seterr(err, errsz, "the answer's Code is \"%s\", not "
		    "Success", v);
		goto fail;
	}
	if (credentials_json_get(json, len, "AccessKeyId", c->access_key_id,
	    sizeof(c->access_key_id)) != 1 ||
	    credentials_json_get(json, len, "SecretAccessKey",
	    c->secret_access_key, sizeof(c->secret_access_key)) != 1 ||
	    credentials_json_get(json, len, "Token", c->session_token,
	    sizeof(c->session_token)) == -1)
		goto bad;
	rc = credentials_json_get(json, len, "Expiration", v, sizeof(v));
	if (rc == -1 || (rc == 1 && credentials_parse_time(v,
	    &c->expiration) == -1))
		goto bad;
	if (check_set(c, err, errsz) == -1)
		goto fail;
	return 0;
bad:
	seterr(err, errsz, "the answer is not a JSON object with string "
	    "members AccessKeyId, SecretAccessKey and optional Token and "
	    "Expiration (ISO 8601)");
fail:
	credentials_wipe(c);
	return -1;
}

/* ------------------------------------------------------------------ */
/* STS XML                                                            */
/* ------------------------------------------------------------------ */

static const xmlNode *
xchild(const xmlNode *n, const char *name)
{
	const xmlNode	*c;

	for (c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* The text of element n (text and CDATA children only: an entity
 * reference is refused, never expanded).  0, or -1 when absent, holding
 * anything else, or too long. */
static int
xtext(const xmlNode *n, char *out, size_t outsz)
{
	const xmlNode	*c;
	size_t		 len = 0, k;

	out[0] = '\0';
	if (n == NULL)
		return -1;
	for (c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_COMMENT_NODE)
			continue;
		if ((c->type != XML_TEXT_NODE &&
		    c->type != XML_CDATA_SECTION_NODE) || c->content == NULL)
			return -1;
		k = strlen((const char *)c->content);
		if (k >= outsz - len)
			return -1;
		memcpy(out + len, c->content, k);
		len += k;
		out[len] = '\0';
	}
	return 0;
}

/* Wipe every text of the tree before it is freed: it held secrets. */
static void
xwipe(xmlNode *n)
{
	for (; n != NULL; n = n->next) {
		if ((n->type == XML_TEXT_NODE ||
		    n->type == XML_CDATA_SECTION_NODE) && n->content != NULL)
			OPENSSL_cleanse(n->content,
			    strlen((const char *)n->content));
		xwipe(n->children);
	}
}

int
credentials_parse_sts(const char *xml, size_t len, struct credentials *c,
    char *err, size_t errsz)
{
	xmlDocPtr	 doc = NULL;
	const xmlNode	*root, *cr, *e;
	char		 exp[64], code[64], msg[STS_ERR_MAX + 1];
	int		 rc = -1;

	memset(c, 0, sizeof(*c));
	/* STS never sends a DTD: refuse one, so no entity is declared,
	 * expanded or fetched whatever the parser would do. */
	if (len == 0 || len > BODY_MAX ||
	    memmem(xml, len, "<!DOCTYPE", 9) != NULL ||
	    memmem(xml, len, "<!ENTITY", 8) != NULL) {
		seterr(err, errsz, "the STS answer is empty, too long or "
		    "has a DTD");
		goto out;
	}
	doc = xmlReadMemory(xml, (int)len, "sts.xml", NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (root == NULL) {
		seterr(err, errsz, "the STS answer is not XML");
		goto out;
	}
	if (strcmp((const char *)root->name, "ErrorResponse") == 0) {
		e = xchild(root, "Error");
		if (xtext(xchild(e, "Code"), code, sizeof(code)) == -1)
			snprintf(code, sizeof(code), "?");
		if (xtext(xchild(e, "Message"), msg, sizeof(msg)) == -1)
			msg[0] = '\0';
		sanitize(code, 40);
		sanitize(msg, STS_ERR_MAX);
		seterr(err, errsz, "STS error %s%s%s", code,
		    msg[0] != '\0' ? ": " : "", msg);
		goto out;
	}
	cr = xchild(xchild(root, "AssumeRoleWithWebIdentityResult"),
	    "Credentials");
	if (strcmp((const char *)root->name,
	    "AssumeRoleWithWebIdentityResponse") != 0 || cr == NULL ||
	    xtext(xchild(cr, "AccessKeyId"), c->access_key_id,
	    sizeof(c->access_key_id)) == -1 ||
	    xtext(xchild(cr, "SecretAccessKey"), c->secret_access_key,
	    sizeof(c->secret_access_key)) == -1 ||
	    xtext(xchild(cr, "SessionToken"), c->session_token,
	    sizeof(c->session_token)) == -1 ||
	    xtext(xchild(cr, "Expiration"), exp, sizeof(exp)) == -1 ||
	    credentials_parse_time(exp, &c->expiration) == -1) {
		seterr(err, errsz, "the STS answer has no complete "
		    "AssumeRoleWithWebIdentityResult/Credentials (AccessKeyId, "
		    "SecretAccessKey, SessionToken, Expiration)");
		goto out;
	}
	if (check_set(c, err, errsz) == -1)
		goto out;
	rc = 0;
out:
	if (doc != NULL) {
		xwipe(doc->children);
		xmlFreeDoc(doc);
	}
	if (rc == -1)
		credentials_wipe(c);
	return rc;
}

/* ------------------------------------------------------------------ */
/* shared credentials and config files                                */
/* ------------------------------------------------------------------ */

/* [a, b) with the blanks around it removed. */
static void
trim(const char **a, const char **b)
{
	while (*a < *b && (**a == ' ' || **a == '\t' || **a == '\r'))
		(*a)++;
	while (*b > *a && ((*b)[-1] == ' ' || (*b)[-1] == '\t' ||
	    (*b)[-1] == '\r'))
		(*b)--;
}

/* The section header text [a, b) names want, blanks collapsed. */
static int
section_is(const char *a, const char *b, const char *want)
{
	int	 blank = 0;

	trim(&a, &b);
	for (; a < b; a++) {
		if (*a == ' ' || *a == '\t') {
			blank = 1;
			continue;
		}
		if (blank) {
			if (*want != ' ')
				return 0;
			want++;
			blank = 0;
		}
		if (*want == '\0' || *want != *a)
			return 0;
		want++;
	}
	return *want == '\0';
}

int
credentials_profile_get(const char *text, size_t len, const char *section,
    const char *key, char *out, size_t outsz)
{
	const char	*p = text, *end = text + len, *eol, *a, *b, *eq, *ka,
			*kb;
	size_t		 klen = key != NULL ? strlen(key) : 0, vlen;
	int		 in = 0, found = 0, toolong = 0, after_key = 0;
	int		 indented;

	if (out != NULL && outsz > 0)
		out[0] = '\0';
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		a = p;
		b = eol;
		p = eol < end ? eol + 1 : end;
		indented = a < b && (*a == ' ' || *a == '\t');
		trim(&a, &b);
		if (a == b || *a == '#' || *a == ';')
			continue;
		if (*a == '[') {
			after_key = 0;
			in = b[-1] == ']' && b - a >= 2 &&
			    section_is(a + 1, b - 1, section);
			if (in && key == NULL)
				return 1;
			continue;
		}
		/* An indented line continues the setting above (a nested
		 * block such as "s3 =" or a multi-line value). */
		if (indented && after_key)
			continue;
		eq = memchr(a, '=', (size_t)(b - a));
		if (eq == NULL)
			continue;
		after_key = 1;
		if (!in || key == NULL)
			continue;
		ka = a;
		kb = eq;
		trim(&ka, &kb);
		if ((size_t)(kb - ka) != klen ||
		    strncasecmp(ka, key, klen) != 0)
			continue;
		a = eq + 1;
		trim(&a, &b);
		vlen = (size_t)(b - a);
		found = 1;
		toolong = out == NULL || vlen >= outsz;
		if (!toolong) {
			memcpy(out, a, vlen);
			out[vlen] = '\0';
		}
	}
	if (toolong) {
		if (out != NULL)
			OPENSSL_cleanse(out, outsz);
		return -1;
	}
	return found;
}

/* ------------------------------------------------------------------ */
/* selection: which source, without network I/O                       */
/* ------------------------------------------------------------------ */

struct pfile {
	const char	*path;
	char		*text;		/* secret; NULL when missing */
	size_t		 len;
	char		 section[300];
	int		 has;		/* the profile's section is there */
};

/* key of the profile in f: 1, 0, -1 (too long: error in err). */
static int
pget(const struct pfile *f, const char *key, char *out, size_t outsz,
    char *err, size_t errsz)
{
	int	 rc;

	if (outsz > 0)
		out[0] = '\0';
	if (!f->has)
		return 0;
	rc = credentials_profile_get(f->text, f->len, f->section, key, out,
	    outsz);
	if (rc == -1)
		seterr(err, errsz, "%s: [%s] %s is too long", f->path,
		    f->section, key);
	return rc;
}

static int
pfile_load(struct pfile *f, const char *path, const char *section,
    char *err, size_t errsz)
{
	f->path = path;
	if (copy(f->section, sizeof(f->section), section) == -1) {
		seterr(err, errsz, "profile name too long");
		return -1;
	}
	if (read_file(path, PROFILE_FILE_MAX, &f->text, &f->len) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		seterr(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	f->has = credentials_profile_get(f->text, f->len, section, NULL,
	    NULL, 0) == 1;
	return 0;
}

static int
session_name_ok(const char *s)
{
	size_t	 n = strlen(s);

	if (n < 2 || n > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("_+=,.@-", *s) == NULL)
			return 0;
	return 1;
}

/* An http(s) URL without user info or fragment; into out without a
 * trailing '/'. */
static int
base_url(const char *url, char *out, size_t outsz)
{
	size_t	 n, skip;

	if (strncasecmp(url, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		skip = 8;
	else
		return -1;
	if (!printable(url) || strpbrk(url, "@#") != NULL ||
	    copy(out, outsz, url) == -1)
		return -1;
	n = strlen(out);
	while (n > skip && out[n - 1] == '/')
		out[--n] = '\0';
	return n > skip && out[skip] != '/' ? 0 : -1;
}

/* Web identity settings: from the environment or from a profile. */
static int
select_web_identity(char *const *envp, struct cred_src *s,
    const char *token_file, const char *role_arn, const char *session,
    const char *via, char *err, size_t errsz)
{
	const char	*ep, *region, *mode;
	int		 n;

	s->kind = CREDENTIALS_WEB_IDENTITY;
	if (copy(s->token_file, sizeof(s->token_file), token_file) == -1 ||
	    copy(s->role_arn, sizeof(s->role_arn), role_arn) == -1 ||
	    !printable(role_arn)) {
		seterr(err, errsz, "web identity: the token file path or "
		    "role ARN is too long or not printable");
		return -1;
	}
	if (session != NULL) {
		if (!session_name_ok(session)) {
			seterr(err, errsz, "web identity: the role session "
			    "name must be 2-64 characters of "
			    "[A-Za-z0-9_+=,.@-]");
			return -1;
		}
		snprintf(s->session_name, sizeof(s->session_name), "%s",
		    session);
	} else
		snprintf(s->session_name, sizeof(s->session_name),
		    "s3inval-%lld", (long long)util_now());
	ep = env_val(envp, "AWS_ENDPOINT_URL_STS");
	region = env_val(envp, "AWS_REGION");
	if (region == NULL)
		region = env_val(envp, "AWS_DEFAULT_REGION");
	mode = env_val(envp, "AWS_STS_REGIONAL_ENDPOINTS");
	if (ep != NULL) {
		if (base_url(ep, s->sts_url, sizeof(s->sts_url)) == -1) {
			seterr(err, errsz, "AWS_ENDPOINT_URL_STS is not an "
			    "http(s) URL");
			return -1;
		}
	} else if (region != NULL && (mode == NULL ||
	    strcasecmp(mode, "legacy") != 0)) {
		if (strlen(region) > 32 ||
		    strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		    strlen(region)) {
			seterr(err, errsz, "AWS_REGION is not a region name");
			return -1;
		}
		snprintf(s->sts_url, sizeof(s->sts_url),
		    "https://sts.%s.amazonaws.com%s", region,
		    strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
	} else
		snprintf(s->sts_url, sizeof(s->sts_url), "%s", STS_GLOBAL);
	n = snprintf(s->desc, sizeof(s->desc), "web identity%s%s (%s)",
	    via != NULL ? " of " : "", via != NULL ? via : "", role_arn);
	if (n < 0 || (size_t)n >= sizeof(s->desc))
		snprintf(s->desc + sizeof(s->desc) - 5, 5, "...)");
	return 0;
}

/* The shared files.  1 when the profile gave a source, 0 when the chain
 * goes on, -1 on error. */
static int
select_profile(char *const *envp, struct cred_src *s, struct credentials *c,
    char *err, size_t errsz)
{
	static const char *const unsupported[] = {
		"credential_process", "sso_session", "sso_start_url",
		"source_profile", "credential_source"
	};
	struct pfile	 cf, kf;	/* config file, credentials file */
	const struct pfile *fs[2];
	const char	*home, *profile, *path;
	char		 defc[PATH_MAX], defk[PATH_MAX], section[300];
	char		*v = NULL, *arn = NULL, *tf = NULL;
	size_t		 vsz = 4096, k;
	int		 rc = -1, i, a, b, t, named;

	memset(&cf, 0, sizeof(cf));
	memset(&kf, 0, sizeof(kf));
	home = env_val(envp, "HOME");
	profile = env_val(envp, "AWS_PROFILE");
	named = profile != NULL;
	if (profile == NULL)
		profile = "default";
	if (strlen(profile) > 200) {
		seterr(err, errsz, "AWS_PROFILE is too long");
		goto out;
	}
	path = env_val(envp, "AWS_SHARED_CREDENTIALS_FILE");
	if (path == NULL && home != NULL) {
		snprintf(defk, sizeof(defk), "%s/.aws/credentials", home);
		path = defk;
	}
	if (path != NULL && pfile_load(&kf, path, profile, err, errsz) == -1)
		goto out;
	path = env_val(envp, "AWS_CONFIG_FILE");
	if (path == NULL && home != NULL) {
		snprintf(defc, sizeof(defc), "%s/.aws/config", home);
		path = defc;
	}
	if (strcmp(profile, "default") == 0)
		snprintf(section, sizeof(section), "default");
	else
		snprintf(section, sizeof(section), "profile %s", profile);
	if (path != NULL && pfile_load(&cf, path, section, err, errsz) == -1)
		goto out;
	if (!cf.has && cf.text != NULL && strcmp(profile, "default") == 0) {
		/* "[profile default]" is accepted too. */
		snprintf(cf.section, sizeof(cf.section), "profile default");
		cf.has = credentials_profile_get(cf.text, cf.len, cf.section,
		    NULL, NULL, 0) == 1;
	}
	snprintf(s->tried, sizeof(s->tried), "profile \"%s\" in %s or %s",
	    profile, kf.path != NULL ? kf.path : "(no credentials file)",
	    cf.path != NULL ? cf.path : "(no config file)");
	if (!kf.has && !cf.has) {
		if (named) {
			seterr(err, errsz, "AWS_PROFILE is \"%s\", but no such "
			    "profile is in %s or %s", profile,
			    kf.path != NULL ? kf.path : "(no credentials file)",
			    cf.path != NULL ? cf.path : "(no config file)");
			goto out;
		}
		rc = 0;
		goto out;
	}
	v = malloc(vsz);
	arn = malloc(vsz);
	tf = malloc(vsz);
	if (v == NULL || arn == NULL || tf == NULL) {
		seterr(err, errsz, "out of memory");
		goto out;
	}
	/* Static keys: the credentials file first, then the config file. */
	fs[0] = &kf;
	fs[1] = &cf;
	for (i = 0; i < 2; i++) {
		memset(c, 0, sizeof(*c));
		a = pget(fs[i], "aws_access_key_id", c->access_key_id,
		    sizeof(c->access_key_id), err, errsz);
		b = pget(fs[i], "aws_secret_access_key", c->secret_access_key,
		    sizeof(c->secret_access_key), err, errsz);
		t = pget(fs[i], "aws_session_token", c->session_token,
		    sizeof(c->session_token), err, errsz);
		if (a == -1 || b == -1 || t == -1)
			goto out;
		if (c->access_key_id[0] == '\0' &&
		    c->secret_access_key[0] == '\0')
			continue;
		if (c->access_key_id[0] == '\0' ||
		    c->secret_access_key[0] == '\0') {
			seterr(err, errsz, "%s: [%s] has only one of "
			    "aws_access_key_id and aws_secret_access_key",
			    fs[i]->path, fs[i]->section);
			goto out;
		}
		if (check_set(c, err, errsz) == -1) {
			seterr(err, errsz, "%s: [%s]: the keys are not "
			    "printable ASCII", fs[i]->path, fs[i]->section);
			goto out;
		}
		s->kind = CREDENTIALS_PROFILE;
		snprintf(s->desc, sizeof(s->desc), "profile %s", profile);
		rc = 1;
		goto out;
	}
	credentials_wipe(c);
	/* Providers we do not have: an error, not a silent fallback. */
	for (i = 0; i < 2; i++)
		for (k = 0; k < sizeof(unsupported) / sizeof(unsupported[0]);
		    k++) {
			a = pget(fs[i], unsupported[k], v, vsz, err, errsz);
			if (a == -1)
				goto out;
			if (a == 1) {
				seterr(err, errsz, "%s: [%s] uses %s, which "
				    "s3inval does not support: use static "
				    "keys, web_identity_token_file or another "
				    "source of the chain", fs[i]->path,
				    fs[i]->section, unsupported[k]);
				goto out;
			}
		}
	/* A web identity: each setting from the credentials file, else
	 * from the config file. */
	arn[0] = tf[0] = v[0] = '\0';
	for (i = 1; i >= 0; i--) {
		if (pget(fs[i], "role_arn", s->url, sizeof(s->url), err,
		    errsz) == -1)
			goto out;
		if (s->url[0] != '\0')
			snprintf(arn, vsz, "%s", s->url);
		if (pget(fs[i], "web_identity_token_file", s->url,
		    sizeof(s->url), err, errsz) == -1)
			goto out;
		if (s->url[0] != '\0')
			snprintf(tf, vsz, "%s", s->url);
		if (pget(fs[i], "role_session_name", s->url, sizeof(s->url),
		    err, errsz) == -1)
			goto out;
		if (s->url[0] != '\0')
			snprintf(v, vsz, "%s", s->url);
	}
	s->url[0] = '\0';
	if (arn[0] == '\0' && tf[0] == '\0') {
		rc = 0;
		goto out;
	}
	if (arn[0] == '\0' || tf[0] == '\0') {
		seterr(err, errsz, "profile \"%s\": role_arn and "
		    "web_identity_token_file go together", profile);
		goto out;
	}
	snprintf(section, sizeof(section), "profile %s", profile);
	if (select_web_identity(envp, s, tf, arn, v[0] != '\0' ? v : NULL,
	    section, err, errsz) == -1)
		goto out;
	rc = 1;
out:
	free_secret(v, vsz);
	free_secret(arn, vsz);
	free_secret(tf, vsz);
	free_secret(kf.text, kf.len + 1);
	free_secret(cf.text, cf.len + 1);
	if (rc != 1)
		credentials_wipe(c);
	return rc;
}

/* Addresses a plain-http FULL_URI may reach (SDKREF, "Container
 * credential provider"): loopback, the ECS and EKS Pod Identity agents. */
static int
peer_allowed(const char *ip)
{
	struct in_addr	 a4;
	struct in6_addr	 a6, eks6;
	uint32_t	 a;

	if (ip == NULL)
		return 0;
	if (inet_pton(AF_INET, ip, &a4) == 1) {
		a = ntohl(a4.s_addr);
		return (a >> 24) == 127 || a == 0xa9feaa02 || a == 0xa9feaa17;
	}
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return 1;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		a = (uint32_t)a6.s6_addr[12] << 24 |
		    (uint32_t)a6.s6_addr[13] << 16 |
		    (uint32_t)a6.s6_addr[14] << 8 | a6.s6_addr[15];
		return (a >> 24) == 127 || a == 0xa9feaa02 || a == 0xa9feaa17;
	}
	if (inet_pton(AF_INET6, "fd00:ec2::23", &eks6) != 1)
		return 0;
	return memcmp(&a6, &eks6, sizeof(a6)) == 0;
}

/* FULL_URI: https anywhere; http only to an allowed host.  A literal
 * address is checked now; a name when curl has connected. */
static int
select_full_uri(const char *uri, struct cred_src *s, char *err, size_t errsz)
{
	CURLU	*u = NULL;
	char	*scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char	*user = NULL, ip[64];
	size_t	 n;
	int	 rc = -1;

	u = curl_url();
	if (u == NULL || !printable(uri) ||
	    curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		seterr(err, errsz, "AWS_CONTAINER_CREDENTIALS_FULL_URI is "
		    "not a URL");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		seterr(err, errsz, "AWS_CONTAINER_CREDENTIALS_FULL_URI has "
		    "user information");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		seterr(err, errsz, "AWS_CONTAINER_CREDENTIALS_FULL_URI must "
		    "be http or https");
		goto out;
	}
	if (strcmp(scheme, "http") == 0) {
		s->peer_check = 1;
		n = strlen(host);
		if (host[0] == '[' && n >= 2 && n - 2 < sizeof(ip)) {
			memcpy(ip, host + 1, n - 2);
			ip[n - 2] = '\0';
		} else
			snprintf(ip, sizeof(ip), "%s", host);
		if ((strchr(ip, ':') != NULL || strspn(ip, "0123456789.") ==
		    strlen(ip)) && !peer_allowed(ip)) {
			seterr(err, errsz, "AWS_CONTAINER_CREDENTIALS_FULL_URI "
			    "%s://%s: plain http is only allowed to a loopback "
			    "address, 169.254.170.2 or the EKS Pod Identity "
			    "agent; use https", scheme, host);
			goto out;
		}
	}
	if (copy(s->url, sizeof(s->url), uri) == -1) {
		seterr(err, errsz, "AWS_CONTAINER_CREDENTIALS_FULL_URI is "
		    "too long");
		goto out;
	}
	snprintf(s->desc, sizeof(s->desc), "container %s://%s%s%s%.80s",
	    scheme, host, port != NULL ? ":" : "", port != NULL ? port : "",
	    path);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

static int
select_container(char *const *envp, struct cred_src *s, char *err,
    size_t errsz)
{
	const char	*rel, *full, *tok, *tokf;

	rel = env_val(envp, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	full = env_val(envp, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	if (rel == NULL && full == NULL)
		return 0;
	s->kind = CREDENTIALS_CONTAINER;
	if (rel != NULL) {
		/* Starts with '/': nothing can turn the fixed host into user
		 * information or another host. */
		if (rel[0] != '/' || !printable(rel) ||
		    (size_t)snprintf(s->url, sizeof(s->url), "%s%s", ECS_BASE,
		    rel) >= sizeof(s->url)) {
			seterr(err, errsz, "AWS_CONTAINER_CREDENTIALS_RELATIVE_"
			    "URI must be a path starting with '/'");
			return -1;
		}
		snprintf(s->desc, sizeof(s->desc), "container %s%.80s",
		    ECS_BASE, rel);
	} else if (select_full_uri(full, s, err, errsz) == -1)
		return -1;
	tokf = env_val(envp, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	tok = env_val(envp, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	if (tokf != NULL) {
		if (copy(s->auth_file, sizeof(s->auth_file), tokf) == -1) {
			seterr(err, errsz, "AWS_CONTAINER_AUTHORIZATION_TOKEN_"
			    "FILE is too long");
			return -1;
		}
	} else if (tok != NULL) {
		if (copy(s->auth, sizeof(s->auth), tok) == -1 ||
		    !header_safe(tok)) {
			seterr(err, errsz, "AWS_CONTAINER_AUTHORIZATION_TOKEN "
			    "is too long or has a line break or another "
			    "control character");
			return -1;
		}
	}
	return 1;
}

static int
select_imds(char *const *envp, struct cred_src *s, char *err, size_t errsz)
{
	const char	*dis, *ep, *mode;

	dis = env_val(envp, "AWS_EC2_METADATA_DISABLED");
	if (dis != NULL && strcasecmp(dis, "true") == 0)
		return 0;
	ep = env_val(envp, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	mode = env_val(envp, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	if (ep == NULL)
		ep = mode != NULL && strcasecmp(mode, "IPv6") == 0 ?
		    IMDS_BASE_V6 : IMDS_BASE_V4;
	if (base_url(ep, s->imds, sizeof(s->imds)) == -1) {
		seterr(err, errsz, "AWS_EC2_METADATA_SERVICE_ENDPOINT is not "
		    "an http(s) URL");
		return -1;
	}
	s->kind = CREDENTIALS_IMDS;
	snprintf(s->desc, sizeof(s->desc), "EC2 IMDS %.120s", s->imds);
	return 1;
}

static int
select_src(char *const *envp, struct cred_src *s, struct credentials *c,
    char *err, size_t errsz)
{
	const char	*akid, *secret, *token, *tf, *arn;
	int		 r;

	memset(c, 0, sizeof(*c));
	s->kind = CREDENTIALS_NONE;
	akid = env_val(envp, "AWS_ACCESS_KEY_ID");
	secret = env_val(envp, "AWS_SECRET_ACCESS_KEY");
	token = env_val(envp, "AWS_SESSION_TOKEN");
	if (akid != NULL || secret != NULL) {
		if (akid == NULL || secret == NULL) {
			seterr(err, errsz, "%s is set without %s",
			    akid != NULL ? "AWS_ACCESS_KEY_ID" :
			    "AWS_SECRET_ACCESS_KEY", akid != NULL ?
			    "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
			return -1;
		}
		if (copy(c->access_key_id, sizeof(c->access_key_id), akid) ||
		    copy(c->secret_access_key, sizeof(c->secret_access_key),
		    secret) || copy(c->session_token, sizeof(c->session_token),
		    token != NULL ? token : "") ||
		    check_set(c, err, errsz) == -1) {
			seterr(err, errsz, "AWS_ACCESS_KEY_ID, "
			    "AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN is too "
			    "long or not printable ASCII");
			credentials_wipe(c);
			return -1;
		}
		s->kind = CREDENTIALS_ENV;
		snprintf(s->desc, sizeof(s->desc), "environment");
		return 0;
	}
	r = select_profile(envp, s, c, err, errsz);
	if (r != 0)
		return r == 1 ? 0 : -1;
	tf = env_val(envp, "AWS_WEB_IDENTITY_TOKEN_FILE");
	arn = env_val(envp, "AWS_ROLE_ARN");
	if (tf != NULL && arn != NULL)
		return select_web_identity(envp, s, tf, arn,
		    env_val(envp, "AWS_ROLE_SESSION_NAME"), NULL, err, errsz);
	if (tf != NULL || arn != NULL)
		log_warn("credentials: %s is set without %s: web identity "
		    "skipped", tf != NULL ? "AWS_WEB_IDENTITY_TOKEN_FILE" :
		    "AWS_ROLE_ARN", tf != NULL ? "AWS_ROLE_ARN" :
		    "AWS_WEB_IDENTITY_TOKEN_FILE");
	r = select_container(envp, s, err, errsz);
	if (r != 0)
		return r == 1 ? 0 : -1;
	r = select_imds(envp, s, err, errsz);
	if (r != 0)
		return r == 1 ? 0 : -1;
	seterr(err, errsz, "no AWS credentials found: not in the "
	    "environment (AWS_ACCESS_KEY_ID), no %s, no web identity "
	    "(AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN) or container "
	    "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI) settings, "
	    "and EC2 IMDS is disabled (AWS_EC2_METADATA_DISABLED)", s->tried);
	return -1;
}

int
credentials_select(char *const *envp, enum credentials_kind *kind,
    char *desc, size_t descsz, char *err, size_t errsz)
{
	struct cred_src		*s;
	struct credentials	 c;
	int			 rc = -1;

	*kind = CREDENTIALS_NONE;
	if (descsz > 0)
		desc[0] = '\0';
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		seterr(err, errsz, "out of memory");
		return -1;
	}
	if (select_src(envp, s, &c, err, errsz) == 0) {
		*kind = s->kind;
		snprintf(desc, descsz, "%s", s->desc);
		rc = 0;
	}
	credentials_wipe(&c);
	free_secret((char *)s, sizeof(*s));
	return rc;
}

/* ------------------------------------------------------------------ */
/* HTTP (http_call)                                                   */
/* ------------------------------------------------------------------ */

/* A call of ours to url: a secret answer, cancelled by
 * credentials_fini(). */
static void
call_init(struct http_call *hc, const char *method, const char *url,
    long connect_ms, long total_ms)
{
	memset(hc, 0, sizeof(*hc));
	hc->method = method;
	hc->url = url;
	hc->connect_timeout_ms = connect_ms;
	hc->timeout_ms = total_ms;
	hc->body_max = BODY_MAX;
	hc->cancel = &cred_stop;
	hc->secret = 1;
}

/* Why an answer failed, for err: the call's own reason. */
static const char *
call_error(const struct http_answer *an)
{
	if (an->peer_refused)
		return "the host resolved to an address that is not loopback "
		    "or a container credentials agent: refused (plain http)";
	return an->error;
}

/* ------------------------------------------------------------------ */
/* fetchers                                                           */
/* ------------------------------------------------------------------ */

/* A token file's content, trailing line ends removed; -1 + err. */
static int
read_token(const char *path, size_t max, const char *what, char **out,
    size_t *lenp, char *err, size_t errsz)
{
	int	 bad;

	if (read_file(path, max, out, lenp) == -1) {
		seterr(err, errsz, "%s %s: %s", what, path,
		    errno == EFBIG ? "too long" : strerror(errno));
		return -1;
	}
	/* No NUL inside; trailing blanks and line ends go; what is left
	 * must fit in a header (an Authorization value is "Bearer ..."). */
	bad = memchr(*out, '\0', *lenp) != NULL;
	rtrim(*out);
	if (bad || !header_safe(*out)) {
		seterr(err, errsz, "%s %s is empty or has characters other "
		    "than printable ASCII", what, path);
		free_secret(*out, *lenp + 1);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Append URL-encoded "&name=value" to b; -1 when it does not fit. */
static int
form_add(CURL *e, char *b, size_t bsz, size_t *len, const char *name,
    const char *value)
{
	char	*esc;
	size_t	 n;
	int	 rc = -1;

	esc = curl_easy_escape(e, value, 0);
	if (esc == NULL)
		return -1;
	n = strlen(esc);
	if (*len + strlen(name) + n + 3 < bsz) {
		*len += (size_t)snprintf(b + *len, bsz - *len, "%s%s=%s",
		    *len > 0 ? "&" : "", name, esc);
		rc = 0;
	}
	OPENSSL_cleanse(esc, n);
	curl_free(esc);
	return rc;
}

static int
fetch_web_identity(const struct cred_src *s, struct http_answer *an,
    struct credentials *c, char *err, size_t errsz, int *retry)
{
	static const char *const accept[] = { "Accept: text/xml", NULL };
	struct http_call hc;
	CURL		*e = NULL;
	char		*tok = NULL, *body = NULL, why[256];
	size_t		 toklen = 0, bsz = 3 * WEB_TOKEN_MAX + 4096, len = 0;
	int		 rc = -1;

	if (read_token(s->token_file, WEB_TOKEN_MAX, "web identity token "
	    "file", &tok, &toklen, err, errsz) == -1)
		goto out;
	e = curl_easy_init();
	body = malloc(bsz);
	if (e == NULL || body == NULL ||
	    form_add(e, body, bsz, &len, "Action",
	    "AssumeRoleWithWebIdentity") == -1 ||
	    form_add(e, body, bsz, &len, "Version", "2011-06-15") == -1 ||
	    form_add(e, body, bsz, &len, "RoleArn", s->role_arn) == -1 ||
	    form_add(e, body, bsz, &len, "RoleSessionName",
	    s->session_name) == -1 ||
	    form_add(e, body, bsz, &len, "WebIdentityToken", tok) == -1) {
		seterr(err, errsz, "cannot build the STS request");
		goto out;
	}
	call_init(&hc, "POST", s->sts_url, 5000, 10000);
	hc.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	hc.headers = accept;
	hc.body = body;
	hc.body_len = len;
	http_call_perform(&hc, an);
	if (an->failed) {
		seterr(err, errsz, "STS %s: %s", s->sts_url, call_error(an));
		*retry = http_answer_retryable(an);
		goto out;
	}
	if (an->status != 200) {
		if (credentials_parse_sts(buf_str(&an->body), an->body.len, c,
		    why, sizeof(why)) == 0) {
			credentials_wipe(c);
			snprintf(why, sizeof(why), "no STS error document");
		}
		seterr(err, errsz, "STS %s AssumeRoleWithWebIdentity: HTTP "
		    "%ld: %s", s->sts_url, an->status, why);
		*retry = http_answer_retryable(an) ||
		    strstr(why, "IDPCommunicationError") != NULL;
		goto out;
	}
	if (credentials_parse_sts(buf_str(&an->body), an->body.len, c, why,
	    sizeof(why)) == -1) {
		seterr(err, errsz, "STS %s: %s", s->sts_url, why);
		goto out;
	}
	rc = 0;
out:
	free_secret(tok, toklen + 1);
	free_secret(body, bsz);
	curl_easy_cleanup(e);
	return rc;
}

static int
fetch_container(const struct cred_src *s, struct http_answer *an,
    struct credentials *c, char *err, size_t errsz, int *retry)
{
	const char	*hdrs[3] = { NULL, NULL, NULL };
	struct http_call hc;
	char		*tok = NULL, *hdr = NULL, why[256], code[64];
	size_t		 toklen = 0, hsz = AUTH_TOKEN_MAX + 32, n = 0;
	int		 rc = -1;

	hdr = malloc(hsz);
	if (hdr == NULL) {
		seterr(err, errsz, "out of memory");
		goto out;
	}
	if (s->auth_file[0] != '\0') {
		if (read_token(s->auth_file, AUTH_TOKEN_MAX - 1,
		    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &tok, &toklen,
		    err, errsz) == -1)
			goto out;
		snprintf(hdr, hsz, "Authorization: %s", tok);
		hdrs[n++] = hdr;
	} else if (s->auth[0] != '\0') {
		snprintf(hdr, hsz, "Authorization: %s", s->auth);
		hdrs[n++] = hdr;
	}
	hdrs[n] = "Accept: application/json";
	call_init(&hc, "GET", s->url, 2000, 5000);
	hc.headers = hdrs;
	hc.direct = 1;
	hc.peer_ok = s->peer_check ? peer_allowed : NULL;
	http_call_perform(&hc, an);
	if (an->failed) {
		seterr(err, errsz, "%s: %s", s->desc, call_error(an));
		*retry = http_answer_retryable(an);
		goto out;
	}
	if (an->status != 200) {
		if (credentials_json_get(buf_str(&an->body), an->body.len,
		    "code", code, sizeof(code)) != 1)
			code[0] = '\0';
		sanitize(code, 40);
		seterr(err, errsz, "%s: HTTP %ld%s%s", s->desc, an->status,
		    code[0] != '\0' ? " " : "", code);
		*retry = http_answer_retryable(an);
		goto out;
	}
	if (credentials_parse_json(buf_str(&an->body), an->body.len, c, why,
	    sizeof(why)) == -1) {
		seterr(err, errsz, "%s: %s", s->desc, why);
		goto out;
	}
	rc = 0;
out:
	free_secret(tok, toklen + 1);
	free_secret(hdr, hsz);
	return rc;
}

static int
fetch_imds(const struct cred_src *s, struct http_answer *an,
    struct credentials *c, char *err, size_t errsz, int *retry)
{
	static const char *const ttl[] = {
		"X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL, NULL
	};
	const char	*hdrs[2] = { NULL, NULL };
	struct http_call hc;
	char		 url[1400], hdr[IMDS_TOKEN_MAX + 40];
	char		 role[ROLE_NAME_MAX + 1], why[256], none[1];
	char		*text;
	size_t		 n;
	int		 rc = -1;

	hdr[0] = '\0';
	/* The session token. */
	snprintf(url, sizeof(url), "%s/latest/api/token", s->imds);
	call_init(&hc, "PUT", url, 1000, 1000);
	hc.headers = ttl;
	hc.direct = 1;
	http_call_perform(&hc, an);
	if (an->failed) {
		seterr(err, errsz, "%s: PUT /latest/api/token: %s", s->desc,
		    call_error(an));
		*retry = http_answer_retryable(an);
		goto out;
	}
	none[0] = '\0';
	text = an->body.data != NULL ? an->body.data : none;
	rtrim(text);
	if (an->status != 200 || an->body.len > IMDS_TOKEN_MAX ||
	    !printable(text)) {
		seterr(err, errsz, "%s: PUT /latest/api/token: HTTP %ld%s",
		    s->desc, an->status, an->status == 200 ?
		    " with a malformed token" : " (IMDSv2 unavailable)");
		*retry = http_answer_retryable(an);
		goto out;
	}
	snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", text);
	/* The role name. */
	snprintf(url, sizeof(url), "%s%s", s->imds, IMDS_CREDS_PATH);
	hc.method = "GET";
	hdrs[0] = hdr;
	hc.headers = hdrs;
	http_call_perform(&hc, an);
	if (an->failed) {
		seterr(err, errsz, "%s: GET %s: %s", s->desc,
		    IMDS_CREDS_PATH, call_error(an));
		*retry = http_answer_retryable(an);
		goto out;
	}
	none[0] = '\0';
	text = an->body.data != NULL ? an->body.data : none;
	n = strcspn(text, "\r\n");
	text[n] = '\0';
	if (an->status != 200 || n == 0 || n > ROLE_NAME_MAX ||
	    strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
	    "WXYZ0123456789_+=,.@-") != n) {
		seterr(err, errsz, "%s: GET %s: HTTP %ld%s", s->desc,
		    IMDS_CREDS_PATH, an->status, an->status == 404 ?
		    " (no IAM role is attached to this instance)" :
		    an->status == 200 ? " with a malformed role name" : "");
		*retry = http_answer_retryable(an);
		goto out;
	}
	memcpy(role, text, n + 1);
	/* The role's credentials. */
	snprintf(url, sizeof(url), "%s%s%s", s->imds, IMDS_CREDS_PATH, role);
	http_call_perform(&hc, an);
	if (an->failed) {
		seterr(err, errsz, "%s: role %s: %s", s->desc, role,
		    call_error(an));
		*retry = http_answer_retryable(an);
		goto out;
	}
	if (an->status != 200) {
		seterr(err, errsz, "%s: role %s: HTTP %ld", s->desc, role,
		    an->status);
		*retry = http_answer_retryable(an);
		goto out;
	}
	if (credentials_parse_json(buf_str(&an->body), an->body.len, c, why,
	    sizeof(why)) == -1) {
		seterr(err, errsz, "%s: role %s: %s", s->desc, role, why);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(hdr, sizeof(hdr));
	return rc;
}

/* One attempt at a temporary source.  *retry: worth another attempt. */
static int
fetch(const struct cred_src *s, struct credentials *c, char *err,
    size_t errsz, int *retry)
{
	struct http_answer	 an;
	int			 rc = -1;

	memset(c, 0, sizeof(*c));
	*retry = 0;
	http_answer_init(&an);
	switch (s->kind) {
	case CREDENTIALS_WEB_IDENTITY:
		rc = fetch_web_identity(s, &an, c, err, errsz, retry);
		break;
	case CREDENTIALS_CONTAINER:
		rc = fetch_container(s, &an, c, err, errsz, retry);
		break;
	case CREDENTIALS_IMDS:
		rc = fetch_imds(s, &an, c, err, errsz, retry);
		break;
	default:
		seterr(err, errsz, "nothing to fetch");
		break;
	}
	http_answer_fini(&an);
	if (rc == 0)
		snprintf(c->source, sizeof(c->source), "%s", s->desc);
	else
		credentials_wipe(c);
	return rc;
}

static int
temporary(enum credentials_kind k)
{
	return k == CREDENTIALS_WEB_IDENTITY || k == CREDENTIALS_CONTAINER ||
	    k == CREDENTIALS_IMDS;
}

/* Select, then fetch with a few attempts (SDKs retry the container
 * endpoint; IMDS gets one so that a non-EC2 host fails fast). */
static int
resolve(char *const *envp, struct cred_src *s, struct credentials *c,
    char *err, size_t errsz)
{
	struct timespec	 ts;
	char		 why[512];
	int		 i, attempts, retry;

	if (select_src(envp, s, c, err, errsz) == -1)
		return -1;
	if (!temporary(s->kind)) {
		snprintf(c->source, sizeof(c->source), "%s", s->desc);
		return 0;
	}
	xmlInitParser();
	attempts = s->kind == CREDENTIALS_IMDS ? 1 :
	    s->kind == CREDENTIALS_CONTAINER ? 3 : 2;
	for (i = 0; i < attempts; i++) {
		if (i > 0) {
			ts.tv_sec = 0;
			ts.tv_nsec = 250000000L * i;
			nanosleep(&ts, NULL);
		}
		if (fetch(s, c, why, sizeof(why), &retry) == 0) {
			if (c->expiration != 0 && c->expiration <= util_now()) {
				seterr(err, errsz, "%s: the credentials "
				    "expired already (clock skew?)", s->desc);
				credentials_wipe(c);
				return -1;
			}
			return 0;
		}
		if (!retry)
			break;
	}
	if (s->kind == CREDENTIALS_IMDS)
		seterr(err, errsz, "no AWS credentials found: not in the "
		    "environment (AWS_ACCESS_KEY_ID), no %s, no web identity "
		    "or container settings, and %s (outside EC2, set "
		    "AWS_EC2_METADATA_DISABLED=true)", s->tried, why);
	else
		seterr(err, errsz, "%s", why);
	return -1;
}

int
credentials_resolve(char *const *envp, struct credentials *c, char *err,
    size_t errsz)
{
	struct cred_src	*s;
	int		 rc, curl;

	memset(c, 0, sizeof(*c));
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		seterr(err, errsz, "out of memory");
		return -1;
	}
	curl = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	rc = resolve(envp, s, c, err, errsz);
	if (curl)
		curl_global_cleanup();
	free_secret((char *)s, sizeof(*s));
	return rc;
}

/* ------------------------------------------------------------------ */
/* the refresher                                                      */
/* ------------------------------------------------------------------ */

int64_t
credentials_next_refresh(int64_t now, int64_t fetched, int64_t expiration,
    unsigned failures)
{
	int64_t	 delay, left, margin, at;

	if (failures > 0) {
		delay = (int64_t)1 << (failures - 1 < 6 ? failures - 1 : 6);
		if (delay > RETRY_DELAY_MAX)
			delay = RETRY_DELAY_MAX;
		/* Close to expiry, try more often; once expired (requests
		 * fail), every few seconds. */
		left = expiration - now;
		if (expiration != 0 && left > 0 && delay > left / 4)
			delay = left / 4;
		if (expiration != 0 && left <= 0 && delay > RETRY_EXPIRED_MAX)
			delay = RETRY_EXPIRED_MAX;
		return now + (delay < 1 ? 1 : delay);
	}
	if (expiration == 0)
		at = fetched + NO_EXPIRY_REFRESH;
	else {
		margin = (expiration - fetched) / 2;
		if (margin > REFRESH_MARGIN_MAX)
			margin = REFRESH_MARGIN_MAX;
		at = expiration - margin;
	}
	return at < now + 1 ? now + 1 : at;
}

static void
cond_setup(void)
{
	pthread_condattr_t	 ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cred_cond, &ca);
	pthread_condattr_destroy(&ca);
	cred_cond_ok = 1;
}

/* Sleep on cred_cond for at most secs (cred_lock held). */
static void
wait_secs(int64_t secs)
{
	struct timespec	 ts;

	if (secs > 3600)
		secs = 3600;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)secs;
	pthread_cond_timedwait(&cred_cond, &cred_lock, &ts);
}

static void *
refresher(void *arg)
{
	struct cred_src		*s = arg;
	struct credentials	 fresh;
	char			 err[256], when[32], akid[8];
	const char		*why;
	size_t			 n;
	int64_t			 now, exp, next;
	unsigned		 streak;
	int			 rc, retry, expired;

	pthread_mutex_lock(&cred_lock);
	while (!atomic_load(&cred_stop)) {
		now = util_now();
		if (now < cred_st.next_refresh) {
			wait_secs(cred_st.next_refresh - now);
			continue;
		}
		pthread_mutex_unlock(&cred_lock);

		/* Every failure is retried with backoff, "not retryable" ones
		 * too: a token file may be rotated, a role attached. */
		err[0] = '\0';
		rc = fetch(s, &fresh, err, sizeof(err), &retry);
		now = util_now();
		if (rc == 0 && fresh.expiration != 0 &&
		    fresh.expiration <= now) {
			snprintf(err, sizeof(err), "the new set has expired "
			    "already (clock skew?)");
			credentials_wipe(&fresh);
			rc = -1;
		}

		pthread_mutex_lock(&cred_lock);
		if (atomic_load(&cred_stop)) {
			credentials_wipe(&fresh);
			break;
		}
		if (rc == 0) {
			/* Wipe first: the old token may be the longer one. */
			credentials_wipe(&cred_current);
			cred_current = fresh;
			cred_ready = 1;
			cred_streak = 0;
			cred_expired_logged = 0;
			cred_st.refreshes++;
			cred_st.last_refresh = now;
			cred_st.expiration = fresh.expiration;
			cred_st.last_error[0] = '\0';
			snprintf(cred_st.access_key_id,
			    sizeof(cred_st.access_key_id), "%s",
			    fresh.access_key_id);
		} else {
			cred_streak++;
			cred_st.failures++;
			snprintf(cred_st.last_error,
			    sizeof(cred_st.last_error), "%s", err);
		}
		exp = cred_current.expiration;
		streak = cred_streak;
		next = credentials_next_refresh(now, cred_st.last_refresh, exp,
		    streak);
		cred_st.next_refresh = next;
		expired = rc != 0 && exp != 0 && now >= exp &&
		    !cred_expired_logged;
		if (expired)
			cred_expired_logged = 1;
		memcpy(akid, last4(fresh.access_key_id),
		    strlen(last4(fresh.access_key_id)) + 1);
		credentials_wipe(&fresh);
		pthread_mutex_unlock(&cred_lock);

		/* Log without the lock: stderr may block.  The reason need
		 * not repeat the source. */
		fmt_time(exp, when, sizeof(when));
		why = err;
		n = strlen(s->desc);
		if (strncmp(why, s->desc, n) == 0 && why[n] == ':')
			why += n + 1 + (why[n + 1] == ' ');
		if (rc == 0)
			log_info("credentials: refreshed from %s: key ...%s, "
			    "expires %s, next refresh in %llds", s->desc, akid,
			    when, (long long)(next - now));
		else if (exp != 0 && now >= exp)
			log_msg(expired ? LOG_ERROR : LOG_WARN, "credentials: "
			    "the set from %s expired at %s and no refresh "
			    "succeeded (%s): upstream requests fail until one "
			    "does; retry %u in %llds", s->desc, when, why,
			    streak, (long long)(next - now));
		else
			log_warn("credentials: refresh from %s failed (%s); "
			    "keeping the current set (expires %s); retry %u "
			    "in %llds", s->desc, why, when, streak,
			    (long long)(next - now));
		pthread_mutex_lock(&cred_lock);
	}
	pthread_mutex_unlock(&cred_lock);
	return NULL;
}

/* Start the refresher (cred_lock held). */
static int
start_refresher(void)
{
	if (!cred_cond_ok)
		cond_setup();
	if (pthread_create(&cred_thread, NULL, refresher, cred_src) != 0)
		return -1;
	cred_running = 1;
	return 0;
}

static void
atfork_prepare(void)
{
	pthread_mutex_lock(&cred_lock);
}

static void
atfork_parent(void)
{
	pthread_mutex_unlock(&cred_lock);
}

/* In the child only the forking thread exists: the refresher is gone,
 * and a waiter may be left in the condition variable's state. */
static void
atfork_child(void)
{
	cred_running = 0;
	if (cred_cond_ok)
		cond_setup();
	pthread_mutex_unlock(&cred_lock);
}

static void
register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ------------------------------------------------------------------ */
/* public                                                             */
/* ------------------------------------------------------------------ */

int
credentials_init(char *const *envp, char *err, size_t errsz)
{
	struct cred_src		*s = NULL;
	struct credentials	 c;
	char			 when[32];
	int64_t			 now, next = 0;
	int			 rc = -1;

	memset(&c, 0, sizeof(c));
	pthread_once(&cred_once, register_atfork);
	credentials_fini();
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		seterr(err, errsz, "out of memory");
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		seterr(err, errsz, "cannot initialise libcurl");
		goto out;
	}
	cred_curl = 1;
	if (resolve(envp, s, &c, err, errsz) == -1)
		goto out;
	now = util_now();
	pthread_mutex_lock(&cred_lock);
	cred_current = c;
	cred_ready = 1;
	memset(&cred_st, 0, sizeof(cred_st));
	cred_st.kind = s->kind;
	snprintf(cred_st.source, sizeof(cred_st.source), "%s", s->desc);
	snprintf(cred_st.access_key_id, sizeof(cred_st.access_key_id), "%s",
	    c.access_key_id);
	cred_st.expiration = c.expiration;
	cred_st.last_refresh = now;
	cred_streak = 0;
	cred_expired_logged = 0;
	if (temporary(s->kind)) {
		next = credentials_next_refresh(now, now, c.expiration, 0);
		cred_st.next_refresh = next;
		cred_src = s;
		s = NULL;
		cred_wanted = 1;
		if (start_refresher() == -1) {
			pthread_mutex_unlock(&cred_lock);
			seterr(err, errsz, "cannot start the credentials "
			    "refresher thread");
			credentials_fini();
			goto out;
		}
	}
	pthread_mutex_unlock(&cred_lock);
	fmt_time(c.expiration, when, sizeof(when));
	if (c.expiration != 0)
		log_info("credentials: using %s: key ...%s%s, expires %s, "
		    "refreshed in the background (next in %llds)", c.source,
		    last4(c.access_key_id), c.session_token[0] != '\0' ?
		    " with a session token" : "", when,
		    (long long)(next - now));
	else
		log_info("credentials: using %s: key ...%s%s%s", c.source,
		    last4(c.access_key_id), c.session_token[0] != '\0' ?
		    " with a session token" : "", next != 0 ?
		    ", no expiry given, refetched every 15 minutes" : "");
	rc = 0;
out:
	if (rc == -1 && cred_curl && !cred_ready) {
		curl_global_cleanup();
		cred_curl = 0;
	}
	credentials_wipe(&c);
	free_secret((char *)s, s != NULL ? sizeof(*s) : 0);
	return rc;
}

int
credentials_get(struct credentials *c)
{
	int	 ok;

	pthread_mutex_lock(&cred_lock);
	/* After a fork (daemon(3)) the refresher must be started again. */
	if (cred_wanted && !cred_running && start_refresher() == -1)
		log_error("credentials: cannot restart the refresher thread");
	ok = cred_ready && (cred_current.expiration == 0 ||
	    util_now() < cred_current.expiration);
	if (ok)
		*c = cred_current;
	pthread_mutex_unlock(&cred_lock);
	if (!ok)
		credentials_wipe(c);
	return ok ? 0 : -1;
}

enum credentials_kind
credentials_source(char *out, size_t n)
{
	enum credentials_kind	 k;

	pthread_mutex_lock(&cred_lock);
	k = cred_ready ? cred_st.kind : CREDENTIALS_NONE;
	if (n > 0)
		snprintf(out, n, "%s", cred_ready ? cred_st.source : "");
	pthread_mutex_unlock(&cred_lock);
	return k;
}

int
credentials_status(struct credentials_status *st)
{
	int	 ok;

	pthread_mutex_lock(&cred_lock);
	ok = cred_ready;
	if (ok)
		*st = cred_st;
	else
		memset(st, 0, sizeof(*st));
	pthread_mutex_unlock(&cred_lock);
	return ok ? 0 : -1;
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

void
credentials_wipe(struct credentials *c)
{
	if (c != NULL)
		OPENSSL_cleanse(c, sizeof(*c));
}

void
credentials_fini(void)
{
	pthread_t	 t;
	int		 join;

	atomic_store(&cred_stop, 1);
	pthread_mutex_lock(&cred_lock);
	join = cred_running;
	t = cred_thread;
	cred_running = 0;
	cred_wanted = 0;
	if (join)
		pthread_cond_broadcast(&cred_cond);
	pthread_mutex_unlock(&cred_lock);
	if (join)
		pthread_join(t, NULL);

	pthread_mutex_lock(&cred_lock);
	credentials_wipe(&cred_current);
	cred_ready = 0;
	memset(&cred_st, 0, sizeof(cred_st));
	cred_streak = 0;
	if (cred_src != NULL) {
		OPENSSL_cleanse(cred_src, sizeof(*cred_src));
		free(cred_src);
		cred_src = NULL;
	}
	if (cred_cond_ok) {
		pthread_cond_destroy(&cred_cond);
		cred_cond_ok = 0;
	}
	pthread_mutex_unlock(&cred_lock);
	if (cred_curl) {
		curl_global_cleanup();
		cred_curl = 0;
	}
	atomic_store(&cred_stop, 0);
}
