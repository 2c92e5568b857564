/* reaper.c — the deadline thread: a list of connections with the start of their current
 * request, scanned whenever it changes or the earliest deadline passes. */
#include "reaper.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"

struct reaper_conn {
	int fd;
	struct timespec since; /* start of the current request (or of idling for one) */
	bool busy;             /* request received, being answered: no deadline */
	bool killed;
	struct reaper_conn *prev, *next;
};

struct reaper {
	time_t limit;
	pthread_mutex_t lock; /* guards the list and stop */
	pthread_cond_t cond;
	struct reaper_conn *conns;
	/* When the thread wakes by itself next ({0, 0}: never, it waits to be told). A deadline
	 * set later than that needs no signal: the thread's next scan finds it. So a keep-alive
	 * connection's requests do not wake the thread once each. */
	struct timespec wake;
	bool stop;
	pthread_t thread;
};

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* c's deadline starts now; the thread is told when it would otherwise wake too late for it.
 * Caller holds the lock. */
static void start_deadline(struct reaper *r, struct reaper_conn *c)
{
	clock_gettime(CLOCK_MONOTONIC, &c->since);
	struct timespec dl = { c->since.tv_sec + r->limit, c->since.tv_nsec };
	if (!r->wake.tv_sec || before(&dl, &r->wake))
		pthread_cond_signal(&r->cond);
}

/* Shuts down every connection past its deadline; *next gets the earliest deadline to come
 * ({0, 0}: none). Caller holds the lock. */
static void reap(struct reaper *r, struct timespec *next)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	next->tv_sec = 0;
	next->tv_nsec = 0;
	for (struct reaper_conn *c = r->conns; c; c = c->next) {
		if (c->busy || c->killed)
			continue;
		struct timespec dl = { c->since.tv_sec + r->limit, c->since.tv_nsec };
		if (!before(&now, &dl)) {
			shutdown(c->fd, SHUT_RDWR);
			c->killed = true;
			log_info("http",
				 "refused 408 request_timeout: request not complete within %lds",
				 (long)r->limit);
		} else if (!next->tv_sec || before(&dl, next)) {
			*next = dl;
		}
	}
}

static void *reaper_main(void *arg)
{
	struct reaper *r = arg;
	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		reap(r, &r->wake);
		if (r->wake.tv_sec)
			pthread_cond_timedwait(&r->cond, &r->lock, &r->wake);
		else
			pthread_cond_wait(&r->cond, &r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

reaper_err reaper_start(unsigned timeout_s, reaper **out)
{
	pthread_condattr_t ca;
	struct reaper *r = calloc(1, sizeof(*r));
	*out = NULL;
	if (!r)
		return REAPER_E_NOMEM;
	r->limit = (time_t)timeout_s;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&r->thread, NULL, reaper_main, r)) {
		pthread_cond_destroy(&r->cond);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return REAPER_E_THREAD;
	}
	*out = r;
	return REAPER_OK;
}

void reaper_stop(reaper *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct reaper_conn *reaper_add(reaper *r, int fd)
{
	struct reaper_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	pthread_mutex_lock(&r->lock);
	c->next = r->conns;
	if (r->conns)
		r->conns->prev = c;
	r->conns = c;
	start_deadline(r, c);
	pthread_mutex_unlock(&r->lock);
	return c;
}

void reaper_remove(reaper *r, struct reaper_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&r->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		r->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&r->lock);
	free(c);
}

void reaper_set_busy(reaper *r, struct reaper_conn *c, bool busy)
{
	if (!c)
		return;
	pthread_mutex_lock(&r->lock);
	c->busy = busy;
	if (!busy)
		start_deadline(r, c);
	pthread_mutex_unlock(&r->lock);
}
