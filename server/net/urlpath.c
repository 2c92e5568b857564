/* urlpath.c — percent-decoding of request paths with refusal of every ambiguous form.
 * Decoding happens exactly once; the decoded path is then checked segment by segment, so an
 * encoded ".." is as refused as a literal one. */
#include "urlpath.h"

#include <string.h>

const char *urlpath_strerror(urlpath_err e)
{
	switch (e) {
	case URLPATH_OK: return "ok";
	case URLPATH_E_NOT_ABSOLUTE: return "path must start with /";
	case URLPATH_E_BAD_ESCAPE: return "malformed percent-escape";
	case URLPATH_E_NUL: return "NUL byte in path";
	case URLPATH_E_CONTROL: return "control character in path";
	case URLPATH_E_ENCODED_SLASH: return "encoded slash in path";
	case URLPATH_E_ENCODED_PLAIN: return "needlessly encoded character in path";
	case URLPATH_E_BACKSLASH: return "backslash in path";
	case URLPATH_E_DOT_SEGMENT: return "dot segment in path";
	case URLPATH_E_EMPTY_SEGMENT: return "empty segment in path";
	case URLPATH_E_TOO_LONG: return "path too long";
	}
	return "unknown error";
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3986 2.3 unreserved: never needs an escape. */
static int is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '.' || c == '_' || c == '~';
}

static urlpath_err check_segments(const char *p)
{
	/* p starts with '/'; every segment between slashes is inspected, the last may be empty. */
	while (*p == '/') {
		const char *s = p + 1;
		size_t l = strcspn(s, "/");
		if (l == 0 && s[0] == '/')
			return URLPATH_E_EMPTY_SEGMENT;
		if ((l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
			return URLPATH_E_DOT_SEGMENT;
		p = s + l;
	}
	return URLPATH_OK;
}

urlpath_err urlpath_decode(const char *raw, char *out, size_t outsz)
{
	size_t o = 0;
	urlpath_err e = URLPATH_OK;

	if (outsz == 0)
		return URLPATH_E_TOO_LONG;
	out[0] = '\0';
	if (!raw || raw[0] != '/')
		return URLPATH_E_NOT_ABSOLUTE;
	for (const char *p = raw; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
			if (hi < 0 || lo < 0) {
				e = URLPATH_E_BAD_ESCAPE;
				goto out;
			}
			c = (unsigned char)(hi << 4 | lo);
			p += 2;
			if (c == '/') {
				e = URLPATH_E_ENCODED_SLASH;
				goto out;
			}
			if (is_unreserved(c)) {
				e = URLPATH_E_ENCODED_PLAIN;
				goto out;
			}
		}
		if (c == 0) {
			e = URLPATH_E_NUL;
			goto out;
		}
		if (c < 0x20 || c == 0x7f) {
			e = URLPATH_E_CONTROL;
			goto out;
		}
		if (c == '\\') {
			e = URLPATH_E_BACKSLASH;
			goto out;
		}
		if (o + 1 >= outsz) {
			e = URLPATH_E_TOO_LONG;
			goto out;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	e = check_segments(out);
out:
	if (e)
		out[0] = '\0';
	return e;
}
