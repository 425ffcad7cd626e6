/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_plan_rule: the threshold rule, the plan without known paths
 * (inval_plan.h): collapse folders bottom-up, then merge until the limits
 * hold.  Counts only; what a wildcard would evict is the cost-aware
 * planner's (inval_plan_cost.c), which also calls this rule as its rival.
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
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "inval_plan_rule.h"

#define DEFAULT_THRESHOLD	5

enum kind {
	K_EXACT,		/* a path: s[0..len) */
	K_WILD,			/* an input wildcard: s[0..len), ends in '*' */
	K_FOLDER		/* a folder's wildcard: s[0..len) + "*" */
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

/* The threshold plan of the pruned, sorted changed entries items[0..m). */
int
inval_plan_rule(const struct inval_plan_params *par, const struct span *items,
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
