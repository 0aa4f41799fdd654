/*
 * Reading ledgers: the records of a file of JSON Lines or CSV (as Excel writes it, see
 * record_csv.h), one at a time, with constant memory. Every line is checked as xxgkd would
 * (record_check); a bad line is described (file, line, column, value, why, the valid values)
 * and counted, and reading goes on, so that one pass finds every bad line of a file.
 */
#ifndef XXGK_LEDGER_H
#define XXGK_LEDGER_H

#include <stdio.h>

#include "ledger_mapping.h"
#include "ledger_text.h"
#include "xxgk.pb-c.h"

enum ledger_format { LEDGER_BY_NAME, LEDGER_JSONL, LEDGER_CSV };

struct ledger_options {
	enum ledger_format format; /* BY_NAME: *.csv is CSV, anything else JSON Lines */
	enum text_encoding encoding;
	const struct ledger_mapping *mapping; /* CSV only; may be NULL */
};

struct ledger_sink {
	/* A good line's record (checked); the sink owns it. Non-zero stops reading. */
	int (*record)(void *ctx, Xxgk__V1__Record *r, long line);
	/* One problem of a bad line as a whole message "FILE:LINE: ..."; NULL: say nothing. */
	void (*bad)(void *ctx, const char *message);
	void *ctx;
};

struct ledger_counts {
	long good, bad; /* lines */
};

/* The longest line of JSON Lines, and the longest cell of CSV, that is read. */
#define LEDGER_LINE_MAX (1 << 20)
/* The longest message about one bad cell. */
#define LEDGER_MESSAGE_MAX 2048

/*
 * Reads the records of f (named file in messages; seekable unless the encoding is given).
 * Returns 0 when it was read to the end (its bad lines counted), 1 if the sink stopped it, or
 * -1 when it cannot be read on (said to the sink's bad and counted as a bad line).
 */
int ledger_read(const char *file, FILE *f, const struct ledger_options *o,
		const struct ledger_sink *s, struct ledger_counts *counts);

/* Says one problem of a line to the sink: "FILE:LINE: reason" (line 0: "FILE: reason"). */
void ledger_bad(const struct ledger_sink *s, const char *file, long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
