/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_plan_span: the paths the planners work on, as spans of the
 * caller's strings (never copied): compared, sorted, and pruned of
 * duplicates and of what an input wildcard covers.  Private to the
 * inval_plan_*.c files.  Pure; the comparisons are inline, the planners'
 * inner loops call them.
 */
#ifndef S3I_INVAL_PLAN_SPAN_H
#define S3I_INVAL_PLAN_SPAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NONE			((size_t)-1)

/* A string that need not be NUL-terminated at len. */
struct span {
	const char	*s;
	size_t		 len;
};

/* Byte order, shorter first: strcmp's order for NUL-free strings. */
static inline int
span_cmp(const struct span *a, const struct span *b)
{
	size_t	 m;
	int	 r;

	m = a->len < b->len ? a->len : b->len;
	r = m > 0 ? memcmp(a->s, b->s, m) : 0;
	if (r != 0)
		return r;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* The length of the common prefix of a and b, 8 bytes at a time. */
static inline size_t
common_prefix(const struct span *a, const struct span *b)
{
	uint64_t	 x, y;
	size_t		 n, i = 0;

	n = a->len < b->len ? a->len : b->len;
	for (; i + 8 <= n; i += 8) {
		memcpy(&x, a->s + i, 8);
		memcpy(&y, b->s + i, 8);
		if (x != y)
			break;
	}
	while (i < n && a->s[i] == b->s[i])
		i++;
	return i;
}

static inline int
has_prefix(const struct span *s, const struct span *pfx)
{
	return s->len >= pfx->len &&
	    (pfx->len == 0 || memcmp(s->s, pfx->s, pfx->len) == 0);
}

static inline int
is_wild(const struct span *s)
{
	return s->len > 0 && s->s[s->len - 1] == '*';
}

/* The strings of v[0..n) that are not NULL, as spans, in order; *m their
 * count.  NULL when out of memory; the caller frees the array. */
struct span *inval_plan_spans(const char *const *v, size_t n, size_t *m);
/* The prefixes of the wildcards among items[0..n), each without its '*',
 * in order, into w (NULL: only counted).  Returns how many. */
size_t	inval_plan_wild_prefixes(const struct span *items, size_t n,
	    struct span *w);
/* Sort spans and drop duplicates.  Returns -1 when out of memory. */
int	inval_plan_sort_unique(struct span *, size_t *n);
/* 1 when one of the nw sorted wildcard prefixes w covers p (not p
 * itself). */
int	inval_plan_covered(const struct span *w, size_t nw,
	    const struct span *p);
/* Sort, drop duplicates and what an input wildcard covers: the paths
 * left, or NONE when out of memory. */
size_t	inval_plan_prune(struct span *, size_t n);

#endif
