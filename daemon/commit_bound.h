#ifndef XXGK_COMMIT_BOUND_H
#define XXGK_COMMIT_BOUND_H

#include <stddef.h>

/*
 * How many records the next group commit may take so that it dirties at most commit_pages_max
 * LMDB pages, from the pages the last commits wrote per record (see commit_bound.c).
 */
struct commit_bound {
	int fd;			  /* /proc/thread-self/io of the ingest thread, when opened */
	int opened;		  /* 1: fd was opened (or could not be: then fd is -1) */
	unsigned long long wchar; /* the thread's bytes written when the commit began */
	double pages_per_record;  /* of the last commits; 0 until one was measured */
};

/* The records a pass may take: records_cap, or fewer when they would dirty more than
 * pages_max pages at the last commits' rate. At least 1. */
size_t commit_bound_records(const struct commit_bound *b, size_t pages_max, size_t records_cap);

/* Around a commit of records records, on the ingest thread. */
void commit_bound_start(struct commit_bound *b);
void commit_bound_done(struct commit_bound *b, size_t records);

void commit_bound_close(struct commit_bound *b);

#endif
