/* test_errmap.c — the one table from card_err to the wire (server/errmap.c): every error has a
 * row with a REST status and codes, the API's codes are those of docs/api (a contract: they
 * must not drift), and anything else reads as an unexpected card error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "errmap.h"

static void every_error_has_a_row(void **state)
{
	(void)state;
	for (int e = 1; e < CARD_E__COUNT; e++) {
		const struct errmap *m = errmap_card((card_err)e);
		assert_non_null(m);
		assert_in_range(m->status, 400, 599);
		assert_non_null(m->code);
		assert_non_null(m->job_code);
		assert_true(m->code[0] && m->job_code[0]);
	}
}

struct row {
	card_err e;
	unsigned status;
	const char *code, *job_code;
};

static void the_api_codes(void **state)
{
	(void)state;
	static const struct row rows[] = {
		{ CARD_E_PIN_WRONG, 401, "wrong_pin", "wrong_pin" },
		{ CARD_E_PIN_BLOCKED, 423, "pin_blocked", "pin_blocked" },
		{ CARD_E_PIN_FORMAT, 400, "bad_pin", "bad_pin" },
		{ CARD_E_BUSY, 409, "job_running", "job_running" },
		{ CARD_E_PUK_BLOCKED, 423, "puk_blocked", "puk_blocked" },
		{ CARD_E_PIN_NOT_ACTIVATED, 409, "pin_not_activated", "pin_not_activated" },
		{ CARD_E_NO_CARD, 404, "card_not_found", "card_removed" },
		{ CARD_E_REMOVED, 404, "card_not_found", "card_removed" },
		{ CARD_E_NO_READER, 404, "card_not_found", "card_removed" },
		{ CARD_E_NO_SERVICE, 404, "card_not_found", "card_removed" },
		{ CARD_E_RESET, 404, "card_not_found", "card_removed" },
		{ CARD_E_NOMEM, 500, "no_memory", "card_error" },
		{ CARD_E_CARD_ERROR, 502, "card_error", "card_error" },
		{ CARD_E_COMM, 502, "card_error", "card_error" },
		{ CARD_E_BAD_DATA, 502, "card_error", "card_error" },
		{ CARD_E_WRONG_DATA, 502, "card_error", "card_error" },
		{ CARD_E_NOT_SUPPORTED, 502, "card_error", "card_error" },
		{ CARD_E_INTERNAL, 502, "card_error", "card_error" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct errmap *m = errmap_card(rows[i].e);
		assert_int_equal(m->status, rows[i].status);
		assert_string_equal(m->code, rows[i].code);
		assert_string_equal(m->job_code, rows[i].job_code);
	}
}

static void anything_else_is_a_card_error(void **state)
{
	(void)state;
	const card_err odd[] = { CARD_OK, CARD_E__COUNT, (card_err)999, (card_err)-1 };
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		const struct errmap *m = errmap_card(odd[i]);
		assert_int_equal(m->status, 502);
		assert_string_equal(m->code, "card_error");
		assert_string_equal(m->job_code, "card_error");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_error_has_a_row),
		cmocka_unit_test(the_api_codes),
		cmocka_unit_test(anything_else_is_a_card_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
