/* sim_p15.h — the virtual card's ISO 7816-15 (PKCS#15) layout: file ids, references, and the
 * DER contents of EF.DIR, ODF, TokenInfo, AODF, PrKDF, PuKDF and CDF. docs/virtual-card.md is the
 * readable form of this header. Builders append to a caller-owned struct sim_der. */
#ifndef SITHS_SIM_P15_H
#define SITHS_SIM_P15_H

#include <stddef.h>
#include <stdint.h>

#include "sim_der.h"
#include "sim_profile.h"

#define SIM_FID_MF 0x3F00
#define SIM_FID_DIR 0x2F00
#define SIM_FID_APP 0x5015 /* DF.PKCS15, DF name = SIM_P15_AID */
#define SIM_FID_ODF 0x5031
#define SIM_FID_TOKENINFO 0x5032
#define SIM_FID_AODF 0x4401
#define SIM_FID_PRKDF 0x4402
#define SIM_FID_PUKDF 0x4403
#define SIM_FID_CDF 0x4404
#define SIM_FID_AUTH_CERT 0x4301
#define SIM_FID_SIGN_CERT 0x4302
#define SIM_FID_CA_CERT 0x4303 /* person CA of the card's trust level */
#define SIM_FID_ROOT_CERT 0x4304
#define SIM_FID_AUTH_PUB 0x4501 /* RSAPublicKey DER of the authentication key */
#define SIM_FID_SIGN_PUB 0x4502 /* RSAPublicKey DER of the signing key, rewritten by GENERATE */

#define SIM_CDF_SIZE 1024       /* entries, then 00 padding */
#define SIM_SIGN_CERT_SIZE 3072 /* all zero while no signature certificate is present */

#define SIM_PIN1_REF 0x01
#define SIM_PIN2_REF 0x02
#define SIM_PUK_REF 0x03
#define SIM_AUTH_KEY_REF 0x01 /* usable after PIN1 */
#define SIM_SIGN_KEY_REF 0x02 /* usable after PIN2; GENERATE needs PIN2 */

/* PKCS#15 object ids (iD / authId): key i and its certificate share id i. */
#define SIM_ID_AUTH 0x01
#define SIM_ID_SIGN 0x02
#define SIM_ID_PUK 0x03

extern const uint8_t sim_p15_aid[12];

struct sim_p15_info {
	enum sim_card_type card_type;
	const char *card_number;
	size_t auth_cert_len, sign_cert_len; /* sign_cert_len 0: no signature certificate */
	size_t ca_cert_len, root_cert_len;
};

void sim_p15_efdir(struct sim_der *d);
void sim_p15_odf(struct sim_der *d);
void sim_p15_tokeninfo(struct sim_der *d, const struct sim_p15_info *in);
/* PIN1, PIN2, PUK; changed[i] = that PIN's lastPinChange (YYYYMMDDHHMMSSZ), NULL or "": left out. */
void sim_p15_aodf(struct sim_der *d, const char *const changed[3]);
void sim_p15_prkdf(struct sim_der *d);
void sim_p15_pukdf(struct sim_der *d);
/* The CDF content without padding: auth cert, person CA, root CA, then the signature
 * certificate entry if in->sign_cert_len != 0. */
void sim_p15_cdf(struct sim_der *d, const struct sim_p15_info *in);
/* The one CDF entry for the signature certificate in EF 4302, length cert_len (the layout the
 * daemon writes as its commit point). */
void sim_p15_cdf_sign_entry(struct sim_der *d, size_t cert_len);

#endif
