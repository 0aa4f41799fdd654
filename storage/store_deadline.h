/*
 * The index of answer periods (shared/DOMAIN.md "Answer periods"): every OPEN application (not
 * deleted, no outcome) by its due date, written in the transaction of the record, so that "what
 * is due" is a range read.
 *
 * Database of the environment (created at open; a store from before gets it and is indexed):
 *   deadlines: [due u32 BE][unit number u32 BE][record id] ->
 *              [received u32 BE][state u8][extended u8][error year u16 BE][suspended u16 BE]
 *   due is a day (days since 1970-01-01) for DEADLINE_DUE; DEADLINE_KEY_ERROR (0) for a period
 *   the calendar cannot count; DEADLINE_KEY_SUSPENDED (all ones) for a period that waits.
 *   meta "calendar" -> u64 BE, the fingerprint of the calendar the index was computed on.
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

struct store;

/* Opens (create: creates) the deadlines database in txn. 0 or an LMDB code. */
int deadline_db_open(MDB_txn *txn, MDB_dbi *dbi, int create);

/*
 * The index changes of a commit, collected record by record and written at its end in key
 * order (deadline_ops_write). Zero-initialised; deadline_ops_free frees.
 */
struct deadline_op;
struct deadline_ops {
	struct deadline_op *v;
	size_t n, cap;
};

/*
 * Adds to ops the change that replaces the index entry of the record stored as old (NULL: none)
 * by the one of r (facts f). 0 or XXGK_ENOMEM.
 */
int deadline_index_change(struct deadline_ops *ops, const struct calendar *cal, uint32_t unit,
			  const Xxgk__V1__Record *old, const Xxgk__V1__Record *r,
			  const struct record_facts *f);

/*
 * In the write transaction of the records that made them: writes ops to the index and empties
 * it. 0 or an LMDB code.
 */
int deadline_ops_write(MDB_txn *txn, MDB_dbi dbi, struct deadline_ops *ops);
void deadline_ops_clear(struct deadline_ops *ops);
void deadline_ops_free(struct deadline_ops *ops);

/*
 * Sets f->app.late of a checked record r: 1 when it is an application answered after its due date
 * on cal (NULL: none), else 0. The late answers' counter follows from it (rules.c).
 */
void deadline_facts_late(const struct calendar *cal, const Xxgk__V1__Record *r,
			 struct record_facts *f);

/* Drops every entry and indexes every stored record again on cal. 0 or an error. */
int deadline_index_rebuild(MDB_txn *txn, MDB_dbi dbi, MDB_dbi records, const struct calendar *cal);

/*
 * Differences between the index and a rebuild from the records, one line each, to fn; of the
 * unit numbered unit only, or of every unit (UINT32_MAX).
 */
typedef void (*deadline_difference_fn)(void *ctx, const char *line);
int deadline_index_verify(MDB_txn *txn, MDB_dbi dbi, MDB_dbi records, const struct calendar *cal,
			  uint32_t unit, deadline_difference_fn fn, void *ctx);

#endif
