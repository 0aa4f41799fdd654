#include "locate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "i18n.h"

/* xxgkd binds "every address"; a client on its host connects to the loopback instead. */
static void connectable(char *dst, size_t size, const char *bound)
{
	static const struct {
		const char *any, *loopback;
	} wild[] = {{"tcp://*:", "tcp://127.0.0.1:"},
		    {"tcp://0.0.0.0:", "tcp://127.0.0.1:"},
		    {"tcp://[::]:", "tcp://[::1]:"}};
	for (size_t i = 0; i < sizeof(wild) / sizeof(wild[0]); i++) {
		size_t n = strlen(wild[i].any);
		if (strncmp(bound, wild[i].any, n) == 0) {
			snprintf(dst, size, "%s%s", wild[i].loopback, bound + n);
			return;
		}
	}
	snprintf(dst, size, "%s", bound);
}

/* NAME.key beside NAME.secret (or a zcert's NAME beside NAME_secret), when it exists. */
static void public_key_file(char *dst, size_t size, const char *secret)
{
	size_t n = strlen(secret);
	struct stat sb;
	dst[0] = '\0';
	if (n > 7 && strcmp(secret + n - 7, ".secret") == 0)
		snprintf(dst, size, "%.*s.key", (int)(n - 7), secret);
	else if (n > 7 && strcmp(secret + n - 7, "_secret") == 0)
		snprintf(dst, size, "%.*s", (int)(n - 7), secret);
	if (dst[0] && stat(dst, &sb) != 0)
		dst[0] = '\0';
}

int locate_daemon(struct locate *l, const char *config, int want, char *err, size_t err_size)
{
	const char *env_admin = getenv("XXGK_ADMIN"), *env_ingest = getenv("XXGK_INGEST");
	struct stat sb;
	memset(l, 0, sizeof(*l));
	snprintf(l->admin, sizeof(l->admin), "%s", LOCATE_DEFAULT_ADMIN);
	snprintf(l->ingest, sizeof(l->ingest), "%s", LOCATE_DEFAULT_INGEST);
	snprintf(l->publish, sizeof(l->publish), "%s", LOCATE_DEFAULT_PUBLISH);
	snprintf(l->admin_from, sizeof(l->admin_from), "%s", _("the built-in default"));
	snprintf(l->ingest_from, sizeof(l->ingest_from), "%s", _("the built-in default"));
	if (env_admin && env_admin[0] == '\0')
		env_admin = NULL;
	if (env_ingest && env_ingest[0] == '\0')
		env_ingest = NULL;
	/* the installed configuration, unless the environment says all it would */
	const char *path = config;
	if (path == NULL && (((want & LOCATE_ADMIN) && env_admin == NULL) ||
			     ((want & LOCATE_INGEST) && env_ingest == NULL))) {
		if (stat(LOCATE_DEFAULT_CONFIG, &sb) == 0) {
			path = LOCATE_DEFAULT_CONFIG;
		} else if (errno != ENOENT) {
			/* there but unreadable (/etc/xxgk is for the xxgk group): say so, not only
			 * that the default endpoint has nothing */
			const char *why = strerror(errno);
			char from[PATH_MAX + 8];
			snprintf(from, sizeof(from),
				 _("the built-in default, as %s: %s (join its group, or give -c, "
				   "--admin or XXGK_ADMIN)"),
				 LOCATE_DEFAULT_CONFIG, why);
			snprintf(l->admin_from, sizeof(l->admin_from), "%s", from);
			snprintf(l->ingest_from, sizeof(l->ingest_from), "%s", from);
		}
	}
	if (path) {
		struct config c;
		if (config_load_endpoints(&c, path, err, err_size))
			return -1;
		int explicit = config != NULL;
		if (explicit || env_admin == NULL) {
			connectable(l->admin, sizeof(l->admin), c.admin);
			snprintf(l->admin_from, sizeof(l->admin_from), "-c %s", path);
		}
		if (explicit || env_ingest == NULL) {
			connectable(l->ingest, sizeof(l->ingest), c.ingest);
			snprintf(l->ingest_from, sizeof(l->ingest_from), "-c %s", path);
		}
		if (explicit)
			connectable(l->publish, sizeof(l->publish), c.publish);
		if (c.secret_key[0])
			public_key_file(l->server_key, sizeof(l->server_key), c.secret_key);
		if (explicit)
			return 0;
	}
	if (env_admin) {
		snprintf(l->admin, sizeof(l->admin), "%s", env_admin);
		snprintf(l->admin_from, sizeof(l->admin_from), "XXGK_ADMIN");
	}
	if (env_ingest) {
		snprintf(l->ingest, sizeof(l->ingest), "%s", env_ingest);
		snprintf(l->ingest_from, sizeof(l->ingest_from), "XXGK_INGEST");
	}
	return 0;
}

int locate_probe(const char *endpoint, const char *from, const char *option, const char *env,
		 char *err, size_t err_size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = endpoint + 6;
	/* an abstract socket (ipc://@NAME) has no file to look at; one too long is zmq's to refuse
	 */
	if (strncmp(endpoint, "ipc://", 6) != 0 || path[0] == '@' ||
	    strlen(path) >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	close(fd);
	/* EAGAIN: listening, its backlog full for a moment */
	if (rc == 0 || e == EAGAIN || e == EINTR)
		return 0;
	const char *why = e == ENOENT	      ? _("it does not exist")
			  : e == ECONNREFUSED ? _("nothing listens on it")
			  : e == EACCES	      ? _("permission denied (ask to join xxgkd's group)")
					      : strerror(e);
	snprintf(err, err_size,
		 _("no xxgkd at %s (from %s): %s.\n"
		   "Start xxgkd (systemctl start xxgkd), or say where it listens: -c its "
		   "configuration file, %s ENDPOINT, or %s=ENDPOINT"),
		 endpoint, from, why, option, env);
	return -1;
}
