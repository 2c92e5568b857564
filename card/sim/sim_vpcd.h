/* sim_vpcd.h — plugs the virtual card into pcscd's vpcd reader driver over TCP (vsmartcard
 * framing: 2-byte big-endian length + payload; a 1-byte payload is a control code). Connecting =
 * card inserted, closing = card removed. Fault injection drops the connection on purpose. */
#ifndef SITHS_SIM_VPCD_H
#define SITHS_SIM_VPCD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim.h"
#include "sim_apdu.h"
#include "sim_card.h"

/* 3B 89 80 01 "SITHS-SIM" TCK: T=1, historical bytes = ASCII "SITHS-SIM". */
extern const uint8_t sim_atr[14];
/* With --extended-length: historical bytes in compact-TLV, card capabilities (73) with the
 * extended Lc/Le bit, then the same name as card issuer's data (59). */
extern const uint8_t sim_atr_extended[20];

/* "The K-th APDU of a kind" (a sim_kind, SIM_TRIGGER_ANY: of any kind; kind < 0: never),
 * counted from the connection. */
struct sim_trigger {
	int kind;
	long k;
};
#define SIM_TRIGGER_ANY SIM_K_COUNT

/* KIND[:K] (K >= 1, default 1; KIND a sim_kind_name or "any") → *t. 0, or -1 if malformed. */
int sim_trigger_parse(const char *arg, struct sim_trigger *t);
/* Counts an APDU of `kind` in *seen if the trigger's kind matches; true when that was the K-th. */
bool sim_trigger_fires(const struct sim_trigger *t, long *seen, int kind);

struct sim_vpcd_opts {
	const char *host;
	int port;
	long wait_ms;    /* keep retrying the connection this long (vpcd not listening yet) */
	long drop_after; /* >0: close after this many APDUs were answered */
	struct sim_trigger drop_at; /* close the connection instead of answering */
	struct sim_trigger
		drop_after_commit;     /* carry the command out (saved), then close unanswered */
	struct sim_trigger garbage_at; /* answer random bytes (1-40, maybe no SW) instead */
	bool verbose; /* log each command header and status word (never command data) */
	bool t1;      /* --delay t1: charge each APDU's transfer like a T=1 reader (busy_us) */
	FILE *trace;  /* --trace: one JSON line per control code and answered APDU, or NULL */
};

/* Connects, then serves vpcd until it closes the connection, a fault drops it, or *stop is set
 * (by a signal handler). Messages go to stderr, including the line "connected to HOST:PORT". */
enum sim_err sim_vpcd_run(struct sim_card *c, const struct sim_vpcd_opts *o,
			  volatile sig_atomic_t *stop);

#endif
