/* test_proof.c — login proof of possession: the message the card signs is the standard SHA-256
 * DigestInfo of label || challenge; a software card's answer verifies against its certificate;
 * answers from another key, for another challenge, without the label, truncated or garbage are
 * refused; certificates without a usable RSA key are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "digestinfo.h"
#include "fx_pki.h"
#include "proof.h"

struct fx {
	struct fx_person_pki pki;
	unsigned char challenge[PROOF_CHALLENGE_LEN];
	unsigned char sig[512];
	size_t sig_len;
};

/* The card: signs a DigestInfo with key (PKCS#1 v1.5). */
static void soft_card_sign(EVP_PKEY *key, const unsigned char *di, size_t di_len, struct fx *f)
{
	assert_int_equal(fx_soft_sign(key, di, di_len, f->sig, sizeof f->sig, &f->sig_len), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	fx_person_pki_init(&f->pki);
	assert_int_equal(proof_challenge(f->challenge), PROOF_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	fx_person_pki_free(&f->pki);
	free(f);
	return 0;
}

static void digest_info_is_standard(void **state)
{
	struct fx *f = *state;
	/* RFC 8017 §9.2 note 1: the DER prefix of a SHA-256 DigestInfo. */
	static const unsigned char prefix[19] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
						  0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
						  0x01, 0x05, 0x00, 0x04, 0x20 };
	unsigned char di[DIGESTINFO_SHA256_LEN], msg[64 + PROOF_CHALLENGE_LEN], md[32];
	assert_int_equal(proof_digest_info(f->challenge, di), PROOF_OK);
	size_t label = strlen(PROOF_LABEL);
	memcpy(msg, PROOF_LABEL, label);
	memcpy(msg + label, f->challenge, PROOF_CHALLENGE_LEN);
	SHA256(msg, label + PROOF_CHALLENGE_LEN, md);
	assert_memory_equal(di, prefix, sizeof prefix);
	assert_memory_equal(di + sizeof prefix, md, sizeof md);
	/* digestinfo_sha256 hashes its two parts as one message. */
	unsigned char whole[DIGESTINFO_SHA256_LEN];
	assert_true(digestinfo_sha256(msg, label + PROOF_CHALLENGE_LEN, NULL, 0, whole));
	assert_memory_equal(whole, di, sizeof di);
}

static void challenges_are_fresh(void **state)
{
	struct fx *f = *state;
	unsigned char again[PROOF_CHALLENGE_LEN];
	assert_int_equal(proof_challenge(again), PROOF_OK);
	assert_memory_not_equal(again, f->challenge, PROOF_CHALLENGE_LEN);
	assert_int_equal(proof_challenge(NULL), PROOF_E_ARG);
}

static void card_answer_verifies(void **state)
{
	struct fx *f = *state;
	unsigned char di[DIGESTINFO_SHA256_LEN];
	assert_int_equal(proof_digest_info(f->challenge, di), PROOF_OK);
	soft_card_sign(f->pki.auth_key, di, sizeof di, f);
	assert_int_equal(proof_verify(f->pki.auth, f->challenge, f->sig, f->sig_len), PROOF_OK);
}

static void wrong_answers(void **state)
{
	struct fx *f = *state;
	unsigned char di[DIGESTINFO_SHA256_LEN], other[PROOF_CHALLENGE_LEN];
	assert_int_equal(proof_digest_info(f->challenge, di), PROOF_OK);

	soft_card_sign(f->pki.other_key, di, sizeof di, f); /* another card */
	assert_int_equal(proof_verify(f->pki.auth, f->challenge, f->sig, f->sig_len),
			 PROOF_E_SIGNATURE);

	assert_int_equal(proof_challenge(other),
			 PROOF_OK); /* a replayed answer to an old challenge */
	soft_card_sign(f->pki.auth_key, di, sizeof di, f);
	assert_int_equal(proof_verify(f->pki.auth, other, f->sig, f->sig_len), PROOF_E_SIGNATURE);

	unsigned char bare[DIGESTINFO_SHA256_LEN]; /* the challenge signed without the label */
	assert_true(digestinfo_sha256(f->challenge, PROOF_CHALLENGE_LEN, NULL, 0, bare));
	soft_card_sign(f->pki.auth_key, bare, sizeof bare, f);
	assert_int_equal(proof_verify(f->pki.auth, f->challenge, f->sig, f->sig_len),
			 PROOF_E_SIGNATURE);

	soft_card_sign(f->pki.auth_key, di, sizeof di, f);
	assert_int_equal(proof_verify(f->pki.auth, f->challenge, f->sig, f->sig_len - 1),
			 PROOF_E_SIGNATURE);
	f->sig[100] ^= 0x04;
	assert_int_equal(proof_verify(f->pki.auth, f->challenge, f->sig, f->sig_len),
			 PROOF_E_SIGNATURE);
	memset(f->sig, 0, f->sig_len);
	assert_int_equal(proof_verify(f->pki.auth, f->challenge, f->sig, f->sig_len),
			 PROOF_E_SIGNATURE);
	memset(f->sig, 0xff, f->sig_len);
	assert_int_equal(proof_verify(f->pki.auth, f->challenge, f->sig, f->sig_len),
			 PROOF_E_SIGNATURE);
	assert_int_equal(proof_verify(f->pki.auth, f->challenge, f->sig, 0), PROOF_E_SIGNATURE);
}

static void unusable_certificates(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *small = EVP_RSA_gen(1024), *ec = EVP_EC_gen("P-256");
	struct fx_cert o = { .cn = "small", .key = small };
	X509 *c_small = fx_make_cert(&o);
	o.key = ec;
	X509 *c_ec = fx_make_cert(&o);
	X509 *bare = X509_new();
	assert_int_equal(proof_verify(c_small, f->challenge, f->sig, 128), PROOF_E_KEY);
	assert_int_equal(proof_verify(c_ec, f->challenge, f->sig, 64), PROOF_E_KEY);
	assert_int_equal(proof_verify(bare, f->challenge, f->sig, 256), PROOF_E_KEY);
	assert_int_equal(proof_verify(NULL, f->challenge, f->sig, 256), PROOF_E_ARG);
	assert_int_equal(proof_verify(f->pki.auth, NULL, f->sig, 256), PROOF_E_ARG);
	assert_int_equal(proof_verify(f->pki.auth, f->challenge, NULL, 256), PROOF_E_ARG);
	assert_string_equal(proof_strerror(PROOF_E_SIGNATURE),
			    "the card's signature over the challenge does not verify");
	X509_free(c_small);
	X509_free(c_ec);
	X509_free(bare);
	EVP_PKEY_free(small);
	EVP_PKEY_free(ec);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(digest_info_is_standard), T(challenges_are_fresh),  T(card_answer_verifies),
		T(wrong_answers),           T(unusable_certificates),
	};
	return cmocka_run_group_tests(tests, NULL, fx_pki_teardown);
}
