/* http.h — the HTTPS listener (libmicrohttpd over GnuTLS, TLS 1.2+ AEAD only).
 * A connection whose client socket belongs to a user other than the daemon's euid or
 * cfg->allow_uids (or whose owner cannot be found) is closed before TLS, logged once (peer.h).
 * It runs the request pipeline — Host check, Origin check, CORS preflight, routing, Content-Type,
 * body limit, JSON parse — before any handler in api.c or a static file is touched, adds the
 * security headers to every answer, and closes connections whose request does not arrive within
 * the configured timeout (slowloris). Its threads are libmicrohttpd's pool plus one deadline
 * thread. */
#ifndef SITHS_HTTP_H
#define SITHS_HTTP_H

#include "rest.h"
#include "config.h"
#include "guard.h"

typedef enum {
	HTTP_OK = 0,
	HTTP_E_BIND,     /* socket/bind/listen failed (address in use, ...) */
	HTTP_E_TLS,      /* certificate or key unreadable or rejected */
	HTTP_E_WWW,      /* the www directory cannot be opened */
	HTTP_E_START,    /* libmicrohttpd refused to start */
	HTTP_E_NOMEM,
	HTTP_E_THREAD,
} http_err;

const char *http_strerror(http_err e);

typedef struct http_server http_server;

/* Step 1: binds the listening socket so the real port is known before the origins allowlist and
 * the WebSocket listener are set up. *port gets the bound port. */
http_err http_bind(const struct cfg_listen *l, int *fd, unsigned short *port);

/* Step 2: serves on fd (ownership passes to the server, also on failure). cfg, ctx and origins
 * must outlive the server; ctx->wss_port must be set (it goes into the CSP). */
http_err http_start(int fd, const struct cfg *cfg, struct api_ctx *ctx,
                    const struct guard_origins *origins, http_server **out);

/* Stops accepting, waits for the threads, frees everything. NULL is fine. */
void http_stop(http_server *s);

/* Decides whether a Content-Type header value means JSON ("application/json" with optional
 * parameters, any case). Pure; exported for tests. */
int http_is_json_type(const char *content_type);

/* Copies s into out for a log line: printable ASCII only, others as '?', at most outsz-1 bytes,
 * truncated with "...". Pure; exported for tests. */
void http_log_safe(const char *s, char *out, size_t outsz);

#endif
