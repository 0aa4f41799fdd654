#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xxgk.pb-c.h"

static const char *const kind_names[] = {NULL, "government", "department", "township",
					 "functional_zone"};

const char *unit_kind_name(int kind)
{
	return kind >= 1 && kind <= 4 ? kind_names[kind] : "unknown";
}

int unit_kind_parse(const char *s)
{
	for (int k = 1; k <= 4; k++)
		if (strcmp(s, kind_names[k]) == 0)
			return k;
	return 0;
}

static const char *const level_names[] = {NULL,	    "province", "city",
					  "county", "district", "township"};

const char *government_level_name(int level)
{
	return level >= GOVERNMENT_LEVEL_PROVINCE && level <= GOVERNMENT_LEVEL_TOWNSHIP
		   ? level_names[level]
		   : "unknown";
}

int government_level_parse(const char *s)
{
	for (int l = GOVERNMENT_LEVEL_PROVINCE; l <= GOVERNMENT_LEVEL_TOWNSHIP; l++)
		if (strcmp(s, level_names[l]) == 0)
			return l;
	return 0;
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "xxgk-state");
	snprintf(c->ingest, sizeof(c->ingest), "tcp://127.0.0.1:7410");
	/* admin: "" means a local socket in the state directory, decided once that is known */
	snprintf(c->publish, sizeof(c->publish), "tcp://127.0.0.1:7412");
	c->batch_max = 256;
	c->batch_records_max = 10000;
	c->commit_pages_max = 8192;
	c->max_message_size = 8 << 20;
	c->queue_max = 16;
	c->connections_max = 256;
	c->handshake_timeout = 5000;
	c->map_size = 64LL << 20;
	c->bad_input_log_interval = 10;
	c->log_level = LOG_INFO;
	/* the example city (the sample's 瑞安市): a county-level city, which says 全市 */
	snprintf(c->government_name, sizeof(c->government_name), "瑞安市人民政府");
	snprintf(c->government_region, sizeof(c->government_region), "瑞安市");
	c->government_level = GOVERNMENT_LEVEL_CITY;
	snprintf(c->holidays, sizeof(c->holidays), "/etc/xxgk/holidays.conf");
	c->deadlines_max = 10000;
	/* a 10M-record store (1.4 GB) in 22 s, pushes meanwhile as fast as idle
	 * (bench_verify_block) */
	c->backup_rate = (long long)64 << 20;
}

void config_free(struct config *c)
{
	free(c->units);
	c->units = NULL;
	c->n_units = 0;
	free(c->clients);
	c->clients = NULL;
	c->n_clients = 0;
}

int client_may_write(const struct client_config *c, const char *unit)
{
	size_t len = strlen(unit);
	for (const char *p = c->units; *p;) {
		size_t n = strcspn(p, " ");
		if (n == len && strncmp(p, unit, len) == 0)
			return 1;
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

const struct client_config *config_client_by_key(const struct config *c, const char *z85)
{
	for (size_t i = 0; i < c->n_clients; i++)
		if (strcmp(c->clients[i].public_key, z85) == 0)
			return &c->clients[i];
	return NULL;
}

struct parse {
	struct config *c;
	int units_only;	    /* a units file: [unit] sections only */
	int endpoints_only; /* a client's reading: [unit] and [client] are xxgkd's business */
	char section[128];  /* the section of the previous line */
	char error[CONFIG_ERROR_MAX];
};

static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	/* inih goes on after an error but reports the first one's line: keep its reason */
	if (p->error[0])
		return 0;
	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	return 0;
}

static int parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int set_string(struct parse *p, char *dst, size_t size, const char *name, const char *value)
{
	if (value[0] == '\0')
		return fail(p, "%s: empty", name);
	if (strlen(value) >= size)
		return fail(p, "%s: longer than %zu bytes", name, size - 1);
	memcpy(dst, value, strlen(value) + 1);
	return 1;
}

static int set_int(struct parse *p, const char *name, const char *value, long long min,
		   long long max, long long *out)
{
	if (parse_int(value, min, max, out))
		return fail(p, "%s: want a whole number from %lld to %lld, not \"%s\"", name, min,
			    max, value);
	return 1;
}

/* A name printed in every report's title: UTF-8 text on one line, without control characters. */
static int set_printed_name(struct parse *p, char *dst, size_t size, const char *name,
			    const char *value)
{
	if (!utf8_valid(value, strlen(value)))
		return fail(p, "%s: invalid UTF-8", name);
	for (const unsigned char *s = (const unsigned char *)value; *s; s++)
		if (*s < 0x20 || *s == 0x7f)
			return fail(p, "%s: control character 0x%02x", name, *s);
	return set_string(p, dst, size, name, value);
}

static int daemon_key(struct parse *p, const char *name, const char *value)
{
	struct config *c = p->c;
	long long v;
	int ok;
	if (strcmp(name, "state_dir") == 0)
		return set_string(p, c->state_dir, sizeof(c->state_dir), name, value);
	if (strcmp(name, "units_file") == 0)
		return set_string(p, c->units_file, sizeof(c->units_file), name, value);
	if (strcmp(name, "ingest") == 0)
		return set_string(p, c->ingest, sizeof(c->ingest), name, value);
	if (strcmp(name, "admin") == 0)
		return set_string(p, c->admin, sizeof(c->admin), name, value);
	if (strcmp(name, "publish") == 0)
		return set_string(p, c->publish, sizeof(c->publish), name, value);
	if (strcmp(name, "http") == 0)
		return set_string(p, c->http, sizeof(c->http), name, value);
	if (strcmp(name, "name") == 0)
		return set_printed_name(p, c->government_name, sizeof(c->government_name), name,
					value);
	if (strcmp(name, "region") == 0)
		return set_printed_name(p, c->government_region, sizeof(c->government_region), name,
					value);
	if (strcmp(name, "level") == 0) {
		if ((c->government_level = government_level_parse(value)) == 0)
			return fail(p,
				    "level: want province, city, county, district or township, not "
				    "\"%s\"",
				    value);
		return 1;
	}
	if (strcmp(name, "log_priority") == 0) {
		if (strcmp(value, "auto") == 0)
			c->log_priority = LOG_PREFIX_AUTO;
		else if (strcmp(value, "yes") == 0)
			c->log_priority = LOG_PREFIX_YES;
		else if (strcmp(value, "no") == 0)
			c->log_priority = LOG_PREFIX_NO;
		else
			return fail(p, "log_priority: want auto, yes or no, not \"%s\"", value);
		return 1;
	}
	if (strcmp(name, "log_level") == 0) {
		if (log_level_parse(value, &c->log_level))
			return fail(p, "log_level: want error, warn, info or debug, not \"%s\"",
				    value);
		return 1;
	}
	if (strcmp(name, "batch_max") == 0) {
		if ((ok = set_int(p, name, value, 1, 100000, &v)))
			c->batch_max = (int)v;
		return ok;
	}
	if (strcmp(name, "batch_records_max") == 0) {
		if ((ok = set_int(p, name, value, 1, 1000000, &v)))
			c->batch_records_max = (int)v;
		return ok;
	}
	if (strcmp(name, "commit_pages_max") == 0) {
		if ((ok = set_int(p, name, value, 16, 10000000, &v)))
			c->commit_pages_max = (int)v;
		return ok;
	}
	if (strcmp(name, "max_message_size") == 0) {
		if ((ok = set_int(p, name, value, 1024, 1 << 30, &v)))
			c->max_message_size = (int)v;
		return ok;
	}
	if (strcmp(name, "bad_input_log_interval") == 0) {
		if ((ok = set_int(p, name, value, 0, 86400, &v)))
			c->bad_input_log_interval = (int)v;
		return ok;
	}
	if (strcmp(name, "queue_max") == 0) {
		if ((ok = set_int(p, name, value, 1, 1000, &v)))
			c->queue_max = (int)v;
		return ok;
	}
	if (strcmp(name, "connections_max") == 0) {
		if ((ok = set_int(p, name, value, 1, 1000000, &v)))
			c->connections_max = (int)v;
		return ok;
	}
	if (strcmp(name, "handshake_timeout") == 0) {
		if ((ok = set_int(p, name, value, 100, 600000, &v)))
			c->handshake_timeout = (int)v;
		return ok;
	}
	if (strcmp(name, "holidays") == 0) {
		c->holidays_set = 1;
		return set_string(p, c->holidays, sizeof(c->holidays), name, value);
	}
	if (strcmp(name, "holidays_extra") == 0)
		return set_string(p, c->holidays_extra, sizeof(c->holidays_extra), name, value);
	if (strcmp(name, "deadlines_max") == 0) {
		if ((ok = set_int(p, name, value, 1, 100000, &v)))
			c->deadlines_max = (int)v;
		return ok;
	}
	if (strcmp(name, "verify_rate") == 0) {
		if ((ok = set_int(p, name, value, 0, 100000000, &v)))
			c->verify_rate = v;
		return ok;
	}
	if (strcmp(name, "backup_rate") == 0) {
		if ((ok = set_int(p, name, value, 0, 100000000000LL, &v)))
			c->backup_rate = v;
		return ok;
	}
	if (strcmp(name, "secret_key") == 0)
		return set_string(p, c->secret_key, sizeof(c->secret_key), name, value);
	if (strcmp(name, "insecure") == 0) {
		if (strcmp(value, "yes") && strcmp(value, "no"))
			return fail(p, "insecure: want yes or no, not \"%s\"", value);
		c->insecure = strcmp(value, "yes") == 0;
		return 1;
	}
	if (strcmp(name, "admin_abstract") == 0) {
		if (strcmp(value, "yes") && strcmp(value, "no"))
			return fail(p, "admin_abstract: want yes or no, not \"%s\"", value);
		c->admin_abstract = strcmp(value, "yes") == 0;
		return 1;
	}
	if (strcmp(name, "map_size") == 0) {
		if ((ok = set_int(p, name, value, 1 << 20, 1LL << 40, &v)))
			c->map_size = v;
		return ok;
	}
	return fail(p, "unknown key \"%s\" in [xxgkd]", name);
}

static int unit_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > RECORD_UNIT_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return 0;
	}
	return 1;
}

static struct unit_config *find_unit(struct config *c, const char *id)
{
	for (size_t i = 0; i < c->n_units; i++)
		if (strcmp(c->units[i].id, id) == 0)
			return &c->units[i];
	return NULL;
}

/* The unit of a [unit ID] section, created when the section starts. */
static int unit_key(struct parse *p, const char *id, const char *name, const char *value,
		    int new_section)
{
	struct config *c = p->c;
	struct unit_config *u = find_unit(c, id);
	if (new_section) {
		if (!unit_id_valid(id))
			return fail(p, "[unit %s]: a unit id is 1 to %d of A-Z a-z 0-9 . _ -", id,
				    RECORD_UNIT_MAX);
		if (u)
			return fail(p, "[unit %s]: defined twice", id);
		u = realloc(c->units, (c->n_units + 1) * sizeof(*u));
		if (u == NULL)
			return fail(p, "out of memory");
		c->units = u;
		u = &c->units[c->n_units++];
		memset(u, 0, sizeof(*u));
		memcpy(u->id, id, strlen(id) + 1);
	}
	if (u == NULL)
		return fail(p, "[unit %s]: not a valid unit", id); /* its first line failed */
	if (strcmp(name, "name") == 0) {
		if (!utf8_valid(value, strlen(value)))
			return fail(p, "[unit %s] name: invalid UTF-8", id);
		return set_string(p, u->name, sizeof(u->name), "name", value);
	}
	if (strcmp(name, "kind") == 0) {
		if ((u->kind = unit_kind_parse(value)) == 0)
			return fail(p,
				    "[unit %s] kind: want government, department, township or "
				    "functional_zone, not \"%s\"",
				    id, value);
		return 1;
	}
	return fail(p, "unknown key \"%s\" in [unit %s]", name, id);
}

/* A [client NAME] section: public_key or key_file, units, admin. */
static int client_key(struct parse *p, const char *name_, const char *key, const char *value,
		      int new_section)
{
	struct config *c = p->c;
	struct client_config *cl = c->n_clients ? &c->clients[c->n_clients - 1] : NULL;
	if (new_section) {
		if (!unit_id_valid(name_))
			return fail(p, "[client %s]: a client name is 1 to %d of A-Z a-z 0-9 . _ -",
				    name_, RECORD_UNIT_MAX);
		for (size_t i = 0; i < c->n_clients; i++)
			if (strcmp(c->clients[i].name, name_) == 0)
				return fail(p, "[client %s]: defined twice", name_);
		cl = realloc(c->clients, (c->n_clients + 1) * sizeof(*cl));
		if (cl == NULL)
			return fail(p, "out of memory");
		c->clients = cl;
		cl = &c->clients[c->n_clients++];
		memset(cl, 0, sizeof(*cl));
		memcpy(cl->name, name_, strlen(name_) + 1);
	}
	if (cl == NULL || strcmp(cl->name, name_) != 0)
		return fail(p, "[client %s]: not a valid client", name_);
	if (strcmp(key, "public_key") == 0) {
		if (!key_z85_valid(value))
			return fail(p, "[client %s] public_key: want a 40-character Z85 key",
				    name_);
		memcpy(cl->public_key, value, KEY_Z85_LEN + 1);
		return 1;
	}
	if (strcmp(key, "key_file") == 0) {
		struct keypair k;
		char err[CONFIG_ERROR_MAX];
		if (keyfile_read(value, 0, &k, err, sizeof(err)))
			return fail(p, "[client %s] key_file: %s", name_, err);
		if (k.legacy)
			log_warn("%s: %s", value, KEYFILE_LEGACY_NOTE);
		memcpy(cl->public_key, k.public_key, KEY_Z85_LEN + 1);
		return 1;
	}
	if (strcmp(key, "units") == 0)
		return set_string(p, cl->units, sizeof(cl->units), "units", value);
	if (strcmp(key, "admin") == 0) {
		if (strcmp(value, "yes") && strcmp(value, "no"))
			return fail(p, "[client %s] admin: want yes or no", name_);
		cl->admin = strcmp(value, "yes") == 0;
		return 1;
	}
	return fail(p, "unknown key \"%s\" in [client %s]", key, name_);
}

static int handle(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	int new_section = strcmp(section, p->section) != 0;
	snprintf(p->section, sizeof(p->section), "%s", section);
	if (p->endpoints_only &&
	    (strncmp(section, "unit ", 5) == 0 || strncmp(section, "client ", 7) == 0))
		return 1;
	if (strncmp(section, "unit ", 5) == 0)
		return unit_key(p, section + 5, name, value, new_section);
	if (strncmp(section, "client ", 7) == 0 && !p->units_only)
		return client_key(p, section + 7, name, value, new_section);
	if (strcmp(section, "xxgkd") == 0 && !p->units_only)
		return daemon_key(p, name, value);
	if (section[0] == '\0')
		return fail(p, "\"%s\" is outside any section", name);
	return fail(p, "unknown section [%s]%s", section,
		    p->units_only ? " (a units file has [unit ID] sections only)" : "");
}

/* Runs inih over a file or a string and turns its result into one error line. */
static int parse(struct parse *p, const char *name, const char *text, char *err, size_t err_size)
{
	int rc = text ? ini_parse_string(text, handle, p) : ini_parse(name, handle, p);
	if (rc == 0)
		return 0;
	if (rc == -1)
		snprintf(err, err_size, "%s: cannot open: %s", name, strerror(errno));
	else if (rc == -2)
		snprintf(err, err_size, "%s: out of memory", name);
	else
		snprintf(err, err_size, "%s:%d: %s", name, rc,
			 p->error[0] ? p->error : "syntax error (want [section] or key = value)");
	return -1;
}

static int check_units(const struct config *c, const char *name, char *err, size_t err_size)
{
	if (c->n_units == 0) {
		snprintf(err, err_size, "%s: no [unit ID] sections: a city needs units", name);
		return -1;
	}
	for (size_t i = 0; i < c->n_units; i++) {
		const char *missing = c->units[i].kind == 0	 ? "kind"
				      : c->units[i].name[0] == 0 ? "name"
								 : NULL;
		if (missing) {
			snprintf(err, err_size, "%s: [unit %s]: missing %s", name, c->units[i].id,
				 missing);
			return -1;
		}
	}
	return 0;
}

/* An abstract socket (ipc://@NAME) has no file, so no owner and no mode: anyone on the host
 * may connect to it. For the admin socket that takes an explicit yes. */
static int check_admin(const struct config *c, const char *name, char *err, size_t err_size)
{
	if (strncmp(c->admin, "ipc://@", 7) != 0 || c->admin_abstract)
		return 0;
	snprintf(err, err_size,
		 "%s: admin = %s is an abstract socket: it has no file and no permissions, so "
		 "anyone on this host could administer xxgkd; use an ipc:// path (the default) "
		 "or set admin_abstract = yes",
		 name, c->admin);
	return -1;
}

/* Clients need the server's key, and each names units of the city or is an admin. */
static int check_security(struct config *c, const char *name, char *err, size_t err_size)
{
	if (c->secret_key[0] == '\0') {
		if (c->n_clients == 0)
			return 0;
		snprintf(err, err_size, "%s: [client] sections need secret_key in [xxgkd]", name);
		return -1;
	}
	if (c->n_clients == 0) {
		snprintf(err, err_size,
			 "%s: secret_key without [client NAME] sections: nobody could "
			 "connect",
			 name);
		return -1;
	}
	if (keyfile_read(c->secret_key, 1, &c->server_key, err, err_size))
		return -1;
	if (c->server_key.legacy)
		log_warn("%s: %s", c->secret_key, KEYFILE_LEGACY_NOTE);
	for (size_t i = 0; i < c->n_clients; i++) {
		const struct client_config *cl = &c->clients[i];
		char unit[RECORD_UNIT_MAX + 1];
		if (cl->public_key[0] == '\0') {
			snprintf(err, err_size, "%s: [client %s]: missing public_key or key_file",
				 name, cl->name);
			return -1;
		}
		if (cl->units[0] == '\0' && !cl->admin) {
			snprintf(err, err_size, "%s: [client %s]: give it units, or admin = yes",
				 name, cl->name);
			return -1;
		}
		for (const char *p = cl->units; *p;) {
			size_t n = strcspn(p, " ");
			snprintf(unit, sizeof(unit), "%.*s", (int)(n < sizeof(unit) ? n : 0), p);
			if (find_unit(c, unit) == NULL) {
				snprintf(err, err_size, "%s: [client %s]: unknown unit \"%.*s\"",
					 name, cl->name, (int)n, p);
				return -1;
			}
			p += n;
			p += strspn(p, " ");
		}
	}
	return 0;
}

int config_load(struct config *c, const char *path, const char *units_path, char *err,
		size_t err_size)
{
	struct parse p = {.c = c};
	config_defaults(c);
	if (path && parse(&p, path, NULL, err, err_size))
		goto fail;
	if (units_path == NULL && c->units_file[0]) {
		/* a relative units_file is beside the configuration file */
		const char *slash = strrchr(path, '/');
		if (c->units_file[0] != '/' && slash) {
			char resolved[PATH_MAX];
			int n = snprintf(resolved, sizeof(resolved), "%.*s/%s", (int)(slash - path),
					 path, c->units_file);
			if (n < 0 || (size_t)n >= sizeof(resolved)) {
				snprintf(err, err_size, "%s: units_file: path too long", path);
				goto fail;
			}
			memcpy(c->units_file, resolved, (size_t)n + 1);
		}
		units_path = c->units_file;
	}
	if (units_path || c->n_units == 0) {
		/* the units come from one place: the units file, or the example city */
		struct parse u = {.c = c, .units_only = 1};
		free(c->units);
		c->units = NULL;
		c->n_units = 0;
		if (units_path && units_path != c->units_file)
			snprintf(c->units_file, sizeof(c->units_file), "%s", units_path);
		if (parse(&u, units_path ? units_path : "<example city>",
			  units_path ? NULL : example_units_conf, err, err_size))
			goto fail;
		if (check_units(c, units_path ? units_path : "<example city>", err, err_size))
			goto fail;
	} else if (check_units(c, path, err, err_size)) {
		goto fail;
	}
	if (check_admin(c, path ? path : "<defaults>", err, err_size) == 0 &&
	    check_security(c, path ? path : "<defaults>", err, err_size) == 0)
		return 0;
fail:
	config_free(c);
	return -1;
}

int config_default_admin(const char *state_dir, char *out, size_t size)
{
	int n = snprintf(out, size, "ipc://%s/admin.sock", state_dir);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int config_load_endpoints(struct config *c, const char *path, char *err, size_t err_size)
{
	struct parse p = {.c = c, .endpoints_only = 1};
	config_defaults(c);
	if (parse(&p, path, NULL, err, err_size) == 0 && check_admin(c, path, err, err_size) == 0) {
		if (c->admin[0] == '\0' &&
		    config_default_admin(c->state_dir, c->admin, sizeof(c->admin))) {
			snprintf(err, err_size,
				 "%s: state_dir too long for the admin socket's path", path);
		} else {
			config_free(c);
			return 0;
		}
	}
	config_free(c);
	return -1;
}
