/*
 * The working-day calendar (shared/DOMAIN.md "Answer periods"): Monday to Friday, except the
 * public holidays of the State Council's annual notice, plus the weekend days it makes working
 * days (调休), for the years a calendar file covers. data/holidays.conf is the shipped file; its
 * header says the format. A day of a year no file covers has no answer: never a weekday guess.
 */
#ifndef XXGK_CALENDAR_H
#define XXGK_CALENDAR_H

#include <stddef.h>

#define CALENDAR_NOTICE_MAX 256 /* bytes of a year's notice citation */

struct calendar;

/*
 * Reads the calendar from the files paths[0..n-1] in order; a year's section in a later file
 * replaces the earlier one's. Returns 0, or XXGK_EINVAL / XXGK_EIO with "file:line: reason" in
 * err (and no calendar).
 */
int calendar_load(struct calendar **out, const char *const *paths, size_t n, char *err,
		  size_t errsize);

/* A calendar that covers no year: every deadline on it is an error. NULL when out of memory. */
struct calendar *calendar_empty(void);

void calendar_free(struct calendar *cal);

/* Whether the calendar covers year, and the notice it cites (NULL when not covered). */
const char *calendar_notice(const struct calendar *cal, int year);

/* The number of years covered, and the first and last (0 when none). */
int calendar_years(const struct calendar *cal, int *first, int *last);

/*
 * Whether day (days since 1970-01-01) is a working day: 1 or 0, or XXGK_ENOTFOUND when its year
 * is not covered (*year set to it).
 */
int calendar_working(const struct calendar *cal, int day, int *year);

/*
 * The working days after `after` up to upto (0 when upto <= after): 0, or XXGK_ENOTFOUND with
 * *year the first year on the way the calendar does not cover. One subtraction.
 */
int calendar_count_working(const struct calendar *cal, int after, int upto, int *n, int *year);

/*
 * The day n (>= 1) working days after day, looked for within limit days: 0 with *out set;
 * XXGK_ENOTFOUND with *year the first uncovered year met before it; XXGK_EINVAL when limit days
 * hold fewer working days. A binary search.
 */
int calendar_add_working(const struct calendar *cal, int day, int n, int limit, int *out,
			 int *year);

/*
 * The days of the calendar as bytes (its notices left out), so that a store can keep the
 * calendar its due dates were computed on: calendar_packed_size() bytes into buf.
 */
size_t calendar_packed_size(void);
void calendar_pack(const struct calendar *cal, unsigned char *buf);

/* The calendar packed in buf (len bytes). 0, XXGK_EINVAL for bytes that are not one, or ENOMEM. */
int calendar_unpack(struct calendar **out, const unsigned char *buf, size_t len);

#endif
