/*
 * Every validation rule: the record is rejected with its reason and a message naming the field,
 * and the store (records and counters) is unchanged afterwards. Valid neighbours of each rule
 * are accepted, so the rules reject no more than they should.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "testutil.h"

#define INVALID XXGK__V1__RECORD_STATUS__REASON__INVALID
#define UNKNOWN_UNIT XXGK__V1__RECORD_STATUS__REASON__UNKNOWN_UNIT
#define CONFLICT XXGK__V1__RECORD_STATUS__REASON__CONFLICT
#define APPLIED XXGK__V1__RECORD_STATUS__CODE__APPLIED
#define REJECTED XXGK__V1__RECORD_STATUS__CODE__REJECTED

struct fixture {
	struct city city;
	char *dir;
	struct store *st;
	int serial;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct trec *t = calloc(4, sizeof(*t));
	Xxgk__V1__Record *batch[4];
	struct store_status statuses[4];
	city_make(&fx->city, 6);
	fx->dir = tmpdir_make("validation");
	fx->st = test_store_open(fx->dir, &fx->city);
	/* something stored, so that "unchanged" means something */
	trec_application(&t[0], "u001", "existing", 2, 1, "2019-03-01", "2019-03-20", 1);
	trec_document(&t[1], "u002", "doc-1", 1, 2, "2018-05-01", "2018-05-02", NULL);
	trec_case(&t[2], "u003", "case-1", 1, 1, "2019-06-01", NULL, 0);
	trec_tally(&t[3], "u000", "tally-1", 1, 3, "2019-12-31", 120);
	for (int i = 0; i < 4; i++)
		batch[i] = &t[i].r;
	test_apply(fx->st, batch, 4, statuses);
	for (int i = 0; i < 4; i++)
		assert_int_equal(statuses[i].code, APPLIED);
	free(t);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	store_close(fx->st);
	tmpdir_remove(fx->dir);
	city_free(&fx->city);
	free(fx);
	return 0;
}

/* Applies t alone and asserts it is rejected for reason with message, changing nothing. */
static void expect_rejected(struct fixture *fx, struct trec *t, int reason, const char *message)
{
	struct store_status s;
	Xxgk__V1__Record *r = &t->r;
	size_t differences = 1;
	uint64_t before = store_digest(fx->st);
	test_apply(fx->st, &r, 1, &s);
	if (s.code != REJECTED || (int)s.reason != reason)
		fail_msg("expected rejection %d (%s), got code %d reason %d: %s", reason, message,
			 s.code, s.reason, s.message);
	if (strstr(s.message, message) == NULL)
		fail_msg("message \"%s\" does not say \"%s\"", s.message, message);
	assert_true(store_digest(fx->st) == before);
	assert_int_equal(store_verify(fx->st, NULL, NULL, &differences), 0);
	assert_int_equal(differences, 0);
}

/* Applies t alone and asserts it is applied (each call uses a fresh id). */
static void expect_applied(struct fixture *fx, struct trec *t)
{
	struct store_status s;
	Xxgk__V1__Record *r = &t->r;
	char id[32];
	snprintf(id, sizeof(id), "fresh-%d", ++fx->serial);
	if (strncmp(t->id, "keep-", 5) != 0) {
		snprintf(t->id, sizeof(t->id), "%s", id);
		t->r.id = t->id;
	}
	test_apply(fx->st, &r, 1, &s);
	if (s.code != APPLIED)
		fail_msg("expected %s to be applied: %s", t->id, s.message);
}

static void app(struct trec *t, int applicant, const char *received, const char *concluded,
		int outcome)
{
	trec_application(t, "u001", "a-new", 1, applicant, received, concluded, outcome);
}

static void test_unknown_unit(void **state)
{
	struct trec t;
	trec_application(&t, "u999", "a-1", 1, 1, "2019-01-01", NULL, 0);
	expect_rejected(*state, &t, UNKNOWN_UNIT, "not a unit of this city");
}

static void test_unknown_enums(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	app(&t, 7, "2019-01-01", NULL, 0);
	expect_rejected(fx, &t, INVALID, "application.applicant: unknown value 7");
	app(&t, 0, "2019-01-01", NULL, 0);
	expect_rejected(fx, &t, INVALID, "application.applicant: missing");
	app(&t, 1, "2019-01-01", "2019-01-02", 22);
	expect_rejected(fx, &t, INVALID, "application.outcome: unknown value 22");
	app(&t, 1, "2019-01-01", "2019-01-02", -1);
	expect_rejected(fx, &t, INVALID, "application.outcome: unknown value -1");
	trec_document(&t, "u001", "d", 1, 3, "2019-01-01", NULL, NULL);
	expect_rejected(fx, &t, INVALID, "document.kind: unknown value 3");
	trec_case(&t, "u001", "c", 1, 4, "2019-01-01", NULL, 0);
	expect_rejected(fx, &t, INVALID, "legal_case.group: unknown value 4");
	trec_case(&t, "u001", "c", 1, 1, "2019-01-01", "2019-02-01", 4);
	expect_rejected(fx, &t, INVALID, "legal_case.result: unknown value 4");
	trec_tally(&t, "u001", "t", 1, 13, "2019-01-01", 1);
	expect_rejected(fx, &t, INVALID, "tally.measure: unknown value 13");
	trec_tally(&t, "u001", "t", 1, 0, "2019-01-01", 1);
	expect_rejected(fx, &t, INVALID, "tally.measure: missing");
	/* the largest known values are fine */
	app(&t, 6, "2019-01-01", "2019-01-02", 21);
	expect_applied(fx, &t);
	trec_tally(&t, "u001", "t", 1, 12, "2019-01-01", 1);
	expect_applied(fx, &t);
}

static void test_bad_dates(void **state)
{
	struct fixture *fx = *state;
	static const char *const malformed[] = {"2019-1-05",  "20190105",   "2019-01-05T08:00",
						"2019/01/05", "2019-01-5 ", " 2019-01-05",
						"",	      "2019-0a-05", "abcd-ef-gh"};
	static const char *const impossible[] = {"2019-02-30", "2019-02-29", "2019-13-01",
						 "2019-04-31", "2019-00-10", "2019-01-00",
						 "2100-02-29"};
	static const char *const out_of_range[] = {"1999-12-31", "2100-01-01", "0000-01-01",
						   "9999-12-31"};
	struct trec t;
	for (size_t i = 0; i < sizeof(malformed) / sizeof(*malformed); i++) {
		app(&t, 1, malformed[i], NULL, 0);
		expect_rejected(fx, &t, INVALID, "application.received: malformed date");
	}
	for (size_t i = 0; i < sizeof(impossible) / sizeof(*impossible); i++) {
		app(&t, 1, "2019-01-01", impossible[i], 1);
		expect_rejected(fx, &t, INVALID, "application.concluded: impossible date");
	}
	for (size_t i = 0; i < sizeof(out_of_range) / sizeof(*out_of_range); i++) {
		trec_tally(&t, "u001", "t", 1, 1, out_of_range[i], 1);
		expect_rejected(fx, &t, INVALID, "tally.date: date out of range");
	}
	trec_document(&t, "u001", "d", 1, 2, "2019-01-01", "2019-02-30", NULL);
	expect_rejected(fx, &t, INVALID, "document.published: impossible date");
	trec_document(&t, "u001", "d", 1, 2, "2019-01-01", NULL, "2019-1-1");
	expect_rejected(fx, &t, INVALID, "document.repealed: malformed date");
	trec_case(&t, "u001", "c", 1, 1, "2019-06-31", NULL, 0);
	expect_rejected(fx, &t, INVALID, "legal_case.filed: impossible date");
	/* leap days and the ends of the range are fine */
	app(&t, 1, "2020-02-29", "2099-12-31", 1);
	expect_applied(fx, &t);
	app(&t, 1, "2000-01-01", "2000-02-29", 2);
	expect_applied(fx, &t);
}

static void test_missing_dates(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	app(&t, 1, NULL, NULL, 0);
	expect_rejected(fx, &t, INVALID, "application.received: missing");
	trec_document(&t, "u001", "d", 1, 2, NULL, "2019-01-01", NULL);
	expect_rejected(fx, &t, INVALID, "document.made: missing");
	trec_case(&t, "u001", "c", 1, 2, NULL, NULL, 0);
	expect_rejected(fx, &t, INVALID, "legal_case.filed: missing");
	trec_tally(&t, "u001", "t", 1, 2, NULL, 5);
	expect_rejected(fx, &t, INVALID, "tally.date: missing");
}

static void test_order_of_dates(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	app(&t, 1, "2019-05-02", "2019-05-01", 1);
	expect_rejected(fx, &t, INVALID, "concluded before received");
	trec_document(&t, "u001", "d", 1, 2, "2019-05-02", "2019-05-01", NULL);
	expect_rejected(fx, &t, INVALID, "published before made");
	trec_document(&t, "u001", "d", 1, 2, "2019-05-02", NULL, "2019-05-01");
	expect_rejected(fx, &t, INVALID, "repealed before made");
	trec_document(&t, "u001", "d", 1, 2, "2019-05-02", "2019-07-01", "2019-06-01");
	expect_rejected(fx, &t, INVALID, "published after repealed");
	trec_case(&t, "u001", "c", 1, 3, "2019-05-02", "2019-05-01", 1);
	expect_rejected(fx, &t, INVALID, "closed before filed");
	/* the same day is fine */
	app(&t, 1, "2019-05-02", "2019-05-02", 1);
	expect_applied(fx, &t);
	trec_document(&t, "u001", "d", 1, 1, "2019-05-02", "2019-05-02", "2019-05-02");
	expect_applied(fx, &t);
}

static void test_outcome_and_date_together(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	app(&t, 1, "2019-05-02", NULL, 3);
	expect_rejected(fx, &t, INVALID, "an outcome without a conclusion date");
	app(&t, 1, "2019-05-02", "2019-05-03", 0);
	expect_rejected(fx, &t, INVALID, "a conclusion date without an outcome");
	trec_case(&t, "u001", "c", 1, 1, "2019-05-02", NULL, 2);
	expect_rejected(fx, &t, INVALID, "a result without a closing date");
	trec_case(&t, "u001", "c", 1, 1, "2019-05-02", "2019-06-01", 0);
	expect_rejected(fx, &t, INVALID, "a closing date without a result");
}

static void test_ids(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	char long_id[RECORD_ID_MAX + 2];
	memset(long_id, 'x', sizeof(long_id));
	long_id[RECORD_ID_MAX + 1] = '\0';
	trec_application(&t, "u001", "", 1, 1, "2019-01-01", NULL, 0);
	expect_rejected(fx, &t, INVALID, "id: missing or empty");
	trec_application(&t, "u001", "x", 1, 1, "2019-01-01", NULL, 0);
	t.r.id = NULL;
	expect_rejected(fx, &t, INVALID, "id: missing or empty");
	trec_application(&t, "u001", long_id, 1, 1, "2019-01-01", NULL, 0);
	t.r.id = long_id; /* trec_application truncates to its buffer */
	expect_rejected(fx, &t, INVALID, "id: longer than 128 bytes");
	trec_application(&t, "", "x", 1, 1, "2019-01-01", NULL, 0);
	expect_rejected(fx, &t, INVALID, "unit: missing or empty");
	/* exactly 128 bytes is fine */
	long_id[RECORD_ID_MAX] = '\0';
	memcpy(long_id, "keep-", 5);
	trec_application(&t, "u001", long_id, 1, 1, "2019-01-01", NULL, 0);
	expect_applied(fx, &t);
}

static void test_invalid_utf8(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = {"\xff",	  "ab\xc3\x28",	      "\xc0\xaf",
					  "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe4\xb8"};
	struct trec t;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		trec_application(&t, "u001", bad[i], 1, 1, "2019-01-01", NULL, 0);
		expect_rejected(fx, &t, INVALID, "id: invalid UTF-8");
		trec_application(&t, bad[i], "x", 1, 1, "2019-01-01", NULL, 0);
		expect_rejected(fx, &t, INVALID, "unit: invalid UTF-8");
		trec_document(&t, "u001", "d", 1, 2, "2019-01-01", NULL, NULL);
		t.body.doc.title = (char *)bad[i];
		expect_rejected(fx, &t, INVALID, "document.title: invalid UTF-8");
	}
	trec_application(&t, "u001", "a\tb", 1, 1, "2019-01-01", NULL, 0);
	expect_rejected(fx, &t, INVALID, "id: contains a control character");
	/* Chinese ids and titles are fine */
	trec_application(&t, "u001", "keep-瑞政申〔2019〕1号", 1, 1, "2019-01-01", NULL, 0);
	expect_applied(fx, &t);
	trec_document(&t, "u001", "d", 1, 2, "2019-01-01", NULL, NULL);
	t.body.doc.title = "瑞安市人民政府关于印发𠀀的通知";
	expect_applied(fx, &t);
}

/* C1 controls and bidi controls make an id or a unit read as another: refused, naming the field. */
static void test_invisible_controls(void **state)
{
	struct fixture *fx = *state;
	static const char *const c1[] = {"a\xc2\x85"
					 "b",
					 "\xc2\x80", "x\xc2\x9f"};
	static const char *const bidi[] = {"a\xe2\x80\xae"
					   "b",
					   "\xd8\x9c",
					   "a\xe2\x80\x8e",
					   "a\xe2\x80\x8f",
					   "a\xe2\x80\xaa",
					   "a\xe2\x81\xa6",
					   "a\xe2\x81\xa9"};
	struct trec t;
	for (size_t i = 0; i < sizeof(c1) / sizeof(*c1); i++) {
		trec_application(&t, "u001", c1[i], 1, 1, "2019-01-01", NULL, 0);
		expect_rejected(fx, &t, INVALID, "id: contains a control character");
		trec_application(&t, c1[i], "x", 1, 1, "2019-01-01", NULL, 0);
		expect_rejected(fx, &t, INVALID, "unit: contains a control character");
	}
	for (size_t i = 0; i < sizeof(bidi) / sizeof(*bidi); i++) {
		trec_application(&t, "u001", bidi[i], 1, 1, "2019-01-01", NULL, 0);
		expect_rejected(fx, &t, INVALID, "id: contains a bidirectional control character");
		trec_application(&t, bidi[i], "x", 1, 1, "2019-01-01", NULL, 0);
		expect_rejected(fx, &t, INVALID,
				"unit: contains a bidirectional control character");
	}
	/* their neighbours are ordinary characters */
	trec_application(&t, "u001", "a\xc2\xa0\xe2\x80\x90\xe2\x81\xaa-\xd8\x9b", 1, 1,
			 "2019-01-01", NULL, 0);
	expect_applied(fx, &t);
}

/* What is sent on the wire is valid UTF-8: cut at a character boundary, bad bytes replaced. */
static void test_utf8_sanitize(void **state)
{
	char out[14];
	(void)state;
	/* 5 CJK characters of 3 bytes into 13 bytes and the NUL: 4 fit, none is cut */
	assert_int_equal(utf8_sanitize(out, sizeof(out), "瑞安市人民", strlen("瑞安市人民")), 12);
	assert_string_equal(out, "瑞安市人");
	/* each byte that starts no character is replaced: 1 + 3 * 3 + 1 */
	assert_int_equal(utf8_sanitize(out, sizeof(out), "a\xff\xe4\xb8z", 5), 11);
	assert_string_equal(out, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
	assert_true(utf8_valid(out, strlen(out)));
	assert_int_equal(utf8_sanitize(out, 3, "\xff", 1), 0); /* U+FFFD does not fit */
	assert_string_equal(out, "");
}

static void test_values(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	static const int non_negative[] = {1, 2, 3, 4, 5, 6, 7};
	for (size_t i = 0; i < sizeof(non_negative) / sizeof(*non_negative); i++) {
		trec_tally(&t, "u001", "t", 1, non_negative[i], "2019-01-01", -1);
		expect_rejected(fx, &t, INVALID, "tally.value: negative");
	}
	trec_tally(&t, "u001", "t", 1, 5, "2019-01-01", 1000000000001LL);
	expect_rejected(fx, &t, INVALID, "tally.value: magnitude above");
	trec_tally(&t, "u001", "t", 1, 8, "2019-01-01", -1000000000001LL);
	expect_rejected(fx, &t, INVALID, "tally.value: magnitude above");
	trec_tally(&t, "u001", "t", 1, 8, "2019-01-01", 5);
	t.body.tally.has_value = 0;
	expect_rejected(fx, &t, INVALID, "tally.value: missing");
	/* catalogue changes may be negative; zero is a value */
	for (int m = 8; m <= 12; m++) {
		trec_tally(&t, "u001", "t", 1, m, "2019-01-01", -3);
		expect_applied(fx, &t);
	}
	trec_tally(&t, "u001", "t", 1, 3, "2019-01-01", 0);
	expect_applied(fx, &t);
}

static void test_revision_and_body(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	app(&t, 1, "2019-01-01", NULL, 0);
	t.r.revision = 0;
	expect_rejected(fx, &t, INVALID, "revision: missing or 0");
	app(&t, 1, "2019-01-01", NULL, 0);
	t.r.has_revision = 0;
	expect_rejected(fx, &t, INVALID, "revision: missing or 0");
	app(&t, 1, "2019-01-01", NULL, 0);
	t.r.body_case = XXGK__V1__RECORD__BODY__NOT_SET;
	t.r.application = NULL;
	expect_rejected(fx, &t, INVALID, "record: no application");
}

/* A submission (报送): its year in range, its id the year's, a tombstone's id a year's. */
static void test_submissions(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	trec_submission(&t, "u001", 0, 1);
	snprintf(t.id, sizeof(t.id), "报送-2024");
	expect_rejected(fx, &t, INVALID, "submission.year: missing");
	trec_submission(&t, "u001", 1999, 1);
	expect_rejected(fx, &t, INVALID, "submission.year: 1999 is not a year from 2000 to 2099");
	trec_submission(&t, "u001", 2100, 1);
	expect_rejected(fx, &t, INVALID, "submission.year: 2100 is not a year from 2000 to 2099");
	trec_submission(&t, "u001", 2024, 1);
	snprintf(t.id, sizeof(t.id), "报送-2023");
	expect_rejected(fx, &t, INVALID, "id: the submission of 2024 has the id 报送-2024");
	trec_submission(&t, "u001", 2024, 1);
	snprintf(t.id, sizeof(t.id), "submission-2024");
	expect_rejected(fx, &t, INVALID, "id: the submission of 2024 has the id 报送-2024");
	const char *bad_ids[] = {"报送-24", "报送-1999", "报送-20x4", "报送-20245", "x-2024"};
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		trec_tombstone(&t, "u001", bad_ids[i], 1, RECORD_SUBMISSION);
		expect_rejected(fx, &t, INVALID, "id: a submission's id is 报送-YYYY");
	}
	trec_submission(&t, "u999", 2024, 1);
	expect_rejected(fx, &t, UNKNOWN_UNIT, "not a unit of this city");
	/* the year's id: applied, and withdrawn by a tombstone of the same id */
	trec_submission(&t, "u001", 2024, 1);
	struct store_status st;
	Xxgk__V1__Record *r = &t.r;
	test_apply(fx->st, &r, 1, &st);
	assert_int_equal(st.code, APPLIED);
	trec_tombstone(&t, "u001", "报送-2024", 2, RECORD_SUBMISSION);
	test_apply(fx->st, &r, 1, &st);
	assert_int_equal(st.code, APPLIED);
}

static void test_conflict(void **state)
{
	struct trec t;
	/* "existing" is stored at revision 2, received 2019-03-01 */
	trec_application(&t, "u001", "existing", 2, 1, "2019-03-01", "2019-03-21", 1);
	expect_rejected(*state, &t, CONFLICT, "revision 2 is stored with other content");
	trec_tombstone(&t, "u001", "existing", 2, RECORD_APPLICATION);
	expect_rejected(*state, &t, CONFLICT, "revision 2 is stored with other content");
}

/* A batch mixing valid and invalid records applies the valid ones only. */
static void test_mixed_batch(void **state)
{
	struct fixture *fx = *state;
	struct trec *t = calloc(3, sizeof(*t));
	Xxgk__V1__Record *batch[3];
	struct store_status s[3];
	struct report r;
	struct report_scope unit = {.type = SCOPE_UNIT, .unit = "u005"};
	trec_application(&t[0], "u005", "m-1", 1, 2, "2021-01-01", NULL, 0);
	trec_application(&t[1], "u005", "m-2", 1, 2, "2021-02-30", NULL, 0);
	trec_application(&t[2], "u005", "m-3", 1, 2, "2021-03-01", NULL, 0);
	for (int i = 0; i < 3; i++)
		batch[i] = &t[i].r;
	test_apply(fx->st, batch, 3, s);
	assert_int_equal(s[0].code, APPLIED);
	assert_int_equal(s[1].code, REJECTED);
	assert_int_equal(s[2].code, APPLIED);
	assert_int_equal(store_report(fx->st, 2021, &unit, 0, &r), 0);
	assert_int_equal(r.app[APP_ROW_NEW_RECEIVED][APP_COL_COMMERCIAL], 2);
	free(t);
}

static void test_date_parse(void **state)
{
	struct date d;
	(void)state;
	assert_int_equal(date_parse("1970-01-01", &d), DATE_OUT_OF_RANGE);
	assert_int_equal(date_parse("2000-01-01", &d), DATE_OK);
	assert_int_equal(d.year, 2000);
	assert_int_equal(d.day, 10957);
	assert_int_equal(date_parse("2019-12-31", &d), DATE_OK);
	assert_int_equal(d.day, 18261);
	assert_int_equal(date_parse(NULL, &d), DATE_MALFORMED);
	assert_int_equal(date_parse("2019-12-3", &d), DATE_MALFORMED);
	assert_int_equal(date_parse("2019-12-311", &d), DATE_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unknown_unit),
	    cmocka_unit_test(test_unknown_enums),
	    cmocka_unit_test(test_bad_dates),
	    cmocka_unit_test(test_missing_dates),
	    cmocka_unit_test(test_order_of_dates),
	    cmocka_unit_test(test_outcome_and_date_together),
	    cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_invisible_controls),
	    cmocka_unit_test(test_utf8_sanitize),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_revision_and_body),
	    cmocka_unit_test(test_submissions),
	    cmocka_unit_test(test_conflict),
	    cmocka_unit_test(test_mixed_batch),
	    cmocka_unit_test(test_date_parse),
	};
	return cmocka_run_group_tests_name("validation", tests, setup, teardown);
}
