/*
 * libFuzzer: any bytes as a line of xxgk-push's JSON input: parsed, validated, and for a valid
 * record written back as JSON and read again to the same record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct record_facts f;
	Xxgk__V1__Record *r = record_from_json((const char *)data, size, err, sizeof(err));
	if (r == NULL)
		return 0;
	if (record_check(r, &f, err, sizeof(err)) == 0) {
		char *line = record_to_json(r);
		Xxgk__V1__Record *again =
		    line ? record_from_json(line, strlen(line), err, sizeof(err)) : NULL;
		uint8_t a[RECORD_PACKED_MAX], b[RECORD_PACKED_MAX];
		if (again == NULL)
			abort();
		size_t la = record_pack_canonical(r, a, sizeof(a));
		size_t lb = record_pack_canonical(again, b, sizeof(b));
		if (la != lb || memcmp(a, b, la) != 0)
			abort();
		xxgk__v1__record__free_unpacked(again, NULL);
		free(line);
	}
	xxgk__v1__record__free_unpacked(r, NULL);
	return 0;
}
