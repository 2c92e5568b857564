/* sim_apdu.c — the virtual card's command interpreter. Parsing (short/extended cases 1-4) and
 * response chaining (61xx + GET RESPONSE) are generic; each INS has one small handler that
 * returns a status word and may append response data. Access rules live in the handlers. */
#include "sim_apdu.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "sim_der.h"
#include "sim_p15.h"

enum {
	SW_OK = 0x9000, SW_EOF_WARNING = 0x6282, SW_MEMORY = 0x6581, SW_WRONG_LENGTH = 0x6700,
	SW_CHANNEL = 0x6881, SW_SM = 0x6882, SW_CHAINING = 0x6884, SW_INCOMPATIBLE = 0x6981,
	SW_SECURITY = 0x6982, SW_BLOCKED = 0x6983, SW_CONDITIONS = 0x6985, SW_NO_EF = 0x6986,
	SW_WRONG_DATA = 0x6A80, SW_FUNC = 0x6A81, SW_NOT_FOUND = 0x6A82, SW_NO_SPACE = 0x6A84,
	SW_P1P2 = 0x6A86, SW_LC_P1P2 = 0x6A87, SW_REF_NOT_FOUND = 0x6A88, SW_OFFSET = 0x6B00,
	SW_INS = 0x6D00, SW_CLA = 0x6E00,
};

struct cmd {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc, ne;  /* ne: maximum response length (256 / 65536 for Le = 00 / 0000) */
	bool le, ext;   /* Le field present; extended length */
};

struct rsp {
	uint8_t *buf;   /* SIM_RAPDU_MAX - 2 bytes */
	size_t len;
};

#define DATA_MAX (SIM_RAPDU_MAX - 2)

static void delay_ms(const struct sim_card *c, long ms)
{
	if (!c->realistic)
		return;
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) != 0)
		;
}

static uint16_t parse(const uint8_t *b, size_t n, struct cmd *k)
{
	memset(k, 0, sizeof(*k));
	k->cla = b[0];
	k->ins = b[1];
	k->p1 = b[2];
	k->p2 = b[3];
	if (n == 4)
		return 0;
	if (n == 5) {
		k->le = true;
		k->ne = b[4] ? b[4] : 256;
		return 0;
	}
	if (b[4]) { /* short Lc */
		k->lc = b[4];
		k->data = b + 5;
		if (n == 5 + k->lc)
			return 0;
		if (n != 6 + k->lc)
			return SW_WRONG_LENGTH;
		k->le = true;
		k->ne = b[n - 1] ? b[n - 1] : 256;
		return 0;
	}
	k->ext = true;
	if (n < 7)
		return SW_WRONG_LENGTH;
	if (n == 7) {
		k->le = true;
		k->ne = (size_t)(b[5] << 8 | b[6]);
		k->ne = k->ne ? k->ne : 65536;
		return 0;
	}
	k->lc = (size_t)(b[5] << 8 | b[6]);
	k->data = b + 7;
	if (k->lc == 0)
		return SW_WRONG_LENGTH;
	if (n == 7 + k->lc)
		return 0;
	if (n != 9 + k->lc)
		return SW_WRONG_LENGTH;
	k->le = true;
	k->ne = (size_t)(b[n - 2] << 8 | b[n - 1]);
	k->ne = k->ne ? k->ne : 65536;
	return 0;
}

static void put(struct rsp *r, const void *p, size_t n)
{
	/* Handlers never produce more than DATA_MAX bytes; the check keeps that a fact. */
	if (n > DATA_MAX - r->len)
		n = DATA_MAX - r->len;
	memcpy(r->buf + r->len, p, n);
	r->len += n;
}

static uint16_t save(struct sim_card *c) { return sim_card_save(c) == SIM_OK ? SW_OK : SW_MEMORY; }

/* ---- file system ---- */

static struct sim_file *child(struct sim_card *c, uint16_t df, uint16_t fid)
{
	struct sim_file *f = sim_card_file(c, fid);
	return f && f->parent == df && fid != SIM_FID_MF ? f : NULL;
}

/* SELECT P1=00: the MF, the current DF, its parent, or a child of either. */
static struct sim_file *by_fid(struct sim_card *c, uint16_t fid)
{
	struct sim_file *cur = sim_card_file(c, c->s.df);
	if (fid == SIM_FID_MF || fid == c->s.df)
		return sim_card_file(c, fid);
	if (cur->parent && fid == cur->parent)
		return sim_card_file(c, fid);
	struct sim_file *f = child(c, c->s.df, fid);
	return f ? f : (cur->parent ? child(c, cur->parent, fid) : NULL);
}

static struct sim_file *by_path(struct sim_card *c, uint16_t start, const uint8_t *p, size_t n)
{
	struct sim_file *f = sim_card_file(c, start);
	for (size_t i = 0; i < n; i += 2) {
		uint16_t fid = (uint16_t)(p[i] << 8 | p[i + 1]);
		if (i == 0 && start == SIM_FID_MF && fid == SIM_FID_MF)
			continue; /* tolerate a path that names the MF explicitly */
		if (!f->df || !(f = child(c, f->fid, fid)))
			return NULL;
	}
	return f;
}

static struct sim_file *by_name(struct sim_card *c, const uint8_t *p, size_t n)
{
	/* Right-truncated DF names select too (ISO 7816-4 7.1.1). */
	return n >= 1 && n <= sizeof(sim_p15_aid) && !memcmp(p, sim_p15_aid, n) ? sim_card_file(c, SIM_FID_APP) : NULL;
}

static void fcp(const struct sim_file *f, unsigned tag, struct rsp *r)
{
	struct sim_der d;
	uint8_t fid[2] = { (uint8_t)(f->fid >> 8), (uint8_t)f->fid };
	uint8_t size[2] = { (uint8_t)(f->size >> 8), (uint8_t)f->size };
	sim_der_init(&d);
	size_t m = sim_der_open(&d, tag);
	if (!f->df)
		sim_der_put(&d, 0x80, size, 2);
	sim_der_put(&d, 0x82, f->df ? "\x38" : "\x01", 1);
	sim_der_put(&d, 0x83, fid, 2);
	if (f->fid == SIM_FID_APP)
		sim_der_put(&d, 0x84, sim_p15_aid, sizeof(sim_p15_aid));
	sim_der_put(&d, 0x8A, "\x05", 1);
	sim_der_close(&d, m);
	if (!d.failed)
		put(r, d.buf, d.len);
	sim_der_free(&d);
}

static uint16_t select_file(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	struct sim_file *f = NULL, *cur = sim_card_file(c, c->s.df);
	if ((k->p2 & 0xF3) != 0)
		return SW_P1P2; /* only "first occurrence"; FCI, FCP or nothing */
	switch (k->p1) {
	case 0x00:
		if (k->lc != 0 && k->lc != 2)
			return SW_LC_P1P2;
		f = k->lc ? by_fid(c, (uint16_t)(k->data[0] << 8 | k->data[1])) : sim_card_file(c, SIM_FID_MF);
		break;
	case 0x01:
	case 0x02:
		if (k->lc != 2)
			return SW_LC_P1P2;
		f = child(c, c->s.df, (uint16_t)(k->data[0] << 8 | k->data[1]));
		if (f && f->df != (k->p1 == 0x01))
			f = NULL;
		break;
	case 0x03:
		if (k->lc)
			return SW_LC_P1P2;
		f = cur->parent ? sim_card_file(c, cur->parent) : NULL;
		break;
	case 0x04:
		if (k->lc == 0 || k->lc > 16)
			return SW_LC_P1P2;
		f = by_name(c, k->data, k->lc);
		break;
	case 0x08:
	case 0x09:
		if (k->lc == 0 || k->lc % 2)
			return SW_LC_P1P2;
		f = by_path(c, k->p1 == 0x08 ? SIM_FID_MF : c->s.df, k->data, k->lc);
		break;
	default:
		return SW_P1P2;
	}
	if (!f)
		return SW_NOT_FOUND;
	if (f->df) {
		c->s.df = f->fid;
		c->s.ef = 0;
	} else {
		c->s.df = f->parent;
		c->s.ef = f->fid;
	}
	/* P2 b4-b3: 00 FCI, 01 FCP, 10 FMD (none on this card: no data), 11 no data. */
	if ((k->p2 & 0x0C) == 0x00)
		fcp(f, 0x6F, r);
	else if ((k->p2 & 0x0C) == 0x04)
		fcp(f, 0x62, r);
	return SW_OK;
}

static struct sim_file *current_ef(struct sim_card *c) { return c->s.ef ? sim_card_file(c, c->s.ef) : NULL; }

static uint16_t read_binary(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	struct sim_file *f = current_ef(c);
	size_t off = (size_t)(k->p1 << 8 | k->p2);
	if (k->p1 & 0x80)
		return SW_FUNC; /* no short EF identifiers on this card */
	if (k->lc || !k->le)
		return SW_WRONG_LENGTH;
	if (!f)
		return SW_NO_EF;
	if (off >= f->size)
		return SW_OFFSET;
	size_t n = f->size - off < k->ne ? f->size - off : k->ne;
	put(r, f->data + off, n);
	bool wildcard = k->ne == (k->ext ? 65536u : 256u);
	return n < k->ne && !wildcard ? SW_EOF_WARNING : SW_OK;
}

static uint16_t update_binary(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	struct sim_file *f = current_ef(c);
	size_t off = (size_t)(k->p1 << 8 | k->p2);
	(void)r;
	if (k->p1 & 0x80)
		return SW_FUNC;
	if (!k->lc)
		return SW_WRONG_LENGTH;
	if (!f)
		return SW_NO_EF;
	if (f->write == SIM_ACC_NEVER)
		return SW_CONDITIONS;
	struct sim_pin *pin2 = sim_card_pin(c, SIM_PIN2_REF);
	if (!c->s.verified[sim_card_pin_index(c, pin2)])
		return SW_SECURITY;
	if (off > f->size)
		return SW_OFFSET;
	if (k->lc > f->size - off)
		return SW_NO_SPACE;
	delay_ms(c, 5);
	memcpy(f->data + off, k->data, k->lc);
	return save(c);
}

/* ---- PINs ---- */

static struct sim_pin *pin_for(struct sim_card *c, uint8_t p2)
{
	/* P2: b8 = global/specific, b5-b1 = reference; b7-b6 reserved. */
	return (p2 & 0x60) ? NULL : sim_card_pin(c, p2 & 0x1F);
}

static bool *verified(struct sim_card *c, const struct sim_pin *p) { return &c->s.verified[sim_card_pin_index(c, p)]; }

static uint16_t tries_sw(const struct sim_pin *p) { return p->tries ? (uint16_t)(0x63C0 | p->tries) : SW_BLOCKED; }

static uint16_t wrong_pin(struct sim_card *c, struct sim_pin *p)
{
	if (p->tries)
		p->tries--;
	*verified(c, p) = false;
	uint16_t sw = save(c);
	return sw == SW_OK ? (uint16_t)(0x63C0 | p->tries) : sw;
}

/* Marks a correctly presented PIN: counter back to the maximum, verified for this session. */
static uint16_t right_pin(struct sim_card *c, struct sim_pin *p)
{
	bool changed = p->tries != p->max_tries;
	p->tries = p->max_tries;
	*verified(c, p) = true;
	return changed ? save(c) : SW_OK;
}

static bool pin_format_ok(const struct sim_pin *p, const uint8_t *v, size_t n)
{
	if (n < p->min_len || n > p->max_len)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

static uint16_t verify(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	struct sim_pin *p = pin_for(c, k->p2);
	(void)r;
	if (k->p1 != 0x00 && k->p1 != 0xFF)
		return SW_P1P2;
	if (!p)
		return SW_REF_NOT_FOUND;
	if (k->p1 == 0xFF) { /* reset the verification status (ISO 7816-4:2013) */
		if (k->lc)
			return SW_WRONG_LENGTH;
		*verified(c, p) = false;
		return SW_OK;
	}
	if (!p->tries)
		return SW_BLOCKED;
	if (!k->lc)
		return *verified(c, p) ? SW_OK : tries_sw(p);
	delay_ms(c, 40);
	return sim_pin_matches(p, k->data, k->lc) ? right_pin(c, p) : wrong_pin(c, p);
}

static uint16_t set_new_pin(struct sim_card *c, struct sim_pin *p, const uint8_t *v, size_t n)
{
	if (!pin_format_ok(p, v, n))
		return SW_WRONG_DATA;
	if (sim_pin_set(p, v, n) != SIM_OK)
		return SW_MEMORY;
	*verified(c, p) = true;
	return save(c);
}

static uint16_t change_ref(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	struct sim_pin *p = pin_for(c, k->p2);
	(void)r;
	if (k->p1 > 1)
		return SW_P1P2;
	if (!p)
		return SW_REF_NOT_FOUND;
	if (!p->tries)
		return SW_BLOCKED;
	if (k->p1 == 1) /* new value only: the PIN must be verified in this session */
		return *verified(c, p) ? set_new_pin(c, p, k->data, k->lc) : SW_SECURITY;
	if (k->lc < 2 * p->min_len || k->lc > 2 * p->max_len)
		return SW_WRONG_LENGTH;
	/* Old and new value are not padded: only the split at the stored PIN's length can match. */
	for (size_t n = p->min_len; n <= p->max_len; n++) {
		size_t rest = k->lc - n;
		if (rest >= p->min_len && rest <= p->max_len && sim_pin_matches(p, k->data, n))
			return set_new_pin(c, p, k->data + n, rest);
	}
	return wrong_pin(c, p);
}

static uint16_t reset_retry(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	struct sim_pin *p = pin_for(c, k->p2), *puk = sim_card_pin(c, SIM_PUK_REF);
	size_t plen = puk->max_len;
	(void)r;
	if (k->p1 > 3)
		return SW_P1P2;
	if (!p)
		return SW_REF_NOT_FOUND;
	if (p == puk)
		return SW_P1P2;
	if (k->p1 >= 2) { /* the PUK was verified earlier in this session */
		if (!*verified(c, puk))
			return SW_SECURITY;
		if (k->p1 == 3) {
			if (k->lc)
				return SW_WRONG_LENGTH;
			p->tries = p->max_tries;
			return save(c);
		}
		return set_new_pin(c, p, k->data, k->lc);
	}
	size_t given = k->p1 == 0 ? plen : k->lc;
	if (k->lc < given || given == 0)
		return SW_WRONG_LENGTH;
	if (k->p1 == 0 && !pin_format_ok(p, k->data + plen, k->lc - plen))
		return SW_WRONG_DATA; /* checked first, so a bad new PIN costs no PUK try */
	if (!puk->tries)
		return SW_BLOCKED;
	if (!sim_pin_matches(puk, k->data, given))
		return wrong_pin(c, puk);
	puk->tries = puk->max_tries;
	if (k->p1 == 0) {
		uint16_t sw = set_new_pin(c, p, k->data + plen, k->lc - plen);
		*verified(c, p) = false;
		return sw;
	}
	p->tries = p->max_tries;
	return save(c);
}

/* ---- security environment and private key operations ---- */

/* Walks simple BER-TLVs (one-byte tags, lengths up to 81 xx) in [p, p+n); calls fn for each. */
static uint16_t each_tlv(const uint8_t *p, size_t n, uint16_t (*fn)(void *, uint8_t, const uint8_t *, size_t), void *u)
{
	size_t i = 0;
	while (i < n) {
		uint8_t tag = p[i++];
		size_t len;
		if ((tag & 0x1F) == 0x1F || i >= n)
			return SW_WRONG_DATA;
		len = p[i++];
		if (len == 0x81) {
			if (i >= n)
				return SW_WRONG_DATA;
			len = p[i++];
		} else if (len > 0x80) {
			return SW_WRONG_DATA;
		}
		if (len > n - i)
			return SW_WRONG_DATA;
		uint16_t sw = fn(u, tag, p + i, len);
		if (sw != SW_OK)
			return sw;
		i += len;
	}
	return SW_OK;
}

struct mse { struct sim_card *c; int key; };

static uint16_t mse_tlv(void *u, uint8_t tag, const uint8_t *v, size_t n)
{
	struct mse *m = u;
	switch (tag) {
	case 0x80: /* algorithm reference: RSA PKCS#1 v1.5 is the only one, any value accepted */
	case 0x89:
	case 0x95:
		return n ? SW_OK : SW_WRONG_DATA;
	case 0x81: /* file reference: must name DF.PKCS15 (or the MF) */
		if (n < 2 || n % 2)
			return SW_WRONG_DATA;
		{
			uint16_t fid = (uint16_t)(v[n - 2] << 8 | v[n - 1]);
			return fid == SIM_FID_APP || fid == SIM_FID_MF ? SW_OK : SW_REF_NOT_FOUND;
		}
	case 0x83:
	case 0x84:
		if (n != 1)
			return SW_WRONG_DATA;
		if (!sim_card_key(m->c, v[0]))
			return SW_REF_NOT_FOUND;
		m->key = v[0];
		return SW_OK;
	default:
		return SW_WRONG_DATA;
	}
}

static uint16_t mse(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	struct mse m = { c, -1 };
	(void)r;
	if (k->p1 == 0xF3) { /* RESTORE: back to the default (empty) environment */
		c->s.dst_key = c->s.at_key = -1;
		return k->lc ? SW_WRONG_LENGTH : SW_OK;
	}
	if ((k->p1 & 0x0F) != 0x01 || (k->p1 & 0x30) || !(k->p1 & 0xC0))
		return SW_P1P2;
	if (k->p2 != 0xB6 && k->p2 != 0xA4)
		return SW_P1P2;
	uint16_t sw = each_tlv(k->data, k->lc, mse_tlv, &m);
	if (sw != SW_OK)
		return sw;
	if (k->p2 == 0xB6)
		c->s.dst_key = m.key;
	else
		c->s.at_key = m.key;
	return SW_OK;
}

/* PKCS#1 v1.5 type-1 padding of `in` (a DigestInfo or raw challenge) and RSA with the key. */
static uint16_t rsa_sign(struct sim_card *c, struct sim_key *key, const struct cmd *k, struct rsp *r)
{
	if (!k->lc)
		return SW_WRONG_LENGTH;
	if (!c->s.verified[sim_card_pin_index(c, sim_card_pin(c, key->pin_ref))])
		return SW_SECURITY;
	if (k->lc > 256 - 11)
		return SW_WRONG_LENGTH;
	uint8_t sig[256];
	size_t siglen = sizeof(sig);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key->pkey, NULL);
	int ok = ctx && EVP_PKEY_sign_init(ctx) > 0 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
		 EVP_PKEY_sign(ctx, sig, &siglen, k->data, k->lc) > 0;
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return SW_MEMORY;
	delay_ms(c, 300);
	put(r, sig, siglen);
	return SW_OK;
}

static uint16_t pso(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	if (k->p1 != 0x9E || k->p2 != 0x9A)
		return SW_P1P2; /* only COMPUTE DIGITAL SIGNATURE */
	if (c->s.dst_key < 0)
		return SW_CONDITIONS;
	return rsa_sign(c, sim_card_key(c, (uint8_t)c->s.dst_key), k, r);
}

static uint16_t internal_auth(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	if (k->p1 != 0x00)
		return SW_P1P2;
	int ref = k->p2 ? (k->p2 & 0x7F) : c->s.at_key >= 0 ? c->s.at_key : SIM_AUTH_KEY_REF;
	struct sim_key *key = sim_card_key(c, (uint8_t)ref);
	return key ? rsa_sign(c, key, k, r) : SW_REF_NOT_FOUND;
}

static uint16_t gen_tlv(void *u, uint8_t tag, const uint8_t *v, size_t n)
{
	int *ref = u;
	if (tag == 0xAC || tag == 0xB6 || tag == 0xA4 || tag == 0xB8)
		return each_tlv(v, n, gen_tlv, u);
	if (tag == 0x84 || tag == 0x83) {
		if (n != 1)
			return SW_WRONG_DATA;
		*ref = v[0];
		return SW_OK;
	}
	return tag == 0x80 ? SW_OK : SW_WRONG_DATA;
}

static void public_key_template(const struct sim_key *key, struct rsp *r)
{
	BIGNUM *n = NULL, *e = NULL;
	uint8_t mod[256], exp[8];
	struct sim_der d;
	sim_der_init(&d);
	if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_N, &n) && EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, &e) &&
	    BN_bn2binpad(n, mod, sizeof(mod)) == sizeof(mod) && BN_num_bytes(e) <= (int)sizeof(exp)) {
		int elen = BN_bn2bin(e, exp);
		size_t m = sim_der_open(&d, 0x7F49);
		sim_der_put(&d, 0x81, mod, sizeof(mod));
		sim_der_put(&d, 0x82, exp, (size_t)elen);
		sim_der_close(&d, m);
		if (!d.failed)
			put(r, d.buf, d.len);
	}
	BN_free(n);
	BN_free(e);
	sim_der_free(&d);
}

static uint16_t generate(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	int ref = k->p2;
	if (k->p1 != 0x00)
		return SW_P1P2;
	if (!ref) {
		uint16_t sw = each_tlv(k->data, k->lc, gen_tlv, &ref);
		if (sw != SW_OK)
			return sw;
		if (!ref)
			return SW_WRONG_DATA;
	}
	struct sim_key *key = sim_card_key(c, (uint8_t)(ref & 0x7F));
	if (!key)
		return SW_REF_NOT_FOUND;
	if (!key->generatable)
		return SW_CONDITIONS;
	if (!c->s.verified[sim_card_pin_index(c, sim_card_pin(c, key->pin_ref))])
		return SW_SECURITY;
	delay_ms(c, 4000);
	if (sim_card_generate_key(c, key) != SIM_OK)
		return SW_MEMORY;
	uint16_t sw = save(c);
	if (sw == SW_OK)
		public_key_template(key, r);
	return r->len || sw != SW_OK ? sw : SW_MEMORY;
}

/* ---- miscellaneous ---- */

static uint16_t get_response(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	if (k->p1 || k->p2)
		return SW_P1P2;
	if (k->lc || !k->le)
		return SW_WRONG_LENGTH;
	size_t left = c->s.pending_len - c->s.pending_off;
	if (!c->s.pending || !left)
		return SW_CONDITIONS;
	if (!k->ext && k->ne < 256 && k->ne > left)
		return (uint16_t)(0x6C00 | left); /* wrong Le: SW2 gives the exact count */
	size_t n = left < k->ne ? left : k->ne;
	put(r, c->s.pending + c->s.pending_off, n);
	c->s.pending_off += n;
	left -= n;
	if (!left) {
		free(c->s.pending);
		c->s.pending = NULL;
		c->s.pending_len = c->s.pending_off = 0;
		return SW_OK;
	}
	return (uint16_t)(0x6100 | (left > 255 ? 0 : left));
}

static uint16_t get_challenge(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	uint8_t b[256];
	(void)c;
	if (k->p1 || k->p2)
		return SW_P1P2;
	if (k->lc || !k->le || k->ne > sizeof(b))
		return SW_WRONG_LENGTH;
	if (RAND_bytes(b, (int)k->ne) != 1)
		return SW_MEMORY;
	put(r, b, k->ne);
	return SW_OK;
}

static uint16_t get_data(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	(void)c, (void)k, (void)r;
	return SW_REF_NOT_FOUND; /* no data objects on this card */
}

typedef uint16_t (*handler_fn)(struct sim_card *, const struct cmd *, struct rsp *);

static const struct {
	uint8_t ins;
	enum sim_kind kind;
	handler_fn fn;
} commands[] = {
	{ 0xA4, SIM_K_SELECT, select_file },     { 0xB0, SIM_K_READ_BINARY, read_binary },
	{ 0xD6, SIM_K_UPDATE_BINARY, update_binary }, { 0x20, SIM_K_VERIFY, verify },
	{ 0x24, SIM_K_CHANGE_REF, change_ref },  { 0x2C, SIM_K_RESET_RETRY, reset_retry },
	{ 0x22, SIM_K_MSE, mse },                { 0x2A, SIM_K_PSO_CDS, pso },
	{ 0x88, SIM_K_INTERNAL_AUTH, internal_auth }, { 0x46, SIM_K_GENERATE_KEY, generate },
	{ 0xC0, SIM_K_GET_RESPONSE, get_response }, { 0x84, SIM_K_GET_CHALLENGE, get_challenge },
	{ 0xCA, SIM_K_OTHER, get_data },         { 0xCB, SIM_K_OTHER, get_data },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *const kind_names[SIM_K_COUNT] = { "select", "read-binary", "update-binary", "verify",
	"change-ref", "reset-retry", "mse", "pso-cds", "internal-auth", "generate-key", "get-response",
	"get-challenge", "other" };

const char *sim_kind_name(enum sim_kind k) { return k < SIM_K_COUNT ? kind_names[k] : "other"; }

int sim_kind_from_name(const char *name)
{
	for (int i = 0; i < SIM_K_COUNT; i++)
		if (!strcmp(name, kind_names[i]))
			return i;
	return -1;
}

enum sim_kind sim_apdu_kind(const uint8_t *apdu, size_t n)
{
	if (n < 4)
		return SIM_K_OTHER;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].ins == apdu[1])
			return commands[i].kind;
	return SIM_K_OTHER;
}

static uint16_t check_class(uint8_t cla)
{
	if (cla & 0xE0)
		return SW_CLA; /* proprietary and further interindustry classes */
	if (cla & 0x10)
		return SW_CHAINING;
	if (cla & 0x0C)
		return SW_SM;
	if (cla & 0x03)
		return SW_CHANNEL;
	return SW_OK;
}

static uint16_t dispatch(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	uint16_t sw = check_class(k->cla);
	if (sw != SW_OK)
		return sw;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].ins == k->ins)
			return commands[i].fn(c, k, r);
	return SW_INS;
}

/* Keeps what does not fit in Ne for GET RESPONSE; returns the 61xx status word. */
static uint16_t chain(struct sim_card *c, const struct cmd *k, struct rsp *r)
{
	size_t rest = r->len - k->ne;
	uint8_t *p = malloc(rest);
	if (!p)
		return SW_MEMORY;
	memcpy(p, r->buf + k->ne, rest);
	c->s.pending = p;
	c->s.pending_len = rest;
	c->s.pending_off = 0;
	r->len = k->ne;
	return (uint16_t)(0x6100 | (rest > 255 ? 0 : rest));
}

size_t sim_apdu_process(struct sim_card *c, const uint8_t *apdu, size_t n, uint8_t *out)
{
	struct cmd k;
	struct rsp r = { out, 0 };
	uint16_t sw = n < 4 ? SW_WRONG_LENGTH : parse(apdu, n, &k);

	if (n >= 4 && apdu[1] != 0xC0) { /* any other command ends a pending response */
		free(c->s.pending);
		c->s.pending = NULL;
		c->s.pending_len = c->s.pending_off = 0;
	}
	if (sw == 0)
		sw = dispatch(c, &k, &r);
	if (sw == SW_OK && r.len > k.ne)
		sw = chain(c, &k, &r);
	if (sw != SW_OK && sw != SW_EOF_WARNING && (sw & 0xFF00) != 0x6100) {
		OPENSSL_cleanse(out, r.len);
		r.len = 0;
	}
	out[r.len] = (uint8_t)(sw >> 8);
	out[r.len + 1] = (uint8_t)sw;
	return r.len + 2;
}
