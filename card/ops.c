/* ops.c — the card operations over the APDU layer: VERIFY, signatures, key generation and
 * the certificate write protocol of docs/virtual-card.md (certificate file first, read back,
 * then the CDF entry in one APDU, so a card pulled half-way shows no certificate). */
#include "ops.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "der.h"
#include "iso.h"

#define SITHS_PIN_MAX 8
#define CHUNK 255         /* UPDATE BINARY data per short APDU */
#define MAX_OFFSET 0x7FFF /* 15-bit offset of READ/UPDATE BINARY */

/* ---- PIN ---- */

#define CODE_MAX 64 /* longest code this core sends (p15.c bounds min/max lengths) */

static bool code_ok(unsigned min_len, unsigned max_len, const char *pin)
{
	if (!pin)
		return false;
	size_t len = strlen(pin);
	unsigned max = max_len ? max_len : SITHS_PIN_MAX;
	if (len == 0 || len < min_len || len > max || len > CODE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return false;
	return true;
}

bool ops_pin_format_ok(const struct card_pin *p, const char *pin)
{
	return p && p->present && code_ok(p->min_len, p->max_len, pin);
}

/* One code as the command data the AODF describes: its digits in ASCII (ascii-numeric and UTF-8
 * are the same for digits), padded with padChar to storedLength when needs-padding is set. */
static card_err encode(const struct siths_pin *p, const char *pin, uint8_t *out, size_t cap,
		       size_t *len)
{
	if (!p->present || (p->type != P15_PIN_TYPE_ASCII && p->type != P15_PIN_TYPE_UTF8))
		return CARD_E_NOT_SUPPORTED;
	if (!code_ok(p->min_len, p->max_len, pin))
		return CARD_E_WRONG_DATA;
	size_t n = strlen(pin), total = n;
	if (p->flags & P15_PIN_NEEDS_PADDING)
		total = p->stored_len;
	if (total < n || total > cap)
		return CARD_E_WRONG_DATA;
	memcpy(out, pin, n);
	memset(out + n, p->pad_char, total - n);
	*len = total;
	return CARD_OK;
}

/* Sends one PIN command (never again, whatever comes back) and maps its status word. */
static card_err pin_cmd(const struct apdu_transport *t, uint8_t ins, uint8_t ref,
			const uint8_t *data, size_t n, int *tries_left)
{
	uint16_t sw = 0;
	struct apdu a = { .ins = ins, .p2 = ref, .data = data, .lc = n };
	card_err e = apdu_run(t, &a, NULL, 0, NULL, &sw);
	if (!e)
		return CARD_OK;
	if (sw == 0x6984)
		return CARD_E_PIN_NOT_ACTIVATED;
	if ((e == CARD_E_PIN_WRONG || e == CARD_E_PIN_BLOCKED) && tries_left)
		*tries_left = apdu_sw_tries(sw);
	return e;
}

static void wipe(char *code)
{
	if (code)
		OPENSSL_cleanse(code, strlen(code));
}

card_err ops_verify(const struct apdu_transport *t, const struct siths_pin *p, char *pin,
		    int *tries_left)
{
	uint8_t data[CODE_MAX];
	size_t n = 0;
	if (tries_left)
		*tries_left = -1;
	card_err e = encode(p, pin, data, sizeof(data), &n);
	if (!e)
		e = pin_cmd(t, 0x20, p->ref, data, n, tries_left);
	OPENSSL_cleanse(data, sizeof(data));
	wipe(pin);
	return e;
}

/* A PIN command with two codes in its data (P1 00), refused here when the AODF flag `disabled`
 * is set. With verify_after, a success is followed by a VERIFY with the first code. */
struct two_codes {
	uint8_t ins;
	uint32_t disabled;
	const struct siths_pin *pin;         /* the PIN the command is for (P2, second code) */
	const struct siths_pin *first_rules; /* how the first code is encoded */
	char *first, *second;
	bool verify_after;
};

static card_err send_two(const struct apdu_transport *t, const struct two_codes *c, int *tries_left)
{
	uint8_t data[2 * CODE_MAX];
	size_t k = 0, m = 0;
	card_err e = CARD_E_NOT_SUPPORTED;
	if (tries_left)
		*tries_left = -1;
	if (!(c->pin->flags & c->disabled) &&
	    (e = encode(c->first_rules, c->first, data, CODE_MAX, &k)) == CARD_OK &&
	    (e = encode(c->pin, c->second, data + k, CODE_MAX, &m)) == CARD_OK)
		e = pin_cmd(t, c->ins, c->pin->ref, data, k + m, tries_left);
	if (!e && c->verify_after) {
		e = pin_cmd(t, 0x20, c->pin->ref, data, k, NULL);
		if (e == CARD_E_PIN_WRONG || e == CARD_E_PIN_BLOCKED ||
		    e == CARD_E_PIN_NOT_ACTIVATED)
			e = CARD_E_CARD_ERROR;
	}
	OPENSSL_cleanse(data, sizeof(data));
	wipe(c->first);
	wipe(c->second);
	return e;
}

card_err ops_change(const struct apdu_transport *t, const struct siths_pin *p, char *old_pin,
		    char *new_pin, int *tries_left)
{
	struct two_codes c = { 0x24, P15_PIN_CHANGE_DISABLED, p, p, old_pin, new_pin, false };
	return send_two(t, &c, tries_left);
}

card_err ops_unblock(const struct apdu_transport *t, const struct siths_pin *p,
		     const struct siths_pin *puk, char *puk_code, char *new_pin, int *tries_left)
{
	struct two_codes c = { 0x2C, P15_PIN_UNBLOCK_DISABLED, p, puk, puk_code, new_pin, false };
	card_err e = send_two(t, &c, tries_left);
	return e == CARD_E_PIN_BLOCKED ? CARD_E_PUK_BLOCKED : e;
}

card_err ops_activate(const struct apdu_transport *t, const struct siths_pin *p, char *pin,
		      int *tries_left)
{
	struct two_codes c = { 0x24, P15_PIN_CHANGE_DISABLED, p, p, pin, pin, true };
	return send_two(t, &c, tries_left);
}

/* ---- signatures and keys ---- */

static card_err mse_set(const struct apdu_transport *t, uint8_t tmpl, uint8_t key_ref)
{
	const uint8_t crt[] = { 0x84, 0x01, key_ref };
	struct apdu a = { .ins = 0x22, .p1 = 0x41, .p2 = tmpl, .data = crt, .lc = sizeof(crt) };
	return apdu_run(t, &a, NULL, 0, NULL, NULL);
}

card_err ops_sign(const struct apdu_transport *t, enum card_key use, uint8_t key_ref,
		  const uint8_t *data, size_t n, uint8_t *sig, size_t cap, size_t *sig_len)
{
	*sig_len = 0;
	if (!n || n > 255)
		return CARD_E_INTERNAL;
	card_err e = mse_set(t, use == CARD_KEY_AUTH ? 0xA4 : 0xB6, key_ref);
	if (e)
		return e;
	struct apdu a = { .ins = use == CARD_KEY_AUTH ? 0x88 : 0x2A,
			  .p1 = use == CARD_KEY_AUTH ? 0x00 : 0x9E,
			  .p2 = use == CARD_KEY_AUTH ? 0x00 : 0x9A,
			  .data = data,
			  .lc = n,
			  .ne = 256 };
	e = apdu_run(t, &a, sig, cap, sig_len, NULL);
	if (!e && *sig_len == 0)
		e = CARD_E_BAD_DATA;
	return e;
}

/* An unsigned big-endian integer value: at most cap bytes after leading zeros, not zero. */
static card_err copy_uint(const struct der_tlv *v, uint8_t *out, size_t cap, size_t *len)
{
	const uint8_t *p = v->v;
	size_t n = v->len;
	while (n && *p == 0)
		p++, n--;
	if (!n || n > cap)
		return CARD_E_BAD_DATA;
	memcpy(out, p, n);
	*len = n;
	return CARD_OK;
}

card_err ops_parse_pubkey(const uint8_t *p, size_t n, struct card_pubkey *out)
{
	struct der d, c;
	struct der_tlv t, v;
	memset(out, 0, sizeof(*out));
	der_init(&d, p, n);
	if (der_expect(&d, 0x7F49, &t) != DER_OK || der_enter(&d, &t, &c) != DER_OK)
		return CARD_E_BAD_DATA;
	der_err de;
	while ((de = der_next(&c, &v)) == DER_OK) {
		card_err e = CARD_OK;
		if (v.tag == 0x81 && !out->n_len)
			e = copy_uint(&v, out->n, sizeof(out->n), &out->n_len);
		else if (v.tag == 0x82 && !out->e_len)
			e = copy_uint(&v, out->e, sizeof(out->e), &out->e_len);
		else
			e = CARD_E_BAD_DATA; /* a duplicate or unknown member: not what we asked for */
		if (e)
			return e;
	}
	if (de != DER_E_END || !out->n_len || !out->e_len)
		return CARD_E_BAD_DATA;
	return CARD_OK;
}

card_err ops_generate(const struct apdu_transport *t, uint8_t key_ref, struct card_pubkey *out)
{
	const uint8_t crt[] = { 0xAC, 0x03, 0x84, 0x01, key_ref };
	uint8_t resp[1200];
	size_t rn = 0;
	/* The public key (some 270 bytes) in one answer where the card allows it, else 61xx and a
	 * GET RESPONSE. */
	struct apdu a = { .ins = 0x46, .data = crt, .lc = sizeof(crt), .ne = apdu_max_ne(t) };
	card_err e = apdu_run(t, &a, resp, sizeof(resp), &rn, NULL);
	return e ? e : ops_parse_pubkey(resp, rn, out);
}

/* ---- the certificate write ---- */

static card_err update_binary(const struct apdu_transport *t, size_t off, const uint8_t *p,
			      size_t n)
{
	if (off + n > MAX_OFFSET + 1)
		return CARD_E_RANGE;
	struct apdu a = {
		.ins = 0xD6, .p1 = (uint8_t)(off >> 8), .p2 = (uint8_t)off, .data = p, .lc = n
	};
	return apdu_run(t, &a, NULL, 0, NULL, NULL);
}

/* Appends a short-form TLV header; callers keep every part below 128 bytes. */
static bool put_hdr(uint8_t *out, size_t cap, size_t *k, uint8_t tag, size_t len)
{
	if (len > 127 || *k + 2 + len > cap)
		return false;
	out[(*k)++] = tag;
	out[(*k)++] = (uint8_t)len;
	return true;
}

static bool put_tlv(uint8_t *out, size_t cap, size_t *k, uint8_t tag, const uint8_t *v, size_t len)
{
	if (!put_hdr(out, cap, k, tag, len))
		return false;
	memcpy(out + *k, v, len);
	*k += len;
	return true;
}

card_err ops_cdf_entry(const struct siths_layout *l, size_t cert_len, uint8_t *out, size_t cap,
		       size_t *len)
{
	static const char label[] = "Underskrift";
	static const uint8_t flags[] = { 0x06, 0x40 }; /* modifiable */
	static const uint8_t index0[] = { 0x00 };
	uint8_t common[64], cls[48], path[48], attrs[56], body[200], ln[4];
	size_t kc = 0, kl = 0, kp = 0, ka = 0, kb = 0, nl = 0;
	if (!cert_len || cert_len > MAX_OFFSET + 1)
		return CARD_E_INTERNAL;
	/* length [0] as a minimal positive INTEGER */
	for (size_t v = cert_len; v; v >>= 8)
		nl++;
	for (size_t i = 0; i < nl; i++)
		ln[nl - 1 - i] = (uint8_t)(cert_len >> (8 * i));
	if (ln[0] & 0x80) {
		memmove(ln + 1, ln, nl++);
		ln[0] = 0;
	}
	bool ok = put_tlv(common, sizeof common, &kc, 0x0C, (const uint8_t *)label,
			  sizeof(label) - 1) &&
		put_tlv(common, sizeof common, &kc, 0x03, flags, sizeof flags) &&
		put_tlv(cls, sizeof cls, &kl, 0x04, l->sign_id.b, l->sign_id.len) &&
		put_tlv(path, sizeof path, &kp, 0x04, l->sign_cert.b, l->sign_cert.len) &&
		put_tlv(path, sizeof path, &kp, 0x02, index0, 1) &&
		put_tlv(path, sizeof path, &kp, 0x80, ln, nl) &&
		put_hdr(attrs, sizeof attrs, &ka, 0x30, kp + 2) &&
		put_tlv(attrs, sizeof attrs, &ka, 0x30, path, kp) &&
		put_tlv(body, sizeof body, &kb, 0x30, common, kc) &&
		put_tlv(body, sizeof body, &kb, 0x30, cls, kl) &&
		put_tlv(body, sizeof body, &kb, 0xA1, attrs, ka);
	*len = 0;
	if (!ok || !put_tlv(out, cap, len, 0x30, body, kb))
		return CARD_E_INTERNAL;
	return CARD_OK;
}

/* True when the CDF entry at e is for the signing key (its iD), i.e. the one a new one replaces. */
static bool is_sign_entry(const struct siths_layout *l, const struct der_tlv *e)
{
	struct der d, c;
	struct der_tlv common, cls, id;
	der_init(&d, e->v, e->len);
	if (der_expect(&d, 0x30, &common) || der_expect(&d, 0x30, &cls) ||
	    der_enter(&d, &cls, &c) || der_expect(&c, 0x04, &id))
		return false;
	return id.len == l->sign_id.len && memcmp(id.v, l->sign_id.b, id.len) == 0;
}

card_err ops_cdf_slot(const struct siths_layout *l, const uint8_t *cdf, size_t n, size_t *end,
		      size_t *old, size_t *old_len)
{
	struct der d;
	struct der_tlv e;
	size_t pos = 0;
	*old = SIZE_MAX;
	*old_len = 0;
	der_init(&d, cdf, n);
	/* Walk whole TLVs: entries contain 00 bytes, so the first 00 is not the end. */
	while (pos < n && cdf[pos] == 0x30) {
		if (der_next(&d, &e) != DER_OK)
			return CARD_E_BAD_DATA;
		if (is_sign_entry(l, &e)) {
			*old = pos;
			*old_len = e.hdr + e.len;
			break;
		}
		pos += e.hdr + e.len;
	}
	*end = pos;
	return CARD_OK;
}

/* Reads the CDF's entries (selected afterwards) and its size. With the size from the FCP the
 * read stops at the padding after the entries (the 1024-byte EF holds ~150 bytes of them:
 * one READ BINARY instead of four); without it the whole file is read, as its size. */
static card_err read_cdf(const struct apdu_transport *t, const struct siths_layout *l,
			 uint8_t **buf, size_t *len, size_t *size)
{
	struct iso_file fi;
	card_err e = siths_select(t, &l->app, &l->cdf, &fi);
	if (!e && fi.size_known)
		e = iso_read_der(t, &fi, 0, 0, ISO_DER_SEQ, buf, len);
	else if (!e)
		e = iso_read(t, &fi, 0, 0, buf, len);
	*size = fi.size_known ? fi.size : *len;
	return e;
}

static card_err write_chunks(const struct apdu_transport *t, const uint8_t *der, size_t n,
			     card_progress_fn fn, void *user)
{
	const size_t chunk = apdu_max_nc(t);
	for (size_t off = 0; off < n; off += chunk) {
		size_t c = n - off < chunk ? n - off : chunk;
		card_err e = update_binary(t, off, der + off, c);
		if (e)
			return e;
		if (fn)
			fn(off + c, n, user);
	}
	return CARD_OK;
}

card_err ops_write_sign_cert(const struct apdu_transport *t, const struct siths_layout *l,
			     const uint8_t *der, size_t n, card_progress_fn fn, void *user,
			     bool *commit_sent)
{
	uint8_t *cdf = NULL, *back = NULL, entry[160], zeros[CHUNK] = { 0 };
	size_t cdf_len = 0, cdf_size = 0, end = 0, old = SIZE_MAX, old_len = 0, elen = 0,
	       back_len = 0;
	struct iso_file fi;
	card_err e;
	*commit_sent = false;
	if ((e = ops_cdf_entry(l, n, entry, sizeof(entry) - 2, &elen)) != CARD_OK)
		goto out;
	entry[elen++] = 0x00; /* the padding after the entry ends the list for any parser */
	entry[elen++] = 0x00;
	if ((e = read_cdf(t, l, &cdf, &cdf_len, &cdf_size)) != CARD_OK ||
	    (e = ops_cdf_slot(l, cdf, cdf_len, &end, &old, &old_len)) != CARD_OK)
		goto out;
	if (end + elen > cdf_size || old_len > sizeof(zeros)) {
		e = CARD_E_RANGE; /* no room for the entry: fail before anything is written */
		goto out;
	}
	/* Withdraw the old claim first, the whole entry in one APDU: from here until the commit the
	 * card shows no certificate, and its CDF is entries + padding, as a parser expects. */
	if (old != SIZE_MAX && (e = update_binary(t, old, zeros, old_len)) != CARD_OK)
		goto out;
	if ((e = siths_select(t, &l->app, &l->sign_cert, &fi)) != CARD_OK)
		goto out;
	if (fi.size_known && fi.size < n) {
		e = CARD_E_RANGE;
		goto out;
	}
	if ((e = write_chunks(t, der, n, fn, user)) != CARD_OK ||
	    (e = iso_read(t, &fi, 0, n, &back, &back_len)) != CARD_OK)
		goto out;
	if (back_len != n || memcmp(back, der, n) != 0) {
		e = CARD_E_BAD_DATA;
		goto out;
	}
	/* The commit point: one APDU. Once sent, a failure no longer says whether the card took it. */
	if ((e = siths_select(t, &l->app, &l->cdf, NULL)) == CARD_OK) {
		*commit_sent = true;
		e = update_binary(t, end, entry, elen);
	}
out:
	free(cdf);
	free(back);
	return e;
}
