/* guard.h — DNS-rebinding and cross-origin defence shared by the HTTPS and WSS listeners.
 * Pure functions over strings: no I/O, unit-tested. The allowlist holds the daemon's own origins
 * (https://127.0.0.1:PORT and https://localhost:PORT of the HTTPS listener) plus --allow-origin. */
#ifndef SITHS_GUARD_H
#define SITHS_GUARD_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	GUARD_OK = 0,
	GUARD_E_BAD_HOST,    /* Host missing, or not 127.0.0.1:PORT / localhost:PORT / [::1]:PORT */
	GUARD_E_NO_ORIGIN,   /* Origin required here but absent */
	GUARD_E_NULL_ORIGIN, /* Origin: null */
	GUARD_E_FOREIGN_ORIGIN, /* Origin not on the allowlist */
} guard_err;

const char *guard_strerror(guard_err v);
/* snake_case code for JSON errors, e.g. "bad_host", "origin_not_allowed". */
const char *guard_code(guard_err v);

struct guard_origins {
	char **list; /* owned */
	size_t n;
};

/* Builds the allowlist: own origins for https_port plus extra[0..n_extra). 0 on success. */
int guard_origins_init(struct guard_origins *g, unsigned short https_port, char *const *extra,
		       size_t n_extra);
void guard_origins_free(struct guard_origins *g);

/* host: the Host header value (may be NULL); port: the port of the listener it came in on. */
guard_err guard_check_host(const char *host, unsigned short port);

/* origin may be NULL (absent). origin_required: false only for GET of static files and /health. */
guard_err guard_check_origin(const struct guard_origins *g, const char *origin,
			     bool origin_required);

#endif
