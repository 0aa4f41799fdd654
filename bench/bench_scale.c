/*
 * Scale benchmark (issue 15). One real xxgkd on loopback TCP, default durability, 60 units;
 * 8 publishers (DEALER threads) each keep a window of 4 pushes of 1,000 records. It loads N
 * records in one of three orders:
 *   production  each unit's records in date order, ids numbered per unit and year (as offices
 *               number them): the daily flow of a city;
 *   random      a historical backfill in random order, ids and dates as bench_ingest makes them
 *               (a random date of 2019-2021; tally ids begin with that date);
 *   sorted      the same backfill records fed as README recommends: each publisher's share
 *               sorted by (unit, kind, id) before it is sent.
 * Every million acknowledged records it prints records/s, xxgkd's CPU per record
 * (/proc/PID/stat), device bytes written per record (/proc/diskstats of the store's device
 * around a syncfs of the store), xxgkd's anonymous RSS (RssAnon), the map size and the records
 * per commit (status). Then report, status and 1-record push latencies, idle and under a steady
 * 5,000 records/s (not with --load-only). $XXGK_BENCH_XXGKD runs another xxgkd (e.g. a script
 * that runs it under valgrind --tool=callgrind, to count instructions on a shared machine).
 *
 *   bench_scale [--records N] [--order production|random|sorted] [--dir DIR] [--keep]
 *               [--load-only] [--config-line 'key = value']...
 *   (default 10,000,000 records in production order, in a new directory under /tmp)
 *
 * The machine is shared: compare the ratios of one run (last million against the first), not
 * absolute rates of different runs. Device bytes count every writer of the device.
 */
#define _GNU_SOURCE /* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "error.h"
#include "bench_util.h"
#include "xxgk.h"

#define UNITS 60
#define PUBLISHERS 8
#define WINDOW 4
#define BATCH 1000
#define PER_UNIT_YEAR 50000 /* production: records a unit sends in a year */
#define MAX_CONFIG_LINES 16

enum order { ORDER_PRODUCTION, ORDER_RANDOM, ORDER_SORTED };

static enum order order = ORDER_PRODUCTION;
static size_t total = 10000000;
static const char *config_lines[MAX_CONFIG_LINES];
static int n_config_lines;
static atomic_size_t acked;    /* records acknowledged, all publishers */
static atomic_int stop_steady; /* ends the steady load */

static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* This benchmark's sequence, as before bench_rand (its figures compare with earlier runs'). */
static uint64_t next_rand(uint64_t *s)
{
	return mix(*s += 0x9e3779b97f4a7c15ULL);
}

static const char *const prefixes[3] = {"瑞政依申", "瑞政规", "温政复"};

/*
 * Record serial of publisher p in backfill order, bench_ingest's generator: a random unit, a
 * random date of 2019-2021, ids with the publisher and the serial. *key (when not NULL) is its
 * place in the store's key order: unit, kind, then what the id begins with (the year; a
 * tally's date), the serial.
 */
static void backfill_record(struct bench_record *o, int p, size_t serial, uint64_t *key)
{
	uint64_t rng = mix((uint64_t)p << 40 ^ serial);
	int month = 1 + (int)(next_rand(&rng) % 12), day = 1 + (int)(next_rand(&rng) % 28);
	int year = 2019 + (int)(next_rand(&rng) % 3), unit = (int)(next_rand(&rng) % UNITS);
	int kind = (int)(serial % 4);
	memset(o, 0, sizeof(*o));
	o->r = (Xxgk__V1__Record)XXGK__V1__RECORD__INIT;
	snprintf(o->unit, sizeof(o->unit), "unit-%02d", unit);
	snprintf(o->d1, sizeof(o->d1), "%04d-%02d-%02d", year, month, day);
	snprintf(o->d2, sizeof(o->d2), "%04d-%02d-%02d", year, month, day < 20 ? day + 8 : 28);
	if (kind < 3)
		snprintf(o->id, sizeof(o->id), "%s〔%d〕第%d%08zu号", prefixes[kind], year, p,
			 serial);
	else
		snprintf(o->id, sizeof(o->id), "XK-%s-%d-%08zu", o->d1, p, serial);
	if (key)
		*key = (uint64_t)(unit * 4 + kind) << 48 |
		       (uint64_t)(year * 512 + (kind == 3 ? month * 32 + day : 0)) << 32 |
		       (uint64_t)(serial / 1); /* serial < 2^32 */
	bench_fill_body(o, kind, next_rand, &rng);
}

/*
 * Record i of unit u in production order: the unit's i-th record, dates advancing with i
 * (PER_UNIT_YEAR records a year from 2010), ids numbered per unit, kind and year.
 */
static void production_record(struct bench_record *o, int u, size_t i)
{
	uint64_t rng = mix((uint64_t)u << 40 ^ i);
	int year = 2010 + (int)(i / PER_UNIT_YEAR), kind = (int)(i % 4);
	int doy = (int)(i % PER_UNIT_YEAR * 336 / PER_UNIT_YEAR), month = doy / 28 + 1,
	    day = doy % 28 + 1;
	size_t number = i % PER_UNIT_YEAR / 4 + 1;
	memset(o, 0, sizeof(*o));
	o->r = (Xxgk__V1__Record)XXGK__V1__RECORD__INIT;
	snprintf(o->unit, sizeof(o->unit), "unit-%02d", u);
	snprintf(o->d1, sizeof(o->d1), "%04d-%02d-%02d", year, month, day);
	snprintf(o->d2, sizeof(o->d2), "%04d-%02d-%02d", year, month, day < 20 ? day + 8 : 28);
	if (kind < 3)
		snprintf(o->id, sizeof(o->id), "%s〔%d〕%zu号", prefixes[kind], year, number);
	else
		snprintf(o->id, sizeof(o->id), "XK-%d-%06zu", year, number);
	bench_fill_body(o, kind, next_rand, &rng);
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct publisher {
	pthread_t thread;
	int index;
	const char *endpoint;
	size_t share;	    /* records it sends */
	uint64_t *sorted;   /* ORDER_SORTED: its records' keys, in key order */
	double interval_ms; /* 0: as fast as answered; else one push every interval_ms */
	int failed;
	struct bench_record *scratch;
};

/* The n records of publisher p's push number b, packed as a Request. */
static void *pack_push(struct publisher *p, size_t b, size_t n, size_t *len)
{
	Xxgk__V1__Record *ptrs[BATCH];
	for (size_t i = 0; i < n; i++) {
		size_t k = b * BATCH + i; /* the publisher's k-th record */
		struct bench_record *o = &p->scratch[i];
		if (p->interval_ms > 0 && order == ORDER_PRODUCTION) /* steady: 12 units each */
			production_record(o, p->index * 12 + (int)(k % 12),
					  total / 52 + 1 + k / 12);
		else if (p->interval_ms > 0) /* steady: new records of the backfill */
			backfill_record(o, p->index + PUBLISHERS, k, NULL);
		else if (order == ORDER_RANDOM)
			backfill_record(o, p->index, k, NULL);
		else if (order == ORDER_SORTED)
			backfill_record(o, p->index, (size_t)(p->sorted[k] & 0xffffffffu), NULL);
		else {
			/* its units round-robin, each in date order */
			int units = (UNITS - p->index + PUBLISHERS - 1) / PUBLISHERS;
			production_record(o, p->index + PUBLISHERS * (int)(k % (size_t)units),
					  k / (size_t)units);
		}
		ptrs[i] = &o->r;
	}
	return bench_pack_push(ptrs, n, (uint64_t)b + 1, len);
}

static void *publish(void *arg)
{
	struct publisher *p = arg;
	void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
	size_t pushes = (p->share + BATCH - 1) / BATCH, next = 0, done = 0;
	int linger = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_connect(s, p->endpoint);
	double start = bench_now_ms();
	while (done < pushes && !(p->interval_ms > 0 && atomic_load(&stop_steady))) {
		while (next < pushes && next - done < WINDOW) {
			if (p->interval_ms > 0 &&
			    bench_now_ms() < start + (double)next * p->interval_ms)
				break;
			size_t n = next + 1 < pushes ? BATCH : p->share - next * BATCH, len;
			void *data = pack_push(p, next, n, &len);
			int rc = zmq_send(s, data, len, 0);
			free(data);
			if (rc < 0)
				goto fail;
			next++;
		}
		zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
		long timeout = p->interval_ms > 0 ? 5 : 120000;
		int ready = zmq_poll(&item, 1, timeout);
		if (ready == 0 && p->interval_ms > 0)
			continue;
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (ready != 1 || zmq_msg_recv(&msg, s, 0) < 0) {
			zmq_msg_close(&msg);
			fprintf(stderr, "bench_scale: no reply for 120 s\n");
			goto fail;
		}
		Xxgk__V1__Reply *r =
		    xxgk__v1__reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
		zmq_msg_close(&msg);
		if (r == NULL || r->body_case != XXGK__V1__REPLY__BODY_PUSH) {
			fprintf(stderr, "bench_scale: unexpected reply: %s\n",
				r && r->body_case == XXGK__V1__REPLY__BODY_ERROR ? r->error->message
										 : "?");
			goto fail;
		}
		for (size_t i = 0; i < r->push->n_statuses; i++)
			if (r->push->statuses[i]->code != XXGK__V1__RECORD_STATUS__CODE__APPLIED) {
				fprintf(stderr, "bench_scale: record not applied: %d %s\n",
					(int)r->push->statuses[i]->code,
					r->push->statuses[i]->message);
				goto fail;
			}
		atomic_fetch_add(&acked, r->push->n_statuses);
		done++;
		xxgk__v1__reply__free_unpacked(r, NULL);
	}
	goto out;
fail:
	p->failed = 1;
out:
	zmq_close(s);
	zmq_ctx_term(ctx);
	return NULL;
}

/* ---- what the kernel says about xxgkd and the device ---- */

static double cpu_seconds(pid_t pid)
{
	char path[64], line[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL || fgets(line, sizeof(line), f) == NULL) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	/* utime and stime are fields 14 and 15; the name (field 2) may hold spaces */
	const char *q = strrchr(line, ')');
	unsigned long long ut = 0, st = 0;
	int field = 2;
	for (; q && *q; q++)
		if (*q == ' ' && ++field == 14) {
			sscanf(q + 1, "%llu %llu", &ut, &st);
			break;
		}
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long rss_anon_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* Bytes written to the device that holds dir, after its file system was synced. */
static unsigned long long device_written(const char *dir)
{
	struct stat sb;
	char line[512];
	unsigned long long sectors = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		syncfs(fd); /* what `sync -f` does */
		close(fd);
	}
	if (stat(dir, &sb) != 0)
		return 0;
	FILE *f = fopen("/proc/diskstats", "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long v[7];
		char name[64];
		if (sscanf(line, "%u %u %63s %llu %llu %llu %llu %llu %llu %llu", &maj, &min, name,
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) == 10 &&
		    maj == major(sb.st_dev) && min == minor(sb.st_dev)) {
			sectors = v[6]; /* sectors written */
			break;
		}
	}
	if (f)
		fclose(f);
	return sectors * 512;
}

/* ---- the daemon ---- */

static int status(struct xxgk_client *c, Xxgk__V1__StatusReply *out)
{
	Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	Xxgk__V1__Reply *reply;
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &q;
	if (xxgk_call(c, &req, 60000, &reply) != 0)
		return -1;
	int ok = reply->body_case == XXGK__V1__REPLY__BODY_STATUS;
	if (ok) {
		*out = *reply->status;
		out->n_deadlines = 0;
		out->deadlines = NULL;
		out->version = NULL;
	}
	xxgk__v1__reply__free_unpacked(reply, NULL);
	return ok ? 0 : -1;
}

/* ---- latencies ---- */

#define SAMPLES 1000

/* Reports, statuses and 1-record pushes at 100/s: p50 and p99 of each, in ms. */
static void latencies(const char *what, const char *ingest, const char *admin)
{
	static size_t serial;
	struct xxgk_client *a, *in;
	double lat[3][SAMPLES];
	size_t n[3] = {0};
	if (xxgk_connect(&a, admin) || xxgk_connect(&in, ingest)) {
		fprintf(stderr, "bench_scale: cannot connect\n");
		exit(1);
	}
	double start = bench_now_ms();
	for (int i = 0; i < SAMPLES; i++) {
		Xxgk__V1__Reply *reply;
		Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
		Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
		q.has_year = 1;
		q.year = 2019 + (uint32_t)(i % 3);
		q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
		q.city = 1;
		req.body_case = XXGK__V1__REQUEST__BODY_REPORT;
		req.report = &q;
		double t0 = bench_now_ms();
		if (i % 5 == 0 && xxgk_call(a, &req, 60000, &reply) == 0) {
			lat[0][n[0]++] = bench_now_ms() - t0;
			xxgk__v1__reply__free_unpacked(reply, NULL);
		}
		Xxgk__V1__StatusReply st;
		t0 = bench_now_ms();
		if (i % 5 == 1 && status(a, &st) == 0)
			lat[1][n[1]++] = bench_now_ms() - t0;
		/* a new record of a unit, as a clerk enters it */
		struct bench_record o;
		int code;
		production_record(&o, (int)(serial % UNITS), total / 52 + 200000 + serial / UNITS);
		serial++;
		Xxgk__V1__Record *r = &o.r;
		t0 = bench_now_ms();
		if (xxgk_push(in, &r, 1, &code, NULL, NULL, 60000) == 0 &&
		    code == XXGK__V1__RECORD_STATUS__CODE__APPLIED)
			lat[2][n[2]++] = bench_now_ms() - t0;
		double wait = start + (i + 1) * 10.0 - bench_now_ms(); /* 100 pushes a second */
		if (wait > 0)
			usleep((useconds_t)(wait * 1000));
	}
	xxgk_close(a);
	xxgk_close(in);
	printf("%s: report p50 %.2f p99 %.2f ms (%zu); status p50 %.2f p99 %.2f ms (%zu); "
	       "1-record push at 100/s p50 %.2f p99 %.2f ms (%zu of %d applied)\n",
	       what, bench_percentile(lat[0], n[0], 0.5), bench_percentile(lat[0], n[0], 0.99),
	       n[0], bench_percentile(lat[1], n[1], 0.5), bench_percentile(lat[1], n[1], 0.99),
	       n[1], bench_percentile(lat[2], n[2], 0.5), bench_percentile(lat[2], n[2], 0.99),
	       n[2], SAMPLES);
	fflush(stdout);
}

/* ---- the run ---- */

static void usage(void)
{
	fprintf(stderr, "usage: bench_scale [--records N] [--order production|random|sorted] "
			"[--dir DIR] [--keep] [--load-only] [--config-line 'key = value']...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *base = NULL;
	int keep = 0, load_only = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
			char *end;
			total = strtoull(argv[++i], &end, 10);
			if (*end || total == 0 || total > 4000000000ULL)
				usage();
		} else if (strcmp(argv[i], "--order") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "production") == 0)
				order = ORDER_PRODUCTION;
			else if (strcmp(argv[i], "random") == 0)
				order = ORDER_RANDOM;
			else if (strcmp(argv[i], "sorted") == 0)
				order = ORDER_SORTED;
			else
				usage();
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			base = argv[++i];
		} else if (strcmp(argv[i], "--keep") == 0) {
			keep = 1;
		} else if (strcmp(argv[i], "--load-only") == 0) {
			load_only = 1;
		} else if (strcmp(argv[i], "--config-line") == 0 && i + 1 < argc &&
			   n_config_lines < MAX_CONFIG_LINES) {
			config_lines[n_config_lines++] = argv[++i];
		} else {
			usage();
		}
	}
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/xxgk-scale-XXXXXX", base ? base : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("bench_scale: mkdtemp");
		return 1;
	}
	char ingest[1200], admin[1200], state[1100];
	snprintf(state, sizeof(state), "%s/state", dir);
	pid_t pid = bench_start_xxgkd(dir, UNITS, config_lines, (size_t)n_config_lines, ingest,
				      admin, sizeof(ingest));
	static const char *const names[] = {"production", "random", "sorted"};
	printf("bench_scale: %zu records in %s order, %d publishers, windows of %d x %d records, "
	       "%d units, store %s\n",
	       total, names[order], PUBLISHERS, WINDOW, BATCH, UNITS, state);
	for (int i = 0; i < n_config_lines; i++)
		printf("  with %s\n", config_lines[i]);

	struct publisher ps[PUBLISHERS];
	memset(ps, 0, sizeof(ps));
	for (int p = 0; p < PUBLISHERS; p++) {
		ps[p].index = p;
		ps[p].endpoint = ingest;
		ps[p].share = total / PUBLISHERS + ((size_t)p < total % PUBLISHERS);
		ps[p].scratch = calloc(BATCH, sizeof(struct bench_record));
		if (order == ORDER_SORTED) {
			/* what a city does with its history before pushing it: sort by key */
			struct bench_record o;
			ps[p].sorted = malloc(ps[p].share * sizeof(uint64_t));
			for (size_t k = 0; k < ps[p].share; k++)
				backfill_record(&o, p, k, &ps[p].sorted[k]);
			qsort(ps[p].sorted, ps[p].share, sizeof(uint64_t), compare_u64);
		}
	}
	struct xxgk_client *c;
	Xxgk__V1__StatusReply st0, st1;
	xxgk_connect(&c, admin);
	if (status(c, &st0)) {
		fprintf(stderr, "bench_scale: no status\n");
		return 1;
	}
	printf("%9s %10s %8s %9s %9s %9s %9s\n", "records", "rec/s", "cpu_us", "dev_B/rec",
	       "rss_anon", "map_MB", "rec/commit");
	double t0 = bench_now_ms(), cpu0 = cpu_seconds(pid), first_rate = 0, last_rate = 0;
	unsigned long long dev0 = device_written(state);
	size_t done0 = 0, next_mark = 1000000 < total ? 1000000 : total;
	long rss_max = 0;
	for (int p = 0; p < PUBLISHERS; p++)
		pthread_create(&ps[p].thread, NULL, publish, &ps[p]);
	int failed = 0;
	for (;;) {
		usleep(20000);
		size_t done = atomic_load(&acked);
		for (int p = 0; p < PUBLISHERS; p++)
			failed |= ps[p].failed;
		if (failed)
			break;
		if (done < next_mark)
			continue;
		double t1 = bench_now_ms(), cpu1 = cpu_seconds(pid);
		unsigned long long dev1 = device_written(state);
		long rss = rss_anon_kb(pid);
		if (status(c, &st1)) {
			fprintf(stderr, "bench_scale: no status\n");
			failed = 1;
			break;
		}
		double n = (double)(done - done0), rate = n / ((t1 - t0) / 1000.0);
		if (done0 == 0)
			first_rate = rate;
		last_rate = rate;
		if (rss > rss_max)
			rss_max = rss;
		printf("%9zu %10.0f %8.1f %9.0f %6ld MB %9.0f %9.0f\n", done, rate,
		       1e6 * (cpu1 - cpu0) / n, (double)(dev1 - dev0) / n, rss / 1024,
		       (double)st1.map_size / 1048576.0,
		       st1.commits > st0.commits ? n / (double)(st1.commits - st0.commits) : 0);
		fflush(stdout);
		/* the sync and the status are not part of the next million's time */
		t0 = bench_now_ms();
		cpu0 = cpu_seconds(pid);
		dev0 = device_written(state);
		st0 = st1;
		done0 = done;
		if (done >= total)
			break;
		next_mark = done - done % 1000000 + 1000000;
		if (next_mark > total)
			next_mark = total;
	}
	for (int p = 0; p < PUBLISHERS; p++) {
		pthread_join(ps[p].thread, NULL);
		free(ps[p].sorted);
	}
	if (failed) {
		fprintf(stderr, "bench_scale: a publisher failed; see %s/xxgkd.log\n", dir);
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return 1;
	}
	printf("last million at %.0f%% of the first's rate; peak anonymous RSS %ld MB\n",
	       100.0 * last_rate / (first_rate > 0 ? first_rate : 1), rss_max / 1024);

	if (load_only)
		goto stop;
	latencies("idle", ingest, admin);
	/* a steady 5,000 records/s: 5 publishers, one push of 1,000 a second each */
	struct publisher steady[5];
	memset(steady, 0, sizeof(steady));
	atomic_store(&stop_steady, 0);
	size_t acked0 = atomic_load(&acked);
	double cpu_s = cpu_seconds(pid), ts0 = bench_now_ms();
	unsigned long long dev_s = device_written(state);
	status(c, &st0);
	for (int p = 0; p < 5; p++) {
		steady[p].index = p;
		steady[p].endpoint = ingest;
		steady[p].share = (size_t)1 << 30;
		steady[p].interval_ms = 1000.0;
		steady[p].scratch = calloc(BATCH, sizeof(struct bench_record));
		pthread_create(&steady[p].thread, NULL, publish, &steady[p]);
	}
	latencies("under 5k rec/s", ingest, admin);
	atomic_store(&stop_steady, 1);
	for (int p = 0; p < 5; p++) {
		pthread_join(steady[p].thread, NULL);
		free(steady[p].scratch);
	}
	status(c, &st1);
	double n = (double)(atomic_load(&acked) - acked0);
	printf("steady load: %.0f rec/s, %.1f us CPU/record, %.0f device bytes/record, "
	       "%.0f records/commit, anonymous RSS %ld MB\n",
	       n / ((bench_now_ms() - ts0) / 1000.0), 1e6 * (cpu_seconds(pid) - cpu_s) / n,
	       (double)(device_written(state) - dev_s) / n,
	       st1.commits > st0.commits ? (n + SAMPLES) / (double)(st1.commits - st0.commits) : 0,
	       rss_anon_kb(pid) / 1024);
	/* part A's benchmark adds verify and backup with a report and a push meanwhile here */
stop:
	xxgk_close(c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	for (int p = 0; p < PUBLISHERS; p++)
		free(ps[p].scratch);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (keep)
		printf("kept %s\n", dir);
	else if (system(cmd) != 0)
		fprintf(stderr, "bench_scale: could not remove %s\n", dir);
	return 0;
}
