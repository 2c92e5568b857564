/* ops.h — the card operations the session (session.c) runs inside card_with_card(): the PIN
 * commands VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER (codes checked against and
 * encoded as the AODF says before anything is sent, each command sent once and never retried,
 * every code wiped after use), signatures with the authentication or signing key, GENERATE
 * ASYMMETRIC KEY PAIR for the signing key, and writing the signature certificate with the CDF
 * entry as the commit point (docs/virtual-card.md). Every card answer is untrusted. No
 * allocation outlives a call. The types shared with the session's callers are card.h's. */
#ifndef SITHS_OPS_H
#define SITHS_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu.h"
#include "card.h"
#include "siths.h"

/* True when pin is only ASCII digits and its length is within the AODF's min/max (max 0 = 8,
 * the SITHS length). Checked before any APDU: a malformed PIN must not cost a try. */
bool ops_pin_format_ok(const struct card_pin *p, const char *pin);

/* The PIN commands. Every code passed in (strlen bytes) and every copy made here are wiped with
 * OPENSSL_cleanse before returning, whatever the outcome; the caller still wipes its own copies.
 * Codes are checked against their PIN's rules first: CARD_E_WRONG_DATA when one breaks them,
 * CARD_E_NOT_SUPPORTED for a PIN the card does not let change/unblock (AODF flags) or a PIN type
 * this core does not encode (BCD) — nothing sent in either case. Then one APDU (P1 00: every
 * code in its data), whose answer maps: 63Cx → CARD_E_PIN_WRONG with *tries_left, 6983 / 63C0 →
 * CARD_E_PIN_BLOCKED (tries 0), 6984 → CARD_E_PIN_NOT_ACTIVATED, 6A80 → CARD_E_WRONG_DATA.
 * tries_left may be NULL; -1 when the card did not say. */

/* VERIFY p->ref with pin. */
card_err ops_verify(const struct apdu_transport *t, const struct siths_pin *p, char *pin,
		    int *tries_left);

/* CHANGE REFERENCE DATA p->ref: old_pin then new_pin. */
card_err ops_change(const struct apdu_transport *t, const struct siths_pin *p, char *old_pin,
		    char *new_pin, int *tries_left);

/* RESET RETRY COUNTER p->ref: the PUK (puk's rules) then new_pin. The counter and a blocked
 * status are the PUK's: CARD_E_PIN_WRONG with the PUK's tries left, CARD_E_PUK_BLOCKED. */
card_err ops_unblock(const struct apdu_transport *t, const struct siths_pin *p,
		     const struct siths_pin *puk, char *puk_code, char *new_pin, int *tries_left);

/* The PIN in the transport state takes pin for good: CHANGE REFERENCE DATA with pin as the old
 * value (the letter's) and as the new one, then VERIFY with it, so that on CARD_OK it is verified
 * as after ops_verify. A PIN status word to that VERIFY is the card's fault (CARD_E_CARD_ERROR):
 * the card has just taken the code. */
card_err ops_activate(const struct apdu_transport *t, const struct siths_pin *p, char *pin,
		      int *tries_left);

/* The card signs data (a DigestInfo, PKCS#1 v1.5 on the card) with key key_ref: CARD_KEY_AUTH
 * by MSE SET AT + INTERNAL AUTHENTICATE (the login proof), CARD_KEY_SIGN by MSE SET DST + PSO
 * COMPUTE DIGITAL SIGNATURE (the CSR); the signature goes to sig (cap bytes), its length to
 * *sig_len. */
card_err ops_sign(const struct apdu_transport *t, enum card_key use, uint8_t key_ref,
		  const uint8_t *data, size_t n, uint8_t *sig, size_t cap, size_t *sig_len);

/* Parses a GENERATE response 7F49 { 81 modulus, 82 exponent } (untrusted; CARD_E_BAD_DATA
 * when malformed, empty or too large). */
card_err ops_parse_pubkey(const uint8_t *p, size_t n, struct card_pubkey *out);

/* GENERATE ASYMMETRIC KEY PAIR for key_ref (needs its PIN verified); the new public key. */
card_err ops_generate(const struct apdu_transport *t, uint8_t key_ref, struct card_pubkey *out);

/* The CDF entry for a signature certificate of cert_len bytes at l->sign_cert, as in
 * docs/virtual-card.md. CARD_E_INTERNAL if it does not fit cap. */
card_err ops_cdf_entry(const struct siths_layout *l, size_t cert_len, uint8_t *out, size_t cap,
		       size_t *len);

/* Where the new entry goes in a CDF: *end = the end of the entries that stay (walking the
 * top-level SEQUENCEs, stopping at padding or at the entry of the signing key's certificate),
 * *old = offset of that old entry, or SIZE_MAX when there is none, *old_len its length (0 when
 * none). CARD_E_BAD_DATA when the CDF is malformed. */
card_err ops_cdf_slot(const struct siths_layout *l, const uint8_t *cdf, size_t n, size_t *end,
		      size_t *old, size_t *old_len);

/* Writes the signature certificate (PIN2 verified): withdraw an old CDF entry (zeroed whole, in
 * one APDU, so the CDF stays well-formed padding for every parser), UPDATE BINARY
 * the certificate in chunks (progress after each), read it back and compare (CARD_E_BAD_DATA
 * on a difference), then the CDF entry in one APDU — the commit point; *commit_sent (not NULL)
 * is false until that APDU is sent, true from then on whatever the card answers. */
card_err ops_write_sign_cert(const struct apdu_transport *t, const struct siths_layout *l,
			     const uint8_t *der, size_t n, card_progress_fn fn, void *user,
			     bool *commit_sent);

#endif
