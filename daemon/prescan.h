/*
 * A cheap walk of a xxgk.v1.Request's wire bytes before protobuf-c decodes it: what decoding
 * would cost is known, and refused, before any of it is spent. The walk counts a push's records
 * and stops past the limit, sets the budget decoding may allocate, and finds the records with
 * a NUL byte inside a string field (which decoding would silently cut at the NUL).
 */
#ifndef XXGK_PRESCAN_H
#define XXGK_PRESCAN_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* What decoding one record may allocate besides its strings' bytes (structs, pointers, slack). */
#define PRESCAN_RECORD_BYTES 1024
/* What decoding any request may allocate besides twice its size and its records. */
#define PRESCAN_BASE_BYTES ((size_t)64 << 10)

struct prescan {
	uint64_t request_id; /* the last request_id on the wire, 0 if none */
	size_t records;	     /* records of the push; records_max + 1 when there are more */
	size_t budget;	     /* bytes decoding may take from the arena */
	/* per record, the field (e.g. "id", "document.title") of the first string that holds a
	 * NUL byte, or NULL; the array itself is NULL when no record has one */
	const char **nul_field;
	/* the field (e.g. "backup.dir") of the first string of a query that holds a NUL, or NULL */
	const char *query_nul;
};

/*
 * Walks the len bytes of a Request. Returns 0; XXGK_E2BIG as soon as a push has more than
 * records_max records (request_id and records are set); XXGK_EINVAL when the bytes are not
 * protobuf (a truncated field or an unknown wire type), which decoding would refuse too; or
 * XXGK_ENOMEM when the arena is out. The nul_field array and its names live in the arena.
 */
int prescan_request(const uint8_t *data, size_t len, size_t records_max, struct arena *a,
		    struct prescan *out);

#endif
