/* cards.c — the card routes, the pcsc part of /health and the card core's events: everything
 * is served from the core's cache; the only card I/O happens in the core when a card appears. */
#include "cards.h"

#include <stdlib.h>

#include "cardjson.h"
#include "errmap.h"
#include "events.h"
#include "log.h"
#include "routes.h"

unsigned cards_unavailable(json_t **out)
{
	return rest_fail(out, 503, "cards_unavailable", "the card core is not running");
}

/* ---- routes ---- */

/* {"readers":[…]} or {"cards":[…]}: the core's snapshot as a list. */
static unsigned snapshot_list(struct rest_ctx *ctx, bool readers, json_t **out)
{
	struct card_snapshot s;
	if (!ctx->core)
		return cards_unavailable(out);
	card_err e = card_snapshot_get(ctx->core, &s);
	if (e)
		return errmap_fail(out, e, "out of memory");
	size_t n = readers ? s.n_readers : s.n_cards;
	json_t *list = json_array();
	for (size_t i = 0; list && i < n; i++)
		json_array_append_new(list,
				      readers ? cardjson_reader(&s.readers[i])
					      : cardjson_model(&s.cards[i]));
	card_snapshot_free(&s);
	*out = json_pack("{s:o}", readers ? "readers" : "cards", list ? list : json_array());
	return 200;
}

unsigned cards_readers(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	(void)req;
	return snapshot_list(ctx, true, out);
}

unsigned cards_list(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	(void)req;
	return snapshot_list(ctx, false, out);
}

unsigned cards_one(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	if (!ctx->core)
		return cards_unavailable(out);
	struct card_model *m = malloc(sizeof(*m));
	if (!m)
		return errmap_fail(out, CARD_E_NOMEM, "out of memory");
	unsigned st = 200;
	card_err e = card_get(ctx->core, rest_capture(req, "id"), m);
	if (e)
		st = errmap_fail(out, e, "no card with this id is in a reader");
	else
		*out = cardjson_model(m);
	free(m);
	return st;
}

json_t *cards_health(void *user, bool *degraded)
{
	struct card_health h;
	card_health_get(user, &h);
	*degraded = !h.pcsc_up;
	return json_pack("{s:b, s:I, s:I}", "reachable", h.pcsc_up, "readers",
			 (json_int_t)h.readers, "cards", (json_int_t)h.cards);
}

/* ---- events ---- */

static void log_card(const char *what, const struct card_model *m)
{
	if (m->status == CARD_STATUS_OK)
		log_info("cards", "%s: card %s in \"%s\"", what, m->id, m->reader);
	else
		log_warn("cards", "%s: card %s in \"%s\" could not be read: %s (%s)", what, m->id,
			 m->reader, card_errcode((card_err)m->error), m->error_detail);
}

void cards_event(const struct card_event *ev, void *user)
{
	struct rest_ctx *ctx = user;
	switch (ev->kind) {
	case CARD_EV_PCSC_UP:
		log_info("cards", "pcscd reachable%s",
			 ev->pcsc_woken == CARD_PCSC_SOCKET          ? " (its socket appeared)"
				 : ev->pcsc_woken == CARD_PCSC_TIMER ? " (retry timer)"
								     : "");
		break;
	case CARD_EV_PCSC_DOWN:
		log_warn("cards", "pcscd not reachable; reconnecting in the background");
		break;
	case CARD_EV_READERS_SCANNED:
		log_info("cards", "pcscd's readers read: %zu reader(s), %zu card(s)",
			 ev->scanned.readers, ev->scanned.cards);
		break;
	case CARD_EV_READER_ADDED:
	case CARD_EV_READER_REMOVED:
		log_info("cards", "reader %s: \"%s\"",
			 ev->kind == CARD_EV_READER_ADDED ? "added" : "removed", ev->reader->name);
		break;
	case CARD_EV_CARD_INSERTED:
	case CARD_EV_CARD_UPDATED:
		log_card(ev->kind == CARD_EV_CARD_INSERTED ? "inserted" : "updated", ev->card);
		break;
	case CARD_EV_CARD_REMOVED: {
		log_info("cards", "removed: card %s from \"%s\"", ev->card->id, ev->card->reader);
		size_t n = ctx->sessions ? session_revoke_card(ctx->sessions, ev->card->id) : 0;
		if (n)
			log_info("login", "card %s removed: %zu session(s) ended", ev->card->id, n);
		break;
	}
	}
	events_card(ctx->events, ev);
}
