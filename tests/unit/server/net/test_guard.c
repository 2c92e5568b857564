/* test_guard.c — Host and Origin checks: the accepted spellings and the edge cases an attacker
 * would try (case, IPv6, wrong port, trailing dot, userinfo, "null", scheme mismatch, suffixes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "guard.h"

static void host_accepted(void **state)
{
	(void)state;
	const char *ok[] = { "127.0.0.1:29443", "localhost:29443", "LocalHost:29443",
			     "[::1]:29443" };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		assert_int_equal(guard_check_host(ok[i], 29443), GUARD_OK);
}

static void host_refused(void **state)
{
	(void)state;
	const char *bad[] = {
		NULL,
		"",
		"127.0.0.1",
		"localhost",
		"127.0.0.1:29444",
		"localhost:2944",
		"localhost:294430",
		"localhost:029443",
		"localhost.:29443",
		"localhost:29443.",
		"user@localhost:29443",
		"localhost@evil.example:29443",
		"evil.example:29443",
		"localhost.evil.example:29443",
		"127.0.0.1.nip.io:29443",
		"127.1:29443",
		"2130706433:29443",
		"[::1]",
		"[0:0:0:0:0:0:0:1]:29443",
		"::1:29443",
		"[::ffff:127.0.0.1]:29443",
		" localhost:29443",
		"localhost:29443 ",
		"localhost :29443",
		"localhost:+29443",
		"localhost:29443/",
		"127.0.0.1:29443\r\nX: y",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (guard_check_host(bad[i], 29443) != GUARD_E_BAD_HOST)
			fail_msg("Host '%s' accepted", bad[i] ? bad[i] : "(null)");
	assert_string_equal(guard_code(GUARD_E_BAD_HOST), "bad_host");
}

static void host_default_port(void **state)
{
	(void)state;
	/* Browsers leave out :443; only then may the port be absent. */
	assert_int_equal(guard_check_host("localhost", 443), GUARD_OK);
	assert_int_equal(guard_check_host("localhost:443", 443), GUARD_OK);
	assert_int_equal(guard_check_host("localhost", 29443), GUARD_E_BAD_HOST);
}

static void origins(void **state)
{
	(void)state;
	struct guard_origins g;
	char *extra[] = { "https://portal.example:8443", "http://Dev.Example" };
	assert_int_equal(guard_origins_init(&g, 29443, extra, 2), 0);

	const char *ok[] = { "https://127.0.0.1:29443",     "https://localhost:29443",
			     "https://[::1]:29443",         "HTTPS://LOCALHOST:29443",
			     "https://portal.example:8443", "http://dev.example" };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (guard_check_origin(&g, ok[i], true) != GUARD_OK)
			fail_msg("Origin '%s' refused", ok[i]);

	const char *foreign[] = {
		"http://127.0.0.1:29443",       /* scheme mismatch */
		"https://127.0.0.1:29444",      /* wrong port */
		"https://127.0.0.1",            /* no port */
		"https://localhost.:29443",     /* trailing dot */
		"https://localhost:29443/",     /* path */
		"https://user@localhost:29443", /* userinfo */
		"https://localhost:29443.evil.example",
		"https://evil.example",
		"https://portal.example",
		"https://portal.example:8443.evil",
		"wss://localhost:29443",
		"file://",
		"",
		"*",
		"Null",
	};
	for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
		if (guard_check_origin(&g, foreign[i], false) != GUARD_E_FOREIGN_ORIGIN)
			fail_msg("Origin '%s' not refused as foreign", foreign[i]);

	assert_int_equal(guard_check_origin(&g, "null", false), GUARD_E_NULL_ORIGIN);
	assert_int_equal(guard_check_origin(&g, "null", true), GUARD_E_NULL_ORIGIN);
	assert_int_equal(guard_check_origin(&g, NULL, true), GUARD_E_NO_ORIGIN);
	assert_int_equal(guard_check_origin(&g, NULL, false), GUARD_OK);
	assert_string_equal(guard_code(GUARD_E_NO_ORIGIN), "origin_required");
	assert_string_equal(guard_code(GUARD_E_NULL_ORIGIN), "origin_not_allowed");
	assert_string_equal(guard_code(GUARD_E_FOREIGN_ORIGIN), "origin_not_allowed");
	guard_origins_free(&g);
	guard_origins_free(&g); /* idempotent */
}

static void origins_follow_port(void **state)
{
	(void)state;
	struct guard_origins g;
	assert_int_equal(guard_origins_init(&g, 41000, NULL, 0), 0);
	assert_int_equal(guard_check_origin(&g, "https://127.0.0.1:41000", true), GUARD_OK);
	assert_int_equal(guard_check_origin(&g, "https://127.0.0.1:29443", true),
			 GUARD_E_FOREIGN_ORIGIN);
	guard_origins_free(&g);
	/* A NULL allowlist allows nothing. */
	assert_int_equal(guard_check_origin(NULL, "https://127.0.0.1:41000", true),
			 GUARD_E_FOREIGN_ORIGIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_accepted),       cmocka_unit_test(host_refused),
		cmocka_unit_test(host_default_port),   cmocka_unit_test(origins),
		cmocka_unit_test(origins_follow_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
