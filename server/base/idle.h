/* idle.h — when an on-demand daemon has been unused long enough to exit: nothing held (idle_hold/
 * idle_release, pushed by the listeners as clients come and go and by the job engine as jobs begin
 * and end) and nothing a probe reports busy (login sessions, which end by time), for the whole idle
 * time. It owns no thread and sends no signal itself: the caller waits for as long as idle_due()
 * says and asks again, and its waker is called whenever that wait may end sooner (a release, a
 * probe's idle_changed()). All functions are thread-safe; NULL is a tracker that is never due. */
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

/* Milliseconds of a monotonic clock; injectable so tests need not wait. */
typedef uint64_t (*idle_clock_fn)(void *user);
/* For how many milliseconds from now the probe's owner keeps the daemon busy (0: not busy), e.g.
 * until its last login session expires. When that ends sooner, the owner calls idle_changed(). */
typedef uint64_t (*idle_probe_fn)(void *user);

struct idle;

/* seconds > 0; the idle time starts now. clock NULL = CLOCK_MONOTONIC. *out is the caller's:
 * idle_free(). */
idle_err idle_new(unsigned seconds, idle_clock_fn clock, void *clock_user, struct idle **out);
void idle_free(struct idle *t);

/* Adds a probe, asked with the tracker's lock held (user borrowed: it must outlive the tracker). */
idle_err idle_add_probe(struct idle *t, idle_probe_fn fn, void *user);

/* fn(user) is called, on the thread of the release or idle_changed() and without the tracker's
 * lock, when the wait idle_due() asked for may end sooner. Set it before waiting; user borrowed. */
void idle_set_waker(struct idle *t, void (*fn)(void *user), void *user);

/* A connection or job began / ended; every hold is matched by one release (which wakes). */
void idle_hold(struct idle *t);
void idle_release(struct idle *t);

/* A probe's owner ended something before the time it reported (a logout): wakes the waiter. */
void idle_changed(struct idle *t);

/* True when nothing has been held and no probe busy for the idle time: the daemon may exit.
 * Otherwise false, and *wait_ms says how long to wait before asking again unless woken:
 * UINT64_MAX while something is held (its release wakes), else until the idle time after the
 * last use or the probes' busy time ends. */
bool idle_due(struct idle *t, uint64_t *wait_ms);

#endif
