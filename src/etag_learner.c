/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etag_learner: learns keys' ETags from ListObjects and ListObjectsV2
 * responses as they stream by (etag_index.h: "The learner").  It reads
 * XML and calls the index's API (etag_index_put(),
 * etag_index_mark_listed()); nothing of how the index keeps entries.
 *
 * A libxml2 push parser with SAX2 callbacks, no network, no
 * DTD (a DOCTYPE stops it), no entity but the five predefined ones.  It
 * keeps only the text of the element being read (at most 4 KiB: S3 keys
 * are at most 1024 bytes, 3072 URL-encoded) and a 256 KiB queue of keys
 * that wait for the encoding to be known, below (keys that do not fit in
 * it are not learned).  It stops for good on
 * malformed XML, on a root other than ListBucketResult (or
 * ListBucketResultV2), on an EncodingType other than "url", or when 1 MiB
 * arrives without a single XML event (libxml2 would buffer it whole).  It
 * only adds and updates: a listing is partial (Prefix, MaxKeys, pages),
 * so a key missing from it says nothing.
 *
 * EncodingType: S3 sends it near the top (after MaxKeys, before the first
 * Contents), but the API reference lists it after Contents and moto
 * (5.x, which serialises in that order) sends it after the last
 * Contents.  So the learner does not assume an order: a key read before
 * EncodingType is known is learned at once when it has no '%' and no
 * '+' (it decodes to itself either way), else it waits in the queue;
 * EncodingType url decodes and learns the queue; the end of the root
 * without one learns it as is.  A document cut before either learns
 * nothing of the queue.  Decoding follows S3's form encoding: '+' is a
 * space, then %XX; a key that decodes to a NUL byte or has a bad escape is
 * skipped.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/entities.h>

#include "buf.h"
#include "etag_index.h"
#include "uri.h"

#define TEXT_MAX	4096	/* one element's text */
#define PENDING_MAX	(256 * 1024)
#define STALL_MAX	(1024 * 1024)	/* bytes fed without an event */
#define FEED_PIECE	65536

enum cap { CAP_NONE, CAP_KEY, CAP_ETAG, CAP_ENC, CAP_PREFIX, CAP_TRUNC,
	CAP_DELIM };
enum enc { ENC_UNKNOWN, ENC_URL };

struct etag_learner {
	struct etag_index *ix;
	char		*bucket;
	int64_t		 now;
	xmlParserCtxtPtr ctxt;
	size_t		 learned;
	int		 stop;		/* learn nothing more */
	int		 depth;
	int		 in_contents;
	enum cap	 cap;
	int		 cap_depth;
	int		 cap_bad;	/* text over TEXT_MAX or a child */
	struct buf	 text;
	struct buf	 key, etag;
	int		 have_key, have_etag, contents_bad;
	enum enc	 enc;
	struct buf	 pending;	/* key NUL etag NUL ... */
	size_t		 stall;
	/* A complete listing: no Prefix, no Delimiter, IsTruncated false
	 * (the last page of a whole-bucket listing, as aws s3 sync makes). */
	int		 prefix_set, delim_set, truncated;
};

static void
learn(struct etag_learner *l, const char *key, size_t klen, const char *etag,
    int url)
{
	struct buf	 dec;

	if (!url) {
		if (etag_index_put(l->ix, l->bucket, key, etag, l->now,
		    1) == 0)
			l->learned++;
		return;
	}
	/* S3 form-encodes: '+' is a space, a literal '+' is %2B. */
	buf_init(&dec);
	if (uri_decode_form(&dec, key, klen) == 0 && buf_ok(&dec) &&
	    dec.len > 0 && strlen(dec.data) == dec.len &&
	    etag_index_put(l->ix, l->bucket, dec.data, etag, l->now, 1) == 0)
		l->learned++;
	buf_fini(&dec);
}

static void
pending_flush(struct etag_learner *l, int url)
{
	const char	*p = l->pending.data, *end;
	size_t		 kl;

	/* Nothing queued: data is NULL (and NULL + 0 is undefined). */
	end = p != NULL ? p + l->pending.len : NULL;
	while (p != NULL && p < end) {
		kl = strlen(p);
		learn(l, p, kl, p + kl + 1, url);
		p += kl + 1;
		p += strlen(p) + 1;
	}
	buf_fini(&l->pending);
	buf_init(&l->pending);
}

static void
halt(struct etag_learner *l)
{
	l->stop = 1;
	buf_fini(&l->pending);
	buf_init(&l->pending);
	if (l->ctxt != NULL)
		xmlStopParser(l->ctxt);
}

static void
contents_end(struct etag_learner *l)
{
	const char	*k = buf_str(&l->key);

	if (l->contents_bad || !l->have_key || !l->have_etag ||
	    l->key.len == 0)
		return;
	if (l->enc == ENC_URL)
		learn(l, k, l->key.len, buf_str(&l->etag), 1);
	else if (strpbrk(k, "%+") == NULL)
		/* Decodes to itself whatever the encoding turns out. */
		learn(l, k, l->key.len, buf_str(&l->etag), 0);
	else if (l->pending.len + l->key.len + l->etag.len + 2 <=
	    PENDING_MAX) {
		buf_append(&l->pending, k, l->key.len + 1);
		buf_append(&l->pending, buf_str(&l->etag), l->etag.len + 1);
		if (!buf_ok(&l->pending)) {
			buf_fini(&l->pending);
			buf_init(&l->pending);
		}
	}
}

static int
is(const xmlChar *name, const char *want)
{
	return strcmp((const char *)name, want) == 0;
}

static void
trim(struct buf *b)
{
	size_t	 i = 0, n = b->len;

	if (b->data == NULL)
		return;
	while (n > 0 && strchr(" \t\r\n", b->data[n - 1]) != NULL)
		n--;
	while (i < n && strchr(" \t\r\n", b->data[i]) != NULL)
		i++;
	memmove(b->data, b->data + i, n - i);
	b->len = n - i;
	b->data[b->len] = '\0';
}

static void
sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct etag_learner *l = ctx;

	(void)prefix;
	(void)uri;
	(void)nb_namespaces;
	(void)namespaces;
	(void)nb_attributes;
	(void)nb_defaulted;
	(void)attributes;
	l->stall = 0;
	if (l->stop)
		return;
	l->depth++;
	if (l->cap != CAP_NONE) {
		l->cap_bad = 1;
		return;
	}
	if (l->depth == 1) {
		/* Until it says otherwise, a listing is taken as partial. */
		l->truncated = 1;
		if (!is(localname, "ListBucketResult") &&
		    !is(localname, "ListBucketResultV2"))
			halt(l);
	} else if (l->depth == 2 && is(localname, "Contents")) {
		l->in_contents = 1;
		l->have_key = l->have_etag = l->contents_bad = 0;
		buf_reset(&l->key);
		buf_reset(&l->etag);
	} else if (l->depth == 2 && is(localname, "EncodingType")) {
		l->cap = CAP_ENC;
	} else if (l->depth == 2 && is(localname, "Prefix")) {
		l->cap = CAP_PREFIX;
	} else if (l->depth == 2 && is(localname, "Delimiter")) {
		l->cap = CAP_DELIM;
	} else if (l->depth == 2 && is(localname, "IsTruncated")) {
		l->cap = CAP_TRUNC;
	} else if (l->depth == 3 && l->in_contents && is(localname, "Key")) {
		l->cap = CAP_KEY;
	} else if (l->depth == 3 && l->in_contents && is(localname, "ETag")) {
		l->cap = CAP_ETAG;
	}
	if (l->cap != CAP_NONE) {
		l->cap_depth = l->depth;
		l->cap_bad = 0;
		buf_reset(&l->text);
	}
}

static void
capture_end(struct etag_learner *l)
{
	struct buf	*dst = NULL;
	int		*have = NULL;

	if (!buf_ok(&l->text)) {
		l->cap_bad = 1;
		buf_fini(&l->text);
		buf_init(&l->text);
	}
	switch (l->cap) {
	case CAP_KEY:
		dst = &l->key;
		have = &l->have_key;
		break;
	case CAP_ETAG:
		trim(&l->text);
		dst = &l->etag;
		have = &l->have_etag;
		break;
	case CAP_ENC:
		trim(&l->text);
		if (l->cap_bad || strcmp(buf_str(&l->text), "url") != 0) {
			/* Keys in an encoding we do not know. */
			halt(l);
		} else if (l->enc != ENC_URL) {
			l->enc = ENC_URL;
			pending_flush(l, 1);
		}
		break;
	case CAP_PREFIX:
		trim(&l->text);
		l->prefix_set = l->cap_bad || l->text.len > 0;
		break;
	case CAP_DELIM:
		trim(&l->text);
		l->delim_set = l->cap_bad || l->text.len > 0;
		break;
	case CAP_TRUNC:
		trim(&l->text);
		l->truncated = l->cap_bad ||
		    strcmp(buf_str(&l->text), "false") != 0;
		break;
	case CAP_NONE:
		break;
	}
	if (dst != NULL) {
		if (*have || l->cap_bad)
			l->contents_bad = 1;
		buf_reset(dst);
		buf_append(dst, buf_str(&l->text), l->text.len);
		if (!buf_ok(dst)) {
			buf_fini(dst);
			buf_init(dst);
			l->contents_bad = 1;
		}
		*have = 1;
	}
	l->cap = CAP_NONE;
	l->cap_bad = 0;
}

static void
sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct etag_learner *l = ctx;

	(void)localname;
	(void)prefix;
	(void)uri;
	l->stall = 0;
	if (l->stop)
		return;
	if (l->cap != CAP_NONE && l->depth == l->cap_depth)
		capture_end(l);
	else if (l->depth == 2 && l->in_contents) {
		contents_end(l);
		l->in_contents = 0;
	} else if (l->depth == 1) {
		/* The whole listing, without EncodingType: keys as is. */
		if (l->enc == ENC_UNKNOWN)
			pending_flush(l, 0);
		if (!l->prefix_set && !l->delim_set && !l->truncated)
			etag_index_mark_listed(l->ix, l->bucket, l->now);
		l->stop = 1;
	}
	l->depth--;
}

static void
sax_text(void *ctx, const xmlChar *ch, int len)
{
	struct etag_learner *l = ctx;

	l->stall = 0;
	if (l->stop || l->cap == CAP_NONE || l->cap_bad || len <= 0)
		return;
	if (l->text.len + (size_t)len > TEXT_MAX) {
		l->cap_bad = 1;
		return;
	}
	buf_append(&l->text, ch, (size_t)len);
}

static xmlEntityPtr
sax_entity(void *ctx, const xmlChar *name)
{
	(void)ctx;
	return xmlGetPredefinedEntity(name);
}

static void
sax_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
    const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	/* A listing has no DOCTYPE: whoever sent one is not S3. */
	halt(ctx);
}

#if LIBXML_VERSION >= 21200
static void
sax_serror(void *ctx, const xmlError *err)
#else
static void
sax_serror(void *ctx, xmlErrorPtr err)
#endif
{
	(void)ctx;
	(void)err;
}


struct etag_learner *
etag_learner_new(struct etag_index *ix, const char *bucket, int64_t now)
{
	struct etag_learner *l;
	xmlSAXHandler	 sax;

	if (ix == NULL || bucket == NULL)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->ix = ix;
	l->now = now;
	buf_init(&l->text);
	buf_init(&l->key);
	buf_init(&l->etag);
	buf_init(&l->pending);
	l->bucket = strdup(bucket);
	if (l->bucket == NULL)
		goto fail;
	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = sax_start;
	sax.endElementNs = sax_end;
	sax.characters = sax_text;
	sax.cdataBlock = sax_text;
	sax.getEntity = sax_entity;
	sax.internalSubset = sax_subset;
	sax.serror = sax_serror;
	l->ctxt = xmlCreatePushParserCtxt(&sax, l, NULL, 0, "listing.xml");
	if (l->ctxt == NULL)
		goto fail;
	xmlCtxtUseOptions(l->ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	return l;
fail:
	etag_learner_free(l);
	return NULL;
}

void
etag_learner_feed(struct etag_learner *l, const char *p, size_t n)
{
	size_t	 k;

	if (l == NULL || l->ctxt == NULL)
		return;
	while (n > 0 && !l->stop) {
		k = n < FEED_PIECE ? n : FEED_PIECE;
		l->stall += k;
		if (xmlParseChunk(l->ctxt, p, (int)k, 0) != 0 ||
		    !l->ctxt->wellFormed)
			halt(l);
		else if (l->stall > STALL_MAX)
			halt(l);
		p += k;
		n -= k;
	}
	if (l->stop) {
		/* Done or given up: let libxml2's memory go now. */
		xmlFreeParserCtxt(l->ctxt);
		l->ctxt = NULL;
		buf_fini(&l->text);
		buf_fini(&l->key);
		buf_fini(&l->etag);
		buf_fini(&l->pending);
	}
}

size_t
etag_learner_count(const struct etag_learner *l)
{
	return l == NULL ? 0 : l->learned;
}

void
etag_learner_free(struct etag_learner *l)
{
	if (l == NULL)
		return;
	if (l->ctxt != NULL)
		xmlFreeParserCtxt(l->ctxt);
	buf_fini(&l->text);
	buf_fini(&l->key);
	buf_fini(&l->etag);
	buf_fini(&l->pending);
	free(l->bucket);
	free(l);
}
