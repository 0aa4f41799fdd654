/*
 * xxgkd: keeps the disclosure report's cells live from the records units push.
 *
 *   xxgkd [-c FILE] [--units FILE] [--state-dir DIR] [-f]
 *   xxgkd --check-config [-c FILE] [--units FILE]
 *
 * Without -f it detaches once every socket is bound, and its exit status says whether it
 * started. With no configuration file it runs on the embedded default: state in ./xxgk-state,
 * loopback endpoints, and the units of --units FILE or of the example city.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "store_guard.h"

static void usage(FILE *to)
{
	fprintf(to,
		"usage: xxgkd [-c FILE] [--units FILE] [--state-dir DIR] [-f]\n"
		"       xxgkd --check-config [-c FILE] [--units FILE]\n"
		"  -c, --config FILE   the configuration (default: built-in defaults)\n"
		"  -u, --units FILE    the units of the city (default: from the configuration,\n"
		"                      else the example city)\n"
		"  -s, --state-dir DIR where the store lives (overrides the configuration)\n"
		"  -f, --foreground    do not detach (for systemd and tests)\n"
		"  -t, --check-config  check the configuration as a start would, without opening\n"
		"                      the store or binding; exit 0 (\"configuration ok\") or 1\n"
		"  -V, --version       print the version\n");
}

/*
 * Detaches: the parent waits until the child has bound every socket (or failed), so that its
 * exit status tells the caller whether xxgkd started.
 */
static int detach(int *ready_fd)
{
	int fds[2];
	char status = 1;
	if (pipe(fds) != 0) {
		perror("xxgkd: pipe");
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("xxgkd: fork");
		return -1;
	}
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(fds[0]);
	setsid();
	*ready_fd = fds[1];
	return 0;
}

static void say_started(int *ready_fd, char status)
{
	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, &status, 1) != 1)
		log_warn("could not tell the parent process that xxgkd started");
	close(*ready_fd);
	*ready_fd = -1;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {{"config", required_argument, NULL, 'c'},
						{"units", required_argument, NULL, 'u'},
						{"state-dir", required_argument, NULL, 's'},
						{"foreground", no_argument, NULL, 'f'},
						{"check-config", no_argument, NULL, 't'},
						{"version", no_argument, NULL, 'V'},
						{"help", no_argument, NULL, 'h'},
						{NULL, 0, NULL, 0}};
	struct server_sources sources = {0};
	struct server *s;
	int foreground = 0, check = 0, opt, ready_fd = -1;
	/* hidden: xxgkd running itself to read a store where a crash cannot hurt the daemon */
	if (argc >= 3 &&
	    (strcmp(argv[1], STORE_GUARD_CHECK) == 0 || strcmp(argv[1], STORE_GUARD_VERIFY) == 0 ||
	     strcmp(argv[1], STORE_GUARD_BACKUP) == 0))
		return store_guard_child(argc, argv);
	while ((opt = getopt_long(argc, argv, "c:u:s:ftVh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			sources.config_path = optarg;
			break;
		case 'u':
			sources.units_path = optarg;
			break;
		case 's':
			sources.state_dir = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			check = 1;
			break;
		case 'V':
			printf("xxgkd %s\n", XXGK_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xxgkd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	/* like nginx -t: the errors are the log's lines (file:line: reason), on stderr */
	if (check) {
		if (server_check_config(&sources))
			return 1;
		printf("xxgkd: configuration ok\n");
		return 0;
	}
	/* a vanished peer must not kill the daemon */
	signal(SIGPIPE, SIG_IGN);
	if (!foreground && detach(&ready_fd))
		return 1;
	if (server_start(&s, &sources)) {
		say_started(&ready_fd, 1);
		return 1;
	}
	say_started(&ready_fd, 0);
	int rc = server_run(s);
	server_free(s);
	return rc ? 1 : 0;
}
