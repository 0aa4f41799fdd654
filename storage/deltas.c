#include "deltas.h"

#include <stdlib.h>

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

int delta_add(struct delta_list *l, const struct counter_key *key, int64_t value)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct delta *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return XXGK_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct delta){.key = *key, .value = value};
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
	for (size_t i = 0; i < l->n;) {
		struct delta d = l->v[i++];
		for (; i < l->n && counter_key_compare(&l->v[i].key, &d.key) == 0; i++) {
			int64_t v = l->v[i].value;
			/* a list merged again (verify's, by chunks): a mark stays */
			if (!d.overflow && l->v[i].overflow) {
				d.value = v;
				d.overflow = 1;
			}
			if (!d.overflow && __builtin_add_overflow(d.value, v, &d.value)) {
				/* the sign of the overflowing sum is the sign of its terms */
				d.value = v > 0 ? INT64_MAX : INT64_MIN;
				d.overflow = 1;
			}
		}
		if (d.overflow)
			rc = XXGK_ERANGE;
		if (d.value != 0 || d.overflow)
			l->v[out++] = d;
	}
	l->n = out;
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
}

void delta_free(struct delta_list *l)
{
	free(l->v);
	*l = (struct delta_list){0};
}
