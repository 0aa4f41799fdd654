/*
 * What the layouts of the official tables share (render.c, render_html.c, render_csv.c):
 * widths, values as printed, table 二's groups, table 三's indents. Internal to xxgk_render.
 */
#ifndef XXGK_RENDER_LAYOUT_H
#define XXGK_RENDER_LAYOUT_H

#include <stdint.h>
#include <stdio.h>

#include "render.h"

/* Columns a terminal gives a UTF-8 string: CJK and fullwidth forms take two. */
int display_width(const char *s);

/* A value as printed: amounts (fen) in 万元 with four decimals, rounded to the yuan. */
void format_value(char *buf, size_t size, int64_t v, int is_money);

/* A row of table 三 as the template labels it. */
const char *app_row_label(int row, int t);

/* How far the official layout indents a row of table 三, read from its label: 0, 2 or 4. */
int app_indent(const char *label);

/* 行政诉讼 above the litigation groups of table 四, NULL above 行政复议. */
const char *case_group_title(int g);

/* Table 二 as the layouts print it: one group per 条例 item, its column headers, its rows. */
struct pro_group {
	const char *item;
	int n_cols, n_rows;
	char headers[8][128];
	const char *labels[PRO_ROW_COUNT];
	char values[PRO_ROW_COUNT][8][32];
};

/* Fills groups (PRO_ROW_COUNT at most) for the report's template; returns how many. */
int pro_groups(const struct report *r, struct pro_group *groups);

/* The table as printed, for Excel: UTF-8 with BOM, CRLF (render_csv.c). */
void render_csv_table(FILE *out, const struct report *r, const struct render_meta *m);

/*
 * Below the tables: which published version this is, and whether this year's 上年结转 differs
 * from the 结转下年度 the year before published (X-CARRY across two published documents). With
 * html_text (which escapes text for HTML) the lines are paragraphs; NULL for plain text.
 */
void render_notes(FILE *out, const struct report *r, const struct render_meta *m,
		  void (*html_text)(FILE *out, const char *s));

/* Who froze a published report as the office reads it: "local" is 本机管理端. */
const char *render_frozen_by(const struct render_meta *m);

/* A page ready to print on A4 (render_html.c). */
void render_html(FILE *out, const struct report *r, const struct render_meta *m);

#endif
