/*
 * xxgkctl against a real xxgkd holding the sample city: every report format golden-tested
 * (tests/golden; XXGK_UPDATE_GOLDEN=1 rewrites them), table 三 of the text layout equal to the
 * sample's as printed, status, units, verify and watch, and every bad command line or
 * unreachable daemon answered with a clear message and a non-zero exit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "sample_fixture.h"

static struct daemon d;

static int setup(void **state)
{
	(void)state;
	struct trec *recs;
	struct xxgk_client *c;
	size_t n = sample_records(&recs);
	daemon_setup_units_file(&d, "xxgkctl", XXGK_SOURCE_DIR "/examples/units.conf");
	daemon_start(&d);
	assert_int_equal(xxgk_connect(&c, d.ingest), 0);
	for (size_t i = 0; i < n; i += 500) {
		Xxgk__V1__Record *batch[500];
		int statuses[500];
		size_t k = n - i < 500 ? n - i : 500;
		for (size_t j = 0; j < k; j++)
			batch[j] = &recs[i + j].r;
		assert_int_equal(xxgk_push(c, batch, k, statuses, NULL, NULL, 10000), 0);
		for (size_t j = 0; j < k; j++)
			assert_int_equal(statuses[j], XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	}
	xxgk_close(c);
	free(recs);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	daemon_stop(&d);
	daemon_teardown(&d);
	return 0;
}

/* Runs xxgkctl with the admin endpoint first, then args; returns the exit status. */
static int ctl(char **out, char **err, const char *a1, const char *a2, const char *a3,
	       const char *a4, const char *a5, const char *a6, const char *a7)
{
	const char *argv[12] = {XXGKCTL_PATH, "--admin", d.admin, a1, a2, a3, a4, a5, a6, a7, NULL};
	return run_program(argv, out, err);
}

static void check_golden(const char *name, const char *got)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/golden/%s", XXGK_SOURCE_DIR, name);
	if (getenv("XXGK_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
		return;
	}
	FILE *f = fopen(path, "r");
	if (f == NULL)
		fail_msg("no golden file %s (XXGK_UPDATE_GOLDEN=1 writes it)", path);
	char *want = calloc(1, 1 << 20);
	want[fread(want, 1, (1 << 20) - 1, f)] = '\0';
	fclose(f);
	if (strcmp(want, got) != 0) {
		size_t i = 0;
		while (want[i] && want[i] == got[i])
			i++;
		fail_msg("%s differs from the golden file at byte %zu:\n%.80s\nwant:\n%.80s", name,
			 i, got + i, want + i);
	}
	free(want);
}

static void test_formats(void **state)
{
	(void)state;
	static const char *const formats[][2] = {{"text", "txt"},
						 {"markdown", "md"},
						 {"csv", "csv"},
						 {"json", "json"},
						 {"html", "html"}};
	char *out, *err, name[64];
	for (size_t i = 0; i < 5; i++) {
		int rc = ctl(&out, &err, "report", "--year", "2019", "--format", formats[i][0],
			     NULL, NULL);
		if (rc != 0)
			fail_msg("report --format %s exited %d: %s", formats[i][0], rc, err);
		snprintf(name, sizeof(name), "sample-2019.%s", formats[i][1]);
		check_golden(name, out);
		free(out);
		free(err);
	}
	/* the same year in the 2021 layout, and one unit's report */
	assert_int_equal(
	    ctl(&out, &err, "report", "--year", "2019", "--template", "2021", NULL, NULL), 0);
	check_golden("sample-2019-template2021.txt", out);
	free(out);
	free(err);
	assert_int_equal(
	    ctl(&out, &err, "report", "--year", "2019", "--unit", "dept-justice", NULL, NULL), 0);
	check_golden("sample-2019-dept-justice.txt", out);
	free(out);
	free(err);
}

/* The text layout's table 三 prints the sample's numbers, row by row. */
static void test_table_three_as_printed(void **state)
{
	(void)state;
	char *out, *err;
	assert_int_equal(ctl(&out, &err, "report", "--year", "2019", NULL, NULL, NULL, NULL), 0);
	char *t3 = strstr(out, "三、收到和处理政府信息公开申请情况");
	assert_non_null(t3);
	for (int row = 0; row < SAMPLE_T3_ROWS; row++) {
		const char *label = NULL;
		for (int r = 0; r < APP_ROW_COUNT; r++)
			if (strcmp(app_rows[r].key, sample_t3_keys[row]) == 0)
				label = app_rows[r].label2019;
		assert_non_null(label);
		char *line = strstr(t3, label);
		assert_non_null(line);
		line += strlen(label);
		for (int c = 0; c < 7; c++) {
			char *end;
			long long v = strtoll(line, &end, 10);
			if (end == line || v != sample_t3[row][c])
				fail_msg("%s column %d: printed %.20s, the sample has %lld", label,
					 c, line, (long long)sample_t3[row][c]);
			line = end;
		}
	}
	assert_non_null(strstr(out, "行政复议"));
	free(out);
	free(err);
}

static void test_commands(void **state)
{
	(void)state;
	char *out, *err;
	assert_int_equal(ctl(&out, &err, "status", NULL, NULL, NULL, NULL, NULL, NULL), 0);
	assert_non_null(strstr(out, "records: 1333\n"));
	assert_non_null(strstr(out, "units: 41\n"));
	free(out);
	free(err);
	assert_int_equal(ctl(&out, &err, "units", NULL, NULL, NULL, NULL, NULL, NULL), 0);
	assert_non_null(strstr(out, "dept-justice"));
	assert_non_null(strstr(out, "市司法局"));
	int lines = 0;
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 41);
	free(out);
	free(err);
	assert_int_equal(ctl(&out, &err, "verify", NULL, NULL, NULL, NULL, NULL, NULL), 0);
	assert_string_equal(out, "verify: 0 differences\n");
	free(out);
	free(err);
}

static void test_watch(void **state)
{
	(void)state;
	FILE *o = tmpfile();
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fileno(o), 1);
		execl(XXGKCTL_PATH, "xxgkctl", "--publish", d.publish, "watch", "--unit",
		      "dept-justice", "--count", "1", (char *)NULL);
		_exit(127);
	}
	/* push until the watcher, once subscribed, has seen a change and exited */
	int status = 0, done = 0;
	for (int i = 0; i < 100 && !done; i++) {
		struct trec t;
		Xxgk__V1__Record *r = &t.r;
		struct xxgk_client *c;
		int st;
		char id[32];
		snprintf(id, sizeof(id), "watch-%d", i);
		trec_tally(&t, "dept-justice", id, 1, 3, "2020-03-01", 2);
		assert_int_equal(xxgk_connect(&c, d.ingest), 0);
		assert_int_equal(xxgk_push(c, &r, 1, &st, NULL, NULL, 10000), 0);
		xxgk_close(c);
		usleep(100000);
		done = waitpid(pid, &status, WNOHANG) == pid;
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("xxgkctl watch saw no change");
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char line[256] = "";
	rewind(o);
	assert_non_null(fgets(line, sizeof(line), o));
	fclose(o);
	assert_non_null(strstr(line, "2020 dept-justice "));
}

static void expect(int want_rc, const char *want_text, const char *a1, const char *a2,
		   const char *a3, const char *a4, const char *a5)
{
	char *out, *err;
	int rc = ctl(&out, &err, a1, a2, a3, a4, a5, NULL, NULL);
	if (rc != want_rc || strstr(err, want_text) == NULL)
		fail_msg("xxgkctl %s %s: exit %d (want %d), said \"%s\" (want \"%s\")",
			 a1 ? a1 : "", a2 ? a2 : "", rc, want_rc, err, want_text);
	free(out);
	free(err);
}

static void test_bad_command_lines(void **state)
{
	(void)state;
	expect(2, "a command is required", NULL, NULL, NULL, NULL, NULL);
	expect(2, "unknown command \"launch\"", "launch", NULL, NULL, NULL, NULL);
	expect(2, "unexpected argument \"extra\"", "status", "extra", NULL, NULL, NULL);
	expect(2, "report: --year is required", "report", NULL, NULL, NULL, NULL);
	expect(2, "--year: want a year from 2000 to 2099, not \"1999\"", "report", "--year", "1999",
	       NULL, NULL);
	expect(2, "--year: want a year", "report", "--year", "20x9", NULL, NULL);
	expect(2, "--format: want text, markdown, csv, json or html, not \"pdf\"", "report",
	       "--year", "2019", "--format", "pdf");
	expect(2, "--template: want 2019 or 2021, not \"2020\"", "report", "--year", "2019",
	       "--template", "2020");
	expect(2, "--kind: want government, department, township or functional_zone", "report",
	       "--kind", "village", NULL, NULL);
	expect(2, "--year goes with report, units or submit, not status", "status", "--year",
	       "2019", NULL, NULL);
	expect(2, "--count goes with watch", "units", "--count", "3", NULL, NULL);
	expect(2, "--timeout: want milliseconds", "--timeout", "soon", "status", NULL, NULL);
	expect(1, "report: no unit \"nobody\"", "report", "--year", "2019", "--unit", "nobody");
}

static void test_unreachable_daemon(void **state)
{
	(void)state;
	char *out, *err, endpoint[600];
	snprintf(endpoint, sizeof(endpoint), "ipc://%s/nobody-here", d.dir);
	const char *argv[] = {XXGKCTL_PATH, "--admin", endpoint, "--timeout",
			      "300",	    "status",  NULL};
	assert_int_equal(run_program(argv, &out, &err), 1);
	if (strstr(err, "no answer from") == NULL || strstr(err, "within 300 ms") == NULL)
		fail_msg("said \"%s\"", err);
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_formats),	      cmocka_unit_test(test_table_three_as_printed),
	    cmocka_unit_test(test_commands),	      cmocka_unit_test(test_watch),
	    cmocka_unit_test(test_bad_command_lines), cmocka_unit_test(test_unreachable_daemon),
	};
	return cmocka_run_group_tests_name("xxgkctl", tests, setup, teardown);
}
