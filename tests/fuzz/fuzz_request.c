/*
 * libFuzzer: any bytes as a Request, decoded as xxgkd decodes them (into an arena) and, for a
 * push, applied to a real store, which validates every record; for a report query, answered.
 * Every so often the store must still verify: whatever a peer sends, counters stay exact and
 * within their limit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "store.h"
#include "xxgk.pb-c.h"

static struct store *st;
static struct arena arena;
static struct store_status statuses[1000];
static unsigned long runs;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	static char dir[] = "/tmp/xxgk-fuzz-request-XXXXXX";
	static const struct store_unit units[] = {{"u0", 1}, {"u1", 2}, {"u2", 3}, {"u3", 4}};
	/* a low counter limit, so that pushes reach it and the record-by-record path is fuzzed */
	struct store_options opt = {.map_size = 1 << 20, .no_sync = 1, .counter_max = 1000000};
	if (mkdtemp(dir) == NULL || store_open(&st, dir, &opt) || store_set_units(st, units, 4)) {
		fprintf(stderr, "fuzz_request: cannot set up a store in %s\n", dir);
		abort();
	}
	arena_init(&arena, (size_t)64 << 20);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Xxgk__V1__Request *req = xxgk__v1__request__unpack(&arena.allocator, size, data);
	if (req && req->body_case == XXGK__V1__REQUEST__BODY_PUSH && req->push &&
	    req->push->n_records <= 1000) {
		if (store_apply(st, req->push->records, req->push->n_records, statuses) != 0)
			abort();
	} else if (req && req->body_case == XXGK__V1__REQUEST__BODY_REPORT && req->report) {
		struct report r;
		struct report_scope scope = {.type = SCOPE_CITY};
		if (req->report->scope_case == XXGK__V1__REPORT_QUERY__SCOPE_KIND)
			scope =
			    (struct report_scope){.type = SCOPE_KIND, .kind = req->report->kind};
		else if (req->report->scope_case == XXGK__V1__REPORT_QUERY__SCOPE_UNIT)
			scope =
			    (struct report_scope){.type = SCOPE_UNIT, .unit = req->report->unit};
		store_report(st, (int)req->report->year, &scope, req->report->template_, &r);
	}
	arena_reset(&arena);
	if (++runs % 5000 == 0) {
		size_t differences = 0;
		if (store_verify(st, NULL, NULL, &differences) || differences) {
			fprintf(stderr, "fuzz_request: verify found %zu differences\n",
				differences);
			abort();
		}
	}
	return 0;
}
