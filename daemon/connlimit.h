/*
 * Descriptors: xxgkd raises its soft RLIMIT_NOFILE to the hard limit, and caps the connections
 * of each listening socket so that descriptors stay in reserve for the store, the admin socket
 * and ZeroMQ's own. Running out must never happen: libzmq 4.3 aborts when accept() on an ipc://
 * listener fails with EMFILE, and a TCP listener at EMFILE spins.
 *
 * libzmq has no option for a connection cap, so a thread of its own watches each listener's
 * monitor: ZMQ_EVENT_ACCEPTED carries the new connection's descriptor, DISCONNECTED ends it. A
 * connection accepted beyond the cap is shut down (never closed: the descriptor stays
 * libzmq's, which closes it when it sees the end). A thread, because the loop may be inside a
 * long group commit while connections pour in.
 */
#ifndef XXGK_CONNLIMIT_H
#define XXGK_CONNLIMIT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define CONNLIMIT_LISTENERS_MAX 4

struct connlimit_listener {
	void *socket;		     /* a bound ZeroMQ socket not yet handed to another thread */
	const char *name;	     /* for the log */
	_Atomic uint64_t *connected; /* kept up to date, may be NULL */
};

struct connlimit;

/* Raises the soft RLIMIT_NOFILE to the hard limit where allowed, and logs what is in force. */
void connlimit_raise_nofile(void);

/*
 * The connections one listener may hold: connections_max, or less when the descriptor limit
 * minus those in use and a reserve, split between n listeners, is less. At least 1.
 */
int connlimit_cap(long nofile, long in_use, int connections_max, size_t n);

/*
 * Starts watching n listeners (at most CONNLIMIT_LISTENERS_MAX): each may hold connlimit_cap
 * connections, counting the descriptors open now. Call it once every socket is bound. 0 or a
 * negative XXGK_ code.
 */
int connlimit_start(struct connlimit **out, void *zmq, const struct connlimit_listener *l, size_t n,
		    int connections_max);

/* Stops the thread and closes its sockets (before zmq_ctx_term). NULL is fine. */
void connlimit_stop(struct connlimit *c);

#endif
