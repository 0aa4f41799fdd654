/*
 * The ZAP decision (ZeroMQ RFC 27), apart from the sockets so that it can be tested and fuzzed:
 * given the frames of a request, whom to let in, and on which socket.
 */
#ifndef XXGK_ZAP_H
#define XXGK_ZAP_H

#include <stddef.h>

#include "config.h"

/* Each CURVE socket's ZAP domain (ZMQ_ZAP_DOMAIN): it tells the handler which socket asks. */
#define ZAP_DOMAIN_INGEST "xxgk-ingest"
#define ZAP_DOMAIN_LIVE "xxgk-live"
#define ZAP_DOMAIN_ADMIN "xxgk-admin"

enum zap_verdict {
	ZAP_LET_IN,
	ZAP_MALFORMED,	 /* not a well-formed CURVE request of one of our domains */
	ZAP_UNKNOWN_KEY, /* no [client] has this key */
	ZAP_NOT_ADMIN,	 /* the live changes are for admin keys, as the reports are */
};

/*
 * Frames: version, request id, domain, address, routing id, mechanism, credentials. The
 * client's key in Z85 (or "") is written to z85 (KEY_Z85_LEN + 1 bytes): let in, it is the
 * connection's User-Id, by which every record and admin request is authorized against the
 * configuration in force. *client is the key's client, or NULL (for the log).
 */
enum zap_verdict zap_decide(const struct config *c, const void *const *frames, const size_t *sizes,
			    size_t count, char *z85, const struct client_config **client);

/* Whether a key that is an admin key in old is none in new (removed, replaced or demoted). */
int zap_admin_key_lost(const struct config *old, const struct config *new_);

#endif
