/* probe.c — the doctor's questions to the machine: programs (posix_spawn, a pipe, a deadline),
 * /proc's fd links, and an OpenSSL client that trusts only the given CA. */
#define _GNU_SOURCE /* pipe2 */
#include "probe.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads fd into out until EOF or the deadline; false on the deadline. */
static int read_all(int fd, char *out, size_t n, long long deadline)
{
	size_t have = 0;
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		char buf[1024];
		ssize_t k = read(fd, buf, sizeof buf);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return 0;
		size_t take = (size_t)k < n - 1 - have ? (size_t)k : n - 1 - have;
		memcpy(out + have, buf, take);
		have += take;
		out[have] = '\0';
	}
}

int probe_run(char *const argv[], char *out, size_t n, unsigned timeout_ms)
{
	int pfd[2], rc = -1, st;
	pid_t pid;
	posix_spawn_file_actions_t fa;
	out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (e != 0) {
		close(pfd[0]);
		return -1;
	}
	int timed_out = read_all(pfd[0], out, n, now_ms() + timeout_ms);
	close(pfd[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/* 127: the shell's "not found", which posix_spawnp reports as a child that exits so. */
	if (!timed_out && WIFEXITED(st) && WEXITSTATUS(st) != 127)
		rc = WEXITSTATUS(st);
	return rc;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool pid_holds(const char *proc, const char *pid, const char *want)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/%s/fd", proc, pid);
	DIR *d = opendir(dir);
	if (!d)
		return false; /* another user's process, or gone */
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		char link[PATH_MAX + 260], target[64];
		snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
		ssize_t k = readlink(link, target, sizeof target - 1);
		if (k > 0) {
			target[k] = '\0';
			found = !strcmp(target, want);
		}
	}
	closedir(d);
	return found;
}

/* The program's file name (/proc/PID/exe), else its comm: a thread may rename the process's
 * comm (node calls its main thread "MainThread"), the executable stays. */
static void program_name(const char *proc, const char *pid, char *name, size_t n)
{
	char path[PATH_MAX], exe[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s/exe", proc, pid);
	ssize_t k = readlink(path, exe, sizeof exe - 1);
	if (k > 0) {
		exe[k] = '\0';
		const char *base = strrchr(exe, '/');
		base = base ? base + 1 : exe;
		/* Cut to fit, said as a copy: a format would warn of the cut at -O2. */
		size_t len = strnlen(base, n - 1);
		memcpy(name, base, len);
		name[len] = '\0';
		return;
	}
	snprintf(path, sizeof path, "%s/%s/comm", proc, pid);
	FILE *f = fopen(path, "re");
	name[0] = '\0';
	if (f) {
		if (fgets(name, (int)n, f))
			name[strcspn(name, "\n")] = '\0';
		fclose(f);
	}
}

int probe_socket_owner(const char *proc, unsigned long inode, const char *prefer, pid_t *pid,
		       char *name, size_t n)
{
	char want[48];
	snprintf(want, sizeof want, "socket:[%lu]", inode);
	DIR *d = opendir(proc);
	if (!d)
		return -1;
	int rc = -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!all_digits(e->d_name) || !pid_holds(proc, e->d_name, want))
			continue;
		char prog[256];
		program_name(proc, e->d_name, prog, sizeof prog);
		bool preferred = prefer && !strcmp(prog, prefer);
		if (rc == 0 && !preferred)
			continue;
		snprintf(name, n, "%s", prog);
		*pid = (pid_t)atol(e->d_name);
		rc = 0;
		if (preferred)
			break;
	}
	closedir(d);
	return rc;
}

/* ---- HTTPS ---- */

static int connect_loopback(unsigned short port, unsigned timeout_ms)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
		close(s);
		return -1;
	}
	return s;
}

static SSL_CTX *client_ctx(const char *ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx), "127.0.0.1");
	return ctx;
}

/* "HTTP/1.1 200 ..." then headers then the body, all in buf. */
static int parse_answer(char *buf, int *status, char *body, size_t n)
{
	int st;
	if (sscanf(buf, "HTTP/1.%*1[01] %3d", &st) != 1)
		return -1;
	char *b = strstr(buf, "\r\n\r\n");
	if (!b)
		return -1;
	*status = st;
	snprintf(body, n, "%s", b + 4);
	return 0;
}

static int exchange(SSL *ssl, unsigned short port, const char *path, int *status, char *body,
		    size_t n, char *why, size_t why_n)
{
	char req[512], buf[16384];
	int len = snprintf(req, sizeof req,
			   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n\r\n",
			   path, port);
	if (SSL_write(ssl, req, len) != len) {
		snprintf(why, why_n, "sending the request failed");
		return -1;
	}
	size_t have = 0;
	int k;
	while (have < sizeof buf - 1 &&
	       (k = SSL_read(ssl, buf + have, (int)(sizeof buf - 1 - have))) > 0)
		have += (size_t)k;
	buf[have] = '\0';
	if (parse_answer(buf, status, body, n)) {
		snprintf(why, why_n, "no HTTP answer");
		return -1;
	}
	return 0;
}

int probe_https_get(unsigned short port, const char *ca, const char *path, unsigned timeout_ms,
		    int *status, char *body, size_t n, char *why, size_t why_n)
{
	int rc = -1, s = -1;
	SSL *ssl = NULL;
	SSL_CTX *ctx = client_ctx(ca);
	if (!ctx) {
		snprintf(why, why_n, "cannot load the CA %s", ca);
		goto out;
	}
	if ((s = connect_loopback(port, timeout_ms)) < 0) {
		snprintf(why, why_n, "connecting to 127.0.0.1:%u: %s", port, strerror(errno));
		goto out;
	}
	if (!(ssl = SSL_new(ctx)) || SSL_set_fd(ssl, s) != 1)
		goto out;
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);
		if (v != X509_V_OK)
			snprintf(why, why_n, "certificate not trusted: %s",
				 X509_verify_cert_error_string(v));
		else
			snprintf(why, why_n,
				 "TLS handshake failed (closed before TLS: another user's "
				 "bridge, or not a bridge)");
		goto out;
	}
	rc = exchange(ssl, port, path, status, body, n, why, why_n);
out:
	if (ssl)
		SSL_free(ssl);
	if (s >= 0)
		close(s);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}
