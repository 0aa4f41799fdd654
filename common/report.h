/* The report of one year and scope: every cell of both templates, derived from the flows. */
#ifndef XXGK_REPORT_H
#define XXGK_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cells.h"

struct report {
	int year;
	int template_year; /* 2019 or 2021: which cells are printed */
	int64_t app[APP_ROW_COUNT][APP_COLUMNS_WITH_TOTAL];
	int64_t cases[CASE_GROUP_COUNT][CASE_COLUMN_COUNT];
	int64_t pro[PRO_CELL_COUNT];
	int64_t late_answers; /* concluded in the year after their due date; no cell */
};

/*
 * Fills every cell of out: flows_year holds each counter's flow in the year, flows_before its
 * sum over all earlier years. Stocks are prefix sums, totals are sums, so the identities of the
 * report (T3-BAL, T3-OUT, T3-ROW, X-CARRY, T4-TOT) hold by construction. Every sum is checked:
 * returns 0, or XXGK_ERANGE when one would pass int64 (flows beyond COUNTER_MAX), and then the
 * cells are not to be used.
 */
int report_assemble(struct report *out, int year, int template_year,
		    const int64_t flows_year[COUNTER_COUNT],
		    const int64_t flows_before[COUNTER_COUNT]);

typedef void (*report_cell_fn)(void *ctx, const char *key, int64_t value);

/*
 * Calls fn for every cell the report's template prints, in table order (二, 三, 四), with its key
 * under the names of DOMAIN.md, e.g. "applications.granted.natural_person".
 */
void report_foreach_cell(const struct report *r, report_cell_fn fn, void *ctx);

/*
 * The inverse: a report of year and template_year (2019 or 2021) whose cells are keys[i] =
 * values[i]; cells not named are 0. Returns 0, or -1 when a key is no cell of the template.
 */
int report_from_cells(struct report *r, int year, int template_year, const char *const *keys,
		      const int64_t *values, size_t n);

#endif
