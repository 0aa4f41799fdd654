/*
 * Thread scheduling (daemon/scheduling.c): query threads at real-time priority 1 where the
 * process may (root, or RLIMIT_RTPRIO 1 as systemd's LimitRTPRIO=1 gives an unprivileged
 * service), a short slice otherwise; bulk threads at nice 5; long requests back to normal.
 * And a real xxgkd: its admin thread and the admin socket's I/O thread at real-time priority,
 * its ingest at nice 5, the admin thread real-time again after a verify.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "scheduling.h"

/* In a child, a failed check ends the child (cmocka's failure would go on in it). */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: not so: %s\n", __FILE__, __LINE__, #cond);         \
			_exit(1);                                                                  \
		}                                                                                  \
	} while (0)

static int nice_of_self(void)
{
	errno = 0;
	int n = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
	CHECK(errno == 0);
	return n;
}

/* Each test runs in a child so that the roles it sets (and its lost privileges) stay there. */
static void in_child(void (*fn)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the child failed (status %d)", status);
}

static int may_realtime(void)
{
	struct rlimit rl;
	return geteuid() == 0 || (getrlimit(RLIMIT_RTPRIO, &rl) == 0 && rl.rlim_cur >= 1);
}

static void roles(void)
{
	int realtime = may_realtime();
	struct sched_param p;
	CHECK(sched_set_role(0, SCHED_ROLE_QUERY) == realtime);
	CHECK(sched_getparam(0, &p) == 0);
	CHECK(sched_getscheduler(0) == (realtime ? SCHED_FIFO : SCHED_OTHER));
	CHECK(p.sched_priority == (realtime ? 1 : 0));

	/* a long request runs as everyone else does */
	CHECK(sched_set_role(0, SCHED_ROLE_LONG) == 0);
	CHECK(sched_getscheduler(0) == SCHED_OTHER);
	CHECK(nice_of_self() == 0);
	CHECK(sched_set_role(0, SCHED_ROLE_QUERY) == realtime);

	CHECK(sched_set_role(0, SCHED_ROLE_BULK) == 0);
	CHECK(sched_getscheduler(0) == SCHED_OTHER);
	CHECK(nice_of_self() == 5);
	if (!realtime)
		return;
	/* back to nice 0 needs the privilege that real-time needed too */
	CHECK(sched_set_role(0, SCHED_ROLE_LONG) == 0);
	CHECK(nice_of_self() == 0);
}

static void test_roles(void **state)
{
	(void)state;
	in_child(roles);
}

/*
 * Unprivileged, as under systemd: without RLIMIT_RTPRIO the fallback (normal, no error);
 * with a limit of 1 (LimitRTPRIO=1) real-time, where the hard limit allows raising it.
 */
static void unprivileged(void)
{
	struct rlimit hard;
	CHECK(getrlimit(RLIMIT_RTPRIO, &hard) == 0);
	struct rlimit none = {0, hard.rlim_max};
	CHECK(setrlimit(RLIMIT_RTPRIO, &none) == 0);
	CHECK(setgid(65534) == 0);
	CHECK(setuid(65534) == 0);
	CHECK(sched_set_role(0, SCHED_ROLE_QUERY) == 0);
	CHECK(sched_getscheduler(0) == SCHED_OTHER);
	if (hard.rlim_max < 1) {
		printf("# RLIMIT_RTPRIO's hard limit here is 0: LimitRTPRIO=1 not tried\n");
		fflush(stdout);
		return;
	}
	struct rlimit one = {1, hard.rlim_max};
	CHECK(setrlimit(RLIMIT_RTPRIO, &one) == 0);
	CHECK(sched_set_role(0, SCHED_ROLE_QUERY) == 1);
	CHECK(sched_getscheduler(0) == SCHED_FIFO);
}

static void test_unprivileged(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root to become another user */
	in_child(unprivileged);
}

static void *sleeper(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "xxgk-sleeper");
	pause();
	return NULL;
}

static void by_name(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, sleeper, NULL) == 0);
	/* it names itself when it runs: the call waits for the name */
	int realtime = may_realtime(), policy;
	struct sched_param p;
	CHECK(sched_set_role_threads("xxgk-sleep", SCHED_ROLE_QUERY, 1000) == realtime);
	CHECK(sched_set_role_threads("nobody-has-this-name", SCHED_ROLE_QUERY, 20) == -1);
	CHECK(pthread_getschedparam(t, &policy, &p) == 0);
	CHECK(policy == (realtime ? SCHED_FIFO : SCHED_OTHER));
	/* the calling thread was not named so: unchanged */
	CHECK(sched_getscheduler(0) == SCHED_OTHER);
}

static void test_threads_by_name(void **state)
{
	(void)state;
	in_child(by_name);
}

/* Policy (field 41 of stat), nice (field 19) and priority of xxgkd's thread named name. */
static int thread_of(pid_t pid, const char *name, int *policy, int *nice, int *rt_priority)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	struct dirent *e;
	int found = 0;
	while (d && !found && (e = readdir(d)) != NULL) {
		char file[512], line[1024] = "", comm[64] = "";
		snprintf(file, sizeof(file), "%s/%s/comm", path, e->d_name);
		FILE *f = fopen(file, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
		if (strcmp(comm, name) != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s/stat", path, e->d_name);
		f = fopen(file, "r");
		const char *p = f && fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		/* after ") " come the fields from 3 on */
		for (int field = 2; p && *p; p++)
			if (*p == ' ') {
				field++;
				if (field == 19)
					*nice = atoi(p + 1);
				else if (field == 40)
					*rt_priority = atoi(p + 1);
				else if (field == 41)
					*policy = atoi(p + 1);
			}
		if (f)
			fclose(f);
		found = 1;
	}
	if (d)
		closedir(d);
	return found;
}

static void expect_thread(pid_t pid, const char *name, int want_policy, int want_nice)
{
	int policy = -1, nice = 99, prio = -1;
	if (!thread_of(pid, name, &policy, &nice, &prio))
		fail_msg("xxgkd has no thread named %s", name);
	if (policy != want_policy || (want_policy == SCHED_OTHER && nice != want_nice) ||
	    (want_policy == SCHED_FIFO && prio != 1))
		fail_msg("%s: policy %d nice %d priority %d, want policy %d nice %d", name, policy,
			 nice, prio, want_policy, want_nice);
}

static void test_daemon_threads(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	city_make(&city, 2);
	daemon_setup(&d, "scheduling", &city, "log_level = info");
	daemon_start(&d);
	int rt = may_realtime();
	expect_thread(d.pid, "xxgkd", SCHED_OTHER, 5);
	expect_thread(d.pid, "ZMQbg/IO/0", SCHED_OTHER, 5);
	expect_thread(d.pid, "xxgkd-admin", rt ? SCHED_FIFO : SCHED_OTHER, 0);
	expect_thread(d.pid, "ZMQbg/IO/1", rt ? SCHED_FIFO : SCHED_OTHER, 0);
	daemon_check_verify(&d); /* runs at normal priority, then the thread is back */
	expect_thread(d.pid, "xxgkd-admin", rt ? SCHED_FIFO : SCHED_OTHER, 0);
	daemon_stop(&d);
	assert_true(daemon_log_says(&d, rt ? "admin queries run at real-time priority 1"
					   : "admin queries run at normal priority"));
	daemon_teardown(&d);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_unprivileged),
	    cmocka_unit_test(test_threads_by_name),
	    cmocka_unit_test(test_daemon_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
