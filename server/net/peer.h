/* peer.h — which local user owns the other end of a loopback TCP connection.
 * Loopback is shared by every user of a multi-user machine (terminal server), so the listeners
 * use this to refuse clients whose socket belongs to another uid. Asks the kernel over
 * NETLINK_SOCK_DIAG for the exact 4-tuple (bounded by a timeout); if netlink is unavailable or
 * inconclusive, scans /proc/self/net/tcp{,6}. No heap allocation, no shared state: thread-safe. */
#ifndef SITHS_PEER_H
#define SITHS_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* How long one netlink request may wait for the kernel's answer before falling back to /proc. */
#define PEER_NETLINK_TIMEOUT_MS 500

typedef enum {
	PEER_OK = 0,
	PEER_E_ARG,       /* NULL, not IPv4/IPv6, families differ, or not a connected TCP socket */
	PEER_E_NOT_FOUND, /* no live socket on this machine has the client's end of that 4-tuple
	                     * (client gone, in TIME_WAIT, remote host, or a made-up tuple) */
	PEER_E_UNAVAILABLE, /* neither sock_diag nor /proc/self/net could be asked */
	PEER_E_DENIED,      /* peer_admit*: the owner was found but is not an allowed user */
} peer_err;

/* Never NULL. */
const char *peer_strerror(peer_err e);

/* fd: a TCP socket accepted by one of our listeners. *out = the uid that created the client's
 * socket (the kernel's record, as seen from this process's user namespace). *out is written
 * only on PEER_OK. Refuse the client on any result other than PEER_OK. */
peer_err peer_uid_of_client(int fd, uid_t *out);

/* The same from addresses, for callbacks that hold no fd (libmicrohttpd's accept policy).
 * local: OUR end (the listener's concrete address, e.g. 127.0.0.1:29443, not a wildcard);
 * remote: the client's end. sockaddr_in or sockaddr_in6 (IPv4-mapped IPv6 is treated as IPv4). */
peer_err peer_uid_of_addrs(const struct sockaddr *local, const struct sockaddr *remote, uid_t *out);

/* The listeners' policy (docs/security.md): a client is served only when its socket belongs to
 * this process's effective uid or to one of allow[0..n) (allow may be NULL when n is 0).
 * PEER_OK: serve it, *uid = its owner. PEER_E_DENIED: *uid = its owner, who is not allowed.
 * Any other result: the owner is unknown, *uid untouched; refuse (fail closed).
 * peer_admit_fd takes an accepted socket, peer_admit the two addresses as peer_uid_of_addrs. */
peer_err peer_admit(const struct sockaddr *local, const struct sockaddr *remote, const uid_t *allow,
		    size_t n, uid_t *uid);
peer_err peer_admit_fd(int fd, const uid_t *allow, size_t n, uid_t *uid);

/* The listeners' one log line about an accepted client, under component ("http", "ws", a static
 * string): debug "connection from uid U" for PEER_OK, else info "refused connection from uid U:
 * not an allowed user" (PEER_E_DENIED) or "refused connection from an unknown user: why".
 * Refusals are rate-limited per component: 5 lines a minute, the rest counted and reported in
 * one summary line ("refused N more connections from other users in S s ...") with the first
 * refusal after the minute. Thread-safe. Returns e == PEER_OK: whether to serve it. */
bool peer_log_admission(const char *component, peer_err e, uid_t uid);

/* Who listens on TCP port `port` of this machine, on any local address, IPv4 or IPv6 (a listener
 * on 0.0.0.0 takes 127.0.0.1's port too): the uid that made the listening socket and its inode,
 * which names the process holding it (/proc/PID/fd/N -> "socket:[inode]"). Only /proc: sock_diag
 * gives nothing more for a listener. dir: the directory holding "tcp" and "tcp6"; NULL =
 * /proc/self/net. PEER_E_NOT_FOUND: nothing listens there; PEER_E_UNAVAILABLE: no /proc. */
peer_err peer_listener_owner(const char *dir, uint16_t port, uid_t *uid, unsigned long *inode);

/* ---- test-only: each lookup path on its own. Not for production callers. ---- */
/* Netlink only; PEER_E_UNAVAILABLE when sock_diag cannot be asked or gives no definite answer. */
peer_err peer_test_netlink(const struct sockaddr *local, const struct sockaddr *remote, uid_t *out);
/* peer_log_admission as if the monotonic clock read now_ms. */
bool peer_test_log_admission_at(const char *component, peer_err e, uid_t uid, int64_t now_ms);
/* /proc scan only. dir: the directory holding "tcp" and "tcp6"; NULL = /proc/self/net. */
peer_err peer_test_procfs(const char *dir, const struct sockaddr *local,
			  const struct sockaddr *remote, uid_t *out);

#endif
