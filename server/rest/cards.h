/* cards.h — the cards part of the daemon: runs the card core (card/card.h), serves
 * GET /v1/readers, GET /v1/cards, GET /v1/cards/{id} from its cache (no card I/O), pushes
 * card-inserted / card-removed / card-updated / reader-added / reader-removed over the WebSocket,
 * greets new WebSocket clients with the current cards, and reports the pcsc part of /health.
 * Handlers return an HTTP status and a new JSON reference in *body (the caller decrefs);
 * errors are {"error":{"code","message"}}. All functions are thread-safe. */
#ifndef SITHS_CARDS_H
#define SITHS_CARDS_H

#include <jansson.h>

#include "card.h"
#include "ws.h"

typedef struct cards cards;

/* Starts the card core (pcscd may be down: it is retried in the background). *out is released
 * with cards_stop(). */
card_err cards_start(cards **out);
/* Events are broadcast to ws from now on (NULL: stop broadcasting, before ws_stop()). */
void cards_set_ws(cards *c, ws_server *ws);
/* Called on the monitor thread when a card is removed, before card-removed is broadcast (issue 4:
 * its sessions are revoked at once). NULL fn: no hook. fn must not call back into cards. */
typedef void (*cards_removed_fn)(const char *card_id, void *user);
void cards_set_removed_hook(cards *c, cards_removed_fn fn, void *user);
/* Stops the core and frees. NULL is fine. */
void cards_stop(cards *c);
/* The core, for card_with_card() (issue 4). */
card_core *cards_core(cards *c);

int cards_get_readers(cards *c, json_t **body);
int cards_get_cards(cards *c, json_t **body);
int cards_get_card(cards *c, const char *id, json_t **body);

/* {"reachable":bool,"readers":n,"cards":n} (new reference). */
json_t *cards_health(cards *c);

/* ws_greeting_fn (user = cards *): a JSON array text of one card-inserted message per card
 * currently known, malloc'd; NULL if there are none. */
char *cards_ws_greeting(void *user);

/* The JSON of one card / reader, as in GET /v1/cards (new references). */
json_t *cards_model_json(const struct card_model *m);
json_t *cards_reader_json(const struct card_reader *r);

#endif
