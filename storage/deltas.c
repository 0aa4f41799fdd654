#include "deltas.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

void counter_key_encode(const struct counter_key *k, uint8_t out[COUNTER_KEY_SIZE])
{
	out[0] = k->scope;
	out[1] = (uint8_t)(k->scope_id >> 24);
	out[2] = (uint8_t)(k->scope_id >> 16);
	out[3] = (uint8_t)(k->scope_id >> 8);
	out[4] = (uint8_t)k->scope_id;
	out[5] = (uint8_t)(k->year >> 8);
	out[6] = (uint8_t)k->year;
	out[7] = (uint8_t)(k->counter >> 8);
	out[8] = (uint8_t)k->counter;
}

void counter_key_decode(const uint8_t in[COUNTER_KEY_SIZE], struct counter_key *k)
{
	k->scope = in[0];
	k->scope_id = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 8 | in[4];
	k->year = (uint16_t)(in[5] << 8 | in[6]);
	k->counter = (uint16_t)(in[7] << 8 | in[8]);
}

int counter_key_compare(const struct counter_key *a, const struct counter_key *b)
{
	if (a->scope != b->scope)
		return a->scope < b->scope ? -1 : 1;
	if (a->scope_id != b->scope_id)
		return a->scope_id < b->scope_id ? -1 : 1;
	if (a->year != b->year)
		return a->year < b->year ? -1 : 1;
	if (a->counter != b->counter)
		return a->counter < b->counter ? -1 : 1;
	return 0;
}

/*
 * A group commit of 25,000 records adds about 500,000 deltas to a few thousand counters;
 * sorting them all (as delta_merge did) was 30% of xxgkd's instructions in a backfill. Summing
 * each into its key's delta as it comes leaves delta_merge a sort of the distinct keys.
 */
static size_t slot_of(const struct counter_key *k, size_t mask)
{
	uint64_t h = (uint64_t)k->scope << 56 ^ (uint64_t)k->scope_id << 24 ^
		     (uint64_t)k->year << 12 ^ k->counter;
	h *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 32) & mask;
}

/* Indexes v[0..n) in a table of n_slots (a power of 2); 0 or XXGK_ENOMEM. */
static int reindex(struct delta_list *l, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));
	if (slots == NULL)
		return XXGK_ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		size_t j = slot_of(&l->v[i].key, n_slots - 1);
		while (slots[j])
			j = (j + 1) & (n_slots - 1);
		slots[j] = (uint32_t)(i + 1);
	}
	free(l->slots);
	l->slots = slots;
	l->n_slots = n_slots;
	return 0;
}

static void add_value(struct delta *d, int64_t v)
{
	if (!d->overflow && __builtin_add_overflow(d->value, v, &d->value)) {
		/* the sign of the overflowing sum is the sign of its terms */
		d->value = v > 0 ? INT64_MAX : INT64_MIN;
		d->overflow = 1;
	}
}

int delta_add(struct delta_list *l, const struct counter_key *key, int64_t value)
{
	if (2 * (l->n + 1) > l->n_slots) {
		size_t n_slots = l->n_slots ? 2 * l->n_slots : 512;
		while (n_slots < 2 * (l->n + 1))
			n_slots *= 2;
		if (reindex(l, n_slots))
			return XXGK_ENOMEM;
	}
	size_t mask = l->n_slots - 1, j = slot_of(key, mask);
	for (; l->slots[j]; j = (j + 1) & mask) {
		struct delta *d = &l->v[l->slots[j] - 1];
		if (counter_key_compare(&d->key, key) == 0) {
			add_value(d, value);
			return 0;
		}
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct delta *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return XXGK_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct delta){.key = *key, .value = value};
	l->slots[j] = (uint32_t)l->n;
	return 0;
}

static int compare_deltas(const void *a, const void *b)
{
	return counter_key_compare(&((const struct delta *)a)->key,
				   &((const struct delta *)b)->key);
}

int delta_merge(struct delta_list *l)
{
	size_t out = 0;
	int rc = 0;
	if (l->n == 0)
		return 0;
	qsort(l->v, l->n, sizeof(*l->v), compare_deltas);
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].overflow)
			rc = XXGK_ERANGE;
		if (l->v[i].value != 0 || l->v[i].overflow)
			l->v[out++] = l->v[i];
	}
	l->n = out;
	/* the index follows the entries; without it (out of memory) delta_add builds a new one */
	if (l->slots && reindex(l, l->n_slots)) {
		free(l->slots);
		l->slots = NULL;
		l->n_slots = 0;
	}
	return rc;
}

static uint64_t magnitude(int64_t v)
{
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

int counter_passes(int64_t old, int64_t new, int64_t limit)
{
	return magnitude(new) > (uint64_t)limit && magnitude(new) > magnitude(old);
}

void delta_clear(struct delta_list *l)
{
	l->n = 0;
	if (l->slots)
		memset(l->slots, 0, l->n_slots * sizeof(*l->slots));
}

void delta_free(struct delta_list *l)
{
	free(l->v);
	free(l->slots);
	*l = (struct delta_list){0};
}
