#include "prescan.h"

#include <string.h>

#include "error.h"
#include "xxgk.pb-c.h"

/* Body messages nest one level below a Record; the bound only guards against a schema loop. */
#define NESTING_MAX 8

/* A record that holds a NUL, found on the walk; made into the nul_field array at the end. */
struct nul_note {
	size_t record;
	const char *field;
	struct nul_note *next;
};

struct walk {
	struct arena *a;
	size_t record; /* the index of the record being walked */
	const char *nul;
	int out_of_memory;
};

/* Reads a varint of at most 10 bytes, as protobuf-c does; -1 when truncated or longer. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (*p == end)
			return -1;
		uint8_t b = *(*p)++;
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

/* One field as read: a varint's value, or a length-delimited one's bytes (else 0 and NULL). */
struct field {
	uint64_t number, varint;
	int type;
	const uint8_t *value;
	size_t len;
};

/*
 * Reads one field: its number and wire type, and for a length-delimited one its bytes. Returns
 * -1 for bytes protobuf-c would refuse: truncation, or wire types it does not take (groups).
 */
static int read_field(const uint8_t **p, const uint8_t *end, struct field *f)
{
	uint64_t tag, n;
	*f = (struct field){0};
	if (read_varint(p, end, &tag))
		return -1;
	f->number = tag >> 3;
	f->type = (int)(tag & 7);
	switch (f->type) {
	case PROTOBUF_C_WIRE_TYPE_VARINT:
		return read_varint(p, end, &f->varint);
	case PROTOBUF_C_WIRE_TYPE_64BIT:
		n = 8;
		break;
	case PROTOBUF_C_WIRE_TYPE_32BIT:
		n = 4;
		break;
	case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
		if (read_varint(p, end, &n))
			return -1;
		break;
	default:
		return -1;
	}
	if (n > (uint64_t)(end - *p))
		return -1;
	f->value = *p;
	f->len = (size_t)n;
	*p += n;
	return 0;
}

/* The field being walked, below the fields of the messages that hold it. */
struct path {
	const char *name;
	const struct path *up;
};

/* "outer.inner.name", made only when a NUL was found; NULL when the arena is out. */
static const char *path_string(struct arena *a, const struct path *path)
{
	size_t len = 0;
	for (const struct path *q = path; q; q = q->up)
		len += strlen(q->name) + 1;
	char *s = arena_alloc(a, len);
	if (s == NULL)
		return NULL;
	s[len - 1] = '\0';
	for (const struct path *q = path; q; q = q->up) {
		size_t n = strlen(q->name);
		len -= n + 1;
		memcpy(s + len, q->name, n);
		if (len)
			s[len - 1] = '.';
	}
	return s;
}

/*
 * Walks a message of type desc for string fields holding a NUL byte: every string field of
 * every nested message, found by the descriptors, so no field number is spelled here.
 */
static int walk_strings(struct walk *w, const ProtobufCMessageDescriptor *desc, const uint8_t *data,
			size_t len, const struct path *up, int depth)
{
	const uint8_t *p = data, *end = data + len;
	while (p < end) {
		struct field fl;
		if (read_field(&p, end, &fl))
			return -1;
		if (fl.type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED || fl.number > UINT32_MAX)
			continue;
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field(desc, (unsigned)fl.number);
		if (f == NULL)
			continue;
		struct path here = {f->name, up};
		if (f->type == PROTOBUF_C_TYPE_STRING && w->nul == NULL &&
		    memchr(fl.value, 0, fl.len)) {
			w->nul = path_string(w->a, &here);
			w->out_of_memory |= w->nul == NULL;
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth < NESTING_MAX &&
			   walk_strings(w, f->descriptor, fl.value, fl.len, &here, depth + 1)) {
			return -1;
		}
	}
	return 0;
}

/* The number of a field by its name in the schema. */
static unsigned field_number(const ProtobufCMessageDescriptor *desc, const char *name)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(desc, name);
	return f ? f->id : 0;
}

/* Walks a PushBatch: counts its records and notes those with a NUL. */
static int walk_push(struct walk *w, const uint8_t *data, size_t len, size_t records_max,
		     struct prescan *out, struct nul_note **notes)
{
	const ProtobufCMessageDescriptor *batch = &xxgk__v1__push_batch__descriptor;
	const unsigned records = field_number(batch, "records");
	const uint8_t *p = data, *end = data + len;
	while (p < end) {
		struct field fl;
		if (read_field(&p, end, &fl))
			return XXGK_EINVAL;
		if (fl.number != records || fl.type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
			continue;
		if (++out->records > records_max)
			return XXGK_E2BIG;
		w->record = out->records - 1;
		w->nul = NULL;
		/* no zero byte at all, no NUL in a string: most records are walked no further
		 * (their structure is then decoding's to check) */
		if (memchr(fl.value, 0, fl.len) &&
		    walk_strings(w, &xxgk__v1__record__descriptor, fl.value, fl.len, NULL, 0))
			return XXGK_EINVAL;
		if (w->nul) {
			struct nul_note *note = arena_alloc(w->a, sizeof(*note));
			if (note == NULL)
				return XXGK_ENOMEM;
			*note = (struct nul_note){w->record, w->nul, *notes};
			*notes = note;
		}
	}
	return 0;
}

int prescan_request(const uint8_t *data, size_t len, size_t records_max, struct arena *a,
		    struct prescan *out)
{
	const ProtobufCMessageDescriptor *request = &xxgk__v1__request__descriptor;
	const unsigned push = field_number(request, "push");
	const unsigned request_id = field_number(request, "request_id");
	const uint8_t *p = data, *end = data + len;
	struct walk w = {.a = a};
	struct nul_note *notes = NULL;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	while (p < end) {
		struct field fl;
		if (read_field(&p, end, &fl))
			return XXGK_EINVAL;
		if (fl.number == request_id && fl.type == PROTOBUF_C_WIRE_TYPE_VARINT)
			out->request_id = fl.varint;
		/* a push sent in pieces is merged by decoding: its records add up; past the
		 * limit, the rest is only looked through for the request_id of the refusal */
		if (fl.number == push && fl.type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED &&
		    rc == 0 &&
		    (rc = walk_push(&w, fl.value, fl.len, records_max, out, &notes)) !=
			XXGK_E2BIG &&
		    rc)
			return rc;
		/* a query's strings (a report's unit, a backup's directory) would be cut at a NUL
		 * too: the first such field is named */
		if (fl.number != push && fl.type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED &&
		    out->query_nul == NULL && fl.number <= UINT32_MAX &&
		    memchr(fl.value, 0, fl.len)) {
			const ProtobufCFieldDescriptor *f =
			    protobuf_c_message_descriptor_get_field(request, (unsigned)fl.number);
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
				struct path here = {f->name, NULL};
				w.nul = NULL;
				if (walk_strings(&w, f->descriptor, fl.value, fl.len, &here, 1))
					return XXGK_EINVAL;
				out->query_nul = w.nul;
			}
		}
	}
	if (rc)
		return rc;
	if (w.out_of_memory)
		return XXGK_ENOMEM;
	if (notes) {
		out->nul_field = arena_alloc(a, out->records * sizeof(*out->nul_field));
		if (out->nul_field == NULL)
			return XXGK_ENOMEM;
		memset(out->nul_field, 0, out->records * sizeof(*out->nul_field));
		for (; notes; notes = notes->next)
			out->nul_field[notes->record] = notes->field;
	}
	/* Strings decode to at most their bytes plus alignment, and every record to a bounded
	 * set of structs; twice the size covers the slack of many small fields. */
	out->budget = 2 * len + out->records * PRESCAN_RECORD_BYTES + PRESCAN_BASE_BYTES;
	return 0;
}
