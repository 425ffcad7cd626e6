/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uri: see uri.h.  Unencoded runs are appended whole, not byte by byte.
 */
#include "config.h"

#include <stddef.h>

#include "buf.h"
#include "hex.h"
#include "uri.h"

/* RFC 3986 §2.3 unreserved: the set SigV4 leaves as is. */
static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

static int
escape_segment(unsigned char c)
{
	return !is_unreserved(c);
}

static int
escape_path(unsigned char c)
{
	return c != '/' && !is_unreserved(c);
}

int
uri_encode_if(struct buf *b, const char *s, size_t len,
    int (*escape)(unsigned char))
{
	size_t		 i, run;
	unsigned char	 c;
	char		 esc[4];

	run = 0;		/* start of the pending unencoded run */
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (!escape(c))
			continue;
		if (i > run)
			buf_append(b, s + run, i - run);
		esc[0] = '%';
		hex_encode_upper(esc + 1, &c, 1);
		buf_append(b, esc, 3);
		run = i + 1;
	}
	if (len > run)
		buf_append(b, s + run, len - run);
	return buf_ok(b) ? 0 : -1;
}

int
uri_encode(struct buf *b, const char *s, size_t len, int keep_slash)
{
	return uri_encode_if(b, s, len,
	    keep_slash ? escape_path : escape_segment);
}

static int
decode(struct buf *b, const char *s, size_t len, int plus_is_space)
{
	size_t		 i, run;
	unsigned char	 c;

	/* Check every escape first, so a bad one appends nothing. */
	for (i = 0; i < len; i++) {
		if (s[i] != '%')
			continue;
		if (len - i < 3 || hex_value((unsigned char)s[i + 1]) < 0 ||
		    hex_value((unsigned char)s[i + 2]) < 0)
			return -1;
		i += 2;
	}

	run = 0;
	for (i = 0; i < len; i++) {
		if (s[i] != '%' && !(s[i] == '+' && plus_is_space))
			continue;
		if (i > run)
			buf_append(b, s + run, i - run);
		if (s[i] == '+') {
			buf_putc(b, ' ');
			run = i + 1;
			continue;
		}
		c = (unsigned char)(hex_value((unsigned char)s[i + 1]) << 4 |
		    hex_value((unsigned char)s[i + 2]));
		buf_append(b, &c, 1);
		i += 2;
		run = i + 1;
	}
	if (len > run)
		buf_append(b, s + run, len - run);
	return buf_ok(b) ? 0 : -1;
}

int
uri_decode(struct buf *b, const char *s, size_t len)
{
	return decode(b, s, len, 0);
}

int
uri_decode_form(struct buf *b, const char *s, size_t len)
{
	return decode(b, s, len, 1);
}
