/* cards.c — card model → JSON, the card routes, and card events → WebSocket. Everything is
 * served from the card core's cache; the only card I/O happens in the core when a card appears.
 * JSON field names are the contract of issue 3 (and docs/api). */
#include "cards.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "errmap.h"
#include "log.h"

struct cards {
	card_core *core;
	pthread_mutex_t lock;   /* guards ws and the removal hook */
	ws_server *ws;
	cards_removed_fn on_removed;
	void *removed_user;
};

/* ---- JSON ---- */

/* Empty strings are unknowns: null rather than "". */
static json_t *str_or_null(const char *s)
{
	json_t *j = s && *s ? json_string(s) : NULL;
	return j ? j : json_null();
}

static json_t *int_or_null(int v, int unknown)
{
	return v == unknown ? json_null() : json_integer(v);
}

static json_t *pin_json(const struct card_pin *p)
{
	if (!p->present)
		return json_null();
	return json_pack("{s:o, s:b, s:o, s:i, s:o}",
			 "tries_left", int_or_null(p->tries_left, -1),
			 "blocked", p->blocked,
			 "label", str_or_null(p->label),
			 "min_length", (int)p->min_len,
			 "max_length", p->max_len ? json_integer(p->max_len) : json_null());
}

static json_t *sig_json(const struct card_model *m)
{
	const struct card_cert_info *s = &m->sign;
	json_t *j = json_pack("{s:b, s:b}", "present", s->present, "signing_key", m->sign_key_present);
	if (!j)
		return NULL;
	if (s->present) {
		json_object_set_new(j, "valid_from", str_or_null(s->valid_from));
		json_object_set_new(j, "valid_to", str_or_null(s->valid_to));
		json_object_set_new(j, "hsa_id", str_or_null(s->hsa_id));
		json_object_set_new(j, "issuer", str_or_null(s->issuer_cn));
		json_object_set_new(j, "key_checked", json_boolean(m->sign_key_checked));
	} else if (m->sign_cert_mismatch) {
		/* Something is on the card, but not a certificate for the signing key. */
		json_object_set_new(j, "unusable_certificate", json_true());
	}
	return j;
}

/* The card's one eID: the authentication certificate's identity, and its signature certificate
 * (the page shows that per eID row). */
static json_t *eid_json(const struct card_model *m)
{
	const struct card_cert_info *a = &m->auth;
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "hsa_id", str_or_null(a->hsa_id), "upn", str_or_null(a->upn),
			 "email", str_or_null(a->email), "valid_from", str_or_null(a->valid_from),
			 "valid_to", str_or_null(a->valid_to), "trust_level", int_or_null(a->trust_level, 0),
			 "issuer", str_or_null(a->issuer_cn), "signature_certificate", sig_json(m));
}

static const char *type_name(enum card_type t)
{
	return t == CARD_TYPE_RESERVE ? "reserve" : t == CARD_TYPE_ORDINARY ? "ordinary" : NULL;
}

json_t *cards_model_json(const struct card_model *m)
{
	json_t *eids = json_array();
	if (eids && m->auth.present)
		json_array_append_new(eids, eid_json(m));
	json_t *j = json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			      " s:o, s:o, s:o, s:{s:o, s:o, s:o}}",
			      "id", m->id, "reader", str_or_null(m->reader), "reader_id", m->reader_id,
			      "status", m->status == CARD_STATUS_OK ? "ok" : "error",
			      "card_number", str_or_null(m->card_number),
			      "card_type", str_or_null(type_name(m->type)),
			      "label", str_or_null(m->token_label),
			      "holder", str_or_null(m->holder),
			      "organisation", str_or_null(m->organisation),
			      "valid_from", str_or_null(m->valid_from),
			      "valid_to", str_or_null(m->valid_to),
			      "trust_level", int_or_null(m->auth.trust_level, 0),
			      "hsa_id", str_or_null(m->auth.hsa_id),
			      "upn", str_or_null(m->auth.upn),
			      "email", str_or_null(m->auth.email),
			      "atr", str_or_null(m->atr),
			      "signature_certificate", sig_json(m),
			      "eids", eids ? eids : json_array(),
			      "manufacturer", str_or_null(m->manufacturer),
			      "pins", "pin1", pin_json(&m->pin1), "pin2", pin_json(&m->pin2),
			      "puk", pin_json(&m->puk));
	if (j && m->status != CARD_STATUS_OK)
		json_object_set_new(j, "error", json_pack("{s:s, s:s}", "code", card_errcode((card_err)m->error),
							  "message", m->error_detail[0] ? m->error_detail
								: card_strerror((card_err)m->error)));
	return j;
}

json_t *cards_reader_json(const struct card_reader *r)
{
	return json_pack("{s:s, s:o, s:b, s:o}", "id", r->id, "name", str_or_null(r->name),
			 "card_present", r->card_present,
			 "card_id", str_or_null(r->card_id));
}

/* The answer to a request that failed with card error e: status and code from errmap.h. */
static int card_fail(json_t **body, card_err e, const char *message)
{
	const struct errmap *m = errmap_card(e);
	*body = json_pack("{s:{s:s, s:s}}", "error", "code", m->code, "message", message);
	return (int)m->status;
}

/* ---- routes ---- */

static int snapshot(cards *c, struct card_snapshot *s, json_t **body)
{
	card_err e = card_snapshot_get(c->core, s);
	return e ? card_fail(body, e, "out of memory") : 0;
}

int cards_get_readers(cards *c, json_t **body)
{
	struct card_snapshot s;
	int st = snapshot(c, &s, body);
	if (st)
		return st;
	json_t *list = json_array();
	for (size_t i = 0; list && i < s.n_readers; i++)
		json_array_append_new(list, cards_reader_json(&s.readers[i]));
	card_snapshot_free(&s);
	*body = json_pack("{s:o}", "readers", list ? list : json_array());
	return 200;
}

int cards_get_cards(cards *c, json_t **body)
{
	struct card_snapshot s;
	int st = snapshot(c, &s, body);
	if (st)
		return st;
	json_t *list = json_array();
	for (size_t i = 0; list && i < s.n_cards; i++)
		json_array_append_new(list, cards_model_json(&s.cards[i]));
	card_snapshot_free(&s);
	*body = json_pack("{s:o}", "cards", list ? list : json_array());
	return 200;
}

int cards_get_card(cards *c, const char *id, json_t **body)
{
	struct card_model *m = malloc(sizeof(*m));
	if (!m)
		return card_fail(body, CARD_E_NOMEM, "out of memory");
	int st = 200;
	card_err e = card_get(c->core, id, m);
	if (e)
		st = card_fail(body, e, "no card with this id is in a reader");
	else
		*body = cards_model_json(m);
	free(m);
	return st;
}

json_t *cards_health(cards *c)
{
	struct card_health h;
	card_health_get(c->core, &h);
	return json_pack("{s:b, s:I, s:I}", "reachable", h.pcsc_up, "readers", (json_int_t)h.readers,
			 "cards", (json_int_t)h.cards);
}

char *cards_ws_greeting(void *user)
{
	cards *c = user;
	struct card_snapshot s;
	if (card_snapshot_get(c->core, &s) != CARD_OK)
		return NULL;
	char *text = NULL;
	if (s.n_cards) {
		json_t *arr = json_array();
		for (size_t i = 0; arr && i < s.n_cards; i++)
			json_array_append_new(arr, json_pack("{s:s, s:o}", "type", "card-inserted", "card",
							     cards_model_json(&s.cards[i])));
		text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
		json_decref(arr);
	}
	card_snapshot_free(&s);
	return text;
}

/* ---- events ---- */

static void broadcast(cards *c, json_t *msg)
{
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	if (!text)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->ws)
		ws_broadcast(c->ws, text);
	pthread_mutex_unlock(&c->lock);
	free(text);
}

static void log_card(const char *what, const struct card_model *m)
{
	if (m->status == CARD_STATUS_OK)
		log_info("cards", "%s: card %s in \"%s\"", what, m->id, m->reader);
	else
		log_warn("cards", "%s: card %s in \"%s\" could not be read: %s (%s)", what, m->id, m->reader,
			 card_errcode((card_err)m->error), m->error_detail);
}

static void on_event(const struct card_event *ev, void *user)
{
	cards *c = user;
	switch (ev->kind) {
	case CARD_EV_PCSC_UP:
		log_info("cards", "pcscd reachable");
		return;
	case CARD_EV_PCSC_DOWN:
		log_warn("cards", "pcscd not reachable; reconnecting in the background");
		return;
	case CARD_EV_READER_ADDED:
	case CARD_EV_READER_REMOVED: {
		bool added = ev->kind == CARD_EV_READER_ADDED;
		log_info("cards", "reader %s: \"%s\"", added ? "added" : "removed", ev->reader->name);
		broadcast(c, json_pack("{s:s, s:o}", "type", added ? "reader-added" : "reader-removed",
				       "reader", cards_reader_json(ev->reader)));
		return;
	}
	case CARD_EV_CARD_INSERTED:
	case CARD_EV_CARD_UPDATED: {
		bool ins = ev->kind == CARD_EV_CARD_INSERTED;
		log_card(ins ? "inserted" : "updated", ev->card);
		broadcast(c, json_pack("{s:s, s:o}", "type", ins ? "card-inserted" : "card-updated",
				       "card", cards_model_json(ev->card)));
		return;
	}
	case CARD_EV_CARD_REMOVED:
		log_info("cards", "removed: card %s from \"%s\"", ev->card->id, ev->card->reader);
		pthread_mutex_lock(&c->lock);
		if (c->on_removed)
			c->on_removed(ev->card->id, c->removed_user);
		pthread_mutex_unlock(&c->lock);
		broadcast(c, json_pack("{s:s, s:s, s:s, s:s}", "type", "card-removed", "card_id", ev->card->id,
				       "reader", ev->card->reader, "reader_id", ev->card->reader_id));
		return;
	}
}

/* ---- life cycle ---- */

card_err cards_start(cards **out)
{
	cards *c = calloc(1, sizeof(*c));
	*out = NULL;
	if (!c)
		return CARD_E_NOMEM;
	pthread_mutex_init(&c->lock, NULL);
	card_err e = card_core_start(on_event, c, &c->core);
	if (e) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		return e;
	}
	*out = c;
	return CARD_OK;
}

void cards_set_ws(cards *c, ws_server *ws)
{
	pthread_mutex_lock(&c->lock);
	c->ws = ws;
	pthread_mutex_unlock(&c->lock);
}

void cards_set_removed_hook(cards *c, cards_removed_fn fn, void *user)
{
	pthread_mutex_lock(&c->lock);
	c->on_removed = fn;
	c->removed_user = user;
	pthread_mutex_unlock(&c->lock);
}

void cards_stop(cards *c)
{
	if (!c)
		return;
	card_core_stop(c->core);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

card_core *cards_core(cards *c)
{
	return c->core;
}
