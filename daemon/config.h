/*
 * xxgkd's configuration: one INI file (inih). [xxgkd] holds the daemon's settings; each
 * [unit ID] section is a unit of the city. Units may also come from a units file of [unit ID]
 * sections only. Unknown sections and keys are errors, reported with the file and line.
 */
#ifndef XXGK_CONFIG_H
#define XXGK_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "keyfile.h"
#include "log.h"
#include "record.h"

#define CONFIG_ENDPOINT_MAX 256
#define CONFIG_UNIT_NAME_MAX 128
#define CONFIG_ERROR_MAX 512
#define CONFIG_GOVERNMENT_NAME_MAX 128 /* bytes with the NUL, for name and region */

/* The reporting government's level: GovernmentLevel values. */
enum government_level {
	GOVERNMENT_LEVEL_PROVINCE = 1,
	GOVERNMENT_LEVEL_CITY,
	GOVERNMENT_LEVEL_COUNTY,
	GOVERNMENT_LEVEL_DISTRICT,
	GOVERNMENT_LEVEL_TOWNSHIP
};

struct unit_config {
	char id[RECORD_UNIT_MAX + 1];
	char name[CONFIG_UNIT_NAME_MAX];
	int kind; /* UnitKind value */
};

/* A client key: who may connect, the units it may write, whether it may administer. */
struct client_config {
	char name[RECORD_UNIT_MAX + 1];
	char public_key[KEY_Z85_LEN + 1];
	char units[1024]; /* unit ids, separated by spaces */
	int admin;
};

struct config {
	char state_dir[PATH_MAX];
	char units_file[PATH_MAX]; /* "" when units are in the configuration or embedded */
	char ingest[CONFIG_ENDPOINT_MAX];
	char admin[CONFIG_ENDPOINT_MAX]; /* "": ipc://STATE_DIR/admin.sock */
	int admin_abstract; /* admin may be ipc://@NAME, a socket without a file (warned) */
	char publish[CONFIG_ENDPOINT_MAX];
	char http[CONFIG_ENDPOINT_MAX]; /* host:port of /metrics and /healthz; "" for none */
	int batch_max;			/* push messages drained into one write transaction */
	int batch_records_max;		/* records in one push message */
	int commit_pages_max;		/* LMDB pages one write transaction may dirty */
	int max_message_size;		/* bytes; larger messages are dropped by ZeroMQ */
	int queue_max;			/* messages queued per ingest peer, each way */
	int connections_max;		/* connections per listening endpoint */
	int handshake_timeout;		/* ms a network connection may take to authenticate */
	long long map_size;		/* initial LMDB map size, bytes */
	int bad_input_log_interval;	/* seconds between log lines about one peer's bad input */
	enum log_level log_level;
	enum log_prefix log_priority; /* <N> prefixes: auto (when stderr is the journal), yes, no */
	/* the reporting government, for the reports' title and scope words */
	char government_name[CONFIG_GOVERNMENT_NAME_MAX];   /* name: 瑞安市人民政府 */
	char government_region[CONFIG_GOVERNMENT_NAME_MAX]; /* region: 瑞安市 */
	int government_level;				    /* level: enum government_level */
	/* the working-day calendar of answer periods (data/holidays.conf) and the administrator's
	 * additions; holidays_set: named in the configuration (then it must be readable) */
	char holidays[PATH_MAX];
	char holidays_extra[PATH_MAX]; /* "" for none */
	int holidays_set;
	int deadlines_max;     /* applications in one xxgkctl deadlines answer */
	long long verify_rate; /* records a second verify reads at most, 0: no limit */
	long long backup_rate; /* bytes a second backup writes at most, 0: no limit */
	struct unit_config *units;
	size_t n_units;
	/* CurveZMQ: on when secret_key names the server's key file */
	char secret_key[PATH_MAX];
	struct keypair server_key;
	int insecure; /* without keys, may bind non-loopback endpoints (warned at every start) */
	struct client_config *clients;
	size_t n_clients;
};

/* Whether the client may write unit id. */
int client_may_write(const struct client_config *c, const char *unit);

/* The client of a Z85 public key (a ZAP User-Id), or NULL. */
const struct client_config *config_client_by_key(const struct config *c, const char *z85);

/* The built-in defaults (the embedded default uses them as they are). */
void config_defaults(struct config *c);

/*
 * Reads the configuration file path (NULL: defaults only), then the units: from units_path if
 * given, else from the configuration's units_file, else its [unit] sections, else the example
 * city built into xxgkd. On error returns -1 with "file:line: reason" in err, and leaves *c
 * freed; on success *c is complete.
 */
int config_load(struct config *c, const char *path, const char *units_path, char *err,
		size_t err_size);

void config_free(struct config *c);

/*
 * For xxgkctl and xxgk-push, which find the daemon by its configuration: reads path with the
 * same parser and the same errors as config_load, but only [xxgkd] is taken in; units, clients
 * and key files are left to xxgkd (a client may not read them). On success the admin endpoint
 * is complete (the default socket in state_dir filled in).
 */
int config_load_endpoints(struct config *c, const char *path, char *err, size_t err_size);

/* ipc://STATE_DIR/admin.sock, xxgkd's admin endpoint when admin is not set; 0 or -1 (too
 * long). */
int config_default_admin(const char *state_dir, char *out, size_t size);

/* "government", "department", "township", "functional_zone" <-> UnitKind values. */
const char *unit_kind_name(int kind);
int unit_kind_parse(const char *s);

/* "province", "city", "county", "district", "township" <-> enum government_level (0: none). */
const char *government_level_name(int level);
int government_level_parse(const char *s);

/* The example city's units file, built in (examples/units.conf). */
extern const char example_units_conf[];

#endif
