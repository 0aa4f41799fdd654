/* Logging to stderr, one line per event, with a level; systemd's journal adds the time. */
#ifndef XXGK_LOG_H
#define XXGK_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Whether each line starts with its syslog priority, <3> to <7> (sd-daemon(3)), so that the
 * journal files it under that priority: auto when stderr is the journal (JOURNAL_STREAM). */
enum log_prefix { LOG_PREFIX_AUTO, LOG_PREFIX_YES, LOG_PREFIX_NO };

void log_set_priority_prefix(enum log_prefix p);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "error", "warn", "info" or "debug"; returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
