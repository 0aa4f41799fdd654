/*
 * How xxgkctl and xxgk-push find xxgkd, as knotc and psql find their servers: an endpoint given
 * on the command line wins; then xxgkd's own configuration given with -c; then the environment
 * (XXGK_ADMIN, XXGK_INGEST); then the installed configuration, /etc/xxgk/xxgkd.conf, when it
 * exists; then the built-in default. The configuration is read by xxgkd's own parser.
 */
#ifndef XXGK_LOCATE_H
#define XXGK_LOCATE_H

#include <limits.h>
#include <stddef.h>

#define LOCATE_DEFAULT_CONFIG "/etc/xxgk/xxgkd.conf"
#define LOCATE_DEFAULT_ADMIN "ipc://xxgk-state/admin.sock"
#define LOCATE_DEFAULT_INGEST "tcp://127.0.0.1:7410"
#define LOCATE_DEFAULT_PUBLISH "tcp://127.0.0.1:7412"

/* The endpoints a command needs and its command line did not give. */
enum { LOCATE_ADMIN = 1, LOCATE_INGEST = 2, LOCATE_PUBLISH = 4 };

struct locate {
	char admin[256], ingest[256], publish[256]; /* publish: -c, else the default */
	/* where each came from, for messages: "-c FILE", "XXGK_ADMIN", "the built-in default" */
	char admin_from[PATH_MAX + 8], ingest_from[PATH_MAX + 8];
	/* the daemon's public key file beside the configuration's secret_key, "" when none */
	char server_key[PATH_MAX];
};

/*
 * Fills l. config: the -c FILE given (NULL: the installed one, when it exists and an endpoint
 * of want, LOCATE_* bits, is not in the environment; so a command whose endpoints are all on
 * its command line reads no file). Returns 0, or -1 with "FILE:LINE: reason" in err.
 */
int locate_daemon(struct locate *l, const char *config, int want, char *err, size_t err_size);

/*
 * A local socket (ipc://PATH) that cannot be reached now fails at once, not after a timeout:
 * it does not exist, nothing listens on it, or it may not be opened. option and env name how
 * to say where the daemon is instead (e.g. "--admin", "XXGK_ADMIN"); from, where endpoint
 * came from. Returns 0 (another transport, or reachable), or -1 with what to do in err.
 */
int locate_probe(const char *endpoint, const char *from, const char *option, const char *env,
		 char *err, size_t err_size);

#endif
