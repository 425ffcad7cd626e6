/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_s3_meta: libFuzzer target for the digest of served headers and the
 * two values s3_meta parses (src/s3_meta.c).  The input is a header block,
 * "Name: value" lines split on '\n' (a line without a colon is a name with
 * an empty value), then optionally a NUL and a body that goes to
 * s3_meta_upload_id() and, up to its first newline, to
 * s3_meta_copy_source().
 *
 * Checked for the headers, in both forms: the same headers give the same
 * result in reverse order and with every name upper-cased; a header that
 * is not a field (an ETag) changes nothing; an unknown result is never
 * equal, not even to itself.  When the block has a non-empty Content-Type,
 * no Content-Encoding line naming aws-chunked and no x-amz-missing-meta, the
 * request and response forms agree.  s3_meta_for_copy() with REPLACE is
 * the request form; with COPY and no field set it is the source's.  An
 * UploadId is non-empty, fits, and occurs in the body; a copy source
 * splits into a bucket and key without NUL.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "s3_meta.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAXH	64

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_s3_meta: broken promise: %s\n", what);
		abort();
	}
}

/* Both results the same: both unknown, or both known and equal. */
static int
same(const struct s3_meta *a, const struct s3_meta *b)
{
	return a->known == b->known && (!a->known ||
	    (a->digest == b->digest && a->redirect == b->redirect));
}

typedef void (*form_fn)(const struct sigv4_header *, size_t,
    struct s3_meta *);

static void
check_form(form_fn fn, struct sigv4_header *h, size_t n, char **upper)
{
	struct sigv4_header	 r[MAXH + 1], u[MAXH + 1];
	struct s3_meta		 a, b;
	size_t			 i;

	fn(h, n, &a);
	b = a;
	must(!s3_meta_equal(&a, &b) == !a.known, "unknown equals nothing");
	for (i = 0; i < n; i++)
		r[i] = h[n - 1 - i];
	fn(r, n, &b);
	must(same(&a, &b), "order does not matter");
	for (i = 0; i < n; i++) {
		u[i].name = upper[i];
		u[i].value = h[i].value;
	}
	fn(u, n, &b);
	must(same(&a, &b), "name case does not matter");
	memcpy(r, h, n * sizeof(*h));
	r[n].name = "ETag";
	r[n].value = "\"d41d8cd98f00b204e9800998ecf8427e\"";
	fn(r, n + 1, &b);
	must(same(&a, &b), "other headers do not matter");
}

static void
headers(char *p, size_t len)
{
	struct sigv4_header	 h[MAXH + 1];
	char			*upper[MAXH], *line, *end, *colon, *v;
	struct s3_meta		 rq, rs, cp, src;
	const char		*ct;
	size_t			 n = 0, i, j;

	for (line = p; line < p + len && n < MAXH; line = end + 1) {
		end = memchr(line, '\n', (size_t)(p + len - line));
		if (end == NULL)
			end = p + len;
		*end = '\0';
		colon = strchr(line, ':');
		v = "";
		if (colon != NULL) {
			*colon = '\0';
			v = colon + 1;
		}
		h[n].name = line;
		h[n].value = v;
		n++;
	}
	for (i = 0; i < n; i++) {
		upper[i] = strdup(h[i].name);
		must(upper[i] != NULL, "memory");
		for (j = 0; upper[i][j] != '\0'; j++)
			upper[i][j] = (char)toupper((unsigned char)upper[i][j]);
	}
	check_form(s3_meta_from_request, h, n, upper);
	check_form(s3_meta_from_response, h, n, upper);

	s3_meta_from_request(h, n, &rq);
	s3_meta_from_response(h, n, &rs);
	ct = NULL;
	j = 0;
	for (i = 0; i < n; i++) {
		if (strcasecmp(h[i].name, "content-type") == 0)
			ct = h[i].value;
		/* Any Content-Encoding line naming aws-chunked: the request
		 * form drops the token, the response form never sees it. */
		if (strcasecmp(h[i].name, "content-encoding") == 0 &&
		    util_token_in(h[i].value, "aws-chunked"))
			j = 1;
		if (strcasecmp(h[i].name, "x-amz-missing-meta") == 0)
			j = 1;
	}
	if (ct != NULL && strspn(ct, " \t") != strlen(ct) && j == 0)
		must(same(&rq, &rs), "request and response forms agree");

	/* CopyObject: REPLACE is the request form... */
	h[n].name = "x-amz-metadata-directive";
	h[n].value = "REPLACE";
	s3_meta_for_copy(h, n + 1, NULL, &cp);
	for (i = 0; i < n; i++)
		if (strcasecmp(h[i].name, "x-amz-metadata-directive") == 0)
			break;
	if (i == n) {
		must(same(&cp, &rq), "REPLACE is the request's");
		/* ...and COPY, with no field set, the source's. */
		for (i = 0; i < n && !s3_meta_field(h[i].name); i++)
			;
		src.known = 1;
		src.redirect = 0;
		src.digest = 42;
		s3_meta_for_copy(h, n, &src, &cp);
		if (i == n)
			must(same(&cp, &src), "COPY is the source's");
		else
			must(!cp.known, "COPY with fields set is unknown");
	}
	for (i = 0; i < n; i++)
		free(upper[i]);
}

static void
body(const char *p, size_t len)
{
	char		 id[64], *src;
	struct buf	 b, k;
	size_t		 n;

	if (s3_meta_upload_id(p, len, id, sizeof(id)) == 0) {
		n = strlen(id);
		must(n > 0 && n < sizeof(id), "an UploadId fits");
		must(memmem(p, len, id, n) != NULL, "the UploadId is there");
	}
	n = strcspn(p, "\n");
	src = strndup(p, n);
	must(src != NULL, "memory");
	buf_init(&b);
	buf_init(&k);
	if (s3_meta_copy_source(src, &b, &k) == 0)
		must(b.len > 0 && k.len > 0 && strlen(buf_str(&b)) == b.len &&
		    strlen(buf_str(&k)) == k.len, "a bucket and a key");
	buf_fini(&b);
	buf_fini(&k);
	free(src);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*p;
	size_t	 hl;

	p = malloc(size + 1);
	if (p == NULL)
		return 0;
	memcpy(p, data, size);
	p[size] = '\0';
	hl = strlen(p);
	if (hl < size)
		body(p + hl + 1, size - hl - 1);
	headers(p, hl);
	free(p);
	return 0;
}
