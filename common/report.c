#include "report.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

/*
 * Checked arithmetic: counters within their limit never make a sum pass int64, but a store
 * holding a counter beyond it (damaged, or written before the limit) must not make a report of
 * wrapped numbers. The first overflow sticks and the report is refused.
 */
static int64_t add(int *overflow, int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r)) {
		*overflow = 1;
		return 0;
	}
	return r;
}

static int64_t sub(int *overflow, int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_sub_overflow(a, b, &r)) {
		*overflow = 1;
		return 0;
	}
	return r;
}

/* The sum over outcome rows of one column; only_missing_in_2019 keeps the rows that the 2019
 * template prints as its one row （六）其他处理. */
static int64_t sum_outcomes(int *overflow, const int64_t *flows, int col, int only_missing_in_2019)
{
	int64_t s = 0;
	for (int r = 0; r < APP_ROW_COUNT; r++) {
		if (app_rows[r].source != APP_SRC_OUTCOME)
			continue;
		if (only_missing_in_2019 && (app_rows[r].templates & TEMPLATE_BIT_2019))
			continue;
		s = add(overflow, s, flows[counter_app_outcome(app_rows[r].outcome, col)]);
	}
	return s;
}

static void assemble_applications(struct report *out, int *overflow, const int64_t *year,
				  const int64_t *before)
{
	for (int c = 0; c < APP_COLUMN_COUNT; c++) {
		int64_t received = year[counter_app_received(c)];
		int64_t concluded = sum_outcomes(overflow, year, c, 0);
		int64_t carried_in = sub(overflow, before[counter_app_received(c)],
					 sum_outcomes(overflow, before, c, 0));
		for (int r = 0; r < APP_ROW_COUNT; r++) {
			const struct app_row_desc *row = &app_rows[r];
			int64_t v = 0;
			switch (row->source) {
			case APP_SRC_RECEIVED:
				v = received;
				break;
			case APP_SRC_CARRIED_IN:
				v = carried_in;
				break;
			case APP_SRC_OUTCOME:
				v = year[counter_app_outcome(row->outcome, c)];
				break;
			case APP_SRC_OTHER_2019:
				v = sum_outcomes(overflow, year, c, 1);
				break;
			case APP_SRC_CONCLUDED:
				v = concluded;
				break;
			case APP_SRC_CARRIED_OUT:
				v = sub(overflow, add(overflow, carried_in, received), concluded);
				break;
			}
			out->app[r][c] = v;
		}
	}
	for (int r = 0; r < APP_ROW_COUNT; r++) {
		int64_t total = 0;
		for (int c = 0; c < APP_COLUMN_COUNT; c++)
			total = add(overflow, total, out->app[r][c]);
		out->app[r][APP_COL_TOTAL] = total;
	}
}

static void assemble_cases(struct report *out, int *overflow, const int64_t *year)
{
	for (int g = 0; g < CASE_GROUP_COUNT; g++) {
		int64_t total = 0;
		for (int c = 0; c < CASE_COLUMN_COUNT; c++) {
			if (case_columns[c].source == CASE_SRC_FLOW) {
				out->cases[g][c] = year[counter_case(g, c)];
				total = add(overflow, total, out->cases[g][c]);
			}
		}
		for (int c = 0; c < CASE_COLUMN_COUNT; c++)
			if (case_columns[c].source == CASE_SRC_SUM)
				out->cases[g][c] = total;
	}
}

static void assemble_proactive(struct report *out, int *overflow, const int64_t *year,
			       const int64_t *before)
{
	for (int i = 0; i < PRO_CELL_COUNT; i++) {
		const struct pro_cell_desc *cell = &pro_cells[i];
		int a = counter_pro(cell->flow_a), b = counter_pro(cell->flow_b);
		switch (cell->op) {
		case PRO_OP_FLOW:
			out->pro[i] = year[a];
			break;
		case PRO_OP_STOCK:
			out->pro[i] = sub(overflow, add(overflow, before[a], year[a]),
					  add(overflow, before[b], year[b]));
			break;
		case PRO_OP_BEFORE:
			out->pro[i] = before[a];
			break;
		}
	}
}

int report_assemble(struct report *out, int year, int template_year,
		    const int64_t flows_year[COUNTER_COUNT],
		    const int64_t flows_before[COUNTER_COUNT])
{
	int overflow = 0;
	memset(out, 0, sizeof(*out));
	out->year = year;
	out->template_year = template_year;
	assemble_applications(out, &overflow, flows_year, flows_before);
	assemble_cases(out, &overflow, flows_year);
	assemble_proactive(out, &overflow, flows_year, flows_before);
	out->late_answers = flows_year[COUNTER_LATE_ANSWERS];
	return overflow ? XXGK_ERANGE : 0;
}

/* Walks the template's cells in table order with their keys and where their values live. */
static void walk(struct report *r, void (*fn)(void *, const char *, int64_t *), void *ctx)
{
	unsigned bit = cells_template_bit(r->template_year);
	char key[96];
	for (int i = 0; i < PRO_CELL_COUNT; i++) {
		if (!(pro_cells[i].templates & bit))
			continue;
		snprintf(key, sizeof(key), "proactive.%s.%s", pro_rows[pro_cells[i].row].key,
			 pro_cells[i].key);
		fn(ctx, key, &r->pro[i]);
	}
	for (int row = 0; row < APP_ROW_COUNT; row++) {
		if (!(app_rows[row].templates & bit))
			continue;
		for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++) {
			snprintf(key, sizeof(key), "applications.%s.%s", app_rows[row].key,
				 app_columns[c].key);
			fn(ctx, key, &r->app[row][c]);
		}
	}
	for (int g = 0; g < CASE_GROUP_COUNT; g++) {
		for (int c = 0; c < CASE_COLUMN_COUNT; c++) {
			snprintf(key, sizeof(key), "reviews.%s.%s", case_groups[g].key,
				 case_columns[c].key);
			fn(ctx, key, &r->cases[g][c]);
		}
	}
}

struct visit {
	report_cell_fn fn;
	void *ctx;
};

static void visit_cell(void *ctx, const char *key, int64_t *slot)
{
	struct visit *v = ctx;
	v->fn(v->ctx, key, *slot);
}

void report_foreach_cell(const struct report *r, report_cell_fn fn, void *ctx)
{
	struct visit v = {fn, ctx};
	/* the walk only reads through the slots it is given here */
	walk((struct report *)r, visit_cell, &v);
}

struct fill {
	const char *const *keys;
	const int64_t *values;
	size_t n, found;
};

static void fill_cell(void *ctx, const char *key, int64_t *slot)
{
	struct fill *f = ctx;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->keys[i], key) == 0) {
			*slot = f->values[i];
			f->found++;
			return;
		}
}

int report_from_cells(struct report *r, int year, int template_year, const char *const *keys,
		      const int64_t *values, size_t n)
{
	struct fill f = {keys, values, n, 0};
	memset(r, 0, sizeof(*r));
	r->year = year;
	r->template_year = template_year;
	if (!cells_template_bit(template_year))
		return -1;
	walk(r, fill_cell, &f);
	return f.found == n ? 0 : -1;
}
