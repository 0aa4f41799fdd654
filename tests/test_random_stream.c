/*
 * A stream of random records (every kind, every unit kind, years 2017-2023, revisions 1-5, 20%
 * duplicates, tombstones, shuffled) applied in random batch sizes:
 *  - idempotence: its counters equal those of applying only each record's latest revision
 *    once, and verify's recomputation;
 *  - identities: every report (each unit, unit kind and the city, each year, both templates)
 *    satisfies the report's identities, equals the independent model, and the city and each
 *    kind are the sums of their units;
 *  - silent units: every scope's 本年度未报送数据的单位 are exactly the units the model finds
 *    without a live submission (报送) of the year, and the submitted counters count the others.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "stream.h"
#include "testutil.h"

#define RECORDS 32000
#define UNITS 24
#define YEAR_FROM 2017
#define YEAR_TO 2023

struct fixture {
	struct city city;
	char *dir_stream, *dir_latest;
	struct store *stream; /* fed the whole shuffled stream */
	struct store *latest; /* fed each record's latest revision once */
	struct stream s;
	size_t stream_len, applied, duplicate, stale, rejected;
};

/* Applies records in batches of random size, tallying the statuses. */
static void apply_in_batches(struct fixture *fx, struct store *st, Xxgk__V1__Record **records,
			     size_t n, struct rng *rng)
{
	struct store_status *statuses = calloc(2000, sizeof(*statuses));
	assert_non_null(statuses);
	for (size_t i = 0; i < n;) {
		size_t batch = 1 + rng_below(rng, 2000);
		if (batch > n - i)
			batch = n - i;
		test_apply(st, records + i, batch, statuses);
		for (size_t j = 0; j < batch; j++) {
			switch (statuses[j].code) {
			case XXGK__V1__RECORD_STATUS__CODE__APPLIED:
				fx->applied++;
				break;
			case XXGK__V1__RECORD_STATUS__CODE__DUPLICATE:
				fx->duplicate++;
				break;
			case XXGK__V1__RECORD_STATUS__CODE__STALE:
				fx->stale++;
				break;
			default:
				fx->rejected++;
				print_error("rejected %s: %s\n", records[i + j]->id,
					    statuses[j].message);
			}
		}
		i += batch;
	}
	free(statuses);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	uint64_t seed = test_seed(20191231);
	struct rng rng = {seed ^ 1};

	city_make(&fx->city, UNITS);
	stream_make_with_submissions(&fx->s, &fx->city, RECORDS, YEAR_FROM, YEAR_TO, seed);
	fx->stream_len = fx->s.n_entries;
	fx->dir_stream = tmpdir_make("stream");
	fx->stream = test_store_open(fx->dir_stream, &fx->city);
	apply_in_batches(fx, fx->stream, fx->s.entries, fx->stream_len, &rng);

	/* each record's latest revision, once */
	struct fixture counts = {0};
	fx->dir_latest = tmpdir_make("latest");
	fx->latest = test_store_open(fx->dir_latest, &fx->city);
	apply_in_batches(&counts, fx->latest, fx->s.latest, fx->s.n_records, &rng);
	assert_int_equal(counts.applied, fx->s.n_records);

	printf("# %zu records (%zu of them submissions) in a stream of %zu: %zu applied, %zu "
	       "duplicate, %zu stale, %zu rejected\n",
	       fx->s.n_records, fx->s.n_records - RECORDS, fx->stream_len, fx->applied,
	       fx->duplicate, fx->stale, fx->rejected);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	store_close(fx->stream);
	store_close(fx->latest);
	tmpdir_remove(fx->dir_stream);
	tmpdir_remove(fx->dir_latest);
	city_free(&fx->city);
	stream_free(&fx->s);
	free(fx);
	return 0;
}

static void print_difference(void *ctx, const char *line)
{
	size_t *shown = ctx;
	if ((*shown)++ < 10)
		print_error("verify: %s\n", line);
}

static void test_idempotence(void **state)
{
	struct fixture *fx = *state;
	struct counter_dump a, b;
	size_t differences = 1, shown = 0;

	assert_true(fx->stream_len >= 100000);
	assert_int_equal(fx->rejected, 0);
	assert_true(fx->applied >= RECORDS);
	assert_true(fx->duplicate > 0);
	assert_true(fx->stale > 0);
	assert_int_equal(fx->applied + fx->duplicate + fx->stale, fx->stream_len);

	counter_dump(fx->stream, &a);
	counter_dump(fx->latest, &b);
	assert_true(a.n > 1000);
	printf("# %zu counters\n", a.n);
	assert_true(counter_dump_equal(&a, &b));
	counter_dump_free(&a);
	counter_dump_free(&b);

	assert_int_equal(store_verify(fx->stream, print_difference, &shown, &differences), 0);
	assert_int_equal(differences, 0);
	assert_int_equal(store_verify(fx->latest, print_difference, &shown, &differences), 0);
	assert_int_equal(differences, 0);

	/* same records, revisions and tombstones too */
	assert_int_equal(store_digest(fx->stream), store_digest(fx->latest));
}

struct unit_filter {
	const struct city *city;
	int unit; /* >= 0: this unit only */
	int kind; /* > 0: units of this kind */
};

static int in_scope(int unit, void *ctx)
{
	const struct unit_filter *f = ctx;
	if (f->unit >= 0)
		return unit == f->unit;
	return f->kind <= 0 || f->city->units[unit].kind == f->kind;
}

/* The store's report for a scope, checked against the identities and the model. */
static void check_scope(struct fixture *fx, int year, int template_year,
			const struct report_scope *scope, struct unit_filter *filter,
			struct report *out)
{
	struct report model, previous;
	char what[96], where[160];
	snprintf(what, sizeof(what), "%d/%d scope %d/%d/%s", year, template_year, scope->type,
		 scope->kind, scope->unit ? scope->unit : "-");
	assert_int_equal(store_report(fx->stream, year, scope, template_year, out), 0);
	assert_int_equal(out->template_year, template_year);
	check_report_identities(out, what);
	model_report(fx->s.model, fx->s.n_records, in_scope, filter, year, template_year, &model);
	if (!report_compare(out, &model, where, sizeof(where)))
		fail_msg("%s differs from the model at %s", what, where);
	/* X-CARRY */
	assert_int_equal(store_report(fx->stream, year - 1, scope, template_year, &previous), 0);
	for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++)
		if (out->app[APP_ROW_CARRIED_IN][c] != previous.app[APP_ROW_CARRIED_OUT][c])
			fail_msg("%s: X-CARRY fails in column %s", what, app_columns[c].key);
}

struct silent_list {
	int seen[UNITS];
	const struct city *city;
};

static void note_silent(void *ctx, const char *unit)
{
	struct silent_list *l = ctx;
	for (int u = 0; u < UNITS; u++)
		if (strcmp(l->city->ids[u], unit) == 0)
			l->seen[u]++;
}

static void test_silent_units(void **state)
{
	struct fixture *fx = *state;
	size_t silent_total = 0, submitted_total = 0;
	for (int year = YEAR_FROM - 1; year <= YEAR_TO + 1; year++) {
		for (int k = 0; k <= 4; k++) {
			struct silent_list l = {{0}, &fx->city};
			struct report_scope scope = {.type = k ? SCOPE_KIND : SCOPE_CITY,
						     .kind = k};
			const char *ids[UNITS];
			struct store_unit_year uy[UNITS];
			int submitted = 0;
			assert_int_equal(
			    store_silent_units(fx->stream, year, &scope, note_silent, &l), 0);
			for (int u = 0; u < UNITS; u++)
				ids[u] = fx->city.ids[u];
			assert_int_equal(store_unit_years(fx->stream, year, ids, UNITS, uy), 0);
			for (int u = 0; u < UNITS; u++) {
				int in = k == 0 || fx->city.units[u].kind == k;
				int sub = model_submitted(fx->s.model, fx->s.n_records, u, year);
				if (l.seen[u] != (in && !sub))
					fail_msg("%d kind %d: unit %s is %slisted as silent, the "
						 "model says it %s",
						 year, k, ids[u], l.seen[u] ? "" : "not ",
						 sub ? "submitted" : "did not submit");
				assert_int_equal(uy[u].submitted, sub);
				submitted += in && sub;
				if (k == 0) {
					silent_total += !sub;
					submitted_total += sub;
				}
			}
			/* the rollup counts the units that submitted */
			struct counter_key key = {(uint8_t)scope.type, (uint32_t)k, (uint16_t)year,
						  COUNTER_SUBMITTED};
			assert_int_equal(store_counter(fx->stream, &key), submitted);
		}
	}
	printf("# %zu units' years submitted, %zu silent\n", submitted_total, silent_total);
	assert_true(submitted_total > 10 && silent_total > 10);
}

static void add_report(struct report *sum, const struct report *r)
{
	for (int row = 0; row < APP_ROW_COUNT; row++)
		for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++)
			sum->app[row][c] += r->app[row][c];
	for (int g = 0; g < CASE_GROUP_COUNT; g++)
		for (int c = 0; c < CASE_COLUMN_COUNT; c++)
			sum->cases[g][c] += r->cases[g][c];
	for (int i = 0; i < PRO_CELL_COUNT; i++)
		sum->pro[i] += r->pro[i];
}

static void test_identities(void **state)
{
	struct fixture *fx = *state;
	static const int templates[] = {2019, 2021};
	int64_t nonzero = 0;
	char where[160];
	for (int year = YEAR_FROM - 1; year <= YEAR_TO + 2; year++) {
		for (size_t t = 0; t < 2; t++) {
			struct report city, unit, units_sum = {0}, kinds_sum = {0};
			struct report kind_sums[5] = {0};
			struct unit_filter all = {&fx->city, -1, 0};
			struct report_scope city_scope = {.type = SCOPE_CITY};
			check_scope(fx, year, templates[t], &city_scope, &all, &city);
			for (int u = 0; u < UNITS; u++) {
				struct unit_filter one = {&fx->city, u, 0};
				struct report_scope s = {.type = SCOPE_UNIT,
							 .unit = fx->city.ids[u]};
				check_scope(fx, year, templates[t], &s, &one, &unit);
				add_report(&units_sum, &unit);
				add_report(&kind_sums[fx->city.units[u].kind], &unit);
			}
			for (int k = 1; k <= 4; k++) {
				struct report kind;
				struct unit_filter of_kind = {&fx->city, -1, k};
				struct report_scope s = {.type = SCOPE_KIND, .kind = k};
				check_scope(fx, year, templates[t], &s, &of_kind, &kind);
				kind_sums[k].year = kind.year;
				kind_sums[k].template_year = kind.template_year;
				if (!report_compare(&kind, &kind_sums[k], where, sizeof(where)))
					fail_msg("%d kind %d is not the sum of its units: %s", year,
						 k, where);
				add_report(&kinds_sum, &kind);
			}
			units_sum.year = kinds_sum.year = city.year;
			units_sum.template_year = kinds_sum.template_year = city.template_year;
			if (!report_compare(&city, &units_sum, where, sizeof(where)))
				fail_msg("%d the city is not the sum of its units: %s", year,
					 where);
			if (!report_compare(&city, &kinds_sum, where, sizeof(where)))
				fail_msg("%d the city is not the sum of its kinds: %s", year,
					 where);
			nonzero += city.app[APP_ROW_NEW_RECEIVED][APP_COL_TOTAL] +
				   city.cases[CASE_GROUP_REVIEW][CASE_COL_TOTAL] +
				   city.pro[PRO_CELL_NORMDOCS_IN_FORCE];
		}
	}
	assert_true(nonzero > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idempotence),
	    cmocka_unit_test(test_identities),
	    cmocka_unit_test(test_silent_units),
	};
	return cmocka_run_group_tests_name("random_stream", tests, setup, teardown);
}
