/*
 * xxgk-push against a real xxgkd: the example records (JSON Lines) reproduce the sample's report,
 * CSV files of every layout are read, resending changes nothing, and every bad input (bad JSON,
 * unknown enum name, bad date, wrong column count, unknown header, missing file, unreachable
 * daemon) is reported as FILE:LINE or one clear line, with nothing sent when a line is bad
 * (unless --skip-bad: then the good lines); a daemon
 * that takes fewer records a push than --batch gets batches it takes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_harness.h"

static struct daemon d;

static int setup(void **state)
{
	daemon_setup_units_file(&d, "xxgk-push", XXGK_SOURCE_DIR "/examples/units.conf");
	daemon_start(&d);
	*state = &d;
	return 0;
}

static const char *write_file(const char *name, const char *text)
{
	return daemon_write_file(&d, name, text);
}

static int push(char **out, char **err, const char *a1, const char *a2)
{
	const char *argv[] = {XXGK_PUSH_PATH, "--ingest", d.ingest, a1, a2, NULL};
	return run_program(argv, out, err);
}

static void test_example_records(void **state)
{
	(void)state;
	char *out, *err;
	const char *file = XXGK_SOURCE_DIR "/examples/sample-records.jsonl";
	assert_int_equal(push(&out, &err, file, NULL), 0);
	assert_string_equal(out, "xxgk-push: 1333 records sent: 1333 applied, 0 duplicate, 0 "
				 "stale, 0 rejected; 0 bad lines\n");
	free(out);
	free(err);
	/* the report is the sample's: the same golden file as xxgkctl's own test */
	const char *ctl[] = {XXGKCTL_PATH, "--admin", d.admin, "report", "--year", "2019", NULL};
	assert_int_equal(run_program(ctl, &out, &err), 0);
	FILE *f = fopen(XXGK_SOURCE_DIR "/tests/golden/sample-2019.txt", "r");
	char *want = calloc(1, 1 << 20);
	want[fread(want, 1, (1 << 20) - 1, f)] = '\0';
	fclose(f);
	assert_string_equal(out, want);
	free(want);
	free(out);
	free(err);
	/* everything again: duplicates, nothing changes */
	assert_int_equal(push(&out, &err, file, NULL), 0);
	assert_non_null(strstr(out, "1333 duplicate"));
	free(out);
	free(err);
}

static void test_csv_layouts(void **state)
{
	(void)state;
	char *out, *err;
	const char *apps = write_file(
	    "apps.csv",
	    "unit,id,revision,deleted,applicant,received,concluded,outcome\n"
	    "dept-justice,CSV-1,1,,APPLICANT_RESEARCH,2021-03-01,2021-03-09,OUTCOME_GRANTED\n"
	    "dept-justice,CSV-2,1,false,APPLICANT_RESEARCH,2021-03-01,,\n");
	const char *docs = write_file(
	    "docs.csv", "unit,id,revision,deleted,kind,made,published,repealed,title\n"
			"gov-office,\"瑞政规〔2021〕1号\",1,,DOCUMENT_NORMATIVE,2021-01-05,"
			"2021-01-06,,\"关于印发\"\"某某\"\"办法的通知, 第一版\"\n");
	assert_int_equal(push(&out, &err, apps, docs), 0);
	assert_non_null(strstr(out, "3 records sent: 3 applied"));
	free(out);
	free(err);
	const char *cases =
	    write_file("cases.csv", "unit,id,revision,deleted,group,filed,closed,result\r\n"
				    "dept-justice,FY-1,1,,CASE_REVIEW,2021-05-01,2021-06-01,"
				    "CASE_RESULT_CORRECTED\r\n");
	const char *tallies =
	    write_file("tallies.csv", "unit,id,revision,deleted,measure,date,value\n"
				      "dept-market,CF-2021,1,,TALLY_PENALTY_"
				      "DECISIONS,2021-12-31,4440\n"
				      "dept-market,CSV-1,2,true,,,\n");
	assert_int_equal(push(&out, &err, cases, tallies), 0);
	assert_non_null(strstr(out, "3 records sent: 3 applied"));
	free(out);
	free(err);
	/* submissions (报送): the year's, and a withdrawal, whose year its id says; one with
	 * another year's id is a bad line, and then nothing of the file is sent, unless
	 * --skip-bad */
	const char *subs = write_file("subs.csv", "unit,id,revision,deleted,year\n"
						  "dept-market,报送-2021,1,,2021\n"
						  "dept-justice,报送-2021,1,,2021\n"
						  "dept-justice,报送-2021,2,true,\n"
						  "dept-justice,报送-2022,1,,2021\n");
	int rc = push(&out, &err, subs, NULL);
	if (rc != 1 ||
	    !strstr(out,
		    "0 records sent: 0 applied, 0 duplicate, 0 stale, 0 rejected; 1 bad lines") ||
	    !strstr(err, "subs.csv:5: column id: \"报送-2022\": the submission of 2021 has the id "
			 "报送-2021"))
		fail_msg("exit %d, stdout \"%s\", stderr \"%s\"", rc, out, err);
	free(out);
	free(err);
	rc = push(&out, &err, "--skip-bad", subs);
	if (rc != 1 ||
	    !strstr(out,
		    "3 records sent: 3 applied, 0 duplicate, 0 stale, 0 rejected; 1 bad lines"))
		fail_msg("exit %d, stdout \"%s\", stderr \"%s\"", rc, out, err);
	free(out);
	free(err);
}

static void expect_bad(const char *name, const char *text, const char *want_err,
		       const char *want_out)
{
	char *out, *err;
	const char *file = write_file(name, text);
	int rc = push(&out, &err, file, NULL);
	if (rc != 1 || strstr(err, want_err) == NULL || strstr(out, want_out) == NULL)
		fail_msg("%s: exit %d, stderr \"%s\", stdout \"%s\" (want \"%s\" and \"%s\")", name,
			 rc, err, out, want_err, want_out);
	free(out);
	free(err);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	const char *good = "{\"unit\":\"dept-justice\",\"id\":\"G-%d\",\"revision\":1,\"tally\":"
			   "{\"measure\":\"TALLY_LICENSING_DECISIONS\",\"date\":\"2022-01-01\","
			   "\"value\":1}}\n";
	char text[2048];
	snprintf(text, sizeof(text), "%s{\"unit\": \"dept-justice\", \"id\":\n", good);
	expect_bad("bad.jsonl", text, "bad.jsonl:2: not JSON",
		   "0 records sent: 0 applied, 0 duplicate, 0 stale, 0 rejected; 1 bad lines");
	expect_bad("enum.jsonl",
		   "{\"unit\":\"dept-justice\",\"id\":\"E\",\"revision\":1,\"application\":{"
		   "\"applicant\":\"APPLICANT_ROBOT\",\"received\":\"2022-01-01\"}}\n",
		   "enum.jsonl:1: application.applicant: unknown value \"APPLICANT_ROBOT\"",
		   "0 records sent");
	expect_bad("date.jsonl",
		   "\n{\"unit\":\"dept-justice\",\"id\":\"D\",\"revision\":1,\"application\":{"
		   "\"applicant\":\"APPLICANT_COMMERCIAL\",\"received\":\"2022-02-30\"}}\n",
		   "date.jsonl:2: application.received: impossible date", "0 records sent");
	expect_bad("columns.csv",
		   "unit,id,revision,deleted,measure,date,value\ndept-justice,X,1,,TALLY_FEES_"
		   "AMOUNT,2022-01-01\n",
		   "columns.csv:2: 6 cells, the header has 7 columns", "0 records sent");
	expect_bad("header.csv", "unit,id,when\n", "header.csv:1: the header names no ledger",
		   "0 records sent");
	expect_bad("unit.jsonl",
		   "{\"unit\":\"nobody\",\"id\":\"U\",\"revision\":1,\"tally\":{\"measure\":"
		   "\"TALLY_FEES_AMOUNT\",\"date\":\"2022-01-01\",\"value\":5}}\n",
		   "unit.jsonl:1: rejected: unit: \"nobody\" is not a unit of this city",
		   "1 records sent: 0 applied, 0 duplicate, 0 stale, 1 rejected");
	char *out, *err;
	const char *missing[] = {XXGK_PUSH_PATH, "--ingest", d.ingest, "/nonexistent.jsonl", NULL};
	assert_int_equal(run_program(missing, &out, &err), 1);
	assert_non_null(strstr(err, "cannot open /nonexistent.jsonl: No such file"));
	free(out);
	free(err);
	const char *usage[] = {XXGK_PUSH_PATH, "--format", "xml", NULL};
	assert_int_equal(run_program(usage, &out, &err), 2);
	assert_non_null(strstr(err, "--format: want jsonl or csv, not \"xml\""));
	free(out);
	free(err);
}

static void test_unreachable_daemon(void **state)
{
	(void)state;
	char *out, *err, endpoint[600];
	const char *file = write_file(
	    "one.jsonl", "{\"unit\":\"dept-justice\",\"id\":\"N\",\"revision\":1,\"tally\":"
			 "{\"measure\":\"TALLY_FEES_AMOUNT\",\"date\":\"2022-01-01\","
			 "\"value\":5}}\n");
	/* a network endpoint: nothing tells it apart from a slow daemon but the wait */
	snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", free_port());
	const char *argv[] = {XXGK_PUSH_PATH, "--ingest", endpoint, "--timeout", "100", file, NULL};
	assert_int_equal(run_program(argv, &out, &err), 1);
	assert_non_null(strstr(err, "no answer from"));
	assert_non_null(strstr(err, "(is xxgkd running?)"));
	assert_non_null(strstr(out, "0 records sent"));
	free(out);
	free(err);
	/* a local socket that is not there: said at once */
	snprintf(endpoint, sizeof(endpoint), "ipc://%s/nobody-here", d.dir);
	assert_int_equal(run_program(argv, &out, &err), 1);
	assert_non_null(strstr(err, "nobody-here (from --ingest): it does not exist"));
	assert_non_null(strstr(out, "0 records sent"));
	free(out);
	free(err);
}

/* A daemon that takes at most 100 records a push: xxgk-push says so and sends 100 at a time. */
static void test_daemon_takes_fewer(void **state)
{
	(void)state;
	struct daemon small;
	struct city none = {0};
	daemon_setup(&small, "xxgk-push-small", &none,
		     "units_file = " XXGK_SOURCE_DIR
		     "/examples/units.conf\nbatch_records_max = 100");
	daemon_start(&small);
	char *out, *err;
	const char *argv[] = {XXGK_PUSH_PATH,
			      "--ingest",
			      small.ingest,
			      "--batch",
			      "500",
			      XXGK_SOURCE_DIR "/examples/sample-records.jsonl",
			      NULL};
	assert_int_equal(run_program(argv, &out, &err), 0);
	assert_string_equal(out, "xxgk-push: 1333 records sent: 1333 applied, 0 duplicate, 0 "
				 "stale, 0 rejected; 0 bad lines\n");
	assert_non_null(strstr(err, "takes at most 100 records a push: sending 100 at a time"));
	free(out);
	free(err);
	daemon_stop(&small);
	daemon_teardown(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example_records),    cmocka_unit_test(test_csv_layouts),
	    cmocka_unit_test(test_bad_inputs),	       cmocka_unit_test(test_unreachable_daemon),
	    cmocka_unit_test(test_daemon_takes_fewer),
	};
	return cmocka_run_group_tests_name("xxgk_push", tests, setup, daemon_fixture_teardown);
}
