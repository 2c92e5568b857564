/* certcheck.c — the last gate before a certificate is written to a card. Cheap local checks
 * come first so the error names the most specific problem; the X509_STORE path validation
 * (trust anchors only in the store, never from the issuer's chain, no partial chains) is last. */
#include "certcheck.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

struct certcheck_trust {
	X509_STORE *store;
};

const char *certcheck_strerror(certcheck_err e)
{
	switch (e) {
	case CERTCHECK_OK: return "ok";
	case CERTCHECK_E_NOMEM: return "out of memory";
	case CERTCHECK_E_ARG: return "invalid argument";
	case CERTCHECK_E_TRUST: return "trust anchor unusable";
	case CERTCHECK_E_MALFORMED: return "issued certificate is malformed";
	case CERTCHECK_E_KEY_MISMATCH:
		return "issued certificate is for another key than the card generated";
	case CERTCHECK_E_AUTH_CERT: return "authentication certificate has no HSA-id";
	case CERTCHECK_E_HSA_ID:
		return "issued certificate has another HSA-id than the authentication certificate";
	case CERTCHECK_E_KEY_USAGE: return "issued certificate is not for nonRepudiation only";
	case CERTCHECK_E_IS_CA: return "issued certificate is a CA certificate";
	case CERTCHECK_E_NOT_YET_VALID: return "issued certificate is not yet valid";
	case CERTCHECK_E_EXPIRED: return "issued certificate has expired";
	case CERTCHECK_E_CHAIN:
		return "issued certificate does not chain to the SITHS trust anchor";
	}
	return "unknown certificate check error";
}

const char *certcheck_errcode(certcheck_err e)
{
	switch (e) {
	case CERTCHECK_OK: return "ok";
	case CERTCHECK_E_NOMEM: return "out_of_memory";
	case CERTCHECK_E_ARG: return "internal";
	case CERTCHECK_E_TRUST: return "trust_anchor";
	case CERTCHECK_E_MALFORMED: return "certificate_malformed";
	case CERTCHECK_E_KEY_MISMATCH: return "certificate_wrong_key";
	case CERTCHECK_E_AUTH_CERT: return "auth_certificate_no_hsa_id";
	case CERTCHECK_E_HSA_ID: return "certificate_wrong_subject";
	case CERTCHECK_E_KEY_USAGE: return "certificate_wrong_key_usage";
	case CERTCHECK_E_IS_CA: return "certificate_is_ca";
	case CERTCHECK_E_NOT_YET_VALID: return "certificate_not_yet_valid";
	case CERTCHECK_E_EXPIRED: return "certificate_expired";
	case CERTCHECK_E_CHAIN: return "certificate_wrong_chain";
	}
	return "internal";
}

static certcheck_err trust_add(struct certcheck_trust *t, X509 *x)
{
	if (X509_check_ca(x) == 0)
		return CERTCHECK_E_TRUST;
	return X509_STORE_add_cert(t->store, x) == 1 ? CERTCHECK_OK : CERTCHECK_E_TRUST;
}

static certcheck_err trust_alloc(struct certcheck_trust **out)
{
	*out = OPENSSL_zalloc(sizeof **out);
	if (*out && ((*out)->store = X509_STORE_new()))
		return CERTCHECK_OK;
	OPENSSL_free(*out);
	*out = NULL;
	return CERTCHECK_E_NOMEM;
}

void certcheck_trust_free(struct certcheck_trust *t)
{
	if (!t)
		return;
	X509_STORE_free(t->store);
	OPENSSL_free(t);
}

certcheck_err certcheck_trust_new(X509 *const *anchors, size_t n, struct certcheck_trust **out)
{
	if (!out || (n && !anchors))
		return CERTCHECK_E_ARG;
	*out = NULL;
	if (n == 0)
		return CERTCHECK_E_TRUST;
	struct certcheck_trust *t;
	certcheck_err rc = trust_alloc(&t);
	for (size_t i = 0; rc == CERTCHECK_OK && i < n; i++)
		rc = anchors[i] ? trust_add(t, anchors[i]) : CERTCHECK_E_ARG;
	if (rc != CERTCHECK_OK)
		certcheck_trust_free(t);
	else
		*out = t;
	return rc;
}

certcheck_err certcheck_trust_load(const char *pem_path, struct certcheck_trust **out)
{
	if (!pem_path || !out)
		return CERTCHECK_E_ARG;
	*out = NULL;
	struct certcheck_trust *t;
	certcheck_err rc = trust_alloc(&t);
	if (rc != CERTCHECK_OK)
		return rc;
	BIO *b = BIO_new_file(pem_path, "r");
	size_t n = 0;
	X509 *x = NULL;
	rc = b ? CERTCHECK_OK : CERTCHECK_E_TRUST;
	while (rc == CERTCHECK_OK && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		rc = trust_add(t, x);
		X509_free(x);
		n++;
	}
	ERR_clear_error(); /* the end of the file is reported as an error by PEM_read */
	BIO_free(b);
	if (rc == CERTCHECK_OK && n == 0)
		rc = CERTCHECK_E_TRUST;
	if (rc != CERTCHECK_OK)
		certcheck_trust_free(t);
	else
		*out = t;
	return rc;
}

bool certcheck_trust_is_test(const struct certcheck_trust *t)
{
	STACK_OF(X509_OBJECT) *objs = t ? X509_STORE_get0_objects(t->store) : NULL;
	int n = 0;
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		char cn[64] = "";
		if (!x)
			continue;
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
		if (strncmp(cn, "TEST ", 5) != 0)
			return false;
		n++;
	}
	return n > 0;
}

/* ---- the checks ------------------------------------------------------------------------------ */

static certcheck_err fail(certcheck_err e, char *detail, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static certcheck_err fail(certcheck_err e, char *detail, size_t cap, const char *fmt, ...)
{
	if (detail && cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, cap, fmt, ap);
		va_end(ap);
	}
	return e;
}

/* The subject serialNumber (HSA-id) as UTF-8, or NULL if absent or repeated. OPENSSL_free. */
static char *hsa_id(const X509 *x)
{
	const X509_NAME *n = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(n, NID_serialNumber, -1);
	if (i < 0 || X509_NAME_get_index_by_NID(n, NID_serialNumber, i) >= 0)
		return NULL;
	unsigned char *utf8 = NULL;
	int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)));
	if (len <= 0 || memchr(utf8, 0, (size_t)len)) { /* an embedded NUL would fake equality */
		OPENSSL_free(utf8);
		return NULL;
	}
	return (char *)utf8;
}

static certcheck_err check_hsa_id(const X509 *cert, const X509 *auth, char *detail, size_t cap)
{
	char *want = hsa_id(auth), *got = hsa_id(cert);
	certcheck_err rc = CERTCHECK_OK;
	if (!want)
		rc = fail(CERTCHECK_E_AUTH_CERT, detail, cap,
			  "authentication certificate has no single HSA-id");
	else if (!got)
		rc = fail(CERTCHECK_E_HSA_ID, detail, cap,
			  "no single HSA-id (subject serialNumber), expected %s", want);
	else if (strcmp(want, got) != 0)
		rc = fail(CERTCHECK_E_HSA_ID, detail, cap, "HSA-id %s, expected %s", got, want);
	OPENSSL_free(want);
	OPENSSL_free(got);
	return rc;
}

static certcheck_err check_usage(X509 *cert, char *detail, size_t cap)
{
	uint32_t flags = X509_get_extension_flags(cert); /* also caches the extensions */
	if (flags & EXFLAG_INVALID)
		return fail(CERTCHECK_E_MALFORMED, detail, cap, "invalid or repeated extensions");
	uint32_t ku = X509_get_key_usage(cert);
	if (!(flags & EXFLAG_KUSAGE) || !(ku & KU_NON_REPUDIATION) ||
	    (ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)))
		return fail(CERTCHECK_E_KEY_USAGE, detail, cap, "keyUsage %s0x%x",
			    flags & EXFLAG_KUSAGE ? "" : "absent, ", (unsigned)(ku & 0xffff));
	if (flags & EXFLAG_CA)
		return fail(CERTCHECK_E_IS_CA, detail, cap, "basicConstraints CA:TRUE");
	return CERTCHECK_OK;
}

static certcheck_err check_time(const X509 *cert, time_t now, char *detail, size_t cap)
{
	int nb = X509_cmp_time(X509_get0_notBefore(cert), &now);
	int na = X509_cmp_time(X509_get0_notAfter(cert), &now);
	if (nb == 0 || na == 0)
		return fail(CERTCHECK_E_MALFORMED, detail, cap, "unreadable validity times");
	if (nb > 0)
		return fail(CERTCHECK_E_NOT_YET_VALID, detail, cap, "notBefore is in the future");
	if (na < 0)
		return fail(CERTCHECK_E_EXPIRED, detail, cap, "notAfter is in the past");
	return CERTCHECK_OK;
}

static certcheck_err check_chain(const struct certcheck_trust *t, X509 *cert,
				 STACK_OF(X509) * chain, time_t now, char *detail, size_t cap)
{
	if (chain && sk_X509_num(chain) > CERTCHECK_MAX_CHAIN)
		return fail(CERTCHECK_E_CHAIN, detail, cap, "chain of %d certificates",
			    sk_X509_num(chain));
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!ctx || X509_STORE_CTX_init(ctx, t->store, cert, chain) != 1) {
		X509_STORE_CTX_free(ctx);
		return CERTCHECK_E_NOMEM;
	}
	X509_STORE_CTX_set_time(ctx, 0, now);
	certcheck_err rc = CERTCHECK_OK;
	if (X509_verify_cert(ctx) != 1) {
		int err = X509_STORE_CTX_get_error(ctx);
		rc = fail(CERTCHECK_E_CHAIN, detail, cap, "%s (depth %d)",
			  X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx));
	}
	X509_STORE_CTX_free(ctx);
	return rc;
}

certcheck_err certcheck_signature_cert(const struct certcheck_trust *t,
				       const struct certcheck_in *in, char *detail, size_t cap)
{
	if (detail && cap)
		detail[0] = '\0';
	if (!t || !in || !in->cert || !in->card_key || !in->auth_cert)
		return CERTCHECK_E_ARG;
	time_t now = in->now ? in->now : time(NULL);
	EVP_PKEY *pub = X509_get0_pubkey(in->cert);
	certcheck_err rc;
	if (!pub)
		rc = fail(CERTCHECK_E_MALFORMED, detail, cap, "no readable public key");
	else if (EVP_PKEY_eq(pub, in->card_key) != 1)
		rc = fail(CERTCHECK_E_KEY_MISMATCH, detail, cap,
			  "public key differs from the card's new key");
	else if ((rc = check_hsa_id(in->cert, in->auth_cert, detail, cap)) == CERTCHECK_OK &&
		 (rc = check_usage(in->cert, detail, cap)) == CERTCHECK_OK &&
		 (rc = check_time(in->cert, now, detail, cap)) == CERTCHECK_OK)
		rc = check_chain(t, in->cert, in->chain, now, detail, cap);
	if (rc != CERTCHECK_OK)
		ERR_clear_error();
	return rc;
}
