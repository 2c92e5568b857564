/* test_rest.c — the REST mechanics of rest.c: JSON errors, route matching with {captures}
 * (validated charset), 404 vs 405 with the Allow list, the call wrapper. It uses its own route
 * table, so it does not depend on which endpoints the daemon has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rest.h"

/* ---- a table of our own ---- */

static unsigned h_dummy(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	(void)ctx, (void)req;
	*out = json_object();
	return 200;
}

static unsigned h_silent(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	(void)ctx, (void)req, (void)out;
	return 200;
}

static const struct rest_route table[] = {
	{ "GET", "/health", h_dummy, true },
	{ "GET", "/v1/cards", h_dummy, false },
	{ "GET", "/v1/cards/{id}", h_dummy, false },
	{ "POST", "/v1/cards/{id}/login", h_dummy, false },
	{ "DELETE", "/v1/cards/{id}/login", h_dummy, false },
	{ "GET", "/v1/a/{x}/b/{y}", h_dummy, false },
	{ "GET", "/v1/silent", h_silent, false },
};
static const struct rest_table tab = { table, sizeof table / sizeof table[0] };
#define match(m_, p_, r_, mm_) rest_match(&tab, m_, p_, r_, mm_)

static void errors(void **state)
{
	(void)state;
	json_t *e = rest_error("bad_thing", "it <broke> \"badly\"");
	rest_error_set(e, "tries_left", json_integer(2));
	char *s = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(
		s,
		"{\"error\":{\"code\":\"bad_thing\",\"message\":\"it <broke> \\\"badly\\\"\","
		"\"tries_left\":2}}");
	free(s);
	json_decref(e);
	json_t *out = NULL;
	assert_int_equal(rest_fail(&out, 409, "busy", "card busy"), 409);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(out, "error"), "code")), "busy");
	json_decref(out);
	/* NULL code/message still give a well-formed error. */
	e = rest_error(NULL, NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "error"), "code")),
			    "internal_error");
	json_decref(e);
	rest_error_set(NULL, "x", json_integer(1)); /* no crash, value freed */
}

static void matching(void **state)
{
	(void)state;
	struct rest_req req;
	struct rest_match m;

	assert_non_null(match("GET", "/health", &req, &m));
	assert_true(m.route->origin_optional);
	assert_non_null(match("GET", "/v1/cards", &req, &m));
	assert_false(m.route->origin_optional);

	assert_non_null(match("GET", "/v1/cards/ABC-123_x.y~z", &req, &m));
	assert_int_equal(req.n_captures, 1);
	assert_string_equal(req.captures[0].name, "id");
	assert_string_equal(rest_capture(&req, "id"), "ABC-123_x.y~z");
	assert_null(rest_capture(&req, "nope"));

	assert_non_null(match("POST", "/v1/cards/c1/login", &req, &m));
	assert_string_equal(rest_capture(&req, "id"), "c1");
	assert_string_equal(m.route->pattern, "/v1/cards/{id}/login");

	/* Wrong method: no route, but the Allow list says what exists. */
	assert_null(match("GET", "/v1/cards/c1/login", &req, &m));
	assert_string_equal(m.allow, "POST, DELETE");
	assert_null(match("DELETE", "/health", &req, &m));
	assert_string_equal(m.allow, "GET");

	const char *nothing[] = { "/v1/cards/",
				  "/v1/cards//login",
				  "/v1/cards/a b",
				  "/v1/cards/a%20b",
				  "/v1/cards/..",
				  "/v1/cards/.",
				  "/v1/cards/<x>",
				  "/v1/cardsX",
				  "/v1",
				  "/health/",
				  "/healthz",
				  "/v1/cards/a/login/x",
				  "" };
	for (size_t i = 0; i < sizeof nothing / sizeof nothing[0]; i++) {
		if (match("GET", nothing[i], &req, &m) || m.allow[0])
			fail_msg("'%s' matched", nothing[i]);
	}
	assert_non_null(match("GET", "/v1/a/1/b/2", &req, &m));
	assert_string_equal(rest_capture(&req, "x"), "1");
	assert_string_equal(rest_capture(&req, "y"), "2");
	assert_null(match("GET", "/v1/a/1/b", &req, &m));

	/* A handler that gives no body still yields a JSON answer. */
	json_t *out = NULL;
	assert_int_equal(rest_call(NULL, match("GET", "/v1/silent", &req, &m), &req, &out), 500);
	assert_non_null(json_object_get(out, "error"));
	json_decref(out);

	char longid[200];
	memset(longid, 'a', sizeof longid);
	memcpy(longid, "/v1/cards/", 10);
	longid[sizeof longid - 1] = '\0';
	assert_null(match("GET", longid, &req, &m));

	assert_true(rest_owns_path("/health"));
	assert_true(rest_owns_path("/v1/anything"));
	assert_false(rest_owns_path("/"));
	assert_false(rest_owns_path("/v1x"));
	assert_false(rest_owns_path("/index.html"));
}

/* Strict bodies: exactly the named string members, nothing else; copies that fit or nothing. */
static bool exact(const char *text, const char *const names[], size_t n)
{
	json_error_t err;
	json_t *b = text
		? json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &err)
		: NULL;
	if (text && !b)
		fail_msg("%s: %s", text, err.text);
	bool ok = rest_body_exact(b, names, n);
	json_decref(b);
	return ok;
}

/* The same with optional members of any type besides the named strings. */
static bool members(const char *text, const char *const names[], size_t n,
		    const char *const optional[], size_t n_opt)
{
	json_t *b = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	if (!b)
		fail_msg("%s does not parse", text);
	bool ok = rest_body_members(b, names, n, optional, n_opt);
	json_decref(b);
	return ok;
}

static void optional_members(void **state)
{
	(void)state;
	const char *const one[] = { "pin" }, *const opt[] = { "enrollment" };
	assert_true(members("{\"pin\":\"1\"}", one, 1, opt, 1));
	assert_true(members("{\"pin\":\"1\",\"enrollment\":{\"a\":1}}", one, 1, opt, 1));
	assert_false(members("{\"enrollment\":{}}", one, 1, opt, 1)); /* pin missing */
	assert_false(
		members("{\"pin\":1,\"enrollment\":{}}", one, 1, opt, 1)); /* pin not a string */
	assert_false(members("{\"pin\":\"1\",\"admin\":true}", one, 1, opt, 1)); /* not optional */
	assert_false(members("{\"pin\":\"1\",\"enrollment\":{}}", one, 1, NULL, 0));
}

static void strict_bodies(void **state)
{
	(void)state;
	const char *const two[] = { "pin", "new_pin" }, *const one[] = { "pin" };
	assert_true(exact("{\"pin\":\"1\",\"new_pin\":\"2\"}", two, 2));
	assert_true(exact("{\"new_pin\":\"2\",\"pin\":\"1\"}", two, 2));
	assert_true(exact("{\"pin\":\"123456\"}", one, 1));
	assert_true(exact(NULL, NULL, 0));
	assert_true(exact("{}", NULL, 0));
	const char *bad2[] = {
		"{\"pin\":\"1\"}",                                   /* one missing */
		"{\"pin\":\"1\",\"new_pin\":\"2\",\"admin\":\"x\"}", /* one too many */
		"{\"pin\":\"1\",\"puk\":\"2\"}",                     /* a wrong one */
		"{\"pin\":\"1\",\"new_pin\":2}",                     /* not a string */
		"{\"pin\":\"1\",\"new_pin\":null}",
		"[\"1\",\"2\"]",
		"\"pin\"",
		"{}",
	};
	for (size_t i = 0; i < sizeof(bad2) / sizeof(bad2[0]); i++)
		if (exact(bad2[i], two, 2))
			fail_msg("accepted %s", bad2[i]);
	assert_false(exact(NULL, one, 1));
	assert_false(exact("{\"pin\":\"1\",\"admin\":true}", one, 1));
	assert_false(exact("[]", NULL, 0));
	assert_false(exact("\"\"", NULL, 0));
	assert_false(exact("{\"a\":\"b\"}", NULL, 0));

	char buf[8];
	json_t *b = json_loads(
		"{\"pin\":\"1234567\",\"long\":\"12345678\",\"n\":\"1\\u00002\",\"i\":1}",
		JSON_ALLOW_NUL, NULL);
	assert_non_null(b);
	assert_true(rest_body_string(b, "pin", buf, sizeof(buf)));
	assert_string_equal(buf, "1234567");
	const char *refused[] = { "long", "n", "i", "absent" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		memset(buf, 'x', sizeof(buf));
		assert_false(rest_body_string(b, refused[i], buf, sizeof(buf)));
		for (size_t k = 0; k < sizeof(buf); k++)
			assert_int_equal(buf[k], 0); /* nothing of a refused value is left */
	}
	assert_false(rest_body_string(NULL, "pin", buf, sizeof(buf)));
	json_decref(b);
}

static void wipe_alloc(void **state)
{
	(void)state;
	json_malloc_t m;
	json_free_t f;
	rest_json_wipe_on_free();
	json_get_alloc_funcs(&m, &f);
	assert_ptr_equal(m, malloc);
	assert_ptr_not_equal(f, free);
	/* Everything still works, and dumped text is still released with plain free(). */
	json_t *j = json_loads("{\"pin\":\"123456\",\"a\":[1,2]}", 0, NULL);
	assert_non_null(j);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"a\":[1,2],\"pin\":\"123456\"}");
	free(text);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errors),        cmocka_unit_test(matching),
		cmocka_unit_test(strict_bodies), cmocka_unit_test(optional_members),
		cmocka_unit_test(wipe_alloc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
