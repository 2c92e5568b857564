/* proof.c — challenge, message and verification of the login proof of possession. The
 * verification hashes label || challenge itself and lets OpenSSL check the PKCS#1 v1.5 padding
 * and DigestInfo, so a card answer is accepted only if it is exactly that signature. */
#include "proof.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#define MIN_RSA_BITS 2048

const char *proof_strerror(proof_err e)
{
	switch (e) {
	case PROOF_OK: return "ok";
	case PROOF_E_ARG: return "invalid argument";
	case PROOF_E_RANDOM: return "random number generator failed";
	case PROOF_E_KEY: return "authentication certificate has no usable RSA key";
	case PROOF_E_SIGNATURE: return "the card's signature over the challenge does not verify";
	case PROOF_E_OPENSSL: return "OpenSSL failure while checking the card's signature";
	}
	return "unknown proof error";
}

proof_err proof_challenge(unsigned char out[PROOF_CHALLENGE_LEN])
{
	if (!out)
		return PROOF_E_ARG;
	return RAND_bytes(out, PROOF_CHALLENGE_LEN) == 1 ? PROOF_OK : PROOF_E_RANDOM;
}

proof_err proof_digest_info(const unsigned char challenge[PROOF_CHALLENGE_LEN],
			    unsigned char out[DIGESTINFO_SHA256_LEN])
{
	if (!challenge || !out)
		return PROOF_E_ARG;
	return digestinfo_sha256(PROOF_LABEL, strlen(PROOF_LABEL), challenge, PROOF_CHALLENGE_LEN,
				 out)
		? PROOF_OK
		: PROOF_E_OPENSSL;
}

proof_err proof_verify(const X509 *auth_cert, const unsigned char challenge[PROOF_CHALLENGE_LEN],
		       const unsigned char *sig, size_t sig_len)
{
	if (!auth_cert || !challenge || !sig)
		return PROOF_E_ARG;
	EVP_PKEY *pub = X509_get0_pubkey(auth_cert);
	if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bits(pub) < MIN_RSA_BITS)
		return PROOF_E_KEY;
	if (sig_len != (size_t)EVP_PKEY_get_size(pub))
		return PROOF_E_SIGNATURE; /* PKCS#1 signatures are exactly modulus-sized */
	proof_err rc = PROOF_E_OPENSSL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestVerifyInit(c, &pctx, EVP_sha256(), NULL, pub) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_DigestVerifyUpdate(c, PROOF_LABEL, strlen(PROOF_LABEL)) != 1 ||
	    EVP_DigestVerifyUpdate(c, challenge, PROOF_CHALLENGE_LEN) != 1)
		goto out;
	rc = EVP_DigestVerifyFinal(c, sig, sig_len) == 1 ? PROOF_OK : PROOF_E_SIGNATURE;
out:
	if (rc != PROOF_OK)
		ERR_clear_error();
	EVP_MD_CTX_free(c);
	return rc;
}

/* ---- a login on the card ---- */

struct login_work {
	char *pin;
	struct proof_outcome *o;
};

/* Inside card_with_card: VERIFY PIN1, then the card's signature over a fresh challenge. */
static card_err login_work(card_session *s, const struct card_model *m, void *user)
{
	struct login_work *w = user;
	unsigned char challenge[PROOF_CHALLENGE_LEN], di[DIGESTINFO_SHA256_LEN], sig[512];
	size_t sig_len = 0, der_len = 0;
	const uint8_t *der = NULL;
	X509 *auth = NULL;
	(void)m;
	card_err e = card_verify_pin(s, CARD_PIN1, w->pin, &w->o->tries_left);
	if (e)
		goto out;
	if (proof_challenge(challenge) || proof_digest_info(challenge, di)) {
		e = CARD_E_INTERNAL;
		goto out;
	}
	if ((e = card_sign(s, CARD_KEY_AUTH, di, sizeof(di), sig, sizeof(sig), &sig_len)) !=
	    CARD_OK)
		goto out;
	card_auth_cert(s, &der, &der_len);
	const unsigned char *p = der;
	auth = der ? d2i_X509(NULL, &p, (long)der_len) : NULL;
	if (!auth || proof_verify(auth, challenge, sig, sig_len) != PROOF_OK) {
		w->o->proof_failed = true;
		e = CARD_E_BAD_DATA;
	}
out:
	X509_free(auth);
	return e;
}

card_err proof_login(card_core *core, const char *card_id, char *pin, struct proof_outcome *o)
{
	struct login_work w = { .pin = pin, .o = o };
	o->tries_left = -1;
	o->proof_failed = false;
	card_err e = card_with_card(core, card_id, login_work, &w);
	OPENSSL_cleanse(pin, strlen(pin)); /* card_verify_pin wiped it too, if it ran */
	return e;
}
