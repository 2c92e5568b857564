/* ws.h — the secure WebSocket listener (libwebsockets, its own service thread) that pushes
 * server → page events as JSON text messages on wss://HOST:PORT/v1/events.
 * Any thread may call ws_broadcast(); delivery into the lws loop uses lws_cancel_service(),
 * never polling. A connection whose client socket belongs to a user other than the daemon's euid
 * or cfg->allow_uids (or whose owner cannot be found) is closed before TLS, logged once (peer.h).
 * Host and Origin are checked on the upgrade with guard.h.
 * Refused upgrades get an HTTP status and one log line: 404 other path or plain HTTP, 421 bad Host,
 * 403 missing/null/foreign Origin, 400 a duplicated Host/Origin, 503 at cfg->ws_max_clients.
 * A client message over cfg->ws_max_message closes that client with 1009; keepalive pings follow
 * cfg->conn_timeout_s. TLS 1.2+ with AEAD ciphers only. */
#ifndef SITHS_WS_H
#define SITHS_WS_H

#include <stddef.h>

#include "config.h"
#include "guard.h"

typedef enum {
	WS_OK = 0,
	WS_E_TLS,      /* certificate/key could not be loaded */
	WS_E_BIND,     /* listen failed (address in use, not loopback) */
	WS_E_NOMEM,
	WS_E_THREAD,
} ws_err;

const char *ws_strerror(ws_err e);

typedef struct ws_server ws_server;

/* Called in the lws thread for each new client right after the "hello" message; returns a
 * malloc'd JSON array text of extra messages to send first (e.g. current cards), or NULL. */
typedef char *(*ws_greeting_fn)(void *user);

/* Starts the listener thread. cfg and origins must outlive the server. *out owned by caller,
 * released with ws_stop(). */
ws_err ws_start(const struct cfg *cfg, const struct guard_origins *origins,
                ws_greeting_fn greeting, void *greeting_user, ws_server **out);

/* The bound port (useful when cfg->wss.port was 0). */
unsigned short ws_port(const ws_server *s);

/* Thread-safe; copies json. Queued for every connected client; a client that falls too far
 * behind is disconnected rather than letting memory grow without bound. */
void ws_broadcast(ws_server *s, const char *json);

/* Number of connected clients (for /health). Thread-safe. */
unsigned ws_client_count(ws_server *s);

/* Stops the thread, closes every connection, frees everything. NULL is fine. */
void ws_stop(ws_server *s);

#endif
