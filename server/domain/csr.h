/* csr.h — the PKCS#10 certificate request of a download, signed by the card: the request
 * body (subject and subjectAltName copied from the authentication certificate, the public key
 * the card just generated) is hashed here with SHA-256 and only the DigestInfo goes to an
 * external signer (the card's PSO CDS, PKCS#1 v1.5). The result is checked with the public
 * key before it is returned, so a wrong signature never leaves this module.
 * RSA only (SITHS cards are RSA), at least 2048 bits. */
#ifndef SITHS_CSR_H
#define SITHS_CSR_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CSR_MIN_RSA_BITS 2048

typedef enum {
	CSR_OK = 0,
	CSR_E_NOMEM,
	CSR_E_ARG,       /* NULL argument */
	CSR_E_AUTH_CERT, /* the authentication certificate has no subject or a malformed SAN */
	CSR_E_KEY, /* the public key is not RSA, too small, or the modulus/exponent is malformed */
	CSR_E_SIGNER,    /* the signer callback failed (its own detail stays in its user data) */
	CSR_E_SIGNATURE, /* the signature does not verify with the public key (wrong key, garbage) */
	CSR_E_OPENSSL,   /* an unexpected OpenSSL failure */
} csr_err;

const char *csr_strerror(csr_err e);

/* Signs digest_info (DER DigestInfo, SHA-256) with PKCS#1 v1.5 using the new key. Writes at
 * most sig_cap bytes (= the modulus size) to sig and their count to *sig_len. Returns 0 on
 * success; any other value makes csr_build fail with CSR_E_SIGNER. The callback must not keep
 * the pointers. A card signer records its card_err in its user data. */
typedef int (*csr_sign_fn)(void *user, const unsigned char *digest_info, size_t di_len,
			   unsigned char *sig, size_t sig_cap, size_t *sig_len);

/* The RSA public key from the card's GENERATE response (big-endian modulus and exponent,
 * leading zeros allowed). *out is owned by the caller (EVP_PKEY_free). */
csr_err csr_rsa_pubkey(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
		       EVP_PKEY **out);

/* Builds the request for pub with subject and SAN of auth_cert, requests keyUsage
 * nonRepudiation, signs through sign(user, …), verifies, and returns the DER in *der
 * (*der_len bytes, owned by the caller: OPENSSL_free). Nothing is returned on error. */
csr_err csr_build(const X509 *auth_cert, EVP_PKEY *pub, csr_sign_fn sign, void *user,
		  unsigned char **der, size_t *der_len);

#endif
