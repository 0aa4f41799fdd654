/*
 * Checks of a store's files that a damaged file cannot crash: store_check_file reads data.mdb
 * with pread only (no map, so a truncated file cannot raise SIGBUS), store_check_walk reads
 * every page through LMDB and is meant to run in a child process (see daemon/store_guard.h),
 * where a crash only says "damaged".
 */
#ifndef XXGK_STORE_CHECK_H
#define XXGK_STORE_CHECK_H

#include <stddef.h>
#include <stdint.h>

/*
 * Written next to data.mdb once a store has committed: from then on a missing, empty or short
 * data.mdb is damage, not a new store. lock.mdb (LMDB's, made at the first open) counts as
 * existing state too, for stores made before the marker existed.
 */
#define STORE_MARKER "store.committed"

/*
 * Checks dir/data.mdb against its two meta pages: page flags, magic, data version, page size
 * and the trees' roots, of the meta LMDB would use. Returns 0 (also when dir holds no store and
 * no state: a new store), XXGK_ECORRUPT with the reason in why, or an error when the file
 * cannot be read. Sets *missing to the pages that meta counts past the end of the file, with
 * the reason in why: truncation, unless they are all free pages, which only the walk can tell
 * (LMDB leaves unwritten a page it freed in the transaction that allocated it).
 */
int store_check_file(const char *dir, uint64_t *missing, char *why, size_t len);

/* Writes dir's STORE_MARKER if it is not there yet; 0 or an error. */
int store_mark_committed(const char *dir);

/*
 * Opens the environment in dir read-only and walks every B-tree (LMDB's free list and main
 * database, meta, units, records, counters, and activity, freezes, snapshots, audit,
 * published, the deadlines index's groups and an earlier version's "deadlines" when there),
 * checking key order, sizes, every record's decoding and every group's form (no two of one
 * unit's day overlapping), and, unless live, that every page past
 * the end of the file is a free one. live: a daemon may be committing meanwhile, so the file's
 * size and the newest meta do not belong to the walk's snapshot and that check would call a
 * growing store truncated (an in-use page past the end still faults the walk). Sets *entries to
 * the entries read. Returns 0, XXGK_ECORRUPT with the reason in why, or an error. Run it where a
 * crash cannot hurt: a damaged page may make LMDB fault.
 */
int store_check_walk(const char *dir, int live, uint64_t *entries, char *why, size_t len);

#endif
