/*
 * The ZAP decision (ZeroMQ RFC 27), apart from the sockets so that it can be tested and fuzzed:
 * given the frames of a request, whom to let in.
 */
#ifndef XXGK_ZAP_H
#define XXGK_ZAP_H

#include <stddef.h>

#include "config.h"

/*
 * Frames: version, request id, domain, address, routing id, mechanism, credentials. Returns
 * the client of a well-formed CURVE request whose key is configured, else NULL (refuse). The
 * client's key in Z85 (or "") is written to z85 (KEY_Z85_LEN + 1 bytes) for the log.
 */
const struct client_config *zap_decide(const struct config *c, const void *const *frames,
				       const size_t *sizes, size_t count, char *z85);

#endif
