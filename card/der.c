/* der.c — bounded DER/BER reader for data that comes from a card and is therefore untrusted.
 * Every read is checked against the bytes that are left; nothing recurses deeper than
 * DER_MAX_DEPTH. */
#include "der.h"

#include <string.h>

const char *der_strerror(der_err e)
{
	switch (e) {
	case DER_OK: return "ok";
	case DER_E_END: return "end of data";
	case DER_E_TRUNCATED: return "truncated DER (data ends inside an element)";
	case DER_E_LENGTH: return "DER length larger than the enclosing data";
	case DER_E_INDEFINITE: return "indefinite length (not DER)";
	case DER_E_TAG: return "unexpected DER tag";
	case DER_E_DEPTH: return "DER nested too deeply";
	case DER_E_MISSING: return "mandatory DER element missing";
	case DER_E_VALUE: return "malformed DER value";
	case DER_E_TOO_MANY: return "too many objects";
	}
	return "unknown DER error";
}

void der_init(struct der *d, const uint8_t *p, size_t n)
{
	d->p = p;
	d->n = p ? n : 0;
	d->depth = 0;
	d->live = 0;
}

/* The number of 00/FF bytes d starts with. */
static size_t padding_run(const struct der *d)
{
	size_t i = 0;
	while (i < d->n && (d->p[i] == 0x00 || d->p[i] == 0xFF))
		i++;
	return i;
}

bool der_at_end(const struct der *d)
{
	return d->live == 0 && padding_run(d) == d->n;
}

/* Identifier octets: up to three (tag numbers below 2^14), enough for every tag cards use. */
static der_err read_tag(const uint8_t *p, size_t n, size_t *pos, uint32_t *tag, bool *cons)
{
	if (*pos >= n)
		return DER_E_TRUNCATED;
	uint8_t b = p[(*pos)++];
	*cons = b & 0x20;
	*tag = b;
	if ((b & 0x1F) != 0x1F)
		return DER_OK;
	for (int i = 0; i < 2; i++) {
		if (*pos >= n)
			return DER_E_TRUNCATED;
		b = p[(*pos)++];
		*tag = *tag << 8 | b;
		if (!(b & 0x80))
			return DER_OK;
	}
	return DER_E_TAG;
}

static der_err read_len(const uint8_t *p, size_t n, size_t *pos, size_t *len)
{
	if (*pos >= n)
		return DER_E_TRUNCATED;
	uint8_t b = p[(*pos)++];
	if (b < 0x80) {
		*len = b;
		return DER_OK;
	}
	if (b == 0x80)
		return DER_E_INDEFINITE;
	size_t k = b & 0x7F;
	if (k > 4)
		return DER_E_LENGTH;
	if (n - *pos < k)
		return DER_E_TRUNCATED;
	size_t v = 0;
	for (size_t i = 0; i < k; i++)
		v = v << 8 | p[(*pos)++];
	*len = v;
	return DER_OK;
}

der_err der_next(struct der *d, struct der_tlv *t)
{
	if (d->live == 0) {
		size_t run = padding_run(d);
		if (run == d->n)
			return DER_E_END;
		d->live = run + 1;
	}
	size_t pos = 0;
	der_err e = read_tag(d->p, d->n, &pos, &t->tag, &t->constructed);
	if (!e)
		e = read_len(d->p, d->n, &pos, &t->len);
	if (e)
		return e;
	if (t->len > d->n - pos)
		return DER_E_LENGTH;
	t->v = d->p + pos;
	t->hdr = pos;
	d->p += pos + t->len;
	d->n -= pos + t->len;
	d->live = d->live > pos + t->len ? d->live - (pos + t->len) : 0;
	return DER_OK;
}

der_err der_expect(struct der *d, uint32_t tag, struct der_tlv *t)
{
	struct der save = *d;
	der_err e = der_next(d, t);
	if (e == DER_E_END)
		return DER_E_MISSING;
	if (e)
		return e;
	if (t->tag != tag) {
		*d = save;
		return DER_E_TAG;
	}
	return DER_OK;
}

bool der_optional(struct der *d, uint32_t tag, struct der_tlv *t)
{
	struct der save = *d;
	if (der_next(d, t) == DER_OK && t->tag == tag)
		return true;
	*d = save;
	return false;
}

der_err der_enter(const struct der *parent, const struct der_tlv *t, struct der *child)
{
	if (!t->constructed)
		return DER_E_TAG;
	if (parent->depth + 1 > DER_MAX_DEPTH)
		return DER_E_DEPTH;
	child->p = t->v;
	child->n = t->len;
	child->depth = parent->depth + 1;
	child->live = 0;
	return DER_OK;
}

/* top: trailing 00/FF padding allowed; inside an element every byte must belong to a TLV. */
static der_err check_level(struct der *d, bool top)
{
	while (d->n) {
		struct der_tlv t;
		der_err e = der_next(d, &t);
		if (e == DER_E_END)
			return top ? DER_OK : DER_E_VALUE;
		if (e)
			return e;
		if (!t.constructed)
			continue;
		struct der c;
		if ((e = der_enter(d, &t, &c)) != DER_OK || (e = check_level(&c, false)) != DER_OK)
			return e;
	}
	return DER_OK;
}

der_err der_check_tree(const uint8_t *p, size_t n)
{
	struct der d;
	der_init(&d, p, n);
	return check_level(&d, true);
}

der_err der_uint(const struct der_tlv *t, uint32_t *out)
{
	if (t->constructed || t->len == 0)
		return DER_E_VALUE;
	if (t->v[0] & 0x80)
		return DER_E_VALUE; /* negative */
	size_t i = 0;
	while (i < t->len - 1 && t->v[i] == 0)
		i++;
	if (t->len - i > 4)
		return DER_E_VALUE;
	uint32_t v = 0;
	for (; i < t->len; i++)
		v = v << 8 | t->v[i];
	*out = v;
	return DER_OK;
}

der_err der_bool(const struct der_tlv *t, bool *out)
{
	if (t->constructed || t->len != 1)
		return DER_E_VALUE;
	*out = t->v[0] != 0;
	return DER_OK;
}

der_err der_bits(const struct der_tlv *t, uint32_t *out)
{
	if (t->constructed || t->len == 0 || t->v[0] > 7 || (t->len == 1 && t->v[0] != 0))
		return DER_E_VALUE;
	uint32_t v = 0;
	for (size_t i = 1; i < t->len && i <= 4; i++)
		for (unsigned b = 0; b < 8; b++)
			if (t->v[i] & (0x80 >> b))
				v |= 1u << ((i - 1) * 8 + b);
	*out = v;
	return DER_OK;
}

der_err der_string(const struct der_tlv *t, char *out, size_t cap)
{
	if (t->constructed || cap == 0)
		return DER_E_VALUE;
	if (memchr(t->v, 0, t->len))
		return DER_E_VALUE;
	size_t n = t->len < cap - 1 ? t->len : cap - 1;
	/* Do not cut a UTF-8 sequence in half. */
	if (n < t->len)
		while (n > 0 && (t->v[n] & 0xC0) == 0x80)
			n--;
	memcpy(out, t->v, n);
	out[n] = 0;
	return DER_OK;
}
