#include "store_deadline.h"

#include <stdio.h>
#include <string.h>

#include "deadline.h"
#include "date.h"
#include "error.h"

#define KEY_MAX (8 + RECORD_ID_MAX)

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int deadline_db_open(MDB_txn *txn, MDB_dbi *dbi, int create)
{
	return mdb_dbi_open(txn, "deadlines", create ? MDB_CREATE : 0, dbi);
}

/*
 * The index entry of an application: 1 with key and value filled when it is open, else 0. A
 * record whose dates cannot be read has none (record_check let it in, so that cannot happen).
 */
static int entry_of(const struct calendar *cal, uint32_t unit, const Xxgk__V1__Record *r,
		    uint8_t key[KEY_MAX], size_t *klen, uint8_t val[DEADLINE_VALUE_SIZE])
{
	struct deadline_events ev;
	struct deadline dl;
	if (r->body_case != XXGK__V1__RECORD__BODY_APPLICATION || r->application == NULL ||
	    (r->has_deleted && r->deleted) || r->application->has_outcome)
		return 0;
	size_t idlen = strlen(r->id);
	if (idlen > RECORD_ID_MAX || deadline_events_of(r->application, &ev))
		return 0;
	deadline_compute(cal, &ev, &dl);
	uint32_t due = dl.state == DEADLINE_DUE		? (uint32_t)dl.due
		       : dl.state == DEADLINE_SUSPENDED ? DEADLINE_KEY_SUSPENDED
							: DEADLINE_KEY_ERROR;
	put32(key, due);
	put32(key + 4, unit);
	memcpy(key + 8, r->id, idlen);
	*klen = 8 + idlen;
	put32(val, (uint32_t)ev.received);
	val[4] = (uint8_t)dl.state;
	val[5] = (uint8_t)dl.extended;
	val[6] = (uint8_t)(dl.error_year >> 8);
	val[7] = (uint8_t)dl.error_year;
	int s = dl.suspended > 0xffff ? 0xffff : dl.suspended;
	val[8] = (uint8_t)(s >> 8);
	val[9] = (uint8_t)s;
	return 1;
}

static int entry_of_packed(const struct calendar *cal, uint32_t unit, const MDB_val *packed,
			   uint8_t key[KEY_MAX], size_t *klen, uint8_t val[DEADLINE_VALUE_SIZE])
{
	Xxgk__V1__Record *r = xxgk__v1__record__unpack(NULL, packed->mv_size, packed->mv_data);
	if (r == NULL)
		return XXGK_ECORRUPT;
	int has = entry_of(cal, unit, r, key, klen, val);
	xxgk__v1__record__free_unpacked(r, NULL);
	return has;
}

int deadline_index_record(MDB_txn *txn, MDB_dbi dbi, const struct calendar *cal, uint32_t unit,
			  const MDB_val *old, const Xxgk__V1__Record *r,
			  const struct record_facts *f)
{
	uint8_t okey[KEY_MAX], oval[DEADLINE_VALUE_SIZE], nkey[KEY_MAX], nval[DEADLINE_VALUE_SIZE];
	size_t oklen = 0, nklen = 0;
	int had = 0, has = 0, rc;
	/* only applications have periods: other kinds cost nothing here */
	if (f->kind != RECORD_APPLICATION)
		return 0;
	if (old && (had = entry_of_packed(cal, unit, old, okey, &oklen, oval)) < 0)
		return had;
	has = entry_of(cal, unit, r, nkey, &nklen, nval);
	if (had && has && oklen == nklen && memcmp(okey, nkey, oklen) == 0 &&
	    memcmp(oval, nval, sizeof(oval)) == 0)
		return 0;
	if (had) {
		MDB_val k = {oklen, okey};
		if ((rc = mdb_del(txn, dbi, &k, NULL)) && rc != MDB_NOTFOUND)
			return rc;
	}
	if (has) {
		MDB_val k = {nklen, nkey}, v = {sizeof(nval), nval};
		if ((rc = mdb_put(txn, dbi, &k, &v, 0)))
			return rc;
	}
	return 0;
}

void deadline_facts_late(const struct calendar *cal, const Xxgk__V1__Record *r,
			 struct record_facts *f)
{
	struct deadline_events ev;
	if (f->kind != RECORD_APPLICATION || f->deleted)
		return;
	f->app.late = cal && f->app.outcome && r->application &&
		      deadline_events_of(r->application, &ev) == 0 && deadline_late(cal, &ev) == 1;
}

/* Calls fn with the index entry of every open application of the records database. */
typedef int (*entry_fn)(void *ctx, const MDB_val *k, const MDB_val *v, const char *id);
static int foreach_expected_of(MDB_txn *txn, MDB_dbi records, const struct calendar *cal,
			       uint32_t only, entry_fn fn, void *ctx)
{
	MDB_cursor *cur;
	uint8_t from[5];
	MDB_val k = {sizeof(from), from}, v;
	int rc = mdb_cursor_open(txn, records, &cur);
	if (rc)
		return rc;
	/* one unit's: its applications are the keys that begin with its number and the kind */
	from[0] = (uint8_t)(only >> 24);
	from[1] = (uint8_t)(only >> 16);
	from[2] = (uint8_t)(only >> 8);
	from[3] = (uint8_t)only;
	from[4] = RECORD_APPLICATION;
	for (MDB_cursor_op op = only == UINT32_MAX ? MDB_FIRST : MDB_SET_RANGE;
	     (rc = mdb_cursor_get(cur, &k, &v, op)) == 0; op = MDB_NEXT) {
		uint8_t key[KEY_MAX], val[DEADLINE_VALUE_SIZE];
		size_t klen;
		if (only != UINT32_MAX &&
		    (k.mv_size < 5 || memcmp(k.mv_data, from, sizeof(from)) != 0)) {
			rc = MDB_NOTFOUND; /* past them */
			break;
		}
		if (k.mv_size < 5 || ((const uint8_t *)k.mv_data)[4] != RECORD_APPLICATION)
			continue;
		uint32_t unit = get32(k.mv_data);
		int has = entry_of_packed(cal, unit, &v, key, &klen, val);
		if (has < 0) {
			rc = has;
			break;
		}
		if (!has)
			continue;
		MDB_val ek = {klen, key}, ev = {sizeof(val), val};
		if ((rc = fn(ctx, &ek, &ev, (const char *)key + 8)))
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int foreach_expected(MDB_txn *txn, MDB_dbi records, const struct calendar *cal, entry_fn fn,
			    void *ctx)
{
	return foreach_expected_of(txn, records, cal, UINT32_MAX, fn, ctx);
}

struct rebuild {
	MDB_txn *txn;
	MDB_dbi dbi;
};

static int put_expected(void *ctx, const MDB_val *k, const MDB_val *v, const char *id)
{
	struct rebuild *b = ctx;
	MDB_val kk = *k, vv = *v;
	(void)id;
	return mdb_put(b->txn, b->dbi, &kk, &vv, 0);
}

int deadline_index_rebuild(MDB_txn *txn, MDB_dbi dbi, MDB_dbi records, const struct calendar *cal)
{
	struct rebuild b = {txn, dbi};
	int rc = mdb_drop(txn, dbi, 0);
	return rc ? rc : foreach_expected(txn, records, cal, put_expected, &b);
}

struct check {
	MDB_txn *txn;
	MDB_dbi dbi;
	deadline_difference_fn fn;
	void *ctx;
	size_t expected;
};

static void key_words(const MDB_val *k, char *buf, size_t size)
{
	const uint8_t *p = k->mv_data;
	uint32_t due = get32(p);
	char day[16];
	if (due == DEADLINE_KEY_ERROR)
		snprintf(day, sizeof(day), "error");
	else if (due == DEADLINE_KEY_SUSPENDED)
		snprintf(day, sizeof(day), "suspended");
	else
		date_format((int)due, day, sizeof(day));
	snprintf(buf, size, "unit #%u application %.*s due %s", (unsigned)get32(p + 4),
		 (int)(k->mv_size - 8), (const char *)p + 8, day);
}

static int check_expected(void *ctx, const MDB_val *k, const MDB_val *v, const char *id)
{
	struct check *c = ctx;
	MDB_val kk = *k, got;
	char words[256], line[320];
	(void)id;
	c->expected++;
	int rc = mdb_get(c->txn, c->dbi, &kk, &got);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	key_words(k, words, sizeof(words));
	if (rc == MDB_NOTFOUND) {
		snprintf(line, sizeof(line), "deadlines: %s: missing from the index", words);
		c->fn(c->ctx, line);
	} else if (got.mv_size != v->mv_size || memcmp(got.mv_data, v->mv_data, v->mv_size)) {
		snprintf(line, sizeof(line), "deadlines: %s: stored with other facts", words);
		c->fn(c->ctx, line);
	}
	return 0;
}

int deadline_index_verify(MDB_txn *txn, MDB_dbi dbi, MDB_dbi records, const struct calendar *cal,
			  uint32_t unit, deadline_difference_fn fn, void *ctx)
{
	struct check c = {txn, dbi, fn, ctx, 0};
	MDB_stat stat;
	int rc = foreach_expected_of(txn, records, cal, unit, check_expected, &c);
	if (rc || (rc = mdb_stat(txn, dbi, &stat)))
		return rc;
	/* a unit's entries are spread over the index (by due date first): look at each */
	if (unit == UINT32_MAX && stat.ms_entries == c.expected)
		return 0;
	/* more entries than open applications: name those that no record explains */
	MDB_cursor *cur;
	MDB_val k, v;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)))
		return rc;
	for (MDB_cursor_op op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	     op = MDB_NEXT) {
		uint8_t rk[5 + RECORD_ID_MAX], key[KEY_MAX], val[DEADLINE_VALUE_SIZE];
		size_t klen = 0;
		char words[256], line[320];
		MDB_val rec;
		if (k.mv_size < 8 || k.mv_size > KEY_MAX) {
			fn(ctx, "deadlines: an entry of the index has a bad size");
			continue;
		}
		if (unit != UINT32_MAX && get32((const uint8_t *)k.mv_data + 4) != unit)
			continue;
		memcpy(rk, (const uint8_t *)k.mv_data + 4, 4);
		rk[4] = RECORD_APPLICATION;
		memcpy(rk + 5, (const uint8_t *)k.mv_data + 8, k.mv_size - 8);
		MDB_val rkey = {k.mv_size - 3, rk};
		int found = mdb_get(txn, records, &rkey, &rec);
		if (found && found != MDB_NOTFOUND) {
			rc = found;
			break;
		}
		int has = found ? 0 : entry_of_packed(cal, get32(rk), &rec, key, &klen, val);
		if (has < 0) {
			rc = has;
			break;
		}
		if (!has || klen != k.mv_size || memcmp(key, k.mv_data, klen) != 0) {
			key_words(&k, words, sizeof(words));
			snprintf(line, sizeof(line),
				 "deadlines: %s: in the index, but no open application says so",
				 words);
			fn(ctx, line);
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
