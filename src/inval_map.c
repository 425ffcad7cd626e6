/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_map: from one changed S3 key to the CloudFront paths that one
 * distribution must invalidate (DESIGN §5).  Pure: no I/O, no globals;
 * thread-safe.  The caller owns the strvec the paths go to (strvec.h).
 *
 * Where the rules come from:
 * - Encoding: Amazon CloudFront Developer Guide, "Specifying the objects to
 *   invalidate": non-ASCII characters and the "unsafe" characters of
 *   RFC 1738 §2.2 (space < > " # % { } | \ ^ ~ [ ] `) are URL-encoded, other
 *   characters are not.  Control bytes (RFC 1738: never allowed unencoded)
 *   are encoded too, and so are '*' (a trailing '*' is CloudFront's
 *   wildcard; the planner must never mistake a key for one) and '?' (it
 *   would start a query string).  Hex digits are upper case.
 * - Origin path: CloudFront Developer Guide, "Origin path": the
 *   distribution requests origin_path + request path from the origin, so
 *   only keys under the origin path are served, at the path that follows
 *   it.  A missing leading '/' or extra trailing '/' in the configured
 *   origin path is tolerated.
 * - Index documents: the seed (a static site on S3 behind CloudFront):
 *   "<directory>/index.html is cached both under its path and under the
 *   parent directory <directory>/".
 * - Length: the Developer Guide limits one invalidation path to 4,000
 *   characters; a longer one becomes the wildcard of its deepest folder
 *   whose wildcard fits, which still covers it.
 *
 * Decisions not found in those documents: an empty key (S3 has none) maps
 * to nothing; a key is otherwise never trimmed, so key "/" is served at, and
 * maps to, "//".  *too_long is only ever set to 1, never cleared, so a
 * caller may accumulate it over many keys.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "inval_map.h"
#include "uri.h"

/* CloudFront Developer Guide, "Specifying the objects to invalidate". */
static int
must_encode(unsigned char c)
{
	if (c < 0x20 || c >= 0x7f)
		return 1;		/* control, DEL, non-ASCII */
	switch (c) {
	case ' ': case '<': case '>': case '"': case '#': case '%':
	case '{': case '}': case '|': case '\\': case '^': case '~':
	case '[': case ']': case '`':
		return 1;		/* RFC 1738 unsafe */
	case '*': case '?':
		return 1;		/* never a wildcard, never a query */
	default:
		return 0;
	}
}

int
inval_path_encode(struct buf *b, const char *path, size_t len)
{
	return uri_encode_if(b, path, len, must_encode);
}

/*
 * The part of key that the distribution serves, or NULL when it serves
 * none of it.  origin_path "" (or "/") serves every key; "/site" serves
 * the keys under "site/".
 */
static const char *
strip_origin(const char *origin_path, const char *key)
{
	const char	*p;
	size_t		 len;

	p = origin_path != NULL ? origin_path : "";
	while (*p == '/')
		p++;
	len = strlen(p);
	while (len > 0 && p[len - 1] == '/')
		len--;
	if (len == 0)
		return key;
	if (strncmp(key, p, len) != 0 || key[len] != '/')
		return NULL;
	return key + len + 1;
}

static int
is_index(const struct inval_map_cfg *cfg, const char *seg)
{
	size_t	 i;

	if (*seg == '\0')
		return 0;
	for (i = 0; i < cfg->n_index_documents; i++)
		if (cfg->index_documents[i] != NULL &&
		    strcmp(cfg->index_documents[i], seg) == 0)
			return 1;
	return 0;
}

/*
 * Append "/" + the encoding of rel[0..len) to out, unless one of the paths
 * this key already appended (from index first) is the same.  Returns 0 or
 * -1 (out of memory).
 */
static int
emit(struct strvec *out, size_t first, const char *rel, size_t len,
    int *too_long)
{
	struct buf	 b;
	size_t		 i, cut;
	char		*s;

	buf_init(&b);
	buf_putc(&b, '/');
	if (inval_path_encode(&b, rel, len) == -1) {
		buf_fini(&b);
		return -1;
	}
	if (b.len > INVAL_PATH_MAX) {
		/*
		 * The deepest folder whose wildcard fits: the last '/' at
		 * an index i with i + 2 <= INVAL_PATH_MAX.  The root's '/' at
		 * 0 always qualifies, and '/' is never encoded, so the cut
		 * never splits a %XX.
		 */
		cut = 0;
		for (i = 0; i + 2 <= INVAL_PATH_MAX; i++)
			if (b.data[i] == '/')
				cut = i;
		b.len = cut + 1;
		b.data[b.len] = '\0';
		buf_putc(&b, '*');
		if (too_long != NULL)
			*too_long = 1;
	}
	for (i = first; i < out->n; i++) {
		if (strcmp(out->v[i], buf_str(&b)) == 0) {
			buf_fini(&b);
			return 0;
		}
	}
	s = buf_take(&b);
	return strvec_push_take(out, s);
}

int
inval_map_key(const struct inval_map_cfg *cfg, const char *key,
    struct strvec *out, int *too_long)
{
	const char	*rel, *seg;
	size_t		 first, len;
	int		 rc = -1;

	first = out->n;
	if (strcmp(key, INVAL_WHOLE_BUCKET) == 0)
		return strvec_push(out, "/*") == -1 ? -1 : 1;
	rel = strip_origin(cfg->origin_path, key);
	if (rel == NULL)
		return 0;
	len = strlen(rel);
	if (emit(out, first, rel, len, too_long) == -1)
		goto out;

	seg = strrchr(rel, '/');
	seg = seg != NULL ? seg + 1 : rel;
	if (is_index(cfg, seg)) {
		/* The folder's own path: "a/b/" or "" (the root). */
		len = (size_t)(seg - rel);
		if (emit(out, first, rel, len, too_long) == -1)
			goto out;
		/* "/a/b" too where configured; the root has no such form. */
		if (cfg->index_without_slash && len > 0 &&
		    emit(out, first, rel, len - 1, too_long) == -1)
			goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		while (out->n > first)
			free(out->v[--out->n]);
		return -1;
	}
	return (int)(out->n - first);
}
