/*
 * Records from CSV: one column layout per record kind, named by the file's header line.
 *
 *   application: unit,id,revision,deleted,applicant,received,concluded,outcome
 *   document:    unit,id,revision,deleted,kind,made,published,repealed,title
 *   legal_case:  unit,id,revision,deleted,group,filed,closed,result
 *   tally:       unit,id,revision,deleted,measure,date,value
 *
 * An empty cell is an absent field; deleted is true, false or empty; enum values are the
 * schema's names (APPLICANT_NATURAL_PERSON, ...). Fields may be quoted ("a,b" and "" inside).
 */
#ifndef XXGK_RECORD_CSV_H
#define XXGK_RECORD_CSV_H

#include <stddef.h>

#include "xxgk.pb-c.h"

/* The layout a header line names (enum record_kind), or -1 with the reason in err. */
int csv_layout(const char *header, char *err, size_t err_size);

/* One data line of a layout into a new Record, or NULL with the reason in err. */
Xxgk__V1__Record *record_from_csv(int layout, const char *line, char *err, size_t err_size);

#endif
