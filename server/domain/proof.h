/* proof.h — login proof of card possession (issue 4): after VERIFY PIN1 the daemon sends a fresh
 * random challenge, the card signs its DigestInfo with the authentication key (PKCS#1 v1.5, via
 * INTERNAL AUTHENTICATE or PSO CDS), and the signature is verified against the public key of
 * the card's authentication certificate. The signed message is a fixed label followed by the
 * challenge, so a login signature can never double as a signature over a document hash.
 * Stateless and thread-safe; all buffers belong to the caller. */
#ifndef SITHS_PROOF_H
#define SITHS_PROOF_H

#include <stddef.h>

#include <openssl/x509.h>

#include "digestinfo.h"

#define PROOF_CHALLENGE_LEN 32
#define PROOF_LABEL "siths-bridge login proof v1"

typedef enum {
	PROOF_OK = 0,
	PROOF_E_ARG,        /* NULL or a challenge of the wrong length */
	PROOF_E_RANDOM,     /* the CSPRNG failed */
	PROOF_E_KEY,        /* the authentication certificate has no usable RSA (>= 2048) key */
	PROOF_E_SIGNATURE,  /* the card's answer does not verify: not this card, or a wrong key */
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

#endif
