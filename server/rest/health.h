/* health.h — GET /health: version, uptime, the listeners' addresses and the WebSocket client
 * count, and the parts other modules add (e.g. "pcsc", "issuer"); "status" is "degraded" when
 * any part says so. main.c fills struct health before the listeners start; it is read-only
 * after, and the functions it points to are called from HTTP threads (they must be
 * thread-safe). */
#ifndef SITHS_HEALTH_H
#define SITHS_HEALTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"

/* A part of /health: returns a new JSON reference; sets *degraded when this part makes the
 * daemon degraded. */
typedef json_t *(*health_part_fn)(void *user, bool *degraded);

#define HEALTH_MAX_PARTS 8

struct health {
	const struct cfg *cfg;     /* the listeners' addresses */
	struct timespec started;   /* CLOCK_MONOTONIC at start */
	unsigned short https_port; /* bound ports (real ones when the config said 0) */
	unsigned short wss_port;
	unsigned (*wss_clients)(void *user); /* NULL: 0 */
	void *wss_clients_user;
	struct {
		const char *name;
		health_part_fn fn;
		void *user;
	} parts[HEALTH_MAX_PARTS];
	size_t n_parts;
};

/* Adds a part before the listeners start. 0 on success, -1 if the table is full. */
int health_add(struct health *h, const char *name, health_part_fn fn, void *user);

/* The body of GET /health into *out (new reference); returns the HTTP status. */
unsigned health_answer(const struct health *h, json_t **out);

#endif
