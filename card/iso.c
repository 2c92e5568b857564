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
		if ((v.tag == 0x80 || (v.tag == 0x81 && !fi->size_known)) && v.len >= 1 && v.len <= 4) {
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

card_err iso_read(const struct apdu_transport *t, const struct iso_file *fi, size_t offset,
		  size_t max, uint8_t **out, size_t *len)
{
	size_t end = ISO_MAX_EF;
	if (fi && fi->size_known && fi->size < end)
		end = fi->size;
	if (max && offset + max < end)
		end = offset + max;
	*out = NULL;
	*len = 0;
	if (offset > end || (max && offset + max > ISO_MAX_EF))
		return CARD_E_RANGE;
	uint8_t *buf = end > offset ? malloc(end - offset) : NULL;
	card_err e = CARD_OK;
	size_t got = 0;
	if (end > offset && !buf)
		return CARD_E_NOMEM;
	while (offset + got < end) {
		size_t want = end - offset - got > 256 ? 256 : end - offset - got;
		size_t off = offset + got, rn = 0;
		uint16_t sw = 0;
		/* Le 00 (256) when reading to an unknown end: the card returns what there is. */
		struct apdu a = { .ins = 0xB0, .p1 = (uint8_t)(off >> 8), .p2 = (uint8_t)off,
				  .ne = (fi && fi->size_known) || max ? want : 256 };
		if ((e = apdu_transmit(t, &a, buf + got, want, &rn, &sw)) != CARD_OK)
			break;
		if (sw == 0x6B00 && got + offset > 0) {
			break; /* read past the end of a file of unknown size */
		}
		if ((e = apdu_sw_err(sw)) != CARD_OK)
			break;
		got += rn;
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

card_err iso_pin_status(const struct apdu_transport *t, uint8_t ref, struct iso_pin_status *st)
{
	uint16_t sw = 0;
	struct apdu a = { .ins = 0x20, .p2 = ref };
	st->tries_left = -1;
	st->blocked = st->verified = false;
	card_err e = apdu_run(t, &a, NULL, 0, NULL, &sw);
	if (e == CARD_OK) {
		st->verified = true;
		return CARD_OK;
	}
	int tries = apdu_sw_tries(sw);
	if (tries < 0)
		return e;
	st->tries_left = tries;
	st->blocked = tries == 0;
	return CARD_OK;
}
