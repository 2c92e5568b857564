/* reaper.h — the HTTPS listener's request deadline. libmicrohttpd's own timeout measures only
 * inactivity, so a client that sends a byte now and then (slowloris) could hold a connection
 * for ever; here each connection's request must arrive completely within the timeout, or its
 * socket is shut down (libmicrohttpd then sees a closed peer and cleans up itself). One thread
 * sleeps on a condition variable until the earliest deadline. Thread-safe. */
#ifndef SITHS_REAPER_H
#define SITHS_REAPER_H

#include <stdbool.h>

typedef enum {
	REAPER_OK = 0,
	REAPER_E_NOMEM,
	REAPER_E_THREAD,
} reaper_err;

typedef struct reaper reaper;
struct reaper_conn;

/* Starts the thread; requests get timeout_s seconds. *out released with reaper_stop(). */
reaper_err reaper_start(unsigned timeout_s, reaper **out);
/* Stops the thread and frees the reaper; every connection must have been removed. NULL is
 * fine. */
void reaper_stop(reaper *r);

/* A new connection on fd: its first request's deadline starts now. NULL on OOM (the connection
 * is then not policed). */
struct reaper_conn *reaper_add(reaper *r, int fd);
/* Forgets c (NULL is fine): call before fd is closed, so the thread never touches a reused one. */
void reaper_remove(reaper *r, struct reaper_conn *c);
/* busy: c's request has arrived and is being answered, no deadline. Not busy: the connection
 * waits for its next request (keep-alive), whose deadline starts now. NULL c is fine. */
void reaper_set_busy(reaper *r, struct reaper_conn *c, bool busy);

#endif
