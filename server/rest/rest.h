/* rest.h — the REST framework: the request a handler sees, the one handler signature, route
 * tables with {captures} and their matcher, and JSON errors {"error":{"code","message"}} — the
 * one place an error body is built. It names no endpoint and no handler module: the daemon's
 * table is routes.h. The transport (net/http.c) does every security check (Host, Origin, CORS,
 * Content-Type, body size, JSON parse) before a handler runs, so handlers only see well-formed
 * requests from allowed origins.
 * Ownership: a handler stores a new JSON reference in *out (the transport sends and decrefs it);
 * everything in rest_req is borrowed for the duration of the call. */
#ifndef SITHS_REST_H
#define SITHS_REST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The application's context, handed unchanged to every handler. Defined by the application
 * (routes.h for this daemon); opaque here. */
struct rest_ctx;

#define REST_MAX_CAPTURES 4

struct rest_capture {
	char name[32];   /* pattern name without braces, e.g. "id" */
	char value[128]; /* URL-decoded, charset [A-Za-z0-9._~-], not "." or ".." */
};

struct rest_req {
	const char *method;
	const char *path; /* decoded path, no query */
	struct rest_capture captures[REST_MAX_CAPTURES];
	size_t n_captures;
	const char *origin; /* allowlisted Origin, or NULL */
	const char *bearer; /* Authorization: Bearer token, or NULL. Never log it. */
	json_t *body;       /* parsed JSON body of a POST, or NULL when empty */
};

/* The value of capture "name", or NULL. */
const char *rest_capture(const struct rest_req *req, const char *name);

/* Every handler: returns the HTTP status; *out gets a new JSON reference (object or array). */
typedef unsigned (*rest_handler)(struct rest_ctx *ctx, const struct rest_req *req, json_t **out);

struct rest_route {
	const char *method;  /* "GET", "POST", "DELETE", "PUT" */
	const char *pattern; /* "/v1/cards/{id}/login": literal segments and {name} */
	rest_handler fn;
	bool origin_optional; /* true only for /health: may be fetched without Origin */
};

struct rest_table {
	const struct rest_route *routes;
	size_t n;
};

/* Result of matching a decoded path against a table. */
struct rest_match {
	const struct rest_route *route; /* NULL: no route for this method */
	char allow[64];                 /* methods the path has ("GET, POST"), "" if none: 404 */
};

/* Matches method + path against t; fills req->captures. Pure. Returns m->route or NULL. */
const struct rest_route *rest_match(const struct rest_table *t, const char *method,
				    const char *path, struct rest_req *req, struct rest_match *m);

/* True for paths the API owns (/health, /v1/...); everything else is the static page. */
bool rest_owns_path(const char *path);

/* {"error":{"code":code,"message":message}}: new reference. Extra fields (e.g. tries_left)
 * can be added to the "error" object with rest_error_set(). NULL only on OOM. */
json_t *rest_error(const char *code, const char *message);
/* Sets key in the "error" object of e (steals value). */
void rest_error_set(json_t *e, const char *key, json_t *value);
/* For handlers: *out = rest_error(code, message); returns status. */
unsigned rest_fail(json_t **out, unsigned status, const char *code, const char *message);

/* ---- request bodies ----
 * Bodies are strict: a handler names the members it takes and anything else is refused (a body
 * that carries a secret must not carry other things a later version might act on). */

/* True when body is an object whose members are exactly names[0..n), each a string (NULL body
 * and n 0 also true: an empty body). Members are not copied. */
bool rest_body_exact(const json_t *body, const char *const names[], size_t n);
/* The same with optional members besides: names[0..n) must all be there, strings; optional[0..
 * n_opt) may be, of any type (the handler checks them); nothing else. */
bool rest_body_members(const json_t *body, const char *const names[], size_t n,
		       const char *const optional[], size_t n_opt);

/* Copies the string member name of body into buf (cap bytes, NUL-terminated): false, with buf
 * wiped, when it is absent, not a string, holds a NUL or does not fit. The transport wipes the
 * body's own strings after the handler; the caller wipes buf. */
bool rest_body_string(const json_t *body, const char *name, char *buf, size_t cap);

/* Dispatches to the route's handler; never returns a NULL body (falls back to a 500 error). */
unsigned rest_call(struct rest_ctx *ctx, const struct rest_route *r, const struct rest_req *req,
		   json_t **out);

/* Makes jansson wipe every block it frees, so the parser's internal copies of a PIN do not
 * linger in freed memory. Blocks stay plain malloc() blocks (free() on json_dumps() output
 * remains correct). Call once at start-up, before any JSON value exists. */
void rest_json_wipe_on_free(void);

#endif
