#include "template.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

#include "date.h"
#include "i18n.h"

#define WORDS_MAX 32

#if defined(__SANITIZE_ADDRESS__)
#define TEMPLATE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEMPLATE_ASAN 1
#endif
#endif
#ifdef TEMPLATE_ASAN
/*
 * libxlsxwriter 1.1.4 (Debian 12) never frees its copy of a list validation's range formula
 * (LXW_VALIDATION_TYPE_LIST_FORMULA; the other types' formulas it frees): some twenty bytes a
 * drop-down, once in a run that then exits. Not ours to fix, so the sanitizer build's leak check
 * is told, through LeakSanitizer's documented hooks. The library has no frame pointers: the
 * unwinder's stack ends at its lxw_strdup, which only the library calls, so that is the name.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:lxw_strdup\n";
}

const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}
#endif

/* The ledgers there are templates of; the table's submissions ledger is xxgkctl submit's. */
static const enum ledger templated[] = {LEDGER_APPLICATIONS, LEDGER_DOCUMENTS, LEDGER_CASES,
					LEDGER_TALLIES};
#define TEMPLATED (int)(sizeof(templated) / sizeof(templated[0]))

int template_ledger(const char *name)
{
	for (int i = 0; i < TEMPLATED; i++)
		if (strcmp(name, ledgers[templated[i]].key) == 0)
			return (int)templated[i];
	return -1;
}

void template_names(char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 0; i < TEMPLATED && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i == 0		     ? ""
					: i == TEMPLATED - 1 ? " or "
							     : ", ",
					ledgers[templated[i]].key);
}

/*
 * What a column means, for its header's note and 填写说明: the one thing the template adds to the
 * table. By the column's key; the valid values are appended from the table.
 */
static const struct {
	const char *key, *note;
} notes[] = {
    {"unit", "本单位在全市政府信息公开统计中的单位编号（由政务公开主管部门提供）；示例行的编号"
	     "请改为本单位的。"},
    {"id", "本单位登记的编号（申请编号、文号、案号等），每条记录一个，不可重复；以后修改这条记录"
	   "时不变。"},
    {"revision", "版本号，从 1 起的整数；已导入的记录有改动时加 1 再导入，新版本替换旧版本。"},
    {"deleted",
     "撤销一条已导入的记录时选“" WORD_YES "”（版本号同时加 1）；平时为“" WORD_NO "”或留空。"},
    {"applicant", "申请人属于哪一类。"},
    {"received", "收到申请的日期。"},
    {"concluded", "办结（答复）的日期；尚未办结的留空。"},
    {"outcome", "办理结果，办结时填写；尚未办结的留空。"},
    {"kind", "文件的类型。"},
    {"made", "制发（印发）的日期。"},
    {"published", "主动公开的日期；未公开的留空。"},
    {"repealed", "废止的日期；现行有效的留空。"},
    {"title", "文件的标题（可不填）。"},
    {"group", "行政复议，或哪一种行政诉讼。"},
    {"filed", "收到复议申请或起诉的日期。"},
    {"closed", "审结的日期；尚未审结的留空。"},
    {"result", "审理结果，审结时填写；尚未审结的留空。"},
    {"measure", "统计的事项。"},
    {"date", "统计数所属的日期，计入这一日期所在的年度。"},
    {"value", "数值：件数；金额以分为单位；项目增减填本年的增减，减少为负数。"},
    {"year", "报送的年度。"},
};

static const char *note_of(const char *key)
{
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		if (strcmp(notes[i].key, key) == 0)
			return notes[i].note;
	return "";
}

/* A column of the table with the words a drop-down offers (an enum's, or yes and no). */
struct column {
	const struct ledger_column *c;
	const char *words[WORDS_MAX];
	size_t n_words;
};

static int columns(enum ledger ledger, struct column *cols)
{
	int n;
	const struct ledger_column *c = ledger_columns(ledger, &n);
	for (int i = 0; i < n && i < LEDGER_COLUMNS_MAX; i++) {
		memset(&cols[i], 0, sizeof(cols[i]));
		cols[i].c = &c[i];
		if (c[i].type == COLUMN_BOOLEAN) {
			cols[i].words[cols[i].n_words++] = WORD_YES;
			cols[i].words[cols[i].n_words++] = WORD_NO;
		} else if (c[i].type == COLUMN_ENUM) {
			for (int v = 1; v <= words_count(c[i].set) && v <= WORDS_MAX; v++)
				cols[i].words[cols[i].n_words++] = words_value(c[i].set, v);
		}
	}
	return n < LEDGER_COLUMNS_MAX ? n : LEDGER_COLUMNS_MAX;
}

/* ---- CSV ---- */

/* A cell as Excel writes it: quoted when it holds a comma, quote, line break or edge space. */
static void csv_cell(FILE *out, const char *s)
{
	size_t len = strlen(s);
	if (strpbrk(s, ",\"\r\n") == NULL && (len == 0 || (s[0] != ' ' && s[len - 1] != ' '))) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

int template_csv(FILE *out, enum ledger ledger)
{
	int n;
	const struct ledger_column *c = ledger_columns(ledger, &n);
	fputs("\xef\xbb\xbf", out);
	for (int row = 0; row < 2; row++) {
		for (int i = 0; i < n; i++) {
			if (i)
				fputc(',', out);
			csv_cell(out, row == 0 ? c[i].header : c[i].example);
		}
		fputs("\r\n", out);
	}
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

/* ---- xlsx ---- */

#define LIST_SHEET "值列表"
#define NOTES_SHEET "填写说明"

struct xl {
	lxw_workbook *wb;
	lxw_format *header, *text, *integer, *date, *title, *wrap;
	lxw_error error; /* the first failure; the workbook is then not kept */
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

static int is_number(enum column_type t)
{
	return t == COLUMN_REVISION || t == COLUMN_INTEGER || t == COLUMN_YEAR;
}

/* The note of a column: what it means, and the values a drop-down column takes. */
static void column_note(const struct column *c, char *buf, size_t size)
{
	size_t len = (size_t)snprintf(buf, size, "%s", note_of(c->c->key));
	if (c->n_words && len < size)
		len += (size_t)snprintf(buf + len, size - len, "可填：");
	for (size_t i = 0; i < c->n_words && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "、" : "", c->words[i]);
}

static lxw_format *new_format(struct xl *x, int bold, const char *num)
{
	lxw_format *f = workbook_add_format(x->wb);
	if (f == NULL) {
		check(x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		return NULL;
	}
	format_set_font_name(f, "宋体");
	format_set_font_size(f, 11);
	if (bold)
		format_set_bold(f);
	if (num)
		format_set_num_format(f, num);
	return f;
}

/* The table's example date "2025-03-01" as an Excel date. */
static lxw_datetime datetime_of(const char *s)
{
	lxw_datetime dt = {0};
	sscanf(s, "%d-%d-%d", &dt.year, &dt.month, &dt.day);
	return dt;
}

/* The column's data rows: a drop-down list of the words at list_col of the list sheet, or a
 * date or a whole number checked. */
static void validate(struct xl *x, lxw_worksheet *ws, int col, const struct column *c, int list_col)
{
	char formula[96], message[256];
	lxw_data_validation v = {0};
	if (c->n_words) {
		char letters[8];
		lxw_col_to_name(letters, (lxw_col_t)list_col, 0);
		/* a list sheet, not an inline list: Excel's inline list stops at 255 characters */
		snprintf(formula, sizeof(formula), "='%s'!$%s$2:$%s$%zu", LIST_SHEET, letters,
			 letters, c->n_words + 1);
		v.validate = LXW_VALIDATION_TYPE_LIST_FORMULA;
		v.value_formula = formula;
		snprintf(message, sizeof(message), "请从下拉列表中选择%s。", c->c->header);
		v.error_title = "无效的值";
	} else if (c->c->type == COLUMN_DATE) {
		v.validate = LXW_VALIDATION_TYPE_DATE;
		v.criteria = LXW_VALIDATION_CRITERIA_BETWEEN;
		v.minimum_datetime = (lxw_datetime){DATE_YEAR_MIN, 1, 1, 0, 0, 0};
		v.maximum_datetime = (lxw_datetime){DATE_YEAR_MAX, 12, 31, 0, 0, 0};
		snprintf(message, sizeof(message), "请填写 %d 年至 %d 年之间的日期。",
			 DATE_YEAR_MIN, DATE_YEAR_MAX);
		v.error_title = "无效的日期";
	} else if (is_number(c->c->type)) {
		v.validate = LXW_VALIDATION_TYPE_INTEGER;
		v.criteria = LXW_VALIDATION_CRITERIA_BETWEEN;
		v.minimum_number = c->c->type == COLUMN_REVISION ? 1
				   : c->c->type == COLUMN_YEAR	 ? DATE_YEAR_MIN
								 : -1e15;
		v.maximum_number = c->c->type == COLUMN_YEAR ? DATE_YEAR_MAX : 1e15;
		snprintf(message, sizeof(message), "请填写整数%s。",
			 c->c->type == COLUMN_REVISION ? "（从 1 起）" : "");
		v.error_title = "无效的数";
	} else {
		return;
	}
	v.error_message = message;
	check(x, worksheet_data_validation_range(ws, 1, (lxw_col_t)col, TEMPLATE_XLSX_ROWS,
						 (lxw_col_t)col, &v));
}

/* The ledger on ws, the drop-down lists' words on the hidden sheet lists. */
static void sheet_ledger(struct xl *x, lxw_worksheet *ws, lxw_worksheet *lists,
			 const struct column *cols, int n)
{
	char note[1024];
	int list_col = 0;
	worksheet_hide(lists);
	worksheet_set_comments_author(ws, "xxgk");
	for (int i = 0; i < n; i++) {
		const struct column *c = &cols[i];
		const char *example = c->c->example;
		enum column_type t = c->c->type;
		lxw_format *f = t == COLUMN_DATE ? x->date : is_number(t) ? x->integer : x->text;
		int w = text_width(c->c->header);
		if (text_width(example) > w)
			w = text_width(example);
		for (size_t k = 0; k < c->n_words; k++)
			if (text_width(c->words[k]) > w)
				w = text_width(c->words[k]);
		if (t == COLUMN_DATE && w < 12)
			w = 12;
		/* the column's format also formats what the clerk types below */
		check(x, worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, w + 2, f));
		check(x, worksheet_write_string(ws, 0, (lxw_col_t)i, c->c->header, x->header));
		column_note(c, note, sizeof(note));
		lxw_comment_options co = {.width = 320, .height = 120};
		check(x, worksheet_write_comment_opt(ws, 0, (lxw_col_t)i, note, &co));
		if (example[0] == '\0') {
			/* an empty example cell stays blank */
		} else if (t == COLUMN_DATE) {
			lxw_datetime dt = datetime_of(example);
			check(x, worksheet_write_datetime(ws, 1, (lxw_col_t)i, &dt, x->date));
		} else if (is_number(t)) {
			check(x, worksheet_write_number(ws, 1, (lxw_col_t)i, atof(example),
							x->integer));
		} else {
			check(x, worksheet_write_string(ws, 1, (lxw_col_t)i, example, x->text));
		}
		if (c->n_words) {
			check(x, worksheet_write_string(lists, 0, (lxw_col_t)list_col, c->c->header,
							NULL));
			for (size_t k = 0; k < c->n_words; k++)
				check(x, worksheet_write_string(lists, (lxw_row_t)(k + 1),
								(lxw_col_t)list_col, c->words[k],
								NULL));
		}
		validate(x, ws, i, c, list_col);
		list_col += c->n_words > 0;
	}
	check(x, worksheet_set_row(ws, 0, 20, NULL));
	worksheet_freeze_panes(ws, 1, 0);
	check(x, worksheet_autofilter(ws, 0, 0, TEMPLATE_XLSX_ROWS, (lxw_col_t)(n - 1)));
	worksheet_activate(ws);
}

/* 填写说明: what each column means and takes, and how the ledger gets to xxgkd. */
static void sheet_notes(struct xl *x, lxw_worksheet *ws, enum ledger ledger,
			const struct column *cols, int n)
{
	static const char *const intro[] = {
	    "每行一条记录；第 2 行是示例，请改为本单位的实际内容或删除。",
	    "下拉列表中的值是统计系统认可的值；日期也可写作 2025/3/1、2025.3.1 或 2025年3月1日。",
	    "填好后另存为“CSV UTF-8（逗号分隔）”，用 xxgk-push 导入。",
	};
	char note[1024];
	check(x, worksheet_set_column(ws, 0, 0, 16, NULL));
	check(x, worksheet_set_column(ws, 1, 1, 90, x->wrap));
	check(x, worksheet_write_string(ws, 0, 0, ledgers[ledger].title, x->title));
	int row = 1;
	for (size_t i = 0; i < sizeof(intro) / sizeof(intro[0]); i++, row++)
		check(x, worksheet_write_string(ws, (lxw_row_t)row, 0, intro[i], NULL));
	row++;
	check(x, worksheet_write_string(ws, (lxw_row_t)row, 0, "列", x->header));
	check(x, worksheet_write_string(ws, (lxw_row_t)row, 1, "说明", x->header));
	row++;
	for (int i = 0; i < n; i++, row++) {
		column_note(&cols[i], note, sizeof(note));
		check(x, worksheet_write_string(ws, (lxw_row_t)row, 0, cols[i].c->header, NULL));
		check(x, worksheet_write_string(ws, (lxw_row_t)row, 1, note, x->wrap));
	}
}

int template_xlsx(const char *path, enum ledger ledger, char *err, size_t err_size)
{
	struct column cols[LEDGER_COLUMNS_MAX];
	struct xl x = {0};
	int n = columns(ledger, cols);
	char *tmp = malloc(strlen(path) + sizeof(".partial"));
	if (tmp == NULL) {
		snprintf(err, err_size, "%s", _("out of memory"));
		return -1;
	}
	/* written beside the file and renamed over it: a reader never sees half a workbook */
	sprintf(tmp, "%s.partial", path);
	lxw_workbook_options options = {.constant_memory = LXW_FALSE, .tmpdir = NULL};
	x.wb = workbook_new_opt(tmp, &options);
	if (x.wb == NULL) {
		snprintf(err, err_size, "%s", _("cannot start a workbook (out of memory)"));
		free(tmp);
		return -1;
	}
	lxw_doc_properties props = {.title = (char *)ledgers[ledger].title, .comments = "xxgk"};
	check(&x, workbook_set_properties(x.wb, &props));
	x.header = new_format(&x, 1, NULL);
	x.text = new_format(&x, 0, "@");
	x.integer = new_format(&x, 0, "0");
	x.date = new_format(&x, 0, "yyyy-mm-dd");
	x.title = new_format(&x, 1, NULL);
	x.wrap = new_format(&x, 0, NULL);
	if (x.error == LXW_NO_ERROR) {
		format_set_border(x.header, LXW_BORDER_THIN);
		format_set_bg_color(x.header, 0xDDEBF7);
		format_set_align(x.header, LXW_ALIGN_CENTER);
		format_set_align(x.header, LXW_ALIGN_VERTICAL_CENTER);
		format_set_font_size(x.title, 14);
		format_set_text_wrap(x.wrap);
		format_set_align(x.wrap, LXW_ALIGN_VERTICAL_TOP);
		/* the ledger first, the sheet Excel opens and saves as CSV */
		lxw_worksheet *sheet = workbook_add_worksheet(x.wb, ledgers[ledger].title),
			      *help = workbook_add_worksheet(x.wb, NOTES_SHEET),
			      *lists = workbook_add_worksheet(x.wb, LIST_SHEET);
		if (sheet && help && lists) {
			sheet_ledger(&x, sheet, lists, cols, n);
			sheet_notes(&x, help, ledger, cols, n);
		} else {
			check(&x, LXW_ERROR_MEMORY_MALLOC_FAILED);
		}
	}
	check(&x, workbook_close(x.wb));
	int rc = 0;
	if (x.error != LXW_NO_ERROR) {
		snprintf(err, err_size, _("cannot write %s: %s"), path, lxw_strerror(x.error));
		rc = -1;
	} else if (rename(tmp, path) != 0) {
		snprintf(err, err_size, _("cannot write %s: %s"), path, strerror(errno));
		rc = -1;
	}
	if (rc)
		remove(tmp);
	free(tmp);
	return rc;
}
