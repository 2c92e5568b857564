/* proof.h — login proof of card possession: after VERIFY PIN1 the daemon sends a fresh
 * random challenge, the card signs its DigestInfo with the authentication key (PKCS#1 v1.5, via
 * INTERNAL AUTHENTICATE or PSO CDS), and the signature is verified against the public key of
 * the card's authentication certificate. The signed message is a fixed label followed by the
 * challenge, so a login signature can never double as a signature over a document hash.
 * Stateless and thread-safe; all buffers belong to the caller. proof_login() runs it on a card. */
#ifndef SITHS_PROOF_H
#define SITHS_PROOF_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "card.h"
#include "digestinfo.h"

#define PROOF_CHALLENGE_LEN 32
#define PROOF_LABEL "siths-bridge login proof v1"

typedef enum {
	PROOF_OK = 0,
	PROOF_E_ARG,       /* NULL or a challenge of the wrong length */
	PROOF_E_RANDOM,    /* the CSPRNG failed */
	PROOF_E_KEY,       /* the authentication certificate has no usable RSA (>= 2048) key */
	PROOF_E_SIGNATURE, /* the card's answer does not verify: not this card, or a wrong key */
	PROOF_E_OPENSSL,
} proof_err;

const char *proof_strerror(proof_err e);

/* A fresh challenge (PROOF_CHALLENGE_LEN random bytes). */
proof_err proof_challenge(unsigned char out[PROOF_CHALLENGE_LEN]);

/* What the card must sign for challenge: DigestInfo(SHA-256(PROOF_LABEL || challenge)). */
proof_err proof_digest_info(const unsigned char challenge[PROOF_CHALLENGE_LEN],
			    unsigned char out[DIGESTINFO_SHA256_LEN]);

/* Checks the card's signature over the challenge with auth_cert's public key. */
proof_err proof_verify(const X509 *auth_cert, const unsigned char challenge[PROOF_CHALLENGE_LEN],
		       const unsigned char *sig, size_t sig_len);

/* What a login's card work found besides its card_err. */
struct proof_outcome {
	int tries_left;    /* PIN1 tries after a wrong PIN; -1 = unknown */
	bool proof_failed; /* the PIN was right but the card's signature did not verify */
};

/* A login's card work, in one card session on card_id (card_with_card): VERIFY PIN1 with pin,
 * then the card signs a fresh challenge with its authentication key and the signature is checked
 * against the card's authentication certificate. pin (strlen(pin) bytes) is wiped in every case.
 * CARD_OK when the card proved possession; the errors of card_verify_pin (with o->tries_left) and
 * card_with_card; CARD_E_BAD_DATA with o->proof_failed when the signature did not verify. */
card_err proof_login(card_core *core, const char *card_id, char *pin, struct proof_outcome *o);

#endif
