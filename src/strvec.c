/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strvec: see strvec.h.  Capacity doubles from 8; a push that would
 * overflow size_t fails like an allocation.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "strvec.h"

void
strvec_init(struct strvec *sv)
{
	sv->v = NULL;
	sv->n = 0;
	sv->cap = 0;
}

void
strvec_fini(struct strvec *sv)
{
	size_t	 i;

	if (sv == NULL)
		return;
	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	strvec_init(sv);
}

int
strvec_push_take(struct strvec *sv, char *s)
{
	char	**v;
	size_t	  cap;

	if (s == NULL)
		return -1;
	if (sv->n == sv->cap) {
		cap = sv->cap ? sv->cap : 8;
		if (cap > ((size_t)-1) / 2 / sizeof(*v)) {
			free(s);
			return -1;
		}
		cap *= 2;
		v = realloc(sv->v, cap * sizeof(*v));
		if (v == NULL) {
			free(s);
			return -1;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	return 0;
}

int
strvec_push(struct strvec *sv, const char *s)
{
	char	*copy;
	size_t	 len;

	len = strlen(s);
	copy = malloc(len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, s, len + 1);
	return strvec_push_take(sv, copy);
}

static int
cmp_str(const void *a, const void *b)
{
	const char *const	*sa = a, *const *sb = b;

	return strcmp(*sa, *sb);
}

void
strvec_sort_unique(struct strvec *sv)
{
	size_t	 i, j;

	if (sv->n < 2)
		return;
	qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
	j = 1;
	for (i = 1; i < sv->n; i++) {
		if (strcmp(sv->v[i], sv->v[j - 1]) == 0)
			free(sv->v[i]);
		else
			sv->v[j++] = sv->v[i];
	}
	sv->n = j;
}
