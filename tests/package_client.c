/*
 * A department's smallest client, built by check_package.sh against the installed libxxgk-dev
 * only (cc package_client.c $(pkg-config --cflags --libs libxxgk)): pushes one application
 * record to the ingest endpoint given and prints its status. Exit 0 only when it was applied.
 */
#include <stdio.h>
#include <xxgk.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: package_client ENDPOINT UNIT ID\n");
		return 2;
	}
	struct xxgk_client *c;
	int rc = xxgk_connect(&c, argv[1]);
	if (rc != XXGK_OK) {
		fprintf(stderr, "connect: %s\n", xxgk_strerror(rc));
		return 1;
	}
	Xxgk__V1__Application app = XXGK__V1__APPLICATION__INIT;
	app.has_applicant = 1;
	app.applicant = XXGK__V1__APPLICANT_TYPE__APPLICANT_NATURAL_PERSON;
	app.received = "2019-03-01";
	Xxgk__V1__Record r = XXGK__V1__RECORD__INIT;
	r.unit = argv[2];
	r.id = argv[3];
	r.has_revision = 1;
	r.revision = 1;
	r.body_case = XXGK__V1__RECORD__BODY_APPLICATION;
	r.application = &app;
	Xxgk__V1__Record *records[] = {&r};
	int status = 0, reason = 0;
	const char *message = NULL;
	rc = xxgk_push(c, records, 1, &status, &reason, &message, 20000);
	xxgk_close(c);
	if (rc != XXGK_OK) {
		fprintf(stderr, "push: %s\n", xxgk_strerror(rc));
		return 1;
	}
	printf("pushed %s/%s: %s%s%s\n", argv[2], argv[3],
	       status == XXGK__V1__RECORD_STATUS__CODE__APPLIED ? "APPLIED" : "not applied",
	       message && *message ? ": " : "", message ? message : "");
	return status == XXGK__V1__RECORD_STATUS__CODE__APPLIED ? 0 : 1;
}
