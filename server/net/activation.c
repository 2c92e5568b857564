/* activation.c — inherited listeners and readiness over libsystemd's sd-daemon calls: the
 * reference implementation of the protocol (LISTEN_PID checked against our pid, descriptors from
 * SD_LISTEN_FDS_START, the abstract and path forms of NOTIFY_SOCKET) rather than a second one. A
 * passed socket is only trusted as a listener after the kernel confirms what it is. */
#include "activation.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

const char *activation_strerror(activation_err e)
{
	switch (e) {
	case ACTIVATION_OK: return "ok";
	case ACTIVATION_E_ENV: return "malformed socket activation environment";
	case ACTIVATION_E_NAMES:
		return "socket activation needs one socket named https and one named wss";
	case ACTIVATION_E_NOT_LISTENER: return "a passed socket is not a listening TCP socket";
	case ACTIVATION_E_NOT_LOOPBACK: return "a passed socket is not on 127.0.0.1 or ::1";
	}
	return "unknown socket activation error";
}

/* Where a listening TCP socket is bound, as a cfg_listen; only 127.0.0.1 and ::1 pass. */
static activation_err listener_address(int fd, struct cfg_listen *at)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) <= 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return ACTIVATION_E_NOT_LISTENER;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
		if (a->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
			return ACTIVATION_E_NOT_LOOPBACK;
		at->port = ntohs(a->sin_port);
		strcpy(at->addr, "127.0.0.1");
		return ACTIVATION_OK;
	}
	const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
	if (ss.ss_family != AF_INET6 || !IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
		return ACTIVATION_E_NOT_LOOPBACK;
	at->port = ntohs(a->sin6_port);
	strcpy(at->addr, "::1");
	return ACTIVATION_OK;
}

/* libmicrohttpd's pool threads and our own accept loop for libwebsockets both need an accept
 * that never blocks; the service manager passes blocking sockets unless told otherwise. */
static activation_err take_one(struct activation *a, int fd, const char *name)
{
	int *slot = !strcmp(name, "https") ? &a->https_fd
		: !strcmp(name, "wss")     ? &a->wss_fd
					   : NULL;
	struct cfg_listen *at = slot == &a->https_fd ? &a->https : &a->wss;
	if (!slot || *slot >= 0) {
		snprintf(a->why, sizeof a->why, "fd %d is named \"%.40s\"", fd, name);
		return ACTIVATION_E_NAMES;
	}
	activation_err e = listener_address(fd, at);
	if (e) {
		snprintf(a->why, sizeof a->why, "fd %d (%s): %s", fd, name, activation_strerror(e));
		return e;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(a->why, sizeof a->why, "fd %d (%s): %s", fd, name, strerror(errno));
		return ACTIVATION_E_NOT_LISTENER;
	}
	*slot = fd;
	return ACTIVATION_OK;
}

activation_err activation_take(struct activation *a)
{
	char **names = NULL;
	activation_err e = ACTIVATION_OK;
	*a = (struct activation){ .https_fd = -1, .wss_fd = -1 };
	int n = sd_listen_fds_with_names(1, &names);
	if (n < 0) {
		snprintf(a->why, sizeof a->why, "%s", strerror(-n));
		return ACTIVATION_E_ENV;
	}
	for (int i = 0; i < n && !e; i++)
		e = take_one(a, SD_LISTEN_FDS_START + i, names && names[i] ? names[i] : "");
	if (!e && n > 0 && (a->https_fd < 0 || a->wss_fd < 0)) {
		snprintf(a->why, sizeof a->why, "%d socket(s) passed, missing %s", n,
			 a->https_fd < 0 ? "https" : "wss");
		e = ACTIVATION_E_NAMES;
	}
	if (e)
		for (int i = 0; i < n; i++)
			close(SD_LISTEN_FDS_START + i);
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	if (e)
		a->https_fd = a->wss_fd = -1;
	a->active = !e && n > 0;
	return e;
}

void activation_ready(const char *status)
{
	if (status)
		sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	else
		sd_notify(0, "READY=1");
}

void activation_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}
