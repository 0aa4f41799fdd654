#include "zap.h"

#include <string.h>
#include <zmq.h>

static int is_domain(const void *frame, size_t size, const char *domain)
{
	return size == strlen(domain) && memcmp(frame, domain, size) == 0;
}

enum zap_verdict zap_decide(const struct config *c, const void *const *frames, const size_t *sizes,
			    size_t count, char *z85, const struct client_config **client)
{
	z85[0] = '\0';
	*client = NULL;
	if (count != 7 || sizes[0] != 3 || memcmp(frames[0], "1.0", 3) != 0)
		return ZAP_MALFORMED;
	if (sizes[5] != 5 || memcmp(frames[5], "CURVE", 5) != 0 || sizes[6] != 32)
		return ZAP_MALFORMED;
	int live = is_domain(frames[2], sizes[2], ZAP_DOMAIN_LIVE);
	if (!live && !is_domain(frames[2], sizes[2], ZAP_DOMAIN_INGEST) &&
	    !is_domain(frames[2], sizes[2], ZAP_DOMAIN_ADMIN))
		return ZAP_MALFORMED;
	if (zmq_z85_encode(z85, frames[6], 32) == NULL) {
		z85[0] = '\0';
		return ZAP_MALFORMED;
	}
	*client = config_client_by_key(c, z85);
	if (*client == NULL)
		return ZAP_UNKNOWN_KEY;
	/* A unit key may still open the TCP admin socket: its requests are refused one by one
	 * with a reason the clerk can read, where a refused handshake would be a silent
	 * timeout. A PUB socket has no reply to refuse with, so the live changes refuse here. */
	if (live && !(*client)->admin)
		return ZAP_NOT_ADMIN;
	return ZAP_LET_IN;
}

int zap_admin_key_lost(const struct config *old, const struct config *new_)
{
	for (size_t i = 0; i < old->n_clients; i++) {
		if (!old->clients[i].admin)
			continue;
		const struct client_config *now =
		    config_client_by_key(new_, old->clients[i].public_key);
		if (now == NULL || !now->admin)
			return 1;
	}
	return 0;
}
