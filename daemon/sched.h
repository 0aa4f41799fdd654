/*
 * Scheduling hints for the daemon's threads, under Linux's EEVDF scheduler (6.6+): a thread's
 * time slice sets how soon its deadline comes, so a short slice makes a waking thread run at
 * once and a long one lets others go first. Unprivileged; where unsupported, nothing changes.
 */
#ifndef XXGK_SCHED_H
#define XXGK_SCHED_H

#include <stdint.h>

/* Sets the calling thread's nice value and time slice (nanoseconds, 0 for the default). */
int sched_hint(int nice, uint64_t slice_ns);

/* The same for every thread of this process whose name starts with prefix (e.g. "ZMQbg/IO"). */
void sched_hint_threads(const char *prefix, int nice, uint64_t slice_ns);

#endif
