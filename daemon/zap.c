#include "zap.h"

#include <string.h>
#include <zmq.h>

const struct client_config *zap_decide(const struct config *c, const void *const *frames,
				       const size_t *sizes, size_t count, char *z85)
{
	z85[0] = '\0';
	if (count != 7 || sizes[0] != 3 || memcmp(frames[0], "1.0", 3) != 0)
		return NULL;
	if (sizes[5] != 5 || memcmp(frames[5], "CURVE", 5) != 0 || sizes[6] != 32)
		return NULL;
	if (zmq_z85_encode(z85, frames[6], 32) == NULL) {
		z85[0] = '\0';
		return NULL;
	}
	return config_client_by_key(c, z85);
}
