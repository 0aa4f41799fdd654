/*
 * Messages in the user's language: gettext (glibc's libintl) with the text domain "xxgk".
 *
 * _("...") translates a message where it is printed; N_("...") only marks one kept in a table
 * (translate it with _() where it is used). The English text is the message id and what is
 * printed when there is no translation. Only the tools speak the user's language (xxgkctl,
 * xxgk-push): the daemon's log stays English for operators, and neither the report's cells
 * nor JSON keys are messages.
 */
#ifndef XXGK_I18N_H
#define XXGK_I18N_H

#include <libintl.h>

#define XXGK_TEXTDOMAIN "xxgk"

#define _(msgid) gettext(msgid)
#define N_(msgid) (msgid)

/*
 * Takes the language from the environment (LC_ALL, LC_MESSAGES, LANG, and LANGUAGE unless the
 * locale is C) and finds the translations: in $XXGK_LOCALEDIR when it is set and not empty,
 * else in ../share/locale next to the program's own directory (an installed program's prefix,
 * and the build tree, where the build writes them), else in the configured install prefix's.
 * Every program that prints messages calls it first thing in main.
 */
void i18n_init(void);

/* The directory i18n_init bound the text domain to (for --version and tests). */
const char *i18n_localedir(void);

#endif
