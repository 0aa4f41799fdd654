/*
 * A report as the Excel workbook the office sends upward: the official template, one sheet per
 * table (二, 三, 四) with its merged header cells, widths, number formats and A4 print setup.
 */
#ifndef XXGK_RENDER_XLSX_H
#define XXGK_RENDER_XLSX_H

#include <stddef.h>

#include "render.h"

/*
 * Writes r to the file path (replaced whole: the workbook is written beside it and renamed, so a
 * failure leaves no half file). Returns 0, or -1 with the reason in err.
 */
int render_xlsx(const char *path, const struct report *r, const struct render_meta *m, char *err,
		size_t err_size);

#endif
