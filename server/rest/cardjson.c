/* cardjson.c — card model → JSON: the card, its one eID (the authentication certificate's
 * identity with the signature certificate's state), its PINs, and a reader. */
#include "cardjson.h"

#include "err.h"

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
	return json_pack("{s:o, s:b, s:o, s:i, s:o, s:b, s:o}", "tries_left",
			 int_or_null(p->tries_left, -1), "blocked", p->blocked, "label",
			 str_or_null(p->label), "min_length", (int)p->min_len, "max_length",
			 p->max_len ? json_integer(p->max_len) : json_null(), "activated",
			 p->activated, "last_change", str_or_null(p->last_change));
}

static json_t *sig_json(const struct card_model *m)
{
	const struct card_cert_info *s = &m->sign;
	json_t *j =
		json_pack("{s:b, s:b}", "present", s->present, "signing_key", m->sign_key_present);
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
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "hsa_id",
			 str_or_null(a->hsa_id), "upn", str_or_null(a->upn), "email",
			 str_or_null(a->email), "valid_from", str_or_null(a->valid_from),
			 "valid_to", str_or_null(a->valid_to), "trust_level",
			 int_or_null(a->trust_level, 0), "issuer", str_or_null(a->issuer_cn),
			 "signature_certificate", sig_json(m));
}

static const char *type_name(enum card_type t)
{
	return t == CARD_TYPE_RESERVE ? "reserve" : t == CARD_TYPE_ORDINARY ? "ordinary" : NULL;
}

json_t *cardjson_model(const struct card_model *m)
{
	json_t *eids = json_array();
	if (eids && m->auth.present)
		json_array_append_new(eids, eid_json(m));
	json_t *j = json_pack(
		"{s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
		" s:o, s:o, s:o, s:{s:o, s:o, s:o}}",
		"id", m->id, "reader", str_or_null(m->reader), "reader_id", m->reader_id, "status",
		m->status == CARD_STATUS_OK ? "ok" : "error", "card_number",
		str_or_null(m->card_number), "card_type", str_or_null(type_name(m->type)), "label",
		str_or_null(m->token_label), "holder", str_or_null(m->holder), "organisation",
		str_or_null(m->organisation), "valid_from", str_or_null(m->valid_from), "valid_to",
		str_or_null(m->valid_to), "trust_level", int_or_null(m->auth.trust_level, 0),
		"hsa_id", str_or_null(m->auth.hsa_id), "upn", str_or_null(m->auth.upn), "email",
		str_or_null(m->auth.email), "atr", str_or_null(m->atr), "signature_certificate",
		sig_json(m), "eids", eids ? eids : json_array(), "manufacturer",
		str_or_null(m->manufacturer), "pins", "pin1", pin_json(&m->pin1), "pin2",
		pin_json(&m->pin2), "puk", pin_json(&m->puk));
	if (j && m->status != CARD_STATUS_OK)
		json_object_set_new(
			j, "error",
			json_pack("{s:s, s:s}", "code", card_errcode((card_err)m->error), "message",
				  m->error_detail[0] ? m->error_detail
						     : card_strerror((card_err)m->error)));
	return j;
}

json_t *cardjson_reader(const struct card_reader *r)
{
	return json_pack("{s:s, s:o, s:b, s:o}", "id", r->id, "name", str_or_null(r->name),
			 "card_present", r->card_present, "card_id", str_or_null(r->card_id));
}
