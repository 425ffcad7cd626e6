/* SPDX-License-Identifier: Apache-2.0 */
/* jstr: see jstr.h. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "jstr.h"
#include "util.h"

int
jstr_utf8(struct buf *b, const char *s)
{
	const char	*run = s;
	uint32_t	 cp;
	size_t		 n;

	while (*s != '\0') {
		n = util_utf8_next(s, &cp);
		if (n > 0) {
			s += n;
			continue;
		}
		buf_append(b, run, (size_t)(s - run));
		buf_printf(b, "\\x%02x", (unsigned char)*s);
		run = ++s;
	}
	buf_append(b, run, (size_t)(s - run));
	return buf_ok(b) ? 0 : -1;
}

json_t *
jstr_new(const char *s)
{
	struct buf	 b;
	json_t		*j = NULL;

	if (s == NULL)
		s = "";
	buf_init(&b);
	if (jstr_utf8(&b, s) == 0)
		j = json_stringn(b.data != NULL ? b.data : "", b.len);
	buf_fini(&b);
	return j;
}

static int
append(const char *s, size_t n, void *arg)
{
	return buf_append(arg, s, n);
}

int
jstr_dump(struct buf *b, const json_t *v)
{
	if (v == NULL || json_dump_callback(v, append, b, JSON_COMPACT |
	    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) == -1)
		return -1;
	return buf_ok(b) ? 0 : -1;
}
