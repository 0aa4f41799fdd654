/*
 * A random stream of records as units would send it: every kind, revisions 1-5 of each record
 * with some of them deletions, 20% of the entries sent twice, all shuffled; and the model of
 * what it must come to (each record's latest revision).
 */
#ifndef XXGK_STREAM_H
#define XXGK_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "testutil.h"

struct stream {
	size_t n_records;   /* distinct records */
	struct trec *trecs; /* every revision of every record */
	size_t n_trecs;
	Xxgk__V1__Record **entries; /* the stream: shuffled, with duplicates */
	size_t n_entries;
	Xxgk__V1__Record **latest;  /* each record's latest revision */
	struct model_record *model; /* the facts of each latest revision */
};

void stream_make(struct stream *s, const struct city *c, size_t records, int year_from, int year_to,
		 uint64_t seed);
/*
 * The same, followed by submissions (报送, ids 报送-YYYY): about half of the units' years, up to
 * 3 revisions each, the last one a withdrawal one time in four; n_records counts them too.
 */
void stream_make_with_submissions(struct stream *s, const struct city *c, size_t records,
				  int year_from, int year_to, uint64_t seed);
void stream_free(struct stream *s);

#endif
