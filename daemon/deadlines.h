/*
 * Answer periods in the daemon (shared/DOMAIN.md "Answer periods"): the working-day calendar
 * read from the configuration's files (at start and on SIGHUP, where a change recomputes every
 * due date in one write transaction run by the main loop), the deadlines query of the admin
 * channel, the per-unit counts of xxgkctl status and /metrics, and the midnight (UTC+8) timer
 * that publishes on the live feed the applications that became overdue.
 */
#ifndef XXGK_DAEMON_DEADLINES_H
#define XXGK_DAEMON_DEADLINES_H

#include <event2/event.h>
#include <pthread.h>

#include "arena.h"
#include "calendar.h"
#include "config.h"
#include "store.h"
#include "xxgk.pb-c.h"

#define DEADLINES_SOON 5 /* working days: "due soon" of status and /metrics */

struct deadlines {
	pthread_mutex_t lock; /* the calendar, read by the admin thread too */
	struct calendar *cal;
	struct store *st;
	void *publish;		/* the live feed (PUB), main loop only */
	struct event *midnight; /* one-shot, armed for the next midnight in China */
	int published_from;	/* the first due date not yet published as overdue */
	long tick_ms;		/* XXGK_TEST_DEADLINE_TICK_MS (tests only), else 0 */
	int ticks;		/* with tick_ms: the days the timer has passed */
	int ready;
};

/*
 * Reads the calendar the configuration names (holidays, then holidays_extra). The default file
 * missing is a warning and a calendar that covers no year (every period an error, shown as
 * such); a file the configuration names that cannot be read or parsed is an error: -1 logged,
 * with "FILE:LINE: reason" in err.
 */
int deadlines_load(const struct config *c, struct calendar **out, char *err, size_t err_size);

/* Sets the store's calendar (recomputing the index if it changed) and starts the timer. */
int deadlines_start(struct deadlines *d, struct event_base *base, struct store *st, void *publish,
		    struct calendar *cal);

/*
 * A new calendar (SIGHUP): the index is recomputed in one write transaction; on failure the
 * calendar in force stays (and cal is freed). Main loop only.
 */
int deadlines_reload(struct deadlines *d, struct calendar *cal);

void deadlines_stop(struct deadlines *d);

/*
 * Whether the calendar in force has year (its notice cited): the report's late answers of a year
 * it lacks are not known, so not sent. Any thread.
 */
int deadlines_covers(struct deadlines *d, int year);

/* A unit's counts today (China Standard Time). */
struct deadlines_count {
	const char *unit;
	uint64_t open, due_soon, overdue, uncountable;
};

/*
 * Counts every open application by unit, from one read of the index; *out (malloc'ed, sorted by
 * unit id) gets one entry per unit with open applications. 0 or an error.
 */
int deadlines_counts(struct deadlines *d, struct deadlines_count **out, size_t *n);
void deadlines_counts_free(struct deadlines_count *v, size_t n);

/*
 * Answers a DeadlinesQuery into reply (strings in arena): kind_of gives a unit's kind. At most
 * max entries are listed. Returns 0, or an error with a reason naming the field in msg.
 */
typedef int (*deadlines_kind_fn)(void *ctx, const char *unit);
int deadlines_query(struct deadlines *d, const Xxgk__V1__DeadlinesQuery *q, size_t max,
		    deadlines_kind_fn kind_of, void *ctx, struct arena *arena,
		    Xxgk__V1__DeadlinesReply *reply, char *msg, size_t size);

#endif
