/*
 * --format html: a page ready to print on A4. The print rules are the point: @page sets A4
 * and its margins; each table's header rows are its <thead>, which browsers repeat at the top
 * of every page the table continues on; no row (tr) breaks across pages, so a row of table 三
 * is never cut in two; a table's heading stays with it. The tables keep the template's cells:
 * table 三's three label columns with their merged headings, table 四's three header rows.
 */
#include <string.h>

#include "render_layout.h"

static const char style[] =
    "@page{size:A4 portrait;margin:20mm 15mm 18mm 15mm}\n"
    "body{font-family:\"SimSun\",\"Songti SC\",\"Noto Serif CJK SC\",serif;font-size:10.5pt;"
    "color:#000}\n"
    "@media screen{body{max-width:180mm;margin:1em auto}}\n"
    "h1{font-size:16pt;text-align:center;margin:0 0 4pt}\n"
    "p.subtitle{text-align:center;margin:0 0 12pt}\n"
    "h2{font-size:12pt;margin:12pt 0 4pt;break-after:avoid;page-break-after:avoid}\n"
    "table{border-collapse:collapse;width:100%;margin:0 0 8pt}\n"
    "th,td{border:0.5pt solid #000;padding:2pt 4pt;font-weight:normal}\n"
    "td{text-align:right}td.label,th.label{text-align:left}\n"
    "thead{display:table-header-group}\n"
    "tr{break-inside:avoid;page-break-inside:avoid}\n"
    "table.reviews th,table.reviews td{font-size:9pt;padding:2pt 2pt}\n";

static void text(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			fputs("&amp;", out);
		else if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if (*s == '"')
			fputs("&quot;", out);
		else
			fputc(*s, out);
	}
}

static void th(FILE *out, const char *attrs, const char *s)
{
	fprintf(out, "<th%s%s>", attrs[0] ? " " : "", attrs);
	text(out, s);
	fputs("</th>", out);
}

static void proactive(FILE *out, const struct report *r)
{
	struct pro_group groups[PRO_ROW_COUNT];
	int n = pro_groups(r, groups);
	fputs("<h2>", out);
	text(out, labels[LABEL_TABLE_PROACTIVE]);
	fputs("</h2>\n", out);
	/* a table per 条例 item, so that its two header rows repeat with it */
	for (int k = 0; k < n; k++) {
		const struct pro_group *g = &groups[k];
		char span[64];
		snprintf(span, sizeof(span), "class=\"label\" colspan=\"%d\"", g->n_cols + 1);
		fputs("<table class=\"proactive\">\n<thead>\n<tr>", out);
		th(out, span, g->item);
		fputs("</tr>\n<tr>", out);
		th(out, "class=\"label\"", labels[LABEL_CONTENT]);
		for (int i = 0; i < g->n_cols; i++)
			th(out, "", g->headers[i]);
		fputs("</tr>\n</thead>\n<tbody>\n", out);
		for (int row = 0; row < g->n_rows; row++) {
			fputs("<tr><td class=\"label\">", out);
			text(out, g->labels[row]);
			fputs("</td>", out);
			for (int i = 0; i < g->n_cols; i++)
				fprintf(out, "<td>%s</td>", g->values[row][i]);
			fputs("</tr>\n", out);
		}
		fputs("</tbody>\n</table>\n", out);
	}
}

/*
 * The rows a heading of table 三 spans: from its first row while the labels sit deeper than
 * it, up to the next heading of its own depth ((三)'s items end where (四) begins).
 */
static int heading_span(int first, int depth, int t)
{
	unsigned bit = cells_template_bit(t);
	int n = 0;
	for (int row = first; row < APP_ROW_COUNT; row++) {
		const char *h = app_heading(row, t);
		if (!(app_rows[row].templates & bit))
			continue;
		if (app_indent(app_row_label(row, t)) <= depth ||
		    (row != first && h && app_indent(h) <= depth))
			break;
		n++;
	}
	return n;
}

static void applications(FILE *out, const struct report *r)
{
	int t = r->template_year;
	unsigned bit = cells_template_bit(t);
	char buf[256];
	fputs("<h2>", out);
	text(out, labels[LABEL_TABLE_APPLICATIONS]);
	fputs("</h2>\n<table class=\"applications\">\n<thead>\n<tr>", out);
	snprintf(buf, sizeof(buf), "（%s）", labels[LABEL_BALANCE_NOTE]);
	th(out, "class=\"label\" colspan=\"3\" rowspan=\"3\"", buf);
	th(out, "colspan=\"7\"", labels[LABEL_APPLICANTS]);
	fputs("</tr>\n<tr>", out);
	th(out, "rowspan=\"2\"", app_columns[0].label);
	th(out, "colspan=\"5\"", labels[LABEL_LEGAL_PERSONS]);
	th(out, "rowspan=\"2\"", app_columns[APP_COL_TOTAL].label);
	fputs("</tr>\n<tr>", out);
	for (int c = 1; c < APP_COLUMN_COUNT; c++)
		th(out, "", app_columns[c].label);
	fputs("</tr>\n</thead>\n<tbody>\n", out);
	for (int row = 0; row < APP_ROW_COUNT; row++) {
		const char *label = app_row_label(row, t), *h = app_heading(row, t);
		int depth = app_indent(label) / 2;
		if (!(app_rows[row].templates & bit))
			continue;
		fputs("<tr>", out);
		if (h) {
			snprintf(buf, sizeof(buf), "class=\"label\" rowspan=\"%d\"",
				 heading_span(row, app_indent(h), t));
			th(out, buf, h);
		}
		/* a row's label fills the label columns from its depth on */
		if (depth < 2)
			fprintf(out, "<td class=\"label\" colspan=\"%d\">", 3 - depth);
		else
			fputs("<td class=\"label\">", out);
		text(out, label);
		fputs("</td>", out);
		for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++)
			fprintf(out, "<td>%lld</td>", (long long)r->app[row][c]);
		fputs("</tr>\n", out);
	}
	fputs("</tbody>\n</table>\n", out);
}

static void reviews(FILE *out, const struct report *r)
{
	fputs("<h2>", out);
	text(out, labels[LABEL_TABLE_REVIEWS]);
	fputs("</h2>\n<table class=\"reviews\">\n<thead>\n<tr>", out);
	th(out, "colspan=\"5\"", case_groups[CASE_GROUP_REVIEW].label);
	th(out, "colspan=\"10\"", labels[LABEL_LITIGATION]);
	fputs("</tr>\n<tr>", out);
	for (int c = 0; c < CASE_COLUMN_COUNT; c++)
		th(out, "rowspan=\"2\"", case_columns[c].label);
	for (int g = 1; g < CASE_GROUP_COUNT; g++)
		th(out, "colspan=\"5\"", case_groups[g].label);
	fputs("</tr>\n<tr>", out);
	for (int g = 1; g < CASE_GROUP_COUNT; g++)
		for (int c = 0; c < CASE_COLUMN_COUNT; c++)
			th(out, "", case_columns[c].label);
	fputs("</tr>\n</thead>\n<tbody>\n<tr>", out);
	for (int g = 0; g < CASE_GROUP_COUNT; g++)
		for (int c = 0; c < CASE_COLUMN_COUNT; c++)
			fprintf(out, "<td>%lld</td>", (long long)r->cases[g][c]);
	fputs("</tr>\n</tbody>\n</table>\n", out);
}

void render_html(FILE *out, const struct report *r, const struct render_meta *m)
{
	char title[RENDER_WORDS_MAX], subtitle[RENDER_WORDS_MAX];
	render_title(r, m, title, sizeof(title));
	render_subtitle(r, m, subtitle, sizeof(subtitle));
	fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
	      out);
	text(out, title);
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", style);
	text(out, title);
	fputs("</h1>\n<p class=\"subtitle\">", out);
	text(out, subtitle);
	fputs("</p>\n", out);
	proactive(out, r);
	applications(out, r);
	reviews(out, r);
	fprintf(out, "<p>%s（%zu）：", labels[LABEL_SILENT_UNITS], m->n_silent);
	if (m->n_silent == 0)
		fputs("无", out);
	for (size_t i = 0; i < m->n_silent; i++) {
		fputs(i ? "、" : "", out);
		text(out, m->silent_names[i]);
	}
	fputs("</p>\n", out);
	render_notes(out, r, m, text);
	fputs("</body>\n</html>\n", out);
}
