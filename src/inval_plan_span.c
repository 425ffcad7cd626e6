/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_plan_span: see inval_plan_span.h.  Sorting is the bulk of the
 * work on big inputs, so it is ours (below), not qsort()'s.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inval_plan_span.h"

static int
span_qcmp(const void *a, const void *b)
{
	return span_cmp(a, b);
}

/*
 * Sorting paths, the bulk of the work on big inputs.  A span with 8 of its
 * bytes from some depth on as a big-endian integer (0 past its end: paths
 * hold no NUL), so that most comparisons are of integers in one array
 * rather than of strings all over memory.  A three-way quicksort on the
 * integers; the spans that tie go on at depth + 8 (multikey quicksort,
 * Bentley and Sedgewick, 8 bytes a key), and a heapsort when partitions
 * keep going badly (introsort, Musser).
 */
struct skey {
	uint64_t	 k;
	struct span	 s;
};

static uint64_t
key8(const struct span *s, size_t depth)
{
	const unsigned char	*b;
	uint64_t		 k = 0;
	size_t			 i;

	b = (const unsigned char *)s->s + depth;
	if (depth + 8 <= s->len)
		return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 |
		    (uint64_t)b[2] << 40 | (uint64_t)b[3] << 32 |
		    (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
		    (uint64_t)b[6] << 8 | (uint64_t)b[7];
	for (i = 0; i < 8; i++)
		k = k << 8 | (depth + i < s->len ? b[i] : 0);
	return k;
}

/* Order of a and b, whose bytes before depth are the same. */
static int
skey_cmp(const struct skey *a, const struct skey *b, size_t depth)
{
	struct span	 x, y;

	if (a->k != b->k)
		return a->k < b->k ? -1 : 1;
	if ((a->k & 0xff) == 0)
		return 0;	/* both end within the key */
	x.s = a->s.s + depth + 8;
	x.len = a->s.len - depth - 8;
	y.s = b->s.s + depth + 8;
	y.len = b->s.len - depth - 8;
	return span_cmp(&x, &y);
}

static void
skey_swap(struct skey *a, struct skey *b)
{
	struct skey	 t;

	t = *a;
	*a = *b;
	*b = t;
}

static void
skey_reload(struct skey *a, size_t n, size_t depth)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		a[i].k = key8(&a[i].s, depth);
}

static uint64_t
median3(uint64_t a, uint64_t b, uint64_t c)
{
	if (a < b)
		return b < c ? b : a < c ? c : a;
	return a < c ? a : b < c ? c : b;
}

static void
skey_sift(struct skey *a, size_t i, size_t n, size_t depth)
{
	size_t	 c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && skey_cmp(&a[c], &a[c + 1], depth) < 0)
			c++;
		if (skey_cmp(&a[i], &a[c], depth) >= 0)
			break;
		skey_swap(&a[i], &a[c]);
		i = c;
	}
}

/* The fallback when partitions go badly: O(n log n) whatever the keys. */
static void
skey_heapsort(struct skey *a, size_t n, size_t depth)
{
	size_t	 i;

	for (i = n / 2; i-- > 0;)
		skey_sift(a, i, n, depth);
	for (i = n; i-- > 1;) {
		skey_swap(&a[0], &a[i]);
		skey_sift(a, 0, i, depth);
	}
}

/* 2 log2(n): the partitions allowed before heapsort (introsort). */
static size_t
skey_budget(size_t n)
{
	size_t	 b = 0;

	for (; n > 1; n /= 2)
		b += 2;
	return b;
}

static void
skey_sort(struct skey *a, size_t n, size_t depth, size_t budget)
{
	uint64_t	 pv;
	size_t		 i, j, lt, gt, nl, ne, ng;

	while (n > 1) {
		if (budget-- == 0) {
			skey_heapsort(a, n, depth);
			return;
		}
		if (n < 12) {
			for (i = 1; i < n; i++)
				for (j = i; j > 0 &&
				    skey_cmp(&a[j - 1], &a[j], depth) > 0; j--)
					skey_swap(&a[j - 1], &a[j]);
			return;
		}
		pv = median3(a[0].k, a[n / 2].k, a[n - 1].k);
		if (n > 1024)
			pv = median3(pv, a[n / 4].k, a[3 * n / 4].k);
		/* [0, lt) below, [lt, i) equal, [gt, n) above. */
		lt = i = 0;
		gt = n;
		while (i < gt) {
			if (a[i].k < pv)
				skey_swap(&a[lt++], &a[i++]);
			else if (a[i].k > pv)
				skey_swap(&a[i], &a[--gt]);
			else
				i++;
		}
		nl = lt;
		ne = gt - lt;
		ng = n - gt;
		/* Recurse on the two smaller parts, loop on the largest. */
		if (nl >= ne && nl >= ng) {
			skey_sort(a + gt, ng, depth, budget);
			if ((pv & 0xff) != 0) {
				skey_reload(a + lt, ne, depth + 8);
				skey_sort(a + lt, ne, depth + 8,
				    skey_budget(ne));
			}
			n = nl;
		} else if (ng >= ne) {
			skey_sort(a, nl, depth, budget);
			if ((pv & 0xff) != 0) {
				skey_reload(a + lt, ne, depth + 8);
				skey_sort(a + lt, ne, depth + 8,
				    skey_budget(ne));
			}
			a += gt;
			n = ng;
		} else {
			skey_sort(a, nl, depth, budget);
			skey_sort(a + gt, ng, depth, budget);
			if ((pv & 0xff) == 0)
				return;
			a += lt;
			n = ne;
			depth += 8;
			budget = skey_budget(n);
			skey_reload(a, n, depth);
		}
	}
}

/* Sort spans in byte order (span_cmp's).  Returns -1 when out of memory. */
static int
sort_spans(struct span *items, size_t n)
{
	struct skey	*a;
	size_t		 i;

	if (n < 2)
		return 0;
	if (n > ((size_t)-1) / 2 / sizeof(*a))
		return -1;
	a = malloc(n * sizeof(*a));
	if (a == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		a[i].s = items[i];
		a[i].k = key8(&items[i], 0);
	}
	skey_sort(a, n, 0, skey_budget(n));
	for (i = 0; i < n; i++)
		items[i] = a[i].s;
	free(a);
	return 0;
}

struct span *
inval_plan_spans(const char *const *v, size_t n, size_t *m)
{
	struct span	*sp;
	size_t		 i, j;

	*m = 0;
	if (n > ((size_t)-1) / 2 / sizeof(*sp))
		return NULL;
	sp = malloc((n > 0 ? n : 1) * sizeof(*sp));
	if (sp == NULL)
		return NULL;
	for (i = j = 0; i < n; i++) {
		if (v[i] == NULL)
			continue;
		sp[j].s = v[i];
		sp[j].len = strlen(v[i]);
		j++;
	}
	*m = j;
	return sp;
}

size_t
inval_plan_wild_prefixes(const struct span *items, size_t n, struct span *w)
{
	size_t	 i, nw = 0;

	for (i = 0; i < n; i++) {
		if (!is_wild(&items[i]))
			continue;
		if (w != NULL) {
			w[nw].s = items[i].s;
			w[nw].len = items[i].len - 1;
		}
		nw++;
	}
	return nw;
}

/* Sort spans and drop duplicates.  Returns -1 when out of memory. */
int
inval_plan_sort_unique(struct span *sp, size_t *n)
{
	size_t	 i, j;

	if (sort_spans(sp, *n) == -1)
		return -1;
	for (i = j = 0; i < *n; i++)
		if (j == 0 || span_cmp(&sp[i], &sp[j - 1]) != 0)
			sp[j++] = sp[i];
	*n = j;
	return 0;
}

/*
 * 1 when a wildcard other than p itself covers p.  w: the prefixes of the
 * input wildcards, sorted, none a prefix of another.  The last one not
 * above p is the only one that can be a prefix of p: anything sorting
 * between a prefix of p and p starts with that prefix.
 */
int
inval_plan_covered(const struct span *w, size_t nw, const struct span *p)
{
	size_t	 lo, hi, mid;

	lo = 0;
	hi = nw;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (span_cmp(&w[mid], p) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || !has_prefix(p, &w[lo - 1]))
		return 0;
	/* p is that very wildcard. */
	if (is_wild(p) && p->len == w[lo - 1].len + 1)
		return 0;
	return 1;
}

/*
 * Sort, drop duplicates and whatever an input wildcard covers.  Returns
 * the number of paths left in items, or NONE when out of memory.
 */
size_t
inval_plan_prune(struct span *items, size_t n)
{
	struct span	*w = NULL;
	size_t		 i, j, nw, kept = NONE;

	if (inval_plan_sort_unique(items, &n) == -1)
		return NONE;

	nw = inval_plan_wild_prefixes(items, n, NULL);
	if (nw == 0)
		return n;
	w = malloc(nw * sizeof(*w));
	if (w == NULL)
		goto out;
	(void)inval_plan_wild_prefixes(items, n, w);
	/* Keep the outermost: a nested prefix follows its container. */
	qsort(w, nw, sizeof(*w), span_qcmp);
	j = 1;
	for (i = 1; i < nw; i++)
		if (!has_prefix(&w[i], &w[j - 1]))
			w[j++] = w[i];
	nw = j;

	j = 0;
	for (i = 0; i < n; i++)
		if (!inval_plan_covered(w, nw, &items[i]))
			items[j++] = items[i];
	kept = j;
out:
	free(w);
	return kept;
}
