/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ascii: every byte value's case and class against the RFC's own
 * lists, in a locale where <ctype.h> would say otherwise.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <string.h>

#include "ascii.h"

/* RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static const char tchars[] =
    "!#$%&'*+-.^_`|~0123456789"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char lower[] = "abcdefghijklmnopqrstuvwxyz";

static void
test_every_byte(void **state)
{
	const char	*p;
	int		 c, want;

	(void)state;
	/* A locale with more letters than ASCII's must change nothing. */
	(void)setlocale(LC_ALL, "C.UTF-8");
	for (c = 0; c < 256; c++) {
		p = c != 0 ? strchr(upper, c) : NULL;
		want = p != NULL ? lower[p - upper] : c;
		assert_int_equal(ascii_lower((unsigned char)c), want);
		want = c != 0 && strchr(tchars, c) != NULL;
		assert_int_equal(ascii_is_tchar((unsigned char)c), want);
		want = c == ' ' || c == '\t';
		assert_int_equal(ascii_is_ows((unsigned char)c), want);
	}
	(void)setlocale(LC_ALL, "C");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte),
	};

	return cmocka_run_group_tests_name("ascii", tests, NULL, NULL);
}
