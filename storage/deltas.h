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

struct delta {
	struct counter_key key;
	int64_t value;
};

struct delta_list {
	struct delta *v;
	size_t n, cap;
};

/* Appends a delta; returns 0 or XXGK_ENOMEM. */
int delta_add(struct delta_list *l, const struct counter_key *key, int64_t value);

/* Sorts by key, sums the deltas of one key, and drops those that sum to zero. */
void delta_merge(struct delta_list *l);

void delta_clear(struct delta_list *l);
void delta_free(struct delta_list *l);

#endif
