/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_uri: percent-encoding both ways: RFC 3986 unreserved characters
 * kept, '/' kept in paths only, every other byte %XX in upper case; a
 * caller's own rule; decoding with bad escapes (nothing appended), only
 * len bytes read, NUL bytes kept; form decoding ('+' is a space).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "uri.h"

static const struct {
	const char	*in;
	size_t		 len;
	int		 keep_slash;
	const char	*want;
} encodes[] = {
	{ "", 0, 0, "" },
	{ "a/b c+~", 7, 1, "a/b%20c%2B~" },
	{ "a/b c+~", 7, 0, "a%2Fb%20c%2B~" },
	{ "\x00\x01\x7f\x80\xff", 5, 0, "%00%01%7F%80%FF" },
	{ "AZaz09-._~", 10, 0, "AZaz09-._~" },
	{ "!*'();:@&=+$,?#[]%", 18, 1,
	    "%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%3F%23%5B%5D%25" },
	{ "caf\xc3\xa9/x", 7, 1, "caf%C3%A9/x" },
	{ "abc", 2, 0, "ab" },		/* len bytes, no more */
};

static void
test_encode(void **state)
{
	struct buf	 b;
	size_t		 i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(encodes) / sizeof(encodes[0]); i++) {
		buf_reset(&b);
		buf_puts(&b, "<");
		assert_int_equal(uri_encode(&b, encodes[i].in, encodes[i].len,
		    encodes[i].keep_slash), 0);
		assert_string_equal(buf_str(&b) + 1, encodes[i].want);
		assert_int_equal(buf_str(&b)[0], '<');	/* appended */
	}
	buf_fini(&b);
}

/* A rule of the caller's: only the space and '*' are escaped. */
static int
space_star(unsigned char c)
{
	return c == ' ' || c == '*';
}

static void
test_encode_if(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b);
	assert_int_equal(uri_encode_if(&b, "a b*c/~%", 8, space_star), 0);
	assert_string_equal(buf_str(&b), "a%20b%2Ac/~%");
	buf_reset(&b);
	assert_int_equal(uri_encode_if(&b, "**", 2, space_star), 0);
	assert_string_equal(buf_str(&b), "%2A%2A");
	buf_fini(&b);
}

static const struct {
	const char	*in;
	size_t		 len;
	int		 rc;
	const char	*want;		/* decoded */
	size_t		 want_len;
	const char	*want_form;	/* form-decoded */
} decodes[] = {
	{ "", 0, 0, "", 0, "" },
	{ "a%2Fb+c%7e%41", 13, 0, "a/b+c~A", 7, "a/b c~A" },
	{ "%2B+%2b", 7, 0, "+++", 3, "+ +" },
	{ "%00", 3, 0, "\0", 1, "\0" },
	{ "%C3%A9", 6, 0, "\xc3\xa9", 2, "\xc3\xa9" },
	{ "x%41", 3, -1, NULL, 0, NULL },	/* only len bytes: "%4" */
	{ "%4g", 3, -1, NULL, 0, NULL },
	{ "ok%", 3, -1, NULL, 0, NULL },
	{ "a+b%zz", 6, -1, NULL, 0, NULL },	/* a bad escape anywhere */
	{ "%%41", 4, -1, NULL, 0, NULL },
};

static void
test_decode(void **state)
{
	struct buf	 b;
	size_t		 i;
	int		 form;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(decodes) / sizeof(decodes[0]); i++) {
		for (form = 0; form <= 1; form++) {
			buf_reset(&b);
			buf_puts(&b, "kept");
			assert_int_equal(form ? uri_decode_form(&b,
			    decodes[i].in, decodes[i].len) : uri_decode(&b,
			    decodes[i].in, decodes[i].len), decodes[i].rc);
			if (decodes[i].rc != 0) {
				/* A failed decode appends nothing. */
				assert_string_equal(buf_str(&b), "kept");
				continue;
			}
			assert_int_equal(b.len, 4 + decodes[i].want_len);
			assert_memory_equal(b.data + 4, form ?
			    decodes[i].want_form : decodes[i].want,
			    decodes[i].want_len);
		}
	}
	buf_fini(&b);
}

/* Decoding undoes encoding, for every byte value. */
static void
test_round_trip(void **state)
{
	struct buf	 enc, dec;
	char		 all[256];
	int		 i, slash;

	(void)state;
	for (i = 0; i < 256; i++)
		all[i] = (char)i;
	for (slash = 0; slash <= 1; slash++) {
		buf_init(&enc);
		buf_init(&dec);
		assert_int_equal(uri_encode(&enc, all, sizeof(all), slash), 0);
		assert_int_equal(uri_decode(&dec, buf_str(&enc), enc.len), 0);
		assert_int_equal(dec.len, sizeof(all));
		assert_memory_equal(dec.data, all, sizeof(all));
		buf_fini(&enc);
		buf_fini(&dec);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_if),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests_name("uri", tests, NULL, NULL);
}
