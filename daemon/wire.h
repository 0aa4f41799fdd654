/*
 * The daemon's side of the wire: one Request per ROUTER message ([routing id], an optional empty
 * delimiter, [Request]) and one Reply back in the same envelope.
 */
#ifndef XXGK_WIRE_H
#define XXGK_WIRE_H

#include <stdint.h>
#include <zmq.h>

#include "arena.h"
#include "xxgk.pb-c.h"

/* A ROUTER peer's envelope: its routing id and whether it sent an empty delimiter frame. */
struct envelope {
	zmq_msg_t routing;
	int delimiter;
	char principal[65]; /* the client's public key (Z85) from CurveZMQ (ZAP User-Id), or "" */
};

/*
 * Receives one request without blocking, decoded into the arena. Returns NULL when nothing
 * could be read, or after answering a malformed message with an error itself. On non-NULL the
 * caller owns env and closes it with envelope_close.
 */
Xxgk__V1__Request *wire_receive(void *socket, struct arena *arena, struct envelope *env);

void envelope_close(struct envelope *env);

/* Sends reply (request_id set here) to the peer of env; a peer that is gone is logged. */
void wire_reply(void *socket, struct envelope *env, uint64_t request_id, Xxgk__V1__Reply *reply);

/* Sends an Error reply. */
void wire_error(void *socket, struct envelope *env, uint64_t request_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sends the Error reply to a push of more records than batch_records_max, which it carries. */
void wire_error_too_many(void *socket, struct envelope *env, uint64_t request_id,
			 uint32_t batch_records_max, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
