/*
 * The answer period on the shipped working-day calendar (data/holidays.conf), case by case from
 * shared/DOMAIN.md "Answer periods": the due dates were counted by hand on the State Council's
 * arrangements, and the validation of the events that move them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "calendar.h"
#include "cells.h"
#include "deltas.h"
#include "date.h"
#include "deadline.h"
#include "error.h"
#include "record.h"
#include "report.h"
#include "store.h"
#include "store_check.h"
#include "store_deadline.h"
#include "testutil.h"

static const char *const shipped[] = {XXGK_SOURCE_DIR "/data/holidays.conf"};

static int day(const char *s)
{
	struct date d;
	assert_int_equal(date_parse(s, &d), DATE_OK);
	return d.day;
}

static int day_or_0(const char *s)
{
	return s ? day(s) : 0;
}

struct due_case {
	const char *name;
	const char *received, *extended, *correction_requested, *corrected, *consultation_sent,
	    *consultation_answered, *fee_notice, *fee_paid;
	enum deadline_state state;
	const char *due;
	int error_year;
};

static const struct due_case due_cases[] = {
    {"National Day 2024: Sun 29 Sep and Sat 12 Oct worked, 1-7 Oct off", "2024-09-27", NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, DEADLINE_DUE, "2024-10-30", 0},
    {"Spring Festival 2024: 10-17 Feb off, Sun 4 and Sun 18 Feb worked", "2024-02-05", NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, DEADLINE_DUE, "2024-03-08", 0},
    {"received on a holiday: day 1 is the first working day after", "2024-10-03", NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, DEADLINE_DUE, "2024-11-01", 0},
    {"an extension: the 40th working day", "2024-09-27", "2024-10-20", NULL, NULL, NULL, NULL, NULL,
     NULL, DEADLINE_DUE, "2024-11-27", 0},
    {"补正 requested, not yet corrected: the period waits", "2024-03-01", NULL, "2024-03-05", NULL,
     NULL, NULL, NULL, NULL, DEADLINE_SUSPENDED, NULL, 0},
    {"补正: the period restarts from the corrected application's receipt", "2024-03-01", NULL,
     "2024-03-05", "2024-03-15", NULL, NULL, NULL, NULL, DEADLINE_DUE, "2024-04-15", 0},
    {"补正 and an extension: 40 days from the corrected application", "2024-03-01", "2024-04-10",
     "2024-03-05", "2024-03-15", NULL, NULL, NULL, NULL, DEADLINE_DUE, "2024-05-14", 0},
    {"no consultation: the neighbour of the next case", "2024-03-01", NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, DEADLINE_DUE, "2024-03-29", 0},
    {"consultation 5-11 Mar: 4 working days not counted, Qingming passed, Sun 7 Apr worked",
     "2024-03-01", NULL, NULL, NULL, "2024-03-05", "2024-03-11", NULL, NULL, DEADLINE_DUE,
     "2024-04-07", 0},
    {"consultation sent, not answered: suspended", "2024-03-01", NULL, NULL, NULL, "2024-03-05",
     NULL, NULL, NULL, DEADLINE_SUSPENDED, NULL, 0},
    {"fee notice 8 May, paid 20 May: 9 working days (Sat 11 May worked) not counted", "2024-05-06",
     NULL, NULL, NULL, NULL, NULL, "2024-05-08", "2024-05-20", DEADLINE_DUE, "2024-06-14", 0},
    {"fee notice sent, not paid: suspended", "2024-05-06", NULL, NULL, NULL, NULL, NULL,
     "2024-05-08", NULL, DEADLINE_SUSPENDED, NULL, 0},
    {"overlapping consultation and fee: a day is not counted once", "2024-03-01", NULL, NULL, NULL,
     "2024-03-05", "2024-03-11", "2024-03-08", "2024-03-14", DEADLINE_DUE, "2024-04-10", 0},
    {"a consultation sent after the due date moves nothing", "2024-03-01", NULL, NULL, NULL,
     "2024-04-02", NULL, NULL, NULL, DEADLINE_DUE, "2024-03-29", 0},
    {"National Day 2019", "2019-09-20", NULL, NULL, NULL, NULL, NULL, NULL, NULL, DEADLINE_DUE,
     "2019-10-23", 0},
    {"Spring Festival 2020, extended to 2 Feb", "2020-01-20", NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, DEADLINE_DUE, "2020-02-25", 0},
    {"Mid-Autumn and National Day 2021", "2021-09-15", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     DEADLINE_DUE, "2021-10-19", 0},
    {"Spring Festival 2022", "2022-01-25", NULL, NULL, NULL, NULL, NULL, NULL, NULL, DEADLINE_DUE,
     "2022-02-25", 0},
    {"Mid-Autumn and National Day 2023", "2023-09-25", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     DEADLINE_DUE, "2023-10-27", 0},
    {"Spring Festival 2025", "2025-01-20", NULL, NULL, NULL, NULL, NULL, NULL, NULL, DEADLINE_DUE,
     "2025-02-21", 0},
    {"Spring Festival 2026", "2026-02-10", NULL, NULL, NULL, NULL, NULL, NULL, NULL, DEADLINE_DUE,
     "2026-03-16", 0},
    {"a period that reaches 2027, a year the calendar does not cover: an error", "2026-12-10", NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, DEADLINE_ERROR, NULL, 2027},
    {"received in 2018, not covered: an error, not a weekday count", "2018-06-01", NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, DEADLINE_ERROR, NULL, 2018},
};

static struct calendar *load_shipped(void)
{
	struct calendar *cal = NULL;
	char err[256] = "";
	int rc = calendar_load(&cal, shipped, 1, err, sizeof(err));
	if (rc)
		fail_msg("%s", err);
	return cal;
}

static void test_due_dates(void **state)
{
	(void)state;
	struct calendar *cal = load_shipped();
	for (size_t i = 0; i < sizeof(due_cases) / sizeof(due_cases[0]); i++) {
		const struct due_case *c = &due_cases[i];
		struct deadline_events ev = {
		    .received = day(c->received),
		    .extended = day_or_0(c->extended),
		    .correction_requested = day_or_0(c->correction_requested),
		    .corrected = day_or_0(c->corrected),
		    .consultation_sent = day_or_0(c->consultation_sent),
		    .consultation_answered = day_or_0(c->consultation_answered),
		    .fee_notice = day_or_0(c->fee_notice),
		    .fee_paid = day_or_0(c->fee_paid),
		};
		struct deadline dl;
		char got[16] = "-";
		deadline_compute(cal, &ev, &dl);
		if (dl.state == DEADLINE_DUE)
			date_format(dl.due, got, sizeof(got));
		printf("%-90s state %d due %s\n", c->name, (int)dl.state, got);
		assert_int_equal(dl.state, c->state);
		if (c->due)
			assert_string_equal(got, c->due);
		if (c->state == DEADLINE_ERROR)
			assert_int_equal(dl.error_year, c->error_year);
		assert_int_equal(dl.extended, c->extended != NULL);
	}
	calendar_free(cal);
}

static void test_answered_on_due_date_in_time(void **state)
{
	(void)state;
	struct calendar *cal = load_shipped();
	struct deadline_events ev = {.received = day("2024-09-27")};
	ev.concluded = day("2024-10-30"); /* the due date */
	assert_int_equal(deadline_late(cal, &ev), 0);
	ev.concluded = day("2024-10-31"); /* one day after */
	assert_int_equal(deadline_late(cal, &ev), 1);
	ev.concluded = 0;
	assert_int_equal(deadline_late(cal, &ev), -1); /* open: neither */
	/* a fee never paid ends with the answer: the wait is not held against the office */
	struct deadline_events fee = {.received = day("2024-05-06"),
				      .fee_notice = day("2024-05-08"),
				      .concluded = day("2024-07-01")};
	assert_int_equal(deadline_late(cal, &fee), 0);
	calendar_free(cal);
}

static void test_days_left(void **state)
{
	(void)state;
	struct calendar *cal = load_shipped();
	int left, year, last;
	int due = day("2024-10-30");
	assert_int_equal(deadline_days_left(cal, due, day("2024-10-30"), &left, &year), 0);
	assert_int_equal(left, 0);
	assert_int_equal(deadline_days_left(cal, due, day("2024-09-27"), &left, &year), 0);
	assert_int_equal(left, 20);
	assert_int_equal(deadline_days_left(cal, due, day("2024-10-31"), &left, &year), 0);
	assert_int_equal(left, -1);
	assert_int_equal(deadline_days_left(cal, due, day("2024-11-04"), &left, &year), 0);
	assert_int_equal(left, -3);
	/* a Friday due date, seen on the Saturday: late by 1, though no working day passed */
	assert_int_equal(
	    deadline_days_left(cal, day("2024-11-01"), day("2024-11-02"), &left, &year), 0);
	assert_int_equal(left, -1);
	/* within 5 working days of Fri 27 Sep 2024: Sun 29, Mon 30, then 8, 9, 10 Oct */
	assert_int_equal(deadline_add_working(cal, day("2024-09-27"), 5, &last, &year), 0);
	assert_int_equal(last, day("2024-10-10"));
	assert_int_equal(deadline_add_working(cal, day("2026-12-28"), 5, &last, &year),
			 XXGK_ENOTFOUND);
	assert_int_equal(year, 2027);
	calendar_free(cal);
}

static void test_calendar_shipped(void **state)
{
	(void)state;
	struct calendar *cal = load_shipped();
	int first, last, year;
	assert_int_equal(calendar_years(cal, &first, &last), 8);
	assert_int_equal(first, 2019);
	assert_int_equal(last, 2026);
	assert_non_null(strstr(calendar_notice(cal, 2024), "国办发明电〔2023〕7号"));
	assert_null(calendar_notice(cal, 2027));
	assert_int_equal(calendar_working(cal, day("2024-09-29"), &year), 1); /* Sunday worked */
	assert_int_equal(calendar_working(cal, day("2024-10-01"), &year), 0);
	assert_int_equal(calendar_working(cal, day("2024-10-12"), &year), 1); /* Saturday worked */
	assert_int_equal(calendar_working(cal, day("2024-10-13"), &year), 0);
	assert_int_equal(calendar_working(cal, day("2020-02-01"), &year), 0); /* extension 2020 */
	assert_int_equal(calendar_working(cal, day("2027-01-04"), &year), XXGK_ENOTFOUND);
	assert_int_equal(year, 2027);
	calendar_free(cal);
}

static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	sprintf(path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_calendar_files(void **state)
{
	(void)state;
	char *dir = tmpdir_make("calendar");
	static const struct {
		const char *text, *error;
	} bad[] = {
	    {"[2024]\nnotice = x\nwork = 2024-10-11 a Friday\n", "not a Saturday or Sunday"},
	    {"[2024]\nnotice = x\noff = 2025-01-01 next year\n", "not in the section's year"},
	    {"[2024]\noff = 2024-10-01\n", "no notice cited"},
	    {"[2024]\nnotice = x\nholiday = 2024-10-01\n", "unknown key"},
	    {"[24]\nnotice = x\n", "a section is a year"},
	    {"[2024]\nnotice = x\noff = 2024-10-07..2024-10-01\n", "first to last"},
	    {"[2024]\nnotice = x\noff = 2024-02-30\n", "impossible date"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = write_file(dir, "bad.conf", bad[i].text);
		const char *paths[] = {path};
		struct calendar *cal = NULL;
		char err[256] = "";
		assert_int_equal(calendar_load(&cal, paths, 1, err, sizeof(err)), XXGK_EINVAL);
		printf("rejected: %s\n", err);
		assert_non_null(strstr(err, bad[i].error));
		assert_non_null(strstr(err, "bad.conf"));
		assert_null(cal);
		free(path);
	}
	/* a second file: a year added, and a year replaced whole */
	char *extra = write_file(dir, "extra.conf",
				 "[2027]\nnotice = 国办发明电〔2026〕N号\noff = 2027-01-01 元旦\n"
				 "[2024]\nnotice = changed\noff = 2024-10-31 test\n");
	const char *paths[] = {shipped[0], extra};
	struct calendar *cal = NULL;
	char err[256] = "";
	int year;
	assert_int_equal(calendar_load(&cal, paths, 2, err, sizeof(err)), 0);
	assert_int_equal(calendar_working(cal, day("2027-01-01"), &year), 0);
	assert_int_equal(calendar_working(cal, day("2027-01-04"), &year), 1);
	assert_int_equal(calendar_working(cal, day("2024-10-31"), &year), 0);
	assert_int_equal(calendar_working(cal, day("2024-10-01"), &year), 1); /* replaced */
	assert_string_equal(calendar_notice(cal, 2024), "changed");
	struct deadline dl;
	struct deadline_events ev = {.received = day("2026-12-10")};
	deadline_compute(cal, &ev, &dl);
	assert_int_equal(dl.state, DEADLINE_DUE);
	calendar_free(cal);
	free(extra);
	tmpdir_remove(dir);
}

/* The day n working days after day, walked day by day: what calendar_add_working must find. */
static int walk_add(const struct calendar *cal, int day, int n, int *out, int *year)
{
	int d = day;
	for (int k = 0; k < n; k++) {
		int w;
		do {
			if (++d > day + 3660)
				return XXGK_EINVAL;
			if ((w = calendar_working(cal, d, year)) < 0)
				return w;
		} while (!w);
	}
	*out = d;
	return 0;
}

static int walk_count(const struct calendar *cal, int after, int upto, int *n, int *year)
{
	*n = 0;
	for (int d = after + 1; d <= upto; d++) {
		int w = calendar_working(cal, d, year);
		if (w < 0)
			return w;
		*n += w;
	}
	return 0;
}

/*
 * The calendar's counts (a subtraction, a binary search) agree with walking the days one by
 * one, on the shipped calendar and on one with a year missing in the middle, for every start
 * from December 2018 to February 2027 and periods of 1 to 40 working days.
 */
static void test_calendar_counts_agree_with_walking(void **state)
{
	(void)state;
	char *dir = tmpdir_make("calendar_gap");
	char *gap = write_file(dir, "gap.conf",
			       "[2021]\nnotice = x\n[2022]\nnotice = y\n[2024]\nnotice = z\n");
	const char *paths[] = {gap};
	struct calendar *cals[2] = {load_shipped(), NULL};
	char err[256] = "";
	assert_int_equal(calendar_load(&cals[1], paths, 1, err, sizeof(err)), 0);
	long compared = 0, errors = 0;
	for (int c = 0; c < 2; c++)
		for (int d = day("2018-12-01"); d <= day("2027-02-01"); d++) {
			for (int n = 1; n <= 40; n++) {
				int fast = -1, slow = -1, fy = -1, sy = -2;
				int frc = calendar_add_working(cals[c], d, n, 3660, &fast, &fy);
				int src = walk_add(cals[c], d, n, &slow, &sy);
				assert_int_equal(frc, src);
				if (frc == 0)
					assert_int_equal(fast, slow);
				else
					assert_int_equal(fy, sy), errors++;
				compared++;
			}
			for (int span = 0; span <= 400; span += 37) {
				int fn = -1, sn = -2, fy = -1, sy = -2;
				int frc = calendar_count_working(cals[c], d, d + span, &fn, &fy);
				int src = walk_count(cals[c], d, d + span, &sn, &sy);
				assert_int_equal(frc, src);
				if (frc == 0)
					assert_int_equal(fn, sn);
				else
					assert_int_equal(fy, sy);
				compared++;
			}
		}
	printf("calendar counts: %ld compared with the day-by-day walk, %ld of them errors of a "
	       "year not covered\n",
	       compared, errors);
	assert_true(errors > 0);
	calendar_free(cals[0]);
	calendar_free(cals[1]);
	free(gap);
	tmpdir_remove(dir);
}

struct bad_event {
	const char *field_value[7]; /* extended .. fee_paid */
	const char *concluded;
	const char *message;
};

static void test_validation_of_events(void **state)
{
	(void)state;
	static const struct bad_event cases[] = {
	    {{"2024-02-28"}, NULL, "application.extended: before received"},
	    {{NULL, NULL, "2024-03-10"},
	     NULL,
	     "application.corrected: without correction_requested"},
	    {{NULL, "2024-03-10", "2024-03-05"},
	     NULL,
	     "application.corrected: before correction_requested"},
	    {{NULL, NULL, NULL, NULL, "2024-03-10"},
	     NULL,
	     "application.consultation_answered: without consultation_sent"},
	    {{NULL, NULL, NULL, "2024-03-10", "2024-03-09"},
	     NULL,
	     "application.consultation_answered: before consultation_sent"},
	    {{NULL, NULL, NULL, NULL, NULL, NULL, "2024-03-10"},
	     NULL,
	     "application.fee_paid: without fee_notice"},
	    {{NULL, NULL, NULL, NULL, NULL, "2024-03-10", "2024-03-09"},
	     NULL,
	     "application.fee_paid: before fee_notice"},
	    {{NULL, NULL, NULL, NULL, NULL, "2024-04-10"},
	     "2024-04-01",
	     "application.fee_notice: after concluded"},
	    {{"2024-03-06", "2024-03-05", "2024-03-08"},
	     NULL,
	     "application.extended: before corrected"},
	    {{"2024-13-01"}, NULL, "application.extended: impossible date"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Xxgk__V1__Record r = XXGK__V1__RECORD__INIT;
		Xxgk__V1__Application a = XXGK__V1__APPLICATION__INIT;
		char **fields[] = {&a.extended,		 &a.correction_requested,  &a.corrected,
				   &a.consultation_sent, &a.consultation_answered, &a.fee_notice,
				   &a.fee_paid};
		r.unit = "u001";
		r.id = "a";
		r.has_revision = 1;
		r.revision = 1;
		r.body_case = XXGK__V1__RECORD__BODY_APPLICATION;
		r.application = &a;
		a.has_applicant = 1;
		a.applicant = 1;
		a.received = "2024-03-01";
		for (int k = 0; k < 7; k++)
			*fields[k] = (char *)cases[i].field_value[k];
		if (cases[i].concluded) {
			a.concluded = (char *)cases[i].concluded;
			a.has_outcome = 1;
			a.outcome = 1;
		}
		struct record_facts f;
		char msg[RECORD_MESSAGE_MAX] = "";
		assert_int_equal(record_check(&r, &f, msg, sizeof(msg)), XXGK_EINVAL);
		printf("rejected: %s\n", msg);
		assert_string_equal(msg, cases[i].message);
	}
	/* and the neighbours are accepted: every event, in order, concluded after them all */
	Xxgk__V1__Record r = XXGK__V1__RECORD__INIT;
	Xxgk__V1__Application a = XXGK__V1__APPLICATION__INIT;
	r.unit = "u001";
	r.id = "a";
	r.has_revision = 1;
	r.revision = 1;
	r.body_case = XXGK__V1__RECORD__BODY_APPLICATION;
	r.application = &a;
	a.has_applicant = 1;
	a.applicant = 1;
	a.received = "2024-03-01";
	a.correction_requested = "2024-03-05";
	a.corrected = "2024-03-05";
	a.extended = "2024-04-01";
	a.consultation_sent = "2024-03-10";
	a.consultation_answered = "2024-03-10";
	a.fee_notice = "2024-03-11";
	a.fee_paid = "2024-03-20";
	a.concluded = "2024-05-01";
	a.has_outcome = 1;
	a.outcome = 1;
	struct record_facts f;
	char msg[RECORD_MESSAGE_MAX] = "";
	assert_int_equal(record_check(&r, &f, msg, sizeof(msg)), 0);
}

struct seen {
	char lines[16][96];
	int n;
};

static int see(void *ctx, const struct store_deadline *d)
{
	struct seen *s = ctx;
	char due[16] = "-";
	if (d->state == DEADLINE_DUE)
		date_format(d->due, due, sizeof(due));
	if (s->n < 16)
		snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s %s %d %s", d->unit, d->id,
			 d->state, due);
	return 0;
}

static void list_all(struct store *st, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(store_deadlines(st, 1, day("2099-12-31"), 1, see, s), 0);
}

static void verify_clean(struct store *st)
{
	size_t differences = 99;
	assert_int_equal(store_verify(st, NULL, NULL, &differences), 0);
	assert_int_equal(differences, 0);
}

/* The store's index follows every revision: opened, suspended, restarted, answered, deleted. */
static void test_store_index(void **state)
{
	(void)state;
	struct city city;
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	struct store_status status;
	struct seen s;
	char *dir = tmpdir_make("deadline-store");
	struct calendar *cal = load_shipped();
	city_make(&city, 3);
	struct store *st = test_store_open(dir, &city);
	assert_int_equal(store_set_calendar(st, cal), 0);

	trec_application(&t, "u001", "a", 1, 1, "2024-09-27", NULL, 0);
	test_apply(st, &r, 1, &status);
	list_all(st, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.lines[0], "u001 a 0 2024-10-30");

	trec_application(&t, "u001", "a", 2, 1, "2024-09-27", NULL, 0);
	t.body.app.correction_requested = "2024-09-30";
	test_apply(st, &r, 1, &status);
	list_all(st, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.lines[0], "u001 a 1 -"); /* waits for the correction */

	trec_application(&t, "u001", "a", 3, 1, "2024-09-27", NULL, 0);
	t.body.app.correction_requested = "2024-09-30";
	t.body.app.corrected = "2024-10-08";
	test_apply(st, &r, 1, &status);
	list_all(st, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.lines[0],
			    "u001 a 0 2024-11-04"); /* 20 from 8 Oct, Sat 12 Oct worked */
	verify_clean(st);

	trec_application(&t, "u001", "a", 4, 1, "2024-09-27", "2024-11-01", 1);
	test_apply(st, &r, 1, &status);
	list_all(st, &s);
	assert_int_equal(s.n, 0); /* answered: in no list */

	trec_application(&t, "u002", "b", 1, 1, "2026-12-10", NULL, 0);
	test_apply(st, &r, 1, &status);
	list_all(st, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.lines[0], "u002 b 2 -"); /* 2027 not covered */
	trec_tombstone(&t, "u002", "b", 2, RECORD_APPLICATION);
	test_apply(st, &r, 1, &status);
	list_all(st, &s);
	assert_int_equal(s.n, 0);
	verify_clean(st);

	store_close(st);
	calendar_free(cal);
	city_free(&city);
	tmpdir_remove(dir);
}

static int see_counts(void *ctx, const struct store_deadline *d)
{
	struct store_deadline *got = ctx;
	got[strcmp(d->id, "p1") == 0 ? 0 : 1] = *d;
	return 0;
}

/*
 * Paused days are kept with the entry: a consultation answered (due, 2 working days not
 * counted: 8 and 9 Oct) and one that runs the count into 2027 (an error, 3 days not counted).
 */
static void test_store_index_paused(void **state)
{
	(void)state;
	struct city city;
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	struct store_status status;
	struct store_deadline got[2] = {{0}};
	char *dir = tmpdir_make("deadline-paused");
	struct calendar *cal = load_shipped();
	city_make(&city, 3);
	struct store *st = test_store_open(dir, &city);
	assert_int_equal(store_set_calendar(st, cal), 0);
	trec_application(&t, "u001", "p1", 1, 1, "2024-09-27", NULL, 0);
	t.body.app.consultation_sent = "2024-09-30";
	t.body.app.consultation_answered = "2024-10-09";
	test_apply(st, &r, 1, &status);
	trec_application(&t, "u001", "p2", 1, 1, "2026-12-10", NULL, 0);
	t.body.app.consultation_sent = "2026-12-11";
	t.body.app.consultation_answered = "2026-12-16";
	test_apply(st, &r, 1, &status);
	assert_int_equal(status.code, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	assert_int_equal(store_deadlines(st, 1, day("2099-12-31"), 1, see_counts, got), 0);
	assert_int_equal(got[0].state, DEADLINE_DUE);
	assert_int_equal(got[0].suspended, 2);
	assert_int_equal(got[1].state, DEADLINE_ERROR);
	assert_int_equal(got[1].error_year, 2027);
	assert_int_equal(got[1].suspended, 3);
	verify_clean(st);
	store_close(st);
	calendar_free(cal);
	city_free(&city);
	tmpdir_remove(dir);
}

static int64_t late_of(struct store *st, int year, const char *unit)
{
	struct report_scope scope = {unit ? SCOPE_UNIT : SCOPE_CITY, 0, unit};
	struct report rep;
	assert_int_equal(store_report(st, year, &scope, 0, &rep), 0);
	return rep.late_answers;
}

/*
 * The index changes of a commit are written together at its end, in key order: revisions of
 * one application within one commit leave the entry of the last, whatever order they take.
 */
static void test_store_index_revisions_in_one_commit(void **state)
{
	(void)state;
	struct city city;
	struct trec t[6];
	struct store_status status[6];
	struct seen s;
	char *dir = tmpdir_make("deadline-commit");
	struct calendar *cal = load_shipped();
	city_make(&city, 3);
	struct store *st = test_store_open(dir, &city);
	assert_int_equal(store_set_calendar(st, cal), 0);
	/* c is open from an earlier commit, and is moved and moved back within the next */
	trec_application(&t[0], "u000", "c", 1, 1, "2024-09-27", NULL, 0);
	Xxgk__V1__Record *one = &t[0].r;
	test_apply(st, &one, 1, status);

	trec_application(&t[0], "u001", "a", 1, 1, "2024-09-27", NULL, 0); /* due 30 Oct */
	trec_application(&t[1], "u001", "a", 2, 1, "2024-09-27", NULL, 0);
	t[1].body.app.extended = "2024-10-20"; /* due 27 Nov */
	trec_application(&t[2], "u002", "b", 1, 1, "2024-02-05", NULL, 0);
	trec_application(&t[3], "u001", "a", 3, 1, "2024-09-27", "2024-10-28", 1); /* answered */
	trec_application(&t[4], "u000", "c", 2, 1, "2024-10-03", NULL, 0);	   /* due 1 Nov */
	trec_application(&t[5], "u000", "c", 3, 1, "2024-09-27", NULL, 0); /* back: 30 Oct */
	Xxgk__V1__Record *batch[6];
	for (int i = 0; i < 6; i++)
		batch[i] = &t[i].r;
	test_apply(st, batch, 6, status);
	for (int i = 0; i < 6; i++)
		assert_int_equal(status[i].code, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	list_all(st, &s);
	for (int i = 0; i < s.n; i++)
		printf("listed: %s\n", s.lines[i]);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.lines[0], "u002 b 0 2024-03-08");
	assert_string_equal(s.lines[1], "u000 c 0 2024-10-30");
	verify_clean(st);

	/* opened and answered in the same commit: never listed */
	trec_application(&t[0], "u002", "d", 1, 1, "2024-09-27", NULL, 0);
	trec_application(&t[1], "u002", "d", 2, 1, "2024-09-27", "2024-10-08", 1);
	test_apply(st, batch, 2, status);
	list_all(st, &s);
	assert_int_equal(s.n, 2);
	verify_clean(st);

	store_close(st);
	calendar_free(cal);
	city_free(&city);
	tmpdir_remove(dir);
}

static void apply_app(struct store *st, const char *unit, const char *id, uint64_t revision,
		      const char *received, const char *concluded)
{
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	struct store_status status;
	trec_application(&t, unit, id, revision, 1, received, concluded, concluded ? 1 : 0);
	test_apply(st, &r, 1, &status);
	assert_int_equal(status.code, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
}

/* ---- the index's groups (store_deadline.h): against a model, an earlier version, damage ---- */

#define MODEL_APPS 3000
#define MODEL_COMMITS 80

struct listed {
	char (*v)[RECORD_UNIT_MAX + RECORD_ID_MAX + 2];
	size_t n, cap;
};

static int collect(void *ctx, const struct store_deadline *d)
{
	struct listed *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	snprintf(l->v[l->n++], sizeof(l->v[0]), "%s %s", d->unit, d->id);
	return 0;
}

static int compare_lines(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Every open application the store lists (errors and suspended ones too), sorted. */
static void list_open(struct store *st, struct listed *l)
{
	l->n = 0;
	assert_int_equal(store_deadlines(st, 1, day("2099-12-31"), 1, collect, l), 0);
	qsort(l->v, l->n, sizeof(l->v[0]), compare_lines);
}

struct model_app {
	char unit[8];
	char id[RECORD_ID_MAX + 1];
	uint64_t revision;
	int open;
};

/*
 * Random commits of openings, answers, deletions and reopenings, in random order and with
 * several revisions of an application in one commit, over ids of many lengths: after each, the
 * store lists exactly the applications the model holds open, and verify finds the index equal
 * to a rebuild. At the end the index holds fewer values than entries (grouped), some (due, unit)
 * in more than one value (split), none over DEADLINE_GROUP_MAX bytes.
 */
static void test_store_index_groups_follow_a_model(void **state)
{
	(void)state;
	static const char *const received[] = {"2024-09-27", "2024-09-30", "2024-02-05",
					       "2025-03-03", "2026-12-10"};
	struct city city;
	struct listed got = {0}, want = {0};
	struct model_app *apps = calloc(MODEL_APPS, sizeof(*apps));
	struct trec *t = malloc(400 * sizeof(*t));
	Xxgk__V1__Record **batch = malloc(400 * sizeof(*batch));
	struct store_status *status = malloc(400 * sizeof(*status));
	uint64_t seed = test_seed(13);
	struct rng rng = {seed};
	char *dir = tmpdir_make("deadline-groups");
	struct calendar *cal = load_shipped();
	assert_non_null(apps);
	assert_non_null(t);
	assert_non_null(batch);
	assert_non_null(status);
	printf("# seed %llu\n", (unsigned long long)seed);
	city_make(&city, 3);
	struct store *st = test_store_open(dir, &city);
	assert_int_equal(store_set_calendar(st, cal), 0);
	for (int i = 0; i < MODEL_APPS; i++) {
		/* distinct numbers, so distinct ids, of 5 to 61 bytes in no order of length */
		int len = 4 + (int)rng_below(&rng, 57);
		snprintf(apps[i].unit, sizeof(apps[i].unit), "u%03u", (unsigned)(i % 3));
		char number[16];
		int digits = snprintf(number, sizeof(number), "%d", i);
		apps[i].id[0] = (char)('a' + rng_below(&rng, 3));
		memset(apps[i].id + 1, '0', (size_t)len);
		memcpy(apps[i].id + 1 + len - digits, number, (size_t)digits);
		apps[i].id[1 + len] = '\0';
	}
	for (int c = 0; c < MODEL_COMMITS; c++) {
		size_t n = 1 + rng_below(&rng, 400);
		for (size_t k = 0; k < n; k++) {
			struct model_app *a = &apps[rng_below(&rng, MODEL_APPS)];
			uint32_t what = rng_below(&rng, 20);
			const char *from = received[rng_below(&rng, 5)];
			a->revision++;
			if (what <
			    12) { /* opened, or moved to another day; now and then it waits */
				trec_application(&t[k], a->unit, a->id, a->revision, 1, from, NULL,
						 0);
				if (what == 0)
					t[k].body.app.correction_requested = t[k].body.app.received;
				a->open = 1;
			} else if (what < 17) {
				trec_application(&t[k], a->unit, a->id, a->revision, 1, from,
						 "2026-12-31", 1);
				a->open = 0;
			} else {
				trec_tombstone(&t[k], a->unit, a->id, a->revision,
					       RECORD_APPLICATION);
				a->open = 0;
			}
			batch[k] = &t[k].r;
		}
		test_apply(st, batch, n, status);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(status[k].code, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
		want.n = 0;
		for (int i = 0; i < MODEL_APPS; i++)
			if (apps[i].open) {
				struct store_deadline d = {.unit = apps[i].unit, .id = apps[i].id};
				collect(&want, &d);
			}
		qsort(want.v, want.n, sizeof(want.v[0]), compare_lines);
		list_open(st, &got);
		assert_int_equal(got.n, want.n);
		for (size_t i = 0; i < want.n; i++)
			assert_string_equal(got.v[i], want.v[i]);
		if (c % 10 == 9)
			verify_clean(st);
	}
	verify_clean(st);
	printf("# %zu open applications after %d commits\n", want.n, MODEL_COMMITS);
	store_close(st);

	/* the values themselves */
	char why[256];
	uint64_t entries;
	assert_int_equal(store_check_walk(dir, 0, &entries, why, sizeof(why)), 0);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi groups, tails;
	MDB_cursor *cur;
	MDB_val k, v, prev = {0, NULL};
	size_t values = 0, split = 0, n_tails = 0, after_groups = 0;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, DEADLINE_DB, 0, &groups), 0);
	assert_int_equal(mdb_dbi_open(txn, DEADLINE_TAILS_DB, 0, &tails), 0);
	assert_int_equal(mdb_cursor_open(txn, groups, &cur), 0);
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		assert_true(deadline_group_valid(&k, &v));
		assert_true(v.mv_size <= DEADLINE_GROUP_MAX);
		split += values > 0 && memcmp(prev.mv_data, k.mv_data, 8) == 0;
		prev = k;
		values++;
	}
	mdb_cursor_close(cur);
	assert_int_equal(mdb_cursor_open(txn, tails, &cur), 0);
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		assert_true(deadline_tail_valid(&k, &v));
		int follows = deadline_tail_follows(txn, groups, &k, &v);
		assert_int_equal(follows, 1);
		/* a tail after groups of its (due, unit): they were filled from it */
		MDB_val gk = k, gv;
		MDB_cursor *g;
		assert_int_equal(mdb_cursor_open(txn, groups, &g), 0);
		after_groups += mdb_cursor_get(g, &gk, &gv, MDB_SET_RANGE) == 0 &&
				memcmp(gk.mv_data, k.mv_data, 8) == 0;
		mdb_cursor_close(g);
		n_tails++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	printf("# %zu entries in %zu groups and %zu tails: %zu groups after another of their "
	       "(due, unit), %zu tails after groups\n",
	       want.n, values, n_tails, split, after_groups);
	assert_true(values + n_tails < want.n / 4);
	assert_true(split > 0);
	assert_true(after_groups > 0);

	free(got.v);
	free(want.v);
	free(apps);
	free(t);
	free(batch);
	free(status);
	calendar_free(cal);
	city_free(&city);
	tmpdir_remove(dir);
}

/* Opens dir's environment for writing, for the tests below to reach behind the store's back. */
static MDB_txn *raw_begin(const char *dir, MDB_env **env)
{
	MDB_txn *txn;
	assert_int_equal(mdb_env_create(env), 0);
	assert_int_equal(mdb_env_set_maxdbs(*env, 16), 0);
	assert_int_equal(mdb_env_open(*env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, 0, &txn), 0);
	return txn;
}

static void raw_commit(MDB_env *env, MDB_txn *txn)
{
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/*
 * A store of the version that kept an entry a key (database "deadlines", and no groups): opened
 * for writing, its old index is dropped and the groups built on the calendar stored with it, so
 * that verify finds the index and the late answers (counted on that calendar) right before any
 * calendar is set again.
 */
static void test_store_index_of_an_earlier_version(void **state)
{
	(void)state;
	struct city city;
	struct seen s;
	MDB_env *env;
	MDB_dbi groups, legacy;
	char *dir = tmpdir_make("deadline-earlier");
	struct calendar *cal = load_shipped();
	city_make(&city, 3);
	struct store *st = test_store_open(dir, &city);
	assert_int_equal(store_set_calendar(st, cal), 0);
	apply_app(st, "u001", "a", 1, "2024-09-27", NULL);
	apply_app(st, "u002", "b", 1, "2024-02-05", NULL);
	apply_app(st, "u002", "c", 1, "2024-02-05", "2024-02-20");
	apply_app(st, "u002", "d", 1, "2024-02-05", "2024-09-20"); /* late */
	store_close(st);

	/* as the earlier version left it: an entry a key, the calendar stored with them */
	MDB_txn *txn = raw_begin(dir, &env);
	assert_int_equal(mdb_dbi_open(txn, DEADLINE_DB, 0, &groups), 0);
	assert_int_equal(mdb_drop(txn, groups, 1), 0);
	assert_int_equal(mdb_dbi_open(txn, DEADLINE_LEGACY_DB, MDB_CREATE, &legacy), 0);
	uint8_t key[9] = {0, 0, 0x4e, 0x20, 0, 0, 0, 1, 'a'}, val[DEADLINE_VALUE_SIZE] = {0};
	MDB_val k = {sizeof(key), key}, v = {sizeof(val), val};
	assert_int_equal(mdb_put(txn, legacy, &k, &v, 0), 0);
	raw_commit(env, txn);
	char why[256];
	uint64_t entries;
	assert_int_equal(store_check_walk(dir, 0, &entries, why, sizeof(why)), 0);

	st = test_store_open(dir, &city);
	verify_clean(st);
	list_all(st, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.lines[0], "u002 b 0 2024-03-08");
	assert_string_equal(s.lines[1], "u001 a 0 2024-10-30");
	assert_int_equal(store_set_calendar(st, cal), 0);
	list_all(st, &s);
	assert_int_equal(s.n, 2);
	verify_clean(st);
	store_close(st);
	txn = raw_begin(dir, &env);
	assert_int_equal(mdb_dbi_open(txn, DEADLINE_LEGACY_DB, 0, &legacy), MDB_NOTFOUND);
	raw_commit(env, txn);

	calendar_free(cal);
	city_free(&city);
	tmpdir_remove(dir);
}

/*
 * The damage tests' store: the index's changes go straight into its groups and tails (none
 * logged), so that a commit writes the values the test damaged (test_store_index_log: logged).
 */
static struct store *open_straight(const char *dir, const struct city *c)
{
	struct store *st = NULL;
	struct store_options opt = {.no_sync = 1, .no_deadline_log = 1};
	assert_int_equal(store_open(&st, dir, &opt), 0);
	assert_int_equal(store_set_units(st, c->units, c->n), 0);
	return st;
}

/*
 * The damage tests: a store of three units on the shipped calendar holding u001's applications
 * ids (received 2024-09-27, open: one tail), closed, its environment then opened for writing
 * behind its back with the tail's key and value in k, v (cursor cur, of tails). as_group: the tail
 * made a group first, as the version before the tails wrote it (a store that must still be
 * read as it is), whose key and value are then in k, v (cursor cur, of groups).
 */
struct damage {
	struct city city;
	struct calendar *cal;
	char *dir;
	uint64_t digest; /* the store's, before the damage */
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi groups, tails;
	MDB_cursor *cur;
	MDB_val k, v;
};

/*
 * The group of ids (of one day: each entry's flags and days before the due date as the tail's
 * first entry has them), packed as the version before the tails did: each id sharing all it can
 * of the one before. Its size.
 */
static size_t pack_group(const MDB_val *tail, const char *const *ids, size_t n, uint8_t *out)
{
	const uint8_t *t = tail->mv_data, *val = t + 2 + t[1];
	size_t size = 0, prevlen = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(ids[i]), shared = 0;
		while (i > 0 && shared < len && shared < prevlen &&
		       ids[i][shared] == ids[i - 1][shared])
			shared++;
		out[size++] = (uint8_t)shared;
		out[size++] = (uint8_t)(len - shared);
		memcpy(out + size, ids[i] + shared, len - shared);
		size += len - shared;
		memcpy(out + size, val, 3); /* [flags 0][days before the due date u16] */
		size += 3;
		prevlen = len;
	}
	return size;
}

static void damage_begin(struct damage *d, const char *tag, const char *const *ids, size_t n,
			 int as_group)
{
	d->dir = tmpdir_make(tag);
	d->cal = load_shipped();
	city_make(&d->city, 3);
	struct store *st = open_straight(d->dir, &d->city);
	assert_int_equal(store_set_calendar(st, d->cal), 0);
	for (size_t i = 0; i < n; i++)
		apply_app(st, "u001", ids[i], 1, "2024-09-27", NULL);
	verify_clean(st);
	d->digest = store_digest(st);
	store_close(st);
	d->txn = raw_begin(d->dir, &d->env);
	assert_int_equal(mdb_dbi_open(d->txn, DEADLINE_DB, 0, &d->groups), 0);
	assert_int_equal(mdb_dbi_open(d->txn, DEADLINE_TAILS_DB, 0, &d->tails), 0);
	assert_int_equal(mdb_cursor_open(d->txn, d->tails, &d->cur), 0);
	assert_int_equal(mdb_cursor_get(d->cur, &d->k, &d->v, MDB_FIRST), 0);
	assert_int_equal(d->k.mv_size, 8);
	if (!as_group)
		return;
	uint8_t key[8 + RECORD_ID_MAX], packed[DEADLINE_GROUP_MAX];
	size_t last = strlen(ids[n - 1]);
	memcpy(key, d->k.mv_data, 8);
	memcpy(key + 8, ids[n - 1], last);
	MDB_val k = {8 + last, key}, v = {pack_group(&d->v, ids, n, packed), packed};
	assert_int_equal(mdb_cursor_del(d->cur, 0), 0);
	assert_int_equal(mdb_put(d->txn, d->groups, &k, &v, 0), 0);
	mdb_cursor_close(d->cur);
	raw_commit(d->env, d->txn);
	/* as the version before wrote it: sound, and the same store */
	char why[256] = "";
	uint64_t entries;
	assert_int_equal(store_check_walk(d->dir, 0, &entries, why, sizeof(why)), 0);
	st = open_straight(d->dir, &d->city);
	verify_clean(st);
	assert_true(store_digest(st) == d->digest);
	store_close(st);
	d->txn = raw_begin(d->dir, &d->env);
	assert_int_equal(mdb_dbi_open(d->txn, DEADLINE_DB, 0, &d->groups), 0);
	assert_int_equal(mdb_dbi_open(d->txn, DEADLINE_TAILS_DB, 0, &d->tails), 0);
	assert_int_equal(mdb_cursor_open(d->txn, d->groups, &d->cur), 0);
	assert_int_equal(mdb_cursor_get(d->cur, &d->k, &d->v, MDB_FIRST), 0);
}

/* The damage committed: the walk of the store refuses it, saying words. */
static void damage_commit(struct damage *d, const char *words)
{
	char why[256] = "";
	uint64_t entries;
	mdb_cursor_close(d->cur);
	raw_commit(d->env, d->txn);
	assert_int_not_equal(store_check_walk(d->dir, 0, &entries, why, sizeof(why)), 0);
	printf("# walk: %s\n", why);
	assert_non_null(strstr(why, words));
}

/* The store opened again refuses u001's application id (nothing stored); verify finds it. */
static void damage_refuses(struct damage *d, const char *id)
{
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	struct store_status status;
	size_t differences = 0;
	struct store *st = open_straight(d->dir, &d->city);
	trec_application(&t, "u001", id, 1, 1, "2024-09-27", NULL, 0);
	assert_int_equal(store_apply(st, &r, 1, &status), XXGK_ECORRUPT);
	assert_true(store_digest(st) == d->digest);
	assert_int_equal(store_verify(st, NULL, NULL, &differences), 0);
	printf("# verify: %zu differences\n", differences);
	assert_true(differences > 0);
	store_close(st);
}

static void damage_end(struct damage *d)
{
	calendar_free(d->cal);
	city_free(&d->city);
	tmpdir_remove(d->dir);
}

/*
 * A damaged value of the index (g1 g2 under g2's key, its last byte gone): the walk of the store
 * refuses it, a read of the index and a record that would change that value are refused
 * (nothing stored), and verify names it.
 */
static void test_store_index_damaged_group(void **state)
{
	(void)state;
	struct damage d;
	struct seen s;
	uint8_t copy[DEADLINE_GROUP_MAX];
	damage_begin(&d, "deadline-damaged", (const char *const[]){"g1", "g2"}, 2, 1);
	assert_int_equal(d.k.mv_size, 8 + 2);
	assert_memory_equal((const char *)d.k.mv_data + 8, "g2", 2);
	memcpy(copy, d.v.mv_data, d.v.mv_size);
	MDB_val shorter = {d.v.mv_size - 1, copy};
	assert_int_equal(mdb_cursor_put(d.cur, &d.k, &shorter, MDB_CURRENT), 0);
	damage_commit(&d, "deadlines index");

	struct store *st = open_straight(d.dir, &d.city);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_deadlines(st, 1, day("2099-12-31"), 1, see, &s), XXGK_ECORRUPT);
	store_close(st);
	damage_refuses(&d, "g15"); /* between g1 and g2: into it */
	damage_end(&d);
}

/*
 * A group whose last entry is not the id of its key (damage: g2 packed as g4, every size right):
 * a record that falls into it is refused (nothing stored), not packed into it, which would
 * leave a well-formed value holding g4 and no g2.
 */
static void test_store_index_damaged_last_id(void **state)
{
	(void)state;
	struct damage d;
	uint8_t copy[13];
	damage_begin(&d, "deadline-last-id", (const char *const[]){"g1", "g2"}, 2, 1);
	/* [due][unit]g2 -> [0][2]"g1"[flags][u16] [1][1]"2"[flags][u16]: "2" becomes "4" */
	assert_int_equal(d.k.mv_size, 8 + 2);
	assert_int_equal(d.v.mv_size, sizeof(copy));
	memcpy(copy, d.v.mv_data, sizeof(copy));
	assert_memory_equal(copy + 7, ((uint8_t[]){1, 1, '2'}), 3);
	copy[9] = '4';
	MDB_val damaged = {sizeof(copy), copy};
	assert_int_equal(mdb_cursor_put(d.cur, &d.k, &damaged, MDB_CURRENT), 0);
	damage_commit(&d, "deadlines index");
	damage_refuses(&d, "g15");
	damage_end(&d);
}

/*
 * A damaged tail (g1 g2: [0][2]"g1"[flags][u16] [0][2]"g2"[flags][u16] [7], the size of its last
 * entry): with that size wrong, with its last entry sharing a byte of the one before (packed as
 * [1][1]"2", its size right), or with a last entry whose id is longer than any record's (200
 * bytes, every size right), or with its last entry sharing a byte and its size pointing into it
 * where the bytes happen to be a whole entry ("aaa", whose id is not the walk's), the walk of the
 * store refuses it, and a new application, which would be appended to it, is refused (nothing
 * stored), not packed after an id read from where no entry begins, copied into an id-sized buffer
 * or appended after a last entry cut short (the walk of the result would take it); verify names
 * it.
 */
static void test_store_index_damaged_tail(void **state)
{
	(void)state;
	static const char *const tags[] = {"deadline-tail-size", "deadline-tail-shares",
					   "deadline-tail-long-id", "deadline-tail-inside"};
	for (int how = 0; how < 4; how++) {
		struct damage d;
		uint8_t copy[7 + 3 + 200 + 3 + 1];
		damage_begin(&d, tags[how], (const char *const[]){"g1", "g2"}, 2, 0);
		assert_int_equal(d.v.mv_size, 15);
		memcpy(copy, d.v.mv_data, 15);
		assert_memory_equal(copy, ((uint8_t[]){0, 2, 'g', '1'}), 4);
		assert_memory_equal(copy + 7, ((uint8_t[]){0, 2, 'g', '2'}), 4);
		assert_int_equal(copy[14], 7);
		MDB_val damaged = {15, copy};
		if (how == 0) {
			copy[14] = 6;
		} else if (how == 1) {
			memcpy(copy + 7, ((uint8_t[]){1, 1, '2'}), 3);
			memmove(copy + 10, copy + 11, 3);
			copy[13] = 6;
			damaged.mv_size = 14;
		} else if (how == 2) {
			copy[8] = 200; /* [0][200]"xx..x"[flags][u16], its size 205 */
			memmove(copy + 9 + 200, copy + 11, 3);
			memset(copy + 9, 'x', 200);
			copy[9 + 200 + 3] = 205;
			damaged.mv_size = 9 + 200 + 3 + 1;
		} else {
			/*
			 * g2 as [1][1]"2"[flags 14: received in full, suspended, an error year]
			 * [0 3 'a' 'a']['a' 0][0 1], its size said 8: where that points,
			 * [0][3]"aaa"[0][0 1] is a whole entry, though no walk's
			 */
			static const uint8_t g2[] = {1,	  1,   '2', 14, 0, 3, 'a',
						     'a', 'a', 0,   0,	1, 8};
			memcpy(copy + 7, g2, sizeof(g2));
			damaged.mv_size = 7 + sizeof(g2);
		}
		assert_int_equal(mdb_cursor_put(d.cur, &d.k, &damaged, MDB_CURRENT), 0);
		damage_commit(&d, "deadlines index is malformed");
		damage_refuses(&d, how == 2 ? "y1" : "g3"); /* after its last id: appended */
		damage_end(&d);
	}
}

/* Keeps the first difference verify names, in ctx (256 bytes). */
static void first_difference(void *ctx, const char *line)
{
	char *first = ctx;
	if (first[0] == '\0')
		snprintf(first, 256, "%s", line);
}

/*
 * A tail that overlaps the last group of its (due, unit) (damage: g2 in both, the group g1 g2 and
 * the tail g2 g3): the walk of the store refuses it, a new application (to the tail) is refused,
 * nothing stored, and verify names the overlap.
 */
static void test_store_index_tail_overlaps_group(void **state)
{
	(void)state;
	struct damage d;
	const char *const ids[] = {"g1", "g2", "g3"};
	uint8_t key[8 + 2], packed[32], tail[22];
	damage_begin(&d, "deadline-tail-overlap", ids, 3, 0);
	/* [0][2]"g1"[flags][u16] [0][2]"g2".. [0][2]"g3".. [7]: each was the last when written */
	assert_int_equal(d.v.mv_size, sizeof(tail));
	memcpy(tail, d.v.mv_data, sizeof(tail));
	memcpy(key, d.k.mv_data, 8);
	memcpy(key + 8, "g2", 2);
	MDB_val k = {sizeof(key), key}, v = {pack_group(&d.v, ids, 2, packed), packed};
	assert_int_equal(mdb_put(d.txn, d.groups, &k, &v, 0), 0);
	MDB_val shorter = {sizeof(tail) - 7, tail + 7}; /* g2 g3 */
	assert_int_equal(mdb_cursor_put(d.cur, &d.k, &shorter, MDB_CURRENT), 0);
	damage_commit(&d, "overlap");
	damage_refuses(&d, "g4");
	/* verify names the tail by its unit and day (it has no id of its own) */
	struct store *st = open_straight(d.dir, &d.city);
	char named[256] = "";
	size_t differences = 0;
	assert_int_equal(store_verify(st, first_difference, named, &differences), 0);
	printf("# verify: %s\n", named);
	assert_non_null(strstr(named,
			       ", the tail of its applications due 2024-10-30: in a value of "
			       "the index that overlaps the one before"));
	store_close(st);
	damage_end(&d);
}

/* How many values dir's database name holds (the store closed: read behind its back). */
static size_t raw_count(const char *dir, const char *name)
{
	MDB_env *env;
	MDB_txn *txn = raw_begin(dir, &env);
	MDB_dbi dbi;
	MDB_stat stat;
	assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
	assert_int_equal(mdb_stat(txn, dbi, &stat), 0);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return stat.ms_entries;
}

/*
 * The log (store_deadline.h): a commit's changes are logged, listed at once and verified, with
 * nothing written to the tails; the commit after DEADLINE_LOG_VALUES - 1 logged ones merges them
 * (an answer among its changes removing one), and a commit of more than DEADLINE_LOG_CHANGES
 * changes goes straight in. A damaged value of the log: the walk refuses it, a read is refused,
 * verify names it; a commit that is logged does not read the log, but the one that would merge
 * it is refused, nothing of it stored.
 */
static void test_store_index_log(void **state)
{
	(void)state;
	char *dir = tmpdir_make("deadline-log");
	struct calendar *cal = load_shipped();
	struct city city;
	struct listed l = {0};
	struct seen seen;
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	struct store_status status;
	char id[16], why[256] = "", named[256] = "";
	uint64_t entries;
	size_t differences = 0;
	city_make(&city, 3);
	struct store *st = test_store_open(dir, &city);
	assert_int_equal(store_set_calendar(st, cal), 0);
	for (int i = 0; i < DEADLINE_LOG_VALUES - 1; i++) {
		snprintf(id, sizeof(id), "L%02d", i);
		apply_app(st, "u001", id, 1, "2024-09-27", NULL);
		list_open(st, &l);
		assert_int_equal(l.n, (size_t)i + 1);
	}
	verify_clean(st);
	store_close(st);
	assert_int_equal(raw_count(dir, DEADLINE_LOG_DB), DEADLINE_LOG_VALUES - 1);
	assert_int_equal(raw_count(dir, DEADLINE_TAILS_DB), 0);

	/* merged: L00 answered in the commit that merges */
	st = test_store_open(dir, &city);
	apply_app(st, "u001", "L00", 2, "2024-09-27", "2024-10-08");
	list_open(st, &l);
	assert_int_equal(l.n, DEADLINE_LOG_VALUES - 2);
	assert_string_equal(l.v[0], "u001 L01");
	verify_clean(st);
	store_close(st);
	assert_int_equal(raw_count(dir, DEADLINE_LOG_DB), 0);
	assert_int_equal(raw_count(dir, DEADLINE_TAILS_DB), 1);

	/* a large commit: straight into the groups and tails */
	size_t many = DEADLINE_LOG_CHANGES + 1;
	struct trec *ts = calloc(many, sizeof(*ts));
	Xxgk__V1__Record **rs = calloc(many, sizeof(*rs));
	struct store_status *ss = calloc(many, sizeof(*ss));
	assert_non_null(ts);
	assert_non_null(rs);
	assert_non_null(ss);
	for (size_t i = 0; i < many; i++) {
		snprintf(id, sizeof(id), "M%05zu", i);
		trec_application(&ts[i], "u002", id, 1, 1, "2024-09-27", NULL, 0);
		rs[i] = &ts[i].r;
	}
	st = test_store_open(dir, &city);
	test_apply(st, rs, many, ss);
	list_open(st, &l);
	assert_int_equal(l.n, DEADLINE_LOG_VALUES - 2 + many);
	verify_clean(st);
	store_close(st);
	free(ts);
	free(rs);
	free(ss);
	assert_int_equal(raw_count(dir, DEADLINE_LOG_DB), 0);

	/* two commits logged, the first's first change given flags no change has */
	st = test_store_open(dir, &city);
	apply_app(st, "u000", "D0", 1, "2024-09-27", NULL);
	apply_app(st, "u000", "D1", 1, "2024-09-27", NULL);
	store_close(st);
	MDB_env *env;
	MDB_txn *txn = raw_begin(dir, &env);
	MDB_dbi log;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t damaged[256];
	assert_int_equal(mdb_dbi_open(txn, DEADLINE_LOG_DB, 0, &log), 0);
	assert_int_equal(mdb_cursor_open(txn, log, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
	assert_true(v.mv_size <= sizeof(damaged));
	memcpy(damaged, v.mv_data, v.mv_size);
	damaged[0] |= 0x80;
	v.mv_data = damaged;
	assert_int_equal(mdb_cursor_put(cur, &k, &v, MDB_CURRENT), 0);
	mdb_cursor_close(cur);
	raw_commit(env, txn);
	assert_int_not_equal(store_check_walk(dir, 0, &entries, why, sizeof(why)), 0);
	printf("# walk: %s\n", why);
	assert_non_null(strstr(why, "a value of the deadlines index's log is malformed"));
	st = test_store_open(dir, &city);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_deadlines(st, 1, day("2099-12-31"), 1, see, &seen), XXGK_ECORRUPT);
	assert_int_equal(store_verify(st, first_difference, named, &differences), 0);
	printf("# verify: %zu differences, the first: %s\n", differences, named);
	assert_true(differences > 0);
	assert_string_equal(named, "deadlines: a value of the index's log is damaged");
	for (int i = 2; i < DEADLINE_LOG_VALUES - 1; i++) {
		snprintf(id, sizeof(id), "D%d", i);
		apply_app(st, "u000", id, 1, "2024-09-27", NULL);
	}
	uint64_t digest = store_digest(st);
	trec_application(&t, "u000", "D9", 1, 1, "2024-09-27", NULL, 0);
	assert_int_equal(store_apply(st, &r, 1, &status), XXGK_ECORRUPT);
	assert_true(store_digest(st) == digest);
	store_close(st);
	/* the log as it was: not merged, not emptied, nothing added */
	assert_int_equal(raw_count(dir, DEADLINE_LOG_DB), DEADLINE_LOG_VALUES - 1);

	free(l.v);
	calendar_free(cal);
	city_free(&city);
	tmpdir_remove(dir);
}

/*
 * A value of the log under its last key, all ones (a log's keys only order its values): the walk,
 * a read and verify take it, and so does the next commit, which cannot log after it (its key
 * would wrap to 0, before every other) and merges instead.
 */
static void test_store_index_log_last_key(void **state)
{
	(void)state;
	char *dir = tmpdir_make("deadline-log-key");
	struct calendar *cal = load_shipped();
	struct city city;
	struct listed l = {0};
	char why[256] = "";
	uint64_t entries;
	city_make(&city, 3);
	struct store *st = test_store_open(dir, &city);
	assert_int_equal(store_set_calendar(st, cal), 0);
	apply_app(st, "u001", "K0", 1, "2024-09-27", NULL);
	apply_app(st, "u001", "K1", 1, "2024-09-27", NULL);
	store_close(st);
	assert_int_equal(raw_count(dir, DEADLINE_LOG_DB), 2);
	MDB_env *env;
	MDB_txn *txn = raw_begin(dir, &env);
	MDB_dbi log;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t value[256], last[4] = {0xff, 0xff, 0xff, 0xff};
	assert_int_equal(mdb_dbi_open(txn, DEADLINE_LOG_DB, 0, &log), 0);
	assert_int_equal(mdb_cursor_open(txn, log, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_LAST), 0);
	assert_true(v.mv_size <= sizeof(value));
	memcpy(value, v.mv_data, v.mv_size);
	MDB_val lk = {sizeof(last), last}, lv = {v.mv_size, value};
	assert_int_equal(mdb_cursor_del(cur, 0), 0);
	assert_int_equal(mdb_cursor_put(cur, &lk, &lv, 0), 0);
	mdb_cursor_close(cur);
	raw_commit(env, txn);
	assert_int_equal(store_check_walk(dir, 0, &entries, why, sizeof(why)), 0);

	st = test_store_open(dir, &city);
	list_open(st, &l);
	assert_int_equal(l.n, 2);
	verify_clean(st);
	apply_app(st, "u001", "K2", 1, "2024-09-27", NULL);
	list_open(st, &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[2], "u001 K2");
	verify_clean(st);
	store_close(st);
	assert_int_equal(raw_count(dir, DEADLINE_LOG_DB), 0);

	free(l.v);
	calendar_free(cal);
	city_free(&city);
	tmpdir_remove(dir);
}

/*
 * Two values of one (due, unit) that overlap (damage: g2 in both): each entry is where a lookup
 * finds it and every one is explained by its record, yet the walk of the store refuses it, verify
 * names the overlap, and a record that would change the first value is refused (nothing stored).
 */
static void test_store_index_overlapping_groups(void **state)
{
	(void)state;
	struct damage d;
	uint8_t key[8 + 2], packed[19], a[13], b[13];
	damage_begin(&d, "deadline-overlap", (const char *const[]){"g1", "g2", "g3"}, 3, 1);
	/*
	 * [due][unit]g3 -> g1 g2 g3 becomes [due][unit]g2 -> g1 g2 and [due][unit]g3 -> g2 g3.
	 * Packed (store_deadline.c): g1 is [0][2]"g1"[flags][days before due u16], g2 and g3 after
	 * it [1][1]"2" and [1][1]"3" with theirs; a group's first entry shares nothing.
	 */
	assert_int_equal(d.k.mv_size, 8 + 2);
	assert_int_equal(d.v.mv_size, sizeof(packed));
	memcpy(key, d.k.mv_data, sizeof(key));
	memcpy(packed, d.v.mv_data, sizeof(packed));
	assert_memory_equal(packed, ((uint8_t[]){0, 2, 'g', '1'}), 4);
	assert_memory_equal(packed + 7, ((uint8_t[]){1, 1, '2'}), 3);
	assert_memory_equal(packed + 13, ((uint8_t[]){1, 1, '3'}), 3);
	assert_int_equal(mdb_cursor_del(d.cur, 0), 0);
	memcpy(a, packed, 13); /* g1 g2 */
	memcpy(b, (uint8_t[]){0, 2, 'g', '2'}, 4);
	memcpy(b + 4, packed + 10, 3); /* g2, sharing nothing, then g3 */
	memcpy(b + 7, packed + 13, 6);
	key[9] = '2';
	MDB_val k = {sizeof(key), key}, v = {sizeof(a), a};
	assert_int_equal(mdb_put(d.txn, d.groups, &k, &v, MDB_NOOVERWRITE), 0);
	key[9] = '3';
	v = (MDB_val){sizeof(b), b};
	assert_int_equal(mdb_put(d.txn, d.groups, &k, &v, MDB_NOOVERWRITE), 0);
	damage_commit(&d, "overlap");
	damage_refuses(&d, "g15");
	damage_end(&d);
}

/*
 * A key of the index longer than any entry's (damage) right after the one a record would change:
 * the write is refused (nothing stored), not read into a key-sized buffer.
 */
static void test_store_index_damaged_long_key(void **state)
{
	(void)state;
	struct damage d;
	uint8_t key[8 + 400], val[7] = {0, 2, 'g', '9', 0, 0, 20};
	damage_begin(&d, "deadline-long-key", (const char *const[]){"g1"}, 1, 1);
	/* after g1's group, of its (due, unit): [due][unit]g9zzz... of 400 bytes */
	memcpy(key, d.k.mv_data, 8);
	memset(key + 8, 'z', sizeof(key) - 8);
	key[8] = 'g';
	key[9] = '9';
	MDB_val k = {sizeof(key), key}, v = {sizeof(val), val};
	assert_int_equal(mdb_put(d.txn, d.groups, &k, &v, 0), 0);
	damage_commit(&d, "deadlines");
	damage_refuses(&d, "g3");
	damage_end(&d);
}

/*
 * A store as the code before the late answers left it: no late counters and no meta
 * "late_answers" (the calendar stored as it was).
 */
static void forget_late_answers(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi counters, meta;
	MDB_cursor *cur;
	MDB_val k, v, lk = {strlen("late_answers"), "late_answers"};
	int rc, removed = 0;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "counters", 0, &counters), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_del(txn, meta, &lk, NULL), 0);
	assert_int_equal(mdb_cursor_open(txn, counters, &cur), 0);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct counter_key key;
		counter_key_decode(k.mv_data, &key);
		if (key.counter == COUNTER_LATE_ANSWERS) {
			assert_int_equal(mdb_cursor_del(cur, 0), 0);
			removed++;
		}
	}
	mdb_cursor_close(cur);
	assert_true(removed > 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/*
 * The year's late answers (a figure of the report's narrative): counted in the record's
 * transaction in the year of the answer, moved by a revision, recounted when the calendar moves
 * the due dates, and recomputed by verify.
 */
static void test_store_late_answers(void **state)
{
	(void)state;
	struct city city;
	char *dir = tmpdir_make("deadline-late");
	struct calendar *cal = load_shipped();
	city_make(&city, 3);
	struct store *st = test_store_open(dir, &city);
	assert_int_equal(store_set_calendar(st, cal), 0);

	/* due 2024-10-30 (received the Friday before National Day) */
	apply_app(st, "u001", "on-time", 1, "2024-09-27", "2024-10-30");
	apply_app(st, "u001", "late", 1, "2024-09-27", "2024-10-31");
	apply_app(st, "u002", "late-2025", 1, "2024-12-10", "2025-03-03");
	apply_app(st, "u002", "open", 1, "2024-09-27", NULL);
	printf("late answers: 2024 city %lld u001 %lld u002 %lld; 2025 city %lld\n",
	       (long long)late_of(st, 2024, NULL), (long long)late_of(st, 2024, "u001"),
	       (long long)late_of(st, 2024, "u002"), (long long)late_of(st, 2025, NULL));
	assert_int_equal(late_of(st, 2024, NULL), 1);
	assert_int_equal(late_of(st, 2024, "u001"), 1);
	assert_int_equal(late_of(st, 2024, "u002"), 0);
	assert_int_equal(late_of(st, 2025, NULL), 1);
	verify_clean(st);

	/* a revision that answers in time takes it back; one late again adds it */
	apply_app(st, "u001", "late", 2, "2024-09-27", "2024-10-29");
	assert_int_equal(late_of(st, 2024, NULL), 0);
	apply_app(st, "u001", "late", 3, "2024-09-27", "2024-10-31");
	assert_int_equal(late_of(st, 2024, NULL), 1);
	verify_clean(st);

	/* a calendar with four more days off at the end of October moves the due date past the
	 * answer of 31 October: it is in time now */
	char *extra =
	    write_file(dir, "extra.conf",
		       "[2024]\nnotice = test\noff = 2024-10-01..2024-10-07\n"
		       "work = 2024-09-29\nwork = 2024-10-12\noff = 2024-10-28..2024-10-31\n");
	const char *paths[] = {shipped[0], extra};
	struct calendar *moved = NULL;
	char err[256] = "";
	assert_int_equal(calendar_load(&moved, paths, 2, err, sizeof(err)), 0);
	assert_int_equal(store_set_calendar(st, moved), 0);
	printf("after the calendar change: 2024 city %lld; 2025 city %lld\n",
	       (long long)late_of(st, 2024, NULL), (long long)late_of(st, 2025, NULL));
	assert_int_equal(late_of(st, 2024, NULL), 0);
	assert_int_equal(late_of(st, 2025, NULL), 1);
	verify_clean(st);
	/* and back */
	assert_int_equal(store_set_calendar(st, cal), 0);
	assert_int_equal(late_of(st, 2024, NULL), 1);
	assert_int_equal(late_of(st, 2024, "u001"), 1);
	verify_clean(st);

	/* a store written before the late answers were counted counts them once, on the same
	 * calendar as before */
	store_close(st);
	forget_late_answers(dir);
	st = test_store_open(dir, &city);
	assert_int_equal(late_of(st, 2024, NULL), 0);
	assert_int_equal(store_set_calendar(st, cal), 0);
	printf("a store from before, counted: 2024 city %lld; 2025 city %lld\n",
	       (long long)late_of(st, 2024, NULL), (long long)late_of(st, 2025, NULL));
	assert_int_equal(late_of(st, 2024, NULL), 1);
	assert_int_equal(late_of(st, 2025, NULL), 1);
	verify_clean(st);

	store_close(st);
	calendar_free(moved);
	calendar_free(cal);
	free(extra);
	city_free(&city);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_due_dates),
	    cmocka_unit_test(test_answered_on_due_date_in_time),
	    cmocka_unit_test(test_days_left),
	    cmocka_unit_test(test_calendar_shipped),
	    cmocka_unit_test(test_calendar_files),
	    cmocka_unit_test(test_calendar_counts_agree_with_walking),
	    cmocka_unit_test(test_validation_of_events),
	    cmocka_unit_test(test_store_index),
	    cmocka_unit_test(test_store_index_revisions_in_one_commit),
	    cmocka_unit_test(test_store_index_paused),
	    cmocka_unit_test(test_store_index_groups_follow_a_model),
	    cmocka_unit_test(test_store_index_of_an_earlier_version),
	    cmocka_unit_test(test_store_index_damaged_group),
	    cmocka_unit_test(test_store_index_damaged_last_id),
	    cmocka_unit_test(test_store_index_damaged_long_key),
	    cmocka_unit_test(test_store_index_overlapping_groups),
	    cmocka_unit_test(test_store_index_damaged_tail),
	    cmocka_unit_test(test_store_index_tail_overlaps_group),
	    cmocka_unit_test(test_store_index_log),
	    cmocka_unit_test(test_store_index_log_last_key),
	    cmocka_unit_test(test_store_late_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
