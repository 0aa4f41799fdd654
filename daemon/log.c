#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The one piece of process-wide state: set from main and on reload, read everywhere. */
static enum log_level current = LOG_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return current;
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
	if (level > current)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one write per line, so that lines of concurrent writers do not interleave */
	fprintf(stderr, "xxgkd[%s]: %s\n", names[level], line);
}
