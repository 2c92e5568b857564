/* csr.c — PKCS#10 request with an external (card) signature: OpenSSL assembles and encodes the
 * CertificationRequestInfo, we hash it and wrap the hash in a DigestInfo, the signer returns a
 * raw PKCS#1 v1.5 signature, and we set algorithm + signature and re-verify the final DER the
 * way `openssl req -verify` does (parse, then X509_REQ_verify). */
#include "csr.h"

#include "digestinfo.h"

#include <stdbool.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>

#define MAX_MODULUS_BYTES 1024 /* 8192 bits: anything larger is hostile input */
#define MAX_EXPONENT_BYTES 8

const char *csr_strerror(csr_err e)
{
	switch (e) {
	case CSR_OK: return "ok";
	case CSR_E_NOMEM: return "out of memory";
	case CSR_E_ARG: return "invalid argument";
	case CSR_E_AUTH_CERT:
		return "authentication certificate has no usable subject or subjectAltName";
	case CSR_E_KEY: return "public key is not a usable RSA key";
	case CSR_E_SIGNER: return "signing the certificate request failed";
	case CSR_E_SIGNATURE:
		return "certificate request signature does not verify with the new public key";
	case CSR_E_OPENSSL: return "OpenSSL failure while building the certificate request";
	}
	return "unknown CSR error";
}

csr_err csr_rsa_pubkey(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
		       EVP_PKEY **out)
{
	if (!n || !e || !out)
		return CSR_E_ARG;
	*out = NULL;
	if (n_len == 0 || n_len > MAX_MODULUS_BYTES || e_len == 0 || e_len > MAX_EXPONENT_BYTES)
		return CSR_E_KEY;
	csr_err rc = CSR_E_OPENSSL;
	BIGNUM *bn = BN_bin2bn(n, (int)n_len, NULL), *be = BN_bin2bn(e, (int)e_len, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	if (!bn || !be || !bld) {
		rc = CSR_E_NOMEM;
		goto out;
	}
	/* An even or tiny exponent or a short modulus is not a key a card would generate. */
	if (!BN_is_odd(be) || BN_cmp(be, BN_value_one()) <= 0 ||
	    BN_num_bits(bn) < CSR_MIN_RSA_BITS || !BN_is_odd(bn)) {
		rc = CSR_E_KEY;
		goto out;
	}
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)))
		goto out;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	rc = CSR_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return rc;
}

static bool key_usable(EVP_PKEY *pub)
{
	return EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA &&
		EVP_PKEY_get_bits(pub) >= CSR_MIN_RSA_BITS;
}

/* requestedExtensions: the auth certificate's subjectAltName (UPN + e-mail) and keyUsage
 * nonRepudiation, so an issuer that honours requests gets what SITHS issues. */
static csr_err add_extensions(X509_REQ *req, const X509 *auth)
{
	csr_err rc = CSR_E_OPENSSL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
	int crit = 0;
	GENERAL_NAMES *san = X509_get_ext_d2i(auth, NID_subject_alt_name, &crit, NULL);
	if (!ku) {
		rc = CSR_E_NOMEM;
		goto out;
	}
	if (!san && crit != -1) { /* -1 = absent; 0/1 = malformed; -2 = repeated */
		rc = CSR_E_AUTH_CERT;
		goto out;
	}
	if (san && X509V3_add1_i2d(&exts, NID_subject_alt_name, san, 0, X509V3_ADD_DEFAULT) != 1)
		goto out;
	if (!ASN1_BIT_STRING_set_bit(ku, 1, 1) || /* bit 1 = nonRepudiation (contentCommitment) */
	    X509V3_add1_i2d(&exts, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT) != 1 ||
	    !X509_REQ_add_extensions(req, exts))
		goto out;
	rc = CSR_OK;
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(san);
	ASN1_BIT_STRING_free(ku);
	return rc;
}

static csr_err set_signature(X509_REQ *req, unsigned char *sig, size_t sig_len)
{
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_BIT_STRING *bits = ASN1_BIT_STRING_new();
	csr_err rc = CSR_E_NOMEM;
	if (!alg || !bits)
		goto out;
	rc = CSR_E_OPENSSL;
	if (!X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256WithRSAEncryption), V_ASN1_NULL, NULL) ||
	    !X509_REQ_set1_signature_algo(req, alg) ||
	    !ASN1_BIT_STRING_set(bits, sig, (int)sig_len))
		goto out;
	/* A signature is whole bytes: say "0 unused bits" explicitly instead of letting the encoder
	 * strip trailing zero bits. */
	bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	X509_REQ_set0_signature(req, bits);
	bits = NULL;
	rc = CSR_OK;
out:
	X509_ALGOR_free(alg);
	ASN1_BIT_STRING_free(bits);
	return rc;
}

/* Parses the final DER and verifies it with pub, exactly what a relying party will do. */
static csr_err verify_der(const unsigned char *der, size_t len, EVP_PKEY *pub)
{
	const unsigned char *p = der;
	X509_REQ *back = d2i_X509_REQ(NULL, &p, (long)len);
	csr_err rc = CSR_E_SIGNATURE;
	if (back && p == der + len && X509_REQ_verify(back, pub) == 1)
		rc = CSR_OK;
	X509_REQ_free(back);
	return rc;
}

csr_err csr_build(const X509 *auth_cert, EVP_PKEY *pub, csr_sign_fn sign, void *user,
		  unsigned char **der, size_t *der_len)
{
	if (!auth_cert || !pub || !sign || !der || !der_len)
		return CSR_E_ARG;
	*der = NULL;
	*der_len = 0;
	if (!key_usable(pub))
		return CSR_E_KEY;
	const X509_NAME *subj = X509_get_subject_name(auth_cert);
	if (!subj || X509_NAME_entry_count(subj) == 0)
		return CSR_E_AUTH_CERT;

	csr_err rc = CSR_E_NOMEM;
	unsigned char *tbs = NULL, *sig = NULL, *out_der = NULL, di[DIGESTINFO_SHA256_LEN];
	int tbs_len = 0, out_len = 0;
	size_t sig_cap = (size_t)EVP_PKEY_get_size(pub), sig_len = 0;
	X509_REQ *req = X509_REQ_new();
	if (!req || !(sig = OPENSSL_zalloc(sig_cap)))
		goto out;
	rc = CSR_E_OPENSSL;
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, subj) || !X509_REQ_set_pubkey(req, pub))
		goto out;
	if ((rc = add_extensions(req, auth_cert)) != CSR_OK)
		goto out;
	rc = CSR_E_OPENSSL;
	if ((tbs_len = i2d_re_X509_REQ_tbs(req, &tbs)) <= 0)
		goto out;
	if (!digestinfo_sha256(tbs, (size_t)tbs_len, NULL, 0, di))
		goto out;
	if (sign(user, di, sizeof di, sig, sig_cap, &sig_len) != 0 || sig_len == 0 ||
	    sig_len > sig_cap) {
		rc = CSR_E_SIGNER;
		goto out;
	}
	if ((rc = set_signature(req, sig, sig_len)) != CSR_OK)
		goto out;
	rc = CSR_E_OPENSSL;
	if ((out_len = i2d_X509_REQ(req, &out_der)) <= 0)
		goto out;
	if ((rc = verify_der(out_der, (size_t)out_len, pub)) != CSR_OK)
		goto out;
	*der = out_der;
	*der_len = (size_t)out_len;
	out_der = NULL;
out:
	if (rc != CSR_OK)
		ERR_clear_error(); /* the queue is per thread: leave it clean for the next job */
	OPENSSL_free(out_der);
	OPENSSL_free(tbs);
	OPENSSL_free(sig);
	X509_REQ_free(req);
	return rc;
}
