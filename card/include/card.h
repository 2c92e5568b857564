/* card.h — the card core's facade, the whole contract between card/ and the server: start/stop
 * the core (PC/SC monitor thread + SITHS reader), card events, snapshots of readers and cards,
 * health, and work on one card through a session (PIN, keys, signature certificate).
 * Threads: events are delivered on the core's monitor thread; every other function is
 * thread-safe. Snapshots are deep copies owned by the caller (free with card_snapshot_free). */
#ifndef SITHS_CARD_H
#define SITHS_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "model.h"

typedef struct card_core card_core;

enum card_event_kind {
	CARD_EV_PCSC_UP,   /* pcscd reachable (again) */
	CARD_EV_PCSC_DOWN, /* pcscd gone: readers and cards were removed before this event */
	CARD_EV_READER_ADDED,
	CARD_EV_READER_REMOVED,
	CARD_EV_CARD_INSERTED, /* card: the model just read (possibly with status error) */
	CARD_EV_CARD_REMOVED,  /* card: the last model of the card that went */
	CARD_EV_CARD_UPDATED,  /* card: the model brought up to date after card_with_card() */
	/* Once after each CARD_EV_PCSC_UP: every reader pcscd listed then has been reported, and
	 * every card in one of them read (CARD_EV_CARD_INSERTED) — the snapshot is complete. */
	CARD_EV_READERS_SCANNED,
};

/* For CARD_EV_PCSC_UP: what made the core try pcscd (again). */
enum card_pcsc_trigger {
	CARD_PCSC_FIRST,  /* the first try after start, or right after pcscd went */
	CARD_PCSC_SOCKET, /* pcscd's socket appeared */
	CARD_PCSC_TIMER,  /* the back-off timer, for a socket that could not be watched */
};

struct card_health {
	bool pcsc_up;
	size_t readers, cards;
};

struct card_event {
	enum card_event_kind kind;
	const struct card_reader *reader;  /* always set except for PCSC_UP/DOWN, READERS_SCANNED */
	const struct card_model *card;     /* for CARD_* events */
	enum card_pcsc_trigger pcsc_woken; /* for CARD_EV_PCSC_UP */
	struct card_health scanned;        /* for CARD_EV_READERS_SCANNED: what was found */
};

/* Called on the monitor thread (or the thread of card_with_card for CARD_UPDATED); the pointers
 * are valid only during the call. Must not call card_core_stop(). */
typedef void (*card_event_fn)(const struct card_event *ev, void *user);

/* Starts the core: a monitor thread that connects to pcscd (again as soon as its socket
 * appears when it is not there, a back-off timer as the safety net), lists readers, reads every card that appears and reports events. Returns
 * CARD_OK even when pcscd is down (that is an event, not an error). *out is owned by the caller
 * and released with card_core_stop(). */
card_err card_core_start(card_event_fn fn, void *user, card_core **out);

/* Stops the monitor thread (SCardCancel), frees everything. NULL is fine. */
void card_core_stop(card_core *core);

struct card_snapshot {
	struct card_reader *readers;
	size_t n_readers;
	struct card_model *cards;
	size_t n_cards;
	bool pcsc_up;
};

/* Deep copy of the current readers and cards (cards in reader order). No card I/O. */
card_err card_snapshot_get(card_core *core, struct card_snapshot *out);
void card_snapshot_free(struct card_snapshot *s);

/* One card by id into *out (a copy). CARD_E_NO_CARD if there is no such card. */
card_err card_get(card_core *core, const char *id, struct card_model *out);

void card_health_get(card_core *core, struct card_health *out);

/* ---- work on one card ----
 * card_with_card() runs fn with exclusive use of card `id`: one piece of work per card at a
 * time (CARD_E_BUSY for another meanwhile), inside a PC/SC transaction on a connection of the
 * caller's thread. The session passed to fn is valid during the call only; its first APDU is
 * the SELECT of the card's application — the PKCS#15 layout the operations need was read with
 * the model when the card was inserted. Afterwards the card is reset (no verified PIN outlives
 * the work), the model is brought up to date in the same transaction — read again whole after
 * work that may have changed the card (a key generated, a file written, a code changed) unless
 * it accounts for every change itself (a signature certificate written, read back and committed
 * for the key it generated: taken as written), else only the counters of the PINs it used, from
 * the card's answers and, for a PIN verified before this card told its full counter, one empty
 * VERIFY — and CARD_EV_CARD_UPDATED is emitted.
 * Nothing is ever retried: fn may have sent a PIN. */
typedef struct card_session card_session;
typedef card_err (*card_work_fn)(card_session *s, const struct card_model *m, void *user);
card_err card_with_card(card_core *core, const char *id, card_work_fn fn, void *user);

/* The same in two steps, for work that starts later on another thread (a download job): the
 * claim makes card `id` busy at once (CARD_E_BUSY if it already is); card_claim_run() does the
 * work as card_with_card() and ends the claim, card_claim_drop() ends it without work. Either
 * frees the claim; NULL is fine for drop. */
typedef struct card_claim card_claim;
card_err card_claim_get(card_core *core, const char *id, card_claim **out);
card_err card_claim_run(card_claim *cl, card_work_fn fn, void *user);
void card_claim_drop(card_claim *cl);

/* True when e, the outcome of work on card `id`, means the card went away: at once for the
 * errors of a missing card, reader or pcscd and for a reset; for a transport failure or an
 * unexpected status word (a card pulled mid-APDU often shows so first) once the monitor sees
 * the card gone, waiting at most 3 s for its removal event. No card I/O. */
bool card_gone(card_core *core, const char *id, card_err e);

/* ---- the session's operations (inside card_with_card only) ---- */

enum card_pin_which { CARD_PIN1, CARD_PIN2 };   /* authentication, signature code (model pin1/2) */
enum card_key { CARD_KEY_AUTH, CARD_KEY_SIGN }; /* the authentication, the signing key */

/* True when pin is only ASCII digits and its length is within the card's min/max for p (max
 * not stated = 8, the SITHS length). No card I/O: check every code — a PIN, a new PIN (against
 * the PIN it is for), a PUK (against m->puk) — before card_with_card(), so that a malformed one
 * never costs a try. */
bool card_pin_format_ok(const struct card_pin *p, const char *pin);

/* The PIN calls below send each command once and never again, whatever comes back. Every code
 * passed in (strlen bytes) and every copy made here are wiped with OPENSSL_cleanse before they
 * return, whatever the outcome; the caller wipes its own copies. tries_left may be NULL (not for
 * card_pin_status); it is -1 when the card did not say. Common outcomes:
 *   CARD_E_PIN_FORMAT        a code fails card_pin_format_ok (nothing sent), or the card's 6A80
 *   CARD_E_NOT_SUPPORTED     the AODF forbids the command (change-/unblock-disabled) or uses a
 *                            PIN type this core does not encode (nothing sent)
 *   CARD_E_REMOVED, _COMM, … the card went during the command: it holds either the old or the
 *                            new code, never a mixture; the model read at its reinsertion tells
 *                            which (card_pin.last_change moved: the new one).
 * After card_with_card() the model is read again (CARD_EV_CARD_UPDATED) with the new counters,
 * states and last_change of PIN1, PIN2 and the PUK. */

/* The PIN's counter from an empty VERIFY (no PIN is sent): CARD_OK with *tries_left (-1 when
 * the card does not say), CARD_E_PIN_BLOCKED (tries 0) when it is blocked,
 * CARD_E_PIN_NOT_ACTIVATED (tries -1) when it still holds its letter's value. */
card_err card_pin_status(card_session *s, enum card_pin_which which, int *tries_left);

/* VERIFY with pin: CARD_OK (verified in this session), CARD_E_PIN_WRONG with *tries_left,
 * CARD_E_PIN_BLOCKED (tries 0), CARD_E_PIN_NOT_ACTIVATED (not compared, no try used:
 * card_activate_pin first). */
card_err card_verify_pin(card_session *s, enum card_pin_which which, char *pin, int *tries_left);

/* CHANGE REFERENCE DATA (ISO 7816-4, P1 00): old_pin then new_pin in one APDU, each encoded as
 * the AODF says (reference, padding). CARD_OK: new_pin holds, its counter at the maximum
 * (whether it also counts as verified in this session is the card's affair: VERIFY it before
 * use); CARD_E_PIN_WRONG with *tries_left: old_pin was wrong, one try used, nothing
 * changed; CARD_E_PIN_BLOCKED (tries 0): blocked before or by this try — card_unblock_pin.
 * On a PIN that is not activated, old_pin is the letter's value and this activates it. */
card_err card_change_pin(card_session *s, enum card_pin_which which, char *old_pin, char *new_pin,
			 int *tries_left);

/* RESET RETRY COUNTER (ISO 7816-4, P1 00) with the PUK (model m->puk, the rules of its AODF
 * entry) then new_pin: unblocks the PIN and sets it. CARD_OK: new_pin holds, the PIN's counter
 * and the PUK's are at their maximum (not verified: the holder presents it next);
 * CARD_E_PIN_WRONG with *tries_left = the PUK's tries left: the PUK was wrong, one PUK try used;
 * CARD_E_PUK_BLOCKED (tries 0): the PUK is blocked, before or by this try — final, the card
 * must be replaced. Works on a blocked PIN, an unblocked one and one not yet activated. */
card_err card_unblock_pin(card_session *s, enum card_pin_which which, char *puk, char *new_pin,
			  int *tries_left);

/* Activates a PIN that still holds its letter's value (model activated false: a reserve card's
 * PIN2 when the letter holds two codes, whose security code = the login code): pin, the code the
 * holder entered, becomes that PIN for good — CHANGE REFERENCE DATA with pin as the old (the
 * letter's) and the new value — and is then VERIFYed, so that on CARD_OK the PIN is verified in
 * this session as after card_verify_pin (the download job goes on to GENERATE). Outcomes as
 * card_change_pin; a PIN status word to the VERIFY after an accepted change is the card's fault
 * (CARD_E_CARD_ERROR). On an activated PIN it changes the code to itself. */
card_err card_activate_pin(card_session *s, enum card_pin_which which, char *pin, int *tries_left);

/* The card signs di (a DER DigestInfo, at most 255 bytes; PKCS#1 v1.5 on the card) with key:
 * CARD_KEY_AUTH by INTERNAL AUTHENTICATE (the proof of possession of a login), CARD_KEY_SIGN by
 * PSO COMPUTE DIGITAL SIGNATURE. The signature goes to sig (cap bytes), its length to *sig_len.
 * Needs the key's PIN verified. A PIN status word here is the card's fault, not the user's
 * (the PIN was accepted): CARD_E_CARD_ERROR, as for the other operations below. */
card_err card_sign(card_session *s, enum card_key key, const uint8_t *di, size_t n, uint8_t *sig,
		   size_t cap, size_t *sig_len);

#define CARD_MAX_MODULUS 512 /* 4096-bit RSA */
#define CARD_MAX_EXPONENT 8

/* An RSA public key as the card gives it: big-endian, without leading zeros. */
struct card_pubkey {
	uint8_t n[CARD_MAX_MODULUS];
	size_t n_len;
	uint8_t e[CARD_MAX_EXPONENT];
	size_t e_len;
};

/* GENERATE ASYMMETRIC KEY PAIR for the signing key (PIN2 verified): the new public key. The old
 * key is gone, so a signature certificate on the card no longer matches it. */
card_err card_generate_sign_key(card_session *s, struct card_pubkey *out);

/* Progress of a write: done of total bytes of the certificate written so far. */
typedef void (*card_progress_fn)(size_t done, size_t total, void *user);

/* Writes the signature certificate (der, n bytes; PIN2 verified): an old CDF entry is withdrawn
 * first, the certificate written in chunks (fn after each, may be NULL), read back and
 * compared (CARD_E_BAD_DATA on a difference), then the CDF entry in one APDU: the commit point,
 * so a card pulled half-way shows no certificate (docs/virtual-card.md). *commit_sent is set
 * true once that APDU has gone to the card, whatever came back (false before it; may be
 * NULL): after a failure with it true the card may hold the certificate, and the model read
 * when it is inserted again tells (card_cert_certifies). */
card_err card_write_sign_cert(card_session *s, const uint8_t *der, size_t n, card_progress_fn fn,
			      void *user, bool *commit_sent);

/* True when ci, a certificate of a card model (m->sign, m->auth), certifies key k: the model's
 * key_id is k's. A model read after a key generation that shows a certificate for the new key
 * was read after that certificate was written. No card I/O. */
bool card_cert_certifies(const struct card_cert_info *ci, const struct card_pubkey *k);

/* The authentication certificate as the card holds it (DER, untrusted: parse it): *der is
 * borrowed from the session, valid until fn returns. No card I/O. */
card_err card_auth_cert(card_session *s, const uint8_t **der, size_t *len);

#endif
