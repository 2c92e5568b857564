/* iso.h — the ISO 7816-4 commands the card core needs on top of apdu.h: SELECT (by path from
 * the MF, by path from the current DF, by AID), reading a whole transparent EF or a slice of
 * it, and the PIN status from an empty VERIFY. Card answers are untrusted: sizes are bounded
 * by ISO_MAX_EF and every loop ends. */
#ifndef SITHS_ISO_H
#define SITHS_ISO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu.h"

/* READ BINARY with a 15-bit offset cannot reach further; nothing a PKCS#15 card holds is bigger. */
#define ISO_MAX_EF 32768

struct iso_file {
	bool size_known;
	size_t size; /* from FCP tag 80 (or 81) when size_known */
};

/* Absolute path (must start with 3F00). Tries SELECT P1=08 first, then FID by FID from the MF
 * for cards that lack path selection. fi may be NULL. */
card_err iso_select_path(const struct apdu_transport *t, const uint8_t *path, size_t len,
			 struct iso_file *fi);
/* Path relative to the current DF (P1=09, falling back to FID by FID). */
card_err iso_select_rel(const struct apdu_transport *t, const uint8_t *path, size_t len,
			struct iso_file *fi);
/* SELECT by DF name. */
card_err iso_select_aid(const struct apdu_transport *t, const uint8_t *aid, size_t len);

/* Reads the selected EF from `offset`, at most `max` bytes (0 = to the end of the file), into a
 * malloc'd buffer *out (caller frees; NULL and *len 0 for an empty file). Stops at the size
 * from the FCP when known, else at the first short answer, 6282 or 6B00. */
card_err iso_read(const struct apdu_transport *t, const struct iso_file *fi, size_t offset,
		  size_t max, uint8_t **out, size_t *len);

/* Where the DER content of an EF ends: after one TLV (a certificate, TokenInfo), or at the first
 * 00/FF padding byte between TLVs (PKCS#15 directory files, where their parsers stop too). */
enum iso_der { ISO_DER_ONE = 1, ISO_DER_SEQ };
/* iso_read() that stops at the end of the DER content (found from the headers of the first
 * chunks) instead of reading a padded EF to its end. Malformed DER is read to the end as by
 * iso_read(), for the parser to report. With max given it is iso_read(). */
card_err iso_read_der(const struct apdu_transport *t, const struct iso_file *fi, size_t offset,
		      size_t max, enum iso_der kind, uint8_t **out, size_t *len);

struct iso_pin_status {
	int tries_left; /* -1 unknown */
	bool blocked, verified;
	bool activated; /* false on 6984: reference data not usable yet (transport state) */
};
/* Empty VERIFY (case 1) for reference ref: 63Cx, 6983, 6984 or 9000. Never sends a PIN. */
card_err iso_pin_status(const struct apdu_transport *t, uint8_t ref, struct iso_pin_status *st);

#endif
