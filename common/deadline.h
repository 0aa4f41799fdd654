/*
 * The answer period of an application (shared/DOMAIN.md "Answer periods"; 条例 art. 30, 31, 33
 * and the fee measure), on the working-day calendar:
 *   - the period runs from received, or from corrected once a 补正 was answered; day 1 is the
 *     first working day after that start day and the due date the 20th working day, the 40th
 *     with an extension (延期);
 *   - while a correction is requested and not answered the period waits (no due date);
 *   - the working days after a consultation is sent up to the day it is answered, and after a
 *     fee notice up to the day the fee is paid, are not counted; while one is open (sent before
 *     the due date is reached, not answered yet) there is no due date: the period is suspended;
 *   - an answer dated on the due date is in time; one dated after it is late.
 */
#ifndef XXGK_DEADLINE_H
#define XXGK_DEADLINE_H

#include "calendar.h"
#include "record.h" /* struct deadline_events */
#include "xxgk.pb-c.h"

#define DEADLINE_PERIOD 20    /* working days (art. 33) */
#define DEADLINE_EXTENSION 20 /* working days an extension adds, at most and once */

enum deadline_state {
	DEADLINE_DUE,	    /* running: due is the due date */
	DEADLINE_SUSPENDED, /* waiting for a correction, a consultation or a fee: no due date */
	DEADLINE_ERROR,	    /* the calendar does not cover error_year, which the count reaches */
};

struct deadline {
	enum deadline_state state;
	int due;	/* DEADLINE_DUE: the due date, days since 1970-01-01 */
	int extended;	/* an extension is counted */
	int suspended;	/* working days not counted (consultation, fee), up to due or today */
	int error_year; /* DEADLINE_ERROR */
};

/*
 * The events of a validated application (record_check accepted it; its facts hold them read
 * already). 0 or XXGK_EINVAL.
 */
int deadline_events_of(const Xxgk__V1__Application *a, struct deadline_events *ev);

/* The answer period of ev on cal. Always fills *out (the state says what it holds). */
void deadline_compute(const struct calendar *cal, const struct deadline_events *ev,
		      struct deadline *out);

/*
 * Working days from today to due: >= 0 while due >= today (0: due today); when late, minus the
 * working days after due up to today, at least -1 (a weekend after a Friday due date is late by
 * 1). Returns 0, or XXGK_ENOTFOUND with *year set when the calendar does not cover the days.
 */
int deadline_days_left(const struct calendar *cal, int due, int today, int *left, int *year);

/*
 * The n-th working day after day (day itself for n = 0): the last due date that is "due within n
 * working days" of day. 0, or XXGK_ENOTFOUND with *year set.
 */
int deadline_add_working(const struct calendar *cal, int day, int n, int *out, int *year);

/* Whether the application, concluded, was answered after its due date: 1, 0, or -1 unknown. */
int deadline_late(const struct calendar *cal, const struct deadline_events *ev);

/* Today in China Standard Time (UTC+8), days since 1970-01-01, at Unix time now. */
int deadline_today(long long now);

#endif
