/* reqhead.h — the rules a request head must pass on both listeners before anything else looks
 * at it (request smuggling, header injection, parser disagreement): at most one Host, Origin,
 * Content-Length and Transfer-Encoding; never Content-Length together with Transfer-Encoding;
 * Transfer-Encoding only "chunked"; field names are RFC 9110 tokens; values hold no NUL and no
 * control byte other than HTAB. Pure: a listener feeds it every field as its parser stored it,
 * with byte lengths, so a NUL inside a value is seen rather than cut at. */
#ifndef SITHS_REQHEAD_H
#define SITHS_REQHEAD_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	REQHEAD_OK = 0,
	REQHEAD_E_NAME,      /* a field name that is not a token ("Origin " before the colon) */
	REQHEAD_E_CONTROL,   /* NUL or a control byte in a value */
	REQHEAD_E_DUPLICATE, /* Host, Origin, Content-Length or Transfer-Encoding more than once */
	REQHEAD_E_FRAMING,   /* Content-Length together with Transfer-Encoding */
	REQHEAD_E_CODING,    /* a Transfer-Encoding other than "chunked" */
} reqhead_err;

const char *reqhead_strerror(reqhead_err e);

/* Running verdict over the fields of one request; caller-owned, no heap. */
struct reqhead {
	unsigned n_host, n_origin, n_length, n_coding;
	reqhead_err err; /* the first failure; it sticks */
};

void reqhead_init(struct reqhead *h);
/* One field as received (name and value need not be NUL-terminated; value may be NULL when
 * value_len is 0). */
void reqhead_add(struct reqhead *h, const char *name, size_t name_len, const char *value,
		 size_t value_len);
/* The verdict once every field was added. */
reqhead_err reqhead_verdict(const struct reqhead *h);

/* Whether value[0..len) is free of NUL and control bytes (HTAB allowed). For values that
 * reqhead_add does not see, e.g. query parameters. */
bool reqhead_value_clean(const char *value, size_t len);

#endif
