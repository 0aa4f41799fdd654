/*
 * xxgkctl backup: a hot, compacted copy taken while publishers push. The copy opens as a store,
 * verifies (its counters are exactly its records': a committed state), holds no more than the
 * daemon at the end, and a second backup into the same directory is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_harness.h"
#include "stream.h"

/* The final store's revision of each record, by the stream's record number. */
struct revisions {
	uint64_t *of;
	size_t n, seen, ahead;
};

static size_t record_number(const char *id)
{
	size_t len = strlen(id), j = 0;
	if (len >= 6)
		sscanf(id + len - 6, "%6zu", &j);
	return j;
}

static int note_final(void *ctx, const char *unit, const Xxgk__V1__Record *r)
{
	struct revisions *rv = ctx;
	(void)unit;
	size_t j = record_number(r->id);
	if (j < rv->n)
		rv->of[j] = r->revision;
	return 0;
}

/* A backup record must be in the final store at the same or a later revision. */
static int check_backup(void *ctx, const char *unit, const Xxgk__V1__Record *r)
{
	struct revisions *rv = ctx;
	(void)unit;
	size_t j = record_number(r->id);
	rv->seen++;
	if (j >= rv->n || rv->of[j] == 0 || rv->of[j] < r->revision)
		rv->ahead++;
	return 0;
}

static void test_backup_during_ingest(void **state)
{
	(void)state;
	struct city city;
	struct stream s;
	struct daemon d;
	struct publish_counts counts;
	char dir[600], *out, *err;
	city_make(&city, 6);
	stream_make(&s, &city, 12000, 2018, 2022, 7);
	daemon_setup(&d, "backup", &city, NULL);
	daemon_start(&d);
	snprintf(dir, sizeof(dir), "%s/backup-1", d.dir);
	struct publishers *p = publishers_start(d.ingest, s.entries, s.n_entries, 3, 0, 30000, 7);
	struct timespec t = {0, 150000000};
	nanosleep(&t, NULL);
	const char *argv[] = {XXGKCTL_PATH, "--admin", d.admin, "backup", dir, NULL};
	int rc = run_program(argv, &out, &err);
	if (rc != 0)
		fail_msg("backup exited %d: %s", rc, err);
	printf("# %s", out);
	free(out);
	free(err);
	publishers_join(p, &counts);
	assert_int_equal(counts.failures, 0);

	struct store *st;
	struct store_stats stats;
	size_t differences = 1;
	assert_int_equal(store_open(&st, dir, NULL), 0);
	assert_int_equal(store_verify(st, NULL, NULL, &differences), 0);
	assert_int_equal(differences, 0);
	assert_int_equal(store_stats(st, &stats), 0);
	store_close(st);
	printf("# the backup holds %llu of %zu records\n", (unsigned long long)stats.records,
	       s.n_records);
	assert_true(stats.records <= s.n_records);
	/* nothing in it that the daemon did not commit: every record is in the final store at
	 * the same or a later revision */
	struct revisions rv = {calloc(s.n_records, sizeof(uint64_t)), s.n_records, 0, 0};
	struct store *final;
	daemon_stop(&d);
	assert_int_equal(store_open(&final, d.state, NULL), 0);
	assert_int_equal(store_foreach_record(final, note_final, &rv), 0);
	store_close(final);
	assert_int_equal(store_open(&st, dir, NULL), 0);
	assert_int_equal(store_foreach_record(st, check_backup, &rv), 0);
	store_close(st);
	assert_int_equal(rv.seen, stats.records);
	assert_int_equal(rv.ahead, 0);
	free(rv.of);
	daemon_start(&d);

	/* never over an existing store */
	rc = run_program(argv, &out, &err);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "holds a store already"));
	free(out);
	free(err);
	daemon_check_verify(&d);
	daemon_stop(&d);
	daemon_teardown(&d);
	stream_free(&s);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backup_during_ingest),
	};
	return cmocka_run_group_tests_name("daemon_backup", tests, NULL, NULL);
}
