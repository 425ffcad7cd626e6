/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_buf: the growable string buffer: appends, printf growth, take,
 * reset and wipe, and the "" and NUL-termination guarantees.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void
test_init_empty(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_true(buf_ok(&b));
	assert_string_equal(buf_str(&b), "");
	buf_fini(&b);
	buf_fini(NULL);
	buf_wipe(NULL);
}

static void
test_append(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_int_equal(buf_puts(&b, "def"), 0);
	assert_int_equal(buf_putc(&b, 'g'), 0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(b.len, 7);
	assert_string_equal(buf_str(&b), "abcdefg");
	assert_true(b.cap > b.len);

	/* Embedded NUL bytes are data; the buffer stays NUL-terminated. */
	assert_int_equal(buf_append(&b, "x\0y", 3), 0);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "abcdefgx\0y", 11);
	assert_true(buf_ok(&b));
	buf_fini(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void
test_append_growth(void **state)
{
	struct buf	 b;
	size_t		 i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < 10000; i++)
		assert_int_equal(buf_putc(&b, (char)('a' + i % 26)), 0);
	assert_int_equal(b.len, 10000);
	assert_int_equal(strlen(buf_str(&b)), 10000);
	for (i = 0; i < 10000; i++)
		assert_int_equal(b.data[i], 'a' + i % 26);
	buf_fini(&b);
}

static void
test_printf(void **state)
{
	struct buf	 b;
	char		 big[1000];
	size_t		 cap;

	(void)state;
	buf_init(&b);
	assert_int_equal(buf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_string_equal(buf_str(&b), "42-x");
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_string_equal(buf_str(&b), "42-x");

	/* One call far larger than the first allocation. */
	cap = b.cap;
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_printf(&b, "[%s]%zu", big, sizeof(big)), 0);
	assert_true(b.cap > cap);
	assert_int_equal(b.len, 4 + 1 + 999 + 1 + 4);
	assert_memory_equal(b.data, "42-x[zzz", 8);
	assert_string_equal(b.data + b.len - 5, "]1000");
	assert_int_equal(strlen(buf_str(&b)), b.len);
	buf_fini(&b);
}

static void
test_take(void **state)
{
	struct buf	 b;
	char		*s;

	(void)state;
	buf_init(&b);
	buf_puts(&b, "hello");
	s = buf_take(&b);
	assert_non_null(s);
	assert_string_equal(s, "hello");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);

	/* Taking an empty buffer still gives a string the caller frees. */
	s = buf_take(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);

	/* The buffer is usable again after a take. */
	buf_puts(&b, "again");
	assert_string_equal(buf_str(&b), "again");
	buf_fini(&b);
}

static void
test_reset(void **state)
{
	struct buf	 b;
	char		*data;
	size_t		 cap;

	(void)state;
	buf_init(&b);
	buf_reset(&b);
	assert_string_equal(buf_str(&b), "");
	buf_puts(&b, "some text");
	data = b.data;
	cap = b.cap;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	buf_puts(&b, "new");
	assert_string_equal(buf_str(&b), "new");
	buf_fini(&b);
}

static void
test_wipe(void **state)
{
	struct buf	 b;

	(void)state;
	buf_init(&b);
	buf_puts(&b, "secret-key-material");
	buf_wipe(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_true(buf_ok(&b));
	/* Wiping an empty buffer is fine, and so is reuse. */
	buf_wipe(&b);
	buf_puts(&b, "x");
	assert_string_equal(buf_str(&b), "x");
	buf_wipe(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_empty),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_append_growth),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_wipe),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
