/*
 * Key rotation and who may watch, against a real xxgkd over CurveZMQ: a connection is
 * authorized by the key it authenticated with, in the configuration in force, so once SIGHUP
 * has replaced or removed that key its open connection writes and queries nothing more; the
 * live changes are for admin keys only, and a subscriber whose admin key is lost is cut off.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "daemon_harness.h"
#include "error.h"
#include "keyfile.h"

static struct daemon d;
static struct keypair server, key_a, key_b, county, boss, clerk, rotated;
static void *zmq;
static void *subs[4]; /* the tests' subscribers, closed at the end even after a failure */

/* What the configuration holds; write_config writes it and SIGHUPs a running daemon. */
static struct {
	const struct keypair *dept;	   /* the key in dept's key_file */
	const struct keypair *county;	   /* NULL: no [client county] */
	const char *county_units;	   /* its units */
	const struct keypair *clerk_admin; /* the key of [client clerk], an admin */
} conf;

static void write_config(void)
{
	char path[600], tmp[700];
	/* dept's key_file is replaced in place (written aside, then renamed), as an operator
	 * would copy a unit's new .key over the old one */
	snprintf(path, sizeof(path), "%s/dept-current.key", d.dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	FILE *k = fopen(tmp, "w");
	assert_non_null(k);
	fprintf(k, "public-key = %s\n", conf.dept->public_key);
	fclose(k);
	assert_int_equal(rename(tmp, path), 0);
	FILE *f = fopen(d.config, "w");
	assert_non_null(f);
	fprintf(
	    f,
	    "[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n"
	    "secret_key = %s/server.secret\n"
	    "[unit u001]\nname = 一\nkind = department\n[unit u002]\nname = 二\nkind = township\n"
	    "[unit u003]\nname = 三\nkind = township\n"
	    "[client dept]\nkey_file = %s\nunits = u001\n"
	    "[client boss]\npublic_key = %s\nadmin = yes\n"
	    "[client clerk]\npublic_key = %s\nadmin = yes\n",
	    d.state, d.ingest, d.admin, d.publish, d.dir, path, boss.public_key,
	    conf.clerk_admin->public_key);
	if (conf.county)
		fprintf(f, "[client county]\npublic_key = %s\nunits = %s\n",
			conf.county->public_key, conf.county_units);
	fclose(f);
}

/* Rewrites the configuration, SIGHUPs the daemon and waits until it has reloaded. */
static void reconfigure(void)
{
	int before = daemon_log_count(&d, "reloaded:");
	write_config();
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	for (int i = 0; i < 200 && daemon_log_count(&d, "reloaded:") == before; i++)
		usleep(50 * 1000);
	assert_int_equal(daemon_log_count(&d, "reloaded:"), before + 1);
}

static int setup(void **state)
{
	(void)state;
	struct city none = {0};
	daemon_setup(&d, "rotation", &none, NULL);
	daemon_use_tcp(&d);
	daemon_make_key(&d, "server", &server);
	daemon_make_key(&d, "a", &key_a);
	daemon_make_key(&d, "b", &key_b);
	daemon_make_key(&d, "county", &county);
	daemon_make_key(&d, "boss", &boss);
	daemon_make_key(&d, "clerk", &clerk);
	daemon_make_key(&d, "rotated", &rotated);
	conf.dept = &key_a;
	conf.county = &county;
	conf.county_units = "u002 u003";
	conf.clerk_admin = &clerk;
	write_config();
	d.ready_by_log = 1;
	daemon_start(&d);
	zmq = zmq_ctx_new();
	return 0;
}

/* Each test starts from the same configuration, whatever the one before left. */
static int reset(void **state)
{
	(void)state;
	conf.dept = &key_a;
	conf.county = &county;
	conf.county_units = "u002 u003";
	conf.clerk_admin = &clerk;
	reconfigure();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++)
		if (subs[i])
			zmq_close(subs[i]);
	zmq_ctx_term(zmq);
	daemon_stop(&d);
	daemon_teardown(&d);
	return 0;
}

static struct xxgk_client *connect_as(const char *endpoint, const struct keypair *k)
{
	struct xxgk_client *c;
	struct xxgk_keys keys = {server.public_key, k->public_key, k->secret_key};
	assert_int_equal(xxgk_connect_keys(&c, endpoint, &keys), 0);
	return c;
}

/*
 * Pushes n tallies of unit on c; the statuses and reasons of the records go to the arrays.
 * Returns xxgk_push's result.
 */
static int push_on(struct xxgk_client *c, const char *unit, const char *id, size_t n, int *statuses,
		   int *reasons, const char **messages)
{
	struct trec t[4];
	Xxgk__V1__Record *r[4];
	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++) {
		char rid[64];
		snprintf(rid, sizeof(rid), "%s-%zu", id, i);
		trec_tally(&t[i], unit, rid, 1, 3, "2022-06-30", 5);
		r[i] = &t[i].r;
	}
	return xxgk_push(c, r, n, statuses, reasons, messages, 3000);
}

static Xxgk__V1__Reply *status_on(struct xxgk_client *c)
{
	Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	Xxgk__V1__Reply *reply;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &q;
	assert_int_equal(xxgk_call(c, &req, 3000, &reply), 0);
	return reply;
}

static uint64_t stored_records(void)
{
	struct xxgk_client *c = connect_as(d.admin, &boss);
	Xxgk__V1__Reply *reply = status_on(c);
	assert_int_equal(reply->body_case, XXGK__V1__REPLY__BODY_STATUS);
	uint64_t n = reply->status->records;
	xxgk__v1__reply__free_unpacked(reply, NULL);
	xxgk_close(c);
	return n;
}

/* Every record of a push on c is refused FORBIDDEN as a key no longer configured. */
static void assert_push_forbidden(struct xxgk_client *c, const char *unit, const char *id)
{
	int statuses[3], reasons[3];
	const char *messages[3];
	assert_int_equal(push_on(c, unit, id, 3, statuses, reasons, messages), 0);
	for (int i = 0; i < 3; i++) {
		printf("  %s, record %d: %s\n", id, i, messages[i]);
		assert_int_equal(statuses[i], XXGK__V1__RECORD_STATUS__CODE__REJECTED);
		assert_int_equal(reasons[i], XXGK__V1__RECORD_STATUS__REASON__FORBIDDEN);
		assert_non_null(strstr(messages[i], "no longer configured"));
	}
}

static void assert_push_applied(struct xxgk_client *c, const char *unit, const char *id)
{
	int status;
	assert_int_equal(push_on(c, unit, id, 1, &status, NULL, NULL), 0);
	assert_int_equal(status, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
}

/* key_file replaced (A -> B) and SIGHUP: A's open connection writes nothing more, B writes. */
static void test_replaced_key_cuts_open_connection(void **state)
{
	(void)state;
	struct xxgk_client *a = connect_as(d.ingest, &key_a);
	assert_push_applied(a, "u001", "before-rotation");
	uint64_t before = stored_records();
	conf.dept = &key_b;
	reconfigure();
	assert_push_forbidden(a, "u001", "old-key");
	assert_int_equal(stored_records(), before);
	struct xxgk_client *b = connect_as(d.ingest, conf.dept);
	assert_push_applied(b, "u001", "new-key");
	assert_int_equal(stored_records(), before + 1);
	xxgk_close(a);
	xxgk_close(b);
}

/* A section removed: its open connection writes nothing; a key kept with fewer units is held
 * to them on its open connection. */
static void test_removed_section_cuts_open_connection(void **state)
{
	(void)state;
	struct xxgk_client *c = connect_as(d.ingest, &county);
	assert_push_applied(c, "u003", "county-before");
	conf.county_units = "u002";
	reconfigure();
	int status;
	const char *message;
	assert_int_equal(push_on(c, "u003", "county-fewer", 1, &status, NULL, &message), 0);
	assert_int_equal(status, XXGK__V1__RECORD_STATUS__CODE__REJECTED);
	assert_non_null(strstr(message, "the key of \"county\" may not write unit \"u003\""));
	assert_push_applied(c, "u002", "county-kept");
	uint64_t before = stored_records();
	conf.county = NULL;
	reconfigure();
	assert_push_forbidden(c, "u002", "county-removed");
	assert_int_equal(stored_records(), before);
	xxgk_close(c);
}

/* An admin key replaced by SIGHUP queries nothing more on the connection it opened. */
static void test_replaced_admin_key_cannot_query(void **state)
{
	(void)state;
	struct xxgk_client *c = connect_as(d.admin, &clerk);
	Xxgk__V1__Reply *reply = status_on(c);
	assert_int_equal(reply->body_case, XXGK__V1__REPLY__BODY_STATUS);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	conf.clerk_admin = &rotated;
	reconfigure();
	reply = status_on(c);
	assert_int_equal(reply->body_case, XXGK__V1__REPLY__BODY_ERROR);
	printf("  old admin key: %s\n", reply->error->message);
	assert_non_null(strstr(reply->error->message, "no longer configured"));
	xxgk__v1__reply__free_unpacked(reply, NULL);
	xxgk_close(c);
	/* its new key queries */
	c = connect_as(d.admin, &rotated);
	reply = status_on(c);
	assert_int_equal(reply->body_case, XXGK__V1__REPLY__BODY_STATUS);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	xxgk_close(c);
}

static void *subscribe_as(const struct keypair *k)
{
	void *sub = zmq_socket(zmq, ZMQ_SUB);
	int linger = 0, i = 0;
	assert_non_null(sub);
	while (i < 4 && subs[i])
		i++;
	assert_true(i < 4);
	subs[i] = sub;
	zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_setsockopt(sub, ZMQ_CURVE_SERVERKEY, server.public_key, 40), 0);
	assert_int_equal(zmq_setsockopt(sub, ZMQ_CURVE_PUBLICKEY, k->public_key, 40), 0);
	assert_int_equal(zmq_setsockopt(sub, ZMQ_CURVE_SECRETKEY, k->secret_key, 40), 0);
	assert_int_equal(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0), 0);
	assert_int_equal(zmq_connect(sub, d.publish), 0);
	return sub;
}

static void unsubscribe(void *sub)
{
	for (int i = 0; i < 4; i++)
		if (subs[i] == sub)
			subs[i] = NULL;
	zmq_close(sub);
}

/* How many messages (topic and changes) arrive on sub within timeout_ms of each other. */
static int drain(void *sub, int timeout_ms)
{
	int n = 0;
	zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
	while (zmq_poll(&item, 1, timeout_ms) == 1) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		assert_true(zmq_msg_recv(&m, sub, 0) >= 0);
		n += !zmq_msg_more(&m);
		zmq_msg_close(&m);
	}
	return n;
}

/*
 * Pushes changes of u001 until watcher has received one (a subscription takes a moment to
 * reach the publisher); returns how many pushes that took, failing after 60.
 */
static int push_until_seen(struct xxgk_client *c, void *watcher, const char *tag)
{
	for (int i = 0; i < 60; i++) {
		char id[64];
		snprintf(id, sizeof(id), "%s-%d", tag, i);
		assert_push_applied(c, "u001", id);
		if (drain(watcher, 100) > 0)
			return i + 1;
	}
	fail_msg("%s: no live changes reached the admin key's subscriber", tag);
	return 0;
}

/* A unit key receives no live changes where an admin key does. */
static void test_unit_key_cannot_watch(void **state)
{
	(void)state;
	struct xxgk_client *b = connect_as(d.ingest, conf.dept);
	void *admin = subscribe_as(&boss), *unit = subscribe_as(conf.dept);
	int pushes = push_until_seen(b, admin, "watch");
	/* the admin key now sees every change: a few more, and the unit key's subscriber has
	 * had as long as the admin key's to receive them */
	for (int i = 0; i < 5; i++) {
		char id[64];
		snprintf(id, sizeof(id), "watch-more-%d", i);
		assert_push_applied(b, "u001", id);
	}
	int seen_by_admin = drain(admin, 1000), seen_by_unit = drain(unit, 1000);
	printf("  after %d pushes: the admin key received %d more changes, the unit key %d\n",
	       pushes + 5, seen_by_admin, seen_by_unit);
	assert_true(seen_by_admin >= 5);
	assert_int_equal(seen_by_unit, 0);
	assert_true(daemon_log_says(&d, "refused the key of \"dept\" on the live changes"));
	unsubscribe(admin);
	unsubscribe(unit);
	xxgk_close(b);
}

/* An admin key's subscription open when the key is replaced is cut off by the SIGHUP. */
static void test_lost_admin_key_stops_watching(void **state)
{
	(void)state;
	struct xxgk_client *b = connect_as(d.ingest, conf.dept);
	void *admin = subscribe_as(&boss), *old = subscribe_as(&clerk);
	push_until_seen(b, old, "old-watch");
	push_until_seen(b, admin, "old-watch-boss");
	conf.clerk_admin = &rotated;
	reconfigure();
	drain(old, 200); /* what was published before the reload */
	/* the remaining admin key reconnects and sees changes again */
	push_until_seen(b, admin, "after-cut");
	for (int i = 0; i < 5; i++) {
		char id[64];
		snprintf(id, sizeof(id), "after-cut-more-%d", i);
		assert_push_applied(b, "u001", id);
	}
	int seen_by_admin = drain(admin, 1000), seen_by_old = drain(old, 1000);
	printf("  after the SIGHUP: the admin key received %d more changes, the replaced one %d\n",
	       seen_by_admin, seen_by_old);
	assert_true(seen_by_admin >= 5);
	assert_int_equal(seen_by_old, 0);
	unsubscribe(admin);
	unsubscribe(old);
	xxgk_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_replaced_key_cuts_open_connection, reset),
	    cmocka_unit_test_setup(test_removed_section_cuts_open_connection, reset),
	    cmocka_unit_test_setup(test_replaced_admin_key_cannot_query, reset),
	    cmocka_unit_test_setup(test_unit_key_cannot_watch, reset),
	    cmocka_unit_test_setup(test_lost_admin_key_stops_watching, reset),
	};
	return cmocka_run_group_tests_name("daemon_rotation", tests, setup, teardown);
}
