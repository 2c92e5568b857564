/* test_log.c — log_safe(), the one sanitiser of request data in log lines: no control
 * characters, quotes or backslashes, no overlong text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static void sanitises(void **state)
{
	(void)state;
	char out[16];
	log_safe("/v1/cards", out, sizeof out);
	assert_string_equal(out, "/v1/cards");
	log_safe("/a\nb\r\"c\\d\x01\x7f\xc3\xa5", out, sizeof out);
	assert_string_equal(out, "/a?b??c?d????");
	log_safe("/0123456789abcdefghij", out, sizeof out);
	assert_int_equal(strlen(out), sizeof out - 1);
	assert_string_equal(out + strlen(out) - 3, "...");
	log_safe(NULL, out, sizeof out);
	assert_string_equal(out, "(none)");
	char one[1] = { 'x' };
	log_safe("abc", one, sizeof one);
	assert_int_equal(one[0], '\0');
	log_safe("abc", one, 0); /* no write at all */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sanitises),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
