/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ascii: see ascii.h.
 */
#include "config.h"

#include <string.h>

#include "ascii.h"

unsigned char
ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

int
ascii_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int
ascii_is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}
