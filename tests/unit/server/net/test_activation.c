/* test_activation.c — socket activation as systemd does it: listening sockets at descriptors 3
 * and up, LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES; the pair taken (either order, IPv4 and IPv6
 * loopback) and made non-blocking; refused and closed: a listener on every address or on
 * 127.0.0.2, a UDP socket, a TCP socket that does not listen, a missing or unknown name, a
 * duplicate; nothing passed; another process's LISTEN_PID; READY=1 and STOPPING=1 on a datagram
 * socket the test owns. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "activation.h"

enum kind { LISTENING, UDP, NOT_LISTENING };

/* A socket on addr (IPv4 or IPv6 literal), port 0. */
static int make_socket(const char *addr, enum kind k)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
		sl = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &a->sin_addr), 1);
		sl = sizeof *a;
	}
	int fd = socket(ss.ss_family, k == UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, sl), 0);
	if (k == LISTENING)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static unsigned short port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
}

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Moves fds to 3, 4, ... as the service manager passes them and sets the environment for this
 * process. names NULL: no LISTEN_FDNAMES. */
static void pass(const int *fds, int n, const char *names)
{
	char v[32];
	int high[8];
	/* Out of the way first: the sockets themselves may have been made at 3 and 4. */
	for (int i = 0; i < n; i++) {
		high[i] = fcntl(fds[i], F_DUPFD, 100);
		assert_true(high[i] >= 100);
		close(fds[i]);
	}
	for (int i = 0; i < n; i++) {
		assert_int_equal(dup2(high[i], 3 + i), 3 + i);
		close(high[i]);
	}
	snprintf(v, sizeof v, "%d", (int)getpid());
	setenv("LISTEN_PID", v, 1);
	snprintf(v, sizeof v, "%d", n);
	setenv("LISTEN_FDS", v, 1);
	if (names)
		setenv("LISTEN_FDNAMES", names, 1);
	else
		unsetenv("LISTEN_FDNAMES");
}

static int setup(void **state)
{
	(void)state;
	/* The descriptors the protocol uses must be free in this test process. */
	for (int fd = 3; fd < 8; fd++)
		close(fd);
	return 0;
}

static void taken_in_either_order(void **state)
{
	(void)state;
	int fds[2] = { make_socket("127.0.0.1", LISTENING), make_socket("127.0.0.1", LISTENING) };
	unsigned short wss = port_of(fds[0]), https = port_of(fds[1]);
	pass(fds, 2, "wss:https");
	struct activation a;
	assert_int_equal(activation_take(&a), ACTIVATION_OK);
	assert_true(a.active);
	assert_int_equal(a.wss_fd, 3);
	assert_int_equal(a.https_fd, 4);
	assert_string_equal(a.https.addr, "127.0.0.1");
	assert_int_equal(a.https.port, https);
	assert_string_equal(a.wss.addr, "127.0.0.1");
	assert_int_equal(a.wss.port, wss);
	assert_true(fcntl(3, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(4, F_GETFD) & FD_CLOEXEC);
	/* sd_listen_fds(unset_environment = 1): a second look finds nothing. */
	assert_null(getenv("LISTEN_FDS"));
	assert_null(getenv("LISTEN_PID"));
	close(3);
	close(4);
}

static void ipv6_loopback(void **state)
{
	(void)state;
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool have_v6 = probe >= 0 && bind(probe, (struct sockaddr *)&lo, sizeof lo) == 0;
	if (probe >= 0)
		close(probe);
	if (!have_v6) {
		/* A machine without ::1 cannot pass such a socket; nothing to check. */
		print_message("no IPv6 loopback here: ::1 listeners not checked\n");
		return;
	}
	int fds[2] = { make_socket("::1", LISTENING), make_socket("127.0.0.1", LISTENING) };
	pass(fds, 2, "https:wss");
	struct activation a;
	assert_int_equal(activation_take(&a), ACTIVATION_OK);
	assert_string_equal(a.https.addr, "::1");
	assert_string_equal(a.wss.addr, "127.0.0.1");
	close(3);
	close(4);
}

/* Passes https (made by kind on addr) and a good wss, expects e and both descriptors closed. */
static void refused(const char *addr, enum kind kind, const char *names, activation_err e,
		    const char *why)
{
	int fds[2] = { make_socket(addr, kind), make_socket("127.0.0.1", LISTENING) };
	pass(fds, 2, names);
	struct activation a;
	assert_int_equal(activation_take(&a), e);
	assert_false(a.active);
	assert_int_equal(a.https_fd, -1);
	assert_int_equal(a.wss_fd, -1);
	assert_non_null(strstr(a.why, why));
	assert_false(is_open(3));
	assert_false(is_open(4));
}

static void not_loopback(void **state)
{
	(void)state;
	refused("0.0.0.0", LISTENING, "https:wss", ACTIVATION_E_NOT_LOOPBACK,
		"fd 3 (https): a passed socket is not on 127.0.0.1 or ::1");
	refused("127.0.0.2", LISTENING, "https:wss", ACTIVATION_E_NOT_LOOPBACK, "fd 3 (https)");
}

static void not_a_tcp_listener(void **state)
{
	(void)state;
	refused("127.0.0.1", UDP, "https:wss", ACTIVATION_E_NOT_LISTENER,
		"fd 3 (https): a passed socket is not a listening TCP socket");
	refused("127.0.0.1", NOT_LISTENING, "https:wss", ACTIVATION_E_NOT_LISTENER, "fd 3");
}

static void names(void **state)
{
	(void)state;
	refused("127.0.0.1", LISTENING, NULL, ACTIVATION_E_NAMES, "fd 3 is named \"unknown\"");
	refused("127.0.0.1", LISTENING, "https:http", ACTIVATION_E_NAMES, "fd 4 is named \"http\"");
	refused("127.0.0.1", LISTENING, "wss:wss", ACTIVATION_E_NAMES, "fd 4 is named \"wss\"");
	/* Only one of the two. */
	int fd = make_socket("127.0.0.1", LISTENING);
	pass(&fd, 1, "https");
	struct activation a;
	assert_int_equal(activation_take(&a), ACTIVATION_E_NAMES);
	assert_string_equal(a.why, "1 socket(s) passed, missing wss");
	assert_false(is_open(3));
}

static void nothing_passed(void **state)
{
	(void)state;
	struct activation a;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	assert_int_equal(activation_take(&a), ACTIVATION_OK);
	assert_false(a.active);
	assert_int_equal(a.https_fd, -1);
	/* Sockets meant for another process (the manager's LISTEN_PID is not ours) are not taken
	 * and not closed. */
	int fds[2] = { make_socket("127.0.0.1", LISTENING), make_socket("127.0.0.1", LISTENING) };
	pass(fds, 2, "https:wss");
	setenv("LISTEN_PID", "1", 1);
	assert_int_equal(activation_take(&a), ACTIVATION_OK);
	assert_false(a.active);
	assert_true(is_open(3));
	close(3);
	close(4);
}

static void bad_environment(void **state)
{
	(void)state;
	struct activation a;
	char v[32];
	snprintf(v, sizeof v, "%d", (int)getpid());
	setenv("LISTEN_PID", v, 1);
	setenv("LISTEN_FDS", "two", 1);
	assert_int_equal(activation_take(&a), ACTIVATION_E_ENV);
	assert_false(a.active);
}

/* The datagram a notification sends to NOTIFY_SOCKET, NUL-terminated. */
static void notified(int sock, char *buf, size_t n)
{
	ssize_t got = recv(sock, buf, n - 1, MSG_DONTWAIT);
	assert_true(got > 0);
	buf[got] = '\0';
}

static void readiness(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_activation.XXXXXX", path[64], buf[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/notify", dir);
	int sock = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
	assert_int_equal(bind(sock, (struct sockaddr *)&un, sizeof un), 0);
	setenv("NOTIFY_SOCKET", path, 1);
	activation_ready("serving https://127.0.0.1:1 and wss://127.0.0.1:2");
	notified(sock, buf, sizeof buf);
	assert_string_equal(buf,
			    "READY=1\nSTATUS=serving https://127.0.0.1:1 and wss://127.0.0.1:2");
	activation_ready(NULL);
	notified(sock, buf, sizeof buf);
	assert_string_equal(buf, "READY=1");
	activation_stopping();
	notified(sock, buf, sizeof buf);
	assert_string_equal(buf, "STOPPING=1");
	/* Without NOTIFY_SOCKET nothing is sent and nothing fails. */
	unsetenv("NOTIFY_SOCKET");
	activation_ready(NULL);
	assert_int_equal(recv(sock, buf, sizeof buf, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	close(sock);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(taken_in_either_order, setup),
		cmocka_unit_test_setup(ipv6_loopback, setup),
		cmocka_unit_test_setup(not_loopback, setup),
		cmocka_unit_test_setup(not_a_tcp_listener, setup),
		cmocka_unit_test_setup(names, setup),
		cmocka_unit_test_setup(nothing_passed, setup),
		cmocka_unit_test_setup(bad_environment, setup),
		cmocka_unit_test_setup(readiness, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
