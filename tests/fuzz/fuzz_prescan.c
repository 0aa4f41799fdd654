/*
 * libFuzzer: the pre-parse scan (daemon/prescan.c) against protobuf-c's own decoding of the
 * same bytes. What the scan calls malformed, protobuf-c refuses too; the records it counts are
 * at least those decoded, and the request_id is the one decoded; and a push as an honest
 * client packs it (the decoded request packed again, unknown fields dropped) is never over
 * its budget and is counted exactly, with no NUL found in its C strings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "error.h"
#include "prescan.h"
#include "xxgk.pb-c.h"

#define RECORDS_MAX 1000

static struct arena scan_arena;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	arena_init(&scan_arena, (size_t)64 << 20);
	return 0;
}

/* Unknown fields set aside while the request is packed again, and put back to be freed. */
struct set_aside {
	ProtobufCMessage *m;
	size_t n;
	ProtobufCMessageUnknownField *fields;
};

static void set_aside(struct set_aside *a, size_t *k, ProtobufCMessage *m)
{
	a[*k] = (struct set_aside){m, m->n_unknown_fields, m->unknown_fields};
	m->n_unknown_fields = 0;
	m->unknown_fields = NULL;
	++*k;
}

/* The decoded push packed again as a client would, then scanned and decoded in its budget. */
static void check_canonical(Xxgk__V1__Request *req)
{
	struct prescan scan;
	size_t k = 0;
	struct set_aside *aside = malloc((2 + 2 * req->push->n_records) * sizeof(*aside));
	if (aside == NULL)
		return;
	set_aside(aside, &k, &req->base);
	set_aside(aside, &k, &req->push->base);
	for (size_t i = 0; i < req->push->n_records; i++) {
		Xxgk__V1__Record *r = req->push->records[i];
		set_aside(aside, &k, &r->base);
		if (r->body_case != XXGK__V1__RECORD__BODY__NOT_SET && r->application)
			set_aside(aside, &k, &r->application->base); /* the bodies share a union */
	}
	size_t len = xxgk__v1__request__get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL)
		abort();
	xxgk__v1__request__pack(req, buf);
	int rc = prescan_request(buf, len, RECORDS_MAX, &scan_arena, &scan);
	if (rc != 0 || scan.records != req->push->n_records || scan.nul_field != NULL) {
		fprintf(stderr, "prescan: a canonical push of %zu records scanned as %zu (rc %d)\n",
			req->push->n_records, scan.records, rc);
		abort();
	}
	struct arena budget;
	arena_init(&budget, scan.budget);
	Xxgk__V1__Request *again = xxgk__v1__request__unpack(&budget.allocator, len, buf);
	if (again == NULL) {
		fprintf(stderr,
			"prescan: a canonical push of %zu records, %zu bytes, is over its "
			"budget of %zu bytes\n",
			req->push->n_records, len, scan.budget);
		abort();
	}
	arena_free(&budget);
	free(buf);
	while (k--) {
		aside[k].m->n_unknown_fields = aside[k].n;
		aside[k].m->unknown_fields = aside[k].fields;
	}
	free(aside);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prescan scan;
	int rc = prescan_request(data, size, RECORDS_MAX, &scan_arena, &scan);
	Xxgk__V1__Request *req = xxgk__v1__request__unpack(NULL, size, data);
	if (rc == XXGK_EINVAL && req != NULL) {
		fprintf(stderr, "prescan: malformed, but protobuf-c decodes it\n");
		abort();
	}
	if (rc == 0 && req) {
		if (req->has_request_id && req->request_id != scan.request_id) {
			fprintf(stderr, "prescan: request_id %llu, decoded %llu\n",
				(unsigned long long)scan.request_id,
				(unsigned long long)req->request_id);
			abort();
		}
		if (req->body_case == XXGK__V1__REQUEST__BODY_PUSH && req->push) {
			if (req->push->n_records > scan.records) {
				fprintf(stderr, "prescan: %zu records, decoded %zu\n", scan.records,
					req->push->n_records);
				abort();
			}
			for (size_t i = 0; scan.nul_field && i < scan.records; i++)
				if (scan.nul_field[i] && scan.nul_field[i][0] == '\0')
					abort();
			check_canonical(req);
		}
	}
	if (req)
		xxgk__v1__request__free_unpacked(req, NULL);
	arena_reset(&scan_arena);
	return 0;
}
