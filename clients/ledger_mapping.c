#include "ledger_mapping.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "words.h"

static int fail(struct ledger_mapping *m, const char *fmt, ...)
{
	va_list ap;
	if (m->error[0])
		return 0; /* inih reports the first error's line: keep its reason */
	va_start(ap, fmt);
	vsnprintf(m->error, sizeof(m->error), fmt, ap);
	va_end(ap);
	return 0;
}

/* The column a field name (English key or a Chinese header) means, in any ledger, or NULL. */
static const struct ledger_column *field(const char *name)
{
	for (int l = 0; l < LEDGER_COUNT; l++) {
		int n, i = ledger_column_by_header((enum ledger)l, name);
		const struct ledger_column *c = ledger_columns((enum ledger)l, &n);
		if (i >= 0)
			return &c[i];
	}
	return NULL;
}

static void field_names(char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int l = 0; l < LEDGER_COUNT; l++) {
		int n;
		const struct ledger_column *c = ledger_columns((enum ledger)l, &n);
		for (int i = 0; i < n && used < size; i++) {
			if (strstr(buf, c[i].header))
				continue;
			int k = snprintf(buf + used, size - used, "%s", used ? _(", ") : "");
			used += k > 0 ? (size_t)k : 0;
			k = snprintf(buf + used, size - used, _("%s (%s)"), c[i].header, c[i].key);
			used += k > 0 ? (size_t)k : 0;
		}
	}
}

static int handle(void *user, const char *section, const char *name, const char *value)
{
	struct ledger_mapping *m = user;
	char names[1024];
	if (strcmp(section, "columns") == 0) {
		const struct ledger_column *c = NULL;
		if (strcmp(value, "ignore") && strcmp(value, "忽略") &&
		    (c = field(value)) == NULL) {
			field_names(names, sizeof(names));
			return fail(m, _("%s = %s: no such field; the fields are %s, or ignore"),
				    name, value, names);
		}
		for (size_t i = 0; i < m->n_columns; i++)
			if (strcmp(m->columns[i].header, name) == 0)
				return fail(m, _("column %s is mapped twice"), name);
		if (m->n_columns == MAPPING_ENTRIES_MAX)
			return fail(m, _("more than %d columns"), MAPPING_ENTRIES_MAX);
		if ((m->columns[m->n_columns].header = strdup(name)) == NULL)
			return fail(m, _("out of memory"));
		m->columns[m->n_columns++].key = c ? c->key : NULL;
		return 1;
	}
	if (strcmp(section, "defaults") == 0) {
		const struct ledger_column *c = field(name);
		if (c == NULL || c->type != COLUMN_TEXT || strcmp(c->key, "title") == 0)
			return fail(m, _("[defaults]: %s: only unit has a default"), name);
		if (m->n_defaults == sizeof(m->defaults) / sizeof(m->defaults[0]))
			return fail(m, _("[defaults]: too many"));
		if ((m->defaults[m->n_defaults].value = strdup(value)) == NULL)
			return fail(m, "%s", _("out of memory"));
		m->defaults[m->n_defaults++].key = c->key;
		return 1;
	}
	if (section[0] == '\0')
		return fail(m,
			    _("\"%s\" is outside any section ([columns], [defaults] or a field's "
			      "words)"),
			    name);
	const struct ledger_column *c = field(section);
	if (c == NULL || (c->type != COLUMN_ENUM && c->type != COLUMN_BOOLEAN)) {
		field_names(names, sizeof(names));
		return fail(m,
			    _("unknown section [%s]: want [columns], [defaults], or a field with "
			      "values to name (applicant, outcome, kind, group, result, measure, "
			      "deleted, or their Chinese names)"),
			    section);
	}
	int v = c->type == COLUMN_BOOLEAN ? words_boolean(value) : words_parse(c->set, value);
	if (v < 0 || (c->type == COLUMN_ENUM && v == 0)) {
		char valid[1024];
		if (c->type == COLUMN_BOOLEAN)
			snprintf(valid, sizeof(valid), "%s、%s", WORD_YES, WORD_NO);
		else
			words_list(c->set, valid, sizeof(valid));
		return fail(m, _("[%s] %s = %s: %s is no value of %s; valid values: %s"), section,
			    name, value, value, c->header, valid);
	}
	if (m->n_values == MAPPING_ENTRIES_MAX)
		return fail(m, _("more than %d words"), MAPPING_ENTRIES_MAX);
	if ((m->values[m->n_values].word = strdup(name)) == NULL)
		return fail(m, "%s", _("out of memory"));
	m->values[m->n_values].key = c->key;
	m->values[m->n_values++].value = v;
	return 1;
}

int mapping_load(struct ledger_mapping **out, const char *file, char *err, size_t size)
{
	struct ledger_mapping *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, size, _("%s: out of memory"), file);
		return -1;
	}
	int rc = ini_parse(file, handle, m);
	if (rc == 0) {
		*out = m;
		return 0;
	}
	if (rc == -1)
		snprintf(err, size, _("%s: cannot open: %s"), file, strerror(errno));
	else if (rc == -2)
		snprintf(err, size, "%s: out of memory", file);
	else
		snprintf(err, size, "%s:%d: %s", file, rc,
			 m->error[0] ? m->error
				     : _("syntax error (want [section] or key = value)"));
	mapping_free(m);
	return -1;
}

void mapping_free(struct ledger_mapping *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_columns; i++)
		free(m->columns[i].header);
	for (size_t i = 0; i < m->n_values; i++)
		free(m->values[i].word);
	for (size_t i = 0; i < m->n_defaults; i++)
		free(m->defaults[i].value);
	free(m);
}

int mapping_column(const struct ledger_mapping *m, const char *header, const char **key)
{
	for (size_t i = 0; m && i < m->n_columns; i++)
		if (strcmp(m->columns[i].header, header) == 0) {
			*key = m->columns[i].key;
			return 1;
		}
	return 0;
}

int mapping_value(const struct ledger_mapping *m, const char *key, const char *word)
{
	for (size_t i = 0; m && i < m->n_values; i++)
		if (strcmp(m->values[i].key, key) == 0 && strcmp(m->values[i].word, word) == 0)
			return m->values[i].value;
	return -1;
}

const char *mapping_default(const struct ledger_mapping *m, const char *key)
{
	for (size_t i = 0; m && i < m->n_defaults; i++)
		if (strcmp(m->defaults[i].key, key) == 0)
			return m->defaults[i].value;
	return NULL;
}
