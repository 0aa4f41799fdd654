/*
 * The daemon's one event loop: the ingest ROUTER (push batches, group-committed), the admin
 * ROUTER (report, status, units, verify) and the PUB of live changes, on libevent.
 */
#ifndef XXGK_SERVER_H
#define XXGK_SERVER_H

#include "config.h"

struct server;

/* Where the configuration comes from, for start and for every SIGHUP. */
struct server_sources {
	const char *config_path; /* NULL: built-in defaults */
	const char *units_path;	 /* NULL: from the configuration, or the example city */
	const char *state_dir;	 /* NULL: from the configuration */
};

/*
 * Loads the configuration, opens the store and binds every socket. Returns 0, or -1 after
 * logging why (a bad configuration, a store that cannot be opened, an endpoint that cannot be
 * bound).
 */
int server_start(struct server **out, const struct server_sources *sources);

/*
 * xxgkd --check-config: everything server_start checks of the configuration (its files, units,
 * keys, endpoints' exposure, the working-day calendar) without opening the store or binding.
 * Returns 0, or -1 after logging why.
 */
int server_check_config(const struct server_sources *sources);

/* Runs the loop until SIGTERM, SIGINT or xxgkctl stop; returns 0 after a clean stop. */
int server_run(struct server *s);

void server_free(struct server *s);

#endif
