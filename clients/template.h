/*
 * xxgkctl template: blank ledgers a clerk starts from, in the words of the ledger table
 * (common/words.def: headers, enum values and the example row), which xxgk-push reads back.
 * Needs no daemon.
 */
#ifndef XXGK_TEMPLATE_H
#define XXGK_TEMPLATE_H

#include <stddef.h>
#include <stdio.h>

#include "words.h"

/* Data rows of the xlsx ledger that get the drop-down lists and the checks of their column. */
#define TEMPLATE_XLSX_ROWS 1000

/* The ledger a template name (applications, documents, cases, tallies) names, or -1. */
int template_ledger(const char *name);

/* "applications, documents, cases or tallies", for messages. */
void template_names(char *buf, size_t size);

/*
 * The CSV ledger as Excel on Chinese Windows reads it: UTF-8 with a BOM, CRLF, the header line
 * and the example row. Returns 0, or -1 when out could not be written.
 */
int template_csv(FILE *out, enum ledger ledger);

/*
 * The xlsx ledger to path (written beside it and renamed over it): the header row bold and
 * frozen, the example row, drop-down lists of the valid values on the enum and yes/no columns,
 * dates formatted as dates, a note on each header and a 填写说明 sheet. Returns 0, or -1 with
 * the reason in err.
 */
int template_xlsx(const char *path, enum ledger ledger, char *err, size_t err_size);

#endif
