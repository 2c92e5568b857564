/* test_card_json.c — the JSON of card models (server/rest/cardjson.c) read from the virtual
 * card in-process: field names and values exactly as docs/api/openapi.yaml spells them, nulls
 * for unknowns, the error object for a damaged card, and valid UTF-8 always. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "cardjson.h"
#include "siths.h"
#include "sim/sim_apdu.h"
#include "sim/sim_card.h"
#include "sim/sim_p15.h"

static char pki_dir[256];

static card_err sim_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *len)
{
	*len = sim_apdu_process(ctx, cmd, n, resp);
	return CARD_OK;
}

/* The model of a card made from profile p (wiped here) as JSON. */
static json_t *profile_json(struct sim_profile *p, uint16_t garbage_fid)
{
	struct sim_card *c = NULL;
	char err[256];
	if (sim_card_create(p, pki_dir, &c, err, sizeof(err)) != SIM_OK)
		fail_msg("card: %s", err);
	sim_profile_wipe(p);
	if (garbage_fid) {
		struct sim_file *f = sim_card_file(c, garbage_fid);
		for (size_t k = 0; k < f->size; k++)
			f->data[k] = (uint8_t)(0xA5 ^ (k * 13));
	}
	struct card_model *m = calloc(1, sizeof(*m));
	strcpy(m->reader, "Virtual PCD 00 00");
	strcpy(m->reader_id, "r0123456789abcdef");
	struct apdu_transport t = { .transmit = sim_transmit, .ctx = c };
	(void)siths_read(&t, m);
	json_t *j = cardjson_model(m);
	free(m);
	sim_card_free(c);
	assert_non_null(j);
	return j;
}

static json_t *card_json(bool with_sig, uint16_t garbage_fid)
{
	struct sim_profile p;
	sim_profile_default(&p);
	p.with_signature_certificate = with_sig;
	return profile_json(&p, garbage_fid);
}

static const char *str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_string(v))
		fail_msg("%s is not a string", k);
	return json_string_value(v);
}

static void seed_card_json(void **state)
{
	(void)state;
	json_t *j = card_json(false, 0);
	assert_string_equal(str(j, "status"), "ok");
	assert_string_equal(str(j, "reader"), "Virtual PCD 00 00");
	assert_string_equal(str(j, "card_number"), "9752269885715693047");
	assert_string_equal(str(j, "card_type"), "ordinary");
	assert_string_equal(str(j, "holder"), "Olof Svensson Andersson");
	assert_string_equal(str(j, "organisation"), "Västra Götalandsregionen");
	assert_string_equal(str(j, "valid_from"), "2023-11-18");
	assert_string_equal(str(j, "valid_to"), "2028-09-30");
	assert_int_equal(json_integer_value(json_object_get(j, "trust_level")), 3);
	assert_string_equal(str(j, "hsa_id"), "TSTNMT2321000156-10XK");
	assert_string_equal(str(j, "upn"), "osa@test.se");
	assert_string_equal(str(j, "email"), "cathrine.andersson@inera.se");
	json_t *sig = json_object_get(j, "signature_certificate");
	assert_true(json_is_false(json_object_get(sig, "present")));
	json_t *pin1 = json_object_get(json_object_get(j, "pins"), "pin1");
	assert_int_equal(json_integer_value(json_object_get(pin1, "tries_left")), 3);
	assert_true(json_is_false(json_object_get(pin1, "blocked")));
	/* The AODF's lastPinChange, as the card wrote it (GeneralizedTime). */
	assert_true(json_is_true(json_object_get(pin1, "activated")));
	const char *lc = str(pin1, "last_change");
	assert_int_equal(strlen(lc), 15);
	assert_int_equal(lc[14], 'Z');
	json_t *pin2 = json_object_get(json_object_get(j, "pins"), "pin2");
	assert_int_equal(json_integer_value(json_object_get(pin2, "max_length")), 8);
	assert_true(json_is_true(json_object_get(pin2, "activated")));
	json_t *puk = json_object_get(json_object_get(j, "pins"), "puk");
	assert_int_equal(json_integer_value(json_object_get(puk, "tries_left")), 3);
	assert_int_equal(json_integer_value(json_object_get(puk, "min_length")), 8);
	assert_true(json_is_false(json_object_get(puk, "blocked")));
	assert_null(json_object_get(j, "error"));
	char *text = json_dumps(j, JSON_COMPACT);
	assert_non_null(text);
	free(text);
	json_decref(j);
}

/* A reserve card whose letter holds two codes: PIN2 not activated, its counter not told. */
static void pin2_not_activated_json(void **state)
{
	(void)state;
	struct sim_profile p;
	sim_profile_default(&p);
	p.card_type = SIM_CARD_RESERVE;
	p.pin2_activated = false;
	json_t *j = profile_json(&p, 0);
	json_t *pins = json_object_get(j, "pins");
	assert_true(json_is_false(json_object_get(json_object_get(pins, "pin2"), "activated")));
	assert_true(json_is_null(json_object_get(json_object_get(pins, "pin2"), "tries_left")));
	assert_true(json_is_false(json_object_get(json_object_get(pins, "pin2"), "blocked")));
	assert_true(json_is_true(json_object_get(json_object_get(pins, "pin1"), "activated")));
	json_decref(j);
}

static void signature_certificate_json(void **state)
{
	(void)state;
	json_t *j = card_json(true, 0);
	json_t *sig = json_object_get(j, "signature_certificate");
	assert_true(json_is_true(json_object_get(sig, "present")));
	assert_true(json_is_true(json_object_get(sig, "key_checked")));
	assert_string_equal(str(sig, "valid_to"), "2028-09-30");
	/* The eID row carries the same signature certificate state. */
	json_t *eid = json_array_get(json_object_get(j, "eids"), 0);
	assert_string_equal(str(eid, "hsa_id"), "TSTNMT2321000156-10XK");
	assert_true(json_equal(json_object_get(eid, "signature_certificate"), sig));
	json_decref(j);
}

static void damaged_card_json(void **state)
{
	(void)state;
	json_t *j = card_json(false, SIM_FID_CDF);
	assert_string_equal(str(j, "status"), "error");
	json_t *e = json_object_get(j, "error");
	assert_string_equal(str(e, "code"), "bad_data");
	assert_non_null(strstr(str(e, "message"), "EF.CDF"));
	assert_true(json_is_null(json_object_get(j, "holder")));
	assert_true(json_is_null(json_object_get(j, "trust_level")));
	assert_string_equal(str(j, "card_number"), "9752269885715693047");
	json_decref(j);
}

static void reader_json(void **state)
{
	(void)state;
	struct card_reader r = { .id = "r0123456789abcdef",
				 .name = "Virtual PCD 00 01",
				 .card_present = false };
	json_t *j = cardjson_reader(&r);
	assert_string_equal(str(j, "id"), "r0123456789abcdef");
	assert_string_equal(str(j, "name"), "Virtual PCD 00 01");
	assert_true(json_is_false(json_object_get(j, "card_present")));
	json_decref(j);
	/* a reader name that is not UTF-8 must not break the JSON */
	strcpy(r.name, "bad \xff\xfe name");
	j = cardjson_reader(&r);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "name")));
	json_decref(j);
}

int main(void)
{
	char cmd[1024];
	snprintf(pki_dir, sizeof(pki_dir), "%s/test-pki-json", SITHS_TEST_BINARY_DIR);
	snprintf(cmd, sizeof(cmd), "'%s/certs/test-siths-pki.sh' '%s' >/dev/null", SITHS_SOURCE_DIR,
		 pki_dir);
	if (system(cmd) != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_card_json),
		cmocka_unit_test(signature_certificate_json),
		cmocka_unit_test(pin2_not_activated_json),
		cmocka_unit_test(damaged_card_json),
		cmocka_unit_test(reader_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
