/* testca_proc.h — siths-test-ca as the daemon's own child, for `--test-issuer DIR`: the test CA
 * the daemon then reaches over CMP like a production one. Started on a free loopback port with
 * a MAC order made for this run (handed over on a pipe, never on a command line), stopped with
 * the daemon, and by the kernel if the daemon dies first (PR_SET_PDEATHSIG: start it from a
 * thread that lives as long as the daemon, the main thread).
 * Ownership: the caller owns the handle and ends it with testca_proc_stop(), which frees it;
 * what the getters return lives as long as the handle. */
#ifndef SITHS_TESTCA_PROC_H
#define SITHS_TESTCA_PROC_H

#include <stdbool.h>

typedef enum {
	TESTCA_PROC_OK = 0,
	TESTCA_PROC_E_NOMEM,
	TESTCA_PROC_E_ARG,
	TESTCA_PROC_E_NOT_FOUND, /* no siths-test-ca to run (package siths-bridge-cardsim) */
	TESTCA_PROC_E_START,     /* it did not start serving (its own stderr says why) */
} testca_proc_err;

const char *testca_proc_strerror(testca_proc_err e);

struct testca_proc;

/* Runs `program --listen 127.0.0.1:0 --pki pki_dir` (program NULL: the siths-test-ca next to
 * this executable), with a fresh standing MAC order unless signature (the CA then signs its
 * answers and takes signed requests only), and waits until it serves (10 s at most). Its
 * stderr is the daemon's. */
testca_proc_err testca_proc_start(const char *program, const char *pki_dir, bool signature,
				  struct testca_proc **out);

/* "http://127.0.0.1:PORT/pkix/". */
const char *testca_proc_url(const struct testca_proc *p);
/* "REFERENCE:SECRET", NULL under signature. Wiped by testca_proc_stop(). */
const char *testca_proc_order(const struct testca_proc *p);

/* SIGTERM, and the exit awaited (SIGKILL after 5 s). NULL is fine. */
void testca_proc_stop(struct testca_proc *p);

#endif
