/* cardkey.h — a key OpenSSL can sign with whose private half stays on the card: an RSA EVP_PKEY
 * with the public key of the card's certificate, whose every private operation is a PKCS#1 v1.5
 * signature over a SHA-256 DigestInfo made by an external signer (the card, through the job's
 * card session). For OpenSSL's own signing, where no DigestInfo can be handed over by hand: CMP
 * message protection with the authentication key. Anything else (PSS, decryption, another
 * digest) is refused. Each signature is checked with the public key before OpenSSL gets it.
 * Ownership: the caller frees the key (EVP_PKEY_free); sign and user are borrowed and must
 * outlive every use of the key. */
#ifndef SITHS_CARDKEY_H
#define SITHS_CARDKEY_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "csr.h"

typedef enum {
	CARDKEY_OK = 0,
	CARDKEY_E_NOMEM,
	CARDKEY_E_ARG, /* NULL argument */
	CARDKEY_E_KEY, /* the certificate's key is not RSA of at least CSR_MIN_RSA_BITS */
} cardkey_err;

const char *cardkey_strerror(cardkey_err e);

/* A key for cert's public key whose signatures come from sign(user, …). */
cardkey_err cardkey_new(const X509 *cert, csr_sign_fn sign, void *user, EVP_PKEY **out);

#endif
