/* cards.h — the card part of the REST API: GET /v1/readers, GET /v1/cards, GET /v1/cards/{id},
 * all answered from the card core's cache (no card I/O), the "pcsc" part of /health, and the
 * handling of the card core's events (log line, a removed card's sessions ended, then the event).
 * Errors are those of errmap.h. Thread-safe. */
#ifndef SITHS_CARDS_H
#define SITHS_CARDS_H

#include <jansson.h>
#include <stdbool.h>

#include "card.h"
#include "rest.h"

unsigned cards_readers(struct rest_ctx *ctx, const struct rest_req *req, json_t **out);
unsigned cards_list(struct rest_ctx *ctx, const struct rest_req *req, json_t **out);
unsigned cards_one(struct rest_ctx *ctx, const struct rest_req *req, json_t **out);

/* The answer of every card route while the card core is not running: 503 cards_unavailable. */
unsigned cards_unavailable(json_t **out);

/* health_part_fn (user = card_core *): {"reachable":bool,"readers":n,"cards":n}; degraded while
 * pcscd cannot be reached. */
json_t *cards_health(void *user, bool *degraded);

/* card_event_fn (user = struct rest_ctx *, whose sessions and events are set before the core
 * starts and outlive it): logs ev; for a removed card ends its sessions before card-removed is
 * sent, so no page can use them after that. */
void cards_event(const struct card_event *ev, void *user);

#endif
