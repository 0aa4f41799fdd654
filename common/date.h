/* Civil dates "YYYY-MM-DD" (China Standard Time), as records carry them. */
#ifndef XXGK_DATE_H
#define XXGK_DATE_H

#include <stddef.h>

/* The range of dates a record may carry; reports exist for the years in between. */
#define DATE_YEAR_MIN 2000
#define DATE_YEAR_MAX 2099

enum date_error {
	DATE_OK = 0,
	DATE_MALFORMED = -1,	/* not YYYY-MM-DD */
	DATE_IMPOSSIBLE = -2,	/* no such day, e.g. 2019-02-30 */
	DATE_OUT_OF_RANGE = -3, /* outside DATE_YEAR_MIN..DATE_YEAR_MAX */
};

struct date {
	int year;
	int day; /* days since 1970-01-01, for ordering */
};

/* Parses s strictly; on error *out is untouched. */
enum date_error date_parse(const char *s, struct date *out);

/* The civil date of day (days since 1970-01-01): year, month 1..12, day of month 1..31. */
void date_civil(int day, int *y, int *m, int *d);

/* Writes day as "YYYY-MM-DD" into buf (11 bytes is enough). */
void date_format(int day, char *buf, size_t size);

/* 0 Sunday .. 6 Saturday. */
int date_weekday(int day);

/* Why date_parse failed, in words. */
const char *date_strerror(enum date_error e);

#endif
