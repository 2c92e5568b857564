/* log.c — stderr logger shared by every thread of the daemon.
 * Lines are formatted into one buffer and written with a single write(2) so that concurrent
 * threads never interleave inside a line; newlines in messages are replaced to keep one line
 * per event. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static enum log_level g_level = LOG_LVL_INFO;

static const struct {
	const char *name;
	const char *tag;
	int syslog_prio;
} levels[] = {
	[LOG_LVL_ERROR] = { "error", "ERROR", 3 },
	[LOG_LVL_WARN] = { "warn", "WARN", 4 },
	[LOG_LVL_INFO] = { "info", "INFO", 6 },
	[LOG_LVL_DEBUG] = { "debug", "DEBUG", 7 },
};

int log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (name && strcasecmp(name, levels[i].name) == 0)
			return (int)i;
	return -1;
}

void log_set_level(enum log_level lvl)
{
	g_level = lvl;
}
enum log_level log_get_level(void)
{
	return g_level;
}

void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
{
	char line[1024];
	int n;
	va_list ap;

	if (lvl > g_level)
		return;
	if (getenv("JOURNAL_STREAM"))
		n = snprintf(line, sizeof line, "<%d>%s: ", levels[lvl].syslog_prio, component);
	else
		n = snprintf(line, sizeof line, "%s %s: ", levels[lvl].tag, component);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	size_t len = strlen(line);
	for (size_t i = (size_t)n; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	if (len >= sizeof line - 1)
		len = sizeof line - 2;
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

void log_safe(const char *s, char *out, size_t outsz)
{
	size_t o = 0;
	if (!outsz)
		return;
	if (!s)
		s = "(none)";
	for (; *s && o + 1 < outsz; s++) {
		unsigned char c = (unsigned char)*s;
		out[o++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
	}
	if (*s && outsz > 4)
		memcpy(out + outsz - 4, "...", 3), o = outsz - 1;
	out[o] = '\0';
}
