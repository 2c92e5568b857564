/* events.c — every event message of docs/api/events.md, built here and nowhere else, and handed
 * to the sink as text. The job's REST state shares the job events' fields, so it is built here
 * too. */
#include "events.h"

#include <pthread.h>
#include <stdlib.h>

#include "cardjson.h"
#include "errmap.h"
#include "issuer.h"

#ifndef SITHS_VERSION
#define SITHS_VERSION "0"
#endif

struct events {
	pthread_mutex_t lock; /* guards the sink: a message is never sent to one being removed */
	events_text_fn send;
	void *to;
};

struct events *events_new(void)
{
	struct events *e = calloc(1, sizeof(*e));
	if (e)
		pthread_mutex_init(&e->lock, NULL);
	return e;
}

void events_free(struct events *e)
{
	if (!e)
		return;
	pthread_mutex_destroy(&e->lock);
	free(e);
}

void events_set_sink(struct events *e, events_text_fn send, void *to)
{
	pthread_mutex_lock(&e->lock);
	e->send = send;
	e->to = to;
	pthread_mutex_unlock(&e->lock);
}

/* Sends msg (stolen) to the sink. */
static void publish(struct events *e, json_t *msg)
{
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	if (!text)
		return;
	pthread_mutex_lock(&e->lock);
	if (e->send)
		e->send(e->to, text);
	pthread_mutex_unlock(&e->lock);
	free(text);
}

/* ---- the messages ---- */

static json_t *card_message(const char *type, const struct card_model *m)
{
	return json_pack("{s:s, s:o}", "type", type, "card", cardjson_model(m));
}

static json_t *reader_message(const char *type, const struct card_reader *r)
{
	return json_pack("{s:s, s:o}", "type", type, "reader", cardjson_reader(r));
}

/* card-removed names the reader as the card model does: its name and its id. */
static json_t *removed_message(const struct card_model *m)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "type", "card-removed", "card_id", m->id, "reader",
			 m->reader, "reader_id", m->reader_id);
}

/* The job-failed code of a failed job (docs/api/events.md); the card's via errmap.h. */
static const char *job_code(const struct certjob_status *st)
{
	switch (st->failure) {
	case CERTJOB_FAIL_ISSUER_UNAVAILABLE: return "issuer_failed";
	case CERTJOB_FAIL_ISSUER_REFUSED: return "issuer_refused";
	case CERTJOB_FAIL_CERT_INVALID: return "cert_invalid";
	case CERTJOB_FAIL_CARD:
	case CERTJOB_FAIL_NONE: break;
	}
	return errmap_card(st->cause)->job_code;
}

/* A refusal in the CA's own terms: {"text", "fail_info": [RFC 9810 bit names]}. */
static json_t *issuer_status_json(const struct certjob_status *st)
{
	json_t *bits = json_array();
	for (int b = 0; b < 32; b++)
		if (((st->issuer_fail_info >> b) & 1u) && issuer_failinfo_name(b))
			json_array_append_new(bits, json_string(issuer_failinfo_name(b)));
	return json_pack("{s:s, s:o}", "text", st->issuer_text, "fail_info",
			 bits ? bits : json_array());
}

/* A job's fields, shared by its four events (type set) and its REST state (type NULL): a failed
 * job's event carries the code instead of the percent, its state both; an interrupted job has
 * both everywhere. */
static json_t *job_json(const char *type, const struct certjob_status *st)
{
	bool failed = st->state == CERTJOB_FAILED;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "job", st->id, "card_id", st->card_id,
			      "stage", st->stage, "message", st->message);
	if (!o)
		return NULL;
	if (type)
		json_object_set_new(o, "type", json_string(type));
	/* Deprecated alias of card_id (docs/api/events.md): `card` is the card model elsewhere. */
	json_object_set_new(o, "card", json_string(st->card_id));
	if (!type || !failed)
		json_object_set_new(o, "percent", json_integer(st->percent));
	/* Only when true: the page then tells the holder the code is now the signature code. */
	if (st->pin2_activated)
		json_object_set_new(o, "pin2_activated", json_true());
	if (failed) {
		json_object_set_new(o, "code", json_string(job_code(st)));
		if (st->failure == CERTJOB_FAIL_ISSUER_REFUSED &&
		    (st->issuer_text[0] || st->issuer_fail_info))
			json_object_set_new(o, "issuer_status", issuer_status_json(st));
		if (st->tries_left >= 0)
			json_object_set_new(o, "tries_left", json_integer(st->tries_left));
		/* The body member of the code that failed, when it was PIN1 (else it was "pin"). */
		if (st->auth_pin_failed)
			json_object_set_new(o, "field", json_string("auth_pin"));
	}
	if (st->state == CERTJOB_INTERRUPTED)
		json_object_set_new(o, "code", json_string("card_removed_after_commit"));
	return o;
}

/* The state's name in GET /v1/jobs/{id} and the event type it is reported as. */
static const char *job_state_name(enum certjob_state s, bool event)
{
	switch (s) {
	case CERTJOB_DONE: return event ? "job-done" : "done";
	case CERTJOB_FAILED: return event ? "job-failed" : "failed";
	case CERTJOB_INTERRUPTED: return event ? "job-interrupted" : "interrupted";
	case CERTJOB_RUNNING: break;
	}
	return event ? "job-progress" : "running";
}

/* ---- what happened ---- */

void events_card(struct events *e, const struct card_event *ev)
{
	switch (ev->kind) {
	case CARD_EV_PCSC_UP:
	case CARD_EV_PCSC_DOWN:
	case CARD_EV_READERS_SCANNED: return;
	case CARD_EV_READER_ADDED:
	case CARD_EV_READER_REMOVED:
		publish(e,
			reader_message(ev->kind == CARD_EV_READER_ADDED ? "reader-added"
									: "reader-removed",
				       ev->reader));
		return;
	case CARD_EV_CARD_INSERTED:
	case CARD_EV_CARD_UPDATED:
		publish(e,
			card_message(ev->kind == CARD_EV_CARD_INSERTED ? "card-inserted"
								       : "card-updated",
				     ev->card));
		return;
	case CARD_EV_CARD_REMOVED: publish(e, removed_message(ev->card)); return;
	}
}

void events_job(const struct certjob_status *st, void *user)
{
	publish(user, job_json(job_state_name(st->state, true), st));
}

json_t *events_job_state(const struct certjob_status *st)
{
	json_t *o = job_json(NULL, st);
	if (o)
		json_object_set_new(o, "state", json_string(job_state_name(st->state, false)));
	return o;
}

/* Sends msg (stolen) to the client being greeted. */
static void greet_one(events_json_fn send, void *to, json_t *msg)
{
	if (msg)
		send(to, msg);
	json_decref(msg);
}

char *events_hello(void)
{
	json_t *msg = json_pack("{s:s, s:s}", "type", "hello", "version", SITHS_VERSION);
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	return text;
}

void events_greet(void *user, events_json_fn send, void *to)
{
	card_core *core = user;
	struct card_snapshot s;
	if (!core || card_snapshot_get(core, &s) != CARD_OK)
		return;
	for (size_t i = 0; i < s.n_cards; i++)
		greet_one(send, to, card_message("card-inserted", &s.cards[i]));
	card_snapshot_free(&s);
}
