/*
 * Descriptor exhaustion: with keys configured and RLIMIT_NOFILE 1024 (or 512), 1,100 idle plain
 * TCP connections to the ingest port leave xxgkd up, not spinning, answering its local admin
 * socket and an authenticated publisher; after they close, it goes on working. Each listener's
 * cap leaves descriptors in reserve.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "connlimit.h"
#include "daemon_harness.h"
#include "error.h"
#include "keyfile.h"

#define IDLE 1100

static struct daemon d;
static struct keypair server, dept;
static int port;
static int too_few; /* the hard descriptor limit is too low for the test */
static int idle[IDLE], n_idle;

/* Fails the test, with how it ended, if xxgkd is no longer running. */
static void assert_alive(const char *when)
{
	int status;
	if (waitpid(d.pid, &status, WNOHANG) == d.pid) {
		d.pid = 0;
		daemon_print_log(&d);
		if (WIFSIGNALED(status))
			fail_msg("%s: xxgkd died of signal %d (%s)", when, WTERMSIG(status),
				 strsignal(WTERMSIG(status)));
		fail_msg("%s: xxgkd exited with status %d", when, WEXITSTATUS(status));
	}
}

/* A status request on the local admin socket: 0 when answered within 10 s. */
static int admin_status(void)
{
	struct xxgk_client *c;
	Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	Xxgk__V1__Reply *reply = NULL;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &q;
	assert_int_equal(xxgk_connect(&c, d.admin), 0);
	int rc = xxgk_call(c, &req, 10000, &reply);
	xxgk_close(c);
	if (reply)
		xxgk__v1__reply__free_unpacked(reply, NULL);
	return rc;
}

/* dept pushes one record of its unit; the record's status, or the push's error. */
static int push(const char *id)
{
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	struct xxgk_keys keys = {server.public_key, dept.public_key, dept.secret_key};
	int status = -1, rc = 0;
	trec_tally(&t, "u001", id, 1, 3, "2022-06-30", 5);
	/*
	 * A slot may wait for handshake_timeout (5 s) more than once while idle connections from
	 * the listen backlog take the freed ones. A request on a connection cut beyond the cap
	 * gets no answer, so a client asks again on a new one, as libxxgk's outbox does: the
	 * record, sent again, is DUPLICATE if the first got through.
	 */
	for (int attempt = 1; attempt <= 3; attempt++) {
		struct xxgk_client *c;
		assert_int_equal(xxgk_connect_keys(&c, d.ingest, &keys), 0);
		rc = xxgk_push(c, &r, 1, &status, NULL, NULL, 20000);
		xxgk_close(c);
		if (rc != XXGK_ETIMEDOUT)
			break;
		print_message("push %s: no answer in 20 s (attempt %d), again\n", id, attempt);
	}
	if (rc == 0 && status == XXGK__V1__RECORD_STATUS__CODE__DUPLICATE)
		status = XXGK__V1__RECORD_STATUS__CODE__APPLIED;
	return rc ? rc : status;
}

/* The descriptors xxgkd has open. */
static int open_fds(void)
{
	char path[64];
	int n = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)d.pid);
	DIR *dir = opendir(path);
	assert_non_null(dir);
	while (readdir(dir))
		n++;
	closedir(dir);
	return n - 2;
}

/* CPU seconds xxgkd has used (user and system), from /proc/PID/stat. */
static double cpu_seconds(void)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)d.pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long utime = 0, stime = 0;
	assert_non_null(p);
	/* after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime */
	assert_int_equal(
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime),
	    2);
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* *state: xxgkd's RLIMIT_NOFILE */
static int setup(void **state)
{
	unsigned long nofile = *(unsigned long *)*state;
	struct rlimit l;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &l), 0);
	if (l.rlim_max != RLIM_INFINITY && l.rlim_max < IDLE + 256) {
		print_message("the hard descriptor limit (%llu) is too low for this test\n",
			      (unsigned long long)l.rlim_max);
		too_few = 1;
		return 0;
	}
	/* the test itself holds the idle connections */
	l.rlim_cur = l.rlim_max == RLIM_INFINITY ? 65536 : l.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &l), 0);
	struct city none = {0};
	daemon_setup(&d, "daemon-fds", &none, NULL);
	port = free_port();
	snprintf(d.ingest, sizeof(d.ingest), "tcp://127.0.0.1:%d", port);
	snprintf(d.publish, sizeof(d.publish), "tcp://127.0.0.1:%d", free_port());
	daemon_make_key(&d, "server", &server);
	daemon_make_key(&d, "dept", &dept);
	FILE *f = fopen(d.config, "w");
	assert_non_null(f);
	fprintf(f,
		"[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n"
		"secret_key = %s/server.secret\n"
		"[unit u001]\nname = 一\nkind = department\n"
		"[client dept]\nkey_file = %s/dept.key\nunits = u001\n",
		d.state, d.ingest, d.admin, d.publish, d.dir, d.dir);
	fclose(f);
	d.nofile = nofile;
	d.ready_by_log = 1;
	daemon_start(&d);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (too_few)
		return 0;
	/* a test that failed midway leaves them open: the next daemon must not inherit them */
	for (; n_idle > 0; n_idle--)
		close(idle[n_idle - 1]);
	if (d.pid > 0)
		daemon_stop(&d);
	daemon_teardown(&d);
	return 0;
}

static void test_idle_connections(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (too_few)
		skip();
	assert_int_equal(push("before"), XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	/* connections that say nothing: no greeting, no key */
	for (int i = 0; i < IDLE; i++) {
		idle[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(idle[i] >= 0);
		n_idle = i + 1;
		int rc = connect(idle[i], (struct sockaddr *)&a, sizeof(a));
		assert_true(rc == 0 || errno == EINPROGRESS);
		/* past the listen backlog (100) the kernel drops handshakes and the client
		 * believes what the server never accepted: a pace the backlog absorbs */
		if (i % 20 == 19)
			usleep(20000);
	}
	/* past the listen backlog, connections complete as xxgkd accepts (or SYNs are resent):
	 * wait until every one is through, or 5 s */
	static struct pollfd waiting[IDLE];
	int connected = 0;
	for (int i = 0; i < IDLE; i++)
		waiting[i] = (struct pollfd){.fd = idle[i], .events = POLLOUT};
	for (int round = 0; round < 50 && connected < IDLE; round++) {
		poll(waiting, IDLE, 100);
		for (int i = 0; i < IDLE; i++)
			if (waiting[i].fd >= 0 && waiting[i].revents) {
				waiting[i].fd = -1;
				connected++;
			}
	}
	print_message("%d of %d connections went through\n", connected, IDLE);
	assert_alive("with the idle connections open");
	print_message("xxgkd has %d descriptors open\n", open_fds());
	int rc = admin_status();
	assert_alive("after a status request on the admin socket");
	assert_int_equal(rc, 0);
	double cpu = cpu_seconds();
	sleep(3);
	cpu = cpu_seconds() - cpu;
	assert_alive("with the idle connections open");
	print_message("xxgkd used %.2f s of CPU in 3 s with the idle connections open\n", cpu);
	assert_true(cpu < 1.5); /* not spinning */
	rc = push("during");
	assert_alive("after an authenticated push");
	print_message("status answered; the authenticated push: %d (%s)\n", rc,
		      rc < 0 ? xxgk_strerror(rc) : "a record status");
	assert_int_equal(rc, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	for (; n_idle > 0; n_idle--)
		close(idle[n_idle - 1]);
	sleep(1);
	assert_alive("after the idle connections closed");
	assert_int_equal(admin_status(), 0);
	assert_int_equal(push("after"), XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	/* what is in force, and what was refused, is in the log */
	char line[1024];
	FILE *f = fopen(d.log, "r");
	int cap = 0;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "descriptors") || strstr(line, "refused"))
			print_message("log: %s", line);
		const char *at = strstr(line, "at most ");
		if (at && strstr(line, "connections per listener"))
			cap = atoi(at + 8);
	}
	fclose(f);
	/* three listeners at the cap leave descriptors for the rest */
	unsigned long nofile = *(unsigned long *)*state;
	assert_true(cap >= 1 && cap <= 256 && 3 * (unsigned long)cap + 64 < nofile);
	assert_true(daemon_log_says(&d, "connections per listener"));
	assert_true(daemon_log_says(&d, "ingest: refused"));
}

/* The cap: connections_max, or the limit less those in use and a reserve, split. */
static void test_cap(void **state)
{
	(void)state;
	/* a reserve of an eighth: (1024 - 33 - 128) / 3 */
	assert_int_equal(connlimit_cap(1024, 33, 1000, 3), 287);
	assert_int_equal(connlimit_cap(1024, 33, 256, 3), 256);
	/* at least 64 in reserve */
	assert_int_equal(connlimit_cap(256, 10, 1000, 2), 91);
	/* never nothing: a listener that takes no connection at all is useless */
	assert_int_equal(connlimit_cap(100, 90, 1000, 3), 1);
}

int main(void)
{
	static unsigned long nofile_1024 = 1024, nofile_512 = 512;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cap),
	    /* the ulimit -n: connections_max (256) is the cap */
	    cmocka_unit_test_prestate_setup_teardown(test_idle_connections, setup, teardown,
						     &nofile_1024),
	    /* less: the cap comes from the limit, (512 - in use - 64) / 3 */
	    cmocka_unit_test_prestate_setup_teardown(test_idle_connections, setup, teardown,
						     &nofile_512),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
