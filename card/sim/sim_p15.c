/* sim_p15.c — DER contents of the virtual card's PKCS#15 directory files. Everything here is
 * deterministic for a given sim_p15_info, so the CDF entry the daemon writes can be compared with
 * what a freshly created card with a signature certificate holds. */
#include "sim_p15.h"

#include <string.h>

const uint8_t sim_p15_aid[12] = { 0xA0, 0x00, 0x00, 0x00, 0x63, 0x50,
				  0x4B, 0x43, 0x53, 0x2D, 0x31, 0x35 };

/* Bits of the PKCS#15 BIT STRINGs used below. */
enum { OBJ_PRIVATE = 1 << 0, OBJ_MODIFIABLE = 1 << 1 };
enum { PIN_LOCAL = 1 << 1, PIN_INITIALIZED = 1 << 4, PIN_UNBLOCKING = 1 << 6 };
enum { USE_SIGN = 1 << 2, USE_VERIFY = 1 << 6, USE_NONREP = 1 << 9 };
enum {
	ACC_SENSITIVE = 1 << 0,
	ACC_ALWAYS_SENSITIVE = 1 << 2,
	ACC_NEVER_EXTRACTABLE = 1 << 3,
	ACC_LOCAL = 1 << 4
};
enum { TOKEN_PRN_GENERATION = 1 << 2 };

static void path(struct sim_der *d, uint16_t fid)
{
	uint8_t p[6] = {
		0x3F, 0x00, SIM_FID_APP >> 8, SIM_FID_APP & 0xFF, (uint8_t)(fid >> 8), (uint8_t)fid
	};
	size_t m = sim_der_open(d, 0x30);
	sim_der_put(d, 0x04, p, fid ? 6 : 4);
	sim_der_close(d, m);
}

/* Path with index and length, as CDF entries use it (length [0] is the exact certificate size). */
static void path_part(struct sim_der *d, uint16_t fid, size_t len)
{
	uint8_t p[6] = {
		0x3F, 0x00, SIM_FID_APP >> 8, SIM_FID_APP & 0xFF, (uint8_t)(fid >> 8), (uint8_t)fid
	};
	size_t m = sim_der_open(d, 0x30);
	sim_der_put(d, 0x04, p, 6);
	sim_der_uint(d, 0x02, 0);
	sim_der_uint(d, 0x80, len);
	sim_der_close(d, m);
}

static void id(struct sim_der *d, uint8_t v)
{
	sim_der_put(d, 0x04, &v, 1);
}

static void common_obj(struct sim_der *d, const char *label, unsigned long flags, uint8_t auth_id)
{
	size_t m = sim_der_open(d, 0x30);
	sim_der_utf8(d, label);
	sim_der_bits(d, flags);
	if (auth_id)
		id(d, auth_id);
	sim_der_close(d, m);
}

void sim_p15_efdir(struct sim_der *d)
{
	static const uint8_t app_path[4] = { 0x3F, 0x00, SIM_FID_APP >> 8, SIM_FID_APP & 0xFF };
	size_t m = sim_der_open(d, 0x61);
	sim_der_put(d, 0x4F, sim_p15_aid, sizeof(sim_p15_aid));
	sim_der_put(d, 0x50, "SITHS eID", 9);
	sim_der_put(d, 0x51, app_path, sizeof(app_path));
	sim_der_close(d, m);
}

static void odf_entry(struct sim_der *d, unsigned tag, uint16_t fid)
{
	size_t m = sim_der_open(d, tag);
	path(d, fid);
	sim_der_close(d, m);
}

void sim_p15_odf(struct sim_der *d)
{
	odf_entry(d, 0xA0, SIM_FID_PRKDF);
	odf_entry(d, 0xA1, SIM_FID_PUKDF);
	odf_entry(d, 0xA4, SIM_FID_CDF);
	odf_entry(d, 0xA8, SIM_FID_AODF);
}

void sim_p15_tokeninfo(struct sim_der *d, const struct sim_p15_info *in)
{
	const char *label = in->card_type == SIM_CARD_RESERVE ? "SITHS e-id Reservkort"
							      : "SITHS e-id Ordinarie kort";
	size_t m = sim_der_open(d, 0x30);
	sim_der_uint(d, 0x02, 0);
	sim_der_put(d, 0x04, in->card_number, strlen(in->card_number));
	sim_der_utf8(d, "siths-bridge siths-cardsim");
	sim_der_put(d, 0x80, label, strlen(label));
	sim_der_bits(d, TOKEN_PRN_GENERATION);
	sim_der_close(d, m);
}

static void pin_obj(struct sim_der *d, const char *label, uint8_t auth_id, unsigned long flags,
		    unsigned min, unsigned max, uint8_t ref, uint8_t unblocked_by,
		    const char *changed)
{
	size_t m = sim_der_open(d, 0x30);
	common_obj(d, label, OBJ_MODIFIABLE, unblocked_by);
	size_t a = sim_der_open(d, 0x30);
	id(d, auth_id);
	sim_der_close(d, a);
	size_t t = sim_der_open(d, 0xA1);
	size_t s = sim_der_open(d, 0x30);
	sim_der_bits(d, flags);
	sim_der_put(d, 0x0A, "\x01", 1); /* ascii-numeric */
	sim_der_uint(d, 0x02, min);
	sim_der_uint(d, 0x02, max); /* storedLength */
	sim_der_uint(d, 0x02, max); /* maxLength */
	sim_der_uint(d, 0x80, ref); /* pinReference [0] */
	if (changed && changed[0])  /* lastPinChange GeneralizedTime */
		sim_der_put(d, 0x18, changed, strlen(changed));
	path(d, 0);
	sim_der_close(d, s);
	sim_der_close(d, t);
	sim_der_close(d, m);
}

void sim_p15_aodf(struct sim_der *d, const char *const changed[3])
{
	pin_obj(d, "legitimering", SIM_ID_AUTH, PIN_LOCAL | PIN_INITIALIZED, 6, 8, SIM_PIN1_REF,
		SIM_ID_PUK, changed[0]);
	pin_obj(d, "underskrift", SIM_ID_SIGN, PIN_LOCAL | PIN_INITIALIZED, 6, 8, SIM_PIN2_REF,
		SIM_ID_PUK, changed[1]);
	pin_obj(d, "PUK", SIM_ID_PUK, PIN_LOCAL | PIN_INITIALIZED | PIN_UNBLOCKING, 8, 8,
		SIM_PUK_REF, 0, changed[2]);
}

static void prkey(struct sim_der *d, const char *label, uint8_t key_id, unsigned long usage,
		  uint8_t ref)
{
	size_t m = sim_der_open(d, 0x30);
	common_obj(d, label, OBJ_PRIVATE, key_id);
	size_t k = sim_der_open(d, 0x30);
	id(d, key_id);
	sim_der_bits(d, usage);
	sim_der_bits(d, ACC_SENSITIVE | ACC_ALWAYS_SENSITIVE | ACC_NEVER_EXTRACTABLE | ACC_LOCAL);
	sim_der_uint(d, 0x02, ref);
	sim_der_close(d, k);
	size_t t = sim_der_open(d, 0xA1);
	size_t a = sim_der_open(d, 0x30);
	path(d, 0); /* the key lives in DF.PKCS15; never an empty path (OpenSC drops the PrKDF) */
	sim_der_uint(d, 0x02, 2048);
	sim_der_close(d, a);
	sim_der_close(d, t);
	sim_der_close(d, m);
}

void sim_p15_prkdf(struct sim_der *d)
{
	prkey(d, "Legitimering", SIM_ID_AUTH, USE_SIGN, SIM_AUTH_KEY_REF);
	prkey(d, "Underskrift", SIM_ID_SIGN, USE_NONREP, SIM_SIGN_KEY_REF);
}

static void pubkey(struct sim_der *d, const char *label, uint8_t key_id, uint16_t fid)
{
	size_t m = sim_der_open(d, 0x30);
	common_obj(d, label, 0, 0);
	size_t k = sim_der_open(d, 0x30);
	id(d, key_id);
	sim_der_bits(d, USE_VERIFY);
	sim_der_close(d, k);
	size_t t = sim_der_open(d, 0xA1);
	size_t a = sim_der_open(d, 0x30);
	path(d, fid);
	sim_der_uint(d, 0x02, 2048);
	sim_der_close(d, a);
	sim_der_close(d, t);
	sim_der_close(d, m);
}

void sim_p15_pukdf(struct sim_der *d)
{
	pubkey(d, "Legitimering", SIM_ID_AUTH, SIM_FID_AUTH_PUB);
	pubkey(d, "Underskrift", SIM_ID_SIGN, SIM_FID_SIGN_PUB);
}

static void cert(struct sim_der *d, const char *label, unsigned long flags, uint8_t cert_id,
		 int authority, uint16_t fid, size_t len)
{
	size_t m = sim_der_open(d, 0x30);
	common_obj(d, label, flags, 0);
	size_t c = sim_der_open(d, 0x30);
	id(d, cert_id);
	if (authority)
		sim_der_put(d, 0x01, "\xFF", 1);
	sim_der_close(d, c);
	size_t t = sim_der_open(d, 0xA1);
	size_t a = sim_der_open(d, 0x30);
	path_part(d, fid, len);
	sim_der_close(d, a);
	sim_der_close(d, t);
	sim_der_close(d, m);
}

void sim_p15_cdf_sign_entry(struct sim_der *d, size_t cert_len)
{
	cert(d, "Underskrift", OBJ_MODIFIABLE, SIM_ID_SIGN, 0, SIM_FID_SIGN_CERT, cert_len);
}

void sim_p15_cdf(struct sim_der *d, const struct sim_p15_info *in)
{
	cert(d, "Legitimering", 0, SIM_ID_AUTH, 0, SIM_FID_AUTH_CERT, in->auth_cert_len);
	cert(d, "SITHS Person CA", 0, 0x11, 1, SIM_FID_CA_CERT, in->ca_cert_len);
	cert(d, "SITHS Root CA", 0, 0x12, 1, SIM_FID_ROOT_CERT, in->root_cert_len);
	if (in->sign_cert_len)
		sim_p15_cdf_sign_entry(d, in->sign_cert_len);
}
