/* test_http_util.c — the pure helpers of http.c: which Content-Type values count as JSON, and
 * how request data is made safe for a log line (no control characters, quotes, or overlong
 * text). The route table is a stub: only the helpers are exercised here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

const struct api_route *api_match(const char *method, const char *path, struct api_req *req,
                                  struct api_match *m)
{
	(void)method, (void)path, (void)req;
	m->route = NULL;
	m->allow[0] = '\0';
	return NULL;
}

unsigned ws_client_count(ws_server *s)
{
	(void)s;
	return 0;
}

static void json_types(void **state)
{
	(void)state;
	const char *yes[] = { "application/json", "Application/JSON", "application/json; charset=utf-8",
		              "application/json;charset=UTF-8", " application/json ", "application/json ;x=y" };
	const char *no[] = { NULL, "", "text/plain", "application/jsonp", "application/json-patch+json",
		             "application/x-www-form-urlencoded", "multipart/form-data", "text/json",
		             "application/jso", "xapplication/json", "application/json,text/plain" };
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (!http_is_json_type(yes[i]))
			fail_msg("'%s' refused", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (http_is_json_type(no[i]))
			fail_msg("'%s' accepted", no[i] ? no[i] : "(null)");
}

static void log_safe(void **state)
{
	(void)state;
	char out[16];
	http_log_safe("/v1/cards", out, sizeof out);
	assert_string_equal(out, "/v1/cards");
	http_log_safe("/a\nb\r\"c\\d\x01\x7f\xc3\xa5", out, sizeof out);
	assert_string_equal(out, "/a?b??c?d????");
	http_log_safe("/0123456789abcdefghij", out, sizeof out);
	assert_int_equal(strlen(out), sizeof out - 1);
	assert_string_equal(out + strlen(out) - 3, "...");
	http_log_safe(NULL, out, sizeof out);
	assert_string_equal(out, "(none)");
	char one[1] = { 'x' };
	http_log_safe("abc", one, sizeof one);
	assert_int_equal(one[0], '\0');
	http_log_safe("abc", one, 0); /* no write at all */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_types),
		cmocka_unit_test(log_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
