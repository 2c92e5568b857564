/* peer.c — uid of the client end of a loopback TCP connection: one exact NETLINK_SOCK_DIAG
 * request for the 4-tuple seen from the client's side, else a scan of /proc/self/net/tcp{,6}.
 * Everything lives on the stack and each call has its own netlink socket, so calls never share
 * state. Sockets with no owner on record (TIME_WAIT, listeners, embryonic) never match. */
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "log.h"

/* One end of a connection. addr in network byte order (4 bytes used for AF_INET), port in host
 * order. IPv4-mapped IPv6 is folded to AF_INET so both spellings of a v4 connection compare. */
struct endpoint {
	int family;
	uint8_t addr[16];
	uint16_t port;
};

/* A connection as the CLIENT's socket sees it: its local end is the client, its peer is us. */
struct tuple {
	struct endpoint client;
	struct endpoint ours;
};

const char *peer_strerror(peer_err e)
{
	switch (e) {
	case PEER_OK: return "ok";
	case PEER_E_ARG: return "not a connected IPv4/IPv6 TCP endpoint pair";
	case PEER_E_NOT_FOUND: return "no live local socket owns the client end of this connection";
	case PEER_E_UNAVAILABLE: return "neither sock_diag netlink nor /proc/self/net is available";
	case PEER_E_DENIED: return "the client's user is not allowed";
	}
	return "unknown peer error";
}

/* ---- endpoints ---- */

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static void endpoint_fold_mapped(struct endpoint *ep)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (ep->family != AF_INET6 || memcmp(ep->addr, prefix, sizeof prefix) != 0)
		return;
	memmove(ep->addr, ep->addr + 12, 4);
	memset(ep->addr + 4, 0, 12);
	ep->family = AF_INET;
}

static bool endpoint_from_sockaddr(const struct sockaddr *sa, struct endpoint *ep)
{
	memset(ep, 0, sizeof *ep);
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		ep->family = AF_INET;
		memcpy(ep->addr, &in->sin_addr, 4);
		ep->port = ntohs(in->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		ep->family = AF_INET6;
		memcpy(ep->addr, &in6->sin6_addr, 16);
		ep->port = ntohs(in6->sin6_port);
		endpoint_fold_mapped(ep);
		return true;
	}
	return false;
}

static bool endpoint_eq(const struct endpoint *a, const struct endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
		memcmp(a->addr, b->addr, addr_len(a->family)) == 0;
}

static peer_err tuple_make(const struct sockaddr *local, const struct sockaddr *remote,
			   struct tuple *t)
{
	if (!endpoint_from_sockaddr(remote, &t->client) ||
	    !endpoint_from_sockaddr(local, &t->ours) || t->client.family != t->ours.family)
		return PEER_E_ARG;
	/* No connected socket has port 0: a wildcard or made-up tuple cannot name a client. */
	if (t->client.port == 0 || t->ours.port == 0)
		return PEER_E_NOT_FOUND;
	return PEER_OK;
}

/* Only a socket still attached to a process (inode != 0) vouches for a user. TIME_WAIT entries,
 * including those the kernel reports in substate FIN_WAIT2, carry uid 0 (root) and inode 0;
 * request sockets carry the listener's uid; orphans have been closed by their process. */
static bool socket_has_owner(unsigned state, unsigned long inode)
{
	if (inode == 0)
		return false;
	switch (state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_SENT:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSE_WAIT:
	case TCP_LAST_ACK:
	case TCP_CLOSING: return true;
	default: return false;
	}
}

/* ---- NETLINK_SOCK_DIAG ---- */

/* Each call has its own socket, so a constant sequence number identifies our answer. */
#define PEER_NL_SEQ 0x5e1d

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int nl_open(void)
{
	int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (s < 0)
		return -1;
	/* Belt and braces: the receive loop also polls against a deadline. */
	struct timeval tv = { .tv_sec = PEER_NETLINK_TIMEOUT_MS / 1000,
			      .tv_usec = (PEER_NETLINK_TIMEOUT_MS % 1000) * 1000 };
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) {
		close(s);
		return -1;
	}
	return s;
}

static bool nl_send(int s, const struct tuple *t)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req;
	memset(&req, 0, sizeof req);
	req.h.nlmsg_len = sizeof req;
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST; /* no NLM_F_DUMP: exact lookup of one socket */
	req.h.nlmsg_seq = PEER_NL_SEQ;
	req.r.sdiag_family = (uint8_t)t->client.family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0u;
	req.r.id.idiag_sport = htons(t->client.port);
	req.r.id.idiag_dport = htons(t->ours.port);
	memcpy(req.r.id.idiag_src, t->client.addr, addr_len(t->client.family));
	memcpy(req.r.id.idiag_dst, t->ours.addr, addr_len(t->ours.family));
	req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;
	do
		n = sendto(s, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof req;
}

static void endpoint_from_diag(int family, const __be32 *addr, __be16 port, struct endpoint *ep)
{
	memset(ep, 0, sizeof *ep);
	ep->family = family;
	memcpy(ep->addr, addr, addr_len(family));
	ep->port = ntohs(port);
	endpoint_fold_mapped(ep);
}

/* The kernel may hand back a socket that is not exactly ours (its lookup falls back to a
 * listener on the client's address:port), so the reply's own tuple and state are checked. */
static peer_err nl_judge_reply(const struct tuple *t, const struct inet_diag_msg *m, uid_t *out)
{
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return PEER_E_NOT_FOUND;
	struct endpoint src, dst;
	endpoint_from_diag(m->idiag_family, m->id.idiag_src, m->id.idiag_sport, &src);
	endpoint_from_diag(m->idiag_family, m->id.idiag_dst, m->id.idiag_dport, &dst);
	if (!endpoint_eq(&src, &t->client) || !endpoint_eq(&dst, &t->ours) ||
	    !socket_has_owner(m->idiag_state, m->idiag_inode))
		return PEER_E_NOT_FOUND;
	*out = (uid_t)m->idiag_uid;
	return PEER_OK;
}

/* 0 when buf holds the answer to our request (*res set: PEER_OK, PEER_E_NOT_FOUND for "no such
 * socket" or an ownerless one, PEER_E_UNAVAILABLE for any other error); -1 to keep reading. */
static int nl_parse(const struct tuple *t, const void *buf, size_t len, uid_t *out, peer_err *res)
{
	for (const struct nlmsghdr *h = buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_seq != PEER_NL_SEQ)
			continue;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
				*res = PEER_E_UNAVAILABLE;
			else
				*res = e->error == -ENOENT ? PEER_E_NOT_FOUND : PEER_E_UNAVAILABLE;
			return 0;
		}
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				*res = PEER_E_UNAVAILABLE;
			else
				*res = nl_judge_reply(t, NLMSG_DATA(h), out);
			return 0;
		}
	}
	return -1;
}

static peer_err nl_receive(int s, const struct tuple *t, uid_t *out)
{
	alignas(struct nlmsghdr) char buf[8192];
	const int64_t deadline = now_ms() + PEER_NETLINK_TIMEOUT_MS;

	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return PEER_E_UNAVAILABLE;
		struct pollfd p = { .fd = s, .events = POLLIN };
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return PEER_E_UNAVAILABLE;
		if (r <= 0)
			continue;

		struct sockaddr_nl from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
		struct msghdr msg = { .msg_name = &from,
				      .msg_namelen = sizeof from,
				      .msg_iov = &iov,
				      .msg_iovlen = 1 };
		ssize_t n = recvmsg(s, &msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return PEER_E_UNAVAILABLE;
		}
		if (msg.msg_flags & MSG_TRUNC)
			return PEER_E_UNAVAILABLE;
		/* Only the kernel (port id 0) answers for sock_diag. */
		if (msg.msg_namelen != sizeof from || from.nl_family != AF_NETLINK ||
		    from.nl_pid != 0)
			continue;
		peer_err res;
		if (nl_parse(t, buf, (size_t)n, out, &res) == 0)
			return res;
	}
}

/* PEER_E_UNAVAILABLE: netlink could not be asked (no AF_NETLINK in a sandbox, timeout, error). */
static peer_err nl_lookup(const struct tuple *t, uid_t *out)
{
	int s = nl_open();
	if (s < 0)
		return PEER_E_UNAVAILABLE;
	peer_err e = nl_send(s, t) ? nl_receive(s, t, out) : PEER_E_UNAVAILABLE;
	close(s);
	return e;
}

/* ---- /proc/self/net/tcp{,6} ---- */

/* n hex digits, 1..8 of them, nothing else. */
static bool hex_u32(const char *s, size_t n, uint32_t *v)
{
	if (n == 0 || n > 8)
		return false;
	uint32_t x = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return false;
		x = x << 4 | d;
	}
	*v = x;
	return true;
}

/* "0100007F:A0B1" or 32 hex digits ":" port. The kernel prints each 32-bit word of the address
 * as a host-order integer, so copying the parsed word back into memory restores network order. */
static bool endpoint_from_proc(const char *tok, struct endpoint *ep)
{
	const char *colon = strchr(tok, ':');
	if (!colon)
		return false;
	size_t hex = (size_t)(colon - tok);
	if (hex != 8 && hex != 32)
		return false;
	memset(ep, 0, sizeof *ep);
	ep->family = hex == 8 ? AF_INET : AF_INET6;
	for (size_t i = 0; i < hex / 8; i++) {
		uint32_t w;
		if (!hex_u32(tok + 8 * i, 8, &w))
			return false;
		memcpy(ep->addr + 4 * i, &w, 4);
	}
	uint32_t port;
	size_t port_len = strlen(colon + 1);
	if (port_len > 4 || !hex_u32(colon + 1, port_len, &port))
		return false;
	ep->port = (uint16_t)port;
	endpoint_fold_mapped(ep);
	return true;
}

static bool ulong_from_proc(const char *tok, unsigned long *v)
{
	if (*tok < '0' || *tok > '9')
		return false;
	errno = 0;
	char *end;
	*v = strtoul(tok, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool uid_from_proc(const char *tok, uid_t *uid)
{
	unsigned long v;
	/* (uid_t)-1 is "no uid" and never a real owner. */
	if (!ulong_from_proc(tok, &v) || v >= (unsigned long)(uid_t)-1)
		return false;
	*uid = (uid_t)v;
	return true;
}

/* What a scan looks for: the client's socket of a connection, or a listener on a port. */
struct proc_query {
	const struct tuple *t; /* the connection, or NULL for a listener */
	uint16_t port;         /* the listener's port */
};

/* What a matching row says. */
struct proc_hit {
	uid_t uid;
	unsigned long inode;
};

static bool proc_row_matches(const struct proc_query *q, const struct endpoint *local,
			     const struct endpoint *rem, unsigned state, unsigned long inode)
{
	if (!q->t)
		return state == TCP_LISTEN && inode != 0 && local->port == q->port;
	return endpoint_eq(local, &q->t->client) && endpoint_eq(rem, &q->t->ours) &&
		socket_has_owner(state, inode);
}

/* One row: "sl: local rem st tx:rx tr:when retrnsmt uid timeout inode ...". Tokenises line.
 * PEER_OK when the row is the one q asks for and has an owner. */
#define PROC_FIELDS 10
static peer_err proc_row(char *line, const struct proc_query *q, struct proc_hit *out)
{
	char *tok[PROC_FIELDS];
	size_t n = 0;
	char *save = NULL;
	for (char *p = strtok_r(line, " \t", &save); p && n < PROC_FIELDS;
	     p = strtok_r(NULL, " \t", &save))
		tok[n++] = p;
	if (n < PROC_FIELDS)
		return PEER_E_NOT_FOUND;

	struct endpoint local, rem;
	uint32_t state;
	uid_t uid;
	unsigned long inode;
	if (!endpoint_from_proc(tok[1], &local) || !endpoint_from_proc(tok[2], &rem) ||
	    !hex_u32(tok[3], strlen(tok[3]), &state) || !uid_from_proc(tok[7], &uid) ||
	    !ulong_from_proc(tok[9], &inode))
		return PEER_E_NOT_FOUND;
	if (!proc_row_matches(q, &local, &rem, state, inode))
		return PEER_E_NOT_FOUND;
	out->uid = uid;
	out->inode = inode;
	return PEER_OK;
}

/* Reads fd line by line through a fixed buffer; an over-long line is skipped, not split. */
static peer_err proc_scan_fd(int fd, const struct proc_query *q, struct proc_hit *out)
{
	char buf[4096];
	size_t have = 0;
	bool skipping = false; /* inside a line that did not fit */

	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return PEER_E_UNAVAILABLE;
		bool eof = n == 0;
		have += (size_t)n;
		if (eof && have > 0 && !skipping)
			buf[have++] =
				'\n'; /* last row without a newline (buf keeps one byte spare) */

		size_t start = 0;
		char *nl;
		while ((nl = memchr(buf + start, '\n', have - start)) != NULL) {
			*nl = '\0';
			if (!skipping && proc_row(buf + start, q, out) == PEER_OK)
				return PEER_OK;
			skipping = false;
			start = (size_t)(nl - buf) + 1;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (eof)
			return PEER_E_NOT_FOUND;
		if (have == sizeof buf - 1) {
			skipping = true;
			have = 0;
		}
	}
}

static peer_err proc_scan_file(const char *dir, const char *name, const struct proc_query *q,
			       struct proc_hit *out)
{
	char path[PATH_MAX];
	int len = snprintf(path, sizeof path, "%s/%s", dir, name);
	if (len < 0 || (size_t)len >= sizeof path)
		return PEER_E_UNAVAILABLE;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return PEER_E_UNAVAILABLE;
	peer_err e = proc_scan_fd(fd, q, out);
	close(fd);
	return e;
}

/* /proc/self/net, not /proc/net: the service runs with ProcSubset=pid, which hides the latter.
 * An IPv4 client may own an AF_INET6 socket connected to ::ffff:127.0.0.1; such sockets are
 * listed only in tcp6, so IPv4 tuples are looked up in both files. */
static peer_err proc_lookup_query(const char *dir, const struct proc_query *q, bool v6_only,
				  struct proc_hit *out)
{
	if (!dir)
		dir = "/proc/self/net";
	if (v6_only)
		return proc_scan_file(dir, "tcp6", q, out);
	peer_err e4 = proc_scan_file(dir, "tcp", q, out);
	if (e4 == PEER_OK)
		return e4;
	peer_err e6 = proc_scan_file(dir, "tcp6", q, out);
	if (e6 == PEER_OK)
		return e6;
	return e4 == PEER_E_NOT_FOUND || e6 == PEER_E_NOT_FOUND ? PEER_E_NOT_FOUND
								: PEER_E_UNAVAILABLE;
}

static peer_err proc_lookup(const char *dir, const struct tuple *t, uid_t *out)
{
	struct proc_query q = { .t = t };
	struct proc_hit hit;
	peer_err e = proc_lookup_query(dir, &q, t->client.family == AF_INET6, &hit);
	if (e == PEER_OK)
		*out = hit.uid;
	return e;
}

/* ---- public ---- */

peer_err peer_listener_owner(const char *dir, uint16_t port, uid_t *uid, unsigned long *inode)
{
	if (!uid || !inode || port == 0)
		return PEER_E_ARG;
	struct proc_query q = { .t = NULL, .port = port };
	struct proc_hit hit;
	peer_err e = proc_lookup_query(dir, &q, false, &hit);
	if (e == PEER_OK) {
		*uid = hit.uid;
		*inode = hit.inode;
	}
	return e;
}

peer_err peer_uid_of_addrs(const struct sockaddr *local, const struct sockaddr *remote, uid_t *out)
{
	struct tuple t;
	if (!out)
		return PEER_E_ARG;
	peer_err e = tuple_make(local, remote, &t);
	if (e != PEER_OK)
		return e;
	peer_err nl = nl_lookup(&t, out);
	if (nl == PEER_OK)
		return nl;
	/* A kernel "no such socket" is also what a missing tcp_diag module says, so it is checked. */
	peer_err pr = proc_lookup(NULL, &t, out);
	if (pr == PEER_E_UNAVAILABLE && nl == PEER_E_NOT_FOUND)
		return PEER_E_NOT_FOUND;
	return pr;
}

peer_err peer_uid_of_client(int fd, uid_t *out)
{
	struct sockaddr_storage ours, client;
	socklen_t ol = sizeof ours, cl = sizeof client;
	int proto = 0;
	socklen_t pl = sizeof proto;

	if (fd < 0 || !out)
		return PEER_E_ARG;
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl) != 0 || proto != IPPROTO_TCP ||
	    getsockname(fd, (struct sockaddr *)&ours, &ol) != 0 ||
	    getpeername(fd, (struct sockaddr *)&client, &cl) != 0)
		return PEER_E_ARG;
	return peer_uid_of_addrs((struct sockaddr *)&ours, (struct sockaddr *)&client, out);
}

/* The euid is asked on every call rather than cached: it is one cheap syscall and stays right
 * should the process ever change identity. */
static peer_err admit(peer_err lookup, uid_t owner, const uid_t *allow, size_t n, uid_t *uid)
{
	if (lookup != PEER_OK)
		return lookup;
	*uid = owner;
	if (owner == geteuid())
		return PEER_OK;
	for (size_t i = 0; i < n; i++)
		if (allow[i] == owner)
			return PEER_OK;
	return PEER_E_DENIED;
}

peer_err peer_admit(const struct sockaddr *local, const struct sockaddr *remote, const uid_t *allow,
		    size_t n, uid_t *uid)
{
	uid_t owner = 0;
	if (!uid)
		return PEER_E_ARG;
	peer_err e = peer_uid_of_addrs(local, remote, &owner);
	return admit(e, owner, allow, n, uid);
}

peer_err peer_admit_fd(int fd, const uid_t *allow, size_t n, uid_t *uid)
{
	uid_t owner = 0;
	if (!uid)
		return PEER_E_ARG;
	peer_err e = peer_uid_of_client(fd, &owner);
	return admit(e, owner, allow, n, uid);
}

/* Refusals are logged one by one up to PEER_LOG_BURST per PEER_LOG_WINDOW_MS and listener,
 * then counted: another local user opening thousands of connections must not fill the journal.
 * The count is logged as one summary line with the first refusal after the window. */
#define PEER_LOG_BURST 5
#define PEER_LOG_WINDOW_MS 60000
#define PEER_LOG_COMPONENTS 4

struct refusal_log {
	const char *component; /* a listener's static name */
	int64_t window_start;
	unsigned logged, suppressed;
};

static pthread_mutex_t refusal_lock = PTHREAD_MUTEX_INITIALIZER;
static struct refusal_log refusal_logs[PEER_LOG_COMPONENTS];

static struct refusal_log *refusal_log_of(const char *component)
{
	for (size_t i = 0; i < PEER_LOG_COMPONENTS; i++) {
		struct refusal_log *r = &refusal_logs[i];
		if (!r->component)
			r->component = component;
		if (!strcmp(r->component, component))
			return r;
	}
	return NULL; /* more listeners than slots: every refusal is logged */
}

/* Whether this refusal gets its own line; logs the summary of a finished window first. */
static bool refusal_log_due(const char *component, int64_t now)
{
	bool due = true;
	pthread_mutex_lock(&refusal_lock);
	struct refusal_log *r = refusal_log_of(component);
	if (r) {
		if (!r->logged || now - r->window_start >= PEER_LOG_WINDOW_MS) {
			if (r->suppressed)
				log_info(component,
					 "refused %u more connections from other users in %lld s "
					 "(logged one by one up to %d per %d s)",
					 r->suppressed, (long long)(now - r->window_start) / 1000,
					 PEER_LOG_BURST, PEER_LOG_WINDOW_MS / 1000);
			r->window_start = now;
			r->logged = r->suppressed = 0;
		}
		due = r->logged < PEER_LOG_BURST;
		if (due)
			r->logged++;
		else
			r->suppressed++;
	}
	pthread_mutex_unlock(&refusal_lock);
	return due;
}

static bool log_admission_at(const char *component, peer_err e, uid_t uid, int64_t now)
{
	if (e == PEER_OK)
		log_debug(component, "connection from uid %u", (unsigned)uid);
	else if (!refusal_log_due(component, now))
		; /* counted for the next summary */
	else if (e == PEER_E_DENIED)
		log_info(component, "refused connection from uid %u: not an allowed user",
			 (unsigned)uid);
	else
		log_info(component, "refused connection from an unknown user: %s",
			 peer_strerror(e));
	return e == PEER_OK;
}

bool peer_log_admission(const char *component, peer_err e, uid_t uid)
{
	return log_admission_at(component, e, uid, now_ms());
}

bool peer_test_log_admission_at(const char *component, peer_err e, uid_t uid, int64_t now_ms)
{
	return log_admission_at(component, e, uid, now_ms);
}

peer_err peer_test_netlink(const struct sockaddr *local, const struct sockaddr *remote, uid_t *out)
{
	struct tuple t;
	if (!out)
		return PEER_E_ARG;
	peer_err e = tuple_make(local, remote, &t);
	return e == PEER_OK ? nl_lookup(&t, out) : e;
}

peer_err peer_test_procfs(const char *dir, const struct sockaddr *local,
			  const struct sockaddr *remote, uid_t *out)
{
	struct tuple t;
	if (!out)
		return PEER_E_ARG;
	peer_err e = tuple_make(local, remote, &t);
	return e == PEER_OK ? proc_lookup(dir, &t, out) : e;
}
