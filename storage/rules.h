/* The rules: which flow counters a record adds to, in which year (shared/DOMAIN.md). */
#ifndef XXGK_RULES_H
#define XXGK_RULES_H

#include <stdint.h>

#include "record.h"

struct flow {
	int year;
	int counter; /* a COUNTER_* id of cells.h */
	int64_t value;
};

#define RULES_FLOWS_MAX 6

/*
 * The flows of a checked record's state; a tombstone has none. Replacing a record subtracts the
 * old state's flows and adds the new one's. Returns how many were written to out.
 */
int rules_flows(const struct record_facts *f, struct flow out[RULES_FLOWS_MAX]);

#endif
