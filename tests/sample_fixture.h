/*
 * Event records that reproduce the sample report (shared/000_eee5f2eb6c33e3d2.txt, Rui'an 2019):
 * table 三 cell for cell, table 四's review group, and table 二's figures (2019 format), spread
 * over the units of the example city (examples/units.conf, built into xxgkd).
 */
#ifndef XXGK_SAMPLE_FIXTURE_H
#define XXGK_SAMPLE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "testutil.h"

/* The number of the example city's units (examples/units.conf). */
size_t sample_unit_count(void);

/* The sample's table 三 as printed: rows in the 2019 layout, columns ending with 总计. */
#define SAMPLE_T3_ROWS 23
extern const char *const sample_t3_keys[SAMPLE_T3_ROWS];
extern const int64_t sample_t3[SAMPLE_T3_ROWS][7];
/* Table 四's review group as printed: upheld, corrected, other, pending, total. */
extern const int64_t sample_t4_review[5];

/* Builds the sample's records into a new array (free it with free()); returns the count. */
size_t sample_records(struct trec **out);

/* The units as store_set_units wants them (static storage). */
const struct store_unit *sample_store_units(void);

#endif
