/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_plan: from the changed paths of one distribution to the
 * invalidation paths to submit (DESIGN §6).  Pure: no I/O, no globals;
 * deterministic (the same input in any order gives the same output).
 *
 * This planner: drop duplicates; drop paths covered by a wildcard of the
 * same input; collapse a folder to its wildcard ("folder/" then "*") when
 * at least wildcard_threshold distinct entries are directly in it (a file,
 * the folder's own "/folder/" path, a wildcard, or a subfolder that itself
 * collapsed), bottom-up, so the rule climbs the tree; the root collapses
 * to "/" "*" likewise.  Then, while more than max_paths paths remain,
 * merge the deepest folder holding two or more into its wildcard, and
 * likewise while more than max_wildcards wildcards remain (paths first:
 * merging paths may add a wildcard, merging wildcards never adds a path).
 * Every input path is always covered by the output.
 *
 * Paths are CloudFront paths as inval_map makes them: they start with '/',
 * and end in "*" only when they are wildcards.
 */
#ifndef S3I_INVAL_PLAN_H
#define S3I_INVAL_PLAN_H

#include <stddef.h>

#include "strvec.h"

struct inval_plan_params {
	unsigned	 wildcard_threshold;	/* >= 2 */
	unsigned	 max_wildcards;		/* 0 = no limit */
	unsigned	 max_paths;		/* 0 = no limit */
	/*
	 * Cost-aware planning, when known != NULL: every path the
	 * distribution serves now (sorted, unique; changed ones may or may
	 * not be among them).  The plan then minimises
	 *     billable paths + eviction_weight * needless evictions
	 * where a needless eviction is a known, unchanged path covered by a
	 * wildcard of the plan, by a dynamic programme over the folder tree:
	 * exact within max_wildcards; within max_paths exact while that is
	 * affordable, else a Lagrangian search never worse than the threshold
	 * rule.  Without known, the threshold rule above.
	 */
	const char *const *known;
	size_t		 n_known;
	double		 eviction_weight;	/* paths per needless eviction */
};

struct inval_plan_result {
	struct strvec	 paths;		/* sorted */
	size_t		 n_wildcards;
	size_t		 n_exact;
	size_t		 n_evicted;	/* known unchanged paths covered; 0
					 * without known */
};

/* Returns 0, or -1 when out of memory (result then empty). */
int	inval_plan(const struct inval_plan_params *, const char *const *paths,
	    size_t n, struct inval_plan_result *);
void	inval_plan_fini(struct inval_plan_result *);

/* 1 when pattern (exact, or a wildcard ending in '*') covers path. */
int	inval_plan_covers(const char *pattern, const char *path);

#endif
