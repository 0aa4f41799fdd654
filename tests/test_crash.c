/*
 * Crash safety: a child process applies a fixed sequence of batches to a durable store and
 * reports each commit on a pipe; the parent kills it with SIGKILL at random moments, many times.
 * After every kill the reopened store must hold exactly the records of a committed prefix of the
 * batches — every acknowledged batch and at most the one in flight — and verify must pass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "testutil.h"

#define RECORDS 3000
#define BATCHES 600
#define BATCH_MAX 40
#define UNITS 12
#define KILLS_MAX 40

struct entry {
	uint32_t record;
	uint32_t revision;
};

struct plan {
	uint64_t seed;
	size_t sizes[BATCHES];
	struct entry *entries[BATCHES];
};

static struct city city;

static void make_plan(struct plan *p, uint64_t seed)
{
	struct rng rng = {seed};
	p->seed = seed;
	for (int b = 0; b < BATCHES; b++) {
		p->sizes[b] = 1 + rng_below(&rng, BATCH_MAX);
		p->entries[b] = calloc(p->sizes[b], sizeof(struct entry));
		for (size_t i = 0; i < p->sizes[b]; i++) {
			p->entries[b][i].record = rng_below(&rng, RECORDS);
			p->entries[b][i].revision = 1 + rng_below(&rng, 5);
		}
	}
}

/* The content of (record, revision) never changes, so resending is never a conflict. */
static void build(const struct plan *p, struct trec *t, uint32_t record, uint32_t revision)
{
	char id[32];
	int kind = (int)(record % 4);
	const char *unit = city.ids[record % UNITS];
	uint64_t s = p->seed ^ ((uint64_t)record << 8 | revision);
	snprintf(id, sizeof(id), "c%05u", (unsigned)record);
	if (rng_next(&(struct rng){s}) % 10 == 0)
		trec_tombstone(t, unit, id, revision, kind);
	else
		trec_random(t, s, kind, unit, id, revision, 2017, 2023);
}

/* The child: apply batches from first on, report each commit, never return. */
static void run_child(const struct plan *p, const char *dir, int first, int fd)
{
	struct store *st;
	struct store_options opt = {0}; /* durable: fsync at every commit */
	struct trec *t = calloc(BATCH_MAX, sizeof(*t));
	Xxgk__V1__Record *batch[BATCH_MAX];
	struct store_status s[BATCH_MAX];
	if (store_open(&st, dir, &opt) != 0)
		_exit(3);
	for (int b = first; b < BATCHES; b++) {
		for (size_t i = 0; i < p->sizes[b]; i++) {
			build(p, &t[i], p->entries[b][i].record, p->entries[b][i].revision);
			batch[i] = &t[i].r;
		}
		if (store_apply(st, batch, p->sizes[b], s) != 0)
			_exit(4);
		uint32_t done = (uint32_t)b + 1;
		if (write(fd, &done, sizeof(done)) != sizeof(done))
			_exit(5);
	}
	store_close(st);
	_exit(0);
}

/* The latest revision of each record after the first k batches (0: absent). */
static void model_after(const struct plan *p, int k, uint32_t *latest)
{
	memset(latest, 0, RECORDS * sizeof(*latest));
	for (int b = 0; b < k; b++)
		for (size_t i = 0; i < p->sizes[b]; i++) {
			const struct entry *e = &p->entries[b][i];
			if (e->revision > latest[e->record])
				latest[e->record] = e->revision;
		}
}

struct match {
	const struct plan *p;
	const uint32_t *latest;
	size_t seen;
	int equal;
};

static int match_record(void *ctx, const char *unit, const Xxgk__V1__Record *r)
{
	struct match *m = ctx;
	struct trec t;
	uint8_t a[RECORD_PACKED_MAX], b[RECORD_PACKED_MAX];
	unsigned record;
	(void)unit;
	m->seen++;
	if (sscanf(r->id, "c%05u", &record) != 1 || record >= RECORDS ||
	    m->latest[record] != r->revision) {
		m->equal = 0;
		return 0;
	}
	build(m->p, &t, record, (uint32_t)r->revision);
	size_t la = record_pack_canonical(r, a, sizeof(a));
	size_t lb = record_pack_canonical(&t.r, b, sizeof(b));
	if (la != lb || memcmp(a, b, la) != 0)
		m->equal = 0;
	return 0;
}

/* Whether the store holds exactly the records of the first k batches. */
static int store_is_prefix(struct store *st, const struct plan *p, int k)
{
	uint32_t *latest = calloc(RECORDS, sizeof(*latest));
	struct match m = {p, latest, 0, 1};
	size_t expected = 0;
	model_after(p, k, latest);
	for (int j = 0; j < RECORDS; j++)
		expected += latest[j] != 0;
	assert_int_equal(store_foreach_record(st, match_record, &m), 0);
	free(latest);
	return m.equal && m.seen == expected;
}

static void test_kill_at_random_moments(void **state)
{
	(void)state;
	struct plan *p = calloc(1, sizeof(*p));
	uint64_t seed = test_seed(711);
	struct rng rng = {seed ^ 0x5eed};
	char *dir = tmpdir_make("crash");
	struct store *st;
	int committed = 0, kills = 0, in_flight_seen = 0;

	city_make(&city, UNITS);
	make_plan(p, seed);
	st = test_store_open(dir, &city);
	store_close(st);

	while (committed < BATCHES) {
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			run_child(p, dir, committed, fds[1]);
		}
		close(fds[1]);
		int status;
		if (kills < KILLS_MAX) {
			struct timespec delay = {0, (long)rng_below(&rng, 25000) * 1000};
			nanosleep(&delay, NULL);
			kill(pid, SIGKILL);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			fail_msg("child failed with exit code %d", WEXITSTATUS(status));
		/* everything the child acknowledged before it died */
		int acked = committed;
		uint32_t done;
		while (read(fds[0], &done, sizeof(done)) == sizeof(done))
			acked = (int)done;
		close(fds[0]);
		if (WIFSIGNALED(status))
			kills++;

		int rc = store_open(&st, dir, NULL);
		if (rc)
			fail_msg("reopen after kill %d: %s", kills, xxgk_strerror(rc));
		size_t differences = 1;
		assert_int_equal(store_verify(st, NULL, NULL, &differences), 0);
		assert_int_equal(differences, 0);
		if (store_is_prefix(st, p, acked)) {
			committed = acked;
		} else if (acked < BATCHES && store_is_prefix(st, p, acked + 1)) {
			committed = acked + 1; /* committed, killed before it could say so */
			in_flight_seen++;
		} else {
			fail_msg("after kill %d the store is no committed prefix (acknowledged %d)",
				 kills, acked);
		}
		store_close(st);
	}
	printf("# %d kills; %d times the batch in flight had committed unacknowledged\n", kills,
	       in_flight_seen);
	assert_true(kills >= 20);

	/* the end state is the whole plan */
	assert_int_equal(store_open(&st, dir, NULL), 0);
	assert_true(store_is_prefix(st, p, BATCHES));
	store_close(st);
	tmpdir_remove(dir);
	for (int b = 0; b < BATCHES; b++)
		free(p->entries[b]);
	free(p);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill_at_random_moments),
	};
	return cmocka_run_group_tests_name("crash", tests, NULL, NULL);
}
