/*
 * A report as people read it: the official tables (text, markdown, html) with the labels of
 * cells.def, or as data (csv, json) under the keys of DOMAIN.md.
 */
#ifndef XXGK_RENDER_H
#define XXGK_RENDER_H

#include <stdio.h>

#include "report.h"

enum render_format { RENDER_TEXT, RENDER_MARKDOWN, RENDER_CSV, RENDER_JSON, RENDER_HTML };

/* "text", "markdown", "csv", "json" or "html"; returns 0 or -1. */
int render_format_parse(const char *s, enum render_format *out);

/* A column where the live 上年结转 differs from the published 结转下年度 of the year before. */
struct render_carry {
	const char *key; /* applications.carried_in.<column> */
	int64_t published, live;
};

struct render_meta {
	const char *scope;		 /* "city", "kind:department" or "unit:ID" */
	const char *scope_name;		 /* 全市, 市各有关部门, or the unit's name */
	const char *const *silent_names; /* units that sent nothing for the year */
	const char *const *silent_ids;
	size_t n_silent;
	/* a published report (report --published): when and by whom it was frozen; else NULL */
	const char *published_at, *frozen_by;
	unsigned generation;
	/* a live report whose 上年结转 differs from the published 结转下年度 of the year before */
	const struct render_carry *carry;
	size_t n_carry;
};

/*
 * Writes r in format f. Text, markdown and html print every cell of the template as a number,
 * amounts in 万元 with four decimals; csv and json print the stored integers (amounts in fen).
 * Returns 0, or -1 when writing failed.
 */
int render_report(FILE *out, enum render_format f, const struct report *r,
		  const struct render_meta *m);

#endif
