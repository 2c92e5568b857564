/* probe.h — what the doctor's checks ask of the machine besides files: a program's output, the
 * process holding a socket, an HTTPS GET verified against a CA. Each is a plain function so that a
 * check's test can pass its own instead (doctor_checks.h). No state; thread-safe. */
#ifndef SITHS_PROBE_H
#define SITHS_PROBE_H

#include <stddef.h>
#include <sys/types.h>

/* Runs argv[0] (looked up in PATH) with argv, stdin /dev/null, stdout and stderr both into out
 * (n bytes, NUL-terminated, cut), at most timeout_ms (then killed). Its exit status, or -1 when
 * it could not be started (no such program) or was killed. */
int probe_run(char *const argv[], char *out, size_t n, unsigned timeout_ms);

/* The process holding socket `inode` among proc's processes (proc: "/proc" or a tree laid out
 * alike): *pid and its program's name (n bytes): the file name of its executable, else its comm.
 * Several may hold one socket (a socket-activated service and its service manager share the
 * listener): one named prefer (may be NULL) wins, else the first found. 0, or -1 when none of the
 * processes this user may look into holds it. */
int probe_socket_owner(const char *proc, unsigned long inode, const char *prefer, pid_t *pid,
		       char *name, size_t n);

/* GET path over TLS from 127.0.0.1:port, the server's certificate verified against the PEM CA
 * file ca and for the IP 127.0.0.1. On 0: *status (HTTP status) and the body (n bytes,
 * NUL-terminated, cut). On -1 why (why_n bytes) says what failed: connection, TLS verification
 * (OpenSSL's reason), or the answer. Bounded by timeout_ms for each step. */
int probe_https_get(unsigned short port, const char *ca, const char *path, unsigned timeout_ms,
		    int *status, char *body, size_t n, char *why, size_t why_n);

#endif
