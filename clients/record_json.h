/*
 * Records from JSON: the protobuf JSON mapping of xxgk.v1.Record (field names as in the .proto
 * or in lowerCamelCase, enum values by name, 64-bit integers as numbers or strings), read by
 * walking protobuf-c's descriptors, so the schema is the only list of fields.
 */
#ifndef XXGK_RECORD_JSON_H
#define XXGK_RECORD_JSON_H

#include <stddef.h>

#include "xxgk.pb-c.h"

/*
 * Parses one JSON object into a new Record (free it with xxgk__v1__record__free_unpacked(r,
 * NULL)). Returns NULL with the reason in err when the text is not JSON, a field is unknown,
 * a value has the wrong type or an enum name is unknown.
 */
Xxgk__V1__Record *record_from_json(const char *text, size_t len, char *err, size_t err_size);

/* A record as one line of JSON (no newline), under the .proto's field names; free() it. */
char *record_to_json(const Xxgk__V1__Record *r);

/* The same from a parsed JSON object. */
typedef struct json_t json_t;
Xxgk__V1__Record *record_from_json_value(const json_t *obj, char *err, size_t err_size);

#endif
