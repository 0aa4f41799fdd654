#include "record_csv.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_json.h"

#define COLUMNS_MAX 9

#define LAYOUTS 5

static const char *const layouts[LAYOUTS][COLUMNS_MAX + 1] = {
    {"unit", "id", "revision", "deleted", "applicant", "received", "concluded", "outcome", NULL},
    {"unit", "id", "revision", "deleted", "kind", "made", "published", "repealed", "title"},
    {"unit", "id", "revision", "deleted", "group", "filed", "closed", "result", NULL},
    {"unit", "id", "revision", "deleted", "measure", "date", "value", NULL},
    {"unit", "id", "revision", "deleted", "year", NULL},
};
static const char *const bodies[LAYOUTS] = {"application", "document", "legal_case", "tally",
					    "submission"};

static int columns(int layout)
{
	int n = 0;
	while (n < COLUMNS_MAX && layouts[layout][n])
		n++;
	return n;
}

/* Splits a CSV line into at most max fields (RFC 4180 quoting); returns the count or -1. */
static int split(const char *line, char fields[][RECORD_TITLE_MAX + 1], int max)
{
	int n = 0;
	const char *p = line;
	for (;;) {
		size_t len = 0;
		if (n == max)
			return max + 1;
		char *out = fields[n];
		if (*p == '"') {
			for (p++;; p++) {
				if (*p == '\0')
					return -1; /* unterminated quote */
				if (*p == '"' && p[1] == '"')
					p++;
				else if (*p == '"')
					break;
				if (len == RECORD_TITLE_MAX)
					return -1;
				out[len++] = *p;
			}
			p++;
			if (*p != ',' && *p != '\0' && *p != '\r' && *p != '\n')
				return -1;
		} else {
			while (*p && *p != ',' && *p != '\r' && *p != '\n') {
				if (len == RECORD_TITLE_MAX)
					return -1;
				out[len++] = *p++;
			}
		}
		out[len] = '\0';
		n++;
		if (*p != ',')
			return n;
		p++;
	}
}

int csv_layout(const char *header, char *err, size_t err_size)
{
	static char fields[COLUMNS_MAX + 1][RECORD_TITLE_MAX + 1];
	int n = split(header, fields, COLUMNS_MAX);
	for (int l = 0; l < LAYOUTS && n > 0; l++) {
		if (n != columns(l))
			continue;
		int same = 1;
		for (int i = 0; i < n && same; i++)
			same = strcmp(fields[i], layouts[l][i]) == 0;
		if (same)
			return l;
	}
	snprintf(err, err_size,
		 "the header names no layout: want unit,id,revision,deleted, then "
		 "applicant,received,concluded,outcome | kind,made,published,repealed,title | "
		 "group,filed,closed,result | measure,date,value | year");
	return -1;
}

Xxgk__V1__Record *record_from_csv(int layout, const char *line, char *err, size_t err_size)
{
	static char fields[COLUMNS_MAX + 1][RECORD_TITLE_MAX + 1];
	int want = columns(layout), n = split(line, fields, COLUMNS_MAX);
	if (n < 0) {
		snprintf(err, err_size, "malformed CSV (a quote not closed, or a field too long)");
		return NULL;
	}
	if (n != want) {
		snprintf(err, err_size, "%d columns, the %s layout has %d", n, bodies[layout],
			 want);
		return NULL;
	}
	/* build the JSON mapping's object and read it like a JSON line */
	json_t *obj = json_object(), *body = json_object();
	for (int i = 0; i < n; i++) {
		const char *name = layouts[layout][i], *v = fields[i];
		if (v[0] == '\0')
			continue;
		json_t *value;
		if (strcmp(name, "deleted") == 0) {
			if (strcmp(v, "true") && strcmp(v, "false")) {
				snprintf(err, err_size, "deleted: want true, false or empty");
				json_decref(obj);
				json_decref(body);
				return NULL;
			}
			value = json_boolean(strcmp(v, "true") == 0);
		} else {
			value = json_string(v);
		}
		if (value == NULL) {
			snprintf(err, err_size, "%s: invalid UTF-8", name);
			json_decref(obj);
			json_decref(body);
			return NULL;
		}
		json_object_set_new(i < 4 ? obj : body, name, value);
	}
	json_object_set_new(obj, bodies[layout], body);
	Xxgk__V1__Record *r = record_from_json_value(obj, err, err_size);
	json_decref(obj);
	return r;
}
