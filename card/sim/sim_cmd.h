/* sim_cmd.h — what the virtual card's command handlers share, private to card/sim: a parsed
 * C-APDU, the response a handler appends to, the ISO 7816 status words, and the signature of a
 * handler. sim_apdu.c parses and dispatches; sim_fs.c, sim_pins.c and sim_crypto.c handle. */
#ifndef SITHS_SIM_CMD_H
#define SITHS_SIM_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_apdu.h"
#include "sim_card.h"

enum {
	SIM_SW_OK = 0x9000,
	SIM_SW_EOF_WARNING = 0x6282,
	SIM_SW_MEMORY = 0x6581,
	SIM_SW_WRONG_LENGTH = 0x6700,
	SIM_SW_CHANNEL = 0x6881,
	SIM_SW_SM = 0x6882,
	SIM_SW_CHAINING = 0x6884,
	SIM_SW_INCOMPATIBLE = 0x6981,
	SIM_SW_SECURITY = 0x6982,
	SIM_SW_BLOCKED = 0x6983,
	SIM_SW_NOT_USABLE = 0x6984,
	SIM_SW_CONDITIONS = 0x6985,
	SIM_SW_NO_EF = 0x6986,
	SIM_SW_WRONG_DATA = 0x6A80,
	SIM_SW_FUNC = 0x6A81,
	SIM_SW_NOT_FOUND = 0x6A82,
	SIM_SW_NO_SPACE = 0x6A84,
	SIM_SW_P1P2 = 0x6A86,
	SIM_SW_LC_P1P2 = 0x6A87,
	SIM_SW_REF_NOT_FOUND = 0x6A88,
	SIM_SW_OFFSET = 0x6B00,
	SIM_SW_INS = 0x6D00,
	SIM_SW_CLA = 0x6E00,
};

/* One C-APDU; data points into the caller's buffer. */
struct sim_cmd {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc, ne; /* ne: maximum response length (256 / 65536 for Le = 00 / 0000) */
	bool le, ext;  /* Le field present; extended length */
};

/* Response data so far; buf is the caller's and holds SIM_RSP_MAX bytes. */
struct sim_rsp {
	uint8_t *buf;
	size_t len;
};

#define SIM_RSP_MAX (SIM_RAPDU_MAX - 2)

/* A command handler: checks the command against the card, may change the card and append to r,
 * and returns the status word. Data appended with a status other than 9000, 6282 or 61xx is
 * wiped and not sent. */
typedef uint16_t sim_cmd_fn(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r);

/* Appends n bytes to r (never beyond SIM_RSP_MAX). */
void sim_cmd_put(struct sim_rsp *r, const void *p, size_t n);
/* Waits ms milliseconds, counted in c->busy_us, when the card runs with realistic delays; else
 * returns at once. */
void sim_cmd_delay(struct sim_card *c, long ms);
/* Sleeps us microseconds (a signal does not cut it short). */
void sim_cmd_sleep_us(long us);
/* Persists the card: 9000, or 6581 (memory failure) when it cannot be written. */
uint16_t sim_cmd_save(struct sim_card *c);

#endif
