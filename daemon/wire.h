/*
 * The daemon's side of the wire: one Request per ROUTER message ([routing id], an optional empty
 * delimiter, [Request]) and one Reply back in the same envelope.
 */
#ifndef XXGK_WIRE_H
#define XXGK_WIRE_H

#include <stdint.h>
#include <zmq.h>

#include "arena.h"
#include "log.h"
#include "loglimit.h"
#include "prescan.h"
#include "xxgk.pb-c.h"

/* A ROUTER peer's envelope: its routing id and whether it sent an empty delimiter frame. */
struct envelope {
	zmq_msg_t routing;
	int delimiter;
	char principal[65]; /* the client's public key (Z85) from CurveZMQ (ZAP User-Id), or "" */
	char peer[80];	    /* who sent it, for the log: its key, else its address */
	uint64_t route;	    /* a hash of the routing id: one connection */
	const struct wire_limits *limits; /* of the socket it came from: how to log about it */
};

/* What one request may make the daemon spend, and how its bad input is logged. */
struct wire_limits {
	size_t records_max;   /* records in one push; more is refused before decoding */
	struct loglimit *log; /* bad input is logged at most once per peer per interval */
	double log_interval;  /* seconds */
};

enum wire_result {
	WIRE_NOTHING,  /* nothing could be read */
	WIRE_ANSWERED, /* a bad message, answered with an error and closed */
	WIRE_TOO_MANY, /* a push of more than records_max records, not decoded: env is open */
	WIRE_REQUEST,  /* *req decoded into the arena, scan filled: env is open */
};

/*
 * Receives one message without blocking. Its bytes are scanned (prescan.h) before decoding,
 * and decoding may take from the arena no more than the scan's budget. The caller closes env
 * with envelope_close after WIRE_TOO_MANY and WIRE_REQUEST.
 */
enum wire_result wire_receive(void *socket, struct arena *arena, const struct wire_limits *lim,
			      struct envelope *env, Xxgk__V1__Request **req, struct prescan *scan);

/*
 * Logs what went wrong with env's peer (bad input, a reply it does not read) at most once
 * per peer per interval of its limits, with the count of the lines not logged since.
 */
void wire_log_peer(const struct envelope *env, enum log_level level, const char *what);

void envelope_close(struct envelope *env);

/* Sends reply (request_id set here) to the peer of env; a peer that is gone is logged. */
void wire_reply(void *socket, struct envelope *env, uint64_t request_id, Xxgk__V1__Reply *reply);

/* Sends an Error reply; its message is made valid UTF-8 (cut at a character boundary, bad
 * bytes replaced) whatever bytes of a peer it echoes. */
void wire_error(void *socket, struct envelope *env, uint64_t request_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sends the Error reply to a push of more records than batch_records_max, which it carries. */
void wire_error_too_many(void *socket, struct envelope *env, uint64_t request_id,
			 uint32_t batch_records_max, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
