/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jstr: text from outside (object keys, messages that quote them) made
 * into JSON strings, the one rule for every JSON s3inval writes through
 * jansson (the JSON log, plan --json, /status and /flush).
 *
 * jansson writes JSON that parsers accept (control characters as \u00XX,
 * quotes and backslashes escaped) but refuses invalid UTF-8 outright:
 * json_string() returns NULL.  A key is bytes, and S3 requests can carry
 * any (a raw %FF in a path), so invalid UTF-8 is not refused here but
 * escaped deliberately: each byte that is not part of a well-formed
 * sequence (util_utf8_next()) becomes the four characters \xhh (lower-case
 * hex), as the text log writes control bytes.  Valid text, controls
 * included, is kept exactly: a parser gives back the same string.
 *
 * Pure and thread-safe.
 */
#ifndef S3I_JSTR_H
#define S3I_JSTR_H

#include <jansson.h>

#include "buf.h"

/* Append s to b, invalid UTF-8 bytes as \xHH.  Returns 0 or -1 (memory). */
int	jstr_utf8(struct buf *, const char *s);

/* A new JSON string of s (NULL: ""), as above; NULL when out of memory. */
json_t	*jstr_new(const char *s);

/* Append v as compact JSON, keys in the order they were set.  NULL v (a
 * json_pack() that failed) and a full buffer are -1. */
int	jstr_dump(struct buf *, const json_t *v);

#endif
