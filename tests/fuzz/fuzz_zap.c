/*
 * libFuzzer: any ZAP request frames (each input is frames of <length byte><bytes>) given to the
 * ZAP decision: it must never let in anything but a configured key, never a unit key on the
 * live changes, and never crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zap.h"

static struct config cfg;
static struct client_config clients[2];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	strcpy(clients[0].name, "dept");
	strcpy(clients[0].public_key, "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID");
	strcpy(clients[0].units, "u1");
	strcpy(clients[1].name, "boss");
	strcpy(clients[1].public_key, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
	clients[1].admin = 1;
	cfg.clients = clients;
	cfg.n_clients = 2;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const void *frames[16];
	size_t sizes[16], count = 0;
	char z85[KEY_Z85_LEN + 1];
	while (size > 0 && count < 16) {
		size_t n = data[0] < size - 1 ? data[0] : size - 1;
		frames[count] = data + 1;
		sizes[count++] = n;
		data += 1 + n;
		size -= 1 + n;
	}
	const struct client_config *c;
	enum zap_verdict v = zap_decide(&cfg, frames, sizes, count, z85, &c);
	if (v != ZAP_LET_IN)
		return 0;
	if (c != &clients[0] && c != &clients[1])
		abort();
	if (strcmp(z85, c->public_key) != 0)
		abort(); /* let in under a key that is not its own */
	if (!c->admin && sizes[2] == strlen(ZAP_DOMAIN_LIVE) &&
	    memcmp(frames[2], ZAP_DOMAIN_LIVE, sizes[2]) == 0)
		abort(); /* a unit key on the live changes */
	return 0;
}
