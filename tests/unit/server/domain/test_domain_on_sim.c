/* test_domain_on_sim.c — the login's and the download's building blocks against the virtual
 * card's APDU interpreter, in-process (no pcscd): login proof with VERIFY PIN1 + INTERNAL
 * AUTHENTICATE, then VERIFY PIN2, GENERATE ASYMMETRIC KEY PAIR, a CSR signed by the card with MSE + PSO CDS, the test
 * issuer, and certcheck, all on the card's real certificates; plus a stale key after a second
 * GENERATE, which must be caught by csr_build and by certcheck. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "certcheck.h"
#include "csr.h"
#include "fx_pki.h"
#include "issuer_testca.h"
#include "proof.h"
#include "sim_apdu.h"
#include "sim_card.h"
#include "sim_profile.h"

static char pki[512];
static uint8_t rbuf[SIM_RAPDU_MAX];
static size_t rlen;

/* Sends header ‖ data ‖ trailer as one APDU; returns the status word, data in rbuf[0..rlen-2). */
static unsigned apdu(struct sim_card *c, const uint8_t *hdr, size_t hn, const uint8_t *data,
		     size_t dn, const uint8_t *tail, size_t tn)
{
	uint8_t a[600];
	assert_true(hn + dn + tn <= sizeof a);
	memcpy(a, hdr, hn);
	if (dn)
		memcpy(a + hn, data, dn);
	if (tn)
		memcpy(a + hn + dn, tail, tn);
	rlen = sim_apdu_process(c, a, hn + dn + tn, rbuf);
	assert_true(rlen >= 2 && rlen <= SIM_RAPDU_MAX);
	return (unsigned)(rbuf[rlen - 2] << 8 | rbuf[rlen - 1]);
}

static void verify_pin(struct sim_card *c, uint8_t ref, const char *pin)
{
	const uint8_t hdr[] = { 0x00, 0x20, 0x00, ref, (uint8_t)strlen(pin) };
	assert_int_equal(apdu(c, hdr, sizeof hdr, (const uint8_t *)pin, strlen(pin), NULL, 0),
			 0x9000);
}

/* The card signs a DigestInfo (INS 88 = INTERNAL AUTHENTICATE with the auth key, INS 2A = PSO
 * CDS with the key chosen by MSE). */
static unsigned ask_card_to_sign(struct sim_card *c, uint8_t ins, const unsigned char *di, size_t n)
{
	const uint8_t hdr88[] = { 0x00, 0x88, 0x00, 0x00, (uint8_t)n };
	const uint8_t hdr2a[] = { 0x00, 0x2a, 0x9e, 0x9a, (uint8_t)n };
	const uint8_t le[] = { 0x00 };
	return apdu(c, ins == 0x88 ? hdr88 : hdr2a, 5, di, n, le, 1);
}

struct signer {
	struct sim_card *card;
	unsigned sw;
};

/* csr_sign_fn over the virtual card: MSE SET DST signing key 02, then PSO CDS. */
static int sim_signer(void *user, const unsigned char *di, size_t di_len, unsigned char *sig,
		      size_t cap, size_t *sig_len)
{
	struct signer *s = user;
	const uint8_t mse[] = { 0x00, 0x22, 0x41, 0xb6, 0x03, 0x84, 0x01, 0x02 };
	if ((s->sw = apdu(s->card, mse, sizeof mse, NULL, 0, NULL, 0)) != 0x9000)
		return -1;
	if ((s->sw = ask_card_to_sign(s->card, 0x2a, di, di_len)) != 0x9000 || rlen - 2 > cap)
		return -1;
	memcpy(sig, rbuf, rlen - 2);
	*sig_len = rlen - 2;
	return 0;
}

/* GENERATE ASYMMETRIC KEY PAIR for key 02; the public key from 7F49 { 81 n, 82 e }. */
static EVP_PKEY *generate(struct sim_card *c)
{
	const uint8_t gen[] = { 0x00, 0x46, 0x00, 0x02, 0x00, 0x00, 0x00 }; /* extended Le */
	assert_int_equal(apdu(c, gen, sizeof gen, NULL, 0, NULL, 0), 0x9000);
	assert_int_equal(rlen - 2, 270);
	static const uint8_t head[] = { 0x7f, 0x49, 0x82, 0x01, 0x09, 0x81, 0x82, 0x01, 0x00 };
	assert_memory_equal(rbuf, head, sizeof head);
	assert_int_equal(rbuf[9 + 256], 0x82);
	size_t e_len = rbuf[9 + 257];
	EVP_PKEY *k = NULL;
	assert_int_equal(csr_rsa_pubkey(rbuf + 9, 256, rbuf + 9 + 258, e_len, &k), CSR_OK);
	return k;
}

static X509 *card_cert(struct sim_card *c, uint16_t fid)
{
	struct sim_file *f = sim_card_file(c, fid);
	assert_non_null(f);
	const unsigned char *p = f->data;
	X509 *x = d2i_X509(NULL, &p, (long)f->size);
	assert_non_null(x);
	return x;
}

struct fx {
	struct sim_card *card;
	X509 *auth;
	struct issuer *is;
	struct certcheck_trust *trust;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct sim_profile p;
	char err[256], path[700];
	sim_profile_default(&p);
	enum sim_err rc = sim_card_create(&p, pki, &f->card, err, sizeof err);
	sim_profile_wipe(&p);
	if (rc != SIM_OK)
		fail_msg("card: %s", err);
	f->card->extended_length = true; /* GENERATE below asks with an extended Le */
	f->auth = card_cert(f->card, 0x4301);
	assert_int_equal(issuer_testca_open(pki, ISSUER_TESTCA_FAULT_NONE, &f->is), ISSUER_OK);
	snprintf(path, sizeof path, "%s/root-ca.pem", pki);
	assert_int_equal(certcheck_trust_load(path, &f->trust), CERTCHECK_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sim_card_free(f->card);
	X509_free(f->auth);
	issuer_destroy(f->is);
	certcheck_trust_free(f->trust);
	free(f);
	return 0;
}

static void login_proof(void **state)
{
	struct fx *f = *state;
	unsigned char ch[PROOF_CHALLENGE_LEN], di[DIGESTINFO_SHA256_LEN];
	assert_int_equal(proof_challenge(ch), PROOF_OK);
	assert_int_equal(proof_digest_info(ch, di), PROOF_OK);
	assert_int_equal(ask_card_to_sign(f->card, 0x88, di, sizeof di), 0x6982); /* PIN1 first */
	verify_pin(f->card, 0x01, "123456");
	assert_int_equal(ask_card_to_sign(f->card, 0x88, di, sizeof di), 0x9000);
	assert_int_equal(proof_verify(f->auth, ch, rbuf, rlen - 2), PROOF_OK);
	/* The same answer does not prove possession for another challenge. */
	unsigned char other[PROOF_CHALLENGE_LEN];
	assert_int_equal(proof_challenge(other), PROOF_OK);
	assert_int_equal(proof_verify(f->auth, other, rbuf, rlen - 2), PROOF_E_SIGNATURE);
}

static void signature_certificate(void **state)
{
	struct fx *f = *state;
	verify_pin(f->card, 0x02, "654321");
	EVP_PKEY *pub = generate(f->card);
	struct signer s = { .card = f->card };
	unsigned char *csr = NULL;
	size_t len = 0;
	assert_int_equal(csr_build(f->auth, pub, sim_signer, &s, &csr, &len), CSR_OK);
	assert_int_equal(s.sw, 0x9000);

	struct issue_ctx ctx = { .card_id = "vpcd:9752269885715693047",
				 .session_ok = true,
				 .auth_cert = f->auth,
				 .trust_level = 3 };
	struct issue_result res = { 0 };
	assert_int_equal(issuer_issue(f->is, csr, len, &ctx, &res), ISSUER_OK);
	struct certcheck_in in = {
		.cert = res.cert, .chain = res.chain, .card_key = pub, .auth_cert = f->auth
	};
	char detail[200];
	certcheck_err cc = certcheck_signature_cert(f->trust, &in, detail, sizeof detail);
	if (cc != CERTCHECK_OK)
		fail_msg("certcheck: %s (%s)", certcheck_strerror(cc), detail);
	/* The card's own signing key (EF 4502 source) is the certified one. */
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(res.cert), sim_card_key(f->card, 0x02)->pkey),
			 1);

	/* Another GENERATE (e.g. a second job or program) replaces the key: the old certificate no
	 * longer matches, and a CSR for the old public key signed by the card now fails. */
	EVP_PKEY *newer = generate(f->card);
	in.card_key = newer;
	assert_int_equal(certcheck_signature_cert(f->trust, &in, NULL, 0),
			 CERTCHECK_E_KEY_MISMATCH);
	unsigned char *stale = NULL;
	size_t stale_len = 0;
	assert_int_equal(csr_build(f->auth, pub, sim_signer, &s, &stale, &stale_len),
			 CSR_E_SIGNATURE);
	assert_null(stale);

	issue_result_free(&res);
	OPENSSL_free(csr);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(newer);
}

static void signer_needs_pin2(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *pub = EVP_PKEY_dup(sim_card_key(f->card, 0x02)->pkey);
	assert_non_null(pub);
	struct signer s = { .card = f->card };
	unsigned char *csr = NULL;
	size_t len = 0;
	assert_int_equal(csr_build(f->auth, pub, sim_signer, &s, &csr, &len), CSR_E_SIGNER);
	assert_int_equal(s.sw, 0x6982); /* the card's reason stays with the signer's caller */
	assert_null(csr);
	EVP_PKEY_free(pub);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(pki, sizeof pki, "%s/domain-sim-pki", SITHS_TEST_BINARY_DIR);
	return fx_run("sh '%s/certs/test-siths-pki.sh' '%s' >/dev/null", SITHS_SOURCE_DIR, pki);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = { T(login_proof), T(signature_certificate),
					    T(signer_needs_pin2) };
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
