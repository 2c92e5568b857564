/* iso.c — SELECT, READ BINARY and PIN status over the APDU layer, with fallbacks for cards that
 * implement only the basic forms of SELECT. */
#include "iso.h"

#include <stdlib.h>
#include <string.h>

#include "der.h"

/* Size from an FCP (62) or FCI (6F) template: tag 80 (data bytes) or else 81. A malformed
 * template only means the size is unknown: the file is then read to its end. */
static void parse_fcp(const uint8_t *p, size_t n, struct iso_file *fi)
{
	struct der d, c;
	struct der_tlv t, v;
	fi->size_known = false;
	der_init(&d, p, n);
	if (der_next(&d, &t) != DER_OK || (t.tag != 0x62 && t.tag != 0x6F) || der_enter(&d, &t, &c))
		return;
	while (der_next(&c, &v) == DER_OK) {
		if ((v.tag == 0x80 || (v.tag == 0x81 && !fi->size_known)) && v.len >= 1 &&
		    v.len <= 4) {
			size_t s = 0;
			for (size_t i = 0; i < v.len; i++)
				s = s << 8 | v.v[i];
			fi->size = s;
			fi->size_known = true;
		}
	}
}

static card_err select_cmd(const struct apdu_transport *t, uint8_t p1, const uint8_t *data,
			   size_t len, struct iso_file *fi)
{
	uint8_t resp[258];
	size_t rn = 0;
	struct apdu a = { .ins = 0xA4, .p1 = p1, .p2 = 0x04, .data = data, .lc = len, .ne = 256 };
	card_err e = apdu_run(t, &a, resp, sizeof(resp), &rn, NULL);
	if (e == CARD_E_NOT_SUPPORTED || e == CARD_E_WRONG_LENGTH) {
		/* Some cards return no FCP at all: select without response data. */
		a.p2 = 0x0C;
		a.ne = 0;
		rn = 0;
		e = apdu_run(t, &a, resp, sizeof(resp), &rn, NULL);
	}
	if (e == CARD_E_BAD_DATA)
		e = CARD_E_COMM; /* an FCP longer than 256 bytes: the card is broken */
	if (!e && fi)
		parse_fcp(resp, rn, fi);
	return e;
}

/* FID by FID with P1=00, for cards without path selection. */
static card_err select_fids(const struct apdu_transport *t, const uint8_t *path, size_t len,
			    struct iso_file *fi)
{
	card_err e = CARD_OK;
	for (size_t i = 0; i + 1 < len && !e; i += 2)
		e = select_cmd(t, 0x00, path + i, 2, fi);
	return e;
}

card_err iso_select_path(const struct apdu_transport *t, const uint8_t *path, size_t len,
			 struct iso_file *fi)
{
	if (len < 2 || len % 2 || path[0] != 0x3F || path[1] != 0x00)
		return CARD_E_INTERNAL;
	if (fi)
		fi->size_known = false;
	if (len == 2)
		return select_cmd(t, 0x00, path, 2, fi);
	card_err e = select_cmd(t, 0x08, path + 2, len - 2, fi);
	if (e == CARD_E_NOT_SUPPORTED)
		e = select_fids(t, path, len, fi);
	return e;
}

card_err iso_select_rel(const struct apdu_transport *t, const uint8_t *path, size_t len,
			struct iso_file *fi)
{
	if (len < 2 || len % 2)
		return CARD_E_INTERNAL;
	if (fi)
		fi->size_known = false;
	card_err e = select_cmd(t, 0x09, path, len, fi);
	if (e == CARD_E_NOT_SUPPORTED)
		e = select_fids(t, path, len, fi);
	return e;
}

card_err iso_select_aid(const struct apdu_transport *t, const uint8_t *aid, size_t len)
{
	if (len == 0 || len > 16)
		return CARD_E_INTERNAL;
	struct apdu a = { .ins = 0xA4, .p1 = 0x04, .p2 = 0x0C, .data = aid, .lc = len };
	return apdu_run(t, &a, NULL, 0, NULL, NULL);
}

/* What a DER content scan found: more bytes needed, the end, or no DER (read to the end). */
enum scan { SCAN_MORE, SCAN_END, SCAN_NOT_DER };

/* One TLV header at p[0..n): its total size (header + value) in *size. */
static enum scan tlv_size(const uint8_t *p, size_t n, size_t *size)
{
	size_t pos = 1;
	if ((p[0] & 0x1F) == 0x1F) /* high tag number: up to two more identifier bytes */
		for (int i = 0; pos < n && (p[pos++] & 0x80); i++)
			if (i == 1)
				return SCAN_NOT_DER;
	if (pos >= n)
		return SCAN_MORE;
	size_t k = p[pos++], len = k;
	if (k == 0x80 || k > 0x84)
		return SCAN_NOT_DER; /* indefinite or absurd: the parser will say what is wrong */
	if (k > 0x80) {
		k &= 0x7F;
		if (n - pos < k)
			return SCAN_MORE;
		for (len = 0; k; k--)
			len = len << 8 | p[pos++];
	}
	if (len > ISO_MAX_EF)
		return SCAN_NOT_DER;
	*size = pos + len;
	return SCAN_END;
}

/* Where the DER content of p[0..n) ends (*end may lie beyond n for ISO_DER_ONE): after the
 * first TLV, or at the first 00/FF padding byte between TLVs (where PKCS#15 parsers stop). */
static enum scan content_end(const uint8_t *p, size_t n, enum iso_der kind, size_t *end)
{
	for (size_t pos = 0, size = 0;; pos += size) {
		if (pos >= n)
			return SCAN_MORE;
		if (p[pos] == 0x00 || p[pos] == 0xFF) {
			*end = pos;
			return SCAN_END;
		}
		enum scan s = tlv_size(p + pos, n - pos, &size);
		if (s != SCAN_END)
			return s;
		if (kind == ISO_DER_ONE) {
			*end = pos + size;
			return SCAN_END;
		}
	}
}

/* READ BINARY in chunks of at most Ne bytes (256, or 65536 on a card with extended length; the
 * largest Le when the end is unknown). kind 0 reads to
 * the end of the file; otherwise reading stops where the DER content ends, so a padded EF
 * (a 3072-byte certificate file, a 1024-byte CDF) costs only the chunks that hold data. */
static card_err read_ef(const struct apdu_transport *t, const struct iso_file *fi, size_t offset,
			size_t max, enum iso_der kind, uint8_t **out, size_t *len)
{
	size_t end = ISO_MAX_EF;
	bool exact = (fi && fi->size_known) || max;
	if (fi && fi->size_known && fi->size < end)
		end = fi->size;
	if (max && offset + max < end)
		end = offset + max;
	*out = NULL;
	*len = 0;
	if (offset > end || (max && offset + max > ISO_MAX_EF))
		return CARD_E_RANGE;
	if (max)
		kind = 0; /* the length is known exactly: nothing to find out */
	uint8_t *buf = end > offset ? malloc(end - offset) : NULL;
	card_err e = CARD_OK;
	size_t got = 0;
	if (end > offset && !buf)
		return CARD_E_NOMEM;
	const size_t chunk = apdu_max_ne(t);
	while (offset + got < end) {
		size_t want = end - offset - got > chunk ? chunk : end - offset - got;
		size_t off = offset + got, rn = 0, ce = 0;
		uint16_t sw = 0;
		struct apdu a = { .ins = 0xB0,
				  .p1 = (uint8_t)(off >> 8),
				  .p2 = (uint8_t)off,
				  .ne = exact ? want : chunk };
		if ((e = apdu_transmit(t, &a, buf + got, want, &rn, &sw)) != CARD_OK)
			break;
		if (sw == 0x6B00 && got + offset > 0) {
			break; /* read past the end of a file of unknown size */
		}
		if ((e = apdu_sw_err(sw)) != CARD_OK)
			break;
		got += rn;
		enum scan s = kind ? content_end(buf, got, kind, &ce) : SCAN_MORE;
		if (s == SCAN_END && ce <= got) {
			got = ce;
			break;
		}
		if (s == SCAN_END && offset + ce < end) {
			end = offset + ce; /* ask for exactly what is left */
			exact = true;
		}
		if (s == SCAN_NOT_DER)
			kind = 0;
		if (sw == 0x6282 || rn < want || rn == 0)
			break;
	}
	if (e) {
		free(buf);
		return e;
	}
	if (max && got < max) {
		free(buf);
		return CARD_E_BAD_DATA; /* the object is shorter than its PKCS#15 length says */
	}
	*out = buf;
	*len = got;
	if (!got) {
		free(buf);
		*out = NULL;
	}
	return CARD_OK;
}

card_err iso_read(const struct apdu_transport *t, const struct iso_file *fi, size_t offset,
		  size_t max, uint8_t **out, size_t *len)
{
	return read_ef(t, fi, offset, max, 0, out, len);
}

card_err iso_read_der(const struct apdu_transport *t, const struct iso_file *fi, size_t offset,
		      size_t max, enum iso_der kind, uint8_t **out, size_t *len)
{
	return read_ef(t, fi, offset, max, kind, out, len);
}

card_err iso_pin_status(const struct apdu_transport *t, uint8_t ref, struct iso_pin_status *st)
{
	uint16_t sw = 0;
	struct apdu a = { .ins = 0x20, .p2 = ref };
	st->tries_left = -1;
	st->blocked = st->verified = false;
	st->activated = true;
	card_err e = apdu_run(t, &a, NULL, 0, NULL, &sw);
	if (e == CARD_OK) {
		st->verified = true;
		return CARD_OK;
	}
	if (sw == 0x6984) { /* as a SmartCard-HSM's transport PIN: set it before use */
		st->activated = false;
		return CARD_OK;
	}
	int tries = apdu_sw_tries(sw);
	if (tries < 0)
		return e;
	st->tries_left = tries;
	st->blocked = tries == 0;
	return CARD_OK;
}
