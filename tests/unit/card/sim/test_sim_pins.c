/* test_sim_pins.c — the virtual card's PIN commands (card/sim/sim_pins.c) against ISO 7816-4 and
 * docs/virtual-card.md: CHANGE REFERENCE DATA and RESET RETRY COUNTER in every P1 form with their
 * counters (the PUK's too, a blocked PUK for good), the transport state of a reserve card's PIN2,
 * lastPinChange in the AODF, and the state file: counters, states and times survive a restart,
 * older state files still load, and a change that cannot be saved leaves the old code in force —
 * never a third state. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "fx_apdu.h"
#include "fx_sim.h"
#include "sim/sim_apdu.h"
#include "sim/sim_card.h"
#include "sim/sim_p15.h"

static uint8_t rbuf[SIM_RAPDU_MAX];

static unsigned sw_of(size_t rlen)
{
	assert_true(rlen >= 2);
	return (unsigned)(rbuf[rlen - 2] << 8 | rbuf[rlen - 1]);
}

/* A raw APDU in hex. */
static unsigned tx(struct sim_card *c, const char *hex)
{
	uint8_t a[300];
	size_t n = fx_unhex(hex, a, sizeof(a));
	return sw_of(sim_apdu_process(c, a, n, rbuf));
}

/* 00 ins p1 p2 with the ASCII codes a‖b as data (either may be NULL). */
static unsigned pin_cmd(struct sim_card *c, uint8_t ins, uint8_t p1, uint8_t p2, const char *a,
			const char *b)
{
	uint8_t apdu[64] = { 0x00, ins, p1, p2, 0 };
	size_t na = a ? strlen(a) : 0, nb = b ? strlen(b) : 0, n = 4;
	if (na + nb) {
		apdu[n++] = (uint8_t)(na + nb);
		if (na)
			memcpy(apdu + n, a, na);
		if (nb)
			memcpy(apdu + n + na, b, nb);
		n += na + nb;
	}
	return sw_of(sim_apdu_process(c, apdu, n, rbuf));
}

static unsigned verify(struct sim_card *c, uint8_t ref, const char *pin)
{
	return pin_cmd(c, 0x20, 0, ref, pin, NULL);
}
static unsigned change(struct sim_card *c, uint8_t ref, const char *old, const char *new_pin)
{
	return pin_cmd(c, 0x24, 0, ref, old, new_pin);
}
static unsigned unblock(struct sim_card *c, uint8_t ref, const char *puk, const char *new_pin)
{
	return pin_cmd(c, 0x2C, 0, ref, puk, new_pin);
}

/* True when the card's AODF holds s (lastPinChange values are written as they are). */
static bool aodf_has(struct sim_card *c, const char *s)
{
	const struct sim_file *f = sim_card_file(c, SIM_FID_AODF);
	size_t n = strlen(s);
	for (size_t i = 0; n <= f->size && i <= f->size - n; i++)
		if (!memcmp(f->data + i, s, n))
			return true;
	return false;
}

static void reserve_two_codes(struct sim_profile *p)
{
	p->card_type = SIM_CARD_RESERVE;
	strcpy(p->pin2, p->pin1); /* the security code = the login code */
	p->pin2_activated = false;
}

/* ---- CHANGE REFERENCE DATA ---- */

static void change_with_old_and_new(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(NULL);
	char before[16];
	strcpy(before, sim_card_pin(c, 1)->changed);
	assert_int_equal(strlen(before), 15);
	assert_true(aodf_has(c, before));

	assert_int_equal(change(c, 1, "123456", "7777777"), 0x9000);
	assert_true(strcmp(sim_card_pin(c, 1)->changed, before) > 0); /* lastPinChange moved on… */
	assert_true(aodf_has(c, sim_card_pin(c, 1)->changed));        /* …in the AODF too */
	assert_int_equal(verify(c, 1, ""), 0x9000);                   /* verified by the change */
	sim_card_reset_session(c);
	assert_int_equal(verify(c, 1, "123456"), 0x63C2); /* the old code is gone */
	assert_int_equal(verify(c, 1, "7777777"), 0x9000);
	assert_int_equal(sim_card_pin(c, 1)->tries, 3);

	/* Wrong old code: a try, as a wrong VERIFY; nothing changes. */
	assert_int_equal(change(c, 1, "123456", "888888"), 0x63C2);
	assert_int_equal(sim_card_pin(c, 1)->tries, 2);
	/* A malformed new code is refused before anything counts, even with the right old one. */
	assert_int_equal(change(c, 1, "7777777", "12a456"), 0x6A80);
	assert_int_equal(change(c, 1, "7777777", "1234567890"), 0x6700);
	assert_int_equal(change(c, 1, "77777", NULL), 0x6700);
	assert_int_equal(sim_card_pin(c, 1)->tries, 2);
	assert_int_equal(verify(c, 1, "7777777"), 0x9000);

	/* Blocked: refused even with the right old code. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(change(c, 2, "111111", "222222"), 0x63C2 - (unsigned)i);
	assert_int_equal(change(c, 2, "654321", "222222"), 0x6983);

	/* P1 01, the new value only: needs the PIN verified in this session. */
	sim_card_reset_session(c);
	assert_int_equal(pin_cmd(c, 0x24, 1, 1, "999999", NULL), 0x6982);
	assert_int_equal(verify(c, 1, "7777777"), 0x9000);
	assert_int_equal(pin_cmd(c, 0x24, 1, 1, "999999", NULL), 0x9000);
	assert_int_equal(verify(c, 1, "999999"), 0x9000);
	/* The PUK has its own value to change (8 + 8 digits). */
	assert_int_equal(change(c, 3, "12345678", "87654321"), 0x9000);
	assert_int_equal(unblock(c, 2, "87654321", "24682468"), 0x9000);
	assert_int_equal(pin_cmd(c, 0x24, 2, 1, "123456", NULL), 0x6A86); /* P1 02: no such form */
	sim_card_free(c);
}

/* ---- RESET RETRY COUNTER ---- */

static void reset_retry_counter_forms(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(NULL);
	for (int i = 0; i < 3; i++)
		verify(c, 2, "000000");
	assert_int_equal(verify(c, 2, ""), 0x6983);

	assert_int_equal(unblock(c, 2, "11111111", "24681357"), 0x63C2); /* the PUK's counter */
	assert_int_equal(sim_card_pin(c, 3)->tries, 2);
	assert_int_equal(verify(c, 3, ""), 0x63C2); /* readable with the empty VERIFY */
	assert_int_equal(unblock(c, 2, "12345678", "2468"),
			 0x6A80); /* new code too short: no PUK try */
	assert_int_equal(sim_card_pin(c, 3)->tries, 2);
	assert_int_equal(unblock(c, 2, "12345678", "24681357"), 0x9000);
	assert_int_equal(sim_card_pin(c, 3)->tries, 3); /* both counters back */
	assert_int_equal(sim_card_pin(c, 2)->tries, 3);
	assert_int_equal(verify(c, 2, ""), 0x63C3); /* unblocked, not verified */
	assert_int_equal(verify(c, 2, "24681357"), 0x9000);

	/* P1 01: the PUK alone restores the counter and keeps the value. */
	verify(c, 1, "000000");
	assert_int_equal(pin_cmd(c, 0x2C, 1, 1, "12345678", NULL), 0x9000);
	assert_int_equal(sim_card_pin(c, 1)->tries, 3);
	assert_int_equal(verify(c, 1, "123456"), 0x9000);
	/* P1 02 / 03: the PUK verified before (P2 b8 set names the same PUK). */
	sim_card_reset_session(c);
	assert_int_equal(pin_cmd(c, 0x2C, 2, 1, "111222", NULL), 0x6982);
	assert_int_equal(verify(c, 0x83, "12345678"), 0x9000);
	assert_int_equal(pin_cmd(c, 0x2C, 2, 1, "111222", NULL), 0x9000);
	assert_int_equal(pin_cmd(c, 0x2C, 3, 1, "1", NULL), 0x6700);
	assert_int_equal(pin_cmd(c, 0x2C, 3, 1, NULL, NULL), 0x9000);
	assert_int_equal(verify(c, 1, "111222"), 0x9000);
	/* Not for the PUK itself; P2 91 (a driver's own reference) names no PIN of this card. */
	assert_int_equal(unblock(c, 3, "12345678", "12345678"), 0x6A86);
	assert_int_equal(pin_cmd(c, 0x2C, 2, 0x91, "123456", NULL), 0x6A88);
	assert_int_equal(pin_cmd(c, 0x2C, 4, 1, NULL, NULL), 0x6A86);
	sim_card_free(c);
}

/* A blocked PUK is final: the right PUK is refused too, and nothing unblocks the PIN any more. */
static void blocked_puk_is_final(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(NULL);
	assert_int_equal(unblock(c, 1, "00000000", "111111"), 0x63C2);
	assert_int_equal(unblock(c, 1, "00000000", "111111"), 0x63C1);
	assert_int_equal(unblock(c, 1, "00000000", "111111"), 0x63C0);
	assert_int_equal(unblock(c, 1, "12345678", "111111"), 0x6983);
	assert_int_equal(pin_cmd(c, 0x2C, 1, 1, "12345678", NULL), 0x6983);
	assert_int_equal(verify(c, 3, ""), 0x6983);
	assert_int_equal(verify(c, 3, "12345678"), 0x6983);
	assert_int_equal(verify(c, 1, "123456"), 0x9000); /* PIN1 itself is untouched */
	sim_card_free(c);
}

/* ---- the transport state: a reserve card whose letter holds two codes ---- */

static void transport_pin2(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(reserve_two_codes);
	assert_true(sim_card_pin(c, 2)->transport);
	assert_false(sim_card_pin(c, 1)->transport);
	assert_int_equal(verify(c, 2, ""), 0x6984);       /* reference data not usable */
	assert_int_equal(verify(c, 2, "123456"), 0x6984); /* nothing compared… */
	assert_int_equal(verify(c, 2, "999999"), 0x6984);
	assert_int_equal(sim_card_pin(c, 2)->tries, 3);   /* …no try used */
	assert_int_equal(verify(c, 1, "123456"), 0x9000); /* the login code works as ever */
	/* Nothing that needs PIN2 is possible: signing, a new key, writing the certificate. */
	assert_int_equal(tx(c, "002241B6 03 840102"), 0x9000);
	assert_int_equal(tx(c, "002A9E9A 0401020304 00"), 0x6982);
	assert_int_equal(tx(c, "00460002 00"), 0x6982);
	assert_int_equal(pin_cmd(c, 0x24, 1, 2, "123456", NULL),
			 0x6982); /* P1 01 can never apply */

	/* Activation: CHANGE REFERENCE DATA with the letter's value as old, the code chosen as new. */
	assert_int_equal(change(c, 2, "654321", "654321"), 0x63C2);
	assert_true(sim_card_pin(c, 2)->transport);
	assert_int_equal(change(c, 2, "123456", "123456"), 0x9000);
	assert_false(sim_card_pin(c, 2)->transport);
	assert_int_equal(sim_card_pin(c, 2)->tries, 3);
	assert_int_equal(tx(c, "002A9E9A 0401020304 00"), 0x9000); /* verified by the change */
	sim_card_reset_session(c);
	assert_int_equal(verify(c, 2, ""), 0x63C3);
	assert_int_equal(verify(c, 2, "123456"), 0x9000);
	sim_card_free(c);

	/* The PUK: P1 01 (counter only) leaves the letter's value as it is, P1 00 sets a code. */
	c = fx_sim_card(reserve_two_codes);
	assert_int_equal(pin_cmd(c, 0x2C, 1, 2, "12345678", NULL), 0x9000);
	assert_int_equal(verify(c, 2, ""), 0x6984);
	assert_int_equal(unblock(c, 2, "12345678", "13572468"), 0x9000);
	assert_int_equal(verify(c, 2, ""), 0x63C3);
	assert_int_equal(verify(c, 2, "13572468"), 0x9000);
	sim_card_free(c);

	/* Blocked in the transport state: blocked is what the card says, then the PUK. */
	c = fx_sim_card(reserve_two_codes);
	for (int i = 0; i < 3; i++)
		change(c, 2, "000000", "123456");
	assert_int_equal(verify(c, 2, ""), 0x6983);
	assert_int_equal(change(c, 2, "123456", "123456"), 0x6983);
	assert_int_equal(unblock(c, 2, "12345678", "123456"), 0x9000);
	assert_int_equal(verify(c, 2, "123456"), 0x9000);
	sim_card_free(c);
}

/* Two changes within one second still give two different, increasing lastPinChange values. */
static void last_change_strictly_increases(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(NULL);
	char prev[16];
	strcpy(prev, sim_card_pin(c, 2)->changed);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(
			change(c, 2, i % 2 ? "111111" : "654321", i % 2 ? "654321" : "111111"),
			0x9000);
		assert_true(strcmp(sim_card_pin(c, 2)->changed, prev) > 0);
		strcpy(prev, sim_card_pin(c, 2)->changed);
	}
	assert_true(aodf_has(c, prev));
	sim_card_free(c);
}

/* ---- the state file ---- */

static char *state_path(const char *name)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", SITHS_TEST_BINARY_DIR, name);
	remove(path);
	return path;
}

static struct sim_card *reload(const char *path)
{
	struct sim_profile p;
	struct sim_card *c = NULL;
	char err[256] = "";
	sim_profile_default(&p);
	assert_int_equal(sim_card_open(path, &p, "", &c, err, sizeof(err)), SIM_OK);
	sim_profile_wipe(&p);
	return c;
}

static void state_file_keeps_everything(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(reserve_two_codes);
	const char *path = state_path("pins-state.json");
	c->state_path = strdup(path);
	assert_int_equal(change(c, 1, "123456", "7654321"), 0x9000); /* saved by the command */
	assert_int_equal(unblock(c, 1, "00000000", "1234567"), 0x63C2);
	char changed1[16], changed2[16];
	strcpy(changed1, sim_card_pin(c, 1)->changed);
	strcpy(changed2, sim_card_pin(c, 2)->changed);
	sim_card_free(c);

	c = reload(path);
	assert_int_equal(sim_card_pin(c, 3)->tries, 2);
	assert_true(sim_card_pin(c, 2)->transport);
	assert_string_equal(sim_card_pin(c, 1)->changed, changed1);
	assert_string_equal(sim_card_pin(c, 2)->changed, changed2);
	assert_true(aodf_has(c, changed1));
	assert_int_equal(verify(c, 1, "7654321"), 0x9000);
	assert_int_equal(verify(c, 2, ""), 0x6984);
	assert_int_equal(change(c, 2, "123456", "24682468"), 0x9000);
	sim_card_free(c);
	c = reload(path);
	assert_false(sim_card_pin(c, 2)->transport);
	assert_int_equal(verify(c, 2, "24682468"), 0x9000);
	sim_card_free(c);
}

/* A state file from before the transport state and lastPinChange: PINs set, times unknown. */
static void older_state_file_loads(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(NULL);
	const char *path = state_path("pins-old-state.json");
	c->state_path = strdup(path);
	assert_int_equal(sim_card_save(c), SIM_OK);
	sim_card_free(c);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je), *pins = json_object_get(j, "pins"), *p;
	const char *k;
	assert_non_null(pins);
	json_object_foreach(pins, k, p)
	{
		json_object_del(p, "transport");
		json_object_del(p, "changed");
	}
	assert_int_equal(json_dump_file(j, path, 0), 0);
	c = reload(path);
	assert_false(sim_card_pin(c, 2)->transport);
	assert_string_equal(sim_card_pin(c, 2)->changed, "");
	assert_int_equal(change(c, 2, "654321", "111111"), 0x9000);
	assert_int_equal(strlen(sim_card_pin(c, 2)->changed),
			 15); /* known from the first change on */
	sim_card_free(c);

	/* A malformed time or state is a broken state file, not a guess. */
	json_object_set_new(json_object_get(pins, "02"), "changed", json_string("yesterday"));
	assert_int_equal(json_dump_file(j, path, 0), 0);
	struct sim_profile prof;
	char err[256] = "";
	sim_profile_default(&prof);
	assert_int_equal(sim_card_open(path, &prof, "", &c, err, sizeof(err)), SIM_E_FORMAT);
	json_object_set_new(json_object_get(pins, "02"), "changed", json_string(""));
	json_object_set_new(json_object_get(pins, "02"), "transport", json_string("yes"));
	assert_int_equal(json_dump_file(j, path, 0), 0);
	assert_int_equal(sim_card_open(path, &prof, "", &c, err, sizeof(err)), SIM_E_FORMAT);
	json_decref(j);
}

/* The card cannot write its memory: the command fails (6581) and the card keeps the old code,
 * its counter and its AODF — as if the command had never come. */
static void unsaved_change_keeps_the_old_code(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(NULL);
	c->state_path = strdup("/nonexistent-siths-dir/state.json");
	struct sim_file *f = sim_card_file(c, SIM_FID_AODF);
	size_t size = f->size;
	uint8_t *aodf = malloc(size);
	memcpy(aodf, f->data, size);
	char changed[16];
	strcpy(changed, sim_card_pin(c, 2)->changed);

	assert_int_equal(change(c, 2, "654321", "111111"), 0x6581);
	assert_int_equal(unblock(c, 2, "12345678", "111111"), 0x6581);
	assert_int_equal(sim_card_pin(c, 3)->tries, 3);
	assert_string_equal(sim_card_pin(c, 2)->changed, changed);
	assert_int_equal(f->size, size);
	assert_memory_equal(f->data, aodf, size);
	free(c->state_path);
	c->state_path = NULL; /* memory only: the counters may move again */
	assert_int_equal(verify(c, 2, "111111"), 0x63C2);
	assert_int_equal(verify(c, 2, "654321"), 0x9000);
	free(aodf);
	sim_card_free(c);
}

int main(void)
{
	if (fx_sim_pki("test-pki-sim-pins"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(change_with_old_and_new),
		cmocka_unit_test(reset_retry_counter_forms),
		cmocka_unit_test(blocked_puk_is_final),
		cmocka_unit_test(transport_pin2),
		cmocka_unit_test(last_change_strictly_increases),
		cmocka_unit_test(state_file_keeps_everything),
		cmocka_unit_test(older_state_file_loads),
		cmocka_unit_test(unsaved_change_keeps_the_old_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
