/* sim_crypto.c — the virtual card's private key operations and the security environment that
 * chooses the key. Command data are simple BER-TLVs (one-byte tags), walked by one bounded
 * reader; signatures are PKCS#1 v1.5 type 1 over the caller's DigestInfo or challenge. */
#include "sim_crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "sim_der.h"
#include "sim_p15.h"
#include "sim_pins.h"

/* Walks simple BER-TLVs (one-byte tags, lengths up to 81 xx) in [p, p+n); calls fn for each. */
static uint16_t each_tlv(const uint8_t *p, size_t n,
			 uint16_t (*fn)(void *, uint8_t, const uint8_t *, size_t), void *u)
{
	size_t i = 0;
	while (i < n) {
		uint8_t tag = p[i++];
		size_t len;
		if ((tag & 0x1F) == 0x1F || i >= n)
			return SIM_SW_WRONG_DATA;
		len = p[i++];
		if (len == 0x81) {
			if (i >= n)
				return SIM_SW_WRONG_DATA;
			len = p[i++];
		} else if (len > 0x80) {
			return SIM_SW_WRONG_DATA;
		}
		if (len > n - i)
			return SIM_SW_WRONG_DATA;
		uint16_t sw = fn(u, tag, p + i, len);
		if (sw != SIM_SW_OK)
			return sw;
		i += len;
	}
	return SIM_SW_OK;
}

struct mse {
	struct sim_card *c;
	int key;
};

static uint16_t mse_tlv(void *u, uint8_t tag, const uint8_t *v, size_t n)
{
	struct mse *m = u;
	switch (tag) {
	case 0x80: /* algorithm reference: RSA PKCS#1 v1.5 is the only one, any value accepted */
	case 0x89:
	case 0x95: return n ? SIM_SW_OK : SIM_SW_WRONG_DATA;
	case 0x81: /* file reference: must name DF.PKCS15 (or the MF) */
		if (n < 2 || n % 2)
			return SIM_SW_WRONG_DATA;
		{
			uint16_t fid = (uint16_t)(v[n - 2] << 8 | v[n - 1]);
			return fid == SIM_FID_APP || fid == SIM_FID_MF ? SIM_SW_OK
								       : SIM_SW_REF_NOT_FOUND;
		}
	case 0x83:
	case 0x84:
		if (n != 1)
			return SIM_SW_WRONG_DATA;
		if (!sim_card_key(m->c, v[0]))
			return SIM_SW_REF_NOT_FOUND;
		m->key = v[0];
		return SIM_SW_OK;
	default: return SIM_SW_WRONG_DATA;
	}
}

uint16_t sim_crypto_mse(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	struct mse m = { c, -1 };
	(void)r;
	if (k->p1 == 0xF3) { /* RESTORE: back to the default (empty) environment */
		c->s.dst_key = c->s.at_key = -1;
		return k->lc ? SIM_SW_WRONG_LENGTH : SIM_SW_OK;
	}
	if ((k->p1 & 0x0F) != 0x01 || (k->p1 & 0x30) || !(k->p1 & 0xC0))
		return SIM_SW_P1P2;
	if (k->p2 != 0xB6 && k->p2 != 0xA4)
		return SIM_SW_P1P2;
	uint16_t sw = each_tlv(k->data, k->lc, mse_tlv, &m);
	if (sw != SIM_SW_OK)
		return sw;
	if (k->p2 == 0xB6)
		c->s.dst_key = m.key;
	else
		c->s.at_key = m.key;
	return SIM_SW_OK;
}

/* PKCS#1 v1.5 type-1 padding of `in` (a DigestInfo or raw challenge) and RSA with the key. */
static uint16_t rsa_sign(struct sim_card *c, struct sim_key *key, const struct sim_cmd *k,
			 struct sim_rsp *r)
{
	if (!k->lc)
		return SIM_SW_WRONG_LENGTH;
	if (!sim_pins_verified(c, key->pin_ref))
		return SIM_SW_SECURITY;
	if (k->lc > 256 - 11)
		return SIM_SW_WRONG_LENGTH;
	uint8_t sig[256];
	size_t siglen = sizeof(sig);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key->pkey, NULL);
	int ok = ctx && EVP_PKEY_sign_init(ctx) > 0 &&
		EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
		EVP_PKEY_sign(ctx, sig, &siglen, k->data, k->lc) > 0;
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return SIM_SW_MEMORY;
	sim_cmd_delay(c, 300);
	sim_cmd_put(r, sig, siglen);
	return SIM_SW_OK;
}

uint16_t sim_crypto_pso(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	if (k->p1 != 0x9E || k->p2 != 0x9A)
		return SIM_SW_P1P2; /* only COMPUTE DIGITAL SIGNATURE */
	if (c->s.dst_key < 0)
		return SIM_SW_CONDITIONS;
	return rsa_sign(c, sim_card_key(c, (uint8_t)c->s.dst_key), k, r);
}

uint16_t sim_crypto_internal_auth(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	if (k->p1 != 0x00)
		return SIM_SW_P1P2;
	int ref = k->p2 ? (k->p2 & 0x7F) : c->s.at_key >= 0 ? c->s.at_key : SIM_AUTH_KEY_REF;
	struct sim_key *key = sim_card_key(c, (uint8_t)ref);
	return key ? rsa_sign(c, key, k, r) : SIM_SW_REF_NOT_FOUND;
}

static uint16_t gen_tlv(void *u, uint8_t tag, const uint8_t *v, size_t n)
{
	int *ref = u;
	if (tag == 0xAC || tag == 0xB6 || tag == 0xA4 || tag == 0xB8)
		return each_tlv(v, n, gen_tlv, u);
	if (tag == 0x84 || tag == 0x83) {
		if (n != 1)
			return SIM_SW_WRONG_DATA;
		*ref = v[0];
		return SIM_SW_OK;
	}
	return tag == 0x80 ? SIM_SW_OK : SIM_SW_WRONG_DATA;
}

static void public_key_template(const struct sim_key *key, struct sim_rsp *r)
{
	BIGNUM *n = NULL, *e = NULL;
	uint8_t mod[256], exp[8];
	struct sim_der d;
	sim_der_init(&d);
	if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_N, &n) &&
	    EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, &e) &&
	    BN_bn2binpad(n, mod, sizeof(mod)) == sizeof(mod) &&
	    BN_num_bytes(e) <= (int)sizeof(exp)) {
		int elen = BN_bn2bin(e, exp);
		size_t m = sim_der_open(&d, 0x7F49);
		sim_der_put(&d, 0x81, mod, sizeof(mod));
		sim_der_put(&d, 0x82, exp, (size_t)elen);
		sim_der_close(&d, m);
		if (!d.failed)
			sim_cmd_put(r, d.buf, d.len);
	}
	BN_free(n);
	BN_free(e);
	sim_der_free(&d);
}

uint16_t sim_crypto_generate(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	int ref = k->p2;
	if (k->p1 != 0x00)
		return SIM_SW_P1P2;
	if (!ref) {
		uint16_t sw = each_tlv(k->data, k->lc, gen_tlv, &ref);
		if (sw != SIM_SW_OK)
			return sw;
		if (!ref)
			return SIM_SW_WRONG_DATA;
	}
	struct sim_key *key = sim_card_key(c, (uint8_t)(ref & 0x7F));
	if (!key)
		return SIM_SW_REF_NOT_FOUND;
	if (!key->generatable)
		return SIM_SW_CONDITIONS;
	if (!sim_pins_verified(c, key->pin_ref))
		return SIM_SW_SECURITY;
	sim_cmd_delay(c, 4000);
	if (sim_card_generate_key(c, key) != SIM_OK)
		return SIM_SW_MEMORY;
	uint16_t sw = sim_cmd_save(c);
	if (sw == SIM_SW_OK)
		public_key_template(key, r);
	return r->len || sw != SIM_SW_OK ? sw : SIM_SW_MEMORY;
}

uint16_t sim_crypto_get_challenge(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	uint8_t b[256];
	(void)c;
	if (k->p1 || k->p2)
		return SIM_SW_P1P2;
	if (k->lc || !k->le || k->ne > sizeof(b))
		return SIM_SW_WRONG_LENGTH;
	if (RAND_bytes(b, (int)k->ne) != 1)
		return SIM_SW_MEMORY;
	sim_cmd_put(r, b, k->ne);
	return SIM_SW_OK;
}
