/* idle.h — when an on-demand daemon has been unused long enough to exit: no connection held
 * (idle_hold/idle_release, pushed by the listeners as clients come and go) and nothing a probe
 * reports busy (login sessions, jobs: things that live without a connection), for the whole idle
 * time. It owns no thread and sends no signal: the caller waits for as long as idle_due() says
 * and asks again. All functions are thread-safe; NULL is a valid tracker that is never due. */
#ifndef SITHS_IDLE_H
#define SITHS_IDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	IDLE_OK = 0,
	IDLE_E_ARG, /* a zero idle time, a NULL probe, or more than IDLE_MAX_PROBES */
	IDLE_E_NOMEM,
} idle_err;

const char *idle_strerror(idle_err e);

#define IDLE_MAX_PROBES 4
/* While only a probe keeps the daemon busy, it is asked again this often (at most): nothing tells
 * the tracker when a session expires, so the exit may come this much after the idle time. */
#define IDLE_PROBE_INTERVAL_MS 5000u

/* Milliseconds of a monotonic clock; injectable so tests need not wait. */
typedef uint64_t (*idle_clock_fn)(void *user);
/* How many things the probe's owner has that keep the daemon busy (0: none). */
typedef size_t (*idle_probe_fn)(void *user);

struct idle;

/* seconds > 0; the idle time starts now. clock NULL = CLOCK_MONOTONIC. *out is the caller's:
 * idle_free(). */
idle_err idle_new(unsigned seconds, idle_clock_fn clock, void *clock_user, struct idle **out);
void idle_free(struct idle *t);

/* Adds a probe, asked with the tracker's lock held (user borrowed: it must outlive the tracker). */
idle_err idle_add_probe(struct idle *t, idle_probe_fn fn, void *user);

/* A connection began / ended; every hold is matched by one release. */
void idle_hold(struct idle *t);
void idle_release(struct idle *t);

/* True when nothing has been held and no probe busy for the idle time: the daemon may exit.
 * Otherwise false, and *wait_ms says how long to wait before asking again (at most the idle
 * time; a release or a probe's end in between is accounted for at the next call). */
bool idle_due(struct idle *t, uint64_t *wait_ms);

#endif
