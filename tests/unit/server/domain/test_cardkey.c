/* test_cardkey.c — the card-held key under OpenSSL's own signing: with a software "card" its
 * signatures verify with the certificate's key, X509_check_private_key pairs them, and a CMP
 * message OpenSSL protects with it passes OpenSSL's own protection check; a failing or lying
 * signer, PSS, another digest and a key that is not RSA are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/cmp.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "cardkey.h"
#include "fx_pki.h"

/* Signs msg with key through EVP_DigestSign (digest md, PSS when pss); the length or -1. */
static int digest_sign(EVP_PKEY *key, const EVP_MD *md, bool pss, unsigned char *sig, size_t cap)
{
	static const char msg[] = "protected part of a CMP message";
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	size_t len = cap;
	int ok = c && EVP_DigestSignInit(c, &pc, md, NULL, key) == 1 &&
		(!pss || EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1) &&
		EVP_DigestSign(c, sig, &len, (const unsigned char *)msg, sizeof msg - 1) == 1;
	EVP_MD_CTX_free(c);
	ERR_clear_error();
	return ok ? (int)len : -1;
}

static bool verifies(X509 *cert, const unsigned char *sig, size_t len)
{
	static const char msg[] = "protected part of a CMP message";
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = c &&
		EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, X509_get0_pubkey(cert)) == 1 &&
		EVP_DigestVerify(c, sig, len, (const unsigned char *)msg, sizeof msg - 1) == 1;
	EVP_MD_CTX_free(c);
	return ok;
}

static void signs_as_the_certificate(void **state)
{
	struct fx_person_pki *f = *state;
	EVP_PKEY *key = NULL;
	unsigned char sig[512];
	assert_int_equal(cardkey_new(f->auth, fx_soft_sign, f->auth_key, &key), CARDKEY_OK);
	assert_int_equal(X509_check_private_key(f->auth, key), 1);
	fx_sign_calls = 0;
	int n = digest_sign(key, EVP_sha256(), false, sig, sizeof sig);
	assert_int_equal(n, 256);
	assert_int_equal(fx_sign_calls, 1);
	assert_true(verifies(f->auth, sig, (size_t)n));
	EVP_PKEY_free(key);
}

static int fail_sign(void *user, const unsigned char *di, size_t di_len, unsigned char *sig,
		     size_t cap, size_t *len)
{
	(void)user, (void)di, (void)di_len, (void)sig, (void)cap, (void)len;
	return -1;
}

static void refuses_what_the_card_does_not_sign(void **state)
{
	struct fx_person_pki *f = *state;
	EVP_PKEY *failing = NULL, *lying = NULL, *good = NULL;
	unsigned char sig[512];
	assert_int_equal(cardkey_new(f->auth, fail_sign, NULL, &failing), CARDKEY_OK);
	assert_int_equal(digest_sign(failing, EVP_sha256(), false, sig, sizeof sig), -1);
	/* A "card" that signs with another key than the certificate's. */
	assert_int_equal(cardkey_new(f->auth, fx_soft_sign, f->other_key, &lying), CARDKEY_OK);
	assert_int_equal(digest_sign(lying, EVP_sha256(), false, sig, sizeof sig), -1);
	assert_int_equal(cardkey_new(f->auth, fx_soft_sign, f->auth_key, &good), CARDKEY_OK);
	fx_sign_calls = 0;
	assert_int_equal(digest_sign(good, EVP_sha256(), true, sig, sizeof sig), -1);
	assert_int_equal(digest_sign(good, EVP_sha384(), false, sig, sizeof sig), -1);
	assert_int_equal(fx_sign_calls, 0);
	EVP_PKEY_free(failing);
	EVP_PKEY_free(lying);
	EVP_PKEY_free(good);
}

static void refuses_a_key_that_is_not_rsa(void **state)
{
	struct fx_person_pki *f = *state;
	EVP_PKEY *ec = EVP_EC_gen("P-256"), *key = NULL;
	assert_non_null(ec);
	struct fx_cert o = fx_person();
	o.key = ec;
	o.issuer = f->ca;
	o.issuer_key = f->ca_key;
	X509 *cert = fx_make_cert(&o);
	assert_int_equal(cardkey_new(cert, fx_soft_sign, ec, &key), CARDKEY_E_KEY);
	assert_null(key);
	assert_int_equal(cardkey_new(NULL, fx_soft_sign, ec, &key), CARDKEY_E_ARG);
	assert_int_equal(cardkey_new(f->auth, NULL, ec, &key), CARDKEY_E_ARG);
	X509_free(cert);
	EVP_PKEY_free(ec);
}

/* OpenSSL's transfer callback: keeps the request, answers nothing. */
static OSSL_CMP_MSG *capture(OSSL_CMP_CTX *ctx, const OSSL_CMP_MSG *req)
{
	OSSL_CMP_MSG **kept = OSSL_CMP_CTX_get_transfer_cb_arg(ctx);
	*kept = OSSL_CMP_MSG_dup(req);
	return NULL;
}

static void protects_a_cmp_message(void **state)
{
	struct fx_person_pki *f = *state;
	EVP_PKEY *key = NULL;
	OSSL_CMP_MSG *req = NULL;
	assert_int_equal(cardkey_new(f->auth, fx_soft_sign, f->auth_key, &key), CARDKEY_OK);
	X509_REQ *csr = X509_REQ_new();
	assert_true(X509_REQ_set_pubkey(csr, f->other_key) &&
		    X509_REQ_sign(csr, f->other_key, EVP_sha256()));
	OSSL_CMP_CTX *cli = OSSL_CMP_CTX_new(NULL, NULL);
	assert_true(OSSL_CMP_CTX_set1_cert(cli, f->auth) && OSSL_CMP_CTX_set1_pkey(cli, key) &&
		    OSSL_CMP_CTX_set1_p10CSR(cli, csr) &&
		    OSSL_CMP_CTX_set1_server(cli, "127.0.0.1") &&
		    OSSL_CMP_CTX_set_transfer_cb(cli, capture) &&
		    OSSL_CMP_CTX_set_transfer_cb_arg(cli, &req));
	OSSL_CMP_CTX_set_log_verbosity(cli, -1);
	fx_sign_calls = 0;
	assert_null(OSSL_CMP_exec_P10CR_ses(cli));
	assert_non_null(req);
	assert_int_equal(fx_sign_calls, 1);
	/* The receiving side: OpenSSL validates the signature and the sender's chain. */
	OSSL_CMP_CTX *srv = OSSL_CMP_CTX_new(NULL, NULL);
	X509_STORE *trust = X509_STORE_new();
	assert_true(X509_STORE_add_cert(trust, f->ca) &&
		    OSSL_CMP_CTX_set0_trustedStore(srv, trust));
	OSSL_CMP_CTX_set_log_verbosity(srv, -1);
	assert_int_equal(OSSL_CMP_validate_msg(srv, req), 1);
	OSSL_CMP_MSG_free(req);
	OSSL_CMP_CTX_free(srv);
	OSSL_CMP_CTX_free(cli);
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
	ERR_clear_error();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_PERSON_PKI_TEST(signs_as_the_certificate),
		FX_PERSON_PKI_TEST(refuses_what_the_card_does_not_sign),
		FX_PERSON_PKI_TEST(refuses_a_key_that_is_not_rsa),
		FX_PERSON_PKI_TEST(protects_a_cmp_message),
	};
	return cmocka_run_group_tests(tests, NULL, fx_pki_teardown);
}
