#include "ledger_cells.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "i18n.h"

#define NOT_A_DATE _("not a date: write 2020-03-01, 2020/3/1, 2020.3.1, 2020年3月1日")

/* Reads 1 to max digits at *p; returns the number or -1. */
static long digits(const char **p, int max)
{
	long v = 0;
	int n = 0;
	while (**p >= '0' && **p <= '9' && n < max) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n ? v : -1;
}

/* Skips sep at *p; returns 1 if it was there. */
static int skip(const char **p, const char *sep)
{
	size_t n = strlen(sep);
	if (strncmp(*p, sep, n))
		return 0;
	*p += n;
	return 1;
}

/* What may follow a date: nothing, or a time ("0:00", "00:00:00", "T00:00:00"). */
static int time_or_end(const char *p)
{
	if (*p == '\0')
		return 1;
	if (*p != ' ' && *p != 'T')
		return 0;
	p++;
	if (digits(&p, 2) < 0 || !skip(&p, ":") || digits(&p, 2) < 0)
		return 0;
	if (skip(&p, ":") && digits(&p, 2) < 0)
		return 0;
	return *p == '\0';
}

/* Excel's day 1 is 1900-01-01 and counts a 1900-02-29 that never was: day 25569 is 1970. */
static int excel_day(long n, char out[11])
{
	long z = n - 25569 + 719468; /* days since 0000-03-01 (civil_from_days) */
	long era = z / 146097, doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	long m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	return snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
			(unsigned)d % 100u) == 10
		   ? 0
		   : -1;
}

int cell_date(const char *s, char out[11], char *why, size_t size)
{
	const char *p = s;
	long y = digits(&p, 5), m = -1, d = -1;
	int ok = 0;
	if (y >= 0 && *p == '\0' && p - s == 5) {
		/* an Excel day number: 36526 is 2000-01-01, 73050 2099-12-31 */
		if (y < 36526 || y > 73050 || excel_day(y, out)) {
			snprintf(why, size, "%s", NOT_A_DATE);
			return -1;
		}
		return 0;
	}
	if (y >= 0 && p - s == 4) {
		if (skip(&p, "年")) {
			ok = (m = digits(&p, 2)) >= 0 && skip(&p, "月") &&
			     (d = digits(&p, 2)) >= 0 && (skip(&p, "日") || skip(&p, "号") || 1) &&
			     time_or_end(p);
		} else {
			char sep = *p;
			if (sep == '-' || sep == '/' || sep == '.') {
				p++;
				ok = (m = digits(&p, 2)) >= 0 && *p == sep && (p++, 1) &&
				     (d = digits(&p, 2)) >= 0 && time_or_end(p);
			}
		}
	}
	if (!ok || m > 99 || d > 99) {
		snprintf(why, size, "%s", NOT_A_DATE);
		return -1;
	}
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
		 (unsigned)d % 100u);
	struct date parsed;
	enum date_error e = date_parse(out, &parsed);
	if (e == DATE_IMPOSSIBLE) {
		snprintf(why, size, "%s", _("no such day"));
		return -1;
	}
	if (e != DATE_OK) {
		snprintf(why, size, _("not a date from %d to %d"), DATE_YEAR_MIN, DATE_YEAR_MAX);
		return -1;
	}
	return 0;
}

int cell_integer(const char *s, int64_t min, int64_t max, int64_t *out, char *why, size_t size)
{
	char plain[64];
	size_t n = 0;
	for (const char *p = s; *p; p++) {
		if (*p == ',' && p > s && p[1] >= '0' && p[1] <= '9')
			continue;
		if (n + 1 == sizeof(plain))
			break;
		plain[n++] = *p;
	}
	plain[n] = '\0';
	/* Excel may write a whole number as 12.0 or 12.00 */
	char *dot = strchr(plain, '.');
	if (dot && dot[1] && strspn(dot + 1, "0") == strlen(dot + 1))
		*dot = '\0';
	char *end;
	errno = 0;
	long long v = strtoll(plain, &end, 10);
	if (plain[0] == '\0' || *end || errno || plain[0] == '+' || plain[0] == ' ') {
		snprintf(why, size, "%s", _("not a whole number"));
		return -1;
	}
	if (v < min || v > max) {
		snprintf(why, size, _("not a whole number from %lld to %lld"), (long long)min,
			 (long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int cell_year(const char *s, int *out, char *why, size_t size)
{
	const char *p = s;
	long y = digits(&p, 4);
	int four = p - s == 4;
	skip(&p, "年");
	skip(&p, "度");
	if (y < 0 || !four || *p || y < DATE_YEAR_MIN || y > DATE_YEAR_MAX) {
		snprintf(why, size, _("not a year from %d to %d"), DATE_YEAR_MIN, DATE_YEAR_MAX);
		return -1;
	}
	*out = (int)y;
	return 0;
}
