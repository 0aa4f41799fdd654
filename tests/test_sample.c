/*
 * The sample report (shared/000_eee5f2eb6c33e3d2.txt): event records built from its numbers give
 * a 2019 city report equal to its table 三 cell for cell, its table 四 review group, and its
 * table 二 figures, under the JSON keys of DOMAIN.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample_fixture.h"
#include "testutil.h"

struct cells {
	size_t n;
	char keys[512][96];
	int64_t values[512];
};

static void collect(void *ctx, const char *key, int64_t value)
{
	struct cells *c = ctx;
	assert_true(c->n < 512);
	snprintf(c->keys[c->n], sizeof(c->keys[c->n]), "%s", key);
	c->values[c->n++] = value;
}

static int64_t cell(const struct cells *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->keys[i], key) == 0)
			return c->values[i];
	fail_msg("no cell %s", key);
	return 0;
}

struct fixture {
	char *dir;
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct trec *recs;
	size_t n = sample_records(&recs);
	Xxgk__V1__Record **batch = calloc(n, sizeof(*batch));
	struct store_status *statuses = calloc(n, sizeof(*statuses));
	for (size_t i = 0; i < n; i++)
		batch[i] = &recs[i].r;
	fx->dir = tmpdir_make("sample");
	fx->st = test_store_open(fx->dir, NULL);
	assert_int_equal(store_set_units(fx->st, sample_store_units(), sample_unit_count()), 0);
	test_apply(fx->st, batch, n, statuses);
	for (size_t i = 0; i < n; i++)
		if (statuses[i].code != XXGK__V1__RECORD_STATUS__CODE__APPLIED)
			fail_msg("sample record %s: %s", recs[i].id, statuses[i].message);
	printf("# %zu sample records over %zu units\n", n, sample_unit_count());
	free(batch);
	free(statuses);
	free(recs);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	store_close(fx->st);
	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

static void city_cells(struct fixture *fx, int year, int template_year, struct cells *out)
{
	struct report r;
	struct report_scope city = {.type = SCOPE_CITY};
	assert_int_equal(store_report(fx->st, year, &city, template_year, &r), 0);
	check_report_identities(&r, "sample");
	memset(out, 0, sizeof(*out));
	report_foreach_cell(&r, collect, out);
}

static void test_table_three(void **state)
{
	static const char *const columns[7] = {
	    "natural_person", "commercial", "research", "public_interest",
	    "legal_service",  "other_org",  "total"};
	struct cells *c = calloc(1, sizeof(*c));
	char key[128];
	city_cells(*state, 2019, 0, c); /* 2019 is printed in the 2019 format */
	for (int row = 0; row < SAMPLE_T3_ROWS; row++)
		for (int col = 0; col < 7; col++) {
			snprintf(key, sizeof(key), "applications.%s.%s", sample_t3_keys[row],
				 columns[col]);
			if (cell(c, key) != sample_t3[row][col])
				fail_msg("%s: %lld, the sample prints %lld", key,
					 (long long)cell(c, key), (long long)sample_t3[row][col]);
		}
	free(c);
}

static void test_table_four(void **state)
{
	static const char *const columns[5] = {"upheld", "corrected", "other", "pending", "total"};
	struct cells *c = calloc(1, sizeof(*c));
	char key[128];
	city_cells(*state, 2019, 2019, c);
	for (int col = 0; col < 5; col++) {
		snprintf(key, sizeof(key), "reviews.review.%s", columns[col]);
		assert_int_equal(cell(c, key), sample_t4_review[col]);
		snprintf(key, sizeof(key), "reviews.lit_direct.%s", columns[col]);
		assert_int_equal(cell(c, key), 0);
	}
	free(c);
}

static void test_table_two(void **state)
{
	struct cells *c = calloc(1, sizeof(*c));
	city_cells(*state, 2019, 2019, c);
	assert_int_equal(cell(c, "proactive.normdocs.new_made"), 34);
	assert_int_equal(cell(c, "proactive.normdocs.new_published"), 34);
	assert_int_equal(cell(c, "proactive.normdocs.published_total"), 740);
	assert_int_equal(cell(c, "proactive.rules.new_made"), 0);
	assert_int_equal(cell(c, "proactive.licensing.items_prev"), 1421);
	assert_int_equal(cell(c, "proactive.licensing.items_delta"), 0);
	assert_int_equal(cell(c, "proactive.licensing.decisions"), 73290);
	assert_int_equal(cell(c, "proactive.othersvc.items_prev"), 1282);
	assert_int_equal(cell(c, "proactive.othersvc.decisions"), 445870);
	assert_int_equal(cell(c, "proactive.penalty.items_prev"), 2743);
	assert_int_equal(cell(c, "proactive.penalty.decisions"), 4440);
	assert_int_equal(cell(c, "proactive.coercion.items_prev"), 136);
	assert_int_equal(cell(c, "proactive.coercion.decisions"), 729);
	assert_int_equal(cell(c, "proactive.fees.items_prev"), 40);
	assert_int_equal(cell(c, "proactive.fees.items_delta"), 0);
	assert_int_equal(cell(c, "proactive.procurement.projects"), 6078);
	assert_int_equal(cell(c, "proactive.procurement.amount"), 9282386600LL);
	free(c);
	/* the same year in the 2021 layout: in force counts the 20 repealed in 2018 out */
	c = calloc(1, sizeof(*c));
	city_cells(*state, 2019, 2021, c);
	assert_int_equal(cell(c, "proactive.normdocs.made"), 34);
	assert_int_equal(cell(c, "proactive.normdocs.repealed"), 0);
	assert_int_equal(cell(c, "proactive.normdocs.in_force"), 740);
	assert_int_equal(cell(c, "applications.other_no_correction.natural_person"), 12);
	assert_int_equal(cell(c, "applications.other_misc.commercial"), 1);
	free(c);
}

static void test_carry_and_verify(void **state)
{
	struct fixture *fx = *state;
	struct cells *c = calloc(1, sizeof(*c));
	size_t differences = 1;
	city_cells(fx, 2018, 0, c);
	assert_int_equal(cell(c, "applications.carried_out.natural_person"), 1);
	assert_int_equal(cell(c, "applications.new_received.total"), 41);
	assert_int_equal(cell(c, "proactive.normdocs.published_total"), 706);
	free(c);
	assert_int_equal(store_verify(fx->st, NULL, NULL, &differences), 0);
	assert_int_equal(differences, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_three),
	    cmocka_unit_test(test_table_four),
	    cmocka_unit_test(test_table_two),
	    cmocka_unit_test(test_carry_and_verify),
	};
	return cmocka_run_group_tests_name("sample", tests, setup, teardown);
}
