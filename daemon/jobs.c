#define _GNU_SOURCE /* pipe2 */
#include "jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "scheduling.h"
#include "store_guard.h"
#include "xxgk.pb-c.h"

static const char *const job_names[] = {"none", "verify", "backup"};

static void iso_time(int64_t at, char buf[32])
{
	struct tm tm;
	time_t t = (time_t)at;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the thread ---- */

static void post(struct jobs *j, char *message, uint8_t *reply, size_t len)
{
	pthread_mutex_lock(&j->lock);
	j->has_result = 1;
	j->failed = message != NULL;
	j->message = message;
	j->reply = reply;
	j->reply_len = len;
	j->doing.kind = JOB_NONE;
	pthread_mutex_unlock(&j->lock);
	atomic_store(&j->started, 0);
	char byte = 1;
	while (write(j->notify[1], &byte, 1) < 0 && errno == EINTR)
		;
}

static void post_error(struct jobs *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void post_error(struct jobs *j, const char *fmt, ...)
{
	char *message = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	post(j, message ? message : strdup("out of memory"), NULL, 0);
}

static void post_reply(struct jobs *j, const Xxgk__V1__Reply *reply)
{
	size_t len = xxgk__v1__reply__get_packed_size(reply);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL) {
		post_error(j, "out of memory");
		return;
	}
	xxgk__v1__reply__pack(reply, buf);
	post(j, NULL, buf, len);
}

struct lines {
	size_t n;
	char *v[STORE_GUARD_LINES_MAX];
};

static void add_line(void *ctx, const char *text)
{
	struct lines *l = ctx;
	if (l->n < STORE_GUARD_LINES_MAX && (l->v[l->n] = strdup(text)) != NULL)
		l->n++;
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	struct jobs *j = ctx;
	atomic_store(&j->done, done);
	atomic_store(&j->total, total);
}

static void run_verify(struct jobs *j, const struct job_request *q)
{
	struct lines lines = {0};
	size_t differences = 0;
	char why[512], part[128] = "";
	struct store_guard_verify_args args = {q->unit[0] ? q->unit : NULL, q->year,
					       atomic_load(&j->verify_rate), progress, j};
	if (q->unit[0] && q->year)
		snprintf(part, sizeof(part), " of unit %s, %d", q->unit, q->year);
	else if (q->unit[0])
		snprintf(part, sizeof(part), " of unit %s", q->unit);
	else if (q->year)
		snprintf(part, sizeof(part), " of %d", q->year);
	/* in a child: a damaged page crashes the child, and verify answers "damaged" */
	int rc = store_guard_verify(j->state_dir, &args, add_line, &lines, &differences, why,
				    sizeof(why), &j->child);
	if (rc == XXGK_ECORRUPT)
		post_error(j,
			   "verify: the store is damaged, restore a backup made with xxgkctl "
			   "backup (see the README): %s",
			   why);
	else if (rc && strncmp(why, "no unit ", 8) == 0)
		post_error(j, "verify: unit: %s", why);
	else if (rc)
		post_error(j, "verify: %s", why);
	if (rc)
		goto out;
	if (differences)
		log_error("verify%s found %zu differences, the first: %s", part, differences,
			  lines.n ? lines.v[0] : "");
	else
		log_info("verify%s: no difference", part);
	Xxgk__V1__VerifyReply body = XXGK__V1__VERIFY_REPLY__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	body.has_differences = 1;
	body.differences = differences;
	body.n_lines = lines.n;
	body.lines = lines.v;
	reply.body_case = XXGK__V1__REPLY__BODY_VERIFY;
	reply.verify = &body;
	post_reply(j, &reply);
out:
	for (size_t i = 0; i < lines.n; i++)
		free(lines.v[i]);
}

static void run_backup(struct jobs *j, const struct job_request *q)
{
	uint64_t bytes = 0;
	char why[512];
	int rc = store_guard_backup(j->state_dir, q->dir, atomic_load(&j->backup_rate), &bytes, why,
				    sizeof(why), &j->child);
	if (rc == XXGK_EINVAL) {
		post_error(j, "backup: %s holds a store already", q->dir);
		return;
	}
	if (rc) {
		log_error("backup to %s failed: %s", q->dir, why);
		post_error(j, "backup to %s: %s", q->dir, why);
		return;
	}
	log_info("backup: %llu bytes to %s", (unsigned long long)bytes, q->dir);
	Xxgk__V1__BackupReply body = XXGK__V1__BACKUP_REPLY__INIT;
	Xxgk__V1__Reply reply = XXGK__V1__REPLY__INIT;
	body.has_bytes = 1;
	body.bytes = bytes;
	reply.body_case = XXGK__V1__REPLY__BODY_BACKUP;
	reply.backup = &body;
	post_reply(j, &reply);
}

static void *run(void *arg)
{
	struct jobs *j = arg;
	prctl(PR_SET_NAME, "xxgkd-jobs");
	/* a walk of the whole store: at normal priority, never ahead of the ingest or a query
	 * (its child inherits this, and lowers itself further) */
	sched_set_role(0, SCHED_ROLE_LONG);
	pthread_mutex_lock(&j->lock);
	for (;;) {
		while (!j->stop && j->asked.kind == JOB_NONE)
			pthread_cond_wait(&j->cond, &j->lock);
		if (j->stop)
			break;
		j->doing = j->asked;
		j->asked.kind = JOB_NONE;
		pthread_mutex_unlock(&j->lock);
		if (j->doing.kind == JOB_VERIFY)
			run_verify(j, &j->doing);
		else
			run_backup(j, &j->doing);
		pthread_mutex_lock(&j->lock);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* ---- the admin thread's side ---- */

int jobs_start(struct jobs *j, const char *state_dir, uint64_t verify_rate, uint64_t backup_rate)
{
	sigset_t all, old;
	memset(j, 0, sizeof(*j));
	j->notify[0] = j->notify[1] = -1;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	snprintf(j->state_dir, sizeof(j->state_dir), "%s", state_dir);
	atomic_store(&j->verify_rate, verify_rate);
	atomic_store(&j->backup_rate, backup_rate);
	if (pipe2(j->notify, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	/* signals are the main loop's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&j->thread, NULL, run, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -1;
	j->running = 1;
	return 0;
}

int jobs_submit(struct jobs *j, const struct job_request *req, char *why, size_t len)
{
	struct job_state now;
	pthread_mutex_lock(&j->lock);
	if (!j->busy) {
		j->asked = *req;
		j->busy = 1;
		atomic_store(&j->done, 0);
		atomic_store(&j->total, 0);
		atomic_store(&j->started, (int64_t)time(NULL));
		pthread_cond_signal(&j->cond);
		pthread_mutex_unlock(&j->lock);
		return 0;
	}
	pthread_mutex_unlock(&j->lock);
	jobs_state(j, &now);
	char at[32], progress[96] = "";
	iso_time(now.started, at);
	if (now.kind == JOB_VERIFY && now.total)
		snprintf(progress, sizeof(progress), ", %llu of %llu records read",
			 (unsigned long long)now.done, (unsigned long long)now.total);
	else if (now.kind == JOB_VERIFY)
		snprintf(progress, sizeof(progress), ", %llu records read",
			 (unsigned long long)now.done);
	else if (now.kind == JOB_BACKUP)
		snprintf(progress, sizeof(progress), ", %llu bytes copied",
			 (unsigned long long)now.done);
	if (now.kind == JOB_NONE) /* ended, its reply not yet sent */
		snprintf(why, len,
			 "busy: the last verify or backup has just ended and its reply is on its "
			 "way; ask again");
	else
		snprintf(why, len,
			 "busy: a %s started at %s is running%s; one verify or backup runs at a "
			 "time, ask again when it ends (xxgkctl status shows it)",
			 job_names[now.kind], at, progress);
	return XXGK_EBUSY;
}

int jobs_fd(const struct jobs *j)
{
	return j->notify[0];
}

int jobs_take(struct jobs *j, char **message, uint8_t **reply, size_t *len)
{
	char byte;
	while (read(j->notify[0], &byte, 1) > 0)
		;
	pthread_mutex_lock(&j->lock);
	int has = j->has_result;
	if (has) {
		*message = j->failed ? j->message : NULL;
		*reply = j->failed ? NULL : j->reply;
		*len = j->reply_len;
		j->has_result = 0;
		j->message = NULL;
		j->reply = NULL;
		j->busy = 0;
	}
	pthread_mutex_unlock(&j->lock);
	return has;
}

void jobs_state(struct jobs *j, struct job_state *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&j->lock);
	const struct job_request *q = j->doing.kind != JOB_NONE ? &j->doing : &j->asked;
	out->kind = q->kind;
	memcpy(out->unit, q->unit, sizeof(out->unit));
	out->year = q->year;
	char path[4200];
	snprintf(path, sizeof(path), "%s/data.mdb", q->dir);
	pthread_mutex_unlock(&j->lock);
	out->started = atomic_load(&j->started);
	out->done = atomic_load(&j->done);
	out->total = atomic_load(&j->total);
	if (out->kind == JOB_BACKUP) {
		/* the copy's file as it grows, of the store's (a compacted copy is smaller) */
		struct stat sb;
		char from[4200];
		snprintf(from, sizeof(from), "%s/data.mdb", j->state_dir);
		out->done = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
		out->total = stat(from, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	}
}

void jobs_stop(struct jobs *j)
{
	if (j->running) {
		/* a job under way would hold the thread for a walk of the whole store */
		pthread_mutex_lock(&j->lock);
		j->stop = 1;
		pid_t child = (pid_t)atomic_exchange(&j->child, -1);
		if (child > 0)
			kill(child, SIGKILL);
		pthread_cond_signal(&j->cond);
		pthread_mutex_unlock(&j->lock);
		pthread_join(j->thread, NULL);
		j->running = 0;
	}
}

void jobs_free(struct jobs *j)
{
	free(j->message);
	free(j->reply);
	j->message = NULL;
	j->reply = NULL;
	for (int i = 0; i < 2; i++)
		if (j->notify[i] >= 0)
			close(j->notify[i]);
	j->notify[0] = j->notify[1] = -1;
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
}
