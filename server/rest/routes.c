/* routes.c — the REST route table: one line per endpoint, each naming its handler. */
#include "routes.h"

#include "cards.h"
#include "jobs.h"
#include "login.h"
#include "pins.h"

static unsigned health(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	(void)req;
	return health_answer(ctx->health, out);
}

static const struct rest_route routes[] = {
	{ "GET", "/health", health, true },
	{ "GET", "/v1/readers", cards_readers, false },
	{ "GET", "/v1/cards", cards_list, false },
	{ "GET", "/v1/cards/{id}", cards_one, false },
	{ "POST", "/v1/cards/{id}/login", login_post, false },
	{ "POST", "/v1/cards/{id}/logout", login_logout, false },
	{ "POST", "/v1/cards/{id}/pins/{pin}/change", pins_change, false },
	{ "POST", "/v1/cards/{id}/pins/{pin}/unblock", pins_unblock, false },
	{ "POST", "/v1/cards/{id}/signature-certificate", jobs_download, false },
	{ "GET", "/v1/jobs/{id}", jobs_get, false },
};

const struct rest_table routes_table = { routes, sizeof routes / sizeof routes[0] };
