/* activation.h — the daemon's side of systemd's socket activation and readiness protocol. It
 * takes over the listening sockets a service manager passes (LISTEN_PID, LISTEN_FDS, told apart
 * by LISTEN_FDNAMES: FileDescriptorName=https and =wss) and refuses any that is not a listening
 * TCP socket on 127.0.0.1 or ::1, and it tells the manager when the daemon is ready or stopping
 * (sd_notify; nothing happens without NOTIFY_SOCKET). */
#ifndef SITHS_ACTIVATION_H
#define SITHS_ACTIVATION_H

#include <stdbool.h>

#include "config.h"

typedef enum {
	ACTIVATION_OK = 0,
	ACTIVATION_E_ENV,   /* LISTEN_FDS / LISTEN_FDNAMES malformed (sd_listen_fds failed) */
	ACTIVATION_E_NAMES, /* not exactly one socket named "https" and one named "wss" */
	ACTIVATION_E_NOT_LISTENER, /* a socket that is not a listening TCP stream socket */
	ACTIVATION_E_NOT_LOOPBACK, /* a listener on another address than 127.0.0.1 or ::1 */
} activation_err;

const char *activation_strerror(activation_err e);

/* The listeners passed by the service manager. */
struct activation {
	bool active;                  /* false: none were passed; the daemon binds its own */
	int https_fd, wss_fd;         /* non-blocking, close-on-exec; -1 when !active */
	struct cfg_listen https, wss; /* their addresses and ports, as the kernel reports them */
	char why[160]; /* after an error: which descriptor and what is wrong with it */
};

/* Takes the passed sockets, if any, and unsets the LISTEN_* variables. On ACTIVATION_OK the fds
 * are the caller's (close them or hand them on); on an error every passed fd is closed. */
activation_err activation_take(struct activation *a);

/* READY=1 with a STATUS= line (status may be NULL); STOPPING=1. */
void activation_ready(const char *status);
void activation_stopping(void);

#endif
