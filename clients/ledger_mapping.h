/*
 * A unit's own ledger layout (--mapping FILE): an INI file that says which column of its ledger
 * is which field, which columns to ignore, and the unit's own words for values.
 *
 *   [columns]          ; header in the ledger = field (its English or Chinese name), or ignore
 *   申请人类型 = applicant
 *   答复类型 = 办理结果
 *   序号 = ignore
 *   [defaults]         ; a field for every line, when the ledger has no column for it
 *   unit = town-anyang
 *   [applicant]        ; a field's own words (section by English or Chinese name)
 *   公民 = 自然人
 *
 * A column neither mapped nor a header of the words table is ignored: read, never stored.
 */
#ifndef XXGK_LEDGER_MAPPING_H
#define XXGK_LEDGER_MAPPING_H

#include <stddef.h>

#define MAPPING_ENTRIES_MAX 512

struct ledger_mapping {
	size_t n_columns, n_values, n_defaults;
	struct {
		char *header;
		const char *key; /* NULL: ignored */
	} columns[MAPPING_ENTRIES_MAX];
	struct {
		const char *key;
		char *word;
		int value; /* the enum value, or 0/1 for a boolean */
	} values[MAPPING_ENTRIES_MAX];
	struct {
		const char *key;
		char *value;
	} defaults[16];
	/* while parsing: the first error */
	char error[256];
};

/* Reads a mapping file. Returns 0, or -1 with "FILE:LINE: reason" in err. */
int mapping_load(struct ledger_mapping **out, const char *file, char *err, size_t size);

void mapping_free(struct ledger_mapping *m);

/*
 * Whether the mapping names a header: 1 with *key the field (NULL: ignored), 0 if it does not.
 */
int mapping_column(const struct ledger_mapping *m, const char *header, const char **key);

/* The value the unit's word means for field key, or -1 if the mapping has no such word. */
int mapping_value(const struct ledger_mapping *m, const char *key, const char *word);

/* The default of field key for lines without it, or NULL. */
const char *mapping_default(const struct ledger_mapping *m, const char *key);

#endif
