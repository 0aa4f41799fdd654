/*
 * The store: records with their revisions and the live counters of every unit, unit kind and the
 * city, in one LMDB environment.
 *
 * Threads: one thread writes (store_apply, store_set_units, store_close); any number of threads
 * may read at the same time (store_report, store_silent_units, store_verify, store_stats,
 * store_foreach_*), each in its own LMDB read transaction, never blocking the writer's
 * transactions. The callbacks of the readers must not call the writing functions.
 */
#ifndef XXGK_STORE_H
#define XXGK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "deltas.h"
#include "record.h"
#include "report.h"
#include "xxgk.pb-c.h"

/* Bumped whenever the stored layout or the counter ids of cells.def change. */
#define STORE_SCHEMA_VERSION 1

struct store;

struct store_options {
	size_t map_size; /* initial LMDB map size in bytes; 0 for the default (64 MiB) */
	int no_sync;	 /* tests only: commit without fsync (not durable) */
	/* tests only: a lower limit than COUNTER_MAX for every counter; 0 is COUNTER_MAX */
	int64_t counter_max;
	int read_only;	  /* open an existing store for reading only (store_apply etc. fail) */
	int no_deadlines; /* benchmarks only: keep no deadlines index (its cost, measured) */
	/* tests only: the index's changes go straight into its groups and tails, none logged */
	int no_deadline_log;
};

/* A unit of the city: its id (as records name it) and its UnitKind value. */
struct store_unit {
	const char *id;
	int kind;
};

/* What became of one record: code and reason are RecordStatus values of the wire schema. */
struct store_status {
	Xxgk__V1__RecordStatus__Code code;
	Xxgk__V1__RecordStatus__Reason reason;
	char message[RECORD_MESSAGE_MAX];
};

/*
 * Opens (creating if needed) the store in directory dir. Refuses a store of another schema
 * version with XXGK_ESCHEMA, and a data.mdb that store_check_file finds damaged (or missing
 * where a store was) with XXGK_ECORRUPT. Clears stale reader slots left by dead processes.
 */
int store_open(struct store **out, const char *dir, const struct store_options *opt);

void store_close(struct store *st);

/*
 * Makes units the city's units. A new unit gets a number for ever; a unit whose kind changed
 * has its counters moved between kind rollups; units not listed stay stored (their records still
 * count) but records for them are rejected as unknown until they are listed again.
 * Returns 0, XXGK_EINVAL for an invalid id or kind, or a storage error.
 */
int store_set_units(struct store *st, const struct store_unit *units, size_t n);

/*
 * Applies records in ONE write transaction and writes one status per record. A rejected,
 * duplicate or stale record changes nothing. Records of one batch apply in order, so a later
 * revision in the same batch sees the earlier one. A full map is grown and the batch retried.
 * No counter passes the limit (COUNTER_MAX, or the lower one of the options): when the batch
 * would carry one past it, it is applied again record by record, and each record that would
 * carry a counter past it, given the records before it, is rejected as OVERFLOW.
 * Returns 0 once committed (statuses then final), or an error, in which case nothing of the batch
 * was stored.
 */
int store_apply(struct store *st, Xxgk__V1__Record *const *records, size_t n,
		struct store_status *statuses);

/*
 * The counter changes of the last committed store_apply, merged and in key order: the unit
 * scope's entries say which cells of which unit moved. Valid until the next write.
 */
const struct delta_list *store_changes(const struct store *st);

/* The id of a unit by its number (the scope_id of a unit's counter_key), or NULL. */
const char *store_unit_id(const struct store *st, uint32_t number);

/* The number of a unit by its id (0 if none), and the highest number in use. Writer only. */
uint32_t store_unit_number(const struct store *st, const char *id);
uint32_t store_unit_numbers(const struct store *st);

struct report_scope {
	enum scope_type type;
	int kind;	  /* UnitKind value, for SCOPE_KIND */
	const char *unit; /* unit id, for SCOPE_UNIT */
};

/*
 * Assembles the report of year for scope in template_year (2019, 2021, or 0 to choose by year).
 * Returns 0, XXGK_ENOTFOUND for a unit never known, XXGK_EINVAL for a bad year or template.
 */
int store_report(struct store *st, int year, const struct report_scope *scope, int template_year,
		 struct report *out);

/*
 * Calls fn with the id of every listed unit in scope that has not submitted year: no live
 * submission (报送) of the year is stored for it, whatever records it sent
 * (本年度未报送数据的单位).
 */
typedef void (*store_unit_fn)(void *ctx, const char *unit);
int store_silent_units(struct store *st, int year, const struct report_scope *scope,
		       store_unit_fn fn, void *ctx);

/* A unit's year as xxgkctl units --year shows it. Times are seconds since the epoch, 0: never. */
struct store_unit_year {
	int submitted;		 /* a live submission of the year is stored */
	uint64_t submitted_at;	 /* when it was stored */
	uint64_t records;	 /* live records of the year (the records.* counters) */
	uint64_t last_record_at; /* when a record of the unit (not a submission) was last stored */
};

/*
 * Fills out[i] for the unit ids[i] and year, all from one read transaction; a unit the store
 * never knew gets zeros. Returns 0, XXGK_EINVAL for a bad year, or an error.
 */
int store_unit_years(struct store *st, int year, const char *const *ids, size_t n,
		     struct store_unit_year *out);

typedef void (*store_difference_fn)(void *ctx, const char *difference);

/*
 * Recomputes every counter from the stored records and compares it with the stored counter.
 * Calls fn (which may be NULL) with one line per difference and sets *differences to their
 * count. A counter beyond the limit, or whose recomputed sum passes int64, is a difference.
 * Returns 0 when the comparison ran (whatever it found), or an error.
 */
int store_verify(struct store *st, store_difference_fn fn, void *ctx, size_t *differences);

/* Verify's progress is told every STORE_VERIFY_CHUNK records read. */
#define STORE_VERIFY_CHUNK 4096

/* A part of the store to verify, and whom to tell how far it got. */
struct store_verify_part {
	const char *unit; /* NULL: every unit; else its counters and deadlines entries only */
	int year;	  /* 0: every year; else the counters of that year (of every scope) only */
	/* called every STORE_VERIFY_CHUNK records and at the end of the records (may be NULL):
	 * records read so far, of total (0 when not known: a unit's part) */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
};

/*
 * store_verify of a part (NULL: the whole). A unit's part reads that unit's records only; a
 * year's reads every record (a record's year is in its body) but compares that year's counters
 * only. Returns XXGK_ENOTFOUND for a unit the store does not know, XXGK_EINVAL for a year out of
 * range, else as store_verify.
 */
int store_verify_part(struct store *st, const struct store_verify_part *part,
		      store_difference_fn fn, void *ctx, size_t *differences);

/* Calls fn for every stored counter in key order; fn returning non-zero stops and is returned. */
typedef int (*store_counter_fn)(void *ctx, const struct counter_key *key, int64_t value);
int store_foreach_counter(struct store *st, store_counter_fn fn, void *ctx);

/* Calls fn for every stored record (tombstones too) in key order, as stored (canonical). */
typedef int (*store_record_fn)(void *ctx, const char *unit, const Xxgk__V1__Record *r);
int store_foreach_record(struct store *st, store_record_fn fn, void *ctx);

/*
 * Copies the store, compacted, into directory dir (created if missing; it must not hold a
 * store already) from one read transaction: a consistent, committed state, while writes go on.
 * Sets *bytes to the copy's size. Returns 0, XXGK_EINVAL if dir holds a store, or an error.
 */
int store_backup(struct store *st, const char *dir, uint64_t *bytes);

/* store_backup written out at most rate bytes a second (0: as fast as it goes). */
int store_backup_paced(struct store *st, const char *dir, uint64_t rate, uint64_t *bytes);

/* ---- frozen years (storage/store_freeze.c; shared/DOMAIN.md "Closing a year") ---- */

#define STORE_FREEZE_BY_MAX 64	    /* bytes of who froze: a client name, or "local" */
#define STORE_FREEZE_REASON_MAX 500 /* bytes of an unfreeze's reason */

struct store_freeze_info {
	int frozen;
	uint32_t generation; /* of the last snapshot: 1 for the first freeze; 0 if never frozen */
	int template_year;   /* the snapshot's */
	int64_t at;	     /* when it was frozen, Unix seconds */
	char by[STORE_FREEZE_BY_MAX + 1];
};

/*
 * Freezes year: in ONE write transaction, stores the report of the city, of every unit kind
 * and of every unit ever known, in the template of the year, as published (a new generation),
 * and an audit entry (at, by). From the commit on, store_apply rejects as FROZEN a record that
 * would change a cell of year. Sets *generation and *scopes. Returns 0, XXGK_EINVAL for a year
 * out of range, XXGK_EEXIST when it is frozen already, or a storage error (nothing stored).
 */
/* What the published report prints besides the cells, as configured at the freeze. */
struct store_government {
	const char *name, *region;
	int level;
	const char *const *unit_ids, *const *unit_names; /* the configured units' names */
	size_t n_units;
};

/* ... and, with gov, the government and the silent units of every scope (the published
 * database) in the same transaction. */
int store_freeze(struct store *st, int year, const char *by, int64_t at,
		 const struct store_government *gov, uint32_t *generation, uint64_t *scopes);

/*
 * Opens a frozen year for a restatement; its snapshots stay (see store_restatements), the audit
 * log gets reason. Returns 0, XXGK_EINVAL for a year out of range or a reason that is empty,
 * longer than STORE_FREEZE_REASON_MAX or not UTF-8, XXGK_ENOTFOUND when the year is not frozen.
 */
int store_unfreeze(struct store *st, int year, const char *reason, const char *by, int64_t at,
		   uint32_t *generation);

/* The year's freeze as stored (readers). 0 (info->generation 0 if never frozen) or an error. */
int store_freeze_info(struct store *st, int year, struct store_freeze_info *info);

/*
 * The report of scope as published in the last freeze of year, which must be frozen now.
 * Returns 0, XXGK_ENOTFOUND when the year is not frozen (info->frozen 0) or the unit is not
 * known (info->frozen 1), XXGK_EINVAL for a bad year or kind.
 */
int store_published_report(struct store *st, int year, const struct report_scope *scope,
			   struct report *out, struct store_freeze_info *info);

/*
 * The government and units as published by the freeze in force of year (free it with
 * xxgk__v1__published__free_unpacked); *out NULL for a freeze stored before they were kept.
 */
int store_published_meta(struct store *st, int year, uint32_t generation,
			 Xxgk__V1__Published **out);

/* Calls fn for every entry of the audit log, oldest first; fn returning non-zero stops. */
typedef int (*store_freeze_event_fn)(void *ctx, const Xxgk__V1__FreezeEvent *e);
int store_freeze_events(struct store *st, store_freeze_event_fn fn, void *ctx);

/*
 * Every cell of year whose live value differs from the value published before, and per scope
 * key "silent_units" (published and live: how many) when the silent units differ: while frozen,
 * the snapshot before the current one (what the last restatement changed; none after the first
 * freeze); while open again, the last snapshot (what the next freeze will restate). Sets
 * *generation to the snapshot compared with (0: none, and fn is not called).
 */
typedef int (*store_restatement_fn)(void *ctx, const struct report_scope *scope, const char *key,
				    int64_t published, int64_t live);
int store_restatements(struct store *st, int year, store_restatement_fn fn, void *ctx,
		       uint32_t *generation);

/*
 * For a live report of year Y in scope: calls fn for each column whose 上年结转
 * (applications.carried_in.*) differs from the 结转下年度 of Y-1 as last published, if Y-1
 * was ever frozen.
 */
typedef void (*store_carry_fn)(void *ctx, const char *key, int64_t published, int64_t live);
int store_carry_differences(struct store *st, const struct report *live,
			    const struct report_scope *scope, store_carry_fn fn, void *ctx);

/* ---- answer periods (storage/store_deadline.c; shared/DOMAIN.md "Answer periods") ---- */

/*
 * Makes cal the working-day calendar of the due dates: when it differs from the one the index
 * was computed on (kept in the store), every open application's due date is computed again in
 * ONE write transaction. Writer only; cal is copied. 0 or an error (the index as it was).
 */
int store_set_calendar(struct store *st, const struct calendar *cal);

/* An open application as the deadlines index holds it. */
struct store_deadline {
	const char *unit; /* its id */
	const char *id;
	int received;	/* days since 1970-01-01 */
	int state;	/* enum deadline_state */
	int due;	/* DEADLINE_DUE: the due date */
	int extended;	/* an extension is counted */
	int suspended;	/* working days not counted */
	int error_year; /* DEADLINE_ERROR: the year the calendar does not cover */
};

/*
 * Calls fn for the open applications due from day from to day to (inclusive), in due order, from
 * one read transaction; with others set, first those whose period cannot be counted (errors)
 * and after them those that wait (suspended). fn returning non-zero stops and is returned.
 */
typedef int (*store_deadline_fn)(void *ctx, const struct store_deadline *d);
int store_deadlines(struct store *st, int from, int to, int others, store_deadline_fn fn,
		    void *ctx);

/* Frees reader slots left by dead processes (LMDB's mdb_reader_check); returns how many. */
int store_clear_stale_readers(struct store *st);

struct store_stats {
	uint64_t records; /* stored records, tombstones included */
	uint64_t units;	  /* units listed now */
	uint64_t map_size;
	uint64_t map_used;
	uint64_t readers; /* LMDB reader slots in use */
};
int store_stats(struct store *st, struct store_stats *out);

#endif
