/* fuzz_body.c — a request as the REST layer meets it after the transport's checks: input
 * "METHOD PATH\nBODY". The route matcher on the daemon's own table (a match names the method
 * asked and captures only what a capture may hold), the body parsed as the transport parses it,
 * and the strict body checks with every shape the API takes: what they accept is checked against
 * the object itself, and a refused code copy leaves its buffer wiped. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "rest.h"
#include "routes.h"

struct shape {
	const char *required[2];
	size_t n;
	const char *optional[1];
	size_t n_opt;
};

/* login {pin}; change {pin,new_pin}; unblock {puk,new_pin}; download {pin} + enrollment;
 * the enrollment {reference,secret}; logout {}. */
static const struct shape shapes[] = {
	{ { "pin" }, 1, { NULL }, 0 },
	{ { "pin", "new_pin" }, 2, { NULL }, 0 },
	{ { "puk", "new_pin" }, 2, { NULL }, 0 },
	{ { "pin" }, 1, { "enrollment" }, 1 },
	{ { "reference", "secret" }, 2, { NULL }, 0 },
	{ { NULL }, 0, { NULL }, 0 },
};

static bool named(const char *key, const char *const names[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(key, names[i]))
			return true;
	return false;
}

static void check_shape(const json_t *body, const struct shape *s)
{
	bool ok = rest_body_members(body, s->required, s->n, s->optional, s->n_opt);
	if (!ok)
		return;
	if (!body) {
		if (s->n)
			abort();
		return;
	}
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)body, key, v)
	{
		if (!named(key, s->required, s->n) && !named(key, s->optional, s->n_opt))
			abort(); /* a member nobody asked for got through */
	}
	for (size_t i = 0; i < s->n; i++)
		if (!json_is_string(json_object_get(body, s->required[i])))
			abort();
}

static void check_copy(const json_t *body, const char *name)
{
	char buf[65];
	memset(buf, 'x', sizeof buf);
	const json_t *v = json_object_get(body, name);
	if (rest_body_string(body, name, buf, sizeof buf)) {
		size_t n = json_string_length(v);
		if (!json_is_string(v) || strlen(buf) != n || memcmp(buf, json_string_value(v), n))
			abort();
		return;
	}
	for (size_t i = 0; i < sizeof buf; i++)
		if (buf[i])
			abort(); /* a refused copy must not leave part of a code behind */
}

static void check_route(const char *line)
{
	char method[16] = "", path[512] = "";
	const char *sp = strchr(line, ' ');
	if (!sp || (size_t)(sp - line) >= sizeof method || strlen(sp + 1) >= sizeof path)
		return;
	memcpy(method, line, (size_t)(sp - line));
	strcpy(path, sp + 1);
	struct rest_req req = { 0 };
	struct rest_match m;
	const struct rest_route *r = rest_match(&routes_table, method, path, &req, &m);
	if (!r)
		return;
	if (strcmp(r->method, method) || req.n_captures > REST_MAX_CAPTURES)
		abort();
	for (size_t i = 0; i < req.n_captures; i++) {
		const char *c = req.captures[i].value;
		if (!*c || !strcmp(c, ".") || !strcmp(c, "..") ||
		    strspn(c,
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") !=
			    strlen(c))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t head = nl ? (size_t)(nl - data) : size;
	char line[600];
	if (head < sizeof line && !memchr(data, 0, head)) {
		memcpy(line, data, head);
		line[head] = 0;
		check_route(line);
	}
	if (!nl)
		return 0;
	json_error_t err;
	const char *text = (const char *)nl + 1;
	size_t len = size - head - 1;
	json_t *body = len ? json_loadb(text, len, JSON_REJECT_DUPLICATES, &err) : NULL;
	if (len && (!body || !json_is_object(body))) {
		json_decref(body);
		return 0; /* the transport answers 400 bad_json */
	}
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		check_shape(body, &shapes[i]);
	static const char *const codes[] = { "pin", "new_pin", "puk", "reference", "secret" };
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		check_copy(body, codes[i]);
	json_t *en = json_object_get(body, "enrollment");
	check_shape(en, &shapes[4]);
	check_copy(en, "secret");
	json_decref(body);
	return 0;
}
