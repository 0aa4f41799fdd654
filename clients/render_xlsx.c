#include "render_xlsx.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

#define MAX_COLS 16
#define MAX_ROWS 64

/* Paper size 9 is A4 in the OOXML page setup (ECMA-376 18.3.1.63). */
#define PAPER_A4 9

struct xl {
	lxw_workbook *wb;
	lxw_format *title, *heading, *header, *label, *count, *money, *note;
	lxw_error error; /* the first failure; the workbook is then not kept */
};

/* A sheet being laid out: its column widths, and the lines each row needs to show its text. */
struct sheet {
	struct xl *x;
	lxw_worksheet *ws;
	int n_cols;
	double widths[MAX_COLS];
	int lines[MAX_ROWS];
	int title_rows;
};

static void check(struct xl *x, lxw_error e)
{
	if (e != LXW_NO_ERROR && x->error == LXW_NO_ERROR)
		x->error = e;
}

/* Excel width units a UTF-8 string takes: CJK and fullwidth characters take two. */
static int text_width(const char *s)
{
	int w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			w += *p >= 0xe0 ? 2 : 1;
	return w;
}

/* The 2019 template's and the 2021 template's labels of table 二 and 三. */
static const char *pro_row_label(int row, int t)
{
	return t == 2019 ? pro_rows[row].label2019 : pro_rows[row].label2021;
}

static const char *pro_cell_label(int cell, int t)
{
	return t == 2019 ? pro_cells[cell].label2019 : pro_cells[cell].label2021;
}

static const char *app_row_label(int row, int t)
{
	return t == 2019 ? app_rows[row].label2019 : app_rows[row].label2021;
}

/* The amount as every layout prints it: fen rounded to the yuan, in 万元. */
static double wan_yuan(int64_t fen)
{
	uint64_t a = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
	double yuan = (double)((a + 50) / 100);
	return (fen < 0 ? -yuan : yuan) / 10000.0;
}

/* Text over rows r1..r2 and columns c1..c2 (one cell when they are equal). */
static void text(struct sheet *s, int r1, int c1, int r2, int c2, const char *str, lxw_format *f)
{
	if (r1 == r2 && c1 == c2)
		check(s->x, worksheet_write_string(s->ws, (lxw_row_t)r1, (lxw_col_t)c1, str, f));
	else
		check(s->x, worksheet_merge_range(s->ws, (lxw_row_t)r1, (lxw_col_t)c1,
						  (lxw_row_t)r2, (lxw_col_t)c2, str, f));
	double width = 0;
	for (int c = c1; c <= c2 && c < MAX_COLS; c++)
		width += s->widths[c];
	int per_line = width > 2 ? (int)width - 1 : 1;
	int lines = (text_width(str) + per_line - 1) / per_line;
	int n_rows = r2 - r1 + 1, per_row = (lines + n_rows - 1) / n_rows;
	for (int r = r1; r <= r2 && r < MAX_ROWS; r++)
		if (per_row > s->lines[r])
			s->lines[r] = per_row;
}

/* A cell of the report over columns c1..c2 of row: a count, or an amount in 万元. */
static void value(struct sheet *s, int row, int c1, int c2, int64_t v, int is_money)
{
	struct xl *x = s->x;
	lxw_format *f = is_money ? x->money : x->count;
	double d = is_money ? wan_yuan(v) : (double)v;
	if (c2 > c1)
		check(x, worksheet_merge_range(s->ws, (lxw_row_t)row, (lxw_col_t)c1, (lxw_row_t)row,
					       (lxw_col_t)c2, "", f));
	check(x, worksheet_write_number(s->ws, (lxw_row_t)row, (lxw_col_t)c1, d, f));
}

/* A new sheet: widths, A4 fitted to the page width, the title and the table's heading. */
static int sheet_begin(struct sheet *s, struct xl *x, const char *name, const double *widths,
		       int n_cols, int landscape, const char *title)
{
	memset(s, 0, sizeof(*s));
	s->x = x;
	s->ws = workbook_add_worksheet(x->wb, name);
	if (s->ws == NULL) {
		check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return -1;
	}
	s->n_cols = n_cols;
	for (int c = 0; c < n_cols; c++) {
		s->widths[c] = widths[c];
		check(x, worksheet_set_column(s->ws, (lxw_col_t)c, (lxw_col_t)c, widths[c], NULL));
	}
	worksheet_set_paper(s->ws, PAPER_A4);
	if (landscape)
		worksheet_set_landscape(s->ws);
	else
		worksheet_set_portrait(s->ws);
	worksheet_fit_to_pages(s->ws, 1, 0);
	worksheet_center_horizontally(s->ws);
	worksheet_set_margins(s->ws, 0.5, 0.5, 0.6, 0.6);
	text(s, 0, 0, 0, n_cols - 1, title, x->title);
	text(s, 1, 0, 1, n_cols - 1, name, x->heading);
	s->title_rows = 2;
	return 0;
}

/* Row heights for the text that wraps; then the sheet is done. */
static void sheet_end(struct sheet *s, int n_rows)
{
	for (int r = 0; r < n_rows && r < MAX_ROWS; r++) {
		double line = r == 0 ? 24 : 18;
		int lines = s->lines[r] > 1 ? s->lines[r] : 1;
		check(s->x, worksheet_set_row(s->ws, (lxw_row_t)r, line * lines, NULL));
	}
}

/* ---- table 二: one block per 条例 item, the last column spanning what the item lacks ---- */

static void sheet_proactive(struct xl *x, const struct report *r, const char *title)
{
	static const double widths[] = {26, 18, 18, 18};
	int t = r->template_year, n_cols = 4, row = 2;
	unsigned bit = cells_template_bit(t);
	struct sheet s;
	if (sheet_begin(&s, x, labels[LABEL_TABLE_PROACTIVE], widths, n_cols, 0, title))
		return;
	for (int first = 0; first < PRO_ROW_COUNT;) {
		if (!(pro_rows[first].templates & bit)) {
			first++;
			continue;
		}
		int cells[8], n = 0;
		for (int i = 0; i < PRO_CELL_COUNT; i++)
			if ((int)pro_cells[i].row == first && (pro_cells[i].templates & bit))
				cells[n++] = i;
		text(&s, row, 0, row, n_cols - 1, pro_rows[first].item, x->label);
		row++;
		text(&s, row, 0, row, 0, labels[LABEL_CONTENT], x->header);
		for (int i = 0; i < n; i++) {
			char header[192];
			const char *label = pro_cell_label(cells[i], t);
			/* a money column's header says its unit */
			if (pro_cells[cells[i]].is_money &&
			    strstr(label, labels[LABEL_AMOUNT_UNIT]) == NULL)
				snprintf(header, sizeof(header), "%s（%s）", label,
					 labels[LABEL_AMOUNT_UNIT]);
			else
				snprintf(header, sizeof(header), "%s", label);
			text(&s, row, 1 + i, row, i == n - 1 ? n_cols - 1 : 1 + i, header,
			     x->header);
		}
		row++;
		int end = first;
		while (end < PRO_ROW_COUNT &&
		       (!(pro_rows[end].templates & bit) ||
			strcmp(pro_rows[end].item, pro_rows[first].item) == 0)) {
			if (pro_rows[end].templates & bit) {
				text(&s, row, 0, row, 0, pro_row_label(end, t), x->label);
				int k = 0;
				for (int i = 0; i < PRO_CELL_COUNT; i++)
					if ((int)pro_cells[i].row == end &&
					    (pro_cells[i].templates & bit)) {
						value(&s, row, 1 + k,
						      k == n - 1 ? n_cols - 1 : 1 + k, r->pro[i],
						      pro_cells[i].is_money);
						k++;
					}
				row++;
			}
			end++;
		}
		first = end;
	}
	sheet_end(&s, row);
}

/* ---- table 三: three label columns (一/三 over the rows they head, （三） over its items) ---- */

/* The level of a row label in the template: 一、 0, （一） 1, 1. 2. */
static int app_level(const char *label)
{
	if (strncmp(label, "（", strlen("（")) == 0)
		return 1;
	return label[0] >= '0' && label[0] <= '9' ? 2 : 0;
}

struct heading {
	const char *label;
	int first_row; /* -1: none open */
};

/* A heading over the rows from its first to last, in column col. */
static void heading_close(struct sheet *s, struct heading *h, int last_row, int col)
{
	if (h->first_row >= 0 && last_row >= h->first_row)
		text(s, h->first_row, col, last_row, col, h->label, s->x->label);
	h->first_row = -1;
}

static void sheet_applications(struct xl *x, const struct report *r, const char *title)
{
	static const double widths[] = {8, 12, 44, 10, 10, 10, 12, 12, 10, 10};
	enum { LABEL_COLS = 3, HEADER_ROWS = 3 };
	int t = r->template_year, n_cols = LABEL_COLS + APP_COLUMNS_WITH_TOTAL;
	unsigned bit = cells_template_bit(t);
	char note[256];
	struct sheet s;
	if (sheet_begin(&s, x, labels[LABEL_TABLE_APPLICATIONS], widths, n_cols, 1, title))
		return;
	/* the header: the note over the label columns, 申请人情况 over the applicant columns,
	 * 法人或其他组织 over its five */
	int h = s.title_rows, last = n_cols - 1;
	snprintf(note, sizeof(note), "（%s）", labels[LABEL_BALANCE_NOTE]);
	text(&s, h, 0, h + HEADER_ROWS - 1, LABEL_COLS - 1, note, x->header);
	text(&s, h, LABEL_COLS, h, last, labels[LABEL_APPLICANTS], x->header);
	text(&s, h + 1, LABEL_COLS, h + 2, LABEL_COLS, app_columns[0].label, x->header);
	text(&s, h + 1, LABEL_COLS + 1, h + 1, LABEL_COLS + APP_COLUMN_COUNT - 1,
	     labels[LABEL_LEGAL_PERSONS], x->header);
	for (int c = 1; c < APP_COLUMN_COUNT; c++)
		text(&s, h + 2, LABEL_COLS + c, h + 2, LABEL_COLS + c, app_columns[c].label,
		     x->header);
	text(&s, h + 1, last, h + 2, last, app_columns[APP_COL_TOTAL].label, x->header);
	check(x, worksheet_repeat_rows(s.ws, (lxw_row_t)h, (lxw_row_t)(h + HEADER_ROWS - 1)));

	struct heading top = {NULL, -1}, sub = {NULL, -1};
	int row = h + HEADER_ROWS;
	for (int i = 0; i < APP_ROW_COUNT; i++) {
		if (!(app_rows[i].templates & bit))
			continue;
		const char *label = app_row_label(i, t), *hd = app_heading(i, t);
		if (hd && *hd) {
			struct heading *o = app_level(hd) == 0 ? &top : &sub;
			heading_close(&s, o, row - 1, o == &top ? 0 : 1);
			o->label = hd;
			o->first_row = row;
		}
		switch (app_level(label)) {
		case 0:
			heading_close(&s, &sub, row - 1, 1);
			heading_close(&s, &top, row - 1, 0);
			text(&s, row, 0, row, LABEL_COLS - 1, label, x->label);
			break;
		case 1:
			heading_close(&s, &sub, row - 1, 1);
			text(&s, row, top.first_row >= 0 ? 1 : 0, row, LABEL_COLS - 1, label,
			     x->label);
			break;
		default:
			text(&s, row, sub.first_row >= 0 ? 2 : 1, row, LABEL_COLS - 1, label,
			     x->label);
			break;
		}
		for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++)
			value(&s, row, LABEL_COLS + c, LABEL_COLS + c, r->app[i][c], 0);
		row++;
	}
	heading_close(&s, &sub, row - 1, 1);
	heading_close(&s, &top, row - 1, 0);
	sheet_end(&s, row);
}

/* ---- table 四: 行政复议 over five columns, 行政诉讼 over its two groups of five ---- */

/* 本年度未报送数据的单位（n）：a、b、… as the other layouts print it; NULL without memory. */
static char *silent_text(const struct render_meta *m)
{
	size_t size = strlen(labels[LABEL_SILENT_UNITS]) + 64;
	for (size_t i = 0; i < m->n_silent; i++)
		size += strlen(m->silent_names[i]) + strlen("、");
	char *buf = malloc(size);
	if (buf == NULL)
		return NULL;
	size_t len = (size_t)snprintf(buf, size, "%s（%zu）：%s", labels[LABEL_SILENT_UNITS],
				      m->n_silent, m->n_silent ? "" : "无");
	for (size_t i = 0; i < m->n_silent; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "、" : "",
					m->silent_names[i]);
	return buf;
}

static void sheet_reviews(struct xl *x, const struct report *r, const struct render_meta *m,
			  const char *title)
{
	enum { N = CASE_GROUP_COUNT * CASE_COLUMN_COUNT };
	double widths[N];
	for (int c = 0; c < N; c++)
		widths[c] = 10;
	struct sheet s;
	if (sheet_begin(&s, x, labels[LABEL_TABLE_REVIEWS], widths, N, 1, title))
		return;
	int h = s.title_rows, w = CASE_COLUMN_COUNT;
	text(&s, h, 0, h + 1, w - 1, case_groups[CASE_GROUP_REVIEW].label, x->header);
	text(&s, h, w, h, N - 1, labels[LABEL_LITIGATION], x->header);
	for (int g = 1; g < CASE_GROUP_COUNT; g++)
		text(&s, h + 1, g * w, h + 1, g * w + w - 1, case_groups[g].label, x->header);
	for (int g = 0; g < CASE_GROUP_COUNT; g++)
		for (int c = 0; c < w; c++) {
			text(&s, h + 2, g * w + c, h + 2, g * w + c, case_columns[c].label,
			     x->header);
			value(&s, h + 3, g * w + c, g * w + c, r->cases[g][c], 0);
		}
	char *silent = silent_text(m);
	if (silent == NULL) {
		check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return;
	}
	text(&s, h + 5, 0, h + 5, N - 1, silent, x->note);
	free(silent);
	/* the published mark and the carry note, a row each under the silent units */
	int row = h + 6;
	char *notes = render_notes_text(r, m);
	if (notes == NULL)
		check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
	for (char *p = notes, *nl; p && *p; p = nl + 1, row++) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		else
			*nl = '\0';
		text(&s, row, 0, row, N - 1, p, x->note);
	}
	free(notes);
	sheet_end(&s, row);
}

static lxw_format *format(struct xl *x, int border, int bold, double size, int align,
			  const char *num)
{
	lxw_format *f = workbook_add_format(x->wb);
	if (f == NULL)
		return NULL;
	format_set_font_name(f, "宋体");
	format_set_font_size(f, size);
	if (bold)
		format_set_bold(f);
	if (border)
		format_set_border(f, LXW_BORDER_THIN);
	format_set_align(f, (uint8_t)align);
	format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
	format_set_text_wrap(f);
	if (num)
		format_set_num_format(f, num);
	return f;
}

int render_xlsx(const char *path, const struct report *r, const struct render_meta *m, char *err,
		size_t err_size)
{
	struct xl x = {0};
	char title[256], *tmp = malloc(strlen(path) + sizeof(".partial"));
	if (tmp == NULL) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	/* written beside the file and renamed over it: a reader never sees half a workbook */
	sprintf(tmp, "%s.partial", path);
	lxw_workbook_options options = {.constant_memory = LXW_FALSE, .tmpdir = NULL};
	x.wb = workbook_new_opt(tmp, &options);
	if (x.wb == NULL) {
		snprintf(err, err_size, "cannot start a workbook (out of memory)");
		free(tmp);
		return -1;
	}
	render_title(r, m, title, sizeof(title));
	lxw_doc_properties props = {.title = title, .comments = "xxgk"};
	check(&x, workbook_set_properties(x.wb, &props));
	x.title = format(&x, 0, 1, 16, LXW_ALIGN_CENTER, NULL);
	x.heading = format(&x, 0, 1, 12, LXW_ALIGN_LEFT, NULL);
	x.header = format(&x, 1, 0, 11, LXW_ALIGN_CENTER, NULL);
	x.label = format(&x, 1, 0, 11, LXW_ALIGN_LEFT, NULL);
	x.count = format(&x, 1, 0, 11, LXW_ALIGN_CENTER, "0");
	x.money = format(&x, 1, 0, 11, LXW_ALIGN_CENTER, "0.0000");
	x.note = format(&x, 0, 0, 11, LXW_ALIGN_LEFT, NULL);
	if (!x.title || !x.heading || !x.header || !x.label || !x.count || !x.money || !x.note)
		check(&x, LXW_ERROR_MEMORY_MALLOC_FAILED);
	if (x.error == LXW_NO_ERROR) {
		sheet_proactive(&x, r, title);
		sheet_applications(&x, r, title);
		sheet_reviews(&x, r, m, title);
	}
	lxw_error closed = workbook_close(x.wb);
	check(&x, closed);
	int rc = 0;
	if (x.error != LXW_NO_ERROR) {
		snprintf(err, err_size, "cannot write %s: %s", path, lxw_strerror(x.error));
		rc = -1;
	} else if (rename(tmp, path) != 0) {
		snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc)
		remove(tmp);
	free(tmp);
	return rc;
}
