/* test_check.c — the doctor's check framework: results and their status, the verdict, the text
 * renderer in each language (fix only under a failure) and the JSON renderer with both texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "check.h"

static void two_results(struct check_list *l, enum check_status second)
{
	struct check_result *r = check_add(l, "pcscd");
	check_say(r, CHECK_OK, "pcscd svarar");
	check_en(r, "pcscd answers");
	r = check_add(l, "port.%s", "https");
	check_say(r, second, "Port %u upptagen", 29443u);
	check_en(r, "Port %u taken", 29443u);
	check_fix(r, "kill %d", 42);
}

static char *render(const struct check_list *l, enum check_lang lang)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	check_render_text(l, lang, f);
	fclose(f);
	return buf;
}

static void verdict_and_text(void **state)
{
	(void)state;
	struct check_list l = { 0 };
	two_results(&l, CHECK_FAIL);
	assert_false(check_list_ok(&l));
	assert_non_null(check_find(&l, "port.https"));
	assert_null(check_find(&l, "port.wss"));
	char *sv = render(&l, CHECK_SV), *en = render(&l, CHECK_EN);
	assert_string_equal(sv,
			    "[ OK ] pcscd svarar\n[FEL ] Port 29443 upptagen\n"
			    "       Åtgärd: kill 42\n"
			    "Något som behövs fungerar inte: se åtgärderna ovan.\n");
	assert_string_equal(en,
			    "[ OK ] pcscd answers\n[FAIL] Port 29443 taken\n"
			    "       Fix: kill 42\n"
			    "Something needed does not work: see the fixes above.\n");
	free(sv);
	free(en);
	check_list_free(&l);

	/* Information is not a failure, and its fix is not shown. */
	two_results(&l, CHECK_INFO);
	assert_true(check_list_ok(&l));
	en = render(&l, CHECK_EN);
	assert_null(strstr(en, "kill"));
	assert_non_null(strstr(en, "[INFO] Port 29443 taken\nEverything needed works.\n"));
	free(en);
	check_list_free(&l);
}

static void json(void **state)
{
	(void)state;
	struct check_list l = { 0 };
	two_results(&l, CHECK_FAIL);
	char *text = check_render_json(&l, CHECK_EN);
	assert_non_null(text);
	json_error_t err;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	assert_non_null(j);
	assert_true(json_is_false(json_object_get(j, "ok")));
	assert_string_equal(json_string_value(json_object_get(j, "lang")), "en");
	json_t *c = json_object_get(j, "checks");
	assert_int_equal(json_array_size(c), 2);
	json_t *p = json_array_get(c, 1);
	assert_string_equal(json_string_value(json_object_get(p, "id")), "port.https");
	assert_true(json_is_false(json_object_get(p, "ok")));
	assert_string_equal(json_string_value(json_object_get(p, "status")), "fail");
	assert_string_equal(json_string_value(json_object_get(p, "text")), "Port 29443 taken");
	assert_string_equal(json_string_value(json_object_get(p, "text_sv")),
			    "Port 29443 upptagen");
	assert_string_equal(json_string_value(json_object_get(p, "fix")), "kill 42");
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "status")),
			    "ok");
	json_decref(j);
	free(text);
	check_list_free(&l);

	/* A text that is not UTF-8 (a driver's reader name) still gives a JSON answer. */
	check_say(check_add(&l, "readers"), CHECK_OK, "reader \xe5\xff");
	text = check_render_json(&l, CHECK_SV);
	assert_non_null(text);
	j = json_loads(text, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "checks"), 0), "text")),
			    "reader ??");
	json_decref(j);
	free(text);
	check_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verdict_and_text),
		cmocka_unit_test(json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
