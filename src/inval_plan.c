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
 * The planners: the threshold rule (inval_plan_rule.c) without known
 * paths, the cost-aware planner (inval_plan_cost.c, inval_plan_search.c)
 * with them; both on the paths sorted and pruned (inval_plan_span.c).
 * This file is the entry point.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "inval_plan.h"
#include "inval_plan_cost.h"
#include "inval_plan_rule.h"
#include "inval_plan_span.h"

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

	items = inval_plan_spans(paths, n, &m);
	if (items == NULL)
		goto out;
	m = inval_plan_prune(items, m);
	if (m == NONE)
		goto out;
	if (par != NULL && par->known != NULL) {
		if (inval_plan_cost(par, items, m, res) == -1)
			goto out;
	} else if (inval_plan_rule(par, items, m, res) == -1)
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
