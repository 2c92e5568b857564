/* sockwatch.h — tells the PC/SC monitor when pcscd's socket (re)appears, so that it reconnects
 * at once instead of on its back-off timer. Linux inotify on the socket's directory; the socket
 * is PCSCLITE_CSOCK_NAME when set, else pcsc-lite's /run/pcscd/pcscd.comm.
 * Not thread-safe: one watch belongs to the monitor thread. */
#ifndef SITHS_SOCKWATCH_H
#define SITHS_SOCKWATCH_H

#include <stdbool.h>

#include "err.h"

typedef struct sockwatch sockwatch;

/* *out is owned by the caller (sockwatch_close). A directory that cannot be watched now (it does
 * not exist yet) is no error: sockwatch_fd says -1 and each sockwatch_changed tries again. */
card_err sockwatch_open(sockwatch **out);
/* The descriptor to poll for input, or -1 while nothing is watched. */
int sockwatch_fd(const sockwatch *w);
/* Consumes what is pending: true when an event named the socket (created, moved in, its
 * permissions set — pcscd sets them after listen()). Re-arms a watch lost with its directory. */
bool sockwatch_changed(sockwatch *w);
/* NULL is fine. */
void sockwatch_close(sockwatch *w);

#endif
