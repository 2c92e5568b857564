/* login.h — the login handlers: POST /v1/cards/{id}/login (PIN1 + proof of possession → a
 * session bound to the card and the Origin) and POST /v1/cards/{id}/logout; and the checks of a
 * PIN request and of a session that the download handler (jobs.c) and the PIN management
 * handlers (pins.c) share.
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

/* Which of the card's codes a code of a request is, and so which rules (model pin1, pin2 or puk)
 * it follows and how answers name it. */
enum login_code_kind { LOGIN_CODE_PIN1, LOGIN_CODE_PIN2, LOGIN_CODE_PUK };

/* One code of a request body: the member it comes in, its kind, the copy of it. */
struct login_code {
	const char *member;
	enum login_code_kind kind;
	char value[LOGIN_PIN_BUF];
};

/* The part of a PIN request that touches no card: card `id` of the path into *m; the body must be
 * exactly the members of codes[0..n), strings, plus optional[0..n_opt) if there (400
 * bad_request; the caller checks those); each code is copied into its value
 * and checked, in order, against the rules of its kind in *m (400 bad_pin with "field",
 * "min_length", "max_length": nothing sent, no try used). 0, or the error answer's status with
 * *out set. The caller wipes the values, whatever the outcome. */
unsigned login_pin_request(card_core *core, const struct rest_req *req, struct card_model *m,
			   struct login_code *codes, size_t n, const char *const optional[],
			   size_t n_opt, json_t **out);

/* The rules in m of a code of kind. */
const struct card_pin *login_code_rules(const struct card_model *m, enum login_code_kind kind);

/* The answer to a wrong or blocked code of kind with tries_left: e CARD_E_PIN_WRONG (tries 0
 * counts as blocked), CARD_E_PIN_BLOCKED or CARD_E_PUK_BLOCKED. A PIN: 401 wrong_pin / 423
 * pin_blocked; the PUK: 401 wrong_puk / 423 puk_blocked (final). */
unsigned login_pin_error(json_t **out, card_err e, int tries, enum login_code_kind kind);

/* 0 for SESSION_VALID, else the answer (401 login_required / session_expired, 403 wrong_card /
 * wrong_origin) with *out set. */
unsigned login_session_refusal(enum session_status s, json_t **out);

#endif
