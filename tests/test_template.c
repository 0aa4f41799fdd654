/*
 * xxgkctl template: for each ledger (applications, documents, cases, tallies) the CSV template
 * is UTF-8 with a BOM and CRLF, its header the ledger table's Chinese words, and its example row
 * imports into a real xxgkd (APPLIED, and the report counts it where its words say); the xlsx
 * template read back with openpyxl (tests/check_template.py) has the same header and example
 * row, the drop-down lists of exactly the table's values on the enum columns, dates as dates,
 * and saved as CSV the way Excel saves it, it imports too. Bad command lines exit 2 with the
 * reason, in Chinese under a Chinese locale; no daemon is needed.
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
#include "words.h"

static const char *const kinds[] = {"applications", "documents", "cases", "tallies"};
static const enum ledger ledgers_of[] = {LEDGER_APPLICATIONS, LEDGER_DOCUMENTS, LEDGER_CASES,
					 LEDGER_TALLIES};
#define KINDS 4

static struct daemon d;

static int setup(void **state)
{
	daemon_setup_units_file(&d, "template", XXGK_SOURCE_DIR "/examples/units.conf");
	daemon_start(&d);
	*state = &d;
	return 0;
}

/* ---- what the ledger table says a ledger's columns are ---- */

#define COLUMNS_MAX 12
#define WORDS_MAX 32

struct expect {
	int n;
	const char *headers[COLUMNS_MAX];
	int is_date[COLUMNS_MAX];
	size_t n_words[COLUMNS_MAX]; /* 0: no enum column */
	const char *words[COLUMNS_MAX][WORDS_MAX];
};

/* What the table says: the headers, the date columns, the words of the drop-down columns. */
static void expect_of(int kind, struct expect *e)
{
	int n;
	const struct ledger_column *c = ledger_columns(ledgers_of[kind], &n);
	memset(e, 0, sizeof(*e));
	assert_true(n > 0 && n <= COLUMNS_MAX);
	e->n = n;
	for (int i = 0; i < n; i++) {
		e->headers[i] = c[i].header;
		e->is_date[i] = c[i].type == COLUMN_DATE;
		if (c[i].type == COLUMN_BOOLEAN) {
			e->words[i][e->n_words[i]++] = WORD_YES;
			e->words[i][e->n_words[i]++] = WORD_NO;
		} else if (c[i].type == COLUMN_ENUM) {
			for (int v = 1; v <= words_count(c[i].set); v++)
				e->words[i][e->n_words[i]++] = words_value(c[i].set, v);
		}
	}
}

/* ---- helpers ---- */

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static int ctl(char **out, char **err, const char *a1, const char *a2, const char *a3,
	       const char *a4, const char *a5, const char *a6)
{
	const char *argv[] = {XXGKCTL_PATH, a1, a2, a3, a4, a5, a6, NULL};
	return run_program(argv, out, err);
}

/* xxgk-push FILE into the daemon: the summary line it prints. */
static void push(const char *file, const char *want_summary)
{
	char *out, *err;
	const char *argv[] = {XXGK_PUSH_PATH, "--ingest", d.ingest, file, NULL};
	int rc = run_program(argv, &out, &err);
	if (rc != 0 || strcmp(out, want_summary) != 0)
		fail_msg("xxgk-push %s: exit %d, printed \"%s\", said \"%s\"; want \"%s\"", file,
			 rc, out, err, want_summary);
	printf("# %s: %s", strrchr(file, '/') + 1, out);
	free(out);
	free(err);
}

/* The fields of a CSV line (no quotes in the template's words), in place. */
static int split(char *line, char **fields, int max)
{
	int n = 0;
	for (char *p = line; n < max;) {
		fields[n++] = p;
		p = strchr(p, ',');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	return n;
}

/* The CSV template of kind: BOM, CRLF, two lines, the header the table's words. */
static void check_csv(int kind, const char *text, size_t len)
{
	struct expect e;
	char *copy = strdup(text), *fields[COLUMNS_MAX + 1];
	expect_of(kind, &e);
	assert_true(len > 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0);
	/* every line ends in CRLF, and there are two */
	int lines = 0;
	for (size_t i = 3; i < len; i++) {
		if (text[i] == '\n') {
			assert_true(i > 0 && text[i - 1] == '\r');
			lines++;
		} else if (text[i] == '\r') {
			assert_true(i + 1 < len && text[i + 1] == '\n');
		}
	}
	assert_int_equal(lines, 2);
	assert_int_equal(text[len - 1], '\n');
	char *header = copy + 3, *example = strstr(header, "\r\n");
	*example = '\0';
	example += 2;
	*strstr(example, "\r\n") = '\0';
	int n = split(header, fields, COLUMNS_MAX + 1);
	assert_int_equal(n, e.n);
	for (int i = 0; i < n; i++)
		if (strcmp(fields[i], e.headers[i]) != 0)
			fail_msg("%s: column %d is \"%s\", the table's word is \"%s\"", kinds[kind],
				 i + 1, fields[i], e.headers[i]);
	assert_int_equal(split(example, fields, COLUMNS_MAX + 1), e.n);
	free(copy);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* EXPECT.json for check_template.py: the enum columns' values and the date columns. */
static void write_expect(int kind, const char *path)
{
	struct expect e;
	expect_of(kind, &e);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"lists\": {", f);
	for (int i = 0, first = 1; i < e.n; i++) {
		if (e.n_words[i] == 0)
			continue;
		fputs(first ? "" : ", ", f);
		first = 0;
		json_string(f, e.headers[i]);
		fputs(": [", f);
		for (size_t k = 0; k < e.n_words[i]; k++) {
			fputs(k ? ", " : "", f);
			json_string(f, e.words[i][k]);
		}
		fputc(']', f);
	}
	fputs("}, \"dates\": [", f);
	for (int i = 0, first = 1; i < e.n; i++) {
		if (!e.is_date[i])
			continue;
		fputs(first ? "" : ", ", f);
		first = 0;
		json_string(f, e.headers[i]);
	}
	fprintf(f, "], \"rows\": %d}\n", 1000);
	fclose(f);
}

/* The city's report of the examples' year (2025) counts each example where its words say. */
static void check_report(void)
{
	static const struct {
		const char *key;
		int64_t value;
	} want[] = {
	    {"applications.new_received.natural_person", 1}, /* 自然人 */
	    {"applications.granted.natural_person", 1},	     /* 予以公开 */
	    {"proactive.normdocs.made", 1},		     /* 行政规范性文件 */
	    {"reviews.review.upheld", 1},		     /* 行政复议, 结果维持 */
	    {"proactive.penalty.decisions", 12},	     /* 行政处罚 处理决定数量 */
	};
	Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
	struct cell_values cells;
	q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
	q.city = 1;
	daemon_report(&d, 2025, &q, &cells);
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		size_t i = 0;
		while (i < cells.n && strcmp(cells.keys[i], want[w].key) != 0)
			i++;
		if (i == cells.n || cells.values[i] != want[w].value)
			fail_msg("report 2025: %s is %lld, want %lld", want[w].key,
				 i == cells.n ? -1LL : (long long)cells.values[i],
				 (long long)want[w].value);
	}
}

/* ---- the tests ---- */

static void test_template_csv(void **state)
{
	(void)state;
	for (int k = 0; k < KINDS; k++) {
		char *out, *err, path[600];
		size_t len;
		/* no --admin: the command never asks a daemon */
		int rc = ctl(&out, &err, "template", kinds[k], NULL, NULL, NULL, NULL);
		if (rc != 0)
			fail_msg("template %s: exit %d: %s", kinds[k], rc, err);
		check_csv(k, out, strlen(out));
		/* --output FILE and --format csv write the same bytes */
		snprintf(path, sizeof(path), "%s/%s.csv", d.dir, kinds[k]);
		free(err);
		char *o2, *e2;
		rc = ctl(&o2, &e2, "template", kinds[k], "--format", "csv", "--output", path);
		assert_int_equal(rc, 0);
		assert_string_equal(o2, "");
		free(o2);
		free(e2);
		char *file = read_all(path, &len);
		assert_int_equal(len, strlen(out));
		assert_memory_equal(file, out, len);
		free(file);
		free(out);
		/* the example row imports as it is */
		push(path, "xxgk-push: 1 records sent: 1 applied, 0 duplicate, 0 stale, 0 "
			   "rejected; 0 bad lines\n");
	}
	check_report();
}

static void test_template_xlsx(void **state)
{
	(void)state;
	for (int k = 0; k < KINDS; k++) {
		char *out, *err, xlsx[600], csv[600], expect[600], saved[600], gbk[600];
		struct stat st;
		snprintf(xlsx, sizeof(xlsx), "%s/%s.xlsx", d.dir, kinds[k]);
		snprintf(csv, sizeof(csv), "%s/%s-template.csv", d.dir, kinds[k]);
		snprintf(expect, sizeof(expect), "%s/%s-expect.json", d.dir, kinds[k]);
		snprintf(saved, sizeof(saved), "%s/%s-saved-by-openpyxl.csv", d.dir, kinds[k]);
		snprintf(gbk, sizeof(gbk), "%s/%s-saved-as-gb18030.csv", d.dir, kinds[k]);
		int rc =
		    ctl(&out, &err, "template", kinds[k], "--format", "xlsx", "--output", xlsx);
		if (rc != 0)
			fail_msg("template %s --format xlsx: exit %d: %s", kinds[k], rc, err);
		assert_string_equal(out, "");
		free(out);
		free(err);
		assert_int_equal(stat(xlsx, &st), 0);
		strcat(xlsx, ".partial");
		assert_int_not_equal(stat(xlsx, &st), 0);
		xlsx[strlen(xlsx) - strlen(".partial")] = '\0';
		assert_int_equal(ctl(&out, &err, "template", kinds[k], "--output", csv, NULL, NULL),
				 0);
		free(out);
		free(err);
		write_expect(k, expect);
		const char *argv[] = {"/usr/bin/python3",
				      XXGK_SOURCE_DIR "/tests/check_template.py",
				      xlsx,
				      csv,
				      expect,
				      saved,
				      gbk,
				      NULL};
		rc = run_program(argv, &out, &err);
		if (rc != 0)
			fail_msg("check_template.py %s exited %d:\n%s%s", kinds[k], rc, out, err);
		printf("# %s", out);
		free(out);
		free(err);
		/* what Excel saves of the workbook imports: APPLIED into a fresh daemon; saved in
		 * GB18030 and the CSV template's row, they are the same record, cell for cell
		 * (DUPLICATE) */
		push(saved, "xxgk-push: 1 records sent: 1 applied, 0 duplicate, 0 stale, 0 "
			    "rejected; 0 bad lines\n");
		push(gbk, "xxgk-push: 1 records sent: 0 applied, 1 duplicate, 0 stale, 0 "
			  "rejected; 0 bad lines\n");
		push(csv, "xxgk-push: 1 records sent: 0 applied, 1 duplicate, 0 stale, 0 "
			  "rejected; 0 bad lines\n");
	}
	check_report();
}

/* The reason is said, the exit status is 2 and nothing is written. */
static void bad(const char *want, const char *a1, const char *a2, const char *a3, const char *a4,
		const char *a5, const char *a6)
{
	char *out, *err;
	int rc = ctl(&out, &err, a1, a2, a3, a4, a5, a6);
	if (rc != 2 || strstr(err, want) == NULL)
		fail_msg("%s %s %s %s: exit %d (want 2), said \"%s\" (want \"%s\")", a1,
			 a2 ? a2 : "", a3 ? a3 : "", a4 ? a4 : "", rc, err, want);
	assert_string_equal(out, "");
	free(out);
	free(err);
}

static void test_template_command_line(void **state)
{
	(void)state;
	char path[600];
	struct stat st;
	snprintf(path, sizeof(path), "%s/never.xlsx", d.dir);
	bad("template: one KIND is required (applications, documents, cases or tallies)",
	    "template", NULL, NULL, NULL, NULL, NULL);
	bad("template: unknown kind \"申请\"; want applications, documents, cases or tallies",
	    "template", "申请", NULL, NULL, NULL, NULL);
	bad("template: --format xlsx needs --output FILE", "template", "applications", "--format",
	    "xlsx", NULL, NULL);
	bad("template: --format: want csv or xlsx", "template", "cases", "--format", "json",
	    "--output", path);
	bad("--year goes with report", "template", "tallies", "--year", "2025", NULL, NULL);
	bad("--kind, --template and --published go with report, not template", "template",
	    "documents", "--kind", "township", NULL, NULL);
	bad("template: one KIND is required", "template", "cases", "documents", NULL, NULL, NULL);
	assert_int_not_equal(stat(path, &st), 0);
	/* a directory that is not there: the reason, exit 1 */
	char *out, *err;
	snprintf(path, sizeof(path), "%s/no/such/dir/t.xlsx", d.dir);
	int rc = ctl(&out, &err, "template", "cases", "--format", "xlsx", "--output", path);
	if (rc != 1 || strstr(err, "cannot write") == NULL)
		fail_msg("xlsx into a missing directory: exit %d (want 1), said \"%s\"", rc, err);
	free(out);
	free(err);
	snprintf(path, sizeof(path), "%s/no/such/dir/t.csv", d.dir);
	rc = ctl(&out, &err, "template", "cases", "--output", path, NULL, NULL);
	if (rc != 1 || strstr(err, "cannot write") == NULL)
		fail_msg("csv into a missing directory: exit %d (want 1), said \"%s\"", rc, err);
	free(out);
	free(err);
}

/* Under a Chinese locale the reasons are Chinese, and the ledger is the same, byte for byte. */
static void test_template_chinese(void **state)
{
	(void)state;
	char *english, *chinese, *err;
	assert_int_equal(ctl(&english, &err, "template", "applications", NULL, NULL, NULL, NULL),
			 0);
	free(err);
	/* LANGUAGE over C.UTF-8, a locale every Debian has (gettext ignores it only under C) */
	setenv("LANG", "C.UTF-8", 1);
	setenv("LANGUAGE", "zh_CN", 1);
	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	bad("template：没有“申请”这种台账；可用的有 applications, documents, cases or tallies",
	    "template", "申请", NULL, NULL, NULL, NULL);
	bad("template：--format xlsx 需要 --output 文件", "template", "cases", "--format", "xlsx",
	    NULL, NULL);
	bad("template：--format 只能是 csv 或 xlsx", "template", "cases", "--format", "html", NULL,
	    NULL);
	assert_int_equal(ctl(&chinese, &err, "template", "applications", NULL, NULL, NULL, NULL),
			 0);
	free(err);
	unsetenv("LANGUAGE");
	unsetenv("LANG");
	assert_string_equal(chinese, english);
	free(english);
	free(chinese);
}

int main(void)
{
	/* each import test has a daemon of its own, so that each example is APPLIED */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_template_csv, setup, daemon_fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_template_xlsx, setup, daemon_fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_template_command_line, setup,
					    daemon_fixture_teardown),
	    cmocka_unit_test(test_template_chinese),
	};
	return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
