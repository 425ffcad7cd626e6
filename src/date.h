/* SPDX-License-Identifier: Apache-2.0 */
/*
 * date: calendar arithmetic, proleptic Gregorian, UTC, and the fixed-width
 * decimal fields dates are written in.  Pure: no clock, no libc time zone
 * (timegm() is not C11 and mktime() follows TZ); thread-safe.  Parsing a
 * whole date format (SigV4's X-Amz-Date, ISO 8601) is its callers'
 * business: they take fields with date_digits() and count days here.
 */
#ifndef S3I_DATE_H
#define S3I_DATE_H

#include <stdint.h>

int	date_is_leap(int64_t y);
/* Days in month m (1 to 12) of year y: 28 to 31. */
int	date_days_in_month(int64_t y, int m);

/* Days from 1970-01-01 to y-m-d (negative before it), and back. */
int64_t	date_days_from_civil(int64_t y, int m, int d);
void	date_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* The n decimal digits at s as a number, or -1 when one is not a digit
 * (a NUL included: a short string stops there). */
int	date_digits(const char *s, int n);

#endif
