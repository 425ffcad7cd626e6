/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_plan: from the changed paths of one distribution to the
 * invalidation paths to submit (DESIGN §6).  Pure: no I/O, no globals,
 * thread-safe; the same input in any order gives the same output.  The
 * result owns its strings (inval_plan_fini); the input is only read.
 *
 * Where the rules come from:
 * - Wildcards: CloudFront Developer Guide, "Specifying the objects to
 *   invalidate": a '*' is a wildcard only at the end of a path, and then
 *   the path covers everything that starts with what precedes it.  So
 *   "/a/b/" "*" covers the folder /a/b/ and all beneath it, and "/a/b" "*"
 *   covers "/a/b", "/a/bc" and "/a/b/x" alike.  inval_map encodes every
 *   '*' in a key, so a trailing '*' here always is a wildcard.
 * - Collapsing: the seed's heuristic, "5+ paths under a common prefix ->
 *   a wildcard", applied to folders bottom-up (DESIGN §6: "up the tree ...
 *   the whole site becomes /" "*").  A wildcard is billed as one path
 *   (CloudFront pricing), so each collapse lowers the cost.
 * - Limits: CloudFront allows at most 3,000 file paths and 15 wildcard
 *   paths in progress per distribution (Developer Guide, "Quotas"); the
 *   caller passes the limits it needs as max_paths and max_wildcards.
 *
 * The collapse rule.  A folder's count is the number of distinct entries
 * directly in it: a file, its own "/folder/" path, a wildcard, and each
 * subfolder that itself collapsed.  A folder whose count reaches
 * wildcard_threshold becomes "folder/" "*", bottom-up, so the rule climbs
 * the tree as folders collapse ("5+ paths under a common prefix", the
 * seed, applied per folder).  Counting every path beneath instead would
 * make the root, the prefix of everything, collapse for any five changes
 * anywhere: one new blog post would evict the whole site.  A change that
 * is scattered thinly stays exact here; the cost-aware planner weighs such
 * cases.  A threshold below 2 is taken as 2.
 *
 * The limits.  First, while the plan has more than max_paths paths, the
 * deepest folder with two paths or more beneath it becomes "folder/" "*"
 * (ties: the folder path in strcmp order); then, while it has more than
 * max_wildcards wildcards, likewise the deepest folder with two wildcards
 * or more beneath it.  Paths go first because merging paths may add a
 * wildcard, while merging wildcards never adds a path.  The root comes last
 * and, merged, is one wildcard, so both limits always hold (max_paths 1
 * allows one path).  Counts only fall as folders merge, so each pass visits
 * every folder once, deepest first.
 *
 * Cost: one sort of the input, one sort of its wildcards, then linear walks
 * over the sorted paths (a folder's paths are contiguous in sorted order, so
 * open folders form a stack); the limit pass sorts the folders that did not
 * collapse.  Paths should start with '/'; anything else is kept as given
 * and never merged.
 *
 * The cost-aware planner (params->known != NULL; DESIGN §6, "weigh each
 * wildcard's collateral").  Pricing: CloudFront bills each path, a wildcard
 * as one, $0.005 after 1,000 a month; a wildcard also evicts what it
 * covers.  So the plan minimises
 *     paths + eviction_weight x needless evictions,
 * a needless eviction being a known path, neither changed nor under an
 * input wildcard (the caller asked for all of that), that a wildcard of
 * the plan covers.  Unknown objects under a wildcard count 0: nothing is
 * known to be there.  An empty known list thus plans the fewest paths; a
 * weight that is not positive (or NaN) is 0, +inf means exact paths.
 *
 * The tree: every folder with changed entries beneath it, from one merged
 * walk of the sorted changed and known paths (e(F): the known, unchanged
 * paths beneath F).  The programme, children before parents: best(F) is
 * the cheaper of F's wildcard, costing 1 path + weight x e(F), and its own
 * entries (1 path each; an input wildcard also counts as a wildcard) plus
 * best() of each subfolder.  The root "/" is such a folder.  A wildcard
 * covering no changed entry is never an option.  With max_wildcards the
 * state also carries k, the wildcards used, 0..max_wildcards (a subtree of
 * c changed entries needs at most c): best(F, k) is a knapsack merge over
 * the subfolders, O(changed x max_wildcards) in all (the tree-knapsack
 * bound), the max_wildcards = 15 of CloudFront included.  max_paths is
 * carried likewise (state k, q) while that costs at most EXACT_BUDGET
 * bucket pairs a pass: exact.  Beyond, a Lagrangian search with the
 * eviction weight as the multiplier (choose(), search()); its plan keeps
 * both limits, costs no more than the threshold rule's plan (compared,
 * rival()), but is not proven optimal.  Each pass is exact given its
 * weight: costs are compared as integer differences (better()).
 *
 * Ties, in order: fewer evictions, fewer paths, fewer wildcards, the
 * narrower wildcard (a folder's own wins only when strictly better), and in
 * a knapsack merge the earlier folders in path order get the wildcards.
 * Every step runs on the sorted, pruned input, so the plan does not depend
 * on the input's order.  The plan comes out in path order: a folder's
 * wildcard sorts where its first entry would.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inval_plan.h"

#define NONE			((size_t)-1)
#define DEFAULT_THRESHOLD	5

enum kind {
	K_EXACT,		/* a path: s[0..len) */
	K_WILD,			/* an input wildcard: s[0..len), ends in '*' */
	K_FOLDER		/* a folder's wildcard: s[0..len) + "*" */
};

/* A string that need not be NUL-terminated at len. */
struct span {
	const char	*s;
	size_t		 len;
};

struct entry {
	const char	*s;
	size_t		 len;
	enum kind	 kind;
};

/* A folder open while the sorted paths are walked. */
struct frame {
	const char	*s;		/* folder path s[0..len), ends in '/' */
	size_t		 len;
	size_t		 start;		/* its first entry */
	size_t		 rec_mark;	/* n_rec when it opened */
	size_t		 n_direct;	/* entries counted directly in it */
	size_t		 w_direct;	/* of which wildcards */
	size_t		 own;		/* its own entries and collapsed
					 * subfolders: the collapse count */
	size_t		 children;	/* its child records, via rec.next */
};

/* A folder that did not collapse and holds two paths or more. */
struct rec {
	const char	*s;
	size_t		 len;
	size_t		 depth;		/* '/' in its path; the root is 1 */
	size_t		 start, end;	/* its entries, [start, end) */
	size_t		 parent;	/* NONE: directly under the top level */
	size_t		 next;		/* sibling, while building */
	size_t		 dn, dw;	/* paths, wildcards directly in it */
	size_t		 n, w;		/* paths, wildcards beneath */
	int		 merged;	/* now its wildcard */
};

struct planner {
	unsigned	 threshold;
	int		 want_recs;
	struct entry	*ent;
	size_t		 n_ent;
	struct frame	*fr;
	size_t		 n_fr, cap_fr;
	struct rec	*rec;
	size_t		 n_rec, cap_rec;
};

int
inval_plan_covers(const char *pattern, const char *path)
{
	size_t	 len;

	if (strcmp(pattern, path) == 0)
		return 1;
	len = strlen(pattern);
	if (len == 0 || pattern[len - 1] != '*')
		return 0;
	return strncmp(pattern, path, len - 1) == 0;
}

void
inval_plan_fini(struct inval_plan_result *res)
{
	if (res == NULL)
		return;
	strvec_fini(&res->paths);
	res->n_wildcards = 0;
	res->n_exact = 0;
	res->n_evicted = 0;
}

/* Byte order, shorter first: strcmp's order for NUL-free strings. */
static int
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

/* Sort spans and drop duplicates.  Returns -1 when out of memory. */
static int
sort_unique(struct span *sp, size_t *n)
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

/* The length of the common prefix of a and b, 8 bytes at a time. */
static size_t
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

static int
has_prefix(const struct span *s, const struct span *pfx)
{
	return s->len >= pfx->len &&
	    (pfx->len == 0 || memcmp(s->s, pfx->s, pfx->len) == 0);
}

static int
is_wild(const struct span *s)
{
	return s->len > 0 && s->s[s->len - 1] == '*';
}

/*
 * 1 when a wildcard other than p itself covers p.  w: the prefixes of the
 * input wildcards, sorted, none a prefix of another.  The last one not
 * above p is the only one that can be a prefix of p: anything sorting
 * between a prefix of p and p starts with that prefix.
 */
static int
covered(const struct span *w, size_t nw, const struct span *p)
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
static size_t
prune(struct span *items, size_t n)
{
	struct span	*w = NULL;
	size_t		 i, j, nw, kept = NONE;

	if (sort_unique(items, &n) == -1)
		return NONE;

	nw = 0;
	for (i = 0; i < n; i++)
		if (is_wild(&items[i]))
			nw++;
	if (nw == 0)
		return n;
	w = malloc(nw * sizeof(*w));
	if (w == NULL)
		goto out;
	nw = 0;
	for (i = 0; i < n; i++) {
		if (is_wild(&items[i])) {
			w[nw].s = items[i].s;
			w[nw].len = items[i].len - 1;
			nw++;
		}
	}
	/* Keep the outermost: a nested prefix follows its container. */
	qsort(w, nw, sizeof(*w), span_qcmp);
	j = 1;
	for (i = 1; i < nw; i++)
		if (!has_prefix(&w[i], &w[j - 1]))
			w[j++] = w[i];
	nw = j;

	j = 0;
	for (i = 0; i < n; i++)
		if (!covered(w, nw, &items[i]))
			items[j++] = items[i];
	kept = j;
out:
	free(w);
	return kept;
}

static int
push_frame(struct planner *pl, const char *s, size_t len)
{
	struct frame	*f;
	size_t		 cap;

	if (pl->n_fr == pl->cap_fr) {
		cap = pl->cap_fr ? pl->cap_fr * 2 : 32;
		f = realloc(pl->fr, cap * sizeof(*f));
		if (f == NULL)
			return -1;
		pl->fr = f;
		pl->cap_fr = cap;
	}
	f = &pl->fr[pl->n_fr++];
	f->s = s;
	f->len = len;
	f->start = pl->n_ent;
	f->rec_mark = pl->n_rec;
	f->n_direct = 0;
	f->w_direct = 0;
	f->own = 0;
	f->children = NONE;
	return 0;
}

/*
 * Close the innermost folder: collapse it when its count reaches the
 * threshold, else (when limits apply) keep it for the limit pass.  Never
 * called for the top level, so it always has a parent.
 */
static int
pop_frame(struct planner *pl)
{
	struct frame	*f, *parent;
	struct rec	*r;
	size_t		 count, cap, c, ri;

	f = &pl->fr[pl->n_fr - 1];
	parent = &pl->fr[pl->n_fr - 2];
	count = pl->n_ent - f->start;
	if (f->own >= pl->threshold) {
		pl->n_ent = f->start;
		pl->ent[pl->n_ent].s = f->s;
		pl->ent[pl->n_ent].len = f->len;
		pl->ent[pl->n_ent].kind = K_FOLDER;
		pl->n_ent++;
		pl->n_rec = f->rec_mark;
		parent->n_direct++;
		parent->w_direct++;
		parent->own++;
	} else if (count < 2) {
		/* Its one path may as well be directly in the parent. */
		parent->n_direct += f->n_direct;
		parent->w_direct += f->w_direct;
	} else if (pl->want_recs) {
		if (pl->n_rec == pl->cap_rec) {
			cap = pl->cap_rec ? pl->cap_rec * 2 : 64;
			r = realloc(pl->rec, cap * sizeof(*r));
			if (r == NULL)
				return -1;
			pl->rec = r;
			pl->cap_rec = cap;
		}
		ri = pl->n_rec++;
		r = &pl->rec[ri];
		r->s = f->s;
		r->len = f->len;
		r->depth = pl->n_fr - 1;
		r->start = f->start;
		r->end = pl->n_ent;
		r->parent = NONE;
		r->dn = r->n = f->n_direct;
		r->dw = r->w = f->w_direct;
		r->merged = 0;
		for (c = f->children; c != NONE; c = pl->rec[c].next)
			pl->rec[c].parent = ri;
		r->next = parent->children;
		parent->children = ri;
	}
	pl->n_fr--;
	return 0;
}

/* Walk the sorted, pruned paths, collapsing folders bottom-up. */
static int
build(struct planner *pl, const struct span *items, size_t n)
{
	const struct span	*p, *prev = NULL;
	struct frame		*top;
	size_t			 i, k, lcp;

	if (push_frame(pl, "", 0) == -1)	/* the top level */
		return -1;
	for (i = 0; i < n; i++) {
		p = &items[i];
		lcp = prev != NULL ? common_prefix(p, prev) : 0;
		/* Open folders are prefixes of prev; keep those of p. */
		while (pl->fr[pl->n_fr - 1].len > lcp)
			if (pop_frame(pl) == -1)
				return -1;
		for (k = pl->fr[pl->n_fr - 1].len; k < p->len; k++)
			if (p->s[k] == '/' && push_frame(pl, p->s, k + 1) == -1)
				return -1;
		top = &pl->fr[pl->n_fr - 1];
		pl->ent[pl->n_ent].s = p->s;
		pl->ent[pl->n_ent].len = p->len;
		pl->ent[pl->n_ent].kind = is_wild(p) ? K_WILD : K_EXACT;
		pl->n_ent++;
		top->n_direct++;
		top->own++;
		if (is_wild(p))
			top->w_direct++;
		prev = p;
	}
	while (pl->n_fr > 1)
		if (pop_frame(pl) == -1)
			return -1;
	return 0;
}

/* Deepest first, then the folder path in strcmp order. */
static int
rec_qcmp(const void *a, const void *b)
{
	const struct rec *const	*ra = a, *const *rb = b;
	struct span		 sa, sb;

	if ((*ra)->depth != (*rb)->depth)
		return (*ra)->depth > (*rb)->depth ? -1 : 1;
	sa.s = (*ra)->s;
	sa.len = (*ra)->len;
	sb.s = (*rb)->s;
	sb.len = (*rb)->len;
	return span_cmp(&sa, &sb);
}

/*
 * One limit pass: visit the folders deepest first and merge each one that
 * lowers the count (paths, or wildcards when by_wild) while it exceeds
 * limit.  Counts only fall as folders merge, so a folder passed over never
 * qualifies later, and this is the same as merging the deepest qualifying
 * folder over and over.
 */
static void
merge_pass(struct planner *pl, struct rec **order, size_t *total,
    size_t *wild, size_t limit, int by_wild, size_t *jump)
{
	struct rec	*r;
	size_t		 i;

	for (i = 0; i < pl->n_rec; i++) {
		if ((by_wild ? *wild : *total) <= limit)
			break;
		r = order[i];
		if (r->merged) {
			r->n = 1;
			r->w = 1;
		} else if ((by_wild ? r->w : r->n) >= 2) {
			*total -= r->n - 1;
			*wild = *wild - r->w + 1;
			r->n = 1;
			r->w = 1;
			r->merged = 1;
			pl->ent[r->start].s = r->s;
			pl->ent[r->start].len = r->len;
			pl->ent[r->start].kind = K_FOLDER;
			jump[r->start] = r->end;
		}
		if (r->parent != NONE) {
			pl->rec[r->parent].n += r->n;
			pl->rec[r->parent].w += r->w;
		}
	}
}

/*
 * Merge folders until max_paths, then max_wildcards, hold (merging for
 * paths may add wildcards, merging wildcards never adds paths).  On return
 * *jump is NULL (nothing merged), or gives for each entry the next one to
 * keep: a merged folder's wildcard replaces its first entry and skips the
 * rest.
 */
static int
enforce_limits(struct planner *pl, const struct inval_plan_params *par,
    size_t **jump)
{
	struct rec	**order = NULL;
	size_t		  total, wild, i;
	unsigned	  max_p, max_w;
	int		  rc = -1;

	*jump = NULL;
	max_p = par != NULL ? par->max_paths : 0;
	max_w = par != NULL ? par->max_wildcards : 0;
	total = pl->n_ent;
	wild = 0;
	for (i = 0; i < pl->n_ent; i++)
		if (pl->ent[i].kind != K_EXACT)
			wild++;
	if (!(max_p > 0 && total > max_p) && !(max_w > 0 && wild > max_w))
		return 0;
	if (pl->n_rec == 0)
		return 0;	/* what is left lies outside the root */

	order = malloc(pl->n_rec * sizeof(*order));
	*jump = malloc(pl->n_ent * sizeof(**jump));
	if (order == NULL || *jump == NULL)
		goto out;
	for (i = 0; i < pl->n_rec; i++)
		order[i] = &pl->rec[i];
	qsort(order, pl->n_rec, sizeof(*order), rec_qcmp);
	for (i = 0; i < pl->n_ent; i++)
		(*jump)[i] = i + 1;

	if (max_p > 0 && total > max_p)
		merge_pass(pl, order, &total, &wild, max_p, 0, *jump);
	if (max_w > 0 && wild > max_w) {
		/*
		 * Fresh counts.  A folder inside one merged above needs no
		 * care: the paths pass merged it too when it held two paths
		 * or more (it came first, while the limit was still
		 * exceeded), so it holds fewer than two wildcards.
		 */
		for (i = 0; i < pl->n_rec; i++) {
			pl->rec[i].n = pl->rec[i].dn;
			pl->rec[i].w = pl->rec[i].dw;
		}
		merge_pass(pl, order, &total, &wild, max_w, 1, *jump);
	}
	rc = 0;
out:
	free(order);
	if (rc == -1) {
		free(*jump);
		*jump = NULL;
	}
	return rc;
}

static char *
entry_str(const struct entry *e)
{
	char	*s;
	size_t	 len;

	len = e->len;
	s = malloc(len + 2);
	if (s == NULL)
		return NULL;
	memcpy(s, e->s, len);
	if (e->kind == K_FOLDER)
		s[len++] = '*';
	s[len] = '\0';
	return s;
}

/* --- the cost-aware planner ------------------------------------------ */

static int	plan_threshold(const struct inval_plan_params *,
		    const struct span *, size_t, struct inval_plan_result *);

#define NOSOL		UINT32_MAX	/* val.p of a table entry with no plan */
/* Bucket pairs a pass for exact max_paths; -DEXACT_BUDGET=0 tests search(). */
#ifndef EXACT_BUDGET
#define EXACT_BUDGET	((size_t)20000000)
#endif
/* Bucket pairs a pass for max_wildcards: beyond, fewer are tracked. */
#define TRACK_BUDGET	((size_t)100000000)
#define MAX_SEARCH	64		/* steps of the breakpoint search */

enum nstate {
	N_OPEN,			/* its subfolders and own entries are planned */
	N_WILD,			/* its wildcard is in the plan */
	N_COVERED		/* inside a wildcard of the plan */
};

/* A plan of a subtree: paths, needless evictions, wildcards. */
struct val {
	uint32_t	 p;		/* NOSOL: none within the bucket */
	uint32_t	 e;
	uint32_t	 w;
};

/* The eviction weight as num / den: the caller's, or a breakpoint. */
struct weight {
	double		 num;
	double		 den;
};

/*
 * A folder with changed entries beneath it, in post-order (children
 * first), so the root "/" comes last.  Its table has kd x qd buckets:
 * bucket (k, q) is the best plan of the subtree with at most k wildcards
 * and at most q paths (a dimension of 1 is not tracked).
 */
struct cnode {
	const char	*s;		/* s[0..len), ends in '/' */
	size_t		 len;
	size_t		 first, last;	/* children, in path order */
	size_t		 next, prev;	/* siblings */
	size_t		 off, soff;	/* its table; the splits of the merge
					 * of it into its parent's */
	size_t		 rank;		/* deepest first, then post-order;
					 * NONE: no tie */
	size_t		 best_rank;	/* rank of the best plan's search */
	size_t		 cover;		/* the wildcard of the plan it is
					 * in: itself, an ancestor, NONE */
	/* Counts: 32 bits (plan_known() checks). */
	uint32_t	 c;		/* changed entries beneath */
	uint32_t	 e;		/* known, unchanged paths beneath */
	uint32_t	 dn, dw;	/* changed entries, wildcards, directly
					 * in it */
	uint32_t	 kd, qd;	/* its table's dimensions */
	uint32_t	 akd, aqd;	/* its parent's table after merging it */
	uint32_t	 depth;		/* "/" is 1 */
	uint32_t	 bk, bq;	/* its bucket in the plan */
	unsigned char	 state;		/* enum nstate */
	unsigned char	 tie;		/* in the last pass, a choice of two
					 * plans of the same cost */
	unsigned char	 regen;		/* planned again by fill() */
	unsigned char	 emitted;
};

/* A folder open while the sorted paths are walked. */
struct cframe {
	const char	*s;
	size_t		 len;
	size_t		 c, e, dn, dw, items, first, last;
};

struct costplan {
	const struct span *ch;		/* the changed entries, pruned */
	size_t		*owner;		/* per entry: its folder's node, NONE
					 * outside "/" (while walking: the
					 * next entry of its folder) */
	struct cnode	*nd;
	size_t		 n_nd, cap_nd;
	size_t		 root;		/* "/", NONE when nothing is under it */
	struct cframe	*fr;
	size_t		 n_fr, cap_fr;
	int		 track_k, track_q;
	int		 approx;	/* not proven optimal */
	size_t		 lim_k, lim_q;	/* the root's limits */
	size_t		 forbid;	/* no own wildcard at this depth or
					 * above */
	size_t		 max_depth;
	struct val	*tab;
	unsigned char	*wild;		/* per bucket: its own wildcard */
	unsigned	*split_k, *split_q;	/* per merge bucket: the child's */
	struct val	*acc[2];		/* a folder's, while merging */
};

static size_t
dim(int track, size_t lim, size_t c)
{
	return track ? (c < lim ? c : lim) + 1 : 1;
}

/* a * b, saturating. */
static size_t
mul_sat(size_t a, size_t b)
{
	if (a != 0 && b > ((size_t)-1) / a)
		return (size_t)-1;
	return a * b;
}

static size_t
add_sat(size_t a, size_t b)
{
	return a > ((size_t)-1) - b ? (size_t)-1 : a + b;
}

/*
 * 1 when x is a strictly better plan than y under weight wt: cheaper
 * (paths + weight x evictions), then fewer evictions, then fewer paths
 * (fewer paths first when paths_first), then fewer wildcards; *tie set
 * when the costs are the same but not the paths and evictions.  Costs are
 * compared as x.p - y.p against weight x (y.e - x.e), in integers scaled
 * by den: exact for a breakpoint num / den of integers, and the same
 * comparison whatever the subtrees around them (differences do not
 * change when the same plan is added to both).
 */
static inline int
better(const struct val *x, const struct val *y, const struct weight *wt,
    int paths_first, int *tie)
{
	double	 dp, de, rhs;

	if (x->p == NOSOL)
		return 0;
	if (y->p == NOSOL)
		return 1;
	dp = (double)x->p - (double)y->p;
	de = (double)y->e - (double)x->e;
	if (de != 0) {
		dp *= wt->den;
		rhs = wt->num * de;
		if (dp != rhs)
			return dp < rhs;
	} else if (dp != 0)
		return dp < 0;
	if (x->p != y->p)
		*tie = 1;
	if (paths_first && x->p != y->p)
		return x->p < y->p;
	if (x->e != y->e)
		return x->e < y->e;
	if (x->p != y->p)
		return x->p < y->p;
	return x->w < y->w;
}

static int
cpush(struct costplan *cp, const char *s, size_t len)
{
	struct cframe	*f;
	size_t		 cap;

	if (cp->n_fr == cp->cap_fr) {
		cap = cp->cap_fr ? cp->cap_fr * 2 : 32;
		f = realloc(cp->fr, cap * sizeof(*f));
		if (f == NULL)
			return -1;
		cp->fr = f;
		cp->cap_fr = cap;
	}
	f = &cp->fr[cp->n_fr++];
	f->s = s;
	f->len = len;
	f->c = f->e = f->dn = f->dw = 0;
	f->items = f->first = f->last = NONE;
	return 0;
}

/*
 * Close the innermost folder: a node when changed entries lie beneath it,
 * else only its known paths count, in its parent.  Never called for the
 * top level.
 */
static int
cpop(struct costplan *cp)
{
	struct cframe	*f, *parent;
	struct cnode	*n;
	size_t		 cap, i, j, k;

	f = &cp->fr[cp->n_fr - 1];
	parent = f - 1;
	cp->n_fr--;
	parent->e += f->e;
	if (f->c == 0)
		return 0;
	if (cp->n_nd == cp->cap_nd) {
		cap = cp->cap_nd ? cp->cap_nd * 2 : 64;
		n = realloc(cp->nd, cap * sizeof(*n));
		if (n == NULL)
			return -1;
		cp->nd = n;
		cp->cap_nd = cap;
	}
	i = cp->n_nd++;
	n = &cp->nd[i];
	memset(n, 0, sizeof(*n));
	if (cp->n_fr > cp->max_depth)
		cp->max_depth = cp->n_fr;
	n->depth = (uint32_t)cp->n_fr;
	n->s = f->s;
	n->len = f->len;
	n->c = (uint32_t)f->c;
	n->e = (uint32_t)f->e;
	n->dn = (uint32_t)f->dn;
	n->dw = (uint32_t)f->dw;
	n->first = f->first;
	n->last = f->last;
	n->next = NONE;
	for (j = f->items; j != NONE; j = k) {
		k = cp->owner[j];
		cp->owner[j] = i;
	}
	n->prev = parent->last;
	if (parent->last != NONE)
		cp->nd[parent->last].next = i;
	else
		parent->first = i;
	parent->last = i;
	parent->c += f->c;
	if (cp->n_fr == 1)
		cp->root = i;	/* "/": the only folder at the top level */
	return 0;
}

/*
 * Walk the changed entries and the known paths together, in sorted order,
 * into the folder tree.  A known path that is also changed, or that an
 * input wildcard covers (the caller asked for all of that), is no needless
 * eviction and does not count; nor do known paths outside "/", which no
 * wildcard can reach.  The known paths should be sorted and unique: the
 * walk checks, as it goes, that what it places only ever grows (one byte,
 * after the common prefix it needs anyway), and returns 1 when not.
 */
static int
cbuild(struct costplan *cp, const struct span *ch, size_t m,
    const struct span *kn, size_t nk, const struct span *wp, size_t nwp)
{
	const struct span	*p, *prev = NULL;
	struct cframe		*top;
	size_t			 i = 0, j = 0, k, lcp;
	int			 r, is_changed;

	if (cpush(cp, "", 0) == -1)
		return -1;
	while (i < m || j < nk) {
		if (i == m)
			r = 1;
		else if (j == nk)
			r = -1;
		else
			r = span_cmp(&ch[i], &kn[j]);
		if (r <= 0) {
			p = &ch[i++];
			if (r == 0)
				j++;
			is_changed = 1;
		} else {
			p = &kn[j++];
			if (p->len == 0 || p->s[0] != '/' ||
			    (nwp > 0 && covered(wp, nwp, p)))
				continue;
			is_changed = 0;
		}
		lcp = prev != NULL ? common_prefix(p, prev) : 0;
		if (prev != NULL && (lcp == p->len || (lcp < prev->len &&
		    (unsigned char)p->s[lcp] < (unsigned char)prev->s[lcp])))
			return 1;
		/* Open folders are prefixes of prev; keep those of p. */
		while (cp->fr[cp->n_fr - 1].len > lcp)
			if (cpop(cp) == -1)
				return -1;
		if (p->len > 0 && p->s[0] == '/')
			for (k = cp->fr[cp->n_fr - 1].len; k < p->len; k++)
				if (p->s[k] == '/' &&
				    cpush(cp, p->s, k + 1) == -1)
					return -1;
		top = &cp->fr[cp->n_fr - 1];
		if (is_changed) {
			cp->owner[p - ch] = top->items;
			top->items = (size_t)(p - ch);
			top->c++;
			top->dn++;
			if (is_wild(p))
				top->dw++;
		} else
			top->e++;
		prev = p;
	}
	while (cp->n_fr > 1)
		if (cpop(cp) == -1)
			return -1;
	for (i = cp->fr[0].items; i != NONE; i = k) {
		k = cp->owner[i];
		cp->owner[i] = NONE;
	}
	return 0;
}

/*
 * Size the tables for the current dimensions.  Returns the work of one
 * pass in bucket pairs (saturating), and allocates only when alloc.
 */
static int
layout(struct costplan *cp, int alloc, size_t *work)
{
	struct cnode	*n, *c;
	size_t		 v, ch, off = 0, soff = 0, w = 0, nacc = 1;
	size_t		 ca, akd, aqd, sz;

	for (v = 0; v < cp->n_nd; v++) {
		n = &cp->nd[v];
		n->kd = (uint32_t)dim(cp->track_k, cp->lim_k, n->c);
		n->qd = (uint32_t)dim(cp->track_q, cp->lim_q, n->c);
		n->off = off;
		off = add_sat(off, mul_sat(n->kd, n->qd));
		ca = n->dn;
		akd = dim(cp->track_k, cp->lim_k, ca);
		aqd = dim(cp->track_q, cp->lim_q, ca);
		sz = mul_sat(akd, aqd);
		w = add_sat(w, sz);
		if (sz > nacc)
			nacc = sz;
		for (ch = n->first; ch != NONE; ch = c->next) {
			c = &cp->nd[ch];
			w = add_sat(w, mul_sat(mul_sat(akd, aqd),
			    mul_sat(c->kd, c->qd)));
			ca += c->c;
			akd = dim(cp->track_k, cp->lim_k, ca);
			aqd = dim(cp->track_q, cp->lim_q, ca);
			sz = mul_sat(akd, aqd);
			c->akd = (uint32_t)akd;
			c->aqd = (uint32_t)aqd;
			c->soff = soff;
			if (sz > 1)
				soff = add_sat(soff, sz);
			if (sz > nacc)
				nacc = sz;
		}
	}
	*work = w;
	if (!alloc)
		return 0;
	free(cp->tab);
	free(cp->wild);
	free(cp->split_k);
	free(cp->split_q);
	free(cp->acc[0]);
	free(cp->acc[1]);
	cp->split_k = cp->split_q = NULL;
	if (off == (size_t)-1 || soff == (size_t)-1 ||
	    off > ((size_t)-1) / 2 / sizeof(*cp->tab) ||
	    soff > ((size_t)-1) / 2 / sizeof(*cp->split_k)) {
		cp->tab = NULL;
		cp->wild = NULL;
		cp->acc[0] = cp->acc[1] = NULL;
		return -1;
	}
	cp->tab = malloc((off > 0 ? off : 1) * sizeof(*cp->tab));
	cp->wild = malloc(off > 0 ? off : 1);
	cp->acc[0] = malloc(nacc * sizeof(*cp->acc[0]));
	cp->acc[1] = malloc(nacc * sizeof(*cp->acc[1]));
	if (cp->tab == NULL || cp->wild == NULL || cp->acc[0] == NULL ||
	    cp->acc[1] == NULL)
		return -1;
	if (cp->track_k && soff > 0) {
		cp->split_k = malloc(soff * sizeof(*cp->split_k));
		if (cp->split_k == NULL)
			return -1;
	}
	if (cp->track_q && soff > 0) {
		cp->split_q = malloc(soff * sizeof(*cp->split_q));
		if (cp->split_q == NULL)
			return -1;
	}
	return 0;
}

static int
set_mode(struct costplan *cp, int track_k, int track_q)
{
	size_t	 work;

	cp->track_k = track_k;
	cp->track_q = track_q;
	return layout(cp, 1, &work);
}

/*
 * r = the best of a and b together, bucket by bucket: r(k, q) = best over
 * ka + kb = k, qa + qb = q of a(ka, qa) + b(kb, qb).  As a and b hold the
 * best plans with at most so many wildcards and paths, so does r.  Ties go
 * to the largest ka, the earlier folders (the loop's first find wins).
 * Records, when r has more than one bucket, b's share of each.
 */
static void
merge(struct costplan *cp, const struct weight *wt, int pf, int *tie,
    const struct val *a, size_t akd, size_t aqd, const struct cnode *c,
    struct val *r)
{
	const struct val	*b = &cp->tab[c->off], *x, *y;
	struct val		 s;
	size_t			 ka, qa, kb, qb, i, rkd = c->akd, rqd = c->aqd;
	int			 rec = rkd * rqd > 1;

	for (i = 0; i < rkd * rqd; i++)
		r[i].p = NOSOL;
	for (ka = akd; ka-- > 0;) {
		for (qa = aqd; qa-- > 0;) {
			x = &a[ka * aqd + qa];
			if (x->p == NOSOL)
				continue;
			for (kb = 0; kb < c->kd && ka + kb < rkd; kb++) {
				for (qb = 0; qb < c->qd && qa + qb < rqd;
				    qb++) {
					y = &b[kb * c->qd + qb];
					if (y->p == NOSOL)
						continue;
					s.p = x->p + y->p;
					s.e = x->e + y->e;
					s.w = x->w + y->w;
					i = (ka + kb) * rqd + qa + qb;
					if (!better(&s, &r[i], wt, pf,
					    tie))
						continue;
					r[i] = s;
					if (!rec)
						continue;
					if (cp->split_k != NULL)
						cp->split_k[c->soff + i] =
						    (unsigned)kb;
					if (cp->split_q != NULL)
						cp->split_q[c->soff + i] =
						    (unsigned)qb;
				}
			}
		}
	}
}

/*
 * One pass of the dynamic programme, children before parents: a folder's
 * table is the best of its own entries (one path each) and its children's
 * tables merged, or else its wildcard: one path, one wildcard and its
 * known, unchanged paths as evictions.  Its own wildcard wins only when
 * strictly better (so at equal cost, evictions, paths and wildcards, the
 * narrower wildcards beneath).  Folders at depth forbid or above have no
 * wildcard; folders ranked below flip break cost ties toward fewer paths.
 * Returns the root's best plan (p NOSOL: none within the limits).
 */
static struct val
solve(struct costplan *cp, const struct weight *wt, size_t flip)
{
	struct cnode	*n, *c;
	struct val	*a, *t, own, s;
	size_t		 v, ch, k, q, akd, aqd, i;
	int		 ok, pf, tie;

	for (v = 0; v < cp->n_nd; v++) {
		n = &cp->nd[v];
		pf = n->rank < flip;
		tie = 0;
		own.p = 1;
		own.e = n->e;
		own.w = 1;
		t = &cp->tab[n->off];
		if (!cp->track_k && !cp->track_q) {
			s.p = (uint32_t)n->dn;
			s.e = 0;
			s.w = (uint32_t)n->dw;
			for (ch = n->first; ch != NONE; ch = c->next) {
				c = &cp->nd[ch];
				s.p += cp->tab[c->off].p;
				s.e += cp->tab[c->off].e;
				s.w += cp->tab[c->off].w;
			}
			cp->wild[n->off] = n->depth > cp->forbid &&
			    better(&own, &s, wt, pf, &tie);
			*t = cp->wild[n->off] ? own : s;
			n->tie = (unsigned char)tie;
			continue;
		}
		a = cp->acc[0];
		akd = dim(cp->track_k, cp->lim_k, n->dn);
		aqd = dim(cp->track_q, cp->lim_q, n->dn);
		for (k = 0; k < akd; k++) {
			for (q = 0; q < aqd; q++) {
				ok = (!cp->track_k || k >= n->dw) &&
				    (!cp->track_q || q >= n->dn);
				a[k * aqd + q].p = ok ? (uint32_t)n->dn :
				    NOSOL;
				a[k * aqd + q].e = 0;
				a[k * aqd + q].w = (uint32_t)n->dw;
			}
		}
		for (ch = n->first; ch != NONE; ch = c->next) {
			c = &cp->nd[ch];
			merge(cp, wt, pf, &tie, a, akd, aqd, c,
			    a == cp->acc[0] ? cp->acc[1] : cp->acc[0]);
			a = a == cp->acc[0] ? cp->acc[1] : cp->acc[0];
			akd = c->akd;
			aqd = c->aqd;
		}
		for (k = 0; k < n->kd; k++) {
			for (q = 0; q < n->qd; q++) {
				i = k * n->qd + q;
				t[i] = a[i];
				cp->wild[n->off + i] = n->depth > cp->forbid &&
				    (k > 0 || !cp->track_k) &&
				    (q > 0 || !cp->track_q) &&
				    better(&own, &a[i], wt, pf, &tie);
				if (cp->wild[n->off + i])
					t[i] = own;
			}
		}
		n->tie = (unsigned char)tie;
	}
	n = &cp->nd[cp->root];
	return cp->tab[n->off + n->kd * n->qd - 1];
}

/* Mark each folder open, wildcard or covered, from the root's best plan. */
static void
reconstruct(struct costplan *cp)
{
	struct cnode	*n, *c;
	size_t		 v, ch, k, q, i;
	int		 cov;

	n = &cp->nd[cp->root];
	n->bk = n->kd - 1;
	n->bq = n->qd - 1;
	n->state = N_OPEN;
	n->cover = NONE;
	for (v = cp->n_nd; v-- > 0;) {
		n = &cp->nd[v];
		cov = n->state == N_COVERED;
		if (!cov && cp->wild[n->off + n->bk * n->qd + n->bq]) {
			n->state = N_WILD;
			n->cover = v;
			cov = 1;
		}
		k = n->bk;
		q = n->bq;
		for (ch = n->last; ch != NONE; ch = c->prev) {
			c = &cp->nd[ch];
			c->state = cov ? N_COVERED : N_OPEN;
			c->cover = n->cover;
			c->bk = c->bq = 0;
			if (cov || c->akd * c->aqd == 1)
				continue;
			i = c->soff + k * c->aqd + q;
			if (cp->split_k != NULL)
				c->bk = cp->split_k[i];
			if (cp->split_q != NULL)
				c->bq = cp->split_q[i];
			k -= c->bk;
			q -= c->bq;
		}
	}
}

static int
same_val(const struct val *a, const struct val *b)
{
	return a->p == b->p && a->e == b->e && a->w == b->w;
}

/*
 * Rank the folders that had a tie in the last pass, deepest first, then in
 * post-order; the others never flip.  Returns how many, or NONE when out
 * of memory.
 */
static size_t
rank_ties(struct costplan *cp)
{
	size_t	*start, v, d, r, c;

	start = calloc(cp->max_depth + 1, sizeof(*start));
	if (start == NULL)
		return NONE;
	for (v = 0; v < cp->n_nd; v++)
		if (cp->nd[v].tie)
			start[cp->nd[v].depth]++;
	r = 0;
	for (d = cp->max_depth + 1; d-- > 0;) {
		c = start[d];
		start[d] = r;
		r += c;
	}
	for (v = 0; v < cp->n_nd; v++)
		cp->nd[v].rank = cp->nd[v].tie ?
		    start[cp->nd[v].depth]++ : NONE;
	free(start);
	return r;
}

/* A plan of the Lagrangian search: its totals and how to get it again. */
struct found {
	struct val	 v;		/* p NOSOL: none */
	struct weight	 wt;
	size_t		 flip;
};

/*
 * The Lagrangian search for a plan within lim_q paths, folders at depth
 * cp->forbid or above without their wildcard.  With a price on paths the
 * problem is the same one at a lower eviction weight, and a lower weight
 * gives a plan with as many paths or fewer.  From weight 0 (fewest paths)
 * and the caller's weight (too many paths), evaluate where the two plans'
 * costs cross (Eisner-Severance): a new plan takes the place of the one
 * on its side, until none is found (at_wt: the plan at the caller's
 * weight, when known).  There both plans, lo (fits) and hi
 * (does not), are optimal, and so are the plans between them that mix
 * their choices folder by folder: breaking cost ties toward fewer paths in
 * the folders that tie, ranked below t, goes from hi (t = 0) toward lo,
 * and a bisection on t finds the one just within the limit, which is
 * cheaper at the caller's weight than lo (as many cost units at the
 * breakpoint, fewer evictions) unless it is lo.  Returns -1 when out of
 * memory.
 */
static int
search(struct costplan *cp, const struct weight *wt, const struct val *at_wt,
    struct found *res)
{
	struct weight	 zero = { 0, 1 }, mid;
	struct val	 lo, hi, m;
	size_t		 it, t, t_lo, t_hi;
	int		 at_break = 0, tie;

	res->v.p = NOSOL;
	res->flip = 0;
	lo = solve(cp, &zero, 0);
	if (lo.p > cp->lim_q)
		return 0;
	res->v = lo;
	res->wt = zero;
	hi = at_wt != NULL ? *at_wt : solve(cp, wt, 0);
	if (hi.p <= cp->lim_q) {
		res->v = hi;
		res->wt = *wt;
		return 0;
	}
	mid = zero;
	for (it = 0; it < MAX_SEARCH && lo.e > hi.e && lo.p < hi.p; it++) {
		mid.num = (double)hi.p - (double)lo.p;
		mid.den = (double)lo.e - (double)hi.e;
		m = solve(cp, &mid, 0);
		if (same_val(&m, &lo) || same_val(&m, &hi)) {
			at_break = 1;
			break;
		}
		if (m.p <= cp->lim_q) {
			lo = m;
			res->v = lo;
			res->wt = mid;
		} else
			hi = m;
	}
	if (!at_break)
		return 0;
	t_hi = 0;
	t_lo = rank_ties(cp);
	if (t_lo == NONE)
		return -1;
	if (t_lo == 0 || solve(cp, &mid, t_lo).p > cp->lim_q)
		return 0;
	while (t_lo - t_hi > 1) {
		t = t_hi + (t_lo - t_hi) / 2;
		if (solve(cp, &mid, t).p <= cp->lim_q)
			t_lo = t;
		else
			t_hi = t;
	}
	m = solve(cp, &mid, t_lo);
	if (better(&m, &res->v, wt, 0, &tie)) {
		res->v = m;
		res->wt = mid;
		res->flip = t_lo;
	}
	return 0;
}

/* A wildcard of the plan that may give way to the plan beneath it. */
struct unmerge {
	double		 gain;		/* cost saved per path added */
	size_t		 v;
};

static int
unmerge_qcmp(const void *a, const void *b)
{
	const struct unmerge	*x = a, *y = b;

	if (x->gain != y->gain)
		return x->gain > y->gain ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v;
}

/*
 * Spend what a Lagrangian plan (totals tot) leaves under the path limit: a
 * wildcard of the plan gives way to the best plan beneath its folder at
 * the caller's weight, without limits, most cost saved per path added
 * first, while the paths and wildcards stay within the limits.  Greedy;
 * it only ever lowers the cost.  Returns -1 when out of memory.
 */
static int
fill(struct costplan *cp, const struct weight *wt, const struct val *tot)
{
	struct val	*best = NULL, *desc = NULL, own, d;
	struct unmerge	*u = NULL;
	struct cnode	*n, *c;
	unsigned char	*ownbest = NULL;
	size_t		 v, ch, nu = 0, i, p, w, dp;
	double		 de;
	int		 tie, rc = -1;

	best = malloc(cp->n_nd * sizeof(*best));
	desc = malloc(cp->n_nd * sizeof(*desc));
	ownbest = malloc(cp->n_nd);
	u = malloc(cp->n_nd * sizeof(*u));
	if (best == NULL || desc == NULL || ownbest == NULL || u == NULL)
		goto out;
	for (v = 0; v < cp->n_nd; v++) {
		n = &cp->nd[v];
		d.p = (uint32_t)n->dn;
		d.e = 0;
		d.w = (uint32_t)n->dw;
		for (ch = n->first; ch != NONE; ch = c->next) {
			c = &cp->nd[ch];
			d.p += best[ch].p;
			d.e += best[ch].e;
			d.w += best[ch].w;
		}
		own.p = 1;
		own.e = (uint32_t)n->e;
		own.w = 1;
		desc[v] = d;
		ownbest[v] = (unsigned char)better(&own, &d, wt, 0, &tie);
		best[v] = ownbest[v] ? own : d;
		n->regen = 0;
		if (n->state != N_WILD || d.p <= 1)
			continue;
		dp = d.p - 1;
		de = (double)n->e - (double)d.e;
		u[nu].gain = (wt->num * de / wt->den - (double)dp) / (double)dp;
		u[nu].v = v;
		if (u[nu].gain > 0)
			nu++;
	}
	qsort(u, nu, sizeof(*u), unmerge_qcmp);
	p = tot->p;
	w = tot->w;
	for (i = 0; i < nu; i++) {
		d = desc[u[i].v];
		if (p + d.p - 1 > cp->lim_q ||
		    (cp->lim_k > 0 && w - 1 + d.w > cp->lim_k))
			continue;
		p += d.p - 1;
		w = w - 1 + d.w;
		n = &cp->nd[u[i].v];
		n->state = N_OPEN;
		n->regen = 1;
	}
	/* The states and covers beneath what gave way. */
	n = &cp->nd[cp->root];
	n->cover = n->state == N_WILD ? cp->root : NONE;
	for (v = cp->n_nd; v-- > 0;) {
		n = &cp->nd[v];
		for (ch = n->first; ch != NONE; ch = c->next) {
			c = &cp->nd[ch];
			if (n->regen) {
				c->regen = 1;
				c->state = n->state != N_OPEN ? N_COVERED :
				    ownbest[ch] ? N_WILD : N_OPEN;
			}
			if (c->state == N_WILD)
				c->cover = ch;
			else
				c->cover = n->state == N_WILD ? v : n->cover;
		}
	}
	rc = 0;
out:
	free(best);
	free(desc);
	free(ownbest);
	free(u);
	return rc;
}

/*
 * The most wildcards, up to lim_k, that a pass tracking them affords:
 * O(changed x max_wildcards) is cheap for CloudFront's 15, not for
 * 10,000 on a million changed paths.  Bisection on the limit.
 */
static size_t
cap_wildcards(struct costplan *cp)
{
	size_t	 lo = 1, hi = cp->lim_k, mid, lim = cp->lim_k, work;

	cp->track_k = 1;
	cp->track_q = 0;
	(void)layout(cp, 0, &work);
	if (work <= TRACK_BUDGET)
		return lim;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		cp->lim_k = mid;
		(void)layout(cp, 0, &work);
		if (work <= TRACK_BUDGET)
			lo = mid;
		else
			hi = mid;
	}
	cp->lim_k = lim;
	return lo;
}

/*
 * Choose the plan and mark it in the nodes.
 *
 * 1. No limit tracked: one pass, O(folders).  When its plan keeps both
 *    limits, it is the optimum.
 * 2. Too many wildcards: track k, the wildcards, in 0..max_wildcards per
 *    folder, a knapsack merge over children; a subtree with c changed
 *    entries needs at most c wildcards, so tables stay small beneath and
 *    a pass is O(changed x max_wildcards) (the tree-knapsack bound).
 *    Exact.
 * 3. Too many paths: track q, the paths, the same way, when one pass
 *    costs at most EXACT_BUDGET bucket pairs.  Exact.
 * 4. Otherwise Lagrangian (search()): optimal at the path counts of the
 *    plans it finds, but those can be far apart: "/" "*" alone is often
 *    a whole segment of the hull, from 1 path to thousands.  So the
 *    search runs again with the wildcards of the top levels forbidden,
 *    one more level each time (finer steps: a year, then a month), while
 *    a plan still fits and until two rounds in a row find nothing
 *    cheaper; the cheapest plan found is kept.  It keeps the limits
 *    (depth 0 has "/" "*"); it is not proven optimal.
 */
static int
choose(struct costplan *cp, const struct weight *wt)
{
	struct weight	 zero = { 0, 1 };
	struct found	 best, f;
	struct val	 val;
	size_t		 work, d, best_d = 0, stale = 0, v, top, cap;
	int		 need_k, need_q, tie;

	need_k = cp->lim_k > 0 && cp->lim_k < cp->nd[cp->root].c;
	need_q = cp->lim_q > 0 && cp->lim_q < cp->nd[cp->root].c;

	if (set_mode(cp, 0, 0) == -1)
		return -1;
	val = solve(cp, wt, 0);
	if ((!need_k || val.w <= cp->lim_k) &&
	    (!need_q || val.p <= cp->lim_q))
		goto done;
	cap = need_k ? cap_wildcards(cp) : cp->lim_k;
	if (cap != cp->lim_k) {
		/* Fewer wildcards than allowed still keep the limit. */
		cp->lim_k = cap;
		cp->approx = 1;
	}
	if (need_k && val.w > cp->lim_k) {
		if (set_mode(cp, 1, 0) == -1)
			return -1;
		val = solve(cp, wt, 0);
		if (!need_q || val.p <= cp->lim_q)
			goto done;
	}

	cp->track_k = need_k;
	cp->track_q = 1;
	(void)layout(cp, 0, &work);
	if (work <= EXACT_BUDGET) {
		if (set_mode(cp, need_k, 1) == -1)
			return -1;
		(void)solve(cp, wt, 0);
		goto done;
	}

	if (set_mode(cp, need_k, 0) == -1)
		return -1;
	best.v.p = NOSOL;
	best.wt = *wt;
	best.flip = 0;
	for (d = 0; d < cp->max_depth && stale < 2;) {
		cp->forbid = d;
		if (search(cp, wt, d == 0 ? &val : NULL, &f) == -1)
			return -1;
		if (f.v.p == NOSOL)
			break;
		if (better(&f.v, &best.v, wt, 0, &tie)) {
			best = f;
			best_d = d;
			stale = 0;
			for (v = 0; v < cp->n_nd && f.flip > 0; v++)
				cp->nd[v].best_rank = cp->nd[v].rank;
		} else
			stale++;
		/* Next, forbid this plan's topmost wildcards. */
		(void)solve(cp, &f.wt, f.flip);
		reconstruct(cp);
		for (v = 0, top = NONE; v < cp->n_nd; v++)
			if (cp->nd[v].state == N_WILD && cp->nd[v].depth < top)
				top = cp->nd[v].depth;
		if (top == NONE)
			break;
		d = top > d ? top : d + 1;
	}
	cp->approx = 1;
	cp->forbid = best_d;
	for (v = 0; v < cp->n_nd && best.flip > 0; v++)
		cp->nd[v].rank = cp->nd[v].best_rank;
	val = solve(cp, &best.wt, best.flip);
	if (val.p > cp->lim_q || (need_k && val.w > cp->lim_k)) {
		/* Cannot happen; but the limits are a promise. */
		cp->forbid = 0;
		val = solve(cp, &zero, 0);
	}
	reconstruct(cp);
	return fill(cp, wt, &val);
done:
	reconstruct(cp);
	return 0;
}

static int
push_span(struct strvec *sv, const char *s, size_t len, int add_star)
{
	char	*p;

	p = malloc(len + 2);
	if (p == NULL)
		return -1;
	memcpy(p, s, len);
	if (add_star)
		p[len++] = '*';
	p[len] = '\0';
	return strvec_push_take(sv, p);
}

/* The known paths as spans, in the caller's order (NULL skipped). */
static struct span *
known_spans(const struct inval_plan_params *par, size_t *nk)
{
	struct span	*kn;
	size_t		 i, j, n = par->n_known;

	*nk = 0;
	if (n > ((size_t)-1) / 2 / sizeof(*kn))
		return NULL;
	kn = malloc((n > 0 ? n : 1) * sizeof(*kn));
	if (kn == NULL)
		return NULL;
	for (i = j = 0; i < n; i++) {
		if (par->known[i] == NULL)
			continue;
		kn[j].s = par->known[i];
		kn[j].len = strlen(par->known[i]);
		j++;
	}
	*nk = j;
	return kn;
}

/* The node of folder f[0..len), or NONE; pre: the nodes in path order. */
static size_t
find_node(const struct costplan *cp, const size_t *pre, const char *f,
    size_t len)
{
	struct span	 key, s;
	size_t		 lo = 0, hi = cp->n_nd, mid;
	int		 r;

	key.s = f;
	key.len = len;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		s.s = cp->nd[pre[mid]].s;
		s.len = cp->nd[pre[mid]].len;
		r = span_cmp(&key, &s);
		if (r == 0)
			return pre[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NONE;
}

/*
 * When the plan is Lagrangian (not proven optimal), the threshold rule's
 * plan, which keeps both limits too, takes its place in res if it is
 * cheaper: the cost-aware planner is never worse than the rule it
 * replaces.  *taken says whether it did.  Returns -1 when out of
 * memory.
 */
static int
rival(const struct inval_plan_params *par, const struct span *ch, size_t m,
    const struct costplan *cp, const struct weight *wt, size_t n_out,
    size_t w_out, struct inval_plan_result *res, int *taken)
{
	struct inval_plan_result	 t;
	struct val			 ours, theirs;
	const struct cnode		*n;
	size_t				*pre = NULL, *stack = NULL;
	size_t				 v, ch2, sp = 0, np = 0, i, len, node;
	int				 tie, rc = -1;

	*taken = 0;
	strvec_init(&t.paths);
	ours.p = (uint32_t)n_out;
	ours.e = 0;
	ours.w = (uint32_t)w_out;
	for (v = 0; v < cp->n_nd; v++) {
		n = &cp->nd[v];
		if (n->state == N_WILD) {
			ours.p++;
			ours.e += (uint32_t)n->e;
			ours.w++;
		} else if (n->state == N_OPEN) {
			ours.p += (uint32_t)n->dn;
			ours.w += (uint32_t)n->dw;
		}
	}
	if (plan_threshold(par, ch, m, &t) == -1)
		goto out;
	/* The folders in path order: pre-order, children in path order. */
	pre = malloc(cp->n_nd * sizeof(*pre));
	stack = malloc(cp->n_nd * sizeof(*stack));
	if (pre == NULL || stack == NULL)
		goto out;
	stack[sp++] = cp->root;
	while (sp > 0) {
		v = stack[--sp];
		pre[np++] = v;
		for (ch2 = cp->nd[v].last; ch2 != NONE; ch2 = cp->nd[ch2].prev)
			stack[sp++] = ch2;
	}
	theirs.p = (uint32_t)t.paths.n;
	theirs.e = 0;
	theirs.w = 0;
	for (i = 0; i < t.paths.n; i++) {
		len = strlen(t.paths.v[i]);
		if (len == 0 || t.paths.v[i][len - 1] != '*')
			continue;
		theirs.w++;
		/* A folder's wildcard; any other is an input's: no eviction. */
		node = len >= 2 && t.paths.v[i][len - 2] == '/' ?
		    find_node(cp, pre, t.paths.v[i], len - 1) : NONE;
		if (node != NONE)
			theirs.e += (uint32_t)cp->nd[node].e;
	}
	if (better(&theirs, &ours, wt, 0, &tie)) {
		strvec_fini(&res->paths);
		res->paths = t.paths;
		strvec_init(&t.paths);
		res->n_evicted = theirs.e;
		*taken = 1;
	}
	rc = 0;
out:
	strvec_fini(&t.paths);
	free(pre);
	free(stack);
	return rc;
}

/* The cost-aware plan of the pruned, sorted changed entries ch[0..m). */
static int
plan_known(const struct inval_plan_params *par, const struct span *ch,
    size_t m, struct inval_plan_result *res)
{
	struct costplan	 cp;
	struct span	*kn = NULL, *wp = NULL;
	struct weight	 wt;
	struct cnode	*n;
	size_t		 nk = 0, nwp, i, n_out = 0, w_out = 0;
	int		 rc = -1, taken = 0, walked;

	memset(&cp, 0, sizeof(cp));
	cp.root = NONE;
	cp.ch = ch;
	kn = known_spans(par, &nk);
	if (kn == NULL)
		goto out;
	/* Counts are 32 bits: far beyond any memory for the strings. */
	if (m >= NOSOL || nk >= NOSOL - m)
		goto out;
	cp.owner = malloc((m > 0 ? m : 1) * sizeof(*cp.owner));
	wp = malloc((m > 0 ? m : 1) * sizeof(*wp));
	if (cp.owner == NULL || wp == NULL)
		goto out;
	/* The input wildcards' prefixes: sorted, none inside another. */
	for (i = nwp = 0; i < m; i++) {
		if (is_wild(&ch[i])) {
			wp[nwp].s = ch[i].s;
			wp[nwp].len = ch[i].len - 1;
			nwp++;
		}
	}
	walked = cbuild(&cp, ch, m, kn, nk, wp, nwp);
	if (walked == 1) {
		/* Known paths out of order: sort them, walk again. */
		cp.n_nd = cp.n_fr = cp.max_depth = 0;
		cp.root = NONE;
		if (sort_unique(kn, &nk) == -1)
			goto out;
		walked = cbuild(&cp, ch, m, kn, nk, wp, nwp);
	}
	if (walked != 0)
		goto out;

	for (i = 0; i < m; i++) {
		if (cp.owner[i] == NONE) {
			n_out++;
			if (is_wild(&ch[i]))
				w_out++;
		}
	}
	if (cp.root != NONE) {
		/* What lies outside "/" is kept as given and counts first. */
		if (par->max_wildcards > 0)
			cp.lim_k = par->max_wildcards > w_out + 1 ?
			    par->max_wildcards - w_out : 1;
		if (par->max_paths > 0)
			cp.lim_q = par->max_paths > n_out + 1 ?
			    par->max_paths - n_out : 1;
		/* Anything but a positive weight is 0. */
		wt.num = par->eviction_weight > 0 ? par->eviction_weight : 0;
		wt.den = 1;
		if (choose(&cp, &wt) == -1)
			goto out;
		if (cp.approx && rival(par, ch, m, &cp, &wt, n_out, w_out,
		    res, &taken) == -1)
			goto out;
	}
	/*
	 * In path order: a wildcard "F" "*" sorts where the first of F's
	 * entries would (they are all that starts with F).
	 */
	for (i = 0; i < m && !taken; i++) {
		n = cp.owner[i] != NONE && cp.nd[cp.owner[i]].cover != NONE ?
		    &cp.nd[cp.nd[cp.owner[i]].cover] : NULL;
		if (n == NULL) {
			if (push_span(&res->paths, ch[i].s, ch[i].len,
			    0) == -1)
				goto out;
		} else if (!n->emitted) {
			n->emitted = 1;
			if (push_span(&res->paths, n->s, n->len, 1) == -1)
				goto out;
			res->n_evicted += n->e;
		}
	}
	rc = 0;
out:
	free(kn);
	free(wp);
	free(cp.owner);
	free(cp.nd);
	free(cp.fr);
	free(cp.tab);
	free(cp.wild);
	free(cp.split_k);
	free(cp.split_q);
	free(cp.acc[0]);
	free(cp.acc[1]);
	return rc;
}

/* The threshold plan of the pruned, sorted changed entries items[0..m). */
static int
plan_threshold(const struct inval_plan_params *par, const struct span *items,
    size_t m, struct inval_plan_result *res)
{
	struct planner	 pl;
	size_t		*jump = NULL;
	size_t		 i;
	int		 rc = -1;

	memset(&pl, 0, sizeof(pl));
	pl.threshold = par != NULL ? par->wildcard_threshold :
	    DEFAULT_THRESHOLD;
	if (pl.threshold < 2)
		pl.threshold = 2;
	pl.want_recs = par != NULL &&
	    (par->max_paths > 0 || par->max_wildcards > 0);
	pl.ent = malloc((m > 0 ? m : 1) * sizeof(*pl.ent));
	if (pl.ent == NULL)
		goto out;
	if (build(&pl, items, m) == -1)
		goto out;
	if (enforce_limits(&pl, par, &jump) == -1)
		goto out;
	for (i = 0; i < pl.n_ent; i = jump != NULL ? jump[i] : i + 1)
		if (strvec_push_take(&res->paths, entry_str(&pl.ent[i])) == -1)
			goto out;
	rc = 0;
out:
	free(jump);
	free(pl.ent);
	free(pl.fr);
	free(pl.rec);
	return rc;
}

int
inval_plan(const struct inval_plan_params *par, const char *const *paths,
    size_t n, struct inval_plan_result *res)
{
	struct span	*items = NULL;
	size_t		 i, m, len;
	int		 rc = -1;

	strvec_init(&res->paths);
	res->n_wildcards = 0;
	res->n_exact = 0;
	res->n_evicted = 0;
	if (n == 0)
		return 0;

	if (n > ((size_t)-1) / 2 / sizeof(*items))
		goto out;
	items = malloc(n * sizeof(*items));
	if (items == NULL)
		goto out;
	m = 0;
	for (i = 0; i < n; i++) {
		if (paths[i] == NULL)
			continue;
		items[m].s = paths[i];
		items[m].len = strlen(paths[i]);
		m++;
	}
	m = prune(items, m);
	if (m == NONE)
		goto out;
	if (par != NULL && par->known != NULL) {
		if (plan_known(par, items, m, res) == -1)
			goto out;
	} else if (plan_threshold(par, items, m, res) == -1)
		goto out;

	for (i = 1; i < res->paths.n; i++)
		if (strcmp(res->paths.v[i - 1], res->paths.v[i]) >= 0)
			break;
	if (i < res->paths.n)
		strvec_sort_unique(&res->paths);
	for (i = 0; i < res->paths.n; i++) {
		len = strlen(res->paths.v[i]);
		if (len > 0 && res->paths.v[i][len - 1] == '*')
			res->n_wildcards++;
		else
			res->n_exact++;
	}
	rc = 0;
out:
	free(items);
	if (rc == -1)
		inval_plan_fini(res);
	return rc;
}
