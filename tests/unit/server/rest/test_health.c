/* test_health.c — GET /health (rest/health.c): version, uptime, the listeners with the
 * WebSocket client count, the parts and "degraded", through the call wrapper like a route. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "health.h"
#include "rest.h"

/* This test's application context: only /health. */
struct rest_ctx {
	struct health h;
};

static unsigned h_health(struct rest_ctx *ctx, const struct rest_req *req, json_t **out)
{
	(void)req;
	return health_answer(&ctx->h, out);
}

static unsigned three_clients(void *user)
{
	(void)user;
	return 3;
}

static json_t *part(void *user, bool *degraded)
{
	*degraded = user != NULL;
	return json_pack("{s:b}", "reachable", user == NULL);
}

static void health(void **state)
{
	(void)state;
	struct cfg cfg;
	cfg_init(&cfg);
	struct rest_ctx ctx = { .h = { .cfg = &cfg,
				       .https_port = 1111,
				       .wss_port = 2222,
				       .wss_clients = three_clients } };
	clock_gettime(CLOCK_MONOTONIC, &ctx.h.started);
	ctx.h.started.tv_sec -= 5;
	struct rest_req req = { 0 };
	json_t *out;

	const struct rest_route r = { "GET", "/health", h_health, true };
	assert_int_equal(rest_call(&ctx, &r, &req, &out), 200);
	assert_string_equal(json_string_value(json_object_get(out, "status")), "ok");
	assert_true(json_integer_value(json_object_get(out, "uptime_s")) >= 5);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(out, "listeners"), "https")),
		"127.0.0.1:1111");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(out, "listeners"), "wss")),
		"127.0.0.1:2222");
	assert_int_equal(json_integer_value(
				 json_object_get(json_object_get(out, "listeners"), "wss_clients")),
			 3);
	assert_non_null(json_string_value(json_object_get(out, "version")));
	json_decref(out);

	/* A part that reports trouble makes the daemon degraded and shows up under its name. */
	assert_int_equal(health_add(&ctx.h, "good", part, NULL), 0);
	assert_int_equal(health_add(&ctx.h, "pcsc", part, &ctx), 0);
	assert_int_equal(rest_call(&ctx, &r, &req, &out), 200);
	assert_string_equal(json_string_value(json_object_get(out, "status")), "degraded");
	assert_true(json_is_false(json_object_get(json_object_get(out, "pcsc"), "reachable")));
	assert_true(json_is_true(json_object_get(json_object_get(out, "good"), "reachable")));
	json_decref(out);
	while (ctx.h.n_parts < HEALTH_MAX_PARTS)
		assert_int_equal(health_add(&ctx.h, "x", part, NULL), 0);
	assert_int_equal(health_add(&ctx.h, "x", part, NULL), -1);
	cfg_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(health),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
