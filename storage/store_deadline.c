#include "store_deadline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadline.h"
#include "date.h"
#include "error.h"

#define KEY_MAX (8 + RECORD_ID_MAX)

/* Big-endian, so that keys sort by their numbers; a word at a time where the compiler can. */
static void put32(uint8_t *p, uint32_t v)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
#else
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
#endif
}

static uint32_t get32(const uint8_t *p)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t v;
	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
#else
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
#endif
}

int deadline_db_open(MDB_txn *txn, struct deadline_dbs *db, int create)
{
	unsigned flags = create ? MDB_CREATE : 0;
	int rc = mdb_dbi_open(txn, DEADLINE_DB, flags, &db->groups);
	if (rc)
		return rc;
	/* read-only, a store of a version before the tails, the log, has none */
	rc = mdb_dbi_open(txn, DEADLINE_TAILS_DB, flags, &db->tails);
	db->has_tails = rc == 0;
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	rc = mdb_dbi_open(txn, DEADLINE_LOG_DB, flags, &db->log);
	db->has_log = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
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

/* Whether r (its id idlen bytes) is an open application, one with an index entry. */
static int open_application(const Xxgk__V1__Record *r, size_t idlen)
{
	return r->body_case == XXGK__V1__RECORD__BODY_APPLICATION && r->application != NULL &&
	       !(r->has_deleted && r->deleted) && !r->application->has_outcome &&
	       idlen <= RECORD_ID_MAX;
}

/* The index entry of an open application whose events are ev: its value, and its due key. */
static uint32_t entry_from(const struct calendar *cal, const struct deadline_events *ev,
			   uint8_t val[DEADLINE_VALUE_SIZE])
{
	struct deadline dl;
	deadline_compute(cal, ev, &dl);
	uint32_t due = dl.state == DEADLINE_DUE		? (uint32_t)dl.due
		       : dl.state == DEADLINE_SUSPENDED ? DEADLINE_KEY_SUSPENDED
							: DEADLINE_KEY_ERROR;
	put32(val, (uint32_t)ev->received);
	val[4] = (uint8_t)dl.state;
	val[5] = (uint8_t)dl.extended;
	val[6] = (uint8_t)(dl.error_year >> 8);
	val[7] = (uint8_t)dl.error_year;
	int s = dl.suspended > 0xffff ? 0xffff : dl.suspended;
	val[8] = (uint8_t)(s >> 8);
	val[9] = (uint8_t)s;
	return due;
}

/*
 * The index entry of a stored record: 1 with key and value filled when it is an open
 * application, else 0 (also when its dates cannot be read: record_check let it in, so that
 * cannot happen).
 */
static int entry_of(const struct calendar *cal, uint32_t unit, const Xxgk__V1__Record *r,
		    uint8_t key[KEY_MAX], size_t *klen, uint8_t val[DEADLINE_VALUE_SIZE])
{
	struct deadline_events ev;
	size_t idlen = strlen(r->id);
	if (!open_application(r, idlen) || deadline_events_of(r->application, &ev))
		return 0;
	put32(key, entry_from(cal, &ev, val));
	put32(key + 4, unit);
	memcpy(key + 8, r->id, idlen);
	*klen = 8 + idlen;
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

/*
 * One change of the index, in the order the records came: a put of the entry (due, unit, id)
 * with val, or a delete. A commit has many: a few bytes each, the id not copied.
 */
struct deadline_op {
	uint32_t next; /* the next change of its (due, unit), or NO_OP */
	uint32_t seq;
	uint8_t prefix[8]; /* due, unit: its key's first bytes */
	const uint8_t *id; /* the record's (records live until the commit's end), or a rebuild's */
	uint8_t put, idlen;
	uint8_t val[DEADLINE_VALUE_SIZE];
};

#define NO_OP UINT32_MAX

/* The changes of one (due, unit), linked in the records' order. */
struct deadline_op_group {
	uint64_t prefix; /* the keys' first 8 bytes (due, unit) as a number */
	uint32_t first, last, n;
	int sorted;		/* their ids come in order: no sort needed */
	const uint8_t *last_id; /* the last change's id: kept here, not read back from ops->v */
	size_t last_idlen;
};

/* How many bytes a and b share from the start, of the first n: 8 compared at a time. */
static inline __attribute__((always_inline)) size_t common_prefix(const uint8_t *a,
								  const uint8_t *b, size_t n)
{
	size_t i = 0;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y) /* the lowest byte that differs is the first */
			return i + (size_t)__builtin_ctzll(x ^ y) / 8;
	}
#endif
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/*
 * Record ids in the index's order (LMDB's: bytes, then the shorter first). Ids are short: compared
 * here, 8 bytes at a time, not by a call.
 */
static inline __attribute__((always_inline)) int id_compare(const uint8_t *a, size_t alen,
							    const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen, i = common_prefix(a, b, n);
	if (i < n)
		return a[i] < b[i] ? -1 : 1;
	return (alen > blen) - (alen < blen);
}

static int op_id_compare(const struct deadline_op *x, const struct deadline_op *y)
{
	return id_compare(x->id, x->idlen, y->id, y->idlen);
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
	ops->groups[ops->ngroups] = (struct deadline_op_group){prefix, NO_OP, NO_OP, 0, 1, NULL, 0};
	ops->slots[i] = (uint32_t)ops->ngroups + 1;
	return (long)ops->ngroups++;
}

/* Room for one more change: the next slot, ops->v[ops->n], or NULL out of memory. */
static struct deadline_op *op_slot(struct deadline_ops *ops)
{
	if (ops->n == ops->cap) {
		size_t cap = ops->cap ? 2 * ops->cap : 256;
		struct deadline_op *v = realloc(ops->v, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		ops->v = v;
		ops->cap = cap;
	}
	return &ops->v[ops->n];
}

/* Takes the change filled in the next slot (its prefix and id, and its value if a put). */
static void op_take(struct deadline_ops *ops, int put)
{
	ops->v[ops->n++].put = (uint8_t)put;
}

/*
 * Groups the changes by (due, unit), each group's linked in the records' order (the order of
 * ops->v): when they are to be written to the groups and tails, not when they are logged. 0 or
 * XXGK_ENOMEM.
 */
static int group_ops(struct deadline_ops *ops)
{
	for (uint32_t i = 0; i < ops->n; i++) {
		struct deadline_op *op = &ops->v[i];
		long g = group_of(ops, prefix_of(op->prefix));
		if (g < 0)
			return XXGK_ENOMEM;
		struct deadline_op_group *grp = &ops->groups[g];
		op->next = NO_OP;
		op->seq = i;
		if (grp->n++ == 0)
			grp->first = i;
		else {
			/* a change to the same key as the one before stays after it: in order */
			if (grp->sorted &&
			    id_compare(grp->last_id, grp->last_idlen, op->id, op->idlen) > 0)
				grp->sorted = 0;
			ops->v[grp->last].next = i;
		}
		grp->last = i;
		grp->last_id = op->id;
		grp->last_idlen = op->idlen;
	}
	return 0;
}

static void op_entry(struct deadline_op *op, uint32_t due, uint32_t unit, const void *id,
		     size_t idlen)
{
	put32(op->prefix, due);
	put32(op->prefix + 4, unit);
	op->id = id;
	op->idlen = (uint8_t)idlen;
}

static int op_add(struct deadline_ops *ops, int put, uint32_t due, uint32_t unit, const void *id,
		  size_t idlen, const uint8_t *val)
{
	struct deadline_op *op = op_slot(ops);
	if (op == NULL)
		return XXGK_ENOMEM;
	op_entry(op, due, unit, id, idlen);
	if (put)
		memcpy(op->val, val, DEADLINE_VALUE_SIZE);
	op_take(ops, put);
	return 0;
}

int deadline_index_change(struct deadline_ops *ops, uint32_t unit, const Xxgk__V1__Record *old,
			  const struct record_facts *of, const Xxgk__V1__Record *r,
			  const struct record_facts *f)
{
	/* only applications have periods: other kinds cost nothing here */
	if (f->kind != RECORD_APPLICATION)
		return 0;
	size_t idlen = strlen(r->id);
	int had = old && open_application(old, idlen), has = open_application(r, idlen);
	if (!had && !has)
		return 0;
	if (ops->n_notes == ops->notes_cap) {
		size_t cap = ops->notes_cap ? 2 * ops->notes_cap : 256;
		struct deadline_note *v = realloc(ops->notes, cap * sizeof(*v));
		if (v == NULL)
			return XXGK_ENOMEM;
		ops->notes = v;
		ops->notes_cap = cap;
	}
	struct deadline_note *n = &ops->notes[ops->n_notes++];
	n->id = r->id;
	n->idlen = (uint8_t)idlen;
	n->unit = unit;
	n->had = (uint8_t)had;
	n->has = (uint8_t)has;
	if (had)
		n->old_days = of->app.days;
	if (has)
		n->days = f->app.days;
	return 0;
}

/*
 * entry_from, remembering the last events and their entry: the applications of a commit are
 * mostly received on one day, with nothing else that moves their periods.
 */
struct entry_memo {
	int has;
	struct deadline_events ev;
	uint32_t due;
	uint8_t val[DEADLINE_VALUE_SIZE];
};

static uint32_t entry_remembered(struct entry_memo *m, const struct calendar *cal,
				 const struct deadline_events *ev, uint8_t val[DEADLINE_VALUE_SIZE])
{
	if (!m->has || memcmp(&m->ev, ev, sizeof(*ev)) != 0) {
		m->has = 1;
		m->ev = *ev;
		m->due = entry_from(cal, ev, m->val);
	}
	memcpy(val, m->val, DEADLINE_VALUE_SIZE);
	return m->due;
}

/*
 * The entries of the records noted, computed together at the commit's end (one loop: its code
 * stays in the cache, rather than taking room in every record's) and added to ops as changes.
 */
static int changes_of_notes(struct deadline_ops *ops, const struct calendar *cal)
{
	struct entry_memo memo = {0};
	for (size_t i = 0; i < ops->n_notes; i++) {
		const struct deadline_note *n = &ops->notes[i];
		uint8_t oval[DEADLINE_VALUE_SIZE];
		uint32_t odue = 0, due;
		struct deadline_op *op;
		int rc = 0;
		if (n->had)
			odue = entry_remembered(&memo, cal, &n->old_days, oval);
		if (n->has) { /* the new entry straight into the next slot, taken if it changed */
			if ((op = op_slot(ops)) == NULL)
				return XXGK_ENOMEM;
			due = entry_remembered(&memo, cal, &n->days, op->val);
			if (n->had && odue == due && memcmp(oval, op->val, sizeof(oval)) == 0)
				continue;
			if (n->had) { /* the delete goes before it: the last change of a key stays
				       */
				uint8_t nval[DEADLINE_VALUE_SIZE];
				memcpy(nval, op->val, sizeof(nval));
				if ((rc = op_add(ops, 0, odue, n->unit, n->id, n->idlen, NULL)))
					return rc;
				rc = op_add(ops, 1, due, n->unit, n->id, n->idlen, nval);
			} else {
				op_entry(op, due, n->unit, n->id, n->idlen);
				op_take(ops, 1);
			}
		} else if (n->had) {
			rc = op_add(ops, 0, odue, n->unit, n->id, n->idlen, NULL);
		}
		if (rc)
			return rc;
	}
	ops->n_notes = 0;
	return 0;
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

/*
 * Of the changes to one key, the last (in the records' order) is what stays. op..end are of one
 * (due, unit), in key order.
 */
static int last_of_key(const struct deadline_op *const *op, const struct deadline_op *const *end)
{
	return op + 1 == end || op[1]->idlen != op[0]->idlen ||
	       memcmp(op[1]->id, op[0]->id, op[0]->idlen);
}

/*
 * ---- groups and tails: a (due, unit)'s entries, values of up to DEADLINE_GROUP_MAX bytes ----
 *
 * A group is kept under the key of its last entry, [due][unit][last id], so that the group that
 * holds an id, or would, is the first whose key is at or after it (one search). After the last
 * group come the entries of the (due, unit)'s tail, under [due][unit] in deadline_tails: a unit's
 * new applications, whose ids come after every other, are appended to it (its entries' sizes
 * walked, then copied as it is packed, not decoded), and once it is full it is put as a group and
 * a new tail begins. The tails of a day's units are next to one another: a commit of every
 * unit's new applications rewrites them in place, two or three to a page, not a page of groups a
 * unit. A value is its entries in id order, each
 *   [shared u8][suffix length u8][suffix][flags u8][received][suspended u16 BE][error year u16 BE]
 * its id the previous entry's first `shared` bytes followed by the suffix (at most the bytes
 * they share; a value's first entry shares none); received is u16 BE days before the due date in
 * a value of a day, u32 BE days otherwise (errors, suspended, or ENTRY_RECEIVED_FULL); suspended
 * and the error year are there only when flags say so. The state is the key's (a day: due;
 * DEADLINE_KEY_ERROR; DEADLINE_KEY_SUSPENDED). A tail's last entry shares nothing, and its size
 * is the tail's last byte: its id, after which new entries go, is found without decoding
 * the others. The ids of a unit's applications share most of their bytes, and the index is written
 * at every commit page by page: a smaller entry is fewer pages to write.
 */
#define ENTRY_EXTENDED 1
#define ENTRY_SUSPENDED 2
#define ENTRY_ERROR_YEAR 4
#define ENTRY_RECEIVED_FULL 8
#define ENTRY_MAX (3 + RECORD_ID_MAX + 4 + 2 + 2)
#define ENTRY_SLACK 9 /* past the end of an entry, entry_write may write (not count) 9 bytes */

struct entry {
	const uint8_t *id; /* valid until the next entry is read */
	size_t idlen;
	const uint8_t *raw; /* as it is packed, sharing `shared` bytes of the id before it */
	size_t rawlen, shared;
	uint32_t due; /* its group's */
};

/* Reads the entries of a group, or of a tail, in order. */
struct entry_reader {
	const uint8_t *p, *key_id;
	size_t size, off, key_idlen;
	uint32_t due;
	uint8_t id[RECORD_ID_MAX];
	size_t idlen;
	size_t count; /* entries read */
	int tail; /* a tail: its last entry shares nothing, and its size is the value's last byte */
	size_t last_off, last_shared; /* where the last entry read begins, what it shares */
};

/*
 * Whether k, v have the sizes of a group (a key of 9 to KEY_MAX bytes) or of a tail (a key of 8:
 * due, unit; the size of its last entry after them): 1 a group, 2 a tail, 0 neither.
 */
static int value_kind(const MDB_val *k, const MDB_val *v)
{
	if (k->mv_size == 8)
		return v->mv_size >= 2 && v->mv_size <= DEADLINE_TAIL_MAX ? 2 : 0;
	return k->mv_size > 8 && k->mv_size <= KEY_MAX && v->mv_size > 0 &&
	       v->mv_size <= DEADLINE_GROUP_MAX;
}

/* k, v must be of value_kind's sizes. */
static void reader_init(struct entry_reader *r, const MDB_val *k, const MDB_val *v)
{
	r->p = v->mv_data;
	r->tail = k->mv_size == 8;
	r->size = v->mv_size - (r->tail ? 1 : 0);
	r->off = 0;
	r->due = get32(k->mv_data);
	r->key_id = (const uint8_t *)k->mv_data + 8;
	r->key_idlen = k->mv_size - 8;
	r->idlen = 0;
	r->count = 0;
	r->last_off = r->last_shared = 0;
}

static int dated(uint32_t due)
{
	return due != DEADLINE_KEY_ERROR && due != DEADLINE_KEY_SUSPENDED;
}

/* The size of the packed entry at p, of at most left bytes; 0 when it does not fit. */
static size_t entry_size(const uint8_t *p, size_t left, uint32_t due)
{
	if (left < 3)
		return 0;
	size_t suffix = p[1];
	if (suffix == 0 || left < 3 + suffix)
		return 0;
	unsigned flags = p[2 + suffix];
	int full = !dated(due) || (flags & ENTRY_RECEIVED_FULL);
	size_t need = 3 + suffix + (full ? 4 : 2) + (flags & ENTRY_SUSPENDED ? 2 : 0) +
		      (flags & ENTRY_ERROR_YEAR ? 2 : 0);
	return (flags & ~15u) || left < need ? 0 : need;
}

/*
 * The next entry: 1, 0 at the end, -1 damaged (sizes, an id not after the one before it or with
 * a NUL in it, a group's last id not its key's, a tail's last entry not whole, no entry).
 */
static int entry_next(struct entry_reader *r, struct entry *e)
{
	if (r->off >= r->size) {
		if (r->count == 0)
			return -1;
		if (r->tail)
			return r->last_shared == 0 && r->size - r->last_off == r->p[r->size] ? 0
											     : -1;
		return id_compare(r->id, r->idlen, r->key_id, r->key_idlen) == 0 ? 0 : -1;
	}
	const uint8_t *p = r->p + r->off;
	size_t shared = p[0], need = entry_size(p, r->size - r->off, r->due), suffix;
	if (need == 0 || shared > r->idlen || shared + (suffix = p[1]) > RECORD_ID_MAX)
		return -1;
	/*
	 * After the one before: the first byte they differ in is greater, or it is longer. It may
	 * share fewer bytes than they have in common (a tail's last entry, written whole, stays
	 * so).
	 */
	size_t rest = r->idlen - shared; /* of the one before, after the bytes shared */
	int c = 0;
	for (size_t i = 0; i < suffix; i++) { /* a few bytes: no call */
		uint8_t b = p[2 + i];
		if (b == 0)
			return -1; /* no record's id has a NUL: read as a C string, it would be cut
				    */
		if (c == 0 && i < rest)
			c = (int)b - (int)r->id[shared + i];
		r->id[shared + i] = b;
	}
	if (c < 0 || (c == 0 && suffix <= rest))
		return -1;
	r->last_off = r->off;
	r->last_shared = shared;
	r->idlen = shared + suffix;
	e->id = r->id;
	e->idlen = r->idlen;
	e->raw = p;
	e->rawlen = need;
	e->shared = shared;
	e->due = r->due;
	r->off += need;
	r->count++;
	return 1;
}

/* The value of entry e (read by entry_next, which checked its size). */
static void entry_value(const struct entry *e, uint8_t val[DEADLINE_VALUE_SIZE])
{
	size_t suffix = e->raw[1];
	unsigned flags = e->raw[2 + suffix];
	const uint8_t *q = e->raw + 3 + suffix;
	int full = !dated(e->due) || (flags & ENTRY_RECEIVED_FULL);
	uint32_t received = full ? get32(q) : e->due - (uint32_t)(q[0] << 8 | q[1]);
	q += full ? 4 : 2;
	unsigned suspended = 0, error_year = 0;
	if (flags & ENTRY_SUSPENDED) {
		suspended = (unsigned)(q[0] << 8 | q[1]);
		q += 2;
	}
	if (flags & ENTRY_ERROR_YEAR)
		error_year = (unsigned)(q[0] << 8 | q[1]);
	put32(val, received);
	val[4] = (uint8_t)(e->due == DEADLINE_KEY_ERROR	      ? DEADLINE_ERROR
			   : e->due == DEADLINE_KEY_SUSPENDED ? DEADLINE_SUSPENDED
							      : DEADLINE_DUE);
	val[5] = (uint8_t)(flags & ENTRY_EXTENDED);
	val[6] = (uint8_t)(error_year >> 8);
	val[7] = (uint8_t)error_year;
	val[8] = (uint8_t)(suspended >> 8);
	val[9] = (uint8_t)suspended;
}

/* Walks a group or a tail: 1 well-formed (r then holds its count), else 0. */
static int group_walk(const MDB_val *k, const MDB_val *v, struct entry_reader *r)
{
	struct entry e;
	int rc;
	if (!value_kind(k, v))
		return 0;
	reader_init(r, k, v);
	while ((rc = entry_next(r, &e)) == 1)
		;
	return rc == 0;
}

int deadline_group_valid(const MDB_val *k, const MDB_val *v)
{
	struct entry_reader r;
	return k->mv_size > 8 && group_walk(k, v, &r);
}

int deadline_tail_valid(const MDB_val *k, const MDB_val *v)
{
	struct entry_reader r;
	return k->mv_size == 8 && group_walk(k, v, &r);
}

/*
 * Whether the entries of the tail v follow one another by their sizes to its end, the last one
 * beginning where the tail's last byte says (each sharing no more than the id before it has):
 * a few bytes read an entry, not its id decoded.
 */
static int tail_sizes_end(const MDB_val *v, uint32_t due)
{
	/* the bytes after an entry's flags, by its flags: entry_size's sum, looked up */
	static const uint8_t after[2][16] = {
	    {4, 4, 6, 6, 6, 6, 8, 8, 4, 4, 6, 6, 6, 6, 8, 8}, /* not a day: received in full */
	    {2, 2, 4, 4, 4, 4, 6, 6, 4, 4, 6, 6, 6, 6, 8, 8}};
	const uint8_t *p = v->mv_data, *row = after[dated(due)];
	size_t size = v->mv_size - 1, off = 0, at = 0, idlen = 0; /* value_kind: 2 bytes or more */
	while (size - off >= 3) { /* fewer bytes left than an entry's least: not at the end */
		const uint8_t *e = p + off;
		size_t suffix = e[1], end = off + 3 + suffix;
		if (suffix == 0 || e[0] > idlen || end > size || p[end - 1] > 15 ||
		    (end += row[p[end - 1]]) > size)
			return 0;
		idlen = (size_t)e[0] + suffix;
		at = off;
		off = end;
	}
	return off == size && size - at == p[size];
}

/*
 * A tail's last id, read alone (it shares nothing; its size is the value's last byte): 1, or 0
 * damaged. Only where the size says it begins: whether the entries before it end there is the
 * walk's to say (apply_to_tail walks a tail before appending to it).
 */
static int tail_last(const MDB_val *v, uint32_t due, const uint8_t **id, size_t *idlen)
{
	const uint8_t *p = v->mv_data;
	size_t size = v->mv_size - 1, last = p[size]; /* value_kind: at least 2 bytes */
	if (last > size || last < 3)
		return 0;
	const uint8_t *e = p + size - last;
	if (e[0] != 0 || e[1] > RECORD_ID_MAX || entry_size(e, last, due) != last ||
	    memchr(e + 2, 0, e[1]) != NULL)
		return 0;
	*id = e + 2;
	*idlen = e[1];
	return 1;
}

/* The first id of a group's value (its first entry shares nothing): 1, or 0 damaged. */
static int first_id(const MDB_val *v, const uint8_t **id, size_t *idlen)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size < 3 || p[0] != 0 || p[1] == 0 || v->mv_size < 2u + p[1])
		return 0;
	*id = p + 2;
	*idlen = p[1];
	return 1;
}

int deadline_group_follows(const MDB_val *pk, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *id;
	size_t idlen;
	if (pk->mv_size < 8 || k->mv_size < 8 || memcmp(pk->mv_data, k->mv_data, 8) != 0)
		return 1; /* another (due, unit) */
	return first_id(v, &id, &idlen) &&
	       id_compare((const uint8_t *)pk->mv_data + 8, pk->mv_size - 8, id, idlen) < 0;
}

/* Of key k: 1, 0 not, XXGK_ECORRUPT of it but of a size no group's key has (of_prefix). */
static int of_prefix(const MDB_val *k, const uint8_t prefix[8]);

/*
 * The last group of prefix in groups, on cur: 1 (k, v set), 0 none, or an LMDB code or
 * XXGK_ECORRUPT.
 */
static int last_group(MDB_cursor *cur, const uint8_t prefix[8], MDB_val *k, MDB_val *v)
{
	uint8_t next[8];
	uint64_t p = (uint64_t)get32(prefix) << 32 | get32(prefix + 4);
	put32(next, (uint32_t)((p + 1) >> 32));
	put32(next + 4, (uint32_t)(p + 1));
	*k = (MDB_val){sizeof(next), next};
	/* the key before the next prefix's first (the last key, after the last prefix) */
	int rc = p == UINT64_MAX ? MDB_NOTFOUND : mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	rc = mdb_cursor_get(cur, k, v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	return of_prefix(k, prefix);
}

int deadline_tail_follows(MDB_txn *txn, MDB_dbi groups, const MDB_val *k, const MDB_val *v)
{
	MDB_cursor *cur;
	MDB_val gk, gv;
	const uint8_t *id;
	size_t idlen;
	int rc = mdb_cursor_open(txn, groups, &cur);
	if (rc)
		return rc;
	rc = k->mv_size == 8 ? last_group(cur, k->mv_data, &gk, &gv) : XXGK_ECORRUPT;
	if (rc == 1)
		rc = first_id(v, &id, &idlen) &&
		     id_compare((const uint8_t *)gk.mv_data + 8, gk.mv_size - 8, id, idlen) < 0;
	else if (rc == 0)
		rc = 1; /* no group before it */
	mdb_cursor_close(cur);
	return rc;
}

/*
 * Writes entries after one another, each sharing what it can of the id before it. The bytes after
 * an id depend on the value alone (and the due date): those of the last value are kept, for a
 * commit's new applications mostly have one value (received on one day, nothing suspended).
 */
struct entry_writer {
	uint8_t *out;
	uint32_t due;
	uint8_t prev[RECORD_ID_MAX];
	size_t prevlen;
	uint8_t after_val[DEADLINE_VALUE_SIZE]; /* the value of after[]; after_len 0: none yet */
	uint8_t after[9], after_len;
};

/* The bytes of an entry after its id, for val in a value of due: into after, their count. */
static size_t entry_after(uint32_t due, const uint8_t val[DEADLINE_VALUE_SIZE], uint8_t after[9])
{
	uint32_t received = get32(val);
	int full = !dated(due) || received > due || due - received > 0xffff;
	int suspended = val[8] || val[9], error_year = val[6] || val[7];
	uint8_t *o = after;
	*o++ = (uint8_t)((val[5] ? ENTRY_EXTENDED : 0) | (suspended ? ENTRY_SUSPENDED : 0) |
			 (error_year ? ENTRY_ERROR_YEAR : 0) |
			 (full && dated(due) ? ENTRY_RECEIVED_FULL : 0));
	if (full) {
		memcpy(o, val, 4);
		o += 4;
	} else {
		uint32_t before = due - received;
		*o++ = (uint8_t)(before >> 8);
		*o++ = (uint8_t)before;
	}
	if (suspended) {
		*o++ = val[8];
		*o++ = val[9];
	}
	if (error_year) {
		*o++ = val[6];
		*o++ = val[7];
	}
	return (size_t)(o - after);
}

/*
 * Writes the entry (id, val) after the id before it, sharing shared bytes of it, if it fits in
 * room bytes: its size, or 0 (nothing written) when it does not fit.
 */
static inline size_t entry_write(struct entry_writer *w, const uint8_t *id, size_t idlen,
				 const uint8_t val[DEADLINE_VALUE_SIZE], size_t shared, size_t room)
{
	if (w->after_len == 0 || memcmp(w->after_val, val, DEADLINE_VALUE_SIZE) != 0) {
		memcpy(w->after_val, val, DEADLINE_VALUE_SIZE);
		w->after_len = (uint8_t)entry_after(w->due, val, w->after);
	}
	size_t suffix = idlen - shared, size = 2 + suffix + w->after_len;
	if (size > room)
		return 0;
	uint8_t *o = w->out;
	*o++ = (uint8_t)shared;
	*o++ = (uint8_t)suffix;
	for (size_t i = 0; i < suffix; i++) { /* a few bytes: no call */
		o[i] = id[shared + i];
		w->prev[shared + i] = id[shared + i];
	}
	o += suffix;
	memcpy(o, w->after, sizeof(w->after)); /* whole: the buffer has room (ENTRY_SLACK) */
	w->out = o + w->after_len;
	w->prevlen = idlen;
	return size;
}

/*
 * Builds the groups of one (due, unit) from entries given in id order, each put under the key of
 * its last entry once the next would not fit (at most DEADLINE_GROUP_MAX bytes); the value
 * stored under key old (NULL: none) is replaced. With tails, the last is put as the tail of the
 * (due, unit), replacing the one it had (had_tail), or that is deleted if none is left.
 */
struct group_builder {
	MDB_cursor *cur;
	const uint8_t *prefix; /* 8 bytes: due, unit */
	const MDB_val *old;
	int kept; /* a put under old's key replaced it */
	uint8_t *buf;
	struct entry_writer w;
	int rc;
	MDB_cursor *tails; /* NULL: groups only */
	int had_tail;
	size_t last; /* where the last entry written begins in buf */
};

/* Puts the group built so far, under its last id (the writer's). */
static void builder_put(struct group_builder *g)
{
	uint8_t key[KEY_MAX];
	memcpy(key, g->prefix, 8);
	memcpy(key + 8, g->w.prev, g->w.prevlen);
	MDB_val k = {8 + g->w.prevlen, key}, v = {(size_t)(g->w.out - g->buf), g->buf};
	if (g->old && k.mv_size == g->old->mv_size && memcmp(key, g->old->mv_data, k.mv_size) == 0)
		g->kept = 1;
	if (g->rc == 0)
		g->rc = mdb_cursor_put(g->cur, &k, &v, 0);
	g->w.out = g->buf;
	g->w.prevlen = 0; /* the next group's first entry shares nothing */
}

/* Puts the group built so far as the tail, its last entry written whole, its size after it. */
static void builder_put_tail(struct group_builder *g)
{
	uint8_t *e = g->buf + g->last;
	if (e[0] != 0) { /* it shares bytes of the one before: written again, whole */
		struct entry x = {.raw = e, .due = g->w.due};
		uint8_t val[DEADLINE_VALUE_SIZE], id[RECORD_ID_MAX];
		size_t idlen = g->w.prevlen;
		entry_value(&x, val);
		memcpy(id, g->w.prev, idlen);
		g->w.out = e;
		entry_write(&g->w, id, idlen, val, 0, ENTRY_MAX);
	}
	*g->w.out = (uint8_t)(g->w.out - e);
	g->w.out++;
	MDB_val k = {8, (void *)g->prefix}, v = {(size_t)(g->w.out - g->buf), g->buf};
	/* the cursor is on the tail it had (apply_to_tail): replaced there, not searched for */
	if (g->rc == 0)
		g->rc = mdb_cursor_put(g->tails, &k, &v, g->had_tail ? MDB_CURRENT : 0);
}

static void builder_add(struct group_builder *g, const uint8_t *id, size_t idlen,
			const uint8_t val[DEADLINE_VALUE_SIZE])
{
	size_t used = (size_t)(g->w.out - g->buf),
	       room = used < DEADLINE_GROUP_MAX ? DEADLINE_GROUP_MAX - used : 0;
	size_t shared = common_prefix(id, g->w.prev, idlen < g->w.prevlen ? idlen : g->w.prevlen);
	g->last = used;
	if (entry_write(&g->w, id, idlen, val, shared, room))
		return;
	/* full: put, and a new group begins with this entry (sharing nothing) */
	builder_put(g);
	g->last = 0;
	entry_write(&g->w, id, idlen, val, 0, ENTRY_MAX);
}

/*
 * Adds an entry of the group being replaced; follows: the entry added before it was the one
 * before it there, so that it is copied as it is packed (unless it begins a group).
 */
static void builder_add_old(struct group_builder *g, const struct entry *e, int follows)
{
	size_t before = (size_t)(g->w.out - g->buf);
	if (!follows || before == 0 || before + e->rawlen > DEADLINE_GROUP_MAX) {
		uint8_t val[DEADLINE_VALUE_SIZE];
		entry_value(e, val);
		builder_add(g, e->id, e->idlen, val);
		return;
	}
	g->last = before;
	memcpy(g->w.out, e->raw, e->rawlen);
	g->w.out += e->rawlen;
	memcpy(g->w.prev + e->shared, e->id + e->shared, e->idlen - e->shared);
	g->w.prevlen = e->idlen;
}

static int builder_finish(struct group_builder *g)
{
	if (g->tails) {
		MDB_val k = {8, (void *)g->prefix}, v;
		if (g->w.out > g->buf)
			builder_put_tail(g);
		else if (g->rc == 0 && g->had_tail &&
			 (g->rc = mdb_cursor_get(g->tails, &k, &v, MDB_SET)) == 0)
			g->rc = mdb_cursor_del(g->tails, 0); /* every entry of it gone */
		return g->rc;
	}
	if (g->w.out > g->buf)
		builder_put(g);
	if (g->rc == 0 && g->old && !g->kept) {
		MDB_val k = *g->old, v;
		if ((g->rc = mdb_cursor_get(g->cur, &k, &v, MDB_SET)) == 0)
			g->rc = mdb_cursor_del(g->cur, 0);
	}
	return g->rc;
}

/* Room for n bytes in *buf. */
static int reserve(uint8_t **buf, size_t *cap, size_t n)
{
	if (n <= *cap)
		return 0;
	uint8_t *b = realloc(*buf, n);
	if (b == NULL)
		return XXGK_ENOMEM;
	*buf = b;
	*cap = n;
	return 0;
}

/*
 * Whether key k is of the (due, unit) prefix: 1, 0 not, XXGK_ECORRUPT of it but of a size no
 * group's key has (damage: copied into a key-sized buffer it would overrun it).
 */
static int of_prefix(const MDB_val *k, const uint8_t prefix[8])
{
	if (k->mv_size < 8 || memcmp(k->mv_data, prefix, 8) != 0)
		return 0;
	return k->mv_size > 8 && k->mv_size <= KEY_MAX ? 1 : XXGK_ECORRUPT;
}

/*
 * Writes the group old (key okey; a copy) with the changes [op, end) made, all of ids up to its
 * last, as groups of prefix; or, tails given, the tail old (key prefix) with the changes
 * [op, end), all after every group of prefix, as groups and its tail.
 */
static int merge(MDB_cursor *cur, MDB_cursor *tails, struct deadline_ops *ops,
		 const uint8_t *prefix, const MDB_val *okey, const MDB_val *old,
		 const struct deadline_op *const *op, const struct deadline_op *const *end)
{
	struct group_builder g = {
	    cur, prefix, tails ? NULL : okey, 0, ops->buf, {ops->buf, get32(prefix), {0}, 0},
	    0,	 tails,	 tails != NULL,	      0};
	struct entry_reader r;
	struct entry e;
	reader_init(&r, okey, old);
	int has = entry_next(&r, &e), follows = 0; /* the last entry added was e's predecessor */
	if (has != 1)
		return XXGK_ECORRUPT;
	while (has == 1 || op < end) {
		if (op < end && !last_of_key(op, end)) {
			op++;
			continue;
		}
		int c = has != 1    ? 1
			: op == end ? -1
				    : id_compare(e.id, e.idlen, (*op)->id, (*op)->idlen);
		if (c < 0) /* kept */
			builder_add_old(&g, &e, follows);
		follows = c < 0;
		if (c <= 0)
			has = entry_next(&r, &e);
		if (c >= 0) {
			if ((*op)->put) /* added, or replacing the entry it equals */
				builder_add(&g, (*op)->id, (*op)->idlen, (*op)->val);
			op++;
		}
	}
	/* damaged: the commit fails, whatever was written of it */
	return has < 0 ? XXGK_ECORRUPT : builder_finish(&g);
}

/*
 * Copies the group or tail k, v into found and ops->old (a write moves the pages they are on),
 * as okey and old. 0, or XXGK_ECORRUPT for a value of a size no group or tail has.
 */
static int take_group(struct deadline_ops *ops, const MDB_val *k, const MDB_val *v,
		      uint8_t found[KEY_MAX], MDB_val *okey, MDB_val *old)
{
	if (!value_kind(k, v))
		return XXGK_ECORRUPT;
	memcpy(found, k->mv_data, k->mv_size);
	*okey = (MDB_val){k->mv_size, found};
	memcpy(ops->old, v->mv_data, v->mv_size);
	*old = (MDB_val){v->mv_size, ops->old};
	return 0;
}

/*
 * The changes [op, end) of prefix, all after every entry of its groups, made to its tail. New
 * applications, whose ids come after every other, are appended: the tail walked, then copied as
 * it is packed, not rebuilt (its last is whole), and put as a group once full. A change before its
 * last entry, or a tail over the size of a group (its last entry written whole), and it is read
 * and written again (merge).
 */
static int apply_to_tail(MDB_cursor *cur, MDB_cursor *tails, struct deadline_ops *ops,
			 const uint8_t *prefix, const MDB_val *group,
			 const struct deadline_op *const *op, const struct deadline_op *const *end)
{
	struct group_builder g = {cur, prefix, NULL, 0, ops->buf, {ops->buf, get32(prefix), {0}, 0},
				  0,   tails,  0,    0};
	uint8_t found[KEY_MAX];
	MDB_val k = {8, (void *)prefix}, v, okey, old;
	const uint8_t *last = NULL;
	size_t lastlen = 0;
	int rc = mdb_cursor_get(tails, &k, &v, MDB_SET);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0) {
		const uint8_t *first;
		size_t firstlen;
		if ((rc = take_group(ops, &k, &v, found, &okey, &old)) || okey.mv_size != 8)
			return rc ? rc : XXGK_ECORRUPT;
		/* its last entry whole, its first after the last group's (else they overlap) */
		if (!tail_last(&old, g.w.due, &last, &lastlen) ||
		    !first_id(&old, &first, &firstlen) ||
		    (group && id_compare((const uint8_t *)group->mv_data + 8, group->mv_size - 8,
					 first, firstlen) >= 0))
			return XXGK_ECORRUPT;
		if (old.mv_size - 1 > DEADLINE_GROUP_MAX ||
		    id_compare((*op)->id, (*op)->idlen, last, lastlen) <= 0)
			return merge(cur, tails, ops, prefix, &okey, &old, op, end);
		/* after its last entry: copied, and the new ones packed after it */
		g.had_tail = 1;
	}
	int added = 0;
	for (const struct deadline_op *const *o = op; o < end && !added; o++)
		added = last_of_key(o, end) && (*o)->put; /* a delete of what is not there: none */
	if (!added)
		return 0;
	if (g.had_tail) {
		/*
		 * Its entries' sizes walked first: a size that points into an entry, or a last
		 * entry cut short, would let tail_last read an id where the walk reads none, and
		 * the bytes appended could complete what the walk refused (a damaged tail made to
		 * look sound, its new ids wrong). Sizes are enough: the new entries share bytes of
		 * the last id only, which they are read after, and damage before it stays where a
		 * walk finds it.
		 */
		if (!tail_sizes_end(&old, g.w.due))
			return XXGK_ECORRUPT;
		size_t size = old.mv_size - 1;
		memcpy(g.buf, old.mv_data, size);
		g.w.out = g.buf + size;
		g.last = size - ((const uint8_t *)old.mv_data)[size];
		memcpy(g.w.prev, last, lastlen);
		g.w.prevlen = lastlen;
	}
	for (; op < end; op++)
		if (last_of_key(op, end) && (*op)->put)
			builder_add(&g, (*op)->id, (*op)->idlen, (*op)->val);
	return builder_finish(&g);
}

/*
 * Applies the changes from *op on (of one prefix, in key order, up to end) to the group that
 * holds the first's id, or would: the first of the prefix whose key is at or after it, with the
 * changes up to its key; past the last, the rest go to the tail. *op is moved past those
 * applied.
 */
static int apply_changes(MDB_cursor *cur, MDB_cursor *tails, struct deadline_ops *ops,
			 const struct deadline_op *const **op, const struct deadline_op *const *end)
{
	const struct deadline_op *from = **op;
	uint8_t found[KEY_MAX];
	uint8_t key[KEY_MAX];
	memcpy(key, from->prefix, 8);
	memcpy(key + 8, from->id, from->idlen);
	MDB_val k = {8u + from->idlen, key}, v, okey = {0, NULL}, old = {0, ops->old};
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE), in = 0;
	if (rc == 0 && (in = of_prefix(&k, from->prefix)) < 0)
		return in;
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	if (rc == MDB_NOTFOUND || !in) { /* after every group of the prefix: to its tail */
		rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
		if (rc == 0 && (in = of_prefix(&k, from->prefix)) < 0)
			return in;
		if (rc && rc != MDB_NOTFOUND)
			return rc;
		rc = apply_to_tail(cur, tails, ops, from->prefix, rc == 0 && in ? &k : NULL, *op,
				   end);
		*op = end;
		return rc;
	}
	/* the group that holds it, or would: the changes up to its last id go into it */
	if ((rc = take_group(ops, &k, &v, found, &okey, &old)))
		return rc;
	/* the next group of the prefix must begin after it (else they overlap: damage) */
	const uint8_t *nid;
	size_t nlen;
	if ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0 &&
	    (in = of_prefix(&k, from->prefix)) != 0 &&
	    (in < 0 || !first_id(&v, &nid, &nlen) ||
	     id_compare(found + 8, okey.mv_size - 8, nid, nlen) >= 0))
		return XXGK_ECORRUPT;
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	const struct deadline_op *const *last = *op;
	while (last < end &&
	       id_compare((*last)->id, (*last)->idlen, found + 8, okey.mv_size - 8) <= 0)
		last++;
	rc = merge(cur, NULL, ops, from->prefix, &okey, &old, *op, last);
	*op = last;
	return rc;
}

/*
 * Sorts ops->order[0..n) by op_ptr_compare, merging the runs already in order: the changes of a
 * (due, unit) come as several pushes' runs of ids (one per push, interleaved by the commit), so
 * a few merges, not a sort from nothing.
 */
static int sort_runs(struct deadline_ops *ops, size_t n)
{
	const struct deadline_op **a = ops->order, **b;
	if (n > ops->spare_cap) {
		const struct deadline_op **s = realloc(ops->spare, ops->order_cap * sizeof(*s));
		if (s == NULL)
			return XXGK_ENOMEM;
		ops->spare = s;
		ops->spare_cap = ops->order_cap;
	}
	b = ops->spare;
	for (;;) {
		/* one pass: each two runs next to each other merged into one, a into b */
		size_t runs = 0, i = 0;
		while (i < n) {
			size_t mid = i + 1, hi;
			while (mid < n && op_ptr_compare(&a[mid - 1], &a[mid]) <= 0)
				mid++;
			hi = mid;
			if (hi < n)
				for (hi++; hi < n && op_ptr_compare(&a[hi - 1], &a[hi]) <= 0; hi++)
					;
			for (size_t x = i, y = mid, o = i; o < hi; o++)
				b[o] = y >= hi || (x < mid && op_ptr_compare(&a[x], &a[y]) <= 0)
					   ? a[x++]
					   : a[y++];
			runs++;
			i = hi;
		}
		const struct deadline_op **t = a;
		a = b;
		b = t;
		if (runs <= 1)
			break;
	}
	if (a != ops->order) { /* the result is in the spare: the two trade places */
		ops->spare = ops->order;
		ops->order = a;
		size_t cap = ops->spare_cap;
		ops->spare_cap = ops->order_cap;
		ops->order_cap = cap;
	}
	return 0;
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
	return g->sorted ? 0 : sort_runs(ops, n);
}

/*
 * ---- the log: a commit's changes, merged into the groups and tails every few commits ----
 *
 * A value of the log is one commit's changes in the records' order, each
 *   [flags u8][due u32 BE][unit u32 BE][value][shared u8][suffix length u8][suffix]
 * the due date, unit and value (DEADLINE_VALUE_SIZE bytes) there only when flags say they
 * change (the first change gives its due date and unit; a put, its value before or with it), its
 * id the previous change's first `shared` bytes followed by the suffix. A commit of every unit's
 * new applications is then one value written once, a few pages, where its changes made to the
 * tails would rewrite every unit's; the merge makes them there at once for several commits.
 */
#define LOG_PUT 1
#define LOG_DUE 2
#define LOG_UNIT 4
#define LOG_VALUE 8
#define LOG_CHANGE_MAX (1 + 4 + 4 + DEADLINE_VALUE_SIZE + 2 + RECORD_ID_MAX)

/* Whether val is a value an entry due on due may have: its state the due key's, extended 0 or 1. */
static int value_fits(uint32_t due, const uint8_t val[DEADLINE_VALUE_SIZE])
{
	unsigned state = due == DEADLINE_KEY_ERROR	 ? DEADLINE_ERROR
			 : due == DEADLINE_KEY_SUSPENDED ? DEADLINE_SUSPENDED
							 : DEADLINE_DUE;
	return val[4] == state && val[5] <= 1;
}

/* Reads the changes of a value of the log, in order. */
struct log_reader {
	const uint8_t *p, *end;
	uint32_t due, unit;
	int put, has_value;
	uint8_t val[DEADLINE_VALUE_SIZE];
	uint8_t id[RECORD_ID_MAX];
	size_t idlen, count;
};

static void log_reader_init(struct log_reader *r, const MDB_val *v)
{
	r->p = v->mv_data;
	r->end = r->p + v->mv_size;
	r->due = r->unit = 0;
	r->put = r->has_value = 0;
	r->idlen = r->count = 0;
}

/*
 * The next change: 1, 0 at the end, -1 damaged (sizes, flags, a first change without its due
 * date and unit, a put without a value or with one its due date's state denies, an empty id or
 * one with a NUL, no change).
 */
static int log_next(struct log_reader *r)
{
	if (r->p == r->end)
		return r->count ? 0 : -1;
	unsigned flags = *r->p++;
	size_t need = (flags & LOG_DUE ? 4u : 0u) + (flags & LOG_UNIT ? 4u : 0u) +
		      (flags & LOG_VALUE ? DEADLINE_VALUE_SIZE : 0u) + 2;
	if ((flags & ~15u) ||
	    (r->count == 0 && (flags & (LOG_DUE | LOG_UNIT)) != (LOG_DUE | LOG_UNIT)) ||
	    (size_t)(r->end - r->p) < need)
		return -1;
	if (flags & LOG_DUE) {
		r->due = get32(r->p);
		r->p += 4;
	}
	if (flags & LOG_UNIT) {
		r->unit = get32(r->p);
		r->p += 4;
	}
	if (flags & LOG_VALUE) {
		memcpy(r->val, r->p, DEADLINE_VALUE_SIZE);
		r->p += DEADLINE_VALUE_SIZE;
		r->has_value = 1;
	}
	size_t shared = r->p[0], suffix = r->p[1];
	r->p += 2;
	if (shared > r->idlen || shared + suffix == 0 || shared + suffix > RECORD_ID_MAX ||
	    (size_t)(r->end - r->p) < suffix || memchr(r->p, 0, suffix) != NULL)
		return -1;
	memcpy(r->id + shared, r->p, suffix);
	r->p += suffix;
	r->idlen = shared + suffix;
	r->put = flags & LOG_PUT;
	if (r->put && (!r->has_value || !value_fits(r->due, r->val)))
		return -1;
	r->count++;
	return 1;
}

int deadline_log_valid(const MDB_val *k, const MDB_val *v)
{
	struct log_reader r;
	int rc;
	if (k->mv_size != 4)
		return 0;
	log_reader_init(&r, v);
	while ((rc = log_next(&r)) == 1)
		;
	return rc == 0;
}

/* The commit's changes as a value of the log, into ops->log: its size, or 0 out of memory. */
static size_t log_encode(struct deadline_ops *ops)
{
	uint8_t prev[RECORD_ID_MAX];
	const uint8_t *val = NULL;
	uint32_t due = 0, unit = 0;
	size_t prevlen = 0;
	if (reserve(&ops->log, &ops->log_cap, ops->n * LOG_CHANGE_MAX))
		return 0;
	uint8_t *o = ops->log;
	for (size_t i = 0; i < ops->n; i++) {
		const struct deadline_op *op = &ops->v[i];
		uint32_t d = get32(op->prefix), u = get32(op->prefix + 4);
		unsigned flags =
		    (op->put ? LOG_PUT : 0u) | (i == 0 || d != due ? LOG_DUE : 0u) |
		    (i == 0 || u != unit ? LOG_UNIT : 0u) |
		    (op->put && (val == NULL || memcmp(val, op->val, DEADLINE_VALUE_SIZE) != 0)
			 ? LOG_VALUE
			 : 0u);
		*o++ = (uint8_t)flags;
		if (flags & LOG_DUE) {
			put32(o, due = d);
			o += 4;
		}
		if (flags & LOG_UNIT) {
			put32(o, unit = u);
			o += 4;
		}
		if (flags & LOG_VALUE) {
			memcpy(o, val = op->val, DEADLINE_VALUE_SIZE);
			o += DEADLINE_VALUE_SIZE;
		}
		size_t shared =
			   common_prefix(op->id, prev, op->idlen < prevlen ? op->idlen : prevlen),
		       suffix = op->idlen - shared;
		*o++ = (uint8_t)shared;
		*o++ = (uint8_t)suffix;
		memcpy(o, op->id + shared, suffix);
		memcpy(prev + shared, op->id + shared, suffix);
		o += suffix;
		prevlen = op->idlen;
	}
	return (size_t)(o - ops->log);
}

/*
 * The log's changes (lc on it) into ops before the commit's own, which came after them: its
 * values decoded in order, their ids copied into ops->log, and the commit's changes after them.
 * 0, XXGK_ECORRUPT, XXGK_ENOMEM or an LMDB code.
 */
static int log_take(MDB_cursor *lc, struct deadline_ops *ops)
{
	size_t n = ops->n, used = 0;
	MDB_val k, v;
	int rc;
	if (n > ops->mine_cap) {
		struct deadline_op *m = realloc(ops->mine, n * sizeof(*m));
		if (m == NULL)
			return XXGK_ENOMEM;
		ops->mine = m;
		ops->mine_cap = n;
	}
	if (n)
		memcpy(ops->mine, ops->v, n * sizeof(*ops->v));
	ops->n = 0;
	for (rc = mdb_cursor_get(lc, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(lc, &k, &v, MDB_NEXT)) {
		struct log_reader r;
		int has;
		if (k.mv_size != 4)
			return XXGK_ECORRUPT;
		log_reader_init(&r, &v);
		while ((has = log_next(&r)) == 1) {
			struct deadline_op *op = op_slot(ops);
			if (op == NULL ||
			    (used + r.idlen > ops->log_cap &&
			     reserve(&ops->log, &ops->log_cap, 2 * ops->log_cap + RECORD_ID_MAX)))
				return XXGK_ENOMEM;
			memcpy(ops->log + used, r.id, r.idlen);
			/* where its id is, until ops->log stops moving */
			op_entry(op, r.due, r.unit, NULL, r.idlen);
			op->seq = (uint32_t)used;
			used += r.idlen;
			if (r.put)
				memcpy(op->val, r.val, DEADLINE_VALUE_SIZE);
			op_take(ops, r.put);
		}
		if (has < 0)
			return XXGK_ECORRUPT;
	}
	if (rc != MDB_NOTFOUND)
		return rc;
	for (size_t i = 0; i < ops->n; i++)
		ops->v[i].id = ops->log + ops->v[i].seq;
	for (size_t i = 0; i < n; i++) {
		struct deadline_op *op = op_slot(ops);
		if (op == NULL)
			return XXGK_ENOMEM;
		*op = ops->mine[i];
		op_take(ops, op->put);
	}
	return 0;
}

/*
 * Logs the commit's changes (*logged 1); or, when the log is full, the commit large or merge
 * asked for, takes the log's changes into ops before them, to be written with them, and empties
 * the log. 0, XXGK_ECORRUPT, XXGK_ENOMEM or an LMDB code.
 */
static int log_or_merge(MDB_txn *txn, const struct deadline_dbs *db, struct deadline_ops *ops,
			int merge, int *logged)
{
	MDB_cursor *lc;
	MDB_val k, v;
	size_t values = 0, bytes = 0;
	uint32_t next = 0;
	int rc = mdb_cursor_open(txn, db->log, &lc);
	*logged = 0;
	if (rc)
		return rc;
	for (rc = mdb_cursor_get(lc, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(lc, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 4) {
			rc = XXGK_ECORRUPT;
			break;
		}
		values++;
		bytes += v.mv_size;
		next =
		    get32(k.mv_data) + 1; /* 0 after the last key there is: merged, not wrapped */
	}
	if (rc != MDB_NOTFOUND)
		goto out;
	rc = 0;
	if (!merge && ops->n <= DEADLINE_LOG_CHANGES && values + 1 < DEADLINE_LOG_VALUES &&
	    (values == 0 || next != 0)) {
		size_t size = log_encode(ops);
		if (size == 0) {
			rc = XXGK_ENOMEM;
			goto out;
		}
		if (bytes + size <= DEADLINE_LOG_BYTES) {
			uint8_t key[4];
			put32(key, next);
			k = (MDB_val){sizeof(key), key};
			v = (MDB_val){size, ops->log};
			rc = mdb_cursor_put(lc, &k, &v, MDB_APPEND);
			*logged = rc == 0;
			goto out;
		}
	}
	if (values == 0 || (rc = log_take(lc, ops)))
		goto out;
	mdb_cursor_close(lc);
	return mdb_drop(txn, db->log, 0);
out:
	mdb_cursor_close(lc);
	return rc;
}

/* deadline_ops_write; merge: the log merged whatever its size (with the commit's changes). */
static int ops_write(MDB_txn *txn, const struct deadline_dbs *db, struct deadline_ops *ops,
		     const struct calendar *cal, int merge)
{
	MDB_cursor *cur, *tails;
	int logged = 0, rc = changes_of_notes(ops, cal);
	if (rc == 0 && db->has_log && (ops->n || merge))
		rc = log_or_merge(txn, db, ops, merge || ops->straight, &logged);
	if (rc == 0 && !logged)
		rc = group_ops(ops);
	if (rc || logged || ops->n == 0) {
		deadline_ops_clear(ops);
		return rc;
	}
	/* a group and one more entry, or a tail with its last entry written whole */
	if ((rc = reserve(&ops->buf, &ops->buf_cap, DEADLINE_TAIL_MAX + ENTRY_MAX + ENTRY_SLACK)) ||
	    (rc = mdb_cursor_open(txn, db->groups, &cur))) {
		deadline_ops_clear(ops);
		return rc;
	}
	if ((rc = mdb_cursor_open(txn, db->tails, &tails))) {
		mdb_cursor_close(cur);
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
			rc = apply_changes(cur, tails, ops, &op, end);
	}
	mdb_cursor_close(tails);
	mdb_cursor_close(cur);
	deadline_ops_clear(ops);
	return rc;
}

int deadline_ops_write(MDB_txn *txn, const struct deadline_dbs *db, struct deadline_ops *ops,
		       const struct calendar *cal)
{
	return ops_write(txn, db, ops, cal, 0);
}

void deadline_ops_clear(struct deadline_ops *ops)
{
	ops->n = 0;
	ops->n_notes = 0;
	ops->ngroups = 0;
	if (ops->slots)
		memset(ops->slots, 0, ops->nslots * sizeof(ops->slots[0]));
}

void deadline_ops_free(struct deadline_ops *ops)
{
	free(ops->v);
	free(ops->notes);
	free(ops->groups);
	free(ops->slots);
	free(ops->order);
	free(ops->spare);
	free(ops->buf);
	free(ops->log);
	free(ops->mine);
	*ops = (struct deadline_ops){0};
}

/* Calls fn with every entry of the group or tail k, v: 0, fn's non-zero, or XXGK_ECORRUPT. */
static int read_value(const MDB_val *k, const MDB_val *v, deadline_entry_fn fn, void *ctx)
{
	struct entry_reader r;
	struct entry e;
	char id[RECORD_ID_MAX + 1];
	int has, rc = 0;
	if (!value_kind(k, v))
		return XXGK_ECORRUPT;
	uint32_t due = get32(k->mv_data), unit = get32((const uint8_t *)k->mv_data + 4);
	reader_init(&r, k, v);
	while ((has = entry_next(&r, &e)) == 1) {
		uint8_t val[DEADLINE_VALUE_SIZE];
		memcpy(id, e.id, e.idlen);
		id[e.idlen] = '\0';
		entry_value(&e, val);
		if ((rc = fn(ctx, due, unit, id, val)))
			return rc;
	}
	return has < 0 ? XXGK_ECORRUPT : 0; /* damaged */
}

/*
 * The next value of cur due up to to: 1 (k, v set), 0 none, an LMDB code, or XXGK_ECORRUPT for
 * a key too short to hold a due date. first: its first at or after from.
 */
static int next_due(MDB_cursor *cur, int first, const uint8_t from[4], uint32_t to, MDB_val *k,
		    MDB_val *v)
{
	if (first)
		*k = (MDB_val){4, (void *)from};
	int rc = mdb_cursor_get(cur, k, v, first ? MDB_SET_RANGE : MDB_NEXT);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (k->mv_size < 8)
		return XXGK_ECORRUPT;
	return get32(k->mv_data) <= to; /* past the days asked for, whatever it holds */
}

/*
 * The log read over the groups and tails: the last change of each entry (due, unit, id) in the
 * log, in key order, replaces what they hold of it (a delete: nothing).
 */
struct log_entry {
	const uint8_t *id; /* in the overlay's ids */
	uint32_t due, unit, seq;
	uint8_t idlen, put;
	uint8_t val[DEADLINE_VALUE_SIZE];
};

struct overlay {
	struct log_entry *v;
	size_t n;
	uint8_t *ids;
};

static int log_key_compare(const struct log_entry *e, uint32_t due, uint32_t unit,
			   const uint8_t *id, size_t idlen)
{
	if (e->due != due)
		return e->due < due ? -1 : 1;
	if (e->unit != unit)
		return e->unit < unit ? -1 : 1;
	return id_compare(e->id, e->idlen, id, idlen);
}

/* By key, and the changes of one key in the log's order. */
static int log_entry_compare(const void *a, const void *b)
{
	const struct log_entry *x = a, *y = b;
	int c = log_key_compare(x, y->due, y->unit, y->id, y->idlen);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static void overlay_free(struct overlay *o)
{
	free(o->v);
	free(o->ids);
	*o = (struct overlay){0};
}

/*
 * The log's entries due from..to into o, the last change of each: 0, XXGK_ECORRUPT (a damaged
 * value), XXGK_ENOMEM or an LMDB code. Two passes: counted, then copied.
 */
static int overlay_load(MDB_txn *txn, const struct deadline_dbs *db, uint32_t from, uint32_t to,
			struct overlay *o)
{
	MDB_cursor *lc = NULL;
	MDB_val k, v;
	size_t n = 0, idbytes = 0;
	*o = (struct overlay){0};
	if (!db->has_log)
		return 0;
	int rc = mdb_cursor_open(txn, db->log, &lc);
	for (int pass = 0; rc == 0 && pass < 2; pass++) {
		uint8_t *ids = o->ids;
		uint32_t seq = 0;
		for (rc = mdb_cursor_get(lc, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(lc, &k, &v, MDB_NEXT)) {
			struct log_reader r;
			int has;
			if (k.mv_size != 4)
				break;
			log_reader_init(&r, &v);
			while ((has = log_next(&r)) == 1) {
				seq++;
				if (r.due < from || r.due > to)
					continue;
				if (pass == 0) {
					n++;
					idbytes += r.idlen;
					continue;
				}
				struct log_entry *e = &o->v[o->n++];
				memcpy(ids, r.id, r.idlen);
				*e = (struct log_entry){
				    ids, r.due, r.unit, seq, (uint8_t)r.idlen, (uint8_t)r.put, {0}};
				memcpy(e->val, r.val, DEADLINE_VALUE_SIZE);
				ids += r.idlen;
			}
			if (has < 0)
				break;
		}
		if (rc == 0) /* left the loop on a damaged value */
			rc = XXGK_ECORRUPT;
		else if (rc == MDB_NOTFOUND)
			rc = 0;
		if (rc == 0 && pass == 0 && n &&
		    ((o->v = malloc(n * sizeof(*o->v))) == NULL ||
		     (o->ids = malloc(idbytes ? idbytes : 1)) == NULL))
			rc = XXGK_ENOMEM;
		if (pass == 0 && n == 0)
			break;
	}
	if (lc)
		mdb_cursor_close(lc);
	if (rc || o->n == 0) {
		overlay_free(o);
		return rc;
	}
	qsort(o->v, o->n, sizeof(*o->v), log_entry_compare);
	size_t kept = 0;
	for (size_t i = 0; i < o->n; i++) /* of a key's changes, the last */
		if (i + 1 == o->n || log_key_compare(&o->v[i], o->v[i + 1].due, o->v[i + 1].unit,
						     o->v[i + 1].id, o->v[i + 1].idlen) != 0)
			o->v[kept++] = o->v[i];
	o->n = kept;
	return 0;
}

/* The log's entry of (due, unit, id), or NULL. */
static const struct log_entry *overlay_find(const struct overlay *o, uint32_t due, uint32_t unit,
					    const uint8_t *id, size_t idlen)
{
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = log_key_compare(&o->v[mid], due, unit, id, idlen);
		if (c == 0)
			return &o->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* deadline_index_read's fn, over the groups and tails, with the log's entries merged in. */
struct overlaid {
	deadline_entry_fn fn;
	void *ctx;
	const struct overlay *o;
	size_t next;
};

static int overlaid_put(struct overlaid *w, const struct log_entry *e)
{
	char id[RECORD_ID_MAX + 1];
	if (!e->put)
		return 0;
	memcpy(id, e->id, e->idlen);
	id[e->idlen] = '\0';
	return w->fn(w->ctx, e->due, e->unit, id, e->val);
}

/* The log's entries before (due, unit, id) (id NULL: all left) to fn: 0, or fn's non-zero. */
static int overlaid_before(struct overlaid *w, uint32_t due, uint32_t unit, const uint8_t *id,
			   size_t idlen)
{
	int rc = 0;
	while (rc == 0 && w->next < w->o->n &&
	       (id == NULL || log_key_compare(&w->o->v[w->next], due, unit, id, idlen) < 0))
		rc = overlaid_put(w, &w->o->v[w->next++]);
	return rc;
}

static int overlaid_entry(void *ctx, uint32_t due, uint32_t unit, const char *id,
			  const uint8_t *val)
{
	struct overlaid *w = ctx;
	size_t idlen = strlen(id);
	int rc = overlaid_before(w, due, unit, (const uint8_t *)id, idlen);
	if (rc)
		return rc;
	if (w->next < w->o->n &&
	    log_key_compare(&w->o->v[w->next], due, unit, (const uint8_t *)id, idlen) == 0)
		return overlaid_put(w, &w->o->v[w->next++]); /* the log's, in its place */
	return w->fn(w->ctx, due, unit, id, val);
}

/* The groups and tails alone, in key order (deadline_index_read). */
static int base_read(MDB_txn *txn, const struct deadline_dbs *db, uint32_t from, uint32_t to,
		     deadline_entry_fn fn, void *ctx)
{
	MDB_cursor *gcur, *tcur = NULL;
	MDB_val gk, gv, tk, tv;
	uint8_t start[4];
	put32(start, from);
	int rc = mdb_cursor_open(txn, db->groups, &gcur);
	if (rc)
		return rc;
	if (db->has_tails && (rc = mdb_cursor_open(txn, db->tails, &tcur))) {
		mdb_cursor_close(gcur);
		return rc;
	}
	/* the groups and the tails in key order: a (due, unit)'s groups, then its tail */
	int g = next_due(gcur, 1, start, to, &gk, &gv),
	    t = tcur ? next_due(tcur, 1, start, to, &tk, &tv) : 0;
	while ((g == 0 || g == 1) && (t == 0 || t == 1) && (g || t)) {
		if (g && (!t || memcmp(gk.mv_data, tk.mv_data, 8) <= 0)) {
			if ((rc = gk.mv_size > 8 ? read_value(&gk, &gv, fn, ctx) : XXGK_ECORRUPT))
				break;
			g = next_due(gcur, 0, start, to, &gk, &gv);
		} else {
			if ((rc = tk.mv_size == 8 ? read_value(&tk, &tv, fn, ctx) : XXGK_ECORRUPT))
				break;
			t = next_due(tcur, 0, start, to, &tk, &tv);
		}
	}
	if (rc == 0) /* an error moving a cursor */
		rc = g != 0 && g != 1 ? g : t != 0 && t != 1 ? t : 0;
	if (tcur)
		mdb_cursor_close(tcur);
	mdb_cursor_close(gcur);
	return rc;
}

int deadline_index_read(MDB_txn *txn, const struct deadline_dbs *db, uint32_t from, uint32_t to,
			deadline_entry_fn fn, void *ctx)
{
	struct overlay o;
	int rc = overlay_load(txn, db, from, to, &o);
	if (rc || o.n == 0)
		return rc ? rc : base_read(txn, db, from, to, fn, ctx);
	struct overlaid w = {fn, ctx, &o, 0};
	rc = base_read(txn, db, from, to, overlaid_entry, &w);
	if (rc == 0)
		rc = overlaid_before(&w, 0, 0, NULL, 0);
	overlay_free(&o);
	return rc;
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
	const struct deadline_dbs *db;
	struct deadline_ops ops;
	uint8_t *ids; /* the batch's ids: a change points at its own */
	size_t used;
};

/* Entries gathered a batch at a time: a bounded memory, each group written once a batch. */
#define REBUILD_BATCH 65536
#define REBUILD_IDS (REBUILD_BATCH * 16)

static int put_expected(void *ctx, const MDB_val *k, const MDB_val *v, const char *id)
{
	struct rebuild *b = ctx;
	size_t idlen = k->mv_size - 8;
	int rc = 0;
	(void)id;
	if (b->used + idlen > REBUILD_IDS)
		rc = ops_write(b->txn, b->db, &b->ops, NULL, 1);
	if (rc == 0 && b->ops.n == 0)
		b->used = 0; /* written: its ids are no longer pointed at */
	if (rc)
		return rc;
	memcpy(b->ids + b->used, (const uint8_t *)k->mv_data + 8, idlen);
	rc = op_add(&b->ops, 1, get32(k->mv_data), get32((const uint8_t *)k->mv_data + 4),
		    b->ids + b->used, idlen, v->mv_data);
	b->used += idlen;
	if (rc == 0 && b->ops.n == REBUILD_BATCH)
		rc = ops_write(b->txn, b->db, &b->ops, NULL, 1);
	return rc;
}

int deadline_index_rebuild(MDB_txn *txn, const struct deadline_dbs *db, MDB_dbi records,
			   const struct calendar *cal)
{
	struct rebuild b = {txn, db, {0}, malloc(REBUILD_IDS), 0};
	if (b.ids == NULL)
		return XXGK_ENOMEM;
	int rc = mdb_drop(txn, db->groups, 0);
	if (rc == 0)
		rc = mdb_drop(txn, db->tails, 0);
	if (rc == 0 && db->has_log)
		rc = mdb_drop(txn, db->log, 0);
	if (rc == 0)
		rc = foreach_expected(txn, records, cal, put_expected, &b);
	if (rc == 0) /* straight into the groups and tails (the log is empty) */
		rc = ops_write(txn, db, &b.ops, NULL, 1);
	deadline_ops_free(&b.ops);
	free(b.ids);
	return rc;
}

struct check {
	MDB_txn *txn;
	MDB_cursor *cur, *tails; /* tails: NULL, none */
	const struct overlay *log;
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
	if (klen == 8) /* a tail's key */
		snprintf(buf, size, "unit #%u, the tail of its applications due %s",
			 (unsigned)get32(key + 4), day);
	else
		snprintf(buf, size, "unit #%u application %.*s due %s", (unsigned)get32(key + 4),
			 (int)(klen - 8), (const char *)key + 8, day);
}

/*
 * The value stored for entry key (due, unit, id) in the index: 1 with *val set, 0 when it has
 * none, or an LMDB code or XXGK_ECORRUPT. It is in the first group of its (due, unit) whose key
 * is at or after it, or else in its tail.
 */
static int lookup(MDB_cursor *cur, MDB_cursor *tails, const MDB_val *key,
		  uint8_t val[DEADLINE_VALUE_SIZE])
{
	MDB_val k = *key, v;
	struct entry_reader r;
	struct entry e;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE), has;
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	if (rc || k.mv_size < 8 || memcmp(k.mv_data, key->mv_data, 8) != 0) {
		/* no group of its (due, unit) at or after it: its tail */
		k = (MDB_val){8, key->mv_data};
		if (tails == NULL || (rc = mdb_cursor_get(tails, &k, &v, MDB_SET)) == MDB_NOTFOUND)
			return 0;
		if (rc)
			return rc;
	}
	if (!value_kind(&k, &v))
		return XXGK_ECORRUPT;
	const uint8_t *id = (const uint8_t *)key->mv_data + 8;
	reader_init(&r, &k, &v);
	while ((has = entry_next(&r, &e)) == 1)
		if (id_compare(e.id, e.idlen, id, key->mv_size - 8) == 0) {
			entry_value(&e, val);
			return 1;
		}
	return has < 0 ? XXGK_ECORRUPT : 0;
}

/* lookup, the log read over the groups and tails. */
static int lookup_overlaid(const struct check *c, const MDB_val *key,
			   uint8_t val[DEADLINE_VALUE_SIZE])
{
	const uint8_t *p = key->mv_data;
	const struct log_entry *e =
	    overlay_find(c->log, get32(p), get32(p + 4), p + 8, key->mv_size - 8);
	if (e == NULL)
		return lookup(c->cur, c->tails, key, val);
	memcpy(val, e->val, DEADLINE_VALUE_SIZE);
	return e->put;
}

static int check_expected(void *ctx, const MDB_val *k, const MDB_val *v, const char *id)
{
	struct check *c = ctx;
	uint8_t got[DEADLINE_VALUE_SIZE];
	char words[256], line[320];
	(void)id;
	c->expected++;
	int rc = lookup_overlaid(c, k, got);
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

/*
 * Names the entries of cur's values (of unit; UINT32_MAX: all) that no open application explains,
 * and the damaged values, to c->fn. 0, or an error.
 */
static int name_unexplained(struct check *c, MDB_cursor *cur, MDB_dbi records,
			    const struct calendar *cal, uint32_t unit, int tails)
{
	MDB_val k, v;
	int rc;
	for (MDB_cursor_op op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	     op = MDB_NEXT) {
		struct entry_reader r;
		struct entry e;
		char words[256], line[320];
		uint8_t key[KEY_MAX];
		if (!(tails ? deadline_tail_valid(&k, &v) : deadline_group_valid(&k, &v))) {
			c->fn(c->ctx, "deadlines: a value of the index is damaged");
			continue;
		}
		if (unit != UINT32_MAX && get32((const uint8_t *)k.mv_data + 4) != unit)
			continue;
		reader_init(&r, &k, &v);
		while (rc == 0 && entry_next(&r, &e) == 1) {
			if (overlay_find(c->log, get32(k.mv_data),
					 get32((const uint8_t *)k.mv_data + 4), e.id, e.idlen))
				continue; /* the log's entry is what the index holds */
			int ok = entry_explained(c->txn, records, cal, &k, &e);
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
			c->fn(c->ctx, line);
		}
		if (rc)
			break;
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Names the log's entries (of unit; UINT32_MAX: all) that no open application explains. */
static int name_unexplained_log(struct check *c, MDB_dbi records, const struct calendar *cal,
				uint32_t unit)
{
	for (size_t i = 0; i < c->log->n; i++) {
		const struct log_entry *le = &c->log->v[i];
		uint8_t key[KEY_MAX];
		char words[256], line[320];
		if (!le->put || (unit != UINT32_MAX && le->unit != unit))
			continue;
		put32(key, le->due);
		put32(key + 4, le->unit);
		memcpy(key + 8, le->id, le->idlen);
		MDB_val k = {8 + (size_t)le->idlen, key};
		struct entry e = {.id = le->id, .idlen = le->idlen};
		int ok = entry_explained(c->txn, records, cal, &k, &e);
		if (ok < 0 || ok > 1)
			return ok;
		if (ok)
			continue;
		key_words(key, k.mv_size, words, sizeof(words));
		snprintf(line, sizeof(line),
			 "deadlines: %s: in the index, but no open application says so", words);
		c->fn(c->ctx, line);
	}
	return 0;
}

/*
 * The entries the log adds to the groups' and tails' count (*entries; SIZE_MAX: a value it
 * reads over is damaged, named below): 0 or an LMDB code.
 */
static int count_log(const struct check *c, size_t *entries)
{
	for (size_t i = 0; i < c->log->n && *entries != SIZE_MAX; i++) {
		const struct log_entry *le = &c->log->v[i];
		uint8_t key[KEY_MAX], val[DEADLINE_VALUE_SIZE];
		put32(key, le->due);
		put32(key + 4, le->unit);
		memcpy(key + 8, le->id, le->idlen);
		MDB_val k = {8 + (size_t)le->idlen, key};
		int under = lookup(c->cur, c->tails, &k, val);
		if (under == XXGK_ECORRUPT)
			*entries = SIZE_MAX;
		else if (under < 0 || under > 1)
			return under;
		else if (le->put && !under)
			(*entries)++;
		else if (!le->put && under)
			(*entries)--;
	}
	return 0;
}

/* The overlap of the value at k (of unit, or all) with the one before it, named. */
static void name_overlap(struct check *c, const MDB_val *k, uint32_t unit)
{
	char words[256], line[384];
	uint8_t key[KEY_MAX];
	size_t klen = k->mv_size > KEY_MAX ? KEY_MAX : k->mv_size;
	if (unit != UINT32_MAX && get32((const uint8_t *)k->mv_data + 4) != unit)
		return;
	memcpy(key, k->mv_data, klen);
	key_words(key, klen, words, sizeof(words));
	snprintf(line, sizeof(line),
		 "deadlines: %s: in a value of the index that overlaps the one before", words);
	c->fn(c->ctx, line);
}

int deadline_index_verify(MDB_txn *txn, const struct deadline_dbs *db, MDB_dbi records,
			  const struct calendar *cal, uint32_t unit, deadline_difference_fn fn,
			  void *ctx)
{
	struct overlay log;
	struct check c = {txn, NULL, NULL, &log, fn, ctx, 0};
	MDB_val k, v;
	size_t entries = 0;
	int rc = overlay_load(txn, db, 0, UINT32_MAX, &log);
	if (rc == XXGK_ECORRUPT) /* named, and read as empty: its entries then differ */
		fn(ctx, "deadlines: a value of the index's log is damaged");
	else if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, db->groups, &c.cur))) {
		overlay_free(&log);
		return rc;
	}
	if (db->has_tails && (rc = mdb_cursor_open(txn, db->tails, &c.tails)))
		goto out;
	if ((rc = foreach_expected_of(txn, records, cal, unit, check_expected, &c)))
		goto out;
	/*
	 * A unit's entries are spread over the index (by due date first): count every one. A value
	 * that begins at or before the end of the one before it of its (due, unit) holds an entry
	 * twice or out of order (the count and the lookups cannot tell): named here.
	 */
	uint8_t last[KEY_MAX];
	size_t llen = 0;
	for (MDB_cursor_op op = MDB_FIRST; (rc = mdb_cursor_get(c.cur, &k, &v, op)) == 0;
	     op = MDB_NEXT) {
		struct entry_reader r;
		if (k.mv_size <= 8 || !group_walk(&k, &v, &r)) {
			entries = SIZE_MAX; /* named below */
			break;
		}
		MDB_val pk = {llen, last};
		if (llen && !deadline_group_follows(&pk, &k, &v) &&
		    (unit == UINT32_MAX || get32(last + 4) == unit))
			name_overlap(&c, &k, UINT32_MAX);
		entries += r.count;
		memcpy(last, k.mv_data, k.mv_size);
		llen = k.mv_size;
	}
	if (rc && rc != MDB_NOTFOUND && entries != SIZE_MAX)
		goto out;
	rc = 0;
	for (MDB_cursor_op op = MDB_FIRST;
	     c.tails && entries != SIZE_MAX && (rc = mdb_cursor_get(c.tails, &k, &v, op)) == 0;
	     op = MDB_NEXT) {
		struct entry_reader r;
		int follows;
		if (k.mv_size != 8 || !group_walk(&k, &v, &r)) {
			entries = SIZE_MAX;
			break;
		}
		if ((follows = deadline_tail_follows(txn, db->groups, &k, &v)) == 0)
			name_overlap(&c, &k, unit);
		else if (follows != 1) {
			rc = follows;
			goto out;
		}
		entries += r.count;
	}
	if (rc && rc != MDB_NOTFOUND && entries != SIZE_MAX)
		goto out;
	if ((rc = count_log(&c, &entries)))
		goto out;
	if (unit == UINT32_MAX && entries == c.expected)
		goto out;
	/* more entries than open applications: name those that no record explains */
	rc = name_unexplained(&c, c.cur, records, cal, unit, 0);
	if (rc == 0 && c.tails)
		rc = name_unexplained(&c, c.tails, records, cal, unit, 1);
	if (rc == 0)
		rc = name_unexplained_log(&c, records, cal, unit);
out:
	if (c.tails)
		mdb_cursor_close(c.tails);
	mdb_cursor_close(c.cur);
	overlay_free(&log);
	return rc == MDB_NOTFOUND ? 0 : rc;
}
