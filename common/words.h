/*
 * The ledger's words (台账), generated from words.def and cells.def: the columns of each ledger
 * with their Chinese and English headers, and the words of every enum value of the schema. The
 * CSV reader of xxgk-push and `xxgkctl template` read them; no header or value word is spelled
 * anywhere else.
 */
#ifndef XXGK_WORDS_H
#define XXGK_WORDS_H

#include <stddef.h>

enum ledger {
#define LEDGER(id, key, title, body) LEDGER_##id,
#include "words.def"
	LEDGER_COUNT
};

/* The enum value sets, one per enum of proto/xxgk.proto a ledger column holds. */
enum word_set {
	WORDS_NONE = -1,
	WORDS_APPLICANT,     /* ApplicantType */
	WORDS_OUTCOME,	     /* Outcome */
	WORDS_DOCUMENT_KIND, /* DocumentKind */
	WORDS_CASE_GROUP,    /* CaseGroup */
	WORDS_CASE_RESULT,   /* CaseResult */
	WORDS_MEASURE,	     /* TallyMeasure */
	WORD_SET_COUNT
};

/* How a cell of a column is read. */
enum column_type {
	COLUMN_TEXT,	 /* as it is (unit, id, title) */
	COLUMN_REVISION, /* a whole number >= 1; empty is 1 */
	COLUMN_BOOLEAN,	 /* 是/否, true/false, TRUE/FALSE, 1/0; empty is false */
	COLUMN_DATE,	 /* 2020-03-01, 2020/3/1, 2020.3.1, 2020年3月1日 */
	COLUMN_ENUM,	 /* a word of its set, a synonym, or the schema's English name */
	COLUMN_INTEGER,	 /* a whole number, maybe negative */
	COLUMN_YEAR	 /* a year, 2020 or 2020年 */
};

struct ledger_desc {
	const char *key;   /* "applications": xxgkctl template's argument */
	const char *title; /* "政府信息公开申请登记台账" */
	const char *body;  /* the Record's body field: "application" */
};

struct ledger_column {
	enum ledger ledger;
	const char *key;    /* the record field and the English header: "applicant" */
	const char *header; /* the Chinese header: "申请人类型" */
	enum column_type type;
	enum word_set set; /* COLUMN_ENUM only */
	const char *example;
};

#define LEDGER_COLUMNS_MAX 9

extern const struct ledger_desc ledgers[LEDGER_COUNT];

/* The columns of a ledger in the template's order; *n gets their count. */
const struct ledger_column *ledger_columns(enum ledger ledger, int *n);

/*
 * The column of a ledger a header names (its Chinese header, another word of words.def's
 * HEADER, or the English key), or -1. Surrounding spaces must be trimmed already.
 */
int ledger_column_by_header(enum ledger ledger, const char *header);

/* The proto enum's short name ("ApplicantType") of a set. */
const char *words_set_name(enum word_set set);

/* The highest value of a set: its values are 1 to this. */
int words_count(enum word_set set);

/* The word the template prints for value (1..words_count), or NULL. */
const char *words_value(enum word_set set, int value);

/*
 * The value (1..) a clerk's word means: the template's word, a synonym, a full row label of the
 * report with or without its numbering ("（一）予以公开", "1.属于国家秘密"), or the schema's
 * English name (OUTCOME_GRANTED); 0 if none.
 */
int words_parse(enum word_set set, const char *text);

/* The valid values of a set for a message: "自然人、商业企业、…" (truncated to size). */
void words_list(enum word_set set, char *buf, size_t size);

/* The words of a boolean cell. */
#define WORD_YES "是"
#define WORD_NO "否"

/* true/false of a boolean cell (是/否, true/false in any case, 1/0, empty is false), or -1. */
int words_boolean(const char *text);

#endif
