/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_plan_cost: the cost-aware planner's folder tree and dynamic
 * programme (inval_plan_cost.c), shared with the search that chooses
 * which passes to run (inval_plan_search.c).  Private to the
 * inval_plan_*.c files.
 */
#ifndef S3I_INVAL_PLAN_COST_H
#define S3I_INVAL_PLAN_COST_H

#include <stddef.h>
#include <stdint.h>

#include "inval_plan.h"
#include "inval_plan_span.h"

#define NOSOL		UINT32_MAX	/* val.p of an entry with no plan */

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
	uint32_t	 akd, aqd;	/* its parent's table, it merged */
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
	unsigned	*split_k, *split_q; /* per merge bucket: the child's */
	struct val	*acc[2];		/* a folder's, while merging */
};

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

/* The cost-aware plan of the pruned, sorted changed entries ch[0..m),
 * appended to res.  Returns -1 when out of memory. */
int	inval_plan_cost(const struct inval_plan_params *,
	    const struct span *ch, size_t m, struct inval_plan_result *);

/* inval_plan_cost.c: one pass of the programme and what it needs. */
int	inval_plan_layout(struct costplan *, int alloc, size_t *work);
int	inval_plan_set_mode(struct costplan *, int track_k, int track_q);
struct val inval_plan_solve(struct costplan *, const struct weight *,
	    size_t flip);
void	inval_plan_reconstruct(struct costplan *);

/* inval_plan_search.c: the plan chosen and marked in the nodes.  Returns
 * -1 when out of memory. */
int	inval_plan_choose(struct costplan *, const struct weight *);

#endif
