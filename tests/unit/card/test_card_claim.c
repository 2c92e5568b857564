/* test_card_claim.c — the card core's per-card busy state and card_gone(), through card.h only
 * (the contract the server sees), on a core whose pcscd is not there: one piece of work per card
 * (CARD_E_BUSY for the next until the claim ends, other cards unaffected), a claim ends whether
 * its work runs or not, and which errors mean "the card went". No card I/O happens here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "card.h"

static card_core *core;

static int start(void **state)
{
	(void)state;
	/* No pcscd at this path: the core starts and keeps retrying in the background. */
	setenv("PCSCLITE_CSOCK_NAME", SITHS_TEST_BINARY_DIR "/no-pcscd/pcscd.comm", 1);
	return card_core_start(NULL, NULL, &core) == CARD_OK ? 0 : -1;
}

static int stop(void **state)
{
	(void)state;
	card_core_stop(core);
	return 0;
}

static card_err must_not_run(card_session *s, const struct card_model *m, void *user)
{
	(void)s;
	(void)m;
	(void)user;
	fail_msg("work ran on a card that is not there");
	return CARD_E_INTERNAL;
}

static void one_work_per_card(void **state)
{
	(void)state;
	card_claim *a = NULL, *again = NULL, *b = NULL;
	assert_int_equal(card_claim_get(core, "c0123456789abcdef", &a), CARD_OK);
	assert_non_null(a);
	assert_int_equal(card_claim_get(core, "c0123456789abcdef", &again), CARD_E_BUSY);
	assert_null(again);
	assert_int_equal(card_with_card(core, "c0123456789abcdef", must_not_run, NULL),
			 CARD_E_BUSY);
	/* Another card is not held up. */
	assert_int_equal(card_claim_get(core, "cfedcba9876543210", &b), CARD_OK);
	card_claim_drop(b);
	card_claim_drop(a);
	/* Free again: the work is tried, and finds no such card. */
	assert_int_equal(card_with_card(core, "c0123456789abcdef", must_not_run, NULL),
			 CARD_E_NO_CARD);
	card_claim_drop(NULL);
}

static void a_claim_ends_with_its_work(void **state)
{
	(void)state;
	card_claim *a = NULL;
	assert_int_equal(card_claim_get(core, "c0123456789abcdef", &a), CARD_OK);
	/* The card went before the work started: the claim still ends. */
	assert_int_equal(card_claim_run(a, must_not_run, NULL), CARD_E_NO_CARD);
	assert_int_equal(card_claim_get(core, "c0123456789abcdef", &a), CARD_OK);
	card_claim_drop(a);
	/* The work that failed above did not leave the card busy either. */
	assert_int_equal(card_with_card(core, "c0123456789abcdef", must_not_run, NULL),
			 CARD_E_NO_CARD);
	assert_int_equal(card_with_card(core, "c0123456789abcdef", must_not_run, NULL),
			 CARD_E_NO_CARD);
}

static void ids_beyond_the_model_are_no_card(void **state)
{
	(void)state;
	char id[CARD_ID_LEN + 8];
	memset(id, 'c', sizeof(id) - 1);
	id[sizeof(id) - 1] = 0;
	card_claim *a = (card_claim *)1;
	assert_int_equal(card_claim_get(core, id, &a), CARD_E_NO_CARD);
	assert_null(a);
}

static void which_errors_mean_gone(void **state)
{
	(void)state;
	const card_err gone[] = { CARD_E_REMOVED, CARD_E_NO_CARD, CARD_E_NO_READER,
				  CARD_E_NO_SERVICE, CARD_E_RESET };
	const card_err not_gone[] = { CARD_OK,           CARD_E_PIN_WRONG, CARD_E_PIN_BLOCKED,
				      CARD_E_PIN_FORMAT, CARD_E_BUSY,      CARD_E_BAD_DATA,
				      CARD_E_SECURITY,   CARD_E_NOMEM };
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		assert_true(card_gone(core, "c0123456789abcdef", gone[i]));
	for (size_t i = 0; i < sizeof(not_gone) / sizeof(not_gone[0]); i++)
		assert_false(card_gone(core, "c0123456789abcdef", not_gone[i]));
	/* A transport failure or an odd status word counts once the card is not in the core's
	 * cache — here it never was, so at once, without waiting out the 3 s. */
	assert_true(card_gone(core, "c0123456789abcdef", CARD_E_COMM));
	assert_true(card_gone(core, "c0123456789abcdef", CARD_E_CARD_ERROR));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_work_per_card),
		cmocka_unit_test(a_claim_ends_with_its_work),
		cmocka_unit_test(ids_beyond_the_model_are_no_card),
		cmocka_unit_test(which_errors_mean_gone),
	};
	return cmocka_run_group_tests(tests, start, stop);
}
