#include "deadline.h"

#include <stddef.h>

#include "date.h"
#include "error.h"

/* A count that has run this long is broken data, not a period: 40 working days fit in 90 days. */
#define DEADLINE_SCAN_DAYS 3660

static int parse(const char *s, int *day)
{
	struct date d;
	*day = 0;
	if (s == NULL)
		return 0;
	if (date_parse(s, &d) != DATE_OK)
		return XXGK_EINVAL;
	*day = d.day;
	return 0;
}

int deadline_events_of(const Xxgk__V1__Application *a, struct deadline_events *ev)
{
	if (parse(a->received, &ev->received) || ev->received == 0 ||
	    parse(a->concluded, &ev->concluded) || parse(a->extended, &ev->extended) ||
	    parse(a->correction_requested, &ev->correction_requested) ||
	    parse(a->corrected, &ev->corrected) ||
	    parse(a->consultation_sent, &ev->consultation_sent) ||
	    parse(a->consultation_answered, &ev->consultation_answered) ||
	    parse(a->fee_notice, &ev->fee_notice) || parse(a->fee_paid, &ev->fee_paid))
		return XXGK_EINVAL;
	return 0;
}

/* Whether day falls in the uncounted time after start up to end (0: not ended yet). */
static int in_pause(int day, int start, int end)
{
	return start && day > start && (end == 0 || day <= end);
}

void deadline_compute(const struct calendar *cal, const struct deadline_events *ev,
		      struct deadline *out)
{
	out->due = 0;
	out->extended = ev->extended != 0;
	out->suspended = 0;
	out->error_year = 0;
	if (ev->correction_requested && !ev->corrected) {
		out->state = DEADLINE_SUSPENDED;
		return;
	}
	int start = ev->corrected ? ev->corrected : ev->received;
	int target = DEADLINE_PERIOD + (out->extended ? DEADLINE_EXTENSION : 0);
	if (!ev->consultation_sent && !ev->fee_notice) {
		/* nothing paused: the day target working days on, from the calendar's counts */
		int year = 0, rc = calendar_add_working(cal, start, target, DEADLINE_SCAN_DAYS,
							&out->due, &year);
		out->state = rc == 0 ? DEADLINE_DUE : DEADLINE_ERROR;
		out->error_year = rc == XXGK_ENOTFOUND ? year : 0;
		if (rc)
			out->due = 0;
		return;
	}
	int count = 0;
	for (int day = start + 1; day <= start + DEADLINE_SCAN_DAYS; day++) {
		int year, w = calendar_working(cal, day, &year);
		if (w < 0) {
			out->state = DEADLINE_ERROR;
			out->error_year = year;
			return;
		}
		int paused = in_pause(day, ev->consultation_sent, ev->consultation_answered) ||
			     in_pause(day, ev->fee_notice, ev->fee_paid);
		if (paused && ((ev->consultation_sent && !ev->consultation_answered &&
				day > ev->consultation_sent) ||
			       (ev->fee_notice && !ev->fee_paid && day > ev->fee_notice))) {
			out->state = DEADLINE_SUSPENDED;
			return;
		}
		if (!w)
			continue;
		if (paused) {
			out->suspended++;
			continue;
		}
		if (++count == target) {
			out->state = DEADLINE_DUE;
			out->due = day;
			return;
		}
	}
	out->state = DEADLINE_ERROR; /* unreachable with a calendar of real years */
	out->error_year = 0;
}

int deadline_days_left(const struct calendar *cal, int due, int today, int *left, int *year)
{
	int n, rc;
	if (due >= today) {
		if ((rc = calendar_count_working(cal, today, due, &n, year)))
			return rc;
		*left = n;
		return 0;
	}
	if ((rc = calendar_count_working(cal, due, today, &n, year)))
		return rc;
	*left = n > 0 ? -n : -1;
	return 0;
}

int deadline_add_working(const struct calendar *cal, int day, int n, int *out, int *year)
{
	return calendar_add_working(cal, day, n, DEADLINE_SCAN_DAYS, out, year);
}

int deadline_late(const struct calendar *cal, const struct deadline_events *ev)
{
	struct deadline dl;
	if (!ev->concluded)
		return -1;
	/* an answer concludes every wait: what was still open ended on the day of the answer */
	struct deadline_events e = *ev;
	if (e.correction_requested && !e.corrected)
		return 0; /* abandoned for want of a correction: no period ran */
	if (e.consultation_sent && !e.consultation_answered)
		e.consultation_answered = e.concluded;
	if (e.fee_notice && !e.fee_paid)
		e.fee_paid = e.concluded;
	deadline_compute(cal, &e, &dl);
	if (dl.state != DEADLINE_DUE)
		return -1;
	return ev->concluded > dl.due;
}

int deadline_today(long long now)
{
	long long local = now + 8 * 3600;
	return (int)(local >= 0 ? local / 86400 : (local - 86399) / 86400);
}
