/* pins.c — changing and unblocking PIN1 and PIN2. Checks that need no card (PIN name, body,
 * formats, a blocked PIN or PUK) come first, so a refused request never costs a try; the one
 * command then runs in a card session of its own. A card pulled during the command leaves the
 * old or the new code on it: the answer says so and gives the PIN's last_change from before, which
 * the model of the card put back is compared with. */
#include "pins.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cardjson.h"
#include "cards.h"
#include "errmap.h"
#include "log.h"
#include "login.h"
#include "routes.h"

/* One command on one PIN: what the session sends and what the card answered. */
struct pin_cmd {
	enum card_pin_which which;
	bool unblock;
	char *code;    /* the old PIN or the PUK: the request's copy, borrowed */
	char *new_pin; /* borrowed likewise */
	int tries_left;
	bool sent; /* the session reached the command: after this, a pulled card may hold either code */
};

static card_err pin_work(card_session *s, const struct card_model *m, void *user)
{
	struct pin_cmd *c = user;
	(void)m;
	c->sent = true;
	c->tries_left = -1;
	return c->unblock ? card_unblock_pin(s, c->which, c->code, c->new_pin, &c->tries_left)
			  : card_change_pin(s, c->which, c->code, c->new_pin, &c->tries_left);
}

/* 200 {"pin", "tries_left", "card"} with the model re-read after the command. */
static unsigned pin_done(struct rest_ctx *ctx, const char *id, const char *name,
			 enum login_code_kind kind, json_t **out)
{
	struct card_model m;
	if (card_get(ctx->core, id, &m) != CARD_OK) /* pulled right after its answer */
		*out = json_pack("{s:s, s:n, s:n}", "pin", name, "tries_left", "card");
	else {
		int tries = login_code_rules(&m, kind)->tries_left;
		*out = json_pack("{s:s, s:o, s:o}", "pin", name, "tries_left",
				 tries < 0 ? json_null() : json_integer(tries), "card",
				 cardjson_model(&m));
	}
	return *out ? 200 : rest_fail(out, 500, "internal_error", "out of memory");
}

/* 409 change_interrupted: the card went during the command; last_change is the PIN's before it. */
static unsigned interrupted(const char *name, const char *last_change, json_t **out)
{
	unsigned st =
		rest_fail(out, 409, "change_interrupted",
			  "the card was removed during the command: it holds either the old or "
			  "the new code; put it back and compare the PIN's last_change");
	rest_error_set(*out, "pin", json_string(name));
	rest_error_set(*out, "last_change",
		       last_change[0] ? json_string(last_change) : json_null());
	return st;
}

/* The answer to a command that ended with e; before is the PIN's model from before it. */
static unsigned pin_result(struct rest_ctx *ctx, const char *id, const char *name,
			   const struct pin_cmd *c, const struct card_pin *before, card_err e,
			   json_t **out)
{
	enum login_code_kind kind = c->which == CARD_PIN2 ? LOGIN_CODE_PIN2 : LOGIN_CODE_PIN1;
	const char *what = c->unblock ? "unblock" : "change";
	if (!e) {
		log_info("pins", "card %s: %s %s", id, name, c->unblock ? "unblocked" : "changed");
		return pin_done(ctx, id, name, kind, out);
	}
	if (e == CARD_E_PIN_WRONG || e == CARD_E_PIN_BLOCKED || e == CARD_E_PUK_BLOCKED) {
		log_info("pins", "card %s: %s of %s refused: %s", id, what, name,
			 c->unblock ? "PUK wrong or blocked" : "old code wrong or blocked");
		return login_pin_error(out, e, c->tries_left, c->unblock ? LOGIN_CODE_PUK : kind);
	}
	if (card_gone(ctx->core, id, e)) {
		if (!c->sent) /* nothing was sent: nothing can have changed */
			return errmap_fail(out, CARD_E_REMOVED, "the card was removed");
		log_info("pins", "card %s: removed during the %s of %s", id, what, name);
		return interrupted(name, before->last_change, out);
	}
	if (e == CARD_E_BUSY)
		return errmap_fail(out, e,
				   "another operation (a download or a login) is using the card");
	log_warn("pins", "card %s: %s of %s: %s", id, what, name, card_strerror(e));
	return errmap_fail(out, e, card_strerror(e));
}

/* The PIN of the path: CARD_PIN1 / CARD_PIN2, false for any other name. */
static bool pin_of_path(const char *name, enum card_pin_which *which)
{
	if (name && strcmp(name, "pin1") == 0)
		*which = CARD_PIN1;
	else if (name && strcmp(name, "pin2") == 0)
		*which = CARD_PIN2;
	else
		return false;
	return true;
}

/* What must hold before the command is sent; 0 or the refusal's status with *out set. */
static unsigned pin_checks(struct rest_ctx *ctx, const struct rest_req *req, bool unblock,
			   struct login_code codes[2], struct card_model *m, json_t **out)
{
	unsigned st = login_pin_request(ctx->core, req, m, codes, 2, NULL, 0, out);
	if (st)
		return st;
	const struct card_pin *p = login_code_rules(m, codes[1].kind);
	if (unblock && m->puk.blocked)
		return login_pin_error(out, CARD_E_PUK_BLOCKED, 0, LOGIN_CODE_PUK);
	if (!unblock && p->blocked)
		return login_pin_error(out, CARD_E_PIN_BLOCKED, 0, codes[1].kind);
	return 0;
}

static unsigned pins_post(struct rest_ctx *ctx, const struct rest_req *req, bool unblock,
			  json_t **out)
{
	struct card_model m;
	struct pin_cmd c = { .unblock = unblock, .tries_left = -1 };
	const char *id = rest_capture(req, "id"), *name = rest_capture(req, "pin");
	struct login_code codes[2] = { { unblock ? "puk" : "pin", LOGIN_CODE_PUK, "" },
				       { "new_pin", LOGIN_CODE_PIN1, "" } };
	unsigned st;
	if (!ctx->core) {
		st = cards_unavailable(out);
		goto out;
	}
	if (!pin_of_path(name, &c.which)) {
		st = rest_fail(out, 404, "not_found", "no such PIN: pin1 or pin2");
		goto out;
	}
	codes[1].kind = c.which == CARD_PIN2 ? LOGIN_CODE_PIN2 : LOGIN_CODE_PIN1;
	if (!unblock)
		codes[0].kind = codes[1].kind;
	if ((st = pin_checks(ctx, req, unblock, codes, &m, out)))
		goto out;
	c.code = codes[0].value;
	c.new_pin = codes[1].value;
	card_err e = card_with_card(ctx->core, id, pin_work, &c);
	st = pin_result(ctx, id, name, &c, login_code_rules(&m, codes[1].kind), e, out);
out:
	OPENSSL_cleanse(codes, sizeof(codes));
	return st;
}

unsigned pins_change(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	return pins_post(ctx, req, false, out);
}

unsigned pins_unblock(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	return pins_post(ctx, req, true, out);
}
