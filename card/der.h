/* der.h — a small bounded reader for untrusted DER (and the BER the cards really send): one TLV
 * at a time, every length checked against what is left, nesting limited by DER_MAX_DEPTH.
 * Nothing is allocated: TLV values point into the caller's buffer, which must outlive them. */
#ifndef SITHS_DER_H
#define SITHS_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DER_MAX_DEPTH 16

typedef enum {
	DER_OK = 0,
	DER_E_END,        /* no more TLVs (not an error for loops) */
	DER_E_TRUNCATED,  /* a tag or length runs past the end of the data */
	DER_E_LENGTH,     /* the length does not fit in the enclosing data or in 4 bytes */
	DER_E_INDEFINITE, /* indefinite length (0x80): not allowed in DER */
	DER_E_TAG,        /* an unexpected tag, or a tag number too large */
	DER_E_DEPTH,      /* nested deeper than DER_MAX_DEPTH */
	DER_E_MISSING,    /* a mandatory element is absent */
	DER_E_VALUE,      /* a value is malformed (empty path, integer too big, bad bit string) */
	DER_E_TOO_MANY,   /* more objects than this reader keeps */
} der_err;

const char *der_strerror(der_err e);

/* A position in a buffer, with its nesting depth. live: how many bytes from p are known to reach
 * a byte that is not padding (0 = not known), so that der_next scans each run of 00/FF once and
 * a long run inside the data does not make a walk quadratic. */
struct der {
	const uint8_t *p;
	size_t n;
	unsigned depth;
	size_t live;
};

struct der_tlv {
	uint32_t tag; /* identifier octets as a number: 0x30, 0xA1, 0x7F49, 0x5F20 */
	bool constructed;
	const uint8_t *v;
	size_t len;
	size_t hdr; /* bytes of identifier + length */
};

void der_init(struct der *d, const uint8_t *p, size_t n);

/* True when nothing is left, or only 00/FF padding (PKCS#15 directory files end that way). */
bool der_at_end(const struct der *d);

/* Reads the next TLV and advances past it. DER_E_END at the end (or at padding). */
der_err der_next(struct der *d, struct der_tlv *t);

/* Reads the next TLV, which must have tag `tag` (DER_E_TAG otherwise, DER_E_MISSING at the end). */
der_err der_expect(struct der *d, uint32_t tag, struct der_tlv *t);

/* If the next TLV has tag `tag`, reads it and returns true; else leaves d alone. */
bool der_optional(struct der *d, uint32_t tag, struct der_tlv *t);

/* Opens a constructed TLV's value as a child reader one level deeper (DER_E_DEPTH beyond the
 * limit, DER_E_TAG if t is primitive). */
der_err der_enter(const struct der *parent, const struct der_tlv *t, struct der *child);

/* Checks a whole buffer: every TLV well formed, constructed ones recursively (bounded by
 * DER_MAX_DEPTH), trailing 00/FF padding allowed. */
der_err der_check_tree(const uint8_t *p, size_t n);

/* Value readers. */
der_err der_uint(const struct der_tlv *t, uint32_t *out); /* non-negative, fits 32 bits */
der_err der_bool(const struct der_tlv *t, bool *out);
/* BIT STRING as named bits: bit i of *out is ASN.1 bit i (MSB of the first byte is bit 0);
 * bits beyond 31 are ignored. */
der_err der_bits(const struct der_tlv *t, uint32_t *out);
/* Copies a string value into out (NUL-terminated, truncated to cap-1 bytes);
 * DER_E_VALUE if it contains a NUL byte. */
der_err der_string(const struct der_tlv *t, char *out, size_t cap);

#endif
