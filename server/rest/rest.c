/* api_core.c — the REST mechanics that do not depend on which endpoints exist: JSON errors,
 * path matching with {captures} against a route table, /health assembled from its parts, and
 * the call wrapper that guarantees every handler answers with JSON. */
#include "rest.h"

#include <malloc.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SITHS_VERSION
#define SITHS_VERSION "0"
#endif

/* ---- JSON errors ---- */

json_t *api_error(const char *code, const char *message)
{
	return json_pack("{s:{s:s,s:s}}", "error", "code", code ? code : "internal_error",
	                 "message", message ? message : "");
}

void api_error_set(json_t *e, const char *key, json_t *value)
{
	json_t *inner = json_object_get(e, "error");
	if (inner)
		json_object_set_new(inner, key, value);
	else
		json_decref(value);
}

unsigned api_fail(json_t **out, unsigned status, const char *code, const char *message)
{
	*out = api_error(code, message);
	return status;
}

/* ---- /health ---- */

int api_health_add(struct api_ctx *ctx, const char *name, api_health_fn fn, void *user)
{
	if (ctx->n_health >= API_MAX_HEALTH_PARTS)
		return -1;
	ctx->health[ctx->n_health].name = name;
	ctx->health[ctx->n_health].fn = fn;
	ctx->health[ctx->n_health].user = user;
	ctx->n_health++;
	return 0;
}

static json_t *listener_json(const struct cfg_listen *l, unsigned short port)
{
	char buf[96];
	snprintf(buf, sizeof buf, strchr(l->addr, ':') ? "[%s]:%u" : "%s:%u", l->addr, port);
	return json_string(buf);
}

unsigned api_health(struct api_ctx *ctx, const struct api_req *req, json_t **out)
{
	(void)req;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	bool degraded = false;

	json_t *o = json_pack("{s:s,s:I,s:{s:o,s:o}}", "version", SITHS_VERSION,
	                      "uptime_s", (json_int_t)(now.tv_sec - ctx->started.tv_sec),
	                      "listeners", "https", listener_json(&ctx->cfg->https, ctx->https_port),
	                      "wss", listener_json(&ctx->cfg->wss, ctx->wss_port));
	if (!o)
		return api_fail(out, 500, "internal_error", "out of memory");
	json_object_set_new(json_object_get(o, "listeners"), "wss_clients",
	                    json_integer(ctx->ws ? ws_client_count(ctx->ws) : 0));
	for (size_t i = 0; i < ctx->n_health; i++) {
		bool d = false;
		json_t *part = ctx->health[i].fn(ctx->health[i].user, &d);
		degraded |= d;
		json_object_set_new(o, ctx->health[i].name, part ? part : json_null());
	}
	json_object_set_new(o, "status", json_string(degraded ? "degraded" : "ok"));
	*out = o;
	return 200;
}

/* ---- matching ---- */

bool api_owns_path(const char *path)
{
	return strcmp(path, "/health") == 0 || strcmp(path, "/v1") == 0 ||
	       strncmp(path, "/v1/", 4) == 0;
}

const char *api_capture(const struct api_req *req, const char *name)
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
static bool match_pattern(const char *pat, const char *path, struct api_capture *caps,
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
			if (*n_caps >= API_MAX_CAPTURES || sl == 0 || sl >= sizeof caps->value)
				return false;
			for (size_t i = 0; i < sl; i++)
				if (!capture_char(path[i]))
					return false;
			if ((sl == 1 && path[0] == '.') || (sl == 2 && path[0] == '.' && path[1] == '.'))
				return false;
			struct api_capture *c = &caps[(*n_caps)++];
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

const struct api_route *api_match_table(const struct api_route *routes, size_t n_routes,
                                        const char *method, const char *path, struct api_req *req,
                                        struct api_match *m)
{
	m->route = NULL;
	m->allow[0] = '\0';
	req->n_captures = 0;
	for (size_t i = 0; i < n_routes; i++) {
		struct api_capture caps[API_MAX_CAPTURES];
		size_t n;
		if (!match_pattern(routes[i].pattern, path, caps, &n))
			continue;
		if (!strstr(m->allow, routes[i].method)) {
			size_t l = strlen(m->allow);
			snprintf(m->allow + l, sizeof m->allow - l, "%s%s", l ? ", " : "", routes[i].method);
		}
		if (!m->route && strcmp(routes[i].method, method) == 0) {
			m->route = &routes[i];
			memcpy(req->captures, caps, n * sizeof caps[0]);
			req->n_captures = n;
		}
	}
	return m->route;
}

unsigned api_call(struct api_ctx *ctx, const struct api_route *r, const struct api_req *req,
                  json_t **out)
{
	*out = NULL;
	unsigned st = r->fn(ctx, req, out);
	if (!*out || st < 100 || st > 599) {
		json_decref(*out);
		return api_fail(out, 500, "internal_error", "the handler gave no answer");
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

void api_json_wipe_on_free(void)
{
	json_set_alloc_funcs(malloc, wipe_free);
}
