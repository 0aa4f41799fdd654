#define _GNU_SOURCE /* pipe2 */
#include "store_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "store.h"
#include "store_check.h"

extern char **environ;

/* The child's exit status: 0 whole, 1 damaged (so is a signal), 3 could not look. */
#define CHILD_DAMAGED 1
#define CHILD_ERROR 3

/*
 * XXGK_TEST_COUNTER_MAX, for tests only: a lower limit for every counter, so that a test reaches
 * it in seconds; the store enforces it with the same code as the real limit, COUNTER_MAX, which
 * it cannot raise. Returns -1 (logged) for a value that is not a number from 1 to COUNTER_MAX.
 */
int store_guard_test_limit(int64_t *out)
{
	const char *v = getenv("XXGK_TEST_COUNTER_MAX");
	char *end;
	if (v == NULL || v[0] == '\0')
		return 0;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || *end || n < 1 || n > COUNTER_MAX) {
		log_error("XXGK_TEST_COUNTER_MAX=%s: want a number from 1 to %lld", v,
			  (long long)COUNTER_MAX);
		return -1;
	}
	log_warn("XXGK_TEST_COUNTER_MAX=%lld: counters are limited to %lld (for tests only)", n, n);
	*out = n;
	return 0;
}

/* ---- the child ---- */

static void print_difference(void *ctx, const char *text)
{
	size_t *printed = ctx;
	if ((*printed)++ < STORE_GUARD_LINES_MAX)
		printf("difference %s\n", text);
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct pace {
	uint64_t rate; /* records a second, 0: as fast as it goes */
	double started;
};

/* Tells the daemon how far the walk is, and keeps it to its rate (verify_rate). */
static void progress(void *ctx, uint64_t done, uint64_t total)
{
	struct pace *p = ctx;
	printf("progress %" PRIu64 " %" PRIu64 "\n", done, total);
	fflush(stdout);
	if (p->rate == 0)
		return;
	double ahead = (double)done / (double)p->rate - (now_seconds() - p->started);
	if (ahead > 0) {
		struct timespec ts = {(time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9)};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

/*
 * A job beside the daemon: it yields the CPU (nice 10) and the disk (best-effort class, lowest
 * level) to the ingest and the queries, which someone waits for.
 */
static void lower_priority(void)
{
	if (setpriority(PRIO_PROCESS, 0, 10) != 0) { /* already lower: leave it */
	}
	syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (2 /* IOPRIO_CLASS_BE */ << 13) | 7);
}

/* XXGK_TEST_BACKUP_DELAY_MS, for tests only: a backup that lasts long enough to watch. */
static void test_backup_delay(void)
{
	const char *v = getenv("XXGK_TEST_BACKUP_DELAY_MS");
	long ms = v ? strtol(v, NULL, 10) : 0;
	if (ms > 0 && ms <= 600000) {
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

static int backup_child(const char *dir, const char *dest, uint64_t rate)
{
	struct store *st;
	struct store_options opt = {.read_only = 1};
	uint64_t bytes = 0;
	int rc = store_open(&st, dir, &opt);
	if (rc == 0) {
		test_backup_delay();
		rc = store_backup_paced(st, dest, rate, &bytes);
		store_close(st);
	}
	if (rc == 0)
		printf("ok %" PRIu64 "\n", bytes);
	else if (rc == XXGK_EINVAL)
		printf("exists %s\n", dest);
	else
		printf("error %s\n", xxgk_strerror(rc));
	fflush(stdout);
	return rc == 0 ? 0 : CHILD_ERROR;
}

int store_guard_child(int argc, char **argv)
{
	const char *mode = argv[1], *dir = argv[2], *unit = NULL;
	char why[512] = "";
	uint64_t entries = 0;
	int year = 0;
	struct pace pace = {0, now_seconds()};
	/* no orphan: it ends with the daemon that waits for it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (strcmp(mode, STORE_GUARD_CHECK) != 0)
		lower_priority();
	if (strcmp(mode, STORE_GUARD_BACKUP) == 0) /* DIR DEST [--rate BYTES] */
		return argc == 4 || (argc == 6 && strcmp(argv[4], "--rate") == 0)
			   ? backup_child(dir, argv[3], argc == 6 ? strtoull(argv[5], NULL, 10) : 0)
			   : CHILD_ERROR;
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--unit") == 0)
			unit = argv[i + 1];
		else if (strcmp(argv[i], "--year") == 0)
			year = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--rate") == 0)
			pace.rate = strtoull(argv[i + 1], NULL, 10);
	}
	int verify = strcmp(mode, STORE_GUARD_VERIFY) == 0;
	/* a part reads the pages of its part only, and is damaged only if those are: it is
	 * meant to be quick, so it skips the walk of every page */
	int rc = verify && (unit || year)
		     ? 0
		     : store_check_walk(dir, verify, &entries, why, sizeof(why));
	if (rc == 0 && verify) {
		/* the rate paces the recount; the walk of every page before it is not paced */
		pace.started = now_seconds();
		struct store *st;
		struct store_options opt = {.read_only = 1};
		struct store_verify_part part = {unit, year, progress, &pace};
		size_t differences = 0, printed = 0;
		/* verify against the daemon's limit (the environment is the daemon's) */
		if (store_guard_test_limit(&opt.counter_max))
			rc = XXGK_EINVAL;
		else if ((rc = store_open(&st, dir, &opt)) == 0) {
			rc = store_verify_part(st, &part, print_difference, &printed, &differences);
			store_close(st);
		}
		if (rc == XXGK_ENOTFOUND)
			snprintf(why, sizeof(why), "no unit \"%s\" in the store", unit);
		if (rc == 0)
			printf("differences %zu\n", differences);
	}
	if (rc == 0)
		printf("ok %" PRIu64 " entries\n", entries);
	else
		printf("%s %s\n", rc == XXGK_ECORRUPT ? "damaged" : "error",
		       why[0] ? why : xxgk_strerror(rc));
	fflush(stdout);
	return rc == 0 ? 0 : rc == XXGK_ECORRUPT ? CHILD_DAMAGED : CHILD_ERROR;
}

/* ---- the parent ---- */

struct child_report {
	void (*line)(void *ctx, const char *text);
	void *ctx;
	const struct store_guard_verify_args *args; /* its progress */
	size_t differences;
	uint64_t bytes; /* a backup's */
	int ok, exists;
	char why[512];
};

static void take_line(struct child_report *r, char *text)
{
	text[strcspn(text, "\n")] = '\0';
	if (strncmp(text, "difference ", 11) == 0) {
		if (r->line)
			r->line(r->ctx, text + 11);
	} else if (strncmp(text, "differences ", 12) == 0) {
		r->differences = strtoull(text + 12, NULL, 10);
	} else if (strncmp(text, "progress ", 9) == 0) {
		char *end;
		uint64_t done = strtoull(text + 9, &end, 10);
		if (r->args && r->args->progress)
			r->args->progress(r->args->progress_ctx, done, strtoull(end, NULL, 10));
	} else if (strncmp(text, "ok ", 3) == 0) {
		r->ok = 1;
		r->bytes = strtoull(text + 3, NULL, 10);
	} else if (strncmp(text, "exists ", 7) == 0) {
		r->exists = 1;
	} else if (strncmp(text, "damaged ", 8) == 0 || strncmp(text, "error ", 6) == 0) {
		snprintf(r->why, sizeof(r->why), "%s", strchr(text, ' ') + 1);
	}
}

/*
 * Runs xxgkd (this very binary, /proc/self/exe, even if replaced on disk since) in mode on dir
 * and reads its report. Returns 0, XXGK_ECORRUPT or another error, the reason in r->why.
 */
static int run_child(char *const *argv, struct child_report *r, atomic_int *running)
{
	char text[1024];
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int fds[2], status, rc;
	pid_t pid;
	/* no other child inherits them, not even one spawned by another thread meanwhile; the
	 * child's end becomes its stdout, without the flag */
	if (pipe2(fds, O_CLOEXEC) != 0)
		return xxgk_error_from_errno(errno);
	/* the admin thread blocks every signal, and xxgkd ignores SIGPIPE: not the child */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
	posix_spawn_file_actions_addclose(&actions, fds[0]);
	posix_spawn_file_actions_addclose(&actions, fds[1]);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	close(fds[1]);
	if (rc) {
		close(fds[0]);
		snprintf(r->why, sizeof(r->why), "cannot run the check: %s", strerror(rc));
		return xxgk_error_from_errno(rc);
	}
	int idle = 0;
	if (running && !atomic_compare_exchange_strong(running, &idle, (int)pid))
		kill(pid, SIGKILL); /* the daemon is stopping (-1): no walk to wait for */
	FILE *f = fdopen(fds[0], "r");
	if (f == NULL)
		close(fds[0]);
	while (f && fgets(text, sizeof(text), f))
		take_line(r, text);
	if (f)
		fclose(f);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			if (running)
				atomic_store(running, 0);
			snprintf(r->why, sizeof(r->why), "cannot wait for the check: %s",
				 strerror(errno));
			return xxgk_error_from_errno(errno);
		}
	/* -1: the daemon stopping killed it, which says nothing about the store */
	if (running && atomic_exchange(running, 0) == -1) {
		snprintf(r->why, sizeof(r->why), "interrupted: xxgkd is stopping");
		return XXGK_EIO;
	}
	if (WIFSIGNALED(status)) {
		snprintf(r->why, sizeof(r->why),
			 "reading it killed the check process (signal %d, %s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
		return XXGK_ECORRUPT;
	}
	if (WEXITSTATUS(status) == 0 && r->ok)
		return 0;
	if (WEXITSTATUS(status) == CHILD_ERROR)
		return XXGK_EIO;
	if (r->why[0] == '\0')
		snprintf(r->why, sizeof(r->why), "the check process failed (exit status %d)",
			 WEXITSTATUS(status));
	/* exit 1 without a reason: a sanitizer or LMDB's own abort, both on a damaged page */
	return WEXITSTATUS(status) == CHILD_DAMAGED || WEXITSTATUS(status) == 0 ? XXGK_ECORRUPT
										: XXGK_EIO;
}

/* The meta pages' reason (e.g. a file cut short), then the child's fault in parentheses. */
static void with_meta_reason(struct child_report *r, const char *meta_why)
{
	char fault[200];
	snprintf(fault, sizeof(fault), "%.199s", r->why);
	snprintf(r->why, sizeof(r->why), "%.300s (%s)", meta_why, fault);
}

static void log_damaged(const char *dir, const char *why, const char *now)
{
	log_error("the store %s/data.mdb is damaged: %s. %s move the state directory %s aside "
		  "and restore the last backup made with `xxgkctl backup` (see \"Restoring a "
		  "damaged store\" in the README and xxgkd(8))",
		  dir, why, now, dir);
}

int store_guard_start(const char *dir)
{
	struct child_report r = {0};
	char path[4096], meta_why[512];
	struct stat sb;
	uint64_t missing;
	int rc = store_check_file(dir, &missing, r.why, sizeof(r.why));
	/* a file that cannot be read at all: store_open says why, in its own words */
	if (rc && rc != XXGK_ECORRUPT)
		return 0;
	snprintf(meta_why, sizeof(meta_why), "%s", r.why);
	r.why[0] = '\0';
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	/* a new store (no file, or an empty one where no store was) has nothing to walk */
	if (rc == 0 && stat(path, &sb) == 0 && sb.st_size > 0) {
		char *argv[] = {"xxgkd", STORE_GUARD_CHECK, (char *)dir, NULL};
		rc = run_child(argv, &r, NULL);
		/* a short file the walk faults on: say what the meta page says */
		if (rc == XXGK_ECORRUPT && missing && strstr(r.why, "signal"))
			with_meta_reason(&r, meta_why);
		else if (rc == 0 && missing)
			log_warn(
			    "%s ends %llu pages before the last page its meta page counts, all "
			    "of them free pages (LMDB leaves unwritten a page it freed in the "
			    "transaction that took it): the store is whole",
			    path, (unsigned long long)missing);
	} else if (rc == XXGK_ECORRUPT) {
		snprintf(r.why, sizeof(r.why), "%s", meta_why);
	}
	if (rc == XXGK_ECORRUPT) {
		log_damaged(dir, r.why, "xxgkd will not use it and does not start:");
		return -1;
	}
	if (rc) {
		log_error("cannot check the store in %s: %s", dir,
			  r.why[0] ? r.why : xxgk_strerror(rc));
		return -1;
	}
	return 0;
}

int store_guard_verify(const char *dir, const struct store_guard_verify_args *args,
		       void (*line)(void *ctx, const char *text), void *ctx, size_t *differences,
		       char *why, size_t len, atomic_int *running)
{
	struct child_report r = {.line = line, .ctx = ctx, .args = args};
	char meta_why[512], year[16], rate[32];
	uint64_t missing = 0;
	char *argv[16] = {"xxgkd", STORE_GUARD_VERIFY, (char *)dir};
	int n = 3;
	if (args && args->unit) {
		argv[n++] = "--unit";
		argv[n++] = (char *)args->unit;
	}
	if (args && args->year) {
		snprintf(year, sizeof(year), "%d", args->year);
		argv[n++] = "--year";
		argv[n++] = year;
	}
	if (args && args->rate) {
		snprintf(rate, sizeof(rate), "%" PRIu64, args->rate);
		argv[n++] = "--rate";
		argv[n++] = rate;
	}
	argv[n] = NULL;
	int rc = run_child(argv, &r, running);
	*differences = r.differences;
	/* a child that faulted: the meta pages may say why (a file cut short) */
	if (rc == XXGK_ECORRUPT && strstr(r.why, "signal")) {
		int pre = store_check_file(dir, &missing, meta_why, sizeof(meta_why));
		if (pre == XXGK_ECORRUPT || (pre == 0 && missing))
			with_meta_reason(&r, meta_why);
	}
	if (rc == XXGK_ECORRUPT)
		log_damaged(dir, r.why, "Found by verify: stop xxgkd,");
	snprintf(why, len, "%s", r.why[0] ? r.why : xxgk_strerror(rc));
	return rc;
}

int store_guard_backup(const char *dir, const char *dest, uint64_t rate, uint64_t *bytes, char *why,
		       size_t len, atomic_int *running)
{
	struct child_report r = {0};
	char rate_text[32];
	snprintf(rate_text, sizeof(rate_text), "%" PRIu64, rate);
	char *argv[] = {"xxgkd",      STORE_GUARD_BACKUP,     (char *)dir,
			(char *)dest, rate ? "--rate" : NULL, rate_text,
			NULL};
	int rc = run_child(argv, &r, running);
	*bytes = r.bytes;
	/* a child that could not copy says why; one killed says nothing about the store */
	if (rc == XXGK_ECORRUPT && r.why[0] == '\0')
		snprintf(r.why, sizeof(r.why), "the copy process died");
	if (rc && r.exists)
		rc = XXGK_EINVAL;
	else if (rc == XXGK_ECORRUPT)
		rc = XXGK_EIO; /* a copy is not a check: its fault is the copy's */
	snprintf(why, len, "%s", r.why[0] ? r.why : xxgk_strerror(rc));
	return rc;
}
