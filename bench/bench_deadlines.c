/*
 * Deadlines benchmark (issue 13). In one run:
 *  1. ingest with and without the deadlines index: the same N open applications (default
 *     1,000,000, over 41 units) applied with store_apply in batches of 1,000, durable, batch by
 *     batch alternately into a store that keeps the index and one that does not (so that load
 *     on the machine falls on both alike): records/s of each and the drop;
 *  2. a real xxgkd on the store with the index: xxgkctl deadlines --overdue for the city (as of
 *     2026-06-01: 1,000 overdue among the N) and --within 5 over the admin socket, Q times
 *     each: latency p50/p99/max;
 *  3. ingest as a unit's system sees it: two real xxgkd, one keeping the index and one not
 *     (XXGK_BENCH_NO_DEADLINES), each sent the same D records (default 1,000,000) in pushes of
 *     1,000, alternately, acknowledged durably: records/s of each and the drop. Three streams,
 *     each on two new daemons: every record a new open application (the index's worst case);
 *     the life of an application (opened, then answered by a second revision 5 pushes later);
 *     records of every kind as units send them, bench_ingest's mix (bench_make_record:
 *     applications, 80% of them answered in the same record, normative documents, legal cases
 *     and tallies, in random units and dates of 2019-2021), D/4 of them (250,000 by default:
 *     each costs the store more than an ordered application). The drop from the totals, and the
 *     median over the pushes of one push's time with the index over the same push's without
 *     (robust to a stall of either daemon);
 *  4. on the same two daemons, the same kind of records again (other ids) at saturation: 8
 *     publishers keeping 4 pushes in flight each, so that a group commit takes several pushes;
 *     in rounds of 20 pushes, each round to both daemons in turn: records/s, the drop, and the
 *     median of the rounds' time with the index over their time without (D/20,000 rounds: 50 by
 *     default, for the median to settle on a shared machine; the mix too: at saturation it goes
 *     fast, and 12 rounds of it, a second or two, swung from a 10% gain to a 16% drop); each
 *     daemon's commits and bytes written.
 * It prints figures; it is not a test.
 *
 *   bench_deadlines [records [queries [daemon_records [scattered]]]]
 *   (default 1000000 1000 1000000)
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_util.h"
#include "calendar.h"
#include "error.h"
#include "store.h"
#include "xxgk.h"

#define UNITS 41
#define BATCH 1000
#define OVERDUE 1000

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_deadlines: %s: %s\n", what, xxgk_strerror(rc));
	exit(1);
}

struct app {
	Xxgk__V1__Record r;
	Xxgk__V1__Application a;
	char unit[24], id[24], received[24];
};

/*
 * Record i of n, in the order of receipt as a unit's system sends them: the first OVERDUE
 * received in March 2026 (overdue on 1 June), the others from 1 to 31 May (due from 1 June on:
 * some within 5 working days). scattered: received dates mixed within every batch instead.
 */
static int scattered;
static char id_letter = 'B'; /* phase 4 sends other applications than phase 3's */

static void make(struct app *x, size_t i, size_t n)
{
	x->r = (Xxgk__V1__Record)XXGK__V1__RECORD__INIT;
	x->a = (Xxgk__V1__Application)XXGK__V1__APPLICATION__INIT;
	snprintf(x->unit, sizeof(x->unit), "u%02zu", i % UNITS);
	snprintf(x->id, sizeof(x->id), "%c%07zu", id_letter, i);
	unsigned may = (unsigned)(scattered ? i % 31 : (i - OVERDUE) * 31 / (n - OVERDUE)) % 31;
	if (i < OVERDUE)
		snprintf(x->received, sizeof(x->received), "2026-03-%02u",
			 (unsigned)(2 + (scattered ? i % 25 : i * 25 / OVERDUE) % 25));
	else
		snprintf(x->received, sizeof(x->received), "2026-05-%02u", 1 + may);
	x->r.unit = x->unit;
	x->r.id = x->id;
	x->r.has_revision = 1;
	x->r.revision = 1;
	x->r.body_case = XXGK__V1__RECORD__BODY_APPLICATION;
	x->r.application = &x->a;
	x->a.has_applicant = 1;
	x->a.applicant = XXGK__V1__APPLICANT_TYPE__APPLICANT_NATURAL_PERSON;
	x->a.received = x->received;
}

/*
 * The streams of phases 3 and 4, each sent to two new daemons: every record a new open
 * application (the index's worst case); applications opened, then answered by a second revision;
 * records of every kind as units send them (bench_ingest's mix, bench_make_record: a quarter of
 * them applications, 80% of those answered in the same record), daemon_records / MIX_SHARE of
 * them in phase 3: a random mix sent one push at a time costs the store several times what
 * ordered applications do (estimated: the whole of daemon_records would add more than half to
 * the run); daemon_records in phase 4, where group commits make it fast.
 */
enum stream { STREAM_OPEN, STREAM_LIFECYCLE, STREAM_MIX, STREAMS };
#define MIX_SHARE 4

/* Phase 3's and phase 4's description of each stream. */
static const char *const stream_names[STREAMS][2] = {
    {"every record a new open application", "every record a new open application"},
    {"applications opened, then answered 5 pushes later",
     "applications opened, then answered a round later"},
    {"records of every kind (bench_ingest's mix)", "records of every kind (bench_ingest's mix)"},
};

/* Push b of the mix (publisher 0 in phase 3, 1 in phase 4: other ids) into mix and ptrs. */
static void make_mix(struct bench_record *mix, Xxgk__V1__Record **ptrs, int publisher, size_t b)
{
	uint64_t rng = (uint64_t)publisher << 32 | (uint64_t)b;
	for (size_t i = 0; i < BATCH; i++) {
		bench_make_record(&mix[i], "u", UNITS, publisher, b * BATCH + i, &rng);
		ptrs[i] = &mix[i].r;
	}
}

static struct store *open_store(const char *dir, int no_deadlines, const struct calendar *cal)
{
	struct store *st;
	struct store_options opt = {.map_size = (size_t)1 << 30, .no_deadlines = no_deadlines};
	struct store_unit units[UNITS];
	char ids[UNITS][8];
	int rc = store_open(&st, dir, &opt);
	if (rc)
		die(dir, rc);
	for (int u = 0; u < UNITS; u++) {
		snprintf(ids[u], sizeof(ids[u]), "u%02d", u);
		units[u] = (struct store_unit){ids[u], 2};
	}
	if ((rc = store_set_units(st, units, UNITS)))
		die("units", rc);
	if ((rc = store_set_calendar(st, cal)))
		die("calendar", rc);
	return st;
}

static double apply(struct store *st, Xxgk__V1__Record **ptrs, struct store_status *statuses)
{
	double t0 = bench_now_ms();
	int rc = store_apply(st, ptrs, BATCH, statuses);
	double t = bench_now_ms() - t0;
	if (rc)
		die("store_apply", rc);
	for (int i = 0; i < BATCH; i++)
		if (statuses[i].code != XXGK__V1__RECORD_STATUS__CODE__APPLIED) {
			fprintf(stderr, "bench_deadlines: not applied: %s\n", statuses[i].message);
			exit(1);
		}
	return t;
}

static void query(const char *admin, int within, int overdue, int n)
{
	struct xxgk_client *c;
	double *lat = malloc((size_t)n * sizeof(*lat));
	size_t listed = 0;
	int rc = xxgk_connect(&c, admin);
	if (rc)
		die("connect", rc);
	for (int i = 0; i < n; i++) {
		Xxgk__V1__DeadlinesQuery q = XXGK__V1__DEADLINES_QUERY__INIT;
		Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
		Xxgk__V1__Reply *reply;
		q.has_within = within >= 0;
		q.within = within >= 0 ? (uint32_t)within : 0;
		q.has_overdue = q.overdue = overdue;
		q.as_of = "2026-06-01";
		req.body_case = XXGK__V1__REQUEST__BODY_DEADLINES;
		req.deadlines = &q;
		double t0 = bench_now_ms();
		if ((rc = xxgk_call(c, &req, 10000, &reply)))
			die("deadlines", rc);
		lat[i] = bench_now_ms() - t0;
		if (reply->body_case != XXGK__V1__REPLY__BODY_DEADLINES) {
			fprintf(stderr, "bench_deadlines: %s\n",
				reply->body_case == XXGK__V1__REPLY__BODY_ERROR
				    ? reply->error->message
				    : "?");
			exit(1);
		}
		listed = reply->deadlines->n_deadlines;
		xxgk__v1__reply__free_unpacked(reply, NULL);
	}
	xxgk_close(c);
	qsort(lat, (size_t)n, sizeof(*lat), compare_double);
	printf("deadlines %s: %zu listed, %d queries: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	       overdue ? "--overdue" : "--within 5", listed, n, lat[n / 2], lat[(size_t)(n * 0.99)],
	       lat[n - 1]);
	free(lat);
}

/* Starts xxgkd on conf (its environment plus env, "NAME=VALUE" or NULL); its pid. */
static pid_t start_daemon(const char *conf, const char *log, const char *admin, const char *env)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (freopen(log, "w", stderr) == NULL)
			_exit(127);
		if (env)
			putenv((char *)env);
		execl(XXGKD_PATH, "xxgkd", "-c", conf, "-f", (char *)NULL);
		_exit(127);
	}
	/* ready once it answers */
	for (int i = 0;; i++) {
		struct xxgk_client *c;
		Xxgk__V1__Reply *reply = NULL;
		Xxgk__V1__StatusQuery sq = XXGK__V1__STATUS_QUERY__INIT;
		Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
		req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
		req.status = &sq;
		if (xxgk_connect(&c, admin) == 0) {
			int rc = xxgk_call(c, &req, 1000, &reply);
			xxgk_close(c);
			if (rc == 0) {
				xxgk__v1__reply__free_unpacked(reply, NULL);
				return pid;
			}
		}
		if (i == 600) {
			fprintf(stderr, "bench_deadlines: xxgkd did not answer (see %s)\n", log);
			kill(pid, SIGKILL);
			exit(1);
		}
		usleep(100 * 1000);
	}
}

/* Writes the configuration of an xxgkd in dir/NAME: its endpoints under dir, the bench's units. */
static void write_conf(const char *conf, const char *state_dir, const char *dir, const char *name,
		       const char *holidays)
{
	FILE *f = fopen(conf, "w");
	if (f == NULL)
		die(conf, XXGK_EIO);
	fprintf(f,
		"[xxgkd]\nstate_dir = %s\ningest = ipc://%s/%s-ingest\nadmin = ipc://%s/%s-admin\n"
		"publish = ipc://%s/%s-publish\nholidays = %s\nmap_size = %d\n",
		state_dir, dir, name, dir, name, dir, name, holidays, 1 << 30);
	for (int u = 0; u < UNITS; u++)
		fprintf(f, "[unit u%02d]\nname = unit %d\nkind = department\n", u, u);
	fclose(f);
}

/* Pushes a batch of n records to c; its time in ms. Every record must be applied. */
static double push(struct xxgk_client *c, Xxgk__V1__Record **ptrs, size_t n, int *statuses)
{
	double t0 = bench_now_ms();
	int rc = xxgk_push(c, ptrs, n, statuses, NULL, NULL, 60000);
	double t = bench_now_ms() - t0;
	if (rc)
		die("push", rc);
	for (size_t i = 0; i < n; i++)
		if (statuses[i] != XXGK__V1__RECORD_STATUS__CODE__APPLIED) {
			fprintf(stderr, "bench_deadlines: push: record %zu not applied (%d)\n", i,
				statuses[i]);
			exit(1);
		}
	return t;
}

/*
 * Phase 3: records to two xxgkd (ingest endpoints in[0] with the index, in[1] without),
 * alternately; STREAM_LIFECYCLE: each batch also answers the applications opened 5 batches
 * before; STREAM_MIX: batches of bench_ingest's mix.
 */
static void daemon_writes(const char *admin, pid_t pid, double *commits, double *wchar);
static void print_writes(double commits[2][2], double wchar[2][2], size_t sent);

static void daemon_ingest(const char *const in[2], const char *const admin[2], const pid_t pid[2],
			  size_t records, enum stream stream)
{
	double commits[2][2], wchar[2][2];
	int lifecycle = stream == STREAM_LIFECYCLE;
	for (int d = 0; d < 2; d++)
		daemon_writes(admin[d], pid[d], &commits[d][0], &wchar[d][0]);
	struct xxgk_client *c[2];
	struct app *apps = calloc(2 * BATCH, sizeof(*apps));
	struct bench_record *mix = calloc(BATCH, sizeof(*mix));
	Xxgk__V1__Record **ptrs = calloc(2 * BATCH, sizeof(*ptrs));
	int *statuses = calloc(2 * BATCH, sizeof(*statuses));
	double t[2] = {0, 0};
	/* each push's time with the index over its time without: machine noise (an fsync that
	 * stalls) falls on single pushes, which the median of the pairs leaves out */
	size_t pushes = records / BATCH + 1, paired = 0;
	double *ratio = calloc(pushes, sizeof(*ratio));
	size_t sent = 0;
	for (int d = 0; d < 2; d++)
		if (xxgk_connect(&c[d], in[d]))
			die(in[d], XXGK_EIO);
	size_t opened = lifecycle ? BATCH / 2 : BATCH;
	for (size_t b = 0; sent + BATCH <= records; b++) {
		size_t n = 0;
		if (stream == STREAM_MIX) {
			make_mix(mix, ptrs, 0, b);
			n = BATCH;
		}
		for (size_t i = 0; stream != STREAM_MIX && i < opened; i++, n++) {
			make(&apps[n], b * opened + i, records);
			ptrs[n] = &apps[n].r;
		}
		for (size_t i = 0; lifecycle && b >= 5 && i < opened; i++, n++) {
			make(&apps[n], (b - 5) * opened + i, records);
			apps[n].r.revision = 2;
			apps[n].a.concluded = "2026-06-10";
			apps[n].a.has_outcome = 1;
			apps[n].a.outcome = XXGK__V1__OUTCOME__OUTCOME_GRANTED;
			ptrs[n] = &apps[n].r;
		}
		double pt[2];
		for (int k = 0; k < 2; k++) {
			int d = (int)((b + (size_t)k) % 2); /* alternately first */
			pt[d] = push(c[d], ptrs, n, statuses);
			t[d] += pt[d];
		}
		if (paired < pushes && pt[1] > 0)
			ratio[paired++] = pt[0] / pt[1];
		sent += n;
	}
	for (int d = 0; d < 2; d++)
		daemon_writes(admin[d], pid[d], &commits[d][1], &wchar[d][1]);
	qsort(ratio, paired, sizeof(*ratio), compare_double);
	double median = paired ? ratio[paired / 2] : 1;
	double with = (double)sent / (t[0] / 1000), without = (double)sent / (t[1] / 1000);
	printf("xxgkd ingest, %s: %zu records in pushes of up to %d\n", stream_names[stream][0],
	       sent, BATCH);
	printf("  without the index: %.0f records/s\n", without);
	printf("  with the index:    %.0f records/s (%.1f%% %s)\n", with,
	       100.0 * fabs(without - with) / without, with <= without ? "drop" : "gain");
	printf("  median of %zu paired pushes: %.1f%% %s\n", paired, 100.0 * fabs(1 - 1 / median),
	       median >= 1 ? "drop" : "gain");
	print_writes(commits, wchar, sent);
	for (int d = 0; d < 2; d++)
		xxgk_close(c[d]);
	free(apps);
	free(mix);
	free(ptrs);
	free(statuses);
	free(ratio);
}

/*
 * Phase 4: saturation. PUBLISHERS DEALER sockets (threads) each keep WINDOW pushes in flight to
 * one daemon, as fast as they are answered, so that its group commits take several pushes: the
 * daemon's throughput, not one push's round trip. The records go in rounds of ROUND_PUSHES
 * pushes, each round to both daemons in turn (which first alternates); a round's time with the
 * index over the same round's without is one pair. STREAM_LIFECYCLE: each push also answers the
 * applications opened one round before (answered after they were acknowledged); STREAM_MIX:
 * pushes of bench_ingest's mix, with other ids than phase 3's.
 */
#define PUBLISHERS 8
#define WINDOW 4
#define ROUND_PUSHES 20

struct packed {
	uint8_t *data;
	size_t len;
};

struct publisher {
	void *socket;
	const struct packed *msgs; /* pushes p, p + PUBLISHERS, ... of the round */
	size_t n;
	int failed;
};

static void *publish(void *arg)
{
	struct publisher *p = arg;
	size_t next = 0, acked = 0;
	while (acked < p->n && !p->failed) {
		while (next < p->n && next - acked < WINDOW)
			if (zmq_send(p->socket, p->msgs[next].data, p->msgs[next].len, 0) < 0)
				p->failed = 1;
			else
				next++;
		zmq_pollitem_t item = {p->socket, 0, ZMQ_POLLIN, 0};
		zmq_msg_t msg;
		if (zmq_poll(&item, 1, 60000) != 1) {
			p->failed = 1;
			break;
		}
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, p->socket, 0) < 0) {
			zmq_msg_close(&msg);
			p->failed = 1;
			break;
		}
		Xxgk__V1__Reply *r =
		    xxgk__v1__reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
		zmq_msg_close(&msg);
		if (r == NULL || r->body_case != XXGK__V1__REPLY__BODY_PUSH)
			p->failed = 1;
		for (size_t i = 0; r && !p->failed && i < r->push->n_statuses; i++)
			if (r->push->statuses[i]->code != XXGK__V1__RECORD_STATUS__CODE__APPLIED) {
				fprintf(stderr, "bench_deadlines: not applied: %s\n",
					r->push->statuses[i]->message);
				p->failed = 1;
			}
		if (r)
			xxgk__v1__reply__free_unpacked(r, NULL);
		acked++;
	}
	return NULL;
}

/* The daemon's commits since start (its status) and bytes written (/proc/PID/io wchar). */
static void daemon_writes(const char *admin, pid_t pid, double *commits, double *wchar)
{
	struct xxgk_client *c;
	Xxgk__V1__Reply *reply = NULL;
	Xxgk__V1__StatusQuery sq = XXGK__V1__STATUS_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	char path[64], line[256];
	req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
	req.status = &sq;
	*commits = *wchar = 0;
	if (xxgk_connect(&c, admin) == 0) {
		if (xxgk_call(c, &req, 10000, &reply) == 0) {
			if (reply->body_case == XXGK__V1__REPLY__BODY_STATUS)
				*commits = (double)reply->status->commits;
			xxgk__v1__reply__free_unpacked(reply, NULL);
		}
		xxgk_close(c);
	}
	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "wchar:", 6) == 0)
			*wchar = strtod(line + 6, NULL);
	if (f)
		fclose(f);
}

static void print_writes(double commits[2][2], double wchar[2][2], size_t sent)
{
	for (int d = 0; d < 2; d++) {
		double n = commits[d][1] - commits[d][0];
		printf("  %s the index: %.0f commits (%.0f records each), %.0f bytes written a "
		       "record\n",
		       d ? "without" : "with", n, n > 0 ? (double)sent / n : 0,
		       (wchar[d][1] - wchar[d][0]) / (double)sent);
	}
}

/* Sends the round's pushes to one daemon through its sockets at saturation: milliseconds. */
static double send_round(void *const *sockets, const struct packed *msgs, size_t n)
{
	struct publisher pubs[PUBLISHERS];
	pthread_t threads[PUBLISHERS];
	struct packed *mine[PUBLISHERS];
	double t0 = bench_now_ms();
	for (int p = 0; p < PUBLISHERS; p++) {
		size_t k = 0;
		mine[p] = calloc(n / PUBLISHERS + 1, sizeof(**mine));
		for (size_t i = (size_t)p; i < n; i += PUBLISHERS)
			mine[p][k++] = msgs[i];
		pubs[p] = (struct publisher){sockets[p], mine[p], k, 0};
		pthread_create(&threads[p], NULL, publish, &pubs[p]);
	}
	int failed = 0;
	for (int p = 0; p < PUBLISHERS; p++) {
		pthread_join(threads[p], NULL);
		failed |= pubs[p].failed;
		free(mine[p]);
	}
	if (failed) {
		fprintf(stderr, "bench_deadlines: a push at saturation failed\n");
		exit(1);
	}
	return bench_now_ms() - t0;
}

static void daemon_saturate(const char *const in[2], const char *const admin[2], const pid_t pid[2],
			    size_t records, enum stream stream)
{
	double commits[2][2], wchar[2][2];
	int lifecycle = stream == STREAM_LIFECYCLE;
	void *zmq = zmq_ctx_new(), *sockets[2][PUBLISHERS];
	struct app *apps = calloc(BATCH, sizeof(*apps));
	struct bench_record *mix = calloc(BATCH, sizeof(*mix));
	Xxgk__V1__Record **ptrs = calloc(BATCH, sizeof(*ptrs));
	struct packed *msgs = calloc(ROUND_PUSHES, sizeof(*msgs));
	size_t rounds = records / ((size_t)ROUND_PUSHES * BATCH), paired = 0, sent = 0;
	double *ratio = calloc(rounds + 1, sizeof(*ratio)), t[2] = {0, 0};
	size_t opened = lifecycle ? BATCH / 2 : BATCH;
	uint64_t request_id = 0;
	id_letter = 'S';
	for (int d = 0; d < 2; d++)
		for (int p = 0; p < PUBLISHERS; p++) {
			int linger = 0;
			sockets[d][p] = zmq_socket(zmq, ZMQ_DEALER);
			zmq_setsockopt(sockets[d][p], ZMQ_LINGER, &linger, sizeof(linger));
			if (zmq_connect(sockets[d][p], in[d]))
				die(in[d], XXGK_EIO);
		}
	for (int d = 0; d < 2; d++)
		daemon_writes(admin[d], pid[d], &commits[d][0], &wchar[d][0]);
	for (size_t r = 0; r < rounds; r++) {
		size_t n_round = 0;
		for (size_t k = 0; k < ROUND_PUSHES; k++) {
			size_t b = r * ROUND_PUSHES + k, n = 0;
			if (stream == STREAM_MIX) {
				make_mix(mix, ptrs, 1, b);
				n = BATCH;
			}
			for (size_t i = 0; stream != STREAM_MIX && i < opened; i++, n++) {
				make(&apps[n], b * opened + i, records);
				ptrs[n] = &apps[n].r;
			}
			for (size_t i = 0; lifecycle && r > 0 && i < opened; i++, n++) {
				make(&apps[n], (b - ROUND_PUSHES) * opened + i, records);
				apps[n].r.revision = 2;
				apps[n].a.concluded = "2026-06-10";
				apps[n].a.has_outcome = 1;
				apps[n].a.outcome = XXGK__V1__OUTCOME__OUTCOME_GRANTED;
				ptrs[n] = &apps[n].r;
			}
			msgs[k].data = bench_pack_push(ptrs, n, ++request_id, &msgs[k].len);
			n_round += n;
		}
		double rt[2];
		for (int k = 0; k < 2; k++) {
			int d = (int)((r + (size_t)k) % 2); /* alternately first */
			rt[d] = send_round(sockets[d], msgs, ROUND_PUSHES);
			t[d] += rt[d];
		}
		ratio[paired++] = rt[0] / rt[1];
		sent += n_round;
		for (size_t k = 0; k < ROUND_PUSHES; k++)
			free(msgs[k].data);
	}
	for (int d = 0; d < 2; d++)
		daemon_writes(admin[d], pid[d], &commits[d][1], &wchar[d][1]);
	qsort(ratio, paired, sizeof(*ratio), compare_double);
	double median = paired ? ratio[paired / 2] : 1;
	double with = (double)sent / (t[0] / 1000), without = (double)sent / (t[1] / 1000);
	printf("xxgkd at saturation (%d publishers, %d pushes of %d in flight each), %s: %zu "
	       "records\n",
	       PUBLISHERS, WINDOW, BATCH, stream_names[stream][1], sent);
	printf("  without the index: %.0f records/s\n", without);
	printf("  with the index:    %.0f records/s (%.1f%% %s)\n", with,
	       100.0 * fabs(without - with) / without, with <= without ? "drop" : "gain");
	printf("  median of %zu paired rounds of %d pushes: %.1f%% %s\n", paired, ROUND_PUSHES,
	       100.0 * fabs(1 - 1 / median), median >= 1 ? "drop" : "gain");
	print_writes(commits, wchar, sent);
	for (int d = 0; d < 2; d++)
		for (int p = 0; p < PUBLISHERS; p++)
			zmq_close(sockets[d][p]);
	zmq_ctx_term(zmq);
	free(apps);
	free(mix);
	free(ptrs);
	free(msgs);
	free(ratio);
	id_letter = 'B';
}

int main(int argc, char **argv)
{
	size_t records = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
	int queries = argc > 2 ? atoi(argv[2]) : 1000;
	size_t daemon_records = argc > 3 ? (size_t)atol(argv[3]) : 1000000;
	scattered = argc > 4 && strcmp(argv[4], "scattered") == 0;
	char base[] = "/tmp/xxgk-bench-deadlines-XXXXXX", with_dir[600], without_dir[600],
	     conf[600], admin[700], cmd[2000];
	const char *holidays = XXGK_SOURCE_DIR "/data/holidays.conf";
	struct calendar *cal;
	char err[512];
	if (records < OVERDUE + BATCH || records % BATCH || queries < 1 ||
	    daemon_records < 20 * BATCH) {
		fprintf(stderr,
			"usage: bench_deadlines [records (a multiple of %d) [queries "
			"[daemon_records (at least %d) [scattered]]]]\n",
			BATCH, 20 * BATCH);
		return 2;
	}
	if (mkdtemp(base) == NULL)
		return 1;
	if (calendar_load(&cal, &holidays, 1, err, sizeof(err))) {
		fprintf(stderr, "bench_deadlines: %s\n", err);
		return 1;
	}
	snprintf(with_dir, sizeof(with_dir), "%s/with", base);
	snprintf(without_dir, sizeof(without_dir), "%s/without", base);
	struct store *with = open_store(with_dir, 0, cal),
		     *without = open_store(without_dir, 1, cal);
	struct app *apps = calloc(BATCH, sizeof(*apps));
	Xxgk__V1__Record **ptrs = calloc(BATCH, sizeof(*ptrs));
	struct store_status *statuses = calloc(BATCH, sizeof(*statuses));
	double t_with = 0, t_without = 0;
	printf("ingest: %zu open applications, %d units, batches of %d, durable commits, %s\n",
	       records, UNITS, BATCH,
	       scattered ? "received dates scattered in every batch" : "in order of receipt");
	for (size_t b = 0; b < records / BATCH; b++) {
		for (size_t i = 0; i < BATCH; i++) {
			make(&apps[i], b * BATCH + i, records);
			ptrs[i] = &apps[i].r;
		}
		/* alternately first, so that neither store always follows the other's commit */
		if (b % 2) {
			t_with += apply(with, ptrs, statuses);
			t_without += apply(without, ptrs, statuses);
		} else {
			t_without += apply(without, ptrs, statuses);
			t_with += apply(with, ptrs, statuses);
		}
	}
	double r_with = (double)records / (t_with / 1000),
	       r_without = (double)records / (t_without / 1000);
	printf("ingest without the index: %.0f records/s\n", r_without);
	printf("ingest with the index:    %.0f records/s (%.1f%% %s)\n", r_with,
	       100.0 * fabs(r_without - r_with) / r_without, r_with <= r_without ? "drop" : "gain");
	store_close(with);
	store_close(without);
	free(apps);
	free(ptrs);
	free(statuses);
	calendar_free(cal);

	/* a real xxgkd on the store with the index, the same calendar: no recomputation */
	char log[700];
	snprintf(conf, sizeof(conf), "%s/xxgkd.conf", base);
	snprintf(admin, sizeof(admin), "ipc://%s/q-admin", base);
	snprintf(log, sizeof(log), "%s/xxgkd.log", base);
	write_conf(conf, with_dir, base, "q", holidays);
	pid_t pid = start_daemon(conf, log, admin, NULL);
	query(admin, -1, 1, queries);
	query(admin, 5, 0, queries);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);

	/* phase 3: two new daemons for each stream, the same records to both */
	for (int stream = 0; stream < STREAMS; stream++) {
		static const char *const names[2] = {"with", "without"};
		char in[2][700], dconf[2][720], dstate[2][700], dadmin[2][700], dlog[2][720];
		pid_t dpid[2];
		for (int d = 0; d < 2; d++) {
			snprintf(dstate[d], sizeof(dstate[d]), "%s/d%d-%s", base, stream, names[d]);
			snprintf(dconf[d], sizeof(dconf[d]), "%s.conf", dstate[d]);
			snprintf(dlog[d], sizeof(dlog[d]), "%s.log", dstate[d]);
			snprintf(dadmin[d], sizeof(dadmin[d]), "ipc://%s/%s-admin", base, names[d]);
			snprintf(in[d], sizeof(in[d]), "ipc://%s/%s-ingest", base, names[d]);
			write_conf(dconf[d], dstate[d], base, names[d], holidays);
			dpid[d] = start_daemon(dconf[d], dlog[d], dadmin[d],
					       d ? "XXGK_BENCH_NO_DEADLINES=1" : NULL);
		}
		const char *const ins[2] = {in[0], in[1]};
		const char *const admins[2] = {dadmin[0], dadmin[1]};
		/* the mix one push at a time: fewer records (each costs more) */
		size_t n = stream == STREAM_MIX ? daemon_records / MIX_SHARE : daemon_records;
		size_t saturated = daemon_records; /* at least one round of phase 4 */
		if (n < (size_t)ROUND_PUSHES * BATCH)
			n = (size_t)ROUND_PUSHES * BATCH;
		if (saturated < n)
			saturated = n;
		daemon_ingest(ins, admins, dpid, n, (enum stream)stream);
		/* phase 4 on the same daemons: the records after phase 3's */
		daemon_saturate(ins, admins, dpid, saturated, (enum stream)stream);
		for (int d = 0; d < 2; d++) {
			kill(dpid[d], SIGTERM);
			waitpid(dpid[d], NULL, 0);
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : 1;
}
