/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uri: percent-encoding (RFC 3986 §2.1), both ways.  Pure: no I/O, no
 * globals; thread-safe.  Text is appended to a caller's struct buf
 * (sticky on no memory, see buf.h).
 *
 * Which bytes stay as they are depends on where the text goes, and that
 * is the caller's to say: uri_encode() keeps RFC 3986's unreserved
 * characters (A-Z a-z 0-9 - . _ ~), as SigV4 and S3 require; a caller
 * with another rule (CloudFront paths: inval_map.c) passes its own test
 * to uri_encode_if().  Escapes are written with upper-case hex digits.
 */
#ifndef S3I_URI_H
#define S3I_URI_H

#include <stddef.h>

#include "buf.h"

/*
 * Percent-encode len bytes of s: RFC 3986 unreserved characters stay,
 * every other byte becomes %XX.  '/' stays when keep_slash is set (a
 * path), is encoded otherwise (a query name or value).  Returns 0, or -1
 * when out of memory.
 */
int	uri_encode(struct buf *, const char *s, size_t len, int keep_slash);

/* The same with the caller's rule: each byte c for which escape(c) is
 * non-zero becomes %XX, the others stay. */
int	uri_encode_if(struct buf *, const char *s, size_t len,
	    int (*escape)(unsigned char));

/*
 * Percent-decode len bytes of s ("%2F" -> "/"; '+' stays '+': RFC 3986).
 * Returns 0, or -1 on a malformed escape (a '%' not followed by two hex
 * digits: then nothing is appended) or when out of memory.  A decoded NUL
 * byte is kept: callers that need a C string check for one.
 */
int	uri_decode(struct buf *, const char *s, size_t len);

/* The same for form encoding (application/x-www-form-urlencoded, and S3
 * listings with EncodingType url): '+' is a space, a literal '+' is
 * %2B. */
int	uri_decode_form(struct buf *, const char *s, size_t len);

#endif
