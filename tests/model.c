#include "model.h"

#include <string.h>

#include "xxgk.pb-c.h"

static int row_of_outcome(int outcome)
{
	for (int r = 0; r < APP_ROW_COUNT; r++)
		if (app_rows[r].source == APP_SRC_OUTCOME && app_rows[r].outcome == outcome)
			return r;
	return -1;
}

/* Adds 1 to the row's cell and the total column. */
static void count_app(struct report *out, int row, int column)
{
	out->app[row][column]++;
	out->app[row][APP_COL_TOTAL]++;
}

static void model_application(struct report *out, const struct record_facts *f, int year)
{
	int c = f->app.column;
	int concluded = f->app.outcome != 0;
	if (f->app.received_year == year)
		count_app(out, APP_ROW_NEW_RECEIVED, c);
	if (f->app.received_year < year && !(concluded && f->app.concluded_year < year))
		count_app(out, APP_ROW_CARRIED_IN, c);
	if (f->app.received_year <= year && !(concluded && f->app.concluded_year <= year))
		count_app(out, APP_ROW_CARRIED_OUT, c);
	if (concluded && f->app.concluded_year == year) {
		count_app(out, row_of_outcome(f->app.outcome), c);
		count_app(out, APP_ROW_CONCLUDED_TOTAL, c);
		if (f->app.outcome >= XXGK__V1__OUTCOME__OUTCOME_OTHER_NO_CORRECTION)
			count_app(out, APP_ROW_OTHER, c);
	}
}

static void model_document(struct report *out, const struct record_facts *f, int year)
{
	int rule = f->doc.kind == XXGK__V1__DOCUMENT_KIND__DOCUMENT_RULE;
	int repealed_by_end = f->doc.repealed_year && f->doc.repealed_year <= year;
	if (f->doc.made_year == year) {
		out->pro[rule ? PRO_CELL_RULES_MADE : PRO_CELL_NORMDOCS_MADE]++;
		out->pro[rule ? PRO_CELL_RULES_NEW_MADE : PRO_CELL_NORMDOCS_NEW_MADE]++;
	}
	if (f->doc.repealed_year == year)
		out->pro[rule ? PRO_CELL_RULES_REPEALED : PRO_CELL_NORMDOCS_REPEALED]++;
	if (f->doc.made_year <= year && !repealed_by_end)
		out->pro[rule ? PRO_CELL_RULES_IN_FORCE : PRO_CELL_NORMDOCS_IN_FORCE]++;
	if (f->doc.published_year == year)
		out->pro[rule ? PRO_CELL_RULES_NEW_PUBLISHED : PRO_CELL_NORMDOCS_NEW_PUBLISHED]++;
	if (f->doc.published_year && f->doc.published_year <= year && !repealed_by_end)
		out->pro[rule ? PRO_CELL_RULES_PUBLISHED_TOTAL
			      : PRO_CELL_NORMDOCS_PUBLISHED_TOTAL]++;
}

static void model_case(struct report *out, const struct record_facts *f, int year)
{
	if (f->cas.filed_year != year)
		return;
	int closed_in_year = f->cas.result && f->cas.closed_year <= year;
	out->cases[f->cas.group][closed_in_year ? f->cas.result - 1 : CASE_COL_PENDING]++;
	out->cases[f->cas.group][CASE_COL_TOTAL]++;
}

static void model_tally(struct report *out, const struct record_facts *f, int year)
{
	static const struct {
		int measure, flow_cell, prev_cell;
	} map[] = {
	    {XXGK__V1__TALLY_MEASURE__TALLY_LICENSING_DECISIONS, PRO_CELL_LICENSING_DECISIONS, -1},
	    {XXGK__V1__TALLY_MEASURE__TALLY_OTHERSVC_DECISIONS, PRO_CELL_OTHERSVC_DECISIONS, -1},
	    {XXGK__V1__TALLY_MEASURE__TALLY_PENALTY_DECISIONS, PRO_CELL_PENALTY_DECISIONS, -1},
	    {XXGK__V1__TALLY_MEASURE__TALLY_COERCION_DECISIONS, PRO_CELL_COERCION_DECISIONS, -1},
	    {XXGK__V1__TALLY_MEASURE__TALLY_FEES_AMOUNT, PRO_CELL_FEES_AMOUNT, -1},
	    {XXGK__V1__TALLY_MEASURE__TALLY_PROCUREMENT_PROJECTS, PRO_CELL_PROCUREMENT_PROJECTS,
	     -1},
	    {XXGK__V1__TALLY_MEASURE__TALLY_PROCUREMENT_AMOUNT, PRO_CELL_PROCUREMENT_AMOUNT, -1},
	    {XXGK__V1__TALLY_MEASURE__TALLY_LICENSING_ITEMS, PRO_CELL_LICENSING_ITEMS_DELTA,
	     PRO_CELL_LICENSING_ITEMS_PREV},
	    {XXGK__V1__TALLY_MEASURE__TALLY_OTHERSVC_ITEMS, PRO_CELL_OTHERSVC_ITEMS_DELTA,
	     PRO_CELL_OTHERSVC_ITEMS_PREV},
	    {XXGK__V1__TALLY_MEASURE__TALLY_PENALTY_ITEMS, PRO_CELL_PENALTY_ITEMS_DELTA,
	     PRO_CELL_PENALTY_ITEMS_PREV},
	    {XXGK__V1__TALLY_MEASURE__TALLY_COERCION_ITEMS, PRO_CELL_COERCION_ITEMS_DELTA,
	     PRO_CELL_COERCION_ITEMS_PREV},
	    {XXGK__V1__TALLY_MEASURE__TALLY_FEES_ITEMS, PRO_CELL_FEES_ITEMS_DELTA,
	     PRO_CELL_FEES_ITEMS_PREV},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].measure != f->tally.measure)
			continue;
		if (f->tally.year == year)
			out->pro[map[i].flow_cell] += f->tally.value;
		if (map[i].prev_cell >= 0 && f->tally.year < year)
			out->pro[map[i].prev_cell] += f->tally.value;
	}
}

void model_report(const struct model_record *records, size_t n, int (*in_scope)(int, void *),
		  void *ctx, int year, int template_year, struct report *out)
{
	memset(out, 0, sizeof(*out));
	out->year = year;
	out->template_year = template_year;
	for (size_t i = 0; i < n; i++) {
		const struct record_facts *f = &records[i].f;
		if (f->deleted || (in_scope && !in_scope(records[i].unit, ctx)))
			continue;
		switch (f->kind) {
		case RECORD_APPLICATION:
			model_application(out, f, year);
			break;
		case RECORD_DOCUMENT:
			model_document(out, f, year);
			break;
		case RECORD_CASE:
			model_case(out, f, year);
			break;
		case RECORD_TALLY:
			model_tally(out, f, year);
			break;
		case RECORD_SUBMISSION:
			break; /* no cell: it only says whether the unit submitted */
		}
	}
}

int model_submitted(const struct model_record *records, size_t n, int unit, int year)
{
	for (size_t i = 0; i < n; i++)
		if (records[i].unit == unit && records[i].f.kind == RECORD_SUBMISSION &&
		    !records[i].f.deleted && records[i].f.sub.year == year)
			return 1;
	return 0;
}
