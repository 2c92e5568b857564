/* test_sim_profile.c — the virtual card's untrusted inputs besides APDUs: the JSON card file
 * (profile overrides) and the state file. Malformed files give precise errors, never a crash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sim/sim_card.h"
#include "sim/sim_profile.h"

static char dir[512];

static const char *write_tmp(const char *name, const char *text)
{
	static char path[600];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static enum sim_err load(const char *json, struct sim_profile *p, char *err, size_t n)
{
	sim_profile_default(p);
	enum sim_err rc = sim_profile_load(p, write_tmp("card.json", json), err, n);
	if (rc == SIM_OK)
		rc = sim_profile_check(p, err, n);
	return rc;
}

static void defaults_are_the_seed_card(void **state)
{
	struct sim_profile p;
	char err[256] = "";
	(void)state;
	sim_profile_default(&p);
	assert_int_equal(sim_profile_check(&p, err, sizeof(err)), SIM_OK);
	assert_string_equal(p.holder, "Olof Svensson Andersson");
	assert_string_equal(p.given_name, "Olof");
	assert_string_equal(p.surname, "Svensson Andersson");
	assert_string_equal(p.organisation, "Västra Götalandsregionen");
	assert_string_equal(p.hsa_id, "TSTNMT2321000156-10XK");
	assert_string_equal(p.card_number, "9752269885715693047");
	assert_int_equal(p.trust_level, 3);
	assert_false(p.with_signature_certificate);
}

static void reserve_card_with_two_codes(void **state)
{
	struct sim_profile p;
	char err[256] = "";
	(void)state;
	assert_int_equal(
		load("{\"card_type\":\"reserve\",\"trust_level\":2,\"holder\":\"Åsa Öberg\","
		     "\"pins\":{\"pin1\":\"24681357\"}}",
		     &p, err, sizeof(err)),
		SIM_OK);
	assert_int_equal(p.card_type, SIM_CARD_RESERVE);
	assert_int_equal(p.trust_level, 2);
	assert_string_equal(p.given_name, "Åsa");
	assert_string_equal(p.surname, "Öberg");
	assert_string_equal(p.pin2, "24681357"); /* säkerhetskod = login code */
	assert_int_equal(load("{\"card_type\":\"reserve\",\"pins\":{\"pin1\":\"111111\",\"pin2\":"
			      "\"222222\"}}",
			      &p, err, sizeof(err)),
			 SIM_OK);
	assert_string_equal(p.pin2, "222222");
	assert_true(p.pin2_activated);
	/* The letter's two codes, PIN2 not yet activated: its value is the security code. */
	assert_int_equal(load("{\"card_type\":\"reserve\",\"pin2_activated\":false,\"pins\":{"
			      "\"pin1\":\"24681357\"}}",
			      &p, err, sizeof(err)),
			 SIM_OK);
	assert_false(p.pin2_activated);
	assert_string_equal(p.pin2, "24681357");
}

static void malformed_card_files(void **state)
{
	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "", "" },
		{ "[1,2]", "must be a JSON object" },
		{ "{\"trust_level\":4}", "trust_level" },
		{ "{\"trust_level\":\"3\"}", "trust_level" },
		{ "{\"card_type\":\"gold\"}", "card_type" },
		{ "{\"nickname\":\"x\"}", "unknown field" },
		{ "{\"holder\":\"\"}", "holder" },
		{ "{\"holder\":42}", "holder" },
		{ "{\"card_number\":\"123\"}", "card_number" },
		{ "{\"card_number\":\"97522698857156930AB\"}", "card_number" },
		{ "{\"valid_from\":\"2023-13-01\"}", "valid_from" },
		{ "{\"valid_from\":\"2029-01-01\"}", "before valid_to" },
		{ "{\"pins\":{\"pin1\":\"12345\"}}", "pin1" },
		{ "{\"pins\":{\"pin2\":\"12345a\"}}", "pin1 and pin2" },
		{ "{\"pins\":{\"puk\":\"1234567\"}}", "puk" },
		{ "{\"pins\":[]}", "pins" },
		{ "{\"with_signature_certificate\":1}", "with_signature_certificate" },
		{ "{\"pin2_activated\":\"no\"}", "pin2_activated" },
		{ "{\"pin2_activated\":false}", "needs card_type reserve" },
		{ "{\"card_type\":\"reserve\",\"pin2_activated\":false,\"with_signature_"
		  "certificate\":true}",
		  "no with_signature_certificate" },
		{ "{\"upn\":\"a\\u0000b\"}", "card.json" },
		{ "{\"a\":1,\"a\":2}", "duplicate" },
		{ "{\"organisation\":"
		  "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxx\"}",
		  "organisation" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sim_profile p;
		char err[256] = "";
		if (load(bad[i].json, &p, err, sizeof(err)) == SIM_OK)
			fail_msg("accepted %s", bad[i].json);
		if (!strstr(err, bad[i].why))
			fail_msg("%s: error \"%s\" does not mention \"%s\"", bad[i].json, err,
				 bad[i].why);
	}
}

static void malformed_state_files(void **state)
{
	static const char *const bad[] = {
		"",
		"{}",
		"{\"format\":\"other\"}",
		"{\"format\":\"siths-cardsim-state-1\"}",
		"{\"format\":\"siths-cardsim-state-1\",\"files\":{\"2F00\":\"zz\"}}",
		"{\"format\":\"siths-cardsim-state-1\",\"files\":[],\"keys\":{},\"pins\":{}}",
	};
	struct sim_profile p;
	(void)state;
	sim_profile_default(&p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sim_card *c = NULL;
		char err[256] = "";
		const char *path = write_tmp("state.json", bad[i]);
		assert_int_equal(sim_card_open(path, &p, "/nonexistent", &c, err, sizeof(err)),
				 SIM_E_FORMAT);
		assert_null(c);
		assert_non_null(strstr(err, "state.json"));
	}
}

static void state_round_trip(void **state)
{
	struct sim_profile p;
	struct sim_card *c = NULL, *d = NULL;
	char err[256] = "", pki[600], path[600], cmd[1400];
	(void)state;
	snprintf(pki, sizeof(pki), "%s/pki", dir);
	snprintf(cmd, sizeof(cmd), "'%s/certs/test-siths-pki.sh' '%s' >/dev/null", SITHS_SOURCE_DIR,
		 pki);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/card.state", dir);
	unlink(path);
	sim_profile_default(&p);
	assert_int_equal(sim_card_open(path, &p, pki, &c, err, sizeof(err)), SIM_OK);
	c->pins[1].tries = 1;
	assert_int_equal(sim_card_save(c), SIM_OK);
	assert_int_equal(sim_card_open(path, &p, pki, &d, err, sizeof(err)), SIM_OK);
	assert_int_equal(d->pins[1].tries, 1);
	assert_true(sim_pin_matches(&d->pins[1], (const uint8_t *)"654321", 6));
	assert_false(sim_pin_matches(&d->pins[1], (const uint8_t *)"123456", 6));
	for (size_t i = 0; i < SIM_NFILES; i++) {
		assert_int_equal(c->files[i].size, d->files[i].size);
		if (c->files[i].size)
			assert_memory_equal(c->files[i].data, d->files[i].data, c->files[i].size);
	}
	assert_int_equal(EVP_PKEY_eq(c->keys[1].pkey, d->keys[1].pkey), 1);
	/* The PINs are not in the state file in clear. */
	FILE *f = fopen(path, "r");
	char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	assert_null(strstr(buf, "654321"));
	assert_null(strstr(buf, "12345678"));
	sim_card_free(c);
	sim_card_free(d);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s/sim-profile-XXXXXX", SITHS_TEST_BINARY_DIR);
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_are_the_seed_card),
		cmocka_unit_test(reserve_card_with_two_codes),
		cmocka_unit_test(malformed_card_files),
		cmocka_unit_test(malformed_state_files),
		cmocka_unit_test(state_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
