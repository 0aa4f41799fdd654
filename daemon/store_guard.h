/*
 * Reads of the whole store that a damaged page could crash run in a child process: xxgkd
 * itself, executed again in a hidden mode (xxgkd --check-store DIR, --verify-store DIR), which
 * opens the store read-only and reports on stdout. A child that dies of a signal, or says so,
 * means the store is damaged; the daemon goes on (verify) or refuses to start (the start check).
 */
#ifndef XXGK_STORE_GUARD_H
#define XXGK_STORE_GUARD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Verify's difference lines the child passes on (it counts them all). */
#define STORE_GUARD_LINES_MAX 100

/* The options of the hidden mode, and its entry point (from main). */
#define STORE_GUARD_CHECK "--check-store"
#define STORE_GUARD_VERIFY "--verify-store"
#define STORE_GUARD_BACKUP "--backup-store" /* DIR DEST */
int store_guard_child(int argc, char **argv);

/*
 * The start check: store_check_file (the meta pages against the file, no map), then the
 * child's walk of every page (about half a second per million records, page cache warm).
 * Logs what is wrong with which file and what to do, and returns -1, or 0 when the store may
 * be opened (a new store too).
 */
int store_guard_start(const char *dir);

/*
 * Verify in a child: the walk, then store_verify. Calls line (up to STORE_GUARD_LINES_MAX
 * times) with each difference and sets *differences to their count. Returns 0, XXGK_ECORRUPT
 * with the reason in why (the store is damaged), or another error with the reason in why.
 * While the child runs, *running holds its pid (0 otherwise), so that a daemon stopping can
 * set it to -1 and kill the child rather than wait for a walk of the whole store; verify then
 * returns XXGK_EIO, "interrupted", never "damaged".
 */
struct store_guard_verify_args {
	const char *unit; /* a part (store_verify_part): NULL or a unit, 0 or a year */
	int year;
	uint64_t rate; /* records a second the child reads at most (verify_rate), 0: no limit */
	/* the child's progress, as it tells it (may be NULL) */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
};
int store_guard_verify(const char *dir, const struct store_guard_verify_args *args,
		       void (*line)(void *ctx, const char *text), void *ctx, size_t *differences,
		       char *why, size_t len, atomic_int *running);

/*
 * store_backup of dir into dest in a child (xxgkd --backup-store DIR DEST [--rate BYTES]) at
 * rate bytes a second at most (0: no limit), at a lower CPU and I/O priority, killed like
 * verify's when the daemon stops. Sets *bytes; returns 0, XXGK_EINVAL when dest holds a store
 * already, or another error with the reason in why.
 */
int store_guard_backup(const char *dir, const char *dest, uint64_t rate, uint64_t *bytes, char *why,
		       size_t len, atomic_int *running);

/*
 * XXGK_TEST_COUNTER_MAX, for tests only: a lower limit for every counter (store_options'
 * counter_max), read by the daemon and by its verify child alike. Returns 0 (*out unchanged when
 * unset), or -1 (logged) for a value that is not a number from 1 to COUNTER_MAX.
 */
int store_guard_test_limit(int64_t *out);

#endif
