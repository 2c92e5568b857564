/* login.h — the login handlers: POST /v1/cards/{id}/login (PIN1 + proof of possession → a
 * session bound to the card and the Origin) and POST /v1/cards/{id}/logout; and the checks of a
 * PIN request and of a session that the download handler (jobs.c) shares.
 * Error codes and statuses are those of docs/api/openapi.yaml. A PIN is copied out of the
 * request body (which the transport wipes), wiped after use and never logged. Thread-safe. */
#ifndef SITHS_LOGIN_H
#define SITHS_LOGIN_H

#include <jansson.h>
#include <stdbool.h>

#include "card.h"
#include "certjob.h"
#include "rest.h"
#include "session.h"

#define LOGIN_PIN_BUF (CERTJOB_PIN_MAX + 1)

unsigned login_post(struct rest_ctx *ctx, const struct rest_req *req, json_t **out);
/* Ends the Bearer session of this card and Origin at once (204); body empty or {}. Missing or
 * unknown 401 login_required, expired 401 session_expired, another card's or Origin's session
 * 403 (and it stays). Never touches the card. */
unsigned login_logout(struct rest_ctx *ctx, const struct rest_req *req, json_t **out);

/* The part of a PIN request that touches no card: card `id` of the path into *m, the body's
 * "pin" into pin, its format against the card's PIN1 (pin2 false) or PIN2. 0, or the error
 * answer's status with *out set. */
unsigned login_pin_request(card_core *core, const struct rest_req *req, bool pin2,
			   struct card_model *m, char pin[LOGIN_PIN_BUF], json_t **out);

/* The answer to a wrong or blocked PIN (e) with tries_left; which names the PIN. */
unsigned login_pin_error(json_t **out, card_err e, int tries, const char *which);

/* 0 for SESSION_VALID, else the answer (401 login_required / session_expired, 403 wrong_card /
 * wrong_origin) with *out set. */
unsigned login_session_refusal(enum session_status s, json_t **out);

#endif
