/*
 * The durable outbox: a sender submits a stream of records through libxxgk's outbox and flushes
 * it, and is killed with SIGKILL mid-stream several times; each new sender opens the same outbox
 * and goes on from what it had submitted. Afterwards the daemon's every cell equals the expected
 * figures and verify passes: nothing submitted was lost, nothing counted twice.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "error.h"
#include "stream.h"

#define RECORDS 6000
#define CHUNK 100

/* The sender: submits entries from first on in chunks, flushing after each, and reports on fd
 * how far its submissions are durable. */
static void sender(const struct stream *s, const char *outbox, const char *endpoint, size_t first,
		   int fd)
{
	struct xxgk_outbox *o;
	if (xxgk_outbox_open(&o, outbox, endpoint))
		_exit(3);
	for (size_t i = first; i < s->n_entries; i += CHUNK) {
		size_t n = s->n_entries - i < CHUNK ? s->n_entries - i : CHUNK;
		if (xxgk_submit(o, s->entries + i, n))
			_exit(4);
		uint64_t done = i + n;
		if (write(fd, &done, sizeof(done)) != sizeof(done))
			_exit(5);
		if (xxgk_flush(o, 60000, NULL, NULL))
			_exit(6);
	}
	xxgk_outbox_close(o);
	_exit(0);
}

static void test_kill_the_sender(void **state)
{
	(void)state;
	uint64_t seed = test_seed(2021);
	struct rng rng = {seed};
	struct city city;
	struct stream s;
	struct daemon d;
	char outbox[600];
	size_t submitted = 0;
	int kills = 0;
	city_make(&city, 8);
	stream_make(&s, &city, RECORDS, 2018, 2021, seed);
	daemon_setup(&d, "outbox", &city, NULL);
	daemon_start(&d);
	snprintf(outbox, sizeof(outbox), "%s/outbox", d.dir);

	for (;;) {
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		if (pid == 0) {
			close(fds[0]);
			sender(&s, outbox, d.ingest, submitted, fds[1]);
		}
		close(fds[1]);
		if (kills < 5) {
			struct timespec t = {0, (long)(20 + rng_below(&rng, 60)) * 1000000L};
			nanosleep(&t, NULL);
			kill(pid, SIGKILL);
		}
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		uint64_t done;
		while (read(fds[0], &done, sizeof(done)) == sizeof(done))
			submitted = (size_t)done;
		close(fds[0]);
		if (WIFSIGNALED(status)) {
			kills++;
			continue;
		}
		if (WEXITSTATUS(status) != 0)
			fail_msg("the sender failed with exit %d", WEXITSTATUS(status));
		break;
	}
	printf("# %d kills of the sender; %zu entries submitted\n", kills, s.n_entries);
	assert_true(kills >= 3);
	assert_int_equal(submitted, s.n_entries);

	/* the outbox is empty, and the daemon has exactly the stream's outcome */
	struct xxgk_outbox *o;
	assert_int_equal(xxgk_outbox_open(&o, outbox, d.ingest), 0);
	assert_int_equal(xxgk_pending(o), 0);
	xxgk_outbox_close(o);
	size_t reports = daemon_check_model(&d, &city, s.model, s.n_records, 2017, 2022);
	printf("# %zu reports equal the model cell for cell\n", reports);
	daemon_check_verify(&d);
	daemon_stop(&d);
	daemon_teardown(&d);
	stream_free(&s);
	city_free(&city);
}

static void count_rejection(void *ctx, const Xxgk__V1__Record *r, int reason, const char *message)
{
	int *rejected = ctx;
	assert_string_equal(r->id, "away-2");
	assert_int_equal(reason, XXGK__V1__RECORD_STATUS__REASON__INVALID);
	assert_non_null(strstr(message, "concluded before received"));
	(*rejected)++;
}

/* The city's applications received in 2020, as the daemon reports them (-1: no such cell). */
static int64_t city_received_2020(struct daemon *d)
{
	return daemon_city_cell(d, 2020, "applications.new_received.total");
}

/* A daemon that is away: submissions wait in the outbox, then go once it is back. */
static void test_daemon_away(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	struct trec t;
	Xxgk__V1__Record *r = &t.r;
	char outbox[600];
	city_make(&city, 2);
	daemon_setup(&d, "outbox-away", &city, NULL);
	snprintf(outbox, sizeof(outbox), "%s/outbox", d.dir);
	struct xxgk_outbox *o;
	assert_int_equal(xxgk_outbox_open(&o, outbox, d.ingest), 0);
	trec_application(&t, "u001", "away-1", 1, 1, "2020-01-02", NULL, 0);
	assert_int_equal(xxgk_submit(o, &r, 1), 0);
	trec_application(&t, "u001", "away-2", 1, 1, "2020-01-03", "2020-01-02", 1);
	assert_int_equal(xxgk_submit(o, &r, 1), 0); /* invalid: the daemon will reject it */
	assert_int_equal(xxgk_flush(o, 300, NULL, NULL), XXGK_ETIMEDOUT);
	assert_int_equal(xxgk_pending(o), 2);
	xxgk_outbox_close(o);

	daemon_start(&d);
	int rejected = 0;
	assert_int_equal(xxgk_outbox_open(&o, outbox, d.ingest), 0);
	assert_int_equal(xxgk_flush(o, 10000, count_rejection, &rejected), 0);
	assert_int_equal(rejected, 1);
	assert_int_equal(xxgk_pending(o), 0);
	xxgk_outbox_close(o);
	assert_int_equal(city_received_2020(&d), 1);
	daemon_stop(&d);
	daemon_teardown(&d);
	city_free(&city);
}

struct flush_result {
	int disconnects;    /* ingest connections ended, the outbox's own closing included */
	int commits;	    /* group commits */
	int commits_of_100; /* of them, of one push of 100 records */
};

/* Counts the lines of the daemon's (debug) log that matter here. */
static struct flush_result read_log(struct daemon *d)
{
	struct flush_result r = {0};
	char line[1024];
	FILE *f = fopen(d->log, "r");
	while (f && fgets(line, sizeof(line), f)) {
		r.disconnects += strstr(line, "ingest: disconnected") != NULL;
		r.commits += strstr(line, "committed ") != NULL;
		r.commits_of_100 += strstr(line, "committed 100 records from 1 pushes") != NULL;
	}
	if (f)
		fclose(f);
	return r;
}

/* Submits n new applications of 2020 to an outbox in chunks, each flushed flush_ms at a time
 * until the outbox is empty, through a daemon with extra settings (log_level debug added):
 * all of them must arrive, as the city's count of received applications shows. */
static struct flush_result flush_through(const char *tag, const char *extra, size_t n, size_t chunk,
					 int flush_ms)
{
	struct city city;
	struct daemon d;
	char outbox[600], id[32], settings[256];
	struct trec *t = calloc(n, sizeof(*t));
	Xxgk__V1__Record **records = calloc(n, sizeof(*records));
	assert_true(t && records);
	city_make(&city, 2);
	snprintf(settings, sizeof(settings), "%s\nlog_level = debug", extra);
	daemon_setup(&d, tag, &city, settings);
	daemon_start(&d);
	snprintf(outbox, sizeof(outbox), "%s/outbox", d.dir);
	struct xxgk_outbox *o;
	assert_int_equal(xxgk_outbox_open(&o, outbox, d.ingest), 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "split-%zu", i);
		trec_application(&t[i], "u001", id, 1, 1, "2020-03-04", NULL, 0);
		records[i] = &t[i].r;
	}
	for (size_t at = 0; at < n; at += chunk) {
		assert_int_equal(xxgk_submit(o, records + at, n - at < chunk ? n - at : chunk), 0);
		int rc = XXGK_ETIMEDOUT;
		for (int i = 0; i < 60 && rc == XXGK_ETIMEDOUT; i++)
			rc = xxgk_flush(o, flush_ms, NULL, NULL);
		assert_int_equal(rc, 0);
		assert_int_equal(xxgk_pending(o), 0);
	}
	xxgk_outbox_close(o);
	assert_int_equal(city_received_2020(&d), (int64_t)n);
	daemon_stop(&d);
	struct flush_result r = read_log(&d);
	daemon_teardown(&d);
	city_free(&city);
	free(records);
	free(t);
	return r;
}

/* A daemon that takes at most 100 records a push refuses the outbox's batch of 500, saying
 * how many it takes: from then on the outbox sends pushes of 100, one per commit here. */
static void test_batch_over_records_max(void **state)
{
	(void)state;
	struct flush_result r =
	    flush_through("outbox-records-max", "batch_records_max = 100", 1000, 1000, 60000);
	assert_int_equal(r.commits_of_100, 10);
	assert_int_equal(r.commits, 10);
}

/* A daemon that drops messages over 16 KiB (and their connection) never answers a batch of
 * 500; it answers an empty push, so the outbox halves the batch and keeps it so in every
 * later flush (of 2 s, after each 500 records submitted): the first batch is the only one
 * dropped (one more connection ends when the outbox closes). */
static void test_batch_over_message_size(void **state)
{
	(void)state;
	struct flush_result r =
	    flush_through("outbox-message-size", "max_message_size = 16384", 3000, 500, 2000);
	printf("# %d ingest connections ended, %d commits\n", r.disconnects, r.commits);
	assert_true(r.disconnects >= 1 && r.disconnects <= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill_the_sender),
	    cmocka_unit_test(test_daemon_away),
	    cmocka_unit_test(test_batch_over_records_max),
	    cmocka_unit_test(test_batch_over_message_size),
	};
	return cmocka_run_group_tests_name("outbox", tests, NULL, NULL);
}
