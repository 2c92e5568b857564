/* session.h — login sessions: bearer tokens handed out after PIN1 + proof of card possession,
 * each bound to one card id and one Origin, valid 15 minutes (monotonic clock), and
 * revoked at once when their card is removed.
 * The store keeps only SHA-256(token), never the token, and compares in constant time. All
 * functions are thread-safe. Tokens must never be logged: use session_tag() for a log handle. */
#ifndef SITHS_SESSION_H
#define SITHS_SESSION_H

#include <stddef.h>
#include <stdint.h>

/* 32 random bytes (256 bits) in unpadded base64url. */
#define SESSION_TOKEN_BYTES 32
#define SESSION_TOKEN_LEN 43
/* 8 hex digits of SHA-256(token): enough to correlate log lines, useless to an attacker. */
#define SESSION_TAG_LEN 8
#define SESSION_LIFETIME_MS (15u * 60u * 1000u)
/* Live sessions at most; when full the oldest is dropped (a page on localhost needs a handful). */
#define SESSION_MAX 256

typedef enum {
	SESSION_OK = 0,
	SESSION_E_NOMEM,
	SESSION_E_RANDOM, /* the CSPRNG failed: no token is better than a weak one */
	SESSION_E_ARG,    /* NULL, empty or over-long card id / origin */
} session_err;

const char *session_strerror(session_err e);

/* Result of checking a presented token against the card and Origin of a request. */
enum session_status {
	SESSION_VALID = 0,
	SESSION_MISSING,    /* no token, malformed, unknown, logged out or revoked (card removed) */
	SESSION_EXPIRED,    /* known but older than SESSION_LIFETIME_MS */
	SESSION_WRONG_CARD, /* valid, but issued for another card */
	SESSION_WRONG_ORIGIN, /* valid, but issued to another Origin */
};

/* "valid", "missing", "expired", "wrong_card", "wrong_origin". Never NULL. */
const char *session_status_str(enum session_status s);

/* Milliseconds of a monotonic clock; injectable so tests can age sessions without sleeping. */
typedef uint64_t (*session_clock_fn)(void *user);

struct session_store;

/* clock NULL = CLOCK_MONOTONIC. *out is owned by the caller: session_store_free(). */
session_err session_store_new(session_clock_fn clock, void *clock_user, struct session_store **out);
void session_store_free(struct session_store *s);

/* Creates a session for card_id and origin (both copied) and writes its token, NUL-terminated,
 * into token_out. The token is the caller's secret to hand to the client once. */
session_err session_create(struct session_store *s, const char *card_id, const char *origin,
			   char token_out[SESSION_TOKEN_LEN + 1]);

/* Checks token (may be NULL) for a request on card_id coming from origin. An expired session
 * is reported once as SESSION_EXPIRED and then forgotten. */
enum session_status session_check(struct session_store *s, const char *token, const char *card_id,
				  const char *origin);

/* Forgets one session whatever it is bound to. Returns 1 if it existed, else 0. */
int session_revoke(struct session_store *s, const char *token);

/* Logout: checks token exactly like session_check() and, only when that says SESSION_VALID,
 * forgets the session in the same locked step (a session of another card or Origin is left
 * alone: nobody ends someone else's login). Returns the check's result. */
enum session_status session_end(struct session_store *s, const char *token, const char *card_id,
				const char *origin);

/* Forgets every session of card_id (the card was removed). Returns how many. */
size_t session_revoke_card(struct session_store *s, const char *card_id);

/* Live (unexpired) sessions, for /health and tests. */
size_t session_count(struct session_store *s);

/* Milliseconds from now until the last live session expires; 0 when there is none. */
uint64_t session_busy_ms(struct session_store *s);

/* fn(user) is called, without the store's lock, whenever sessions end before they expire
 * (logout, revocation, their card removed), so a waiter on session_busy_ms() can ask again.
 * fn NULL: none. user is borrowed. */
void session_store_on_end(struct session_store *s, void (*fn)(void *user), void *user);

/* Short non-reversible tag of a token for logs. token may be NULL ("-"). */
void session_tag(const char *token, char out[SESSION_TAG_LEN + 1]);

#endif
