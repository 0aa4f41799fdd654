/*
 * Answer periods against a real xxgkd: open applications over several units, on a calendar the
 * test writes around today (holidays and a worked Saturday). xxgkctl deadlines --within 5 and
 * --overdue, status and /metrics agree with the test's own count of working days; a revision
 * that answers an application leaves every list in its commit; after kill -9 and a restart the
 * index equals a rebuild from the records (verify), and verify finds an index entry removed
 * behind the daemon's back; a calendar changed by SIGHUP moves the due dates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <lmdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon_harness.h"

#define UNITS 6
#define APPS 240
#define MORE 60

static int port;

/* ---- the test's own calendar: days since 1970-01-01, weekdays from gmtime ---- */

static int offs[16], n_offs, works[4], n_works;

static int weekday(int day)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	return tm.tm_wday;
}

static void day_str(int day, char buf[16])
{
	time_t t = (time_t)day * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 16, "%Y-%m-%d", &tm);
}

static int year_of(int day)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	return tm.tm_year + 1900;
}

static int working(int day)
{
	for (int i = 0; i < n_offs; i++)
		if (offs[i] == day)
			return 0;
	for (int i = 0; i < n_works; i++)
		if (works[i] == day)
			return 1;
	return weekday(day) != 0 && weekday(day) != 6;
}

static int nth_working_after(int day, int n)
{
	while (n > 0)
		n -= working(++day);
	return day;
}

static int count_working(int after, int upto)
{
	int n = 0;
	for (int d = after + 1; d <= upto; d++)
		n += working(d);
	return n;
}

static int today_china(void)
{
	return (int)(((long long)time(NULL) + 8 * 3600) / 86400);
}

static void write_calendar(const char *path, int today)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	int year = year_of(today);
	for (int y = year - 1; y <= year + 1; y++) {
		char day[16];
		fprintf(f, "[%d]\nnotice = the test's own, around today\n", y);
		for (int i = 0; i < n_offs; i++)
			if (year_of(offs[i]) == y)
				day_str(offs[i], day), fprintf(f, "off = %s test holiday\n", day);
		for (int i = 0; i < n_works; i++)
			if (year_of(works[i]) == y)
				day_str(works[i], day),
				    fprintf(f, "work = %s test Saturday\n", day);
	}
	fclose(f);
}

/* ---- the records and what the test expects of them ---- */

struct app {
	char unit[16], id[16];
	int received, extended, fee, concluded, revision;
};

static struct app apps[APPS + MORE];
static size_t n_apps;

static void make_app(size_t i, int today)
{
	struct app *a = &apps[i];
	snprintf(a->unit, sizeof(a->unit), "u%03zu", i % UNITS);
	snprintf(a->id, sizeof(a->id), "D%03zu", i);
	a->received = today - (int)(i * 7 % 71);
	a->extended = i % 11 == 0 ? a->received : 0;
	a->fee = i % 13 == 0 ? a->received : 0; /* a fee notice not paid: suspended */
	a->concluded = i % 9 == 0 ? today : 0;
	a->revision = 1;
}

/* The due date as the test counts it; 0 while suspended, -1 when answered. */
static int due_of(const struct app *a)
{
	if (a->concluded)
		return -1;
	if (a->fee)
		return 0;
	return nth_working_after(a->received, a->extended ? 40 : 20);
}

static int days_left(int due, int as_of)
{
	if (due >= as_of)
		return count_working(as_of, due);
	int n = count_working(due, as_of);
	return n > 0 ? -n : -1;
}

static void push_apps(struct daemon *d, size_t from, size_t to)
{
	struct trec t;
	char ext[16], fee[16];
	struct xxgk_client *c;
	assert_int_equal(xxgk_connect(&c, d->ingest), 0);
	for (size_t i = from; i < to; i++) {
		const struct app *a = &apps[i];
		char received[16], concluded[16];
		day_str(a->received, received);
		day_str(a->concluded, concluded);
		trec_application(&t, a->unit, a->id, (uint64_t)a->revision, 1, received,
				 a->concluded ? concluded : NULL, a->concluded ? 1 : 0);
		if (a->extended)
			day_str(a->extended, ext), t.body.app.extended = ext;
		if (a->fee)
			day_str(a->fee, fee), t.body.app.fee_notice = fee;
		Xxgk__V1__Record *r = &t.r;
		int status;
		assert_int_equal(xxgk_push(c, &r, 1, &status, NULL, NULL, 10000), 0);
		assert_int_equal(status, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	}
	xxgk_close(c);
}

/* ---- what the daemon says ---- */

static Xxgk__V1__Reply *ask(struct daemon *d, int within, int overdue)
{
	Xxgk__V1__DeadlinesQuery q = XXGK__V1__DEADLINES_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	q.has_within = within >= 0;
	q.within = within >= 0 ? (uint32_t)within : 0;
	q.has_overdue = q.overdue = overdue;
	req.body_case = XXGK__V1__REQUEST__BODY_DEADLINES;
	req.deadlines = &q;
	return daemon_admin_call(d, &req, XXGK__V1__REPLY__BODY_DEADLINES);
}

static int compare_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The list as sorted lines "unit id due days_left" (due "-" when suspended). */
static char *lines_of(char **v, size_t n)
{
	qsort(v, n, sizeof(*v), compare_lines);
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	char *out = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		strcat(out, v[i]);
		strcat(out, "\n");
		free(v[i]);
	}
	free(v);
	return out;
}

static char *daemon_list(struct daemon *d, int within, int overdue, int *as_of)
{
	Xxgk__V1__Reply *reply = ask(d, within, overdue);
	const Xxgk__V1__DeadlinesReply *r = reply->deadlines;
	char **v = calloc(r->n_deadlines + 1, sizeof(*v));
	assert_false(r->truncated);
	assert_int_equal(r->total, r->n_deadlines);
	for (size_t i = 0; i < r->n_deadlines; i++) {
		const Xxgk__V1__Deadline *x = r->deadlines[i];
		assert_null(x->error);
		v[i] = malloc(128);
		snprintf(v[i], 128, "%s %s %s %d", x->unit, x->id, x->due ? x->due : "-",
			 x->has_days_left ? x->days_left : 999);
	}
	/* the day the daemon saw the lists from, for the test's own count */
	int y, m, dd;
	assert_int_equal(sscanf(r->as_of, "%d-%d-%d", &y, &m, &dd), 3);
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = dd};
	*as_of = (int)(timegm(&tm) / 86400);
	size_t n = r->n_deadlines;
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return lines_of(v, n);
}

/* within < 0: not asked; neither: every open application */
static char *expected_list(int within, int overdue, int as_of)
{
	char **v = calloc(n_apps + 1, sizeof(*v));
	size_t n = 0;
	int soon = within >= 0 ? nth_working_after(as_of, within) : 0;
	for (size_t i = 0; i < n_apps; i++) {
		int due = due_of(&apps[i]);
		if (due < 0)
			continue;
		int in = within < 0 && !overdue;
		if (due > 0 && overdue && due < as_of)
			in = 1;
		if (due > 0 && within >= 0 && due >= as_of && due <= soon)
			in = 1;
		if (!in)
			continue;
		char day[16] = "-";
		if (due)
			day_str(due, day);
		v[n] = malloc(128);
		snprintf(v[n], 128, "%.15s %.15s %.15s %d", apps[i].unit, apps[i].id, day,
			 due ? days_left(due, as_of) : 999);
		n++;
	}
	return lines_of(v, n);
}

static void check_lists(struct daemon *d, const char *when)
{
	static const struct {
		int within, overdue;
		const char *name;
	} lists[] = {{5, 0, "--within 5"}, {-1, 1, "--overdue"}, {-1, 0, "(all)"}};
	for (size_t k = 0; k < 3; k++) {
		int as_of;
		char *got = daemon_list(d, lists[k].within, lists[k].overdue, &as_of);
		char *want = expected_list(lists[k].within, lists[k].overdue, as_of);
		size_t n = 0;
		for (const char *p = got; *p; p++)
			n += *p == '\n';
		printf("# %s: deadlines %s: %zu applications, as the test counts them\n", when,
		       lists[k].name, n);
		assert_string_equal(got, want);
		assert_true(k == 2 || n > 0); /* the data has some of each */
		free(got);
		free(want);
	}
}

/* GET /metrics, whole response. */
static char *get_metrics(void)
{
	return http_get(port, "/metrics");
}

static long long metric(const char *page, const char *unit, const char *period)
{
	char want[128];
	snprintf(want, sizeof(want), "\nxxgk_unit_applications{unit=\"%s\",period=\"%s\"} ", unit,
		 period);
	const char *p = strstr(page, want);
	return p ? strtoll(p + strlen(want), NULL, 10) : 0;
}

/* /metrics and status against the test's count for today. */
static void check_counts(struct daemon *d)
{
	int today = today_china();
	int soon = nth_working_after(today, 5);
	long long open[UNITS] = {0}, due_soon[UNITS] = {0}, overdue[UNITS] = {0};
	for (size_t i = 0; i < n_apps; i++) {
		int due = due_of(&apps[i]), u = atoi(apps[i].unit + 1);
		if (due < 0)
			continue;
		open[u]++;
		if (due > 0 && due < today)
			overdue[u]++;
		else if (due > 0 && due <= soon)
			due_soon[u]++;
	}
	char *page = get_metrics();
	Xxgk__V1__StatusQuery sq = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &sq;
	Xxgk__V1__Reply *reply = daemon_admin_call(d, &req, XXGK__V1__REPLY__BODY_STATUS);
	if (today != today_china()) { /* midnight passed meanwhile: the next call counts again */
		free(page);
		xxgk__v1__reply__free_unpacked(reply, NULL);
		check_counts(d);
		return;
	}
	for (int u = 0; u < UNITS; u++) {
		char unit[16];
		snprintf(unit, sizeof(unit), "u%03d", u);
		printf("# %s: open %lld, due within 5 working days %lld, overdue %lld\n", unit,
		       open[u], due_soon[u], overdue[u]);
		assert_int_equal(metric(page, unit, "open"), open[u]);
		assert_int_equal(metric(page, unit, "due_soon"), due_soon[u]);
		assert_int_equal(metric(page, unit, "overdue"), overdue[u]);
		const Xxgk__V1__UnitDeadlines *s = NULL;
		for (size_t k = 0; k < reply->status->n_deadlines; k++)
			if (strcmp(reply->status->deadlines[k]->unit, unit) == 0)
				s = reply->status->deadlines[k];
		assert_non_null(s);
		assert_int_equal(s->open, open[u]);
		assert_int_equal(s->due_soon, due_soon[u]);
		assert_int_equal(s->overdue, overdue[u]);
	}
	free(page);
	xxgk__v1__reply__free_unpacked(reply, NULL);
}

static void check_verify(struct daemon *d, int want_deadline_difference)
{
	Xxgk__V1__VerifyQuery q = XXGK__V1__VERIFY_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_VERIFY;
	req.verify = &q;
	Xxgk__V1__Reply *reply = daemon_admin_call(d, &req, XXGK__V1__REPLY__BODY_VERIFY);
	printf("# verify: %llu differences%s%s\n", (unsigned long long)reply->verify->differences,
	       reply->verify->n_lines ? ", the first: " : "",
	       reply->verify->n_lines ? reply->verify->lines[0] : "");
	if (want_deadline_difference) {
		assert_int_equal(reply->verify->differences, 1);
		assert_non_null(strstr(reply->verify->lines[0], "deadlines: "));
		assert_non_null(strstr(reply->verify->lines[0], "missing from the index"));
	} else {
		assert_int_equal(reply->verify->differences, 0);
	}
	xxgk__v1__reply__free_unpacked(reply, NULL);
}

/* Deletes the first tail of the deadlines index (the entries of a unit's day, the last group
 * of its (due, unit): one here), behind the stopped daemon's back. */
static void damage_index(const char *state)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 10), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)64 << 20), 0);
	assert_int_equal(mdb_env_open(env, state, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "deadline_tails", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
	assert_int_equal(mdb_cursor_del(cur, 0), 0);
	mdb_cursor_close(cur);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_deadlines(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char extra[1024], calendar[600];
	int today = today_china();
	/* a holiday yesterday-ish, one in three working days, one two weeks back; a worked
	 * Saturday three weeks back: the lists must follow them, not a weekday count */
	offs[n_offs++] = today - 1;
	offs[n_offs++] = today + 3;
	offs[n_offs++] = today - 14;
	works[n_works++] = today - 21 - (weekday(today - 21) + 1) % 7; /* a Saturday */
	assert_int_equal(weekday(works[0]), 6);
	city_make(&city, UNITS);
	port = free_port();
	char *cal_dir = tmpdir_make("deadlines-calendar");
	snprintf(calendar, sizeof(calendar), "%s/holidays.conf", cal_dir);
	write_calendar(calendar, today);
	snprintf(extra, sizeof(extra), "http = 127.0.0.1:%d\nholidays = %s\n", port, calendar);
	daemon_setup(&d, "deadlines", &city, extra);
	daemon_start(&d);

	for (size_t i = 0; i < APPS; i++)
		make_app(i, today);
	n_apps = APPS;
	push_apps(&d, 0, APPS);
	check_lists(&d, "pushed");
	check_counts(&d);

	/* an overdue application answered: gone from every list in the commit that answers it */
	size_t late = APPS;
	for (size_t i = 0; i < APPS && late == APPS; i++)
		if (due_of(&apps[i]) > 0 && due_of(&apps[i]) < today)
			late = i;
	assert_true(late < APPS);
	apps[late].concluded = today;
	apps[late].revision = 2;
	push_apps(&d, late, late + 1);
	printf("# %s %s answered\n", apps[late].unit, apps[late].id);
	check_lists(&d, "answered");
	check_counts(&d);

	/* kill -9 after more records, and a restart: the index as a rebuild finds it */
	for (size_t i = APPS; i < APPS + MORE; i++)
		make_app(i, today);
	n_apps = APPS + MORE;
	push_apps(&d, APPS, APPS + MORE);
	daemon_kill(&d);
	daemon_start(&d);
	check_verify(&d, 0);
	check_lists(&d, "after kill -9");
	check_counts(&d);

	/* a calendar changed, SIGHUP: every due date again */
	int as_of;
	char *before = daemon_list(&d, -1, 0, &as_of);
	offs[n_offs++] = today + 1;
	offs[n_offs++] = today + 2;
	write_calendar(calendar, today);
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 200 && !daemon_log_says(&d, "reloaded:"); i++)
		usleep(50 * 1000);
	assert_true(daemon_log_says(&d, "reloaded:"));
	char *after = daemon_list(&d, -1, 0, &as_of);
	assert_string_not_equal(before, after); /* some due dates moved */
	free(before);
	free(after);
	check_lists(&d, "calendar changed");
	check_counts(&d);
	check_verify(&d, 0);

	/* verify compares the index with the records: an entry removed is found */
	daemon_stop(&d);
	damage_index(d.state);
	daemon_start(&d);
	check_verify(&d, 1);
	daemon_stop(&d);
	daemon_teardown(&d);
	tmpdir_remove(cal_dir);
	city_free(&city);
}

/* A calendar file that is wrong, or a bad deadlines_max: xxgkd refuses to start and says where. */
static void test_bad_calendar(void **state)
{
	(void)state;
	static const struct {
		const char *calendar, *extra, *error;
	} cases[] = {
	    {"[2024]\nnotice = x\nwork = 2024-10-11 a Friday\n", "",
	     "holidays.conf:3: work: 2024-10-11 is not a Saturday or Sunday"},
	    {"[2024]\noff = 2024-10-01 no notice\n", "", "[2024]: no notice cited"},
	    {NULL, "", "cannot read"},
	    {"[2024]\nnotice = x\n", "deadlines_max = 0\n", "deadlines_max"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct city city;
		struct daemon d;
		char extra[1024], calendar[600], *out = NULL, *err = NULL;
		char *cal_dir = tmpdir_make("deadlines-calendar");
		city_make(&city, 2);
		snprintf(calendar, sizeof(calendar), "%s/holidays.conf", cal_dir);
		if (cases[i].calendar) {
			FILE *f = fopen(calendar, "w");
			assert_non_null(f);
			fputs(cases[i].calendar, f);
			fclose(f);
		}
		snprintf(extra, sizeof(extra), "holidays = %s\n%s", calendar, cases[i].extra);
		daemon_setup(&d, "deadlines-bad", &city, extra);
		const char *argv[] = {XXGKD_PATH, "-c", d.config, "-f", NULL};
		int status = run_program(argv, &out, &err);
		const char *line = strstr(err, cases[i].error);
		assert_int_not_equal(status, 0);
		assert_non_null(line);
		while (line > err && line[-1] != '\n')
			line--;
		printf("# refused: %.*s\n", (int)strcspn(line, "\n"), line);
		free(out);
		free(err);
		daemon_teardown(&d);
		tmpdir_remove(cal_dir);
		city_free(&city);
	}
}

/*
 * The year's late answers in the report (a figure of its narrative): answered after the due date
 * on the shipped calendar, sent with the report and printed in every layout that has notes.
 */
static void test_report_late_answers(void **state)
{
	(void)state;
	static const struct {
		const char *unit, *id, *received, *concluded;
	} recs[] = {
	    {"u000", "on-time", "2024-09-27", "2024-10-30"}, /* due 2024-10-30 */
	    {"u000", "late", "2024-09-27", "2024-10-31"},
	    {"u001", "late-too", "2024-02-05", "2024-03-20"}, /* due 2024-03-08 */
	    {"u001", "late-2025", "2024-12-10", "2025-03-03"},
	    {"u001", "open", "2024-09-27", NULL},
	};
	static const struct {
		const char *format, *want;
	} layouts[] = {
	    {"json", "\"late_answers\": 2"},
	    {"text", "本年度逾期答复的申请：2件\n"},
	    {"markdown", "本年度逾期答复的申请：2件\n"},
	    {"html", "<p>本年度逾期答复的申请：2件</p>"},
	};
	struct city city;
	struct daemon d;
	struct trec t;
	char extra[1024];
	city_make(&city, 2);
	snprintf(extra, sizeof(extra), "holidays = %s/data/holidays.conf\n", XXGK_SOURCE_DIR);
	daemon_setup(&d, "deadlines-late", &city, extra);
	daemon_start(&d);
	struct xxgk_client *c;
	assert_int_equal(xxgk_connect(&c, d.ingest), 0);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		Xxgk__V1__Record *r = &t.r;
		int status;
		trec_application(&t, recs[i].unit, recs[i].id, 1, 1, recs[i].received,
				 recs[i].concluded, recs[i].concluded ? 1 : 0);
		assert_int_equal(xxgk_push(c, &r, 1, &status, NULL, NULL, 10000), 0);
		assert_int_equal(status, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	}
	xxgk_close(c);
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		const char *argv[] = {XXGKCTL_PATH, "--admin",	       d.admin,
				      "report",	    "--year",	       "2024",
				      "--format",   layouts[i].format, NULL};
		char *out = NULL, *err = NULL;
		assert_int_equal(run_program(argv, &out, &err), 0);
		const char *line = strstr(out, layouts[i].want);
		if (line == NULL)
			fail_msg("report --format %s says no \"%s\":\n%s", layouts[i].format,
				 layouts[i].want, out);
		printf("# %s: %.*s\n", layouts[i].format, (int)strcspn(line, "\n"), line);
		free(out);
		free(err);
	}
	/* a unit's report counts its own */
	const char *argv[] = {XXGKCTL_PATH, "--admin", d.admin,	   "report", "--year", "2025",
			      "--unit",	    "u001",    "--format", "json",   NULL};
	char *out = NULL, *err = NULL;
	assert_int_equal(run_program(argv, &out, &err), 0);
	assert_non_null(strstr(out, "\"late_answers\": 1"));
	free(out);
	free(err);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_calendar),
	    cmocka_unit_test(test_deadlines),
	    cmocka_unit_test(test_report_late_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
