#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Process-wide state, set from main and on reload, read on every thread: atomic. */
static _Atomic int current = LOG_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};
/* LOG_ERR, LOG_WARNING, LOG_INFO and LOG_DEBUG of syslog.h */
static const char *const priorities[] = {"<3>", "<4>", "<6>", "<7>"};
/* -1 until decided: the first line, or the configuration, decides */
static _Atomic int prefixed = -1;

/* systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected to stderr; stderr may
 * have been redirected since, so only a match counts (sd-daemon(3), systemd.exec(5)). */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;
	char end;
	if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &end) != 2 || fstat(2, &sb) != 0)
		return 0;
	return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

void log_set_priority_prefix(enum log_prefix p)
{
	prefixed = p == LOG_PREFIX_YES || (p == LOG_PREFIX_AUTO && stderr_is_journal());
}

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return (enum log_level)current;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	if ((int)level > current)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (prefixed < 0)
		log_set_priority_prefix(LOG_PREFIX_AUTO);
	/* one write per line, so that lines of concurrent writers do not interleave */
	fprintf(stderr, "%sxxgkd[%s]: %s\n", prefixed > 0 ? priorities[level] : "", names[level],
		line);
}
