/* login.c — the handlers of login with PIN1 and a proof of card possession, and of logout.
 * Checks that need no card (body, PIN format against the AODF, blocked PIN) come first, so a
 * refused request never costs a PIN try. Card errors reach the wire through errmap.h only. */
#include "login.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cards.h"
#include "errmap.h"
#include "log.h"
#include "proof.h"
#include "routes.h"

/* ---- codes in a request ---- */

const struct card_pin *login_code_rules(const struct card_model *m, enum login_code_kind kind)
{
	return kind == LOGIN_CODE_PUK ? &m->puk : kind == LOGIN_CODE_PIN2 ? &m->pin2 : &m->pin1;
}

static const char *code_name(enum login_code_kind kind)
{
	return kind == LOGIN_CODE_PUK     ? "PUK"
		: kind == LOGIN_CODE_PIN2 ? "signature code (PIN2)"
					  : "authentication code (PIN1)";
}

/* 400 bad_request naming the body the request must have: {"m1": "digits", …}. */
static unsigned bad_body(const struct login_code *codes, size_t n, json_t **out)
{
	char msg[160] = "the body must be {";
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(msg);
		snprintf(msg + l, sizeof(msg) - l, "%s\"%s\": \"digits\"", i ? ", " : "",
			 codes[i].member);
	}
	size_t l = strlen(msg);
	snprintf(msg + l, sizeof(msg) - l, "}");
	return rest_fail(out, 400, "bad_request", msg);
}

/* 400 bad_pin for code c against rules p: which member, and the lengths the card takes. */
static unsigned bad_pin(const struct login_code *c, const struct card_pin *p, json_t **out)
{
	char msg[160];
	unsigned min = p->min_len ? p->min_len : 1, max = p->max_len ? p->max_len : 8;
	snprintf(msg, sizeof(msg), "the %s must be %u to %u digits", code_name(c->kind), min, max);
	unsigned st = errmap_fail(out, CARD_E_PIN_FORMAT, msg);
	rest_error_set(*out, "field", json_string(c->member));
	rest_error_set(*out, "min_length", json_integer(min));
	rest_error_set(*out, "max_length", json_integer(max));
	return st;
}

unsigned login_pin_request(card_core *core, const struct rest_req *req, struct card_model *m,
			   struct login_code *codes, size_t n, const char *const optional[],
			   size_t n_opt, json_t **out)
{
	const char *members[4];
	const char *id = rest_capture(req, "id");
	if (!id || card_get(core, id, m) != CARD_OK)
		return errmap_fail(out, CARD_E_NO_CARD, "no such card");
	if (n > sizeof(members) / sizeof(members[0]))
		return rest_fail(out, 500, "internal_error", "too many codes");
	for (size_t i = 0; i < n; i++)
		members[i] = codes[i].member;
	if (!rest_body_members(req->body, members, n, optional, n_opt))
		return bad_body(codes, n, out);
	for (size_t i = 0; i < n; i++)
		if (!rest_body_string(req->body, codes[i].member, codes[i].value,
				      sizeof(codes[i].value)))
			return bad_body(codes, n, out);
	for (size_t i = 0; i < n; i++) {
		const struct card_pin *p = login_code_rules(m, codes[i].kind);
		if (!p->present) {
			char msg[80];
			snprintf(msg, sizeof(msg), "the card has no %s", code_name(codes[i].kind));
			return errmap_fail(out, CARD_E_NOT_SUPPORTED, msg);
		}
		if (!card_pin_format_ok(p, codes[i].value))
			return bad_pin(&codes[i], p, out);
	}
	return 0;
}

unsigned login_pin_error(json_t **out, card_err e, int tries, enum login_code_kind kind)
{
	char msg[160];
	bool puk = kind == LOGIN_CODE_PUK;
	unsigned st;
	if (e == CARD_E_PIN_WRONG && tries == 0)
		e = puk ? CARD_E_PUK_BLOCKED : CARD_E_PIN_BLOCKED;
	if (e == CARD_E_PUK_BLOCKED || e == CARD_E_PIN_BLOCKED) {
		snprintf(msg, sizeof(msg), "the %s is blocked: %s", code_name(kind),
			 puk ? "the card must be replaced" : "unblock it with the PUK");
		st = errmap_fail(out, e, msg);
		tries = 0;
	} else {
		snprintf(msg, sizeof(msg), "wrong %s", code_name(kind));
		/* The card core has one "wrong code" error; which code it was is the request's. */
		st = puk ? rest_fail(out, 401, "wrong_puk", msg) : errmap_fail(out, e, msg);
	}
	if (tries >= 0)
		rest_error_set(*out, "tries_left", json_integer(tries));
	return st;
}

/* ---- login ---- */

/* The answer to a login whose card work ended with e. */
static unsigned login_result(struct rest_ctx *ctx, const struct rest_req *req, const char *id,
			     card_err e, const struct proof_outcome *o, json_t **out)
{
	char token[SESSION_TOKEN_LEN + 1], tag[SESSION_TAG_LEN + 1];
	if (e == CARD_E_PIN_WRONG || e == CARD_E_PIN_BLOCKED) {
		log_info("login", "card %s: %s", id,
			 e == CARD_E_PIN_WRONG ? "wrong PIN1" : "PIN1 blocked");
		return login_pin_error(out, e, o->tries_left, LOGIN_CODE_PIN1);
	}
	if (o->proof_failed) {
		log_warn("login", "card %s: the proof of possession did not verify", id);
		return rest_fail(out, 403, "proof_failed",
				 "the card could not prove it holds the authentication key");
	}
	if (e && card_gone(ctx->core, id, e))
		e = CARD_E_REMOVED;
	if (e == CARD_E_BUSY || e == CARD_E_REMOVED) /* nothing the card did wrong: not logged */
		return errmap_fail(out, e, card_strerror(e));
	if (e) {
		log_warn("login", "card %s: %s", id, card_strerror(e));
		return errmap_fail(out, e, card_strerror(e));
	}
	if (session_create(ctx->sessions, id, req->origin, token) != SESSION_OK)
		return rest_fail(out, 500, "internal_error", "no session could be created");
	session_tag(token, tag);
	log_info("login", "card %s: logged in (session %s)", id, tag);
	*out = json_pack("{s:s, s:i}", "session", token, "expires_in",
			 (int)(SESSION_LIFETIME_MS / 1000));
	OPENSSL_cleanse(token, sizeof(token));
	return *out ? 200 : rest_fail(out, 500, "internal_error", "out of memory");
}

unsigned login_post(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	struct card_model m;
	struct proof_outcome o = { .tries_left = -1 };
	struct login_code pin = { "pin", LOGIN_CODE_PIN1, "" };
	const char *id = rest_capture(req, "id");
	unsigned st;
	if (!ctx->core) {
		st = cards_unavailable(out);
		goto out;
	}
	if ((st = login_pin_request(ctx->core, req, &m, &pin, 1, NULL, 0, out)))
		goto out;
	if (m.pin1.blocked) {
		st = login_pin_error(out, CARD_E_PIN_BLOCKED, 0, LOGIN_CODE_PIN1);
		goto out;
	}
	card_err e = proof_login(ctx->core, id, pin.value, &o);
	st = login_result(ctx, req, id, e, &o, out);
out:
	OPENSSL_cleanse(pin.value, sizeof(pin.value));
	return st;
}

/* ---- sessions ---- */

unsigned login_session_refusal(enum session_status s, json_t **out)
{
	switch (s) {
	case SESSION_VALID: return 0;
	case SESSION_EXPIRED:
		return rest_fail(out, 401, "session_expired",
				 "the login has expired: log in again");
	case SESSION_WRONG_CARD:
		return rest_fail(out, 403, "wrong_card", "the session belongs to another card");
	case SESSION_WRONG_ORIGIN:
		return rest_fail(out, 403, "wrong_origin",
				 "the session was issued to another origin");
	case SESSION_MISSING: break;
	}
	return rest_fail(out, 401, "login_required",
			 "log in with the authentication code (PIN1) first");
}

unsigned login_logout(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	const char *id = rest_capture(req, "id");
	char tag[SESSION_TAG_LEN + 1];
	if (!ctx->core)
		return cards_unavailable(out);
	if (!rest_body_exact(req->body, NULL, 0))
		return rest_fail(out, 400, "bad_request", "the body must be empty or {}");
	/* No card lookup: a removed card's sessions are already gone (401), and no card I/O. */
	enum session_status s = session_end(ctx->sessions, req->bearer, id, req->origin);
	unsigned st = login_session_refusal(s, out);
	if (st)
		return st;
	session_tag(req->bearer, tag);
	log_info("login", "card %s: logged out (session %s)", id, tag);
	/* The transport sends a JSON body; libmicrohttpd leaves it out of a 204 answer. */
	*out = json_object();
	return *out ? 204 : rest_fail(out, 500, "internal_error", "out of memory");
}
