/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inval_plan_rule: the threshold rule (inval_plan.h), private to the
 * inval_plan_*.c files.
 */
#ifndef S3I_INVAL_PLAN_RULE_H
#define S3I_INVAL_PLAN_RULE_H

#include <stddef.h>

#include "inval_plan.h"
#include "inval_plan_span.h"

/* The plan of the pruned, sorted paths items[0..m), appended to res (par
 * may be NULL).  Returns -1 when out of memory. */
int	inval_plan_rule(const struct inval_plan_params *,
	    const struct span *items, size_t m, struct inval_plan_result *);

#endif
