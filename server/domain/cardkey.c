/* cardkey.c — the card-held key as an RSA key with a method of its own. OpenSSL 3.0 offers two
 * ways to put an external key under its signing code: a provider (key management, signature and
 * algorithm-identifier plumbing, several hundred lines) or an RSA_METHOD, deprecated since 3.0
 * but supported throughout 3.x. A key with its own method is "foreign" to OpenSSL, never
 * exported to a provider, so every signature goes through this method's sign callback. The
 * deprecation is silenced in this file only; a provider is the way once 3.0 is no longer the
 * floor. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "cardkey.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "digestinfo.h"

/* What a key's method calls, kept in the RSA's application data and freed with it. */
struct signer {
	csr_sign_fn sign;
	void *user;
};

static RSA_METHOD *card_method;
static int (*default_finish)(RSA *rsa);
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

const char *cardkey_strerror(cardkey_err e)
{
	switch (e) {
	case CARDKEY_OK: return "ok";
	case CARDKEY_E_NOMEM: return "out of memory";
	case CARDKEY_E_ARG: return "bad argument";
	case CARDKEY_E_KEY: return "the certificate's key is not an RSA key of 2048 bits or more";
	}
	return "unknown error";
}

/* RSA_sign's hook: m is the SHA-256 hash OpenSSL made of what it signs. */
static int card_sign(int type, const unsigned char *m, unsigned int m_len, unsigned char *sigret,
		     unsigned int *siglen, const RSA *rsa)
{
	const struct signer *s = RSA_get_app_data(rsa);
	unsigned char di[DIGESTINFO_SHA256_LEN];
	size_t cap = (size_t)RSA_size(rsa), len = 0;
	if (!s || type != NID_sha256 || m_len != 32 || !digestinfo_of_sha256(m, di) ||
	    s->sign(s->user, di, sizeof di, sigret, cap, &len) != 0 || len != cap)
		return 0;
	/* A card that answers with something else than a signature of this key fails here. */
	if (RSA_verify(type, m, m_len, sigret, (unsigned int)len, (RSA *)rsa) != 1)
		return 0;
	*siglen = (unsigned int)len;
	return 1;
}

/* Raw private operations (PSS, decryption, no padding) have no card command here. */
static int refuse_raw(int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int padding)
{
	(void)flen, (void)from, (void)to, (void)rsa, (void)padding;
	ERR_raise(ERR_LIB_RSA, RSA_R_OPERATION_NOT_SUPPORTED_FOR_THIS_KEYTYPE);
	return -1;
}

static int card_finish(RSA *rsa)
{
	free(RSA_get_app_data(rsa));
	RSA_set_app_data(rsa, NULL);
	return default_finish ? default_finish(rsa) : 1;
}

/* Once per process; kept for its life (a static method, as OpenSSL's own). */
static void make_method(void)
{
	RSA_METHOD *m = RSA_meth_dup(RSA_PKCS1_OpenSSL());
	default_finish = RSA_meth_get_finish(RSA_PKCS1_OpenSSL());
	if (m && RSA_meth_set1_name(m, "siths card key") && RSA_meth_set_sign(m, card_sign) &&
	    RSA_meth_set_priv_enc(m, refuse_raw) && RSA_meth_set_priv_dec(m, refuse_raw) &&
	    RSA_meth_set_finish(m, card_finish)) {
		card_method = m;
		return;
	}
	RSA_meth_free(m);
}

cardkey_err cardkey_new(const X509 *cert, csr_sign_fn sign, void *user, EVP_PKEY **out)
{
	if (!cert || !sign || !out)
		return CARDKEY_E_ARG;
	*out = NULL;
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bits(pub) < CSR_MIN_RSA_BITS)
		return CARDKEY_E_KEY;
	pthread_once(&method_once, make_method);
	BIGNUM *n = NULL, *e = NULL;
	struct signer *s = malloc(sizeof *s);
	RSA *rsa = card_method && s ? RSA_new() : NULL;
	EVP_PKEY *key = rsa ? EVP_PKEY_new() : NULL;
	cardkey_err rc = CARDKEY_E_NOMEM;
	if (!key || !EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e))
		goto out;
	/* The method first: its finish frees the signer from then on. */
	if (!RSA_set_method(rsa, card_method))
		goto out;
	*s = (struct signer){ sign, user };
	RSA_set_app_data(rsa, s);
	s = NULL;
	if (!RSA_set0_key(rsa, n, e, NULL))
		goto out;
	n = e = NULL;
	if (!EVP_PKEY_assign_RSA(key, rsa))
		goto out;
	rsa = NULL;
	*out = key;
	key = NULL;
	rc = CARDKEY_OK;
out:
	BN_free(n);
	BN_free(e);
	RSA_free(rsa);
	EVP_PKEY_free(key);
	free(s);
	return rc;
}
