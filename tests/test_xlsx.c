/*
 * xxgkctl report --format xlsx against a real xxgkd holding the sample city: the workbook read
 * back by an independent reader (tests/check_xlsx.py, Debian's python3-openpyxl) equals the JSON
 * report cell for cell, in the 2019 and the 2021 template, with the template's merged headers,
 * number formats and A4 print setup; and a workbook is never written to stdout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon_harness.h"
#include "sample_fixture.h"

static struct daemon d;

static int setup(void **state)
{
	daemon_setup_units_file(&d, "xlsx", XXGK_SOURCE_DIR "/examples/units.conf");
	daemon_start(&d);
	daemon_push_sample(&d);
	*state = &d;
	return 0;
}

/* xxgkctl --admin ... report --year Y, then up to six more arguments (NULL ends them). */
static int report(char **out, char **err, const char *year, const char *a1, const char *a2,
		  const char *a3, const char *a4, const char *a5, const char *a6)
{
	const char *argv[16] = {XXGKCTL_PATH, "--admin", d.admin, "report", "--year", year, a1,
				a2,	      a3,	 a4,	  a5,	    a6,	      NULL};
	return run_program(argv, out, err);
}

/* The report of year (in template, or the year's own when NULL) as xlsx, checked against its
 * JSON form by the independent reader. */
static void check_workbook(const char *year, const char *template_year)
{
	char xlsx[600], json[600], *out, *err;
	snprintf(xlsx, sizeof(xlsx), "%s/report-%s-%s.xlsx", d.dir, year,
		 template_year ? template_year : "own");
	snprintf(json, sizeof(json), "%s/report-%s-%s.json", d.dir, year,
		 template_year ? template_year : "own");
	const char *t1 = template_year ? "--template" : NULL, *t2 = template_year;
	int rc = report(&out, &err, year, "--format", "json", "--output", json, t1, t2);
	if (rc != 0)
		fail_msg("report --format json --output exited %d: %s", rc, err);
	free(out);
	free(err);
	rc = report(&out, &err, year, "--format", "xlsx", "--output", xlsx, t1, t2);
	if (rc != 0)
		fail_msg("report --format xlsx exited %d: %s", rc, err);
	assert_string_equal(out, "");
	free(out);
	free(err);
	/* written whole and renamed: no partial file stays beside it */
	struct stat st;
	char partial[620];
	snprintf(partial, sizeof(partial), "%s.partial", xlsx);
	assert_int_equal(stat(xlsx, &st), 0);
	assert_true(st.st_size > 0);
	assert_int_not_equal(stat(partial, &st), 0);
	const char *argv[] = {"/usr/bin/python3", XXGK_SOURCE_DIR "/tests/check_xlsx.py", xlsx,
			      json, NULL};
	rc = run_program(argv, &out, &err);
	if (rc != 0)
		fail_msg("check_xlsx.py exited %d:\n%s%s", rc, out, err);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		printf("# %s\n", line);
	free(out);
	free(err);
}

static void test_xlsx_2019(void **state)
{
	(void)state;
	check_workbook("2019", NULL);
}

static void test_xlsx_2021(void **state)
{
	(void)state;
	/* the sample's year in the 2021 layout, and a year of the 2021 format itself */
	check_workbook("2019", "2021");
	check_workbook("2021", NULL);
}

static void test_xlsx_command_line(void **state)
{
	(void)state;
	char *out, *err, path[600];
	int rc = report(&out, &err, "2019", "--format", "xlsx", NULL, NULL, NULL, NULL);
	if (rc != 2 || strstr(err, "--format xlsx needs --output FILE") == NULL)
		fail_msg("xlsx without --output: exit %d (want 2), said \"%s\"", rc, err);
	assert_string_equal(out, "");
	free(out);
	free(err);
	rc = report(&out, &err, "2019", "--format", "xlsx", "--output", "-", NULL, NULL);
	if (rc != 2 || strstr(err, "--output: want a file name, not \"-\"") == NULL)
		fail_msg("xlsx --output -: exit %d (want 2), said \"%s\"", rc, err);
	free(out);
	free(err);
	/* a directory that is not there: the reason, exit 1, and nothing written */
	snprintf(path, sizeof(path), "%s/no/such/dir/r.xlsx", d.dir);
	rc = report(&out, &err, "2019", "--format", "xlsx", "--output", path, NULL, NULL);
	if (rc != 1 || strstr(err, "cannot write") == NULL)
		fail_msg("xlsx into a missing directory: exit %d (want 1), said \"%s\"", rc, err);
	free(out);
	free(err);
	const char *argv[] = {XXGKCTL_PATH, "--admin", d.admin, "status",
			      "--output",   "x.xlsx",  NULL};
	rc = run_program(argv, &out, &err);
	if (rc != 2 || strstr(err, "go with report, not status") == NULL)
		fail_msg("status --output: exit %d (want 2), said \"%s\"", rc, err);
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xlsx_2019),
	    cmocka_unit_test(test_xlsx_2021),
	    cmocka_unit_test(test_xlsx_command_line),
	};
	return cmocka_run_group_tests_name("xlsx", tests, setup, daemon_fixture_teardown);
}
