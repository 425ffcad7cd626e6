/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_cloudfront: libFuzzer target for cloudfront_parse()
 * (src/cloudfront.c): the input is a CloudFront API answer body, as
 * CreateInvalidation and GetInvalidation return it (an <Invalidation>, an
 * <ErrorResponse>, or whatever a load balancer puts in between).
 *
 * It is parsed as the answer to a 201 Created, a 400 and a 503, as
 * cloudfront.c's request() does after a transfer.  Checked: the outcome is
 * in range; every field of struct cf_result is NUL-terminated and free of
 * control characters (they end up in logs and /status); an accepted
 * invalidation id is 1-64 ASCII letters and digits, since the worker puts
 * it in a request path (GetInvalidation); only a 2xx gives CF_OK.
 *
 * It is also parsed as a GetDistribution answer: every origin field is
 * clean text (check-config --online prints them), at most CF_ORIGINS_MAX
 * origins are filled in, and only a Distribution with a valid Id is
 * accepted.
 *
 * The same input, cut into lines, is also a batch of invalidation paths
 * (keys come from clients): cloudfront_batch_xml() must either refuse it
 * or build a document that libxml2 parses back to exactly those paths, so
 * no key can inject XML into a CreateInvalidation.
 *
 * No network: cloudfront_init() is never called; libxml2 is initialised
 * once.  No clock, no files.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "buf.h"
#include "cloudfront.h"

#define MAX_PATHS	64

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_cloudfront: broken promise: %s\n", what);
		abort();
	}
}

/* libxml2 prints some errors (encodings, I/O) despite XML_PARSE_NOERROR;
 * here they would only bury the reports. */
static void
quiet(void *ctx, const char *fmt, ...)
{
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, quiet);
	return 0;
}

static void
clean_field(const char *s, size_t size, const char *what)
{
	size_t	 i;

	must(memchr(s, '\0', size) != NULL, what);
	for (i = 0; s[i] != '\0'; i++)
		must((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] != 0x7f,
		    what);
}

static void
answer(long status, const char *body, size_t len)
{
	struct cf_result	 r;
	size_t			 i;

	memset(&r, 0xa5, sizeof(r));
	cloudfront_parse(status, body, len, &r);
	must(r.http_status == status, "status kept");
	must(r.outcome == CF_OK || r.outcome == CF_RETRY ||
	    r.outcome == CF_ALREADY_DONE || r.outcome == CF_BAD_ARGUMENT ||
	    r.outcome == CF_FATAL, "outcome in range");
	clean_field(r.code, sizeof(r.code), "code is clean text");
	clean_field(r.message, sizeof(r.message), "message is clean text");
	clean_field(r.invalidation_id, sizeof(r.invalidation_id),
	    "invalidation_id is clean text");
	clean_field(r.status, sizeof(r.status), "status is clean text");
	if (r.outcome == CF_OK) {
		must(status >= 200 && status < 300, "CF_OK only for a 2xx");
		must(r.invalidation_id[0] != '\0' &&
		    strlen(r.invalidation_id) <= 64, "an id of 1-64 chars");
		for (i = 0; r.invalidation_id[i] != '\0'; i++) {
			char	 c = r.invalidation_id[i];

			must((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9'),
			    "an id is letters and digits only");
		}
	}
	if (status >= 500)
		must(r.outcome == CF_RETRY, "5xx is retried");
}

static void
distribution(const char *body, size_t len)
{
	struct cf_distribution	 d;
	size_t			 i;

	memset(&d, 0xa5, sizeof(d));
	if (cloudfront_parse_distribution(body, len, &d) != 0)
		return;
	clean_field(d.status, sizeof(d.status), "status is clean text");
	clean_field(d.domain, sizeof(d.domain), "domain is clean text");
	for (i = 0; i < d.n_origins && i < CF_ORIGINS_MAX; i++) {
		clean_field(d.origins[i].id, sizeof(d.origins[i].id),
		    "origin id is clean text");
		clean_field(d.origins[i].domain, sizeof(d.origins[i].domain),
		    "origin domain is clean text");
		clean_field(d.origins[i].origin_path,
		    sizeof(d.origins[i].origin_path),
		    "origin path is clean text");
	}
}

/* The input's lines as paths, the first as the caller reference. */
static void
batch(const uint8_t *data, size_t size)
{
	const char	*paths[MAX_PATHS];
	char		*copy, *p, *lf, *ref;
	struct buf	 b;
	xmlDocPtr	 doc;
	xmlNodePtr	 root, n, items, q;
	xmlChar		*s;
	size_t		 np = 0, i;

	copy = malloc(size + 1);
	must(copy != NULL, "malloc");
	memcpy(copy, data, size);
	copy[size] = '\0';
	ref = copy;
	p = strchr(copy, '\n');
	if (p != NULL)
		*p++ = '\0';
	while (p != NULL && np < MAX_PATHS) {
		lf = strchr(p, '\n');
		if (lf != NULL)
			*lf++ = '\0';
		paths[np++] = p;
		p = lf;
	}
	buf_init(&b);
	if (cloudfront_batch_xml(&b, ref, paths, np) != 0)
		goto out;
	doc = xmlReadMemory(b.data, (int)b.len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	must(doc != NULL, "the batch document parses");
	root = xmlDocGetRootElement(doc);
	must(root != NULL && xmlStrcmp(root->name,
	    (const xmlChar *)"InvalidationBatch") == 0, "root element");
	items = NULL;
	for (n = root->children; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(n->name, (const xmlChar *)"CallerReference")
		    == 0) {
			s = xmlNodeGetContent(n);
			must(s != NULL && strcmp((char *)s, ref) == 0,
			    "the caller reference comes back");
			xmlFree(s);
		} else if (xmlStrcmp(n->name, (const xmlChar *)"Paths") == 0) {
			for (q = n->children; q != NULL; q = q->next)
				if (xmlStrcmp(q->name,
				    (const xmlChar *)"Items") == 0)
					items = q;
		}
	}
	i = 0;
	for (q = items != NULL ? items->children : NULL; q != NULL;
	    q = q->next) {
		if (q->type != XML_ELEMENT_NODE)
			continue;
		must(i < np, "no more paths than sent");
		s = xmlNodeGetContent(q);
		must(s != NULL && strcmp((char *)s, paths[i]) == 0,
		    "each path comes back as sent");
		xmlFree(s);
		i++;
	}
	must(i == np, "every path comes back");
	xmlFreeDoc(doc);
out:
	buf_fini(&b);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	answer(201, (const char *)data, size);
	answer(400, (const char *)data, size);
	answer(503, (const char *)data, size);
	distribution((const char *)data, size);
	batch(data, size);
	return 0;
}
