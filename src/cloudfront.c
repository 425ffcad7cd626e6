/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloudfront: see cloudfront.h.
 *
 * Amazon CloudFront API Reference, API version 2020-05-31:
 * - CreateInvalidation: "POST /2020-05-31/distribution/Id/invalidation"
 *   with an InvalidationBatch document, answered "201 Created" with an
 *   Invalidation (Id, Status, CreateTime, InvalidationBatch).
 * - GetInvalidation: "GET /2020-05-31/distribution/DistributionId/
 *   invalidation/Id", answered "200 OK" with the same Invalidation.
 * - Errors: <ErrorResponse><Error><Type/><Code/><Message/></Error>
 *   <RequestId/></ErrorResponse>, codes from each action's "Errors" and
 *   from "Common Errors".
 *
 * What it does not do: retry, pace, count limits or log.  Each call makes
 * one attempt with its own curl handle and says in cf_result what the
 * worker should do next; the mapping of answers to outcomes is the table
 * below plus the few rules in classify().
 *
 * Signing (AWS General Reference, "Signature Version 4"): service
 * "cloudfront", region "us-east-1" whatever the endpoint, payload hash the
 * hex SHA-256 of the body, sent as x-amz-content-sha256.  Signed headers:
 * content-type (when sent), host, x-amz-content-sha256, x-amz-date and
 * x-amz-security-token (session credentials only).  The Host header is set
 * here, so what is signed is what is sent.  The POST carries
 * "Content-Type: application/xml": without it curl would send its form
 * default (application/x-www-form-urlencoded), which moto_server answers
 * with 500; aws-cli sends none, and both are accepted.
 *
 * Responses are read up to CF_BODY_MAX bytes and parsed by libxml2 with no
 * network access, no DTD loading and no entity substitution.  A document
 * with a DOCTYPE or ENTITY declaration is refused before it reaches the
 * parser (CloudFront never sends one), so no external entity is fetched and
 * no entity bomb is expanded.
 *
 * Threads: cloudfront_init() and cloudfront_fini() run on the main thread
 * while no other thread calls this module; in between, the configuration is
 * read-only and every call works on its own handle, buffers and copy of the
 * credentials, which is wiped before return, as are the signing key and the
 * Authorization header.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "cloudfront.h"
#include "credentials.h"
#include "sigv4.h"

#define CF_API_VERSION		"2020-05-31"
#define CF_XMLNS	"http://cloudfront.amazonaws.com/doc/2020-05-31/"
#define CF_REGION		"us-east-1"
#define CF_SERVICE		"cloudfront"
#define CF_BODY_MAX		(1024 * 1024)	/* response bytes we keep */
#define CF_ID_MAX		64		/* distribution, invalidation */
#define CF_TIMEOUT_DEFAULT	30000L		/* ms, when init gets <= 0 */
#define CF_SNIPPET_MAX		160		/* of a non-XML error body */

#ifdef PACKAGE_VERSION
#define CF_USER_AGENT		"s3inval/" PACKAGE_VERSION
#else
#define CF_USER_AGENT		"s3inval"
#endif

/* Immutable between cloudfront_init() and cloudfront_fini(). */
static struct {
	char	base[512];	/* "scheme://host[:port]", no trailing '/' */
	char	host[300];	/* the Host header, as signed */
	long	timeout_ms;
	int	ready;
} cf;

/*
 * Error codes and what they mean for the worker.  Sources: the
 * CreateInvalidation and GetInvalidation "Errors" sections, CloudFront
 * "Common Errors", and botocore's standard retry mode (its throttling and
 * transient codes).  Codes not listed: 5xx and 429 retry, InvalidArgument
 * about a reused caller reference is CF_ALREADY_DONE (classify()), any
 * other answer is CF_FATAL.
 */
static const struct {
	const char	*code;
	enum cf_outcome	 outcome;
} error_codes[] = {
	/* Throttled or busy: back off and try again. */
	{ "Throttling",				CF_RETRY },
	{ "ThrottlingException",		CF_RETRY },
	{ "RequestThrottled",			CF_RETRY },
	{ "RequestThrottledException",		CF_RETRY },
	{ "TooManyRequestsException",		CF_RETRY },
	{ "RequestLimitExceeded",		CF_RETRY },
	{ "SlowDown",				CF_RETRY },
	{ "PriorRequestNotComplete",		CF_RETRY },
	{ "RequestTimeout",			CF_RETRY },
	{ "RequestTimeoutException",		CF_RETRY },
	/* "You have exceeded the maximum number of allowable InProgress
	 * invalidation batch requests, or invalidation objects": capacity
	 * comes back as running invalidations complete. */
	{ "TooManyInvalidationsInProgress",	CF_RETRY },
	{ "ServiceUnavailable",			CF_RETRY },
	{ "InternalError",			CF_RETRY },
	{ "InternalFailure",			CF_RETRY },
	/* InvalidationBatch: "If CallerReference is a value you already sent
	 * in a previous invalidation batch request but the content of any
	 * Path is different from the original request, CloudFront returns an
	 * InvalidationBatchAlreadyExists error." */
	{ "InvalidationBatchAlreadyExists",	CF_ALREADY_DONE },
	/* Something in the batch: the worker bisects it. */
	{ "InvalidArgument",			CF_BAD_ARGUMENT },
	{ "BatchTooLarge",			CF_BAD_ARGUMENT },
	{ "InconsistentQuantities",		CF_BAD_ARGUMENT },
	{ "MalformedInput",			CF_BAD_ARGUMENT },
	/* Not about the batch: report, keep pending, retry slowly. */
	{ "AccessDenied",			CF_FATAL },
	{ "AccessDeniedException",		CF_FATAL },
	{ "NoSuchDistribution",			CF_FATAL },
	{ "NoSuchInvalidation",			CF_FATAL },
	{ "MissingBody",			CF_FATAL },
	{ "InvalidClientTokenId",		CF_FATAL },
	{ "SignatureDoesNotMatch",		CF_FATAL },
	{ "IncompleteSignature",		CF_FATAL },
	{ "MissingAuthenticationToken",		CF_FATAL },
	{ "ExpiredToken",			CF_FATAL },
	{ "RequestExpired",			CF_FATAL },
	{ "OptInRequired",			CF_FATAL },
};

struct response {
	struct buf	 body;
	int		 too_big;
};

/* --- small helpers ------------------------------------------------------ */

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Is needle in len bytes of hay?  (memmem is not C11.) */
static int
contains(const char *hay, size_t len, const char *needle)
{
	size_t	 n = strlen(needle), i;

	if (n == 0 || n > len)
		return n == 0;
	for (i = 0; i + n <= len; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

/* Case-insensitive (ASCII) substring test on a NUL-terminated string. */
static int
contains_ci(const char *hay, const char *needle)
{
	size_t	 i, j;

	for (i = 0; hay[i] != '\0'; i++) {
		for (j = 0; needle[j] != '\0' && hay[i + j] != '\0'; j++)
			if (lower((unsigned char)hay[i + j]) !=
			    lower((unsigned char)needle[j]))
				break;
		if (needle[j] == '\0')
			return 1;
	}
	return 0;
}

/*
 * Distribution and invalidation ids are upper-case letters and digits
 * ("E2EXAMPLE1", "I2J0I21PCUYOIK"); any ASCII letter or digit is accepted,
 * nothing that could change the request path.
 */
static int
valid_id(const char *s)
{
	size_t	 i;

	if (s == NULL || *s == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= CF_ID_MAX)
			return 0;
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	}
	return 1;
}

/*
 * Copy len bytes of src into dst (dstsz > 0) for display: leading and
 * trailing white space dropped, control characters made spaces, and a
 * cut never splits a UTF-8 sequence.  Returns the length without the
 * white space, before any cut: >= dstsz means it did not fit.
 */
static size_t
copy_clean(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t	 i, n;

	while (len > 0 && (*src == ' ' || *src == '\t' || *src == '\r' ||
	    *src == '\n')) {
		src++;
		len--;
	}
	while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\t' ||
	    src[len - 1] == '\r' || src[len - 1] == '\n'))
		len--;
	n = len < dstsz - 1 ? len : dstsz - 1;
	if (n < len)
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c == 0x7F) ? ' ' : (char)c;
	}
	dst[n] = '\0';
	return len;
}

static void
result_init(struct cf_result *res)
{
	memset(res, 0, sizeof(*res));
	res->outcome = CF_FATAL;
}

/* A result decided here, without an answer from CloudFront. */
static void
local_result(struct cf_result *res, enum cf_outcome outcome, const char *msg)
{
	result_init(res);
	res->outcome = outcome;
	copy_clean(res->message, sizeof(res->message), msg, strlen(msg));
}

/* --- the InvalidationBatch document ------------------------------------- */

/*
 * 1 when s is well-formed UTF-8 made only of characters XML 1.0 allows
 * (section 2.2, "Char": #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD]
 * | [#x10000-#x10FFFF]): no other control characters, no surrogates, no
 * over-long forms.  Anything else cannot be carried by the document.
 */
static int
xml_text_ok(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	uint32_t		 cp;
	int			 more, i;

	while (*s != '\0') {
		if (*s < 0x80) {
			if (*s < 0x20 && *s != '\t' && *s != '\n' &&
			    *s != '\r')
				return 0;
			s++;
			continue;
		}
		if (*s >= 0xC2 && *s <= 0xDF) {
			cp = *s & 0x1F;
			more = 1;
		} else if (*s >= 0xE0 && *s <= 0xEF) {
			cp = *s & 0x0F;
			more = 2;
		} else if (*s >= 0xF0 && *s <= 0xF4) {
			cp = *s & 0x07;
			more = 3;
		} else
			return 0;
		for (i = 1; i <= more; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3F);
		}
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
		    cp == 0xFFFE || cp == 0xFFFF)
			return 0;
		s += more + 1;
	}
	return 1;
}

/* Append s as XML character data (checked by xml_text_ok() first). */
static void
xml_escape(struct buf *b, const char *s)
{
	const char	*run = s;

	for (; *s != '\0'; s++) {
		const char	*rep;

		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&apos;";
			break;
		/* Character references keep these from end-of-line and
		 * white space normalisation on the way in. */
		case '\t':
			rep = "&#9;";
			break;
		case '\n':
			rep = "&#10;";
			break;
		case '\r':
			rep = "&#13;";
			break;
		default:
			continue;
		}
		buf_append(b, run, (size_t)(s - run));
		buf_puts(b, rep);
		run = s + 1;
	}
	buf_append(b, run, (size_t)(s - run));
}

int
cloudfront_batch_xml(struct buf *b, const char *caller_ref,
    const char *const *paths, size_t n)
{
	size_t	 i;

	if (caller_ref == NULL || *caller_ref == '\0' ||
	    !xml_text_ok(caller_ref) || (n > 0 && paths == NULL))
		return -1;
	for (i = 0; i < n; i++)
		if (paths[i] == NULL || !xml_text_ok(paths[i]))
			return -1;

	/* Element order as the AWS SDKs serialise the InvalidationBatch
	 * shape: Paths (Quantity, Items), then CallerReference. */
	buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<InvalidationBatch xmlns=\"" CF_XMLNS "\"><Paths>");
	buf_printf(b, "<Quantity>%zu</Quantity>", n);
	if (n > 0) {
		buf_puts(b, "<Items>");
		for (i = 0; i < n; i++) {
			buf_puts(b, "<Path>");
			xml_escape(b, paths[i]);
			buf_puts(b, "</Path>");
		}
		buf_puts(b, "</Items>");
	}
	buf_puts(b, "</Paths><CallerReference>");
	xml_escape(b, caller_ref);
	buf_puts(b, "</CallerReference></InvalidationBatch>");
	return buf_ok(b) ? 0 : -1;
}

/* --- answers ------------------------------------------------------------- */

/*
 * Parse an answer as XML, or NULL.  No DOCTYPE or ENTITY declaration gets
 * to the parser, and the parser itself loads nothing (no XML_PARSE_NOENT,
 * XML_PARSE_DTDLOAD, XML_PARSE_XINCLUDE or XML_PARSE_HUGE; with
 * XML_PARSE_NONET).
 */
static xmlDocPtr
parse_xml(const char *body, size_t len)
{
	xmlDocPtr	 doc;

	if (body == NULL || len == 0 || len > CF_BODY_MAX || len > INT_MAX)
		return NULL;
	if (contains(body, len, "<!DOCTYPE") || contains(body, len, "<!ENTITY"))
		return NULL;
	doc = xmlReadMemory(body, (int)len, NULL, NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (doc != NULL && (doc->intSubset != NULL || doc->extSubset != NULL)) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	return doc;
}

/* The first child element of parent with this local name, or NULL. */
static xmlNodePtr
child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr	 n;

	if (parent == NULL)
		return NULL;
	for (n = parent->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrcmp(n->name, (const xmlChar *)name) == 0)
			return n;
	return NULL;
}

/* The element itself when it has this name, else its child of that name. */
static xmlNodePtr
self_or_child(xmlNodePtr n, const char *name)
{
	if (n != NULL && xmlStrcmp(n->name, (const xmlChar *)name) == 0)
		return n;
	return child(n, name);
}

/* The text of element n (NULL: none) into dst, as copy_clean(). */
static size_t
copy_text(char *dst, size_t dstsz, xmlNodePtr n)
{
	xmlChar	*s;
	size_t	 len;

	dst[0] = '\0';
	if (n == NULL)
		return 0;
	s = xmlNodeGetContent(n);
	if (s == NULL)
		return 0;
	len = copy_clean(dst, dstsz, (const char *)s,
	    strlen((const char *)s));
	xmlFree(s);
	return len;
}

/*
 * A short, printable idea of a body that is no CloudFront XML (an HTML
 * error page from a load balancer, say): tags dropped, white space folded.
 */
static void
snippet(struct buf *b, const char *body, size_t len)
{
	size_t	 i, out = 0;
	int	 in_tag = 0, space = 0;

	for (i = 0; i < len && out < CF_SNIPPET_MAX; i++) {
		unsigned char	 c = (unsigned char)body[i];

		if (c == '<') {
			in_tag = 1;
			space = out > 0;
			continue;
		}
		if (in_tag) {
			in_tag = c != '>';
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = out > 0;
			continue;
		}
		if (space) {
			buf_putc(b, ' ');
			out++;
			space = 0;
		}
		buf_putc(b, (c >= 0x20 && c < 0x7F) ? (char)c : '?');
		out++;
	}
	if (i < len)
		buf_puts(b, "...");
}

/*
 * The InvalidationBatch section quoted in the table above says a reused
 * CallerReference with different paths is InvalidationBatchAlreadyExists;
 * CloudFront has also been seen answering InvalidArgument "Your request
 * contains a caller reference that was used for a previous invalidation
 * batch for the same distribution."  Either way that batch was taken.
 */
static int
caller_ref_reused(const char *code, const char *message)
{
	if (strcmp(code, "InvalidArgument") != 0)
		return 0;
	if (!contains_ci(message, "caller reference") &&
	    !contains_ci(message, "callerreference"))
		return 0;
	return contains_ci(message, "previous") ||
	    contains_ci(message, "different") ||
	    contains_ci(message, "already") || contains_ci(message, "another");
}

static enum cf_outcome
classify(long status, const char *code, const char *message)
{
	size_t	 i;

	if (status <= 0 || status >= 500 || status == 429)
		return CF_RETRY;
	if (caller_ref_reused(code, message))
		return CF_ALREADY_DONE;
	for (i = 0; i < sizeof(error_codes) / sizeof(error_codes[0]); i++)
		if (strcmp(code, error_codes[i].code) == 0)
			return error_codes[i].outcome;
	return CF_FATAL;
}

void
cloudfront_parse(long http_status, const char *body, size_t len,
    struct cf_result *res)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root, inv, err;
	struct buf	 msg;

	result_init(res);
	buf_init(&msg);
	res->http_status = http_status;
	doc = parse_xml(body, len);
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;

	if (http_status >= 200 && http_status < 300) {
		/* The Invalidation is the root of both answers. */
		inv = self_or_child(root, "Invalidation");
		if (copy_text(res->invalidation_id,
		    sizeof(res->invalidation_id), child(inv, "Id")) >=
		    sizeof(res->invalidation_id) ||
		    !valid_id(res->invalidation_id)) {
			/* Created or not, we cannot tell: a retry with the
			 * same CallerReference is safe either way. */
			res->invalidation_id[0] = '\0';
			res->outcome = CF_RETRY;
			buf_printf(&msg, "HTTP %ld without an Invalidation Id",
			    http_status);
			goto out;
		}
		copy_text(res->status, sizeof(res->status),
		    child(inv, "Status"));
		res->outcome = CF_OK;
		goto out;
	}

	err = child(self_or_child(root, "ErrorResponse"), "Error");
	if (err == NULL)
		err = self_or_child(root, "Error");
	if (err != NULL) {
		copy_text(res->code, sizeof(res->code), child(err, "Code"));
		copy_text(res->message, sizeof(res->message),
		    child(err, "Message"));
		if (res->code[0] == '\0' && res->message[0] == '\0')
			buf_printf(&msg, "HTTP %ld, an empty Error",
			    http_status);
	} else if (http_status <= 0)
		buf_puts(&msg, "no answer");
	else if (body == NULL || len == 0)
		buf_printf(&msg, "HTTP %ld, empty body", http_status);
	else {
		buf_printf(&msg, "HTTP %ld, not a CloudFront error: ",
		    http_status);
		snippet(&msg, body, len);
	}
	res->outcome = classify(http_status, res->code, res->message);
out:
	if (msg.len > 0 && buf_ok(&msg))
		copy_clean(res->message, sizeof(res->message), msg.data,
		    msg.len);
	buf_fini(&msg);
	xmlFreeDoc(doc);
}

/* --- requests ------------------------------------------------------------ */

int
cloudfront_init(const char *endpoint, long timeout_ms)
{
	CURLU	*u = NULL;
	char	*scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char	*extra = NULL;
	int	 rc = -1, n, dflt;

	memset(&cf, 0, sizeof(cf));
	if (endpoint == NULL || *endpoint == '\0')
		goto out;
	u = curl_url();
	if (u == NULL || curl_url_set(u, CURLUPART_URL, endpoint, 0) !=
	    CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto out;
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		goto out;
	/* An endpoint is a scheme, a host and maybe a port: nothing else. */
	if (strcmp(path, "/") != 0 && strcmp(path, "") != 0)
		goto out;
	if (curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	dflt = port == NULL ||
	    (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
	    (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0);
	n = snprintf(cf.host, sizeof(cf.host), "%s%s%s", host,
	    dflt ? "" : ":", dflt ? "" : port);
	if (n < 0 || (size_t)n >= sizeof(cf.host))
		goto out;
	n = snprintf(cf.base, sizeof(cf.base), "%s://%s", scheme, cf.host);
	if (n < 0 || (size_t)n >= sizeof(cf.base))
		goto out;
	cf.timeout_ms = timeout_ms > 0 ? timeout_ms : CF_TIMEOUT_DEFAULT;
	/* Both are reference-counted or idempotent; libxml2 wants its
	 * initialisation before threads use it. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	xmlInitParser();
	cf.ready = 1;
	rc = 0;
out:
	if (rc == -1)
		memset(&cf, 0, sizeof(cf));
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(extra);
	curl_url_cleanup(u);
	return rc;
}

void
cloudfront_fini(void)
{
	/* xmlCleanupParser() is left to the process: other modules may still
	 * use libxml2. */
	if (cf.ready)
		curl_global_cleanup();
	memset(&cf, 0, sizeof(cf));
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct response	*r = ud;
	size_t		 n = size * nmemb;

	if (n > CF_BODY_MAX - r->body.len) {
		r->too_big = 1;
		return 0;
	}
	if (buf_append(&r->body, p, n) == -1)
		return 0;
	return n;
}

static int
add_header(struct curl_slist **list, const char *name, const char *value)
{
	struct buf		 b;
	struct curl_slist	*n = NULL;

	buf_init(&b);
	buf_printf(&b, "%s: %s", name, value);
	if (buf_ok(&b))
		n = curl_slist_append(*list, buf_str(&b));
	buf_wipe(&b);
	if (n == NULL)
		return -1;
	*list = n;
	return 0;
}

/* The list holds the Authorization header and maybe a session token. */
static void
slist_wipe(struct curl_slist *list)
{
	struct curl_slist	*p;

	for (p = list; p != NULL; p = p->next)
		OPENSSL_cleanse(p->data, strlen(p->data));
	curl_slist_free_all(list);
}

/*
 * One signed request to path (already canonical: ids are letters and
 * digits); body NULL for a GET.  Fills res.
 */
static void
request(const char *method, const char *path, const char *body,
    size_t body_len, struct cf_result *res)
{
	struct credentials	 c;
	struct sigv4_header	 sh[5];
	const char		*wire[5];	/* sh[i].name as sent */
	struct sigv4_request	 sr;
	struct buf		 url, names, creq, scope, sts, auth;
	struct response		 resp;
	struct curl_slist	*hdrs = NULL, *n;
	char			 amz_date[17], date8[9];
	char			 payload[SIGV4_HEX_LEN + 1];
	char			 sig[SIGV4_HEX_LEN + 1];
	char			 errbuf[CURL_ERROR_SIZE];
	unsigned char		 key[SIGV4_KEY_LEN];
	size_t			 nsh = 0, i;
	CURL			*e = NULL;
	CURLcode		 cc;
	long			 status = 0;
	int			 bad = 0;

	memset(&c, 0, sizeof(c));
	memset(key, 0, sizeof(key));
	memset(sig, 0, sizeof(sig));
	errbuf[0] = '\0';
	buf_init(&url);
	buf_init(&names);
	buf_init(&creq);
	buf_init(&scope);
	buf_init(&sts);
	buf_init(&auth);
	buf_init(&resp.body);
	resp.too_big = 0;

	if (!cf.ready) {
		local_result(res, CF_FATAL, "cloudfront_init() not called");
		goto out;
	}
	if (credentials_get(&c) == -1) {
		local_result(res, CF_FATAL, "no AWS credentials");
		goto out;
	}

	sigv4_sha256_hex(payload, body != NULL ? body : "", body_len);
	sigv4_format_amz_date(amz_date, (int64_t)time(NULL));
	memcpy(date8, amz_date, 8);
	date8[8] = '\0';

	/* Signed headers, in the sorted order SignedHeaders lists them. */
	if (body != NULL) {
		wire[nsh] = "Content-Type";
		sh[nsh].name = "content-type";
		sh[nsh++].value = "application/xml";
	}
	wire[nsh] = "Host";
	sh[nsh].name = "host";
	sh[nsh++].value = cf.host;
	wire[nsh] = "X-Amz-Content-Sha256";
	sh[nsh].name = "x-amz-content-sha256";
	sh[nsh++].value = payload;
	wire[nsh] = "X-Amz-Date";
	sh[nsh].name = "x-amz-date";
	sh[nsh++].value = amz_date;
	if (c.session_token[0] != '\0') {
		wire[nsh] = "X-Amz-Security-Token";
		sh[nsh].name = "x-amz-security-token";
		sh[nsh++].value = c.session_token;
	}
	for (i = 0; i < nsh; i++)
		buf_printf(&names, "%s%s", i > 0 ? ";" : "", sh[i].name);

	memset(&sr, 0, sizeof(sr));
	sr.method = method;
	sr.canonical_uri = path;
	sr.canonical_query = "";
	sr.headers = sh;
	sr.n_headers = nsh;
	sr.signed_headers = buf_str(&names);
	sr.payload_hash = payload;
	if (!buf_ok(&names) || sigv4_canonical_request(&creq, &sr) != 0 ||
	    sigv4_scope(&scope, date8, CF_REGION, CF_SERVICE) != 0 ||
	    sigv4_string_to_sign(&sts, amz_date, buf_str(&scope),
	    buf_str(&creq), creq.len) != 0) {
		local_result(res, CF_RETRY, "out of memory signing");
		goto out;
	}
	sigv4_signing_key(key, c.secret_access_key, date8, CF_REGION,
	    CF_SERVICE);
	sigv4_sign(sig, key, buf_str(&sts), sts.len);
	buf_printf(&auth, "%s Credential=%s/%s, SignedHeaders=%s, "
	    "Signature=%s", SIGV4_ALGORITHM, c.access_key_id, buf_str(&scope),
	    buf_str(&names), sig);
	buf_printf(&url, "%s%s", cf.base, path);

	/* What was signed, as signed; no Expect: 100-continue round trip. */
	for (i = 0; i < nsh && !bad; i++)
		bad = add_header(&hdrs, wire[i], sh[i].value);
	if (!bad)
		bad = add_header(&hdrs, "Authorization", buf_str(&auth));
	if (!bad) {
		n = curl_slist_append(hdrs, "Expect:");
		if (n == NULL)
			bad = 1;
		else
			hdrs = n;
	}
	e = curl_easy_init();
	if (bad || e == NULL || !buf_ok(&url) || !buf_ok(&auth)) {
		local_result(res, CF_RETRY, "out of memory");
		goto out;
	}

	bad |= curl_easy_setopt(e, CURLOPT_URL, buf_str(&url)) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR,
	    "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, cf.timeout_ms) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cf.timeout_ms) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, CF_USER_AGENT) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, &resp) != CURLE_OK;
	if (body != NULL) {
		bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) !=
		    CURLE_OK;
	} else
		bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	if (bad) {
		local_result(res, CF_FATAL, "curl refused an option");
		goto out;
	}

	cc = curl_easy_perform(e);
	if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	if (cc == CURLE_WRITE_ERROR && resp.too_big) {
		cloudfront_parse(status, NULL, 0, res);
		snprintf(res->message, sizeof(res->message),
		    "HTTP %ld, response body over %d bytes", status,
		    CF_BODY_MAX);
	} else if (cc != CURLE_OK) {
		/* No (whole) answer.  Even a create that did reach CloudFront
		 * is safe to retry: its CallerReference makes it the same. */
		result_init(res);
		res->outcome = CF_RETRY;
		res->http_status = status;
		snprintf(res->message, sizeof(res->message), "%s: %s",
		    curl_easy_strerror(cc), errbuf[0] != '\0' ? errbuf : "-");
	} else
		cloudfront_parse(status, buf_str(&resp.body), resp.body.len,
		    res);
out:
	curl_easy_cleanup(e);
	slist_wipe(hdrs);
	credentials_wipe(&c);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(sig, sizeof(sig));
	buf_wipe(&auth);
	buf_fini(&url);
	buf_fini(&names);
	buf_fini(&creq);
	buf_fini(&scope);
	buf_fini(&sts);
	buf_fini(&resp.body);
}

void
cloudfront_create(const char *distribution, const char *caller_ref,
    const char *const *paths, size_t n, struct cf_result *res)
{
	struct buf	 path, body;

	buf_init(&path);
	buf_init(&body);
	if (!valid_id(distribution)) {
		local_result(res, CF_FATAL, "invalid distribution id");
		goto out;
	}
	if (n == 0) {
		local_result(res, CF_BAD_ARGUMENT, "no paths in the batch");
		goto out;
	}
	if (cloudfront_batch_xml(&body, caller_ref, paths, n) == -1) {
		if (buf_ok(&body))
			local_result(res, CF_BAD_ARGUMENT, "a path or the "
			    "caller reference is empty or not XML text");
		else
			local_result(res, CF_RETRY, "out of memory");
		goto out;
	}
	buf_printf(&path, "/" CF_API_VERSION "/distribution/%s/invalidation",
	    distribution);
	if (!buf_ok(&path)) {
		local_result(res, CF_RETRY, "out of memory");
		goto out;
	}
	request("POST", buf_str(&path), buf_str(&body), body.len, res);
out:
	buf_fini(&path);
	buf_fini(&body);
}

void
cloudfront_get(const char *distribution, const char *id,
    struct cf_result *res)
{
	struct buf	 path;

	buf_init(&path);
	if (!valid_id(distribution) || !valid_id(id)) {
		local_result(res, CF_FATAL, "invalid distribution or "
		    "invalidation id");
		goto out;
	}
	buf_printf(&path, "/" CF_API_VERSION "/distribution/%s/invalidation/%s",
	    distribution, id);
	if (!buf_ok(&path)) {
		local_result(res, CF_RETRY, "out of memory");
		goto out;
	}
	request("GET", buf_str(&path), NULL, 0, res);
out:
	buf_fini(&path);
}
