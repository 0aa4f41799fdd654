#include "render.h"
#include "render_layout.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- what every layout shares ---- */

/* Columns a terminal gives a UTF-8 string: CJK and fullwidth forms take two. */
int display_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int w = 0;
	while (*p) {
		unsigned cp;
		int n;
		if (*p < 0x80)
			cp = *p, n = 1;
		else if ((*p & 0xe0) == 0xc0)
			cp = *p & 0x1f, n = 2;
		else if ((*p & 0xf0) == 0xe0)
			cp = *p & 0x0f, n = 3;
		else
			cp = *p & 0x07, n = 4;
		for (int i = 1; i < n && p[i]; i++)
			cp = (cp << 6) | (p[i] & 0x3f);
		p += n;
		int wide = (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
			   (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
			   (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
			   (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd);
		w += wide ? 2 : 1;
	}
	return w;
}

static void pad(FILE *out, int n)
{
	for (int i = 0; i < n; i++)
		fputc(' ', out);
}

/* s in width columns: left-aligned, or right-aligned */
static void cell_left(FILE *out, const char *s, int width)
{
	fputs(s, out);
	pad(out, width - display_width(s));
}

static void cell_right(FILE *out, const char *s, int width)
{
	pad(out, width - display_width(s));
	fputs(s, out);
}

/* A value as printed: amounts (fen) in 万元 with four decimals, rounded to the yuan. */
void format_value(char *buf, size_t size, int64_t v, int is_money)
{
	if (!is_money) {
		snprintf(buf, size, "%lld", (long long)v);
		return;
	}
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	a = (a + 50) / 100; /* yuan */
	snprintf(buf, size, "%s%llu.%04llu", v < 0 && a ? "-" : "", (unsigned long long)(a / 10000),
		 (unsigned long long)(a % 10000));
}

static const char *pro_row_label(int row, int t)
{
	return t == 2019 ? pro_rows[row].label2019 : pro_rows[row].label2021;
}

static const char *pro_cell_label(int cell, int t)
{
	return t == 2019 ? pro_cells[cell].label2019 : pro_cells[cell].label2021;
}

const char *app_row_label(int row, int t)
{
	return t == 2019 ? app_rows[row].label2019 : app_rows[row].label2021;
}

/* A money column's header says its unit. */
static void pro_header(char *buf, size_t size, int cell, int t)
{
	const char *label = pro_cell_label(cell, t);
	if (pro_cells[cell].is_money && strstr(label, labels[LABEL_AMOUNT_UNIT]) == NULL)
		snprintf(buf, size, "%s（%s）", label, labels[LABEL_AMOUNT_UNIT]);
	else
		snprintf(buf, size, "%s", label);
}

/* The cells of a table 二 row in the template, in order; returns how many. */
static int pro_row_cells(int row, unsigned bit, int *cells)
{
	int n = 0;
	for (int i = 0; i < PRO_CELL_COUNT; i++)
		if ((int)pro_cells[i].row == row && (pro_cells[i].templates & bit))
			cells[n++] = i;
	return n;
}

/* The rows of table 二 come in groups of one 条例 item: [first, end) in pro_rows. */
static int pro_group_end(int first, unsigned bit)
{
	int end = first + 1;
	while (end < PRO_ROW_COUNT && (!(pro_rows[end].templates & bit) ||
				       strcmp(pro_rows[end].item, pro_rows[first].item) == 0))
		end++;
	return end;
}

/* Fills groups (PRO_ROW_COUNT at most) for the report's template; returns how many. */
int pro_groups(const struct report *r, struct pro_group *groups)
{
	int t = r->template_year, n = 0;
	unsigned bit = cells_template_bit(t);
	for (int first = 0; first < PRO_ROW_COUNT;) {
		if (!(pro_rows[first].templates & bit)) {
			first++;
			continue;
		}
		struct pro_group *g = &groups[n++];
		int end = pro_group_end(first, bit), cells[8];
		g->item = pro_rows[first].item;
		g->n_cols = pro_row_cells(first, bit, cells);
		g->n_rows = 0;
		for (int i = 0; i < g->n_cols; i++)
			pro_header(g->headers[i], sizeof(g->headers[i]), cells[i], t);
		for (int row = first; row < end; row++) {
			if (!(pro_rows[row].templates & bit))
				continue;
			pro_row_cells(row, bit, cells);
			g->labels[g->n_rows] = pro_row_label(row, t);
			for (int i = 0; i < g->n_cols; i++)
				format_value(g->values[g->n_rows][i], sizeof(g->values[0][0]),
					     r->pro[cells[i]], pro_cells[cells[i]].is_money);
			g->n_rows++;
		}
		first = end;
	}
	return n;
}

/* How far the official layout indents a row of table 三, read from its label. */
int app_indent(const char *label)
{
	if (strncmp(label, "（", strlen("（")) == 0)
		return 2;
	if (label[0] >= '0' && label[0] <= '9')
		return 4;
	return 0;
}

const char *case_group_title(int g)
{
	/* the litigation groups sit under 行政诉讼 */
	return g == CASE_GROUP_REVIEW ? NULL : labels[LABEL_LITIGATION];
}

/* ---- text ---- */

static void text_proactive(FILE *out, const struct report *r)
{
	struct pro_group groups[PRO_ROW_COUNT];
	int n = pro_groups(r, groups);
	fprintf(out, "%s\n", labels[LABEL_TABLE_PROACTIVE]);
	for (int k = 0; k < n; k++) {
		const struct pro_group *g = &groups[k];
		int label_w = display_width(labels[LABEL_CONTENT]), w[8];
		for (int row = 0; row < g->n_rows; row++)
			if (display_width(g->labels[row]) > label_w)
				label_w = display_width(g->labels[row]);
		fprintf(out, "\n%s\n", g->item);
		cell_left(out, labels[LABEL_CONTENT], label_w);
		for (int i = 0; i < g->n_cols; i++) {
			w[i] =
			    display_width(g->headers[i]) > 12 ? display_width(g->headers[i]) : 12;
			pad(out, 2);
			cell_right(out, g->headers[i], w[i]);
		}
		fputc('\n', out);
		for (int row = 0; row < g->n_rows; row++) {
			cell_left(out, g->labels[row], label_w);
			for (int i = 0; i < g->n_cols; i++) {
				pad(out, 2);
				cell_right(out, g->values[row][i], w[i]);
			}
			fputc('\n', out);
		}
	}
}

static void text_applications(FILE *out, const struct report *r)
{
	int t = r->template_year, label_w = 0, w[APP_COLUMNS_WITH_TOTAL];
	unsigned bit = cells_template_bit(t);
	char buf[64];
	for (int row = 0; row < APP_ROW_COUNT; row++) {
		const char *h = app_heading(row, t);
		if (!(app_rows[row].templates & bit))
			continue;
		int lw = app_indent(app_row_label(row, t)) + display_width(app_row_label(row, t));
		if (lw > label_w)
			label_w = lw;
		if (h && display_width(h) + app_indent(h) > label_w)
			label_w = display_width(h) + app_indent(h);
	}
	for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++)
		w[c] = display_width(app_columns[c].label) > 6 ? display_width(app_columns[c].label)
							       : 6;
	fprintf(out, "%s\n（%s）\n\n", labels[LABEL_TABLE_APPLICATIONS],
		labels[LABEL_BALANCE_NOTE]);
	/* two header lines: 自然人 | 法人或其他组织 over five columns | 总计 */
	cell_left(out, labels[LABEL_APPLICANTS], label_w);
	pad(out, 2);
	cell_right(out, app_columns[0].label, w[0]);
	pad(out, 2);
	int span = 0;
	for (int c = 1; c < APP_COLUMN_COUNT; c++)
		span += w[c] + 2;
	cell_left(out, labels[LABEL_LEGAL_PERSONS], span - 2);
	pad(out, 2);
	cell_right(out, app_columns[APP_COL_TOTAL].label, w[APP_COL_TOTAL]);
	fputc('\n', out);
	pad(out, label_w + 2 + w[0]);
	for (int c = 1; c < APP_COLUMN_COUNT; c++) {
		pad(out, 2);
		cell_right(out, app_columns[c].label, w[c]);
	}
	fputc('\n', out);
	for (int row = 0; row < APP_ROW_COUNT; row++) {
		const char *label = app_row_label(row, t), *h = app_heading(row, t);
		if (!(app_rows[row].templates & bit))
			continue;
		if (h) {
			pad(out, app_indent(h));
			fprintf(out, "%s\n", h);
		}
		pad(out, app_indent(label));
		cell_left(out, label, label_w - app_indent(label));
		for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++) {
			format_value(buf, sizeof(buf), r->app[row][c], 0);
			pad(out, 2);
			cell_right(out, buf, w[c]);
		}
		fputc('\n', out);
	}
}

static void text_reviews(FILE *out, const struct report *r)
{
	char label[128], buf[32];
	int label_w = 0, w = 8;
	for (int g = 0; g < CASE_GROUP_COUNT; g++) {
		snprintf(label, sizeof(label), "%s%s%s",
			 case_group_title(g) ? case_group_title(g) : "",
			 case_group_title(g) ? "：" : "", case_groups[g].label);
		if (display_width(label) > label_w)
			label_w = display_width(label);
	}
	fprintf(out, "%s\n\n", labels[LABEL_TABLE_REVIEWS]);
	pad(out, label_w);
	for (int c = 0; c < CASE_COLUMN_COUNT; c++) {
		pad(out, 2);
		cell_right(out, case_columns[c].label, w);
	}
	fputc('\n', out);
	for (int g = 0; g < CASE_GROUP_COUNT; g++) {
		snprintf(label, sizeof(label), "%s%s%s",
			 case_group_title(g) ? case_group_title(g) : "",
			 case_group_title(g) ? "：" : "", case_groups[g].label);
		cell_left(out, label, label_w);
		for (int c = 0; c < CASE_COLUMN_COUNT; c++) {
			format_value(buf, sizeof(buf), r->cases[g][c], 0);
			pad(out, 2);
			cell_right(out, buf, w);
		}
		fputc('\n', out);
	}
}

static void silent_line(FILE *out, const struct render_meta *m, const char *separator)
{
	fprintf(out, "%s（%zu）：", labels[LABEL_SILENT_UNITS], m->n_silent);
	if (m->n_silent == 0)
		fputs("无", out);
	for (size_t i = 0; i < m->n_silent; i++)
		fprintf(out, "%s%s", i ? separator : "", m->silent_names[i]);
	fputc('\n', out);
}

/* The column label of a key applications.carried_in.<column>. */
static const char *carry_column(const char *key)
{
	const char *col = strrchr(key, '.');
	for (int c = 0; col && c < APP_COLUMNS_WITH_TOTAL; c++)
		if (strcmp(col + 1, app_columns[c].key) == 0)
			return app_columns[c].label;
	return key;
}

const char *render_frozen_by(const struct render_meta *m)
{
	/* the local admin socket's name is stored as "local"; the office reads Chinese */
	if (m->frozen_by == NULL)
		return "";
	return strcmp(m->frozen_by, "local") == 0 ? "本机管理端" : m->frozen_by;
}

void render_notes(FILE *out, const struct report *r, const struct render_meta *m,
		  void (*html_text)(FILE *out, const char *s))
{
	int html = html_text != NULL;
	if (m->has_late)
		fprintf(out, "%s本年度逾期答复的申请：%llu件%s\n", html ? "<p>" : "",
			(unsigned long long)m->late_answers, html ? "</p>" : "");
	if (m->published_at) {
		const char *by = render_frozen_by(m);
		fprintf(out, "%s已公开版本（第%u版），%s 由 ", html ? "<p>" : "", m->generation,
			m->published_at);
		if (html)
			html_text(out, by);
		else
			fputs(by, out);
		fprintf(out, " 冻结%s\n", html ? "</p>" : "");
	}
	if (m->n_carry == 0)
		return;
	fprintf(out, "%s注：本年“%s”与%d年度已公开报告的“%s”不一致：", html ? "<p>" : "",
		app_row_label(APP_ROW_CARRIED_IN, r->template_year), r->year - 1,
		app_row_label(APP_ROW_CARRIED_OUT, r->template_year));
	for (size_t i = 0; i < m->n_carry; i++)
		fprintf(out, "%s%s 已公开 %lld，现为 %lld", i ? "；" : "",
			carry_column(m->carry[i].key), (long long)m->carry[i].published,
			(long long)m->carry[i].live);
	fprintf(out, "。%s\n", html ? "</p>" : "");
}

char *render_notes_text(const struct report *r, const struct render_meta *m)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		return NULL;
	render_notes(f, r, m, NULL);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void render_text(FILE *out, const struct report *r, const struct render_meta *m)
{
	char title[RENDER_WORDS_MAX], subtitle[RENDER_WORDS_MAX];
	render_title(r, m, title, sizeof(title));
	render_subtitle(r, m, subtitle, sizeof(subtitle));
	fprintf(out, "%s\n%s\n\n", title, subtitle);
	text_proactive(out, r);
	fputc('\n', out);
	text_applications(out, r);
	fputc('\n', out);
	text_reviews(out, r);
	fputc('\n', out);
	silent_line(out, m, "、");
	render_notes(out, r, m, NULL);
}

/* ---- markdown ---- */

#define IDEOGRAPHIC_SPACE "\u3000"

static void md_indent(FILE *out, int n)
{
	for (int i = 0; i < n / 2; i++)
		fputs(IDEOGRAPHIC_SPACE, out);
}

static void render_markdown(FILE *out, const struct report *r, const struct render_meta *m)
{
	int t = r->template_year;
	unsigned bit = cells_template_bit(t);
	char title[RENDER_WORDS_MAX], subtitle[RENDER_WORDS_MAX];
	render_title(r, m, title, sizeof(title));
	render_subtitle(r, m, subtitle, sizeof(subtitle));
	fprintf(out, "# %s\n\n%s\n\n## %s\n", title, subtitle, labels[LABEL_TABLE_PROACTIVE]);
	struct pro_group groups[PRO_ROW_COUNT];
	int n_groups = pro_groups(r, groups);
	for (int k = 0; k < n_groups; k++) {
		const struct pro_group *g = &groups[k];
		fprintf(out, "\n### %s\n\n| %s |", g->item, labels[LABEL_CONTENT]);
		for (int i = 0; i < g->n_cols; i++)
			fprintf(out, " %s |", g->headers[i]);
		fputs("\n|---|", out);
		for (int i = 0; i < g->n_cols; i++)
			fputs("---:|", out);
		fputc('\n', out);
		for (int row = 0; row < g->n_rows; row++) {
			fprintf(out, "| %s |", g->labels[row]);
			for (int i = 0; i < g->n_cols; i++)
				fprintf(out, " %s |", g->values[row][i]);
			fputc('\n', out);
		}
	}
	fprintf(out, "\n## %s\n\n（%s）\n\n| %s |", labels[LABEL_TABLE_APPLICATIONS],
		labels[LABEL_BALANCE_NOTE], labels[LABEL_APPLICANTS]);
	for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++)
		fprintf(out, c >= 1 && c < APP_COLUMN_COUNT ? " %s：%s |" : " %s%s |",
			c >= 1 && c < APP_COLUMN_COUNT ? labels[LABEL_LEGAL_PERSONS] : "",
			app_columns[c].label);
	fputs("\n|---|", out);
	for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++)
		fputs("---:|", out);
	fputc('\n', out);
	for (int row = 0; row < APP_ROW_COUNT; row++) {
		const char *label = app_row_label(row, t), *h = app_heading(row, t);
		if (!(app_rows[row].templates & bit))
			continue;
		if (h) {
			fputs("| ", out);
			md_indent(out, app_indent(h));
			fprintf(out, "%s |", h);
			for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++)
				fputs("  |", out);
			fputc('\n', out);
		}
		fputs("| ", out);
		md_indent(out, app_indent(label));
		fprintf(out, "%s |", label);
		for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++)
			fprintf(out, " %lld |", (long long)r->app[row][c]);
		fputc('\n', out);
	}
	fprintf(out, "\n## %s\n\n|", labels[LABEL_TABLE_REVIEWS]);
	for (int g = 0; g < CASE_GROUP_COUNT; g++)
		for (int c = 0; c < CASE_COLUMN_COUNT; c++)
			fprintf(out, " %s%s%s：%s |",
				case_group_title(g) ? case_group_title(g) : "",
				case_group_title(g) ? " " : "", case_groups[g].label,
				case_columns[c].label);
	fputs("\n|", out);
	for (int i = 0; i < CASE_GROUP_COUNT * CASE_COLUMN_COUNT; i++)
		fputs("---:|", out);
	fputs("\n|", out);
	for (int g = 0; g < CASE_GROUP_COUNT; g++)
		for (int c = 0; c < CASE_COLUMN_COUNT; c++)
			fprintf(out, " %lld |", (long long)r->cases[g][c]);
	fputs("\n\n", out);
	silent_line(out, m, "、");
	render_notes(out, r, m, NULL);
}

/* ---- cells (the long form) and json ---- */

static void csv_field(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void csv_line(FILE *out, const char *table, const char *row, const char *col,
		     const char *row_label, const char *col_label, int64_t value)
{
	fprintf(out, "%s.%s.%s,", table, row, col);
	csv_field(out, row_label);
	fputc(',', out);
	csv_field(out, col_label);
	fprintf(out, ",%lld\n", (long long)value);
}

static void render_cells(FILE *out, const struct report *r)
{
	int t = r->template_year;
	unsigned bit = cells_template_bit(t);
	char group[96];
	fputs("key,row,column,value\n", out);
	for (int i = 0; i < PRO_CELL_COUNT; i++)
		if (pro_cells[i].templates & bit)
			csv_line(out, "proactive", pro_rows[pro_cells[i].row].key, pro_cells[i].key,
				 pro_row_label(pro_cells[i].row, t), pro_cell_label(i, t),
				 r->pro[i]);
	for (int row = 0; row < APP_ROW_COUNT; row++)
		if (app_rows[row].templates & bit)
			for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++)
				csv_line(out, "applications", app_rows[row].key, app_columns[c].key,
					 app_row_label(row, t), app_columns[c].label,
					 r->app[row][c]);
	for (int g = 0; g < CASE_GROUP_COUNT; g++) {
		snprintf(group, sizeof(group), "%s%s",
			 case_group_title(g) ? case_group_title(g) : "", case_groups[g].label);
		for (int c = 0; c < CASE_COLUMN_COUNT; c++)
			csv_line(out, "reviews", case_groups[g].key, case_columns[c].key, group,
				 case_columns[c].label, r->cases[g][c]);
	}
}

static void add_json_cell(void *ctx, const char *key, int64_t value)
{
	json_object_set_new(ctx, key, json_integer(value));
}

static int render_json(FILE *out, const struct report *r, const struct render_meta *m)
{
	json_t *root = json_object(), *cells = json_object(), *silent = json_array();
	json_object_set_new(root, "year", json_integer(r->year));
	json_object_set_new(root, "template", json_integer(r->template_year));
	json_object_set_new(root, "scope", json_string(m->scope));
	json_object_set_new(root, "scope_name", json_string(m->scope_name));
	char title[RENDER_WORDS_MAX];
	struct render_government g = render_government_of(m);
	render_title(r, m, title, sizeof(title));
	json_object_set_new(root, "title", json_string(title));
	json_object_set_new(root, "government", json_string(g.name));
	json_object_set_new(root, "region", json_string(g.region));
	json_object_set_new(root, "level", json_string(render_level_name(g.level)));
	report_foreach_cell(r, add_json_cell, cells);
	json_object_set_new(root, "cells", cells);
	for (size_t i = 0; i < m->n_silent; i++)
		json_array_append_new(silent, json_pack("{s:s,s:s}", "id", m->silent_ids[i], "name",
							m->silent_names[i]));
	json_object_set_new(root, "silent_units", silent);
	if (m->has_late)
		json_object_set_new(root, "late_answers",
				    json_integer((json_int_t)m->late_answers));
	if (m->published_at)
		json_object_set_new(root, "published",
				    json_pack("{s:s,s:s,s:i}", "at", m->published_at, "by",
					      m->frozen_by ? m->frozen_by : "", "generation",
					      (int)m->generation));
	if (m->n_carry) {
		json_t *carry = json_array();
		for (size_t i = 0; i < m->n_carry; i++)
			json_array_append_new(
			    carry, json_pack("{s:s,s:I,s:I}", "key", m->carry[i].key, "published",
					     (json_int_t)m->carry[i].published, "live",
					     (json_int_t)m->carry[i].live));
		json_object_set_new(root, "carry_differences", carry);
	}
	int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return rc;
}

int render_format_parse(const char *s, enum render_format *out)
{
	static const char *const names[] = {"text", "markdown", "csv", "json", "html", "cells"};
	for (int i = 0; i < 6; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum render_format)i;
			return 0;
		}
	return -1;
}

int render_report(FILE *out, enum render_format f, const struct report *r,
		  const struct render_meta *m)
{
	int rc = 0;
	switch (f) {
	case RENDER_TEXT:
		render_text(out, r, m);
		break;
	case RENDER_MARKDOWN:
		render_markdown(out, r, m);
		break;
	case RENDER_CSV:
		render_csv_table(out, r, m);
		break;
	case RENDER_CELLS:
		render_cells(out, r);
		break;
	case RENDER_JSON:
		rc = render_json(out, r, m);
		break;
	case RENDER_HTML:
		render_html(out, r, m);
		break;
	}
	return rc || ferror(out) ? -1 : 0;
}
