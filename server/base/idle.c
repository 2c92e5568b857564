/* idle.c — the idle tracker: a count of held connections, the time the daemon was last seen in
 * use, and the probes asked whenever no connection is held. Being in use is recorded when a
 * connection ends and whenever a probe is seen busy, so the daemon never exits earlier than the
 * idle time after its last use (a probe's end may be noticed up to IDLE_PROBE_INTERVAL_MS late). */
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
	uint64_t last_use; /* clock time the daemon was last known to be in use */
	struct probe probes[IDLE_MAX_PROBES];
	size_t n_probes;
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
}

static bool probes_busy(const struct idle *t)
{
	for (size_t i = 0; i < t->n_probes; i++)
		if (t->probes[i].fn(t->probes[i].user))
			return true;
	return false;
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
		/* A release records its time; waking once per idle time is enough to see it. */
		*wait_ms = t->idle_ms;
	} else if (probes_busy(t)) {
		t->last_use = now;
		*wait_ms =
			t->idle_ms < IDLE_PROBE_INTERVAL_MS ? t->idle_ms : IDLE_PROBE_INTERVAL_MS;
	} else if (now - t->last_use >= t->idle_ms) {
		due = true;
		*wait_ms = 0;
	} else {
		*wait_ms = t->last_use + t->idle_ms - now;
	}
	pthread_mutex_unlock(&t->lock);
	return due;
}
