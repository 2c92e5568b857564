/* api.h — the REST API: the route table, the request a handler sees, JSON errors, /health.
 * http.c does transport and every security check (Host, Origin, CORS, Content-Type, body size,
 * JSON parse) before a handler runs, so handlers only see well-formed requests from allowed
 * origins. To add an endpoint, write a handler and add one line to the table in api.c.
 * Ownership: a handler stores a new JSON reference in *out (http.c sends and decrefs it);
 * everything in api_req is borrowed for the duration of the call. */
#ifndef SITHS_API_H
#define SITHS_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "ws.h"

struct cards;
struct login;

/* A part of /health (e.g. "pcsc"): returns a new JSON reference; sets *degraded when this part
 * makes the daemon degraded. Called from HTTP threads: must be thread-safe. */
typedef json_t *(*api_health_fn)(void *user, bool *degraded);

#define API_MAX_HEALTH_PARTS 8

/* The daemon-wide context, filled by main.c before the listeners start and read-only after. */
struct api_ctx {
	const struct cfg *cfg;
	struct timespec started;        /* CLOCK_MONOTONIC at start */
	unsigned short https_port;      /* bound ports (real ones when the config said 0) */
	unsigned short wss_port;
	ws_server *ws;
	struct cards *cards;            /* card core front (cards.h), NULL if not running */
	struct login *login;            /* issue 4 handlers (login.h), NULL if the card core is not running */
	struct {
		const char *name;
		api_health_fn fn;
		void *user;
	} health[API_MAX_HEALTH_PARTS];
	size_t n_health;
};

/* Adds a /health part before the listeners start. 0 on success, -1 if the table is full. */
int api_health_add(struct api_ctx *ctx, const char *name, api_health_fn fn, void *user);

#define API_MAX_CAPTURES 4

struct api_capture {
	char name[32];                 /* pattern name without braces, e.g. "id" */
	char value[128];               /* URL-decoded, charset [A-Za-z0-9._~-], not "." or ".." */
};

struct api_req {
	const char *method;
	const char *path;              /* decoded path, no query */
	struct api_capture captures[API_MAX_CAPTURES];
	size_t n_captures;
	const char *origin;            /* allowlisted Origin, or NULL */
	const char *bearer;            /* Authorization: Bearer token, or NULL. Never log it. */
	json_t *body;                  /* parsed JSON body of a POST, or NULL when empty */
};

/* The value of capture "name", or NULL. */
const char *api_capture(const struct api_req *req, const char *name);

/* Returns the HTTP status; *out gets a new JSON reference (object or array). */
typedef unsigned (*api_handler)(struct api_ctx *ctx, const struct api_req *req, json_t **out);

struct api_route {
	const char *method;            /* "GET", "POST", "DELETE", "PUT" */
	const char *pattern;           /* "/v1/cards/{id}/login": literal segments and {name} */
	api_handler fn;
	bool origin_optional;          /* true only for /health: may be fetched without Origin */
};

/* Result of matching a decoded path against the table. */
struct api_match {
	const struct api_route *route; /* NULL: no route for this method */
	char allow[64];                /* methods the path has ("GET, POST"), "" if none: 404 */
};

/* Matches method + path against the daemon's table (api.c); fills req->captures. Pure.
 * Returns m->route or NULL. */
const struct api_route *api_match(const char *method, const char *path, struct api_req *req,
                                  struct api_match *m);
/* The same over any table (api_core.c; unit tests use their own tables). */
const struct api_route *api_match_table(const struct api_route *routes, size_t n_routes,
                                        const char *method, const char *path, struct api_req *req,
                                        struct api_match *m);

/* The GET /health handler: version, uptime, listeners and every part added with
 * api_health_add(); "degraded" when any part says so. */
unsigned api_health(struct api_ctx *ctx, const struct api_req *req, json_t **out);

/* True for paths the API owns (/health, /v1/...); everything else is the static page. */
bool api_owns_path(const char *path);

/* {"error":{"code":code,"message":message}}: new reference. Extra fields (e.g. tries_left)
 * can be added to the "error" object with api_error_set(). NULL only on OOM. */
json_t *api_error(const char *code, const char *message);
/* Sets key in the "error" object of e (steals value). */
void api_error_set(json_t *e, const char *key, json_t *value);
/* Convenience for handlers: *out = api_error(code, message); returns status. */
unsigned api_fail(json_t **out, unsigned status, const char *code, const char *message);

/* Makes jansson wipe every block it frees, so the parser's internal copies of a PIN do not
 * linger in freed memory. Blocks stay plain malloc() blocks (free() on json_dumps() output
 * remains correct). Call once at start-up, before any JSON value exists. */
void api_json_wipe_on_free(void);

/* Dispatches to the route's handler; never returns a NULL body (falls back to a 500 error). */
unsigned api_call(struct api_ctx *ctx, const struct api_route *r, const struct api_req *req,
                  json_t **out);

#endif
