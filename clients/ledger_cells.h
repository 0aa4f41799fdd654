/*
 * A clerk's cell into the value a record field carries: dates in the forms Excel and clerks
 * write, whole numbers, years. Each returns 0, or -1 with why (a phrase) in why.
 */
#ifndef XXGK_LEDGER_CELLS_H
#define XXGK_LEDGER_CELLS_H

#include <stddef.h>
#include <stdint.h>

/* The forms of a date a cell may have, for messages. */
#define CELL_DATE_FORMS "2020-03-01, 2020/3/1, 2020.3.1, 2020年3月1日"

/*
 * 2020-03-01, 2020-3-1, 2020/3/1, 2020.3.1, 2020年3月1日 (each maybe followed by a time, as
 * Excel writes a date with one), or an Excel day number (43891, a date cell formatted as a
 * number), into "YYYY-MM-DD" in out (11 bytes).
 */
int cell_date(const char *s, char out[11], char *why, size_t size);

/* A whole number from min to max; Excel's thousands separators (4,440) are read. */
int cell_integer(const char *s, int64_t min, int64_t max, int64_t *out, char *why, size_t size);

/* A year: 2020 or 2020年. */
int cell_year(const char *s, int *out, char *why, size_t size);

#endif
