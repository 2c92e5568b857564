/* sim_der.c — DER writer for the virtual card: definite lengths only, lengths fixed up when a
 * constructed value is closed (content is shifted once if the length needs more than one byte). */
#include "sim_der.h"

#include <stdlib.h>
#include <string.h>

void sim_der_init(struct sim_der *d)
{
	memset(d, 0, sizeof(*d));
}

void sim_der_free(struct sim_der *d)
{
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

static int reserve(struct sim_der *d, size_t extra)
{
	if (d->failed)
		return 0;
	if (extra > SIZE_MAX / 2 - d->len) {
		d->failed = 1;
		return 0;
	}
	if (d->len + extra <= d->cap)
		return 1;
	size_t cap = d->cap ? d->cap : 64;
	while (cap < d->len + extra)
		cap *= 2;
	uint8_t *p = realloc(d->buf, cap);
	if (!p) {
		d->failed = 1;
		return 0;
	}
	d->buf = p;
	d->cap = cap;
	return 1;
}

void sim_der_raw(struct sim_der *d, const void *p, size_t n)
{
	if (!reserve(d, n))
		return;
	if (n)
		memcpy(d->buf + d->len, p, n);
	d->len += n;
}

static void put_tag(struct sim_der *d, unsigned tag)
{
	uint8_t t[2] = { (uint8_t)(tag >> 8), (uint8_t)tag };
	if (tag > 0xFF)
		sim_der_raw(d, t, 2);
	else
		sim_der_raw(d, t + 1, 1);
}

static size_t len_octets(size_t n)
{
	size_t k = 0;
	if (n < 0x80)
		return 1;
	for (; n; n >>= 8)
		k++;
	return k + 1;
}

static void write_len(uint8_t *p, size_t n)
{
	size_t k = len_octets(n);
	if (k == 1) {
		p[0] = (uint8_t)n;
		return;
	}
	p[0] = (uint8_t)(0x80 | (k - 1));
	for (size_t i = k - 1; i > 0; i--, n >>= 8)
		p[i] = (uint8_t)n;
}

void sim_der_put(struct sim_der *d, unsigned tag, const void *v, size_t n)
{
	put_tag(d, tag);
	if (!reserve(d, len_octets(n)))
		return;
	write_len(d->buf + d->len, n);
	d->len += len_octets(n);
	sim_der_raw(d, v, n);
}

size_t sim_der_open(struct sim_der *d, unsigned tag)
{
	put_tag(d, tag);
	sim_der_raw(d, "", 1);
	return d->failed ? 0 : d->len - 1;
}

void sim_der_close(struct sim_der *d, size_t mark)
{
	if (d->failed)
		return;
	size_t n = d->len - mark - 1, k = len_octets(n);
	if (k > 1) {
		if (!reserve(d, k - 1))
			return;
		memmove(d->buf + mark + k, d->buf + mark + 1, n);
		d->len += k - 1;
	}
	write_len(d->buf + mark, n);
}

void sim_der_uint(struct sim_der *d, unsigned tag, unsigned long v)
{
	uint8_t b[sizeof(v) + 1];
	size_t n = 0;
	do {
		b[sizeof(b) - 1 - n++] = (uint8_t)v;
		v >>= 8;
	} while (v);
	if (b[sizeof(b) - n] & 0x80)
		b[sizeof(b) - 1 - n++] = 0;
	sim_der_put(d, tag, b + sizeof(b) - n, n);
}

void sim_der_bits(struct sim_der *d, unsigned long bits)
{
	uint8_t b[1 + sizeof(bits)] = { 0 };
	size_t nbits = 0;
	for (size_t i = 0; i < sizeof(bits) * 8; i++)
		if (bits & (1UL << i))
			nbits = i + 1;
	size_t nbytes = (nbits + 7) / 8;
	for (size_t i = 0; i < nbits; i++)
		if (bits & (1UL << i))
			b[1 + i / 8] |= (uint8_t)(0x80 >> (i % 8));
	b[0] = (uint8_t)(nbytes * 8 - nbits);
	sim_der_put(d, 0x03, b, 1 + nbytes);
}

void sim_der_utf8(struct sim_der *d, const char *s)
{
	sim_der_put(d, 0x0C, s, strlen(s));
}
