/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_plan_cost: the cost-aware planner (inval_plan.h: params->known):
 * the folder tree of the changed and known paths, one pass of the dynamic
 * programme over it, and the plan read back out.  Which passes to run,
 * and the Lagrangian search when exact ones cost too much, are
 * inval_plan_search.c's.
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
 * eviction weight as the multiplier (inval_plan_search.c); its plan
 * keeps both limits, costs no more than the threshold rule's plan
 * (compared, rival()), but is not proven optimal.  Each pass is exact given its
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

#include "inval_plan_cost.h"
#include "inval_plan_rule.h"

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
			    (nwp > 0 && inval_plan_covered(wp, nwp, p)))
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
int
inval_plan_layout(struct costplan *cp, int alloc, size_t *work)
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

int
inval_plan_set_mode(struct costplan *cp, int track_k, int track_q)
{
	size_t	 work;

	cp->track_k = track_k;
	cp->track_q = track_q;
	return inval_plan_layout(cp, 1, &work);
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
struct val
inval_plan_solve(struct costplan *cp, const struct weight *wt, size_t flip)
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
void
inval_plan_reconstruct(struct costplan *cp)
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
	if (inval_plan_rule(par, ch, m, &t) == -1)
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
int
inval_plan_cost(const struct inval_plan_params *par, const struct span *ch,
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
	kn = inval_plan_spans(par->known, par->n_known, &nk);
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
	nwp = inval_plan_wild_prefixes(ch, m, wp);
	walked = cbuild(&cp, ch, m, kn, nk, wp, nwp);
	if (walked == 1) {
		/* Known paths out of order: sort them, walk again. */
		cp.n_nd = cp.n_fr = cp.max_depth = 0;
		cp.root = NONE;
		if (inval_plan_sort_unique(kn, &nk) == -1)
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
		if (inval_plan_choose(&cp, &wt) == -1)
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
