/* idle.c — the idle tracker: a count of holds, the time the daemon was last seen in use, and the
 * probes' busy times, asked whenever nothing is held. Being in use is recorded when a hold ends
 * and when a probe's owner ends something early (idle_changed), which also forgets the busy
 * time the probes gave before. */
#include "idle.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct probe {
	idle_probe_fn fn;
	void *user;
};

struct idle {
	pthread_mutex_t lock; /* guards everything below */
	uint64_t idle_ms;
	idle_clock_fn clock;
	void *clock_user;
	unsigned holds;
	uint64_t last_use;   /* clock time the daemon was last known to be in use */
	uint64_t busy_until; /* the latest end of the probes' busy times asked so far */
	struct probe probes[IDLE_MAX_PROBES];
	size_t n_probes;
	void (*waker)(void *user);
	void *waker_user;
};

const char *idle_strerror(idle_err e)
{
	switch (e) {
	case IDLE_OK: return "ok";
	case IDLE_E_ARG: return "bad idle tracker argument";
	case IDLE_E_NOMEM: return "out of memory";
	}
	return "unknown idle tracker error";
}

static uint64_t monotonic_ms(void *user)
{
	struct timespec ts;
	(void)user;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

idle_err idle_new(unsigned seconds, idle_clock_fn clock, void *clock_user, struct idle **out)
{
	*out = NULL;
	if (!seconds)
		return IDLE_E_ARG;
	struct idle *t = calloc(1, sizeof *t);
	if (!t)
		return IDLE_E_NOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->idle_ms = (uint64_t)seconds * 1000u;
	t->clock = clock ? clock : monotonic_ms;
	t->clock_user = clock_user;
	t->last_use = t->clock(t->clock_user);
	*out = t;
	return IDLE_OK;
}

void idle_free(struct idle *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

idle_err idle_add_probe(struct idle *t, idle_probe_fn fn, void *user)
{
	idle_err e = IDLE_E_ARG;
	if (!t || !fn)
		return e;
	pthread_mutex_lock(&t->lock);
	if (t->n_probes < IDLE_MAX_PROBES) {
		t->probes[t->n_probes++] = (struct probe){ fn, user };
		e = IDLE_OK;
	}
	pthread_mutex_unlock(&t->lock);
	return e;
}

void idle_set_waker(struct idle *t, void (*fn)(void *user), void *user)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->waker = fn;
	t->waker_user = user;
	pthread_mutex_unlock(&t->lock);
}

/* Caller holds no lock. */
static void wake(struct idle *t)
{
	pthread_mutex_lock(&t->lock);
	void (*fn)(void *) = t->waker;
	void *user = t->waker_user;
	pthread_mutex_unlock(&t->lock);
	if (fn)
		fn(user);
}

void idle_changed(struct idle *t)
{
	if (!t)
		return;
	/* What ended early (a logout) was a use; what still lasts is asked again. */
	pthread_mutex_lock(&t->lock);
	t->busy_until = 0;
	t->last_use = t->clock(t->clock_user);
	pthread_mutex_unlock(&t->lock);
	wake(t);
}

void idle_hold(struct idle *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->holds++;
	pthread_mutex_unlock(&t->lock);
}

void idle_release(struct idle *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	if (t->holds)
		t->holds--;
	t->last_use = t->clock(t->clock_user);
	pthread_mutex_unlock(&t->lock);
	wake(t);
}

static uint64_t probes_busy_ms(const struct idle *t)
{
	uint64_t most = 0;
	for (size_t i = 0; i < t->n_probes; i++) {
		uint64_t ms = t->probes[i].fn(t->probes[i].user);
		if (ms > most)
			most = ms;
	}
	return most;
}

bool idle_due(struct idle *t, uint64_t *wait_ms)
{
	if (!t) {
		*wait_ms = UINT64_MAX;
		return false;
	}
	pthread_mutex_lock(&t->lock);
	uint64_t now = t->clock(t->clock_user);
	bool due = false;
	if (t->holds) {
		*wait_ms = UINT64_MAX; /* the release wakes the waiter */
	} else {
		/* Busy until the latest end a probe gave; an early end (idle_changed) forgets it. */
		uint64_t busy = probes_busy_ms(t);
		if (busy && now + busy > t->busy_until)
			t->busy_until = now + busy;
		uint64_t used = t->busy_until > t->last_use ? t->busy_until : t->last_use;
		due = now >= used && now - used >= t->idle_ms;
		*wait_ms = due ? 0 : used + t->idle_ms - now;
	}
	pthread_mutex_unlock(&t->lock);
	return due;
}
