/* sim_fs.c — the virtual card's file system commands. Selection follows ISO 7816-4 7.1.1 for
 * the one application this card has: the MF, the current DF, its parent, children of either,
 * absolute and relative paths, and the (right-truncatable) DF name of DF.PKCS15. */
#include "sim_fs.h"

#include <string.h>

#include "sim_der.h"
#include "sim_p15.h"
#include "sim_pins.h"

static struct sim_file *child(struct sim_card *c, uint16_t df, uint16_t fid)
{
	struct sim_file *f = sim_card_file(c, fid);
	return f && f->parent == df && fid != SIM_FID_MF ? f : NULL;
}

/* SELECT P1=00: the MF, the current DF, its parent, or a child of either. */
static struct sim_file *by_fid(struct sim_card *c, uint16_t fid)
{
	struct sim_file *cur = sim_card_file(c, c->s.df);
	if (fid == SIM_FID_MF || fid == c->s.df)
		return sim_card_file(c, fid);
	if (cur->parent && fid == cur->parent)
		return sim_card_file(c, fid);
	struct sim_file *f = child(c, c->s.df, fid);
	return f ? f : (cur->parent ? child(c, cur->parent, fid) : NULL);
}

static struct sim_file *by_path(struct sim_card *c, uint16_t start, const uint8_t *p, size_t n)
{
	struct sim_file *f = sim_card_file(c, start);
	for (size_t i = 0; i < n; i += 2) {
		uint16_t fid = (uint16_t)(p[i] << 8 | p[i + 1]);
		if (i == 0 && start == SIM_FID_MF && fid == SIM_FID_MF)
			continue; /* tolerate a path that names the MF explicitly */
		if (!f->df || !(f = child(c, f->fid, fid)))
			return NULL;
	}
	return f;
}

static struct sim_file *by_name(struct sim_card *c, const uint8_t *p, size_t n)
{
	/* Right-truncated DF names select too (ISO 7816-4 7.1.1). */
	return n >= 1 && n <= sizeof(sim_p15_aid) && !memcmp(p, sim_p15_aid, n)
		? sim_card_file(c, SIM_FID_APP)
		: NULL;
}

static void fcp(const struct sim_file *f, unsigned tag, struct sim_rsp *r)
{
	struct sim_der d;
	uint8_t fid[2] = { (uint8_t)(f->fid >> 8), (uint8_t)f->fid };
	uint8_t size[2] = { (uint8_t)(f->size >> 8), (uint8_t)f->size };
	sim_der_init(&d);
	size_t m = sim_der_open(&d, tag);
	if (!f->df)
		sim_der_put(&d, 0x80, size, 2);
	sim_der_put(&d, 0x82, f->df ? "\x38" : "\x01", 1);
	sim_der_put(&d, 0x83, fid, 2);
	if (f->fid == SIM_FID_APP)
		sim_der_put(&d, 0x84, sim_p15_aid, sizeof(sim_p15_aid));
	sim_der_put(&d, 0x8A, "\x05", 1);
	sim_der_close(&d, m);
	if (!d.failed)
		sim_cmd_put(r, d.buf, d.len);
	sim_der_free(&d);
}

uint16_t sim_fs_select(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	struct sim_file *f = NULL, *cur = sim_card_file(c, c->s.df);
	if ((k->p2 & 0xF3) != 0)
		return SIM_SW_P1P2; /* only "first occurrence"; FCI, FCP or nothing */
	switch (k->p1) {
	case 0x00:
		if (k->lc != 0 && k->lc != 2)
			return SIM_SW_LC_P1P2;
		f = k->lc ? by_fid(c, (uint16_t)(k->data[0] << 8 | k->data[1]))
			  : sim_card_file(c, SIM_FID_MF);
		break;
	case 0x01:
	case 0x02:
		if (k->lc != 2)
			return SIM_SW_LC_P1P2;
		f = child(c, c->s.df, (uint16_t)(k->data[0] << 8 | k->data[1]));
		if (f && f->df != (k->p1 == 0x01))
			f = NULL;
		break;
	case 0x03:
		if (k->lc)
			return SIM_SW_LC_P1P2;
		f = cur->parent ? sim_card_file(c, cur->parent) : NULL;
		break;
	case 0x04:
		if (k->lc == 0 || k->lc > 16)
			return SIM_SW_LC_P1P2;
		f = by_name(c, k->data, k->lc);
		break;
	case 0x08:
	case 0x09:
		if (k->lc == 0 || k->lc % 2)
			return SIM_SW_LC_P1P2;
		f = by_path(c, k->p1 == 0x08 ? SIM_FID_MF : c->s.df, k->data, k->lc);
		break;
	default: return SIM_SW_P1P2;
	}
	if (!f)
		return SIM_SW_NOT_FOUND;
	if (f->df) {
		c->s.df = f->fid;
		c->s.ef = 0;
	} else {
		c->s.df = f->parent;
		c->s.ef = f->fid;
	}
	/* P2 b4-b3: 00 FCI, 01 FCP, 10 FMD (none on this card: no data), 11 no data. */
	if ((k->p2 & 0x0C) == 0x00)
		fcp(f, 0x6F, r);
	else if ((k->p2 & 0x0C) == 0x04)
		fcp(f, 0x62, r);
	return SIM_SW_OK;
}

static struct sim_file *current_ef(struct sim_card *c)
{
	return c->s.ef ? sim_card_file(c, c->s.ef) : NULL;
}

uint16_t sim_fs_read_binary(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	struct sim_file *f = current_ef(c);
	size_t off = (size_t)(k->p1 << 8 | k->p2);
	if (k->p1 & 0x80)
		return SIM_SW_FUNC; /* no short EF identifiers on this card */
	if (k->lc || !k->le)
		return SIM_SW_WRONG_LENGTH;
	if (!f)
		return SIM_SW_NO_EF;
	if (off >= f->size)
		return SIM_SW_OFFSET;
	size_t n = f->size - off < k->ne ? f->size - off : k->ne;
	sim_cmd_put(r, f->data + off, n);
	bool wildcard = k->ne == (k->ext ? 65536u : 256u);
	return n < k->ne && !wildcard ? SIM_SW_EOF_WARNING : SIM_SW_OK;
}

uint16_t sim_fs_update_binary(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	struct sim_file *f = current_ef(c);
	size_t off = (size_t)(k->p1 << 8 | k->p2);
	(void)r;
	if (k->p1 & 0x80)
		return SIM_SW_FUNC;
	if (!k->lc)
		return SIM_SW_WRONG_LENGTH;
	if (!f)
		return SIM_SW_NO_EF;
	if (f->write == SIM_ACC_NEVER)
		return SIM_SW_CONDITIONS;
	if (!sim_pins_verified(c, SIM_PIN2_REF))
		return SIM_SW_SECURITY;
	if (off > f->size)
		return SIM_SW_OFFSET;
	if (k->lc > f->size - off)
		return SIM_SW_NO_SPACE;
	sim_cmd_delay(c, 5);
	memcpy(f->data + off, k->data, k->lc);
	return sim_cmd_save(c);
}
