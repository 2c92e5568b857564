/* reqhead.c — request-head rules shared by the HTTPS and WSS listeners. Each field is judged by
 * its bytes, never by C-string functions, so a value like "https://own\0.evil" is refused
 * instead of being read as "https://own". */
#include "reqhead.h"

#include <string.h>
#include <strings.h>

const char *reqhead_strerror(reqhead_err e)
{
	switch (e) {
	case REQHEAD_OK: return "ok";
	case REQHEAD_E_NAME: return "malformed header field name";
	case REQHEAD_E_CONTROL: return "NUL or control character in a header value";
	case REQHEAD_E_DUPLICATE:
		return "Host, Origin, Content-Length or Transfer-Encoding sent more than once";
	case REQHEAD_E_FRAMING: return "Content-Length and Transfer-Encoding together";
	case REQHEAD_E_CODING: return "Transfer-Encoding other than chunked";
	}
	return "unknown error";
}

void reqhead_init(struct reqhead *h)
{
	memset(h, 0, sizeof *h);
}

/* RFC 9110 5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

bool reqhead_value_clean(const char *value, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

void reqhead_add(struct reqhead *h, const char *name, size_t name_len, const char *value,
		 size_t value_len)
{
	if (h->err)
		return;
	if (!name || !is_token(name, name_len)) {
		h->err = REQHEAD_E_NAME;
		return;
	}
	if (value_len && (!value || !reqhead_value_clean(value, value_len))) {
		h->err = REQHEAD_E_CONTROL;
		return;
	}
	unsigned *count = name_is(name, name_len, "Host")      ? &h->n_host
		: name_is(name, name_len, "Origin")            ? &h->n_origin
		: name_is(name, name_len, "Content-Length")    ? &h->n_length
		: name_is(name, name_len, "Transfer-Encoding") ? &h->n_coding
							       : NULL;
	if (count && ++*count > 1) {
		h->err = REQHEAD_E_DUPLICATE;
		return;
	}
	if (count == &h->n_coding && !(value_len == 7 && strncasecmp(value, "chunked", 7) == 0))
		h->err = REQHEAD_E_CODING;
}

reqhead_err reqhead_verdict(const struct reqhead *h)
{
	if (h->err)
		return h->err;
	if (h->n_length && h->n_coding)
		return REQHEAD_E_FRAMING;
	return REQHEAD_OK;
}
