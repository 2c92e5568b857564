/* http.h — the HTTPS listener (libmicrohttpd over GnuTLS, TLS 1.2+ AEAD only).
 * A connection whose client socket belongs to a user other than the daemon's euid or
 * cfg->allow_uids (or whose owner cannot be found) is closed before TLS, logged once (peer.h).
 * It runs the request pipeline — Host check, Origin check, CORS preflight, routing, Content-Type,
 * body limit, JSON parse — before any handler of the route table or a static file is touched,
 * adds the security headers to every answer, and closes connections whose request does not
 * arrive within the configured timeout (slowloris, reaper.h). Its threads are libmicrohttpd's
 * pool plus the deadline thread. */
#ifndef SITHS_HTTP_H
#define SITHS_HTTP_H

#include "config.h"
#include "guard.h"
#include "idle.h"
#include "rest.h"

typedef enum {
	HTTP_OK = 0,
	HTTP_E_BIND,  /* socket/bind/listen failed (address in use, ...) */
	HTTP_E_TLS,   /* certificate or key unreadable or rejected */
	HTTP_E_WWW,   /* the www directory cannot be opened */
	HTTP_E_START, /* libmicrohttpd refused to start */
	HTTP_E_NOMEM,
	HTTP_E_THREAD,
} http_err;

const char *http_strerror(http_err e);

typedef struct http_server http_server;

/* Step 1: binds the listening socket so the real port is known before the origins allowlist and
 * the WebSocket listener are set up. *port gets the bound port. (A socket-activated daemon skips
 * this: its listener is inherited, activation.h.) */
http_err http_bind(const struct cfg_listen *l, int *fd, unsigned short *port);

/* What the server serves, all borrowed: they must outlive it. */
struct http_setup {
	const struct cfg *cfg;
	const struct guard_origins *origins;
	const struct rest_table *routes; /* the API; every other path is a static file */
	struct rest_ctx *ctx;            /* handed to every handler */
	unsigned short https_port;       /* the port bound in step 1 (the Host check) */
	unsigned short wss_port;         /* the WebSocket listener's, for the CSP */
	struct idle *idle;               /* held while a connection is open; NULL: none */
};

/* Step 2: serves on fd, a listening TCP socket (ownership passes to the server, also on failure):
 * the one from step 1 or an inherited one. */
http_err http_start(int fd, const struct http_setup *su, http_server **out);

/* Stops accepting, waits for the threads, frees everything. NULL is fine. */
void http_stop(http_server *s);

/* Decides whether a Content-Type header value means JSON ("application/json" with optional
 * parameters, any case). Pure; exported for tests. */
int http_is_json_type(const char *content_type);

#endif
