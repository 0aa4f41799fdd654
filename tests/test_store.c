/*
 * The store's contracts: the revision rule step by step, several revisions in one batch, a full
 * map grown without failing the batch, the schema version, the unit registry, bad report
 * queries, persistence across reopening, verify finding a tampered counter, and counters that
 * never wrap (the limit, the records it rejects, verify and reports beyond it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "rules.h"
#include "store_check.h"
#include "store_freeze.h"
#include "testutil.h"

#define APPLIED XXGK__V1__RECORD_STATUS__CODE__APPLIED
#define DUPLICATE XXGK__V1__RECORD_STATUS__CODE__DUPLICATE
#define STALE XXGK__V1__RECORD_STATUS__CODE__STALE
#define REJECTED XXGK__V1__RECORD_STATUS__CODE__REJECTED

struct fixture {
	struct city city;
	char *dir;
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	city_make(&fx->city, 8);
	fx->dir = tmpdir_make("store");
	fx->st = test_store_open(fx->dir, &fx->city);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	store_close(fx->st);
	tmpdir_remove(fx->dir);
	city_free(&fx->city);
	free(fx);
	return 0;
}

static int apply_one(struct store *st, struct trec *t)
{
	struct store_status s;
	Xxgk__V1__Record *r = &t->r;
	test_apply(st, &r, 1, &s);
	return s.code;
}

static struct report city_report(struct store *st, int year)
{
	struct report r;
	struct report_scope city = {.type = SCOPE_CITY};
	assert_int_equal(store_report(st, year, &city, 0, &r), 0);
	return r;
}

static void assert_verified(struct store *st)
{
	size_t differences = 1;
	assert_int_equal(store_verify(st, NULL, NULL, &differences), 0);
	assert_int_equal(differences, 0);
}

static void test_revision_rule(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	/* revision 2: received 2019, open */
	trec_application(&t, "u001", "a", 2, 1, "2019-04-01", NULL, 0);
	assert_int_equal(apply_one(fx->st, &t), APPLIED);
	assert_int_equal(city_report(fx->st, 2019).app[APP_ROW_CARRIED_OUT][APP_COL_TOTAL], 1);
	assert_int_equal(apply_one(fx->st, &t), DUPLICATE);
	/* content, not encoding, decides: an explicit deleted = false changes nothing */
	t.r.has_deleted = 1;
	t.r.deleted = 0;
	assert_int_equal(apply_one(fx->st, &t), DUPLICATE);
	/* an older revision is stale, whatever it says */
	trec_application(&t, "u001", "a", 1, 1, "2019-04-01", "2019-04-02", 1);
	assert_int_equal(apply_one(fx->st, &t), STALE);
	/* revision 3 concludes it: the open count moves to granted */
	trec_application(&t, "u001", "a", 3, 1, "2019-04-01", "2019-05-01", 1);
	assert_int_equal(apply_one(fx->st, &t), APPLIED);
	struct report r = city_report(fx->st, 2019);
	assert_int_equal(r.app[APP_ROW_CARRIED_OUT][APP_COL_TOTAL], 0);
	assert_int_equal(r.app[APP_ROW_GRANTED][APP_COL_NATURAL_PERSON], 1);
	assert_int_equal(r.app[APP_ROW_NEW_RECEIVED][APP_COL_TOTAL], 1);
	/* revision 4 deletes it; a late revision 3 cannot bring it back */
	trec_tombstone(&t, "u001", "a", 4, RECORD_APPLICATION);
	assert_int_equal(apply_one(fx->st, &t), APPLIED);
	assert_int_equal(city_report(fx->st, 2019).app[APP_ROW_NEW_RECEIVED][APP_COL_TOTAL], 0);
	assert_int_equal(apply_one(fx->st, &t), DUPLICATE);
	/* a tombstone's body only names its kind: fields in it do not make a conflict */
	trec_application(&t, "u001", "a", 4, 1, "2019-04-01", NULL, 0);
	t.r.has_deleted = 1;
	t.r.deleted = 1;
	assert_int_equal(apply_one(fx->st, &t), DUPLICATE);
	trec_application(&t, "u001", "a", 3, 1, "2019-04-01", "2019-05-01", 1);
	assert_int_equal(apply_one(fx->st, &t), STALE);
	assert_int_equal(city_report(fx->st, 2019).app[APP_ROW_NEW_RECEIVED][APP_COL_TOTAL], 0);
	/* revision 5 recreates it, as a legal person's */
	trec_application(&t, "u001", "a", 5, 2, "2020-01-03", NULL, 0);
	assert_int_equal(apply_one(fx->st, &t), APPLIED);
	r = city_report(fx->st, 2020);
	assert_int_equal(r.app[APP_ROW_NEW_RECEIVED][APP_COL_COMMERCIAL], 1);
	assert_int_equal(r.app[APP_ROW_NEW_RECEIVED][APP_COL_NATURAL_PERSON], 0);
	/* the same id in another unit, or as another kind, is another record */
	trec_application(&t, "u002", "a", 1, 1, "2020-01-03", NULL, 0);
	assert_int_equal(apply_one(fx->st, &t), APPLIED);
	trec_case(&t, "u001", "a", 1, 1, "2020-01-03", NULL, 0);
	assert_int_equal(apply_one(fx->st, &t), APPLIED);
	assert_int_equal(city_report(fx->st, 2020).app[APP_ROW_NEW_RECEIVED][APP_COL_TOTAL], 2);
	assert_verified(fx->st);
}

static void test_revisions_in_one_batch(void **state)
{
	struct fixture *fx = *state;
	struct trec *t = calloc(4, sizeof(*t));
	Xxgk__V1__Record *batch[4];
	struct store_status s[4];
	trec_document(&t[0], "u003", "doc", 1, 2, "2018-01-01", "2018-01-02", NULL);
	trec_document(&t[1], "u003", "doc", 3, 2, "2018-01-01", "2018-01-02", "2019-06-01");
	trec_document(&t[2], "u003", "doc", 2, 2, "2018-01-01", NULL, NULL);
	trec_document(&t[3], "u003", "doc", 3, 2, "2018-01-01", "2018-01-02", "2019-06-01");
	for (int i = 0; i < 4; i++)
		batch[i] = &t[i].r;
	test_apply(fx->st, batch, 4, s);
	assert_int_equal(s[0].code, APPLIED);
	assert_int_equal(s[1].code, APPLIED);
	assert_int_equal(s[2].code, STALE);
	assert_int_equal(s[3].code, DUPLICATE);
	struct report r = city_report(fx->st, 2019);
	assert_int_equal(r.pro[PRO_CELL_NORMDOCS_REPEALED], 1);
	assert_int_equal(r.pro[PRO_CELL_NORMDOCS_IN_FORCE], 0);
	assert_int_equal(city_report(fx->st, 2018).pro[PRO_CELL_NORMDOCS_PUBLISHED_TOTAL], 1);
	assert_verified(fx->st);
	free(t);
}

/* A map far too small for the batch is grown, and the batch commits whole. */
static void test_map_full_grows(void **state)
{
	struct fixture *fx = *state;
	char *dir = tmpdir_make("mapfull");
	struct store *st;
	struct store_options opt = {.map_size = 64 << 10, .no_sync = 1};
	struct store_stats stats;
	enum { N = 20000 };
	struct trec *t = calloc(N, sizeof(*t));
	Xxgk__V1__Record **batch = calloc(N, sizeof(*batch));
	struct store_status *s = calloc(N, sizeof(*s));
	assert_int_equal(store_open(&st, dir, &opt), 0);
	assert_int_equal(store_set_units(st, fx->city.units, fx->city.n), 0);
	for (int i = 0; i < N; i++) {
		char id[32];
		snprintf(id, sizeof(id), "bulk-%06d", i);
		trec_random(&t[i], (uint64_t)i, -1, fx->city.ids[i % 8], id, 1, 2017, 2023);
		batch[i] = &t[i].r;
	}
	assert_int_equal(store_apply(st, batch, N, s), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(s[i].code, APPLIED);
	assert_int_equal(store_stats(st, &stats), 0);
	printf("# map grew from %d KiB to %llu KiB\n", 64,
	       (unsigned long long)stats.map_size >> 10);
	assert_true(stats.map_size > (64u << 10));
	assert_int_equal(stats.records, N);
	assert_verified(st);
	store_close(st);
	/* reopened, the grown map and every record are there */
	assert_int_equal(store_open(&st, dir, &opt), 0);
	assert_int_equal(store_stats(st, &stats), 0);
	assert_int_equal(stats.records, N);
	assert_verified(st);
	store_close(st);
	tmpdir_remove(dir);
	free(t);
	free(batch);
	free(s);
}

/* Writes a raw value into a database of a closed store. */
static void poke(const char *dir, const char *db, const void *key, size_t klen, const void *val,
		 size_t vlen, int first_key)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	if (first_key) {
		MDB_cursor *cur;
		MDB_val fk, fv;
		assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
		assert_int_equal(mdb_cursor_get(cur, &fk, &fv, MDB_FIRST), 0);
		assert_int_equal(mdb_cursor_put(cur, &fk, &v, MDB_CURRENT), 0);
		mdb_cursor_close(cur);
	} else {
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

struct names {
	char v[256];
};

static void add_name(void *ctx, const char *unit)
{
	struct names *n = ctx;
	snprintf(n->v + strlen(n->v), sizeof(n->v) - strlen(n->v), "%s%s", n->v[0] ? " " : "",
		 unit);
}

static void silent(struct store *st, int year, const struct report_scope *scope, char *out)
{
	struct names n = {""};
	assert_int_equal(store_silent_units(st, year, scope, add_name, &n), 0);
	strcpy(out, n.v);
}

static int64_t submitted(struct store *st, uint8_t scope, uint32_t id, int year)
{
	struct counter_key k = {scope, id, (uint16_t)year, COUNTER_SUBMITTED};
	return store_counter(st, &k);
}

/*
 * A submission (报送) moves the submitted counter of its unit, kind and the city in the same
 * transaction, no cell of the report; silent units are the listed units without one, whatever
 * records they have; a withdrawal (tombstone) and a later revision move it back and forth.
 */
static void test_submissions(void **state)
{
	struct fixture *fx = *state;
	char *dir = tmpdir_make("submissions");
	struct store *st = test_store_open(dir, &fx->city);
	struct report_scope city = {.type = SCOPE_CITY}, township = {.type = SCOPE_KIND, .kind = 3};
	struct trec t;
	char names[256];
	uint64_t t0 = (uint64_t)time(NULL);
	/* u001 (township): a 2023 application concluded in 2024, its only 2024 activity */
	trec_application(&t, "u001", "a", 1, 1, "2023-12-20", "2024-01-10", 1);
	assert_int_equal(apply_one(st, &t), APPLIED);
	/* u004 (township): a record dated 2024 */
	trec_tally(&t, "u004", "x", 1, 1, "2024-03-01", 2);
	assert_int_equal(apply_one(st, &t), APPLIED);
	struct report before = city_report(st, 2024);
	silent(st, 2024, &city, names);
	assert_string_equal(names, "u000 u001 u002 u003 u004 u005 u006 u007");
	silent(st, 2024, &township, names);
	assert_string_equal(names, "u001 u004 u007");

	trec_submission(&t, "u001", 2024, 1);
	assert_int_equal(apply_one(st, &t), APPLIED);
	assert_int_equal(apply_one(st, &t), DUPLICATE);
	trec_submission(&t, "u002", 2024, 1); /* a 零报告: no record at all */
	assert_int_equal(apply_one(st, &t), APPLIED);
	silent(st, 2024, &city, names);
	assert_string_equal(names, "u000 u003 u004 u005 u006 u007");
	silent(st, 2024, &township, names);
	assert_string_equal(names, "u004 u007");
	silent(st, 2023, &city, names); /* another year: not submitted */
	assert_string_equal(names, "u000 u001 u002 u003 u004 u005 u006 u007");
	assert_int_equal(submitted(st, SCOPE_UNIT, store_unit_number(st, "u001"), 2024), 1);
	assert_int_equal(submitted(st, SCOPE_KIND, 3, 2024), 1);
	assert_int_equal(submitted(st, SCOPE_KIND, 4, 2024), 1);
	assert_int_equal(submitted(st, SCOPE_CITY, 0, 2024), 2);
	struct report after = city_report(st, 2024);
	char where[160];
	assert_true(report_compare(&after, &before, where, sizeof(where)));
	assert_verified(st);

	/* units --year: submitted and when, records of the year, last record received */
	const char *ids[] = {"u001", "u002", "u004", "u005", "nobody"};
	struct store_unit_year uy[5];
	uint64_t t1 = (uint64_t)time(NULL);
	assert_int_equal(store_unit_years(st, 2024, ids, 5, uy), 0);
	assert_true(uy[0].submitted && uy[0].submitted_at >= t0 && uy[0].submitted_at <= t1);
	assert_int_equal(uy[0].records, 0); /* its application counts in 2023 */
	assert_true(uy[0].last_record_at >= t0 && uy[0].last_record_at <= t1);
	assert_true(uy[1].submitted && uy[1].submitted_at >= t0);
	assert_int_equal(uy[1].last_record_at, 0);
	assert_true(!uy[2].submitted && uy[2].submitted_at == 0 && uy[2].records == 1);
	assert_true(uy[2].last_record_at >= t0);
	assert_true(!uy[3].submitted && uy[3].records == 0 && uy[3].last_record_at == 0);
	assert_true(!uy[4].submitted && uy[4].records == 0);
	assert_int_equal(store_unit_years(st, 1999, ids, 5, uy), XXGK_EINVAL);

	/* withdrawn: listed again, counted nowhere, no time; submitted again: counted */
	trec_tombstone(&t, "u001", "报送-2024", 2, RECORD_SUBMISSION);
	assert_int_equal(apply_one(st, &t), APPLIED);
	silent(st, 2024, &township, names);
	assert_string_equal(names, "u001 u004 u007");
	assert_int_equal(submitted(st, SCOPE_CITY, 0, 2024), 1);
	assert_int_equal(store_unit_years(st, 2024, ids, 1, uy), 0);
	assert_true(!uy[0].submitted && uy[0].submitted_at == 0);
	trec_submission(&t, "u001", 2024, 1);
	assert_int_equal(apply_one(st, &t), STALE);
	trec_submission(&t, "u001", 2024, 3);
	assert_int_equal(apply_one(st, &t), APPLIED);
	assert_int_equal(submitted(st, SCOPE_CITY, 0, 2024), 2);
	assert_verified(st);

	/* kept across a reopen, the times too */
	store_close(st);
	assert_int_equal(store_open(&st, dir, NULL), 0);
	silent(st, 2024, &city, names);
	assert_string_equal(names, "u000 u003 u004 u005 u006 u007");
	assert_int_equal(store_unit_years(st, 2024, ids, 1, uy), 0);
	assert_true(uy[0].submitted && uy[0].submitted_at >= t0);
	store_close(st);
	tmpdir_remove(dir);
}

static void test_schema_version(void **state)
{
	struct fixture *fx = *state;
	char *dir = tmpdir_make("schema");
	struct store *st = test_store_open(dir, &fx->city);
	struct trec t;
	trec_application(&t, "u001", "a", 1, 1, "2019-04-01", NULL, 0);
	assert_int_equal(apply_one(st, &t), APPLIED);
	store_close(st);
	const uint8_t newer[4] = {0, 0, 0, STORE_SCHEMA_VERSION + 1};
	poke(dir, "meta", "schema_version", 14, newer, sizeof(newer), 0);
	st = NULL;
	assert_int_equal(store_open(&st, dir, NULL), XXGK_ESCHEMA);
	assert_null(st);
	tmpdir_remove(dir);
}

static void test_reopen_keeps_everything(void **state)
{
	struct fixture *fx = *state;
	char *dir = tmpdir_make("reopen");
	struct store *st = test_store_open(dir, &fx->city);
	struct trec t;
	for (int i = 0; i < 50; i++) {
		char id[16];
		snprintf(id, sizeof(id), "r%d", i);
		trec_random(&t, (uint64_t)i * 7, -1, fx->city.ids[i % 8], id, 1, 2018, 2020);
		assert_int_equal(apply_one(st, &t), APPLIED);
	}
	uint64_t digest = store_digest(st);
	store_close(st);
	assert_int_equal(store_open(&st, dir, NULL), 0); /* no units given: they are stored */
	assert_true(store_digest(st) == digest);
	trec_application(&t, "u007", "after", 1, 1, "2019-04-01", NULL, 0);
	assert_int_equal(apply_one(st, &t), APPLIED);
	store_close(st);
	tmpdir_remove(dir);
}

static void test_units(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	struct report r;
	struct report_scope dept = {.type = SCOPE_KIND,
				    .kind = XXGK__V1__UNIT_KIND__UNIT_DEPARTMENT};
	struct report_scope town = {.type = SCOPE_KIND, .kind = XXGK__V1__UNIT_KIND__UNIT_TOWNSHIP};
	struct report_scope u2 = {.type = SCOPE_UNIT, .unit = "u002"};
	struct store_unit bad[2] = {{"u001", 2}, {"u001", 3}};
	/* u002 starts as a functional zone and becomes a department */
	assert_int_equal(fx->city.units[2].kind, XXGK__V1__UNIT_KIND__UNIT_FUNCTIONAL_ZONE);
	fx->city.units[2].kind = XXGK__V1__UNIT_KIND__UNIT_DEPARTMENT;
	assert_int_equal(store_set_units(fx->st, fx->city.units, fx->city.n), 0);
	for (int i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof(id), "k%d", i);
		trec_application(&t, "u002", id, 1, 4, "2022-02-01", NULL, 0);
		assert_int_equal(apply_one(fx->st, &t), APPLIED);
	}
	assert_int_equal(store_report(fx->st, 2022, &dept, 0, &r), 0);
	assert_int_equal(r.app[APP_ROW_NEW_RECEIVED][APP_COL_PUBLIC_INTEREST], 3);
	/* u002 becomes a township: its counts move with it */
	fx->city.units[2].kind = XXGK__V1__UNIT_KIND__UNIT_TOWNSHIP;
	assert_int_equal(store_set_units(fx->st, fx->city.units, fx->city.n), 0);
	assert_int_equal(store_report(fx->st, 2022, &dept, 0, &r), 0);
	assert_int_equal(r.app[APP_ROW_NEW_RECEIVED][APP_COL_PUBLIC_INTEREST], 0);
	assert_int_equal(store_report(fx->st, 2022, &town, 0, &r), 0);
	assert_int_equal(r.app[APP_ROW_NEW_RECEIVED][APP_COL_PUBLIC_INTEREST], 3);
	assert_verified(fx->st);
	/* unlisted, u002 takes no new records; what it sent still counts */
	assert_int_equal(store_set_units(fx->st, fx->city.units, 2), 0);
	trec_application(&t, "u002", "k9", 1, 4, "2022-02-01", NULL, 0);
	assert_int_equal(apply_one(fx->st, &t), REJECTED);
	assert_int_equal(city_report(fx->st, 2022).app[APP_ROW_NEW_RECEIVED][APP_COL_TOTAL], 3);
	assert_int_equal(store_report(fx->st, 2022, &u2, 0, &r), 0);
	/* listed again, it is the same unit */
	assert_int_equal(store_set_units(fx->st, fx->city.units, fx->city.n), 0);
	assert_int_equal(apply_one(fx->st, &t), APPLIED);
	assert_int_equal(store_report(fx->st, 2022, &u2, 0, &r), 0);
	assert_int_equal(r.app[APP_ROW_NEW_RECEIVED][APP_COL_TOTAL], 4);
	/* bad unit lists change nothing */
	uint64_t digest = store_digest(fx->st);
	assert_int_equal(store_set_units(fx->st, bad, 2), XXGK_EINVAL);
	bad[1] = (struct store_unit){"", 2};
	assert_int_equal(store_set_units(fx->st, bad, 2), XXGK_EINVAL);
	bad[1] = (struct store_unit){"u100", 9};
	assert_int_equal(store_set_units(fx->st, bad, 2), XXGK_EINVAL);
	bad[1] = (struct store_unit){"u100", 0};
	assert_int_equal(store_set_units(fx->st, bad, 2), XXGK_EINVAL);
	assert_true(store_digest(fx->st) == digest);
	trec_application(&t, "u007", "still", 1, 4, "2022-02-01", NULL, 0);
	assert_int_equal(apply_one(fx->st, &t), APPLIED);
	assert_verified(fx->st);
}

static void test_bad_report_queries(void **state)
{
	struct fixture *fx = *state;
	struct report r;
	struct report_scope city = {.type = SCOPE_CITY};
	struct report_scope nobody = {.type = SCOPE_UNIT, .unit = "nobody"};
	struct report_scope no_unit = {.type = SCOPE_UNIT};
	struct report_scope kind0 = {.type = SCOPE_KIND, .kind = 0};
	struct report_scope kind9 = {.type = SCOPE_KIND, .kind = 9};
	struct report_scope scope7 = {.type = 7};
	assert_int_equal(store_report(fx->st, 1999, &city, 0, &r), XXGK_EINVAL);
	assert_int_equal(store_report(fx->st, 2100, &city, 0, &r), XXGK_EINVAL);
	assert_int_equal(store_report(fx->st, 2019, &city, 2020, &r), XXGK_EINVAL);
	assert_int_equal(store_report(fx->st, 2019, &nobody, 0, &r), XXGK_ENOTFOUND);
	assert_int_equal(store_report(fx->st, 2019, &no_unit, 0, &r), XXGK_ENOTFOUND);
	assert_int_equal(store_report(fx->st, 2019, &kind0, 0, &r), XXGK_EINVAL);
	assert_int_equal(store_report(fx->st, 2019, &kind9, 0, &r), XXGK_EINVAL);
	assert_int_equal(store_report(fx->st, 2019, &scope7, 0, &r), XXGK_EINVAL);
	assert_int_equal(store_report(fx->st, 2021, &city, 0, &r), 0);
	assert_int_equal(r.template_year, 2021);
	assert_int_equal(store_report(fx->st, 2020, &city, 0, &r), 0);
	assert_int_equal(r.template_year, 2019);
}

static void collect_difference(void *ctx, const char *line)
{
	char *first = ctx;
	if (first[0] == '\0')
		snprintf(first, 256, "%s", line);
}

static void test_verify_finds_tampering(void **state)
{
	struct fixture *fx = *state;
	char *dir = tmpdir_make("tamper");
	struct store *st = test_store_open(dir, &fx->city);
	struct trec t;
	char first[256] = "";
	size_t differences = 0;
	trec_application(&t, "u001", "a", 1, 1, "2019-04-01", NULL, 0);
	assert_int_equal(apply_one(st, &t), APPLIED);
	assert_verified(st);
	store_close(st);
	const int64_t wrong = 42;
	poke(dir, "counters", NULL, 0, &wrong, sizeof(wrong), 1);
	assert_int_equal(store_open(&st, dir, NULL), 0);
	assert_int_equal(store_verify(st, collect_difference, first, &differences), 0);
	assert_int_equal(differences, 1);
	printf("# verify: %s\n", first);
	assert_non_null(strstr(
	    first, "city 2019 applications.new_received.natural_person: stored 42, recomputed 1"));
	store_close(st);
	tmpdir_remove(dir);
}

/* ---- counters never wrap ---- */

#define OVERFLOW XXGK__V1__RECORD_STATUS__REASON__OVERFLOW
#define PROCUREMENT XXGK__V1__TALLY_MEASURE__TALLY_PROCUREMENT_AMOUNT

static int64_t procurement(struct store *st, int year)
{
	return city_report(st, year).pro[PRO_CELL_PROCUREMENT_AMOUNT];
}

static uint64_t stored_records(struct store *st)
{
	struct store_stats stats;
	assert_int_equal(store_stats(st, &stats), 0);
	return stats.records;
}

/* A sum past int64 is kept saturated and marked, never wrapped to the other sign. */
static void test_merge_does_not_wrap(void **state)
{
	(void)state;
	struct delta_list l = {0};
	struct counter_key k = {SCOPE_CITY, 0, 2019, 1};
	assert_int_equal(delta_add(&l, &k, INT64_MAX - 1), 0);
	assert_int_equal(delta_add(&l, &k, 5), 0);
	k.counter = 2;
	assert_int_equal(delta_add(&l, &k, INT64_MIN + 1), 0);
	assert_int_equal(delta_add(&l, &k, -5), 0);
	int rc = delta_merge(&l);
	assert_int_equal(l.n, 2);
	printf("# merged: %lld and %lld\n", (long long)l.v[0].value, (long long)l.v[1].value);
	assert_true(l.v[0].value > 0);
	assert_true(l.v[1].value < 0);
	assert_int_equal(rc, XXGK_ERANGE);
	assert_true(l.v[0].overflow && l.v[1].overflow);
	delta_free(&l);
}

/*
 * Adding after a merge of more sums than the first hash holds (verify merges its list every
 * million counters and goes on adding): the hash is built for them all, and the sums go on.
 */
static void test_add_after_large_merge(void **state)
{
	(void)state;
	struct delta_list l = {0};
	struct counter_key k = {SCOPE_UNIT, 0, 2019, 1};
	alarm(20); /* a hash too small for the list loops forever */
	for (uint32_t i = 0; i < 5000; i++) {
		k.scope_id = i;
		assert_int_equal(delta_add(&l, &k, 1), 0);
	}
	assert_int_equal(delta_merge(&l), 0);
	assert_int_equal(l.n, 5000);
	for (uint32_t i = 0; i < 6000; i++) {
		k.scope_id = i;
		assert_int_equal(delta_add(&l, &k, 2), 0);
	}
	assert_int_equal(delta_merge(&l), 0);
	alarm(0);
	assert_int_equal(l.n, 6000);
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.v[i].key.scope_id, i);
		assert_int_equal(l.v[i].value, i < 5000 ? 3 : 2);
	}
	delta_free(&l);
}

/*
 * A group commit's deltas take one entry per counter, not one per record and flow (500,000 in a
 * commit of 25,000 records, sorted at its end): 100,000 deltas to 10 counters are 10 entries,
 * summed; a sum that reaches zero is dropped by the merge, and the list takes new keys after it.
 */
static void test_deltas_sum_per_counter(void **state)
{
	(void)state;
	struct delta_list l = {0};
	for (int i = 0; i < 100000; i++) {
		struct counter_key k = {SCOPE_UNIT, (uint32_t)(i % 10), 2024, 7};
		assert_int_equal(delta_add(&l, &k, k.scope_id == 3 ? (i % 20 < 10 ? 1 : -1) : 2),
				 0);
	}
	printf("# 100000 deltas to 10 counters: %zu entries\n", l.n);
	assert_int_equal(l.n, 10);
	assert_int_equal(delta_merge(&l), 0);
	assert_int_equal(l.n, 9); /* counter 3's sum is zero */
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.v[i].key.scope_id, i < 3 ? i : i + 1);
		assert_int_equal(l.v[i].value, 20000);
	}
	struct counter_key k = {SCOPE_CITY, 0, 2024, 7};
	assert_int_equal(delta_add(&l, &k, 5), 0);
	assert_int_equal(delta_add(&l, &k, 5), 0);
	assert_int_equal(l.n, 10);
	assert_int_equal(l.v[9].value, 10);
	delta_clear(&l);
	assert_int_equal(delta_add(&l, &k, 1), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].value, 1);
	delta_free(&l);
}

/*
 * With a limit of 1000: tallies are accepted up to the limit; the one that would pass it is
 * rejected as OVERFLOW, naming the counter, and changes nothing, while the others of its batch
 * apply; a tombstone and a lower revision that bring the counter down apply.
 */
static void test_counter_limit(void **state)
{
	struct fixture *fx = *state;
	char *dir = tmpdir_make("limit");
	struct store_options opt = {.no_sync = 1, .counter_max = 1000};
	struct store *st;
	struct trec t[4];
	Xxgk__V1__Record *batch[4] = {&t[0].r, &t[1].r, &t[2].r, &t[3].r};
	struct store_status s[4];
	assert_int_equal(store_open(&st, dir, &opt), 0);
	assert_int_equal(store_set_units(st, fx->city.units, fx->city.n), 0);
	for (int i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof(id), "p%d", i);
		trec_tally(&t[0], "u001", id, 1, PROCUREMENT, "2019-06-01", 300);
		assert_int_equal(apply_one(st, &t[0]), APPLIED);
	}
	assert_int_equal(procurement(st, 2019), 900);
	/* alone: rejected, and the store is as it was */
	uint64_t digest = store_digest(st), records = stored_records(st);
	trec_tally(&t[0], "u001", "x", 1, PROCUREMENT, "2019-06-02", 300);
	test_apply(st, batch, 1, s);
	printf("# %s\n", s[0].message);
	assert_int_equal(s[0].code, REJECTED);
	assert_int_equal(s[0].reason, OVERFLOW);
	assert_string_equal(s[0].message,
			    "tally.value: would carry city 2019 "
			    "flows.procurement_amount past 1000, the limit of a counter");
	assert_true(store_digest(st) == digest);
	assert_int_equal(stored_records(st), records);
	assert_int_equal(procurement(st, 2019), 900);
	assert_verified(st);
	/* in a batch: the others apply, up to the limit exactly */
	trec_application(&t[1], "u002", "y", 1, 1, "2019-06-03", NULL, 0);
	trec_tally(&t[2], "u003", "z", 1, PROCUREMENT, "2019-06-04", 100);
	trec_tally(&t[3], "u004", "w", 1, PROCUREMENT, "2019-06-05", 1);
	test_apply(st, batch, 4, s);
	assert_int_equal(s[0].code, REJECTED);
	assert_int_equal(s[0].reason, OVERFLOW);
	assert_int_equal(s[1].code, APPLIED);
	assert_int_equal(s[2].code, APPLIED);
	assert_int_equal(s[3].code, REJECTED);
	assert_int_equal(s[3].reason, OVERFLOW);
	assert_int_equal(procurement(st, 2019), 1000);
	assert_int_equal(stored_records(st), records + 2);
	assert_int_equal(city_report(st, 2019).app[APP_ROW_NEW_RECEIVED][APP_COL_TOTAL], 1);
	/* the changes of that commit are those of the records applied */
	const struct delta_list *changes = store_changes(st);
	int64_t moved = 0;
	for (size_t i = 0; i < changes->n; i++)
		if (changes->v[i].key.scope == SCOPE_CITY &&
		    changes->v[i].key.counter == counter_pro(PRO_FLOW_PROCUREMENT_AMOUNT))
			moved += changes->v[i].value;
	assert_int_equal(moved, 100);
	assert_verified(st);
	/* a tombstone and a lower revision bring it down; then x fits */
	trec_tombstone(&t[0], "u001", "p0", 2, RECORD_TALLY);
	assert_int_equal(apply_one(st, &t[0]), APPLIED);
	trec_tally(&t[0], "u001", "p1", 2, PROCUREMENT, "2019-06-01", 50);
	assert_int_equal(apply_one(st, &t[0]), APPLIED);
	assert_int_equal(procurement(st, 2019), 450);
	trec_tally(&t[0], "u001", "x", 1, PROCUREMENT, "2019-06-02", 300);
	assert_int_equal(apply_one(st, &t[0]), APPLIED);
	assert_int_equal(procurement(st, 2019), 750);
	/* signed catalogue changes are limited in magnitude both ways */
	trec_tally(&t[0], "u005", "c1", 1, XXGK__V1__TALLY_MEASURE__TALLY_LICENSING_ITEMS,
		   "2019-01-01", -600);
	assert_int_equal(apply_one(st, &t[0]), APPLIED);
	trec_tally(&t[0], "u005", "c2", 1, XXGK__V1__TALLY_MEASURE__TALLY_LICENSING_ITEMS,
		   "2019-01-01", -600);
	test_apply(st, batch, 1, s);
	assert_int_equal(s[0].reason, OVERFLOW);
	assert_non_null(strstr(s[0].message, "flows.licensing_items"));
	assert_verified(st);
	store_close(st);
	tmpdir_remove(dir);
}

/* The real limit is the same code: 140 tallies of the largest amount fit, the 141st does not. */
static void test_real_limit(void **state)
{
	struct fixture *fx = *state;
	enum { N = 141 };
	struct trec *t = calloc(N, sizeof(*t));
	Xxgk__V1__Record *batch[N];
	struct store_status s[N];
	for (int i = 0; i < N; i++) {
		char id[16];
		snprintf(id, sizeof(id), "big%d", i);
		trec_tally(&t[i], "u001", id, 1, PROCUREMENT, "2019-06-01", 1000000000000LL);
		batch[i] = &t[i].r;
	}
	test_apply(fx->st, batch, N, s);
	for (int i = 0; i < N - 1; i++)
		assert_int_equal(s[i].code, APPLIED);
	printf("# %s\n", s[N - 1].message);
	assert_int_equal(s[N - 1].code, REJECTED);
	assert_int_equal(s[N - 1].reason, OVERFLOW);
	assert_int_equal(procurement(fx->st, 2019), 140000000000000LL);
	assert_true(procurement(fx->st, 2019) <= COUNTER_MAX);
	assert_verified(fx->st);
	free(t);
}

static void collect_differences(void *ctx, const char *line)
{
	char *all = ctx;
	size_t len = strlen(all);
	snprintf(all + len, 4096 - len, "%s\n", line);
}

/*
 * A store written under a larger limit and reopened under a smaller one: its counters equal
 * their recomputation, yet verify names each one beyond the limit; a tombstone still brings
 * them down.
 */
static void test_verify_beyond_limit(void **state)
{
	struct fixture *fx = *state;
	char *dir = tmpdir_make("beyond");
	struct store_options opt = {.no_sync = 1, .counter_max = 1000000};
	struct store *st;
	struct trec t;
	char lines[4096] = "";
	size_t differences = 0;
	assert_int_equal(store_open(&st, dir, &opt), 0);
	assert_int_equal(store_set_units(st, fx->city.units, fx->city.n), 0);
	trec_tally(&t, "u001", "a", 1, PROCUREMENT, "2019-06-01", 1200);
	assert_int_equal(apply_one(st, &t), APPLIED);
	assert_verified(st);
	store_close(st);
	opt.counter_max = 1000;
	assert_int_equal(store_open(&st, dir, &opt), 0);
	assert_int_equal(store_verify(st, collect_differences, lines, &differences), 0);
	printf("# verify:\n%s", lines);
	assert_int_equal(differences, 3); /* the unit's, its kind's and the city's */
	assert_non_null(strstr(lines, "city 2019 flows.procurement_amount: stored 1200 is beyond "
				      "1000, the limit of a counter"));
	assert_non_null(strstr(lines, "unit u001 2019 flows.procurement_amount: stored 1200"));
	/* more is refused; less is taken */
	trec_tally(&t, "u001", "b", 1, PROCUREMENT, "2019-06-01", 1);
	assert_int_equal(apply_one(st, &t), REJECTED);
	trec_tally(&t, "u001", "a", 2, PROCUREMENT, "2019-06-01", 700);
	assert_int_equal(apply_one(st, &t), APPLIED);
	assert_verified(st);
	store_close(st);
	tmpdir_remove(dir);
}

/* Counters put into LMDB near INT64_MAX: the report refuses to wrap, verify names them. */
static void test_report_sum_does_not_wrap(void **state)
{
	struct fixture *fx = *state;
	char *dir = tmpdir_make("wrap");
	struct store *st = test_store_open(dir, &fx->city);
	struct trec t;
	struct report r;
	struct report_scope city = {.type = SCOPE_CITY};
	char lines[4096] = "";
	size_t differences = 0;
	trec_tally(&t, "u001", "a", 1, PROCUREMENT, "2019-06-01", 100);
	assert_int_equal(apply_one(st, &t), APPLIED);
	store_close(st);
	const int64_t huge = INT64_MAX - 10;
	for (int year = 2017; year <= 2018; year++) {
		struct counter_key key = {SCOPE_CITY, 0, (uint16_t)year,
					  (uint16_t)counter_pro(PRO_FLOW_LICENSING_ITEMS)};
		uint8_t kb[COUNTER_KEY_SIZE];
		counter_key_encode(&key, kb);
		poke(dir, "counters", kb, sizeof(kb), &huge, sizeof(huge), 0);
	}
	assert_int_equal(store_open(&st, dir, NULL), 0);
	int rc = store_report(st, 2019, &city, 0, &r);
	printf("# report: %d, licensing items_prev %lld\n", rc,
	       (long long)r.pro[PRO_CELL_LICENSING_ITEMS_PREV]);
	assert_int_equal(rc, XXGK_ERANGE);
	assert_int_equal(store_verify(st, collect_differences, lines, &differences), 0);
	printf("# verify:\n%s", lines);
	assert_int_equal(differences, 2);
	assert_non_null(strstr(lines,
			       "city 2017 flows.licensing_items: stored 9223372036854775797, "
			       "recomputed 0"));
	store_close(st);
	tmpdir_remove(dir);
}

/* The flows of a record as built, checked. */
static int flows_of(struct trec *t, struct flow *out)
{
	struct record_facts f;
	char msg[256];
	if (record_check(&t->r, &f, msg, sizeof(msg)))
		fail_msg("bad test record %s: %s", t->r.id, msg);
	return rules_flows(&f, out);
}

/* Whether replacing was (NULL: nothing stored) by now changes a cell of year. */
static int changes(struct trec *was, struct trec *now, int year)
{
	struct flow a[RULES_FLOWS_MAX], b[RULES_FLOWS_MAX];
	int na = was ? flows_of(was, a) : 0, nb = flows_of(now, b);
	return freeze_changes_year(a, na, b, nb, year, cells_template_for_year(year));
}

/* The FROZEN rule's years: the year itself, and earlier years only through the stocks. */
static void test_frozen_year_arithmetic(void **state)
{
	(void)state;
	struct trec was, now;
	/* a new application of 2024 changes 2024, and 2025 only if it stays open */
	trec_application(&now, "u001", "a", 1, 1, "2024-05-01", "2024-05-20", 1);
	assert_true(changes(NULL, &now, 2024));
	assert_false(changes(NULL, &now, 2025));
	assert_false(changes(NULL, &now, 2023));
	trec_application(&now, "u001", "a", 1, 1, "2024-12-20", NULL, 0);
	assert_true(changes(NULL, &now, 2025)); /* 上年结转 of 2025 */
	assert_true(changes(NULL, &now, 2030)); /* still carried in, years later */
	/* concluding in 2025 what 2024 carried out changes 2025, not 2024 */
	trec_application(&was, "u001", "a", 1, 1, "2024-12-20", NULL, 0);
	trec_application(&now, "u001", "a", 2, 1, "2024-12-20", "2025-01-10", 1);
	assert_false(changes(&was, &now, 2024));
	assert_true(changes(&was, &now, 2025));
	assert_true(changes(&was, &now, 2026)); /* no longer carried into 2026 */
	/* received and concluded within 2023: 2024's 上年结转 is the same */
	trec_application(&now, "u001", "b", 1, 1, "2023-02-01", "2023-02-20", 1);
	assert_false(changes(NULL, &now, 2024));
	assert_true(changes(NULL, &now, 2023));
	/* ...but concluding a 2023 application in 2023 instead of 2024 moves 2024 */
	trec_application(&was, "u001", "b", 1, 1, "2023-11-01", "2024-01-10", 1);
	trec_application(&now, "u001", "b", 2, 1, "2023-11-01", "2023-12-20", 1);
	assert_true(changes(&was, &now, 2024));
	assert_false(changes(&was, &now, 2025));
	/* another outcome, same years: only the year concluded */
	trec_application(&was, "u001", "c", 1, 1, "2023-11-01", "2024-01-10", 1);
	trec_application(&now, "u001", "c", 2, 1, "2023-11-01", "2024-01-10", 2);
	assert_true(changes(&was, &now, 2024));
	assert_false(changes(&was, &now, 2023));
	/* the same flows (a new revision of the same facts) change nothing */
	trec_application(&now, "u001", "c", 3, 1, "2023-11-01", "2024-01-10", 1);
	assert_false(changes(&was, &now, 2024));
	/* a deletion takes the record's flows away */
	trec_tombstone(&now, "u001", "c", 3, RECORD_APPLICATION);
	assert_true(changes(&was, &now, 2024));
	assert_true(changes(&was, &now, 2023));
	/* a document in force: 现行有效件数 of every later year */
	trec_document(&now, "u001", "d", 1, 2, "2020-03-01", "2020-03-02", NULL);
	assert_true(changes(NULL, &now, 2024));
	assert_false(changes(NULL, &now, 2019));
	/* made and repealed before 2024: in force in 2024 neither way */
	trec_document(&now, "u001", "d", 1, 2, "2021-03-01", NULL, "2022-03-01");
	assert_false(changes(NULL, &now, 2024));
	assert_true(changes(NULL, &now, 2022));
	/* a case counts in the year filed only */
	trec_case(&now, "u001", "e", 1, 1, "2023-04-01", "2023-05-01", 1);
	assert_false(changes(NULL, &now, 2024));
	assert_true(changes(NULL, &now, 2023));
	/* item catalogues (上一年项目数量) are printed by the 2019 template only */
	trec_tally(&now, "u001", "f", 1, 8, "2019-06-30", 3);
	assert_true(changes(NULL, &now, 2020));	 /* 2019 template: items_prev */
	assert_false(changes(NULL, &now, 2022)); /* 2021 template: no item cells */
}

/* freeze_check: the first frozen year the change would move. */
static void test_frozen_years_checked(void **state)
{
	(void)state;
	static struct freeze_state fs;
	struct trec was, now;
	struct flow a[RULES_FLOWS_MAX], b[RULES_FLOWS_MAX];
	memset(&fs, 0, sizeof(fs));
	fs.years[2024 - DATE_YEAR_MIN].frozen = 1;
	fs.years[2024 - DATE_YEAR_MIN].template_year = 2021;
	trec_application(&was, "u001", "a", 1, 1, "2024-12-20", NULL, 0);
	trec_application(&now, "u001", "a", 2, 1, "2024-12-20", "2025-01-10", 1);
	int na = flows_of(&was, a), nb = flows_of(&now, b);
	assert_int_equal(freeze_check(&fs, a, na, b, nb), 0);
	trec_application(&now, "u001", "a", 2, 1, "2022-12-20", NULL, 0);
	nb = flows_of(&now, b);
	assert_int_equal(freeze_check(&fs, NULL, 0, b, nb), 2024);
	fs.years[2023 - DATE_YEAR_MIN].frozen = 1;
	fs.years[2023 - DATE_YEAR_MIN].template_year = 2021;
	assert_int_equal(freeze_check(&fs, NULL, 0, b, nb), 2023);
}

struct restated {
	size_t n;
	int city_total_seen;
};

static int count_restatement(void *ctx, const struct report_scope *scope, const char *key,
			     int64_t published, int64_t live)
{
	struct restated *r = ctx;
	r->n++;
	if (scope->type == SCOPE_CITY && strcmp(key, "applications.new_received.total") == 0 &&
	    published == 1 && live == 2)
		r->city_total_seen = 1;
	return 0;
}

static int count_event(void *ctx, const Xxgk__V1__FreezeEvent *e)
{
	(void)e;
	(*(size_t *)ctx)++;
	return 0;
}

/* store_freeze: FROZEN records change nothing, across a reopen; unfreeze and freeze restate. */
static void test_freeze_in_store(void **state)
{
	struct fixture *fx = *state;
	struct trec t;
	struct store_status s;
	struct store_freeze_info info;
	struct report before, published;
	struct report_scope city = {.type = SCOPE_CITY};
	uint32_t generation;
	uint64_t scopes;
	Xxgk__V1__Record *r = &t.r;
	char where[128], why[256];
	trec_application(&t, "u001", "a", 1, 1, "2024-05-01", NULL, 0);
	assert_int_equal(apply_one(fx->st, &t), APPLIED);
	before = city_report(fx->st, 2024);
	assert_int_equal(
	    store_freeze(fx->st, 2024, "local", 1735689600, NULL, &generation, &scopes), 0);
	assert_int_equal(generation, 1);
	assert_int_equal(scopes, 1 + 4 + fx->city.n);
	assert_int_equal(
	    store_freeze(fx->st, 2024, "local", 1735689600, NULL, &generation, &scopes),
	    XXGK_EEXIST);
	store_close(fx->st);
	fx->st = test_store_open(fx->dir, &fx->city);
	uint64_t digest = store_digest(fx->st);
	trec_application(&t, "u002", "b", 1, 1, "2024-06-01", NULL, 0);
	test_apply(fx->st, &r, 1, &s);
	assert_int_equal(s.code, REJECTED);
	assert_int_equal(s.reason, XXGK__V1__RECORD_STATUS__REASON__FROZEN);
	assert_non_null(strstr(s.message, "2024"));
	assert_true(store_digest(fx->st) == digest);
	trec_application(&t, "u001", "a", 2, 1, "2024-05-01", "2025-01-10", 1);
	assert_int_equal(apply_one(fx->st, &t), APPLIED);
	assert_int_equal(store_published_report(fx->st, 2024, &city, &published, &info), 0);
	assert_true(report_compare(&before, &published, where, sizeof(where)));
	assert_string_equal(info.by, "local");
	assert_int_equal(info.at, 1735689600);
	/* a restatement */
	assert_int_equal(store_unfreeze(fx->st, 2024, "", "local", 1735689700, &generation),
			 XXGK_EINVAL);
	assert_int_equal(store_unfreeze(fx->st, 2024, "补报", "local", 1735689700, &generation), 0);
	assert_int_equal(store_unfreeze(fx->st, 2024, "补报", "local", 1735689700, &generation),
			 XXGK_ENOTFOUND);
	trec_application(&t, "u002", "b", 1, 1, "2024-06-01", NULL, 0);
	assert_int_equal(apply_one(fx->st, &t), APPLIED);
	assert_int_equal(store_published_report(fx->st, 2024, &city, &published, &info),
			 XXGK_ENOTFOUND);
	assert_int_equal(store_freeze(fx->st, 2024, "boss", 1735689800, NULL, &generation, &scopes),
			 0);
	assert_int_equal(generation, 2);
	struct restated restated = {0};
	assert_int_equal(
	    store_restatements(fx->st, 2024, count_restatement, &restated, &generation), 0);
	assert_int_equal(generation, 1);
	assert_true(restated.city_total_seen);
	size_t events = 0;
	assert_int_equal(store_freeze_events(fx->st, count_event, &events), 0);
	assert_int_equal(events, 3);
	assert_verified(fx->st);
	/* the walk of a damaged store reads the frozen years' databases too */
	uint64_t entries = 0;
	assert_int_equal(store_check_walk(fx->dir, 0, &entries, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_revision_rule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revisions_in_one_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_full_grows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_submissions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schema_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_units, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_report_queries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_finds_tampering, setup, teardown),
	    cmocka_unit_test(test_merge_does_not_wrap),
	    cmocka_unit_test(test_add_after_large_merge),
	    cmocka_unit_test(test_deltas_sum_per_counter),
	    cmocka_unit_test_setup_teardown(test_counter_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_real_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_beyond_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_report_sum_does_not_wrap, setup, teardown),
	    cmocka_unit_test(test_frozen_year_arithmetic),
	    cmocka_unit_test(test_frozen_years_checked),
	    cmocka_unit_test_setup_teardown(test_freeze_in_store, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
