/*
 * A backfill in random order through a real xxgkd (issue 15): eight peers keep four pushes of
 * 1,000 records each in flight, so a loop pass could take 32,000 records into one write
 * transaction; commit_pages_max (500 here) bounds the LMDB pages a commit dirties, which LMDB
 * keeps in anonymous memory, so commits take about 2,500 such records. Every record is applied,
 * each push's statuses come back in the order of its records (a record and its later revision
 * in one push: both applied), commits average at most 6,000 records (13,000 without the bound)
 * and xxgkd's RssAnon stays under 28 MB (36-44 MB without). $XXGK_COMMIT_BOUND_EXTRA adds
 * [xxgkd] lines (e.g. "commit_pages_max = 1000000", the daemon before the bound).
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
#include "error.h"

#define PEERS 8
#define WINDOW 4
#define PUSH 1000
#define PUSHES 25	    /* per peer: 200,000 records in all */
#define PAGES_MAX 500	    /* commit_pages_max in this test */
#define PER_COMMIT_MAX 6000 /* records a commit, on average */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1 /* shadow memory and redzones: RssAnon says nothing about LMDB's pages */
#else
#define SANITIZED 0
#endif
#define RSS_ANON_MAX_KB (28 * 1024)

static long rss_anon_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "RssAnon:", 8) == 0)
			kb = strtol(line + 8, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Push b of peer p: PUSH tallies with ids that begin with a random date (bench/'s backfill);
 * the last record repeats the first's key with revision 2, after it in the push. */
static uint8_t *backfill_push(const struct city *c, int p, int b, size_t *len)
{
	static struct trec t[PUSH];
	Xxgk__V1__Record *records[PUSH];
	for (int i = 0; i < PUSH; i++) {
		uint64_t h = mix((uint64_t)p << 40 | (uint64_t)b << 20 | (uint64_t)i);
		uint64_t key = i == PUSH - 1 ? mix((uint64_t)p << 40 | (uint64_t)b << 20) : h;
		char id[64], date[16];
		snprintf(date, sizeof(date), "2021-%02d-%02d", 1 + (int)(key % 12),
			 1 + (int)(key / 12 % 28));
		snprintf(id, sizeof(id), "XK-%s-%d-%d-%d", date, p, b, i == PUSH - 1 ? 0 : i);
		trec_tally(&t[i], c->ids[key % c->n], id, i == PUSH - 1 ? 2 : 1, 1 + (int)(h % 7),
			   date, (int64_t)(h % 1000));
		records[i] = &t[i].r;
	}
	Xxgk__V1__PushBatch push = XXGK__V1__PUSH_BATCH__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	push.n_records = PUSH;
	push.records = records;
	req.has_request_id = 1;
	req.request_id = (uint64_t)b + 1;
	req.body_case = XXGK__V1__REQUEST__BODY_PUSH;
	req.push = &push;
	*len = xxgk__v1__request__get_packed_size(&req);
	uint8_t *buf = malloc(*len);
	assert_non_null(buf);
	xxgk__v1__request__pack(&req, buf);
	return buf;
}

static uint64_t commits(struct daemon *d)
{
	Xxgk__V1__Reply *reply = daemon_status(d);
	uint64_t n = reply->status->commits;
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return n;
}

static void test_random_backfill_commits_are_bounded(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	city_make(&city, 12);
	char extra[256];
	snprintf(extra, sizeof(extra), "commit_pages_max = %d\n%s", PAGES_MAX,
		 getenv("XXGK_COMMIT_BOUND_EXTRA") ? getenv("XXGK_COMMIT_BOUND_EXTRA") : "");
	daemon_setup(&d, "daemon-commit-bound", &city, extra);
	daemon_start(&d);
	uint64_t commits0 = commits(&d);
	void *zmq = zmq_ctx_new();
	void *peers[PEERS];
	int sent[PEERS] = {0}, answered[PEERS] = {0}, bad = 0;
	size_t applied = 0;
	for (int p = 0; p < PEERS; p++)
		peers[p] = dealer_connect(zmq, d.ingest, 0);
	/* every peer's window first, so that the daemon finds far more than a commit queued */
	for (int p = 0; p < PEERS; p++)
		for (; sent[p] < WINDOW; sent[p]++) {
			size_t len;
			uint8_t *buf = backfill_push(&city, p, sent[p], &len);
			assert_true(zmq_send(peers[p], buf, len, 0) >= 0);
			free(buf);
		}
	long peak = 0;
	int done = 0;
	while (done < PEERS * PUSHES) {
		zmq_pollitem_t items[PEERS];
		for (int p = 0; p < PEERS; p++)
			items[p] = (zmq_pollitem_t){peers[p], 0, ZMQ_POLLIN, 0};
		int ready = zmq_poll(items, PEERS, 60000);
		assert_true(ready > 0); /* an answer within a minute */
		for (int p = 0; p < PEERS; p++) {
			if (!(items[p].revents & ZMQ_POLLIN))
				continue;
			zmq_msg_t msg;
			zmq_msg_init(&msg);
			assert_true(zmq_msg_recv(&msg, peers[p], 0) >= 0);
			Xxgk__V1__Reply *r =
			    xxgk__v1__reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
			zmq_msg_close(&msg);
			assert_non_null(r);
			assert_int_equal(r->body_case, XXGK__V1__REPLY__BODY_PUSH);
			assert_int_equal(r->push->n_statuses, PUSH);
			/* in the push's order: the first record applied at revision 1, then
			 * replaced by the last at revision 2, whatever order they were applied in
			 */
			for (size_t i = 0; i < PUSH; i++)
				if (r->push->statuses[i]->code !=
				    XXGK__V1__RECORD_STATUS__CODE__APPLIED) {
					if (!bad++)
						print_message(
						    "push %d of peer %d, record %zu: %d %s\n",
						    (int)r->request_id, p, i,
						    (int)r->push->statuses[i]->code,
						    r->push->statuses[i]->message);
				} else {
					applied++;
				}
			xxgk__v1__reply__free_unpacked(r, NULL);
			answered[p]++, done++;
			if (sent[p] < PUSHES) {
				size_t len;
				uint8_t *buf = backfill_push(&city, p, sent[p]++, &len);
				assert_true(zmq_send(peers[p], buf, len, 0) >= 0);
				free(buf);
			}
		}
		long kb = rss_anon_kb(d.pid);
		if (kb > peak)
			peak = kb;
	}
	uint64_t n_commits = commits(&d) - commits0;
	double per_commit = (double)applied / (double)n_commits;
	print_message("%zu records applied in %llu commits (%.0f a commit, at most %d); "
		      "xxgkd's peak RssAnon %ld MB (at most %d%s)\n",
		      applied, (unsigned long long)n_commits, per_commit, PER_COMMIT_MAX,
		      peak / 1024, RSS_ANON_MAX_KB / 1024,
		      SANITIZED ? ", not checked under ASan" : "");
	assert_int_equal(bad, 0);
	assert_int_equal(applied, (size_t)PEERS * PUSHES * PUSH);
	/* the records of a key (the first's and the last's of a push) were applied in order */
	assert_int_equal(daemon_stored_records(&d), (uint64_t)PEERS * PUSHES * (PUSH - 1));
	assert_true(per_commit <= PER_COMMIT_MAX);
	if (!SANITIZED)
		assert_true(peak > 0 && peak < RSS_ANON_MAX_KB);
	for (int p = 0; p < PEERS; p++)
		zmq_close(peers[p]);
	zmq_ctx_term(zmq);
	daemon_check_verify(&d);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
}

/*
 * A map that fills while an open application's answer period is indexed grows as when a record
 * fills it: in a store of 1 MiB, open applications (each indexed before it is stored) in pushes
 * of 1,000 are all applied while the map doubles to 32 MiB. Before, LMDB's MDB_MAP_FULL from the
 * index was taken for an xxgk code: "not stored: unknown error", and the map stayed full.
 */
static void test_map_grows_under_the_deadlines_index(void **state)
{
	(void)state;
	enum { PUSHES_OPEN = 60 };
	static struct trec t[PUSH];
	Xxgk__V1__Record *records[PUSH];
	struct city city;
	struct daemon d;
	struct xxgk_client *c;
	city_make(&city, 4);
	daemon_setup(&d, "daemon-map-deadlines", &city, "map_size = 1048576\n");
	daemon_start(&d);
	assert_int_equal(xxgk_connect(&c, d.ingest), 0);
	int statuses[PUSH], failed = 0;
	for (int b = 0; b < PUSHES_OPEN && !failed; b++) {
		for (int i = 0; i < PUSH; i++) {
			char id[64], date[16];
			snprintf(id, sizeof(id), "瑞政依申〔2022〕%d号", b * PUSH + i);
			snprintf(date, sizeof(date), "2022-%02d-%02d", 1 + i % 12, 1 + i % 28);
			trec_application(&t[i], city.ids[i % city.n], id, 1, 1, date, NULL, 0);
			records[i] = &t[i].r;
		}
		int rc = xxgk_push(c, records, PUSH, statuses, NULL, NULL, 60000);
		if (rc) {
			print_message("push %d: %s: %s\n", b, xxgk_strerror(rc),
				      xxgk_last_error(c));
			failed = 1;
		}
		for (int i = 0; rc == 0 && i < PUSH; i++)
			if (statuses[i] != XXGK__V1__RECORD_STATUS__CODE__APPLIED)
				failed = 1;
	}
	Xxgk__V1__Reply *reply = daemon_status(&d);
	print_message("%llu open applications stored; map %llu MiB\n",
		      (unsigned long long)reply->status->records,
		      (unsigned long long)(reply->status->map_size >> 20));
	assert_int_equal(failed, 0);
	assert_int_equal(reply->status->records, (uint64_t)PUSHES_OPEN * PUSH);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	xxgk_close(c);
	daemon_check_verify(&d);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
}

/* Replaces the first `from` in path's text by `to`. */
static void replace_in_file(const char *path, const char *from, const char *to)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char text[1 << 16];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	char *at = strstr(text, from);
	assert_non_null(at);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(text, 1, (size_t)(at - text), f);
	fputs(to, f);
	fputs(at + strlen(from), f);
	fclose(f);
}

/*
 * A calendar change recomputes every due date in one transaction, which needs room beside the
 * old index: on a store reopened with a small map (LMDB maps just what is used), the map grows
 * for it as for records. Before, LMDB's MDB_MAP_FULL from the rebuild was taken for an xxgk code
 * and xxgkd refused to start.
 */
static void test_map_grows_for_a_calendar_rebuild(void **state)
{
	(void)state;
	enum { PUSHES_OPEN = 20 };
	static struct trec t[PUSH];
	Xxgk__V1__Record *records[PUSH];
	struct city city;
	struct daemon d;
	struct xxgk_client *c;
	char extra[1200], line[1200], year[600];
	city_make(&city, 4);
	snprintf(extra, sizeof(extra), "map_size = 1048576\nholidays = %s/data/holidays.conf\n",
		 XXGK_SOURCE_DIR);
	daemon_setup(&d, "daemon-map-calendar", &city, extra);
	daemon_start(&d);
	assert_int_equal(xxgk_connect(&c, d.ingest), 0);
	int statuses[PUSH];
	for (int b = 0; b < PUSHES_OPEN; b++) {
		for (int i = 0; i < PUSH; i++) {
			char id[64], date[16];
			snprintf(id, sizeof(id), "瑞政依申〔2022〕%d号", b * PUSH + i);
			snprintf(date, sizeof(date), "2022-%02d-%02d", 1 + i % 12, 1 + i % 28);
			trec_application(&t[i], city.ids[i % city.n], id, 1, 1, date, NULL, 0);
			records[i] = &t[i].r;
		}
		assert_int_equal(xxgk_push(c, records, PUSH, statuses, NULL, NULL, 60000), 0);
	}
	xxgk_close(c);
	daemon_stop(&d);
	/* 2022 replaced whole by a year with one day off: every due date of 2022 moves */
	snprintf(year, sizeof(year), "%s/2022.conf", d.dir);
	FILE *f = fopen(year, "w");
	assert_non_null(f);
	fputs("[2022]\nnotice = a test's year\noff = 2022-06-01 test\n", f);
	fclose(f);
	snprintf(line, sizeof(line), "holidays = %s/data/holidays.conf\nholidays_extra = %s\n",
		 XXGK_SOURCE_DIR, year);
	snprintf(extra, sizeof(extra), "holidays = %s/data/holidays.conf\n", XXGK_SOURCE_DIR);
	replace_in_file(d.config, extra, line);
	daemon_start(&d);
	Xxgk__V1__Reply *reply = daemon_status(&d);
	print_message("%llu open applications indexed again on the new calendar; map %llu MiB\n",
		      (unsigned long long)reply->status->records,
		      (unsigned long long)(reply->status->map_size >> 20));
	assert_int_equal(reply->status->records, (uint64_t)PUSHES_OPEN * PUSH);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	daemon_check_verify(&d);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_backfill_commits_are_bounded),
	    cmocka_unit_test(test_map_grows_under_the_deadlines_index),
	    cmocka_unit_test(test_map_grows_for_a_calendar_rebuild),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
