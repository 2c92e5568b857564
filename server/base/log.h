/* log.h — one line per event on stderr, journald-friendly.
 * When stderr is a journald stream (JOURNAL_STREAM set) each line carries an sd-daemon "<N>"
 * priority prefix; otherwise "LEVEL component: message". Never pass a PIN or token to these. */
#ifndef SITHS_LOG_H
#define SITHS_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Returns -1 if name is not one of error|warn|info|debug. */
int log_level_parse(const char *name);
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

/* Thread-safe; the whole line is written with one write(2). */
void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copies s, untrusted (a path, a header), into out for a log line: printable ASCII only, quotes,
 * backslashes and everything else as '?', at most outsz-1 bytes, cut with "..."; NULL gives
 * "(none)". The one sanitiser of logged request data. Pure. */
void log_safe(const char *s, char *out, size_t outsz);

#define log_error(c, ...) log_msg(LOG_LVL_ERROR, c, __VA_ARGS__)
#define log_warn(c, ...) log_msg(LOG_LVL_WARN, c, __VA_ARGS__)
#define log_info(c, ...) log_msg(LOG_LVL_INFO, c, __VA_ARGS__)
#define log_debug(c, ...) log_msg(LOG_LVL_DEBUG, c, __VA_ARGS__)

#endif
