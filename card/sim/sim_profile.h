/* sim_profile.h — who the virtual card belongs to: the seed's card by default, overridable by a
 * JSON card file (see docs/virtual-card.md). Plain fixed-size strings, no ownership to manage;
 * callers must sim_profile_wipe() a profile when done because it holds the initial PINs. */
#ifndef SITHS_SIM_PROFILE_H
#define SITHS_SIM_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "sim.h"

enum sim_card_type { SIM_CARD_ORDINARY, SIM_CARD_RESERVE };

struct sim_profile {
	enum sim_card_type card_type;
	int trust_level;      /* 2 or 3 */
	char holder[128];     /* CN, e.g. "Olof Svensson Andersson" */
	char given_name[128]; /* givenName; default: first word of holder */
	char surname[128];    /* surname; default: the rest of holder */
	char organisation[128];
	char hsa_id[64]; /* subject serialNumber */
	char upn[128];
	char email[128];
	char card_number[20]; /* 19 digits, TokenInfo serialNumber */
	char valid_from[11];  /* YYYY-MM-DD, certificates' notBefore (00:00:00Z) */
	char valid_to[11];    /* YYYY-MM-DD, certificates' notAfter (23:59:59Z) */
	char pin1[9], pin2[9], puk[9];
	/* false: PIN2 is still the letter's value (the security code) and must be activated by its
	 * holder before it signs — a reserve card whose letter holds two codes. Only for a reserve
	 * card without a signature certificate (one is only ever downloaded with PIN2). */
	bool pin2_activated;
	bool with_signature_certificate;
};

/* The seed's card: Olof Svensson Andersson, Västra Götalandsregionen, trust level 3, no
 * signature certificate, PIN1 123456, PIN2 654321 (activated), PUK 12345678. */
void sim_profile_default(struct sim_profile *p);

/* Overrides fields of *p from the JSON card file `path`; on error writes a reason to err. */
enum sim_err sim_profile_load(struct sim_profile *p, const char *path, char *err, size_t errlen);

/* Checks every field (digits, lengths, dates, trust level); reason in err. */
enum sim_err sim_profile_check(const struct sim_profile *p, char *err, size_t errlen);

void sim_profile_wipe(struct sim_profile *p);

#endif
