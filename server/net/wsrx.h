/* wsrx.h — what the WSS listener's clients send, seen as plaintext before libwebsockets parses
 * it. libwebsockets 4.1.6 rewrites the request path while parsing (decodes %xx, folds "//",
 * resolves ".."), so the path the upgrade check gets is not the one sent, and it never looks at
 * the mask bit of client frames (RFC 6455 5.1: a server must close on an unmasked frame). This
 * module keeps, per TLS connection of a marked SSL_CTX, the raw request line of the upgrade and
 * whether any client frame came unmasked. It taps the plaintext by providing SSL_read (see
 * wsrx.c); state lives in the SSL's ex_data and is freed with the SSL. lws thread only. */
#ifndef SITHS_WSRX_H
#define SITHS_WSRX_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/* Longest request line kept; a longer one reads as absent (and is refused). */
#define WSRX_LINE_MAX 1024

typedef enum {
	WSRX_OK = 0,
	WSRX_E_NOMEM,
} wsrx_err;

/* Marks ctx: the connections made from it are watched. Call once per SSL_CTX. */
wsrx_err wsrx_watch_ctx(SSL_CTX *ctx);

/* The request target of the upgrade as sent (between the method and the HTTP version), copied
 * into buf (size bytes, NUL-terminated); false when none was seen or it does not fit. The raw
 * bytes may contain anything, NUL included: *len is their count. */
bool wsrx_request_target(SSL *ssl, char *buf, size_t size, size_t *len);

/* Whether a client frame arrived without the mask bit. */
bool wsrx_unmasked(SSL *ssl);

/* fn(arg) is called (on the lws thread, from inside a read) when the first unmasked frame is
 * seen, so the listener can close even if libwebsockets handles that frame itself (a ping). */
void wsrx_on_unmasked(SSL *ssl, void (*fn)(void *arg), void *arg);

#endif
