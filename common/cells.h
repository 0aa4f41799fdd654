/* The report's cells and the stored counters, generated from cells.def. */
#ifndef XXGK_CELLS_H
#define XXGK_CELLS_H

#include <stddef.h>
#include <stdint.h>

enum app_column {
#define APP_COLUMN(id, key, label) APP_COL_##id,
#include "cells.def"
	APP_COLUMN_COUNT,
	APP_COL_TOTAL = APP_COLUMN_COUNT, /* the derived 总计 column of table 三 */
	APP_COLUMNS_WITH_TOTAL
};

enum app_row {
#define APP_ROW(id, key, label2019, label2021, source, outcome) APP_ROW_##id,
#include "cells.def"
	APP_ROW_COUNT
};

enum case_group {
#define CASE_GROUP(id, key, label) CASE_GROUP_##id,
#include "cells.def"
	CASE_GROUP_COUNT
};

enum case_column {
#define CASE_COLUMN(id, key, label, source) CASE_COL_##id,
#include "cells.def"
	CASE_COLUMN_COUNT
};

enum pro_flow {
#define PRO_FLOW(id, key) PRO_FLOW_##id,
#include "cells.def"
	PRO_FLOW_COUNT
};

enum pro_row {
#define PRO_ROW(id, key, item, label2019, label2021) PRO_ROW_##id,
#include "cells.def"
	PRO_ROW_COUNT
};

enum pro_cell {
#define PRO_CELL(id, row, key, label2019, label2021, op, flow_a, flow_b, is_money) PRO_CELL_##id,
#include "cells.def"
	PRO_CELL_COUNT
};

enum label {
#define LABEL(id, text) LABEL_##id,
#include "cells.def"
	LABEL_COUNT
};

enum app_source {
	APP_SRC_RECEIVED,
	APP_SRC_CARRIED_IN,
	APP_SRC_OUTCOME,
	APP_SRC_OTHER_2019,
	APP_SRC_CONCLUDED,
	APP_SRC_CARRIED_OUT
};
enum case_source { CASE_SRC_FLOW, CASE_SRC_SUM };
enum pro_op { PRO_OP_FLOW, PRO_OP_STOCK, PRO_OP_BEFORE };

#define OUTCOME_COUNT 21
/* application, document, case, tally: Record body case order; a submission is not counted */
#define RECORD_KIND_COUNT 4

/* Templates a row or cell belongs to. */
#define TEMPLATE_BIT_2019 1u
#define TEMPLATE_BIT_2021 2u

/*
 * Stored counters: the flows that records add to, per (scope, year). Everything else in the
 * report is derived from them. RECORDS counts live records by kind in the year of their first
 * date, so that a unit that sent anything for a year can be told from one that sent nothing.
 * SUBMITTED is 1 for a unit with a live submission (报送) of the year, so that a kind's and the
 * city's count the units that submitted; it is no cell of the report. New counters are appended:
 * the ids of the stored ones do not change.
 */
enum counter_base {
	COUNTER_APP_RECEIVED = 0,
	COUNTER_APP_OUTCOME = COUNTER_APP_RECEIVED + APP_COLUMN_COUNT,
	COUNTER_CASE = COUNTER_APP_OUTCOME + OUTCOME_COUNT * APP_COLUMN_COUNT,
	COUNTER_PRO = COUNTER_CASE + CASE_GROUP_COUNT * (CASE_COLUMN_COUNT - 1),
	COUNTER_RECORDS = COUNTER_PRO + PRO_FLOW_COUNT,
	COUNTER_SUBMITTED = COUNTER_RECORDS + RECORD_KIND_COUNT,
	/* applications concluded in the year after their due date (common/deadline.h), on the
	 * store's calendar: a figure for the report's narrative, no cell of its tables */
	COUNTER_LATE_ANSWERS = COUNTER_SUBMITTED + 1,
	COUNTER_COUNT = COUNTER_LATE_ANSWERS + 1
};

static inline int counter_app_received(int col)
{
	return COUNTER_APP_RECEIVED + col;
}
/* outcome is the Outcome enum value, 1..21 */
static inline int counter_app_outcome(int outcome, int col)
{
	return COUNTER_APP_OUTCOME + (outcome - 1) * APP_COLUMN_COUNT + col;
}
/* column is CASE_COL_UPHELD .. CASE_COL_PENDING */
static inline int counter_case(int group, int column)
{
	return COUNTER_CASE + group * (CASE_COLUMN_COUNT - 1) + column;
}
static inline int counter_pro(int flow)
{
	return COUNTER_PRO + flow;
}
/* kind is the record kind index 0..3 */
static inline int counter_records(int kind)
{
	return COUNTER_RECORDS + kind;
}

struct app_column_desc {
	const char *key;
	const char *label;
};
struct app_row_desc {
	const char *key;
	const char *label2019;
	const char *label2021;
	enum app_source source;
	int outcome;
	unsigned templates;
};
struct case_group_desc {
	const char *key;
	const char *label;
};
struct case_column_desc {
	const char *key;
	const char *label;
	enum case_source source;
};
struct pro_row_desc {
	const char *key;
	const char *item;
	const char *label2019;
	const char *label2021;
	unsigned templates;
};
struct pro_cell_desc {
	enum pro_row row;
	const char *key;
	const char *label2019;
	const char *label2021;
	enum pro_op op;
	enum pro_flow flow_a, flow_b;
	int is_money;
	unsigned templates;
};

extern const struct app_column_desc app_columns[APP_COLUMNS_WITH_TOTAL];
extern const struct app_row_desc app_rows[APP_ROW_COUNT];
extern const struct case_group_desc case_groups[CASE_GROUP_COUNT];
extern const struct case_column_desc case_columns[CASE_COLUMN_COUNT];
extern const char *const pro_flow_keys[PRO_FLOW_COUNT];
extern const struct pro_row_desc pro_rows[PRO_ROW_COUNT];
extern const struct pro_cell_desc pro_cells[PRO_CELL_COUNT];
extern const char *const record_kind_names[RECORD_KIND_COUNT];
extern const char *const labels[LABEL_COUNT];

/* The heading the layout prints above app row `row` in a template, or NULL. */
const char *app_heading(int row, int template_year);

/* The template bit of a template number (2019 or 2021); 0 for anything else. */
unsigned cells_template_bit(int template_year);

/* The template a report year is printed in by default: 2019 up to 2020, 2021 after. */
int cells_template_for_year(int year);

/* A readable name of a stored counter, e.g. "applications.granted.commercial". */
void counter_name(int counter, char *buf, size_t size);

#endif
