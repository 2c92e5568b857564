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

/* The "pin" string of the body copied into pin (LOGIN_PIN_BUF bytes); false if absent or too
 * long. The transport wipes the body's strings after the handler. */
static bool body_pin(const struct rest_req *req, char pin[LOGIN_PIN_BUF])
{
	json_t *p = json_is_object(req->body) ? json_object_get(req->body, "pin") : NULL;
	const char *s = json_is_string(p) ? json_string_value(p) : NULL;
	size_t n = s ? json_string_length(p) : 0;
	if (!s || n >= LOGIN_PIN_BUF || strlen(s) != n)
		return false;
	memcpy(pin, s, n + 1);
	return true;
}

unsigned login_pin_request(card_core *core, const struct rest_req *req, bool pin2,
			   struct card_model *m, char pin[LOGIN_PIN_BUF], json_t **out)
{
	const char *id = rest_capture(req, "id");
	if (!id || card_get(core, id, m) != CARD_OK)
		return errmap_fail(out, CARD_E_NO_CARD, "no such card");
	if (!body_pin(req, pin))
		return rest_fail(out, 400, "bad_request", "the body must be {\"pin\": \"digits\"}");
	const struct card_pin *p = pin2 ? &m->pin2 : &m->pin1;
	if (!card_pin_format_ok(p, pin)) {
		char msg[120];
		snprintf(msg, sizeof(msg), "the code must be %u to %u digits", p->min_len,
			 p->max_len ? p->max_len : 8);
		return errmap_fail(out, CARD_E_PIN_FORMAT, msg);
	}
	return 0;
}

unsigned login_pin_error(json_t **out, card_err e, int tries, const char *which)
{
	char msg[160];
	if (e == CARD_E_PIN_WRONG && tries == 0)
		e = CARD_E_PIN_BLOCKED;
	if (e == CARD_E_PIN_BLOCKED) {
		snprintf(msg, sizeof(msg), "%s is blocked: unblock it with the PUK", which);
		tries = 0;
	} else {
		snprintf(msg, sizeof(msg), "wrong %s", which);
	}
	unsigned st = errmap_fail(out, e, msg);
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
		return login_pin_error(out, e, o->tries_left, "authentication code (PIN1)");
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
	char pin[LOGIN_PIN_BUF] = "";
	const char *id = rest_capture(req, "id");
	unsigned st;
	if (!ctx->core) {
		st = cards_unavailable(out);
		goto out;
	}
	if ((st = login_pin_request(ctx->core, req, false, &m, pin, out)))
		goto out;
	if (m.pin1.blocked) {
		st = login_pin_error(out, CARD_E_PIN_BLOCKED, 0, "authentication code (PIN1)");
		goto out;
	}
	card_err e = proof_login(ctx->core, id, pin, &o);
	st = login_result(ctx, req, id, e, &o, out);
out:
	OPENSSL_cleanse(pin, sizeof(pin));
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
	if (req->body && json_object_size(req->body) != 0)
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
