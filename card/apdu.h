/* apdu.h — ISO 7816-4 command APDUs over a transport: encoding (short and extended length),
 * GET RESPONSE chaining on 61xx, one resend with the right Le on 6Cxx, and status words mapped
 * to card_err. The transport is a function pointer: PC/SC in production (pcsc.c), a scripted
 * fake or the virtual card's interpreter in unit tests. No allocation is kept. */
#ifndef SITHS_APDU_H
#define SITHS_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define APDU_MAX_DATA 65536 /* largest Ne */
#define APDU_MAX_RESP (APDU_MAX_DATA + 2)

struct apdu_transport {
	/* Sends one C-APDU (n bytes) and stores the R-APDU (data + SW1 SW2) in resp, which holds
	 * APDU_MAX_RESP bytes. Returns a transport error (CARD_E_REMOVED, CARD_E_RESET, …) or
	 * CARD_OK with *resp_len >= 2 — anything shorter is reported as CARD_E_COMM by apdu.c. */
	card_err (*transmit)(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp,
			     size_t *resp_len);
	void *ctx;
	/* The card announced extended Lc and Le (atr.h): a command may carry up to 65535 bytes
	 * and ask for up to 65536. False: short APDUs only (255 / 256). */
	bool extended;
};

struct apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data; /* lc bytes, may be NULL when lc == 0 */
	size_t lc;           /* 0..65535 */
	size_t ne;           /* expected response length: 0 none, 1..65536 (256/65536 = "all") */
	bool extended;       /* force extended length even when short would do */
};

/* Encodes a into buf (cap bytes). CARD_E_WRONG_LENGTH if lc/ne are out of range or buf too small. */
card_err apdu_encode(const struct apdu *a, uint8_t *buf, size_t cap, size_t *len);

/* Sends a, follows 61xx with GET RESPONSE and retries once on 6Cxx; the data of all parts is
 * concatenated into out (cap bytes; more → CARD_E_BAD_DATA). *sw is the final status word.
 * Returns only transport/protocol errors: the caller maps *sw with apdu_sw_err(). */
card_err apdu_transmit(const struct apdu_transport *t, const struct apdu *a, uint8_t *out,
		       size_t cap, size_t *out_len, uint16_t *sw);

/* apdu_transmit() then apdu_sw_err(); *sw may be NULL. */
card_err apdu_run(const struct apdu_transport *t, const struct apdu *a, uint8_t *out, size_t cap,
		  size_t *out_len, uint16_t *sw);

/* The most one command may carry (Nc) and ask for (Ne) on this transport's card. */
size_t apdu_max_nc(const struct apdu_transport *t);
size_t apdu_max_ne(const struct apdu_transport *t);

/* 9000 (and the warning 6282 "end of file reached") → CARD_OK; see err.h for the rest. */
card_err apdu_sw_err(uint16_t sw);

/* Tries left in 63Cx (0..15), 0 for 6983, else -1. */
int apdu_sw_tries(uint16_t sw);

#endif
