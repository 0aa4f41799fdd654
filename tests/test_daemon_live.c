/*
 * The live update stream: after each commit the PUB socket sends, per unit whose counters
 * moved, the unit id as topic and the changed flows; a subscriber to one unit sees that unit's
 * changes only, and a rejected or duplicate record publishes nothing.
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

#include "daemon_harness.h"

static int push(struct daemon *d, struct trec *t)
{
	struct xxgk_client *c;
	Xxgk__V1__Record *r = &t->r;
	int status;
	assert_int_equal(xxgk_connect(&c, d->ingest), 0);
	assert_int_equal(xxgk_push(c, &r, 1, &status, NULL, NULL, 10000), 0);
	xxgk_close(c);
	return status;
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

static int64_t delta_of(const Xxgk__V1__Changes *c, unsigned year, const char *key)
{
	for (size_t i = 0; i < c->n_changes; i++)
		if (c->changes[i]->year == year && strcmp(c->changes[i]->key, key) == 0)
			return c->changes[i]->delta;
	return 0;
}

static void test_changes_by_unit(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	struct trec t;
	city_make(&city, 3);
	daemon_setup(&d, "daemon-live", &city, NULL);
	daemon_start(&d);
	void *zmq = zmq_ctx_new(), *sub = zmq_socket(zmq, ZMQ_SUB);
	assert_int_equal(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "u001", 4), 0);
	assert_int_equal(zmq_connect(sub, d.publish), 0);
	/* a subscription takes a moment to reach the publisher: push until the first arrives */
	Xxgk__V1__Changes *c = NULL;
	for (int i = 0; i < 50 && c == NULL; i++) {
		char id[16];
		snprintf(id, sizeof(id), "warm-%d", i);
		trec_tally(&t, "u001", id, 1, 3, "2018-01-01", 1);
		push(&d, &t);
		c = next_changes(sub, 100);
	}
	assert_non_null(c);
	xxgk__v1__changes__free_unpacked(c, NULL);
	while ((c = next_changes(sub, 200)) != NULL)
		xxgk__v1__changes__free_unpacked(c, NULL);

	/* u002's record is not for this subscriber; u001's is */
	trec_application(&t, "u002", "a", 1, 1, "2019-04-01", NULL, 0);
	assert_int_equal(push(&d, &t), XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	trec_application(&t, "u001", "a", 1, 2, "2019-04-01", "2020-01-10", 6);
	assert_int_equal(push(&d, &t), XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	c = next_changes(sub, 5000);
	assert_non_null(c);
	assert_string_equal(c->unit, "u001");
	assert_int_equal(delta_of(c, 2019, "applications.new_received.commercial"), 1);
	assert_int_equal(delta_of(c, 2020, "applications.denied_third_party.commercial"), 1);
	assert_int_equal(delta_of(c, 2019, "records.application"), 1);
	assert_int_equal(c->n_changes, 3);
	xxgk__v1__changes__free_unpacked(c, NULL);

	/* a new revision publishes the difference: the outcome moves, nothing else */
	trec_application(&t, "u001", "a", 2, 2, "2019-04-01", "2020-01-10", 1);
	assert_int_equal(push(&d, &t), XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	c = next_changes(sub, 5000);
	assert_non_null(c);
	assert_int_equal(c->n_changes, 2);
	assert_int_equal(delta_of(c, 2020, "applications.denied_third_party.commercial"), -1);
	assert_int_equal(delta_of(c, 2020, "applications.granted.commercial"), 1);
	xxgk__v1__changes__free_unpacked(c, NULL);

	/* a duplicate and a rejected record move nothing, so nothing is published */
	assert_int_equal(push(&d, &t), XXGK__V1__RECORD_STATUS__CODE__DUPLICATE);
	trec_application(&t, "u001", "b", 1, 2, "2019-02-30", NULL, 0);
	assert_int_equal(push(&d, &t), XXGK__V1__RECORD_STATUS__CODE__REJECTED);
	assert_null(next_changes(sub, 300));

	zmq_close(sub);
	zmq_ctx_term(zmq);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_changes_by_unit),
	};
	return cmocka_run_group_tests_name("daemon_live", tests, NULL, NULL);
}
