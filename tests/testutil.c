#include "testutil.h"

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "error.h"

char *tmpdir_make(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/xxgk-%s-XXXXXX", base && *base ? base : "/tmp", tag);
	char *dir = mkdtemp(path);
	assert_non_null(dir);
	return strdup(dir);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

void tmpdir_remove(char *dir)
{
	if (dir == NULL)
		return;
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

uint64_t test_seed(uint64_t fallback)
{
	const char *s = getenv("XXGK_SEED");
	uint64_t seed = s && *s ? strtoull(s, NULL, 0) : fallback;
	printf("# seed %llu (set XXGK_SEED to replay)\n", (unsigned long long)seed);
	return seed;
}

/* ---- records ---- */

static void trec_init(struct trec *t, const char *unit, const char *id, uint64_t revision)
{
	memset(t, 0, sizeof(*t));
	t->r = (Xxgk__V1__Record)XXGK__V1__RECORD__INIT;
	snprintf(t->unit, sizeof(t->unit), "%s", unit);
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->r.unit = t->unit;
	t->r.id = t->id;
	t->r.has_revision = 1;
	t->r.revision = revision;
}

static char *trec_date(struct trec *t, int slot, const char *date)
{
	if (date == NULL)
		return NULL;
	snprintf(t->dates[slot], sizeof(t->dates[slot]), "%s", date);
	return t->dates[slot];
}

void trec_application(struct trec *t, const char *unit, const char *id, uint64_t revision,
		      int applicant, const char *received, const char *concluded, int outcome)
{
	trec_init(t, unit, id, revision);
	t->body.app = (Xxgk__V1__Application)XXGK__V1__APPLICATION__INIT;
	t->body.app.has_applicant = applicant != 0;
	t->body.app.applicant = applicant;
	t->body.app.received = trec_date(t, 0, received);
	t->body.app.concluded = trec_date(t, 1, concluded);
	t->body.app.has_outcome = outcome != 0;
	t->body.app.outcome = outcome;
	t->r.body_case = XXGK__V1__RECORD__BODY_APPLICATION;
	t->r.application = &t->body.app;
}

void trec_document(struct trec *t, const char *unit, const char *id, uint64_t revision, int kind,
		   const char *made, const char *published, const char *repealed)
{
	trec_init(t, unit, id, revision);
	t->body.doc = (Xxgk__V1__Document)XXGK__V1__DOCUMENT__INIT;
	t->body.doc.has_kind = kind != 0;
	t->body.doc.kind = kind;
	t->body.doc.made = trec_date(t, 0, made);
	t->body.doc.published = trec_date(t, 1, published);
	t->body.doc.repealed = trec_date(t, 2, repealed);
	t->r.body_case = XXGK__V1__RECORD__BODY_DOCUMENT;
	t->r.document = &t->body.doc;
}

void trec_case(struct trec *t, const char *unit, const char *id, uint64_t revision, int group,
	       const char *filed, const char *closed, int result)
{
	trec_init(t, unit, id, revision);
	t->body.cas = (Xxgk__V1__Case)XXGK__V1__CASE__INIT;
	t->body.cas.has_group = group != 0;
	t->body.cas.group = group;
	t->body.cas.filed = trec_date(t, 0, filed);
	t->body.cas.closed = trec_date(t, 1, closed);
	t->body.cas.has_result = result != 0;
	t->body.cas.result = result;
	t->r.body_case = XXGK__V1__RECORD__BODY_LEGAL_CASE;
	t->r.legal_case = &t->body.cas;
}

void trec_tally(struct trec *t, const char *unit, const char *id, uint64_t revision, int measure,
		const char *date, int64_t value)
{
	trec_init(t, unit, id, revision);
	t->body.tally = (Xxgk__V1__Tally)XXGK__V1__TALLY__INIT;
	t->body.tally.has_measure = measure != 0;
	t->body.tally.measure = measure;
	t->body.tally.date = trec_date(t, 0, date);
	t->body.tally.has_value = 1;
	t->body.tally.value = value;
	t->r.body_case = XXGK__V1__RECORD__BODY_TALLY;
	t->r.tally = &t->body.tally;
}

void trec_submission(struct trec *t, const char *unit, int year, uint64_t revision)
{
	char id[SUBMISSION_ID_MAX];
	submission_id(year, id, sizeof(id));
	trec_init(t, unit, id, revision);
	t->body.sub = (Xxgk__V1__Submission)XXGK__V1__SUBMISSION__INIT;
	t->body.sub.has_year = year != 0;
	t->body.sub.year = (uint32_t)year;
	t->r.body_case = XXGK__V1__RECORD__BODY_SUBMISSION;
	t->r.submission = &t->body.sub;
}

void trec_tombstone(struct trec *t, const char *unit, const char *id, uint64_t revision, int kind)
{
	switch (kind) {
	case RECORD_SUBMISSION:
		trec_init(t, unit, id, revision);
		t->body.sub = (Xxgk__V1__Submission)XXGK__V1__SUBMISSION__INIT;
		t->r.body_case = XXGK__V1__RECORD__BODY_SUBMISSION;
		t->r.submission = &t->body.sub;
		break;
	case RECORD_APPLICATION:
		trec_application(t, unit, id, revision, 0, NULL, NULL, 0);
		break;
	case RECORD_DOCUMENT:
		trec_document(t, unit, id, revision, 0, NULL, NULL, NULL);
		break;
	case RECORD_CASE:
		trec_case(t, unit, id, revision, 0, NULL, NULL, 0);
		break;
	default:
		trec_tally(t, unit, id, revision, 0, NULL, 0);
		t->body.tally.has_value = 0;
		break;
	}
	t->r.has_deleted = 1;
	t->r.deleted = 1;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's civil_from_days). */
static void format_day(char *buf, size_t size, int z)
{
	z += 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = z - era * 146097;
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int y = yoe + era * 400;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;
	int d = doy - (153 * mp + 2) / 5 + 1;
	int m = mp + (mp < 10 ? 3 : -9);
	snprintf(buf, size, "%04d-%02d-%02d", (y + (m <= 2)) % 10000, m % 100, d % 100);
}

static int first_day(int year)
{
	char s[32];
	struct date d;
	snprintf(s, sizeof(s), "%04d-01-01", year);
	date_parse(s, &d);
	return d.day;
}

void trec_random(struct trec *t, uint64_t seed, int kind, const char *unit, const char *id,
		 uint64_t revision, int year_from, int year_to)
{
	struct rng r = {seed};
	int lo = first_day(year_from), hi = first_day(year_to + 1) - 1;
	int day = lo + (int)rng_below(&r, (uint32_t)(hi - lo + 1));
	char d0[16], d1[16], d2[16];
	format_day(d0, sizeof(d0), day);
	switch (kind >= 0 ? (uint32_t)kind : rng_below(&r, 4)) {
	case RECORD_APPLICATION: {
		int applicant = 1 + (int)rng_below(&r, 6);
		if (rng_below(&r, 10) < 7) {
			format_day(d1, sizeof(d1), day + (int)rng_below(&r, 400));
			trec_application(t, unit, id, revision, applicant, d0, d1,
					 1 + (int)rng_below(&r, 21));
		} else {
			trec_application(t, unit, id, revision, applicant, d0, NULL, 0);
		}
		break;
	}
	case RECORD_DOCUMENT: {
		int doc_kind = rng_below(&r, 5) == 0 ? 1 : 2;
		int published = day + (int)rng_below(&r, 60);
		int has_published = rng_below(&r, 10) < 8;
		int repealed = (has_published ? published : day) + (int)rng_below(&r, 1500);
		int has_repealed = rng_below(&r, 10) < 3;
		format_day(d1, sizeof(d1), published);
		format_day(d2, sizeof(d2), repealed);
		trec_document(t, unit, id, revision, doc_kind, d0, has_published ? d1 : NULL,
			      has_repealed ? d2 : NULL);
		break;
	}
	case RECORD_CASE: {
		int group = 1 + (int)rng_below(&r, 3);
		if (rng_below(&r, 4) < 3) {
			format_day(d1, sizeof(d1), day + (int)rng_below(&r, 300));
			trec_case(t, unit, id, revision, group, d0, d1, 1 + (int)rng_below(&r, 3));
		} else {
			trec_case(t, unit, id, revision, group, d0, NULL, 0);
		}
		break;
	}
	default: {
		int measure = 1 + (int)rng_below(&r, 12);
		int64_t value;
		if (measure >= XXGK__V1__TALLY_MEASURE__TALLY_LICENSING_ITEMS)
			value = (int64_t)rng_below(&r, 41) - 20;
		else if (measure == XXGK__V1__TALLY_MEASURE__TALLY_FEES_AMOUNT ||
			 measure == XXGK__V1__TALLY_MEASURE__TALLY_PROCUREMENT_AMOUNT)
			value = (int64_t)rng_below(&r, 10000000);
		else
			value = (int64_t)rng_below(&r, 500);
		trec_tally(t, unit, id, revision, measure, d0, value);
		break;
	}
	}
}

/* ---- a city ---- */

void city_make(struct city *c, size_t n)
{
	c->n = n;
	c->units = calloc(n, sizeof(*c->units));
	c->ids = calloc(n, sizeof(*c->ids));
	assert_non_null(c->units);
	assert_non_null(c->ids);
	for (size_t i = 0; i < n; i++) {
		snprintf(c->ids[i], sizeof(c->ids[i]), "u%03u", (unsigned)(i % 1000));
		c->units[i].id = c->ids[i];
		/* one government office, then departments, townships and zones in turn */
		c->units[i].kind = i == 0 ? XXGK__V1__UNIT_KIND__UNIT_GOVERNMENT : 2 + (int)(i % 3);
	}
}

void city_free(struct city *c)
{
	free(c->units);
	free(c->ids);
}

/* ---- dumps ---- */

static int dump_counter(void *ctx, const struct counter_key *key, int64_t value)
{
	struct counter_dump *d = ctx;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 1024;
		d->v = realloc(d->v, d->cap * sizeof(*d->v));
		assert_non_null(d->v);
	}
	d->v[d->n].key = *key;
	d->v[d->n].value = value;
	d->n++;
	return 0;
}

void counter_dump(struct store *st, struct counter_dump *out)
{
	memset(out, 0, sizeof(*out));
	assert_int_equal(store_foreach_counter(st, dump_counter, out), 0);
}

int counter_dump_equal(const struct counter_dump *a, const struct counter_dump *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (counter_key_compare(&a->v[i].key, &b->v[i].key) != 0 ||
		    a->v[i].value != b->v[i].value)
			return 0;
	return 1;
}

void counter_dump_free(struct counter_dump *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static int digest_record(void *ctx, const char *unit, const Xxgk__V1__Record *r)
{
	uint64_t *h = ctx;
	uint8_t buf[RECORD_PACKED_MAX];
	size_t len = record_pack_canonical(r, buf, sizeof(buf));
	*h = fnv(*h, unit, strlen(unit) + 1);
	*h = fnv(*h, buf, len);
	return 0;
}

static int digest_counter(void *ctx, const struct counter_key *key, int64_t value)
{
	uint64_t *h = ctx;
	uint8_t kb[COUNTER_KEY_SIZE];
	counter_key_encode(key, kb);
	*h = fnv(*h, kb, sizeof(kb));
	*h = fnv(*h, &value, sizeof(value));
	return 0;
}

uint64_t store_digest(struct store *st)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	assert_int_equal(store_foreach_record(st, digest_record, &h), 0);
	assert_int_equal(store_foreach_counter(st, digest_counter, &h), 0);
	return h;
}

struct store *test_store_open(const char *dir, const struct city *c)
{
	struct store *st = NULL;
	struct store_options opt = {.no_sync = 1};
	int rc = store_open(&st, dir, &opt);
	if (rc)
		fail_msg("store_open %s: %s", dir, xxgk_strerror(rc));
	if (c)
		assert_int_equal(store_set_units(st, c->units, c->n), 0);
	return st;
}

void test_apply(struct store *st, Xxgk__V1__Record *const *records, size_t n,
		struct store_status *statuses)
{
	int rc = store_apply(st, records, n, statuses);
	if (rc)
		fail_msg("store_apply: %s", xxgk_strerror(rc));
}

void check_report_identities(const struct report *r, const char *what)
{
	for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++) {
		int64_t outcomes = 0;
		for (int row = 0; row < APP_ROW_COUNT; row++)
			if (app_rows[row].source == APP_SRC_OUTCOME)
				outcomes += r->app[row][c];
		/* T3-BAL */
		if (r->app[APP_ROW_NEW_RECEIVED][c] + r->app[APP_ROW_CARRIED_IN][c] !=
		    r->app[APP_ROW_CONCLUDED_TOTAL][c] + r->app[APP_ROW_CARRIED_OUT][c])
			fail_msg("%s: T3-BAL fails in column %s", what, app_columns[c].key);
		/* T3-OUT */
		if (r->app[APP_ROW_CONCLUDED_TOTAL][c] != outcomes)
			fail_msg("%s: T3-OUT fails in column %s", what, app_columns[c].key);
		/* the 2019 row （六） */
		if (r->app[APP_ROW_OTHER][c] != r->app[APP_ROW_OTHER_NO_CORRECTION][c] +
						    r->app[APP_ROW_OTHER_FEE_UNPAID][c] +
						    r->app[APP_ROW_OTHER_MISC][c])
			fail_msg("%s: 2019 other row differs from its leaves in column %s", what,
				 app_columns[c].key);
		if (r->app[APP_ROW_CARRIED_IN][c] < 0 || r->app[APP_ROW_CARRIED_OUT][c] < 0)
			fail_msg("%s: negative carried count in column %s", what,
				 app_columns[c].key);
	}
	/* T3-ROW */
	for (int row = 0; row < APP_ROW_COUNT; row++) {
		int64_t sum = 0;
		for (int c = 0; c < APP_COLUMN_COUNT; c++)
			sum += r->app[row][c];
		if (sum != r->app[row][APP_COL_TOTAL])
			fail_msg("%s: T3-ROW fails in row %s", what, app_rows[row].key);
	}
	/* T4-TOT */
	for (int g = 0; g < CASE_GROUP_COUNT; g++)
		if (r->cases[g][CASE_COL_TOTAL] !=
		    r->cases[g][CASE_COL_UPHELD] + r->cases[g][CASE_COL_CORRECTED] +
			r->cases[g][CASE_COL_OTHER] + r->cases[g][CASE_COL_PENDING])
			fail_msg("%s: T4-TOT fails in group %s", what, case_groups[g].key);
}

int report_compare(const struct report *a, const struct report *b, char *where, size_t size)
{
	for (int row = 0; row < APP_ROW_COUNT; row++)
		for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++)
			if (a->app[row][c] != b->app[row][c]) {
				snprintf(where, size, "applications.%s.%s: %lld != %lld",
					 app_rows[row].key, app_columns[c].key,
					 (long long)a->app[row][c], (long long)b->app[row][c]);
				return 0;
			}
	for (int g = 0; g < CASE_GROUP_COUNT; g++)
		for (int c = 0; c < CASE_COLUMN_COUNT; c++)
			if (a->cases[g][c] != b->cases[g][c]) {
				snprintf(where, size, "reviews.%s.%s: %lld != %lld",
					 case_groups[g].key, case_columns[c].key,
					 (long long)a->cases[g][c], (long long)b->cases[g][c]);
				return 0;
			}
	for (int i = 0; i < PRO_CELL_COUNT; i++)
		if (a->pro[i] != b->pro[i]) {
			snprintf(where, size, "proactive.%s.%s: %lld != %lld",
				 pro_rows[pro_cells[i].row].key, pro_cells[i].key,
				 (long long)a->pro[i], (long long)b->pro[i]);
			return 0;
		}
	return 1;
}

struct one_counter {
	const struct counter_key *key;
	int64_t value;
};

static int find_counter(void *ctx, const struct counter_key *key, int64_t value)
{
	struct one_counter *c = ctx;
	if (counter_key_compare(key, c->key) == 0)
		c->value = value;
	return 0;
}

int64_t store_counter(struct store *st, const struct counter_key *key)
{
	struct one_counter c = {key, 0};
	assert_int_equal(store_foreach_counter(st, find_counter, &c), 0);
	return c.value;
}
