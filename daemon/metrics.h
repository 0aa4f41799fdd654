/*
 * What xxgkd counts about itself, served on loopback HTTP (libevent's evhttp) as /metrics in
 * the Prometheus text format, with /healthz. Updated and served on the loop thread only.
 */
#ifndef XXGK_METRICS_H
#define XXGK_METRICS_H

#include <event2/event.h>
#include <stdint.h>
#include <time.h>

#include "record.h"
#include "store.h"

struct deadlines;
struct jobs;

#define METRICS_LATENCY_BUCKETS 9

struct metrics {
	uint64_t records[5];				 /* by RecordStatus code */
	uint64_t applied_by_kind[RECORD_SUBMISSION + 1]; /* by enum record_kind */
	uint64_t pushes, commits, failed_commits;
	uint64_t latency[METRICS_LATENCY_BUCKETS + 1]; /* commit seconds, cumulative at render */
	double latency_sum;
	_Atomic uint64_t peers; /* connected ingest peers (kept by connlimit's thread) */
	/* the last time each unit had a record applied, by the unit's store number */
	time_t *last_record;
	size_t n_last_record;
	struct deadlines *deadlines; /* per-unit answer periods (deadlines.h) */
	struct jobs *jobs;	     /* the verify or backup under way (jobs.h) */
};

/* One committed batch: its records, their statuses and how long the commit took. */
void metrics_commit(struct metrics *m, struct store *st, Xxgk__V1__Record *const *records,
		    const struct store_status *statuses, size_t n, double seconds);

/* Serves /metrics and /healthz on host:port (e.g. "127.0.0.1:7413"); 0 or -1. */
struct evhttp;
struct evhttp *metrics_serve(struct event_base *base, const char *listen, struct metrics *m,
			     struct store *st);

void metrics_free(struct metrics *m);

#endif
