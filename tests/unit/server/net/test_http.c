/* test_http.c — the pure helper of http.c: which Content-Type values count as JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static void json_types(void **state)
{
	(void)state;
	const char *yes[] = { "application/json",
			      "Application/JSON",
			      "application/json; charset=utf-8",
			      "application/json;charset=UTF-8",
			      " application/json ",
			      "application/json ;x=y" };
	const char *no[] = { NULL,
			     "",
			     "text/plain",
			     "application/jsonp",
			     "application/json-patch+json",
			     "application/x-www-form-urlencoded",
			     "multipart/form-data",
			     "text/json",
			     "application/jso",
			     "xapplication/json",
			     "application/json,text/plain" };
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (!http_is_json_type(yes[i]))
			fail_msg("'%s' refused", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (http_is_json_type(no[i]))
			fail_msg("'%s' accepted", no[i] ? no[i] : "(null)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
