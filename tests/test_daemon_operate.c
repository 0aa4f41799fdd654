/*
 * How an operator reaches and runs xxgkd: xxgkctl and xxgk-push find it from its configuration
 * (-c) or the environment (XXGK_ADMIN, XXGK_INGEST); a local socket that is not there fails at
 * once with what to do; xxgkd --check-config; xxgkctl reload and stop; the journal's <N>
 * priority prefixes; --version everywhere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_harness.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* Runs argv; fails the test unless it exits with want and stdout or stderr contains text. */
static void expect_run(const char *const *argv, int want, const char *text)
{
	char *out, *err;
	int rc = run_program(argv, &out, &err);
	if (rc != want || (text && !strstr(out, text) && !strstr(err, text)))
		fail_msg("%s %s: exit %d (want %d), wanted \"%s\"; stdout \"%s\" stderr \"%s\"",
			 argv[0], argv[1], rc, want, text ? text : "", out, err);
	free(out);
	free(err);
}

/* The configuration the harness wrote, with the units given instead of the city's. */
static void rewrite_config(struct daemon *d, const char *units)
{
	FILE *f = fopen(d->config, "w");
	assert_non_null(f);
	fprintf(f, "[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n%s", d->state,
		d->ingest, d->admin, d->publish, units);
	fclose(f);
}

static int push_one(struct daemon *d, const char *unit, const char *id)
{
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	int status;
	struct xxgk_client *c;
	trec_application(&t, unit, id, 1, 1, "2020-05-01", NULL, 0);
	assert_int_equal(xxgk_connect(&c, d->ingest), 0);
	assert_int_equal(xxgk_push(c, &r, 1, &status, NULL, NULL, 10000), 0);
	xxgk_close(c);
	return status;
}

static void test_status_finds_the_daemon(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	city_make(&city, 3);
	daemon_setup(&d, "operate-find", &city, NULL);
	city_free(&city);
	d.ready_by_log = 1; /* signals are handled from then on */
	daemon_start(&d);
	unsetenv("XXGK_ADMIN");
	unsetenv("XXGK_INGEST");
	/* by xxgkd's own configuration */
	const char *by_config[] = {XXGKCTL_PATH, "-c", d.config, "status", NULL};
	expect_run(by_config, 0, "records: 0");
	/* by the environment */
	setenv("XXGK_ADMIN", d.admin, 1);
	const char *by_env[] = {XXGKCTL_PATH, "status", NULL};
	expect_run(by_env, 0, "records: 0");
	unsetenv("XXGK_ADMIN");
	/* an explicit --admin still wins over -c */
	char elsewhere[600];
	snprintf(elsewhere, sizeof(elsewhere), "ipc://%s/elsewhere", d.dir);
	const char *explicit[] = {XXGKCTL_PATH, "-c",	  d.config, "--admin",
				  elsewhere,	"status", NULL};
	expect_run(explicit, 1, "elsewhere (from --admin): it does not exist");

	/* xxgk-push finds the ingest the same two ways */
	const char *jsonl = daemon_write_file(
	    &d, "one.jsonl",
	    "{\"unit\":\"u001\",\"id\":\"P-1\",\"revision\":1,\"application\":{\"applicant\":"
	    "\"APPLICANT_NATURAL_PERSON\",\"received\":\"2020-05-01\"}}\n");
	const char *push_config[] = {XXGK_PUSH_PATH, "-c", d.config, jsonl, NULL};
	expect_run(push_config, 0, "1 records sent: 1 applied");
	setenv("XXGK_INGEST", d.ingest, 1);
	const char *push_env[] = {XXGK_PUSH_PATH, jsonl, NULL};
	expect_run(push_env, 0, "1 records sent: 0 applied, 1 duplicate");
	unsetenv("XXGK_INGEST");
	printf("xxgkctl -c FILE status, XXGK_ADMIN status, xxgk-push -c FILE and XXGK_INGEST: "
	       "found the daemon\n");
	daemon_stop(&d);
	daemon_teardown(&d);
}

/* Runs argv, which must fail with text in stderr, and returns how long it took in ms. */
static double timed_failure(const char *const *argv, const char *text)
{
	char *out, *err;
	double start = now_ms();
	int rc = run_program(argv, &out, &err);
	double took = now_ms() - start;
	if (rc != 1 || !strstr(err, text))
		fail_msg("%s: exit %d, stderr \"%s\" (wanted \"%s\")", argv[0], rc, err, text);
	free(out);
	free(err);
	return took;
}

static void test_missing_socket_fails_at_once(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	city_make(&city, 3);
	daemon_setup(&d, "operate-missing", &city, NULL); /* configured, never started */
	city_free(&city);
	d.ready_by_log = 1; /* signals are handled from then on */
	unsetenv("XXGK_ADMIN");
	unsetenv("XXGK_INGEST");
	/* the client's own timeout is 5 s (xxgk-push: 10 s, four times): a wait shows */
	const char *ctl[] = {XXGKCTL_PATH, "-c", d.config, "status", NULL};
	double ctl_ms = timed_failure(ctl, "it does not exist.\nStart xxgkd (systemctl start "
					   "xxgkd), or say where it listens: -c its configuration "
					   "file, --admin ENDPOINT, or XXGK_ADMIN=ENDPOINT");
	const char *jsonl = daemon_write_file(
	    &d, "one.jsonl",
	    "{\"unit\":\"u001\",\"id\":\"P-1\",\"revision\":1,\"application\":{\"applicant\":"
	    "\"APPLICANT_NATURAL_PERSON\",\"received\":\"2020-05-01\"}}\n");
	const char *push[] = {XXGK_PUSH_PATH, "-c", d.config, jsonl, NULL};
	double push_ms = timed_failure(push, "--ingest ENDPOINT, or XXGK_INGEST=ENDPOINT");
	/* a socket file nobody listens on (xxgkd killed): the same, at once */
	daemon_start(&d);
	daemon_kill(&d);
	double stale_ms = timed_failure(ctl, "nothing listens on it");
	printf("missing admin socket: xxgkctl failed in %.1f ms, xxgk-push in %.1f ms; stale "
	       "socket: %.1f ms\n",
	       ctl_ms, push_ms, stale_ms);
	/* under 100 ms on an idle machine; a generous bound here, far below any timeout */
	assert_true(ctl_ms < 1000);
	assert_true(push_ms < 1000);
	assert_true(stale_ms < 1000);
	daemon_teardown(&d);
}

static void test_check_config(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	struct stat sb;
	city_make(&city, 3);
	daemon_setup(&d, "operate-check", &city, NULL);
	city_free(&city);
	const char *good[] = {XXGKD_PATH, "--check-config", "-c", d.config, NULL};
	expect_run(good, 0, "configuration ok");
	/* nothing opened, nothing bound */
	assert_int_not_equal(stat(d.state, &sb), 0);
	assert_int_not_equal(stat(d.admin + 6, &sb), 0);

	const char *bad = daemon_write_file(&d, "bad.conf",
					    "[xxgkd]\nlog_level = info\nbatch_max = many\n"
					    "[unit a]\nname = A\nkind = government\n");
	const char *bad_argv[] = {XXGKD_PATH, "--check-config", "-c", bad, NULL};
	char want[700];
	snprintf(want, sizeof(want), "%s:3: batch_max: want a whole number", bad);
	expect_run(bad_argv, 1, want);
	/* what a start refuses besides the syntax: a network endpoint without keys */
	const char *exposed = daemon_write_file(&d, "exposed.conf",
						"[xxgkd]\ningest = tcp://0.0.0.0:7410\n"
						"[unit a]\nname = A\nkind = government\n");
	const char *exposed_argv[] = {XXGKD_PATH, "--check-config", "-c", exposed, NULL};
	expect_run(exposed_argv, 1, "refusing to bind tcp://0.0.0.0:7410 without keys");
	printf("--check-config: good file ok, bad file \"bad.conf:3: ...\", exposure refused\n");
	daemon_teardown(&d);
}

static void test_reload_applies_a_unit_change(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	city_make(&city, 3);
	daemon_setup(&d, "operate-reload", &city, NULL);
	city_free(&city);
	d.ready_by_log = 1; /* signals are handled from then on */
	daemon_start(&d);
	assert_int_equal(push_one(&d, "new-town", "a"), XXGK__V1__RECORD_STATUS__CODE__REJECTED);
	rewrite_config(&d, "[unit u000]\nname = a\nkind = government\n"
			   "[unit new-town]\nname = 新镇\nkind = township\n");
	const char *reload[] = {XXGKCTL_PATH, "-c", d.config, "reload", NULL};
	expect_run(reload, 0, "reloaded: 2 units");
	/* answered after the reload took: no wait, no retry */
	assert_int_equal(push_one(&d, "new-town", "b"), XXGK__V1__RECORD_STATUS__CODE__APPLIED);

	/* a bad configuration: the error with its line, the one in force stays */
	rewrite_config(&d, "[unit u000]\nname = a\nkind = robot\n");
	char want[700];
	snprintf(want, sizeof(want),
		 "reload failed, the configuration in force stays: %s:8:", d.config);
	expect_run(reload, 1, want);
	assert_int_equal(push_one(&d, "new-town", "c"), XXGK__V1__RECORD_STATUS__CODE__APPLIED);

	/* a calendar that does not read (as --check-config and a start refuse it): the whole
	 * reload is refused with its line, not half applied and answered "reloaded" */
	const char *holidays = daemon_write_file(&d, "bad-holidays.conf", "[2030]\noff = soon\n");
	char units[900];
	snprintf(units, sizeof(units),
		 "holidays_extra = %s\n[unit u000]\nname = a\nkind = government\n", holidays);
	rewrite_config(&d, units);
	snprintf(want, sizeof(want),
		 "reload failed, the configuration in force stays: %s:2:", holidays);
	expect_run(reload, 1, want);
	assert_int_equal(push_one(&d, "new-town", "d"), XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	printf("reload: new-town refused before, applied after; a bad file answered \"%s...\"\n",
	       want);
	daemon_stop(&d);
	daemon_teardown(&d);
}

static void test_stop(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	int status = -1;
	city_make(&city, 3);
	daemon_setup(&d, "operate-stop", &city, NULL);
	city_free(&city);
	d.ready_by_log = 1; /* signals are handled from then on */
	daemon_start(&d);
	const char *stop[] = {XXGKCTL_PATH, "-c", d.config, "stop", NULL};
	expect_run(stop, 0, "xxgkd is stopping");
	pid_t done = 0;
	for (int i = 0; i < 300 && done == 0; i++) {
		done = waitpid(d.pid, &status, WNOHANG);
		if (done == 0)
			nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	}
	if (done != d.pid)
		daemon_print_log(&d);
	assert_int_equal(done, d.pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(daemon_log_says(&d, "xxgkctl stop: stopping"));
	assert_true(daemon_log_says(&d, "stopped after"));
	printf("stop: xxgkd exited with status 0\n");
	d.pid = 0;
	daemon_teardown(&d);
}

/* Starts a daemon whose log is its stderr; journal: JOURNAL_STREAM names that file. */
static void start_logging(struct daemon *d, const char *tag, const char *extra, int journal)
{
	struct city city;
	struct stat sb;
	char stream[64];
	city_make(&city, 3);
	daemon_setup(d, tag, &city, extra);
	city_free(&city);
	d->ready_by_log = 1; /* signals are handled from then on */
	FILE *f = fopen(d->log, "a");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(stat(d->log, &sb), 0);
	snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long)sb.st_dev,
		 (unsigned long long)sb.st_ino);
	if (journal)
		setenv("JOURNAL_STREAM", stream, 1);
	else
		unsetenv("JOURNAL_STREAM");
	daemon_start(d);
	unsetenv("JOURNAL_STREAM");
}

static void test_journal_prefixes(void **state)
{
	(void)state;
	struct daemon d;
	start_logging(&d, "operate-journal", NULL, 1);
	daemon_stop(&d);
	if (!daemon_log_says(&d, "<6>xxgkd[info]: ready"))
		daemon_print_log(&d);
	assert_true(daemon_log_says(&d, "<6>xxgkd[info]: ready"));
	assert_int_equal(daemon_log_count(&d, "<6>xxgkd[info]: "),
			 daemon_log_count(&d, "xxgkd[info]: "));
	daemon_teardown(&d);

	/* not the journal: as before */
	start_logging(&d, "operate-plain", NULL, 0);
	daemon_stop(&d);
	assert_true(daemon_log_says(&d, "xxgkd[info]: ready"));
	assert_int_equal(daemon_log_count(&d, "<6>"), 0);
	daemon_teardown(&d);

	/* asked for in the configuration */
	start_logging(&d, "operate-asked", "log_priority = yes", 0);
	daemon_stop(&d);
	assert_true(daemon_log_says(&d, "<6>xxgkd[info]: ready"));
	daemon_teardown(&d);
	printf("journal: \"<6>xxgkd[info]: ready\" with JOURNAL_STREAM or log_priority = yes, "
	       "no prefix otherwise\n");
}

static void test_version(void **state)
{
	(void)state;
	const char *xxgkd[] = {XXGKD_PATH, "--version", NULL};
	const char *ctl[] = {XXGKCTL_PATH, "--version", NULL};
	const char *push[] = {XXGK_PUSH_PATH, "--version", NULL};
	expect_run(xxgkd, 0, "xxgkd " XXGK_VERSION "\n");
	expect_run(ctl, 0, "xxgkctl " XXGK_VERSION "\n");
	expect_run(push, 0, "xxgk-push " XXGK_VERSION "\n");
	printf("--version: xxgkd, xxgkctl and xxgk-push print %s\n", XXGK_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_finds_the_daemon),
	    cmocka_unit_test(test_missing_socket_fails_at_once),
	    cmocka_unit_test(test_check_config),
	    cmocka_unit_test(test_reload_applies_a_unit_change),
	    cmocka_unit_test(test_stop),
	    cmocka_unit_test(test_journal_prefixes),
	    cmocka_unit_test(test_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
