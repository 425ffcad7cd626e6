/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_hex: hex digits read (every byte value against a model, spans,
 * decoding with a bad digit anywhere) and written in both cases.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hex.h"

static void
test_value_every_byte(void **state)
{
	static const char lower[] = "0123456789abcdef";
	static const char upper[] = "0123456789ABCDEF";
	const char	*p;
	int		 c, want;

	(void)state;
	for (c = 0; c < 256; c++) {
		want = -1;
		p = c != 0 ? strchr(lower, c) : NULL;
		if (p != NULL)
			want = (int)(p - lower);
		p = c != 0 ? strchr(upper, c) : NULL;
		if (p != NULL)
			want = (int)(p - upper);
		assert_int_equal(hex_value(c), want);
	}
	assert_int_equal(hex_value(-1), -1);
}

static const struct {
	const char	*s;
	size_t		 max;
	size_t		 want;
} spans[] = {
	{ "", 10, 0 },
	{ "0", 10, 1 },
	{ "09afAF", 10, 6 },
	{ "09afAFg", 10, 6 },
	{ "09afAF", 3, 3 },		/* no further than max */
	{ "12 34", 10, 2 },
	{ "x123", 10, 0 },
	{ "-1", 10, 0 },
	{ "abc", 0, 0 },
};

static void
test_span(void **state)
{
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(spans) / sizeof(spans[0]); i++)
		assert_int_equal(hex_span(spans[i].s, spans[i].max),
		    spans[i].want);
}

static const struct {
	const char	*s;
	size_t		 n;
	int		 rc;
	const char	*want;		/* n bytes when rc is 0 */
} decodes[] = {
	{ "", 0, 0, "" },
	{ "00ff7F80", 4, 0, "\x00\xff\x7f\x80" },
	{ "d41d8cd98f00b204e9800998ecf8427e", 16, 0,
	    "\xd4\x1d\x8c\xd9\x8f\x00\xb2\x04\xe9\x80\x09\x98\xec\xf8\x42"
	    "\x7e" },
	{ "0g", 1, -1, NULL },
	{ "g0", 1, -1, NULL },
	{ "00 1", 2, -1, NULL },
	{ "0", 1, -1, NULL },		/* the NUL is not a digit */
	{ "ab", 1, 0, "\xab" },
};

static void
test_decode(void **state)
{
	unsigned char	 out[16];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(decodes) / sizeof(decodes[0]); i++) {
		assert_int_equal(hex_decode(out, decodes[i].s, decodes[i].n),
		    decodes[i].rc);
		if (decodes[i].rc == 0)
			assert_memory_equal(out, decodes[i].want,
			    decodes[i].n);
	}
}

static void
test_encode(void **state)
{
	const unsigned char in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char		 out[2 * sizeof(in) + 1];
	unsigned char	 back[sizeof(in)];

	(void)state;
	memset(out, 'x', sizeof(out));
	hex_encode(out, in, sizeof(in));
	assert_string_equal(out, "00017f80abff");
	hex_encode_upper(out, in, sizeof(in));
	assert_string_equal(out, "00017F80ABFF");
	assert_int_equal(hex_decode(back, out, sizeof(back)), 0);
	assert_memory_equal(back, in, sizeof(in));
	hex_encode(out, in, 0);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_every_byte),
		cmocka_unit_test(test_span),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode),
	};

	return cmocka_run_group_tests_name("hex", tests, NULL, NULL);
}
