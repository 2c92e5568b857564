/* card.h — the card core's facade, the whole contract between card/ and the server: start/stop
 * the core (PC/SC monitor thread + SITHS reader), card events, snapshots of readers and cards,
 * health; card_err (err.h) is the one error enum every layer of card/ returns.
 * Threads: events are delivered on the core's monitor thread; every other function is
 * thread-safe. Snapshots are deep copies owned by the caller (free with card_snapshot_free). */
#ifndef SITHS_CARD_H
#define SITHS_CARD_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "model.h"

typedef struct card_core card_core;

enum card_event_kind {
	CARD_EV_PCSC_UP,        /* pcscd reachable (again) */
	CARD_EV_PCSC_DOWN,      /* pcscd gone: readers and cards were removed before this event */
	CARD_EV_READER_ADDED,
	CARD_EV_READER_REMOVED,
	CARD_EV_CARD_INSERTED,  /* card: the model just read (possibly with status error) */
	CARD_EV_CARD_REMOVED,   /* card: the last model of the card that went */
	CARD_EV_CARD_UPDATED,   /* card: the model re-read after card_with_card() */
};

struct card_event {
	enum card_event_kind kind;
	const struct card_reader *reader; /* always set except for PCSC_UP/DOWN */
	const struct card_model *card;    /* for CARD_* events */
};

/* Called on the monitor thread (or the thread of card_with_card for CARD_UPDATED); the pointers
 * are valid only during the call. Must not call card_core_stop(). */
typedef void (*card_event_fn)(const struct card_event *ev, void *user);

/* Starts the core: a monitor thread that connects to pcscd (retrying with back-off when it is
 * not there), lists readers, reads every card that appears and reports events. Returns
 * CARD_OK even when pcscd is down (that is an event, not an error). *out is owned by the caller
 * and released with card_core_stop(). */
card_err card_core_start(card_event_fn fn, void *user, card_core **out);

/* Stops the monitor thread (SCardCancel), frees everything. NULL is fine. */
void card_core_stop(card_core *core);

struct card_snapshot {
	struct card_reader *readers; size_t n_readers;
	struct card_model *cards;    size_t n_cards;
	bool pcsc_up;
};

/* Deep copy of the current readers and cards (cards in reader order). No card I/O. */
card_err card_snapshot_get(card_core *core, struct card_snapshot *out);
void card_snapshot_free(struct card_snapshot *s);

/* One card by id into *out (a copy). CARD_E_NO_CARD if there is no such card. */
card_err card_get(card_core *core, const char *id, struct card_model *out);

/* Waits until card `id` has left (its reader is empty or gone), at most timeout_ms: true when it
 * has. Woken by the monitor's removal, not by polling; no card I/O. */
bool card_wait_gone(card_core *core, const char *id, long timeout_ms);

struct card_health {
	bool pcsc_up;
	size_t readers, cards;
};
void card_health_get(card_core *core, struct card_health *out);

/* Issue 4 (planned, implemented in core.c): runs fn with exclusive access to card `id` inside a
 * PC/SC transaction on a context of the caller's thread; the transport passed to fn speaks to
 * that card only. Afterwards the model is re-read in the same transaction (when fn returned
 * CARD_OK or asked for it via *reread) and CARD_EV_CARD_UPDATED is emitted if it changed. */
struct apdu_transport;
typedef card_err (*card_work_fn)(const struct apdu_transport *t, const struct card_model *m,
				 void *user);
card_err card_with_card(card_core *core, const char *id, card_work_fn fn, void *user);

#endif
