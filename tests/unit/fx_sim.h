/* fx_sim.h — test fixture: the virtual card's interpreter (card/sim) in-process as an APDU
 * transport, optionally pulled after a number of APDUs, and cards made from the default profile
 * on a test PKI generated once per test program. Failures abort the running cmocka test.
 * Cards returned belong to the caller (sim_card_free). */
#ifndef SITHS_FX_SIM_H
#define SITHS_FX_SIM_H

#include "apdu.h"
#include "sim/sim_card.h"

/* transport ctx: the card, answering until pull_after APDUs were answered (-1: never). */
struct fx_simt {
	struct sim_card *card;
	long pull_after;
	long count;   /* APDUs answered so far */
};

card_err fx_sim_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *len);

/* Generates the test PKI (certs/test-siths-pki.sh) in SITHS_TEST_BINARY_DIR/name for
 * fx_sim_card(); 0 on success. Call once from main() before the tests run. */
int fx_sim_pki(const char *name);

/* A card from the default profile, changed by tweak (may be NULL) before it is created. */
struct sim_card *fx_sim_card(void (*tweak)(struct sim_profile *));

#endif
