/*
 * A ZeroMQ socket on a libevent loop. ZMQ_FD is edge-triggered and signals only that
 * ZMQ_EVENTS may have changed, so (as FRRouting's frr_zmq.c does):
 *  - the handler drains while ZMQ_EVENTS has POLLIN, up to a cap per pass;
 *  - zsock_rearm() after every send and when stopping at the cap: it re-checks ZMQ_EVENTS and
 *    makes the event active again if messages are waiting, since no new edge may come;
 *  - registration checks once, for messages that arrived before the event existed.
 */
#ifndef XXGK_ZSOCK_H
#define XXGK_ZSOCK_H

#include <event2/event.h>

struct zsock {
	void *socket;
	struct event *ev;
	void (*on_readable)(void *arg);
	void *arg;
};

/* Watches socket; on_readable(arg) runs whenever messages may be waiting. 0 or -1. */
int zsock_watch(struct zsock *z, struct event_base *base, void *socket, void (*on_readable)(void *),
		void *arg);

/* Whether a message can be received now. */
int zsock_readable(struct zsock *z);

/* Re-checks ZMQ_EVENTS and re-activates the event when messages are waiting. */
void zsock_rearm(struct zsock *z);

void zsock_unwatch(struct zsock *z);

#endif
