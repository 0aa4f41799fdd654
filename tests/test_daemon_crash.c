/*
 * kill -9 at any moment: while publishers push, the daemon is killed with SIGKILL and restarted
 * several times; each publisher sends again whatever was not acknowledged. Afterwards every
 * cell equals the expected figures, verify passes, and every record is stored at its latest
 * revision: nothing acknowledged was lost, nothing counted twice.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_harness.h"
#include "stream.h"

#define RECORDS 15000
#define UNITS 12
#define PUBLISHERS 4
#define KILLS 4

struct latest_check {
	const struct stream *s;
	size_t seen, wrong;
};

static int check_record(void *ctx, const char *unit, const Xxgk__V1__Record *r)
{
	struct latest_check *c = ctx;
	uint8_t a[RECORD_PACKED_MAX], b[RECORD_PACKED_MAX];
	size_t len = strlen(r->id), j;
	(void)unit;
	c->seen++;
	if (len < 6 || sscanf(r->id + len - 6, "%6zu", &j) != 1 || j >= c->s->n_records) {
		c->wrong++;
		return 0;
	}
	size_t la = record_pack_canonical(r, a, sizeof(a));
	size_t lb = record_pack_canonical(c->s->latest[j], b, sizeof(b));
	if (la != lb || memcmp(a, b, la) != 0)
		c->wrong++;
	return 0;
}

static void test_kill_while_pushing(void **state)
{
	(void)state;
	uint64_t seed = test_seed(49);
	struct rng rng = {seed};
	struct city city;
	struct stream s;
	struct daemon d;
	struct publish_counts counts;
	city_make(&city, UNITS);
	stream_make(&s, &city, RECORDS, 2017, 2023, seed);
	daemon_setup(&d, "daemon-crash", &city, NULL);
	daemon_start(&d);

	struct publishers *p =
	    publishers_start(d.ingest, s.entries, s.n_entries, PUBLISHERS, 1, 300, seed);
	for (int k = 0; k < KILLS; k++) {
		struct timespec delay = {0, (long)(20 + rng_below(&rng, 60)) * 1000000L};
		nanosleep(&delay, NULL);
		daemon_kill(&d);
		daemon_start(&d);
	}
	publishers_join(p, &counts);
	printf("# %d kills; %zu records in %zu batches, %zu sent again: %zu applied, %zu "
	       "duplicate, %zu stale\n",
	       KILLS, s.n_entries, counts.batches, counts.resends, counts.applied, counts.duplicate,
	       counts.stale);
	assert_int_equal(counts.failures, 0);
	assert_int_equal(counts.rejected, 0);
	/* the kills came while the publishers were still pushing */
	assert_true(counts.resends > 0);

	size_t reports = daemon_check_model(&d, &city, s.model, s.n_records, 2016, 2024);
	printf("# %zu reports equal the model cell for cell\n", reports);
	daemon_check_verify(&d);
	daemon_stop(&d);

	/* record by record: each is stored at its latest revision */
	struct store *st;
	struct latest_check c = {&s, 0, 0};
	assert_int_equal(store_open(&st, d.state, NULL), 0);
	assert_int_equal(store_foreach_record(st, check_record, &c), 0);
	store_close(st);
	assert_int_equal(c.seen, s.n_records);
	assert_int_equal(c.wrong, 0);

	daemon_teardown(&d);
	stream_free(&s);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill_while_pushing),
	};
	return cmocka_run_group_tests_name("daemon_crash", tests, NULL, NULL);
}
