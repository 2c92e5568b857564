/* api.c — the REST route table: one line per endpoint, and thin handlers that translate
 * between HTTP and the modules that do the work (cards.c, login.c). The generic mechanics
 * (matching, errors, /health) are in api_core.c. */
#include "rest.h"

#include <stdio.h>
#include <string.h>

#include "cards.h"
#include "login.h"

/* ---- handlers ---- */

static unsigned cards_missing(json_t **out)
{
	return api_fail(out, 503, "cards_unavailable", "the card core is not running");
}

static unsigned h_readers(struct api_ctx *ctx, const struct api_req *req, json_t **out)
{
	(void)req;
	return ctx->cards ? (unsigned)cards_get_readers(ctx->cards, out) : cards_missing(out);
}

static unsigned h_cards(struct api_ctx *ctx, const struct api_req *req, json_t **out)
{
	(void)req;
	return ctx->cards ? (unsigned)cards_get_cards(ctx->cards, out) : cards_missing(out);
}

static unsigned h_card(struct api_ctx *ctx, const struct api_req *req, json_t **out)
{
	if (!ctx->cards)
		return cards_missing(out);
	return (unsigned)cards_get_card(ctx->cards, api_capture(req, "id"), out);
}

/* Issue 4: login, logout, signature-certificate download and job state live in login.c. */
static unsigned login_missing(json_t **out)
{
	return api_fail(out, 503, "cards_unavailable", "the card core is not running");
}

static unsigned h_login(struct api_ctx *ctx, const struct api_req *req, json_t **out)
{
	return ctx->login ? login_post(ctx->login, req, out) : login_missing(out);
}

static unsigned h_logout(struct api_ctx *ctx, const struct api_req *req, json_t **out)
{
	return ctx->login ? login_logout(ctx->login, req, out) : login_missing(out);
}

static unsigned h_download(struct api_ctx *ctx, const struct api_req *req, json_t **out)
{
	return ctx->login ? login_download(ctx->login, req, out) : login_missing(out);
}

static unsigned h_job(struct api_ctx *ctx, const struct api_req *req, json_t **out)
{
	return ctx->login ? login_job(ctx->login, req, out) : api_fail(out, 404, "job_not_found", "no such job");
}

/* The table: one line per endpoint. */
static const struct api_route routes[] = {
	{ "GET", "/health", api_health, true },
	{ "GET", "/v1/readers", h_readers, false },
	{ "GET", "/v1/cards", h_cards, false },
	{ "GET", "/v1/cards/{id}", h_card, false },
	{ "POST", "/v1/cards/{id}/login", h_login, false },
	{ "POST", "/v1/cards/{id}/logout", h_logout, false },
	{ "POST", "/v1/cards/{id}/signature-certificate", h_download, false },
	{ "GET", "/v1/jobs/{id}", h_job, false },
};

const struct api_route *api_match(const char *method, const char *path, struct api_req *req,
                                  struct api_match *m)
{
	return api_match_table(routes, sizeof routes / sizeof routes[0], method, path, req, m);
}
