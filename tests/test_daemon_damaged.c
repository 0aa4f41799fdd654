/*
 * A damaged store is refused, never a crash: a store with records, then its data.mdb truncated
 * (to half, and to a size that is not a page multiple), 16 bytes flipped at random in its data
 * pages (several seeds), or made empty next to the store's state. Each time xxgkd exits 1 with
 * a line naming the file and the way back (a backup), never killed by a signal, never started
 * as an empty store. Flips LMDB cannot notice may leave a store that opens: then xxgkd stays up
 * through verify and pushes, and verify passes or answers "damaged" or differences. Verify of a
 * file cut under the running daemon answers "damaged" and the daemon stays up; a file short only
 * by free pages (which LMDB may leave unwritten) is no false alarm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "daemon_harness.h"
#include "error.h"
#include "stream.h"

#define FLIP_CASES 10
#define FLIP_BYTES 16

struct fixture {
	struct city city;
	struct stream s;
	struct daemon d;
	char data[600], pristine[600];
	off_t size;
};

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct publish_counts counts;
	struct stat sb;
	city_make(&fx->city, 6);
	stream_make(&fx->s, &fx->city, 3000, 2018, 2022, 11);
	daemon_setup(&fx->d, "damaged", &fx->city, NULL);
	daemon_start(&fx->d);
	struct publishers *p =
	    publishers_start(fx->d.ingest, fx->s.entries, fx->s.n_entries, 2, 1, 30000, 11);
	publishers_join(p, &counts);
	assert_int_equal(counts.failures, 0);
	daemon_stop(&fx->d);
	snprintf(fx->data, sizeof(fx->data), "%s/data.mdb", fx->d.state);
	snprintf(fx->pristine, sizeof(fx->pristine), "%s/pristine.mdb", fx->d.dir);
	copy_file(fx->data, fx->pristine);
	assert_int_equal(stat(fx->pristine, &sb), 0);
	fx->size = sb.st_size;
	printf("# a store of %zu records, data.mdb %lld bytes\n", fx->s.n_records,
	       (long long)fx->size);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	daemon_teardown(&fx->d);
	stream_free(&fx->s);
	city_free(&fx->city);
	free(fx);
	return 0;
}

/* How a start on the damaged store ended: it exited (with status), or it answered status. */
struct outcome {
	int exited, status;
};

/* Starts xxgkd on a fresh log; it must either exit or answer within 30 s. */
static struct outcome start_daemon(struct daemon *d)
{
	struct outcome o = {0};
	int answered = 0;
	assert_int_equal(truncate(d->log, 0), 0);
	daemon_spawn(d);
	pid_t pid = d->pid;
	struct xxgk_client *c;
	assert_int_equal(xxgk_connect(&c, d->admin), 0);
	for (int i = 0; i < 300 && !o.exited && !answered; i++) {
		Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
		Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
		Xxgk__V1__Reply *reply = NULL;
		req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
		req.status = &q;
		if (waitpid(pid, &o.status, WNOHANG) == pid) {
			d->pid = 0;
			o.exited = 1;
		} else if (xxgk_call(c, &req, 100, &reply) == 0) {
			xxgk__v1__reply__free_unpacked(reply, NULL);
			answered = 1;
		}
	}
	xxgk_close(c);
	if (!o.exited && !answered) {
		daemon_print_log(d);
		fail_msg("xxgkd neither exited nor answered within 30 s");
	}
	return o;
}

static struct outcome start(struct fixture *fx)
{
	return start_daemon(&fx->d);
}

/* It exited 1, not by a signal, with the line that names the file and the way back. */
static void assert_refused(struct fixture *fx, struct outcome o, const char *what)
{
	if (!o.exited) {
		daemon_print_log(&fx->d);
		daemon_kill(&fx->d);
		fail_msg("%s: xxgkd started (as an empty or damaged store)", what);
	}
	if (WIFSIGNALED(o.status)) {
		daemon_print_log(&fx->d);
		fail_msg("%s: xxgkd was killed by signal %d (%s)", what, WTERMSIG(o.status),
			 strsignal(WTERMSIG(o.status)));
	}
	if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 1) {
		daemon_print_log(&fx->d);
		fail_msg("%s: xxgkd exited with status %d, not 1", what, WEXITSTATUS(o.status));
	}
	char named[700];
	snprintf(named, sizeof(named), "the store %s is damaged", fx->data);
	if (!daemon_log_says(&fx->d, named) || !daemon_log_says(&fx->d, "xxgkctl backup")) {
		daemon_print_log(&fx->d);
		fail_msg("%s: no line naming %s and the backup to restore", what, fx->data);
	}
}

/* The reason the log gives, after "is damaged: " (for the test's output). */
static const char *reason(struct fixture *fx)
{
	static char line[1024];
	const char *at = NULL;
	FILE *f = fopen(fx->d.log, "r");
	while (f && at == NULL && fgets(line, sizeof(line), f))
		at = strstr(line, "is damaged: ");
	if (f)
		fclose(f);
	if (at == NULL)
		return "?";
	at += strlen("is damaged: ");
	char *end = strstr(at, ". xxgkd will not use it");
	if (end)
		*end = '\0';
	return at;
}

static void restore_pristine(struct fixture *fx)
{
	copy_file(fx->pristine, fx->data);
}

static void truncate_to(struct fixture *fx, off_t size, const char *what)
{
	restore_pristine(fx);
	assert_int_equal(truncate(fx->data, size), 0);
	struct outcome o = start(fx);
	assert_refused(fx, o, what);
	printf("# %s (%lld of %lld bytes): refused, exit 1: %s\n", what, (long long)size,
	       (long long)fx->size, reason(fx));
}

static void test_truncated(void **state)
{
	struct fixture *fx = *state;
	truncate_to(fx, fx->size / 2, "truncated to half");
	truncate_to(fx, fx->size / 2 + 1234, "truncated to a size that is not a page multiple");
}

static void test_empty_next_to_state(void **state)
{
	struct fixture *fx = *state;
	char path[700];
	struct stat sb;
	restore_pristine(fx);
	assert_int_equal(truncate(fx->data, 0), 0);
	snprintf(path, sizeof(path), "%s/lock.mdb", fx->d.state);
	assert_int_equal(stat(path, &sb), 0);
	struct outcome o = start(fx);
	assert_refused(fx, o, "zero-length data.mdb next to the store's lock.mdb");
	printf("# zero-length data.mdb next to the existing state: refused, exit 1: %s\n",
	       reason(fx));
}

/* What a started xxgkd on a flipped store must still do: answer verify and pushes, alive. */
static const char *exercise(struct fixture *fx, uint64_t seed)
{
	static char result[160];
	Xxgk__V1__VerifyQuery vq = XXGK__V1__VERIFY_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	Xxgk__V1__Reply *reply = NULL;
	struct xxgk_client *c;
	int status;
	req.body_case = XXGK__V1__REQUEST__BODY_VERIFY;
	req.verify = &vq;
	assert_int_equal(xxgk_connect(&c, fx->d.admin), 0);
	int rc = xxgk_call(c, &req, 30000, &reply);
	xxgk_close(c);
	if (rc)
		fail_msg("seed %llu: verify got no answer: %s", (unsigned long long)seed,
			 xxgk_strerror(rc));
	if (reply->body_case == XXGK__V1__REPLY__BODY_VERIFY)
		snprintf(result, sizeof(result), "verify: %llu differences",
			 (unsigned long long)reply->verify->differences);
	else if (reply->body_case == XXGK__V1__REPLY__BODY_ERROR &&
		 strstr(reply->error->message, "damaged"))
		snprintf(result, sizeof(result), "verify: damaged");
	else
		fail_msg("seed %llu: verify answered neither a result nor \"damaged\": %s",
			 (unsigned long long)seed,
			 reply->body_case == XXGK__V1__REPLY__BODY_ERROR ? reply->error->message
									 : "?");
	xxgk__v1__reply__free_unpacked(reply, NULL);
	/* the write path too: a batch of latest revisions (duplicates, mostly) */
	int statuses[200], reasons[200];
	const char *messages[200];
	assert_int_equal(xxgk_connect(&c, fx->d.ingest), 0);
	rc = xxgk_push(c, fx->s.latest, 200, statuses, reasons, messages, 30000);
	xxgk_close(c);
	if (rc && rc != XXGK_EINVAL)
		fail_msg("seed %llu: a push got no answer: %s", (unsigned long long)seed,
			 xxgk_strerror(rc));
	if (waitpid(fx->d.pid, &status, WNOHANG) == fx->d.pid) {
		fx->d.pid = 0;
		daemon_print_log(&fx->d);
		fail_msg("seed %llu: xxgkd ended after verify and a push (status %d)",
			 (unsigned long long)seed, status);
	}
	daemon_stop(&fx->d);
	return result;
}

static void test_flipped_bytes(void **state)
{
	struct fixture *fx = *state;
	uint64_t base = test_seed(1);
	int refused = 0,
	    cases = getenv("XXGK_FLIP_CASES") ? atoi(getenv("XXGK_FLIP_CASES")) : FLIP_CASES;
	for (int n = 0; n < cases; n++) {
		uint64_t seed = base + (uint64_t)n;
		struct rng r = {seed};
		char what[64];
		restore_pristine(fx);
		int fd = open(fx->data, O_RDWR);
		assert_true(fd >= 0);
		/* the data pages: past the two meta pages (LMDB's page is the system's) */
		off_t metas = 2 * sysconf(_SC_PAGESIZE);
		for (int i = 0; i < FLIP_BYTES; i++) {
			off_t at = metas + (off_t)(rng_next(&r) % (uint64_t)(fx->size - metas));
			uint8_t b;
			assert_int_equal(pread(fd, &b, 1, at), 1);
			b ^= (uint8_t)(1 + rng_below(&r, 255));
			assert_int_equal(pwrite(fd, &b, 1, at), 1);
		}
		close(fd);
		snprintf(what, sizeof(what), "16 bytes flipped, seed %llu",
			 (unsigned long long)seed);
		struct outcome o = start(fx);
		if (o.exited) {
			assert_refused(fx, o, what);
			refused++;
			printf("# %s: refused, exit 1: %s\n", what, reason(fx));
		} else {
			printf("# %s: started; %s; stopped with exit 0\n", what,
			       exercise(fx, seed));
		}
	}
	printf("# %d of %d flipped stores refused, none crashed\n", refused, cases);
}

/* The control: the undamaged store starts, keeps its records and verifies. */
static void test_whole_store_starts(void **state)
{
	struct fixture *fx = *state;
	restore_pristine(fx);
	struct outcome o = start(fx);
	if (o.exited) {
		daemon_print_log(&fx->d);
		fail_msg("the undamaged store was refused (status %d)", o.status);
	}
	daemon_check_verify(&fx->d);
	daemon_stop(&fx->d);
	printf("# the undamaged store starts and verifies\n");
}

/*
 * verify beside an ingest that grows the file: the walk's snapshot is older than the file's
 * size and the newest meta, which must never read as a truncated store (it once told the
 * operator to restore a backup of a whole store).
 */
/* Pushes batches of new tallies (so the file grows) until told to stop, 300,000 at most. */
struct grower {
	const char *endpoint, *unit;
	atomic_int stop;
	size_t pushed;
	int failures;
};

static void *grow(void *arg)
{
	struct grower *g = arg;
	enum { BATCH = 500 };
	struct trec *t = calloc(BATCH, sizeof(*t));
	Xxgk__V1__Record *batch[BATCH];
	int statuses[BATCH];
	struct xxgk_client *c;
	assert_non_null(t);
	if (xxgk_connect(&c, g->endpoint)) {
		g->failures++;
		free(t);
		return NULL;
	}
	for (size_t n = 0; !atomic_load(&g->stop) && n < 300000; n += BATCH) {
		for (size_t i = 0; i < BATCH; i++) {
			char id[32];
			snprintf(id, sizeof(id), "grow-%zu", n + i);
			trec_tally(&t[i], g->unit, id, 1, 3, "2021-06-30", 1);
			batch[i] = &t[i].r;
		}
		if (xxgk_push(c, batch, BATCH, statuses, NULL, NULL, 30000))
			g->failures++;
		else
			g->pushed += BATCH;
	}
	xxgk_close(c);
	free(t);
	return NULL;
}

static void test_verify_while_ingesting(void **state)
{
	struct fixture *fx = *state;
	struct grower g = {fx->d.ingest, fx->city.ids[0], 0, 0, 0};
	Xxgk__V1__VerifyQuery vq = XXGK__V1__VERIFY_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	pthread_t th;
	int verifies = 0;
	restore_pristine(fx);
	struct outcome o = start(fx);
	assert_false(o.exited);
	g.endpoint = fx->d.ingest;
	assert_int_equal(pthread_create(&th, NULL, grow, &g), 0);
	req.body_case = XXGK__V1__REQUEST__BODY_VERIFY;
	req.verify = &vq;
	for (; verifies < 15; verifies++) {
		Xxgk__V1__Reply *reply = NULL;
		struct xxgk_client *c;
		assert_int_equal(xxgk_connect(&c, fx->d.admin), 0);
		int rc = xxgk_call(c, &req, 30000, &reply);
		xxgk_close(c);
		if (rc || reply->body_case != XXGK__V1__REPLY__BODY_VERIFY) {
			atomic_store(&g.stop, 1);
			pthread_join(th, NULL);
			fail_msg("verify %d during ingest answered \"%s\"", verifies,
				 rc ? xxgk_strerror(rc)
				 : reply->body_case == XXGK__V1__REPLY__BODY_ERROR
				     ? reply->error->message
				     : "something else");
		}
		assert_int_equal(reply->verify->differences, 0);
		xxgk__v1__reply__free_unpacked(reply, NULL);
	}
	atomic_store(&g.stop, 1);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(g.failures, 0);
	printf("# %d verifies while %zu new records went in: none said damaged\n", verifies,
	       g.pushed);
	daemon_check_verify(&fx->d);
	daemon_stop(&fx->d);
}

/*
 * Damage under a running daemon: verify reads every page, in a child, so a page gone from the
 * file answers "damaged" instead of killing xxgkd with SIGBUS.
 */
static void test_verify_damaged_while_running(void **state)
{
	struct fixture *fx = *state;
	Xxgk__V1__VerifyQuery vq = XXGK__V1__VERIFY_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	Xxgk__V1__Reply *reply = NULL;
	struct xxgk_client *c;
	int status;
	restore_pristine(fx);
	struct outcome o = start(fx);
	assert_false(o.exited);
	assert_int_equal(truncate(fx->data, fx->size / 2), 0);
	req.body_case = XXGK__V1__REQUEST__BODY_VERIFY;
	req.verify = &vq;
	assert_int_equal(xxgk_connect(&c, fx->d.admin), 0);
	int rc = xxgk_call(c, &req, 30000, &reply);
	xxgk_close(c);
	if (waitpid(fx->d.pid, &status, WNOHANG) == fx->d.pid) {
		fx->d.pid = 0;
		daemon_print_log(&fx->d);
		fail_msg("verify of a truncated store ended xxgkd (%s %d)",
			 WIFSIGNALED(status) ? "signal" : "exit",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	if (rc)
		fail_msg("verify got no answer: %s", xxgk_strerror(rc));
	if (reply->body_case != XXGK__V1__REPLY__BODY_ERROR ||
	    strstr(reply->error->message, "damaged") == NULL)
		fail_msg("verify of a truncated store did not answer \"damaged\"");
	printf("# verify, data.mdb truncated under the running daemon: \"%s\"\n",
	       reply->error->message);
	xxgk__v1__reply__free_unpacked(reply, NULL);
	/* still up: it answers, and stops cleanly (with a query that reads no page of the store:
	 * the daemon's own reads of a file cut under it still fault, as any mapped file's) */
	Xxgk__V1__UnitsQuery uq = XXGK__V1__UNITS_QUERY__INIT;
	Xxgk__V1__Request ureq = XXGK__V1__REQUEST__INIT;
	ureq.body_case = XXGK__V1__REQUEST__BODY_UNITS;
	ureq.units = &uq;
	xxgk__v1__reply__free_unpacked(
	    daemon_admin_call(&fx->d, &ureq, XXGK__V1__REPLY__BODY_UNITS), NULL);
	daemon_stop(&fx->d);
}

/* Whether page is named by LMDB's free list. */
static int page_is_free(MDB_env *env, size_t page)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int found = 0;
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_cursor_open(txn, 0, &cur), 0);
	while (!found && mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		const size_t *ids = v.mv_data;
		for (size_t i = 1; i <= ids[0]; i++)
			found |= ids[i] == page;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return found;
}

/*
 * No false alarm: LMDB leaves unwritten a page it freed in the transaction that allocated it,
 * so a whole store's file may end before the last page its meta counts. A file that lacks only
 * free pages starts (with a warning); one that lacks a page in use more is refused.
 */
static void test_short_by_free_pages_starts(void **state)
{
	(void)state;
	struct city city;
	struct daemon d;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_envinfo info;
	char data[600], copy[600];
	static char big[150000];
	size_t last = 0, free_at_end = 0;
	city_make(&city, 3);
	daemon_setup(&d, "short", &city, NULL);
	daemon_start(&d);
	daemon_stop(&d);
	/* large values (overflow pages, at the end of the file) written, then deleted in the next
	 * commit, until the file's last pages are all free ones */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
	assert_int_equal(mdb_env_open(env, d.state, 0, 0640), 0);
	for (int i = 1; i < 200 && free_at_end == 0; i += 2) {
		char key[2][16];
		snprintf(key[0], sizeof(key[0]), "k%d", i - 1);
		snprintf(key[1], sizeof(key[1]), "k%d", i);
		MDB_val k0 = {strlen(key[0]), key[0]}, k1 = {strlen(key[1]), key[1]};
		MDB_val large = {sizeof(big), big}, small = {4, big};
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
		assert_int_equal(mdb_put(txn, dbi, &k0, &large, 0), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_del(txn, dbi, &k0, NULL), 0);
		assert_int_equal(mdb_put(txn, dbi, &k1, &small, 0), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		assert_int_equal(mdb_env_info(env, &info), 0);
		last = info.me_last_pgno;
		while (free_at_end < last && page_is_free(env, last - free_at_end))
			free_at_end++;
	}
	MDB_stat st;
	assert_int_equal(mdb_env_stat(env, &st), 0);
	off_t page = st.ms_psize;
	mdb_env_close(env);
	assert_true(free_at_end > 0);
	snprintf(data, sizeof(data), "%s/data.mdb", d.state);
	snprintf(copy, sizeof(copy), "%s/whole.mdb", d.dir);
	copy_file(data, copy);
	/* without its free pages at the end: whole, starts */
	assert_int_equal(truncate(data, (off_t)(last + 1 - free_at_end) * page), 0);
	struct outcome o = start_daemon(&d);
	if (o.exited) {
		daemon_print_log(&d);
		fail_msg("a store short only by free pages was refused (status %d)", o.status);
	}
	assert_true(daemon_log_says(&d, "all of them free pages"));
	daemon_check_verify(&d);
	daemon_stop(&d);
	printf("# data.mdb %zu pages short of its meta's last page, all free: starts, verifies\n",
	       free_at_end);
	/* one page in use short more: refused */
	copy_file(copy, data);
	assert_int_equal(truncate(data, (off_t)(last - free_at_end) * page), 0);
	o = start_daemon(&d);
	if (!o.exited || !WIFEXITED(o.status) || WEXITSTATUS(o.status) != 1 ||
	    !daemon_log_says(&d, "is damaged")) {
		daemon_print_log(&d);
		fail_msg("a store short by a page in use was not refused with exit 1");
	}
	printf("# one page in use short more: refused, exit 1\n");
	daemon_teardown(&d);
	city_free(&city);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_store_starts),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_empty_next_to_state),
	    cmocka_unit_test(test_flipped_bytes),
	    cmocka_unit_test(test_verify_damaged_while_running),
	    cmocka_unit_test(test_verify_while_ingesting),
	    cmocka_unit_test(test_short_by_free_pages_starts),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
