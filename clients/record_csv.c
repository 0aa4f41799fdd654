#include "record_csv.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "ledger_cells.h"
#include "record.h"
#include "words.h"

#define COLUMNS_MAX 256 /* columns of a file that are looked at */
#define HEADER_MAX 128	/* bytes of a header kept for messages */
#define CELL_MAX RECORD_TITLE_MAX
#define SHOWN_MAX 60 /* bytes of a bad value a message shows */

struct csv_state {
	const char *file;
	const struct ledger_mapping *map;
	const struct ledger_sink *s;
	struct ledger_counts *counts;
	long line, record_line;
	int header_done, stop, fatal;
	enum ledger ledger;
	const struct ledger_column *columns;
	int n_columns;		       /* of the ledger */
	int width;		       /* columns of the header */
	int n;			       /* cells of the current line so far */
	int empty;		       /* every cell of the current line so far is empty */
	int extra;		       /* cells beyond the header's that are not empty */
	int use[COLUMNS_MAX];	       /* column of the file -> column of the ledger, or -1 */
	int where[LEDGER_COLUMNS_MAX]; /* column of the ledger -> of the file, or -1 */
	int too_long[LEDGER_COLUMNS_MAX];
	char headers[COLUMNS_MAX][HEADER_MAX];
	char cell[LEDGER_COLUMNS_MAX][CELL_MAX + 1];
};

/* Spaces around a cell: ASCII, the ideographic space (U+3000) and no-break space (U+00A0). */
static size_t space_at(const char *p, const char *end)
{
	if (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		return 1;
	if (end - p >= 3 && memcmp(p, "\xE3\x80\x80", 3) == 0)
		return 3;
	if (end - p >= 2 && memcmp(p, "\xC2\xA0", 2) == 0)
		return 2;
	return 0;
}

static size_t space_before(const char *start, const char *end)
{
	if (end > start &&
	    (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		return 1;
	if (end - start >= 3 && memcmp(end - 3, "\xE3\x80\x80", 3) == 0)
		return 3;
	if (end - start >= 2 && memcmp(end - 2, "\xC2\xA0", 2) == 0)
		return 2;
	return 0;
}

static void trim(const char **s, size_t *len)
{
	const char *p = *s, *end = *s + *len;
	size_t k;
	while ((k = space_at(p, end)) > 0)
		p += k;
	while ((k = space_before(p, end)) > 0)
		end -= k;
	*s = p;
	*len = (size_t)(end - p);
}

/*
 * A value's word without the line breaks and spaces within it: a long word in a narrow column
 * is broken over lines (Alt+Enter in Excel). out has room for CELL_MAX + 1 bytes.
 */
static void unbroken(const char *s, char *out)
{
	const char *end = s + strlen(s);
	size_t n = 0, k;
	while (s < end) {
		if ((k = space_at(s, end)) > 0) {
			s += k;
			continue;
		}
		out[n++] = *s++;
	}
	out[n] = '\0';
}

/* The length of the valid UTF-8 character at p (before end), or 0. */
static size_t utf8_at(const unsigned char *p, const unsigned char *end)
{
	size_t k = *p < 0x80		      ? 1
		   : *p >= 0xC2 && *p <= 0xDF ? 2
		   : *p >= 0xE0 && *p <= 0xEF ? 3
		   : *p >= 0xF0 && *p <= 0xF4 ? 4
					      : 0;
	if (k == 0 || (size_t)(end - p) < k)
		return 0;
	for (size_t j = 1; j < k; j++)
		if ((p[j] & 0xC0) != 0x80)
			return 0;
	return k;
}

/* value for a message: quoted, cut at SHOWN_MAX bytes on a character's boundary, bytes that are
 * not UTF-8 shown as U+FFFD */
static void shown(const char *raw, char *buf, size_t size)
{
	char value[4 * SHOWN_MAX];
	const unsigned char *p = (const unsigned char *)raw, *end = p + strlen(raw);
	size_t used = 0, k;
	while (p < end && used + 4 < sizeof(value)) {
		if ((k = utf8_at(p, end)) == 0) {
			memcpy(value + used, "\xEF\xBF\xBD", 3);
			used += 3;
			p++;
			continue;
		}
		memcpy(value + used, p, k);
		used += k;
		p += k;
	}
	value[used] = '\0';
	size_t n = strlen(value);
	if (n <= SHOWN_MAX) {
		snprintf(buf, size, _("\"%s\""), value);
		return;
	}
	n = SHOWN_MAX;
	while (n > 0 && ((unsigned char)value[n] & 0xC0) == 0x80)
		n--;
	char cut[SHOWN_MAX + 8];
	snprintf(cut, sizeof(cut), "%.*s…", (int)n, value);
	snprintf(buf, size, _("\"%s\""), cut);
}

static void bad_file(struct csv_state *st, long line, const char *msg)
{
	ledger_bad(st->s, st->file, line, "%s", msg);
}

/* the header of column i as the file has it, or as the template has it */
static const char *header(const struct csv_state *st, int i)
{
	return st->where[i] >= 0 ? st->headers[st->where[i]] : st->columns[i].header;
}

/* --- the header ------------------------------------------------------------------------- */

/* The column of ledger l a header of the file names: >= 0, -1 unknown, -2 ignored. */
static int column_of(const struct csv_state *st, enum ledger l, const char *h)
{
	const char *key;
	if (h[0] == '\0')
		return -2;
	if (mapping_column(st->map, h, &key))
		return key ? ledger_column_by_header(l, key) : -2;
	return ledger_column_by_header(l, h);
}

static void list_headers(enum ledger l, char *buf, size_t size)
{
	int n;
	const struct ledger_column *c = ledger_columns(l, &n);
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < n && used < size; i++) {
		int k = snprintf(buf + used, size - used, "%s%s", i ? "、" : "", c[i].header);
		used += k > 0 ? (size_t)k : 0;
	}
}

/* The discriminating column of every ledger (applicant, kind, group, measure, year) is its 5th. */
#define DISCRIMINATOR 4

static int read_header(struct csv_state *st)
{
	char list[512];
	int chosen = -1;
	for (int l = 0; l < LEDGER_COUNT && chosen < 0; l++)
		for (int j = 0; j < st->width && chosen < 0; j++)
			if (column_of(st, (enum ledger)l, st->headers[j]) == DISCRIMINATOR)
				chosen = l;
	if (chosen < 0) {
		char want[1024];
		size_t used = 0;
		for (int l = 0; l < LEDGER_COUNT; l++) {
			int n;
			const struct ledger_column *c = ledger_columns((enum ledger)l, &n);
			int k = snprintf(want + used, sizeof(want) - used, "%s", l ? _(", ") : "");
			used += k > 0 && (size_t)k < sizeof(want) - used ? (size_t)k : 0;
			k = snprintf(want + used, sizeof(want) - used, _("%s (%s)"),
				     c[DISCRIMINATOR].header, ledgers[l].title);
			used += k > 0 && (size_t)k < sizeof(want) - used ? (size_t)k : 0;
		}
		ledger_bad(
		    st->s, st->file, st->record_line,
		    _("the header names no ledger: it needs one of the columns %s%s"), want,
		    st->map ? "" : _(" (a mapping file, --mapping, names a ledger's own columns)"));
		return -1;
	}
	st->ledger = (enum ledger)chosen;
	st->columns = ledger_columns(st->ledger, &st->n_columns);
	for (int i = 0; i < LEDGER_COLUMNS_MAX; i++)
		st->where[i] = -1;
	for (int j = 0; j < st->width; j++) {
		int i = column_of(st, st->ledger, st->headers[j]);
		st->use[j] = i >= 0 ? i : -1;
		if (i == -1 && st->map == NULL) {
			list_headers(st->ledger, list, sizeof(list));
			char msg[1024];
			snprintf(
			    msg, sizeof(msg),
			    _("column %s is no column of the %s (%s); its columns are %s: "
			      "rename it, or name it in a mapping file (--mapping) to ignore it"),
			    st->headers[j], ledgers[st->ledger].title, ledgers[st->ledger].key,
			    list);
			bad_file(st, st->record_line, msg);
			return -1;
		}
		if (i >= 0 && st->where[i] >= 0) {
			char msg[512];
			snprintf(msg, sizeof(msg), _("columns %s and %s are both %s"),
				 st->headers[st->where[i]], st->headers[j], st->columns[i].header);
			bad_file(st, st->record_line, msg);
			return -1;
		}
		if (i >= 0)
			st->where[i] = j;
	}
	for (int i = 0; i < 2; i++) /* unit and id */
		if (st->where[i] < 0 && (i == 1 || !mapping_default(st->map, "unit"))) {
			ledger_bad(st->s, st->file, st->record_line,
				   _("the header has no column %s (%s)"), st->columns[i].header,
				   st->columns[i].key);
			return -1;
		}
	st->header_done = 1;
	return 0;
}

/* --- a line ----------------------------------------------------------------------------- */

static void bad_cell(struct csv_state *st, int i, const char *why, const char *valid)
{
	char value[SHOWN_MAX + 32], msg[LEDGER_MESSAGE_MAX];
	shown(st->cell[i], value, sizeof(value));
	int n = snprintf(msg, sizeof(msg), _("column %s: %s"), header(st, i), value);
	n = n > 0 && (size_t)n < sizeof(msg) ? n : 0;
	int k = snprintf(msg + n, sizeof(msg) - (size_t)n, _(": %s"), why);
	n += k > 0 && (size_t)k < sizeof(msg) - (size_t)n ? k : 0;
	if (valid)
		snprintf(msg + n, sizeof(msg) - (size_t)n, _("; valid values: %s"), valid);
	bad_file(st, st->record_line, msg);
}

static char *dup_or_fail(const char *s, int *failed)
{
	char *d = strdup(s);
	if (d == NULL)
		*failed = 1;
	return d;
}

static void *new_body(Xxgk__V1__Record *r, enum ledger l)
{
	switch (l) {
	case LEDGER_APPLICATIONS:
		r->body_case = XXGK__V1__RECORD__BODY_APPLICATION;
		if ((r->application = malloc(sizeof(*r->application))))
			xxgk__v1__application__init(r->application);
		return r->application;
	case LEDGER_DOCUMENTS:
		r->body_case = XXGK__V1__RECORD__BODY_DOCUMENT;
		if ((r->document = malloc(sizeof(*r->document))))
			xxgk__v1__document__init(r->document);
		return r->document;
	case LEDGER_CASES:
		r->body_case = XXGK__V1__RECORD__BODY_LEGAL_CASE;
		if ((r->legal_case = malloc(sizeof(*r->legal_case))))
			xxgk__v1__case__init(r->legal_case);
		return r->legal_case;
	case LEDGER_TALLIES:
		r->body_case = XXGK__V1__RECORD__BODY_TALLY;
		if ((r->tally = malloc(sizeof(*r->tally))))
			xxgk__v1__tally__init(r->tally);
		return r->tally;
	default:
		r->body_case = XXGK__V1__RECORD__BODY_SUBMISSION;
		if ((r->submission = malloc(sizeof(*r->submission))))
			xxgk__v1__submission__init(r->submission);
		return r->submission;
	}
}

/*
 * Sets the field of the body named key, through the protobuf descriptor, so that no ledger's
 * field is spelled twice: the words table's keys are the schema's field names.
 */
static int set_body(ProtobufCMessage *body, const char *key, int is_string, const char *s,
		    int64_t v)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(body->descriptor, key);
	if (f == NULL)
		return -1;
	char *at = (char *)body + f->offset;
	if (is_string) {
		if ((*(char **)at = strdup(s)) == NULL)
			return -1;
		return 0;
	}
	*(protobuf_c_boolean *)((char *)body + f->quantifier_offset) = 1;
	switch (f->type) {
	case PROTOBUF_C_TYPE_ENUM:
		*(int *)at = (int)v;
		return 0;
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_UINT64:
		*(int64_t *)at = v;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
		*(uint32_t *)at = (uint32_t)v;
		return 0;
	default:
		return -1;
	}
}

/*
 * What record_check says about a line that is not about one cell's form: translated where it
 * is printed (bad_record), marked here so that the translations know them.
 */
static const char *const check_reasons[] __attribute__((unused)) = {
    N_("missing or empty"),
    N_("missing"),
    N_("invalid UTF-8"),
    N_("an outcome without a conclusion date"),
    N_("a conclusion date without an outcome"),
    N_("concluded before received"),
    N_("published before made"),
    N_("repealed before made"),
    N_("published after repealed"),
    N_("a result without a closing date"),
    N_("a closing date without a result"),
    N_("closed before filed"),
    N_("negative, but this measure cannot be"),
    N_("revision: missing or 0 (revisions start at 1)"),
};

/* record_check's "application.received: ..." with the column's header for the field name */
static void bad_record(struct csv_state *st, const char *msg)
{
	const char *body = ledgers[st->ledger].body, *rest = msg;
	size_t n = strlen(body);
	char text[LEDGER_MESSAGE_MAX], value[SHOWN_MAX + 32];
	size_t used = 0;
	if (strncmp(msg, body, n) == 0 && (msg[n] == '.' || msg[n] == ':'))
		rest = msg + n + (msg[n] == ':' ? 2 : 1);
	for (int i = 0; i < st->n_columns; i++) {
		size_t k = strlen(st->columns[i].key);
		int named = strncmp(rest, st->columns[i].key, k) == 0 && rest[k] == ':';
		if (named) {
			rest += k + 2;
		} else if (strstr(rest, st->columns[i].key) == NULL || i < 2) {
			continue;
		}
		shown(st->cell[i], value, sizeof(value));
		int w = snprintf(text + used, sizeof(text) - used, "%s", used ? _(", ") : "");
		used += w > 0 && (size_t)w < sizeof(text) - used ? (size_t)w : 0;
		w = snprintf(text + used, sizeof(text) - used, _("column %s: %s"), header(st, i),
			     value);
		used += w > 0 && (size_t)w < sizeof(text) - used ? (size_t)w : 0;
		if (named)
			break;
	}
	snprintf(text + used, sizeof(text) - used, used ? _(": %s") : "%s", _(rest));
	bad_file(st, st->record_line, text);
}

static void read_line(struct csv_state *st)
{
	char why[256], valid[1024];
	int bad = 0, failed = 0;
	if (st->n < st->width || st->extra) {
		char msg[256];
		snprintf(msg, sizeof(msg), _("%d cells, the header has %d columns"), st->n,
			 st->width);
		bad_file(st, st->record_line, msg);
		st->counts->bad++;
		return;
	}
	for (int i = 0; i < st->n_columns; i++) {
		if (st->where[i] >= 0 && st->too_long[i]) {
			snprintf(why, sizeof(why), _("longer than %d bytes"), CELL_MAX);
			st->cell[i][SHOWN_MAX + 1] = '\0';
			bad_cell(st, i, why, NULL);
			bad = 1;
		} else if (st->where[i] >= 0 && !utf8_valid(st->cell[i], strlen(st->cell[i]))) {
			bad_cell(st, i, _("bytes that are not UTF-8 (a line of another encoding?)"),
				 NULL);
			bad = 1;
		}
	}
	if (bad) {
		st->counts->bad++;
		return;
	}
	Xxgk__V1__Record *r = malloc(sizeof(*r));
	if (r == NULL) {
		bad_file(st, st->record_line, _("out of memory"));
		st->counts->bad++;
		return;
	}
	xxgk__v1__record__init(r);
	ProtobufCMessage *body = new_body(r, st->ledger);
	failed = body == NULL;
	r->has_revision = 1;
	r->revision = 1; /* a ledger without versions: its lines are never edited */
	for (int i = 0; i < st->n_columns && !failed; i++) {
		const struct ledger_column *c = &st->columns[i];
		const char *s = st->where[i] >= 0 ? st->cell[i] : "";
		int64_t v = 0;
		char date[11];
		int year;
		if (i == 0 && s[0] == '\0' && mapping_default(st->map, "unit"))
			s = mapping_default(st->map, "unit");
		if (s[0] == '\0' && c->type != COLUMN_TEXT)
			continue; /* an absent field; record_check says if it must be there */
		switch (c->type) {
		case COLUMN_TEXT:
			if (i == 0)
				r->unit = dup_or_fail(s, &failed);
			else if (i == 1)
				r->id = dup_or_fail(s, &failed);
			else if (s[0])
				failed = set_body(body, c->key, 1, s, 0);
			break;
		case COLUMN_REVISION:
			if (cell_integer(s, 1, INT64_MAX, &v, why, sizeof(why))) {
				bad_cell(st, i, why, "1, 2, 3, …");
				bad = 1;
			} else {
				r->revision = (uint64_t)v;
			}
			break;
		case COLUMN_BOOLEAN: {
			int b = mapping_value(st->map, c->key, s);
			if (b < 0)
				b = words_boolean(s);
			if (b < 0) {
				bad_cell(st, i, _("neither yes nor no"),
					 WORD_YES "、" WORD_NO ", true、false, 1、0");
				bad = 1;
			} else if (b) {
				r->has_deleted = 1;
				r->deleted = 1;
			}
			break;
		}
		case COLUMN_DATE:
			if (cell_date(s, date, why, sizeof(why))) {
				bad_cell(st, i, why,
					 _("dates such as 2020-03-01, 2020/3/1, 2020.3.1, "
					   "2020年3月1日"));
				bad = 1;
			} else {
				failed = set_body(body, c->key, 1, date, 0);
			}
			break;
		case COLUMN_ENUM: {
			char word[CELL_MAX + 1];
			unbroken(s, word);
			int e = mapping_value(st->map, c->key, word);
			if (e < 0)
				e = words_parse(c->set, word);
			if (e <= 0) {
				words_list(c->set, valid, sizeof(valid));
				bad_cell(st, i, _("not a value of this column"), valid);
				bad = 1;
			} else {
				failed = set_body(body, c->key, 0, NULL, e);
			}
			break;
		}
		case COLUMN_INTEGER:
			if (cell_integer(s, INT64_MIN, INT64_MAX, &v, why, sizeof(why))) {
				bad_cell(st, i, why, _("whole numbers such as 12 or -3"));
				bad = 1;
			} else {
				failed = set_body(body, c->key, 0, NULL, v);
			}
			break;
		case COLUMN_YEAR:
			if (cell_year(s, &year, why, sizeof(why))) {
				bad_cell(st, i, why, _("years such as 2025"));
				bad = 1;
			} else {
				failed = set_body(body, c->key, 0, NULL, year);
			}
			break;
		}
	}
	struct record_facts facts;
	char msg[RECORD_MESSAGE_MAX];
	if (failed) {
		bad_file(st, st->record_line, _("out of memory"));
		bad = 1;
	} else if (!bad && record_check(r, &facts, msg, sizeof(msg)) != 0) {
		bad_record(st, msg);
		bad = 1;
	}
	if (bad) {
		xxgk__v1__record__free_unpacked(r, NULL);
		st->counts->bad++;
		return;
	}
	st->counts->good++;
	if (st->s->record(st->s->ctx, r, st->record_line))
		st->stop = 1;
}

/* --- libcsv's callbacks ----------------------------------------------------------------- */

static void on_cell(void *data, size_t len, void *ctx)
{
	struct csv_state *st = ctx;
	const char *s = data ? data : "";
	int j = st->n++;
	if (st->stop || st->fatal)
		return;
	trim(&s, &len);
	/* a line is empty when the cells read are: Excel ledgers have rows numbered in advance */
	if (len && (!st->header_done || j >= st->width || st->use[j] >= 0))
		st->empty = 0;
	if (!st->header_done) {
		if (j >= COLUMNS_MAX) {
			if (len) {
				st->fatal = 1;
				ledger_bad(st->s, st->file, st->record_line,
					   _("more than %d columns"), COLUMNS_MAX);
			}
			return;
		}
		size_t k = len < HEADER_MAX - 1 ? len : HEADER_MAX - 1;
		while (k > 0 && k < len && ((unsigned char)s[k] & 0xC0) == 0x80)
			k--;
		memcpy(st->headers[j], s, k);
		st->headers[j][k] = '\0';
		return;
	}
	if (j >= st->width) {
		st->extra |= len > 0;
		return;
	}
	int i = st->use[j];
	if (i < 0)
		return; /* an ignored column: its text (personal data, maybe) is never kept */
	st->too_long[i] = len > CELL_MAX;
	if (len > CELL_MAX)
		len = CELL_MAX;
	memcpy(st->cell[i], s, len);
	st->cell[i][len] = '\0';
}

static void on_line(int c, void *ctx)
{
	struct csv_state *st = ctx;
	(void)c;
	if (!st->stop && !st->fatal && !st->empty) {
		if (!st->header_done) {
			st->width = st->n < COLUMNS_MAX ? st->n : COLUMNS_MAX;
			if (read_header(st)) {
				st->fatal = 1;
			}
		} else {
			read_line(st);
		}
	}
	st->n = 0;
	st->empty = 1;
	st->extra = 0;
	for (int i = 0; i < LEDGER_COLUMNS_MAX; i++) {
		st->cell[i][0] = '\0';
		st->too_long[i] = 0;
	}
}

/* libcsv grows a cell's buffer without end: a quote never closed must not take the memory */
static void *bounded_realloc(void *p, size_t size)
{
	return size > 2 * (size_t)LEDGER_LINE_MAX ? NULL : realloc(p, size);
}

int csv_read(const char *file, struct text_source *t, const struct ledger_mapping *m,
	     const struct ledger_sink *s, struct ledger_counts *counts)
{
	struct csv_state *st = calloc(1, sizeof(*st));
	struct csv_parser p;
	char err[256];
	const char *chunk;
	ssize_t n;
	int at_line_start = 1, rc = 0;
	if (st == NULL || csv_init(&p, CSV_APPEND_NULL | CSV_STRICT_FINI) != 0) {
		ledger_bad(s, file, 0, "%s", _("out of memory"));
		counts->bad++;
		free(st);
		return -1;
	}
	csv_set_realloc_func(&p, bounded_realloc);
	st->file = file;
	st->map = m;
	st->s = s;
	st->counts = counts;
	st->line = 1;
	st->empty = 1;
	while (!st->stop && !st->fatal && (n = text_read(t, &chunk, err, sizeof(err))) > 0) {
		const char *q = chunk, *end = chunk + n;
		/* fed a physical line at a time, to know the line where each record starts */
		while (q < end && !st->stop && !st->fatal) {
			const char *nl = memchr(q, '\n', (size_t)(end - q));
			size_t len = (size_t)((nl ? nl + 1 : end) - q);
			if (at_line_start && p.pstate == 0) /* ROW_NOT_BEGUN: a record may start */
				st->record_line = st->line;
			if (csv_parse(&p, q, len, on_cell, on_line, st) != len) {
				ledger_bad(s, file, st->record_line,
					   _("a cell longer than %d bytes (a quote not closed?)"),
					   LEDGER_LINE_MAX);
				st->fatal = 1;
				break;
			}
			q += len;
			at_line_start = nl != NULL;
			st->line += nl != NULL;
		}
	}
	if (!st->stop && !st->fatal && n < 0) {
		ledger_bad(s, file, 0, "%s", err);
		st->fatal = 1;
	}
	if (!st->stop && !st->fatal && csv_fini(&p, on_cell, on_line, st) != 0) {
		ledger_bad(s, file, st->record_line, "%s",
			   _("a quote is not closed by the end of the file"));
		st->fatal = 1;
	}
	if (!st->stop && !st->fatal && !st->header_done) {
		ledger_bad(s, file, 0, "%s", _("no header line: the file is empty"));
		st->fatal = 1;
	}
	if (st->fatal) {
		counts->bad++;
		rc = -1;
	} else if (st->stop) {
		rc = 1;
	}
	csv_free(&p);
	free(st);
	return rc;
}
