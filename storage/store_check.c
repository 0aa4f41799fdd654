#include "store_check.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deltas.h"
#include "error.h"
#include "record.h"
#include "store_deadline.h"
#include "xxgk.pb-c.h"

/*
 * LMDB's on-disk layout (mdb.c of 0.9, 64-bit): a page starts with a 16-byte header (pgno u64,
 * pad u16, flags u16, lower u16, upper u16); a meta page (pages 0 and 1) carries MDB_meta right
 * after it: magic u32, version u32, address u64, mapsize u64, two MDB_db records (free list,
 * main), last_pgno u64, txnid u64. An MDB_db is pad u32 (the page size, in the free list's),
 * flags u16, depth u16, branch, leaf and overflow page counts, entries and root (u64 each).
 */
_Static_assert(sizeof(size_t) == 8, "the layout below is LMDB's on 64-bit machines");
#define PAGE_HEADER 16
#define P_META 0x08
#define META_MAGIC 0xBEEFC0DEu
#define META_VERSION 1u
#define META_SIZE 136
#define DB_SIZE 48
#define DB_AT(i) (PAGE_HEADER + 24 + (i)*DB_SIZE)
#define LAST_PGNO_AT (PAGE_HEADER + 120)
#define TXNID_AT (PAGE_HEADER + 128)
#define P_INVALID UINT64_MAX
#define PAGE_SIZE_MIN 512
#define PAGE_SIZE_MAX 65536
#define DEPTH_MAX 64 /* far above what 2^64 pages need */
/* The persistent flags of a database (MDB_REVERSEKEY .. MDB_REVERSEDUP). */
#define DB_FLAGS 0x7e

static int damaged(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return XXGK_ECORRUPT;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

struct meta {
	uint32_t page_size;
	uint64_t last_pgno, txnid;
	struct {
		uint16_t flags, depth;
		uint64_t entries, root;
	} db[2];
};

/* Reads meta page i (page_size 0: page 0, whose own page size is not known yet). */
static int read_meta(int fd, int i, uint32_t page_size, struct meta *m, char *why, size_t len)
{
	uint8_t p[PAGE_HEADER + META_SIZE];
	off_t at = (off_t)i * page_size;
	ssize_t n = pread(fd, p, sizeof(p), at);
	if (n < 0)
		return xxgk_error_from_errno(errno);
	if ((size_t)n < sizeof(p))
		return damaged(why, len, "it ends inside meta page %d", i);
	if (get64(p) != (uint64_t)i || !(get16(p + 10) & P_META))
		return damaged(why, len, "page %d is not a meta page", i);
	if (get32(p + PAGE_HEADER) != META_MAGIC)
		return damaged(why, len, "meta page %d has no LMDB magic number", i);
	if (get32(p + PAGE_HEADER + 4) != META_VERSION)
		return damaged(why, len, "meta page %d has data version %u, not %u", i,
			       get32(p + PAGE_HEADER + 4), META_VERSION);
	m->page_size = get32(p + DB_AT(0));
	if (m->page_size < PAGE_SIZE_MIN || m->page_size > PAGE_SIZE_MAX ||
	    (m->page_size & (m->page_size - 1)) || (page_size && m->page_size != page_size))
		return damaged(why, len, "meta page %d has a bad page size %u", i, m->page_size);
	m->last_pgno = get64(p + LAST_PGNO_AT);
	m->txnid = get64(p + TXNID_AT);
	for (int d = 0; d < 2; d++) {
		const uint8_t *db = p + DB_AT(d);
		m->db[d].flags = get16(db + 4);
		m->db[d].depth = get16(db + 6);
		m->db[d].entries = get64(db + 32);
		m->db[d].root = get64(db + 40);
	}
	return 0;
}

/* The meta LMDB uses: is it whole, and how many of the pages it counts does the file lack? */
static int check_meta(const struct meta *m, int i, uint64_t size, uint64_t *missing, char *why,
		      size_t len)
{
	static const char *const names[2] = {"free list", "main database"};
	if (m->last_pgno < 1 || m->last_pgno > (uint64_t)INT64_MAX / m->page_size)
		return damaged(why, len, "meta page %d has a bad last page %llu", i,
			       (unsigned long long)m->last_pgno);
	for (int d = 0; d < 2; d++) {
		int empty = m->db[d].root == P_INVALID;
		if ((m->db[d].flags & ~DB_FLAGS) || m->db[d].depth > DEPTH_MAX ||
		    empty != (m->db[d].depth == 0) || (empty && m->db[d].entries != 0) ||
		    (!empty && (m->db[d].root < 2 || m->db[d].root > m->last_pgno)))
			return damaged(why, len, "meta page %d describes a bad %s", i, names[d]);
	}
	uint64_t need = (m->last_pgno + 1) * m->page_size;
	*missing = size < need ? m->last_pgno + 1 - size / m->page_size : 0;
	if (*missing)
		snprintf(
		    why, len,
		    "it is %llu bytes, but its meta page %d counts %llu pages of %u bytes (%llu "
		    "bytes): it was truncated",
		    (unsigned long long)size, i, (unsigned long long)m->last_pgno + 1, m->page_size,
		    (unsigned long long)need);
	return 0;
}

static int exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &sb) == 0;
}

int store_check_file(const char *dir, uint64_t *missing, char *why, size_t len)
{
	char path[4096];
	struct stat sb;
	struct meta m[2];
	int rc;
	*missing = 0;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	/* lock.mdb is made at the first open, the marker after the first commit */
	const char *state = exists(dir, STORE_MARKER) ? STORE_MARKER
			    : exists(dir, "lock.mdb") ? "lock.mdb"
						      : NULL;
	/* lock.mdb alone: a first start may have died before its first commit */
	const char *unless = state && strcmp(state, "lock.mdb") == 0
				 ? " (if no store was ever committed here, remove lock.mdb)"
				 : "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && state)
			return damaged(why, len,
				       "it is missing, but %s/%s says a store was there%s", dir,
				       state, unless);
		return errno == ENOENT ? 0 : xxgk_error_from_errno(errno);
	}
	if (fstat(fd, &sb) != 0) {
		rc = xxgk_error_from_errno(errno);
		close(fd);
		return rc;
	}
	uint64_t size = (uint64_t)sb.st_size;
	if (size == 0) {
		close(fd);
		/* LMDB would take an empty file for a new store */
		return state ? damaged(why, len,
				       "it is empty (0 bytes), but %s/%s says a store was there%s",
				       dir, state, unless)
			     : 0;
	}
	if ((rc = read_meta(fd, 0, 0, &m[0], why, len)) == 0)
		rc = read_meta(fd, 1, m[0].page_size, &m[1], why, len);
	close(fd);
	if (rc)
		return rc;
	/* as LMDB picks: the later transaction, meta page 0 on a tie */
	int use = m[0].txnid < m[1].txnid;
	return check_meta(&m[use], use, size, missing, why, len);
}

int store_mark_committed(const char *dir)
{
	char path[4096];
	static const char text[] =
	    "xxgkd committed a store in this directory: a missing, empty or truncated data.mdb\n"
	    "here is damage. Restore a backup made with `xxgkctl backup` (see the README).\n";
	if (exists(dir, STORE_MARKER))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_MARKER);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return xxgk_error_from_errno(errno);
	int rc = write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1) && fsync(fd) == 0
		     ? 0
		     : xxgk_error_from_errno(errno);
	close(fd);
	return rc;
}

/* ---- the walk ---- */

struct unit_number {
	uint32_t number;
	char id[RECORD_UNIT_MAX + 1];
};

struct walk {
	MDB_txn *txn;
	uint64_t last_pgno, entries;
	uint64_t file_pages;   /* whole pages in the file */
	uint8_t *beyond;       /* a bit per page past them: named by the free list */
	uint64_t free_beyond;  /* how many are */
	volatile uint8_t sink; /* every value byte is read, so that every page is touched */
	struct unit_number *units;
	size_t n_units, cap_units;
	char *why;
	size_t len;
	MDB_val group_k; /* the key of the deadlines index's group before, if any */
};

/* LMDB's own codes (MDB_CORRUPTED, MDB_PAGE_NOTFOUND, ...), as opposed to ours and errno's */
static int is_mdb_code(int rc)
{
	return rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE;
}

typedef int (*entry_fn)(struct walk *w, const MDB_val *k, const MDB_val *v);

static int compare_number(const void *a, const void *b)
{
	uint32_t x = ((const struct unit_number *)a)->number,
		 y = ((const struct unit_number *)b)->number;
	return x < y ? -1 : x > y;
}

static const struct unit_number *unit_numbered(const struct walk *w, uint32_t number)
{
	struct unit_number key = {.number = number};
	return w->n_units ? bsearch(&key, w->units, w->n_units, sizeof(*w->units), compare_number)
			  : NULL;
}

static int free_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	uint64_t count, pgno;
	if (k->mv_size != sizeof(uint64_t) || v->mv_size < sizeof(count))
		return damaged(w->why, w->len, "an entry of LMDB's free list has a bad size");
	memcpy(&count, v->mv_data, sizeof(count));
	if (count != v->mv_size / sizeof(uint64_t) - 1 || v->mv_size % sizeof(uint64_t))
		return damaged(w->why, w->len, "an entry of LMDB's free list has a bad length");
	for (uint64_t i = 1; i <= count; i++) {
		memcpy(&pgno, (const uint8_t *)v->mv_data + i * sizeof(pgno), sizeof(pgno));
		if (pgno < 2 || pgno > w->last_pgno)
			return damaged(w->why, w->len, "LMDB's free list names page %llu of %llu",
				       (unsigned long long)pgno, (unsigned long long)w->last_pgno);
		if (pgno >= w->file_pages) {
			uint64_t bit = pgno - w->file_pages;
			if (!(w->beyond[bit / 8] & (1u << bit % 8)))
				w->free_beyond++;
			w->beyond[bit / 8] |= (uint8_t)(1u << bit % 8);
		}
	}
	return 0;
}

/*
 * LMDB writes no page it freed in the transaction that allocated it, so a whole file may end
 * before the last page its meta counts: harmless while every page past the end is free (LMDB
 * never reads a free page, it writes it when it takes it). Any other page past the end is
 * truncation.
 */
static int check_end(struct walk *w)
{
	uint64_t past = w->last_pgno + 1 - w->file_pages;
	if (w->free_beyond < past)
		return damaged(w->why, w->len,
			       "it ends after %llu pages, but %llu pages past its end are in use "
			       "(its meta counts %llu): it was truncated",
			       (unsigned long long)w->file_pages,
			       (unsigned long long)(past - w->free_beyond),
			       (unsigned long long)w->last_pgno + 1);
	return 0;
}

static int main_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	static const char *const names[] = {
	    "meta",	 "units",	    "records",	    "counters",	 "freezes",
	    "snapshots", "audit",	    "activity",	    "deadlines", "published",
	    DEADLINE_DB, DEADLINE_TAILS_DB, DEADLINE_LOG_DB};
	int known = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		known |=
		    k->mv_size == strlen(names[i]) && memcmp(k->mv_data, names[i], k->mv_size) == 0;
	if (!known || v->mv_size != DB_SIZE)
		return damaged(w->why, w->len, "LMDB's main database holds an unknown entry");
	return 0;
}

static int meta_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	/* "calendar": the days the deadlines index was computed on (store_deadline.h) */
	int calendar = k->mv_size == 8 && memcmp(k->mv_data, "calendar", 8) == 0;
	if (v->mv_size != (calendar ? calendar_packed_size() : 4))
		return damaged(w->why, w->len, "a value of the meta database has a bad size");
	return 0;
}

static int unit_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	if (k->mv_size == 0 || k->mv_size > RECORD_UNIT_MAX || v->mv_size != 6)
		return damaged(w->why, w->len, "an entry of the units database has a bad size");
	if (w->n_units == w->cap_units) {
		size_t cap = w->cap_units ? 2 * w->cap_units : 64;
		struct unit_number *u = realloc(w->units, cap * sizeof(*u));
		if (u == NULL)
			return XXGK_ENOMEM;
		w->units = u;
		w->cap_units = cap;
	}
	const uint8_t *p = v->mv_data;
	struct unit_number *u = &w->units[w->n_units++];
	u->number = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	memcpy(u->id, k->mv_data, k->mv_size);
	u->id[k->mv_size] = '\0';
	if (u->number == 0 || p[5] > 1 || memchr(k->mv_data, '\0', k->mv_size))
		return damaged(w->why, w->len, "unit \"%s\" is stored with a bad value", u->id);
	return 0;
}

/* Units come before records (the walk's order): a record's key must name a stored unit. */
static int sort_units(struct walk *w)
{
	if (w->n_units)
		qsort(w->units, w->n_units, sizeof(*w->units), compare_number);
	for (size_t i = 1; i < w->n_units; i++)
		if (w->units[i].number == w->units[i - 1].number)
			return damaged(w->why, w->len, "units \"%s\" and \"%s\" have one number",
				       w->units[i - 1].id, w->units[i].id);
	return 0;
}

static int record_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *p = k->mv_data;
	if (k->mv_size < 6 || k->mv_size > 5 + RECORD_ID_MAX)
		return damaged(w->why, w->len, "a key of the records database has a bad size");
	uint32_t number = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	const struct unit_number *u = unit_numbered(w, number);
	if (u == NULL)
		return damaged(w->why, w->len,
			       "a stored record names unit number %u, which is none",
			       (unsigned)number);
	Xxgk__V1__Record *r = xxgk__v1__record__unpack(NULL, v->mv_size, v->mv_data);
	if (r == NULL)
		return damaged(w->why, w->len, "a stored record of unit \"%s\" cannot be decoded",
			       u->id);
	/* the key is (unit, kind, id) of the record it holds */
	int rc = 0;
	if (r->unit == NULL || strcmp(r->unit, u->id) || r->id == NULL ||
	    strlen(r->id) != k->mv_size - 5 || memcmp(r->id, p + 5, k->mv_size - 5) ||
	    record_kind_of(r) != p[4])
		rc = damaged(w->why, w->len,
			     "a stored record of unit \"%s\" is not the one its key "
			     "names",
			     u->id);
	xxgk__v1__record__free_unpacked(r, NULL);
	return rc;
}

static int counter_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	struct counter_key key;
	if (k->mv_size != COUNTER_KEY_SIZE || v->mv_size != sizeof(int64_t))
		return damaged(w->why, w->len, "an entry of the counters database has a bad size");
	counter_key_decode(k->mv_data, &key);
	if (key.scope > SCOPE_UNIT)
		return damaged(w->why, w->len, "a stored counter has a bad scope %u",
			       (unsigned)key.scope);
	return 0;
}

/* The frozen years (store_freeze.h): sizes only; the audit's events must decode. */
static int freeze_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	(void)v;
	if (k->mv_size != 2 || v->mv_size < 15 || v->mv_size > 15 + 64)
		return damaged(w->why, w->len, "an entry of the freezes database has a bad size");
	return 0;
}

static int snapshot_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	if (k->mv_size != 11 || v->mv_size % sizeof(int64_t))
		return damaged(w->why, w->len, "an entry of the snapshots database has a bad size");
	return 0;
}

static int audit_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	if (k->mv_size != 8)
		return damaged(w->why, w->len, "a key of the audit database has a bad size");
	Xxgk__V1__FreezeEvent *e = xxgk__v1__freeze_event__unpack(NULL, v->mv_size, v->mv_data);
	if (e == NULL)
		return damaged(w->why, w->len, "an entry of the audit database cannot be decoded");
	xxgk__v1__freeze_event__free_unpacked(e, NULL);
	return 0;
}

static int published_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	if (k->mv_size != 6)
		return damaged(w->why, w->len, "a key of the published database has a bad size");
	Xxgk__V1__Published *p = xxgk__v1__published__unpack(NULL, v->mv_size, v->mv_data);
	if (p == NULL)
		return damaged(w->why, w->len,
			       "an entry of the published database cannot be decoded");
	xxgk__v1__published__free_unpacked(p, NULL);
	return 0;
}

static int activity_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	if ((k->mv_size != 4 && k->mv_size != 6) || v->mv_size != 8)
		return damaged(w->why, w->len, "an entry of the activity database has a bad size");
	return 0;
}

/* The deadlines index (store_deadline.h): its form; verify compares it with the records. */
static int deadline_group(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	if (!deadline_group_valid(k, v))
		return damaged(w->why, w->len, "a value of the deadlines index is malformed");
	if (w->group_k.mv_data && !deadline_group_follows(&w->group_k, k, v))
		return damaged(w->why, w->len, "two values of the deadlines index overlap");
	w->group_k = *k;
	return 0;
}

/* A tail of the deadlines index: its form, and that it begins after its (due, unit)'s groups. */
static int deadline_tail(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	MDB_dbi groups;
	if (!deadline_tail_valid(k, v))
		return damaged(w->why, w->len, "a value of the deadlines index is malformed");
	int rc = mdb_dbi_open(w->txn, DEADLINE_DB, 0, &groups);
	if (rc == MDB_NOTFOUND)
		return 0; /* no groups: nothing before it */
	if (rc == 0)
		rc = deadline_tail_follows(w->txn, groups, k, v);
	if (rc == 0)
		return damaged(w->why, w->len, "two values of the deadlines index overlap");
	if (rc == XXGK_ECORRUPT)
		return damaged(w->why, w->len, "a key of the deadlines index has a bad size");
	return rc == 1 ? 0 : rc;
}

/* A value of the deadlines index's log: its form (every reader reads it over the groups). */
static int deadline_log_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	if (!deadline_log_valid(k, v))
		return damaged(w->why, w->len, "a value of the deadlines index's log is malformed");
	return 0;
}

/* An earlier version's index, an entry a key (dropped when the store is opened for writing). */
static int legacy_deadline_entry(struct walk *w, const MDB_val *k, const MDB_val *v)
{
	if (k->mv_size < 9 || k->mv_size > 8 + RECORD_ID_MAX || v->mv_size != DEADLINE_VALUE_SIZE)
		return damaged(w->why, w->len, "an entry of the deadlines database has a bad size");
	return 0;
}

/* Reads every entry of dbi in key order: keys strictly ascending, every value byte read. */
static int walk_db(struct walk *w, MDB_dbi dbi, const char *name, entry_fn fn)
{
	MDB_cursor *cur;
	MDB_val k, v, prev = {0, NULL};
	int rc = mdb_cursor_open(w->txn, dbi, &cur), first = 1;
	if (rc)
		return damaged(w->why, w->len, "the %s database cannot be read: %s", name,
			       mdb_strerror(rc));
	for (MDB_cursor_op op = MDB_FIRST; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	     op = MDB_NEXT, first = 0) {
		uint8_t sum = 0;
		for (size_t i = 0; i < v.mv_size; i++)
			sum ^= ((const uint8_t *)v.mv_data)[i];
		w->sink ^= sum;
		if (!first && mdb_cmp(w->txn, dbi, &prev, &k) >= 0) {
			rc = damaged(w->why, w->len, "the keys of the %s database are out of order",
				     name);
			break;
		}
		prev = k;
		w->entries++;
		if ((rc = fn(w, &k, &v)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (is_mdb_code(rc))
		return damaged(w->why, w->len, "the %s database cannot be read: %s", name,
			       mdb_strerror(rc));
	return rc > 0 ? xxgk_error_from_errno(rc) : rc;
}

static int walk_env(struct walk *w, MDB_env *env, uint64_t file_size, int live)
{
	/* optional: the databases of frozen years, which a store from before they existed lacks */
	static const struct {
		const char *name;
		entry_fn fn;
		int optional; /* 1: a database that stores written before it was added do not have
			       */
	} dbs[] = {{"meta", meta_entry, 0},
		   {"units", unit_entry, 0},
		   {"records", record_entry, 0},
		   {"counters", counter_entry, 0},
		   {"freezes", freeze_entry, 1},
		   {"snapshots", snapshot_entry, 1},
		   {"audit", audit_entry, 1},
		   {"activity", activity_entry, 1},
		   {DEADLINE_LEGACY_DB, legacy_deadline_entry, 1},
		   {"published", published_entry, 1},
		   {DEADLINE_DB, deadline_group, 1},
		   {DEADLINE_TAILS_DB, deadline_tail, 1},
		   {DEADLINE_LOG_DB, deadline_log_entry, 1}};
	MDB_envinfo info;
	MDB_dbi main_db, dbi;
	MDB_stat st;
	int rc;
	if ((rc = mdb_env_info(env, &info)) || (rc = mdb_env_stat(env, &st)) ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &w->txn)))
		return xxgk_error_from_mdb(rc);
	w->last_pgno = info.me_last_pgno;
	w->file_pages = file_size / st.ms_psize;
	if (live)
		w->file_pages = w->last_pgno + 1; /* see store_check_walk */
	if (w->file_pages <= w->last_pgno &&
	    (w->beyond = calloc((w->last_pgno + 1 - w->file_pages) / 8 + 1, 1)) == NULL) {
		mdb_txn_abort(w->txn);
		return XXGK_ENOMEM;
	}
	/* dbi 0 is LMDB's free list: the pages the next writes will take */
	if ((rc = walk_db(w, 0, "free list", free_entry)) ||
	    (w->file_pages <= w->last_pgno && (rc = check_end(w))) ||
	    (rc = mdb_dbi_open(w->txn, NULL, 0, &main_db)) ||
	    (rc = walk_db(w, main_db, "main", main_entry)) || (rc = mdb_stat(w->txn, main_db, &st)))
		goto out;
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]) && rc == 0; i++) {
		rc = mdb_dbi_open(w->txn, dbs[i].name, 0, &dbi);
		if (rc == MDB_NOTFOUND && st.ms_entries == 0) {
			rc = 0; /* no commit ever: a new store */
			break;
		}
		if (rc == MDB_NOTFOUND && dbs[i].optional) {
			rc = 0;
			continue;
		}
		if (rc) {
			rc = damaged(w->why, w->len, "the %s database cannot be opened: %s",
				     dbs[i].name, mdb_strerror(rc));
			break;
		}
		if ((rc = walk_db(w, dbi, dbs[i].name, dbs[i].fn)) == 0 && dbs[i].fn == unit_entry)
			rc = sort_units(w);
	}
out:
	mdb_txn_abort(w->txn);
	if (is_mdb_code(rc))
		return damaged(w->why, w->len, "%s", mdb_strerror(rc));
	return rc > 0 ? xxgk_error_from_errno(rc) : rc;
}

int store_check_walk(const char *dir, int live, uint64_t *entries, char *why, size_t len)
{
	MDB_env *env;
	char path[4096];
	struct stat sb;
	struct walk w = {.why = why, .len = len};
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) != 0)
		return xxgk_error_from_errno(errno);
	int rc = mdb_env_create(&env);
	if (rc)
		return xxgk_error_from_mdb(rc);
	/* read-only: this process never writes, whatever it finds */
	if ((rc = mdb_env_set_maxdbs(env, 16)) == 0 &&
	    (rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0640)) == 0)
		rc = walk_env(&w, env, (uint64_t)sb.st_size, live);
	else if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH || rc == MDB_CORRUPTED)
		rc = damaged(why, len, "LMDB cannot open it: %s", mdb_strerror(rc));
	else
		rc = xxgk_error_from_mdb(rc);
	mdb_env_close(env);
	free(w.units);
	free(w.beyond);
	*entries = w.entries;
	return rc;
}
