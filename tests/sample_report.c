/*
 * Loads the sample city's records into a fresh store in a temporary directory and prints the
 * 2019 city report, one "key value" line per cell: the store end to end on an embedded default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sample_fixture.h"

static void print_cell(void *ctx, const char *key, int64_t value)
{
	(void)ctx;
	printf("%-58s %lld\n", key, (long long)value);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/xxgk-sample-XXXXXX";
	struct store *st;
	struct trec *recs;
	struct report r;
	struct report_scope city = {.type = SCOPE_CITY};
	int year = argc > 1 ? atoi(argv[1]) : 2019, rc;
	if (argc > 2 || year < 2000 || year > 2099) {
		fprintf(stderr, "usage: %s [YEAR]   (YEAR from 2000 to 2099, default 2019)\n",
			argv[0]);
		return 2;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	size_t n = sample_records(&recs);
	Xxgk__V1__Record **batch = calloc(n, sizeof(*batch));
	struct store_status *statuses = calloc(n, sizeof(*statuses));
	for (size_t i = 0; i < n && batch; i++)
		batch[i] = &recs[i].r;
	if ((rc = store_open(&st, dir, NULL)) == 0) {
		if ((rc = store_set_units(st, sample_store_units(), sample_unit_count)) == 0 &&
		    (rc = store_apply(st, batch, n, statuses)) == 0 &&
		    (rc = store_report(st, year, &city, 0, &r)) == 0) {
			printf("# %zu records of %zu units; city report %d, %d template\n", n,
			       sample_unit_count, year, r.template_year);
			report_foreach_cell(&r, print_cell, NULL);
		}
		store_close(st);
	}
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(batch);
	free(statuses);
	free(recs);
	if (rc) {
		fprintf(stderr, "sample_report: %s\n", xxgk_strerror(rc));
		return 1;
	}
	return 0;
}
