/* test_peer.c — uid of the client end of loopback TCP connections: own connections over
 * 127.0.0.1, ::1 and ::ffff:127.0.0.1, a client of another uid (needs root, as tests/run.sh is),
 * each lookup path on its own, crafted /proc files, and tuples that name no owned socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peer.h"

#define NOBODY ((uid_t)65534)
#define WAIT_MS 10000

/* A loopback connection made inside this process: listener, client end, accepted end. */
struct conn {
	int listener, client, server;
	struct sockaddr_storage ours;   /* the accepted socket's local address */
	struct sockaddr_storage theirs; /* the client's address as the server sees it */
};

static struct sockaddr_storage loopback(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		in6->sin6_port = htons(port);
	}
	return ss;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int listen_on(int family, struct sockaddr_storage *bound)
{
	int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	*bound = loopback(family, 0);
	assert_int_equal(bind(s, (struct sockaddr *)bound, sizeof *bound), 0);
	assert_int_equal(listen(s, 8), 0);
	socklen_t l = sizeof *bound;
	assert_int_equal(getsockname(s, (struct sockaddr *)bound, &l), 0);
	return s;
}

static int accept_within_deadline(int listener)
{
	struct pollfd p = { .fd = listener, .events = POLLIN };
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	int s = accept(listener, NULL, NULL);
	assert_true(s >= 0);
	return s;
}

static void conn_addresses(struct conn *c)
{
	socklen_t l = sizeof c->ours;
	assert_int_equal(getsockname(c->server, (struct sockaddr *)&c->ours, &l), 0);
	l = sizeof c->theirs;
	assert_int_equal(getpeername(c->server, (struct sockaddr *)&c->theirs, &l), 0);
}

/* client_family may differ from the listener's: AF_INET6 to an IPv4 listener goes through
 * ::ffff:127.0.0.1, the way a dual-stack client reaches 127.0.0.1. */
static void conn_open(struct conn *c, int listen_family, int client_family)
{
	struct sockaddr_storage bound;
	c->listener = listen_on(listen_family, &bound);
	struct sockaddr_storage to = bound;
	if (client_family != listen_family) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&to;
		memset(&to, 0, sizeof to);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port_of(&bound));
		assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6->sin6_addr), 1);
	}
	c->client = socket(client_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->client >= 0);
	assert_int_equal(connect(c->client, (struct sockaddr *)&to, sizeof to), 0);
	c->server = accept_within_deadline(c->listener);
	conn_addresses(c);
}

static void conn_close(struct conn *c)
{
	if (c->client >= 0)
		close(c->client);
	if (c->server >= 0)
		close(c->server);
	close(c->listener);
}

static const struct sockaddr *sa(const struct sockaddr_storage *ss)
{
	return (const struct sockaddr *)ss;
}

/* Every path must name the same owner. */
static void expect_owner(const struct conn *c, uid_t want)
{
	uid_t u = (uid_t)-1;
	assert_int_equal(peer_uid_of_client(c->server, &u), PEER_OK);
	assert_int_equal(u, want);
	u = (uid_t)-1;
	assert_int_equal(peer_uid_of_addrs(sa(&c->ours), sa(&c->theirs), &u), PEER_OK);
	assert_int_equal(u, want);
	u = (uid_t)-1;
	assert_int_equal(peer_test_netlink(sa(&c->ours), sa(&c->theirs), &u), PEER_OK);
	assert_int_equal(u, want);
	u = (uid_t)-1;
	assert_int_equal(peer_test_procfs(NULL, sa(&c->ours), sa(&c->theirs), &u), PEER_OK);
	assert_int_equal(u, want);
}

static void expect_no_owner(const struct sockaddr *ours, const struct sockaddr *theirs)
{
	uid_t u = 4242;
	assert_int_equal(peer_uid_of_addrs(ours, theirs, &u), PEER_E_NOT_FOUND);
	assert_int_equal(peer_test_netlink(ours, theirs, &u), PEER_E_NOT_FOUND);
	assert_int_equal(peer_test_procfs(NULL, ours, theirs, &u), PEER_E_NOT_FOUND);
	assert_int_equal(u, 4242); /* untouched on failure */
}

/* The listeners' policy: a client of the daemon's own euid is served with no list at all. */
static void own_client_ipv4(void **state)
{
	(void)state;
	struct conn c;
	uid_t u = 4242;
	conn_open(&c, AF_INET, AF_INET);
	expect_owner(&c, getuid());
	assert_int_equal(peer_admit_fd(c.server, NULL, 0, &u), PEER_OK);
	assert_int_equal(u, geteuid());
	conn_close(&c);
}

static void own_client_ipv6(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c, AF_INET6, AF_INET6);
	expect_owner(&c, getuid());
	conn_close(&c);
}

/* The client's socket is AF_INET6 (listed in tcp6 only) while our side is plain IPv4. */
static void own_client_v4_mapped(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c, AF_INET, AF_INET6);
	assert_int_equal(c.theirs.ss_family, AF_INET);
	expect_owner(&c, getuid());
	conn_close(&c);
}

/* Child: drop to nobody, then connect (a socket's owner is fixed when it is created); report
 * "connected" on ready and hold the connection until the parent closes the hold pipe. */
static void child_connect_as(uid_t uid, const struct sockaddr_storage *to, int ready, int hold)
{
	if (setgroups(0, NULL) != 0 || setgid((gid_t)uid) != 0 || setuid(uid) != 0)
		_exit(2);
	int s = socket(to->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (const struct sockaddr *)to, sizeof *to) != 0)
		_exit(3);
	if (write(ready, "c", 1) != 1)
		_exit(4);
	char b;
	while (read(hold, &b, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static void other_user(int family)
{
	if (geteuid() != 0)
		fail_msg("this test needs root to run a client as uid %u (tests/run.sh runs as "
			 "root)",
			 (unsigned)NOBODY);
	struct conn c = { .client = -1 };
	struct sockaddr_storage bound;
	c.listener = listen_on(family, &bound);
	int ready[2], hold[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		child_connect_as(NOBODY, &bound, ready[1], hold[0]);
	}
	close(ready[1]);
	close(hold[0]);
	c.server = accept_within_deadline(c.listener);
	struct pollfd p = { .fd = ready[0], .events = POLLIN };
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	char b;
	assert_int_equal(read(ready[0], &b, 1), 1);
	conn_addresses(&c);

	expect_owner(&c, NOBODY);
	/* The policy refuses that user unless listed; the owner is reported either way. */
	uid_t u = 4242;
	const uid_t others[] = { 1000, 1001 }, with_nobody[] = { 1000, NOBODY };
	assert_int_equal(peer_admit_fd(c.server, NULL, 0, &u), PEER_E_DENIED);
	assert_int_equal(u, NOBODY);
	u = 4242;
	assert_int_equal(peer_admit(sa(&c.ours), sa(&c.theirs), others, 2, &u), PEER_E_DENIED);
	assert_int_equal(u, NOBODY);
	u = 4242;
	assert_int_equal(peer_admit(sa(&c.ours), sa(&c.theirs), with_nobody, 2, &u), PEER_OK);
	assert_int_equal(u, NOBODY);
	u = 4242;
	assert_int_equal(peer_admit_fd(c.server, with_nobody + 1, 1, &u), PEER_OK);
	assert_int_equal(u, NOBODY);

	close(hold[1]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(ready[0]);
	conn_close(&c);
}

static void other_user_ipv4(void **state)
{
	(void)state;
	other_user(AF_INET);
}

static void other_user_ipv6(void **state)
{
	(void)state;
	other_user(AF_INET6);
}

/* Once the client has closed, the kernel still holds its end (FIN_WAIT2 orphan, then TIME_WAIT
 * reported with uid 0 = root): nobody may be named as its owner, least of all root. */
static void closed_client_has_no_owner(void **state)
{
	(void)state;
	struct conn c;
	conn_open(&c, AF_INET, AF_INET);
	close(c.client);
	c.client = -1;
	struct pollfd p = { .fd = c.server, .events = POLLIN };
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	char b;
	assert_int_equal(read(c.server, &b, 1), 0); /* the client's FIN has arrived */
	expect_no_owner(sa(&c.ours), sa(&c.theirs));
	/* Fail closed: an owner that cannot be found is refused even with every user listed. */
	uid_t u = 4242;
	const uid_t all[] = { 0, getuid(), geteuid() };
	assert_int_equal(peer_admit(sa(&c.ours), sa(&c.theirs), all, 3, &u), PEER_E_NOT_FOUND);
	assert_int_equal(u, 4242);
	close(c.server);
	c.server = -1;
	expect_no_owner(sa(&c.ours), sa(&c.theirs));
	conn_close(&c);
}

/* A port with a listener but no connection to us: the kernel's exact lookup falls back to that
 * listener, whose reply must not be taken for the client. */
static void unknown_tuples(void **state)
{
	(void)state;
	for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
		struct sockaddr_storage ours, other_listener, bound_only;
		int l = listen_on(family, &ours);
		int l2 = listen_on(family, &other_listener);
		int b = socket(family, SOCK_STREAM, 0);
		bound_only = loopback(family, 0);
		assert_int_equal(bind(b, sa(&bound_only), sizeof bound_only), 0);
		socklen_t len = sizeof bound_only;
		assert_int_equal(getsockname(b, (struct sockaddr *)&bound_only, &len), 0);

		expect_no_owner(sa(&ours), sa(&other_listener));
		expect_no_owner(sa(&ours), sa(&bound_only));
		close(b);
		close(l2);
		close(l);
	}
}

static void bad_arguments(void **state)
{
	(void)state;
	uid_t u = 4242;
	struct sockaddr_storage v4 = loopback(AF_INET, 4000), v6 = loopback(AF_INET6, 4000);
	struct sockaddr_storage port0 = loopback(AF_INET, 0);
	struct sockaddr_storage un;
	memset(&un, 0, sizeof un);
	un.ss_family = AF_UNIX;

	assert_int_equal(peer_uid_of_addrs(NULL, sa(&v4), &u), PEER_E_ARG);
	assert_int_equal(peer_uid_of_addrs(sa(&v4), NULL, &u), PEER_E_ARG);
	assert_int_equal(peer_uid_of_addrs(sa(&v4), sa(&v4), NULL), PEER_E_ARG);
	assert_int_equal(peer_uid_of_addrs(sa(&v4), sa(&v6), &u), PEER_E_ARG);
	assert_int_equal(peer_uid_of_addrs(sa(&un), sa(&un), &u), PEER_E_ARG);
	assert_int_equal(peer_uid_of_addrs(sa(&v4), sa(&port0), &u), PEER_E_NOT_FOUND);
	assert_int_equal(peer_uid_of_addrs(sa(&port0), sa(&v4), &u), PEER_E_NOT_FOUND);
	assert_int_equal(peer_test_netlink(sa(&v4), sa(&v6), &u), PEER_E_ARG);
	assert_int_equal(peer_test_procfs(NULL, sa(&un), sa(&v4), &u), PEER_E_ARG);

	assert_int_equal(peer_uid_of_client(-1, &u), PEER_E_ARG);
	int udp = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(connect(udp, sa(&v4), sizeof v4), 0);
	assert_int_equal(peer_uid_of_client(udp, &u), PEER_E_ARG);
	close(udp);
	int tcp = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(peer_uid_of_client(tcp, &u), PEER_E_ARG); /* not connected */
	close(tcp);
	struct sockaddr_storage bound;
	int l = listen_on(AF_INET, &bound);
	assert_int_equal(peer_uid_of_client(l, &u), PEER_E_ARG);
	close(l);
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(peer_uid_of_client(p[0], &u), PEER_E_ARG);
	close(p[0]);
	close(p[1]);
	assert_int_equal(u, 4242);

	assert_int_equal(peer_admit(sa(&v4), sa(&v4), NULL, 0, NULL), PEER_E_ARG);
	assert_int_equal(peer_admit_fd(-1, NULL, 0, &u), PEER_E_ARG);
	assert_int_equal(u, 4242);

	for (int e = PEER_OK; e <= PEER_E_DENIED; e++)
		assert_non_null(peer_strerror((peer_err)e));
	assert_string_not_equal(peer_strerror(PEER_E_NOT_FOUND), peer_strerror(PEER_E_ARG));
}

/* ---- crafted /proc/self/net files ---- */

static char proc_dir[64];

static void write_file(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", proc_dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The kernel's spelling: each 32-bit word of the address as a host-order integer, port in hex. */
static void proc_endpoint(char *out, size_t n, const struct sockaddr_storage *ss)
{
	uint32_t w[4];
	if (ss->ss_family == AF_INET) {
		memcpy(w, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		snprintf(out, n, "%08X:%04X", w[0], port_of(ss));
	} else {
		memcpy(w, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		snprintf(out, n, "%08X%08X%08X%08X:%04X", w[0], w[1], w[2], w[3], port_of(ss));
	}
}

/* A row as tcp4_seq_show / tcp6_seq_show print it. */
static void proc_row_text(char *out, size_t n, const struct sockaddr_storage *local,
			  const struct sockaddr_storage *rem, unsigned state, const char *uid,
			  const char *inode)
{
	char l[64], r[64];
	proc_endpoint(l, sizeof l, local);
	proc_endpoint(r, sizeof r, rem);
	snprintf(out, n,
		 "   7: %s %s %02X 00000000:00000000 00:00000000 00000000 %5s        0 %s 1 "
		 "0000000000000000 20 4 30 10 -1\n",
		 l, r, state, uid, inode);
}

static const char header[] = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
			     "retrnsmt   uid  timeout inode\n";

static int proc_setup(void **state)
{
	(void)state;
	snprintf(proc_dir, sizeof proc_dir, "/tmp/test_peer.XXXXXX");
	return mkdtemp(proc_dir) ? 0 : -1;
}

static int proc_teardown(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/tcp", proc_dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/tcp6", proc_dir);
	unlink(path);
	return rmdir(proc_dir);
}

static void expect_proc(const struct sockaddr_storage *ours, const struct sockaddr_storage *client,
			peer_err want_err, uid_t want_uid)
{
	uid_t u = 4242;
	assert_int_equal(peer_test_procfs(proc_dir, sa(ours), sa(client), &u), want_err);
	assert_int_equal(u, want_err == PEER_OK ? want_uid : 4242);
}

static void procfs_crafted(void **state)
{
	(void)state;
	struct sockaddr_storage ours = loopback(AF_INET, 29443);
	struct sockaddr_storage good = loopback(AF_INET, 40001), tw = loopback(AF_INET, 40002),
				orphan = loopback(AF_INET, 40003),
				listening = loopback(AF_INET, 40004),
				big_uid = loopback(AF_INET, 40005),
				no_uid = loopback(AF_INET, 40006),
				after_long = loopback(AF_INET, 40007),
				last = loopback(AF_INET, 40008), mapped = loopback(AF_INET, 40009),
				absent = loopback(AF_INET, 40010),
				control = loopback(AF_INET, 40012),
				split = loopback(AF_INET, 40013),
				synrecv = loopback(AF_INET, 40014);
	struct sockaddr_storage wild = loopback(AF_INET, 0);
	char text[16384], row[512];
	size_t off = 0;
#define ADD(...)                                                                   \
	do {                                                                       \
		proc_row_text(row, sizeof row, __VA_ARGS__);                       \
		off += (size_t)snprintf(text + off, sizeof text - off, "%s", row); \
	} while (0)

	off += (size_t)snprintf(text, sizeof text, "%s", header);
	ADD(&good, &ours, 0x01, "1234", "5550001");
	ADD(&tw, &ours, 0x06, "0", "0");            /* TIME_WAIT: uid 0, no inode */
	ADD(&tw, &ours, 0x05, "0", "0");            /* TIME_WAIT in substate FIN_WAIT2 */
	ADD(&orphan, &ours, 0x05, "1000", "0");     /* closed by its process */
	ADD(&listening, &wild, 0x0A, "1000", "77"); /* listener on the client's port */
	ADD(&synrecv, &ours, 0x03, "1000", "84");   /* not a state a connected client is in */
	ADD(&big_uid, &ours, 0x01, "99999999999999999999999", "78");
	ADD(&no_uid, &ours, 0x01, "4294967295", "79");
	/* Malformed rows that all mention the tuple of `absent`. */
	char l[64], r[64], bad[64];
	proc_endpoint(l, sizeof l, &absent);
	proc_endpoint(r, sizeof r, &ours);
	static const char tail[] = "00000000:00000000 00:00000000 00000000";
	off += (size_t)snprintf(text + off, sizeof text - off, "   8: %s %s 01 %s 1 0\n", l, r,
				tail);
	off += (size_t)snprintf(text + off, sizeof text - off, "garbage\n\n   1:\n");
	off += (size_t)snprintf(text + off, sizeof text - off, "   9: %s %s 1G %s 1 0 12 1\n", l, r,
				tail);
	off += (size_t)snprintf(text + off, sizeof text - off, "  10: %s0 %s 01 %s 1 0 12 1\n", l,
				r, tail);
	off += (size_t)snprintf(text + off, sizeof text - off, "  11: %s %s 01 %s -1 0 12 1\n", l,
				r, tail);
	off += (size_t)snprintf(text + off, sizeof text - off, "  12: %s %s 01 %s 1 0 1x2 1\n", l,
				r, tail);
	snprintf(bad, sizeof bad, "%s", l);
	bad[3] = 'G';
	off += (size_t)snprintf(text + off, sizeof text - off, "  13: %s %s 01 %s 1 0 12 1\n", bad,
				r, tail);
	snprintf(bad, sizeof bad, "%s", l);
	bad[8] = '-';
	off += (size_t)snprintf(text + off, sizeof text - off, "  14: %s %s 01 %s 1 0 12 1\n", bad,
				r, tail);
	snprintf(bad, sizeof bad, "%.7s%s", l, l + 8);
	off += (size_t)snprintf(text + off, sizeof text - off, "  15: %s %s 01 %s 1 0 12 1\n", bad,
				r, tail);
	/* Control: the same row well-formed would be found (under another port, kept apart). */
	proc_row_text(row, sizeof row, &control, &ours, 0x01, "1", "12");
	off += (size_t)snprintf(text + off, sizeof text - off, "%s", row);
	/* A line longer than the reader's buffer is dropped whole, even when its tail alone would
	 * read as a row; the next line still counts. */
	text[off++] = 'x';
	memset(text + off, ' ', 6000);
	off += 6000;
	ADD(&split, &ours, 0x01, "1", "12");
	ADD(&after_long, &ours, 0x01, "2001", "80");
	ADD(&last, &ours, 0x01, "2002", "81");
	text[off - 1] = '\0'; /* the last row has no newline */
	write_file("tcp", text);

	/* An AF_INET6 client socket to ::ffff:127.0.0.1 appears only in tcp6. */
	struct sockaddr_storage mapped6, ours6;
	memset(&mapped6, 0, sizeof mapped6);
	mapped6.ss_family = AF_INET6;
	((struct sockaddr_in6 *)&mapped6)->sin6_port = htons(40009);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &((struct sockaddr_in6 *)&mapped6)->sin6_addr);
	ours6 = mapped6;
	((struct sockaddr_in6 *)&ours6)->sin6_port = htons(29443);
	struct sockaddr_storage v6client = loopback(AF_INET6, 40011),
				v6ours = loopback(AF_INET6, 29443);
	off = (size_t)snprintf(text, sizeof text, "%s", header);
	ADD(&mapped6, &ours6, 0x01, "3003", "82");
	ADD(&v6client, &v6ours, 0x01, "3004", "83");
	write_file("tcp6", text);
#undef ADD

	expect_proc(&ours, &good, PEER_OK, 1234);
	expect_proc(&ours, &tw, PEER_E_NOT_FOUND, 0);
	expect_proc(&ours, &orphan, PEER_E_NOT_FOUND, 0);
	expect_proc(&ours, &listening, PEER_E_NOT_FOUND, 0);
	expect_proc(&ours, &big_uid, PEER_E_NOT_FOUND, 0);
	expect_proc(&ours, &no_uid, PEER_E_NOT_FOUND, 0);
	expect_proc(&ours, &absent, PEER_E_NOT_FOUND, 0);
	expect_proc(&ours, &control, PEER_OK, 1);
	expect_proc(&ours, &split, PEER_E_NOT_FOUND, 0);
	expect_proc(&ours, &synrecv, PEER_E_NOT_FOUND, 0);
	expect_proc(&ours, &after_long, PEER_OK, 2001);
	expect_proc(&ours, &last, PEER_OK, 2002);
	expect_proc(&ours, &mapped, PEER_OK, 3003);
	expect_proc(&ours6, &mapped6, PEER_OK, 3003); /* the same, spelt as IPv4-mapped */
	expect_proc(&v6ours, &v6client, PEER_OK, 3004);
	/* Reversed tuple: that row is the client's socket, not one whose peer is the client. */
	expect_proc(&good, &ours, PEER_E_NOT_FOUND, 0);

	write_file("tcp6", "");
	expect_proc(&ours, &mapped, PEER_E_NOT_FOUND, 0);
	expect_proc(&v6ours, &v6client, PEER_E_NOT_FOUND, 0);

	uid_t u = 4242;
	assert_int_equal(peer_test_procfs("/nonexistent/test_peer", sa(&ours), sa(&good), &u),
			 PEER_E_UNAVAILABLE);
	assert_int_equal(u, 4242);
}

/* Runs fn with stderr (the log) going to buf. */
static void capture_stderr(void (*fn)(void), char *buf, size_t size)
{
	char path[] = "/tmp/siths-peer-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	fn();
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	ssize_t n = pread(fd, buf, size - 1, 0);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
}

static int occurrences(const char *text, const char *what)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	return n;
}

/* 100 refusals within a minute on listener "rl", one more a minute later; "rl2" on its own. */
static void refuse_many(void)
{
	for (int i = 0; i < 100; i++)
		assert_false(peer_test_log_admission_at("rl", PEER_E_DENIED, 65534, 1000 + i));
	assert_false(peer_test_log_admission_at("rl", PEER_E_DENIED, 65534, 61000));
	assert_true(peer_test_log_admission_at("rl", PEER_OK, 0, 61001));
	assert_false(peer_test_log_admission_at("rl2", PEER_E_NOT_FOUND, 0, 1000));
}

static void refusals_rate_limited(void **state)
{
	(void)state;
	static char log[65536];
	capture_stderr(refuse_many, log, sizeof log);
	/* 5 lines in the first minute, the summary of the other 95, the next minute's first. */
	assert_int_equal(occurrences(log, "rl: refused connection from uid 65534"), 6);
	assert_int_equal(
		occurrences(log, "rl: refused 95 more connections from other users in 60 s"), 1);
	assert_int_equal(occurrences(log, "rl2: refused connection from an unknown user"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(own_client_ipv4),
		cmocka_unit_test(own_client_ipv6),
		cmocka_unit_test(own_client_v4_mapped),
		cmocka_unit_test(other_user_ipv4),
		cmocka_unit_test(other_user_ipv6),
		cmocka_unit_test(closed_client_has_no_owner),
		cmocka_unit_test(unknown_tuples),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(refusals_rate_limited),
		cmocka_unit_test_setup_teardown(procfs_crafted, proc_setup, proc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
