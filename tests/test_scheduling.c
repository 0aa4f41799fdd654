/*
 * Thread scheduling (daemon/scheduling.c): query threads at real-time priority 1 where the
 * process may (root, or RLIMIT_RTPRIO 1 as systemd's LimitRTPRIO=1 gives an unprivileged
 * service), a short slice otherwise; bulk threads at nice 5; long requests back to normal.
 * And a real xxgkd: its admin thread and the admin socket's I/O thread at real-time priority,
 * its ingest at nice 5, the admin thread real-time again after a verify; with the admin
 * channel on TCP, the I/O thread at normal priority.
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

/* Whether fn succeeds in a child: what this process may do, found out without doing it. */
static int child_succeeds(int (*fn)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn() == 0 ? 0 : 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int try_realtime(void)
{
	struct sched_param p = {.sched_priority = 1};
	return sched_setscheduler(0, SCHED_FIFO, &p);
}

static int try_lower_nice(void)
{
	return setpriority(PRIO_PROCESS, 0, 5) || setpriority(PRIO_PROCESS, 0, 0);
}

/* Raising RLIMIT_RTPRIO's hard limit needs CAP_SYS_RESOURCE. */
static int try_rtprio_limit(void)
{
	struct rlimit one = {0, 1};
	return setrlimit(RLIMIT_RTPRIO, &one);
}

static int may_realtime, may_lower_nice;

static void roles(void)
{
	int realtime = may_realtime;
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
	if (!may_lower_nice)
		return;
	/* from nice 5 back to 0 needs CAP_SYS_NICE or RLIMIT_NICE */
	CHECK(sched_set_role(0, SCHED_ROLE_LONG) == 0);
	CHECK(nice_of_self() == 0);
}

static void test_roles(void **state)
{
	(void)state;
	in_child(roles);
}

/* Root becomes nobody with RLIMIT_RTPRIO's soft limit soft (hard: at least what it was). */
static void become_nobody(rlim_t soft)
{
	struct rlimit limit;
	CHECK(getrlimit(RLIMIT_RTPRIO, &limit) == 0);
	limit.rlim_cur = soft;
	if (limit.rlim_max < soft)
		limit.rlim_max = soft;
	CHECK(setrlimit(RLIMIT_RTPRIO, &limit) == 0);
	CHECK(setgid(65534) == 0);
	CHECK(setuid(65534) == 0);
}

/* Unprivileged, as under systemd without LimitRTPRIO: the fallback, and no error. */
static void unprivileged(void)
{
	become_nobody(0);
	CHECK(sched_set_role(0, SCHED_ROLE_QUERY) == 0);
	CHECK(sched_getscheduler(0) == SCHED_OTHER);
}

static void test_unprivileged(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root to become another user */
	in_child(unprivileged);
}

/* Unprivileged with RLIMIT_RTPRIO 1, as systemd's LimitRTPRIO=1 gives: real-time. */
static void unprivileged_with_limit(void)
{
	become_nobody(1);
	CHECK(sched_set_role(0, SCHED_ROLE_QUERY) == 1);
	CHECK(sched_getscheduler(0) == SCHED_FIFO);
}

static void test_unprivileged_with_limit(void **state)
{
	(void)state;
	if (geteuid() != 0 || !may_realtime || !child_succeeds(try_rtprio_limit)) {
		printf("# RLIMIT_RTPRIO 1 cannot be given here (needs root with CAP_SYS_RESOURCE, "
		       "and real-time allowed at all): skipped\n");
		skip();
	}
	in_child(unprivileged_with_limit);
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
	int realtime = may_realtime, policy;
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

static void status_call(struct daemon *d)
{
	Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &q;
	xxgk__v1__reply__free_unpacked(daemon_admin_call(d, &req, XXGK__V1__REPLY__BODY_STATUS),
				       NULL);
}

static void test_daemon_threads(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	city_make(&city, 2);
	daemon_setup(&d, "scheduling", &city, "log_level = info");
	d.ready_by_log = 1; /* logged once every thread has its role */
	daemon_start(&d);
	int rt = may_realtime;
	expect_thread(d.pid, "xxgkd", SCHED_OTHER, 5);
	expect_thread(d.pid, "ZMQbg/IO/0", SCHED_OTHER, 5);
	expect_thread(d.pid, "xxgkd-admin", rt ? SCHED_FIFO : SCHED_OTHER, 0);
	expect_thread(d.pid, "ZMQbg/IO/1", rt ? SCHED_FIFO : SCHED_OTHER, 0);
	/* verify runs at normal priority; the next request is answered after the thread is
	 * back to real-time, and it answers one request at a time */
	daemon_check_verify(&d);
	status_call(&d);
	expect_thread(d.pid, "xxgkd-admin", rt ? SCHED_FIFO : SCHED_OTHER, 0);
	daemon_stop(&d);
	assert_true(daemon_log_says(&d, rt ? "admin queries run at real-time priority 1"
					   : "admin queries run at normal priority"));
	daemon_teardown(&d);
	city_free(&city);
}

/* On TCP the admin I/O thread also does the handshake of anyone who connects: normal. */
static void test_daemon_tcp_admin(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char extra[128];
	city_make(&city, 2);
	int port = free_port();
	snprintf(extra, sizeof(extra), "log_level = info\nadmin = tcp://127.0.0.1:%d", port);
	daemon_setup(&d, "scheduling-tcp", &city, extra);
	snprintf(d.admin, sizeof(d.admin), "tcp://127.0.0.1:%d", port);
	d.ready_by_log = 1;
	daemon_start(&d);
	int rt = may_realtime;
	expect_thread(d.pid, "xxgkd-admin", rt ? SCHED_FIFO : SCHED_OTHER, 0);
	expect_thread(d.pid, "ZMQbg/IO/1", SCHED_OTHER, 0);
	status_call(&d);
	daemon_stop(&d);
	assert_true(daemon_log_says(&d, rt ? "their ZeroMQ I/O thread at normal priority"
					   : "admin queries run at normal priority"));
	daemon_teardown(&d);
	city_free(&city);
}

int main(void)
{
	may_realtime = child_succeeds(try_realtime);
	may_lower_nice = child_succeeds(try_lower_nice);
	printf("# real-time priority %s here\n", may_realtime ? "allowed" : "not allowed");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_unprivileged),
	    cmocka_unit_test(test_unprivileged_with_limit),
	    cmocka_unit_test(test_threads_by_name),
	    cmocka_unit_test(test_daemon_threads),
	    cmocka_unit_test(test_daemon_tcp_admin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
