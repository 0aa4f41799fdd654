/*
 * Strings are what they seem, against a real xxgkd: a NUL byte inside any string field of a
 * record rejects that record (naming the field) and writes nothing, not even the unit before
 * the NUL; C1 and bidi controls in ids and unit ids are refused; and what xxgkd sends back is
 * valid UTF-8, however long or broken the bytes it quotes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "daemon_harness.h"
#include "error.h"
#include "keyfile.h"

static struct city city;
static struct daemon d;

static int setup(void **state)
{
	(void)state;
	city_make(&city, 4);
	daemon_setup(&d, "strings", &city, NULL);
	daemon_start(&d);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
	return 0;
}

/* Sends len bytes as one request on the ingest socket and returns the decoded reply. */
static Xxgk__V1__Reply *raw_call(const char *endpoint, const uint8_t *buf, size_t len)
{
	return raw_request(endpoint, buf, len, 10000);
}

static Xxgk__V1__Reply *raw_push(const uint8_t *buf, size_t len)
{
	return raw_call(d.ingest, buf, len);
}

static void expect_status(const Xxgk__V1__RecordStatus *st, int code, int reason,
			  const char *message)
{
	if ((int)st->code != code || (int)st->reason != reason ||
	    (message && (st->message == NULL || strstr(st->message, message) == NULL)))
		fail_msg("want code %d reason %d \"%s\", got code %d reason %d \"%s\"", code,
			 reason, message ? message : "", st->code, st->reason,
			 st->message ? st->message : "");
}

static void test_nul_inside_strings(void **state)
{
	struct trec t[6];
	Xxgk__V1__Record *records[6];
	(void)state;
	uint64_t before = daemon_stored_records(&d);
	/* '#' marks where the NUL goes once packed: protobuf-c packs C strings up to their end */
	trec_tally(&t[0], "u001", "A#B", 1, 3, "2022-06-30", 1);
	trec_tally(&t[1], "u001#u002", "n-1", 1, 3, "2022-06-30", 1);
	trec_document(&t[2], "u001", "d-1", 1, 2, "2022-01-05", NULL, NULL);
	t[2].body.doc.title = "T#itle";
	trec_tally(&t[3], "u001", "t-1", 1, 3, "2022-06-30#", 1);
	trec_tally(&t[4], "u003", "ok-1", 1, 3, "2022-06-30", 1);
	trec_tally(&t[5], "u002#", "n-2", 1, 3, "2022-06-30", 1);
	for (int i = 0; i < 6; i++)
		records[i] = &t[i].r;
	Xxgk__V1__PushBatch batch = XXGK__V1__PUSH_BATCH__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	batch.n_records = 6;
	batch.records = records;
	req.body_case = XXGK__V1__REQUEST__BODY_PUSH;
	req.push = &batch;
	req.has_request_id = 1;
	req.request_id = 42;
	size_t len = xxgk__v1__request__get_packed_size(&req);
	uint8_t *buf = malloc(len);
	xxgk__v1__request__pack(&req, buf);
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '#')
			buf[i] = 0;
	Xxgk__V1__Reply *reply = raw_push(buf, len);
	free(buf);
	assert_int_equal(reply->request_id, 42);
	assert_int_equal(reply->body_case, XXGK__V1__REPLY__BODY_PUSH);
	assert_int_equal(reply->push->n_statuses, 6);
	Xxgk__V1__RecordStatus **st = reply->push->statuses;
	const int rejected = XXGK__V1__RECORD_STATUS__CODE__REJECTED,
		  invalid = XXGK__V1__RECORD_STATUS__REASON__INVALID;
	expect_status(st[0], rejected, invalid, "id: contains a NUL byte");
	expect_status(st[1], rejected, invalid, "unit: contains a NUL byte");
	expect_status(st[2], rejected, invalid, "document.title: contains a NUL byte");
	expect_status(st[3], rejected, invalid, "tally.date: contains a NUL byte");
	expect_status(st[4], XXGK__V1__RECORD_STATUS__CODE__APPLIED, 0, NULL);
	expect_status(st[5], rejected, invalid, "unit: contains a NUL byte");
	printf("a push with NULs inside id, unit, document.title, tally.date: \"%s\", \"%s\", "
	       "\"%s\", \"%s\"; the clean record applied\n",
	       st[0]->message, st[1]->message, st[2]->message, st[3]->message);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	/* only the clean record was stored: nothing as "A", nothing for u001 or u002 */
	assert_int_equal(daemon_stored_records(&d), before + 1);
	struct trec a;
	Xxgk__V1__Record *r = &a.r;
	int status;
	struct xxgk_client *c;
	trec_tally(&a, "u001", "A", 1, 3, "2022-06-30", 7);
	assert_int_equal(xxgk_connect(&c, d.ingest), 0);
	assert_int_equal(xxgk_push(c, &r, 1, &status, NULL, NULL, 10000), 0);
	assert_int_equal(status, XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	xxgk_close(c);
	daemon_check_verify(&d);
}

static void test_invisible_controls(void **state)
{
	static const struct {
		const char *unit, *id, *message;
	} bad[] = {
	    {"u001",
	     "a\xc2\x85"
	     "b",
	     "id: contains a control character (U+0085)"},
	    {"u001",
	     "a\xc2\x9b"
	     "b",
	     "id: contains a control character (U+009B)"},
	    {"u001",
	     "invoice-\xe2\x80\xae"
	     "fdp.exe",
	     "id: contains a bidirectional control character (U+202E)"},
	    {"u001",
	     "a\xe2\x81\xa6"
	     "b",
	     "id: contains a bidirectional control character (U+2066)"},
	    {"u001\xe2\x80\x8f", "x", "unit: contains a bidirectional control character (U+200F)"},
	    {"\xc2\x85u001", "x", "unit: contains a control character (U+0085)"},
	};
	struct trec t[6];
	Xxgk__V1__Record *records[6];
	int statuses[6], reasons[6];
	const char *messages[6];
	struct xxgk_client *c;
	(void)state;
	uint64_t before = daemon_stored_records(&d);
	for (int i = 0; i < 6; i++) {
		trec_tally(&t[i], bad[i].unit, bad[i].id, 1, 3, "2022-06-30", 1);
		records[i] = &t[i].r;
	}
	assert_int_equal(xxgk_connect(&c, d.ingest), 0);
	assert_int_equal(xxgk_push(c, records, 6, statuses, reasons, messages, 10000), 0);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(statuses[i], XXGK__V1__RECORD_STATUS__CODE__REJECTED);
		assert_int_equal(reasons[i], XXGK__V1__RECORD_STATUS__REASON__INVALID);
		if (strstr(messages[i], bad[i].message) == NULL)
			fail_msg("record %d: \"%s\" does not say \"%s\"", i, messages[i],
				 bad[i].message);
	}
	printf("C1 and bidi controls: \"%s\", \"%s\"\n", messages[0], messages[2]);
	xxgk_close(c);
	assert_int_equal(daemon_stored_records(&d), before);
}

static void test_report_error_is_utf8(void **state)
{
	Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	(void)state;
	q.has_year = 1;
	q.year = 2022;
	q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_UNIT;
	q.unit = "\xff\xfe"
		 "dept-\xe4\xb8";
	req.body_case = XXGK__V1__REQUEST__BODY_REPORT;
	req.report = &q;
	Xxgk__V1__Reply *reply = daemon_admin_call(&d, &req, XXGK__V1__REPLY__BODY_ERROR);
	const char *m = reply->error->message;
	printf("a report of a unit of invalid bytes: \"%s\"\n", m);
	assert_non_null(strstr(m, "dept-"));
	assert_true(utf8_valid(m, strlen(m)));
	xxgk__v1__reply__free_unpacked(reply, NULL);
}

/* A query's string with a NUL inside (which decoding would cut) is refused, naming the field:
 * a backup into "/tmp/x" of "/tmp/x\0y" would write where it was not asked to. */
static void test_nul_inside_a_query(void **state)
{
	/* Request { backup (6) = BackupQuery { dir (1) = "/tmp/x\0y" }, request_id (15) = 7 } */
	static const uint8_t buf[] = {0x32, 10,	 0x0a, 8, '/', 't',  'm',
				      'p',  '/', 'x',  0, 'y', 0x78, 7};
	(void)state;
	Xxgk__V1__Reply *reply = raw_call(d.admin, buf, sizeof(buf));
	assert_int_equal(reply->body_case, XXGK__V1__REPLY__BODY_ERROR);
	printf("a backup into \"/tmp/x\\0y\": \"%s\"\n", reply->error->message);
	assert_non_null(strstr(reply->error->message, "backup.dir: contains a NUL byte"));
	assert_int_equal(reply->request_id, 7);
	xxgk__v1__reply__free_unpacked(reply, NULL);
}

/* With keys: a FORBIDDEN message quoting a long CJK unit cuts it between characters. */
static void test_forbidden_message_is_utf8(void **state)
{
	struct daemon sd;
	struct city none = {0};
	struct keypair server, dept;
	(void)state;
	daemon_setup(&sd, "strings-keys", &none, NULL);
	daemon_use_tcp(&sd);
	daemon_make_key(&sd, "server", &server);
	daemon_make_key(&sd, "dept", &dept);
	FILE *f = fopen(sd.config, "w");
	assert_non_null(f);
	fprintf(f,
		"[xxgkd]\nstate_dir = %s\ningest = %s\nadmin = %s\npublish = %s\n"
		"secret_key = %s/server.secret\n"
		"[unit u001]\nname = 一\nkind = department\n"
		"[client dept]\nkey_file = %s/dept.key\nunits = u001\n",
		sd.state, sd.ingest, sd.admin, sd.publish, sd.dir, sd.dir);
	fclose(f);
	sd.ready_by_log = 1;
	daemon_start(&sd);

	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	struct xxgk_client *c;
	struct xxgk_keys keys = {server.public_key, dept.public_key, dept.secret_key};
	int status, reason;
	const char *message;
	trec_tally(&t, "u001", "f-1", 1, 3, "2022-06-30", 1);
	t.r.unit = "瑞安市人民政府办公室信息公开工作领导小组"; /* 20 characters, 60 bytes */
	assert_int_equal(xxgk_connect_keys(&c, sd.ingest, &keys), 0);
	assert_int_equal(xxgk_push(c, &r, 1, &status, &reason, &message, 10000), 0);
	printf("FORBIDDEN with a long CJK unit: \"%s\"\n", message);
	assert_int_equal(status, XXGK__V1__RECORD_STATUS__CODE__REJECTED);
	assert_int_equal(reason, XXGK__V1__RECORD_STATUS__REASON__FORBIDDEN);
	assert_non_null(strstr(message, "may not write unit \"瑞安市人民政府"));
	assert_true(utf8_valid(message, strlen(message)));
	xxgk_close(c);
	daemon_stop(&sd);
	daemon_teardown(&sd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nul_inside_strings),
	    cmocka_unit_test(test_invisible_controls),
	    cmocka_unit_test(test_report_error_is_utf8),
	    cmocka_unit_test(test_nul_inside_a_query),
	    cmocka_unit_test(test_forbidden_message_is_utf8),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
