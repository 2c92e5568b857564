/* tls.h — the listeners' certificate and key: both files read once into memory (bounded, the key
 * wiped when freed) and checked with OpenSSL — the chain's first certificate parses, the key
 * parses and belongs to it — so that a bad pair is refused with a precise log line before any
 * TLS library sees it. Used by both listeners. Thread-safe (no shared state). */
#ifndef SITHS_TLS_H
#define SITHS_TLS_H

#include <stddef.h>

typedef enum {
	TLS_OK = 0,
	TLS_E_FILE, /* no file configured, unreadable, or over 1 MiB */
	TLS_E_PAIR, /* not PEM, or the key does not belong to the certificate */
} tls_err;

const char *tls_strerror(tls_err e);

/* The pair as PEM text, NUL-terminated. Owned by the caller: tls_pair_free(). */
struct tls_pair {
	char *cert; /* the certificate chain, leaf first */
	size_t cert_len;
	char *key; /* the private key: wiped on free */
	size_t key_len;
};

/* Reads and checks cert_file and key_file (either may be NULL: TLS_E_FILE). On an error one
 * line "certificate CERT / key KEY: why" is logged under component and *out is left empty. */
tls_err tls_pair_load(const char *component, const char *cert_file, const char *key_file,
		      struct tls_pair *out);
void tls_pair_free(struct tls_pair *p); /* wipes and frees; the struct may be reused */

#endif
