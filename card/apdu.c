/* apdu.c — APDU encoding, response chaining (61xx / 6Cxx) and status-word mapping. The card
 * is untrusted: a response shorter than a status word, a GET RESPONSE loop that never ends or
 * more data than the caller can take are errors, never overflows. */
#include "apdu.h"

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>

/* A card that keeps answering 61xx would otherwise loop forever. */
#define MAX_CHAIN 300

card_err apdu_encode(const struct apdu *a, uint8_t *buf, size_t cap, size_t *len)
{
	if (a->lc > 65535 || a->ne > APDU_MAX_DATA || (a->lc && !a->data))
		return CARD_E_WRONG_LENGTH;
	bool ext = a->extended || a->lc > 255 || a->ne > 256;
	size_t need =
		4 + (a->lc ? (ext ? 3 : 1) + a->lc : 0) + (a->ne ? (ext ? (a->lc ? 2 : 3) : 1) : 0);
	if (need > cap)
		return CARD_E_WRONG_LENGTH;
	size_t k = 0;
	buf[k++] = a->cla;
	buf[k++] = a->ins;
	buf[k++] = a->p1;
	buf[k++] = a->p2;
	if (a->lc) {
		if (ext) {
			buf[k++] = 0;
			buf[k++] = (uint8_t)(a->lc >> 8);
		}
		buf[k++] = (uint8_t)a->lc;
		memcpy(buf + k, a->data, a->lc);
		k += a->lc;
	}
	if (a->ne) {
		size_t ne = a->ne == APDU_MAX_DATA ? 0 : a->ne; /* 65536 → 0000, 256 → 00 */
		if (ext) {
			if (!a->lc)
				buf[k++] = 0;
			buf[k++] = (uint8_t)(ne >> 8);
		}
		buf[k++] = (uint8_t)ne;
	}
	*len = k;
	return CARD_OK;
}

/* One exchange: encode, send, split off the status word. */
static card_err exchange(const struct apdu_transport *t, const struct apdu *a, uint8_t *cmd,
			 uint8_t *resp, size_t *data_len, uint16_t *sw)
{
	size_t n, rn = 0;
	card_err e = apdu_encode(a, cmd, 4 + 3 + 65535 + 2, &n);
	if (e)
		return e;
	if ((e = t->transmit(t->ctx, cmd, n, resp, &rn)) != CARD_OK)
		return e;
	if (rn < 2 || rn > APDU_MAX_RESP)
		return CARD_E_COMM;
	*sw = (uint16_t)(resp[rn - 2] << 8 | resp[rn - 1]);
	*data_len = rn - 2;
	return CARD_OK;
}

static card_err append(uint8_t *out, size_t cap, size_t *len, const uint8_t *p, size_t n)
{
	if (n > cap - *len)
		return CARD_E_BAD_DATA;
	memcpy(out + *len, p, n);
	*len += n;
	return CARD_OK;
}

card_err apdu_transmit(const struct apdu_transport *t, const struct apdu *a, uint8_t *out,
		       size_t cap, size_t *out_len, uint16_t *sw)
{
	/* The command may carry a PIN (VERIFY): the buffer is wiped before it is freed. */
	const size_t cmd_cap = 4 + 3 + 65535 + 2;
	uint8_t *cmd = malloc(cmd_cap), *resp = malloc(APDU_MAX_RESP);
	card_err e = CARD_E_NOMEM;
	size_t dn = 0, total = 0;
	if (!cmd || !resp)
		goto out;
	if ((e = exchange(t, a, cmd, resp, &dn, sw)) != CARD_OK)
		goto out;
	if ((*sw >> 8) == 0x6C && !a->extended && a->ne > 0 && a->ne <= 256) {
		/* Wrong Le: the card tells the right one; resend exactly once. Never for a command
		 * without Le (a VERIFY must not be sent twice). */
		struct apdu again = *a;
		again.ne = (*sw & 0xFF) ? (*sw & 0xFF) : 256;
		if ((e = exchange(t, &again, cmd, resp, &dn, sw)) != CARD_OK)
			goto out;
	}
	if ((e = append(out, cap, &total, resp, dn)) != CARD_OK)
		goto out;
	for (int i = 0; (*sw >> 8) == 0x61; i++) {
		if (i == MAX_CHAIN) {
			e = CARD_E_COMM;
			goto out;
		}
		struct apdu gr = { .cla = a->cla,
				   .ins = 0xC0,
				   .ne = (*sw & 0xFF) ? (*sw & 0xFF) : 256 };
		if ((e = exchange(t, &gr, cmd, resp, &dn, sw)) != CARD_OK)
			goto out;
		if ((e = append(out, cap, &total, resp, dn)) != CARD_OK)
			goto out;
	}
	*out_len = total;
	e = CARD_OK;
out:
	if (cmd) /* header + Lc + data + Le: what the encoder wrote */
		OPENSSL_cleanse(cmd, a->lc + 16 < cmd_cap ? a->lc + 16 : cmd_cap);
	free(cmd);
	free(resp);
	return e;
}

card_err apdu_run(const struct apdu_transport *t, const struct apdu *a, uint8_t *out, size_t cap,
		  size_t *out_len, uint16_t *sw)
{
	uint16_t s = 0;
	size_t dummy = 0;
	uint8_t none[1];
	card_err e = apdu_transmit(t, a, out ? out : none, out ? cap : 0,
				   out_len ? out_len : &dummy, &s);
	if (sw)
		*sw = s;
	return e ? e : apdu_sw_err(s);
}

card_err apdu_sw_err(uint16_t sw)
{
	switch (sw) {
	case 0x9000:
	case 0x6282: return CARD_OK;
	case 0x6983:
	case 0x63C0: return CARD_E_PIN_BLOCKED;
	case 0x6982: return CARD_E_SECURITY;
	case 0x6985:
	case 0x6986: return CARD_E_CONDITIONS;
	case 0x6A82:
	case 0x6A83:
	case 0x6A88: return CARD_E_FILE_NOT_FOUND;
	case 0x6B00:
	case 0x6A84: return CARD_E_RANGE;
	case 0x6700: return CARD_E_WRONG_LENGTH;
	case 0x6A80: return CARD_E_WRONG_DATA;
	case 0x6D00:
	case 0x6E00:
	case 0x6A81:
	case 0x6A86:
	case 0x6A87:
	case 0x6881:
	case 0x6882:
	case 0x6883:
	case 0x6884: return CARD_E_NOT_SUPPORTED;
	}
	if ((sw & 0xFFF0) == 0x63C0)
		return CARD_E_PIN_WRONG;
	if ((sw >> 8) == 0x6C || (sw >> 8) == 0x61)
		return CARD_E_COMM; /* left over after chaining: the card broke the protocol */
	return CARD_E_CARD_ERROR;
}

int apdu_sw_tries(uint16_t sw)
{
	if ((sw & 0xFFF0) == 0x63C0)
		return sw & 0x0F;
	if (sw == 0x6983)
		return 0;
	return -1;
}

size_t apdu_max_nc(const struct apdu_transport *t)
{
	return t->extended ? 65535 : 255;
}

size_t apdu_max_ne(const struct apdu_transport *t)
{
	return t->extended ? APDU_MAX_DATA : 256;
}
