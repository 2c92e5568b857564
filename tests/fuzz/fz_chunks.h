/* fz_chunks.h — the fuzz targets' input format for a conversation: a sequence of chunks, each a
 * big-endian 16-bit length and that many bytes (a short last chunk is cut to what is there).
 * Used for APDU answers (card_read) and APDU commands (cardsim). No allocation: chunks point
 * into the input. */
#ifndef SITHS_FZ_CHUNKS_H
#define SITHS_FZ_CHUNKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fz_chunks {
	const uint8_t *p;
	size_t n;
};

/* The next chunk into *c / *len; false when the input is used up. */
bool fz_next(struct fz_chunks *in, const uint8_t **c, size_t *len);
/* Appends one chunk to out (cap bytes); returns the new length, or 0 if it does not fit. */
size_t fz_put(uint8_t *out, size_t used, size_t cap, const uint8_t *c, size_t len);

#endif
