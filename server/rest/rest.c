/* rest.c — the REST mechanics that do not depend on which endpoints exist: JSON errors, path
 * matching with {captures} against a route table, and the call wrapper that guarantees every
 * handler answers with JSON. */
#include "rest.h"

#include <malloc.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON errors ---- */

json_t *rest_error(const char *code, const char *message)
{
	return json_pack("{s:{s:s,s:s}}", "error", "code", code ? code : "internal_error",
			 "message", message ? message : "");
}

void rest_error_set(json_t *e, const char *key, json_t *value)
{
	json_t *inner = json_object_get(e, "error");
	if (inner)
		json_object_set_new(inner, key, value);
	else
		json_decref(value);
}

unsigned rest_fail(json_t **out, unsigned status, const char *code, const char *message)
{
	*out = rest_error(code, message);
	return status;
}

/* ---- request bodies ---- */

static bool is_named(const char *key, const char *const names[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, names[i]) == 0)
			return true;
	return false;
}

bool rest_body_members(const json_t *body, const char *const names[], size_t n,
		       const char *const optional[], size_t n_opt)
{
	if (!body)
		return n == 0;
	if (!json_is_object(body))
		return false;
	const char *key;
	json_t *v;
	size_t named = 0;
	/* The parser refuses duplicate keys and NULs in keys: each key is one member, once. */
	json_object_foreach((json_t *)body, key, v)
	{
		if (is_named(key, names, n) && json_is_string(v))
			named++;
		else if (!is_named(key, optional, n_opt))
			return false;
	}
	return named == n;
}

bool rest_body_exact(const json_t *body, const char *const names[], size_t n)
{
	return rest_body_members(body, names, n, NULL, 0);
}

bool rest_body_string(const json_t *body, const char *name, char *buf, size_t cap)
{
	const json_t *v = json_is_object(body) ? json_object_get(body, name) : NULL;
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	size_t n = s ? json_string_length(v) : 0;
	if (!s || n >= cap || strlen(s) != n) {
		if (cap)
			OPENSSL_cleanse(buf, cap);
		return false;
	}
	memcpy(buf, s, n + 1);
	return true;
}

/* ---- matching ---- */

bool rest_owns_path(const char *path)
{
	return strcmp(path, "/health") == 0 || strcmp(path, "/v1") == 0 ||
		strncmp(path, "/v1/", 4) == 0;
}

const char *rest_capture(const struct rest_req *req, const char *name)
{
	for (size_t i = 0; i < req->n_captures; i++)
		if (strcmp(req->captures[i].name, name) == 0)
			return req->captures[i].value;
	return NULL;
}

static bool capture_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '_' || c == '.' || c == '~';
}

/* Matches one pattern against path; captures go to caps (n_caps set). */
static bool match_pattern(const char *pat, const char *path, struct rest_capture *caps,
			  size_t *n_caps)
{
	*n_caps = 0;
	while (*pat && *path) {
		if (*pat != '/' || *path != '/')
			return false;
		pat++, path++;
		const char *pe = pat + strcspn(pat, "/"), *se = path + strcspn(path, "/");
		size_t pl = (size_t)(pe - pat), sl = (size_t)(se - path);
		if (pl > 2 && pat[0] == '{' && pat[pl - 1] == '}') {
			if (*n_caps >= REST_MAX_CAPTURES || sl == 0 || sl >= sizeof caps->value)
				return false;
			for (size_t i = 0; i < sl; i++)
				if (!capture_char(path[i]))
					return false;
			if ((sl == 1 && path[0] == '.') ||
			    (sl == 2 && path[0] == '.' && path[1] == '.'))
				return false;
			struct rest_capture *c = &caps[(*n_caps)++];
			snprintf(c->name, sizeof c->name, "%.*s", (int)(pl - 2), pat + 1);
			memcpy(c->value, path, sl);
			c->value[sl] = '\0';
		} else if (pl != sl || memcmp(pat, path, pl) != 0) {
			return false;
		}
		pat = pe, path = se;
	}
	return *pat == '\0' && *path == '\0';
}

const struct rest_route *rest_match(const struct rest_table *t, const char *method,
				    const char *path, struct rest_req *req, struct rest_match *m)
{
	const struct rest_route *routes = t->routes;
	size_t n_routes = t->n;
	m->route = NULL;
	m->allow[0] = '\0';
	req->n_captures = 0;
	for (size_t i = 0; i < n_routes; i++) {
		struct rest_capture caps[REST_MAX_CAPTURES];
		size_t n;
		if (!match_pattern(routes[i].pattern, path, caps, &n))
			continue;
		if (!strstr(m->allow, routes[i].method)) {
			size_t l = strlen(m->allow);
			snprintf(m->allow + l, sizeof m->allow - l, "%s%s", l ? ", " : "",
				 routes[i].method);
		}
		if (!m->route && strcmp(routes[i].method, method) == 0) {
			m->route = &routes[i];
			memcpy(req->captures, caps, n * sizeof caps[0]);
			req->n_captures = n;
		}
	}
	return m->route;
}

unsigned rest_call(struct rest_ctx *ctx, const struct rest_route *r, const struct rest_req *req,
		   json_t **out)
{
	*out = NULL;
	unsigned st = r->fn(ctx, req, out);
	if (!*out || st < 100 || st > 599) {
		json_decref(*out);
		return rest_fail(out, 500, "internal_error", "the handler gave no answer");
	}
	return st;
}

static void wipe_free(void *p)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, malloc_usable_size(p));
	free(p);
}

void rest_json_wipe_on_free(void)
{
	json_set_alloc_funcs(malloc, wipe_free);
}
