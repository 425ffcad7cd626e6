/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ascii: the byte classes and case of protocol text (HTTP field names and
 * whitespace, header names compared case-insensitively), the same in every
 * locale, unlike <ctype.h>.  Pure; thread-safe.  Bytes of 0x80 and above
 * are never letters here.
 */
#ifndef S3I_ASCII_H
#define S3I_ASCII_H

/* 'A'-'Z' to 'a'-'z'; any other byte as it is. */
unsigned char ascii_lower(unsigned char c);

/* RFC 9110 §5.6.2 tchar: the alphabet of a token, so of a field name. */
int	ascii_is_tchar(unsigned char c);

/* RFC 9110 §5.6.3 OWS: a space or a horizontal tab. */
int	ascii_is_ows(unsigned char c);

#endif
