/*
 * A real xxgkd for integration tests: its own temporary directory with the store, a
 * configuration, ipc:// endpoints and its log; started with -f, stopped with SIGTERM or killed.
 */
#ifndef XXGK_DAEMON_HARNESS_H
#define XXGK_DAEMON_HARNESS_H

#include <sys/types.h>

#include "testutil.h"
#include "xxgk.h"

struct daemon {
	char *dir;
	char config[512], log[512], state[512];
	char ingest[256], admin[256], publish[256];
	pid_t pid;
	int ready_by_log;     /* wait for the "ready" log line, not for a status answer */
	unsigned long nofile; /* RLIMIT_NOFILE of xxgkd, soft and hard; 0: the test's own */
};

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int free_port(void);

/* Writes the configuration: the city's units, and extra lines for [xxgkd] (may be NULL). */
void daemon_setup(struct daemon *d, const char *tag, const struct city *c, const char *extra);

/* Forks xxgkd -f -c config, its stderr appended to the log; sets d->pid and returns at once. */
void daemon_spawn(struct daemon *d);
/* Starts xxgkd and waits until it answers a status request (fails the test after 10 s). */
void daemon_start(struct daemon *d);

/* SIGTERM, and the exit status must be 0. */
void daemon_stop(struct daemon *d);

/* SIGKILL: no chance to finish anything. */
void daemon_kill(struct daemon *d);

/* Removes the directory (the daemon must be stopped). */
void daemon_teardown(struct daemon *d);
/* A cmocka teardown for a setup that left its started daemon in *state: stop, then remove. */
int daemon_fixture_teardown(void **state);

/* An admin request: fails the test unless a reply of the wanted body comes within 10 s. */
Xxgk__V1__Reply *daemon_admin_call(struct daemon *d, Xxgk__V1__Request *req, int body_case);

/* The report's cells as the daemon answers them. */
struct cell_values {
	size_t n;
	char keys[512][96];
	int64_t values[512];
};
void daemon_report(struct daemon *d, int year, const Xxgk__V1__ReportQuery *q,
		   struct cell_values *out);
void report_cells(const struct report *r, struct cell_values *out);

/* Prints the daemon's log to stderr (for a failing test). */
void daemon_print_log(struct daemon *d);

/* Whether a line of the daemon's log contains text. */
int daemon_log_says(struct daemon *d, const char *text);

/* The reply to an unauthenticated status request on the admin socket (the caller frees it). */
Xxgk__V1__Reply *daemon_status(struct daemon *d);
/* How many records the daemon holds, by daemon_status. */
uint64_t daemon_stored_records(struct daemon *d);
/* Moves the three endpoints to TCP on 127.0.0.1 (CURVE works only there, not on ipc://). */
void daemon_use_tcp(struct daemon *d);
struct keypair;
/* Generates the key pair d->dir/name.key and name.secret and reads it into out. */
void daemon_make_key(struct daemon *d, const char *name, struct keypair *out);
/* Pushes the sample city's records (sample_fixture.h); fails the test unless all are applied. */
void daemon_push_sample(struct daemon *d);
/* The city's cell key of year as the daemon reports it; -1 when there is no such cell. */
int64_t daemon_city_cell(struct daemon *d, int year, const char *key);
/* GET path from 127.0.0.1:port; the whole response (status line, headers, body), malloc'd. */
char *http_get(int port, const char *path);
/* A DEALER socket of zmq connected to endpoint: linger 0, a receive timeout when timeout_ms > 0. */
void *dealer_connect(void *zmq, const char *endpoint, int timeout_ms);
/* Sends len bytes as one message on a DEALER of its own; the decoded reply, or the test fails. */
Xxgk__V1__Reply *raw_request(const char *endpoint, const void *buf, size_t len, int timeout_ms);
/* How many lines of the daemon's log contain text (0 when there is no log). */
int daemon_log_count(struct daemon *d, const char *text);
/* Writes text to the file name in d->dir; returns its path (one of four static buffers). */
const char *daemon_write_file(struct daemon *d, const char *name, const char *text);

#endif

/* Publishers: threads, each with its own connection, pushing batches of the entries. */
struct publish_counts {
	size_t applied, duplicate, stale, rejected, resends, failures, batches;
};
struct publishers;

/*
 * Splits entries into batches of 100 to 600 records, dealt round-robin to n publishers, and
 * starts them. With resend, a push that gets no answer in timeout_ms is sent again until it
 * is acknowledged (what a unit's system does); without, it counts as a failure.
 */
struct publishers *publishers_start(const char *endpoint, Xxgk__V1__Record **entries, size_t n,
				    int publishers, int resend, int timeout_ms, uint64_t seed);
/* Waits for every publisher and adds up their counts. */
void publishers_join(struct publishers *p, struct publish_counts *out);

#include "model.h"

/*
 * Asks the daemon for the report of every year in from..to, both templates, for the city,
 * every unit kind and every unit, and fails the test at the first cell that differs from the
 * model's. Returns how many reports were compared.
 */
size_t daemon_check_model(struct daemon *d, const struct city *c, const struct model_record *m,
			  size_t n, int from, int to);

/* Asks the daemon to verify; fails the test unless it finds no difference. */
void daemon_check_verify(struct daemon *d);

/* Like daemon_setup, with the units of a units file instead of a city. */
void daemon_setup_units_file(struct daemon *d, const char *tag, const char *units_file);

/*
 * Runs a program with args (argv[0] is its path), stdin from /dev/null; returns its exit status
 * and what it wrote to stdout and stderr (malloc'd, NUL-terminated).
 */
int run_program(const char *const *argv, char **out, char **err);
