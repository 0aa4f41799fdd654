/*
 * The index of answer periods (shared/DOMAIN.md "Answer periods"): every OPEN application (not
 * deleted, no outcome) by its due date, written in the transaction of the record, so that "what
 * is due" is a range read.
 *
 * An entry of the index is an application's key and value:
 *   key   [due u32 BE][unit number u32 BE][record id]
 *   value [received u32 BE][state u8][extended u8][error year u16 BE][suspended u16 BE]
 * due is a day (days since 1970-01-01) for DEADLINE_DUE; DEADLINE_KEY_ERROR (0) for a period the
 * calendar cannot count; DEADLINE_KEY_SUSPENDED (all ones) for a period that waits.
 *
 * The entries of one (due, unit) are kept in groups, each a value of at most DEADLINE_GROUP_MAX
 * bytes, so that a commit reads and writes each group it changes once, not every entry (LMDB's
 * cost is per key), and few pages (an entry is a few bytes: each id shares what it can of the
 * one before it; store_deadline.c gives the form). The last group of each (due, unit), where its
 * new applications go, is its tail, kept apart: the tails of one day's units are next to one
 * another, so that a commit of every unit's new applications writes fewer pages (two or three
 * units' tails to a page), and a tail is rewritten where it is:
 *   deadline_groups: [due][unit][last id] -> entries by id
 *   deadline_tails:  [due][unit] -> entries by id, every one after those of the groups
 * (created at open; a store from before gets them and is indexed; a store of groups alone, as
 * the version before the tails wrote it, is read as it is: its new entries start tails).
 *
 * A commit's changes are not written to the groups and tails at once: they are logged, the
 * commit's changes one value in the records' order, and every DEADLINE_LOG_VALUES commits (or
 * DEADLINE_LOG_BYTES) the log is merged into them, so that a tail is rewritten once for several
 * commits' applications, not at every commit (a commit of many changes goes straight in):
 *   deadline_log: [seq u32 BE] -> changes, each a put of an entry (due, unit, id, value) or a
 *                 delete of one; of one entry's changes, the last holds
 * Every reader reads the groups and tails with the log over them. A commit that is logged does
 * not read the groups and tails, nor the log's values (it counts them and their bytes, and
 * refuses a key of a bad size): damage there is refused by the walk, a read,
 * verify, and the commit that merges.
 *
 * A store of an earlier version kept an entry a key, in "deadlines": opening it for writing
 * drops that database and builds the groups on the stored calendar, in one transaction (store.c
 * migrate_attempt).
 *   meta "calendar" -> the calendar the index was computed on (calendar_pack).
 *
 * This header is the store's inside: what store.c calls of store_deadline.c.
 */
#ifndef XXGK_STORE_DEADLINE_H
#define XXGK_STORE_DEADLINE_H

#include <lmdb.h>
#include <stdint.h>

#include "calendar.h"
#include "record.h"

#define DEADLINE_KEY_ERROR 0u
#define DEADLINE_KEY_SUSPENDED 0xffffffffu
#define DEADLINE_VALUE_SIZE 10
#define DEADLINE_GROUP_MAX 1024 /* bytes: a few values to a page, each rewritten whole */
/* a tail's last entry is written whole (no bytes shared), its size after it */
#define DEADLINE_TAIL_MAX (DEADLINE_GROUP_MAX + RECORD_ID_MAX + 1)
#define DEADLINE_DB "deadline_groups"
#define DEADLINE_TAILS_DB "deadline_tails"
#define DEADLINE_LEGACY_DB "deadlines"
#define DEADLINE_LOG_DB "deadline_log"
#define DEADLINE_LOG_VALUES 8	       /* a merge every 8 commits: 7 logged, at most */
#define DEADLINE_LOG_BYTES (64 * 1024) /* and bytes: what a read of the index decodes more */
#define DEADLINE_LOG_CHANGES 4096      /* a commit of more changes goes straight in */

struct store;

/*
 * The databases of the index; has_tails, has_log 0: a store read-only of a version before the
 * tails, the log.
 */
struct deadline_dbs {
	MDB_dbi groups, tails, log;
	int has_tails, has_log;
};

/*
 * Opens (create: creates) the deadlines databases in txn. 0, MDB_NOTFOUND (no index: not
 * create), or an LMDB code.
 */
int deadline_db_open(MDB_txn *txn, struct deadline_dbs *db, int create);

/* Drops the index of an earlier version's store, if it has one (*dropped: 1). 0 or an LMDB code. */
int deadline_drop_legacy(MDB_txn *txn, int *dropped);

/* Whether k, v is a well-formed group, tail, of the index (store_check.c, and every read). */
int deadline_group_valid(const MDB_val *k, const MDB_val *v);
int deadline_tail_valid(const MDB_val *k, const MDB_val *v);

/*
 * Whether the group k, v may follow the one under key pk: of another (due, unit), or its first
 * id after pk's last (else the two overlap).
 */
int deadline_group_follows(const MDB_val *pk, const MDB_val *k, const MDB_val *v);

/*
 * Whether the tail k, v (well-formed) begins after the last group of its (due, unit) in groups:
 * 1, 0 (they overlap), or an LMDB code or XXGK_ECORRUPT (a key of a bad size).
 */
int deadline_tail_follows(MDB_txn *txn, MDB_dbi groups, const MDB_val *k, const MDB_val *v);

/* Whether k, v is a well-formed value of the log (store_check.c, and every read). */
int deadline_log_valid(const MDB_val *k, const MDB_val *v);

/* An application a record of the commit changed: its entries are computed at the end. */
struct deadline_note {
	const char *id; /* the record's: records live until their commit */
	uint32_t unit;
	uint8_t idlen;
	uint8_t had, has; /* an open application before, after */
	struct deadline_events old_days, days;
};

/*
 * The index changes of a commit, noted record by record and written at its end
 * (deadline_ops_write). Zero-initialised; deadline_ops_free frees.
 */
struct deadline_op;
struct deadline_op_group;
struct deadline_ops {
	struct deadline_note *notes; /* in the records' order */
	size_t n_notes, notes_cap;
	struct deadline_op *v; /* the changes: in the records' order */
	size_t n, cap;
	struct deadline_op_group *groups; /* the changes by (due, unit) */
	size_t ngroups, groups_cap;
	uint32_t *slots; /* groups by (due, unit): a hash, open addressing; 0 is empty */
	size_t nslots;
	const struct deadline_op **order, **spare; /* one group's changes in key order */
	size_t order_cap, spare_cap;
	uint8_t *buf; /* a group being built */
	size_t buf_cap;
	uint8_t old[DEADLINE_TAIL_MAX]; /* the group being replaced, copied */
	uint8_t *log;			/* a log value being written; the ids of the log merged */
	size_t log_cap;
	struct deadline_op *mine; /* the commit's changes, while the log's go before them */
	size_t mine_cap;
	int straight; /* tests of the groups and tails: no change logged, all written there */
};

/*
 * Notes in ops that the index entry of the record stored as old (facts of; NULL: none) is to be
 * replaced by the one of r (facts f), of unit; r must live until deadline_ops_write. 0 or
 * XXGK_ENOMEM.
 */
int deadline_index_change(struct deadline_ops *ops, uint32_t unit, const Xxgk__V1__Record *old,
			  const struct record_facts *of, const Xxgk__V1__Record *r,
			  const struct record_facts *f);

/*
 * In the write transaction of the records that made them: computes the entries noted on cal,
 * writes the changes to the index and empties ops. 0, an LMDB code, XXGK_ECORRUPT (a damaged group)
 * or XXGK_ENOMEM.
 */
int deadline_ops_write(MDB_txn *txn, const struct deadline_dbs *db, struct deadline_ops *ops,
		       const struct calendar *cal);
void deadline_ops_clear(struct deadline_ops *ops);
void deadline_ops_free(struct deadline_ops *ops);

/*
 * Sets f->app.late of a checked record's facts: 1 when it is an application answered after its
 * due date on cal (NULL: none), else 0. The late answers' counter follows from it (rules.c).
 */
void deadline_facts_late(const struct calendar *cal, struct record_facts *f);

/*
 * Calls fn with every entry due from..to (keys), in key order: its due key, unit number, id and
 * value. fn returning non-zero stops and is returned; a damaged group is XXGK_ECORRUPT.
 */
typedef int (*deadline_entry_fn)(void *ctx, uint32_t due, uint32_t unit, const char *id,
				 const uint8_t *val);
int deadline_index_read(MDB_txn *txn, const struct deadline_dbs *db, uint32_t from, uint32_t to,
			deadline_entry_fn fn, void *ctx);

/* Drops every entry and indexes every stored record again on cal. 0 or an error. */
int deadline_index_rebuild(MDB_txn *txn, const struct deadline_dbs *db, MDB_dbi records,
			   const struct calendar *cal);

/*
 * Differences between the index and a rebuild from the records, one line each, to fn; of the
 * unit numbered unit only, or of every unit (UINT32_MAX).
 */
typedef void (*deadline_difference_fn)(void *ctx, const char *line);
int deadline_index_verify(MDB_txn *txn, const struct deadline_dbs *db, MDB_dbi records,
			  const struct calendar *cal, uint32_t unit, deadline_difference_fn fn,
			  void *ctx);

#endif
