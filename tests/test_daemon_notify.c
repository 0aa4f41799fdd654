/*
 * systemd's notify protocol: the test owns the datagram socket, starts xxgkd with NOTIFY_SOCKET
 * and WATCHDOG_USEC pointing at it, and sees READY=1 once it is up, WATCHDOG=1 at half the
 * interval, RELOADING=1 then READY=1 around a SIGHUP, and STOPPING=1 on SIGTERM.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_harness.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The next datagram within timeout_ms into buf, or 0. */
static int next_message(int fd, char *buf, size_t size, int timeout_ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	if (poll(&p, 1, timeout_ms) != 1)
		return 0;
	ssize_t n = recv(fd, buf, size - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	return 1;
}

/* Waits for a message containing want, counting WATCHDOG=1 seen meanwhile. */
static void expect(int fd, const char *want, int *watchdogs)
{
	char buf[512];
	double end = now_s() + 10;
	while (now_s() < end) {
		if (!next_message(fd, buf, sizeof(buf), 200))
			continue;
		if (strstr(buf, want))
			return;
		if (strstr(buf, "WATCHDOG=1") && watchdogs)
			(*watchdogs)++;
	}
	fail_msg("no \"%s\" from xxgkd within 10 s", want);
}

static void test_notify_protocol(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char path[600], buf[512];
	city_make(&city, 2);
	daemon_setup(&d, "notify", &city, NULL);
	snprintf(path, sizeof(path), "%s/notify.sock", d.dir);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);

	pid_t pid = fork();
	if (pid == 0) {
		int log = open(d.log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(log, 2);
		setenv("NOTIFY_SOCKET", path, 1);
		setenv("WATCHDOG_USEC", "200000", 1); /* 0.2 s: fed every 0.1 s */
		execl(XXGKD_PATH, "xxgkd", "-f", "-c", d.config, (char *)NULL);
		_exit(127);
	}
	expect(fd, "READY=1", NULL);

	/* the watchdog's pace over one second: about ten, at half the interval */
	int watchdogs = 0;
	double end = now_s() + 1.0;
	while (now_s() < end)
		if (next_message(fd, buf, sizeof(buf), 50) && strstr(buf, "WATCHDOG=1"))
			watchdogs++;
	printf("# %d WATCHDOG=1 in one second (WATCHDOG_USEC=200000)\n", watchdogs);
	assert_true(watchdogs >= 6 && watchdogs <= 14);

	assert_int_equal(kill(pid, SIGHUP), 0);
	expect(fd, "RELOADING=1", NULL);
	expect(fd, "READY=1", NULL);
	assert_int_equal(kill(pid, SIGTERM), 0);
	expect(fd, "STOPPING=1", NULL);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
	daemon_teardown(&d);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_notify_protocol),
	};
	return cmocka_run_group_tests_name("daemon_notify", tests, NULL, NULL);
}
