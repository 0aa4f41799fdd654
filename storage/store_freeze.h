/*
 * Frozen years (shared/DOMAIN.md "Closing a year"): the office freezes a year, which stores the
 * report of every scope as published; from then on a record that would change a cell of that
 * year is rejected (FROZEN). An unfreeze, with a reason, opens the year for a restatement, and
 * the next freeze publishes it again as a new generation. Every snapshot stays stored, so that
 * a restatement can be compared with what was published before it, and every freeze and
 * unfreeze is kept in an audit log.
 *
 * Databases of the environment (created at open; a store from before has none and gets them):
 *   freezes:   year u16 BE -> [generation u32 BE][frozen u8][template u16 BE][at i64 BE][by]
 *   snapshots: [year u16 BE][generation u32 BE][scope u8][scope id u32 BE] -> int64 cells
 *              (native order) in report_foreach_cell order of the template
 *   audit:     sequence u64 BE -> packed FreezeEvent
 *   published: [year u16 BE][generation u32 BE] -> packed Published: the government and the
 *              listed units (name, kind, silent) at the freeze, which the published report
 *              prints besides the cells (a freeze stored before it was kept has none)
 *
 * This header is the store's inside: the part of store.c that store_freeze.c uses, and the
 * year arithmetic of the FROZEN rule (pure, unit-tested).
 */
#ifndef XXGK_STORE_FREEZE_H
#define XXGK_STORE_FREEZE_H

#include <lmdb.h>
#include <stdint.h>

#include "date.h"
#include "deltas.h"
#include "report.h"
#include "rules.h"

#define FREEZE_YEARS (DATE_YEAR_MAX - DATE_YEAR_MIN + 1)

/* The writer's copy of the freezes database, loaded at open, changed after each commit. */
struct freeze_state {
	MDB_dbi db_freezes, db_snapshots, db_audit, db_published;
	int present; /* the databases exist (a read-only store from before may lack them) */
	int has_published;
	struct {
		uint8_t frozen;
		uint16_t template_year;
		uint32_t generation;
	} years[FREEZE_YEARS];
};

struct store;

/*
 * Whether replacing a record's old flows by its new ones changes a cell of year as printed in
 * template_year: a flow of year y counts when y == year, or when y < year and its counter feeds
 * a stock of year (上年结转, 现行有效件数, ...), as report_assemble derives them. Flows that
 * cancel (received and concluded in the same earlier year) change nothing. A net change of
 * COUNTER_SUBMITTED in year changes the published silent units, so it counts too.
 */
int freeze_changes_year(const struct flow *old, int n_old, const struct flow *new_flows, int n_new,
			int year, int template_year);

/*
 * The first frozen year whose cells the change would move, or 0 if none. Writer only.
 */
int freeze_check(const struct freeze_state *fs, const struct flow *old, int n_old,
		 const struct flow *new_flows, int n_new);

/* Opens (create: creates) the databases in txn and loads the frozen years. 0 or an LMDB code. */
int freeze_open(MDB_txn *txn, struct freeze_state *fs, int create);

/* ---- from store.c, for store_freeze.c ---- */

struct freeze_state *store_freeze_state(struct store *st);

/*
 * Runs fn in a write transaction (retried on a full map as store_apply is) and commits. fn
 * returns 0, an LMDB code or errno, or a negative XXGK_ code; anything but 0 aborts.
 */
typedef int (*store_write_fn)(struct store *st, MDB_txn *txn, void *arg);
int store_write(struct store *st, store_write_fn fn, void *arg);

/* A read transaction under the store's lock; end it with store_read_end. */
int store_read_begin(struct store *st, MDB_txn **txn);
void store_read_end(struct store *st, MDB_txn *txn);

/* The report of one scope (SCOPE_*, its id) read in txn. 0 or an error. */
int store_scope_report(struct store *st, MDB_txn *txn, uint8_t scope, uint32_t scope_id, int year,
		       int template_year, struct report *out);

/* Calls fn for every unit ever known (listed or not), in id order; within a transaction. */
typedef int (*store_known_unit_fn)(void *ctx, const char *id, uint32_t number, int kind);
int store_foreach_known_unit(struct store *st, store_known_unit_fn fn, void *ctx);

/* The number of a known unit by its id, 0 if none; within a transaction. */
uint32_t store_known_unit(struct store *st, const char *id);

/* Whether the unit numbered number is listed now and has submitted year (报送), in txn. */
int store_unit_state(struct store *st, MDB_txn *txn, uint32_t number, int year, int *listed,
		     int *submitted);

#endif
