/*
 * Records from JSON (the protobuf JSON mapping): good lines become the records they say, and
 * every kind of bad line is refused with a reason that names the field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_json.h"

static Xxgk__V1__Record *parse(const char *text, char *err)
{
	return record_from_json(text, strlen(text), err, 256);
}

static void expect_error(const char *text, const char *want);

static void test_good_lines(void **state)
{
	(void)state;
	char err[256] = "";
	struct record_facts f;
	Xxgk__V1__Record *r = parse(
	    "{\"unit\":\"dept-justice\",\"id\":\"瑞司申〔2019〕1号\",\"revision\":\"3\","
	    "\"application\":{\"applicant\":\"APPLICANT_COMMERCIAL\",\"received\":\"2019-03-01\","
	    "\"concluded\":\"2019-03-20\",\"outcome\":\"OUTCOME_PARTIAL\"}}",
	    err);
	assert_non_null(r);
	assert_string_equal(r->unit, "dept-justice");
	assert_string_equal(r->id, "瑞司申〔2019〕1号");
	assert_true(r->has_revision && r->revision == 3);
	assert_int_equal(r->body_case, XXGK__V1__RECORD__BODY_APPLICATION);
	assert_int_equal(r->application->applicant, XXGK__V1__APPLICANT_TYPE__APPLICANT_COMMERCIAL);
	assert_int_equal(record_check(r, &f, err, sizeof(err)), 0);
	assert_int_equal(f.app.outcome, 2);
	xxgk__v1__record__free_unpacked(r, NULL);

	/* lowerCamelCase names, numbers for enums and 64-bit integers, null for absent */
	r = parse("{\"unit\":\"u\",\"id\":\"c\",\"revision\":2,\"legalCase\":{\"group\":1,"
		  "\"filed\":\"2019-01-02\",\"closed\":null}}",
		  err);
	assert_non_null(r);
	assert_int_equal(r->body_case, XXGK__V1__RECORD__BODY_LEGAL_CASE);
	assert_int_equal(r->legal_case->group, 1);
	assert_null(r->legal_case->closed);
	xxgk__v1__record__free_unpacked(r, NULL);

	/* a tombstone: an empty body names the kind */
	r = parse("{\"unit\":\"u\",\"id\":\"t\",\"revision\":4,\"deleted\":true,\"tally\":{}}",
		  err);
	assert_non_null(r);
	assert_true(r->deleted);
	assert_int_equal(r->body_case, XXGK__V1__RECORD__BODY_TALLY);
	xxgk__v1__record__free_unpacked(r, NULL);

	r = parse("{\"unit\":\"u\",\"id\":\"t\",\"revision\":1,\"tally\":{\"measure\":"
		  "\"TALLY_FEES_ITEMS\",\"date\":\"2019-01-01\",\"value\":\"-12\"}}",
		  err);
	assert_non_null(r);
	assert_true(r->tally->has_value && r->tally->value == -12);
	xxgk__v1__record__free_unpacked(r, NULL);

	/* a submission (报送): its year a number or a string of digits, and back the same */
	r = parse("{\"unit\":\"u\",\"id\":\"报送-2024\",\"revision\":1,\"submission\":{"
		  "\"year\":\"2024\"}}",
		  err);
	assert_non_null(r);
	assert_int_equal(r->body_case, XXGK__V1__RECORD__BODY_SUBMISSION);
	assert_true(r->submission->has_year && r->submission->year == 2024);
	assert_int_equal(record_check(r, &f, err, sizeof(err)), 0);
	char *line = record_to_json(r);
	assert_string_equal(line, "{\"unit\":\"u\",\"id\":\"报送-2024\",\"revision\":1,"
				  "\"submission\":{\"year\":2024}}");
	free(line);
	xxgk__v1__record__free_unpacked(r, NULL);
	expect_error("{\"unit\":\"u\",\"id\":\"报送-2024\",\"revision\":1,\"submission\":{"
		     "\"year\":-1}}",
		     "submission.year: want a whole number");
}

static void expect_error(const char *text, const char *want)
{
	char err[256] = "";
	Xxgk__V1__Record *r = parse(text, err);
	if (r != NULL)
		fail_msg("accepted %s", text);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, want);
}

static void test_bad_lines(void **state)
{
	(void)state;
	expect_error("{\"unit\":\"u\",", "not JSON");
	expect_error("[1,2]", "want a JSON object");
	expect_error("{\"unit\":\"u\",\"colour\":\"red\"}", "unknown field \"colour\"");
	expect_error("{\"application\":{\"applicant\":\"APPLICANT_ROBOT\"}}",
		     "application.applicant: unknown value \"APPLICANT_ROBOT\"");
	expect_error("{\"application\":{\"outcome\":99}}", "application.outcome: unknown value");
	expect_error("{\"application\":{\"received\":20190101}}",
		     "application.received: want a string");
	expect_error("{\"revision\":-1}", "revision: want a whole number >= 0");
	expect_error("{\"revision\":\"3x\"}", "revision: want a whole number >= 0");
	expect_error("{\"deleted\":\"yes\"}", "deleted: want true or false");
	expect_error("{\"tally\":{\"value\":1.5}}", "tally.value: want an integer");
	expect_error("{\"application\":{},\"tally\":{}}", "a record has one body only");
	expect_error("{\"application\":[]}", "application: want an object");
	expect_error("{\"unit\":\"a\",\"unit\":\"b\"}", "not JSON");
	expect_error("{\"application\":{\"bogus\":1}}", "application: unknown field \"bogus\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_lines),
	    cmocka_unit_test(test_bad_lines),
	};
	return cmocka_run_group_tests_name("record_json", tests, NULL, NULL);
}
