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
 * - GetDistribution: "GET /2020-05-31/distribution/Id", answered "200 OK"
 *   with a Distribution (Status, DomainName, DistributionConfig with its
 *   Origins); only `check-config --online` asks it.
 *
 * Signing (AWS General Reference, "Signature Version 4", done by
 * http_call.c): service "cloudfront", region "us-east-1" whatever the
 * endpoint, payload hash the hex SHA-256 of the body, sent as
 * x-amz-content-sha256.  Signed headers: content-type (when sent), host,
 * x-amz-content-sha256, x-amz-date and x-amz-security-token (session
 * credentials only); what is signed is what is sent.  The POST carries
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

#include "buf.h"
#include "cloudfront.h"
#include "credentials.h"
#include "http_call.h"
#include "util.h"

#define CF_API_VERSION		"2020-05-31"
#define CF_XMLNS	"http://cloudfront.amazonaws.com/doc/2020-05-31/"
#define CF_REGION		"us-east-1"
#define CF_SERVICE		"cloudfront"
#define CF_BODY_MAX		(1024 * 1024)	/* response bytes we keep */
#define CF_ID_MAX		64		/* distribution, invalidation */
#define CF_TIMEOUT_DEFAULT	30000L		/* ms, when init gets <= 0 */
#define CF_SNIPPET_MAX		160		/* of a non-XML error body */

/* Immutable between cloudfront_init() and cloudfront_fini(). */
static struct {
	char	scheme[8];	/* "http" or "https" */
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
xml_text_ok(const char *s)
{
	uint32_t	 cp;
	size_t		 n;

	for (; *s != '\0'; s += n) {
		n = util_utf8_next(s, &cp);
		if (n == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' &&
		    cp != '\r') || cp == 0xFFFE || cp == 0xFFFF)
			return 0;
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

/*
 * GetDistribution's answer: <Distribution><Id/><Status/><DomainName/>
 * <DistributionConfig>...<Origins><Quantity/><Items><Origin><Id/>
 * <DomainName/><OriginPath/>...</Origin></Items></Origins>...<Enabled/>
 * </DistributionConfig></Distribution>.
 */
int
cloudfront_parse_distribution(const char *body, size_t len,
    struct cf_distribution *d)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root, dc, n;
	char		 id[CF_ID_MAX + 2], enabled[16];
	int		 rc = -1;

	memset(d, 0, sizeof(*d));
	doc = parse_xml(body, len);
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	root = self_or_child(root, "Distribution");
	if (copy_text(id, sizeof(id), child(root, "Id")) >= sizeof(id) ||
	    !valid_id(id))
		goto out;
	copy_text(d->status, sizeof(d->status), child(root, "Status"));
	copy_text(d->domain, sizeof(d->domain), child(root, "DomainName"));
	dc = child(root, "DistributionConfig");
	copy_text(enabled, sizeof(enabled), child(dc, "Enabled"));
	d->enabled = strcmp(enabled, "true") == 0;
	n = child(child(child(dc, "Origins"), "Items"), "Origin");
	for (; n != NULL; n = n->next) {
		struct cf_origin	*o;

		if (n->type != XML_ELEMENT_NODE ||
		    xmlStrcmp(n->name, (const xmlChar *)"Origin") != 0)
			continue;
		if (d->n_origins++ >= CF_ORIGINS_MAX)
			continue;
		o = &d->origins[d->n_origins - 1];
		copy_text(o->id, sizeof(o->id), child(n, "Id"));
		copy_text(o->domain, sizeof(o->domain),
		    child(n, "DomainName"));
		copy_text(o->origin_path, sizeof(o->origin_path),
		    child(n, "OriginPath"));
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
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
	snprintf(cf.scheme, sizeof(cf.scheme), "%s", scheme);
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

/*
 * One signed request to path (already canonical: ids are letters and
 * digits); body NULL for a GET.  The answer is the caller's to parse and
 * free; res is filled only when there is nothing to parse (no answer, a
 * body too big, no credentials), and then 0 is returned; 1 when an
 * answer came.
 */
static int
request(const char *method, const char *path, const char *body,
    size_t body_len, struct http_answer *an, struct cf_result *res)
{
	struct credentials	 c;
	struct http_call	 hc;
	int			 rc = 0;

	memset(&c, 0, sizeof(c));
	http_answer_init(an);
	if (!cf.ready) {
		local_result(res, CF_FATAL, "cloudfront_init() not called");
		goto out;
	}
	if (credentials_get(&c) == -1) {
		local_result(res, CF_FATAL, "no AWS credentials");
		goto out;
	}
	memset(&hc, 0, sizeof(hc));
	hc.method = method;
	hc.scheme = cf.scheme;
	hc.host = cf.host;
	hc.path = path;
	/* Without it curl would send its form default
	 * (application/x-www-form-urlencoded) with a POST. */
	hc.content_type = body != NULL ? "application/xml" : NULL;
	hc.body = body;
	hc.body_len = body_len;
	hc.timeout_ms = cf.timeout_ms;
	hc.body_max = CF_BODY_MAX;
	hc.cred = &c;
	hc.region = CF_REGION;
	hc.service = CF_SERVICE;
	hc.now = (int64_t)time(NULL);
	http_call_perform(&hc, an);
	if (an->too_big) {
		cloudfront_parse(an->status, NULL, 0, res);
		copy_clean(res->message, sizeof(res->message), an->error,
		    strlen(an->error));
	} else if (an->failed) {
		/* No (whole) answer.  Even a create that did reach CloudFront
		 * is safe to retry: its CallerReference makes it the same. */
		result_init(res);
		res->outcome = CF_RETRY;
		res->http_status = an->status;
		copy_clean(res->message, sizeof(res->message), an->error,
		    strlen(an->error));
	} else
		rc = 1;
out:
	credentials_wipe(&c);
	return rc;
}

/* request(), the answer parsed as an Invalidation or an error. */
static void
invalidation_request(const char *method, const char *path, const char *body,
    size_t body_len, struct cf_result *res)
{
	struct http_answer	 an;

	if (request(method, path, body, body_len, &an, res) == 1)
		cloudfront_parse(an.status, buf_str(&an.body), an.body.len,
		    res);
	http_answer_fini(&an);
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
	invalidation_request("POST", buf_str(&path), buf_str(&body), body.len,
	    res);
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
	invalidation_request("GET", buf_str(&path), NULL, 0, res);
out:
	buf_fini(&path);
}

void
cloudfront_get_distribution(const char *distribution,
    struct cf_distribution *d, struct cf_result *res)
{
	struct http_answer	 an;
	struct buf		 path;

	buf_init(&path);
	http_answer_init(&an);
	memset(d, 0, sizeof(*d));
	if (!valid_id(distribution)) {
		local_result(res, CF_FATAL, "invalid distribution id");
		goto out;
	}
	buf_printf(&path, "/" CF_API_VERSION "/distribution/%s", distribution);
	if (!buf_ok(&path)) {
		local_result(res, CF_RETRY, "out of memory");
		goto out;
	}
	if (request("GET", buf_str(&path), NULL, 0, &an, res) != 1)
		goto out;
	if (an.status < 200 || an.status >= 300) {
		cloudfront_parse(an.status, buf_str(&an.body), an.body.len,
		    res);
		goto out;
	}
	result_init(res);
	res->http_status = an.status;
	if (cloudfront_parse_distribution(buf_str(&an.body), an.body.len,
	    d) == -1) {
		res->outcome = CF_RETRY;
		snprintf(res->message, sizeof(res->message), "HTTP %ld "
		    "without a Distribution Id", an.status);
		goto out;
	}
	res->outcome = CF_OK;
	snprintf(res->status, sizeof(res->status), "%s", d->status);
out:
	http_answer_fini(&an);
	buf_fini(&path);
}
