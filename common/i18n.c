#include "i18n.h"

#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char localedir[PATH_MAX];

/* <dir of /proc/self/exe>/../share/locale, if that directory exists. */
static int beside_program(char *out, size_t size)
{
	char exe[PATH_MAX];
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(out, size, "%s/share/locale", exe) >= size)
		return -1;
	return stat(out, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

void i18n_init(void)
{
	/*
	 * Only the categories messages need: LC_CTYPE for the terminal's character set (gettext
	 * converts the translation to it) and LC_MESSAGES for the language. LC_NUMERIC and the
	 * others stay "C", so that numbers, dates and CSV read and print the same everywhere.
	 */
	setlocale(LC_CTYPE, "");
	setlocale(LC_MESSAGES, "");
	const char *env = getenv("XXGK_LOCALEDIR");
	if (env && env[0] && strlen(env) < sizeof(localedir))
		strcpy(localedir, env);
	else if (beside_program(localedir, sizeof(localedir)))
		snprintf(localedir, sizeof(localedir), "%s", XXGK_INSTALL_LOCALEDIR);
	bindtextdomain(XXGK_TEXTDOMAIN, localedir);
	textdomain(XXGK_TEXTDOMAIN);
}

const char *i18n_localedir(void)
{
	return localedir;
}
