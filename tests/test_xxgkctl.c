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
/* the same records under a county's configuration */
static struct daemon county;

static int setup(void **state)
{
	(void)state;
	struct city none = {0};
	daemon_setup_units_file(&d, "xxgkctl", XXGK_SOURCE_DIR "/examples/units.conf");
	daemon_start(&d);
	daemon_push_sample(&d);
	daemon_setup(&county, "xxgkctl-county", &none,
		     "units_file = " XXGK_SOURCE_DIR "/examples/units.conf\n"
		     "name = 文成县人民政府\nregion = 文成县\nlevel = county\n");
	daemon_start(&county);
	daemon_push_sample(&county);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	daemon_stop(&d);
	daemon_teardown(&d);
	daemon_stop(&county);
	daemon_teardown(&county);
	return 0;
}

/* Runs xxgkctl with a daemon's admin endpoint first, then args; returns the exit status. */
static int ctl_on(const struct daemon *to, char **out, char **err, const char *a1, const char *a2,
		  const char *a3, const char *a4, const char *a5, const char *a6, const char *a7)
{
	const char *argv[12] = {XXGKCTL_PATH, "--admin", to->admin, a1, a2,  a3,
				a4,	      a5,	 a6,	    a7, NULL};
	return run_program(argv, out, err);
}

static int ctl(char **out, char **err, const char *a1, const char *a2, const char *a3,
	       const char *a4, const char *a5, const char *a6, const char *a7)
{
	return ctl_on(&d, out, err, a1, a2, a3, a4, a5, a6, a7);
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
	static const char *const formats[][2] = {{"text", "txt"},  {"markdown", "md"},
						 {"csv", "csv"},   {"json", "json"},
						 {"html", "html"}, {"cells", "cells"}};
	char *out, *err, name[64];
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
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

/*
 * A county's configuration (文成县, level county) over the same records: every layout says 全县,
 * 县政府办公室, 县各有关部门 and titles the report with the county's name, never the city's words.
 */
static void test_county_formats(void **state)
{
	(void)state;
	static const char *const formats[][2] = {{"text", "txt"},
						 {"markdown", "md"},
						 {"csv", "csv"},
						 {"json", "json"},
						 {"html", "html"}};
	static const struct {
		const char *kind, *golden, *word, *title;
	} scopes[] = {
	    {NULL, "county-2019", "全县", "文成县2019年政府信息公开工作年度报告统计表"},
	    {"government", "county-2019-government", "县政府办公室",
	     "文成县2019年政府信息公开工作年度报告统计表（县政府办公室）"},
	    {"department", "county-2019-department", "县各有关部门",
	     "文成县2019年政府信息公开工作年度报告统计表（县各有关部门）"},
	};
	static const char *const city_words[] = {"全市", "市政府办公室", "市各有关部门",
						 "瑞安市2019年"};
	char *out, *err, name[96];
	for (size_t s = 0; s < sizeof(scopes) / sizeof(scopes[0]); s++)
		for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
			int rc =
			    ctl_on(&county, &out, &err, "report", "--year", "2019", "--format",
				   formats[i][0], scopes[s].kind ? "--kind" : NULL, scopes[s].kind);
			if (rc != 0)
				fail_msg("report --format %s exited %d: %s", formats[i][0], rc,
					 err);
			if (strstr(out, scopes[s].word) == NULL ||
			    strstr(out, scopes[s].title) == NULL)
				fail_msg(
				    "county report %s --format %s lacks \"%s\" or \"%s\":\n%.300s",
				    scopes[s].golden, formats[i][0], scopes[s].word,
				    scopes[s].title, out);
			for (size_t w = 0; w < sizeof(city_words) / sizeof(city_words[0]); w++)
				if (strstr(out, city_words[w]))
					fail_msg("county report %s --format %s says \"%s\"",
						 scopes[s].golden, formats[i][0], city_words[w]);
			snprintf(name, sizeof(name), "%s.%s", scopes[s].golden, formats[i][1]);
			check_golden(name, out);
			free(out);
			free(err);
		}
	/* the workbook too: every sheet's title names the county and the scope, read back by
	 * openpyxl (what test_xlsx checks cell by cell for the example city) */
	for (size_t s = 0; s < sizeof(scopes) / sizeof(scopes[0]); s++) {
		char path[600];
		snprintf(path, sizeof(path), "%s/%s.xlsx", county.dir, scopes[s].golden);
		const char *argv[] = {XXGKCTL_PATH,
				      "--admin",
				      county.admin,
				      "report",
				      "--year",
				      "2019",
				      "--format",
				      "xlsx",
				      "--output",
				      path,
				      scopes[s].kind ? "--kind" : NULL,
				      scopes[s].kind,
				      NULL};
		int rc = run_program(argv, &out, &err);
		if (rc != 0)
			fail_msg("report --format xlsx exited %d: %s", rc, err);
		free(out);
		free(err);
		const char *py[] = {"/usr/bin/python3", "-c",
				    "import sys, openpyxl\n"
				    "wb = openpyxl.load_workbook(sys.argv[1])\n"
				    "print('\\n'.join(ws['A1'].value for ws in wb.worksheets))\n",
				    path, NULL};
		assert_int_equal(run_program(py, &out, &err), 0);
		size_t sheets = 0;
		for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), sheets++)
			if (strcmp(line, scopes[s].title) != 0)
				fail_msg("county xlsx %s: a sheet titled \"%s\", want \"%s\"",
					 scopes[s].golden, line, scopes[s].title);
		assert_int_equal(sheets, 3);
		free(out);
		free(err);
	}
	/* the government as JSON names it, for whoever reads the data */
	assert_int_equal(
	    ctl_on(&county, &out, &err, "report", "--year", "2019", "--format", "json", NULL, NULL),
	    0);
	assert_non_null(strstr(out, "\"government\": \"文成县人民政府\""));
	assert_non_null(strstr(out, "\"region\": \"文成县\""));
	assert_non_null(strstr(out, "\"level\": \"county\""));
	free(out);
	free(err);
}

static void write_to(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/*
 * The HTML's print rules, without a browser: tests/check_print_html.py reads the page with
 * python3's html.parser and checks @page A4, thead on every table (repeated on each page), rows
 * that never break across pages, the title, and table 三 as the template lays it out with the
 * JSON report's values. For the example city (both templates) and for the county.
 */
static void test_html_print_rules(void **state)
{
	(void)state;
	const struct {
		const struct daemon *on;
		const char *template_year, *title;
	} cases[] = {{&d, "2019", "瑞安市2019年政府信息公开工作年度报告统计表"},
		     {&d, "2021", "瑞安市2019年政府信息公开工作年度报告统计表"},
		     {&county, "2019", "文成县2019年政府信息公开工作年度报告统计表"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *html, *json, *out, *err, html_path[600], json_path[600];
		assert_int_equal(ctl_on(cases[i].on, &html, &err, "report", "--year", "2019",
					"--format", "html", "--template", cases[i].template_year),
				 0);
		free(err);
		assert_int_equal(ctl_on(cases[i].on, &json, &err, "report", "--year", "2019",
					"--format", "json", "--template", cases[i].template_year),
				 0);
		free(err);
		snprintf(html_path, sizeof(html_path), "%s/report.html", d.dir);
		snprintf(json_path, sizeof(json_path), "%s/report.json", d.dir);
		write_to(html_path, html);
		write_to(json_path, json);
		const char *argv[] = {
		    "/usr/bin/python3", XXGK_SOURCE_DIR "/tests/check_print_html.py",
		    html_path,		json_path,
		    cases[i].title,	NULL};
		int rc = run_program(argv, &out, &err);
		fputs(out, stderr);
		if (rc != 0)
			fail_msg("check_print_html.py exited %d: %s%s", rc, out, err);
		free(html);
		free(json);
		free(out);
		free(err);
	}
}

/* Splits a CSV line (RFC 4180 quoting) into at most max fields; returns how many. */
static int csv_split(const char *line, const char *end, char fields[][256], int max)
{
	int n = 0;
	while (n < max) {
		size_t k = 0;
		if (line < end && *line == '"') {
			for (line++; line < end; line++) {
				if (*line == '"' && (line + 1 >= end || line[1] != '"'))
					break;
				if (*line == '"')
					line++;
				if (k < 255)
					fields[n][k++] = *line;
			}
			line++;
		} else {
			while (line < end && *line != ',')
				if (k < 255)
					fields[n][k++] = *line++;
		}
		fields[n++][k] = '\0';
		if (line >= end || *line != ',')
			break;
		line++;
	}
	return n;
}

/*
 * --format csv opens in Excel as the table: the UTF-8 BOM first, CRLF after every line, the
 * template's header rows of table 三, and each row of the sample's table 三 under its label
 * with its seven values in the columns of the applicant types.
 */
static void test_csv_as_table(void **state)
{
	(void)state;
	char *out, *err, f[16][256];
	assert_int_equal(ctl(&out, &err, "report", "--year", "2019", "--format", "csv", NULL, NULL),
			 0);
	if (strncmp(out, "\xef\xbb\xbf", 3) != 0)
		fail_msg("no UTF-8 BOM: starts with %.20s", out);
	for (char *p = out; *p; p++)
		if (*p == '\n' && (p == out || p[-1] != '\r'))
			fail_msg("a line without CR at byte %td: %.40s", p - out,
				 p - 20 > out ? p - 20 : out);
	assert_non_null(strstr(out, "\"瑞安市2019年政府信息公开工作年度报告统计表\"\r\n"));
	/* the lines of table 三, from its heading on */
	char *line = strstr(out, "\"三、收到和处理政府信息公开申请情况\"\r\n");
	assert_non_null(line);
	line = strstr(line, "\r\n") + 2;
	char *eol = strstr(line, "\r\n");
	int n = csv_split(line, eol, f, 16);
	assert_int_equal(n, 10);
	assert_non_null(strstr(f[0], "本列数据的勾稽关系为"));
	assert_string_equal(f[3], "申请人情况");
	line = eol + 2;
	eol = strstr(line, "\r\n");
	n = csv_split(line, eol, f, 16);
	assert_int_equal(n, 10);
	assert_string_equal(f[3], "自然人");
	assert_string_equal(f[4], "法人或其他组织");
	assert_string_equal(f[9], "总计");
	line = eol + 2;
	eol = strstr(line, "\r\n");
	n = csv_split(line, eol, f, 16);
	assert_int_equal(n, 10);
	static const char *const legal[] = {"商业企业", "科研机构", "社会公益组织", "法律服务机构",
					    "其他"};
	for (int c = 0; c < 5; c++)
		assert_string_equal(f[4 + c], legal[c]);
	line = eol + 2;
	for (int row = 0; row < SAMPLE_T3_ROWS; row++, line = eol + 2) {
		const char *label = NULL;
		for (int r = 0; r < APP_ROW_COUNT; r++)
			if (strcmp(app_rows[r].key, sample_t3_keys[row]) == 0)
				label = app_rows[r].label2019;
		eol = strstr(line, "\r\n");
		assert_non_null(eol);
		n = csv_split(line, eol, f, 16);
		if (n != 10 || (strcmp(f[0], label) && strcmp(f[1], label) && strcmp(f[2], label)))
			fail_msg(
			    "table 三 row %d: want %s in a label column, got %d fields: %s|%s|%s",
			    row, label, n, f[0], f[1], f[2]);
		for (int c = 0; c < 7; c++)
			if (strtoll(f[3 + c], NULL, 10) != sample_t3[row][c] || f[3 + c][0] == '\0')
				fail_msg("%s column %d: \"%s\", the sample has %lld", label, c,
					 f[3 + c], (long long)sample_t3[row][c]);
	}
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
	expect(2, "--format: want text, markdown, csv, json, html, cells or xlsx, not \"pdf\"",
	       "report", "--year", "2019", "--format", "pdf");
	expect(2, "--template: want 2019 or 2021, not \"2020\"", "report", "--year", "2019",
	       "--template", "2020");
	expect(2, "--kind: want government, department, township or functional_zone", "report",
	       "--kind", "village", NULL, NULL);
	expect(2,
	       "--year goes with report, units, submit, verify, freeze, unfreeze and restatements, "
	       "not status",
	       "status", "--year", "2019", NULL, NULL);
	expect(2, "--count goes with watch", "units", "--count", "3", NULL, NULL);
	expect(2, "--timeout: want milliseconds", "--timeout", "soon", "status", NULL, NULL);
	expect(1, "report: no unit \"nobody\"", "report", "--year", "2019", "--unit", "nobody");
	/* a command line is checked before any configuration is read */
	expect(2, "submit: --unit and --year are required", "-c", "/nonexistent/xxgkd.conf",
	       "submit", NULL, NULL);
	const char *argv[] = {XXGKCTL_PATH, "-c", "/nonexistent/xxgkd.conf", "launch", NULL};
	char *out, *err;
	int rc = run_program(argv, &out, &err);
	printf("# xxgkctl -c /nonexistent/xxgkd.conf launch: exit %d: %s", rc, err);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "unknown command \"launch\""));
	free(out);
	free(err);
}

static void test_unreachable_daemon(void **state)
{
	(void)state;
	char *out, *err, endpoint[600];
	/* a network endpoint: nothing tells it apart from a slow daemon but the wait */
	snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", free_port());
	const char *argv[] = {XXGKCTL_PATH, "--admin", endpoint, "--timeout",
			      "300",	    "status",  NULL};
	assert_int_equal(run_program(argv, &out, &err), 1);
	if (strstr(err, "no answer from") == NULL || strstr(err, "within 300 ms") == NULL)
		fail_msg("said \"%s\"", err);
	free(out);
	free(err);
	/* a local socket that is not there: said at once (test_daemon_operate times it) */
	snprintf(endpoint, sizeof(endpoint), "ipc://%s/nobody-here", d.dir);
	assert_int_equal(run_program(argv, &out, &err), 1);
	if (strstr(err, "nobody-here (from --admin): it does not exist") == NULL)
		fail_msg("said \"%s\"", err);
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_formats),
	    cmocka_unit_test(test_county_formats),
	    cmocka_unit_test(test_html_print_rules),
	    cmocka_unit_test(test_csv_as_table),
	    cmocka_unit_test(test_table_three_as_printed),
	    cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_watch),
	    cmocka_unit_test(test_bad_command_lines),
	    cmocka_unit_test(test_unreachable_daemon),
	};
	return cmocka_run_group_tests_name("xxgkctl", tests, setup, teardown);
}
