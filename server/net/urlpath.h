/* urlpath.h — strict decoding of a request path (percent-escapes) before routing or file lookup.
 * Pure functions, no I/O. The daemon sees the raw path (libmicrohttpd's own unescaping is turned
 * off) so that encoded tricks (%00, %2f, %5c, %2e%2e) are refused instead of silently rewritten.
 * Both listeners judge paths with it (the WSS listener on the path as sent, not as lws rewrote
 * it), so a path is refused or accepted the same way on either. */
#ifndef SITHS_URLPATH_H
#define SITHS_URLPATH_H

#include <stddef.h>

typedef enum {
	URLPATH_OK = 0,
	URLPATH_E_NOT_ABSOLUTE,  /* does not start with '/' */
	URLPATH_E_BAD_ESCAPE,    /* '%' not followed by two hex digits */
	URLPATH_E_NUL,           /* %00 */
	URLPATH_E_CONTROL,       /* a control character, raw or encoded */
	URLPATH_E_ENCODED_SLASH, /* %2f: would change the segment structure */
	URLPATH_E_ENCODED_PLAIN, /* %41, %2e, ...: a letter, digit or -._~ that needs no escape
	                          * (RFC 3986 2.3); no browser sends one, so it is a disguise */
	URLPATH_E_BACKSLASH,     /* '\' raw or encoded */
	URLPATH_E_DOT_SEGMENT,   /* a "." or ".." segment, raw or encoded */
	URLPATH_E_EMPTY_SEGMENT, /* "//" */
	URLPATH_E_TOO_LONG,
} urlpath_err;

const char *urlpath_strerror(urlpath_err e);

/* Decodes raw into out (outsz bytes incl. NUL). out is always NUL-terminated (possibly empty). */
urlpath_err urlpath_decode(const char *raw, char *out, size_t outsz);

#endif
