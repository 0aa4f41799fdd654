/*
 * Applications becoming overdue on the live feed, against a real xxgkd with keys (CurveZMQ) and
 * the shipped calendar: the midnight timer is made to tick every second, each tick a day
 * (XXGK_TEST_DEADLINE_TICK_MS, for tests only). A subscriber with a key (the live feed is for
 * admin keys), subscribed to one unit, receives that unit's Changes whose `overdue` lists exactly
 * the applications that became overdue that day, with their due dates; an answered application,
 * one overdue before the daemon started and another unit's are never in it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "calendar.h"
#include "daemon_harness.h"
#include "date.h"
#include "deadline.h"
#include "keyfile.h"

#define TICK_MS "1000"

static struct calendar *load_calendar(const char *const *paths, size_t n)
{
	struct calendar *cal = NULL;
	char err[256] = "";
	if (calendar_load(&cal, paths, n, err, sizeof(err)))
		fail_msg("%s", err);
	return cal;
}

/*
 * The shipped calendar, and beside it at extra (the daemon's holidays_extra) the years around
 * today that it does not cover yet, as weekends only: so that the test runs whatever the year,
 * not only while the shipped file reaches a few weeks past today.
 */
static struct calendar *calendar_around_today(const char *extra, int today)
{
	const char *shipped[] = {XXGK_SOURCE_DIR "/data/holidays.conf"};
	struct calendar *cal = load_calendar(shipped, 1);
	int year, month, day;
	date_civil(today, &year, &month, &day);
	FILE *f = fopen(extra, "w");
	assert_non_null(f);
	fputs("; test only: the years the shipped calendar does not cover, weekends only\n", f);
	for (int y = year - 1; y <= year + 1; y++)
		if (y >= DATE_YEAR_MIN && y <= DATE_YEAR_MAX && calendar_notice(cal, y) == NULL)
			fprintf(f, "[%d]\nnotice = test only: weekends, no holidays\n", y);
	fclose(f);
	calendar_free(cal);
	const char *both[] = {shipped[0], extra};
	return load_calendar(both, 2);
}

/* A day received on which the period ends on due (a working day): searched, not assumed. */
static int received_for(const struct calendar *cal, int due)
{
	for (int r = due - 80; r < due; r++) {
		struct deadline_events ev = {.received = r};
		struct deadline dl;
		deadline_compute(cal, &ev, &dl);
		if (dl.state == DEADLINE_DUE && dl.due == due)
			return r;
	}
	fail_msg("no day received is due on %d", due);
	return 0;
}

static int working_after(const struct calendar *cal, int day, int n)
{
	int out, year;
	assert_int_equal(deadline_add_working(cal, day, n, &out, &year), 0);
	return out;
}

static void make_key(const char *dir, const char *name, struct keypair *out)
{
	char pub[600], secret[600], err[600];
	struct keypair made;
	snprintf(pub, sizeof(pub), "%s/%s.key", dir, name);
	snprintf(secret, sizeof(secret), "%s/%s.secret", dir, name);
	assert_int_equal(keyfile_write(pub, secret, &made, err, sizeof(err)), 0);
	assert_int_equal(keyfile_read(secret, 1, out, err, sizeof(err)), 0);
}

static void push(struct daemon *d, const struct keypair *server, const struct keypair *k,
		 const char *unit, const char *id, int received, int concluded)
{
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	struct xxgk_client *c;
	struct xxgk_keys keys = {server->public_key, k->public_key, k->secret_key};
	char rec[16], con[16];
	int status;
	date_format(received, rec, sizeof(rec));
	date_format(concluded, con, sizeof(con));
	trec_application(&t, unit, id, 1, 1, rec, concluded ? con : NULL, concluded ? 1 : 0);
	assert_int_equal(xxgk_connect_keys(&c, d->ingest, &keys), 0);
	assert_int_equal(xxgk_push(c, &r, 1, &status, NULL, NULL, 10000), 0);
	assert_int_equal(status, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	xxgk_close(c);
}

/* The next Changes message within timeout_ms, or NULL; its topic must be its unit. */
static Xxgk__V1__Changes *next_changes(void *sub, int timeout_ms)
{
	zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
	char topic[128];
	if (zmq_poll(&item, 1, timeout_ms) != 1)
		return NULL;
	int n = zmq_recv(sub, topic, sizeof(topic) - 1, 0);
	assert_true(n >= 0);
	topic[n] = '\0';
	zmq_msg_t msg;
	zmq_msg_init(&msg);
	assert_true(zmq_msg_recv(&msg, sub, 0) >= 0);
	Xxgk__V1__Changes *c =
	    xxgk__v1__changes__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
	zmq_msg_close(&msg);
	assert_non_null(c);
	assert_string_equal(c->unit, topic);
	return c;
}

static void test_overdue_published(void **state)
{
	(void)state;
	struct daemon d;
	struct city none = {0};
	struct keypair server, clerk, watcher;
	int today = deadline_today((long long)time(NULL));
	char extra[600];
	daemon_setup(&d, "overdue-feed", &none, NULL);
	snprintf(extra, sizeof(extra), "%s/holidays-extra.conf", d.dir);
	struct calendar *cal = calendar_around_today(extra, today);
	/* far enough ahead that the records are in before the ticks reach them (a tick a second) */
	int due_a = working_after(cal, today, 8), due_b = working_after(cal, today, 10);
	int past = working_after(cal, today - 20, 3); /* overdue before the daemon starts */
	char due_a_s[16], due_b_s[16];
	date_format(due_a, due_a_s, sizeof(due_a_s));
	date_format(due_b, due_b_s, sizeof(due_b_s));

	snprintf(d.ingest, sizeof(d.ingest), "tcp://127.0.0.1:%d", free_port());
	snprintf(d.publish, sizeof(d.publish), "tcp://127.0.0.1:%d", free_port());
	make_key(d.dir, "server", &server);
	make_key(d.dir, "clerk", &clerk);
	make_key(d.dir, "watcher", &watcher);
	FILE *f = fopen(d.config, "w");
	assert_non_null(f);
	fprintf(
	    f,
	    "[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n"
	    "secret_key = %s/server.secret\nholidays = %s/data/holidays.conf\n"
	    "holidays_extra = %s\n"
	    "[unit u001]\nname = 一\nkind = department\n[unit u002]\nname = 二\nkind = township\n"
	    "[client clerk]\npublic_key = %s\nunits = u001 u002\n"
	    "[client watcher]\npublic_key = %s\nadmin = yes\n",
	    d.state, d.ingest, d.admin, d.publish, d.dir, XXGK_SOURCE_DIR, extra, clerk.public_key,
	    watcher.public_key);
	fclose(f);
	d.ready_by_log = 1;
	setenv("XXGK_TEST_DEADLINE_TICK_MS", TICK_MS, 1);
	daemon_start(&d);
	unsetenv("XXGK_TEST_DEADLINE_TICK_MS");
	assert_true(daemon_log_says(&d, "XXGK_TEST_DEADLINE_TICK_MS=" TICK_MS));

	void *zmq = zmq_ctx_new(), *sub = zmq_socket(zmq, ZMQ_SUB);
	int linger = 0;
	assert_int_equal(zmq_setsockopt(sub, ZMQ_CURVE_SERVERKEY, server.public_key, 40), 0);
	assert_int_equal(zmq_setsockopt(sub, ZMQ_CURVE_PUBLICKEY, watcher.public_key, 40), 0);
	assert_int_equal(zmq_setsockopt(sub, ZMQ_CURVE_SECRETKEY, watcher.secret_key, 40), 0);
	assert_int_equal(zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof(linger)), 0);
	assert_int_equal(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "u001", 4), 0);
	assert_int_equal(zmq_connect(sub, d.publish), 0);

	push(&d, &server, &clerk, "u001", "A", received_for(cal, due_a), 0);
	push(&d, &server, &clerk, "u001", "B", received_for(cal, due_b), 0);
	push(&d, &server, &clerk, "u001", "answered", received_for(cal, due_a), today);
	push(&d, &server, &clerk, "u001", "late-already", received_for(cal, past), 0);
	push(&d, &server, &clerk, "u002", "other-unit", received_for(cal, due_a), 0);

	/* the overdue messages, in order, until B's and two ticks more (at most ~40 s) */
	char seen[8][64];
	int n_seen = 0;
	time_t stop = time(NULL) + 40, quiet_from = 0;
	while (time(NULL) < stop && !(quiet_from && time(NULL) >= quiet_from)) {
		Xxgk__V1__Changes *c = next_changes(sub, 200);
		if (c == NULL)
			continue;
		assert_string_equal(c->unit, "u001");
		if (c->n_overdue) {
			assert_true(n_seen < 8);
			seen[n_seen][0] = '\0';
			for (size_t i = 0; i < c->n_overdue; i++) {
				size_t len = strlen(seen[n_seen]);
				snprintf(seen[n_seen] + len, sizeof(seen[0]) - len, "%s%s %s",
					 i ? ", " : "", c->overdue[i]->id, c->overdue[i]->due);
			}
			printf("# overdue published: u001: %s\n", seen[n_seen]);
			if (strcmp(c->overdue[0]->id, "B") == 0)
				quiet_from = time(NULL) + 2;
			n_seen++;
		}
		xxgk__v1__changes__free_unpacked(c, NULL);
	}
	char want_a[64], want_b[64];
	snprintf(want_a, sizeof(want_a), "A %s", due_a_s);
	snprintf(want_b, sizeof(want_b), "B %s", due_b_s);
	assert_int_equal(n_seen, 2);
	assert_string_equal(seen[0], want_a);
	assert_string_equal(seen[1], want_b);

	zmq_close(sub);
	zmq_ctx_term(zmq);
	daemon_stop(&d);
	daemon_teardown(&d);
	calendar_free(cal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_overdue_published),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
