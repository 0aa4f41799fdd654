#include "rules.h"

#include "cells.h"

/* The table of cells and the wire schema must agree on the enums that index counters. */
_Static_assert((int)APP_COLUMN_COUNT == (int)XXGK__V1__APPLICANT_TYPE__APPLICANT_OTHER_ORG,
	       "applicant columns");
_Static_assert(OUTCOME_COUNT == XXGK__V1__OUTCOME__OUTCOME_OTHER_MISC, "outcomes");
_Static_assert((int)CASE_GROUP_COUNT == (int)XXGK__V1__CASE_GROUP__CASE_LITIGATION_AFTER_REVIEW,
	       "case groups");
_Static_assert(CASE_COL_OTHER + 1 == XXGK__V1__CASE_RESULT__CASE_RESULT_OTHER, "case results");

/* The flow a tally measure adds to. */
static int tally_flow(int measure)
{
	switch (measure) {
	case XXGK__V1__TALLY_MEASURE__TALLY_LICENSING_DECISIONS:
		return PRO_FLOW_LICENSING_DECISIONS;
	case XXGK__V1__TALLY_MEASURE__TALLY_OTHERSVC_DECISIONS:
		return PRO_FLOW_OTHERSVC_DECISIONS;
	case XXGK__V1__TALLY_MEASURE__TALLY_PENALTY_DECISIONS:
		return PRO_FLOW_PENALTY_DECISIONS;
	case XXGK__V1__TALLY_MEASURE__TALLY_COERCION_DECISIONS:
		return PRO_FLOW_COERCION_DECISIONS;
	case XXGK__V1__TALLY_MEASURE__TALLY_FEES_AMOUNT:
		return PRO_FLOW_FEES_AMOUNT;
	case XXGK__V1__TALLY_MEASURE__TALLY_PROCUREMENT_PROJECTS:
		return PRO_FLOW_PROCUREMENT_PROJECTS;
	case XXGK__V1__TALLY_MEASURE__TALLY_PROCUREMENT_AMOUNT:
		return PRO_FLOW_PROCUREMENT_AMOUNT;
	case XXGK__V1__TALLY_MEASURE__TALLY_LICENSING_ITEMS:
		return PRO_FLOW_LICENSING_ITEMS;
	case XXGK__V1__TALLY_MEASURE__TALLY_OTHERSVC_ITEMS:
		return PRO_FLOW_OTHERSVC_ITEMS;
	case XXGK__V1__TALLY_MEASURE__TALLY_PENALTY_ITEMS:
		return PRO_FLOW_PENALTY_ITEMS;
	case XXGK__V1__TALLY_MEASURE__TALLY_COERCION_ITEMS:
		return PRO_FLOW_COERCION_ITEMS;
	default:
		return PRO_FLOW_FEES_ITEMS;
	}
}

static int add(struct flow *out, int n, int year, int counter, int64_t value)
{
	out[n] = (struct flow){year, counter, value};
	return n + 1;
}

static int document_flows(const struct record_facts *f, struct flow *out, int n)
{
	int rule = f->doc.kind == XXGK__V1__DOCUMENT_KIND__DOCUMENT_RULE;
	int made = rule ? PRO_FLOW_RULES_MADE : PRO_FLOW_NORMDOCS_MADE;
	int published = rule ? PRO_FLOW_RULES_PUBLISHED : PRO_FLOW_NORMDOCS_PUBLISHED;
	int repealed = rule ? PRO_FLOW_RULES_REPEALED : PRO_FLOW_NORMDOCS_REPEALED;
	int repealed_published =
	    rule ? PRO_FLOW_RULES_REPEALED_PUBLISHED : PRO_FLOW_NORMDOCS_REPEALED_PUBLISHED;

	n = add(out, n, f->doc.made_year, counter_pro(made), 1);
	if (f->doc.published_year)
		n = add(out, n, f->doc.published_year, counter_pro(published), 1);
	if (f->doc.repealed_year) {
		n = add(out, n, f->doc.repealed_year, counter_pro(repealed), 1);
		/* record_check ensures a published document was published before its repeal */
		if (f->doc.published_year)
			n = add(out, n, f->doc.repealed_year, counter_pro(repealed_published), 1);
	}
	return n;
}

int rules_flows(const struct record_facts *f, struct flow out[RULES_FLOWS_MAX])
{
	int n = 0;
	if (f->deleted)
		return 0;
	switch (f->kind) {
	case RECORD_APPLICATION:
		n = add(out, n, f->app.received_year, counter_records(f->kind), 1);
		n = add(out, n, f->app.received_year, counter_app_received(f->app.column), 1);
		if (f->app.outcome)
			n = add(out, n, f->app.concluded_year,
				counter_app_outcome(f->app.outcome, f->app.column), 1);
		if (f->app.outcome && f->app.late)
			n = add(out, n, f->app.concluded_year, COUNTER_LATE_ANSWERS, 1);
		return n;
	case RECORD_DOCUMENT:
		n = add(out, n, f->doc.made_year, counter_records(f->kind), 1);
		return document_flows(f, out, n);
	case RECORD_CASE: {
		/* Period rule: the year filed, under the result if closed by that year's end. */
		int closed_in_year = f->cas.result && f->cas.closed_year == f->cas.filed_year;
		int column = closed_in_year ? f->cas.result - 1 : CASE_COL_PENDING;
		n = add(out, n, f->cas.filed_year, counter_records(f->kind), 1);
		return add(out, n, f->cas.filed_year, counter_case(f->cas.group, column), 1);
	}
	case RECORD_TALLY:
		n = add(out, n, f->tally.year, counter_records(f->kind), 1);
		if (f->tally.value != 0)
			n = add(out, n, f->tally.year, counter_pro(tally_flow(f->tally.measure)),
				f->tally.value);
		return n;
	case RECORD_SUBMISSION:
		return add(out, n, f->sub.year, COUNTER_SUBMITTED, 1);
	}
	return 0;
}
