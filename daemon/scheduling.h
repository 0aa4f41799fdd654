/*
 * How xxgkd's threads are scheduled. Queries are short and someone waits for each; ingest is
 * bulk work that may wait a little. On 2 shared cores a query's thread that waits behind the
 * ingest for one tick already costs milliseconds, so the query threads (the admin thread and
 * its ZeroMQ I/O thread) run at real-time priority 1 (SCHED_FIFO) where the process may:
 * RLIMIT_RTPRIO of 1 or more (systemd: LimitRTPRIO=1) or CAP_SYS_NICE. Elsewhere they fall
 * back to a short EEVDF time slice (Linux 6.12+; older kernels ignore it), which helps without
 * guaranteeing.
 */
#ifndef XXGK_SCHEDULING_H
#define XXGK_SCHEDULING_H

#include <sys/types.h>

enum sched_role {
	SCHED_ROLE_QUERY, /* short, latency-bound: real-time priority 1, else a short slice */
	SCHED_ROLE_BULK,  /* throughput-bound: nice 5 and a long slice */
	SCHED_ROLE_LONG,  /* a long request on a query thread (verify, backup): normal */
};

/* Schedules thread tid (0: the calling thread) for role. Returns 1 if it now runs at
 * real-time priority, 0 if not, -1 if no hint could be set. */
int sched_set_role(pid_t tid, enum sched_role role);

/* The same for every thread of this process whose name starts with prefix (e.g.
 * "ZMQbg/IO/1"), waiting up to wait_ms for one to have that name (ZeroMQ's I/O threads name
 * themselves once they run). Returns how many of them run at real-time priority, or -1 if no
 * thread had the name in time. */
int sched_set_role_threads(const char *prefix, enum sched_role role, int wait_ms);

#endif
