/* session.h — the card session behind card.h's work on one card (private to card/): runs a
 * card_work_fn over a transport already inside its PC/SC transaction, with the model and the
 * PKCS#15 layout read when the card was inserted. core.c wraps it in the claim, the
 * transaction, the reset and the re-read; unit tests run it over the in-process virtual card. */
#ifndef SITHS_CARD_SESSION_H
#define SITHS_CARD_SESSION_H

#include "apdu.h"
#include "card.h"
#include "siths.h"

/* What the work's commands did to the card, so that the read after the card's reset asks the
 * card only what the answers did not tell. */
enum session_pin {
	SESSION_PIN_UNTOUCHED, /* no command for this PIN reached the card */
	SESSION_PIN_KNOWN,     /* the card's own answer told its state (st) */
	SESSION_PIN_ASK,       /* only the card can tell: verified (its counter full again, by how
				* much the card alone knows) */
};
struct session_effects {
	/* A command that may change files, keys or codes was sent (GENERATE, UPDATE BINARY,
	 * CHANGE REFERENCE DATA, RESET RETRY COUNTER), or a PIN command got no usable answer:
	 * the whole model must be read again. */
	bool changed;
	enum session_pin pin[2]; /* by enum card_pin_which */
	struct iso_pin_status st[2];
	bool restored[2]; /* a right code was accepted: the counter is full again */
	/* The signature certificate written, read back equal and committed, for the key this work
	 * generated — the work's own account of every file it changed (sign: as a whole read would
	 * make it). Any command after it that may change the card clears it. */
	bool sign_written;
	struct card_cert_info sign;
};

/* Selects the card's application, then calls fn. layout (borrowed for the call) is the stored
 * one; NULL or unusable: it is read from the card first, as it was not kept. An error before
 * fn is returned without calling it — the caller still wipes the PIN it gave fn. *fx (may be
 * NULL) is filled with what the commands did, whatever the outcome. */
card_err card_session_run(const struct apdu_transport *t, const struct card_model *m,
			  const struct siths_layout *layout, card_work_fn fn, void *user,
			  struct session_effects *fx);

/* After the card's reset, for work that changed nothing (!fx->changed) or whose changes it
 * accounts for itself (fx->sign_written): m's signature certificate as written, and its PIN
 * entries as the work left them — known states set, and for each PIN to ask the application's
 * SELECT once and an empty VERIFY (no PIN sent); the rest of m stays as read at insertion, and
 * no PIN is marked verified (the reset ended that). Transport errors are returned, m then
 * partly updated. */
card_err session_read_counters(const struct apdu_transport *t, const struct siths_layout *l,
			       const struct session_effects *fx, struct card_model *m);

/* After either read (whole or counters), for each PIN whose right code the work gave: m's
 * counter is then the full one, and becomes its tries_max (card_pin). */
void session_learn_max(const struct session_effects *fx, struct card_model *m);

#endif
