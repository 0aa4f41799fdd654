#include "record_json.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* "legal_case" is "legalCase" in the JSON mapping */
static int json_name_matches(const char *field, const char *key)
{
	for (; *field && *key; field++, key++) {
		if (*field == '_' && field[1]) {
			field++;
			if (*key != (*field >= 'a' && *field <= 'z' ? *field - 32 : *field))
				return 0;
		} else if (*field != *key) {
			return 0;
		}
	}
	return *field == '\0' && *key == '\0';
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
						  const char *key)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
	for (unsigned i = 0; f == NULL && i < d->n_fields; i++)
		if (json_name_matches(d->fields[i].name, key))
			f = &d->fields[i];
	return f;
}

/* A 64-bit integer: a JSON integer, or a string of digits (the JSON mapping allows both). */
static int integer(const json_t *v, int is_signed, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return is_signed || *out >= 0 ? 0 : -1;
	}
	if (!json_is_string(v))
		return -1;
	const char *s = json_string_value(v);
	char *end;
	errno = 0;
	if (is_signed) {
		*out = strtoll(s, &end, 10);
	} else {
		if (*s == '-')
			return -1;
		uint64_t u = strtoull(s, &end, 10);
		if (u > INT64_MAX)
			return -1;
		*out = (int64_t)u;
	}
	return *s && *end == '\0' && errno == 0 ? 0 : -1;
}

static int set_message(ProtobufCMessage *m, const json_t *obj, const char *path, char *err,
		       size_t size);

static int set_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const json_t *v,
		     const char *path, char *err, size_t size)
{
	char *at = (char *)m + f->offset;
	char sub[128];
	snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", f->name);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = (uint32_t *)((char *)m + f->quantifier_offset);
		if (*which != 0 && *which != f->id)
			return fail(err, size, "%s: a record has one body only", sub);
		*which = f->id;
	} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
		   f->type != PROTOBUF_C_TYPE_MESSAGE) {
		*(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		if (!json_is_string(v))
			return fail(err, size, "%s: want a string", sub);
		free(*(char **)at);
		if ((*(char **)at = strdup(json_string_value(v))) == NULL)
			return fail(err, size, "out of memory");
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return fail(err, size, "%s: want true or false", sub);
		*(protobuf_c_boolean *)at = json_is_true(v);
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SINT64: {
		int64_t x;
		if (integer(v, f->type == PROTOBUF_C_TYPE_SINT64, &x))
			return fail(err, size, "%s: want %s", sub,
				    f->type == PROTOBUF_C_TYPE_SINT64 ? "an integer"
								      : "a whole number >= 0");
		*(int64_t *)at = x;
		return 0;
	}
	case PROTOBUF_C_TYPE_UINT32: { /* a submission's year */
		int64_t x;
		if (integer(v, 0, &x) || x > UINT32_MAX)
			return fail(err, size, "%s: want a whole number from 0 to %u", sub,
				    (unsigned)UINT32_MAX);
		*(uint32_t *)at = (uint32_t)x;
		return 0;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *e = f->descriptor;
		const ProtobufCEnumValue *ev = NULL;
		if (json_is_string(v))
			ev = protobuf_c_enum_descriptor_get_value_by_name(e, json_string_value(v));
		else if (json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
			 json_integer_value(v) <= INT32_MAX)
			ev = protobuf_c_enum_descriptor_get_value(e, (int)json_integer_value(v));
		if (ev == NULL)
			return fail(err, size, "%s: unknown value %s%s%s (want one of %s's names)",
				    sub, json_is_string(v) ? "\"" : "",
				    json_is_string(v) ? json_string_value(v) : "of this type",
				    json_is_string(v) ? "\"" : "", e->short_name);
		*(int *)at = ev->value;
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *d = f->descriptor;
		if (!json_is_object(v))
			return fail(err, size, "%s: want an object", sub);
		ProtobufCMessage **slot = (ProtobufCMessage **)at;
		if (*slot == NULL) {
			if ((*slot = malloc(d->sizeof_message)) == NULL)
				return fail(err, size, "out of memory");
			protobuf_c_message_init(d, *slot);
		}
		return set_message(*slot, v, sub, err, size);
	}
	default:
		return fail(err, size, "%s: a field of a type records do not use", sub);
	}
}

static int set_message(ProtobufCMessage *m, const json_t *obj, const char *path, char *err,
		       size_t size)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		const ProtobufCFieldDescriptor *f = find_field(m->descriptor, key);
		if (f == NULL)
			return fail(err, size, "%s%sunknown field \"%s\"", path,
				    path[0] ? ": " : "", key);
		if (json_is_null(v))
			continue; /* the JSON mapping's way of saying absent */
		if (set_field(m, f, v, path, err, size))
			return -1;
	}
	return 0;
}

Xxgk__V1__Record *record_from_json_value(const json_t *obj, char *err, size_t err_size)
{
	if (!json_is_object(obj)) {
		fail(err, err_size, "want a JSON object, one record per line");
		return NULL;
	}
	Xxgk__V1__Record *r = malloc(sizeof(*r));
	if (r == NULL) {
		fail(err, err_size, "out of memory");
		return NULL;
	}
	xxgk__v1__record__init(r);
	if (set_message(&r->base, obj, "", err, err_size)) {
		xxgk__v1__record__free_unpacked(r, NULL);
		r = NULL;
	}
	return r;
}

Xxgk__V1__Record *record_from_json(const char *text, size_t len, char *err, size_t err_size)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		fail(err, err_size, "not JSON: %s (column %d)", jerr.text, jerr.column);
		return NULL;
	}
	Xxgk__V1__Record *r = record_from_json_value(root, err, err_size);
	json_decref(root);
	return r;
}

static json_t *message_to_json(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	json_t *obj = json_object();
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *at = (const char *)m + f->offset;
		json_t *v = NULL;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
				continue;
		} else if (f->type != PROTOBUF_C_TYPE_STRING &&
			   f->type != PROTOBUF_C_TYPE_MESSAGE &&
			   !*(const protobuf_c_boolean *)((const char *)m + f->quantifier_offset)) {
			continue;
		}
		switch (f->type) {
		case PROTOBUF_C_TYPE_STRING:
			if (*(char *const *)at)
				v = json_string(*(char *const *)at);
			break;
		case PROTOBUF_C_TYPE_BOOL:
			v = json_boolean(*(const protobuf_c_boolean *)at);
			break;
		case PROTOBUF_C_TYPE_UINT64:
		case PROTOBUF_C_TYPE_SINT64:
			v = json_integer(*(const int64_t *)at);
			break;
		case PROTOBUF_C_TYPE_UINT32:
			v = json_integer(*(const uint32_t *)at);
			break;
		case PROTOBUF_C_TYPE_ENUM: {
			const ProtobufCEnumValue *ev =
			    protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)at);
			v = ev ? json_string(ev->name) : json_integer(*(const int *)at);
			break;
		}
		case PROTOBUF_C_TYPE_MESSAGE:
			if (*(ProtobufCMessage *const *)at)
				v = message_to_json(*(ProtobufCMessage *const *)at);
			break;
		default:
			break;
		}
		if (v)
			json_object_set_new(obj, f->name, v);
	}
	return obj;
}

char *record_to_json(const Xxgk__V1__Record *r)
{
	json_t *obj = message_to_json(&r->base);
	char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	return s;
}
