/*
 * xxgkctl and xxgk-push speak Chinese under a zh_CN locale and English otherwise, run from the
 * build tree (which finds its translations in BUILD/share/locale, common/i18n.h): usage and
 * bad command lines, a daemon that does not answer, xxgk-push's summary and rejections, and
 * xxgkctl units --year with its columns aligned in both languages. The locale variables are
 * read as gettext reads them: LANGUAGE counts unless the locale is C, LC_MESSAGES over LANG.
 * Needs the zh_CN.UTF-8 locale (scripts/install-deps generates it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon_harness.h"
#include "render_layout.h" /* display_width */

static struct daemon d;

static int setup(void **state)
{
	/* without the locale, LANG=zh_CN.UTF-8 is the C locale and every check below would fail
	 * for a reason that is not xxgk's */
	if (setlocale(LC_ALL, "zh_CN.UTF-8") == NULL) {
		fprintf(stderr, "the locale zh_CN.UTF-8 is missing: run scripts/install-deps\n");
		return -1;
	}
	setlocale(LC_ALL, "C");
	daemon_setup_units_file(&d, "i18n", XXGK_SOURCE_DIR "/examples/units.conf");
	daemon_start(&d);
	*state = &d;
	return 0;
}

/*
 * The locale of the programs run next (run_program passes the environment on): the variables
 * given (NULL: unset), every other locale variable unset.
 */
static void locale_env(const char *lang, const char *language, const char *lc_all,
		       const char *lc_messages)
{
	const char *names[] = {"LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES"};
	const char *values[] = {lang, language, lc_all, lc_messages};
	unsetenv("LC_CTYPE");
	unsetenv("XXGK_LOCALEDIR");
	for (int i = 0; i < 4; i++) {
		if (values[i])
			setenv(names[i], values[i], 1);
		else
			unsetenv(names[i]);
	}
}

static void chinese(void)
{
	locale_env("zh_CN.UTF-8", NULL, NULL, NULL);
}

static void english(void)
{
	locale_env("C", NULL, NULL, NULL);
}

/* Runs argv and fails the test unless it exits rc with want on stdout (out) or stderr. */
static void expect(const char *const *argv, int want_rc, int on_stdout, const char *want)
{
	char *out, *err;
	int rc = run_program(argv, &out, &err);
	if (rc != want_rc || strstr(on_stdout ? out : err, want) == NULL)
		fail_msg("%s %s (LANG=%s LANGUAGE=%s LC_ALL=%s): exit %d (want %d), stdout \"%s\", "
			 "stderr \"%s\" (want \"%s\" on %s)",
			 argv[0], argv[1] ? argv[1] : "", getenv("LANG") ? getenv("LANG") : "-",
			 getenv("LANGUAGE") ? getenv("LANGUAGE") : "-",
			 getenv("LC_ALL") ? getenv("LC_ALL") : "-", rc, want_rc, out, err, want,
			 on_stdout ? "stdout" : "stderr");
	free(out);
	free(err);
}

static void test_bad_command_lines(void **state)
{
	(void)state;
	const char *none[] = {XXGKCTL_PATH, NULL};
	const char *year[] = {XXGKCTL_PATH, "report", "--year", "1999", NULL};
	const char *unknown[] = {XXGKCTL_PATH, "launch", NULL};
	const char *help[] = {XXGKCTL_PATH, "--help", NULL};
	const char *format[] = {XXGK_PUSH_PATH, "--format", "xml", NULL};
	const char *batch[] = {XXGK_PUSH_PATH, "--batch", "0", NULL};
	const char *push_help[] = {XXGK_PUSH_PATH, "--help", NULL};

	chinese();
	expect(none, 2, 0,
	       "xxgkctl: 缺少命令\n用法：xxgkctl [--admin 端点] [--timeout 毫秒数] 命令\n");
	expect(none, 2, 0, "  submit --unit 单位标识 --year 年度");
	expect(year, 2, 0, "xxgkctl: --year：应为 2000 至 2099 之间的年份，而不是“1999”\n");
	expect(unknown, 2, 0, "xxgkctl: 未知命令“launch”\n");
	expect(help, 0, 1, "  freeze --year 年度          公布该年度");
	expect(format, 2, 0, "xxgk-push: --format：应为 jsonl 或 csv，而不是“xml”\n");
	expect(batch, 2, 0, "xxgk-push: --batch：应为 1 至 10000，而不是“0”\n");
	expect(push_help, 0, 1, "用法：xxgk-push [--ingest 端点]");

	english();
	expect(none, 2, 0,
	       "xxgkctl: a command is required\nusage: xxgkctl [--admin ENDPOINT] [--timeout MS] "
	       "COMMAND\n");
	expect(year, 2, 0, "xxgkctl: --year: want a year from 2000 to 2099, not \"1999\"\n");
	expect(unknown, 2, 0, "xxgkctl: unknown command \"launch\"\n");
	expect(help, 0, 1, "  freeze --year Y             publish Y:");
	expect(format, 2, 0, "xxgk-push: --format: want jsonl or csv, not \"xml\"\n");
	expect(push_help, 0, 1, "usage: xxgk-push [--ingest ENDPOINT]");
}

/* One good record of 2021, one the daemon rejects (no such unit), one line that is not JSON. */
static const char *ledger(void)
{
	static char path[600];
	snprintf(path, sizeof(path), "%s/ledger.jsonl", d.dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"unit\":\"dept-justice\",\"id\":\"I18N-1\",\"revision\":1,\"tally\":{\"measure\":"
	      "\"TALLY_LICENSING_DECISIONS\",\"date\":\"2021-03-01\",\"value\":7}}\n"
	      "{\"unit\":\"nobody\",\"id\":\"I18N-2\",\"revision\":1,\"tally\":{\"measure\":"
	      "\"TALLY_FEES_AMOUNT\",\"date\":\"2021-03-01\",\"value\":5}}\n"
	      "{\"unit\": \"dept-justice\", \"id\":\n",
	      f);
	fclose(f);
	return path;
}

static void test_unreachable_daemon(void **state)
{
	(void)state;
	char endpoint[600], local[600];
	/* a network endpoint: the timeout's message (a local socket fails at once, below) */
	snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", free_port());
	snprintf(local, sizeof(local), "ipc://%s/nobody-here", d.dir);
	const char *ctl_local[] = {XXGKCTL_PATH, "--admin", local, "status", NULL};
	const char *ctl[] = {XXGKCTL_PATH, "--admin", endpoint, "--timeout", "300", "status", NULL};
	/* --skip-bad: the ledger's bad line must not keep its good ones from being sent */
	const char *push[] = {XXGK_PUSH_PATH, "--ingest",   endpoint, "--timeout",
			      "100",	      "--skip-bad", ledger(), NULL};
	char want[800];

	chinese();
	snprintf(want, sizeof(want), "xxgkctl: %s 在 300 毫秒内没有应答（xxgkd 是否在运行？）\n",
		 endpoint);
	expect(ctl, 1, 0, want);
	snprintf(want, sizeof(want),
		 "xxgk-push: %s 在 100 毫秒内没有应答，已试 4 次（xxgkd 是否在运行？）\n",
		 endpoint);
	expect(push, 1, 0, want);

	snprintf(want, sizeof(want), "xxgkctl: %s（来自 --admin）没有 xxgkd：它不存在。\n", local);
	expect(ctl_local, 1, 0, want);

	english();
	snprintf(want, sizeof(want),
		 "xxgkctl: no answer from %s within 300 ms (is xxgkd running?)\n", endpoint);
	expect(ctl, 1, 0, want);
	snprintf(want, sizeof(want), "xxgkctl: no xxgkd at %s (from --admin): it does not exist.\n",
		 local);
	expect(ctl_local, 1, 0, want);
}

static void test_push_summary(void **state)
{
	(void)state;
	const char *file = ledger();
	const char *push[] = {XXGK_PUSH_PATH, "--ingest", d.ingest, "--skip-bad", file, NULL};
	char *out, *err;

	chinese();
	assert_int_equal(run_program(push, &out, &err), 1);
	assert_string_equal(out, "xxgk-push: 已发送 2 条记录：入库 1 条，重复 0 条，过时 0 条，"
				 "被拒收 1 条；有误的行 1 行\n");
	if (strstr(err, "ledger.jsonl:2: 被拒收：unit:") == NULL)
		fail_msg("stderr \"%s\"", err);
	free(out);
	free(err);

	/* machine-read: the English summary is as it was, word for word */
	english();
	assert_int_equal(run_program(push, &out, &err), 1);
	assert_string_equal(out, "xxgk-push: 2 records sent: 0 applied, 1 duplicate, 0 stale, 1 "
				 "rejected; 1 bad lines\n");
	assert_non_null(strstr(err, "ledger.jsonl:2: rejected: unit:"));
	free(out);
	free(err);
}

/* The line of out that contains what, NUL-terminated in a static buffer. */
static const char *line_with(const char *out, const char *what)
{
	static char line[1024];
	const char *p = strstr(out, what);
	if (p == NULL)
		fail_msg("no line with \"%s\" in \"%s\"", what, out);
	while (p > out && p[-1] != '\n')
		p--;
	size_t n = strcspn(p, "\n");
	assert_true(n < sizeof(line));
	memcpy(line, p, n);
	line[n] = '\0';
	return line;
}

/* The terminal column where the first what of line ends. */
static int ends_at(const char *line, const char *what)
{
	char prefix[1024];
	const char *p = strstr(line, what);
	assert_non_null(p);
	size_t n = (size_t)(p - line) + strlen(what);
	memcpy(prefix, line, n);
	prefix[n] = '\0';
	return display_width(prefix);
}

/*
 * units --year: the header in the user's language, its columns over the values in both (a
 * Chinese character takes two columns of a terminal and three bytes: padded by bytes, the
 * records column would not line up).
 */
static void test_units_columns(void **state)
{
	(void)state;
	const char *units[] = {XXGKCTL_PATH, "--admin", d.admin, "units", "--year", "2021", NULL};
	char *out, *err;

	chinese();
	assert_int_equal(run_program(units, &out, &err), 0);
	const char *head = line_with(out, "最后收到记录时间");
	int zh_records = ends_at(head, "记录数");
	assert_non_null(strstr(head, "单位"));
	const char *row = line_with(out, "dept-justice ");
	assert_int_equal(ends_at(row, " 1 "), zh_records + 1);
	assert_non_null(strstr(row, " 否 "));
	assert_non_null(strstr(out, "本年度未报送数据的单位："));
	free(out);
	free(err);

	english();
	assert_int_equal(run_program(units, &out, &err), 0);
	head = line_with(out, "last record received");
	assert_int_equal(ends_at(head, " records"), zh_records);
	row = line_with(out, "dept-justice ");
	assert_int_equal(ends_at(row, " 1 "), zh_records + 1);
	assert_non_null(strstr(out, " units submitted 2021; not submitted"));
	free(out);
	free(err);
}

/* gettext's rules: LANGUAGE over a UTF-8 locale, not over C; LC_MESSAGES over LANG. */
static void test_locale_variables(void **state)
{
	(void)state;
	const char *none[] = {XXGKCTL_PATH, NULL};
	const char *zh = "用法：xxgkctl", *en = "usage: xxgkctl";

	/* C.UTF-8 is in every Debian: Chinese with LANGUAGE alone, no generated locale */
	locale_env("C.UTF-8", "zh_CN", NULL, NULL);
	expect(none, 2, 0, zh);
	locale_env("C", "zh_CN", NULL, NULL);
	expect(none, 2, 0, en);
	locale_env("zh_CN.UTF-8", NULL, NULL, "C");
	expect(none, 2, 0, en);
	locale_env("C", NULL, "zh_CN.UTF-8", NULL);
	expect(none, 2, 0, zh);
	locale_env("zh_CN.UTF-8", NULL, "C", NULL);
	expect(none, 2, 0, en);

	/* XXGK_LOCALEDIR, when set, is where the translations are: none in an empty directory */
	char empty[600];
	snprintf(empty, sizeof(empty), "%s/no-translations", d.dir);
	assert_int_equal(mkdir(empty, 0700), 0);
	chinese();
	setenv("XXGK_LOCALEDIR", empty, 1);
	expect(none, 2, 0, en);
	setenv("XXGK_LOCALEDIR", XXGK_BUILD_LOCALEDIR, 1);
	expect(none, 2, 0, zh);
	english();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_command_lines), cmocka_unit_test(test_unreachable_daemon),
	    cmocka_unit_test(test_push_summary),      cmocka_unit_test(test_units_columns),
	    cmocka_unit_test(test_locale_variables),
	};
	return cmocka_run_group_tests_name("i18n", tests, setup, daemon_fixture_teardown);
}
