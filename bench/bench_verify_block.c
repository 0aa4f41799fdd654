/*
 * verify and backup beside the office's queries and the units' pushes (issue 15). Starts a real
 * xxgkd in a temporary directory, loads N records (tallies and applications of 41 units in the
 * order units send them), then measures a city report and a 1-record push at 100/s each:
 * idle, while `verify` runs, and while `backup` runs. Prints p50/p99/max of each and how long
 * the job took, with xxgkd's anonymous RSS.
 *
 *   bench_verify_block [records [verify_rate [backup_rate]]]
 *                      (default 200000 and xxgkd's rates; those of xxgkd.conf, 0: no limit)
 *   bench_verify_block 10000000                  (the 10M store: about 3 minutes to load)
 *   XXGKD=/path/to/xxgkd bench_verify_block ...  (another build's xxgkd, e.g. one from before)
 *   XXGK_BENCH_KEEP=1 bench_verify_block ...     (keeps the directory and its store)
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "xxgk.h"

#define UNITS 41
#define BATCH 5000
#define LOADERS 4

static char dir[256], admin_ep[300], ingest_ep[300];
static size_t records = 200000;
static pid_t daemon_pid;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
	struct timespec ts = {(time_t)(ms / 1000),
			      (long)((ms - (double)(long)(ms / 1000) * 1000) * 1e6)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Record i: unit i % UNITS, its n-th record of 2024 in date order; every 4th an application. */
struct built {
	Xxgk__V1__Record r;
	Xxgk__V1__Tally t;
	Xxgk__V1__Application a;
	char unit[16], id[40], date[16], concluded[16];
};

static void build(struct built *b, size_t i, const char *prefix)
{
	size_t n = i / UNITS;
	int day = (int)(n * 365 / (records / UNITS + 1));
	struct tm tm = {.tm_year = 124, .tm_mon = 0, .tm_mday = 1 + day, .tm_hour = 12};
	time_t t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(b->date, sizeof(b->date), "%Y-%m-%d", &tm);
	snprintf(b->unit, sizeof(b->unit), "u%03zu", i % UNITS);
	snprintf(b->id, sizeof(b->id), "%s-2024-%09zu", prefix, n);
	b->r = (Xxgk__V1__Record)XXGK__V1__RECORD__INIT;
	b->r.unit = b->unit;
	b->r.id = b->id;
	b->r.has_revision = 1;
	b->r.revision = 1;
	if (i % 4 == 0) {
		b->a = (Xxgk__V1__Application)XXGK__V1__APPLICATION__INIT;
		b->a.has_applicant = 1;
		b->a.applicant = XXGK__V1__APPLICANT_TYPE__APPLICANT_NATURAL_PERSON;
		b->a.received = b->date;
		if (day < 330) { /* answered within the year */
			tm.tm_mday += 10;
			t = timegm(&tm);
			gmtime_r(&t, &tm);
			strftime(b->concluded, sizeof(b->concluded), "%Y-%m-%d", &tm);
			b->a.concluded = b->concluded;
			b->a.has_outcome = 1;
			b->a.outcome = XXGK__V1__OUTCOME__OUTCOME_GRANTED;
		}
		b->r.body_case = XXGK__V1__RECORD__BODY_APPLICATION;
		b->r.application = &b->a;
	} else {
		b->t = (Xxgk__V1__Tally)XXGK__V1__TALLY__INIT;
		b->t.has_measure = b->t.has_value = 1;
		b->t.measure = XXGK__V1__TALLY_MEASURE__TALLY_PENALTY_DECISIONS;
		b->t.date = b->date;
		b->t.value = 1;
		b->r.body_case = XXGK__V1__RECORD__BODY_TALLY;
		b->r.tally = &b->t;
	}
}

struct loader {
	pthread_t thread;
	int index;
	size_t applied;
};

static void *load(void *arg)
{
	struct loader *l = arg;
	struct xxgk_client *c;
	struct built *b = calloc(BATCH, sizeof(*b));
	Xxgk__V1__Record **v = calloc(BATCH, sizeof(*v));
	int *statuses = calloc(BATCH, sizeof(int)), *reasons = calloc(BATCH, sizeof(int));
	const char **messages = calloc(BATCH, sizeof(char *));
	if (!b || !v || !statuses || !reasons || !messages || xxgk_connect(&c, ingest_ep))
		exit(1);
	/* batches dealt round-robin: batch k holds records k*BATCH.. */
	for (size_t k = (size_t)l->index; k * BATCH < records; k += LOADERS) {
		size_t n = 0;
		for (size_t i = k * BATCH; i < records && n < BATCH; i++, n++) {
			build(&b[n], i, "T");
			v[n] = &b[n].r;
		}
		int rc = xxgk_push(c, v, n, statuses, reasons, messages, 120000);
		if (rc) {
			fprintf(stderr, "bench_verify_block: push: %s\n", xxgk_strerror(rc));
			exit(1);
		}
		for (size_t i = 0; i < n; i++)
			l->applied += statuses[i] == XXGK__V1__RECORD_STATUS__CODE__APPLIED;
	}
	xxgk_close(c);
	free(b);
	free(v);
	free(statuses);
	free(reasons);
	free(messages);
	return NULL;
}

static long anon_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "RssAnon:", 8) == 0)
			kb = strtol(line + 8, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* The anonymous RSS of xxgkd's children (a verify's or backup's), in kB: their memory is the
 * machine's too, and a recount that grows with the store would take the page cache's. */
static long children_rss_kb(pid_t pid)
{
	char path[512], line[4096];
	long kb = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *tasks = opendir(path);
	struct dirent *e;
	while (tasks && (e = readdir(tasks)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)pid, e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(line, sizeof(line), f))
			for (char *p = line, *end; *p; p = end) {
				long child = strtol(p, &end, 10);
				if (end == p)
					break;
				long rss = anon_rss_kb((pid_t)child);
				kb += rss > 0 ? rss : 0;
			}
		fclose(f);
	}
	if (tasks)
		closedir(tasks);
	return kb;
}

/* A job's request on a client of its own, on a thread: its reply comes when it ends. */
struct job {
	pthread_t thread;
	Xxgk__V1__Request req;
	Xxgk__V1__VerifyQuery verify;
	Xxgk__V1__BackupQuery backup;
	volatile int ended;
	double ms;
	char result[256];
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct xxgk_client *c;
	Xxgk__V1__Reply *reply = NULL;
	double t0 = now_ms();
	int rc = xxgk_connect(&c, admin_ep);
	if (rc == 0)
		rc = xxgk_call(c, &j->req, 3600 * 1000, &reply);
	j->ms = now_ms() - t0;
	if (rc)
		snprintf(j->result, sizeof(j->result), "failed: %s", xxgk_strerror(rc));
	else if (reply->body_case == XXGK__V1__REPLY__BODY_VERIFY)
		snprintf(j->result, sizeof(j->result), "%llu differences",
			 (unsigned long long)reply->verify->differences);
	else if (reply->body_case == XXGK__V1__REPLY__BODY_BACKUP)
		snprintf(j->result, sizeof(j->result), "%llu bytes",
			 (unsigned long long)reply->backup->bytes);
	else
		snprintf(j->result, sizeof(j->result), "error: %s",
			 reply->body_case == XXGK__V1__REPLY__BODY_ERROR ? reply->error->message
									 : "?");
	if (reply)
		xxgk__v1__reply__free_unpacked(reply, NULL);
	if (rc == 0)
		xxgk_close(c);
	j->ended = 1;
	return NULL;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void print(const char *phase, const char *what, double *v, size_t n)
{
	if (n == 0) {
		printf("  %-8s %-14s none\n", phase, what);
		return;
	}
	qsort(v, n, sizeof(*v), compare);
	printf("  %-8s %-14s n=%-6zu p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms\n", phase, what, n,
	       v[n / 2], v[n * 99 / 100], v[n - 1]);
}

/*
 * A city report and a 1-record push, each every 10 ms (100/s), for idle_ms, or while job runs.
 */
static void measure(const char *phase, struct job *job, double idle_ms)
{
	enum { MAX = 400000 };
	static double report_ms[MAX], push_ms[MAX];
	static size_t pushed;
	size_t nr = 0, np = 0;
	struct xxgk_client *a, *in;
	if (xxgk_connect(&a, admin_ep) || xxgk_connect(&in, ingest_ep))
		exit(1);
	Xxgk__V1__ReportQuery rq = XXGK__V1__REPORT_QUERY__INIT;
	Xxgk__V1__Request report = XXGK__V1__REQUEST__INIT;
	rq.has_year = 1;
	rq.year = 2024;
	report.body_case = XXGK__V1__REQUEST__BODY_REPORT;
	report.report = &rq;
	double t0 = now_ms();
	long rss_max = 0, child_max = 0;
	for (double next = t0; nr < MAX; next += 10) {
		if (job ? job->ended : now_ms() - t0 >= idle_ms)
			break;
		Xxgk__V1__Reply *reply = NULL;
		double s = now_ms();
		if (xxgk_call(a, &report, 60000, &reply) == 0 &&
		    reply->body_case == XXGK__V1__REPLY__BODY_REPORT)
			report_ms[nr++] = now_ms() - s;
		if (reply)
			xxgk__v1__reply__free_unpacked(reply, NULL);
		struct built b;
		Xxgk__V1__Record *r = &b.r;
		int status, reason;
		const char *message;
		build(&b, pushed++, "P");
		s = now_ms();
		if (xxgk_push(in, &r, 1, &status, &reason, &message, 60000) == 0 &&
		    status == XXGK__V1__RECORD_STATUS__CODE__APPLIED)
			push_ms[np++] = now_ms() - s;
		long rss = anon_rss_kb(daemon_pid), child = children_rss_kb(daemon_pid);
		if (rss > rss_max)
			rss_max = rss;
		if (child > child_max)
			child_max = child;
		double wait = next + 10 - now_ms();
		if (wait > 0)
			sleep_ms(wait);
	}
	print(phase, "city report", report_ms, nr);
	print(phase, "1-record push", push_ms, np);
	printf("  %-8s xxgkd anonymous RSS up to %ld kB, its job's child up to %ld kB\n", phase,
	       rss_max, child_max);
	xxgk_close(a);
	xxgk_close(in);
}

int main(int argc, char **argv)
{
	long long verify_rate = -1, backup_rate = -1; /* -1: xxgkd's default */
	if (argc > 1)
		records = strtoull(argv[1], NULL, 10);
	if (argc > 2)
		verify_rate = atoll(argv[2]);
	if (argc > 3)
		backup_rate = atoll(argv[3]);
	setvbuf(stdout, NULL, _IOLBF, 0); /* each figure as it comes, also into a file */
	if (records < UNITS) {
		fprintf(stderr,
			"usage: bench_verify_block [records [verify_rate [backup_rate]]]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/xxgk-verify-block-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	char conf[300], logp[300];
	snprintf(conf, sizeof(conf), "%s/xxgkd.conf", dir);
	snprintf(logp, sizeof(logp), "%s/xxgkd.log", dir);
	snprintf(admin_ep, sizeof(admin_ep), "ipc://%s/admin", dir);
	snprintf(ingest_ep, sizeof(ingest_ep), "ipc://%s/ingest", dir);
	FILE *f = fopen(conf, "w");
	if (f == NULL)
		return 1;
	fprintf(f,
		"[xxgkd]\nstate_dir = %s/state\ningest = %s\nadmin = %s\npublish = ipc://%s/pub\n",
		dir, ingest_ep, admin_ep, dir);
	if (verify_rate >= 0) /* only when asked: an xxgkd from before the keys compares too */
		fprintf(f, "verify_rate = %lld\n", verify_rate);
	if (backup_rate >= 0)
		fprintf(f, "backup_rate = %lld\n", backup_rate);
	for (int u = 0; u < UNITS; u++)
		fprintf(f, "[unit u%03d]\nname = 单位%d\nkind = %s\n", u, u,
			u == 0 ? "government" : "department");
	fclose(f);
	if ((daemon_pid = fork()) == 0) {
		FILE *log = freopen(logp, "a", stderr);
		(void)log;
		/* XXGKD: another build's xxgkd, e.g. one from before, to compare */
		execl(getenv("XXGKD") ? getenv("XXGKD") : XXGKD_PATH, "xxgkd", "-f", "-c", conf,
		      (char *)NULL);
		_exit(127);
	}
	/* ready once status answers */
	struct xxgk_client *c;
	Xxgk__V1__StatusQuery sq = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request status = XXGK__V1__REQUEST__INIT;
	status.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	status.status = &sq;
	int ready = 0;
	for (int i = 0; i < 200 && !ready; i++) {
		Xxgk__V1__Reply *reply = NULL;
		if (xxgk_connect(&c, admin_ep) == 0) {
			ready = xxgk_call(c, &status, 200, &reply) == 0;
			xxgk_close(c);
		}
		if (reply)
			xxgk__v1__reply__free_unpacked(reply, NULL);
		if (!ready)
			sleep_ms(50);
	}
	if (!ready) {
		fprintf(stderr, "bench_verify_block: xxgkd did not start; see %s\n", logp);
		return 1;
	}
	printf("bench_verify_block: %zu records, verify_rate %lld, backup_rate %lld, %s\n", records,
	       verify_rate, backup_rate, dir);
	double t0 = now_ms();
	struct loader loaders[LOADERS];
	size_t applied = 0;
	for (int i = 0; i < LOADERS; i++) {
		loaders[i] = (struct loader){.index = i};
		pthread_create(&loaders[i].thread, NULL, load, &loaders[i]);
	}
	for (int i = 0; i < LOADERS; i++) {
		pthread_join(loaders[i].thread, NULL);
		applied += loaders[i].applied;
	}
	double load_s = (now_ms() - t0) / 1000;
	printf("  loaded   %zu applied in %.1f s (%.0f rec/s)\n", applied, load_s,
	       (double)applied / load_s);
	measure("idle", NULL, 3000);
	struct job v = {0};
	v.req = (Xxgk__V1__Request)XXGK__V1__REQUEST__INIT;
	v.verify = (Xxgk__V1__VerifyQuery)XXGK__V1__VERIFY_QUERY__INIT;
	v.req.body_case = XXGK__V1__REQUEST__BODY_VERIFY;
	v.req.verify = &v.verify;
	pthread_create(&v.thread, NULL, run_job, &v);
	measure("verify", &v, 0);
	pthread_join(v.thread, NULL);
	printf("  verify   took %.1f s: %s\n", v.ms / 1000, v.result);
	/* the parts: one unit's (a range of keys), one year's (every record, fewer counters) */
	for (int part = 0; part < 2; part++) {
		struct job pj = {0};
		pj.req = (Xxgk__V1__Request)XXGK__V1__REQUEST__INIT;
		pj.verify = (Xxgk__V1__VerifyQuery)XXGK__V1__VERIFY_QUERY__INIT;
		pj.req.body_case = XXGK__V1__REQUEST__BODY_VERIFY;
		pj.req.verify = &pj.verify;
		if (part == 0)
			pj.verify.unit = "u001";
		pj.verify.has_year = part == 1;
		pj.verify.year = 2024;
		run_job(&pj);
		printf("  verify   %s took %.1f s: %s\n", part == 0 ? "--unit u001" : "--year 2024",
		       pj.ms / 1000, pj.result);
	}
	char backup_dir[300];
	snprintf(backup_dir, sizeof(backup_dir), "%s/backup", dir);
	struct job b = {0};
	b.req = (Xxgk__V1__Request)XXGK__V1__REQUEST__INIT;
	b.backup = (Xxgk__V1__BackupQuery)XXGK__V1__BACKUP_QUERY__INIT;
	b.backup.dir = backup_dir;
	b.req.body_case = XXGK__V1__REQUEST__BODY_BACKUP;
	b.req.backup = &b.backup;
	pthread_create(&b.thread, NULL, run_job, &b);
	measure("backup", &b, 0);
	pthread_join(b.thread, NULL);
	printf("  backup   took %.1f s: %s\n", b.ms / 1000, b.result);
	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, NULL, 0);
	char cmd[400];
	if (getenv("XXGK_BENCH_KEEP")) { /* e.g. to run xxgkd --verify-store on it */
		printf("  kept     %s\n", dir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_verify_block: could not remove %s\n", dir);
	return 0;
}
