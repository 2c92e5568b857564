/* session.h — the card session behind card.h's work on one card (private to card/): runs a
 * card_work_fn over a transport already inside its PC/SC transaction, with the model and the
 * PKCS#15 layout read when the card was inserted. core.c wraps it in the claim, the
 * transaction, the reset and the re-read; unit tests run it over the in-process virtual card. */
#ifndef SITHS_CARD_SESSION_H
#define SITHS_CARD_SESSION_H

#include "apdu.h"
#include "card.h"
#include "siths.h"

/* Selects the card's application, then calls fn. layout (borrowed for the call) is the stored
 * one; NULL or unusable: it is read from the card first, as it was not kept. An error before
 * fn is returned without calling it — the caller still wipes the PIN it gave fn. */
card_err card_session_run(const struct apdu_transport *t, const struct card_model *m,
			  const struct siths_layout *layout, card_work_fn fn, void *user);

#endif
