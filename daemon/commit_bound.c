/*
 * The size of a group commit (issue 15).
 *
 * LMDB (without MDB_WRITEMAP, which nested transactions exclude) copies every page a write
 * transaction touches into malloc'd memory until the commit, and keeps those pages for reuse
 * after it: xxgkd's anonymous memory is the most pages any commit dirtied. In production order
 * a record adds to the leaf pages its unit is filling, about 0.1 page a record; in a backfill
 * in random order every record lands on a leaf of its own and the branch pages above it, 1.5
 * pages a record in a store of 30M: a commit of 29,000 such records held 170 MB. A bound in
 * records would cut production's commits (and their fsyncs: bench_ingest lost 30% of its
 * throughput at 6,000 records) to bound the backfill's; so the bound is in pages: after each
 * commit the ingest thread's bytes written (/proc/thread-self/io wchar: LMDB writes each dirty
 * page once, at the commit) say how many pages a record costs now, and the next pass takes
 * commit_pages_max pages' worth of records.
 *
 * Where /proc/thread-self/io cannot be read, commits are bounded only as before (records and
 * bytes of a pass).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commit_bound.h"

#define PAGE 4096.0

/* The calling thread's wchar, or 0 when it cannot be read. */
static unsigned long long read_wchar(struct commit_bound *b)
{
	char buf[512];
	if (!b->opened) { /* here, on the ingest thread: thread-self is this thread */
		b->fd = open("/proc/thread-self/io", O_RDONLY | O_CLOEXEC);
		b->opened = 1;
	}
	if (b->fd < 0)
		return 0;
	ssize_t n = pread(b->fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *w = strstr(buf, "wchar:");
	return w ? strtoull(w + 6, NULL, 10) : 0;
}

size_t commit_bound_records(const struct commit_bound *b, size_t pages_max, size_t records_cap)
{
	if (b->pages_per_record <= 0)
		return records_cap;
	double records = (double)pages_max / b->pages_per_record;
	if (records < 1)
		return 1;
	return records < (double)records_cap ? (size_t)records : records_cap;
}

void commit_bound_start(struct commit_bound *b)
{
	b->wchar = read_wchar(b);
}

void commit_bound_done(struct commit_bound *b, size_t records)
{
	unsigned long long now = read_wchar(b);
	if (records == 0 || b->wchar == 0 || now < b->wchar)
		return;
	double ppr = (double)(now - b->wchar) / PAGE / (double)records;
	/* half the last commit, half the ones before: one odd commit does not set the next */
	b->pages_per_record = b->pages_per_record > 0 ? (b->pages_per_record + ppr) / 2 : ppr;
}

void commit_bound_close(struct commit_bound *b)
{
	if (b->opened && b->fd >= 0)
		close(b->fd);
	b->opened = 0;
}
