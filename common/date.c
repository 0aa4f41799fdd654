#include "date.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

enum date_error date_parse(const char *s, struct date *out)
{
	if (s == NULL)
		return DATE_MALFORMED;
	for (int i = 0; i < 10; i++)
		if (s[i] == '\0')
			return DATE_MALFORMED;
	if (s[10] != '\0' || s[4] != '-' || s[7] != '-')
		return DATE_MALFORMED;
	int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	if (y < 0 || m < 0 || d < 0)
		return DATE_MALFORMED;
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return DATE_IMPOSSIBLE;
	if (y < DATE_YEAR_MIN || y > DATE_YEAR_MAX)
		return DATE_OUT_OF_RANGE;
	out->year = y;
	out->day = days_from_civil(y, m, d);
	return DATE_OK;
}

/*
 * The inverse of days_from_civil (H. Hinnant's civil_from_days), in 64 bits: any day an index
 * key can hold (a damaged store's too) has a year, if a strange one, and no overflow.
 */
void date_civil(int day, int *y, int *m, int *d)
{
	long long z = (long long)day + 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

void date_format(int day, char *buf, size_t size)
{
	int y, m, d;
	date_civil(day, &y, &m, &d);
	snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
}

int date_weekday(int day)
{
	/* 1970-01-01 was a Thursday */
	return day >= -4 ? (day + 4) % 7 : (day + 5) % 7 + 6;
}

const char *date_strerror(enum date_error e)
{
	switch (e) {
	case DATE_OK:
		return "valid date";
	case DATE_MALFORMED:
		return "malformed date (want YYYY-MM-DD)";
	case DATE_IMPOSSIBLE:
		return "impossible date";
	case DATE_OUT_OF_RANGE:
		return "date out of range (2000-01-01 to 2099-12-31)";
	}
	return "bad date";
}
