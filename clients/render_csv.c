/*
 * --format csv: the tables as the template prints them, for Excel on Chinese Windows. Excel
 * takes a CSV without a BOM in the system's code page (GBK there), so the file starts with the
 * UTF-8 BOM, and its lines end in CRLF. Rows and columns are the template's: table 三 has its
 * three label columns (三、本年度办理结果 | （三）不予公开 | 1.属于国家秘密) and its three header
 * rows, table 四 its three header rows over fifteen columns; a merged cell of the template is
 * its text in the first cell and empty cells after it. Text is quoted, numbers are not, so
 * that Excel reads every value as a number; amounts are in 万元 as printed.
 */
#include <stdlib.h>
#include <string.h>

#include "render_layout.h"

#define CSV_EOL "\r\n"

static void field(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* A row of text fields: NULL or "" is an empty cell. */
static void text_row(FILE *out, const char *const *fields, int n)
{
	for (int i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		if (fields[i] && fields[i][0])
			field(out, fields[i]);
	}
	fputs(CSV_EOL, out);
}

static void line(FILE *out, const char *text)
{
	text_row(out, &text, 1);
}

static void proactive(FILE *out, const struct report *r)
{
	struct pro_group groups[PRO_ROW_COUNT];
	int n = pro_groups(r, groups);
	line(out, labels[LABEL_TABLE_PROACTIVE]);
	for (int k = 0; k < n; k++) {
		const struct pro_group *g = &groups[k];
		const char *head[9] = {labels[LABEL_CONTENT]};
		line(out, g->item);
		for (int i = 0; i < g->n_cols; i++)
			head[i + 1] = g->headers[i];
		text_row(out, head, g->n_cols + 1);
		for (int row = 0; row < g->n_rows; row++) {
			field(out, g->labels[row]);
			for (int i = 0; i < g->n_cols; i++)
				fprintf(out, ",%s", g->values[row][i]);
			fputs(CSV_EOL, out);
		}
	}
}

static void applications(FILE *out, const struct report *r)
{
	int t = r->template_year;
	unsigned bit = cells_template_bit(t);
	char note[256];
	snprintf(note, sizeof(note), "（%s）", labels[LABEL_BALANCE_NOTE]);
	line(out, labels[LABEL_TABLE_APPLICATIONS]);
	/* the template's three header rows: the note over the label columns, then 申请人情况,
	 * then 自然人 | 法人或其他组织 (five columns) | 总计, then the five kinds of legal person
	 */
	const char *h1[10] = {note, NULL, NULL, labels[LABEL_APPLICANTS]};
	const char *h2[10] = {NULL, NULL, NULL, app_columns[0].label, labels[LABEL_LEGAL_PERSONS]};
	const char *h3[10] = {NULL};
	h2[3 + APP_COL_TOTAL] = app_columns[APP_COL_TOTAL].label;
	for (int c = 1; c < APP_COLUMN_COUNT; c++)
		h3[3 + c] = app_columns[c].label;
	text_row(out, h1, 10);
	text_row(out, h2, 10);
	text_row(out, h3, 10);
	for (int row = 0; row < APP_ROW_COUNT; row++) {
		const char *label = app_row_label(row, t), *h = app_heading(row, t);
		const char *cols[3] = {NULL, NULL, NULL};
		if (!(app_rows[row].templates & bit))
			continue;
		/* a heading is a merged cell whose text sits on its first row */
		if (h)
			cols[app_indent(h) / 2] = h;
		cols[app_indent(label) / 2] = label;
		for (int i = 0; i < 3; i++) {
			if (i)
				fputc(',', out);
			if (cols[i])
				field(out, cols[i]);
		}
		for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++)
			fprintf(out, ",%lld", (long long)r->app[row][c]);
		fputs(CSV_EOL, out);
	}
}

static void reviews(FILE *out, const struct report *r)
{
	enum { COLS = CASE_GROUP_COUNT * CASE_COLUMN_COUNT };
	const char *h1[COLS] = {NULL}, *h2[COLS] = {NULL}, *h3[COLS] = {NULL};
	line(out, labels[LABEL_TABLE_REVIEWS]);
	h1[0] = case_groups[CASE_GROUP_REVIEW].label;
	h1[CASE_COLUMN_COUNT] = labels[LABEL_LITIGATION];
	/* 行政复议's column headers span rows two and three, as the template prints them */
	for (int c = 0; c < CASE_COLUMN_COUNT; c++)
		h2[c] = case_columns[c].label;
	for (int g = 1; g < CASE_GROUP_COUNT; g++) {
		h2[g * CASE_COLUMN_COUNT] = case_groups[g].label;
		for (int c = 0; c < CASE_COLUMN_COUNT; c++)
			h3[g * CASE_COLUMN_COUNT + c] = case_columns[c].label;
	}
	text_row(out, h1, COLS);
	text_row(out, h2, COLS);
	text_row(out, h3, COLS);
	for (int g = 0; g < CASE_GROUP_COUNT; g++)
		for (int c = 0; c < CASE_COLUMN_COUNT; c++)
			fprintf(out, "%s%lld", g || c ? "," : "", (long long)r->cases[g][c]);
	fputs(CSV_EOL, out);
}

void render_csv_table(FILE *out, const struct report *r, const struct render_meta *m)
{
	char title[RENDER_WORDS_MAX], subtitle[RENDER_WORDS_MAX];
	render_title(r, m, title, sizeof(title));
	render_subtitle(r, m, subtitle, sizeof(subtitle));
	fputs("\xef\xbb\xbf", out);
	line(out, title);
	line(out, subtitle);
	fputs(CSV_EOL, out);
	proactive(out, r);
	fputs(CSV_EOL, out);
	applications(out, r);
	fputs(CSV_EOL, out);
	reviews(out, r);
	fputs(CSV_EOL, out);
	/* the silent units in one cell, as the other layouts print them on one line */
	fprintf(out, "\"%s（%zu）：%s", labels[LABEL_SILENT_UNITS], m->n_silent,
		m->n_silent ? "" : "无");
	for (size_t i = 0; i < m->n_silent; i++) {
		fputs(i ? "、" : "", out);
		for (const char *c = m->silent_names[i]; *c; c++) {
			if (*c == '"')
				fputc('"', out);
			fputc(*c, out);
		}
	}
	fputs("\"" CSV_EOL, out);
	/* the published mark and the carry note, a row each under it as the other layouts print
	 * them under the silent units */
	char *notes = render_notes_text(r, m);
	for (char *p = notes, *nl; p && *p; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		else
			*nl = '\0';
		line(out, p);
	}
	free(notes);
}
