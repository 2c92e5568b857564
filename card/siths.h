/* siths.h — the SITHS layer: reads a PKCS#15 card (EF.DIR, ODF, TokenInfo, AODF, PrKDF, PuKDF,
 * CDF, certificates, PIN counters) through a transport and builds the card model. Works with
 * any PKCS#15 layout (absolute or relative paths, application by AID or by path); nothing here
 * is specific to the virtual card. Read-only apart from empty VERIFYs (which never consume a
 * try). No PIN ever passes through this module. */
#ifndef SITHS_SITHS_H
#define SITHS_SITHS_H

#include "apdu.h"
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

#endif
