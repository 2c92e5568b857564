/* jobs.c — the start of a signature-certificate download and the job's state. Checks that need
 * no card (card, session, body, PIN format, issuer, blocked PIN2) come first, so a refused
 * request never costs a PIN try; the job itself runs in the engine (certjob.h). */
#include "jobs.h"

#include <stdbool.h>

#include <openssl/crypto.h>

#include "cards.h"
#include "errmap.h"
#include "events.h"
#include "issuer.h"
#include "login.h"
#include "routes.h"

/* What must hold before a job starts; 0 or the refusal's status with *out set. */
static unsigned download_checks(struct rest_ctx *ctx, const struct rest_req *req, const char *id,
				struct login_code codes[2], json_t **out)
{
	struct card_model m;
	unsigned st;
	if (!id || card_get(ctx->core, id, &m) != CARD_OK)
		return errmap_fail(out, CARD_E_NO_CARD, "no such card");
	enum session_status s = session_check(ctx->sessions, req->bearer, id, req->origin);
	if ((st = login_session_refusal(s, out)))
		return st;
	/* PIN1 exactly when the issuer signs with the card's authentication key (then no MAC
	 * order either): a code the bridge does not need is refused, never taken. */
	static const char *const optional[] = { "enrollment" }; /* take_enrollment's */
	bool signature = certjob_protection(ctx->jobs) == ISSUER_PROT_SIGNATURE;
	if ((st = login_pin_request(ctx->core, req, &m, codes, signature ? 2 : 1, optional,
				    signature ? 0 : 1, out)))
		return st;
	if (!certjob_has_issuer(ctx->jobs))
		return rest_fail(out, 503, "issuer_unavailable",
				 "no certificate issuer is configured");
	if (m.pin2.blocked)
		return login_pin_error(out, CARD_E_PIN_BLOCKED, 0, LOGIN_CODE_PIN2);
	return 0;
}

/* The optional "enrollment": {"reference", "secret"} of a download (the order a portal got from
 * its RA for a CMP issuer): copied into *en, *has set. 0, or the refusal's status. The copies
 * are the caller's to wipe. */
static unsigned take_enrollment(const json_t *body, struct certjob_enrollment *en, bool *has,
				json_t **out)
{
	static const char *const members[] = { "reference", "secret" };
	const json_t *v = json_is_object(body) ? json_object_get(body, "enrollment") : NULL;
	*has = v != NULL;
	if (!v)
		return 0;
	if (!rest_body_exact(v, members, 2) ||
	    !rest_body_string(v, "reference", en->reference, sizeof(en->reference)) ||
	    !rest_body_string(v, "secret", en->secret, sizeof(en->secret)) || !en->reference[0] ||
	    !en->secret[0])
		return rest_fail(
			out, 400, "bad_request",
			"enrollment must be {\"reference\", \"secret\"}: non-empty strings "
			"of at most 128 bytes");
	return 0;
}

unsigned jobs_download(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	struct login_code codes[2] = { { "pin", LOGIN_CODE_PIN2, "" },
				       { "auth_pin", LOGIN_CODE_PIN1, "" } };
	struct certjob_enrollment en = { "", "" };
	char job[CERTJOB_ID_LEN + 1];
	const char *id = rest_capture(req, "id");
	bool has_en = false;
	unsigned st;
	if (!ctx->core) {
		st = cards_unavailable(out);
		goto out;
	}
	if ((st = take_enrollment(req->body, &en, &has_en, out)))
		goto out;
	if ((st = download_checks(ctx, req, id, codes, out)))
		goto out;
	bool signature = certjob_protection(ctx->jobs) == ISSUER_PROT_SIGNATURE;
	certjob_err je = certjob_start(ctx->jobs, id, codes[0].value,
				       signature ? codes[1].value : NULL, has_en ? &en : NULL, job);
	if (je == CERTJOB_E_BUSY)
		st = errmap_fail(out, CARD_E_BUSY, "a download is already running for this card");
	else if (je)
		st = rest_fail(out, 500, "internal_error", certjob_strerror(je));
	else if (!(*out = json_pack("{s:s}", "job", job)))
		st = rest_fail(out, 500, "internal_error", "out of memory");
	else
		st = 202;
out:
	OPENSSL_cleanse(codes, sizeof(codes));
	OPENSSL_cleanse(&en, sizeof(en));
	return st;
}

unsigned jobs_get(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	struct certjob_status s;
	const char *id = rest_capture(req, "id");
	if (!ctx->jobs || !id || !certjob_status(ctx->jobs, id, &s))
		return rest_fail(out, 404, "job_not_found", "no such job");
	*out = events_job_state(&s);
	return *out ? 200 : rest_fail(out, 500, "internal_error", "out of memory");
}

json_t *jobs_health_issuer(void *user, bool *degraded)
{
	const struct issuer *is = user;
	*degraded = false;
	if (!is)
		return json_pack("{s:b}", "configured", 0);
	return json_pack("{s:b, s:s, s:b, s:s}", "configured", 1, "name", issuer_name(is), "test",
			 issuer_is_test(is), "protection",
			 issuer_protection_name(issuer_protection(is)));
}
