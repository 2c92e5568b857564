/* fx_apdu.h — test fixture: hex strings to bytes, and a scripted fake APDU transport (each step
 * is the command expected and the answer given) for the card core's unit tests. Mismatches fail
 * the running cmocka test. The script and its steps belong to the caller. */
#ifndef SITHS_FX_APDU_H
#define SITHS_FX_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu.h"

/* Bytes of the hex string s (spaces ignored) into out; fails the test past cap. */
size_t fx_unhex(const char *s, uint8_t *out, size_t cap);

struct fx_step {
	const char *cmd;   /* hex, spaces ignored; NULL = accept anything */
	const char *resp;  /* hex; NULL = return err */
	card_err err;
};

struct fx_script {
	const struct fx_step *steps;
	size_t n, pos;
	bool repeat_last;  /* endless card: the last step answers every further command */
	size_t calls;
};

/* apdu_transport.transmit over a struct fx_script (ctx). */
card_err fx_script_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len);

#endif
