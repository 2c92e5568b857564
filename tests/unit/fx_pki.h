/* fx_pki.h — test fixture for the issue-4 unit tests: RSA keys and SITHS-like certificates made
 * with the OpenSSL API, a software "card" signer, temp files. Failures abort the test (cmocka
 * assertions inside). Every returned object is owned by the caller unless noted. */
#ifndef SITHS_FX_PKI_H
#define SITHS_FX_PKI_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define FX_POLICY_L3 "2.999.752.1.3"
#define FX_HSA_ID "TSTNMT2321000156-10XK"
#define FX_UPN "osa@test.se"
#define FX_EMAIL "cathrine.andersson@inera.se"
#define FX_ROOT_CN "TEST SITHS e-id Root CA v2"
#define FX_PERSON_CA_CN "TEST SITHS e-id Person HSA-id 3 CA v1"

/* Key number i of a lazily generated pool of RSA-2048 keys (keygen is slow under ASan); the
 * same i gives the same key. Returns a new reference. fx_pool_free() at the end of a test run. */
EVP_PKEY *fx_key(int i);
void fx_pool_free(void);
/* A cmocka group teardown that only calls fx_pool_free(). */
int fx_pki_teardown(void **state);

struct fx_cert {
	const char *cn;            /* required */
	const char *hsa_id;        /* subject serialNumber; NULL = none */
	const char *given, *surname, *org; /* optional subject parts */
	const char *upn, *email;   /* SAN entries; NULL = none */
	const char *policy;        /* certificatePolicies OID; NULL = none */
	const char *key_usage;     /* X509V3 conf value, e.g. "critical,nonRepudiation"; NULL = none */
	bool ca;                   /* basicConstraints CA:TRUE (else CA:FALSE) */
	long from_days, to_days;   /* validity relative to now (to_days 0 = +365) */
	EVP_PKEY *key;             /* subject key (required) */
	X509 *issuer;              /* NULL = self-signed */
	EVP_PKEY *issuer_key;      /* NULL = key (self-signed) */
};
X509 *fx_make_cert(const struct fx_cert *o);

/* A SITHS-like CA certificate (Inera AB, keyCertSign + cRLSign, ten years) for key: self-signed
 * root if issuer is NULL, else issued by issuer/issuer_key with the level-3 policy. */
X509 *fx_ca_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key);

/* A SITHS-like authentication certificate for key, issued by ca/ca_key (FX_* identity). */
X509 *fx_auth_cert(EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key);

/* The software card: signs a DigestInfo with PKCS#1 v1.5 using the EVP_PKEY in user. Matches
 * csr_sign_fn. Counts calls in fx_sign_calls. */
extern int fx_sign_calls;
int fx_soft_sign(void *user, const unsigned char *di, size_t di_len, unsigned char *sig,
		 size_t sig_cap, size_t *sig_len);

/* A fresh private directory under $TMPDIR (or /tmp); caller frees the string (not the dir). */
char *fx_tmpdir(void);
void fx_write_file(const char *path, const void *data, size_t len);
void fx_write_cert_pem(const char *path, X509 *x);
void fx_write_key_pem(const char *path, EVP_PKEY *k);
/* A PEM certificate or private key read from path; fails the test if unreadable. */
X509 *fx_read_cert_pem(const char *path);
EVP_PKEY *fx_read_key_pem(const char *path);
/* Runs a shell command and returns its exit status (0 = success). */
int fx_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
