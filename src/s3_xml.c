/* SPDX-License-Identifier: Apache-2.0 */
/* s3_xml: see s3_xml.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "buf.h"
#include "s3_err.h"
#include "s3_xml.h"
#include "uri.h"

#define PARSE_OPTS (XML_PARSE_NONET | XML_PARSE_NOBLANKS | \
	XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

static xmlDocPtr
parse(const char *p, size_t n)
{
	const char	*s = p;

	/* S3 may pad a long-running 200 response with whitespace before the
	 * document (CompleteMultipartUpload, CopyObject). */
	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		n--;
	}
	if (n == 0 || n > (size_t)2147483647)
		return NULL;
	return xmlReadMemory(s, (int)n, "s3.xml", NULL, PARSE_OPTS);
}

static int
is(const xmlNode *node, const char *name)
{
	return node->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)node->name, name) == 0;
}

int
s3_xml_is_error(const char *p, size_t n)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root;
	int		 err;

	doc = parse(p, n);
	if (doc == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	err = root == NULL ? -1 : is(root, "Error");
	xmlFreeDoc(doc);
	return err;
}

static char *
text(xmlNodePtr node)
{
	xmlChar	*c = xmlNodeGetContent(node);
	char	*s;

	if (c == NULL)
		return NULL;
	s = strdup((const char *)c);
	xmlFree(c);
	return s;
}

/* Form-decode s into a fresh string ('+' is a space, then %XX); frees
 * s.  NULL when it does not decode or memory runs out. */
static char *
url_decode(char *s)
{
	struct buf	 b;

	buf_init(&b);
	if (uri_decode_form(&b, s, strlen(s)) == -1) {
		buf_fini(&b);
		free(s);
		return NULL;
	}
	free(s);
	return buf_take(&b);
}

/*
 * 1 when root has a child element name whose text is value (upper or lower
 * case with not_value set: whose text is anything but value).
 */
static int
child_says(xmlNodePtr root, const char *name, const char *value,
    int not_value)
{
	xmlNodePtr	 c;
	char		*t;
	int		 yes = 0;

	for (c = root->children; c != NULL && !yes; c = c->next) {
		if (!is(c, name))
			continue;
		t = text(c);
		if (not_value)
			yes = t == NULL || strcasecmp(t, value) != 0;
		else
			yes = t != NULL && strcmp(t, value) == 0;
		free(t);
	}
	return yes;
}

/*
 * Append the text of every <Key> of every element wrap under root to out,
 * form-decoded when decode is set.  Returns how many, or -1.
 */
static int
keys_under(xmlNodePtr root, const char *wrap, int decode, struct strvec *out)
{
	xmlNodePtr	 c, k;
	char		*key;
	int		 count = 0;

	for (c = root->children; c != NULL; c = c->next) {
		if (!is(c, wrap))
			continue;
		for (k = c->children; k != NULL; k = k->next) {
			if (!is(k, "Key"))
				continue;
			key = text(k);
			if (key != NULL && decode)
				key = url_decode(key);
			if (key == NULL || strvec_push_take(out, key) == -1)
				return -1;
			count++;
		}
	}
	return count;
}

/* The root element of the document when it is name, with *doc for the
 * caller to free; NULL, and nothing to free, otherwise. */
static xmlNodePtr
root_named(const char *p, size_t n, const char *name, xmlDocPtr *doc)
{
	xmlNodePtr	 root;

	*doc = parse(p, n);
	if (*doc == NULL)
		return NULL;
	root = xmlDocGetRootElement(*doc);
	if (root == NULL || !is(root, name)) {
		xmlFreeDoc(*doc);
		*doc = NULL;
		return NULL;
	}
	return root;
}

int
s3_xml_deleted_keys(const char *p, size_t n, struct strvec *out)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root;
	int		 rc;

	root = root_named(p, n, "DeleteResult", &doc);
	if (root == NULL)
		return -1;
	rc = keys_under(root, "Deleted",
	    child_says(root, "EncodingType", "url", 0), out);
	xmlFreeDoc(doc);
	return rc;
}

int
s3_xml_delete_request(const char *p, size_t n, struct strvec *out,
    int *quiet)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root;
	int		 rc;

	*quiet = 0;
	root = root_named(p, n, "Delete", &doc);
	if (root == NULL)
		return -1;
	rc = keys_under(root, "Object", 0, out);
	/* Fail closed: anything but "false" is quiet. */
	*quiet = child_says(root, "Quiet", "false", 1);
	xmlFreeDoc(doc);
	return rc;
}

int
s3_xml_result_etag(const char *p, size_t n, char *out, size_t outsz)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root, c;
	char		*t;
	int		 rc = -1;

	doc = parse(p, n);
	if (doc == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	for (c = root != NULL ? root->children : NULL; c != NULL;
	    c = c->next) {
		if (!is(c, "ETag"))
			continue;
		t = text(c);
		if (t != NULL && strlen(t) > 0 && strlen(t) < outsz) {
			memcpy(out, t, strlen(t) + 1);
			rc = 0;
		}
		free(t);
		break;
	}
	xmlFreeDoc(doc);
	return rc;
}

static void
dump(struct buf *out, xmlDocPtr doc, xmlNodePtr node)
{
	xmlBufferPtr	 xb = xmlBufferCreate();

	if (xb == NULL) {
		buf_append(out, "", 0);
		out->oom = 1;
		return;
	}
	if (xmlNodeDump(xb, doc, node, 0, 0) >= 0)
		buf_append(out, xmlBufferContent(xb),
		    (size_t)xmlBufferLength(xb));
	else
		out->oom = 1;
	xmlBufferFree(xb);
}

int
s3_xml_filter_buckets(const char *p, size_t n,
    void (*names)(void *, const char *, struct strvec *), void *arg,
    struct buf *out)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root, c, b, f;
	struct strvec	 mapped;
	char		*name;
	size_t		 i;
	int		 rc = -1;

	doc = parse(p, n);
	if (doc == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !is(root, "ListAllMyBucketsResult"))
		goto out;
	buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\">");
	for (c = root->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!is(c, "Buckets")) {
			dump(out, doc, c);
			continue;
		}
		buf_puts(out, "<Buckets>");
		for (b = c->children; b != NULL; b = b->next) {
			if (!is(b, "Bucket"))
				continue;
			name = NULL;
			for (f = b->children; f != NULL; f = f->next)
				if (is(f, "Name")) {
					free(name);
					name = text(f);
				}
			if (name == NULL)
				continue;
			strvec_init(&mapped);
			names(arg, name, &mapped);
			for (i = 0; i < mapped.n; i++) {
				buf_puts(out, "<Bucket><Name>");
				s3_xml_escape(out, mapped.v[i]);
				buf_puts(out, "</Name>");
				for (f = b->children; f != NULL; f = f->next)
					if (f->type == XML_ELEMENT_NODE &&
					    !is(f, "Name"))
						dump(out, doc, f);
				buf_puts(out, "</Bucket>");
			}
			strvec_fini(&mapped);
			free(name);
		}
		buf_puts(out, "</Buckets>");
	}
	buf_puts(out, "</ListAllMyBucketsResult>");
	rc = buf_ok(out) ? 0 : -1;
out:
	xmlFreeDoc(doc);
	return rc;
}
