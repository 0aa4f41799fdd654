/*
 * A report as people read it: the official tables (text, markdown, html, csv) with the labels
 * of cells.def and the reporting government's wording, or as data (cells, json) under the keys
 * of DOMAIN.md.
 */
#ifndef XXGK_RENDER_H
#define XXGK_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include "report.h"

enum render_format {
	RENDER_TEXT,
	RENDER_MARKDOWN,
	RENDER_CSV, /* the table as printed, for Excel: UTF-8 with BOM, CRLF */
	RENDER_JSON,
	RENDER_HTML, /* ready to print on A4 */
	RENDER_CELLS /* the long form: key,row,column,value, one cell a line */
};

/* "text", "markdown", "csv", "json", "html" or "cells"; returns 0 or -1. */
int render_format_parse(const char *s, enum render_format *out);

/* The reporting government's level: the values of xxgk.proto's GovernmentLevel. */
enum render_level {
	RENDER_LEVEL_PROVINCE = 1,
	RENDER_LEVEL_CITY = 2, /* also a county-level city (县级市), which says 全市 */
	RENDER_LEVEL_COUNTY = 3,
	RENDER_LEVEL_DISTRICT = 4,
	RENDER_LEVEL_TOWNSHIP = 5
};

/* "province", "city", "county", "district", "township"; NULL for anything else. */
const char *render_level_name(int level);

/* Who publishes the report, as xxgkd's configuration names it. */
struct render_government {
	const char *name;   /* 瑞安市人民政府 */
	const char *region; /* 瑞安市 */
	int level;	    /* enum render_level; anything else is taken as a city */
};

/* The example city's (瑞安市, level city): what a daemon that sends none is taken to be. */
extern const struct render_government render_example_government;

/* Long enough for every word and title below (they are made of configured names, each at most
 * a few hundred bytes). */
#define RENDER_WORDS_MAX 1024

/* The scope word of the whole area: 全省, 全市, 全县, 全区, or for a township 全镇, 全乡,
 * 全街道 (by the region's last word), 全乡镇 when the region says none of them. */
void render_scope_word(const struct render_government *g, char *buf, size_t size);

/* The label of a unit kind (UnitKind value 1..4) at the government's level: 市政府办公室 /
 * 县政府办公室 / 省政府办公厅, 市各有关部门 / 县各有关部门, 各乡镇（街道）, 各功能区. */
void render_kind_label(const struct render_government *g, int kind, char *buf, size_t size);

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
	struct render_government gov; /* all NULL/0: render_example_government */
	/* a published report (report --published): when and by whom it was frozen; else NULL */
	const char *published_at, *frozen_by;
	unsigned generation;
	/* a live report whose 上年结转 differs from the published 结转下年度 of the year before */
	const struct render_carry *carry;
	size_t n_carry;
	/* applications concluded in the year after their due date; has_late 0: not sent (an older
	 * daemon) and not printed */
	int has_late;
	uint64_t late_answers;
};

/* render_notes' plain lines in one malloc'd string ("" when none), for the layouts that write
 * them as rows (csv, xlsx); NULL without memory. */
char *render_notes_text(const struct report *r, const struct render_meta *m);

/* The government m speaks for: its own, or the example city's when it names none; never NULL
 * strings, and a level of enum render_level. */
struct render_government render_government_of(const struct render_meta *m);

/*
 * The scope name of a report: the scope word for the whole area (kind 0, unit NULL), the kind
 * label for a kind, or unit_name for a unit.
 */
void render_scope_name(const struct render_government *g, int kind, const char *unit_name,
		       char *buf, size_t size);

/*
 * The title every layout prints: 瑞安市2019年政府信息公开工作年度报告统计表, and for a scope
 * other than the whole area the scope name after it in brackets (…统计表（县各有关部门）).
 */
void render_title(const struct report *r, const struct render_meta *m, char *buf, size_t size);

/*
 * The line under the title:
 * 报告机关：瑞安市人民政府　范围：全市　格式：2019年格式（国办公开办函〔2019〕60号）
 */
void render_subtitle(const struct report *r, const struct render_meta *m, char *buf, size_t size);

/*
 * Writes r in format f. Text, markdown, html and csv print every cell of the template as a
 * number, amounts in 万元 with four decimals; cells and json print the stored integers (amounts
 * in fen). Returns 0, or -1 when writing failed.
 */
int render_report(FILE *out, enum render_format f, const struct report *r,
		  const struct render_meta *m);

#endif
