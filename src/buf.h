/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf: a growable, always NUL-terminated byte buffer.
 *
 * Errors are sticky: after an allocation failure every further append is a
 * no-op and buf_ok() returns 0, so callers may build a whole string and check
 * once.  The caller owns the storage; buf_fini() frees it, buf_take() hands
 * it over.  Not thread-safe: one owner at a time.
 */
#ifndef S3I_BUF_H
#define S3I_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* NUL-terminated when len > 0 or after init */
	size_t	 len;
	size_t	 cap;
	int	 oom;		/* sticky allocation failure */
};

void	 buf_init(struct buf *);
void	 buf_fini(struct buf *);
void	 buf_reset(struct buf *);	/* len = 0, keeps storage */
void	 buf_wipe(struct buf *);	/* zero the bytes, then fini (secrets) */
int	 buf_ok(const struct buf *);
int	 buf_append(struct buf *, const void *, size_t);
int	 buf_puts(struct buf *, const char *);
int	 buf_putc(struct buf *, char);
/* Room for n more bytes without another allocation. */
int	 buf_reserve(struct buf *, size_t n);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
char	*buf_take(struct buf *);	/* caller frees; buf is reset */
const char *buf_str(const struct buf *);	/* "" when empty */

#endif
