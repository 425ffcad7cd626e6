/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hex: see hex.h.
 */
#include "config.h"

#include <stddef.h>

#include "hex.h"

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t
hex_span(const char *s, size_t max)
{
	size_t	 i;

	for (i = 0; i < max && hex_value((unsigned char)s[i]) >= 0; i++)
		;
	return i;
}

int
hex_decode(unsigned char *out, const char *s, size_t n)
{
	size_t	 i;
	int	 hi, lo;

	for (i = 0; i < n; i++) {
		/* The second digit is read only after the first: a NUL
		 * ends a short string there. */
		hi = hex_value((unsigned char)s[2 * i]);
		if (hi < 0)
			return -1;
		lo = hex_value((unsigned char)s[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void
encode(char *out, const unsigned char *in, size_t len, const char *digits)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

void
hex_encode(char *out, const void *in, size_t len)
{
	encode(out, in, len, hex_lower);
}

void
hex_encode_upper(char *out, const void *in, size_t len)
{
	encode(out, in, len, hex_upper);
}
