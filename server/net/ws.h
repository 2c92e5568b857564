/* ws.h — the secure WebSocket listener (libwebsockets, its own service thread) that pushes
 * server → page events as JSON text messages on wss://HOST:PORT/v1/events. It knows no event:
 * messages come from ws_broadcast() and, for a new client, from its greeting: the hello text,
 * then the greeting callback's messages.
 * Any thread may call ws_broadcast(); delivery into the lws loop uses lws_cancel_service(),
 * never polling. A connection whose client socket belongs to a user other than the daemon's euid
 * or cfg->allow_uids (or whose owner cannot be found) is closed before TLS, logged once (peer.h).
 * The certificate and key are checked with tls.h before the listener starts.
 * Host and Origin are checked on the upgrade with guard.h.
 * Refused upgrades get an HTTP status and one log line: 400 a head reqhead.h refuses (duplicated
 * Host/Origin/Content-Length, NUL or control bytes, ...) or a path urlpath.h refuses (judged as
 * sent: wsrx.h), 404 other path or plain HTTP, 421 bad Host, 403 missing/null/foreign Origin,
 * 426 a Sec-WebSocket-Version other than 13, 503 at cfg->ws_max_clients.
 * Clients send no messages: any text or binary message closes that client, 1009 when over
 * cfg->ws_max_message, else 1008, and is wiped from the receive buffer; an unmasked frame closes
 * with 1002, invalid UTF-8 with 1007. Keepalive pings follow cfg->conn_timeout_s. TLS 1.2+ with
 * AEAD ciphers only. */
#ifndef SITHS_WS_H
#define SITHS_WS_H

#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "guard.h"
#include "idle.h"

typedef enum {
	WS_OK = 0,
	WS_E_TLS,  /* certificate/key could not be loaded */
	WS_E_BIND, /* listen failed (address in use, not loopback) */
	WS_E_NOMEM,
	WS_E_THREAD,
} ws_err;

const char *ws_strerror(ws_err e);

typedef struct ws_server ws_server;

/* Queues msg (borrowed), a JSON object with a string "type", as the next message to the client
 * being greeted; a message without a "type" is logged and not sent. */
typedef void (*ws_json_fn)(void *to, const json_t *msg);
/* Called in the lws thread for each new client, after the hello and before any broadcast reaches
 * it: sends its next messages, one send(to, msg) each. */
typedef void (*ws_greeting_fn)(void *user, ws_json_fn send, void *to);

/* What a new client gets first. */
struct ws_greeting {
	const char *hello; /* the first message's text (copied by ws_start); NULL: none */
	ws_greeting_fn fn; /* then these; NULL: none */
	void *user;
};

/* Where the listener's connections come from, and who hears of its clients. */
struct ws_source {
	int fd; /* an inherited listening TCP socket (activation.h), owned by ws_start from
	                    * the call on, also when it fails; -1: bind cfg->wss */
	struct idle *idle; /* held while a client is connected; NULL: none */
};

/* Starts the listener thread. cfg, origins, greeting->user and src->idle must outlive the
 * server. *out owned by caller, released with ws_stop(). */
ws_err ws_start(const struct cfg *cfg, const struct guard_origins *origins,
		const struct ws_greeting *greeting, const struct ws_source *src, ws_server **out);

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
