/*
 * Closing a year, the units' part (报送), against a real xxgkd with CurveZMQ keys:
 *  - 本年度未报送数据的单位 are exactly the units that have not submitted the year: a unit whose
 *    only 2024 activity concludes a 2023 application, or repeals a 2020 document, is listed
 *    until it submits; a 零报告 (a submission with no records) is not listed; a unit with 2024
 *    records that did not submit is; a withdrawal lists the unit again;
 *  - a unit submits with its own key; the office submits for any unit with xxgkctl submit and
 *    an admin key, which writes no other record for a unit it is not given; a unit key cannot
 *    submit for another unit;
 *  - xxgkctl units --year shows submitted, when, the records of the year and the last record
 *    received; verify finds no difference after all of it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "error.h"
#include "keyfile.h"

static struct daemon d;
static struct keypair server, dept, other, boss;
static char server_key[600], dept_secret[600], boss_secret[600];

static int setup(void **state)
{
	struct city none = {0};
	daemon_setup(&d, "submit", &none, NULL);
	daemon_use_tcp(&d);
	daemon_make_key(&d, "server", &server);
	daemon_make_key(&d, "dept", &dept);
	daemon_make_key(&d, "other", &other);
	daemon_make_key(&d, "boss", &boss);
	snprintf(server_key, sizeof(server_key), "%s/server.key", d.dir);
	snprintf(dept_secret, sizeof(dept_secret), "%s/dept.secret", d.dir);
	snprintf(boss_secret, sizeof(boss_secret), "%s/boss.secret", d.dir);
	FILE *f = fopen(d.config, "w");
	assert_non_null(f);
	fprintf(f,
		"[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n"
		"secret_key = %s/server.secret\n"
		"[unit u001]\nname = 一\nkind = department\n[unit u002]\nname = 二\nkind = "
		"department\n[unit u003]\nname = 三\nkind = township\n[unit u004]\nname = 四\n"
		"kind = township\n[unit u005]\nname = 五\nkind = functional_zone\n"
		"[client dept]\npublic_key = %s\nunits = u001 u002 u004\n"
		"[client other]\npublic_key = %s\nunits = u003 u005\n"
		"[client boss]\npublic_key = %s\nadmin = yes\n",
		d.state, d.ingest, d.admin, d.publish, d.dir, dept.public_key, other.public_key,
		boss.public_key);
	fclose(f);
	d.ready_by_log = 1;
	daemon_start(&d);
	*state = &d;
	return 0;
}

/* Pushes one record with a key; returns its status code, the message in msg. */
static int push_as(const struct keypair *k, Xxgk__V1__Record *r, char *msg, size_t size)
{
	struct xxgk_client *c;
	struct xxgk_keys keys = {server.public_key, k->public_key, k->secret_key};
	int status = 0;
	const char *m = "";
	assert_int_equal(xxgk_connect_keys(&c, d.ingest, &keys), 0);
	assert_int_equal(xxgk_push(c, &r, 1, &status, NULL, &m, 10000), 0);
	snprintf(msg, size, "%s", m ? m : "");
	xxgk_close(c);
	return status;
}

/* The report's silent units of 2024 for the city, joined by spaces, as the admin key asks. */
static void silent_units(char *out, size_t size)
{
	struct xxgk_client *c;
	struct xxgk_keys keys = {server.public_key, boss.public_key, boss.secret_key};
	Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	Xxgk__V1__Reply *reply = NULL;
	q.has_year = 1;
	q.year = 2024;
	q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
	q.city = 1;
	req.body_case = XXGK__V1__REQUEST__BODY_REPORT;
	req.report = &q;
	assert_int_equal(xxgk_connect_keys(&c, d.admin, &keys), 0);
	assert_int_equal(xxgk_call(c, &req, 10000, &reply), 0);
	xxgk_close(c);
	assert_int_equal(reply->body_case, XXGK__V1__REPLY__BODY_REPORT);
	out[0] = '\0';
	for (size_t i = 0; i < reply->report->n_silent_units; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "",
			 reply->report->silent_units[i]);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	printf("# not submitted 2024: %s\n", out[0] ? out : "(none)");
}

/* Runs xxgkctl with a key (the admin's or a unit's) and the arguments; returns its status. */
static int xxgkctl(const char *secret, const char *endpoint_option, const char *a1, const char *a2,
		   const char *a3, const char *a4, const char *a5, const char *a6, char **out,
		   char **err)
{
	const char *endpoint = strcmp(endpoint_option, "--ingest") == 0 ? d.ingest : d.admin;
	const char *argv[] = {XXGKCTL_PATH, "--server-key",
			      server_key,   "--key",
			      secret,	    endpoint_option,
			      endpoint,	    a1,
			      a2,	    a3,
			      a4,	    a5,
			      a6,	    NULL};
	return run_program(argv, out, err);
}

/* Office submit (or withdraw) for a unit with a key; returns xxgkctl's status. */
static int submit(const char *secret, const char *unit, int withdraw, char **err)
{
	char *out;
	int rc = xxgkctl(secret, "--ingest", "submit", "--unit", unit, "--year", "2024",
			 withdraw ? "--withdraw" : NULL, &out, err);
	printf("# xxgkctl submit %s%s: %s%s", unit, withdraw ? " --withdraw" : "", out, *err);
	free(out);
	return rc;
}

/* The line of a unit in `xxgkctl units --year 2024`, split into its columns. */
struct unit_line {
	char id[32], kind[32], submitted[8], at[40], last[40];
	unsigned long long records;
};

static char *units_2024(void)
{
	char *out, *err;
	int rc = xxgkctl(boss_secret, "--admin", "units", "--year", "2024", NULL, NULL, NULL, &out,
			 &err);
	if (rc != 0)
		fail_msg("xxgkctl units --year 2024 exited %d: %s", rc, err);
	free(err);
	return out;
}

static void unit_line(const char *out, const char *unit, struct unit_line *l)
{
	char find[40];
	snprintf(find, sizeof(find), "\n%s ", unit);
	const char *p = strstr(out, find);
	assert_non_null(p);
	assert_int_equal(sscanf(p + 1, "%31s %31s %7s %39s %llu %39s", l->id, l->kind, l->submitted,
				l->at, &l->records, l->last),
			 6);
}

/* A time as xxgkctl prints it, China Standard Time; the format sorts as the time does. */
static void cst(time_t t, char *buf, size_t size)
{
	struct tm tm;
	t += 8 * 3600;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

static void test_submit_and_silent_units(void **state)
{
	(void)state;
	struct trec t;
	char msg[256], silent[256], before[40], after[40], *err, *out;
	time_t t0 = time(NULL);
	cst(t0 - 1, before, sizeof(before));

	/* u001: its only 2024 activity concludes an application received in 2023 */
	trec_application(&t, "u001", "YSQ-2023-9", 1, 1, "2023-12-20", "2024-01-10", 1);
	assert_int_equal(push_as(&dept, &t.r, msg, sizeof(msg)),
			 XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	/* u002: its only 2024 activity repeals a normative document of 2020 */
	trec_document(&t, "u002", "GF-2020-1", 1, 2, "2020-03-01", "2020-03-05", "2024-05-01");
	assert_int_equal(push_as(&dept, &t.r, msg, sizeof(msg)),
			 XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	/* u004: two records dated 2024, and no submission */
	trec_tally(&t, "u004", "XK-2024", 1, 1, "2024-06-30", 12);
	assert_int_equal(push_as(&dept, &t.r, msg, sizeof(msg)),
			 XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	trec_application(&t, "u004", "YSQ-2024-1", 1, 2, "2024-03-01", NULL, 0);
	assert_int_equal(push_as(&dept, &t.r, msg, sizeof(msg)),
			 XXGK__V1__RECORD_STATUS__CODE__APPLIED);

	/* nobody submitted: every unit is listed, the ones with 2024 activity too */
	silent_units(silent, sizeof(silent));
	assert_string_equal(silent, "u001 u002 u003 u004 u005");

	/* u001 submits its 2024 itself, with its own key */
	trec_submission(&t, "u001", 2024, 1);
	assert_int_equal(push_as(&dept, &t.r, msg, sizeof(msg)),
			 XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	/* a unit key cannot submit for a unit it is not given, neither by push nor by xxgkctl */
	trec_submission(&t, "u003", 2024, 1);
	assert_int_equal(push_as(&dept, &t.r, msg, sizeof(msg)),
			 XXGK__V1__RECORD_STATUS__CODE__REJECTED);
	assert_non_null(strstr(msg, "may not write unit \"u003\""));
	assert_int_equal(submit(dept_secret, "u003", 0, &err), 1);
	assert_non_null(strstr(err, "may not write unit \"u003\""));
	free(err);
	/* the admin key writes submissions of any unit, and no other record of theirs */
	trec_tally(&t, "u002", "XK-2024-boss", 1, 1, "2024-06-30", 1);
	assert_int_equal(push_as(&boss, &t.r, msg, sizeof(msg)),
			 XXGK__V1__RECORD_STATUS__CODE__REJECTED);
	assert_non_null(strstr(msg, "may not write unit \"u002\""));
	/* the office submits for u002, and a 零报告 for u003, which sent nothing */
	assert_int_equal(submit(boss_secret, "u002", 0, &err), 0);
	free(err);
	assert_int_equal(submit(boss_secret, "u003", 0, &err), 0);
	free(err);
	silent_units(silent, sizeof(silent));
	assert_string_equal(silent, "u004 u005");

	/* units --year 2024: submitted, when, records of the year, last record received */
	cst(time(NULL) + 1, after, sizeof(after));
	out = units_2024();
	printf("# xxgkctl units --year 2024:\n%s", out);
	struct unit_line l;
	unit_line(out, "u001", &l);
	assert_string_equal(l.submitted, "yes");
	assert_true(strcmp(l.at, before) >= 0 && strcmp(l.at, after) <= 0);
	assert_int_equal(l.records, 0); /* its application counts in 2023, received then */
	assert_true(strcmp(l.last, before) >= 0 && strcmp(l.last, after) <= 0);
	unit_line(out, "u003", &l);
	assert_string_equal(l.submitted, "yes");
	assert_true(strcmp(l.at, before) >= 0 && strcmp(l.at, after) <= 0);
	assert_int_equal(l.records, 0);
	assert_string_equal(l.last, "-"); /* a 零报告: no record ever */
	unit_line(out, "u004", &l);
	assert_string_equal(l.submitted, "no");
	assert_string_equal(l.at, "-");
	assert_int_equal(l.records, 2);
	assert_true(strcmp(l.last, before) >= 0 && strcmp(l.last, after) <= 0);
	unit_line(out, "u005", &l);
	assert_string_equal(l.submitted, "no");
	assert_int_equal(l.records, 0);
	assert_string_equal(l.last, "-");
	assert_non_null(strstr(out, "3 of 5 units submitted 2024"));
	free(out);

	/* a withdrawal by the office lists u001 again; a late revision of the unit's own
	 * submission (revision 2, older than the office's microseconds) changes nothing */
	assert_int_equal(submit(boss_secret, "u001", 1, &err), 0);
	free(err);
	trec_submission(&t, "u001", 2024, 2);
	assert_int_equal(push_as(&dept, &t.r, msg, sizeof(msg)),
			 XXGK__V1__RECORD_STATUS__CODE__STALE);
	silent_units(silent, sizeof(silent));
	assert_string_equal(silent, "u001 u004 u005");
	out = units_2024();
	unit_line(out, "u001", &l);
	assert_string_equal(l.submitted, "no");
	assert_string_equal(l.at, "-");
	assert_non_null(strstr(out, "2 of 5 units submitted 2024"));
	free(out);

	/* a submission with a wrong id or year is rejected and changes nothing */
	trec_submission(&t, "u004", 2024, 1);
	snprintf(t.id, sizeof(t.id), "报送-2023");
	assert_int_equal(push_as(&dept, &t.r, msg, sizeof(msg)),
			 XXGK__V1__RECORD_STATUS__CODE__REJECTED);
	assert_non_null(strstr(msg, "id: the submission of 2024 has the id 报送-2024"));
	silent_units(silent, sizeof(silent));
	assert_string_equal(silent, "u001 u004 u005");

	/* the counters the submissions moved are those a recomputation finds */
	assert_int_equal(
	    xxgkctl(boss_secret, "--admin", "verify", NULL, NULL, NULL, NULL, NULL, &out, &err), 0);
	printf("# %s", out);
	assert_non_null(strstr(out, "verify: 0 differences"));
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_submit_and_silent_units),
	};
	return cmocka_run_group_tests_name("daemon_submit", tests, setup, daemon_fixture_teardown);
}
