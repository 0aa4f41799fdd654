/*
 * What the benchmarks that drive a real xxgkd share: the clock, percentiles, starting an xxgkd
 * on loopback with a city of numbered units, packing a push, and bench_ingest's mix of records.
 */
#ifndef XXGK_BENCH_UTIL_H
#define XXGK_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xxgk.pb-c.h"

/* Milliseconds on the monotonic clock. */
double bench_now_ms(void);

/* The p-quantile (0..1) of n values, sorting them; 0 when there are none. */
double bench_percentile(double *v, size_t n, double p);

/* A TCP port free on 127.0.0.1 now; exits on failure. */
int bench_free_port(void);

/*
 * Starts xxgkd with dir/xxgkd.conf (state in dir/state, ingest on a free loopback port, admin on
 * a local socket in dir, log in dir/xxgkd.log): units "unit-00".. of kinds government,
 * department and township, and the [xxgkd] lines given. Returns once it answers status, its
 * endpoints in ingest and admin; exits if it does not start. $XXGK_BENCH_XXGKD runs another
 * xxgkd, or a script that runs it under a profiler.
 */
pid_t bench_start_xxgkd(const char *dir, int units, const char *const *lines, size_t n_lines,
			char *ingest, char *admin, size_t size);

/*
 * The push request of records[0..n) with request_id, packed as a client sends it: malloc'd
 * bytes (*len of them); exits when out of memory.
 */
void *bench_pack_push(Xxgk__V1__Record **records, size_t n, uint64_t request_id, size_t *len);

/* The next of a splitmix64 sequence of state *s. */
uint64_t bench_rand(uint64_t *s);

/* One record of bench_ingest's mix, owning its strings. */
struct bench_record {
	Xxgk__V1__Record r;
	union {
		Xxgk__V1__Application app;
		Xxgk__V1__Document doc;
		Xxgk__V1__Case cas;
		Xxgk__V1__Tally tally;
	} body;
	char unit[32], id[96], d1[32], d2[32];
};

/*
 * The body of kind (0 an application, 80% of them answered in the same record; 1 a normative
 * document; 2 a legal case; 3 a tally) on o's dates d1 and d2, its numbers drawn by draw from
 * *rng (bench_rand, or a benchmark's own sequence), and the record's unit, id and revision 1
 * pointed at o's strings (the caller writes them).
 */
void bench_fill_body(struct bench_record *o, int kind, uint64_t (*draw)(uint64_t *), uint64_t *rng);

/*
 * Record serial of publisher (0..99) into *o, drawing from *rng: one of every kind in turn
 * (serial % 4: an application, 80% of them answered in the same record; a normative document;
 * a legal case; a tally), dated in 2019-2021, with the ids units really use (the year, the
 * publisher and the serial in them: distinct for distinct publishers or serials), for the unit
 * unit_prefix followed by a two-digit number below units, drawn at random.
 */
void bench_make_record(struct bench_record *o, const char *unit_prefix, int units, int publisher,
		       size_t serial, uint64_t *rng);

#endif
