#include "calendar.h"

#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "error.h"

#define YEARS (DATE_YEAR_MAX - DATE_YEAR_MIN + 1)

enum day_kind { DAY_DEFAULT, DAY_OFF, DAY_WORK };

/* One byte per day from DATE_YEAR_MIN to DATE_YEAR_MAX: 36,525 bytes, so a lookup is an index. */
struct calendar {
	int first_day;
	uint8_t covered[YEARS];
	char notice[YEARS][CALENDAR_NOTICE_MAX];
	uint8_t kind[YEARS * 366];
	/* derived from covered and kind, so that a lookup is one byte: WORKING_* */
	uint8_t working[YEARS * 366];
	/*
	 * Working days and uncovered days from first_day up to each day, inclusive, and the day
	 * (from first_day) of the k-th working day, nth[k]: a count over a span is one subtraction
	 * and the day n working days on one lookup (every open application's due date is computed
	 * on each write and each listing).
	 */
	int32_t worked[YEARS * 366], uncovered[YEARS * 366], nth[YEARS * 366 + 1];
};

enum { WORKING_UNCOVERED, WORKING_NO, WORKING_YES };

/* Fills working from covered and kind (after every change of them). */
static void derive(struct calendar *cal)
{
	struct date last;
	date_parse("2099-12-31", &last);
	for (int day = cal->first_day; day <= last.day; day++) {
		int y, m, d, i = day - cal->first_day;
		date_civil(day, &y, &m, &d);
		int wd = date_weekday(day);
		if (!cal->covered[y - DATE_YEAR_MIN])
			cal->working[i] = WORKING_UNCOVERED;
		else if (cal->kind[i] == DAY_OFF)
			cal->working[i] = WORKING_NO;
		else if (cal->kind[i] == DAY_WORK || (wd != 0 && wd != 6))
			cal->working[i] = WORKING_YES;
		else
			cal->working[i] = WORKING_NO;
		cal->worked[i] = (i ? cal->worked[i - 1] : 0) + (cal->working[i] == WORKING_YES);
		if (cal->working[i] == WORKING_YES)
			cal->nth[cal->worked[i]] = i;
		cal->uncovered[i] =
		    (i ? cal->uncovered[i - 1] : 0) + (cal->working[i] == WORKING_UNCOVERED);
	}
}

struct calendar *calendar_empty(void)
{
	struct calendar *cal = calloc(1, sizeof(*cal));
	struct date d;
	if (cal == NULL)
		return NULL;
	date_parse("2000-01-01", &d);
	cal->first_day = d.day;
	return cal;
}

void calendar_free(struct calendar *cal)
{
	free(cal);
}

struct load {
	struct calendar *cal;
	int failed;
	uint8_t seen[YEARS]; /* sections met in this file */
	int year;	     /* of the current section, 0 before the first */
	char reason[160];
};

/* inih goes on after an error but returns the first one's line: keep the first reason */
static int fail(struct load *l, int line, const char *fmt, ...)
{
	(void)line;
	if (l->failed)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->reason, sizeof(l->reason), fmt, ap);
	va_end(ap);
	l->failed = 1;
	return 0;
}

/* A date of the section's year at the start of s; *rest after it. */
static int day_of(struct load *l, int line, const char *s, const char **rest, int *day)
{
	char buf[11];
	struct date d;
	if (strlen(s) < 10)
		return fail(l, line, "%.40s: not a date YYYY-MM-DD", s), -1;
	memcpy(buf, s, 10);
	buf[10] = '\0';
	enum date_error e = date_parse(buf, &d);
	if (e != DATE_OK)
		return fail(l, line, "%s: %s", buf, date_strerror(e)), -1;
	if (d.year != l->year)
		return fail(l, line, "%s: not in the section's year %d", buf, l->year), -1;
	*rest = s + 10;
	*day = d.day;
	return 0;
}

static int handle(void *user, const char *section, const char *name, const char *value)
{
	const int line = 0; /* inih returns the line of the first error */
	struct load *l = user;
	struct calendar *cal = l->cal;
	char *end;
	if (l->failed)
		return 0;
	long year = strtol(section, &end, 10);
	if (*section == '\0' || *end != '\0' || year < DATE_YEAR_MIN || year > DATE_YEAR_MAX)
		return fail(l, line, "[%.40s]: a section is a year from %d to %d", section,
			    DATE_YEAR_MIN, DATE_YEAR_MAX);
	int y = (int)year - DATE_YEAR_MIN;
	if (!l->seen[y]) {
		/* the year's section replaces what an earlier file said of it */
		struct date d0, d1;
		char b0[16], b1[16];
		snprintf(b0, sizeof(b0), "%04ld-01-01", year);
		snprintf(b1, sizeof(b1), "%04ld-12-31", year);
		date_parse(b0, &d0);
		date_parse(b1, &d1);
		memset(cal->kind + (d0.day - cal->first_day), DAY_DEFAULT,
		       (size_t)(d1.day - d0.day + 1));
		cal->covered[y] = 0;
		cal->notice[y][0] = '\0';
		l->seen[y] = 1;
	}
	l->year = (int)year;
	if (name == NULL)
		return 1; /* a section line (inih with INI_CALL_HANDLER_ON_NEW_SECTION) */
	if (strcmp(name, "notice") == 0) {
		size_t len = strlen(value);
		if (len == 0 || len >= CALENDAR_NOTICE_MAX)
			return fail(l, line, "notice: 1 to %d bytes", CALENDAR_NOTICE_MAX - 1);
		memcpy(cal->notice[y], value, len + 1);
		cal->covered[y] = 1;
		return 1;
	}
	int from, to;
	const char *rest;
	if (strcmp(name, "off") == 0) {
		if (day_of(l, line, value, &rest, &from))
			return 0;
		to = from;
		if (strncmp(rest, "..", 2) == 0) {
			if (day_of(l, line, rest + 2, &rest, &to))
				return 0;
			if (to < from || to - from > 31)
				return fail(l, line, "off: a range of 1 to 32 days, first to last");
		}
		if (*rest != '\0' && *rest != ' ' && *rest != '\t')
			return fail(l, line, "off: a date or date..date, then the holiday's name");
		for (int d = from; d <= to; d++)
			cal->kind[d - cal->first_day] = DAY_OFF;
		return 1;
	}
	if (strcmp(name, "work") == 0) {
		if (day_of(l, line, value, &rest, &from))
			return 0;
		if (*rest != '\0' && *rest != ' ' && *rest != '\t')
			return fail(l, line, "work: a date, then the reason");
		int wd = date_weekday(from);
		if (wd != 0 && wd != 6)
			return fail(l, line, "work: %.10s is not a Saturday or Sunday", value);
		cal->kind[from - cal->first_day] = DAY_WORK;
		return 1;
	}
	return fail(l, line, "%.40s: unknown key (notice, off, work)", name);
}

int calendar_load(struct calendar **out, const char *const *paths, size_t n, char *err,
		  size_t errsize)
{
	struct calendar *cal = calendar_empty();
	if (cal == NULL)
		return XXGK_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct load l = {.cal = cal};
		int rc = ini_parse(paths[i], handle, &l);
		if (rc < 0) {
			snprintf(err, errsize, "%s: cannot read", paths[i]);
			calendar_free(cal);
			return XXGK_EIO;
		}
		if (rc > 0) {
			snprintf(err, errsize, "%s:%d: %s", paths[i], rc,
				 l.failed ? l.reason : "not a line of an INI file");
			calendar_free(cal);
			return XXGK_EINVAL;
		}
		for (int y = 0; y < YEARS; y++)
			if (l.seen[y] && !cal->covered[y]) {
				snprintf(err, errsize, "%s: [%d]: no notice cited", paths[i],
					 y + DATE_YEAR_MIN);
				calendar_free(cal);
				return XXGK_EINVAL;
			}
	}
	derive(cal);
	*out = cal;
	return 0;
}

const char *calendar_notice(const struct calendar *cal, int year)
{
	if (year < DATE_YEAR_MIN || year > DATE_YEAR_MAX || !cal->covered[year - DATE_YEAR_MIN])
		return NULL;
	return cal->notice[year - DATE_YEAR_MIN];
}

int calendar_years(const struct calendar *cal, int *first, int *last)
{
	int count = 0;
	*first = *last = 0;
	for (int y = 0; y < YEARS; y++)
		if (cal->covered[y]) {
			if (!count)
				*first = y + DATE_YEAR_MIN;
			*last = y + DATE_YEAR_MIN;
			count++;
		}
	return count;
}

int calendar_working(const struct calendar *cal, int day, int *year)
{
	int i = day - cal->first_day;
	if (i >= 0 && i < (int)sizeof(cal->working) && cal->working[i] != WORKING_UNCOVERED)
		return cal->working[i] == WORKING_YES;
	int m, d;
	date_civil(day, year, &m, &d);
	return XXGK_ENOTFOUND;
}

#define DAYS ((int)(sizeof(((struct calendar *)0)->working)))

/* The first uncovered day after `after` up to upto, as its year; upto has one. */
static int first_uncovered_year(const struct calendar *cal, int after, int upto)
{
	int year = 0;
	for (int day = after + 1; day <= upto; day++)
		if (calendar_working(cal, day, &year) < 0)
			break;
	return year;
}

/* Whether every day after `after` up to upto lies in the table (else the slow walk decides). */
static int in_table(const struct calendar *cal, int after, int upto)
{
	return after >= cal->first_day && upto - cal->first_day < DAYS && after <= upto;
}

int calendar_count_working(const struct calendar *cal, int after, int upto, int *n, int *year)
{
	*n = 0;
	if (upto <= after)
		return 0;
	int a = after - cal->first_day, u = upto - cal->first_day;
	if (!in_table(cal, after, upto) || cal->uncovered[u] != cal->uncovered[a]) {
		*year = first_uncovered_year(cal, after, upto);
		return XXGK_ENOTFOUND;
	}
	*n = cal->worked[u] - cal->worked[a];
	return 0;
}

int calendar_add_working(const struct calendar *cal, int day, int n, int limit, int *out, int *year)
{
	int a = day - cal->first_day;
	if (n <= 0) {
		*out = day;
		return 0;
	}
	if (limit < 1)
		return XXGK_EINVAL;
	if (!in_table(cal, day, day + 1)) {
		*year = first_uncovered_year(cal, day, day + 1);
		return XXGK_ENOTFOUND;
	}
	/* the first day whose count reaches the target: the target-th working day */
	int32_t target = cal->worked[a] + n;
	int hi = a + limit < DAYS - 1 ? a + limit : DAYS - 1;
	if (cal->worked[hi] < target) {
		if (cal->uncovered[hi] != cal->uncovered[a]) {
			*year = first_uncovered_year(cal, day, hi + cal->first_day);
			return XXGK_ENOTFOUND;
		}
		if (hi < a + limit) { /* the table ends first: the day after it is not covered */
			*year =
			    first_uncovered_year(cal, hi + cal->first_day, hi + cal->first_day + 1);
			return XXGK_ENOTFOUND;
		}
		*year = 0;
		return XXGK_EINVAL;
	}
	int lo = cal->nth[target]; /* a < lo <= hi: worked[a] < target <= worked[hi] */
	if (cal->uncovered[lo] != cal->uncovered[a]) {
		*year = first_uncovered_year(cal, day, lo + cal->first_day);
		return XXGK_ENOTFOUND;
	}
	*out = lo + cal->first_day;
	return 0;
}

size_t calendar_packed_size(void)
{
	return sizeof(((struct calendar *)0)->covered) + sizeof(((struct calendar *)0)->kind);
}

void calendar_pack(const struct calendar *cal, unsigned char *buf)
{
	memcpy(buf, cal->covered, sizeof(cal->covered));
	memcpy(buf + sizeof(cal->covered), cal->kind, sizeof(cal->kind));
}

int calendar_unpack(struct calendar **out, const unsigned char *buf, size_t len)
{
	if (len != calendar_packed_size())
		return XXGK_EINVAL;
	struct calendar *cal = calendar_empty();
	if (cal == NULL)
		return XXGK_ENOMEM;
	memcpy(cal->covered, buf, sizeof(cal->covered));
	memcpy(cal->kind, buf + sizeof(cal->covered), sizeof(cal->kind));
	derive(cal);
	for (size_t i = 0; i < sizeof(cal->covered); i++)
		if (cal->covered[i] > 1) {
			calendar_free(cal);
			return XXGK_EINVAL;
		}
	for (size_t i = 0; i < sizeof(cal->kind); i++)
		if (cal->kind[i] > DAY_WORK) {
			calendar_free(cal);
			return XXGK_EINVAL;
		}
	*out = cal;
	return 0;
}
