/*
 * The README's example, end to end on the embedded default: starts xxgkd with no configuration
 * (loopback endpoints, the example city's units) on a fresh state directory, pushes the sample
 * city's records through libxxgk, asks the admin socket for the city report of a year and
 * prints it, one "key value" line per cell, then stops xxgkd with SIGTERM.
 *
 *   sample_report XXGKD [YEAR]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "sample_fixture.h"
#include "xxgk.h"

#define INGEST "tcp://127.0.0.1:7410"
#define ADMIN "tcp://127.0.0.1:7411"

static pid_t start(const char *xxgkd, const char *state)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl(xxgkd, "xxgkd", "-f", "--state-dir", state, (char *)NULL);
		perror(xxgkd);
		_exit(127);
	}
	return pid;
}

/* Asks for the report, retrying while xxgkd starts. */
static Xxgk__V1__Reply *report(int year)
{
	struct xxgk_client *c;
	Xxgk__V1__ReportQuery q = XXGK__V1__REPORT_QUERY__INIT;
	Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
	Xxgk__V1__Reply *reply = NULL;
	q.has_year = 1;
	q.year = (uint32_t)year;
	q.scope_case = XXGK__V1__REPORT_QUERY__SCOPE_CITY;
	q.city = 1;
	req.body_case = XXGK__V1__REQUEST__BODY_REPORT;
	req.report = &q;
	if (xxgk_connect(&c, ADMIN))
		return NULL;
	if (xxgk_call(c, &req, 10000, &reply))
		reply = NULL;
	xxgk_close(c);
	return reply;
}

static int push_all(void)
{
	struct trec *recs;
	struct xxgk_client *c;
	size_t n = sample_records(&recs), done = 0;
	int rc = xxgk_connect(&c, INGEST);
	while (rc == 0 && done < n) {
		Xxgk__V1__Record *batch[500];
		int statuses[500];
		size_t k = n - done < 500 ? n - done : 500;
		for (size_t i = 0; i < k; i++)
			batch[i] = &recs[done + i].r;
		rc = xxgk_push(c, batch, k, statuses, NULL, NULL, 10000);
		done += k;
	}
	if (rc)
		fprintf(stderr, "sample_report: push: %s\n", xxgk_strerror(rc));
	else
		printf("# pushed %zu records of the sample city to xxgkd\n", n);
	xxgk_close(c);
	free(recs);
	return rc;
}

int main(int argc, char **argv)
{
	char state[] = "/tmp/xxgk-example-XXXXXX";
	int year = argc > 2 ? atoi(argv[2]) : 2019, rc = 1, status;
	if (argc < 2 || argc > 3 || year < 2000 || year > 2099) {
		fprintf(stderr,
			"usage: sample_report XXGKD [YEAR]   (YEAR 2000-2099, default 2019)\n");
		return 2;
	}
	if (mkdtemp(state) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	pid_t pid = start(argv[1], state);
	Xxgk__V1__Reply *reply = NULL;
	if (push_all() == 0 && (reply = report(year)) != NULL) {
		if (reply->body_case != XXGK__V1__REPLY__BODY_REPORT) {
			fprintf(stderr, "sample_report: %s\n",
				reply->body_case == XXGK__V1__REPLY__BODY_ERROR
				    ? reply->error->message
				    : "unexpected reply");
		} else {
			Xxgk__V1__ReportReply *r = reply->report;
			printf("# city report %u in the %d template, live from xxgkd\n", r->year,
			       r->template_);
			for (size_t i = 0; i < r->n_cells; i++)
				printf("%-58s %lld\n", r->cells[i]->key,
				       (long long)r->cells[i]->value);
			printf("# units that sent nothing for %u: %zu\n", r->year,
			       r->n_silent_units);
			rc = 0;
		}
		xxgk__v1__reply__free_unpacked(reply, NULL);
	} else if (reply == NULL) {
		fprintf(stderr,
			"sample_report: no report from xxgkd on %s (is another xxgkd "
			"using ports 7410-7412?)\n",
			ADMIN);
	}
	fflush(stdout);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", state);
	if (system(cmd) != 0)
		fprintf(stderr, "sample_report: could not remove %s\n", state);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "sample_report: xxgkd did not stop cleanly\n");
		rc = 1;
	}
	return rc;
}
