/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strvec: a growable vector of owned, NUL-terminated strings, with a sort
 * that drops duplicates.
 *
 * The caller owns the struct; the vector owns every string in it, and
 * strvec_fini() frees them all.  No I/O, no globals, not thread-safe: one
 * owner at a time.  It knows nothing of what the strings are (keys, paths):
 * that is its callers' business.
 */
#ifndef S3I_STRVEC_H
#define S3I_STRVEC_H

#include <stddef.h>

struct strvec {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

void	strvec_init(struct strvec *);
void	strvec_fini(struct strvec *);		/* accepts NULL */
int	strvec_push(struct strvec *, const char *);	/* copies */
int	strvec_push_take(struct strvec *, char *);	/* takes; frees on -1 */
/* Sort (strcmp) and drop duplicates. */
void	strvec_sort_unique(struct strvec *);

#endif
