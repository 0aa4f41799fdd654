/*
 * Ingest and query benchmark. Starts a real xxgkd on loopback TCP in a temporary directory,
 * then in one run:
 *  1. saturation: N DEALER publishers (threads), each keeping a window of W unacknowledged push
 *     batches of B records of every kind with realistic ids, as fast as they are answered:
 *     durable records/s (acknowledged means committed), acknowledgement latency p50/p99;
 *  2. the same records applied directly with store_apply in this process, durable, in
 *     transactions as large as the daemon's largest group commit (N x W batches): the
 *     ceiling of the LMDB writes, and the daemon's share of it;
 *  3. a steady load: the same publishers paced to RATE records/s in all, on a new store.
 *  In phases 1 and 3 a reader asks the admin socket for city reports (an administrator,
 *  every 2 ms): latency p50/p99 under that load.
 *
 *   bench_ingest [publishers [window [batch [batches_per_publisher [rate]]]]]
 *   (default 8 8 500 40 25000)
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "error.h"
#include "scheduling.h"
#include "store.h"
#include "bench_util.h"
#include "xxgk.h"

#define UNITS 41

static int publishers = 8, window = 8, batch_size = 500, batches = 40, rate = 25000;

struct packed {
	uint8_t *data;
	size_t len;
};

struct publisher {
	pthread_t thread;
	int index;
	const char *endpoint;
	struct packed *msgs; /* batches, packed Requests */
	double *latencies;   /* ms, one per batch */
	size_t acked_records;
	double interval_ms; /* 0: as fast as answered; else the pace of sends */
	int failed;
};

static atomic_int ingest_done;

/* Packs publisher p's batch b as a push Request (request_id = b + 1). */
static struct packed pack_batch(int p, int b, struct bench_record *scratch)
{
	uint64_t rng = (uint64_t)p << 32 | (uint64_t)b;
	Xxgk__V1__Record **ptrs = calloc((size_t)batch_size, sizeof(*ptrs));
	for (int i = 0; i < batch_size; i++) {
		bench_make_record(&scratch[i], "unit-", UNITS, p,
				  (size_t)b * (size_t)batch_size + (size_t)i, &rng);
		ptrs[i] = &scratch[i].r;
	}
	struct packed out;
	out.data = bench_pack_push(ptrs, (size_t)batch_size, (uint64_t)b + 1, &out.len);
	free(ptrs);
	return out;
}

static void *publish(void *arg)
{
	struct publisher *p = arg;
	void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
	double *sent_at = calloc((size_t)batches, sizeof(*sent_at));
	int linger = 0, next = 0, acked = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_connect(s, p->endpoint);
	/* paced publishers start at staggered times, as independent systems would */
	double start = bench_now_ms() + p->interval_ms * p->index / publishers;
	while (acked < batches) {
		while (next < batches && next - acked < window) {
			if (p->interval_ms > 0) {
				/* paced: each batch leaves at its time, not earlier */
				double due = start + next * p->interval_ms,
				       wait = due - bench_now_ms();
				if (wait > 0 && acked < next)
					break; /* wait for replies meanwhile */
				if (wait > 0) {
					struct timespec ts = {(time_t)(wait / 1000),
							      (long)(fmod(wait, 1000.0) * 1e6)};
					nanosleep(&ts, NULL);
				}
			}
			sent_at[next] = bench_now_ms();
			if (zmq_send(s, p->msgs[next].data, p->msgs[next].len, 0) < 0)
				goto fail;
			next++;
		}
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
		long timeout = 30000;
		if (p->interval_ms > 0 && next < batches && acked < next) {
			double due = start + next * p->interval_ms - bench_now_ms();
			timeout = due > 0 ? (long)due + 1 : 0;
		}
		int ready = zmq_poll(&item, 1, timeout);
		if (ready == 0 && timeout < 30000) {
			zmq_msg_close(&msg);
			continue; /* time to send the next batch */
		}
		if (ready != 1 || zmq_msg_recv(&msg, s, 0) < 0)
			goto fail;
		Xxgk__V1__Reply *r =
		    xxgk__v1__reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
		zmq_msg_close(&msg);
		if (r == NULL || r->body_case != XXGK__V1__REPLY__BODY_PUSH || r->request_id < 1 ||
		    r->request_id > (uint64_t)batches) {
			fprintf(stderr, "bench: unexpected reply %p %d %llu: %s\n", (void *)r,
				r ? (int)r->body_case : -1,
				r ? (unsigned long long)r->request_id : 0ULL,
				r && r->body_case == XXGK__V1__REPLY__BODY_ERROR ? r->error->message
										 : "?");
			goto fail;
		}
		for (size_t i = 0; i < r->push->n_statuses; i++)
			if (r->push->statuses[i]->code != XXGK__V1__RECORD_STATUS__CODE__APPLIED) {
				fprintf(stderr, "record not applied: %s\n",
					r->push->statuses[i]->message);
				goto fail;
			}
		p->latencies[acked++] = bench_now_ms() - sent_at[r->request_id - 1];
		p->acked_records += r->push->n_statuses;
		xxgk__v1__reply__free_unpacked(r, NULL);
	}
	goto out;
fail:
	p->failed = 1;
out:
	zmq_close(s);
	zmq_ctx_term(ctx);
	free(sent_at);
	return NULL;
}

struct reader {
	const char *endpoint;
	int realtime;
	double *latencies;
	size_t n, cap;
};

static void *read_reports(void *arg)
{
	struct reader *rd = arg;
	struct xxgk_client *c;
	/* The measuring thread and its ZeroMQ I/O thread (started by xxgk_connect, inheriting)
	 * share 2 cores with the 8 publishers that make the load; they run as xxgkd's query
	 * threads do, so that they measure xxgkd, not the publishers' turns. */
	const char *role = getenv("XXGK_BENCH_READER");
	if (role == NULL || strcmp(role, "normal") != 0)
		rd->realtime = sched_set_role(0, SCHED_ROLE_QUERY) == 1;
	if (xxgk_connect(&c, rd->endpoint))
		return NULL;
	/* i == 0 connects: not a query's latency */
	for (int i = 0; !atomic_load(&ingest_done) && rd->n < rd->cap; i++) {
		Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
		Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
		Xxgk__V1__Reply *reply;
		q.has_year = 1;
		q.year = 2019 + (uint32_t)(i % 3);
		q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
		q.city = 1;
		req.body_case = XXGK__V1__REQUEST__BODY_REPORT;
		req.report = &q;
		double t0 = bench_now_ms();
		if (xxgk_call(c, &req, 10000, &reply) != 0)
			break;
		if (i > 0)
			rd->latencies[rd->n++] = bench_now_ms() - t0;
		xxgk__v1__reply__free_unpacked(reply, NULL);
		struct timespec pause = {0, 2000000}; /* an administrator, not a flood */
		nanosleep(&pause, NULL);
	}
	xxgk_close(c);
	return NULL;
}

/* How many of process pid's threads run at real-time priority (policy, field 41 of stat). */
static int realtime_threads(pid_t pid)
{
	char path[64];
	int n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		char stat[512], line[1024] = "";
		snprintf(stat, sizeof(stat), "%s/%s/stat", path, e->d_name);
		FILE *f = fopen(stat, "r");
		if (f == NULL)
			continue;
		const char *p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		int field = 2, policy = 0;
		for (; p && *p && field < 41; p++)
			if (*p == ' ' && ++field == 41)
				policy = atoi(p + 1);
		n += policy == SCHED_FIFO || policy == SCHED_RR;
		fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

struct phase {
	int daemon_realtime, reader_realtime;
	size_t records, queries;
	double rate, ack_p50, ack_p99, query_p50, query_p99;
};

/* Runs the publishers (paced every interval_ms, or as fast as answered) against a fresh
 * xxgkd with a reader asking for reports meanwhile. */
static struct phase run_phase(const char *base, const char *name, struct publisher *ps,
			      double interval_ms)
{
	char dir[512], ingest[600], admin[600];
	struct phase out = {0};
	snprintf(dir, sizeof(dir), "%s/%s", base, name);
	mkdir(dir, 0700);
	pid_t pid = bench_start_xxgkd(dir, UNITS, NULL, 0, ingest, admin, sizeof(ingest));
	struct reader rd = {
	    .endpoint = admin, .latencies = calloc(100000, sizeof(double)), .cap = 100000};
	pthread_t reader;
	atomic_store(&ingest_done, 0);
	pthread_create(&reader, NULL, read_reports, &rd);
	double t0 = bench_now_ms();
	for (int p = 0; p < publishers; p++) {
		ps[p].endpoint = ingest;
		ps[p].acked_records = 0;
		ps[p].interval_ms = interval_ms;
		memset(ps[p].latencies, 0, (size_t)batches * sizeof(double));
		pthread_create(&ps[p].thread, NULL, publish, &ps[p]);
	}
	size_t n_lat = 0;
	double *lat = calloc((size_t)publishers * (size_t)batches, sizeof(double));
	int failed = 0;
	for (int p = 0; p < publishers; p++) {
		pthread_join(ps[p].thread, NULL);
		out.records += ps[p].acked_records;
		failed |= ps[p].failed;
		for (int b = 0; b < batches && ps[p].latencies[b] > 0; b++)
			lat[n_lat++] = ps[p].latencies[b];
	}
	double elapsed = bench_now_ms() - t0;
	out.daemon_realtime = realtime_threads(pid);
	atomic_store(&ingest_done, 1);
	pthread_join(reader, NULL);
	out.reader_realtime = rd.realtime;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (failed) {
		fprintf(stderr, "bench: a publisher failed; see %s/xxgkd.log\n", dir);
		exit(1);
	}
	out.rate = out.records / (elapsed / 1000.0);
	out.ack_p50 = bench_percentile(lat, n_lat, 0.50);
	out.ack_p99 = bench_percentile(lat, n_lat, 0.99);
	out.queries = rd.n;
	out.query_p50 = bench_percentile(rd.latencies, rd.n, 0.50);
	out.query_p99 = bench_percentile(rd.latencies, rd.n, 0.99);
	free(lat);
	free(rd.latencies);
	return out;
}

/* The same batches applied with store_apply in this process, durable: records/s. */
static double direct_ceiling(const char *dir, struct publisher *ps)
{
	char state[512];
	struct store *st;
	struct store_unit units[UNITS];
	char ids[UNITS][16];
	snprintf(state, sizeof(state), "%s/direct", dir);
	if (store_open(&st, state, NULL)) {
		fprintf(stderr, "bench: cannot open %s\n", state);
		exit(1);
	}
	for (int u = 0; u < UNITS; u++) {
		snprintf(ids[u], sizeof(ids[u]), "unit-%02d", u);
		units[u] = (struct store_unit){ids[u], u == 0 ? 1 : u % 3 ? 2 : 3};
	}
	store_set_units(st, units, UNITS);
	size_t group = (size_t)publishers * (size_t)window, total = (size_t)publishers * batches;
	struct store_status *statuses = calloc(group * (size_t)batch_size, sizeof(*statuses));
	Xxgk__V1__Request **reqs = calloc(group, sizeof(*reqs));
	Xxgk__V1__Record **records = calloc(group * (size_t)batch_size, sizeof(*records));
	double t0 = bench_now_ms();
	size_t applied = 0;
	/* decoding is part of it: the daemon decodes every message too */
	for (size_t first = 0; first < total; first += group) {
		size_t n = 0, k = 0;
		for (; k < group && first + k < total; k++) {
			const struct packed *m =
			    &ps[(first + k) % publishers].msgs[(first + k) / publishers];
			reqs[k] = xxgk__v1__request__unpack(NULL, m->len, m->data);
			memcpy(records + n, reqs[k]->push->records,
			       reqs[k]->push->n_records * sizeof(*records));
			n += reqs[k]->push->n_records;
		}
		if (store_apply(st, records, n, statuses)) {
			fprintf(stderr, "bench: direct store_apply failed\n");
			exit(1);
		}
		applied += n;
		for (size_t i = 0; i < k; i++)
			xxgk__v1__request__free_unpacked(reqs[i], NULL);
	}
	double elapsed = bench_now_ms() - t0;
	free(reqs);
	free(records);
	store_close(st);
	free(statuses);
	return applied / (elapsed / 1000.0);
}

int main(int argc, char **argv)
{
	int *params[] = {&publishers, &window, &batch_size, &batches, &rate};
	if (argc > 6) {
		fprintf(stderr,
			"usage: bench_ingest [publishers [window [batch [batches [rate]]]]]\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if ((*params[i - 1] = atoi(argv[i])) <= 0) {
			fprintf(stderr, "bench_ingest: \"%s\" is not a positive number\n", argv[i]);
			return 2;
		}
	char dir[] = "/tmp/xxgk-bench-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("bench: mkdtemp");
		return 1;
	}
	struct publisher *ps = calloc((size_t)publishers, sizeof(*ps));
	struct bench_record *scratch = calloc((size_t)batch_size, sizeof(*scratch));
	for (int p = 0; p < publishers; p++) {
		ps[p].index = p;
		ps[p].msgs = calloc((size_t)batches, sizeof(*ps[p].msgs));
		ps[p].latencies = calloc((size_t)batches, sizeof(double));
		for (int b = 0; b < batches; b++)
			ps[p].msgs[b] = pack_batch(p, b, scratch);
	}
	struct phase one = run_phase(dir, "saturation", ps, 0);
	printf("ingest: %d publishers, window %d batches of %d records, %zu records\n", publishers,
	       window, batch_size, one.records);
	printf("1. saturation through xxgkd: %.0f durable records/s; acknowledgement latency p50 "
	       "%.1f ms, p99 %.1f ms\n",
	       one.rate, one.ack_p50, one.ack_p99);
	printf("   report queries meanwhile: %zu, latency p50 %.2f ms, p99 %.2f ms\n", one.queries,
	       one.query_p50, one.query_p99);
	printf("   (city reports over xxgkd's local admin socket, one every 2 ms; xxgkd threads at "
	       "real-time priority: %d, the reader's: %s)\n",
	       one.daemon_realtime, one.reader_realtime ? "real-time" : "normal");
	double ceiling = direct_ceiling(dir, ps);
	printf("2. direct LMDB ceiling (same records, store_apply in one process, %d batches a "
	       "transaction): %.0f records/s\n",
	       publishers * window, ceiling);
	printf("   xxgkd reaches %.0f%% of the direct ceiling\n", 100.0 * one.rate / ceiling);
	double interval = 1000.0 * batch_size * publishers / rate;
	struct phase three = run_phase(dir, "steady", ps, interval);
	printf("3. steady load, %d publishers paced to %d records/s: %.0f durable records/s; "
	       "acknowledgement latency p50 %.1f ms, p99 %.1f ms\n",
	       publishers, rate, three.rate, three.ack_p50, three.ack_p99);
	printf("   report queries meanwhile: %zu, latency p50 %.2f ms, p99 %.2f ms\n",
	       three.queries, three.query_p50, three.query_p99);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (getenv("XXGK_BENCH_KEEP"))
		printf("kept %s\n", dir);
	else if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", dir);
	return 0;
}
