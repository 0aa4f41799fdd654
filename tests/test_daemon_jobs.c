/*
 * verify and backup run beside the queries (daemon/jobs.h): while one runs (made long by
 * verify_rate, or XXGK_TEST_BACKUP_DELAY_MS for a backup), reports and status are answered at
 * once, status shows the job's progress, pushes are applied, and a second job is refused as
 * busy; verify --unit / --year find a difference planted in their part and not one outside it;
 * and xxgkd stopped during a verify stops promptly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "error.h"
#include "stream.h"

#define RECORDS 12000

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* How long a job's caller waits for its reply. */
static int job_timeout_ms = 120000;

/* A job's request on a client of its own, waited for on a thread: its reply comes when it ends. */
struct job_call {
	pthread_t thread;
	const char *endpoint;
	Xxgk__V1__Request req;
	Xxgk__V1__VerifyQuery verify;
	Xxgk__V1__BackupQuery backup;
	Xxgk__V1__Reply *reply;
	int rc, timeout_ms;
	double ended_ms;
};

static void *call_job(void *arg)
{
	struct job_call *j = arg;
	struct xxgk_client *c;
	j->rc = xxgk_connect(&c, j->endpoint);
	if (j->rc == 0) {
		j->rc = xxgk_call(c, &j->req, j->timeout_ms, &j->reply);
		xxgk_close(c);
	}
	j->ended_ms = now_ms();
	return NULL;
}

static void start_verify(struct job_call *j, const char *endpoint, const char *unit, int year)
{
	memset(j, 0, sizeof(*j));
	j->endpoint = endpoint;
	j->timeout_ms = job_timeout_ms;
	j->req = (Xxgk__V1__Request)XXGK__V1__REQUEST__INIT;
	j->verify = (Xxgk__V1__VerifyQuery)XXGK__V1__VERIFY_QUERY__INIT;
	j->verify.unit = (char *)unit;
	j->verify.has_year = year != 0;
	j->verify.year = (uint32_t)year;
	j->req.body_case = XXGK__V1__REQUEST__BODY_VERIFY;
	j->req.verify = &j->verify;
	assert_int_equal(pthread_create(&j->thread, NULL, call_job, j), 0);
}

static void start_backup(struct job_call *j, const char *endpoint, const char *dir)
{
	memset(j, 0, sizeof(*j));
	j->endpoint = endpoint;
	j->timeout_ms = job_timeout_ms;
	j->req = (Xxgk__V1__Request)XXGK__V1__REQUEST__INIT;
	j->backup = (Xxgk__V1__BackupQuery)XXGK__V1__BACKUP_QUERY__INIT;
	j->backup.dir = (char *)dir;
	j->req.body_case = XXGK__V1__REQUEST__BODY_BACKUP;
	j->req.backup = &j->backup;
	assert_int_equal(pthread_create(&j->thread, NULL, call_job, j), 0);
}

static Xxgk__V1__Reply *finish_job(struct job_call *j)
{
	pthread_join(j->thread, NULL);
	if (j->rc)
		fail_msg("the job's call: %s", xxgk_strerror(j->rc));
	return j->reply;
}

/* An admin request on c, timed; fails the test unless answered with body_case within 1 s. */
static double timed_call(struct xxgk_client *c, Xxgk__V1__Request *req, int body_case,
			 Xxgk__V1__Reply **out)
{
	Xxgk__V1__Reply *reply = NULL;
	double t0 = now_ms();
	int rc = xxgk_call(c, req, 20000, &reply);
	double ms = now_ms() - t0;
	if (rc)
		fail_msg("%s during a job: %s",
			 req->body_case == XXGK__V1__REQUEST__BODY_REPORT ? "report" : "status",
			 xxgk_strerror(rc));
	if ((int)reply->body_case != body_case)
		fail_msg("reply %d, wanted %d (%s)", reply->body_case, body_case,
			 reply->body_case == XXGK__V1__REPLY__BODY_ERROR ? reply->error->message
									 : "");
	if (ms >= 1000)
		fail_msg("%s took %.0f ms during a job (want < 1000)",
			 req->body_case == XXGK__V1__REQUEST__BODY_REPORT ? "a report" : "status",
			 ms);
	if (out)
		*out = reply;
	else
		xxgk__v1__reply__free_unpacked(reply, NULL);
	return ms;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void print_latency(const char *what, double *v, size_t n)
{
	qsort(v, n, sizeof(*v), compare_doubles);
	printf("# %s during the job: %zu answered, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", what,
	       n, v[n / 2], v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], v[n - 1]);
}

/* The job status shows, or NULL when none runs. */
static Xxgk__V1__Reply *job_status(struct xxgk_client *c, double *ms)
{
	Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	Xxgk__V1__Reply *reply;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &q;
	*ms = timed_call(c, &req, XXGK__V1__REPLY__BODY_STATUS, &reply);
	if (reply->status->job == NULL) {
		xxgk__v1__reply__free_unpacked(reply, NULL);
		return NULL;
	}
	return reply;
}

struct loaded {
	struct city city;
	struct stream s;
	struct daemon d;
	int http_port; /* /metrics, or 0 */
};

static void load(struct loaded *l, const char *tag, const char *extra)
{
	struct publish_counts counts;
	char config[256];
	l->http_port = free_port();
	snprintf(config, sizeof(config), "%shttp = 127.0.0.1:%d\n", extra ? extra : "",
		 l->http_port);
	city_make(&l->city, 6);
	stream_make(&l->s, &l->city, RECORDS, 2018, 2021, 15);
	daemon_setup(&l->d, tag, &l->city, config);
	daemon_start(&l->d);
	struct publishers *p =
	    publishers_start(l->d.ingest, l->s.entries, l->s.n_entries, 4, 1, 30000, 15);
	publishers_join(p, &counts);
	assert_int_equal(counts.failures, 0);
}

static void unload(struct loaded *l)
{
	daemon_stop(&l->d);
	daemon_teardown(&l->d);
	stream_free(&l->s);
	city_free(&l->city);
}

/*
 * While the job runs (until it ends or for at most 4 s): reports and status each answered
 * within 1 s, a 1-record push applied, a second verify refused as busy. Returns how many
 * status answers showed the job with progress.
 */
static int during_job(struct loaded *l, struct job_call *job, const char *kind)
{
	enum { MAX = 4000 };
	static double report_ms[MAX], status_ms[MAX], push_ms[MAX];
	size_t n_report = 0, n_status = 0, n_push = 0;
	int shown = 0, busy = 0;
	struct xxgk_client *admin, *ingest;
	assert_int_equal(xxgk_connect(&admin, l->d.admin), 0);
	assert_int_equal(xxgk_connect(&ingest, l->d.ingest), 0);
	Xxgk__V1__ReportQuery rq = XXGK__V1__REPORT_QUERY__INIT;
	Xxgk__V1__Request report = XXGK__V1__REQUEST__INIT;
	rq.has_year = 1;
	rq.year = 2019;
	report.body_case = XXGK__V1__REQUEST__BODY_REPORT;
	report.report = &rq;
	/* the job is under way once status shows it (it is handed over at once) */
	double t0 = now_ms(), ms;
	Xxgk__V1__Reply *st = NULL;
	while (st == NULL && now_ms() - t0 < 10000 && job->ended_ms == 0) {
		st = job_status(admin, &ms);
		status_ms[n_status++] = ms;
	}
	if (st == NULL)
		fail_msg("status never showed the %s under way", kind);
	xxgk__v1__reply__free_unpacked(st, NULL);
	/* and /metrics: 1 for a verify, 2 for a backup */
	char *metrics = http_get(l->http_port, "/metrics"), want_metric[64];
	snprintf(want_metric, sizeof(want_metric), "xxgk_job_running %d\n",
		 strcmp(kind, "verify") == 0 ? 1 : 2);
	if (strstr(metrics, want_metric) == NULL || !strstr(metrics, "xxgk_job_total "))
		fail_msg("/metrics during a %s lacks \"%s\"", kind, want_metric);
	free(metrics);
	t0 = now_ms();
	for (int i = 0; job->ended_ms == 0 && now_ms() - t0 < 4000 && n_report < MAX; i++) {
		report_ms[n_report++] =
		    timed_call(admin, &report, XXGK__V1__REPLY__BODY_REPORT, NULL);
		if ((st = job_status(admin, &ms)) != NULL) {
			const Xxgk__V1__Job *j = st->status->job;
			assert_string_equal(j->kind, kind);
			assert_true(j->started_at > 0);
			if (j->done > 0 && j->total > 0) {
				if (shown++ == 0)
					printf("# status during the %s: %llu of %llu done\n", kind,
					       (unsigned long long)j->done,
					       (unsigned long long)j->total);
			}
			xxgk__v1__reply__free_unpacked(st, NULL);
		}
		status_ms[n_status++] = ms;
		if (i % 10 == 0) { /* a push is applied meanwhile */
			struct trec t;
			char id[32];
			int status = 0, reason = 0;
			const char *message = NULL;
			Xxgk__V1__Record *r = &t.r;
			snprintf(id, sizeof(id), "during-%s-%d", kind, i);
			trec_tally(&t, "u001", id, 1,
				   XXGK__V1__TALLY_MEASURE__TALLY_PROCUREMENT_AMOUNT, "2019-06-01",
				   1);
			double p0 = now_ms();
			assert_int_equal(
			    xxgk_push(ingest, &r, 1, &status, &reason, &message, 20000), 0);
			push_ms[n_push++] = now_ms() - p0;
			assert_int_equal(status, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
		}
		if (!busy) { /* one at a time: a second job is refused, naming the first */
			Xxgk__V1__VerifyQuery vq = XXGK__V1__VERIFY_QUERY__INIT;
			Xxgk__V1__Request v = XXGK__V1__REQUEST__INIT;
			Xxgk__V1__Reply *reply;
			v.body_case = XXGK__V1__REQUEST__BODY_VERIFY;
			v.verify = &vq;
			timed_call(admin, &v, XXGK__V1__REPLY__BODY_ERROR, &reply);
			printf("# a second verify: %s\n", reply->error->message);
			char want[64];
			snprintf(want, sizeof(want), "busy: a %s started at ", kind);
			assert_non_null(strstr(reply->error->message, want));
			xxgk__v1__reply__free_unpacked(reply, NULL);
			busy = 1;
		}
	}
	print_latency("report", report_ms, n_report);
	print_latency("status", status_ms, n_status);
	print_latency("1-record push", push_ms, n_push);
	xxgk_close(admin);
	xxgk_close(ingest);
	assert_true(busy);
	return shown;
}

static void test_verify_beside_queries(void **state)
{
	(void)state;
	struct loaded l;
	struct job_call job;
	/* a walk of about 3 s */
	load(&l, "jobs-verify", "verify_rate = 4000\n");
	double t0 = now_ms();
	start_verify(&job, l.d.admin, NULL, 0);
	int shown = during_job(&l, &job, "verify");
	Xxgk__V1__Reply *reply = finish_job(&job);
	printf("# verify answered after %.0f ms: %llu differences\n", job.ended_ms - t0,
	       reply->body_case == XXGK__V1__REPLY__BODY_VERIFY
		   ? (unsigned long long)reply->verify->differences
		   : 0ULL);
	if (reply->body_case != XXGK__V1__REPLY__BODY_VERIFY)
		fail_msg("verify: %s", reply->body_case == XXGK__V1__REPLY__BODY_ERROR
					   ? reply->error->message
					   : "another reply");
	assert_int_equal(reply->verify->differences, 0);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	assert_true(shown > 0); /* status told how far it was */
	/* and once it ended, another may run */
	daemon_check_verify(&l.d);
	unload(&l);
}

static void test_backup_beside_queries(void **state)
{
	(void)state;
	struct loaded l;
	struct job_call job;
	char dir[600];
	setenv("XXGK_TEST_BACKUP_DELAY_MS", "3000", 1);
	load(&l, "jobs-backup", NULL);
	unsetenv("XXGK_TEST_BACKUP_DELAY_MS");
	snprintf(dir, sizeof(dir), "%s/backup", l.d.dir);
	start_backup(&job, l.d.admin, dir);
	during_job(&l, &job, "backup");
	Xxgk__V1__Reply *reply = finish_job(&job);
	if (reply->body_case != XXGK__V1__REPLY__BODY_BACKUP)
		fail_msg("backup: %s", reply->body_case == XXGK__V1__REPLY__BODY_ERROR
					   ? reply->error->message
					   : "another reply");
	printf("# backup: %llu bytes\n", (unsigned long long)reply->backup->bytes);
	assert_true(reply->backup->bytes > 0);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	struct store *st;
	size_t differences = 1;
	assert_int_equal(store_open(&st, dir, NULL), 0);
	assert_int_equal(store_verify(st, NULL, NULL, &differences), 0);
	assert_int_equal(differences, 0);
	store_close(st);
	unload(&l);
}

/*
 * backup_rate: a copy of about 2 MB at 1 MB/s takes at least a second and a half, its
 * progress grows in status meanwhile, and the copy is whole.
 */
static void test_backup_rate(void **state)
{
	(void)state;
	struct loaded l;
	struct job_call job;
	struct xxgk_client *admin;
	char dir[600];
	double ms;
	uint64_t seen = 0, of = 0;
	load(&l, "jobs-backup-rate", "backup_rate = 1000000\n");
	snprintf(dir, sizeof(dir), "%s/backup", l.d.dir);
	double t0 = now_ms();
	start_backup(&job, l.d.admin, dir);
	assert_int_equal(xxgk_connect(&admin, l.d.admin), 0);
	while (job.ended_ms == 0 && now_ms() - t0 < 60000) {
		Xxgk__V1__Reply *st = job_status(admin, &ms);
		if (st && st->status->job->done > 0 &&
		    st->status->job->done < st->status->job->total) {
			if (seen == 0)
				printf("# status during the backup: %llu of %llu bytes\n",
				       (unsigned long long)st->status->job->done,
				       (unsigned long long)st->status->job->total);
			seen = st->status->job->done;
			of = st->status->job->total;
		}
		if (st)
			xxgk__v1__reply__free_unpacked(st, NULL);
		struct timespec t = {0, 50000000};
		nanosleep(&t, NULL);
	}
	xxgk_close(admin);
	Xxgk__V1__Reply *reply = finish_job(&job);
	if (reply->body_case != XXGK__V1__REPLY__BODY_BACKUP)
		fail_msg("backup: %s", reply->body_case == XXGK__V1__REPLY__BODY_ERROR
					   ? reply->error->message
					   : "another reply");
	double took = job.ended_ms - t0, least = (double)reply->backup->bytes / 1000000 * 1000;
	printf("# backup of %llu bytes at 1 MB/s took %.0f ms (at least %.0f)\n",
	       (unsigned long long)reply->backup->bytes, took, least * 0.9);
	assert_true(reply->backup->bytes > 1500000);
	assert_true(took >= least * 0.9);
	assert_true(seen > 0 && of > 0); /* the copy's progress, as it grew */
	xxgk__v1__reply__free_unpacked(reply, NULL);
	struct store *st;
	size_t differences = 1;
	assert_int_equal(store_open(&st, dir, NULL), 0);
	assert_int_equal(store_verify(st, NULL, NULL, &differences), 0);
	assert_int_equal(differences, 0);
	store_close(st);
	unload(&l);
}

/* ---- parts ---- */

/* A verify of a part, its reply printed (the caller frees it). */
static Xxgk__V1__Reply *verify_part(struct daemon *d, const char *unit, int year)
{
	struct job_call job;
	start_verify(&job, d->admin, unit, year);
	Xxgk__V1__Reply *reply = finish_job(&job);
	if (reply->body_case != XXGK__V1__REPLY__BODY_VERIFY)
		fail_msg("verify %s %d: %s", unit ? unit : "-", year,
			 reply->body_case == XXGK__V1__REPLY__BODY_ERROR ? reply->error->message
									 : "another reply");
	printf("# verify unit %s year %d: %llu differences\n", unit ? unit : "-", year,
	       (unsigned long long)reply->verify->differences);
	for (size_t i = 0; i < reply->verify->n_lines; i++)
		printf("#   %s\n", reply->verify->lines[i]);
	return reply;
}

/* Adds 7 to u001's 2019 counter of the first key found, and drops app-u001's index entry. */
static void plant(const char *state_dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi counters, deadlines;
	MDB_cursor *cur;
	MDB_val k, v;
	int planted = 0, dropped = 0;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, state_dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "counters", 0, &counters), 0);
	assert_int_equal(mdb_dbi_open(txn, "deadline_log", 0, &deadlines), 0);
	assert_int_equal(mdb_cursor_open(txn, counters, &cur), 0);
	/* unit scope (2), year 2019: only u001 has records of 2019 */
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !planted;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *p = k.mv_data;
		int64_t value;
		if (k.mv_size != 9 || p[0] != 2 || (p[5] << 8 | p[6]) != 2019)
			continue;
		memcpy(&value, v.mv_data, sizeof(value));
		value += 7;
		MDB_val nv = {sizeof(value), &value};
		assert_int_equal(mdb_cursor_put(cur, &k, &nv, MDB_CURRENT), 0);
		planted = 1;
	}
	mdb_cursor_close(cur);
	assert_int_equal(mdb_cursor_open(txn, deadlines, &cur), 0);
	/*
	 * The push's changes are logged (store_deadline.h), app-u001's first:
	 * [flags 15][due][unit][value 10][0][8]"app-u001"... A delete of it logged after them
	 * drops it: [flags 6: due, unit][its due][its unit][0][8]"app-u001".
	 */
	if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && v.mv_size > 29 &&
	    ((const uint8_t *)v.mv_data)[0] == 15 &&
	    memcmp((const uint8_t *)v.mv_data + 19, "\0\10app-u001", 10) == 0) {
		uint8_t del[19] = {6}, key[4] = {0, 0, 0, 0x7f};
		memcpy(del + 1, (const uint8_t *)v.mv_data + 1, 8);
		memcpy(del + 9, "\0\10app-u001", 10);
		MDB_val dk = {sizeof(key), key}, dv = {sizeof(del), del};
		assert_int_equal(mdb_cursor_put(cur, &dk, &dv, 0), 0);
		dropped = 1;
	}
	mdb_cursor_close(cur);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_true(planted && dropped);
}

static void test_verify_parts(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	struct xxgk_client *c;
	struct trec t[3];
	Xxgk__V1__Record *batch[3] = {&t[0].r, &t[1].r, &t[2].r};
	int statuses[3], reasons[3];
	const char *messages[3];
	city_make(&city, 3);
	daemon_setup(&d, "jobs-parts", &city, NULL);
	daemon_start(&d);
	/* u001's records are of 2019, u002's of 2020; open applications are in the index */
	trec_application(&t[0], "u001", "app-u001", 1, 1, "2019-04-01", NULL, 0);
	trec_tally(&t[1], "u001", "tally-u001", 1,
		   XXGK__V1__TALLY_MEASURE__TALLY_PROCUREMENT_AMOUNT, "2019-06-01", 500);
	trec_application(&t[2], "u002", "app-u002", 1, 1, "2020-04-01", NULL, 0);
	assert_int_equal(xxgk_connect(&c, d.ingest), 0);
	assert_int_equal(xxgk_push(c, batch, 3, statuses, reasons, messages, 10000), 0);
	xxgk_close(c);
	for (int i = 0; i < 3; i++)
		assert_int_equal(statuses[i], XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	daemon_stop(&d);
	plant(d.state);
	daemon_start(&d);
	Xxgk__V1__Reply *v = verify_part(&d, "u001", 0);
	assert_int_equal(v->verify->differences, 2); /* the counter and the index entry */
	assert_non_null(strstr(v->verify->lines[0], "unit u001 2019 "));
	assert_non_null(strstr(v->verify->lines[1], "app-u001"));
	assert_non_null(strstr(v->verify->lines[1], "missing from the index"));
	xxgk__v1__reply__free_unpacked(v, NULL);
	v = verify_part(&d, "u002", 0);
	assert_int_equal(v->verify->differences, 0);
	xxgk__v1__reply__free_unpacked(v, NULL);
	v = verify_part(&d, NULL, 2019);
	assert_int_equal(v->verify->differences, 1); /* a year's part: counters only */
	assert_non_null(strstr(v->verify->lines[0], "unit u001 2019 "));
	xxgk__v1__reply__free_unpacked(v, NULL);
	v = verify_part(&d, NULL, 2020);
	assert_int_equal(v->verify->differences, 0);
	xxgk__v1__reply__free_unpacked(v, NULL);
	v = verify_part(&d, "u001", 2019);
	assert_int_equal(v->verify->differences, 1); /* that unit's counters of that year */
	xxgk__v1__reply__free_unpacked(v, NULL);
	v = verify_part(&d, "u001", 2020);
	assert_int_equal(v->verify->differences, 0);
	xxgk__v1__reply__free_unpacked(v, NULL);
	v = verify_part(&d, NULL, 0);
	assert_int_equal(v->verify->differences, 2);
	xxgk__v1__reply__free_unpacked(v, NULL);
	/* a unit the store does not know, and a year out of range: a clear error */
	Xxgk__V1__VerifyQuery vq = XXGK__V1__VERIFY_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_VERIFY;
	req.verify = &vq;
	vq.unit = "nobody";
	Xxgk__V1__Reply *reply = daemon_admin_call(&d, &req, XXGK__V1__REPLY__BODY_ERROR);
	printf("# %s\n", reply->error->message);
	assert_non_null(strstr(reply->error->message, "verify: unit: no unit \"nobody\""));
	xxgk__v1__reply__free_unpacked(reply, NULL);
	vq.unit = NULL;
	vq.has_year = 1;
	vq.year = 1999;
	reply = daemon_admin_call(&d, &req, XXGK__V1__REPLY__BODY_ERROR);
	printf("# %s\n", reply->error->message);
	assert_non_null(strstr(reply->error->message, "verify: year: want a year from 2000"));
	xxgk__v1__reply__free_unpacked(reply, NULL);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
}

/* How many processes have dir in their command line (a verify child reading the store). */
static int processes_reading(const char *mode, const char *dir)
{
	char path[300], cmd[4096];
	int n = 0;
	DIR *proc = opendir("/proc");
	struct dirent *e;
	assert_non_null(proc);
	while ((e = readdir(proc)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t len = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		for (size_t i = 0; i < len; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[len] = '\0';
		if (strstr(cmd, mode) && strstr(cmd, dir)) {
			printf("# still running: %s\n", cmd);
			n++;
		}
	}
	closedir(proc);
	return n;
}

/*
 * SIGTERM during a job that would take a minute: xxgkd is gone within 10 s, exit status 0, and
 * no child of the job is left reading the store.
 */
static void stop_during(struct loaded *l, const char *kind, const char *mode)
{
	struct job_call job;
	struct xxgk_client *admin;
	char dir[600];
	double ms;
	job_timeout_ms = 5000; /* the stop below leaves it unanswered */
	snprintf(dir, sizeof(dir), "%s/backup", l->d.dir);
	if (strcmp(kind, "verify") == 0)
		start_verify(&job, l->d.admin, NULL, 0);
	else
		start_backup(&job, l->d.admin, dir);
	job_timeout_ms = 120000;
	assert_int_equal(xxgk_connect(&admin, l->d.admin), 0);
	Xxgk__V1__Reply *st = NULL;
	for (double t0 = now_ms(); st == NULL && now_ms() - t0 < 10000;)
		st = job_status(admin, &ms);
	assert_non_null(st);
	xxgk__v1__reply__free_unpacked(st, NULL);
	xxgk_close(admin);
	double t0 = now_ms();
	int status = -1;
	assert_int_equal(kill(l->d.pid, SIGTERM), 0);
	while (now_ms() - t0 < 10000 && waitpid(l->d.pid, &status, WNOHANG) == 0) {
		struct timespec t = {0, 20000000};
		nanosleep(&t, NULL);
	}
	printf("# stopped during a %s in %.0f ms\n", kind, now_ms() - t0);
	if (status == -1)
		fail_msg("xxgkd did not stop within 10 s of SIGTERM during a %s", kind);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	l->d.pid = 0;
	pthread_join(job.thread, NULL); /* its caller hears nothing: its timeout */
	if (job.reply)
		xxgk__v1__reply__free_unpacked(job.reply, NULL);
	assert_int_equal(daemon_log_count(&l->d, "damaged"), 0);
	struct timespec settle = {0, 200000000};
	nanosleep(&settle, NULL);
	assert_int_equal(processes_reading(mode, l->d.state), 0);
	daemon_teardown(&l->d);
	stream_free(&l->s);
	city_free(&l->city);
}

static void test_stop_during_verify(void **state)
{
	(void)state;
	struct loaded l;
	load(&l, "jobs-stop", "verify_rate = 200\n");
	stop_during(&l, "verify", "--verify-store");
}

static void test_stop_during_backup(void **state)
{
	(void)state;
	struct loaded l;
	setenv("XXGK_TEST_BACKUP_DELAY_MS", "60000", 1);
	load(&l, "jobs-stop-backup", NULL);
	unsetenv("XXGK_TEST_BACKUP_DELAY_MS");
	stop_during(&l, "backup", "--backup-store");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verify_beside_queries),
	    cmocka_unit_test(test_backup_beside_queries),
	    cmocka_unit_test(test_backup_rate),
	    cmocka_unit_test(test_verify_parts),
	    cmocka_unit_test(test_stop_during_verify),
	    cmocka_unit_test(test_stop_during_backup),
	};
	return cmocka_run_group_tests_name("daemon_jobs", tests, NULL, NULL);
}
