/*
 * libxxgk: the C API a unit's case system links to talk to xxgkd.
 *
 * This first version is synchronous: one request at a time on a DEALER socket, each answered
 * or timed out. A reply to an earlier, timed-out request is recognised by its request id and
 * dropped. Records may be sent again any number of times: the daemon's revision rule makes a
 * resend harmless.
 */
#ifndef XXGK_CLIENT_H
#define XXGK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "xxgk.pb-c.h"
#include "xxgk_error.h"

struct xxgk_client;

/*
 * Connects to endpoint (e.g. "tcp://127.0.0.1:7410" for ingest, ":7411" for admin). ZeroMQ
 * connects in the background and reconnects on its own; this does not wait for the daemon.
 * Returns 0 or a negative XXGK_E* code.
 */
int xxgk_connect(struct xxgk_client **out, const char *endpoint);

/*
 * CurveZMQ keys, each 40 characters of Z85. xxgk_keys_from_files reads them from certificate
 * files as czmq writes them (zcert: NAME holds the public key, NAME_secret both).
 */
struct xxgk_keys {
	const char *server_public; /* the daemon's public key */
	const char *public_key;	   /* this client's keypair */
	const char *secret_key;
};

/*
 * Fills keys from the daemon's public certificate and this client's secret one, czmq
 * certificates as xxgkctl keygen, czmq's zcert_save and pyzmq's zmq.auth write them (e.g.
 * server.key and NAME.key_secret); the secret must not be readable by others, nor by its group
 * unless the group is this process's. The strings live in storage. Returns 0, or -1 with
 * "FILE: reason" or "FILE:LINE: reason" in err. A file in xxgk's earlier format still reads,
 * and a line on stderr says it is deprecated.
 */
int xxgk_keys_from_files(struct xxgk_keys *keys, char storage[3][41], const char *server_key_file,
			 const char *secret_key_file, char *err, size_t err_size);

/* xxgk_connect over CurveZMQ with keys (NULL: without). */
int xxgk_connect_keys(struct xxgk_client **out, const char *endpoint, const struct xxgk_keys *keys);

/* Closes the connection, dropping anything not yet sent. */
void xxgk_close(struct xxgk_client *c);

/*
 * Sends req (its request_id is set here) and waits up to timeout_ms for the reply, returned in
 * *reply (free it with xxgk__v1__reply__free_unpacked(*reply, NULL)). Returns 0,
 * XXGK_ETIMEDOUT, XXGK_EPROTO for an undecodable reply, or XXGK_ENET.
 */
int xxgk_call(struct xxgk_client *c, Xxgk__V1__Request *req, int timeout_ms,
	      Xxgk__V1__Reply **reply);

/*
 * Pushes records in one request and waits for their statuses: on 0, statuses[i] is the
 * RecordStatus code of records[i], and reasons/messages (when not NULL, n entries each; a
 * message valid until the next call) say why a record was rejected. An Error reply from the
 * daemon returns XXGK_EINVAL with its text in xxgk_last_error(), or XXGK_E2BIG when n is more
 * than the daemon takes in one push (then xxgk_batch_records_max() says how many it takes).
 */
int xxgk_push(struct xxgk_client *c, Xxgk__V1__Record *const *records, size_t n, int *statuses,
	      int *reasons, const char **messages, int timeout_ms);

/* The daemon's message for the last XXGK_EINVAL or XXGK_E2BIG, or "". */
const char *xxgk_last_error(const struct xxgk_client *c);

/* The most records the daemon takes in one push, as its last XXGK_E2BIG said (0: none yet). */
size_t xxgk_batch_records_max(const struct xxgk_client *c);

/*
 * The durable outbox: records a unit's system submits are kept in an LMDB environment in a
 * directory of its own until xxgkd has acknowledged them, so that a record accepted by
 * xxgk_submit survives a crash of the sender and is sent until it is acknowledged.
 */
struct xxgk_outbox;

/*
 * Opens (creating it if needed) the outbox in directory dir, for the ingest endpoint.
 * Records left by an earlier run are sent by the next flush. Returns 0 or a XXGK_E* code.
 */
int xxgk_outbox_open(struct xxgk_outbox **out, const char *dir, const char *endpoint);

/* xxgk_outbox_open over CurveZMQ with keys (NULL: without). */
int xxgk_outbox_open_keys(struct xxgk_outbox **out, const char *dir, const char *endpoint,
			  const struct xxgk_keys *keys);

/* Closes the outbox; what is not yet acknowledged stays in it. */
void xxgk_outbox_close(struct xxgk_outbox *o);

/*
 * Stores n records durably (one fsync'd transaction), in order. When it returns 0 they will be
 * sent, whatever happens to this process. XXGK_EINVAL: a record cannot be packed (nothing was
 * stored).
 */
int xxgk_submit(struct xxgk_outbox *o, Xxgk__V1__Record *const *records, size_t n);

/* Called by xxgk_flush for a record the daemon rejected (it leaves the outbox). */
typedef void (*xxgk_rejection_fn)(void *ctx, const Xxgk__V1__Record *r, int reason,
				  const char *message);

/*
 * Sends what is waiting, oldest first, in batches, until the outbox is empty or timeout_ms has
 * passed; a batch without an answer is sent again after a growing pause (100 ms doubling to
 * 2 s, at most half the time left), and ZeroMQ reconnects on its own. Batches are of 500
 * records at most, and never more than the daemon's batch_records_max once it refused one as
 * over it (then that many). A full batch left unanswered while the daemon answers an empty
 * push (over its max_message_size, or lost in a restart) halves the batch size; it doubles
 * again after 16 full batches answered (after twice as many each time the larger size was
 * dropped again). A smaller batch (all that waits) left so is split for this flush only, and
 * nothing changes while the daemon answers nothing. A record leaves the outbox only once
 * acknowledged
 * (applied, duplicate, stale, or rejected: then reject is called, when not NULL). Returns 0 when
 * the outbox is empty, XXGK_ETIMEDOUT when records remain, or another XXGK_E* code.
 */
int xxgk_flush(struct xxgk_outbox *o, int timeout_ms, xxgk_rejection_fn reject, void *ctx);

/* How many records wait in the outbox, or a negative XXGK_E* code. */
long long xxgk_pending(struct xxgk_outbox *o);

#endif
