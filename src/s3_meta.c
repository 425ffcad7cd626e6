/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_meta: see s3_meta.h.
 *
 * The canonical form hashed: "s3meta/1" NUL, then for each field present,
 * sorted by name, the name in lower case, NUL, the value, NUL.  Names are
 * case-insensitive (HTTP; S3 stores x-amz-meta-* names in lower case);
 * values are compared byte for byte once the optional whitespace around
 * them is dropped (RFC 9110 §5.5: it is not part of the value, and no
 * server sees it), never folded or re-cased: CloudFront passes them on as
 * S3 stores them.
 *
 * What the request form adds to the response form:
 *  - no Content-Type: S3_META_DEFAULT_TYPE, which S3 (and moto) store and
 *    a HEAD then shows; an empty Content-Type: unknown.
 *  - Content-Encoding "aws-chunked" (the framing of the body, which S3
 *    strips: S3 User Guide, "Specifying content encoding"): dropped, and
 *    "gzip,aws-chunked" is stored as "gzip".  Any other spelling with the
 *    aws-chunked token (spaces, other case, another position) is unknown:
 *    moto and S3 strip it differently.
 *
 * Collisions: the digest is 64 bits of SHA-256.  A collision would make a
 * write that changed only headers look unchanged (CloudFront keeps the old
 * headers until its TTL).  By chance that is 2^-64 per such write; a
 * writer who crafted one (2^32 work) gains nothing it could not get by
 * writing the headers it wants, since it already has write rights.
 *
 * Fail closed: a case not listed above comes out unknown, so that an
 * unusual request costs one invalidation rather than a stale header.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "s3_meta.h"
#include "uri.h"
#include "util.h"

#define META_PREFIX	"x-amz-meta-"
#define META_PREFIX_LEN	(sizeof(META_PREFIX) - 1)
#define CANON_TAG	"s3meta/1"
#define CHUNKED		"aws-chunked"
#define CHUNKED_LEN	(sizeof(CHUNKED) - 1)

/* The fields other than x-amz-meta-*, in lower case. */
static const char *const fixed_fields[] = {
	"cache-control", "content-disposition", "content-encoding",
	"content-language", "content-type", "expires",
	"x-amz-website-redirect-location", NULL
};

enum form { FORM_REQUEST, FORM_RESPONSE };

struct field {
	size_t		 name;		/* offset of the lower-case name */
	const char	*value;		/* trimmed, not NUL-terminated */
	size_t		 vlen;
	const char	*lname;		/* set once names stop moving */
};

struct fields {
	struct field	*v;
	size_t		 n;
	struct buf	 names;		/* NUL-separated lower-case names */
	int		 bad;		/* the digest cannot be told */
};

int
s3_meta_field(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return 0;
	if (strncasecmp(name, META_PREFIX, META_PREFIX_LEN) == 0)
		return 1;
	for (i = 0; fixed_fields[i] != NULL; i++)
		if (strcasecmp(name, fixed_fields[i]) == 0)
			return 1;
	return 0;
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Printable ASCII and tab only: S3 re-encodes anything else (RFC 2047)
 * on the way out, so a request's bytes need not match a HEAD's. */
static int
plain_ascii(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') ||
		    (unsigned char)p[i] >= 0x7f)
			return 0;
	return 1;
}

static void
fields_add(struct fields *f, const char *name, const char *value,
    size_t vlen)
{
	size_t	 i, off = f->names.len;

	if (f->bad)
		return;
	for (i = 0; name[i] != '\0'; i++)
		buf_putc(&f->names, (char)((name[i] >= 'A' &&
		    name[i] <= 'Z') ? name[i] - 'A' + 'a' : name[i]));
	buf_putc(&f->names, '\0');
	if (!buf_ok(&f->names)) {
		f->bad = 1;
		return;
	}
	f->v[f->n].name = off;
	f->v[f->n].value = value;
	f->v[f->n].vlen = vlen;
	f->n++;
}

static int
field_cmp(const void *a, const void *b)
{
	const struct field *x = a, *y = b;

	return strcmp(x->lname, y->lname);
}

static const struct field *
fields_find(const struct fields *f, const char *lname)
{
	size_t	 i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].lname, lname) == 0)
			return &f->v[i];
	return NULL;
}

/*
 * A request's Content-Encoding as S3 stores it: *vlen shortened, or 0
 * when nothing is left; -1 when unsure.
 */
static int
strip_chunked(const char *v, size_t *vlen)
{
	size_t	 n = *vlen, i;

	if (n == CHUNKED_LEN && memcmp(v, CHUNKED, CHUNKED_LEN) == 0) {
		*vlen = 0;
		return 0;
	}
	/* botocore appends ",aws-chunked" to the client's own coding. */
	if (n > CHUNKED_LEN + 1 &&
	    memcmp(v + n - CHUNKED_LEN - 1, "," CHUNKED, CHUNKED_LEN + 1) ==
	    0) {
		n -= CHUNKED_LEN + 1;
		for (i = 0; i < n; i++)
			if (is_ows(v[i]))
				return -1;
		if (v[n - 1] == ',')
			return -1;
		for (i = 0; i + CHUNKED_LEN <= n; i++)
			if (strncasecmp(v + i, CHUNKED, CHUNKED_LEN) == 0)
				return -1;
		*vlen = n;
		return 0;
	}
	return -1;
}

/* Gather the fields, check them, and adjust a request's to what S3
 * stores.  f->bad set when the digest cannot be told. */
static void
fields_collect(struct fields *f, const struct sigv4_header *h, size_t n,
    enum form form)
{
	const char	*v;
	size_t		 i, vlen;

	f->v = calloc(n + 1, sizeof(*f->v));
	if (f->v == NULL) {
		f->bad = 1;
		return;
	}
	for (i = 0; i < n && !f->bad; i++) {
		if (h[i].name == NULL)
			continue;
		if (form == FORM_RESPONSE &&
		    strcasecmp(h[i].name, "x-amz-missing-meta") == 0) {
			/* Some metadata could not be returned. */
			f->bad = 1;
			break;
		}
		if (!s3_meta_field(h[i].name))
			continue;
		if (strlen(h[i].name) == META_PREFIX_LEN) {
			f->bad = 1;	/* "x-amz-meta-": no name */
			break;
		}
		v = h[i].value != NULL ? h[i].value : "";
		vlen = strlen(v);
		while (vlen > 0 && is_ows(*v)) {
			v++;
			vlen--;
		}
		while (vlen > 0 && is_ows(v[vlen - 1]))
			vlen--;
		if (!plain_ascii(v, vlen)) {
			f->bad = 1;
			break;
		}
		if (form == FORM_REQUEST &&
		    strcasecmp(h[i].name, "content-encoding") == 0 &&
		    util_token_in(v, CHUNKED)) {
			if (vlen != strlen(v) ||
			    strip_chunked(v, &vlen) == -1) {
				f->bad = 1;
				break;
			}
			if (vlen == 0)
				continue;	/* framing only */
		}
		if (form == FORM_REQUEST &&
		    strcasecmp(h[i].name, "content-type") == 0 && vlen == 0) {
			f->bad = 1;	/* what S3 stores is not sure */
			break;
		}
		fields_add(f, h[i].name, v, vlen);
	}
	if (f->bad)
		return;
	for (i = 0; i < f->n; i++)
		f->v[i].lname = f->names.data + f->v[i].name;
	if (form == FORM_REQUEST && fields_find(f, "content-type") == NULL) {
		fields_add(f, "content-type", S3_META_DEFAULT_TYPE,
		    strlen(S3_META_DEFAULT_TYPE));
		if (f->bad)
			return;
		for (i = 0; i < f->n; i++)
			f->v[i].lname = f->names.data + f->v[i].name;
	}
	qsort(f->v, f->n, sizeof(*f->v), field_cmp);
	for (i = 1; i < f->n; i++)
		if (strcmp(f->v[i - 1].lname, f->v[i].lname) == 0)
			f->bad = 1;	/* which one S3 keeps is not sure */
}

static void
digest(const struct sigv4_header *h, size_t n, enum form form,
    struct s3_meta *out)
{
	struct fields	 f;
	EVP_MD_CTX	*ctx = NULL;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	size_t		 i;
	int		 ok;

	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	buf_init(&f.names);
	fields_collect(&f, h, n, form);
	if (f.bad)
		goto out;
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, CANON_TAG, sizeof(CANON_TAG)) == 1;
	for (i = 0; ok && i < f.n; i++)
		ok = EVP_DigestUpdate(ctx, f.v[i].lname,
		    strlen(f.v[i].lname) + 1) == 1 &&
		    EVP_DigestUpdate(ctx, f.v[i].value, f.v[i].vlen) == 1 &&
		    EVP_DigestUpdate(ctx, "", 1) == 1;
	if (!ok || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 8)
		goto out;
	for (i = 0; i < 8; i++)
		out->digest = out->digest << 8 | md[i];
	out->redirect = fields_find(&f, "x-amz-website-redirect-location") !=
	    NULL;
	out->known = 1;
out:
	EVP_MD_CTX_free(ctx);
	free(f.v);
	buf_fini(&f.names);
}

void
s3_meta_from_request(const struct sigv4_header *h, size_t n,
    struct s3_meta *out)
{
	digest(h, n, FORM_REQUEST, out);
}

void
s3_meta_from_response(const struct sigv4_header *h, size_t n,
    struct s3_meta *out)
{
	digest(h, n, FORM_RESPONSE, out);
}

void
s3_meta_for_copy(const struct sigv4_header *h, size_t n,
    const struct s3_meta *src, struct s3_meta *out)
{
	const char	*dir = NULL;
	size_t		 i, ndir = 0;
	int		 sets = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		if (h[i].name == NULL)
			continue;
		if (strcasecmp(h[i].name, "x-amz-metadata-directive") == 0) {
			dir = h[i].value != NULL ? h[i].value : "";
			ndir++;
		} else if (s3_meta_field(h[i].name))
			sets = 1;
	}
	if (ndir > 1)
		return;
	if (dir != NULL && strcmp(dir, "REPLACE") == 0) {
		s3_meta_from_request(h, n, out);
		return;
	}
	/* CopyObject, x-amz-metadata-directive: COPY is the default and
	 * the only other value S3 accepts. */
	if (dir != NULL && strcmp(dir, "COPY") != 0)
		return;
	if (src == NULL || !src->known || src->redirect || sets)
		return;
	*out = *src;
}

int
s3_meta_equal(const struct s3_meta *a, const struct s3_meta *b)
{
	return a != NULL && b != NULL && a->known && b->known &&
	    a->redirect == b->redirect && a->digest == b->digest;
}

int
s3_meta_copy_source(const char *v, struct buf *bucket, struct buf *key)
{
	const char	*slash;
	size_t		 b0 = bucket->len, k0 = key->len;

	if (v == NULL)
		return -1;
	if (*v == '/')
		v++;
	slash = strchr(v, '/');
	/* A raw '?' starts a query (versionId): a literal one is %3F. */
	if (slash == NULL || slash == v || slash[1] == '\0' ||
	    strchr(v, '?') != NULL)
		return -1;
	if (uri_decode(bucket, v, (size_t)(slash - v)) == -1 ||
	    uri_decode(key, slash + 1, strlen(slash + 1)) == -1 ||
	    strlen(buf_str(bucket) + b0) != bucket->len - b0 ||
	    strlen(buf_str(key) + k0) != key->len - k0 ||
	    bucket->len == b0 || key->len == k0)
		return -1;
	return 0;
}

static int
id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("._-~+/=", c) != NULL);
}

static const char *
find(const char *p, size_t n, const char *what)
{
	size_t	 k = strlen(what);

	for (; n >= k; p++, n--)
		if (memcmp(p, what, k) == 0)
			return p;
	return NULL;
}

/*
 * A scan, not an XML parse: the answer is small and S3's own, and in it
 * "<UploadId>" can only be the element (text escapes '<').  A document
 * that is anything else is refused, so the worst a strange one does is
 * leave the upload's metadata unknown.
 */
int
s3_meta_upload_id(const char *doc, size_t n, char *out, size_t outsz)
{
	static const char open_tag[] = "<UploadId>", close_tag[] =
	    "</UploadId>";
	const char	*a, *b, *rest;
	size_t		 len, i;

	if (doc == NULL || out == NULL || outsz == 0 ||
	    find(doc, n, "<InitiateMultipartUploadResult") == NULL)
		return -1;
	a = find(doc, n, open_tag);
	if (a == NULL)
		return -1;
	a += sizeof(open_tag) - 1;
	b = find(a, n - (size_t)(a - doc), close_tag);
	if (b == NULL)
		return -1;
	rest = b + sizeof(close_tag) - 1;
	if (find(rest, n - (size_t)(rest - doc), open_tag) != NULL)
		return -1;
	len = (size_t)(b - a);
	if (len == 0 || len >= outsz)
		return -1;
	for (i = 0; i < len; i++)
		if (!id_char(a[i]))
			return -1;
	memcpy(out, a, len);
	out[len] = '\0';
	return 0;
}
