/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_plan_search: which passes of the cost-aware programme
 * (inval_plan_cost.c) to run, and with what weight, so that the plan
 * keeps max_paths and max_wildcards: exact while that is affordable,
 * else a Lagrangian search on the eviction weight, then the room left
 * under the limits spent (inval_plan_choose() says how).  It builds no
 * tree and solves no pass itself.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inval_plan_cost.h"

/* Bucket pairs a pass for exact max_paths; -DEXACT_BUDGET=0 tests search(). */
#ifndef EXACT_BUDGET
#define EXACT_BUDGET	((size_t)20000000)
#endif
/* Bucket pairs a pass for max_wildcards: beyond, fewer are tracked. */
#define TRACK_BUDGET	((size_t)100000000)
#define MAX_SEARCH	64		/* steps of the breakpoint search */

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
	lo = inval_plan_solve(cp, &zero, 0);
	if (lo.p > cp->lim_q)
		return 0;
	res->v = lo;
	res->wt = zero;
	hi = at_wt != NULL ? *at_wt : inval_plan_solve(cp, wt, 0);
	if (hi.p <= cp->lim_q) {
		res->v = hi;
		res->wt = *wt;
		return 0;
	}
	mid = zero;
	for (it = 0; it < MAX_SEARCH && lo.e > hi.e && lo.p < hi.p; it++) {
		mid.num = (double)hi.p - (double)lo.p;
		mid.den = (double)lo.e - (double)hi.e;
		m = inval_plan_solve(cp, &mid, 0);
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
	if (t_lo == 0 || inval_plan_solve(cp, &mid, t_lo).p > cp->lim_q)
		return 0;
	while (t_lo - t_hi > 1) {
		t = t_hi + (t_lo - t_hi) / 2;
		if (inval_plan_solve(cp, &mid, t).p <= cp->lim_q)
			t_lo = t;
		else
			t_hi = t;
	}
	m = inval_plan_solve(cp, &mid, t_lo);
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
	(void)inval_plan_layout(cp, 0, &work);
	if (work <= TRACK_BUDGET)
		return lim;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		cp->lim_k = mid;
		(void)inval_plan_layout(cp, 0, &work);
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
int
inval_plan_choose(struct costplan *cp, const struct weight *wt)
{
	struct weight	 zero = { 0, 1 };
	struct found	 best, f;
	struct val	 val;
	size_t		 work, d, best_d = 0, stale = 0, v, top, cap;
	int		 need_k, need_q, tie;

	need_k = cp->lim_k > 0 && cp->lim_k < cp->nd[cp->root].c;
	need_q = cp->lim_q > 0 && cp->lim_q < cp->nd[cp->root].c;

	if (inval_plan_set_mode(cp, 0, 0) == -1)
		return -1;
	val = inval_plan_solve(cp, wt, 0);
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
		if (inval_plan_set_mode(cp, 1, 0) == -1)
			return -1;
		val = inval_plan_solve(cp, wt, 0);
		if (!need_q || val.p <= cp->lim_q)
			goto done;
	}

	cp->track_k = need_k;
	cp->track_q = 1;
	(void)inval_plan_layout(cp, 0, &work);
	if (work <= EXACT_BUDGET) {
		if (inval_plan_set_mode(cp, need_k, 1) == -1)
			return -1;
		(void)inval_plan_solve(cp, wt, 0);
		goto done;
	}

	if (inval_plan_set_mode(cp, need_k, 0) == -1)
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
		(void)inval_plan_solve(cp, &f.wt, f.flip);
		inval_plan_reconstruct(cp);
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
	val = inval_plan_solve(cp, &best.wt, best.flip);
	if (val.p > cp->lim_q || (need_k && val.w > cp->lim_k)) {
		/* Cannot happen; but the limits are a promise. */
		cp->forbid = 0;
		val = inval_plan_solve(cp, &zero, 0);
	}
	inval_plan_reconstruct(cp);
	return fill(cp, wt, &val);
done:
	inval_plan_reconstruct(cp);
	return 0;
}
