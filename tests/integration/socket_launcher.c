/* socket_launcher.c — test-only: starts a daemon the way systemd's socket units do (Accept=no).
 * It makes the two listening sockets itself, prints their ports, and on the first connection to
 * either forks the command with them at descriptors 3 and 4, LISTEN_PID (the child's own pid),
 * LISTEN_FDS=2, LISTEN_FDNAMES and NOTIFY_SOCKET; it prints every notification with the sender's
 * pid from SCM_CREDENTIALS and the child's exit, and after an exit waits for the next connection
 * and starts the command again, the sockets never closed in between. SIGTERM stops the child, then
 * the launcher. One line per event on stdout:
 *   listening https=P wss=Q | started N pid=PID | notify pid=PID TEXT | exited N code=C|signal=S
 * usage: socket_launcher --notify PATH [--https-addr A] [--https-udp] [--names N:M] [--once]
 *        -- COMMAND [ARG]... */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

struct opts {
	const char *notify, *https_addr, *names;
	bool https_udp, once;
	char **cmd;
};

static void die(const char *what)
{
	fprintf(stderr, "socket_launcher: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listener(const char *addr, bool udp, unsigned short *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t sl = sizeof a;
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "socket_launcher: bad address %s\n", addr);
		exit(2);
	}
	int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    (!udp && listen(fd, 64) < 0) || getsockname(fd, (struct sockaddr *)&a, &sl) < 0)
		die("listener");
	*port = ntohs(a.sin_port);
	return fd;
}

static int notify_socket(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int one = 1;
	if (strlen(path) >= sizeof un.sun_path) {
		fprintf(stderr, "socket_launcher: notify path too long\n");
		exit(2);
	}
	strcpy(un.sun_path, path);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof un) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
		die("notify socket");
	return fd;
}

/* In the child: the listeners at 3 and 4 (moved out of the way first), the environment, exec. */
static void exec_child(const struct opts *o, int https, int wss)
{
	char v[32];
	int hi = fcntl(https, F_DUPFD, 100), wi = fcntl(wss, F_DUPFD, 100);
	if (hi < 0 || wi < 0 || dup2(hi, 3) < 0 || dup2(wi, 4) < 0)
		die("dup2");
	close(hi);
	close(wi);
	snprintf(v, sizeof v, "%d", (int)getpid());
	setenv("LISTEN_PID", v, 1);
	setenv("LISTEN_FDS", "2", 1);
	setenv("LISTEN_FDNAMES", o->names, 1);
	setenv("NOTIFY_SOCKET", o->notify, 1);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(o->cmd[0], o->cmd);
	die("exec");
}

static void print_notification(int fd)
{
	char buf[4096], ctl[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { buf, sizeof buf - 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl
	};
	ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
	if (n < 0)
		return;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	pid_t pid = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
			pid = ((struct ucred *)(void *)CMSG_DATA(c))->pid;
	printf("notify pid=%d %s\n", (int)pid, buf);
	fflush(stdout);
}

static void print_exit(unsigned n, int status)
{
	if (WIFEXITED(status))
		printf("exited %u code=%d\n", n, WEXITSTATUS(status));
	else
		printf("exited %u signal=%d\n", n, WTERMSIG(status));
	fflush(stdout);
}

static void parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .https_addr = "127.0.0.1", .names = "https:wss" };
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--notify") && i + 1 < argc)
			o->notify = argv[++i];
		else if (!strcmp(argv[i], "--https-addr") && i + 1 < argc)
			o->https_addr = argv[++i];
		else if (!strcmp(argv[i], "--names") && i + 1 < argc)
			o->names = argv[++i];
		else if (!strcmp(argv[i], "--https-udp"))
			o->https_udp = true;
		else if (!strcmp(argv[i], "--once"))
			o->once = true;
		else
			break;
	}
	if (!o->notify || i + 1 >= argc || strcmp(argv[i], "--")) {
		fprintf(stderr,
			"usage: socket_launcher --notify PATH [--https-addr A] [--https-udp] "
			"[--names N:M] [--once] -- COMMAND [ARG]...\n");
		exit(2);
	}
	o->cmd = argv + i + 1;
}

int main(int argc, char **argv)
{
	struct opts o;
	unsigned short hp, wp;
	parse(argc, argv, &o);
	int https = listener(o.https_addr, o.https_udp, &hp),
	    wss = listener("127.0.0.1", false, &wp);
	int nfd = notify_socket(o.notify);
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	int sfd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");
	printf("listening https=%u wss=%u\n", hp, wp);
	fflush(stdout);

	pid_t child = -1;
	int pidfd = -1;
	unsigned starts = 0;
	for (;;) {
		/* Like systemd: the listeners are watched only while no instance runs. */
		struct pollfd p[4] = { { sfd, POLLIN, 0 }, { nfd, POLLIN, 0 } };
		nfds_t np = 2;
		if (child < 0) {
			p[np++] = (struct pollfd){ https, POLLIN, 0 };
			p[np++] = (struct pollfd){ wss, POLLIN, 0 };
		} else {
			p[np++] = (struct pollfd){ pidfd, POLLIN, 0 };
		}
		if (poll(p, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p[1].revents & POLLIN)
			print_notification(nfd);
		if (p[0].revents & POLLIN) {
			int status;
			if (child > 0 && kill(child, SIGTERM) == 0 &&
			    waitpid(child, &status, 0) == child)
				print_exit(starts, status);
			return 0;
		}
		if (child > 0 && (p[2].revents & POLLIN)) {
			int status;
			while (recv(nfd, NULL, 0, MSG_DONTWAIT | MSG_PEEK) >= 0)
				print_notification(nfd); /* what it said before it went */
			if (waitpid(child, &status, 0) == child)
				print_exit(starts, status);
			close(pidfd);
			child = -1;
			if (o.once)
				return 0;
			continue;
		}
		if (child < 0 && ((p[2].revents | p[3].revents) & POLLIN)) {
			child = fork();
			if (child < 0)
				die("fork");
			if (child == 0)
				exec_child(&o, https, wss);
			pidfd = (int)syscall(SYS_pidfd_open, child, 0);
			if (pidfd < 0)
				die("pidfd_open");
			printf("started %u pid=%d\n", ++starts, (int)child);
			fflush(stdout);
		}
	}
}
