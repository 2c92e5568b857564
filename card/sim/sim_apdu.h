/* sim_apdu.h — the virtual card's command interpreter: one C-APDU in, one R-APDU out (ISO 7816-4
 * short and extended length, -8 security commands, -9 key generation). Any byte string is a valid
 * input: malformed commands get the ISO status word that says why. */
#ifndef SITHS_SIM_APDU_H
#define SITHS_SIM_APDU_H

#include <stddef.h>
#include <stdint.h>

#include "sim_card.h"

/* Largest R-APDU: 65536 data bytes (extended Le = 0000) plus SW1 SW2. */
#define SIM_RAPDU_MAX (65536 + 2)

/* Command kinds, by name, for fault injection and logs. */
enum sim_kind {
	SIM_K_SELECT,
	SIM_K_READ_BINARY,
	SIM_K_UPDATE_BINARY,
	SIM_K_VERIFY,
	SIM_K_CHANGE_REF,
	SIM_K_RESET_RETRY,
	SIM_K_MSE,
	SIM_K_PSO_CDS,
	SIM_K_INTERNAL_AUTH,
	SIM_K_GENERATE_KEY,
	SIM_K_GET_RESPONSE,
	SIM_K_GET_CHALLENGE,
	SIM_K_OTHER,
	SIM_K_COUNT
};

enum sim_kind sim_apdu_kind(const uint8_t *apdu, size_t n);
/* "select", "read-binary", "update-binary", "verify", "change-ref", "reset-retry", "mse",
 * "pso-cds", "internal-auth", "generate-key", "get-response", "get-challenge", "other". */
const char *sim_kind_name(enum sim_kind k);
/* Kind for a name, or -1. */
int sim_kind_from_name(const char *name);

/* Processes one C-APDU against card c; writes the R-APDU (data + SW1 SW2) to out, which must hold
 * SIM_RAPDU_MAX bytes, and returns its length (always >= 2). Persists the card when it changes. */
size_t sim_apdu_process(struct sim_card *c, const uint8_t *apdu, size_t n, uint8_t *out);

#endif
