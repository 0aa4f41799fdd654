/*
 * An independent model of the report: it counts the cells of a year straight from the live
 * records, following shared/DOMAIN.md's "Cells from events", with no counters and no prefix
 * sums. Tests compare the store's reports with it.
 */
#ifndef XXGK_MODEL_H
#define XXGK_MODEL_H

#include <stddef.h>

#include "record.h"
#include "report.h"

struct model_record {
	int unit; /* index of the unit in the test's city */
	struct record_facts f;
};

/* in_scope(unit, ctx) says which units count; NULL counts every unit. */
void model_report(const struct model_record *records, size_t n, int (*in_scope)(int, void *),
		  void *ctx, int year, int template_year, struct report *out);

/* Whether unit has a live submission (报送) of year among the records: it is not silent. */
int model_submitted(const struct model_record *records, size_t n, int unit, int year);

#endif
