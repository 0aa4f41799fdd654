#include "store.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cells.h"
#include "date.h"
#include "error.h"
#include "rules.h"
#include "store_check.h"
#include "store_copy.h"
#include "store_deadline.h"
#include "store_freeze.h"

#define STORE_DEFAULT_MAP_SIZE ((size_t)64 << 20)
/* Doublings of the map before a batch is given up: from 64 KiB that is past any disk. */
#define STORE_RETRIES_MAX 40

/*
 * Databases of the environment:
 *   meta:     "schema_version" -> u32 BE, "next_unit" -> u32 BE
 *   units:    unit id -> [number u32 BE][kind u8][listed u8]
 *   records:  [unit number u32 BE][record kind u8][record id] -> canonical packed Record
 *   counters: counter_key_encode() -> int64 (native order); absent means zero
 *   freezes, snapshots, audit, published: frozen years, see store_freeze.h
 *   deadline_groups, deadline_tails, deadline_log: open applications by due date, see
 *             store_deadline.h; meta "calendar" holds the working-day calendar
 *             (calendar_pack) they were computed on
 *   activity: [unit number u32 BE] -> u64 BE, when a record of the unit (not a submission) was
 *             last stored; [unit number u32 BE][year u16 BE] -> u64 BE, when the unit's live
 *             submission of the year was stored (absent once withdrawn). Seconds since the
 *             epoch, written in the transaction of the record; times verify cannot recompute.
 */
struct unit_entry {
	char id[RECORD_UNIT_MAX + 1];
	uint32_t number;
	int kind;
	int listed;
};

struct store {
	MDB_env *env;
	MDB_dbi db_meta, db_units, db_records, db_counters, db_activity;
	int has_activity;	  /* 0: a read-only store written before activity was kept */
	uint64_t now;		  /* store_apply's time, seconds since the epoch */
	struct unit_entry *units; /* sorted by id */
	size_t n_units;
	struct unit_entry **unit_by_number; /* indexed by number, NULL where none */
	size_t n_numbers;
	struct delta_list deltas; /* the last write transaction's counter changes */
	int64_t counter_max;	  /* the largest magnitude of a counter: COUNTER_MAX or lower */
	/* Held shared by every read transaction, exclusively to resize the map or replace the
	 * unit table: LMDB allows a resize only with no transaction open in the process. */
	pthread_rwlock_t lock;
	struct freeze_state freeze; /* the frozen years, for the FROZEN rule (writer) */
	struct deadline_dbs db_deadlines;
	int has_deadlines;    /* 0: a read-only store written before deadlines were kept */
	struct calendar *cal; /* the calendar stored with the index; NULL: none stored yet */
	int no_deadlines;     /* benchmarks: the index is not kept */
	struct deadline_ops deadline_ops; /* the index changes of the commit being made */
	int late_counted; /* meta "late_answers": the late answers were counted on st->cal */
};

/*
 * A write transaction whose first failure sticks: after it every operation does nothing and
 * commit aborts instead (the habit of Knot DNS's knot_lmdb). mdb_rc keeps LMDB's own code so
 * that a full map can be told from other failures.
 */
struct wtxn {
	MDB_txn *txn;
	int mdb_rc;
	int err;
};

static void wtxn_fail(struct wtxn *t, int err)
{
	if (!t->err)
		t->err = err;
}

static void wtxn_fail_mdb(struct wtxn *t, int rc)
{
	if (!t->err) {
		t->mdb_rc = rc;
		t->err = xxgk_error_from_mdb(rc);
	}
}

static int wtxn_begin(struct store *st, struct wtxn *t)
{
	*t = (struct wtxn){0};
	int rc = mdb_txn_begin(st->env, NULL, 0, &t->txn);
	if (rc) {
		t->txn = NULL;
		wtxn_fail_mdb(t, rc);
	}
	return t->err;
}

/* 1 if found, 0 if not found or failed (the failure sticks). */
static int wtxn_get(struct wtxn *t, MDB_dbi dbi, MDB_val *key, MDB_val *val)
{
	if (t->err)
		return 0;
	int rc = mdb_get(t->txn, dbi, key, val);
	if (rc && rc != MDB_NOTFOUND)
		wtxn_fail_mdb(t, rc);
	return rc == 0;
}

static void wtxn_put(struct wtxn *t, MDB_dbi dbi, MDB_val *key, MDB_val *val)
{
	if (t->err)
		return;
	int rc = mdb_put(t->txn, dbi, key, val, 0);
	if (rc)
		wtxn_fail_mdb(t, rc);
}

static void wtxn_del(struct wtxn *t, MDB_dbi dbi, MDB_val *key)
{
	if (t->err)
		return;
	int rc = mdb_del(t->txn, dbi, key, NULL);
	if (rc && rc != MDB_NOTFOUND)
		wtxn_fail_mdb(t, rc);
}

/* Commits, or aborts if anything failed; returns the sticky error. */
static int wtxn_finish(struct wtxn *t)
{
	if (t->txn == NULL)
		return t->err;
	if (t->err) {
		mdb_txn_abort(t->txn);
	} else {
		int rc = mdb_txn_commit(t->txn);
		if (rc)
			wtxn_fail_mdb(t, rc);
	}
	t->txn = NULL;
	return t->err;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static MDB_val str_val(const char *s)
{
	return (MDB_val){strlen(s), (void *)s};
}

/* ---- scans ---- */

/* A scan callback's way to end the scan early without an error. */
#define SCAN_STOP (-1)

typedef int (*scan_fn)(void *ctx, const MDB_val *key, const MDB_val *val);

/*
 * Calls fn for each entry of dbi in key order, from the first key at or after from (NULL: the
 * first key), until fn returns non-zero. Returns 0 (also after SCAN_STOP), or the LMDB or errno
 * code that fn or LMDB returned.
 */
static int scan(MDB_txn *txn, MDB_dbi dbi, const MDB_val *from, scan_fn fn, void *ctx)
{
	MDB_cursor *cur;
	MDB_val k = from ? *from : (MDB_val){0}, v;
	int rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc)
		return rc;
	for (MDB_cursor_op op = from ? MDB_SET_RANGE : MDB_FIRST;
	     (rc = mdb_cursor_get(cur, &k, &v, op)) == 0; op = MDB_NEXT)
		if ((rc = fn(ctx, &k, &v)) != 0)
			break;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == SCAN_STOP ? 0 : rc;
}

typedef int (*counter_scan_fn)(void *ctx, const struct counter_key *key, int64_t value);

struct counter_scan {
	counter_scan_fn fn;
	void *ctx;
};

static int decode_counter(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct counter_scan *cs = ctx;
	struct counter_key key;
	int64_t value;
	if (k->mv_size != COUNTER_KEY_SIZE || v->mv_size != sizeof(value))
		return MDB_CORRUPTED;
	counter_key_decode(k->mv_data, &key);
	memcpy(&value, v->mv_data, sizeof(value));
	return cs->fn(cs->ctx, &key, value);
}

/* scan() over the counters, decoded, from key from (NULL: the first). */
static int scan_counters(struct store *st, MDB_txn *txn, const struct counter_key *from,
			 counter_scan_fn fn, void *ctx)
{
	struct counter_scan cs = {fn, ctx};
	uint8_t kb[COUNTER_KEY_SIZE];
	MDB_val k = {sizeof(kb), kb};
	if (from)
		counter_key_encode(from, kb);
	return scan(txn, st->db_counters, from ? &k : NULL, decode_counter, &cs);
}

/* ---- units ---- */

static int compare_unit_id(const void *key, const void *entry)
{
	return strcmp(key, ((const struct unit_entry *)entry)->id);
}

static struct unit_entry *unit_find(const struct store *st, const char *id)
{
	if (st->n_units == 0)
		return NULL;
	return bsearch(id, st->units, st->n_units, sizeof(*st->units), compare_unit_id);
}

static const struct unit_entry *unit_by_number(const struct store *st, uint32_t number)
{
	return number < st->n_numbers ? st->unit_by_number[number] : NULL;
}

static void units_free(struct store *st)
{
	free(st->units);
	free(st->unit_by_number);
	st->units = NULL;
	st->unit_by_number = NULL;
	st->n_units = st->n_numbers = 0;
}

struct unit_table {
	struct unit_entry *v;
	size_t n, cap;
	uint32_t max_number;
};

static int load_unit(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct unit_table *t = ctx;
	if (k->mv_size > RECORD_UNIT_MAX || v->mv_size != 6)
		return MDB_CORRUPTED;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct unit_entry *u = realloc(t->v, cap * sizeof(*u));
		if (u == NULL)
			return ENOMEM;
		t->v = u;
		t->cap = cap;
	}
	struct unit_entry *e = &t->v[t->n++];
	memcpy(e->id, k->mv_data, k->mv_size);
	e->id[k->mv_size] = '\0';
	e->number = get_be32(v->mv_data);
	e->kind = ((uint8_t *)v->mv_data)[4];
	e->listed = ((uint8_t *)v->mv_data)[5];
	if (e->number > t->max_number)
		t->max_number = e->number;
	return 0;
}

/* Reads the unit registry into memory; LMDB's key order is the id order bsearch needs. */
static int units_load(struct store *st)
{
	MDB_txn *txn;
	struct unit_table t = {0};
	struct unit_entry **by_number = NULL;
	int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return xxgk_error_from_mdb(rc);
	rc = scan(txn, st->db_units, NULL, load_unit, &t);
	mdb_txn_abort(txn);
	if (rc == 0 && (by_number = calloc((size_t)t.max_number + 1, sizeof(*by_number))) == NULL)
		rc = ENOMEM;
	if (rc) {
		free(t.v);
		return xxgk_error_from_mdb(rc);
	}
	for (size_t i = 0; i < t.n; i++)
		by_number[t.v[i].number] = &t.v[i];
	pthread_rwlock_wrlock(&st->lock);
	units_free(st);
	st->units = t.v;
	st->n_units = t.n;
	st->unit_by_number = by_number;
	st->n_numbers = (size_t)t.max_number + 1;
	pthread_rwlock_unlock(&st->lock);
	return 0;
}

static void unit_value(uint8_t out[6], uint32_t number, int kind, int listed)
{
	put_be32(out, number);
	out[4] = (uint8_t)kind;
	out[5] = (uint8_t)listed;
}

/* ---- counters ---- */

/* Adds sign times a record state's flows to the unit's, its kind's and the city's counters. */
static int add_flows(struct delta_list *l, const struct unit_entry *u, const struct record_facts *f,
		     int sign)
{
	struct flow flows[RULES_FLOWS_MAX];
	int n = rules_flows(f, flows);
	for (int i = 0; i < n; i++) {
		struct counter_key keys[3] = {
		    {SCOPE_UNIT, u->number, (uint16_t)flows[i].year, (uint16_t)flows[i].counter},
		    {SCOPE_KIND, (uint32_t)u->kind, (uint16_t)flows[i].year,
		     (uint16_t)flows[i].counter},
		    {SCOPE_CITY, 0, (uint16_t)flows[i].year, (uint16_t)flows[i].counter},
		};
		for (int s = 0; s < 3; s++)
			if (delta_add(l, &keys[s], sign * flows[i].value))
				return XXGK_ENOMEM;
	}
	return 0;
}

/*
 * Adds the merged deltas to the stored counters. A counter that would pass the store's limit
 * fails the transaction with XXGK_ERANGE and its key in *over (when not NULL): checking each
 * merged sum is all the fast path pays, and store_apply then redoes the batch record by record.
 */
static void write_deltas(struct store *st, struct wtxn *t, struct delta_list *l,
			 struct counter_key *over)
{
	delta_merge(l); /* an overflowing sum is marked, and fails below */
	for (size_t i = 0; i < l->n && !t->err; i++) {
		uint8_t kb[COUNTER_KEY_SIZE];
		int64_t stored = 0, value;
		counter_key_encode(&l->v[i].key, kb);
		MDB_val k = {sizeof(kb), kb}, v;
		if (wtxn_get(t, st->db_counters, &k, &v)) {
			if (v.mv_size != sizeof(stored)) {
				wtxn_fail(t, XXGK_ECORRUPT);
				return;
			}
			memcpy(&stored, v.mv_data, sizeof(stored));
		}
		if (l->v[i].overflow || __builtin_add_overflow(stored, l->v[i].value, &value) ||
		    counter_passes(stored, value, st->counter_max)) {
			if (over)
				*over = l->v[i].key;
			wtxn_fail(t, XXGK_ERANGE);
			return;
		}
		if (value == 0) {
			wtxn_del(t, st->db_counters, &k);
		} else {
			v = (MDB_val){sizeof(value), &value};
			wtxn_put(t, st->db_counters, &k, &v);
		}
	}
}

/* ---- open and close ---- */

static int load_calendar(struct store *st, MDB_txn *txn);

static int open_databases(struct store *st)
{
	struct wtxn t;
	MDB_val k = str_val("schema_version"), v;
	if (wtxn_begin(st, &t))
		return t.err;
	const struct {
		const char *name;
		MDB_dbi *dbi;
	} dbs[] = {{"meta", &st->db_meta},
		   {"units", &st->db_units},
		   {"records", &st->db_records},
		   {"counters", &st->db_counters},
		   {"activity", &st->db_activity},
		   {DEADLINE_DB, &st->db_deadlines.groups},
		   {DEADLINE_TAILS_DB, &st->db_deadlines.tails},
		   {DEADLINE_LOG_DB, &st->db_deadlines.log}};
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]) && !t.err; i++) {
		int rc = mdb_dbi_open(t.txn, dbs[i].name, MDB_CREATE, dbs[i].dbi);
		if (rc)
			wtxn_fail_mdb(&t, rc);
	}
	if (!t.err) {
		int rc = freeze_open(t.txn, &st->freeze, 1);
		if (rc)
			wtxn_fail_mdb(&t, rc);
	}
	st->has_activity = st->has_deadlines = st->db_deadlines.has_tails =
	    st->db_deadlines.has_log = 1;
	if (wtxn_get(&t, st->db_meta, &k, &v)) {
		if (v.mv_size != 4 || get_be32(v.mv_data) != STORE_SCHEMA_VERSION)
			wtxn_fail(&t, XXGK_ESCHEMA);
	} else if (!t.err) {
		MDB_stat stat;
		int rc = mdb_stat(t.txn, st->db_records, &stat);
		if (rc)
			wtxn_fail_mdb(&t, rc);
		else if (stat.ms_entries != 0)
			wtxn_fail(&t, XXGK_ECORRUPT); /* records without a schema version */
		uint8_t version[4];
		put_be32(version, STORE_SCHEMA_VERSION);
		v = (MDB_val){sizeof(version), version};
		wtxn_put(&t, st->db_meta, &k, &v);
	}
	if (!t.err)
		wtxn_fail(&t, load_calendar(st, t.txn));
	return wtxn_finish(&t);
}

/* The calendar stored with the deadlines index, if any. 0 or an error. */
static int load_calendar(struct store *st, MDB_txn *txn)
{
	MDB_val k = str_val("calendar"), v, lk = str_val("late_answers");
	st->late_counted = mdb_get(txn, st->db_meta, &lk, &v) == 0;
	int rc = mdb_get(txn, st->db_meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return xxgk_error_from_mdb(rc);
	calendar_free(st->cal);
	st->cal = NULL;
	rc = calendar_unpack(&st->cal, v.mv_data, v.mv_size);
	return rc == XXGK_EINVAL ? XXGK_ECORRUPT : rc;
}

static int with_retries(struct store *st, int (*attempt)(struct store *, struct wtxn *, void *),
			void *arg);

/*
 * An earlier version's index (an entry a key, store_deadline.h): dropped, and the groups built
 * on the calendar stored with it, in one transaction (the map grown if need be), so that the
 * index, the stored calendar and the late answers counted on it agree whatever stops the process.
 */
static int migrate_attempt(struct store *st, struct wtxn *t, void *arg)
{
	int dropped, rc = deadline_drop_legacy(t->txn, &dropped);
	(void)arg;
	if (rc == 0 && dropped && st->cal)
		rc = deadline_index_rebuild(t->txn, &st->db_deadlines, st->db_records, st->cal);
	if (xxgk_is_mdb_code(rc))
		wtxn_fail_mdb(t, rc);
	else if (rc)
		wtxn_fail(t, rc);
	return t->err;
}

/* Read-only: the databases must be there already, and nothing is written. */
static int open_databases_read_only(struct store *st)
{
	MDB_txn *txn;
	MDB_val k = str_val("schema_version"), v;
	int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return xxgk_error_from_mdb(rc);
	if ((rc = mdb_dbi_open(txn, "meta", 0, &st->db_meta)) == 0 &&
	    (rc = mdb_dbi_open(txn, "units", 0, &st->db_units)) == 0 &&
	    (rc = mdb_dbi_open(txn, "records", 0, &st->db_records)) == 0 &&
	    (rc = mdb_dbi_open(txn, "counters", 0, &st->db_counters)) == 0 &&
	    (rc = mdb_get(txn, st->db_meta, &k, &v)) == 0 &&
	    (v.mv_size != 4 || get_be32(v.mv_data) != STORE_SCHEMA_VERSION))
		rc = XXGK_ESCHEMA;
	if (rc == 0)
		rc = freeze_open(txn, &st->freeze, 0);
	/* a store written before activity was kept has none: it reads as never */
	if (rc == 0) {
		int arc = mdb_dbi_open(txn, "activity", 0, &st->db_activity);
		if (arc && arc != MDB_NOTFOUND)
			rc = arc;
		st->has_activity = arc == 0;
	}
	if (rc == 0) {
		int drc = deadline_db_open(txn, &st->db_deadlines, 0);
		if (drc && drc != MDB_NOTFOUND)
			rc = drc;
		st->has_deadlines = drc == 0;
		if (rc == 0 && (drc = load_calendar(st, txn)))
			rc = drc;
	}
	/* committed, not aborted: an abort would close the handles just opened */
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	return rc == XXGK_ESCHEMA   ? rc
	       : rc == MDB_NOTFOUND ? XXGK_ENOTFOUND
				    : xxgk_error_from_mdb(rc);
}

int store_open(struct store **out, const char *dir, const struct store_options *opt)
{
	char why[512];
	uint64_t missing;
	static const struct store_options defaults = {0};
	struct store *st = calloc(1, sizeof(*st));
	int rc, dead;
	if (opt == NULL)
		opt = &defaults;
	if (st == NULL)
		return XXGK_ENOMEM;
	/* a lower limit is for tests; the real one cannot be raised */
	st->counter_max =
	    opt->counter_max > 0 && opt->counter_max < COUNTER_MAX ? opt->counter_max : COUNTER_MAX;
	pthread_rwlock_init(&st->lock, NULL);
	st->no_deadlines = opt->no_deadlines;
	st->deadline_ops.straight = opt->no_deadline_log;
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		rc = xxgk_error_at(xxgk_error_from_errno(errno), dir);
		goto fail;
	}
	/* before LMDB maps it: damaged meta pages, or an empty file where a store was (xxgkd
	 * also has every page walked first, in a child: daemon/store_guard.c) */
	if ((rc = store_check_file(dir, &missing, why, sizeof(why))))
		goto fail;
	if ((rc = mdb_env_create(&st->env))) {
		st->env = NULL;
		rc = xxgk_error_from_mdb(rc);
		goto fail;
	}
	unsigned flags =
	    MDB_NOTLS | (opt->no_sync ? MDB_NOSYNC : 0) | (opt->read_only ? MDB_RDONLY : 0);
	if ((rc = mdb_env_set_maxdbs(st->env, 16)) ||
	    (rc = mdb_env_set_mapsize(st->env,
				      opt->map_size ? opt->map_size : STORE_DEFAULT_MAP_SIZE)) ||
	    (rc = mdb_env_open(st->env, dir, flags, 0640)) ||
	    (rc = mdb_reader_check(st->env, &dead))) {
		rc = xxgk_error_at(xxgk_error_from_mdb(rc), dir);
		goto fail;
	}
	if (opt->read_only ? (rc = open_databases_read_only(st)) || (rc = units_load(st))
			   : (rc = open_databases(st)) || (rc = units_load(st)) ||
				 (rc = with_retries(st, migrate_attempt, NULL)) ||
				 (rc = store_mark_committed(dir)))
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return rc;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->env)
		mdb_env_close(st->env);
	units_free(st);
	calendar_free(st->cal);
	delta_free(&st->deltas);
	deadline_ops_free(&st->deadline_ops);
	pthread_rwlock_destroy(&st->lock);
	free(st);
}

/* The store's directory, for error messages and modes (NULL before the environment is open). */
static const char *store_dir(const struct store *st)
{
	const char *dir = NULL;
	if (st->env == NULL || mdb_env_get_path(st->env, &dir))
		return NULL;
	return dir;
}

/* After a full map: double it. LMDB allows this only with no transaction open. */
static int grow_map(struct store *st)
{
	MDB_envinfo info;
	pthread_rwlock_wrlock(&st->lock);
	int rc = mdb_env_info(st->env, &info);
	if (rc == 0)
		rc = mdb_env_set_mapsize(st->env, info.me_mapsize * 2);
	pthread_rwlock_unlock(&st->lock);
	return xxgk_error_from_mdb(rc);
}

/*
 * Runs attempt (a whole write transaction) until it commits, growing the map when it was full
 * and adopting another process's larger map when LMDB says it was resized.
 */
static int with_retries(struct store *st, int (*attempt)(struct store *, struct wtxn *, void *),
			void *arg)
{
	for (int i = 0;; i++) {
		struct wtxn t;
		delta_clear(&st->deltas);
		if (wtxn_begin(st, &t) == 0)
			attempt(st, &t, arg);
		if (wtxn_finish(&t) == 0)
			return 0;
		if (i >= STORE_RETRIES_MAX)
			return xxgk_error_at(t.err, store_dir(st));
		if (t.mdb_rc == MDB_MAP_FULL) {
			int rc = grow_map(st);
			if (rc)
				return rc;
		} else if (t.mdb_rc == MDB_MAP_RESIZED) {
			mdb_env_set_mapsize(st->env, 0);
		} else {
			return xxgk_error_at(t.err, store_dir(st));
		}
	}
}

/* ---- units ---- */

struct unit_list {
	const struct store_unit *units;
	size_t n;
};

static int listed(const struct unit_list *l, const char *id, size_t len)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->units[i].id) == len && memcmp(l->units[i].id, id, len) == 0)
			return 1;
	return 0;
}

struct kind_move {
	struct delta_list *deltas;
	uint32_t number;
	int from, to;
};

static int move_counter(void *ctx, const struct counter_key *key, int64_t value)
{
	struct kind_move *m = ctx;
	struct counter_key k = *key;
	if (key->scope != SCOPE_UNIT || key->scope_id != m->number)
		return SCAN_STOP;
	k.scope = SCOPE_KIND;
	k.scope_id = (uint32_t)m->from;
	if (delta_add(m->deltas, &k, -value))
		return ENOMEM;
	k.scope_id = (uint32_t)m->to;
	return delta_add(m->deltas, &k, value) ? ENOMEM : 0;
}

/* A unit changing kind: its counters leave the old kind's rollup for the new one's. */
static void move_kind(struct store *st, struct wtxn *t, uint32_t number, int from, int to)
{
	struct counter_key start = {SCOPE_UNIT, number, 0, 0};
	struct kind_move m = {&st->deltas, number, from, to};
	int rc = t->err ? 0 : scan_counters(st, t->txn, &start, move_counter, &m);
	if (rc)
		wtxn_fail_mdb(t, rc);
}

struct unlisting {
	const struct unit_list *list;
	MDB_txn *txn;
	MDB_dbi dbi;
};

/* Units no longer listed keep their number and records but take no new records. */
static int unlist_unit(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct unlisting *u = ctx;
	uint8_t val[6];
	if (v->mv_size != 6)
		return MDB_CORRUPTED;
	if (((uint8_t *)v->mv_data)[5] == 0 || listed(u->list, k->mv_data, k->mv_size))
		return 0;
	memcpy(val, v->mv_data, sizeof(val));
	val[5] = 0;
	MDB_val key = *k, nv = {sizeof(val), val};
	/* same key, same size: write cursors in LMDB stay valid */
	return mdb_put(u->txn, u->dbi, &key, &nv, 0);
}

static int set_units_attempt(struct store *st, struct wtxn *t, void *arg)
{
	const struct unit_list *l = arg;
	MDB_val nk = str_val("next_unit"), k, v;
	uint32_t next = 1;
	uint8_t val[6];
	if (wtxn_get(t, st->db_meta, &nk, &v) && v.mv_size == 4)
		next = get_be32(v.mv_data);
	for (size_t i = 0; i < l->n && !t->err; i++) {
		const struct store_unit *u = &l->units[i];
		k = str_val(u->id);
		if (wtxn_get(t, st->db_units, &k, &v)) {
			uint32_t number = get_be32(v.mv_data);
			int kind = ((uint8_t *)v.mv_data)[4];
			if (kind != u->kind)
				move_kind(st, t, number, kind, u->kind);
			unit_value(val, number, u->kind, 1);
		} else {
			unit_value(val, next++, u->kind, 1);
		}
		v = (MDB_val){sizeof(val), val};
		wtxn_put(t, st->db_units, &k, &v);
	}
	if (!t->err) {
		struct unlisting u = {l, t->txn, st->db_units};
		int rc = scan(t->txn, st->db_units, NULL, unlist_unit, &u);
		if (rc)
			wtxn_fail_mdb(t, rc);
	}
	put_be32(val, next);
	v = (MDB_val){4, val};
	wtxn_put(t, st->db_meta, &nk, &v);
	write_deltas(st, t, &st->deltas, NULL);
	return t->err;
}

int store_set_units(struct store *st, const struct store_unit *units, size_t n)
{
	char msg[RECORD_MESSAGE_MAX];
	for (size_t i = 0; i < n; i++) {
		if (record_check_name("unit", units[i].id, RECORD_UNIT_MAX, msg, sizeof(msg)) ||
		    units[i].kind <= 0 ||
		    !protobuf_c_enum_descriptor_get_value(&xxgk__v1__unit_kind__descriptor,
							  units[i].kind))
			return XXGK_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(units[i].id, units[j].id) == 0)
				return XXGK_EINVAL;
	}
	struct unit_list l = {units, n};
	int rc = with_retries(st, set_units_attempt, &l);
	return rc ? rc : units_load(st);
}

/* ---- records ---- */

static size_t record_key(uint8_t *out, uint32_t number, int kind, const char *id)
{
	size_t len = strlen(id);
	put_be32(out, number);
	out[4] = (uint8_t)kind;
	memcpy(out + 5, id, len);
	return 5 + len;
}

static void set_status(struct store_status *s, Xxgk__V1__RecordStatus__Code code,
		       Xxgk__V1__RecordStatus__Reason reason, const char *fmt, ...)
{
	va_list ap;
	s->code = code;
	s->reason = reason;
	va_start(ap, fmt);
	vsnprintf(s->message, sizeof(s->message), fmt, ap);
	va_end(ap);
}

/* Compares a new record with its stored copy; 1 when the new one replaces it, with the stored
 * copy's facts in of. */
static int compare_stored(struct wtxn *t, const Xxgk__V1__Record *r, const uint8_t *packed,
			  size_t len, const MDB_val *stored, struct store_status *s,
			  struct record_facts *of, const struct calendar *cal,
			  Xxgk__V1__Record **old_out)
{
	Xxgk__V1__Record *old = xxgk__v1__record__unpack(NULL, stored->mv_size, stored->mv_data);
	char msg[RECORD_MESSAGE_MAX];
	int replace = 0;
	if (old == NULL) {
		wtxn_fail(t, XXGK_ECORRUPT);
		return 0;
	}
	if (r->revision < old->revision) {
		set_status(s, XXGK__V1__RECORD_STATUS__CODE__STALE,
			   XXGK__V1__RECORD_STATUS__REASON__REASON_NONE,
			   "revision %llu is older than the stored %llu",
			   (unsigned long long)r->revision, (unsigned long long)old->revision);
	} else if (r->revision == old->revision) {
		if (stored->mv_size == len && memcmp(stored->mv_data, packed, len) == 0)
			set_status(s, XXGK__V1__RECORD_STATUS__CODE__DUPLICATE,
				   XXGK__V1__RECORD_STATUS__REASON__REASON_NONE,
				   "revision %llu is stored already",
				   (unsigned long long)r->revision);
		else
			set_status(s, XXGK__V1__RECORD_STATUS__CODE__REJECTED,
				   XXGK__V1__RECORD_STATUS__REASON__CONFLICT,
				   "revision %llu is stored with other content",
				   (unsigned long long)r->revision);
	} else if (record_check(old, of, msg, sizeof(msg)) != 0) {
		wtxn_fail(t, XXGK_ECORRUPT);
	} else {
		deadline_facts_late(cal, of);
		replace = 1;
	}
	if (replace)
		*old_out = old; /* the caller frees it */
	else
		xxgk__v1__record__free_unpacked(old, NULL);
	return replace;
}

/*
 * The FROZEN rule: a record whose net effect (its new flows minus its stored ones) would change
 * a cell of a frozen year is rejected; 1 then, with the status set.
 */
static int frozen(const struct store *st, const Xxgk__V1__Record *r, const struct record_facts *old,
		  const struct record_facts *f, struct store_status *s)
{
	static const char *const fields[] = {"application", "document", "legal_case", "tally",
					     "submission"};
	struct flow was[RULES_FLOWS_MAX], now[RULES_FLOWS_MAX];
	int n_was = old ? rules_flows(old, was) : 0, n_now = rules_flows(f, now);
	int year = freeze_check(&st->freeze, was, n_was, now, n_now);
	if (year == 0)
		return 0;
	set_status(
	    s, XXGK__V1__RECORD_STATUS__CODE__REJECTED, XXGK__V1__RECORD_STATUS__REASON__FROZEN,
	    "%s: would change the report of %d, which is frozen (published); only the office "
	    "can reopen it (xxgkctl unfreeze)",
	    r->deleted						   ? "deleted"
	    : (size_t)f->kind < sizeof(fields) / sizeof(fields[0]) ? fields[f->kind]
								   : "record",
	    year);
	return 1;
}

/*
 * When a record was stored: the unit's last record, or its submission of a year (gone with the
 * submission's withdrawal). In the record's transaction, so that both are there or neither.
 */
static void note_activity(struct store *st, struct wtxn *t, const struct unit_entry *u,
			  const struct record_facts *f)
{
	uint8_t kb[6], vb[8];
	size_t klen = 4;
	put_be32(kb, u->number);
	if (f->kind == RECORD_SUBMISSION) {
		kb[4] = (uint8_t)(f->sub.year >> 8);
		kb[5] = (uint8_t)f->sub.year;
		klen = 6;
	}
	put_be32(vb, (uint32_t)(st->now >> 32));
	put_be32(vb + 4, (uint32_t)st->now);
	MDB_val k = {klen, kb}, v = {sizeof(vb), vb};
	if (f->kind == RECORD_SUBMISSION && f->deleted)
		wtxn_del(t, st->db_activity, &k);
	else
		wtxn_put(t, st->db_activity, &k, &v);
}

/* Writes the deadlines index changes that the records applied in t collected. */
static void write_index(struct store *st, struct wtxn *t)
{
	int rc =
	    t->err ? 0 : deadline_ops_write(t->txn, &st->db_deadlines, &st->deadline_ops, st->cal);
	if (xxgk_is_mdb_code(rc))
		wtxn_fail_mdb(t, rc);
	else if (rc)
		wtxn_fail(t, rc);
	deadline_ops_clear(&st->deadline_ops);
}

/*
 * Applies one record in t, its counter changes added to deltas and its index changes to
 * st->deadline_ops (neither written yet).
 */
static void apply_record(struct store *st, struct wtxn *t, struct delta_list *deltas,
			 const Xxgk__V1__Record *r, struct store_status *s)
{
	struct record_facts f;
	uint8_t packed[RECORD_PACKED_MAX], kb[5 + RECORD_ID_MAX];
	size_t len;
	*s = (struct store_status){0};
	if (record_check(r, &f, s->message, sizeof(s->message))) {
		s->code = XXGK__V1__RECORD_STATUS__CODE__REJECTED;
		s->reason = XXGK__V1__RECORD_STATUS__REASON__INVALID;
		return;
	}
	const struct unit_entry *u = unit_find(st, r->unit);
	if (u == NULL || !u->listed) {
		set_status(s, XXGK__V1__RECORD_STATUS__CODE__REJECTED,
			   XXGK__V1__RECORD_STATUS__REASON__UNKNOWN_UNIT,
			   "unit: \"%s\" is not a unit of this city", r->unit);
		return;
	}
	if ((len = record_pack_canonical(r, packed, sizeof(packed))) == 0) {
		set_status(s, XXGK__V1__RECORD_STATUS__CODE__REJECTED,
			   XXGK__V1__RECORD_STATUS__REASON__INVALID,
			   "record: larger than %d bytes when packed", RECORD_PACKED_MAX);
		return;
	}
	MDB_val k = {record_key(kb, u->number, (int)f.kind, r->id), kb}, v;
	struct record_facts of;
	Xxgk__V1__Record *old = NULL;
	int has_old = wtxn_get(t, st->db_records, &k, &v);
	deadline_facts_late(st->cal, &f);
	if (has_old && !compare_stored(t, r, packed, len, &v, s, &of, st->cal, &old))
		return;
	if (!t->err && !frozen(st, r, has_old ? &of : NULL, &f, s)) {
		/* the period's index entry, written with the commit's others (write_index) */
		if (!st->no_deadlines &&
		    deadline_index_change(&st->deadline_ops, u->number, old, &of, r, &f))
			wtxn_fail(t, XXGK_ENOMEM);
		v = (MDB_val){len, packed};
		wtxn_put(t, st->db_records, &k, &v);
		if ((has_old && add_flows(deltas, u, &of, -1)) || add_flows(deltas, u, &f, +1))
			wtxn_fail(t, XXGK_ENOMEM);
	}
	if (old)
		xxgk__v1__record__free_unpacked(old, NULL);
	if (t->err || s->code)
		return;
	note_activity(st, t, u, &f);
	s->code = XXGK__V1__RECORD_STATUS__CODE__APPLIED;
}

struct apply_args {
	Xxgk__V1__Record *const *records;
	size_t n;
	struct store_status *statuses;
	struct delta_list *careful; /* NULL on the fast path; else one record's deltas */
};

/* The field a clerk is told about when a record would carry a counter past its limit. */
static const char *overflow_field(const Xxgk__V1__Record *r, const struct counter_key *key)
{
	switch (r->body_case) {
	case XXGK__V1__RECORD__BODY_APPLICATION:
		return "application";
	case XXGK__V1__RECORD__BODY_DOCUMENT:
		return "document";
	case XXGK__V1__RECORD__BODY_LEGAL_CASE:
		return "legal_case";
	case XXGK__V1__RECORD__BODY_SUBMISSION:
		return "submission";
	default:
		return key->counter < COUNTER_RECORDS ? "tally.value" : "tally";
	}
}

static void scope_name(const struct store *st, const struct counter_key *key, char *buf,
		       size_t size);

/*
 * The slow path, taken only after the fast one found a counter that the batch would carry past
 * the limit: each record in a nested transaction whose counter changes are written and checked
 * at once, against the stored counters plus what the records before it added. A record that
 * would pass the limit is undone alone; the others of the batch apply as usual.
 */
static void apply_careful(struct store *st, struct wtxn *t, struct apply_args *a)
{
	for (size_t i = 0; i < a->n && !t->err; i++) {
		struct wtxn c = {0};
		struct counter_key over;
		int rc = mdb_txn_begin(st->env, t->txn, 0, &c.txn);
		if (rc) {
			wtxn_fail_mdb(t, rc);
			break;
		}
		delta_clear(a->careful);
		deadline_ops_clear(&st->deadline_ops);
		apply_record(st, &c, a->careful, a->records[i], &a->statuses[i]);
		write_index(st, &c);
		write_deltas(st, &c, a->careful, &over);
		if (c.err == XXGK_ERANGE) {
			char name[96], scope[96];
			mdb_txn_abort(c.txn);
			counter_name(over.counter, name, sizeof(name));
			scope_name(st, &over, scope, sizeof(scope));
			set_status(&a->statuses[i], XXGK__V1__RECORD_STATUS__CODE__REJECTED,
				   XXGK__V1__RECORD_STATUS__REASON__OVERFLOW,
				   "%s: would carry %s %u %s past %lld, the limit of a counter",
				   overflow_field(a->records[i], &over), scope, (unsigned)over.year,
				   name, (long long)st->counter_max);
			continue;
		}
		if (c.err) {
			mdb_txn_abort(c.txn);
			t->err = c.err;
			t->mdb_rc = c.mdb_rc;
			break;
		}
		if ((rc = mdb_txn_commit(c.txn)) != 0) {
			wtxn_fail_mdb(t, rc);
			break;
		}
		for (size_t j = 0; j < a->careful->n; j++)
			if (delta_add(&st->deltas, &a->careful->v[j].key, a->careful->v[j].value))
				wtxn_fail(t, XXGK_ENOMEM);
	}
	/* the changes for store_changes; the counters are written already */
	if (!t->err && delta_merge(&st->deltas))
		wtxn_fail(t, XXGK_ERANGE);
}

static int apply_attempt(struct store *st, struct wtxn *t, void *arg)
{
	struct apply_args *a = arg;
	deadline_ops_clear(&st->deadline_ops);
	if (a->careful) {
		apply_careful(st, t, a);
		return t->err;
	}
	for (size_t i = 0; i < a->n && !t->err; i++)
		apply_record(st, t, &st->deltas, a->records[i], &a->statuses[i]);
	write_index(st, t);
	write_deltas(st, t, &st->deltas, NULL);
	return t->err;
}

int store_apply(struct store *st, Xxgk__V1__Record *const *records, size_t n,
		struct store_status *statuses)
{
	struct apply_args a = {records, n, statuses, NULL};
	/* a store nobody gave a calendar (tools, tests) keeps its index on one that covers no year
	 */
	if (st->cal == NULL) {
		struct calendar *none = calendar_empty();
		int rc = none ? store_set_calendar(st, none) : XXGK_ENOMEM;
		calendar_free(none);
		if (rc)
			return rc;
	}
	st->now = (uint64_t)time(NULL);
	int rc = with_retries(st, apply_attempt, &a);
	if (rc == XXGK_ERANGE) {
		struct delta_list careful = {0};
		a.careful = &careful;
		rc = with_retries(st, apply_attempt, &a);
		delta_free(&careful);
	}
	return rc;
}

/* ---- reading ---- */

/*
 * A read transaction, under the store's lock held shared: the map may not be resized nor the
 * unit table replaced while it lasts. End it with rtxn_end.
 */
static int rtxn_begin(struct store *st, MDB_txn **txn)
{
	pthread_rwlock_rdlock(&st->lock);
	int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* another process grew the map: adopt its size, alone */
		pthread_rwlock_unlock(&st->lock);
		pthread_rwlock_wrlock(&st->lock);
		mdb_env_set_mapsize(st->env, 0);
		pthread_rwlock_unlock(&st->lock);
		pthread_rwlock_rdlock(&st->lock);
		rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
	}
	if (rc)
		pthread_rwlock_unlock(&st->lock);
	return xxgk_error_from_mdb(rc);
}

static void rtxn_end(struct store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&st->lock);
}

struct flow_sums {
	struct counter_key scope;
	int64_t *year, *before;
	int overflow;
};

static int sum_flow(void *ctx, const struct counter_key *key, int64_t value)
{
	struct flow_sums *s = ctx;
	if (key->scope != s->scope.scope || key->scope_id != s->scope.scope_id ||
	    key->year > s->scope.year)
		return SCAN_STOP;
	if (key->counter < COUNTER_COUNT) {
		int64_t *sum =
		    key->year == s->scope.year ? &s->year[key->counter] : &s->before[key->counter];
		if (__builtin_add_overflow(*sum, value, sum)) {
			s->overflow = 1;
			return SCAN_STOP;
		}
	}
	return 0;
}

/*
 * Sums one scope's counters into the year's flows and the flows of all years before; XXGK_ERANGE
 * if a sum would pass int64 (a counter beyond its limit).
 */
static int read_flows(struct store *st, MDB_txn *txn, uint8_t scope, uint32_t scope_id, int year,
		      int64_t *flows_year, int64_t *flows_before)
{
	struct counter_key start = {scope, scope_id, 0, 0};
	struct flow_sums s = {{scope, scope_id, (uint16_t)year, 0}, flows_year, flows_before, 0};
	int rc = xxgk_error_from_mdb(scan_counters(st, txn, &start, sum_flow, &s));
	return rc ? rc : s.overflow ? XXGK_ERANGE : 0;
}

int store_report(struct store *st, int year, const struct report_scope *scope, int template_year,
		 struct report *out)
{
	int64_t flows_year[COUNTER_COUNT] = {0}, flows_before[COUNTER_COUNT] = {0};
	uint32_t scope_id = 0;
	MDB_txn *txn;
	int rc;
	if (year < DATE_YEAR_MIN || year > DATE_YEAR_MAX)
		return XXGK_EINVAL;
	if (template_year == 0)
		template_year = cells_template_for_year(year);
	if (!cells_template_bit(template_year))
		return XXGK_EINVAL;
	if (scope->type == SCOPE_KIND) {
		if (scope->kind <= 0 || !protobuf_c_enum_descriptor_get_value(
					    &xxgk__v1__unit_kind__descriptor, scope->kind))
			return XXGK_EINVAL;
		scope_id = (uint32_t)scope->kind;
	} else if (scope->type != SCOPE_CITY && scope->type != SCOPE_UNIT) {
		return XXGK_EINVAL;
	}
	if ((rc = rtxn_begin(st, &txn)))
		return rc;
	if (scope->type == SCOPE_UNIT) {
		const struct unit_entry *u = scope->unit ? unit_find(st, scope->unit) : NULL;
		if (u == NULL) {
			rtxn_end(st, txn);
			return XXGK_ENOTFOUND;
		}
		scope_id = u->number;
	}
	rc = read_flows(st, txn, (uint8_t)scope->type, scope_id, year, flows_year, flows_before);
	rtxn_end(st, txn);
	if (rc == 0)
		rc = report_assemble(out, year, template_year, flows_year, flows_before);
	return rc;
}

const struct delta_list *store_changes(const struct store *st)
{
	return &st->deltas;
}

uint32_t store_unit_number(const struct store *st, const char *id)
{
	const struct unit_entry *u = id ? unit_find(st, id) : NULL;
	return u ? u->number : 0;
}

uint32_t store_unit_numbers(const struct store *st)
{
	return st->n_numbers ? (uint32_t)(st->n_numbers - 1) : 0;
}

const char *store_unit_id(const struct store *st, uint32_t number)
{
	const struct unit_entry *u = unit_by_number(st, number);
	return u ? u->id : NULL;
}

/* One counter of a unit and year; absent is zero. Returns 0 or an LMDB code. */
static int unit_counter(struct store *st, MDB_txn *txn, uint32_t number, int year, int counter,
			int64_t *out)
{
	struct counter_key key = {SCOPE_UNIT, number, (uint16_t)year, (uint16_t)counter};
	uint8_t kb[COUNTER_KEY_SIZE];
	counter_key_encode(&key, kb);
	MDB_val k = {sizeof(kb), kb}, v;
	int rc = mdb_get(txn, st->db_counters, &k, &v);
	*out = 0;
	if (rc == 0 && v.mv_size != sizeof(*out))
		return MDB_CORRUPTED;
	if (rc == 0)
		memcpy(out, v.mv_data, sizeof(*out));
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* A time of the activity database (klen 4: the unit's last record; 6: its submission of year). */
static int unit_time(struct store *st, MDB_txn *txn, uint32_t number, int year, size_t klen,
		     uint64_t *out)
{
	uint8_t kb[6];
	put_be32(kb, number);
	kb[4] = (uint8_t)(year >> 8);
	kb[5] = (uint8_t)year;
	MDB_val k = {klen, kb}, v;
	*out = 0;
	if (!st->has_activity)
		return 0;
	int rc = mdb_get(txn, st->db_activity, &k, &v);
	if (rc == 0 && v.mv_size != 8)
		return MDB_CORRUPTED;
	if (rc == 0)
		*out = (uint64_t)get_be32(v.mv_data) << 32 | get_be32((uint8_t *)v.mv_data + 4);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_unit_years(struct store *st, int year, const char *const *ids, size_t n,
		     struct store_unit_year *out)
{
	MDB_txn *txn;
	if (year < DATE_YEAR_MIN || year > DATE_YEAR_MAX)
		return XXGK_EINVAL;
	int rc = rtxn_begin(st, &txn);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct unit_entry *u = ids[i] ? unit_find(st, ids[i]) : NULL;
		int64_t submitted = 0, records;
		out[i] = (struct store_unit_year){0};
		if (u == NULL)
			continue; /* listed but never stored: nothing sent */
		rc = unit_counter(st, txn, u->number, year, COUNTER_SUBMITTED, &submitted);
		out[i].submitted = submitted > 0;
		for (int kind = 0; kind < RECORD_KIND_COUNT && rc == 0; kind++) {
			rc =
			    unit_counter(st, txn, u->number, year, counter_records(kind), &records);
			out[i].records += records > 0 ? (uint64_t)records : 0;
		}
		if (rc == 0 && out[i].submitted)
			rc = unit_time(st, txn, u->number, year, 6, &out[i].submitted_at);
		if (rc == 0)
			rc = unit_time(st, txn, u->number, year, 4, &out[i].last_record_at);
	}
	rtxn_end(st, txn);
	return xxgk_error_from_mdb(rc);
}

int store_silent_units(struct store *st, int year, const struct report_scope *scope,
		       store_unit_fn fn, void *ctx)
{
	MDB_txn *txn;
	int rc = rtxn_begin(st, &txn);
	if (rc)
		return rc;
	for (size_t i = 0; i < st->n_units && rc == 0; i++) {
		const struct unit_entry *u = &st->units[i];
		int64_t submitted = 0;
		if (!u->listed || (scope->type == SCOPE_KIND && u->kind != scope->kind) ||
		    (scope->type == SCOPE_UNIT && strcmp(u->id, scope->unit ? scope->unit : "")))
			continue;
		rc = unit_counter(st, txn, u->number, year, COUNTER_SUBMITTED, &submitted);
		if (rc == 0 && submitted <= 0)
			fn(ctx, u->id);
	}
	rtxn_end(st, txn);
	return xxgk_error_from_mdb(rc);
}

/* ---- verify ---- */

struct verify_state {
	store_difference_fn fn;
	void *ctx;
	size_t differences;
	/* a part: one unit (its number, else UINT32_MAX) and/or one year (else 0) */
	uint32_t unit;
	int year;
	const struct store_verify_part *part;
	uint64_t done, total; /* records read of those to read (0: not known) */
};

/* Whether a counter is one the part checks. */
static int in_part(const struct verify_state *vs, const struct counter_key *key)
{
	return (vs->unit == UINT32_MAX ||
		(key->scope == SCOPE_UNIT && key->scope_id == vs->unit)) &&
	       (vs->year == 0 || key->year == vs->year);
}

static void difference(struct verify_state *vs, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	vs->differences++;
	if (vs->fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	vs->fn(vs->ctx, line);
}

/* "city", "kind 2" or "unit dept-justice": whose counter a key is. */
static void scope_name(const struct store *st, const struct counter_key *key, char *buf,
		       size_t size)
{
	const struct unit_entry *u;
	if (key->scope == SCOPE_CITY)
		snprintf(buf, size, "city");
	else if (key->scope == SCOPE_KIND)
		snprintf(buf, size, "kind %u", (unsigned)key->scope_id);
	else if ((u = unit_by_number(st, key->scope_id)) != NULL)
		snprintf(buf, size, "unit %s", u->id);
	else
		snprintf(buf, size, "unit #%u", (unsigned)key->scope_id);
}

/*
 * A counter that differs from its recomputation, or that is beyond the limit even if equal:
 * a counter that wrapped (or was written under a larger limit) must not pass as verified.
 */
static void counter_difference(struct store *st, struct verify_state *vs,
			       const struct counter_key *key, int64_t stored,
			       const struct delta *recomputed)
{
	char name[96], scope[96];
	int64_t want = recomputed ? recomputed->value : 0;
	counter_name(key->counter, name, sizeof(name));
	scope_name(st, key, scope, sizeof(scope));
	if (recomputed && recomputed->overflow)
		difference(vs,
			   "%s %u %s: stored %lld, recomputed: the sum of its records passes %s",
			   scope, (unsigned)key->year, name, (long long)stored,
			   want > 0 ? "INT64_MAX" : "INT64_MIN");
	else if (stored != want)
		difference(vs, "%s %u %s: stored %lld, recomputed %lld%s", scope,
			   (unsigned)key->year, name, (long long)stored, (long long)want,
			   counter_passes(0, stored, st->counter_max) ||
				   counter_passes(0, want, st->counter_max)
			       ? " (beyond the limit of a counter)"
			       : "");
	else if (counter_passes(0, stored, st->counter_max))
		difference(vs, "%s %u %s: stored %lld is beyond %lld, the limit of a counter",
			   scope, (unsigned)key->year, name, (long long)stored,
			   (long long)st->counter_max);
}

struct recomputation {
	struct store *st;
	struct delta_list *want;
	struct verify_state *vs;
	const struct calendar *cal;
	const uint8_t *prefix; /* a unit's part: the 4 bytes its records' keys begin with */
	size_t merged;	       /* deltas in the list after its last merge */
};

/*
 * Every chunk of records: the deltas summed so far (one per counter, not one per flow: a walk
 * of millions of records would otherwise hold gigabytes), those outside the part dropped, and
 * the progress told.
 */
static int recompute_chunk(struct recomputation *rc, int last)
{
	struct delta_list *want = rc->want;
	const struct store_verify_part *part = rc->vs->part;
	size_t out = 0;
	/* sorting is the cost: only once the list has doubled since, and at the end */
	if (last || want->n >= 2 * rc->merged + ((size_t)1 << 20)) {
		for (size_t i = 0; i < want->n; i++)
			if (in_part(rc->vs, &want->v[i].key))
				want->v[out++] = want->v[i];
		want->n = out;
		delta_merge(want); /* a sum past int64 stays marked through the next merges */
		rc->merged = want->n;
	}
	if (part && part->progress)
		part->progress(part->progress_ctx, rc->vs->done, rc->vs->total);
	return 0;
}

static int recompute_record(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct recomputation *rc = ctx;
	struct record_facts f;
	char msg[RECORD_MESSAGE_MAX];
	int err = 0;
	if (rc->prefix && (k->mv_size < 4 || memcmp(k->mv_data, rc->prefix, 4) != 0))
		return SCAN_STOP;
	const struct unit_entry *u =
	    k->mv_size > 5 ? unit_by_number(rc->st, get_be32(k->mv_data)) : NULL;
	Xxgk__V1__Record *r = xxgk__v1__record__unpack(NULL, v->mv_size, v->mv_data);
	if (u == NULL || r == NULL)
		difference(rc->vs, "a stored record of %s cannot be read",
			   u ? u->id : "an unknown unit");
	else if (record_check(r, &f, msg, sizeof(msg)))
		difference(rc->vs, "stored record %s/%s is invalid: %s", u->id, r->id, msg);
	else if ((deadline_facts_late(rc->cal, &f), add_flows(rc->want, u, &f, +1)))
		err = ENOMEM;
	if (r)
		xxgk__v1__record__free_unpacked(r, NULL);
	if (err == 0 && ++rc->vs->done % STORE_VERIFY_CHUNK == 0)
		err = recompute_chunk(rc, 0);
	return err;
}

/* Recomputes the flows of every stored record into want. */
static int recompute(struct store *st, MDB_txn *txn, struct delta_list *want,
		     struct verify_state *vs)
{
	struct calendar *none = st->cal ? NULL : calendar_empty();
	if (st->cal == NULL && none == NULL)
		return ENOMEM;
	struct recomputation rc = {st, want, vs, st->cal ? st->cal : none};
	uint8_t prefix[4];
	MDB_val from = {sizeof(prefix), prefix};
	MDB_stat stat;
	int err = 0;
	if (vs->unit == UINT32_MAX && mdb_stat(txn, st->db_records, &stat) == 0)
		vs->total = stat.ms_entries;
	if (vs->unit == UINT32_MAX) {
		err = scan(txn, st->db_records, NULL, recompute_record, &rc);
	} else { /* a unit's records are the keys that begin with its number */
		put_be32(prefix, vs->unit);
		rc.prefix = prefix;
		err = scan(txn, st->db_records, &from, recompute_record, &rc);
	}
	if (err == 0)
		err = recompute_chunk(&rc, 1);
	calendar_free(none);
	return err;
}

struct comparison {
	struct store *st;
	const struct delta_list *want;
	size_t next; /* the first recomputed counter not yet compared */
	struct verify_state *vs;
};

static int compare_counter(void *ctx, const struct counter_key *key, int64_t value)
{
	struct comparison *c = ctx;
	const struct delta_list *want = c->want;
	if (!in_part(c->vs, key))
		return c->vs->unit != UINT32_MAX &&
			       (key->scope > SCOPE_UNIT || key->scope_id > c->vs->unit)
			   ? SCAN_STOP /* past the unit's counters */
			   : 0;
	for (; c->next < want->n && counter_key_compare(&want->v[c->next].key, key) < 0; c->next++)
		counter_difference(c->st, c->vs, &want->v[c->next].key, 0, &want->v[c->next]);
	if (c->next < want->n && counter_key_compare(&want->v[c->next].key, key) == 0) {
		counter_difference(c->st, c->vs, key, value, &want->v[c->next]);
		c->next++;
	} else {
		counter_difference(c->st, c->vs, key, value, NULL);
	}
	return 0;
}

/* Walks the stored counters and the recomputed ones together, both in key order. */
static int compare_counters(struct store *st, MDB_txn *txn, const struct delta_list *want,
			    struct verify_state *vs)
{
	struct comparison c = {st, want, 0, vs};
	struct counter_key from = {SCOPE_UNIT, vs->unit, 0, 0};
	int rc = scan_counters(st, txn, vs->unit != UINT32_MAX ? &from : NULL, compare_counter, &c);
	for (; rc == 0 && c.next < want->n; c.next++)
		counter_difference(st, vs, &want->v[c.next].key, 0, &want->v[c.next]);
	return rc;
}

static void deadline_difference(void *ctx, const char *line)
{
	difference(ctx, "%s", line);
}

/* The deadlines index against a rebuild from the records, on the calendar stored with it. */
static int verify_deadlines(struct store *st, MDB_txn *txn, struct verify_state *vs)
{
	if (!st->has_deadlines)
		return 0;
	struct calendar *none = st->cal ? NULL : calendar_empty();
	if (st->cal == NULL && none == NULL)
		return XXGK_ENOMEM;
	int rc = deadline_index_verify(txn, &st->db_deadlines, st->db_records,
				       st->cal ? st->cal : none, vs->unit, deadline_difference, vs);
	calendar_free(none);
	return rc;
}

int store_verify(struct store *st, store_difference_fn fn, void *ctx, size_t *differences)
{
	return store_verify_part(st, NULL, fn, ctx, differences);
}

int store_verify_part(struct store *st, const struct store_verify_part *part,
		      store_difference_fn fn, void *ctx, size_t *differences)
{
	struct verify_state vs = {fn, ctx, 0, UINT32_MAX, 0, part, 0, 0};
	struct delta_list want = {0};
	MDB_txn *txn;
	*differences = 0;
	if (part && part->year && (part->year < DATE_YEAR_MIN || part->year > DATE_YEAR_MAX))
		return XXGK_EINVAL;
	if (part && part->unit) {
		const struct unit_entry *u = unit_find(st, part->unit);
		if (u == NULL)
			return XXGK_ENOTFOUND;
		vs.unit = u->number;
	}
	vs.year = part ? part->year : 0;
	int rc = rtxn_begin(st, &txn);
	if (rc)
		return rc;
	/* a sum that passes int64 is marked by the merges: a difference below */
	rc = recompute(st, txn, &want, &vs);
	if (rc == 0)
		rc = compare_counters(st, txn, &want, &vs);
	/* the index is by due date, not by year: a year's part checks counters only */
	if (rc == 0 && vs.year == 0)
		rc = verify_deadlines(st, txn, &vs);
	rtxn_end(st, txn);
	delta_free(&want);
	*differences = vs.differences;
	return xxgk_error_from_mdb(rc);
}

/* ---- iteration and statistics ---- */

struct user_scan {
	struct store *st;
	store_counter_fn counter_fn;
	store_record_fn record_fn;
	void *ctx;
	int stopped; /* the callback's non-zero return */
};

static int user_counter(void *ctx, const struct counter_key *key, int64_t value)
{
	struct user_scan *u = ctx;
	u->stopped = u->counter_fn(u->ctx, key, value);
	return u->stopped ? SCAN_STOP : 0;
}

int store_foreach_counter(struct store *st, store_counter_fn fn, void *ctx)
{
	MDB_txn *txn;
	struct user_scan u = {st, fn, NULL, ctx, 0};
	int rc = rtxn_begin(st, &txn);
	if (rc)
		return rc;
	rc = scan_counters(st, txn, NULL, user_counter, &u);
	rtxn_end(st, txn);
	return u.stopped ? u.stopped : xxgk_error_from_mdb(rc);
}

static int user_record(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct user_scan *u = ctx;
	const struct unit_entry *unit =
	    k->mv_size > 5 ? unit_by_number(u->st, get_be32(k->mv_data)) : NULL;
	Xxgk__V1__Record *r = xxgk__v1__record__unpack(NULL, v->mv_size, v->mv_data);
	if (unit == NULL || r == NULL) {
		if (r)
			xxgk__v1__record__free_unpacked(r, NULL);
		return MDB_CORRUPTED;
	}
	u->stopped = u->record_fn(u->ctx, unit->id, r);
	xxgk__v1__record__free_unpacked(r, NULL);
	return u->stopped ? SCAN_STOP : 0;
}

int store_foreach_record(struct store *st, store_record_fn fn, void *ctx)
{
	MDB_txn *txn;
	struct user_scan u = {st, NULL, fn, ctx, 0};
	int rc = rtxn_begin(st, &txn);
	if (rc)
		return rc;
	rc = scan(txn, st->db_records, NULL, user_record, &u);
	rtxn_end(st, txn);
	return u.stopped ? u.stopped : xxgk_error_from_mdb(rc);
}

int store_clear_stale_readers(struct store *st)
{
	int dead = 0;
	return mdb_reader_check(st->env, &dead) ? 0 : dead;
}

int store_backup(struct store *st, const char *dir, uint64_t *bytes)
{
	return store_backup_paced(st, dir, 0, bytes);
}

int store_backup_paced(struct store *st, const char *dir, uint64_t rate, uint64_t *bytes)
{
	char path[4096], from[4096];
	struct stat sb, store_file, store_home;
	const char *home = store_dir(st);
	/* the copy holds what the store holds: it gets the store's modes, whatever the umask */
	snprintf(from, sizeof(from), "%s/data.mdb", home ? home : ".");
	if (home == NULL || stat(home, &store_home) != 0 || stat(from, &store_file) != 0)
		return xxgk_error_at(xxgk_error_from_errno(errno), home);
	if (mkdir(dir, 0700) == 0) {
		if (chmod(dir, store_home.st_mode & 07777) != 0)
			return xxgk_error_at(xxgk_error_from_errno(errno), dir);
	} else if (errno != EEXIST) {
		return xxgk_error_at(xxgk_error_from_errno(errno), dir);
	}
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? XXGK_EINVAL
				       : xxgk_error_at(xxgk_error_from_errno(errno), dir);
	int rc = fchmod(fd, store_file.st_mode & 07777) ? errno : 0;
	if (rc == 0) {
		/* shared, like a read transaction: the map must not be resized under the copy */
		pthread_rwlock_rdlock(&st->lock);
		rc = rate ? store_copy_paced(st->env, fd, rate)
			  : mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
		pthread_rwlock_unlock(&st->lock);
	}
	/* a backup is worth having only once it is on the disk */
	if (rc == 0 && (fsync(fd) != 0 || fstat(fd, &sb) != 0))
		rc = errno;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	if (rc) {
		unlink(path); /* half a copy must not pass for a backup */
		return xxgk_error_at(xxgk_error_from_mdb(rc), dir);
	}
	*bytes = (uint64_t)sb.st_size;
	return 0;
}

int store_stats(struct store *st, struct store_stats *out)
{
	MDB_txn *txn;
	MDB_stat stat;
	MDB_envinfo info;
	int rc = rtxn_begin(st, &txn);
	if (rc)
		return rc;
	rc = mdb_stat(txn, st->db_records, &stat);
	if (rc == 0)
		rc = mdb_env_info(st->env, &info);
	if (rc == 0) {
		MDB_stat env_stat;
		rc = mdb_env_stat(st->env, &env_stat);
		out->records = stat.ms_entries;
		out->map_size = info.me_mapsize;
		out->map_used = (uint64_t)(info.me_last_pgno + 1) * env_stat.ms_psize;
		out->readers = info.me_numreaders;
		out->units = 0;
		for (size_t i = 0; i < st->n_units; i++)
			out->units += st->units[i].listed != 0;
	}
	rtxn_end(st, txn);
	return xxgk_error_from_mdb(rc);
}

/* ---- for store_freeze.c (store_freeze.h) ---- */

struct freeze_state *store_freeze_state(struct store *st)
{
	return &st->freeze;
}

struct write_call {
	store_write_fn fn;
	void *arg;
};

static int write_attempt(struct store *st, struct wtxn *t, void *arg)
{
	struct write_call *w = arg;
	int rc = w->fn(st, t->txn, w->arg);
	if (xxgk_is_mdb_code(rc)) /* MDB_MAP_FULL must reach with_retries, to grow the map */
		wtxn_fail_mdb(t, rc);
	else if (rc)
		wtxn_fail(t, rc);
	return t->err;
}

int store_write(struct store *st, store_write_fn fn, void *arg)
{
	struct write_call w = {fn, arg};
	return with_retries(st, write_attempt, &w);
}

int store_read_begin(struct store *st, MDB_txn **txn)
{
	return rtxn_begin(st, txn);
}

void store_read_end(struct store *st, MDB_txn *txn)
{
	rtxn_end(st, txn);
}

int store_scope_report(struct store *st, MDB_txn *txn, uint8_t scope, uint32_t scope_id, int year,
		       int template_year, struct report *out)
{
	int64_t flows_year[COUNTER_COUNT] = {0}, flows_before[COUNTER_COUNT] = {0};
	int rc = read_flows(st, txn, scope, scope_id, year, flows_year, flows_before);
	return rc ? rc : report_assemble(out, year, template_year, flows_year, flows_before);
}

int store_foreach_known_unit(struct store *st, store_known_unit_fn fn, void *ctx)
{
	int rc = 0;
	for (size_t i = 0; i < st->n_units && rc == 0; i++)
		rc = fn(ctx, st->units[i].id, st->units[i].number, st->units[i].kind);
	return rc;
}

uint32_t store_known_unit(struct store *st, const char *id)
{
	const struct unit_entry *u = unit_find(st, id);
	return u ? u->number : 0;
}

int store_unit_state(struct store *st, MDB_txn *txn, uint32_t number, int year, int *listed,
		     int *submitted)
{
	const struct unit_entry *u = number < st->n_numbers ? st->unit_by_number[number] : NULL;
	int64_t n = 0;
	*listed = u && u->listed;
	int rc = u ? unit_counter(st, txn, number, year, COUNTER_SUBMITTED, &n) : 0;
	*submitted = n > 0;
	return rc;
}

/* ---- answer periods: the calendar of the deadlines index (store_deadline.c) ---- */

struct set_calendar {
	const struct calendar *cal;
	unsigned char *packed;
};

struct late_recount {
	struct store *st;
	const struct calendar *cal;
	struct delta_list *deltas;
};

static int unlate_counter(void *ctx, const struct counter_key *key, int64_t value)
{
	struct late_recount *lr = ctx;
	if (key->counter == COUNTER_LATE_ANSWERS && delta_add(lr->deltas, key, -value))
		return ENOMEM;
	return 0;
}

static int late_record(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct late_recount *lr = ctx;
	struct record_facts f;
	char msg[RECORD_MESSAGE_MAX];
	int err = 0;
	if (k->mv_size < 5 || ((const uint8_t *)k->mv_data)[4] != RECORD_APPLICATION)
		return 0;
	const struct unit_entry *u = unit_by_number(lr->st, get_be32(k->mv_data));
	Xxgk__V1__Record *r = xxgk__v1__record__unpack(NULL, v->mv_size, v->mv_data);
	if (u && r && record_check(r, &f, msg, sizeof(msg)) == 0) {
		deadline_facts_late(lr->cal, &f);
		if (f.app.late) {
			struct counter_key keys[3] = {
			    {SCOPE_UNIT, u->number, (uint16_t)f.app.concluded_year,
			     COUNTER_LATE_ANSWERS},
			    {SCOPE_KIND, (uint32_t)u->kind, (uint16_t)f.app.concluded_year,
			     COUNTER_LATE_ANSWERS},
			    {SCOPE_CITY, 0, (uint16_t)f.app.concluded_year, COUNTER_LATE_ANSWERS},
			};
			for (int s = 0; s < 3 && !err; s++)
				if (delta_add(lr->deltas, &keys[s], 1))
					err = ENOMEM;
		}
	}
	if (r)
		xxgk__v1__record__free_unpacked(r, NULL);
	return err;
}

/*
 * The late answers' counters are the one flow that depends on the calendar: a calendar that
 * moves due dates recounts them, the stored ones taken away and the recount added.
 */
static void recount_late(struct store *st, struct wtxn *t, const struct calendar *cal)
{
	struct delta_list deltas = {0};
	struct late_recount lr = {st, cal, &deltas};
	int rc = scan_counters(st, t->txn, NULL, unlate_counter, &lr);
	if (rc == 0)
		rc = scan(t->txn, st->db_records, NULL, late_record, &lr);
	if (rc == ENOMEM)
		wtxn_fail(t, XXGK_ENOMEM);
	else if (rc)
		wtxn_fail_mdb(t, rc);
	else
		write_deltas(st, t, &deltas, NULL);
	delta_free(&deltas);
}

static int set_calendar_attempt(struct store *st, struct wtxn *t, void *arg)
{
	struct set_calendar *sc = arg;
	MDB_val k = str_val("calendar"), v = {calendar_packed_size(), sc->packed};
	int rc = deadline_index_rebuild(t->txn, &st->db_deadlines, st->db_records, sc->cal);
	if (xxgk_is_mdb_code(rc))
		wtxn_fail_mdb(t, rc);
	else if (rc < 0)
		wtxn_fail(t, rc);
	if (!t->err)
		recount_late(st, t, sc->cal);
	wtxn_put(t, st->db_meta, &k, &v);
	/* a meta value is 4 bytes (store_check.c): the version of the count, 1 */
	static const uint8_t counted[4] = {0, 0, 0, 1};
	MDB_val lk = str_val("late_answers"), lv = {sizeof(counted), (void *)counted};
	wtxn_put(t, st->db_meta, &lk, &lv);
	return t->err;
}

int store_set_calendar(struct store *st, const struct calendar *cal)
{
	size_t size = calendar_packed_size();
	unsigned char *packed = malloc(size), *stored = st->cal ? malloc(size) : NULL;
	int rc = 0;
	if (packed == NULL || (st->cal && stored == NULL)) {
		rc = XXGK_ENOMEM;
		goto out;
	}
	calendar_pack(cal, packed);
	if (st->cal) {
		calendar_pack(st->cal, stored);
		/* the index was computed on these very days; a store from before the late
		 * answers were counted counts them once */
		if (memcmp(stored, packed, size) == 0 && st->late_counted)
			goto out;
	}
	struct set_calendar sc = {cal, packed};
	struct calendar *copy = NULL;
	if ((rc = calendar_unpack(&copy, packed, size)))
		goto out;
	if ((rc = with_retries(st, set_calendar_attempt, &sc))) {
		calendar_free(copy);
		goto out;
	}
	pthread_rwlock_wrlock(&st->lock);
	calendar_free(st->cal);
	st->cal = copy;
	st->late_counted = 1;
	pthread_rwlock_unlock(&st->lock);
out:
	free(packed);
	free(stored);
	return rc;
}

struct deadline_read {
	struct store *st;
	store_deadline_fn fn;
	void *ctx;
};

static int read_deadline(void *ctx, uint32_t due, uint32_t unit, const char *id, const uint8_t *vp)
{
	struct deadline_read *r = ctx;
	const char *unit_id = store_unit_id(r->st, unit);
	struct store_deadline d = {
	    .unit = unit_id ? unit_id : "?",
	    .id = id,
	    .received = (int)get_be32(vp),
	    .state = vp[4],
	    .due = due == DEADLINE_KEY_ERROR || due == DEADLINE_KEY_SUSPENDED ? 0 : (int)due,
	    .extended = vp[5],
	    .error_year = vp[6] << 8 | vp[7],
	    .suspended = vp[8] << 8 | vp[9],
	};
	return r->fn(r->ctx, &d);
}

/* Reads the index entries with due keys from..to; see store_deadlines. */
static int read_deadlines(struct store *st, MDB_txn *txn, uint32_t from, uint32_t to,
			  store_deadline_fn fn, void *ctx)
{
	struct deadline_read r = {st, fn, ctx};
	return deadline_index_read(txn, &st->db_deadlines, from, to, read_deadline, &r);
}

int store_deadlines(struct store *st, int from, int to, int others, store_deadline_fn fn, void *ctx)
{
	MDB_txn *txn;
	if (!st->has_deadlines)
		return 0;
	int rc = rtxn_begin(st, &txn);
	if (rc)
		return rc;
	uint32_t lo = from < 1 ? 1 : (uint32_t)from, hi = to < 1 ? 0 : (uint32_t)to;
	if (hi >= DEADLINE_KEY_SUSPENDED)
		hi = DEADLINE_KEY_SUSPENDED - 1;
	if (others)
		rc = read_deadlines(st, txn, DEADLINE_KEY_ERROR, DEADLINE_KEY_ERROR, fn, ctx);
	if (rc == 0 && lo <= hi)
		rc = read_deadlines(st, txn, lo, hi, fn, ctx);
	if (rc == 0 && others)
		rc = read_deadlines(st, txn, DEADLINE_KEY_SUSPENDED, DEADLINE_KEY_SUSPENDED, fn,
				    ctx);
	rtxn_end(st, txn);
	return rc > 0 ? xxgk_error_from_mdb(rc) : rc;
}
