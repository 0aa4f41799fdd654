/*
 * A real xxgkd, fed by several concurrent publishers with at least 50,000 records (duplicates,
 * revisions out of order, deletions): every cell of every report (each year, both templates,
 * the city, each unit kind and each unit) equals the figures the test computes on its own, and
 * verify finds nothing. SIGTERM stops it with exit 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "daemon_harness.h"
#include "stream.h"

#define RECORDS 15000
#define UNITS 16
#define PUBLISHERS 4

static void test_concurrent_publishers(void **state)
{
	(void)state;
	uint64_t seed = test_seed(2019);
	struct city city;
	struct stream s;
	struct daemon d;
	struct publish_counts counts;
	city_make(&city, UNITS);
	stream_make(&s, &city, RECORDS, 2017, 2023, seed);
	assert_true(s.n_entries >= 50000);
	daemon_setup(&d, "daemon-ingest", &city, NULL);
	daemon_start(&d);

	struct publishers *p =
	    publishers_start(d.ingest, s.entries, s.n_entries, PUBLISHERS, 0, 30000, seed);
	publishers_join(p, &counts);
	printf("# %zu records in %zu batches from %d publishers: %zu applied, %zu duplicate, %zu "
	       "stale, %zu rejected, %zu failed batches\n",
	       s.n_entries, counts.batches, PUBLISHERS, counts.applied, counts.duplicate,
	       counts.stale, counts.rejected, counts.failures);
	if (counts.failures)
		daemon_print_log(&d);
	assert_int_equal(counts.failures, 0);
	assert_int_equal(counts.rejected, 0);
	assert_int_equal(counts.applied + counts.duplicate + counts.stale, s.n_entries);
	assert_true(counts.applied >= RECORDS);

	size_t reports = daemon_check_model(&d, &city, s.model, s.n_records, 2016, 2024);
	printf("# %zu reports equal the model cell for cell\n", reports);
	daemon_check_verify(&d);
	daemon_stop(&d);
	daemon_teardown(&d);
	stream_free(&s);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_concurrent_publishers),
	};
	return cmocka_run_group_tests_name("daemon_ingest", tests, NULL, NULL);
}
