/*
 * Records from a CSV ledger as Excel writes it (libcsv): quoted cells with commas, quotes and
 * line breaks, CRLF, spaces around cells. The first line is the header: the words table
 * (common/words.def) knows each ledger's headers in Chinese and English, in any order, and a
 * mapping file (ledger_mapping.h) a unit's own; which ledger it is follows from its columns.
 * A cell is read as its column's type: values as the template's words, synonyms or the
 * schema's names; dates in the forms clerks write; booleans as 是/否, true/false or 1/0. A
 * line's number is the line where its record starts.
 */
#ifndef XXGK_RECORD_CSV_H
#define XXGK_RECORD_CSV_H

#include "ledger.h"

/*
 * Reads the CSV text of t: each good line's record goes to the sink, each bad one is said to
 * it (every bad cell) and counted. Returns 0 at the end, 1 when the sink stopped it, -1 when
 * nothing more can be read (a bad header: said and counted as a bad line).
 */
int csv_read(const char *file, struct text_source *t, const struct ledger_mapping *m,
	     const struct ledger_sink *s, struct ledger_counts *counts);

#endif
