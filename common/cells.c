#include "cells.h"

#include <stdio.h>

/* A label literal of "" marks a row or cell absent from that template. */
#define TEMPLATES(label2019, label2021)                                                            \
	((sizeof(label2019) > 1 ? TEMPLATE_BIT_2019 : 0u) |                                        \
	 (sizeof(label2021) > 1 ? TEMPLATE_BIT_2021 : 0u))

const struct app_column_desc app_columns[APP_COLUMNS_WITH_TOTAL] = {
#define APP_COLUMN(id, key, label) [APP_COL_##id] = {key, label},
#include "cells.def"
    [APP_COL_TOTAL] = {"total", "总计"},
};

const struct app_row_desc app_rows[APP_ROW_COUNT] = {
#define APP_ROW(id, key, label2019, label2021, source, outcome)                                    \
	[APP_ROW_##id] = {key,	     label2019,                                                    \
			  label2021, APP_SRC_##source,                                             \
			  outcome,   TEMPLATES(label2019, label2021)},
#include "cells.def"
};

const struct case_group_desc case_groups[CASE_GROUP_COUNT] = {
#define CASE_GROUP(id, key, label) [CASE_GROUP_##id] = {key, label},
#include "cells.def"
};

const struct case_column_desc case_columns[CASE_COLUMN_COUNT] = {
#define CASE_COLUMN(id, key, label, source) [CASE_COL_##id] = {key, label, CASE_SRC_##source},
#include "cells.def"
};

const char *const pro_flow_keys[PRO_FLOW_COUNT] = {
#define PRO_FLOW(id, key) [PRO_FLOW_##id] = key,
#include "cells.def"
};

const struct pro_row_desc pro_rows[PRO_ROW_COUNT] = {
#define PRO_ROW(id, key, item, label2019, label2021)                                               \
	[PRO_ROW_##id] = {key, item, label2019, label2021, TEMPLATES(label2019, label2021)},
#include "cells.def"
};

const struct pro_cell_desc pro_cells[PRO_CELL_COUNT] = {
#define PRO_CELL(id, row, key, label2019, label2021, op, flow_a, flow_b, is_money)                 \
	[PRO_CELL_##id] = {PRO_ROW_##row,     key,	   label2019,                              \
			   label2021,	      PRO_OP_##op, PRO_FLOW_##flow_a,                      \
			   PRO_FLOW_##flow_b, is_money,	   TEMPLATES(label2019, label2021)},
#include "cells.def"
};

const char *const record_kind_names[RECORD_KIND_COUNT] = {"application", "document", "case",
							  "tally"};

const char *const labels[LABEL_COUNT] = {
#define LABEL(id, text) [LABEL_##id] = text,
#include "cells.def"
};

const char *app_heading(int row, int template_year)
{
	const char *h = NULL;
#define APP_HEADING(r, label2019, label2021)                                                       \
	if (row == APP_ROW_##r)                                                                    \
		h = template_year == 2019 ? label2019 : label2021;
#include "cells.def"
	return h && h[0] ? h : NULL;
}

unsigned cells_template_bit(int template_year)
{
	switch (template_year) {
	case 2019:
		return TEMPLATE_BIT_2019;
	case 2021:
		return TEMPLATE_BIT_2021;
	default:
		return 0;
	}
}

int cells_template_for_year(int year)
{
	return year <= 2020 ? 2019 : 2021;
}

static const char *outcome_row_key(int outcome)
{
	for (int r = 0; r < APP_ROW_COUNT; r++)
		if (app_rows[r].source == APP_SRC_OUTCOME && app_rows[r].outcome == outcome)
			return app_rows[r].key;
	return "?";
}

void counter_name(int counter, char *buf, size_t size)
{
	if (counter < COUNTER_APP_OUTCOME) {
		snprintf(buf, size, "applications.new_received.%s",
			 app_columns[counter - COUNTER_APP_RECEIVED].key);
	} else if (counter < COUNTER_CASE) {
		int i = counter - COUNTER_APP_OUTCOME;
		snprintf(buf, size, "applications.%s.%s", outcome_row_key(i / APP_COLUMN_COUNT + 1),
			 app_columns[i % APP_COLUMN_COUNT].key);
	} else if (counter < COUNTER_PRO) {
		int i = counter - COUNTER_CASE;
		snprintf(buf, size, "reviews.%s.%s", case_groups[i / (CASE_COLUMN_COUNT - 1)].key,
			 case_columns[i % (CASE_COLUMN_COUNT - 1)].key);
	} else if (counter < COUNTER_RECORDS) {
		snprintf(buf, size, "flows.%s", pro_flow_keys[counter - COUNTER_PRO]);
	} else if (counter < COUNTER_SUBMITTED) {
		snprintf(buf, size, "records.%s", record_kind_names[counter - COUNTER_RECORDS]);
	} else if (counter == COUNTER_SUBMITTED) {
		snprintf(buf, size, "submitted");
	} else if (counter == COUNTER_LATE_ANSWERS) {
		snprintf(buf, size, "late_answers");
	} else {
		snprintf(buf, size, "counter.%d", counter);
	}
}
