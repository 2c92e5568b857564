/* login.c — the REST handlers of login with PIN1 and a proof of card possession, the start of a
 * signature-certificate download, the job state, logout; and session revocation on card removal.
 * Checks that need no card (body, PIN format against the AODF, session, issuer, blocked PIN)
 * come first, so a refused request never costs a PIN try. Card errors reach the wire through
 * errmap.h only. */
#include "login.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "errmap.h"
#include "log.h"
#include "proof.h"

#define PIN_BUF (JOB_PIN_MAX + 1)

/* The "pin" string of the body copied into pin (PIN_BUF bytes); false if absent or too long.
 * http.c wipes the body's strings after the handler. */
static bool body_pin(const struct api_req *req, char pin[PIN_BUF])
{
	json_t *p = json_is_object(req->body) ? json_object_get(req->body, "pin") : NULL;
	const char *s = json_is_string(p) ? json_string_value(p) : NULL;
	size_t n = s ? json_string_length(p) : 0;
	if (!s || n >= PIN_BUF || strlen(s) != n)
		return false;
	memcpy(pin, s, n + 1);
	return true;
}

/* A REST answer for card error e: status and code from errmap.h, with message. */
static unsigned card_fail(json_t **out, card_err e, const char *message)
{
	const struct errmap *m = errmap_card(e);
	return api_fail(out, m->status, m->code, message);
}

/* Card lookup, body and PIN format: the part of both POSTs that touches no card. */
static unsigned pin_request(struct login *l, const struct api_req *req, bool pin2,
			    struct card_model *m, char pin[PIN_BUF], json_t **out)
{
	const char *id = api_capture(req, "id");
	if (!id || card_get(l->core, id, m) != CARD_OK)
		return card_fail(out, CARD_E_NO_CARD, "no such card");
	if (!body_pin(req, pin))
		return api_fail(out, 400, "bad_request", "the body must be {\"pin\": \"digits\"}");
	const struct card_pin *p = pin2 ? &m->pin2 : &m->pin1;
	if (!card_pin_format_ok(p, pin)) {
		char msg[120];
		snprintf(msg, sizeof(msg), "the code must be %u to %u digits", p->min_len, p->max_len ? p->max_len : 8);
		return card_fail(out, CARD_E_PIN_FORMAT, msg);
	}
	return 0;
}

/* A wrong or blocked PIN (e) with the tries left; which names the PIN for the message. */
static unsigned pin_error(json_t **out, card_err e, int tries, const char *which)
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
	unsigned st = card_fail(out, e, msg);
	if (tries >= 0)
		api_error_set(*out, "tries_left", json_integer(tries));
	return st;
}

/* ---- login ---- */

struct login_work {
	char pin[PIN_BUF];
	int tries;
	bool proof_failed;
};

/* The card part of a login (inside card_with_card): VERIFY PIN1, then the card signs a fresh
 * challenge with its authentication key and the signature is checked against its certificate. */
static card_err login_card(card_session *s, const struct card_model *m, void *user)
{
	struct login_work *w = user;
	unsigned char challenge[PROOF_CHALLENGE_LEN], di[DIGESTINFO_SHA256_LEN], sig[512];
	size_t sig_len = 0, der_len = 0;
	const uint8_t *der = NULL;
	X509 *auth = NULL;
	(void)m;
	card_err e = card_verify_pin(s, CARD_PIN1, w->pin, &w->tries);
	OPENSSL_cleanse(w->pin, sizeof(w->pin));
	if (e)
		goto out;
	if (proof_challenge(challenge) || proof_digest_info(challenge, di)) {
		e = CARD_E_INTERNAL;
		goto out;
	}
	if ((e = card_sign(s, CARD_KEY_AUTH, di, sizeof(di), sig, sizeof(sig), &sig_len)) != CARD_OK)
		goto out;
	card_auth_cert(s, &der, &der_len);
	const unsigned char *p = der;
	auth = der ? d2i_X509(NULL, &p, (long)der_len) : NULL;
	if (!auth || proof_verify(auth, challenge, sig, sig_len) != PROOF_OK) {
		w->proof_failed = true;
		e = CARD_E_BAD_DATA;
	}
out:
	X509_free(auth);
	return e;
}

static unsigned login_result(struct login *l, const struct api_req *req, const char *id, card_err e,
			     const struct login_work *w, json_t **out)
{
	char token[SESSION_TOKEN_LEN + 1], tag[SESSION_TAG_LEN + 1];
	if (e == CARD_E_PIN_WRONG || e == CARD_E_PIN_BLOCKED) {
		log_info("login", "card %s: %s", id, e == CARD_E_PIN_WRONG ? "wrong PIN1" : "PIN1 blocked");
		return pin_error(out, e, w->tries, "authentication code (PIN1)");
	}
	if (w->proof_failed) {
		log_warn("login", "card %s: the proof of possession did not verify", id);
		return api_fail(out, 403, "proof_failed", "the card could not prove it holds the authentication key");
	}
	if (e && card_gone(l->core, id, e))
		e = CARD_E_REMOVED;
	if (e == CARD_E_BUSY || e == CARD_E_REMOVED) /* nothing the card did wrong: not logged */
		return card_fail(out, e, card_strerror(e));
	if (e) {
		log_warn("login", "card %s: %s", id, card_strerror(e));
		return card_fail(out, e, card_strerror(e));
	}
	if (session_create(l->sessions, id, req->origin, token) != SESSION_OK)
		return api_fail(out, 500, "internal_error", "no session could be created");
	session_tag(token, tag);
	log_info("login", "card %s: logged in (session %s)", id, tag);
	*out = json_pack("{s:s, s:i}", "session", token, "expires_in", (int)(SESSION_LIFETIME_MS / 1000));
	OPENSSL_cleanse(token, sizeof(token));
	return *out ? 200 : api_fail(out, 500, "internal_error", "out of memory");
}

unsigned login_post(struct login *l, const struct api_req *req, json_t **out)
{
	struct card_model m;
	struct login_work w = { .tries = -1 };
	const char *id = api_capture(req, "id");
	unsigned st = pin_request(l, req, false, &m, w.pin, out);
	if (st)
		goto out;
	if (m.pin1.blocked) {
		st = pin_error(out, CARD_E_PIN_BLOCKED, 0, "authentication code (PIN1)");
		goto out;
	}
	card_err e = card_with_card(l->core, id, login_card, &w);
	st = login_result(l, req, id, e, &w, out);
out:
	OPENSSL_cleanse(w.pin, sizeof(w.pin));
	return st;
}

/* ---- download ---- */

static unsigned session_refusal(enum session_status s, json_t **out)
{
	switch (s) {
	case SESSION_VALID: return 0;
	case SESSION_EXPIRED: return api_fail(out, 401, "session_expired", "the login has expired: log in again");
	case SESSION_WRONG_CARD: return api_fail(out, 403, "wrong_card", "the session belongs to another card");
	case SESSION_WRONG_ORIGIN: return api_fail(out, 403, "wrong_origin", "the session was issued to another origin");
	case SESSION_MISSING: break;
	}
	return api_fail(out, 401, "login_required", "log in with the authentication code (PIN1) first");
}

unsigned login_download(struct login *l, const struct api_req *req, json_t **out)
{
	struct card_model m;
	char pin[PIN_BUF] = "", job[JOB_ID_LEN + 1];
	const char *id = api_capture(req, "id");
	unsigned st;
	if (!id || card_get(l->core, id, &m) != CARD_OK) {
		st = card_fail(out, CARD_E_NO_CARD, "no such card");
		goto out;
	}
	if ((st = session_refusal(session_check(l->sessions, req->bearer, id, req->origin), out)))
		goto out;
	if ((st = pin_request(l, req, true, &m, pin, out)))
		goto out;
	if (!jobs_has_issuer(l->jobs)) {
		st = api_fail(out, 503, "issuer_unavailable", "no certificate issuer is configured");
		goto out;
	}
	if (m.pin2.blocked) {
		st = pin_error(out, CARD_E_PIN_BLOCKED, 0, "signature code (PIN2)");
		goto out;
	}
	job_err je = jobs_start(l->jobs, id, pin, job);
	if (je == JOB_E_BUSY)
		st = card_fail(out, CARD_E_BUSY, "a download is already running for this card");
	else if (je)
		st = api_fail(out, 500, "internal_error", job_strerror(je));
	else
		st = (*out = json_pack("{s:s}", "job", job)) ? 202 : api_fail(out, 500, "internal_error", "out of memory");
out:
	OPENSSL_cleanse(pin, sizeof(pin));
	return st;
}

/* ---- logout ---- */

unsigned login_logout(struct login *l, const struct api_req *req, json_t **out)
{
	const char *id = api_capture(req, "id");
	char tag[SESSION_TAG_LEN + 1];
	if (req->body && json_object_size(req->body) != 0)
		return api_fail(out, 400, "bad_request", "the body must be empty or {}");
	/* No card lookup: a removed card's sessions are already gone (401), and no card I/O. */
	enum session_status s = session_end(l->sessions, req->bearer, id, req->origin);
	unsigned st = session_refusal(s, out);
	if (st)
		return st;
	session_tag(req->bearer, tag);
	log_info("login", "card %s: logged out (session %s)", id, tag);
	/* http.c sends a JSON body; libmicrohttpd leaves it out of a 204 answer. */
	*out = json_object();
	return *out ? 204 : api_fail(out, 500, "internal_error", "out of memory");
}

unsigned login_job(struct login *l, const struct api_req *req, json_t **out)
{
	const char *id = api_capture(req, "id");
	json_t *j = id ? jobs_state(l->jobs, id) : NULL;
	if (!j)
		return api_fail(out, 404, "job_not_found", "no such job");
	*out = j;
	return 200;
}

void login_card_removed(const char *card_id, void *user)
{
	struct login *l = user;
	size_t n = session_revoke_card(l->sessions, card_id);
	if (n)
		log_info("login", "card %s removed: %zu session(s) ended", card_id, n);
}

/* ---- life cycle ---- */

static int open_issuer(struct login *l, const char *dir)
{
	const char *fname = getenv("SITHS_TEST_ISSUER_FAULT"); /* test only: see login.h */
	int fault = fname && *fname ? issuer_test_fault_parse(fname) : ISSUER_FAULT_NONE;
	char anchor[4096];
	if (fault < 0) {
		log_error("login", "SITHS_TEST_ISSUER_FAULT: unknown fault");
		return -1;
	}
	issuer_err ie = issuer_test_open(dir, (enum issuer_test_fault)fault, &l->issuer);
	if (ie) {
		log_error("login", "test issuer %s: %s", dir, issuer_strerror(ie));
		return -1;
	}
	snprintf(anchor, sizeof(anchor), "%s/root-ca.pem", dir);
	certcheck_err ce = certcheck_trust_load(anchor, &l->trust);
	if (ce) {
		log_error("login", "trust anchor %s: %s", anchor, certcheck_strerror(ce));
		return -1;
	}
	log_warn("login", "certificate issuer: %s (a TEST issuer: development certificates only)",
		 issuer_name(l->issuer));
	return 0;
}

int login_start(struct login *l, const struct cfg *cfg, card_core *core, ws_server *ws)
{
	memset(l, 0, sizeof(*l));
	l->core = core;
	if (session_store_new(NULL, NULL, &l->sessions) != SESSION_OK) {
		log_error("login", "out of memory");
		return -1;
	}
	if (cfg->test_issuer_dir && open_issuer(l, cfg->test_issuer_dir))
		return -1;
	if (!l->issuer)
		log_info("login", "no certificate issuer configured: downloads answer issuer_unavailable");
	struct job_deps d = { .core = core, .ws = ws, .issuer = l->issuer, .trust = l->trust };
	if (jobs_new(&d, &l->jobs) != JOB_OK) {
		log_error("login", "out of memory");
		return -1;
	}
	return 0;
}

void login_stop(struct login *l)
{
	jobs_free(l->jobs);
	session_store_free(l->sessions);
	issuer_destroy(l->issuer);
	certcheck_trust_free(l->trust);
	memset(l, 0, sizeof(*l));
}

json_t *login_health_issuer(void *user, bool *degraded)
{
	struct login *l = user;
	*degraded = false;
	if (!l->issuer)
		return json_pack("{s:b}", "configured", 0);
	return json_pack("{s:b, s:s, s:b}", "configured", 1, "name", issuer_name(l->issuer), "test",
			 issuer_is_test(l->issuer));
}
