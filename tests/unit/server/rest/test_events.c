/* test_events.c — the event messages of rest/events.c, one shape each (docs/api/events.md):
 * `card` is the card model object where there is one, `card_id` always the id, the job events'
 * deprecated `card` alias still equal to card_id, the job-failed codes of every failure, the
 * job's REST state, the greeting as messages of their own, and nothing sent without a sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events.h"

#define MAX_SENT 8

/* What the sink received, parsed back for the checks. */
static json_t *sent[MAX_SENT];
static size_t n_sent;

static void sink(void *to, const char *text)
{
	(void)to;
	json_error_t err;
	assert_true(n_sent < MAX_SENT);
	sent[n_sent] = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	if (!sent[n_sent])
		fail_msg("not JSON: %s", text);
	n_sent++;
}

static void greet_sink(void *to, const json_t *msg)
{
	(void)to;
	assert_true(n_sent < MAX_SENT);
	sent[n_sent++] = json_deep_copy(msg);
}

static int forget(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_sent; i++)
		json_decref(sent[i]);
	n_sent = 0;
	return 0;
}

static const char *str(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	if (!json_is_string(v))
		fail_msg("%s is not a string", k);
	return json_string_value(v);
}

static struct events *events_to_sink(void)
{
	struct events *e = events_new();
	assert_non_null(e);
	events_set_sink(e, sink, NULL);
	return e;
}

static struct certjob_status job(enum certjob_state state, const char *stage, int percent)
{
	struct certjob_status st = {
		.state = state, .stage = stage, .percent = percent, .tries_left = -1
	};
	strcpy(st.id, "j0123456789abcdef0123456789abcdef");
	strcpy(st.card_id, "c0123456789abcdef");
	strcpy(st.message, "a message");
	return st;
}

static struct card_model model(void)
{
	struct card_model m = { .status = CARD_STATUS_OK };
	strcpy(m.id, "c0123456789abcdef");
	strcpy(m.reader, "Virtual PCD 00 00");
	strcpy(m.reader_id, "r0123456789abcdef");
	strcpy(m.holder, "Olof Svensson Andersson");
	return m;
}

static void job_events(void **state)
{
	(void)state;
	struct events *e = events_to_sink();
	struct certjob_status st = job(CERTJOB_RUNNING, "write", 80);
	events_job(&st, e);
	st = job(CERTJOB_DONE, "done", 100);
	events_job(&st, e);
	assert_int_equal(n_sent, 2);
	const char *types[] = { "job-progress", "job-done" };
	for (size_t i = 0; i < 2; i++) {
		json_t *m = sent[i];
		assert_string_equal(str(m, "type"), types[i]);
		assert_string_equal(str(m, "job"), "j0123456789abcdef0123456789abcdef");
		assert_string_equal(str(m, "card_id"), "c0123456789abcdef");
		/* Deprecated for one release: the same id under its old name. */
		assert_string_equal(str(m, "card"), "c0123456789abcdef");
		assert_string_equal(str(m, "message"), "a message");
		assert_null(json_object_get(m, "code"));
		assert_null(json_object_get(m, "tries_left"));
		assert_null(json_object_get(m, "state"));
	}
	assert_string_equal(str(sent[0], "stage"), "write");
	assert_int_equal(json_integer_value(json_object_get(sent[0], "percent")), 80);
	assert_string_equal(str(sent[1], "stage"), "done");
	assert_int_equal(json_integer_value(json_object_get(sent[1], "percent")), 100);
	events_free(e);
}

/* job-failed: the code of each kind of failure, tries_left only when known, no percent. */
static void job_failed_codes(void **state)
{
	(void)state;
	static const struct {
		enum certjob_failure why;
		card_err cause;
		int tries;
		const char *code;
	} cases[] = {
		{ CERTJOB_FAIL_CARD, CARD_E_PIN_WRONG, 2, "wrong_pin" },
		{ CERTJOB_FAIL_CARD, CARD_E_PIN_BLOCKED, 0, "pin_blocked" },
		{ CERTJOB_FAIL_CARD, CARD_E_REMOVED, -1, "card_removed" },
		{ CERTJOB_FAIL_CARD, CARD_E_BAD_DATA, -1, "card_error" },
		{ CERTJOB_FAIL_ISSUER_UNAVAILABLE, CARD_OK, -1, "issuer_failed" },
		{ CERTJOB_FAIL_ISSUER_REFUSED, CARD_OK, -1, "issuer_refused" },
		{ CERTJOB_FAIL_CERT_INVALID, CARD_OK, -1, "cert_invalid" },
	};
	struct events *e = events_to_sink();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct certjob_status st = job(CERTJOB_FAILED, "verify_pin", 2);
		st.failure = cases[i].why;
		st.cause = cases[i].cause;
		st.tries_left = cases[i].tries;
		events_job(&st, e);
		assert_int_equal(n_sent, 1);
		json_t *m = sent[0];
		assert_string_equal(str(m, "type"), "job-failed");
		assert_string_equal(str(m, "code"), cases[i].code);
		assert_string_equal(str(m, "card_id"), "c0123456789abcdef");
		assert_string_equal(str(m, "card"), "c0123456789abcdef");
		assert_string_equal(str(m, "stage"), "verify_pin");
		assert_null(json_object_get(m, "percent"));
		if (cases[i].tries >= 0)
			assert_int_equal(json_integer_value(json_object_get(m, "tries_left")),
					 cases[i].tries);
		else
			assert_null(json_object_get(m, "tries_left"));
		forget(NULL);
	}
	events_free(e);
}

/* GET /v1/jobs/{id}: the events' fields with "state"; a failed job keeps its percent. */
static void job_state(void **state)
{
	(void)state;
	struct certjob_status st = job(CERTJOB_RUNNING, "queued", 0);
	json_t *j = events_job_state(&st);
	assert_string_equal(str(j, "state"), "running");
	assert_string_equal(str(j, "card_id"), "c0123456789abcdef");
	assert_string_equal(str(j, "card"), "c0123456789abcdef");
	assert_string_equal(str(j, "stage"), "queued");
	assert_int_equal(json_integer_value(json_object_get(j, "percent")), 0);
	assert_null(json_object_get(j, "type"));
	assert_null(json_object_get(j, "code"));
	json_decref(j);
	st = job(CERTJOB_FAILED, "submit", 68);
	st.failure = CERTJOB_FAIL_ISSUER_REFUSED;
	j = events_job_state(&st);
	assert_string_equal(str(j, "state"), "failed");
	assert_string_equal(str(j, "code"), "issuer_refused");
	assert_int_equal(json_integer_value(json_object_get(j, "percent")), 68);
	json_decref(j);
	st = job(CERTJOB_DONE, "done", 100);
	j = events_job_state(&st);
	assert_string_equal(str(j, "state"), "done");
	assert_null(json_object_get(j, "pin2_activated"));
	json_decref(j);
	/* A job that activated a reserve card's PIN2 says so, in its state and its events. */
	st.pin2_activated = true;
	j = events_job_state(&st);
	assert_true(json_is_true(json_object_get(j, "pin2_activated")));
	json_decref(j);
}

/* The card and reader events: `card` is the model object, `card_id` the id of a removed card. */
static void card_events(void **state)
{
	(void)state;
	struct events *e = events_to_sink();
	struct card_model m = model();
	struct card_reader r = { .card_present = true };
	strcpy(r.id, "r0123456789abcdef");
	strcpy(r.name, "Virtual PCD 00 00");
	strcpy(r.card_id, m.id);
	const struct card_event evs[] = {
		{ .kind = CARD_EV_PCSC_UP },
		{ .kind = CARD_EV_READER_ADDED, .reader = &r },
		{ .kind = CARD_EV_CARD_INSERTED, .reader = &r, .card = &m },
		{ .kind = CARD_EV_CARD_UPDATED, .reader = &r, .card = &m },
		{ .kind = CARD_EV_CARD_REMOVED, .reader = &r, .card = &m },
		{ .kind = CARD_EV_READER_REMOVED, .reader = &r },
		{ .kind = CARD_EV_PCSC_DOWN },
	};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		events_card(e, &evs[i]);
	assert_int_equal(n_sent, 5); /* pcscd coming and going has no message */
	const char *types[] = { "reader-added", "card-inserted", "card-updated", "card-removed",
				"reader-removed" };
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(str(sent[i], "type"), types[i]);
	for (size_t i = 1; i <= 2; i++) {
		json_t *c = json_object_get(sent[i], "card");
		assert_true(json_is_object(c));
		assert_string_equal(str(c, "id"), m.id);
		assert_string_equal(str(c, "holder"), "Olof Svensson Andersson");
		assert_null(json_object_get(sent[i], "card_id"));
	}
	json_t *rm = sent[3];
	assert_string_equal(str(rm, "card_id"), m.id);
	assert_string_equal(str(rm, "reader"), "Virtual PCD 00 00");
	assert_string_equal(str(rm, "reader_id"), "r0123456789abcdef");
	assert_null(json_object_get(rm, "card"));
	for (size_t i = 0; i < 5; i += 4) {
		json_t *rd = json_object_get(sent[i], "reader");
		assert_string_equal(str(rd, "id"), "r0123456789abcdef");
		assert_string_equal(str(rd, "card_id"), m.id);
	}
	events_free(e);
}

/* The hello is the type and the version; without a card core nothing follows it. */
static void greeting_without_cards(void **state)
{
	(void)state;
	char *hello = events_hello();
	sink(NULL, hello);
	free(hello);
	events_greet(NULL, greet_sink, NULL);
	assert_int_equal(n_sent, 1);
	assert_string_equal(str(sent[0], "type"), "hello");
	assert_string_equal(str(sent[0], "version"), SITHS_VERSION);
	assert_int_equal(json_object_size(sent[0]), 2);
}

/* No sink, no message; a sink removed stops them. */
static void sink_off(void **state)
{
	(void)state;
	struct events *e = events_new();
	struct certjob_status st = job(CERTJOB_RUNNING, "write", 80);
	events_job(&st, e);
	events_set_sink(e, sink, NULL);
	events_job(&st, e);
	events_set_sink(e, NULL, NULL);
	events_job(&st, e);
	assert_int_equal(n_sent, 1);
	events_free(e);
	events_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(job_events, forget),
		cmocka_unit_test_teardown(job_failed_codes, forget),
		cmocka_unit_test(job_state),
		cmocka_unit_test_teardown(card_events, forget),
		cmocka_unit_test_teardown(greeting_without_cards, forget),
		cmocka_unit_test_teardown(sink_off, forget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
