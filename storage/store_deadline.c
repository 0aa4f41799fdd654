#include "store_deadline.h"

#include <stdio.h>
#include <stdlib.h>
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

/* One change of the index, in the order the records came: a put of key with val, or a delete. */
struct deadline_op {
	uint64_t
	    prefix; /* the key's first 8 bytes (due, unit) as a number: most orders need no more */
	uint32_t seq;
	uint8_t put, klen;
	uint8_t key[KEY_MAX];
	uint8_t val[DEADLINE_VALUE_SIZE];
};

static int op_add(struct deadline_ops *ops, int put, const uint8_t *key, size_t klen,
		  const uint8_t *val)
{
	if (ops->n == ops->cap) {
		size_t cap = ops->cap ? 2 * ops->cap : 256;
		struct deadline_op *v = realloc(ops->v, cap * sizeof(*v));
		if (v == NULL)
			return XXGK_ENOMEM;
		ops->v = v;
		ops->cap = cap;
	}
	struct deadline_op *op = &ops->v[ops->n];
	op->seq = (uint32_t)ops->n++;
	op->prefix = (uint64_t)get32(key) << 32 | get32(key + 4);
	op->put = (uint8_t)put;
	op->klen = (uint8_t)klen;
	memcpy(op->key, key, klen);
	if (put)
		memcpy(op->val, val, DEADLINE_VALUE_SIZE);
	return 0;
}

int deadline_index_change(struct deadline_ops *ops, const struct calendar *cal, uint32_t unit,
			  const Xxgk__V1__Record *old, const Xxgk__V1__Record *r,
			  const struct record_facts *f)
{
	uint8_t okey[KEY_MAX], oval[DEADLINE_VALUE_SIZE], nkey[KEY_MAX], nval[DEADLINE_VALUE_SIZE];
	size_t oklen = 0, nklen = 0;
	/* only applications have periods: other kinds cost nothing here */
	if (f->kind != RECORD_APPLICATION)
		return 0;
	int had = old ? entry_of(cal, unit, old, okey, &oklen, oval) : 0;
	int has = entry_of(cal, unit, r, nkey, &nklen, nval);
	if (had && has && oklen == nklen && memcmp(okey, nkey, oklen) == 0 &&
	    memcmp(oval, nval, sizeof(oval)) == 0)
		return 0;
	int rc = had ? op_add(ops, 0, okey, oklen, NULL) : 0;
	return rc ? rc : has ? op_add(ops, 1, nkey, nklen, nval) : 0;
}

static int op_compare(const void *a, const void *b)
{
	const struct deadline_op *x = a, *y = b;
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key + 8, y->key + 8, n - 8);
	if (c == 0)
		c = (x->klen > y->klen) - (x->klen < y->klen);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Whether op's key sorts after k. */
static int key_after(const struct deadline_op *op, const MDB_val *k)
{
	size_t n = op->klen < k->mv_size ? op->klen : k->mv_size;
	int c = memcmp(op->key, k->mv_data, n);
	return c > 0 || (c == 0 && op->klen > k->mv_size);
}

/* Of the changes to one key, the last (in the records' order) is what stays. */
static int last_of_key(const struct deadline_ops *ops, size_t i)
{
	const struct deadline_op *op = &ops->v[i], *next = &ops->v[i + 1];
	return i + 1 == ops->n || next->klen != op->klen || memcmp(next->key, op->key, op->klen);
}

static int write_op(MDB_cursor *cur, const struct deadline_op *op, unsigned flags)
{
	MDB_val k = {op->klen, (void *)op->key}, v = {DEADLINE_VALUE_SIZE, (void *)op->val};
	int rc;
	if (op->put)
		return mdb_cursor_put(cur, &k, &v, flags);
	if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET)) == 0)
		return mdb_cursor_del(cur, 0);
	return rc == MDB_NOTFOUND ? 0 : rc; /* put and deleted again within the commit */
}

int deadline_ops_write(MDB_txn *txn, MDB_dbi dbi, struct deadline_ops *ops)
{
	MDB_cursor *cur;
	int rc = 0;
	if (ops->n == 0)
		return 0;
	/*
	 * In key order through one cursor: LMDB looks for the next key on the page the cursor is
	 * on before it searches from the root, and a commit's applications fall due on a few days.
	 */
	/* records applied in key order (a sorted backfill) make their changes in order already */
	for (size_t i = 1; i < ops->n; i++)
		if (op_compare(&ops->v[i - 1], &ops->v[i]) > 0) {
			qsort(ops->v, ops->n, sizeof(ops->v[0]), op_compare);
			break;
		}
	if ((rc = mdb_cursor_open(txn, dbi, &cur)))
		return rc;
	/* ops[past..] lie beyond the index's last key */
	MDB_val last, lv;
	size_t past = 0;
	if ((rc = mdb_cursor_get(cur, &last, &lv, MDB_LAST)) == MDB_NOTFOUND)
		rc = 0;
	else if (rc == 0)
		for (past = ops->n; past > 0 && key_after(&ops->v[past - 1], &last); past--)
			;
	/*
	 * Those are appended in order (no search, and full pages: applications come in roughly in
	 * order of receipt, so most new periods end after every open one). The others are written
	 * from the last back: LMDB looks for a key on the cursor's page before it searches from the
	 * root, but only for keys before that page's last, so going down keeps the cursor's page.
	 */
	for (size_t i = past; i < ops->n && rc == 0; i++)
		if (last_of_key(ops, i) && ops->v[i].put)
			rc = write_op(cur, &ops->v[i], MDB_APPEND);
	for (size_t i = past; i-- > 0 && rc == 0;)
		if (last_of_key(ops, i))
			rc = write_op(cur, &ops->v[i], 0);
	mdb_cursor_close(cur);
	ops->n = 0;
	return rc;
}

void deadline_ops_clear(struct deadline_ops *ops)
{
	ops->n = 0;
}

void deadline_ops_free(struct deadline_ops *ops)
{
	free(ops->v);
	*ops = (struct deadline_ops){0};
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
