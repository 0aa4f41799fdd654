/*
 * Counters never wrap, against a real xxgkd: with a test limit (XXGK_TEST_COUNTER_MAX), the
 * tally that would carry a counter past it is rejected as OVERFLOW and changes nothing while the
 * rest of its push applies, and records that bring the counter down apply; a store reopened
 * under a lower limit is reported by verify; and the real limit holds with the same code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_harness.h"
#include "error.h"

#define APPLIED XXGK__V1__RECORD_STATUS__CODE__APPLIED
#define REJECTED XXGK__V1__RECORD_STATUS__CODE__REJECTED
#define OVERFLOW XXGK__V1__RECORD_STATUS__REASON__OVERFLOW
#define PROCUREMENT XXGK__V1__TALLY_MEASURE__TALLY_PROCUREMENT_AMOUNT

struct fixture {
	struct city city;
	struct daemon d;
};

/* A daemon whose counters are limited to limit (NULL: the real limit). */
static struct fixture *start(const char *limit)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	city_make(&fx->city, 6);
	if (limit)
		setenv("XXGK_TEST_COUNTER_MAX", limit, 1);
	else
		unsetenv("XXGK_TEST_COUNTER_MAX");
	daemon_setup(&fx->d, "daemon-overflow", &fx->city, NULL);
	daemon_start(&fx->d);
	return fx;
}

static int setup_small(void **state)
{
	*state = start("1000");
	return 0;
}

static int setup_real(void **state)
{
	*state = start(NULL);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	if (fx->d.pid > 0) /* a failed test may leave it stopped: kill(0) would hit the group */
		daemon_stop(&fx->d);
	daemon_teardown(&fx->d);
	city_free(&fx->city);
	unsetenv("XXGK_TEST_COUNTER_MAX");
	free(fx);
	return 0;
}

struct outcome {
	int status[200], reason[200];
	char message[200][160];
};

static void push(struct daemon *d, struct trec *t, int n, struct outcome *out)
{
	Xxgk__V1__Record *records[200];
	const char *messages[200];
	struct xxgk_client *c;
	assert_true(n <= 200);
	for (int i = 0; i < n; i++)
		records[i] = &t[i].r;
	assert_int_equal(xxgk_connect(&c, d->ingest), 0);
	assert_int_equal(
	    xxgk_push(c, records, (size_t)n, out->status, out->reason, messages, 10000), 0);
	for (int i = 0; i < n; i++)
		snprintf(out->message[i], sizeof(out->message[i]), "%s",
			 messages[i] ? messages[i] : "");
	xxgk_close(c);
}

static void city_2019(struct daemon *d, struct cell_values *out)
{
	Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
	q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
	q.city = 1;
	daemon_report(d, 2019, &q, out);
}

static int64_t cell(const struct cell_values *v, const char *key)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0)
			return v->values[i];
	fail_msg("no cell %s", key);
	return 0;
}

static void assert_same_cells(const struct cell_values *a, const struct cell_values *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		if (a->values[i] != b->values[i])
			fail_msg("%s changed from %lld to %lld", a->keys[i],
				 (long long)a->values[i], (long long)b->values[i]);
}

static void test_limit(void **state)
{
	struct fixture *fx = *state;
	static struct trec t[4];
	static struct outcome o;
	static struct cell_values before, after;
	for (int i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof(id), "p%d", i);
		trec_tally(&t[i], "u001", id, 1, PROCUREMENT, "2019-06-01", 300);
	}
	push(&fx->d, t, 3, &o);
	for (int i = 0; i < 3; i++)
		assert_int_equal(o.status[i], APPLIED);
	city_2019(&fx->d, &before);
	assert_int_equal(cell(&before, "proactive.procurement.amount"), 900);
	uint64_t records = daemon_stored_records(&fx->d);

	/* the tally that would pass the limit: rejected, naming the counter; nothing changes */
	trec_tally(&t[0], "u001", "x", 1, PROCUREMENT, "2019-06-02", 300);
	push(&fx->d, t, 1, &o);
	printf("# %s\n", o.message[0]);
	assert_int_equal(o.status[0], REJECTED);
	assert_int_equal(o.reason[0], OVERFLOW);
	assert_string_equal(o.message[0],
			    "tally.value: would carry city 2019 "
			    "flows.procurement_amount past 1000, the limit of a counter");
	city_2019(&fx->d, &after);
	assert_same_cells(&before, &after);
	assert_int_equal(daemon_stored_records(&fx->d), records);
	daemon_check_verify(&fx->d);

	/* in one push with others: they apply, up to the limit exactly */
	trec_application(&t[1], "u002", "y", 1, 1, "2019-06-03", NULL, 0);
	trec_tally(&t[2], "u003", "z", 1, PROCUREMENT, "2019-06-04", 100);
	push(&fx->d, t, 3, &o);
	assert_int_equal(o.status[0], REJECTED);
	assert_int_equal(o.reason[0], OVERFLOW);
	assert_int_equal(o.status[1], APPLIED);
	assert_int_equal(o.status[2], APPLIED);
	city_2019(&fx->d, &after);
	assert_int_equal(cell(&after, "proactive.procurement.amount"), 1000);
	assert_int_equal(cell(&after, "applications.new_received.total"), 1);
	assert_int_equal(daemon_stored_records(&fx->d), records + 2);
	daemon_check_verify(&fx->d);

	/* a tombstone and a lower revision bring it down; then x fits */
	trec_tombstone(&t[0], "u001", "p0", 2, RECORD_TALLY);
	trec_tally(&t[1], "u001", "p1", 2, PROCUREMENT, "2019-06-01", 50);
	trec_tally(&t[2], "u001", "x", 1, PROCUREMENT, "2019-06-02", 300);
	push(&fx->d, t, 3, &o);
	for (int i = 0; i < 3; i++)
		assert_int_equal(o.status[i], APPLIED);
	city_2019(&fx->d, &after);
	assert_int_equal(cell(&after, "proactive.procurement.amount"), 750);
	daemon_check_verify(&fx->d);
	assert_true(daemon_log_says(&fx->d, "counters are limited to 1000 (for tests only)"));
}

static void test_verify_under_lower_limit(void **state)
{
	struct fixture *fx = *state;
	static struct trec t[1];
	static struct outcome o;
	trec_tally(&t[0], "u001", "a", 1, PROCUREMENT, "2019-06-01", 900);
	push(&fx->d, t, 1, &o);
	assert_int_equal(o.status[0], APPLIED);
	daemon_stop(&fx->d);

	setenv("XXGK_TEST_COUNTER_MAX", "500", 1);
	daemon_start(&fx->d);
	Xxgk__V1__VerifyQuery q = XXGK__V1__VERIFY_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_VERIFY;
	req.verify = &q;
	Xxgk__V1__Reply *reply = daemon_admin_call(&fx->d, &req, XXGK__V1__REPLY__BODY_VERIFY);
	printf("# verify: %llu differences\n", (unsigned long long)reply->verify->differences);
	for (size_t i = 0; i < reply->verify->n_lines; i++)
		printf("#   %s\n", reply->verify->lines[i]);
	assert_int_equal(reply->verify->differences, 3);
	assert_string_equal(reply->verify->lines[0], "city 2019 flows.procurement_amount: stored "
						     "900 is beyond 500, the limit of a counter");
	xxgk__v1__reply__free_unpacked(reply, NULL);

	/* more is refused, less is taken */
	trec_tally(&t[0], "u001", "b", 1, PROCUREMENT, "2019-06-01", 1);
	push(&fx->d, t, 1, &o);
	assert_int_equal(o.reason[0], OVERFLOW);
	trec_tally(&t[0], "u001", "a", 2, PROCUREMENT, "2019-06-01", 400);
	push(&fx->d, t, 1, &o);
	assert_int_equal(o.status[0], APPLIED);
	daemon_check_verify(&fx->d);
	daemon_stop(&fx->d);

	/* not a number from 1 to COUNTER_MAX: xxgkd does not start */
	setenv("XXGK_TEST_COUNTER_MAX", "0x10", 1);
	const char *argv[] = {"/usr/bin/timeout", "20", XXGKD_PATH, "-f", "-c", fx->d.config, NULL};
	char *out = NULL, *err = NULL;
	int status = run_program(argv, &out, &err);
	printf("# %d: %s", status, err);
	assert_int_equal(status, 1);
	assert_non_null(strstr(err, "XXGK_TEST_COUNTER_MAX=0x10: want a number from 1 to "
				    "140737488355327"));
	free(out);
	free(err);
}

/* No test limit: 140 tallies of the largest amount (10^12 fen) fit, the 141st does not. */
static void test_real_limit(void **state)
{
	struct fixture *fx = *state;
	enum { N = 141 };
	static struct trec t[N];
	static struct outcome o;
	static struct cell_values after;
	for (int i = 0; i < N; i++) {
		char id[16];
		snprintf(id, sizeof(id), "big%d", i);
		trec_tally(&t[i], "u001", id, 1, PROCUREMENT, "2019-06-01", 1000000000000LL);
	}
	push(&fx->d, t, N, &o);
	for (int i = 0; i < N - 1; i++)
		assert_int_equal(o.status[i], APPLIED);
	printf("# %s\n", o.message[N - 1]);
	assert_int_equal(o.status[N - 1], REJECTED);
	assert_int_equal(o.reason[N - 1], OVERFLOW);
	city_2019(&fx->d, &after);
	assert_int_equal(cell(&after, "proactive.procurement.amount"), 140000000000000LL);
	assert_int_equal(daemon_stored_records(&fx->d), N - 1);
	daemon_check_verify(&fx->d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_limit, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_under_lower_limit, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_real_limit, setup_real, teardown),
	};
	return cmocka_run_group_tests_name("daemon_overflow", tests, NULL, NULL);
}
