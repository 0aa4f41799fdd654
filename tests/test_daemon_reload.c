/*
 * xxgkd's life cycle: SIGHUP reloads the units (a new unit is accepted, a removed one refused,
 * a bad file keeps the configuration in force and says why); bad command lines, configurations,
 * state directories and endpoints stop it at start with a clear message and a non-zero exit;
 * without -f it detaches only once it is ready.
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
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "daemon_harness.h"
#include "error.h"

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

static void rewrite_units(struct daemon *d, const char *units)
{
	FILE *f = fopen(d->config, "w");
	assert_non_null(f);
	fprintf(f, "[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n%s", d->state,
		d->ingest, d->admin, d->publish, units);
	fclose(f);
}

/* After SIGHUP, waits until pushing to unit gives want (the reload runs in the loop). */
static void hup_until(struct daemon *d, const char *unit, int want)
{
	assert_int_equal(kill(d->pid, SIGHUP), 0);
	for (int i = 0; i < 100; i++) {
		char id[32];
		snprintf(id, sizeof(id), "probe-%d", i);
		if (push_one(d, unit, id) == want)
			return;
		struct timespec ms = {0, 50000000};
		nanosleep(&ms, NULL);
	}
	daemon_print_log(d);
	fail_msg("after SIGHUP, pushing to %s never gave status %d", unit, want);
}

static void test_sighup_reloads_units(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	city_make(&city, 3);
	daemon_setup(&d, "daemon-reload", &city, NULL);
	daemon_start(&d);
	assert_int_equal(push_one(&d, "u001", "a"), XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	assert_int_equal(push_one(&d, "new-town", "a"), XXGK__V1__RECORD_STATUS__CODE__REJECTED);

	/* a unit is added and u001 removed */
	rewrite_units(&d, "[unit u000]\nname = a\nkind = government\n"
			  "[unit new-town]\nname = 新镇\nkind = township\n");
	hup_until(&d, "new-town", XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	assert_int_equal(push_one(&d, "u001", "b"), XXGK__V1__RECORD_STATUS__CODE__REJECTED);
	Xxgk__V1__UnitsQuery q = XXGK__V1__UNITS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_UNITS;
	req.units = &q;
	Xxgk__V1__Reply *reply = daemon_admin_call(&d, &req, XXGK__V1__REPLY__BODY_UNITS);
	assert_int_equal(reply->units->n_units, 2);
	assert_string_equal(reply->units->units[1]->name, "新镇");
	xxgk__v1__reply__free_unpacked(reply, NULL);

	/* a broken file: the configuration in force stays, and the log says why */
	rewrite_units(&d, "[unit u000]\nname = a\nkind = castle\n");
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 100 && !daemon_log_says(&d, "reload failed"); i++) {
		struct timespec ms = {0, 50000000};
		nanosleep(&ms, NULL);
	}
	assert_true(daemon_log_says(&d, "reload failed"));
	assert_true(daemon_log_says(&d, "xxgkd.conf:8: [unit u000] kind: want government"));
	assert_int_equal(push_one(&d, "new-town", "c"), XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	daemon_check_verify(&d);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
}

/*
 * Runs xxgkd with args; returns its exit status, and what it printed in out. The output goes
 * through a file: a detached daemon keeps it open after its parent exits.
 */
static int run_xxgkd(const char *const *args, char *out, size_t size)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fileno(f), 2);
		dup2(fileno(f), 1);
		execv(XXGKD_PATH, (char *const *)args);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	rewind(f);
	size_t n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void expect_start_failure(const char *const *args, int code, const char *text)
{
	char out[4096];
	int rc = run_xxgkd(args, out, sizeof(out));
	if (rc != code || strstr(out, text) == NULL)
		fail_msg("xxgkd exited %d (want %d) saying:\n%s\n(want \"%s\")", rc, code, out,
			 text);
}

/* The government a report of 2020 answers with: region, level and name. */
static void report_government(struct daemon *d, char *region, size_t size, int *level, char *name,
			      size_t name_size)
{
	Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	q.has_year = 1;
	q.year = 2020;
	q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
	q.city = 1;
	req.body_case = XXGK__V1__REQUEST__BODY_REPORT;
	req.report = &q;
	Xxgk__V1__Reply *reply = daemon_admin_call(d, &req, XXGK__V1__REPLY__BODY_REPORT);
	assert_true(reply->report->has_level);
	snprintf(region, size, "%s", reply->report->region ? reply->report->region : "");
	snprintf(name, name_size, "%s", reply->report->government ? reply->report->government : "");
	*level = reply->report->level;
	xxgk__v1__reply__free_unpacked(reply, NULL);
}

/* Reports carry the configured government; SIGHUP takes a new one, a bad one keeps it. */
static void test_sighup_reloads_government(void **state)
{
	(void)state;
	struct daemon d;
	char region[128], name[128];
	int level = 0;
	static const char units[] = "[unit u000]\nname = a\nkind = government\n";
	daemon_setup(&d, "daemon-reload-gov", &(struct city){0}, NULL);
	rewrite_units(&d, units);
	daemon_start(&d);
	report_government(&d, region, sizeof(region), &level, name, sizeof(name));
	assert_string_equal(region, "瑞安市");
	assert_string_equal(name, "瑞安市人民政府");
	assert_int_equal(level, XXGK__V1__GOVERNMENT_LEVEL__GOVERNMENT_CITY);

	rewrite_units(&d, "name = 文成县人民政府\nregion = 文成县\nlevel = county\n[unit u000]\n"
			  "name = a\nkind = government\n");
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 100 && strcmp(region, "文成县") != 0; i++) {
		struct timespec ms = {0, 50000000};
		nanosleep(&ms, NULL);
		report_government(&d, region, sizeof(region), &level, name, sizeof(name));
	}
	assert_string_equal(region, "文成县");
	assert_string_equal(name, "文成县人民政府");
	assert_int_equal(level, XXGK__V1__GOVERNMENT_LEVEL__GOVERNMENT_COUNTY);

	/* a bad level: the configuration in force stays, and the log says why */
	rewrite_units(&d, "region = 泰顺县\nlevel = prefecture\n[unit u000]\nname = a\nkind = "
			  "government\n");
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 100 && !daemon_log_says(&d, "level: want province"); i++) {
		struct timespec ms = {0, 50000000};
		nanosleep(&ms, NULL);
	}
	assert_true(daemon_log_says(&d, "xxgkd.conf:7: level: want province, city, county, "
					"district or township, not \"prefecture\""));
	report_government(&d, region, sizeof(region), &level, name, sizeof(name));
	assert_string_equal(region, "文成县");
	assert_int_equal(level, XXGK__V1__GOVERNMENT_LEVEL__GOVERNMENT_COUNTY);
	daemon_stop(&d);
	daemon_teardown(&d);
}

static void test_bad_starts(void **state)
{
	(void)state;
	char *dir = tmpdir_make("daemon-badstart");
	char conf[512], state_conf[512], bind_conf[512], file[600];
	FILE *f;
	snprintf(conf, sizeof(conf), "%s/bad.conf", dir);
	f = fopen(conf, "w");
	fputs("[xxgkd]\nbatch_max = lots\n", f);
	fclose(f);
	/* a state directory where one cannot be made */
	snprintf(file, sizeof(file), "%s/plainfile", dir);
	f = fopen(file, "w");
	fclose(f);
	snprintf(state_conf, sizeof(state_conf), "%s/state.conf", dir);
	f = fopen(state_conf, "w");
	fprintf(f,
		"[xxgkd]\nstate_dir = %s/sub\ningest = ipc://%s/i\nadmin = ipc://%s/a\n"
		"publish = ipc://%s/p\n",
		file, dir, dir, dir);
	fclose(f);
	snprintf(bind_conf, sizeof(bind_conf), "%s/bind.conf", dir);
	f = fopen(bind_conf, "w");
	fprintf(f, "[xxgkd]\nstate_dir = %s/s\ningest = nonsense://x\nadmin = ipc://%s/a\n", dir,
		dir);
	fclose(f);

	const char *bad_option[] = {"xxgkd", "--bogus", NULL};
	expect_start_failure(bad_option, 2, "usage: xxgkd");
	const char *extra[] = {"xxgkd", "-f", "stray", NULL};
	expect_start_failure(extra, 2, "unexpected argument \"stray\"");
	const char *bad_conf[] = {"xxgkd", "-f", "-c", conf, NULL};
	expect_start_failure(bad_conf, 1, "bad.conf:2: batch_max: want a whole number");
	const char *missing[] = {"xxgkd", "-f", "-c", "/nonexistent.conf", NULL};
	expect_start_failure(missing, 1, "/nonexistent.conf: cannot open");
	const char *bad_state[] = {"xxgkd", "-f", "-c", state_conf, NULL};
	expect_start_failure(bad_state, 1, "cannot open the store in");
	const char *bad_bind[] = {"xxgkd", "-f", "-c", bind_conf, NULL};
	expect_start_failure(bad_bind, 1, "ingest: cannot bind nonsense://x");
	/* detached, the failure still reaches the exit status */
	const char *bad_conf_detached[] = {"xxgkd", "-c", conf, NULL};
	expect_start_failure(bad_conf_detached, 1, "batch_max");
	tmpdir_remove(dir);
}

/* A store of another schema version: xxgkd says so and does not start. */
static void test_refuses_other_schema(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char *out, *err;
	city_make(&city, 2);
	daemon_setup(&d, "daemon-schema", &city, NULL);
	daemon_start(&d);
	daemon_stop(&d);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t newer[4] = {0, 0, 0, STORE_SCHEMA_VERSION + 1};
	MDB_val k = {14, "schema_version"}, v = {4, newer};
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
	assert_int_equal(mdb_env_open(env, d.state, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	const char *argv[] = {XXGKD_PATH, "-f", "-c", d.config, NULL};
	assert_int_equal(run_program(argv, &out, &err), 1);
	assert_non_null(strstr(err, "was written by another schema version than this xxgkd's"));
	free(out);
	free(err);
	daemon_teardown(&d);
	city_free(&city);
}

static void test_detaches_when_ready(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char out[4096];
	city_make(&city, 2);
	daemon_setup(&d, "daemon-detach", &city, NULL);
	const char *args[] = {"xxgkd", "-c", d.config, NULL};
	assert_int_equal(run_xxgkd(args, out, sizeof(out)), 0);
	/* it answers at once: it was ready before the parent exited */
	Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &q;
	Xxgk__V1__Reply *reply = daemon_admin_call(&d, &req, XXGK__V1__REPLY__BODY_STATUS);
	pid_t pid = (pid_t)reply->status->pid;
	assert_int_equal(reply->status->units, 2);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	assert_true(pid > 1);
	assert_int_equal(kill(pid, SIGTERM), 0);
	for (int i = 0; i < 200 && kill(pid, 0) == 0; i++) {
		struct timespec ms = {0, 20000000};
		nanosleep(&ms, NULL);
	}
	assert_int_not_equal(kill(pid, 0), 0);
	daemon_teardown(&d);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sighup_reloads_units),
	    cmocka_unit_test(test_sighup_reloads_government),
	    cmocka_unit_test(test_bad_starts),
	    cmocka_unit_test(test_detaches_when_ready),
	    cmocka_unit_test(test_refuses_other_schema),
	};
	return cmocka_run_group_tests_name("daemon_reload", tests, NULL, NULL);
}
