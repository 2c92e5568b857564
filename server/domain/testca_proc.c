/* testca_proc.c — siths-test-ca as a child of the daemon (testca_proc.h): fork and exec with two
 * pipes, the order in on one and the "ADDR:PORT" ready line out on the other; the child's
 * descriptors and signals are reset so that it holds nothing of the daemon's (a listener it kept
 * open would outlive the daemon on the daemon's port). */
#define _GNU_SOURCE
#include "testca_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "log.h"

#define PROGRAM "siths-test-ca"
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000
#define FD_ORDER 3 /* in the child */
#define FD_READY 4
#define TEXT(n) #n
#define NUMBER(n) TEXT(n)
#define FD_HIGH 10 /* the parent's pipe ends sit above the child's targets */
#define FD_CLOSE_MAX 4096

struct testca_proc {
	pid_t pid;
	char url[96];
	char order[96]; /* "REFERENCE:SECRET"; "" under signature */
};

const char *testca_proc_strerror(testca_proc_err e)
{
	switch (e) {
	case TESTCA_PROC_OK: return "ok";
	case TESTCA_PROC_E_NOMEM: return "out of memory";
	case TESTCA_PROC_E_ARG: return "invalid argument";
	case TESTCA_PROC_E_NOT_FOUND:
		return "siths-test-ca not found (package siths-bridge-cardsim)";
	case TESTCA_PROC_E_START: return "siths-test-ca did not start serving";
	}
	return "unknown error";
}

/* The siths-test-ca in the folder of this executable: the build tree and the packages both put
 * the two programs side by side. */
static bool program_beside_self(char *path, size_t cap)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return false;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return false;
	slash[1] = '\0';
	return snprintf(path, cap, "%s%s", self, PROGRAM) < (int)cap;
}

/* A fresh order: a reference naming this daemon and 128 random bits as hex. */
static bool make_order(char *order, size_t cap)
{
	unsigned char rnd[16];
	char hex[2 * sizeof rnd + 1];
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return false;
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	int n = snprintf(order, cap, "siths-bridge-%ld:%s", (long)getpid(), hex);
	OPENSSL_cleanse(rnd, sizeof rnd);
	OPENSSL_cleanse(hex, sizeof hex);
	return n > 0 && (size_t)n < cap;
}

/* A close-on-exec pipe whose ends are moved to FD_HIGH or above. */
static bool high_pipe(int fds[2])
{
	int raw[2];
	if (pipe2(raw, O_CLOEXEC) != 0)
		return false;
	for (int i = 0; i < 2; i++) {
		fds[i] = fcntl(raw[i], F_DUPFD_CLOEXEC, FD_HIGH);
		close(raw[i]);
	}
	if (fds[0] >= 0 && fds[1] >= 0)
		return true;
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return false;
}

/* Between fork and exec, async-signal-safe calls only: dies with the daemon, the order on
 * FD_ORDER and the ready pipe on FD_READY, no other descriptor, no blocked or ignored signal. */
static void child(const char *prog, char *const argv[], int order_rd, int ready_wr, pid_t parent)
{
	sigset_t none;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(127);
	if ((order_rd >= 0 && dup2(order_rd, FD_ORDER) < 0) || dup2(ready_wr, FD_READY) < 0)
		_exit(127);
	if (syscall(SYS_close_range, FD_READY + 1, ~0U, 0) != 0)
		for (int fd = FD_READY + 1; fd < FD_CLOSE_MAX; fd++)
			close(fd);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigaction(SIGPIPE, &dfl, NULL);
	execv(prog, argv);
	_exit(127);
}

/* The child's ready line ("127.0.0.1:PORT\n") into line, within START_TIMEOUT_MS. */
static bool read_ready(int fd, char *line, size_t cap)
{
	struct timespec t0, now;
	size_t n = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n < cap - 1) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = START_TIMEOUT_MS -
			((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int r = left > 0 ? poll(&pf, 1, (int)left) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		ssize_t got = r > 0 ? read(fd, line + n, cap - 1 - n) : -1;
		if (got <= 0)
			return false; /* timeout, error, or it exited first */
		n += (size_t)got;
		line[n] = '\0';
		char *nl = strchr(line, '\n');
		if (nl) {
			*nl = '\0';
			return nl > line;
		}
	}
	return false;
}

/* Writes the order and a newline to fd, which is closed. */
static bool send_order(int fd, const char *order)
{
	size_t len = strlen(order);
	bool ok = write(fd, order, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
	close(fd);
	return ok;
}

/* fork and exec prog with argv; the pipes' child ends are closed here. -1 on failure. */
static pid_t spawn(const char *prog, char *const argv[], int order[2], int ready[2])
{
	pid_t parent = getpid(), pid = fork();
	if (pid == 0)
		child(prog, argv, order[0], ready[1], parent);
	if (order[0] >= 0)
		close(order[0]);
	close(ready[1]);
	order[0] = ready[1] = -1;
	return pid;
}

/* Waits up to ms for pid to exit (on its pidfd; where pidfd_open is refused, by asking every
 * 10 ms), then kills it; reaps it either way. */
static void reap(pid_t pid, int ms)
{
	int st;
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0) {
		struct pollfd pf = { .fd = pidfd, .events = POLLIN };
		while (poll(&pf, 1, ms) < 0 && errno == EINTR)
			;
		close(pidfd);
	} else {
		struct timespec tick = { 0, 10 * 1000000L };
		for (int waited = 0; waited < ms && waitpid(pid, &st, WNOHANG) == 0; waited += 10)
			nanosleep(&tick, NULL);
	}
	if (waitpid(pid, &st, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
}

testca_proc_err testca_proc_start(const char *program, const char *pki_dir, bool signature,
				  struct testca_proc **out)
{
	char prog[PATH_MAX], line[64];
	int order[2] = { -1, -1 }, ready[2] = { -1, -1 };
	testca_proc_err rc = TESTCA_PROC_E_ARG;
	struct testca_proc *p = NULL;
	if (!pki_dir || !out)
		return rc;
	*out = NULL;
	rc = TESTCA_PROC_E_NOT_FOUND;
	if (program ? snprintf(prog, sizeof prog, "%s", program) >= (int)sizeof prog
		    : !program_beside_self(prog, sizeof prog))
		goto out;
	if (access(prog, X_OK) != 0) {
		log_error("issuer", "test issuer: %s: %s", prog, strerror(errno));
		goto out;
	}
	rc = TESTCA_PROC_E_NOMEM;
	if (!(p = calloc(1, sizeof *p)) || (!signature && !make_order(p->order, sizeof p->order)) ||
	    (!signature && !high_pipe(order)) || !high_pipe(ready))
		goto out;
	char *argv[] = { prog,
			 "--listen",
			 "127.0.0.1:0",
			 "--pki",
			 (char *)pki_dir,
			 "--ready-fd",
			 NUMBER(FD_READY),
			 signature ? NULL : "--mac-fd",
			 NUMBER(FD_ORDER),
			 NULL };
	rc = TESTCA_PROC_E_START;
	if ((p->pid = spawn(prog, argv, order, ready)) < 0)
		goto out;
	if ((!signature && !send_order(order[1], p->order)) ||
	    !read_ready(ready[0], line, sizeof line)) {
		order[1] = -1;
		log_error("issuer", "test issuer: %s did not start serving", prog);
		goto out;
	}
	order[1] = -1;
	snprintf(p->url, sizeof p->url, "http://%s/pkix/", line);
	log_info("issuer", "test issuer: %s (pid %ld) serves CMP at %s", prog, (long)p->pid,
		 p->url);
	*out = p;
	p = NULL;
	rc = TESTCA_PROC_OK;
out:
	for (int i = 0; i < 2; i++) {
		if (order[i] >= 0)
			close(order[i]);
		if (ready[i] >= 0)
			close(ready[i]);
	}
	testca_proc_stop(p);
	return rc;
}

const char *testca_proc_url(const struct testca_proc *p)
{
	return p ? p->url : NULL;
}

const char *testca_proc_order(const struct testca_proc *p)
{
	return p && p->order[0] ? p->order : NULL;
}

void testca_proc_stop(struct testca_proc *p)
{
	if (!p)
		return;
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		reap(p->pid, STOP_TIMEOUT_MS);
	}
	OPENSSL_cleanse(p->order, sizeof p->order);
	free(p);
}
