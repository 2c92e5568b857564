/* sim_pins.c — the virtual card's PIN commands. A wrong PIN or PUK costs a try, persisted before
 * the answer; a right one restores its counter; a malformed new value is refused without costing
 * a try. A new value is one atomic change of the card (sim_card_set_pin): if it cannot be saved
 * the card keeps the old one. Values are compared through their stored hash only. */
#include "sim_pins.h"

#include <stddef.h>

#include "sim_p15.h"

static struct sim_pin *pin_for(struct sim_card *c, uint8_t p2)
{
	/* P2: b8 = global/specific, b5-b1 = reference; b7-b6 reserved. */
	return (p2 & 0x60) ? NULL : sim_card_pin(c, p2 & 0x1F);
}

static bool *verified(struct sim_card *c, const struct sim_pin *p)
{
	return &c->s.verified[sim_card_pin_index(c, p)];
}

bool sim_pins_verified(struct sim_card *c, uint8_t ref)
{
	return *verified(c, sim_card_pin(c, ref));
}

static uint16_t tries_sw(const struct sim_pin *p)
{
	return p->tries ? (uint16_t)(0x63C0 | p->tries) : SIM_SW_BLOCKED;
}

static uint16_t wrong_pin(struct sim_card *c, struct sim_pin *p)
{
	if (p->tries)
		p->tries--;
	*verified(c, p) = false;
	uint16_t sw = sim_cmd_save(c);
	return sw == SIM_SW_OK ? (uint16_t)(0x63C0 | p->tries) : sw;
}

/* Counter back to the maximum, persisted; in memory too only if it could be saved. */
static uint16_t restore_counter(struct sim_card *c, struct sim_pin *p)
{
	unsigned before = p->tries;
	if (before == p->max_tries)
		return SIM_SW_OK;
	p->tries = p->max_tries;
	uint16_t sw = sim_cmd_save(c);
	if (sw != SIM_SW_OK)
		p->tries = before;
	return sw;
}

/* Marks a correctly presented PIN: counter back to the maximum, verified for this session. */
static uint16_t right_pin(struct sim_card *c, struct sim_pin *p)
{
	uint16_t sw = restore_counter(c, p);
	*verified(c, p) = sw == SIM_SW_OK;
	return sw;
}

static bool pin_format_ok(const struct sim_pin *p, const uint8_t *v, size_t n)
{
	if (n < p->min_len || n > p->max_len)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

uint16_t sim_pins_verify(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	struct sim_pin *p = pin_for(c, k->p2);
	(void)r;
	if (k->p1 != 0x00 && k->p1 != 0xFF)
		return SIM_SW_P1P2;
	if (!p)
		return SIM_SW_REF_NOT_FOUND;
	if (k->p1 == 0xFF) { /* reset the verification status (ISO 7816-4:2013) */
		if (k->lc)
			return SIM_SW_WRONG_LENGTH;
		*verified(c, p) = false;
		return SIM_SW_OK;
	}
	if (!p->tries)
		return SIM_SW_BLOCKED;
	/* The letter's value is not a PIN yet: nothing to compare, no try used, its counter not told. */
	if (p->transport)
		return SIM_SW_NOT_USABLE;
	if (!k->lc)
		return *verified(c, p) ? SIM_SW_OK : tries_sw(p);
	sim_cmd_delay(c, 40);
	return sim_pin_matches(p, k->data, k->lc) ? right_pin(c, p) : wrong_pin(c, p);
}

static uint16_t set_new_pin(struct sim_card *c, struct sim_pin *p, const uint8_t *v, size_t n)
{
	if (!pin_format_ok(p, v, n))
		return SIM_SW_WRONG_DATA;
	if (sim_card_set_pin(c, p, v, n) != SIM_OK)
		return SIM_SW_MEMORY;
	*verified(c, p) = true;
	return SIM_SW_OK;
}

uint16_t sim_pins_change_ref(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	struct sim_pin *p = pin_for(c, k->p2);
	(void)r;
	if (k->p1 > 1)
		return SIM_SW_P1P2;
	if (!p)
		return SIM_SW_REF_NOT_FOUND;
	if (!p->tries)
		return SIM_SW_BLOCKED;
	/* New value only: the PIN must be verified in this session (never so in the transport state,
	 * whose value must be presented: P1 00). */
	if (k->p1 == 1)
		return *verified(c, p) ? set_new_pin(c, p, k->data, k->lc) : SIM_SW_SECURITY;
	if (k->lc < 2 * p->min_len || k->lc > 2 * p->max_len)
		return SIM_SW_WRONG_LENGTH;
	sim_cmd_delay(c, 40);
	/* Old and new value are not padded: only the split at the stored PIN's length can match. */
	for (size_t n = p->min_len; n <= p->max_len; n++) {
		size_t rest = k->lc - n;
		if (rest >= p->min_len && rest <= p->max_len && sim_pin_matches(p, k->data, n))
			return set_new_pin(c, p, k->data + n, rest);
	}
	return wrong_pin(c, p);
}

/* After the PUK was accepted: P1 00/02 set the new value, 01/03 only restore the counter (a PIN
 * in the transport state stays in it). */
static uint16_t reset_pin(struct sim_card *c, struct sim_pin *p, uint8_t p1, const uint8_t *v,
			  size_t n)
{
	if (p1 == 0x01 ||
	    p1 == 0x03) { /* saved even when unchanged: the PUK's counter may have been */
		unsigned before = p->tries;
		p->tries = p->max_tries;
		uint16_t sw = sim_cmd_save(c);
		if (sw != SIM_SW_OK)
			p->tries = before;
		return sw;
	}
	uint16_t sw = set_new_pin(c, p, v, n);
	*verified(c, p) = false; /* unblocked, not verified: the holder presents it next */
	return sw;
}

uint16_t sim_pins_reset_retry(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	struct sim_pin *p = pin_for(c, k->p2), *puk = sim_card_pin(c, SIM_PUK_REF);
	size_t plen = puk->max_len;
	(void)r;
	if (k->p1 > 3)
		return SIM_SW_P1P2;
	if (!p)
		return SIM_SW_REF_NOT_FOUND;
	if (p == puk)
		return SIM_SW_P1P2;
	if (k->p1 >= 2) { /* the PUK was verified earlier in this session */
		if (!*verified(c, puk))
			return SIM_SW_SECURITY;
		if (k->p1 == 3 && k->lc)
			return SIM_SW_WRONG_LENGTH;
		return reset_pin(c, p, k->p1, k->data, k->lc);
	}
	size_t given = k->p1 == 0 ? plen : k->lc;
	if (k->lc < given || given == 0)
		return SIM_SW_WRONG_LENGTH;
	if (k->p1 == 0 && !pin_format_ok(p, k->data + plen, k->lc - plen))
		return SIM_SW_WRONG_DATA; /* checked first, so a bad new PIN costs no PUK try */
	if (!puk->tries)
		return SIM_SW_BLOCKED;
	sim_cmd_delay(c, 40);
	if (!sim_pin_matches(puk, k->data, given))
		return wrong_pin(c, puk);
	/* The PUK's counter is restored in the same save as the PIN (or not at all). */
	unsigned puk_before = puk->tries;
	puk->tries = puk->max_tries;
	uint16_t sw = reset_pin(c, p, k->p1, k->data + plen, k->lc - given);
	if (sw != SIM_SW_OK)
		puk->tries = puk_before;
	return sw;
}
