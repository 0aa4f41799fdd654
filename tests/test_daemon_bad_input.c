/*
 * Bad input on the wire: garbage frames, truncated protobuf, oversized messages, unexpected
 * multipart, requests on the wrong socket, too many records, unknown units, invalid dates,
 * conflicts and bad report queries. Each gets its error (where a reply is possible), and
 * afterwards the daemon still answers and every counter is as it was.
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

struct fixture {
	struct city city;
	struct daemon d;
	void *zmq;
	struct cell_values before;
	uint64_t records_before;
};

static void city_2019(struct daemon *d, struct cell_values *out)
{
	Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
	q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
	q.city = 1;
	daemon_report(d, 2019, &q, out);
}

/* The daemon answers, and nothing changed since setup. */
static void assert_unchanged(struct fixture *fx)
{
	static struct cell_values now;
	city_2019(&fx->d, &now);
	assert_int_equal(now.n, fx->before.n);
	for (size_t i = 0; i < now.n; i++)
		if (now.values[i] != fx->before.values[i])
			fail_msg("%s changed from %lld to %lld", now.keys[i],
				 (long long)fx->before.values[i], (long long)now.values[i]);
	assert_int_equal(daemon_stored_records(&fx->d), fx->records_before);
	daemon_check_verify(&fx->d);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct trec t[3];
	Xxgk__V1__Record *batch[3] = {&t[0].r, &t[1].r, &t[2].r};
	int statuses[3];
	struct xxgk_client *c;
	city_make(&fx->city, 4);
	daemon_setup(&fx->d, "daemon-bad", &fx->city,
		     "max_message_size = 65536\nbatch_records_max = 100\n");
	daemon_start(&fx->d);
	fx->zmq = zmq_ctx_new();
	trec_application(&t[0], "u001", "a-1", 2, 1, "2019-03-01", "2019-03-05", 1);
	trec_case(&t[1], "u002", "c-1", 1, 1, "2019-03-01", NULL, 0);
	trec_tally(&t[2], "u003", "t-1", 1, 3, "2019-06-30", 17);
	assert_int_equal(xxgk_connect(&c, fx->d.ingest), 0);
	assert_int_equal(xxgk_push(c, batch, 3, statuses, NULL, NULL, 10000), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(statuses[i], XXGK__V1__RECORD_STATUS__CODE__APPLIED);
	xxgk_close(c);
	city_2019(&fx->d, &fx->before);
	fx->records_before = daemon_stored_records(&fx->d);
	assert_int_equal(fx->records_before, 3);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	daemon_stop(&fx->d);
	daemon_teardown(&fx->d);
	zmq_ctx_term(fx->zmq);
	city_free(&fx->city);
	free(fx);
	return 0;
}

/*
 * Sends frames on a fresh DEALER and waits up to timeout_ms for one reply; returns it decoded
 * (NULL when none came). The reply's frames before the last must be empty delimiters.
 */
static Xxgk__V1__Reply *raw_call(struct fixture *fx, const char *endpoint, const void **frames,
				 const size_t *sizes, int n, int timeout_ms)
{
	void *s = dealer_connect(fx->zmq, endpoint, 0);
	Xxgk__V1__Reply *reply = NULL;
	for (int i = 0; i < n; i++)
		assert_true(zmq_send(s, frames[i], sizes[i], i + 1 < n ? ZMQ_SNDMORE : 0) >= 0);
	zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
	if (zmq_poll(&item, 1, timeout_ms) == 1) {
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		while (zmq_msg_recv(&msg, s, 0) >= 0 && zmq_msg_more(&msg))
			assert_int_equal(zmq_msg_size(&msg), 0);
		reply = xxgk__v1__reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
		assert_non_null(reply);
		zmq_msg_close(&msg);
	}
	zmq_close(s);
	return reply;
}

static void expect_error(Xxgk__V1__Reply *reply, const char *text)
{
	if (reply == NULL)
		fail_msg("no reply, expected an error saying \"%s\"", text);
	if (reply->body_case != XXGK__V1__REPLY__BODY_ERROR)
		fail_msg("reply %d, expected an error saying \"%s\"", reply->body_case, text);
	if (strstr(reply->error->message, text) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", reply->error->message, text);
	xxgk__v1__reply__free_unpacked(reply, NULL);
}

static size_t pack_request(Xxgk__V1__Request *req, uint8_t **out)
{
	size_t len = xxgk__v1__request__get_packed_size(req);
	*out = malloc(len);
	xxgk__v1__request__pack(req, *out);
	return len;
}

static size_t push_request(Xxgk__V1__Record **records, size_t n, uint8_t **out)
{
	Xxgk__V1__PushBatch batch = XXGK__V1__PUSH_BATCH__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	batch.n_records = n;
	batch.records = records;
	req.body_case = XXGK__V1__REQUEST__BODY_PUSH;
	req.push = &batch;
	return pack_request(&req, out);
}

static void test_garbage_and_truncated(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	uint8_t *buf;
	const char garbage[] = "GET / HTTP/1.1\r\n\r\n\xff\xfe";
	const void *frames[1] = {garbage};
	size_t sizes[1] = {sizeof(garbage)};
	expect_error(raw_call(fx, fx->d.ingest, frames, sizes, 1, 5000), "malformed request");
	expect_error(raw_call(fx, fx->d.admin, frames, sizes, 1, 5000), "malformed request");
	trec_application(&t, "u001", "trunc", 1, 1, "2019-05-01", NULL, 0);
	sizes[0] = push_request(&r, 1, &buf) / 2;
	frames[0] = buf;
	expect_error(raw_call(fx, fx->d.ingest, frames, sizes, 1, 5000), "malformed request");
	free(buf);
	assert_unchanged(fx);
}

static void test_multipart_and_empty(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	uint8_t *buf;
	trec_application(&t, "u001", "multi", 1, 1, "2019-05-01", NULL, 0);
	size_t len = push_request(&r, 1, &buf);
	const void *frames[3] = {buf, buf, buf};
	size_t sizes[3] = {len, len, len};
	expect_error(raw_call(fx, fx->d.ingest, frames, sizes, 3, 5000),
		     "unexpected multipart request");
	/* an empty delimiter, then two payloads, is still multipart */
	sizes[0] = 0;
	expect_error(raw_call(fx, fx->d.ingest, frames, sizes, 3, 5000),
		     "unexpected multipart request");
	/* a lone empty frame is an empty request */
	expect_error(raw_call(fx, fx->d.ingest, frames, sizes, 1, 5000), "push requests only");
	free(buf);
	assert_unchanged(fx);
}

static void test_oversized(void **state)
{
	struct fixture *fx = *state;
	size_t size = 200000;
	uint8_t *big = calloc(1, size);
	const void *frames[1] = {big};
	size_t sizes[1] = {size};
	/* ZeroMQ drops a message past max_message_size with its connection: no reply can come */
	assert_null(raw_call(fx, fx->d.ingest, frames, sizes, 1, 1000));
	free(big);
	assert_unchanged(fx);
}

static void test_wrong_socket(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	uint8_t *buf;
	Xxgk__V1__StatusQuery status = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &status;
	const void *frames[1];
	size_t sizes[1];
	sizes[0] = pack_request(&req, &buf);
	frames[0] = buf;
	expect_error(raw_call(fx, fx->d.ingest, frames, sizes, 1, 5000), "push requests only");
	free(buf);
	trec_application(&t, "u001", "wrong", 1, 1, "2019-05-01", NULL, 0);
	sizes[0] = push_request(&r, 1, &buf);
	frames[0] = buf;
	expect_error(raw_call(fx, fx->d.admin, frames, sizes, 1, 5000),
		     "push records on the ingest socket");
	free(buf);
	assert_unchanged(fx);
}

static void test_too_many_records(void **state)
{
	struct fixture *fx = *state;
	enum { N = 101 };
	struct trec *t = calloc(N, sizeof(*t));
	Xxgk__V1__Record *records[N];
	int statuses[N];
	struct xxgk_client *c;
	for (int i = 0; i < N; i++) {
		char id[16];
		snprintf(id, sizeof(id), "many-%d", i);
		trec_application(&t[i], "u001", id, 1, 1, "2019-05-01", NULL, 0);
		records[i] = &t[i].r;
	}
	assert_int_equal(xxgk_connect(&c, fx->d.ingest), 0);
	assert_int_equal(xxgk_push(c, records, N, statuses, NULL, NULL, 5000), XXGK_E2BIG);
	assert_non_null(strstr(xxgk_last_error(c), "at most 100 in one request"));
	assert_int_equal(xxgk_batch_records_max(c), 100); /* the reply says how many it takes */
	xxgk_close(c);
	free(t);
	assert_unchanged(fx);
}

static void test_rejected_records(void **state)
{
	struct fixture *fx = *state;
	struct trec t[4];
	Xxgk__V1__Record *records[4] = {&t[0].r, &t[1].r, &t[2].r, &t[3].r};
	int statuses[4], reasons[4];
	const char *messages[4];
	struct xxgk_client *c;
	trec_application(&t[0], "nobody", "x", 1, 1, "2019-05-01", NULL, 0);
	trec_application(&t[1], "u001", "x", 1, 1, "2019-02-30", NULL, 0);
	/* a-1 is stored at revision 2 with another conclusion date */
	trec_application(&t[2], "u001", "a-1", 2, 1, "2019-03-01", "2019-03-06", 1);
	trec_case(&t[3], "u002", "c-2", 1, 1, "2019-03-01", "2019-02-01", 1);
	assert_int_equal(xxgk_connect(&c, fx->d.ingest), 0);
	assert_int_equal(xxgk_push(c, records, 4, statuses, reasons, messages, 5000), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(statuses[i], XXGK__V1__RECORD_STATUS__CODE__REJECTED);
	assert_int_equal(reasons[0], XXGK__V1__RECORD_STATUS__REASON__UNKNOWN_UNIT);
	assert_int_equal(reasons[1], XXGK__V1__RECORD_STATUS__REASON__INVALID);
	assert_non_null(strstr(messages[1], "application.received: impossible date"));
	assert_int_equal(reasons[2], XXGK__V1__RECORD_STATUS__REASON__CONFLICT);
	assert_int_equal(reasons[3], XXGK__V1__RECORD_STATUS__REASON__INVALID);
	assert_non_null(strstr(messages[3], "closed before filed"));
	xxgk_close(c);
	assert_unchanged(fx);
}

static void test_bad_report_queries(void **state)
{
	struct fixture *fx = *state;
	struct {
		int has_year, year, scope, kind, template_year;
		const char *unit, *error;
	} cases[] = {
	    {0, 0, XXGK__V1__REPORT_QUERY__SCOPE_CITY, 0, 0, NULL, "a year is required"},
	    {1, 1999, XXGK__V1__REPORT_QUERY__SCOPE_CITY, 0, 0, NULL, "year from 2000 to 2099"},
	    {1, 2019, XXGK__V1__REPORT_QUERY__SCOPE_CITY, 0, 2020, NULL, "template"},
	    {1, 2019, XXGK__V1__REPORT_QUERY__SCOPE_KIND, 7, 0, NULL, "unit kind"},
	    {1, 2019, XXGK__V1__REPORT_QUERY__SCOPE_UNIT, 0, 0, "nobody", "no unit \"nobody\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
		Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
		uint8_t *buf;
		q.has_year = cases[i].has_year;
		q.year = (uint32_t)cases[i].year;
		q.scope_case = cases[i].scope;
		q.city = 1;
		if (cases[i].scope == XXGK__V1__REPORT_QUERY__SCOPE_KIND)
			q.kind = cases[i].kind;
		if (cases[i].scope == XXGK__V1__REPORT_QUERY__SCOPE_UNIT)
			q.unit = (char *)cases[i].unit;
		q.has_template_ = cases[i].template_year != 0;
		q.template_ = cases[i].template_year;
		req.body_case = XXGK__V1__REQUEST__BODY_REPORT;
		req.report = &q;
		const void *frames[1];
		size_t sizes[1] = {pack_request(&req, &buf)};
		frames[0] = buf;
		expect_error(raw_call(fx, fx->d.admin, frames, sizes, 1, 5000), cases[i].error);
		free(buf);
	}
	assert_unchanged(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_garbage_and_truncated),
	    cmocka_unit_test(test_multipart_and_empty),
	    cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_wrong_socket),
	    cmocka_unit_test(test_too_many_records),
	    cmocka_unit_test(test_rejected_records),
	    cmocka_unit_test(test_bad_report_queries),
	};
	return cmocka_run_group_tests_name("daemon_bad_input", tests, setup, teardown);
}
