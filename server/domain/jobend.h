/* jobend.h — how a signature-certificate download ends, decided from facts and never from
 * timing: after the card work (its outcome, whether the commit APDU was sent, whether the
 * card's model shows a certificate of the key the job generated, whether the card went) and,
 * for a job whose card went after the commit was sent, from the model read when the same card
 * is inserted again. Pure functions, no I/O; the job engine (certjob.c) keeps the state. */
#ifndef SITHS_JOBEND_H
#define SITHS_JOBEND_H

#include <stdbool.h>

#include "card.h"

enum jobend {
	JOBEND_DONE,        /* the card shows a certificate of the job's key */
	JOBEND_INTERRUPTED, /* the card went after the commit was sent: its return decides; after
			     * a return, a card that could not be read (its next return decides) */
	JOBEND_REMOVED,     /* the card went before the commit: nothing of the job is on it */
	JOBEND_NOT_SHOWN,   /* the commit was answered, the card is there, its model does not show
			     * the certificate */
	JOBEND_CARD_ERROR,  /* the work failed on a card that is still there (or a refusal) */
	JOBEND_RETURNED_WITHOUT, /* back without the job's certificate: the commit did not happen */
	JOBEND_RETURNED_OTHER,   /* back with a certificate of another key (another state) */
};

/* What the card work came to. */
struct jobend_work {
	card_err err;     /* the outcome of the work and the transaction (card_claim_run) */
	bool commit_sent; /* card_write_sign_cert's *commit_sent */
	bool shows_cert;  /* jobend_shows_cert() on the card's model after the work */
	bool gone;        /* card_gone(): the card went (only looked at when !shows_cert) */
};

/* The model m (NULL: the card is not known) shows a certificate of key (NULL: none was
 * generated, then false): a model that does was read after the job's commit. */
bool jobend_shows_cert(const struct card_model *m, const struct card_pubkey *key);

/* After the card work: DONE, INTERRUPTED, REMOVED, NOT_SHOWN or CARD_ERROR. */
enum jobend jobend_after_work(const struct jobend_work *w);

/* An interrupted job's card (same id) is back with model m: DONE, RETURNED_WITHOUT,
 * RETURNED_OTHER, or INTERRUPTED when m is a card that could not be read. */
enum jobend jobend_returned(const struct card_model *m, const struct card_pubkey *key);

#endif
