/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hex: hexadecimal digits, read and written.  Pure: no I/O, no globals,
 * no locale (isxdigit() would follow one); thread-safe.  It knows nothing
 * of what the digits stand for (digests, sizes, ETags, escapes): that is
 * its callers' business.
 */
#ifndef S3I_HEX_H
#define S3I_HEX_H

#include <stddef.h>

/* The value of hex digit c (either case), or -1 when c is not one. */
int	hex_value(int c);

/* How many of the first max bytes of s are hex digits, from the start
 * (a NUL stops it). */
size_t	hex_span(const char *s, size_t max);

/* 2 * n hex digits at s (either case) into n bytes.  Returns 0, or -1
 * when one is not a hex digit (out then undefined). */
int	hex_decode(unsigned char *out, const char *s, size_t n);

/* len bytes as 2 * len hex digits and a NUL: lower case (SigV4, digests),
 * or upper case (percent-escapes, request ids). */
void	hex_encode(char *out, const void *in, size_t len);
void	hex_encode_upper(char *out, const void *in, size_t len);

#endif
