#include "sample_fixture.h"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The example city's units: examples/units.conf, as built into xxgkd for its default. */
static struct config city;

static const struct config *example_city(void)
{
	char err[CONFIG_ERROR_MAX];
	if (city.n_units == 0 && config_load(&city, NULL, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "sample fixture: %s\n", err);
		abort();
	}
	return &city;
}

size_t sample_unit_count(void)
{
	return example_city()->n_units;
}

const char *const sample_t3_keys[SAMPLE_T3_ROWS] = {
    "new_received",
    "carried_in",
    "granted",
    "partial",
    "denied_state_secret",
    "denied_law_prohibited",
    "denied_security_stability",
    "denied_third_party",
    "denied_internal_affairs",
    "denied_process_info",
    "denied_enforcement_file",
    "denied_admin_inquiry",
    "unable_not_held",
    "unable_needs_creation",
    "unable_still_unclear",
    "notproc_petition",
    "notproc_repeat",
    "notproc_publication",
    "notproc_excessive",
    "notproc_confirm_reissue",
    "other",
    "concluded_total",
    "carried_out",
};

/* Copied from the sample as printed (自然人, 商业企业, 科研机构, 社会公益组织, 法律服务机构, 其他,
 * 总计). */
const int64_t sample_t3[SAMPLE_T3_ROWS][7] = {
    {329, 62, 0, 2, 1, 3, 397}, {1, 0, 0, 0, 0, 0, 1},	 {167, 5, 0, 2, 1, 0, 175},
    {28, 1, 0, 0, 0, 3, 32},	{2, 0, 0, 0, 0, 0, 2},	 {0, 0, 0, 0, 0, 0, 0},
    {0, 0, 0, 0, 0, 0, 0},	{1, 0, 0, 0, 0, 0, 1},	 {14, 48, 0, 0, 0, 0, 62},
    {2, 0, 0, 0, 0, 0, 2},	{5, 0, 0, 0, 0, 0, 5},	 {9, 4, 0, 0, 0, 0, 13},
    {58, 3, 0, 0, 0, 0, 61},	{12, 0, 0, 0, 0, 0, 12}, {1, 0, 0, 0, 0, 0, 1},
    {1, 0, 0, 0, 0, 0, 1},	{1, 0, 0, 0, 0, 0, 1},	 {1, 0, 0, 0, 0, 0, 1},
    {1, 0, 0, 0, 0, 0, 1},	{1, 0, 0, 0, 0, 0, 1},	 {21, 1, 0, 0, 0, 0, 22},
    {325, 62, 0, 2, 1, 3, 393}, {5, 0, 0, 0, 0, 0, 5},
};

const int64_t sample_t4_review[5] = {41, 1, 2, 6, 50};

const struct store_unit *sample_store_units(void)
{
	static struct store_unit *units;
	const struct config *c = example_city();
	if (units == NULL && (units = calloc(c->n_units, sizeof(*units))) == NULL)
		abort();
	for (size_t i = 0; i < c->n_units; i++)
		units[i] = (struct store_unit){c->units[i].id, c->units[i].kind};
	return units;
}

/*
 * The outcomes the sample's applications were concluded with in 2019, per column, at 2021
 * granularity: the sample's one row （六）其他处理 (21 and 1) split into its three leaves.
 */
struct outcome_count {
	int outcome;
	int count[6];
};
static const struct outcome_count outcomes_2019[] = {
    {1, {167, 5, 0, 2, 1, 0}}, {2, {28, 1, 0, 0, 0, 3}},  {3, {2, 0, 0, 0, 0, 0}},
    {6, {1, 0, 0, 0, 0, 0}},   {7, {14, 48, 0, 0, 0, 0}}, {8, {2, 0, 0, 0, 0, 0}},
    {9, {5, 0, 0, 0, 0, 0}},   {10, {9, 4, 0, 0, 0, 0}},  {11, {58, 3, 0, 0, 0, 0}},
    {12, {12, 0, 0, 0, 0, 0}}, {13, {1, 0, 0, 0, 0, 0}},  {14, {1, 0, 0, 0, 0, 0}},
    {15, {1, 0, 0, 0, 0, 0}},  {16, {1, 0, 0, 0, 0, 0}},  {17, {1, 0, 0, 0, 0, 0}},
    {18, {1, 0, 0, 0, 0, 0}},  {19, {12, 0, 0, 0, 0, 0}}, {20, {2, 0, 0, 0, 0, 0}},
    {21, {7, 1, 0, 0, 0, 0}},
};

struct builder {
	struct trec *v;
	size_t n, cap;
	unsigned next_unit;
};

static struct trec *next(struct builder *b)
{
	if (b->n == b->cap) {
		/* trecs point into themselves: grow only before any is built */
		fprintf(stderr, "sample fixture: capacity %zu too small\n", b->cap);
		abort();
	}
	return &b->v[b->n++];
}

/* The units take turns, so that the city's figures are sums over many units. */
static const char *unit(struct builder *b)
{
	const struct config *c = example_city();
	return c->units[b->next_unit++ % c->n_units].id;
}

static void day_of_2019(char *buf, size_t size, int day)
{
	static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int m = 0;
	while (m < 11 && day >= month_days[m])
		day -= month_days[m++];
	snprintf(buf, size, "2019-%02d-%02d", m + 1, (day % 31) + 1);
}

static void applications(struct builder *b)
{
	char id[32], received[16], concluded[16];
	int serial = 0;
	/* 2018: 40 concluded within the year, and one carried into 2019 */
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "YSQ-2018-%04d", ++serial);
		snprintf(received, sizeof(received), "2018-%02d-10", 1 + i % 11);
		snprintf(concluded, sizeof(concluded), "2018-%02d-25", 1 + i % 11);
		trec_application(next(b), unit(b), id, 1, 1 + i % 2, received, concluded,
				 1 + i % 11);
	}
	snprintf(id, sizeof(id), "YSQ-2018-%04d", ++serial);
	trec_application(next(b), "dept-natural-resources", id, 1, 1, "2018-12-24", "2019-01-15",
			 1);
	/* 2019: the outcomes, less the one carried in, received and concluded within the year */
	int carried_in_left = 1, i = 0;
	serial = 0;
	for (size_t o = 0; o < sizeof(outcomes_2019) / sizeof(outcomes_2019[0]); o++) {
		for (int c = 0; c < 6; c++) {
			for (int k = 0; k < outcomes_2019[o].count[c]; k++) {
				if (c == 0 && outcomes_2019[o].outcome == 1 && carried_in_left) {
					carried_in_left = 0;
					continue;
				}
				int day = (i++ * 37) % 330;
				day_of_2019(received, sizeof(received), day);
				day_of_2019(concluded, sizeof(concluded), day + 3 + i % 20);
				snprintf(id, sizeof(id), "YSQ-2019-%04d", ++serial);
				trec_application(next(b), unit(b), id, 1, 1 + c, received,
						 concluded, outcomes_2019[o].outcome);
			}
		}
	}
	/* five natural persons' applications still open at the end of 2019 */
	for (int k = 0; k < 5; k++) {
		snprintf(id, sizeof(id), "YSQ-2019-%04d", ++serial);
		snprintf(received, sizeof(received), "2019-12-%02d", 20 + k);
		trec_application(next(b), unit(b), id, 1, 1, received, NULL, 0);
	}
}

static void review_cases(struct builder *b)
{
	/* filed in 2019: 41 upheld, 1 corrected, 2 other within the year; 6 still pending at its
	 * end, three of which close in 2020 and so stay pending in 2019's report */
	static const int results[] = {1, 2, 3};
	static const int counts[] = {41, 1, 2};
	char id[32], filed[16], closed[16];
	int serial = 0;
	for (int r = 0; r < 3; r++) {
		for (int k = 0; k < counts[r]; k++) {
			day_of_2019(filed, sizeof(filed), (serial * 29) % 300);
			day_of_2019(closed, sizeof(closed), (serial * 29) % 300 + 60);
			snprintf(id, sizeof(id), "FY-2019-%03d", ++serial);
			trec_case(next(b), unit(b), id, 1, XXGK__V1__CASE_GROUP__CASE_REVIEW, filed,
				  closed, results[r]);
		}
	}
	for (int k = 0; k < 6; k++) {
		snprintf(filed, sizeof(filed), "2019-11-%02d", 10 + k);
		snprintf(id, sizeof(id), "FY-2019-%03d", ++serial);
		trec_case(next(b), unit(b), id, 1, XXGK__V1__CASE_GROUP__CASE_REVIEW, filed,
			  k < 3 ? "2020-03-02" : NULL, k < 3 ? 1 : 0);
	}
}

static void documents(struct builder *b)
{
	char id[32], made[16], published[16];
	/* 706 normative documents in force from 2012-2018, 34 made and published in 2019,
	 * and 20 of 2015 repealed in 2018: 740 published and in force at the end of 2019 */
	for (int k = 0; k < 706; k++) {
		snprintf(made, sizeof(made), "%d-%02d-%02d", 2012 + k % 7, 1 + k % 12, 1 + k % 28);
		snprintf(published, sizeof(published), "%d-%02d-28", 2012 + k % 7, 1 + k % 12);
		snprintf(id, sizeof(id), "GFXWJ-%d-%03d", 2012 + k % 7, k);
		trec_document(next(b), unit(b), id, 1, XXGK__V1__DOCUMENT_KIND__DOCUMENT_NORMATIVE,
			      made, published, NULL);
	}
	for (int k = 0; k < 34; k++) {
		day_of_2019(made, sizeof(made), k * 9);
		day_of_2019(published, sizeof(published), k * 9 + 5);
		snprintf(id, sizeof(id), "GFXWJ-2019-%03d", k);
		trec_document(next(b), unit(b), id, 1, XXGK__V1__DOCUMENT_KIND__DOCUMENT_NORMATIVE,
			      made, published, NULL);
	}
	for (int k = 0; k < 20; k++) {
		snprintf(id, sizeof(id), "GFXWJ-2015-R%02d", k);
		trec_document(next(b), unit(b), id, 1, XXGK__V1__DOCUMENT_KIND__DOCUMENT_NORMATIVE,
			      "2015-03-01", "2015-03-10", "2018-06-30");
	}
}

/* A total split into four tallies of one year over four units. */
static void tallies(struct builder *b, const char *tag, int measure, const char *date,
		    int64_t total)
{
	char id[48];
	for (int k = 0; k < 4; k++) {
		int64_t part = k < 3 ? total / 4 : total - 3 * (total / 4);
		snprintf(id, sizeof(id), "%s-%.4s-%d", tag, date, k);
		trec_tally(next(b), unit(b), id, 1, measure, date, part);
	}
}

static void proactive_tallies(struct builder *b)
{
	/* catalogues: the 2019 report's 上一年项目数量 is the sum of changes before 2019 */
	tallies(b, "XK-ITEMS", XXGK__V1__TALLY_MEASURE__TALLY_LICENSING_ITEMS, "2018-01-01", 1421);
	tallies(b, "FW-ITEMS", XXGK__V1__TALLY_MEASURE__TALLY_OTHERSVC_ITEMS, "2018-01-01", 1282);
	tallies(b, "CF-ITEMS", XXGK__V1__TALLY_MEASURE__TALLY_PENALTY_ITEMS, "2018-01-01", 2743);
	tallies(b, "QZ-ITEMS", XXGK__V1__TALLY_MEASURE__TALLY_COERCION_ITEMS, "2018-01-01", 136);
	tallies(b, "SF-ITEMS", XXGK__V1__TALLY_MEASURE__TALLY_FEES_ITEMS, "2018-01-01", 40);
	tallies(b, "XK", XXGK__V1__TALLY_MEASURE__TALLY_LICENSING_DECISIONS, "2019-12-31", 73290);
	tallies(b, "FW", XXGK__V1__TALLY_MEASURE__TALLY_OTHERSVC_DECISIONS, "2019-12-31", 445870);
	tallies(b, "CF", XXGK__V1__TALLY_MEASURE__TALLY_PENALTY_DECISIONS, "2019-12-31", 4440);
	tallies(b, "QZ", XXGK__V1__TALLY_MEASURE__TALLY_COERCION_DECISIONS, "2019-12-31", 729);
	tallies(b, "CG", XXGK__V1__TALLY_MEASURE__TALLY_PROCUREMENT_PROJECTS, "2019-12-31", 6078);
	/* 9282.3866万元 in fen */
	tallies(b, "CGJE", XXGK__V1__TALLY_MEASURE__TALLY_PROCUREMENT_AMOUNT, "2019-12-31",
		9282386600LL);
}

/* Every unit of the sample submitted (报送) its 2019, as the published report says: none silent. */
static void submissions(struct builder *b)
{
	const struct config *c = example_city();
	for (size_t i = 0; i < c->n_units; i++)
		trec_submission(next(b), c->units[i].id, 2019, 1);
}

size_t sample_records(struct trec **out)
{
	struct builder b = {.cap = 2000};
	b.v = calloc(b.cap, sizeof(*b.v));
	if (b.v == NULL)
		abort();
	applications(&b);
	review_cases(&b);
	documents(&b);
	proactive_tallies(&b);
	submissions(&b);
	*out = b.v;
	return b.n;
}
