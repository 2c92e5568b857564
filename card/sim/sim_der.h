/* sim_der.h — a tiny DER writer used to build the card's PKCS#15 files and APDU templates.
 * Errors are sticky: once an allocation fails every later call is a no-op and `failed` is set, so
 * callers check once at the end. The caller owns the struct; sim_der_free() releases the buffer. */
#ifndef SITHS_SIM_DER_H
#define SITHS_SIM_DER_H

#include <stddef.h>
#include <stdint.h>

struct sim_der {
	uint8_t *buf;
	size_t len, cap;
	int failed;
};

void sim_der_init(struct sim_der *d);
void sim_der_free(struct sim_der *d);
/* Appends raw bytes. */
void sim_der_raw(struct sim_der *d, const void *p, size_t n);
/* Appends one primitive TLV; tags above 0xFF are written as two bytes (e.g. 0x7F49). */
void sim_der_put(struct sim_der *d, unsigned tag, const void *v, size_t n);
/* Starts a constructed TLV; returns a mark for sim_der_close(), which fixes up its length. */
size_t sim_der_open(struct sim_der *d, unsigned tag);
void sim_der_close(struct sim_der *d, size_t mark);
/* A non-negative INTEGER (or implicitly tagged integer) in minimal two's complement form. */
void sim_der_uint(struct sim_der *d, unsigned tag, unsigned long v);
/* A BIT STRING of named bits: bit i of `bits` is ASN.1 bit i (first bit = MSB of first byte). */
void sim_der_bits(struct sim_der *d, unsigned long bits);
void sim_der_utf8(struct sim_der *d, const char *s);

#endif
