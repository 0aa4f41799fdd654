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
	return mdb_dbi_open(txn, DEADLINE_DB, create ? MDB_CREATE : 0, dbi);
}

int deadline_drop_legacy(MDB_txn *txn, int *dropped)
{
	MDB_dbi legacy;
	int rc = mdb_dbi_open(txn, DEADLINE_LEGACY_DB, 0, &legacy);
	*dropped = rc == 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc ? rc : mdb_drop(txn, legacy, 1);
}

/*
 * The index entry of an application: 1 with key and value filled when it is open, else 0. A
 * record whose dates cannot be read has none (record_check let it in, so that cannot happen).
 */
static int entry_of(const struct calendar *cal, uint32_t unit, const Xxgk__V1__Record *r,
		    const struct deadline_events *days, uint8_t key[KEY_MAX], size_t *klen,
		    uint8_t val[DEADLINE_VALUE_SIZE])
{
	struct deadline_events read;
	struct deadline dl;
	if (r->body_case != XXGK__V1__RECORD__BODY_APPLICATION || r->application == NULL ||
	    (r->has_deleted && r->deleted) || r->application->has_outcome)
		return 0;
	size_t idlen = strlen(r->id);
	if (idlen > RECORD_ID_MAX || (!days && deadline_events_of(r->application, &read)))
		return 0;
	const struct deadline_events *ev = days ? days : &read;
	deadline_compute(cal, ev, &dl);
	uint32_t due = dl.state == DEADLINE_DUE		? (uint32_t)dl.due
		       : dl.state == DEADLINE_SUSPENDED ? DEADLINE_KEY_SUSPENDED
							: DEADLINE_KEY_ERROR;
	put32(key, due);
	put32(key + 4, unit);
	memcpy(key + 8, r->id, idlen);
	*klen = 8 + idlen;
	put32(val, (uint32_t)ev->received);
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
	int has = entry_of(cal, unit, r, NULL, key, klen, val);
	xxgk__v1__record__free_unpacked(r, NULL);
	return has;
}

/* One change of the index, in the order the records came: a put of key with val, or a delete. */
struct deadline_op {
	uint32_t next; /* the next change of its (due, unit), or NO_OP */
	uint32_t seq;
	uint8_t put, klen;
	uint8_t key[KEY_MAX];
	uint8_t val[DEADLINE_VALUE_SIZE];
};

#define NO_OP UINT32_MAX

/* The changes of one (due, unit), linked in the records' order. */
struct deadline_op_group {
	uint64_t prefix; /* the keys' first 8 bytes (due, unit) as a number */
	uint32_t first, last, n;
	int sorted; /* their ids come in order: no sort needed */
};

/* Record ids in the index's order (LMDB's: bytes, then the shorter first). */
static int id_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c ? c : (alen > blen) - (alen < blen);
}

static int op_id_compare(const struct deadline_op *x, const struct deadline_op *y)
{
	return id_compare(x->key + 8, x->klen - 8u, y->key + 8, y->klen - 8u);
}

static uint64_t prefix_of(const uint8_t *key)
{
	return (uint64_t)get32(key) << 32 | get32(key + 4);
}

static size_t slot_of(uint64_t prefix, size_t nslots)
{
	return (size_t)((prefix * 0x9e3779b97f4a7c15u) >> 32) & (nslots - 1);
}

/* The group of prefix, added if new: its index, or -1 out of memory. */
static long group_of(struct deadline_ops *ops, uint64_t prefix)
{
	if (2 * (ops->ngroups + 1) > ops->nslots) { /* grown, and every group placed again */
		size_t nslots = ops->nslots ? 2 * ops->nslots : 64;
		uint32_t *slots = calloc(nslots, sizeof(*slots));
		if (slots == NULL)
			return -1;
		for (size_t g = 0; g < ops->ngroups; g++) {
			size_t i = slot_of(ops->groups[g].prefix, nslots);
			while (slots[i])
				i = (i + 1) & (nslots - 1);
			slots[i] = (uint32_t)g + 1;
		}
		free(ops->slots);
		ops->slots = slots;
		ops->nslots = nslots;
	}
	size_t i = slot_of(prefix, ops->nslots);
	for (; ops->slots[i]; i = (i + 1) & (ops->nslots - 1))
		if (ops->groups[ops->slots[i] - 1].prefix == prefix)
			return ops->slots[i] - 1;
	if (ops->ngroups == ops->groups_cap) {
		size_t cap = ops->groups_cap ? 2 * ops->groups_cap : 32;
		struct deadline_op_group *v = realloc(ops->groups, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		ops->groups = v;
		ops->groups_cap = cap;
	}
	ops->groups[ops->ngroups] = (struct deadline_op_group){prefix, NO_OP, NO_OP, 0, 1};
	ops->slots[i] = (uint32_t)ops->ngroups + 1;
	return (long)ops->ngroups++;
}

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
	long g = group_of(ops, prefix_of(key));
	if (g < 0)
		return XXGK_ENOMEM;
	struct deadline_op_group *grp = &ops->groups[g];
	struct deadline_op *op = &ops->v[ops->n];
	op->next = NO_OP;
	op->seq = (uint32_t)ops->n;
	op->put = (uint8_t)put;
	op->klen = (uint8_t)klen;
	memcpy(op->key, key, klen);
	if (put)
		memcpy(op->val, val, DEADLINE_VALUE_SIZE);
	if (grp->n++ == 0)
		grp->first = (uint32_t)ops->n;
	else {
		/* a change to the same key as the one before stays after it: still in order */
		if (grp->sorted && op_id_compare(&ops->v[grp->last], op) > 0)
			grp->sorted = 0;
		ops->v[grp->last].next = (uint32_t)ops->n;
	}
	grp->last = (uint32_t)ops->n++;
	return 0;
}

int deadline_index_change(struct deadline_ops *ops, const struct calendar *cal, uint32_t unit,
			  const Xxgk__V1__Record *old, const struct record_facts *of,
			  const Xxgk__V1__Record *r, const struct record_facts *f)
{
	uint8_t okey[KEY_MAX], oval[DEADLINE_VALUE_SIZE], nkey[KEY_MAX], nval[DEADLINE_VALUE_SIZE];
	size_t oklen = 0, nklen = 0;
	/* only applications have periods: other kinds cost nothing here */
	if (f->kind != RECORD_APPLICATION)
		return 0;
	int had = old ? entry_of(cal, unit, old, &of->app.days, okey, &oklen, oval) : 0;
	int has = entry_of(cal, unit, r, &f->app.days, nkey, &nklen, nval);
	if (had && has && oklen == nklen && memcmp(okey, nkey, oklen) == 0 &&
	    memcmp(oval, nval, sizeof(oval)) == 0)
		return 0;
	int rc = had ? op_add(ops, 0, okey, oklen, NULL) : 0;
	return rc ? rc : has ? op_add(ops, 1, nkey, nklen, nval) : 0;
}

/* By id, and changes to one id in the records' order. */
static int op_ptr_compare(const void *a, const void *b)
{
	const struct deadline_op *x = *(const struct deadline_op *const *)a,
				 *y = *(const struct deadline_op *const *)b;
	int c = op_id_compare(x, y);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int group_compare(const void *a, const void *b)
{
	const struct deadline_op_group *x = a, *y = b;
	return (x->prefix > y->prefix) - (x->prefix < y->prefix);
}

/* Of the changes to one key, the last (in the records' order) is what stays. */
static int last_of_key(const struct deadline_op *const *op, const struct deadline_op *const *end)
{
	return op + 1 == end || op[1]->klen != op[0]->klen ||
	       memcmp(op[1]->key, op[0]->key, op[0]->klen);
}

/* ---- groups: the entries of one (due, unit), a value of up to DEADLINE_GROUP_MAX bytes ---- */

struct entry {
	const uint8_t *id;
	size_t idlen;
	const uint8_t *val;
};

/* The entry of a group's value v at *off, *off moved past it: 1, 0 at the end, -1 damaged. */
static int entry_next(const MDB_val *v, size_t *off, struct entry *e)
{
	const uint8_t *p = v->mv_data;
	if (*off >= v->mv_size)
		return 0;
	size_t idlen = p[*off];
	if (idlen == 0 || idlen > RECORD_ID_MAX ||
	    v->mv_size - *off < 1 + idlen + DEADLINE_VALUE_SIZE)
		return -1;
	e->id = p + *off + 1;
	e->idlen = idlen;
	e->val = e->id + idlen;
	*off += 1 + idlen + DEADLINE_VALUE_SIZE;
	return 1;
}

/*
 * Whether k, v is a well-formed group: its sizes and entries, the first the key's, and (ordered)
 * ids strictly ascending. *last: its last entry.
 */
static int group_form(const MDB_val *k, const MDB_val *v, int ordered, struct entry *last)
{
	struct entry e, prev = {0};
	size_t off = 0;
	int rc, n = 0;
	if (k->mv_size < 9 || k->mv_size > KEY_MAX || v->mv_size == 0 ||
	    v->mv_size > DEADLINE_GROUP_MAX)
		return 0;
	while ((rc = entry_next(v, &off, &e)) == 1) {
		if (n++ == 0 ? id_compare(e.id, e.idlen, (const uint8_t *)k->mv_data + 8,
					  k->mv_size - 8) != 0
			     : ordered && id_compare(prev.id, prev.idlen, e.id, e.idlen) >= 0)
			return 0;
		prev = e;
	}
	*last = prev;
	return rc == 0;
}

int deadline_group_valid(const MDB_val *k, const MDB_val *v)
{
	struct entry last;
	return group_form(k, v, 1, &last);
}

static uint8_t *entry_put(uint8_t *out, const uint8_t *id, size_t idlen, const uint8_t *val)
{
	*out++ = (uint8_t)idlen;
	memcpy(out, id, idlen);
	memcpy(out + idlen, val, DEADLINE_VALUE_SIZE);
	return out + idlen + DEADLINE_VALUE_SIZE;
}

/* Room for n bytes in ops->buf. */
static int buf_reserve(struct deadline_ops *ops, size_t n)
{
	if (n <= ops->buf_cap)
		return 0;
	uint8_t *b = realloc(ops->buf, n);
	if (b == NULL)
		return XXGK_ENOMEM;
	ops->buf = b;
	ops->buf_cap = n;
	return 0;
}

/*
 * The entries of group value old (none: size 0) with the changes [op, end) made, into ops->buf;
 * *size set to their bytes. 0, XXGK_ECORRUPT (old damaged) or XXGK_ENOMEM.
 */
static int merge(struct deadline_ops *ops, const MDB_val *old, const struct entry *old_last,
		 const struct deadline_op *const *op, const struct deadline_op *const *end,
		 size_t *size)
{
	int rc = buf_reserve(ops, old->mv_size +
				      (size_t)(end - op) * (1 + KEY_MAX + DEADLINE_VALUE_SIZE));
	if (rc)
		return rc;
	uint8_t *out = ops->buf;
	struct entry e;
	size_t off = 0;
	/* the usual: every change after the last entry (new applications), kept whole */
	if (old->mv_size && op < end &&
	    id_compare(old_last->id, old_last->idlen, (*op)->key + 8, (*op)->klen - 8u) < 0) {
		memcpy(out, old->mv_data, old->mv_size);
		out += old->mv_size;
		off = old->mv_size;
	}
	int has = entry_next(old, &off, &e);
	while (has == 1 || op < end) {
		if (op < end && !last_of_key(op, end)) {
			op++;
			continue;
		}
		int c = has != 1    ? 1
			: op == end ? -1
				    : id_compare(e.id, e.idlen, (*op)->key + 8, (*op)->klen - 8u);
		if (c <= 0 && has == 1) {
			if (c < 0) /* kept */
				out = entry_put(out, e.id, e.idlen, e.val);
			has = entry_next(old, &off, &e);
		}
		if (c >= 0) {
			if ((*op)->put) /* added, or replacing the entry it equals */
				out = entry_put(out, (*op)->key + 8, (*op)->klen - 8u, (*op)->val);
			op++;
		}
	}
	if (has < 0)
		return XXGK_ECORRUPT;
	*size = (size_t)(out - ops->buf);
	return 0;
}

/*
 * Writes the entries in ops->buf[0..size) of group prefix as values of at most
 * DEADLINE_GROUP_MAX bytes, each under the key of its first entry; the value stored under key
 * old (NULL: none) is replaced.
 */
static int write_group(MDB_cursor *cur, struct deadline_ops *ops, size_t size,
		       const uint8_t prefix[8], const MDB_val *old)
{
	MDB_val whole = {size, ops->buf};
	size_t off = 0, from = 0, kept = 0;
	struct entry e, first = {0};
	uint8_t key[KEY_MAX];
	int rc = 0;
	while (rc == 0 && from < size) {
		/* as many entries as fit, from the first not written */
		size_t end = from, next;
		for (off = from; entry_next(&whole, &off, &e) == 1; end = off) {
			if (end == from)
				first = e;
			if (off - from > DEADLINE_GROUP_MAX)
				break;
		}
		next = end;
		memcpy(key, prefix, 8);
		memcpy(key + 8, first.id, first.idlen);
		MDB_val k = {8 + first.idlen, key}, v = {next - from, ops->buf + from};
		if (old && k.mv_size == old->mv_size && memcmp(key, old->mv_data, k.mv_size) == 0)
			kept = 1; /* a put under the same key replaces it */
		rc = mdb_cursor_put(cur, &k, &v, 0);
		from = next;
	}
	if (rc == 0 && old && !kept) {
		MDB_val k = *old, v;
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET)) == 0)
			rc = mdb_cursor_del(cur, 0);
	}
	return rc;
}

/*
 * Applies the changes from *op on (of one prefix, in key order, up to end) to the group value that
 * holds the first's key, or would: the last value of the prefix at or before it, else a new one.
 * *op is moved past those applied: the ones before the next value of the prefix.
 */
static int apply_changes(MDB_cursor *cur, struct deadline_ops *ops,
			 const struct deadline_op *const **op, const struct deadline_op *const *end)
{
	const struct deadline_op *from = **op;
	uint8_t found[KEY_MAX], bound[KEY_MAX];
	MDB_val k = {from->klen, (void *)from->key}, v, old = {0, NULL}, hold = {0, NULL};
	size_t blen = 0, size;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE), exact = 0;
	if (rc == 0) {
		exact = k.mv_size == from->klen && memcmp(k.mv_data, from->key, k.mv_size) == 0;
		if (!exact && k.mv_size >= 8 && memcmp(k.mv_data, from->key, 8) == 0)
			memcpy(bound, k.mv_data,
			       blen = k.mv_size); /* the next value of the prefix */
		if (!exact)
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	} else if (rc == MDB_NOTFOUND) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	else if (rc == 0 && k.mv_size >= 8 && k.mv_size <= KEY_MAX &&
		 memcmp(k.mv_data, from->key, 8) == 0) {
		memcpy(found, k.mv_data, k.mv_size);
		old = (MDB_val){k.mv_size, found};
		hold = v;
		if (exact) { /* the next value of the prefix bounds this one */
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			if (rc == 0 && k.mv_size >= 8 && k.mv_size <= KEY_MAX &&
			    memcmp(k.mv_data, from->key, 8) == 0)
				memcpy(bound, k.mv_data, blen = k.mv_size);
			rc = rc == MDB_NOTFOUND ? 0 : rc;
		}
	}
	if (rc)
		return rc;
	/* its form, the order of its ids taken on trust (reads and store_check look at it) */
	struct entry old_last = {0};
	if (old.mv_data && !group_form(&old, &hold, 0, &old_last))
		return XXGK_ECORRUPT;
	const struct deadline_op *const *last = *op;
	while (last < end && (blen == 0 || id_compare((*last)->key + 8, (*last)->klen - 8u,
						      bound + 8, blen - 8) < 0))
		last++;
	/* merged before any write: a write moves the pages that hold points into */
	if ((rc = merge(ops, &hold, &old_last, *op, last, &size)))
		return rc;
	*op = last;
	return write_group(cur, ops, size, from->key, old.mv_data ? &old : NULL);
}

/* The changes of group g in key order, into ops->order. */
static int group_order(struct deadline_ops *ops, const struct deadline_op_group *g)
{
	if (g->n > ops->order_cap) {
		size_t cap = ops->order_cap ? ops->order_cap : 256;
		while (cap < g->n)
			cap *= 2;
		const struct deadline_op **o = realloc(ops->order, cap * sizeof(*o));
		if (o == NULL)
			return XXGK_ENOMEM;
		ops->order = o;
		ops->order_cap = cap;
	}
	size_t n = 0;
	for (uint32_t i = g->first; i != NO_OP; i = ops->v[i].next)
		ops->order[n++] = &ops->v[i];
	/* records applied in id order (the usual: ids are given as cases come) need no sort */
	if (!g->sorted)
		qsort(ops->order, n, sizeof(ops->order[0]), op_ptr_compare);
	return 0;
}

int deadline_ops_write(MDB_txn *txn, MDB_dbi dbi, struct deadline_ops *ops)
{
	MDB_cursor *cur;
	int rc = 0;
	if (ops->n == 0)
		return 0;
	if ((rc = mdb_cursor_open(txn, dbi, &cur))) {
		deadline_ops_clear(ops);
		return rc;
	}
	/*
	 * In key order. A commit's applications fall due on a few days, and a unit's on one day are
	 * one or a few values: each is read and written once, however many of its entries change.
	 */
	qsort(ops->groups, ops->ngroups, sizeof(ops->groups[0]), group_compare);
	for (size_t g = 0; g < ops->ngroups && rc == 0; g++) {
		if ((rc = group_order(ops, &ops->groups[g])))
			break;
		const struct deadline_op *const *op = ops->order, *const *end =
								      op + ops->groups[g].n;
		while (rc == 0 && op < end)
			rc = apply_changes(cur, ops, &op, end);
	}
	mdb_cursor_close(cur);
	deadline_ops_clear(ops);
	return rc;
}

void deadline_ops_clear(struct deadline_ops *ops)
{
	ops->n = 0;
	ops->ngroups = 0;
	if (ops->slots)
		memset(ops->slots, 0, ops->nslots * sizeof(ops->slots[0]));
}

void deadline_ops_free(struct deadline_ops *ops)
{
	free(ops->v);
	free(ops->groups);
	free(ops->slots);
	free(ops->order);
	free(ops->buf);
	*ops = (struct deadline_ops){0};
}

int deadline_index_read(MDB_txn *txn, MDB_dbi dbi, uint32_t from, uint32_t to, deadline_entry_fn fn,
			void *ctx)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t start[4];
	char id[RECORD_ID_MAX + 1];
	put32(start, from);
	k = (MDB_val){sizeof(start), start};
	int rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc)
		return rc;
	for (MDB_cursor_op op = MDB_SET_RANGE; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	     op = MDB_NEXT) {
		struct entry e;
		size_t off = 0;
		if (!deadline_group_valid(&k, &v)) {
			rc = XXGK_ECORRUPT;
			break;
		}
		uint32_t due = get32(k.mv_data), unit = get32((const uint8_t *)k.mv_data + 4);
		if (due > to)
			break;
		while (rc == 0 && entry_next(&v, &off, &e) == 1) {
			memcpy(id, e.id, e.idlen);
			id[e.idlen] = '\0';
			rc = fn(ctx, due, unit, id, e.val);
		}
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

void deadline_facts_late(const struct calendar *cal, struct record_facts *f)
{
	if (f->kind != RECORD_APPLICATION || f->deleted)
		return;
	f->app.late = cal && f->app.outcome && deadline_late(cal, &f->app.days) == 1;
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
	struct deadline_ops ops;
};

/* Entries gathered a batch at a time: a bounded memory, each group written once a batch. */
#define REBUILD_BATCH 65536

static int put_expected(void *ctx, const MDB_val *k, const MDB_val *v, const char *id)
{
	struct rebuild *b = ctx;
	(void)id;
	int rc = op_add(&b->ops, 1, k->mv_data, k->mv_size, v->mv_data);
	if (rc == 0 && b->ops.n == REBUILD_BATCH)
		rc = deadline_ops_write(b->txn, b->dbi, &b->ops);
	return rc;
}

int deadline_index_rebuild(MDB_txn *txn, MDB_dbi dbi, MDB_dbi records, const struct calendar *cal)
{
	struct rebuild b = {txn, dbi, {0}};
	int rc = mdb_drop(txn, dbi, 0);
	if (rc == 0)
		rc = foreach_expected(txn, records, cal, put_expected, &b);
	if (rc == 0)
		rc = deadline_ops_write(txn, dbi, &b.ops);
	deadline_ops_free(&b.ops);
	return rc;
}

struct check {
	MDB_txn *txn;
	MDB_cursor *cur;
	deadline_difference_fn fn;
	void *ctx;
	size_t expected;
};

static void key_words(const uint8_t *key, size_t klen, char *buf, size_t size)
{
	uint32_t due = get32(key);
	char day[16];
	if (due == DEADLINE_KEY_ERROR)
		snprintf(day, sizeof(day), "error");
	else if (due == DEADLINE_KEY_SUSPENDED)
		snprintf(day, sizeof(day), "suspended");
	else
		date_format((int)due, day, sizeof(day));
	snprintf(buf, size, "unit #%u application %.*s due %s", (unsigned)get32(key + 4),
		 (int)(klen - 8), (const char *)key + 8, day);
}

/*
 * The value stored for entry key (due, unit, id) in the index: 1 with *val set, 0 when it has
 * none, or an LMDB code or XXGK_ECORRUPT.
 */
static int lookup(MDB_cursor *cur, const MDB_val *key, const uint8_t **val)
{
	MDB_val k = *key, v;
	struct entry e;
	size_t off = 0;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && (k.mv_size != key->mv_size || memcmp(k.mv_data, key->mv_data, k.mv_size)))
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (k.mv_size < 8 || memcmp(k.mv_data, key->mv_data, 8) != 0)
		return 0; /* no value of its (due, unit) at or before it */
	if (!deadline_group_valid(&k, &v))
		return XXGK_ECORRUPT;
	const uint8_t *id = (const uint8_t *)key->mv_data + 8;
	while (entry_next(&v, &off, &e) == 1)
		if (id_compare(e.id, e.idlen, id, key->mv_size - 8) == 0) {
			*val = e.val;
			return 1;
		}
	return 0;
}

static int check_expected(void *ctx, const MDB_val *k, const MDB_val *v, const char *id)
{
	struct check *c = ctx;
	const uint8_t *got = NULL;
	char words[256], line[320];
	(void)id;
	c->expected++;
	int rc = lookup(c->cur, k, &got);
	if (rc != XXGK_ECORRUPT && (rc < 0 || rc > 1))
		return rc;
	key_words(k->mv_data, k->mv_size, words, sizeof(words));
	if (rc == XXGK_ECORRUPT) {
		snprintf(line, sizeof(line), "deadlines: %s: its value in the index is damaged",
			 words);
		c->fn(c->ctx, line);
	} else if (rc == 0) {
		snprintf(line, sizeof(line), "deadlines: %s: missing from the index", words);
		c->fn(c->ctx, line);
	} else if (memcmp(got, v->mv_data, DEADLINE_VALUE_SIZE)) {
		snprintf(line, sizeof(line), "deadlines: %s: stored with other facts", words);
		c->fn(c->ctx, line);
	}
	return 0;
}

/* Whether the index entry (key, entry e) is what an open application says. */
static int entry_explained(MDB_txn *txn, MDB_dbi records, const struct calendar *cal,
			   const MDB_val *k, const struct entry *e)
{
	uint8_t rk[5 + RECORD_ID_MAX], key[KEY_MAX], val[DEADLINE_VALUE_SIZE];
	size_t klen = 0;
	MDB_val rec;
	memcpy(rk, (const uint8_t *)k->mv_data + 4, 4);
	rk[4] = RECORD_APPLICATION;
	memcpy(rk + 5, e->id, e->idlen);
	MDB_val rkey = {5 + e->idlen, rk};
	int found = mdb_get(txn, records, &rkey, &rec);
	if (found && found != MDB_NOTFOUND)
		return found;
	int has = found ? 0 : entry_of_packed(cal, get32(rk), &rec, key, &klen, val);
	if (has < 0)
		return has;
	return has && klen == 8 + e->idlen && memcmp(key, k->mv_data, 8) == 0 &&
	       memcmp(key + 8, e->id, e->idlen) == 0;
}

int deadline_index_verify(MDB_txn *txn, MDB_dbi dbi, MDB_dbi records, const struct calendar *cal,
			  uint32_t unit, deadline_difference_fn fn, void *ctx)
{
	struct check c = {txn, NULL, fn, ctx, 0};
	MDB_val k, v;
	size_t entries = 0;
	int rc = mdb_cursor_open(txn, dbi, &c.cur);
	if (rc)
		return rc;
	if ((rc = foreach_expected_of(txn, records, cal, unit, check_expected, &c)))
		goto out;
	/* a unit's entries are spread over the index (by due date first): count every one */
	for (MDB_cursor_op op = MDB_FIRST; (rc = mdb_cursor_get(c.cur, &k, &v, op)) == 0;
	     op = MDB_NEXT) {
		struct entry e;
		size_t off = 0;
		if (!deadline_group_valid(&k, &v)) {
			entries = SIZE_MAX; /* named below */
			break;
		}
		while (entry_next(&v, &off, &e) == 1)
			entries++;
	}
	if (rc && rc != MDB_NOTFOUND && entries != SIZE_MAX)
		goto out;
	rc = 0;
	if (unit == UINT32_MAX && entries == c.expected)
		goto out;
	/* more entries than open applications: name those that no record explains */
	for (MDB_cursor_op op = MDB_FIRST; (rc = mdb_cursor_get(c.cur, &k, &v, op)) == 0;
	     op = MDB_NEXT) {
		struct entry e;
		size_t off = 0;
		char words[256], line[320];
		uint8_t key[KEY_MAX];
		if (!deadline_group_valid(&k, &v)) {
			fn(ctx, "deadlines: a value of the index is damaged");
			continue;
		}
		if (unit != UINT32_MAX && get32((const uint8_t *)k.mv_data + 4) != unit)
			continue;
		while (rc == 0 && entry_next(&v, &off, &e) == 1) {
			int ok = entry_explained(txn, records, cal, &k, &e);
			if (ok < 0 || ok > 1) {
				rc = ok;
				break;
			}
			if (ok)
				continue;
			memcpy(key, k.mv_data, 8);
			memcpy(key + 8, e.id, e.idlen);
			key_words(key, 8 + e.idlen, words, sizeof(words));
			snprintf(line, sizeof(line),
				 "deadlines: %s: in the index, but no open application says so",
				 words);
			fn(ctx, line);
		}
		if (rc)
			break;
	}
out:
	mdb_cursor_close(c.cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
