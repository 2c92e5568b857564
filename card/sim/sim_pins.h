/* sim_pins.h — the virtual card's PIN commands (ISO 7816-4): VERIFY, CHANGE REFERENCE DATA and
 * RESET RETRY COUNTER for PIN1, PIN2 and the PUK, with retry counters that persist and a
 * verification status that lasts for the card session. Private to card/sim. */
#ifndef SITHS_SIM_PINS_H
#define SITHS_SIM_PINS_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_cmd.h"

sim_cmd_fn sim_pins_verify;      /* INS 20: P1 00 verify or ask for tries, FF forget */
sim_cmd_fn sim_pins_change_ref;  /* INS 24: P1 00 old + new value, 01 new value after VERIFY */
sim_cmd_fn sim_pins_reset_retry; /* INS 2C: P1 00-03, with the PUK now or verified before */

/* Whether the PIN with reference ref (one the card has) is verified in this card session: the
 * access rule of writing EFs and of using a key. */
bool sim_pins_verified(struct sim_card *c, uint8_t ref);

#endif
