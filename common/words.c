#include "words.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cells.h"
#include "xxgk.pb-c.h"

const struct ledger_desc ledgers[LEDGER_COUNT] = {
#define LEDGER(id, key, title, body) [LEDGER_##id] = {key, title, body},
#include "words.def"
};

static const struct ledger_column columns[] = {
#define COLUMN(ledger, key, header, type, set, example)                                            \
	{LEDGER_##ledger, key, header, COLUMN_##type, WORDS_##set, example},
#include "words.def"
};

static const struct {
	const char *key, *word;
} headers[] = {
#define HEADER(key, word) {key, word},
#include "words.def"
};

/* Values whose words are labels of report cells: spelled once, in cells.def. */
static const char *const applicant_words[] = {
#define APP_COLUMN(id, key, label) label,
#include "cells.def"
};
static const char *const case_group_words[] = {
#define CASE_GROUP(id, key, label) label,
#include "cells.def"
};
static const char *const case_result_words[] = {
#define CASE_COLUMN(id, key, label, source) label,
#include "cells.def"
};
static const char *const pro_row_words[] = {
#define PRO_ROW(id, key, item, label2019, label2021) [PRO_ROW_##id] = label2021,
#include "cells.def"
};

struct word {
	enum word_set set;
	int value;
	const char *word;
};

static const struct word own_words[] = {
#define WORD(set, value, word) {WORDS_##set, value, word},
#include "words.def"
};

static const struct word synonyms[] = {
#define SYNONYM(set, value, word) {WORDS_##set, value, word},
#include "words.def"
};

static const ProtobufCEnumDescriptor *descriptor(enum word_set set)
{
	switch (set) {
	case WORDS_APPLICANT:
		return &xxgk__v1__applicant_type__descriptor;
	case WORDS_OUTCOME:
		return &xxgk__v1__outcome__descriptor;
	case WORDS_DOCUMENT_KIND:
		return &xxgk__v1__document_kind__descriptor;
	case WORDS_CASE_GROUP:
		return &xxgk__v1__case_group__descriptor;
	case WORDS_CASE_RESULT:
		return &xxgk__v1__case_result__descriptor;
	case WORDS_MEASURE:
		return &xxgk__v1__tally_measure__descriptor;
	default:
		return NULL;
	}
}

const struct ledger_column *ledger_columns(enum ledger ledger, int *n)
{
	size_t first = 0, count = 0;
	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
		if (columns[i].ledger == ledger && count++ == 0)
			first = i;
	*n = (int)count;
	return count ? &columns[first] : NULL;
}

int ledger_column_by_header(enum ledger ledger, const char *header)
{
	int n;
	const struct ledger_column *c = ledger_columns(ledger, &n);
	for (int i = 0; i < n; i++)
		if (strcmp(header, c[i].header) == 0 || strcasecmp(header, c[i].key) == 0)
			return i;
	for (size_t h = 0; h < sizeof(headers) / sizeof(headers[0]); h++) {
		if (strcmp(header, headers[h].word))
			continue;
		for (int i = 0; i < n; i++)
			if (strcmp(headers[h].key, c[i].key) == 0)
				return i;
	}
	return -1;
}

const char *words_set_name(enum word_set set)
{
	const ProtobufCEnumDescriptor *d = descriptor(set);
	return d ? d->short_name : "";
}

int words_count(enum word_set set)
{
	const ProtobufCEnumDescriptor *d = descriptor(set);
	return d ? (int)d->n_values - 1 : 0; /* every enum has its UNSPECIFIED 0 */
}

const char *words_value(enum word_set set, int value)
{
	if (value < 1 || value > words_count(set))
		return NULL;
	switch (set) {
	case WORDS_APPLICANT:
		return applicant_words[value - 1];
	case WORDS_CASE_GROUP:
		return case_group_words[value - 1];
	case WORDS_CASE_RESULT:
		return case_result_words[value - 1];
	case WORDS_DOCUMENT_KIND:
		return pro_row_words[value == 1 ? PRO_ROW_RULES : PRO_ROW_NORMDOCS];
	default:
		break;
	}
	for (size_t i = 0; i < sizeof(own_words) / sizeof(own_words[0]); i++)
		if (own_words[i].set == set && own_words[i].value == value)
			return own_words[i].word;
	return NULL;
}

/* Skips the numbering the template puts before a row: "（一）", "（三）1 ", "1.", "2、". */
static const char *unnumbered(const char *s)
{
	static const char open[] = "（", close[] = "）";
	const char *p = s;
	if (strncmp(p, open, strlen(open)) == 0) {
		const char *end = strstr(p, close);
		if (end && end - p <= 12) /* a Chinese numeral or two, not a note */
			p = end + strlen(close);
	}
	const char *d = p;
	while (*d >= '0' && *d <= '9')
		d++;
	if (d > p) {
		if (*d == '.' || *d == ' ')
			p = d + 1;
		else if (strncmp(d, "、", strlen("、")) == 0)
			p = d + strlen("、");
		else if (strncmp(d, "．", strlen("．")) == 0)
			p = d + strlen("．");
	}
	return p;
}

/* Whether text is the label, or the label without the note in parentheses that ends it. */
static int is_label(const char *text, const char *label)
{
	label = unnumbered(label);
	if (label[0] == '\0')
		return 0;
	if (strcmp(text, label) == 0)
		return 1;
	const char *note = strstr(label, "（");
	size_t n = note ? (size_t)(note - label) : 0;
	return n > 0 && strlen(text) == n && strncmp(text, label, n) == 0;
}

int words_parse(enum word_set set, const char *text)
{
	const ProtobufCEnumDescriptor *d = descriptor(set);
	if (d == NULL || text[0] == '\0')
		return 0;
	int count = words_count(set);
	for (int v = 1; v <= count; v++)
		if (strcmp(text, words_value(set, v)) == 0)
			return v;
	for (size_t i = 0; i < sizeof(synonyms) / sizeof(synonyms[0]); i++)
		if (synonyms[i].set == set && strcmp(text, synonyms[i].word) == 0)
			return synonyms[i].value;
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(d, text);
	if (ev && ev->value >= 1 && ev->value <= count)
		return ev->value;
	const char *bare = unnumbered(text);
	if (bare != text)
		for (int v = 1; v <= count; v++)
			if (strcmp(bare, words_value(set, v)) == 0)
				return v;
	if (set == WORDS_OUTCOME)
		for (int r = 0; r < APP_ROW_COUNT; r++)
			if (app_rows[r].source == APP_SRC_OUTCOME &&
			    (is_label(bare, app_rows[r].label2021) ||
			     is_label(bare, app_rows[r].label2019)))
				return app_rows[r].outcome;
	return 0;
}

void words_list(enum word_set set, char *buf, size_t size)
{
	size_t used = 0;
	int count = words_count(set);
	if (size == 0)
		return;
	buf[0] = '\0';
	for (int v = 1; v <= count && used < size; v++) {
		int n = snprintf(buf + used, size - used, "%s%s", v > 1 ? "、" : "",
				 words_value(set, v));
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

int words_boolean(const char *text)
{
	if (text[0] == '\0' || strcmp(text, WORD_NO) == 0 || strcasecmp(text, "false") == 0 ||
	    strcmp(text, "0") == 0)
		return 0;
	if (strcmp(text, WORD_YES) == 0 || strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0)
		return 1;
	return -1;
}
