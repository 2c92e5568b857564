/* digestinfo.h — the DER DigestInfo { sha256, SHA-256(data) } that a card signs with RSA PKCS#1
 * v1.5 (PSO COMPUTE DIGITAL SIGNATURE / INTERNAL AUTHENTICATE take it as their input): shared
 * by the card-signed CSR, the login proof of possession and the card-held key of cardkey.h. No allocation, no state. */
#ifndef SITHS_DIGESTINFO_H
#define SITHS_DIGESTINFO_H

#include <stdbool.h>
#include <stddef.h>

#define DIGESTINFO_SHA256_LEN 51 /* 19-byte AlgorithmIdentifier/OCTET STRING header + 32 */

/* The parts are hashed in order as one message (a NULL part with length 0 is skipped).
 * Returns false only on an OpenSSL failure. */
bool digestinfo_sha256(const void *a, size_t a_len, const void *b, size_t b_len,
		       unsigned char out[DIGESTINFO_SHA256_LEN]);

/* The DigestInfo of md, a SHA-256 hash made elsewhere (OpenSSL's own signing hands a key the
 * hash). Returns false only on an OpenSSL failure. */
bool digestinfo_of_sha256(const unsigned char md[32], unsigned char out[DIGESTINFO_SHA256_LEN]);

#endif
