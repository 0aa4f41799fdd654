/* Helpers the tests share: temporary directories, a seeded generator, records and store dumps. */
#ifndef XXGK_TESTUTIL_H
#define XXGK_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "report.h"
#include "store.h"

/* A fresh directory under $TMPDIR (or /tmp); removed with everything in it by tmpdir_remove. */
char *tmpdir_make(const char *tag);
void tmpdir_remove(char *dir);

/* splitmix64: small, fast, and the same sequence on every machine for a seed. */
struct rng {
	uint64_t s;
};
uint64_t rng_next(struct rng *r);
/* uniform in [0, n) */
uint32_t rng_below(struct rng *r, uint32_t n);
/* The seed of a test run: $XXGK_SEED if set, else the given default; printed for replay. */
uint64_t test_seed(uint64_t fallback);

/*
 * A record that owns its strings and body. It points into itself, so it must not be moved or
 * copied once built: keep them in place and shuffle pointers.
 */
struct trec {
	Xxgk__V1__Record r;
	union {
		Xxgk__V1__Application app;
		Xxgk__V1__Document doc;
		Xxgk__V1__Case cas;
		Xxgk__V1__Tally tally;
		Xxgk__V1__Submission sub;
	} body;
	char unit[RECORD_UNIT_MAX + 1];
	char id[RECORD_ID_MAX + 1];
	char dates[3][16];
};

/* The builders take NULL for an absent date and 0 for an absent enum. */
void trec_application(struct trec *t, const char *unit, const char *id, uint64_t revision,
		      int applicant, const char *received, const char *concluded, int outcome);
void trec_document(struct trec *t, const char *unit, const char *id, uint64_t revision, int kind,
		   const char *made, const char *published, const char *repealed);
void trec_case(struct trec *t, const char *unit, const char *id, uint64_t revision, int group,
	       const char *filed, const char *closed, int result);
void trec_tally(struct trec *t, const char *unit, const char *id, uint64_t revision, int measure,
		const char *date, int64_t value);
/* The submission (报送) of year, with its id 报送-YYYY; year 0 leaves the year out. */
void trec_submission(struct trec *t, const char *unit, int year, uint64_t revision);
/* A tombstone of a record of kind (enum record_kind); a submission's id names its year. */
void trec_tombstone(struct trec *t, const char *unit, const char *id, uint64_t revision, int kind);

/*
 * A random valid record of kind (enum record_kind, or -1 for any) with its first date in years
 * from..to: the same seed gives the same content.
 */
void trec_random(struct trec *t, uint64_t seed, int kind, const char *unit, const char *id,
		 uint64_t revision, int year_from, int year_to);

/* A city of units of every kind, named u000.. */
struct city {
	size_t n;
	struct store_unit *units;
	char (*ids)[16];
};
void city_make(struct city *c, size_t n);
void city_free(struct city *c);

/* All stored counters, in key order, for comparing two stores. */
struct counter_dump {
	size_t n, cap;
	struct {
		struct counter_key key;
		int64_t value;
	} * v;
};
void counter_dump(struct store *st, struct counter_dump *out);
int counter_dump_equal(const struct counter_dump *a, const struct counter_dump *b);
void counter_dump_free(struct counter_dump *d);

/* A digest of every stored record and counter: equal digests mean an unchanged store. */
uint64_t store_digest(struct store *st);

/* One stored counter's value (0 when absent). */
int64_t store_counter(struct store *st, const struct counter_key *key);

/* Opens a store in dir without fsync (tests that do not crash), failing the test on error. */
struct store *test_store_open(const char *dir, const struct city *c);

/* Applies records in one batch and fails the test if it does not commit. */
void test_apply(struct store *st, Xxgk__V1__Record *const *records, size_t n,
		struct store_status *statuses);

/* 1 if every cell of a and b is equal; else 0 and the first differing cell named in where. */
int report_compare(const struct report *a, const struct report *b, char *where, size_t size);

/* Checks T3-BAL, T3-OUT, T3-ROW and T4-TOT on one report; returns 0 or fails the test. */
void check_report_identities(const struct report *r, const char *what);

#endif
