#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "error.h"
#include "xxgk.h"

#define OUTBOX_BATCH 500
/* Full batches answered at one size before the outbox tries twice that size; doubled (up to
 * OUTBOX_GROW_MAX) each time the larger size was dropped again, so that a daemon whose
 * max_message_size really is below it costs a dropped batch ever more rarely. */
#define OUTBOX_GROW_AFTER 16
#define OUTBOX_GROW_MAX 1024
#define OUTBOX_MAP_SIZE ((size_t)1 << 30) /* sparse: grows on disk only with what waits */

/* One database: big-endian sequence number -> packed Record, oldest first. */
struct xxgk_outbox {
	MDB_env *env;
	MDB_dbi dbi;
	uint64_t next;
	struct xxgk_client *client;
	/* The most records a batch has: the daemon's batch_records_max once it refused one, and
	 * half of a full batch it left unanswered while it answered an empty push (perhaps larger
	 * than its max_message_size: ZeroMQ drops such a message with its connection; perhaps
	 * lost in a restart or late in a stall, which look the same). Kept across flushes, so
	 * that every flush does not learn it again, and doubled again after grow_after full
	 * batches were answered, up to ceiling, so that one restart or stall does not slow the
	 * outbox for good. */
	size_t limit;
	size_t ceiling;	     /* OUTBOX_BATCH, or the daemon's batch_records_max when lower */
	unsigned answered;   /* full batches answered since limit last changed */
	unsigned grow_after; /* how many of them make it grow */
	int grown;	     /* limit was raised, and no batch of that size answered yet */
};

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int xxgk_outbox_open(struct xxgk_outbox **out, const char *dir, const char *endpoint)
{
	return xxgk_outbox_open_keys(out, dir, endpoint, NULL);
}

int xxgk_outbox_open_keys(struct xxgk_outbox **out, const char *dir, const char *endpoint,
			  const struct xxgk_keys *keys)
{
	struct xxgk_outbox *o = calloc(1, sizeof(*o));
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;
	if (o == NULL)
		return XXGK_ENOMEM;
	o->limit = o->ceiling = OUTBOX_BATCH;
	o->grow_after = OUTBOX_GROW_AFTER;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		free(o);
		return xxgk_error_from_errno(errno);
	}
	if ((rc = mdb_env_create(&o->env)) == 0 &&
	    (rc = mdb_env_set_mapsize(o->env, OUTBOX_MAP_SIZE)) == 0 &&
	    (rc = mdb_env_open(o->env, dir, MDB_NOTLS, 0600)) == 0 &&
	    (rc = mdb_txn_begin(o->env, NULL, 0, &txn)) == 0) {
		if ((rc = mdb_dbi_open(txn, NULL, 0, &o->dbi)) == 0 &&
		    (rc = mdb_cursor_open(txn, o->dbi, &cur)) == 0) {
			/* the next number follows the newest record left waiting */
			rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
			o->next = rc == 0 && k.mv_size == 8 ? get_be64(k.mv_data) + 1 : 1;
			rc = rc == MDB_NOTFOUND ? 0 : rc;
			mdb_cursor_close(cur);
		}
		rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
	}
	if (rc == 0)
		rc = xxgk_connect_keys(&o->client, endpoint, keys) ? EINVAL : 0;
	if (rc) {
		xxgk_outbox_close(o);
		return xxgk_error_from_mdb(rc);
	}
	*out = o;
	return 0;
}

void xxgk_outbox_close(struct xxgk_outbox *o)
{
	if (o == NULL)
		return;
	xxgk_close(o->client);
	if (o->env)
		mdb_env_close(o->env);
	free(o);
}

int xxgk_submit(struct xxgk_outbox *o, Xxgk__V1__Record *const *records, size_t n)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(o->env, NULL, 0, &txn);
	uint64_t next = o->next;
	if (rc)
		return xxgk_error_from_mdb(rc);
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint8_t key[8];
		size_t len = xxgk__v1__record__get_packed_size(records[i]);
		MDB_val k = {sizeof(key), key}, v = {len, NULL};
		put_be64(key, next++);
		/* pack straight into the page LMDB reserves for it */
		if ((rc = mdb_put(txn, o->dbi, &k, &v, MDB_RESERVE)) == 0)
			xxgk__v1__record__pack(records[i], v.mv_data);
	}
	if (rc) {
		mdb_txn_abort(txn);
		return xxgk_error_from_mdb(rc);
	}
	if ((rc = mdb_txn_commit(txn))) {
		const char *dir = NULL;
		mdb_env_get_path(o->env, &dir);
		return xxgk_error_at(xxgk_error_from_mdb(rc), dir); /* a full disk shows as EIO */
	}
	o->next = next;
	return 0;
}

long long xxgk_pending(struct xxgk_outbox *o)
{
	MDB_txn *txn;
	MDB_stat st;
	int rc = mdb_txn_begin(o->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return xxgk_error_from_mdb(rc);
	rc = mdb_stat(txn, o->dbi, &st);
	mdb_txn_abort(txn);
	return rc ? xxgk_error_from_mdb(rc) : (long long)st.ms_entries;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The oldest records waiting (at most limit), decoded, into records and their keys. */
static int oldest(struct xxgk_outbox *o, Xxgk__V1__Record **records, uint64_t *keys, size_t *n,
		  size_t limit)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_txn_begin(o->env, NULL, MDB_RDONLY, &txn);
	*n = 0;
	if (rc)
		return xxgk_error_from_mdb(rc);
	if ((rc = mdb_cursor_open(txn, o->dbi, &cur)) == 0) {
		for (int op = MDB_FIRST; *n < limit && (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
		     op = MDB_NEXT) {
			Xxgk__V1__Record *r = xxgk__v1__record__unpack(NULL, v.mv_size, v.mv_data);
			if (r == NULL || k.mv_size != 8) {
				if (r)
					xxgk__v1__record__free_unpacked(r, NULL);
				rc = MDB_CORRUPTED;
				break;
			}
			keys[*n] = get_be64(k.mv_data);
			records[(*n)++] = r;
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return rc == MDB_NOTFOUND ? 0 : xxgk_error_from_mdb(rc);
}

static int forget(struct xxgk_outbox *o, const uint64_t *keys, size_t n)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(o->env, NULL, 0, &txn);
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint8_t key[8];
		MDB_val k = {sizeof(key), key};
		put_be64(key, keys[i]);
		rc = mdb_del(txn, o->dbi, &k, NULL);
		rc = rc == MDB_NOTFOUND ? 0 : rc;
	}
	if (rc) {
		mdb_txn_abort(txn);
		return xxgk_error_from_mdb(rc);
	}
	return xxgk_error_from_mdb(mdb_txn_commit(txn));
}

/* After a batch went unanswered: whether the daemon answers an empty push (then the batch
 * itself was the trouble) before the deadline, in at most 2 s. */
static int daemon_answers(struct xxgk_outbox *o, int64_t deadline)
{
	int64_t left = deadline - now_ms();
	return left > 0 && xxgk_push(o->client, NULL, 0, NULL, NULL, NULL,
				     (int)(left < 2000 ? left : 2000)) == 0;
}

/* A full batch of limit records was answered: after enough of them, try twice as many. */
static void batch_answered(struct xxgk_outbox *o)
{
	if (o->grown)
		o->grow_after = OUTBOX_GROW_AFTER; /* the larger size goes through */
	o->grown = 0;
	if (o->limit < o->ceiling && ++o->answered >= o->grow_after) {
		o->limit = o->limit * 2 < o->ceiling ? o->limit * 2 : o->ceiling;
		o->answered = 0;
		o->grown = 1;
	}
}

/* A full batch of limit records went unanswered while the daemon answered an empty push. */
static void batch_dropped(struct xxgk_outbox *o)
{
	if (o->grown && o->grow_after < OUTBOX_GROW_MAX)
		o->grow_after *= 2; /* growing was a mistake: wait longer before the next try */
	o->limit = o->limit > 1 ? o->limit / 2 : 1;
	o->answered = 0;
	o->grown = 0;
}

int xxgk_flush(struct xxgk_outbox *o, int timeout_ms, xxgk_rejection_fn reject, void *ctx)
{
	Xxgk__V1__Record *records[OUTBOX_BATCH];
	uint64_t keys[OUTBOX_BATCH];
	int statuses[OUTBOX_BATCH], reasons[OUTBOX_BATCH], pause = 100, rc = 0;
	const char *messages[OUTBOX_BATCH];
	int64_t deadline = now_ms() + timeout_ms;
	/* This flush's own bound below limit: a batch of fewer than limit records (all that
	 * waits) that went unanswered is split for this flush only, as a lost batch of two says
	 * nothing about the size the daemon takes. */
	size_t split = OUTBOX_BATCH;
	for (;;) {
		size_t n, want = o->limit < split ? o->limit : split;
		if ((rc = oldest(o, records, keys, &n, want)) || n == 0)
			return rc;
		/* up to 2 s for an answer; for more than one record at most half the time left,
		 * so that an empty push can still tell a dropped batch from a daemon away */
		int64_t left = deadline - now_ms(), wait = left < 2000 ? left : 2000;
		if (n > 1 && wait > left / 2)
			wait = left / 2;
		rc = wait <= 0
			 ? XXGK_ETIMEDOUT
			 : xxgk_push(o->client, records, n, statuses, reasons, messages, (int)wait);
		if (rc == 0) {
			for (size_t i = 0; i < n; i++)
				if (statuses[i] == XXGK__V1__RECORD_STATUS__CODE__REJECTED &&
				    reject)
					reject(ctx, records[i], reasons[i], messages[i]);
			rc = forget(o, keys, n);
			pause = 100;
			split = OUTBOX_BATCH; /* a lost small batch limits only itself */
			if (n == o->limit)
				batch_answered(o);
		} else if (rc == XXGK_E2BIG && n > 1) {
			/* the daemon's own number, and never more than it from now on */
			size_t max = xxgk_batch_records_max(o->client);
			if (max > 0 && max < n)
				o->limit = o->ceiling = max;
			else
				o->limit = n / 2;
			split = OUTBOX_BATCH;
			o->answered = 0;
			o->grown = 0;
			rc = 0; /* again at once, smaller */
		} else if (rc == XXGK_ETIMEDOUT && n > 1 && daemon_answers(o, deadline)) {
			if (n == o->limit)
				batch_dropped(o);
			else
				split = n / 2;
			rc = 0;
		}
		for (size_t i = 0; i < n; i++)
			xxgk__v1__record__free_unpacked(records[i], NULL);
		if (rc == 0)
			continue;
		if (rc != XXGK_ETIMEDOUT && rc != XXGK_EINVAL && rc != XXGK_ENET)
			return rc;
		/* no answer, or an error reply (the daemon could not store it): wait, resend */
		left = deadline - now_ms();
		if (left <= 0)
			return XXGK_ETIMEDOUT;
		int64_t ms = pause < left ? pause : left;
		struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		pause = pause < 1000 ? pause * 2 : 2000;
	}
}
