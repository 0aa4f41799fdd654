/*
 * /metrics and /healthz on loopback HTTP: scraped before and after pushes, the counters move as
 * they should (applied, duplicate, commits, the commit histogram, stored records, the unit's
 * last record time), and anything else is 404; the version and the process' figures under
 * Prometheus' standard names; /healthz is plain text in UTF-8.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon_harness.h"

static int port;

static long long metric(const char *page, const char *name)
{
	char want[256];
	snprintf(want, sizeof(want), "\n%s ", name);
	const char *p = strstr(page, want);
	if (p == NULL)
		return -1;
	return strtoll(p + strlen(want), NULL, 10);
}

static void push3(struct daemon *d, int statuses_want)
{
	struct trec t[3];
	Xxgk__V1__Record *r[3] = {&t[0].r, &t[1].r, &t[2].r};
	int statuses[3];
	struct xxgk_client *c;
	trec_application(&t[0], "u001", "m1", 1, 1, "2021-03-01", NULL, 0);
	trec_document(&t[1], "u002", "m2", 1, 2, "2021-03-01", "2021-03-02", NULL);
	trec_tally(&t[2], "u001", "m3", 1, 3, "2021-12-31", 9);
	assert_int_equal(xxgk_connect(&c, d->ingest), 0);
	assert_int_equal(xxgk_push(c, r, 3, statuses, NULL, NULL, 10000), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(statuses[i], statuses_want);
	xxgk_close(c);
}

static void test_metrics_move(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char extra[64];
	city_make(&city, 3);
	port = free_port();
	snprintf(extra, sizeof(extra), "http = 127.0.0.1:%d\n", port);
	daemon_setup(&d, "metrics", &city, extra);
	daemon_start(&d);

	char *page = http_get(port, "/healthz");
	assert_non_null(strstr(page, " 200 "));
	assert_non_null(strstr(page, "\r\n\r\nok\n"));
	free(page);

	page = http_get(port, "/metrics");
	assert_non_null(strstr(page, " 200 "));
	assert_int_equal(metric(page, "xxgk_records_total{status=\"applied\"}"), 0);
	assert_int_equal(metric(page, "xxgk_stored_records"), 0);
	long long commits = metric(page, "xxgk_commits_total");
	assert_true(metric(page, "xxgk_map_size_bytes") > 0);
	assert_null(strstr(page, "xxgk_unit_last_record_timestamp_seconds{unit=\"u001\"}"));
	free(page);

	push3(&d, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	page = http_get(port, "/metrics");
	assert_int_equal(metric(page, "xxgk_records_total{status=\"applied\"}"), 3);
	assert_int_equal(metric(page, "xxgk_applied_records_total{kind=\"document\"}"), 1);
	assert_int_equal(metric(page, "xxgk_stored_records"), 3);
	assert_int_equal(metric(page, "xxgk_pushes_total"), 1);
	assert_int_equal(metric(page, "xxgk_commits_total"), commits + 1);
	assert_int_equal(metric(page, "xxgk_commit_seconds_count"), commits + 1);
	assert_true(metric(page, "xxgk_unit_last_record_timestamp_seconds{unit=\"u001\"}") >
		    1700000000);
	assert_true(metric(page, "xxgk_readers") >= 0);
	assert_true(metric(page, "xxgk_connected_peers") >= 0);
	free(page);

	push3(&d, XXGK__V1__RECORD_STATUS__CODE__DUPLICATE);
	page = http_get(port, "/metrics");
	assert_int_equal(metric(page, "xxgk_records_total{status=\"duplicate\"}"), 3);
	assert_int_equal(metric(page, "xxgk_records_total{status=\"applied\"}"), 3);
	free(page);

	page = http_get(port, "/nope");
	assert_non_null(strstr(page, " 404 "));
	free(page);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
}

/* The line of a metric with labels or a fraction: its value as a double, NAN when absent. */
static double metric_double(const char *page, const char *name)
{
	char want[256];
	snprintf(want, sizeof(want), "\n%s ", name);
	const char *p = strstr(page, want);
	return p ? strtod(p + strlen(want), NULL) : NAN;
}

static long long count_fds(pid_t pid)
{
	char path[64];
	long long n = 0;
	struct dirent *e;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *dir = opendir(path);
	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* The version and the process figures any Prometheus setup looks for, and /healthz's type. */
static void test_process_metrics(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	char extra[64];
	city_make(&city, 3);
	port = free_port();
	snprintf(extra, sizeof(extra), "http = 127.0.0.1:%d\n", port);
	daemon_setup(&d, "process_metrics", &city, extra);
	daemon_start(&d);

	char *page = http_get(port, "/healthz");
	assert_non_null(strstr(page, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	free(page);

	push3(&d, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	page = http_get(port, "/metrics");
	assert_non_null(strstr(page, "\nxxgk_build_info{version=\"" XXGK_VERSION "\"} 1\n"));
	assert_non_null(strstr(page, "\n# TYPE process_cpu_seconds_total counter\n"));
	long long fds = metric(page, "process_open_fds"), max = metric(page, "process_max_fds");
	long long now_fds = count_fds(d.pid);
	printf("# open fds %lld (now %lld), max %lld, rss %.0f, cpu %.2f s, started %.0f\n", fds,
	       now_fds, max, metric_double(page, "process_resident_memory_bytes"),
	       metric_double(page, "process_cpu_seconds_total"),
	       metric_double(page, "process_start_time_seconds"));
	/* connections come and go: the count is near what /proc shows from outside */
	assert_true(fds > 3);
	assert_true(fds > now_fds - 20 && fds < now_fds + 20);
	assert_true(max >= fds);
	/* RSS: more than a megabyte, less than a gigabyte for an idle daemon */
	double rss = metric_double(page, "process_resident_memory_bytes");
	assert_true(rss > 1e6 && rss < 1e9);
	assert_true(metric_double(page, "process_virtual_memory_bytes") >= rss);
	double cpu = metric_double(page, "process_cpu_seconds_total");
	assert_true(cpu >= 0 && cpu < 600);
	/* it started during this test: within the last ten minutes, and not in the future */
	double started = metric_double(page, "process_start_time_seconds");
	double now = (double)time(NULL);
	assert_true(started > now - 600 && started < now + 5);
	free(page);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metrics_move),
	    cmocka_unit_test(test_process_metrics),
	};
	return cmocka_run_group_tests_name("daemon_metrics", tests, NULL, NULL);
}
