/* siths.h — the SITHS layer: reads a PKCS#15 card (EF.DIR, ODF, TokenInfo, AODF, PrKDF, PuKDF,
 * CDF, certificates, PIN counters) through a transport and builds the card model. Works with
 * any PKCS#15 layout (absolute or relative paths, application by AID or by path); nothing here
 * is specific to the virtual card. Read-only apart from empty VERIFYs (which never consume a
 * try). No PIN ever passes through this module. */
#ifndef SITHS_SITHS_H
#define SITHS_SITHS_H

#include "apdu.h"
#include "iso.h"
#include "model.h"

/* Fills *m from the card (m->reader, m->reader_id and m->atr are kept, everything else is
 * overwritten; m->id is set from the card number, see siths_card_id). Malformed card data
 * gives CARD_STATUS_ERROR with m->error / m->error_detail and returns that error, with the
 * fields read so far filled in. Transport errors (CARD_E_REMOVED, CARD_E_RESET, …) are
 * returned as they are and leave the model incomplete. */
card_err siths_read(const struct apdu_transport *t, struct card_model *m);

/* The card id: "c" + the first 16 hex digits of SHA-256("siths-card:" card_number), so the
 * same card keeps its id across insertions, readers and daemon restarts without exposing the
 * number in URLs. A card without a readable number gets "c" + hash of "siths-reader:" reader
 * name and ATR. out holds CARD_ID_LEN bytes. */
void siths_card_id(const struct card_model *m, char *out);

/* Trust level for a certificatePolicies OID in dotted form, 0 if it is none of ours
 * (docs/virtual-card.md: 2.999.752.1.N for the test hierarchy). */
int siths_trust_level(const char *oid);

/* The key identity of card_cert_info.key_id (model.h) for an RSA key given as big-endian
 * modulus and exponent (leading zeros are skipped). */
void siths_key_id(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
		  unsigned char out[32]);

/* ---- Where the card operations act (ops.c, session.c) ----
 * Found the same way siths_read() finds them. The signature certificate's EF is the one the CDF
 * lists for the signing key or, when none is listed yet, SITHS_SIGN_CERT_FID in the
 * application DF (the SITHS layout, docs/virtual-card.md). */
#include "p15.h"

#define SITHS_SIGN_CERT_FID 0x4302

/* How a PIN is presented to the card, from its AODF entry: the rules of the card model's
 * card_pin plus the encoding of the command data. */
struct siths_pin {
	bool present;
	uint8_t ref;               /* P2 of VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER */
	unsigned min_len, max_len; /* as the model's card_pin */
	uint32_t type;             /* P15_PIN_TYPE_* */
	uint32_t flags;            /* P15_PIN_* (needs-padding, change/unblock-disabled) */
	unsigned stored_len;       /* padded to this with pad_char when needs-padding */
	uint8_t pad_char;          /* the AODF's padChar, else 00 (as OpenSC) */
};

struct siths_layout {
	bool usable;                      /* complete: the card operations can use it */
	struct siths_pin pin1, pin2, puk; /* puk: the one that unblocks PIN1 (SITHS: both PINs) */
	struct p15_app app;
	struct p15_path cdf;       /* the (first) CDF */
	struct p15_path sign_cert; /* the signature certificate's EF (no range) */
	struct p15_id sign_id;     /* iD of the signing key (= of its certificate entry) */
	uint32_t auth_key_ref, sign_key_ref;
	uint8_t *auth_cert; /* DER of the authentication certificate, malloc'd */
	size_t auth_cert_len;
};

/* siths_read() that also fills *l from what it read, without one more APDU: the layout of the
 * card operations, read once when the card appears. l->usable is false when the read did not
 * get that far or the card has no such layout (siths_layout_read() tells why). The caller frees
 * l with siths_layout_free() whatever the outcome. */
card_err siths_read_layout(const struct apdu_transport *t, struct card_model *m,
			   struct siths_layout *l);

/* Reads the layout alone (caller frees with siths_layout_free). CARD_E_NOT_SUPPORTED when the
 * card has no CDF, no key references or no signing key. */
card_err siths_layout_read(const struct apdu_transport *t, struct siths_layout *l);
/* A deep copy (dst freed with siths_layout_free); CARD_E_NOMEM leaves dst unusable. */
card_err siths_layout_copy(struct siths_layout *dst, const struct siths_layout *src);
void siths_layout_free(struct siths_layout *l);

/* The model's account of a certificate given as DER (as a whole read of the card makes it):
 * CARD_E_BAD_DATA when it does not parse. */
card_err siths_cert_info(const uint8_t *der, size_t n, struct card_cert_info *ci);

/* Selects the EF at p (absolute, or relative to the application). */
card_err siths_select(const struct apdu_transport *t, const struct p15_app *app,
		      const struct p15_path *p, struct iso_file *fi);
/* Selects the application DF (by its path, else by its AID). */
card_err siths_select_app(const struct apdu_transport *t, const struct p15_app *app);

#endif
