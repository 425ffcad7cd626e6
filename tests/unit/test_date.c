/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_date: calendar arithmetic against known days (Python's datetime
 * for the years it knows, then year 0 and before), every day of 3,600
 * years there and back, leap years, month lengths, and fixed-width
 * decimal fields.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "date.h"

static const struct {
	int64_t		 y;
	int		 m, d;
	int64_t		 days;
} known[] = {
	{ 1970, 1, 1, 0 },
	{ 1969, 12, 31, -1 },
	{ 2000, 3, 1, 11017 },
	{ 2013, 5, 24, 15849 },		/* the AWS streaming examples */
	{ 2024, 2, 29, 19782 },
	{ 1600, 2, 29, -135081 },
	{ 1, 1, 1, -719162 },
	{ 0, 12, 31, -719163 },		/* year 0 is a leap year */
	{ 0, 1, 1, -719528 },
	{ -1, 12, 31, -719529 },
	{ 9999, 12, 31, 2932896 },
};

static void
test_known_days(void **state)
{
	int64_t		 y;
	size_t		 i;
	int		 m, d;

	(void)state;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		assert_int_equal(date_days_from_civil(known[i].y, known[i].m,
		    known[i].d), known[i].days);
		date_civil_from_days(known[i].days, &y, &m, &d);
		assert_int_equal(y, known[i].y);
		assert_int_equal(m, known[i].m);
		assert_int_equal(d, known[i].d);
	}
}

/* Every day from -800-01-01 to 2799-12-31 (nine 400-year eras, year 0
 * among them): there and back, and each the day after the one before. */
static void
test_every_day(void **state)
{
	int64_t		 days, y, py = -801;
	int		 m, d, pm = 12, pd = 31;

	(void)state;
	for (days = date_days_from_civil(-800, 1, 1);
	    days <= date_days_from_civil(2799, 12, 31); days++) {
		date_civil_from_days(days, &y, &m, &d);
		assert_int_equal(date_days_from_civil(y, m, d), days);
		assert_true(m >= 1 && m <= 12);
		assert_true(d >= 1 && d <= date_days_in_month(y, m));
		if (d > 1)
			assert_true(y == py && m == pm && d == pd + 1);
		else if (m > 1)
			assert_true(y == py && m == pm + 1 &&
			    pd == date_days_in_month(py, pm));
		else
			assert_true(y == py + 1 && pm == 12 && pd == 31);
		py = y;
		pm = m;
		pd = d;
	}
}

static void
test_leap_and_months(void **state)
{
	(void)state;
	assert_true(date_is_leap(2000));
	assert_true(date_is_leap(2024));
	assert_true(date_is_leap(0));
	assert_true(date_is_leap(-4));
	assert_false(date_is_leap(1900));
	assert_false(date_is_leap(2023));
	assert_false(date_is_leap(2100));
	assert_int_equal(date_days_in_month(2024, 2), 29);
	assert_int_equal(date_days_in_month(2023, 2), 28);
	assert_int_equal(date_days_in_month(1900, 2), 28);
	assert_int_equal(date_days_in_month(2023, 1), 31);
	assert_int_equal(date_days_in_month(2023, 4), 30);
	assert_int_equal(date_days_in_month(2023, 12), 31);
}

static const struct {
	const char	*s;
	int		 n;
	int		 want;
} fields[] = {
	{ "2024", 4, 2024 },
	{ "20240", 4, 2024 },		/* n digits, no more */
	{ "007", 3, 7 },
	{ "", 0, 0 },
	{ "20a4", 4, -1 },
	{ "12", 3, -1 },		/* the NUL is not a digit */
	{ "-1", 2, -1 },
	{ " 1", 2, -1 },
	{ "+1", 2, -1 },
	{ "99", 2, 99 },
};

static void
test_digits(void **state)
{
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		assert_int_equal(date_digits(fields[i].s, fields[i].n),
		    fields[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_days),
		cmocka_unit_test(test_every_day),
		cmocka_unit_test(test_leap_and_months),
		cmocka_unit_test(test_digits),
	};

	return cmocka_run_group_tests_name("date", tests, NULL, NULL);
}
