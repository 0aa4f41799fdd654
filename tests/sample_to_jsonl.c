/* Writes the sample city's records as JSON Lines: how examples/sample-records.jsonl is made. */
#include <stdio.h>
#include <stdlib.h>

#include "record_json.h"
#include "sample_fixture.h"

int main(void)
{
	struct trec *recs;
	size_t n = sample_records(&recs);
	for (size_t i = 0; i < n; i++) {
		char *line = record_to_json(&recs[i].r);
		if (line == NULL)
			return 1;
		printf("%s\n", line);
		free(line);
	}
	free(recs);
	return 0;
}
