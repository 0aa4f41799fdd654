/*
 * Counter deltas gathered in memory, then sorted and summed so that each counter is touched
 * once per transaction, in key order. Verify uses the same list to recompute every counter.
 */
#ifndef XXGK_DELTAS_H
#define XXGK_DELTAS_H

#include <stddef.h>
#include <stdint.h>

/* Which counters a delta belongs to: the city, one unit kind, or one unit. */
enum scope_type { SCOPE_CITY = 0, SCOPE_KIND = 1, SCOPE_UNIT = 2 };

struct counter_key {
	uint8_t scope;	   /* enum scope_type */
	uint32_t scope_id; /* 0 for the city, the UnitKind value, or the unit's number */
	uint16_t year;
	uint16_t counter;
};

/* The stored key: big-endian, so that LMDB's byte order is (scope, id, year, counter). */
#define COUNTER_KEY_SIZE 9
void counter_key_encode(const struct counter_key *k, uint8_t out[COUNTER_KEY_SIZE]);
void counter_key_decode(const uint8_t in[COUNTER_KEY_SIZE], struct counter_key *k);
int counter_key_compare(const struct counter_key *a, const struct counter_key *b);

/*
 * The largest magnitude of every stored counter. Far below INT64_MAX so that every sum a report
 * forms from counters cannot wrap either: a cell adds at most 13,200 counters (a row total of
 * table 三 over 6 columns of carried-out stocks, each over 21 outcomes and 100 years), under
 * 2^14, and 2^16 leaves room. 140,737,488,355,327 fen is 1,407,374,883,553.27 yuan (about 1.4
 * trillion yuan) a counter, 140 tallies of the largest amount a tally may carry (10^12 fen).
 */
#define COUNTER_MAX (INT64_MAX / 65536)

struct delta {
	struct counter_key key;
	uint8_t overflow; /* set by delta_merge: the sum passed int64, value is saturated */
	int64_t value;
};

struct delta_list {
	struct delta *v;
	size_t n, cap;
	/* where each key is in v (index + 1; 0: free), open addressing; NULL until the first add */
	uint32_t *slots;
	size_t n_slots; /* a power of 2, at least twice n */
};

/*
 * Adds value to key's delta, appending one for a new key; returns 0 or XXGK_ENOMEM. A sum that
 * would pass int64 is kept saturated with overflow set, as delta_merge does.
 */
int delta_add(struct delta_list *l, const struct counter_key *key, int64_t value);

/*
 * Sorts by key and drops the deltas that sum to zero. A sum that passed int64 is kept,
 * saturated, with overflow set; returns 0, or XXGK_ERANGE if any did.
 */
int delta_merge(struct delta_list *l);

/*
 * Whether a counter going from old to new passes limit: it ends beyond the limit, further from
 * zero than it was. A counter found beyond the limit may still come back towards zero.
 */
int counter_passes(int64_t old, int64_t new, int64_t limit);

void delta_clear(struct delta_list *l);
void delta_free(struct delta_list *l);

#endif
