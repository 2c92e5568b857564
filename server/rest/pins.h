/* pins.h — the PIN management handlers: POST /v1/cards/{id}/pins/{pin}/change (body exactly
 * {"pin": old, "new_pin": new}: CHANGE REFERENCE DATA) and POST /v1/cards/{id}/pins/{pin}/unblock
 * (body exactly {"puk": puk, "new_pin": new}: RESET RETRY COUNTER), {pin} pin1 or pin2.
 * No login session: the old code or the PUK is the credential (docs/security.md). Every code is
 * checked against the card's AODF rules before any APDU, the command is sent once and never
 * retried, and the answer carries the card model the core re-read (also pushed as card-updated).
 * Error codes and statuses are those of docs/api/openapi.yaml. The codes are copied out of the
 * body, wiped after use and never logged. Thread-safe. */
#ifndef SITHS_PINS_H
#define SITHS_PINS_H

#include <jansson.h>

#include "rest.h"

unsigned pins_change(struct rest_ctx *ctx, const struct rest_req *req, json_t **out);
unsigned pins_unblock(struct rest_ctx *ctx, const struct rest_req *req, json_t **out);

#endif
