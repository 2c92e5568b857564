/* certcheck.h — validation of a freshly issued signature certificate, before anything is
 * written to the card: it must be for the key the card just generated, carry the
 * HSA-id of the authentication certificate, be for nonRepudiation and not a CA, be valid now,
 * and chain to the configured SITHS trust anchor (the issuer's chain supplies intermediates only).
 * Each refusal has its own error. The trust object is immutable once built and may be shared
 * between threads; the caller owns it (certcheck_trust_free). Inputs are borrowed. */
#ifndef SITHS_CERTCHECK_H
#define SITHS_CERTCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CERTCHECK_MAX_CHAIN 8 /* more intermediates than this is not SITHS */

typedef enum {
	CERTCHECK_OK = 0,
	CERTCHECK_E_NOMEM,
	CERTCHECK_E_ARG,          /* NULL argument */
	CERTCHECK_E_TRUST,        /* trust anchor file unreadable, empty or not a CA certificate */
	CERTCHECK_E_MALFORMED,    /* the certificate has no usable key, times or extensions */
	CERTCHECK_E_KEY_MISMATCH, /* public key is not the one the card generated */
	CERTCHECK_E_AUTH_CERT,    /* the authentication certificate has no HSA-id to compare with */
	CERTCHECK_E_HSA_ID,       /* subject serialNumber (HSA-id) missing or different */
	CERTCHECK_E_KEY_USAGE,    /* no keyUsage nonRepudiation, or certificate-signing usages */
	CERTCHECK_E_IS_CA,        /* basicConstraints CA:TRUE */
	CERTCHECK_E_NOT_YET_VALID,
	CERTCHECK_E_EXPIRED,
	CERTCHECK_E_CHAIN, /* does not chain to the trust anchor (detail says why) */
} certcheck_err;

const char *certcheck_strerror(certcheck_err e);
/* snake_case for JSON job-failed codes, e.g. "certificate_wrong_key". Never NULL. */
const char *certcheck_errcode(certcheck_err e);

struct certcheck_trust;

/* Every certificate in the PEM file becomes a trust anchor (each must be a CA). */
certcheck_err certcheck_trust_load(const char *pem_path, struct certcheck_trust **out);
/* Same from certificates in memory (they are up-referenced, the caller keeps its own). */
certcheck_err certcheck_trust_new(X509 *const *anchors, size_t n, struct certcheck_trust **out);
void certcheck_trust_free(struct certcheck_trust *t);
/* Whether every anchor is a TEST root (its CN starts "TEST ", as Inera names its test hierarchy
 * and certs/test-siths-pki.sh copies): what chains to t is not valid in production. */
bool certcheck_trust_is_test(const struct certcheck_trust *t);

struct certcheck_in {
	X509 *cert;             /* the issued signature certificate */
	STACK_OF(X509) * chain; /* from the issuer: untrusted intermediates; may be NULL */
	EVP_PKEY *card_key;     /* the public key the card generated */
	const X509 *auth_cert;  /* the card's authentication certificate */
	time_t now;             /* 0 = time(NULL); tests pass a fixed time */
};

/* Runs all checks in a fixed order (key, HSA-id, usage, CA, time, chain); the first failure is
 * returned and, if detail is not NULL, described in detail[0..cap). */
certcheck_err certcheck_signature_cert(const struct certcheck_trust *t,
				       const struct certcheck_in *in, char *detail, size_t cap);

#endif
