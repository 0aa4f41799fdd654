#include "stream.h"

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

static uint64_t mix(uint64_t a, uint64_t b)
{
	struct rng r = {a * 0x9e3779b97f4a7c15ULL ^ b};
	return rng_next(&r);
}

static void make(struct stream *s, const struct city *c, size_t records, int year_from, int year_to,
		 uint64_t seed, int with_submissions)
{
	struct rng rng = {seed};
	size_t *revisions = calloc(records, sizeof(*revisions));
	size_t *first = calloc(records, sizeof(*first));
	size_t total = 0;
	assert_non_null(revisions);
	assert_non_null(first);
	for (size_t j = 0; j < records; j++) {
		revisions[j] = 1 + rng_below(&rng, 5);
		first[j] = total;
		total += revisions[j];
	}
	/* at most one submission per unit and year, of up to 3 revisions each */
	size_t subs_max = c->n * (size_t)(year_to - year_from + 1);
	s->n_records = records;
	s->n_trecs = total;
	s->trecs = calloc(total + 3 * subs_max, sizeof(*s->trecs));
	s->model = calloc(records + subs_max, sizeof(*s->model));
	s->latest = calloc(records + subs_max, sizeof(*s->latest));
	assert_non_null(s->trecs);
	for (size_t j = 0; j < records; j++) {
		char id[32], msg[RECORD_MESSAGE_MAX];
		int unit = (int)rng_below(&rng, (uint32_t)c->n), kind = (int)rng_below(&rng, 4);
		snprintf(id, sizeof(id), "%s-%04u-%06zu", record_kind_names[kind],
			 (unsigned)year_from + (unsigned)(j % 7), j);
		for (size_t r = 1; r <= revisions[j]; r++) {
			struct trec *t = &s->trecs[first[j] + r - 1];
			/* some revisions are deletions: 10% of the last ones, 5% of the others */
			if (rng_below(&rng, 100) < (r == revisions[j] ? 10u : 5u))
				trec_tombstone(t, c->ids[unit], id, r, kind);
			else
				trec_random(t, mix(seed, j * 8 + r), kind, c->ids[unit], id, r,
					    year_from, year_to);
		}
		s->latest[j] = &s->trecs[first[j] + revisions[j] - 1].r;
		s->model[j].unit = unit;
		assert_int_equal(record_check(s->latest[j], &s->model[j].f, msg, sizeof(msg)), 0);
	}
	/* submissions (报送): half the units' years, revised, the last revision a withdrawal
	 * (tombstone) one time in four */
	for (size_t unit = 0; unit < c->n; unit++)
		for (int year = year_from; year <= year_to; year++) {
			char id[SUBMISSION_ID_MAX], msg[RECORD_MESSAGE_MAX];
			size_t j = s->n_records, revs = 1 + rng_below(&rng, 3);
			if (!with_submissions || rng_below(&rng, 2))
				continue;
			submission_id(year, id, sizeof(id));
			for (size_t r = 1; r <= revs; r++) {
				struct trec *t = &s->trecs[total + r - 1];
				if (r == revs && rng_below(&rng, 4) == 0)
					trec_tombstone(t, c->ids[unit], id, r, RECORD_SUBMISSION);
				else
					trec_submission(t, c->ids[unit], year, r);
			}
			s->latest[j] = &s->trecs[total + revs - 1].r;
			s->model[j].unit = (int)unit;
			assert_int_equal(
			    record_check(s->latest[j], &s->model[j].f, msg, sizeof(msg)), 0);
			total += revs;
			s->n_records++;
		}
	s->n_trecs = total;
	size_t dups = total / 5;
	s->n_entries = total + dups;
	s->entries = calloc(s->n_entries, sizeof(*s->entries));
	assert_non_null(s->entries);
	for (size_t i = 0; i < total; i++)
		s->entries[i] = &s->trecs[i].r;
	for (size_t i = 0; i < dups; i++)
		s->entries[total + i] = &s->trecs[rng_below(&rng, (uint32_t)total)].r;
	for (size_t i = s->n_entries - 1; i > 0; i--) {
		size_t k = rng_below(&rng, (uint32_t)(i + 1));
		Xxgk__V1__Record *tmp = s->entries[i];
		s->entries[i] = s->entries[k];
		s->entries[k] = tmp;
	}
	free(revisions);
	free(first);
}

void stream_make(struct stream *s, const struct city *c, size_t records, int year_from, int year_to,
		 uint64_t seed)
{
	make(s, c, records, year_from, year_to, seed, 0);
}

void stream_make_with_submissions(struct stream *s, const struct city *c, size_t records,
				  int year_from, int year_to, uint64_t seed)
{
	make(s, c, records, year_from, year_to, seed, 1);
}

void stream_free(struct stream *s)
{
	free(s->trecs);
	free(s->entries);
	free(s->latest);
	free(s->model);
}
