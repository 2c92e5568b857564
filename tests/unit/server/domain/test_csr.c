/* test_csr.c — the card-signed PKCS#10 request: built with a software "card" signer it verifies
 * with X509_REQ_verify and with `openssl req -verify`, carries the auth certificate's subject and
 * SAN and the new key; a signer using another key, failing or returning garbage is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "csr.h"

#define REQ_VERIFY "openssl req -inform DER -in '%s' -verify -noout 2>&1 | grep -q '%s'"
#include "fx_pki.h"

static X509_REQ *parse(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509_REQ *r = d2i_X509_REQ(NULL, &p, (long)len);
	assert_non_null(r);
	assert_ptr_equal(p, der + len);
	return r;
}

/* The public key as a card reports it: big-endian modulus and exponent. */
static void public_numbers(EVP_PKEY *k, unsigned char *n, size_t *n_len, unsigned char *e,
			   size_t *e_len)
{
	BIGNUM *bn = NULL, *be = NULL;
	assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn));
	assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &be));
	*n_len = (size_t)BN_bn2bin(bn, n);
	*e_len = (size_t)BN_bn2bin(be, e);
	BN_free(bn);
	BN_free(be);
}

static void builds_and_verifies(void **state)
{
	struct fx_person_pki *f = *state;
	unsigned char *der = NULL;
	size_t len = 0;
	fx_sign_calls = 0;
	assert_int_equal(csr_build(f->auth, f->card_key, fx_soft_sign, f->card_key, &der, &len),
			 CSR_OK);
	assert_int_equal(fx_sign_calls, 1);
	X509_REQ *r = parse(der, len);
	assert_int_equal(X509_REQ_verify(r, f->card_key), 1);
	assert_int_equal(X509_REQ_verify(r, f->other_key), 0);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(r), f->card_key), 1);
	assert_int_equal(
		X509_NAME_cmp(X509_REQ_get_subject_name(r), X509_get_subject_name(f->auth)), 0);
	assert_int_equal(X509_REQ_get_signature_nid(r), NID_sha256WithRSAEncryption);

	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(r);
	assert_non_null(exts);
	int found_san = 0, found_ku = 0;
	for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));
		if (nid == NID_subject_alt_name) {
			GENERAL_NAMES *g = X509V3_EXT_d2i(e);
			GENERAL_NAMES *want =
				X509_get_ext_d2i(f->auth, NID_subject_alt_name, NULL, NULL);
			assert_int_equal(sk_GENERAL_NAME_num(g), 2);
			for (int j = 0; j < 2; j++)
				assert_int_equal(GENERAL_NAME_cmp(sk_GENERAL_NAME_value(g, j),
								  sk_GENERAL_NAME_value(want, j)),
						 0);
			GENERAL_NAMES_free(g);
			GENERAL_NAMES_free(want);
			found_san = 1;
		} else if (nid == NID_key_usage) {
			ASN1_BIT_STRING *ku = X509V3_EXT_d2i(e);
			assert_true(ASN1_BIT_STRING_get_bit(ku, 1));  /* nonRepudiation */
			assert_false(ASN1_BIT_STRING_get_bit(ku, 0)); /* not digitalSignature */
			assert_true(X509_EXTENSION_get_critical(e));
			ASN1_BIT_STRING_free(ku);
			found_ku = 1;
		}
	}
	assert_true(found_san && found_ku);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(r);
	OPENSSL_free(der);
}

/* What the card is asked to sign is the DigestInfo of SHA-256 over the request body. */
static int capture_len;
static unsigned char captured[128];
static int capturing_sign(void *user, const unsigned char *di, size_t di_len, unsigned char *sig,
			  size_t cap, size_t *sig_len)
{
	assert_true(di_len <= sizeof captured);
	memcpy(captured, di, di_len);
	capture_len = (int)di_len;
	return fx_soft_sign(user, di, di_len, sig, cap, sig_len);
}

static void signer_gets_digest_info(void **state)
{
	struct fx_person_pki *f = *state;
	unsigned char *der = NULL, *tbs = NULL, md[32];
	size_t len = 0;
	assert_int_equal(csr_build(f->auth, f->card_key, capturing_sign, f->card_key, &der, &len),
			 CSR_OK);
	X509_REQ *r = parse(der, len);
	int tbs_len = i2d_re_X509_REQ_tbs(r, &tbs);
	assert_true(tbs_len > 0);
	SHA256(tbs, (size_t)tbs_len, md);
	const unsigned char *p = captured;
	X509_SIG *di = d2i_X509_SIG(NULL, &p, capture_len);
	assert_non_null(di);
	assert_ptr_equal(p, captured + capture_len);
	const X509_ALGOR *alg = NULL;
	const ASN1_OCTET_STRING *dig = NULL;
	X509_SIG_get0(di, &alg, &dig);
	assert_int_equal(OBJ_obj2nid(alg->algorithm), NID_sha256);
	assert_int_equal(ASN1_STRING_length(dig), 32);
	assert_memory_equal(ASN1_STRING_get0_data(dig), md, 32);
	X509_SIG_free(di);
	OPENSSL_free(tbs);
	X509_REQ_free(r);
	OPENSSL_free(der);
}

/* The relying party's tool: `openssl req -verify` accepts it, and rejects it with one bit of
 * the signature flipped (so this check can fail). */
static void openssl_req_verify(void **state)
{
	struct fx_person_pki *f = *state;
	unsigned char *der = NULL;
	size_t len = 0;
	assert_int_equal(csr_build(f->auth, f->card_key, fx_soft_sign, f->card_key, &der, &len),
			 CSR_OK);
	char *dir = fx_tmpdir(), path[600];
	snprintf(path, sizeof path, "%s/req.der", dir);
	fx_write_file(path, der, len);
	/* OpenSSL 3.0's `req -verify` exits 0 even on failure: read its verdict instead. */
	assert_int_equal(fx_run(REQ_VERIFY, path, "self-signature verify OK"), 0);
	der[len - 10] ^= 0x01; /* inside the signature BIT STRING, the last element */
	fx_write_file(path, der, len);
	assert_int_not_equal(fx_run(REQ_VERIFY, path, "self-signature verify OK"), 0);
	assert_int_equal(fx_run(REQ_VERIFY, path, "verify failure"), 0);
	fx_run("rm -rf '%s'", dir);
	free(dir);
	OPENSSL_free(der);
}

static void other_key_signature_refused(void **state)
{
	struct fx_person_pki *f = *state;
	unsigned char *der = (unsigned char *)"sentinel";
	size_t len = 99;
	fx_sign_calls = 0;
	/* The card signs with a key that is not the one in the request (e.g. the old signing key). */
	assert_int_equal(csr_build(f->auth, f->card_key, fx_soft_sign, f->other_key, &der, &len),
			 CSR_E_SIGNATURE);
	assert_int_equal(fx_sign_calls, 1);
	assert_null(der);
	assert_int_equal(len, 0);
}

static int failing_sign(void *user, const unsigned char *di, size_t di_len, unsigned char *sig,
			size_t cap, size_t *sig_len)
{
	(void)user, (void)di, (void)di_len, (void)sig, (void)cap;
	*sig_len = 0;
	return 7; /* e.g. card removed */
}

static int long_sign(void *user, const unsigned char *di, size_t di_len, unsigned char *sig,
		     size_t cap, size_t *sig_len)
{
	(void)user, (void)di, (void)di_len, (void)sig;
	*sig_len = cap + 1;
	return 0;
}

static int garbage_sign(void *user, const unsigned char *di, size_t di_len, unsigned char *sig,
			size_t cap, size_t *sig_len)
{
	(void)user, (void)di, (void)di_len;
	memset(sig, 0x5a, cap);
	*sig_len = cap;
	return 0;
}

static int short_sign(void *user, const unsigned char *di, size_t di_len, unsigned char *sig,
		      size_t cap, size_t *sig_len)
{
	int rc = fx_soft_sign(user, di, di_len, sig, cap, sig_len);
	*sig_len -= 1; /* a truncated response from the card */
	return rc;
}

static void signer_failures(void **state)
{
	struct fx_person_pki *f = *state;
	unsigned char *der = NULL;
	size_t len = 0;
	assert_int_equal(csr_build(f->auth, f->card_key, failing_sign, NULL, &der, &len),
			 CSR_E_SIGNER);
	assert_null(der);
	assert_int_equal(csr_build(f->auth, f->card_key, long_sign, NULL, &der, &len),
			 CSR_E_SIGNER);
	assert_null(der);
	assert_int_equal(csr_build(f->auth, f->card_key, garbage_sign, NULL, &der, &len),
			 CSR_E_SIGNATURE);
	assert_null(der);
	assert_int_equal(csr_build(f->auth, f->card_key, short_sign, f->card_key, &der, &len),
			 CSR_E_SIGNATURE);
	assert_null(der);
}

static void unusable_keys(void **state)
{
	struct fx_person_pki *f = *state;
	unsigned char *der = NULL;
	size_t len = 0;
	EVP_PKEY *small = EVP_RSA_gen(1024);
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	assert_non_null(small);
	assert_non_null(ec);
	fx_sign_calls = 0;
	assert_int_equal(csr_build(f->auth, small, fx_soft_sign, small, &der, &len), CSR_E_KEY);
	assert_int_equal(csr_build(f->auth, ec, fx_soft_sign, ec, &der, &len), CSR_E_KEY);
	assert_int_equal(fx_sign_calls, 0); /* refused before the card is asked */
	assert_null(der);
	EVP_PKEY_free(small);
	EVP_PKEY_free(ec);
}

static void bad_auth_cert_and_args(void **state)
{
	struct fx_person_pki *f = *state;
	unsigned char *der = NULL;
	size_t len = 0;
	X509 *empty = X509_new();
	assert_int_equal(csr_build(empty, f->card_key, fx_soft_sign, f->card_key, &der, &len),
			 CSR_E_AUTH_CERT);
	X509_free(empty);

	/* A certificate from the card whose subjectAltName is not DER GeneralNames. */
	struct fx_cert o = { .cn = "Olof",
			     .hsa_id = FX_HSA_ID,
			     .key = f->auth_key,
			     .issuer = f->ca,
			     .issuer_key = f->ca_key };
	X509 *broken = fx_make_cert(&o);
	ASN1_OCTET_STRING *junk = ASN1_OCTET_STRING_new();
	assert_true(ASN1_OCTET_STRING_set(junk, (const unsigned char *)"\x30\x05\xa0\x01", 4));
	X509_EXTENSION *e = X509_EXTENSION_create_by_NID(NULL, NID_subject_alt_name, 0, junk);
	assert_non_null(e);
	assert_true(X509_add_ext(broken, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(junk);
	assert_true(X509_sign(broken, f->ca_key, EVP_sha256()) > 0);
	fx_sign_calls = 0;
	assert_int_equal(csr_build(broken, f->card_key, fx_soft_sign, f->card_key, &der, &len),
			 CSR_E_AUTH_CERT);
	assert_int_equal(fx_sign_calls, 0);
	X509_free(broken);
	assert_int_equal(csr_build(NULL, f->card_key, fx_soft_sign, f->card_key, &der, &len),
			 CSR_E_ARG);
	assert_int_equal(csr_build(f->auth, NULL, fx_soft_sign, f->card_key, &der, &len),
			 CSR_E_ARG);
	assert_int_equal(csr_build(f->auth, f->card_key, NULL, f->card_key, &der, &len), CSR_E_ARG);
	assert_int_equal(csr_build(f->auth, f->card_key, fx_soft_sign, f->card_key, NULL, &len),
			 CSR_E_ARG);
	assert_null(der);
	assert_string_equal(
		csr_strerror(CSR_E_SIGNATURE),
		"certificate request signature does not verify with the new public key");
}

static void pubkey_from_card_numbers(void **state)
{
	struct fx_person_pki *f = *state;
	unsigned char n[2100], e[16];
	size_t n_len = 0, e_len = 0;
	EVP_PKEY *k = NULL;
	public_numbers(f->card_key, n + 1, &n_len, e, &e_len);
	assert_int_equal(csr_rsa_pubkey(n + 1, n_len, e, e_len, &k), CSR_OK);
	assert_int_equal(EVP_PKEY_eq(k, f->card_key), 1);
	assert_int_equal(EVP_PKEY_eq(k, f->other_key), 0);
	EVP_PKEY_free(k);
	/* A leading zero byte (signed INTEGER style) is the same number. */
	n[0] = 0;
	assert_int_equal(csr_rsa_pubkey(n, n_len + 1, e, e_len, &k), CSR_OK);
	assert_int_equal(EVP_PKEY_eq(k, f->card_key), 1);
	/* And the CSR built with it verifies like one built with the original key. */
	unsigned char *der = NULL;
	size_t len = 0;
	assert_int_equal(csr_build(f->auth, k, fx_soft_sign, f->card_key, &der, &len), CSR_OK);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	k = NULL;

	unsigned char even[3] = { 0x01, 0x00, 0x00 }, one[1] = { 0x01 };
	assert_int_equal(csr_rsa_pubkey(n + 1, n_len, even, sizeof even, &k), CSR_E_KEY);
	assert_int_equal(csr_rsa_pubkey(n + 1, n_len, one, sizeof one, &k), CSR_E_KEY);
	assert_int_equal(csr_rsa_pubkey(n + 1, 128, e, e_len, &k), CSR_E_KEY); /* 1024 bits */
	assert_int_equal(csr_rsa_pubkey(n + 1, 0, e, e_len, &k), CSR_E_KEY);
	assert_int_equal(csr_rsa_pubkey(n + 1, n_len, e, 0, &k), CSR_E_KEY);
	assert_int_equal(csr_rsa_pubkey(n + 1, 2000, e, e_len, &k), CSR_E_KEY);
	n[n_len] &= 0xfe; /* even modulus */
	assert_int_equal(csr_rsa_pubkey(n + 1, n_len, e, e_len, &k), CSR_E_KEY);
	assert_null(k);
	assert_int_equal(csr_rsa_pubkey(NULL, n_len, e, e_len, &k), CSR_E_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_PERSON_PKI_TEST(builds_and_verifies),
		FX_PERSON_PKI_TEST(signer_gets_digest_info),
		FX_PERSON_PKI_TEST(openssl_req_verify),
		FX_PERSON_PKI_TEST(other_key_signature_refused),
		FX_PERSON_PKI_TEST(signer_failures),
		FX_PERSON_PKI_TEST(unusable_keys),
		FX_PERSON_PKI_TEST(bad_auth_cert_and_args),
		FX_PERSON_PKI_TEST(pubkey_from_card_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, fx_pki_teardown);
}
