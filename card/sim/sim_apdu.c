/* sim_apdu.c — the virtual card's command interpreter: parsing (short/extended cases 1-4), the
 * class check, the table from INS to handler, and response chaining (61xx + GET RESPONSE). The
 * handlers and their access rules live in sim_fs.c, sim_pins.c and sim_crypto.c. */
#include "sim_apdu.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sim_cmd.h"
#include "sim_crypto.h"
#include "sim_fs.h"
#include "sim_pins.h"

static uint16_t parse(const uint8_t *b, size_t n, struct sim_cmd *k)
{
	memset(k, 0, sizeof(*k));
	k->cla = b[0];
	k->ins = b[1];
	k->p1 = b[2];
	k->p2 = b[3];
	if (n == 4)
		return 0;
	if (n == 5) {
		k->le = true;
		k->ne = b[4] ? b[4] : 256;
		return 0;
	}
	if (b[4]) { /* short Lc */
		k->lc = b[4];
		k->data = b + 5;
		if (n == 5 + k->lc)
			return 0;
		if (n != 6 + k->lc)
			return SIM_SW_WRONG_LENGTH;
		k->le = true;
		k->ne = b[n - 1] ? b[n - 1] : 256;
		return 0;
	}
	k->ext = true;
	if (n < 7)
		return SIM_SW_WRONG_LENGTH;
	if (n == 7) {
		k->le = true;
		k->ne = (size_t)(b[5] << 8 | b[6]);
		k->ne = k->ne ? k->ne : 65536;
		return 0;
	}
	k->lc = (size_t)(b[5] << 8 | b[6]);
	k->data = b + 7;
	if (k->lc == 0)
		return SIM_SW_WRONG_LENGTH;
	if (n == 7 + k->lc)
		return 0;
	if (n != 9 + k->lc)
		return SIM_SW_WRONG_LENGTH;
	k->le = true;
	k->ne = (size_t)(b[n - 2] << 8 | b[n - 1]);
	k->ne = k->ne ? k->ne : 65536;
	return 0;
}

/* Ends a pending response: GET RESPONSE has fetched it all, or another command came. */
static void drop_pending(struct sim_card *c)
{
	free(c->s.pending);
	c->s.pending = NULL;
	c->s.pending_len = c->s.pending_off = 0;
}

static uint16_t get_response(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	if (k->p1 || k->p2)
		return SIM_SW_P1P2;
	if (k->lc || !k->le)
		return SIM_SW_WRONG_LENGTH;
	size_t left = c->s.pending_len - c->s.pending_off;
	if (!c->s.pending || !left)
		return SIM_SW_CONDITIONS;
	if (!k->ext && k->ne < 256 && k->ne > left)
		return (uint16_t)(0x6C00 | left); /* wrong Le: SW2 gives the exact count */
	size_t n = left < k->ne ? left : k->ne;
	sim_cmd_put(r, c->s.pending + c->s.pending_off, n);
	c->s.pending_off += n;
	left -= n;
	if (!left) {
		drop_pending(c);
		return SIM_SW_OK;
	}
	return (uint16_t)(0x6100 | (left > 255 ? 0 : left));
}

static uint16_t get_data(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	(void)c, (void)k, (void)r;
	return SIM_SW_REF_NOT_FOUND; /* no data objects on this card */
}

static const struct {
	uint8_t ins;
	enum sim_kind kind;
	sim_cmd_fn *fn;
} commands[] = {
	{ 0xA4, SIM_K_SELECT, sim_fs_select },
	{ 0xB0, SIM_K_READ_BINARY, sim_fs_read_binary },
	{ 0xD6, SIM_K_UPDATE_BINARY, sim_fs_update_binary },
	{ 0x20, SIM_K_VERIFY, sim_pins_verify },
	{ 0x24, SIM_K_CHANGE_REF, sim_pins_change_ref },
	{ 0x2C, SIM_K_RESET_RETRY, sim_pins_reset_retry },
	{ 0x22, SIM_K_MSE, sim_crypto_mse },
	{ 0x2A, SIM_K_PSO_CDS, sim_crypto_pso },
	{ 0x88, SIM_K_INTERNAL_AUTH, sim_crypto_internal_auth },
	{ 0x46, SIM_K_GENERATE_KEY, sim_crypto_generate },
	{ 0xC0, SIM_K_GET_RESPONSE, get_response },
	{ 0x84, SIM_K_GET_CHALLENGE, sim_crypto_get_challenge },
	{ 0xCA, SIM_K_OTHER, get_data },
	{ 0xCB, SIM_K_OTHER, get_data },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *const kind_names[SIM_K_COUNT] = {
	"select",       "read-binary",   "update-binary", "verify",        "change-ref",
	"reset-retry",  "mse",           "pso-cds",       "internal-auth", "generate-key",
	"get-response", "get-challenge", "other"
};

const char *sim_kind_name(enum sim_kind k)
{
	return k < SIM_K_COUNT ? kind_names[k] : "other";
}

int sim_kind_from_name(const char *name)
{
	for (int i = 0; i < SIM_K_COUNT; i++)
		if (!strcmp(name, kind_names[i]))
			return i;
	return -1;
}

enum sim_kind sim_apdu_kind(const uint8_t *apdu, size_t n)
{
	if (n < 4)
		return SIM_K_OTHER;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].ins == apdu[1])
			return commands[i].kind;
	return SIM_K_OTHER;
}

static uint16_t check_class(uint8_t cla)
{
	if (cla & 0xE0)
		return SIM_SW_CLA; /* proprietary and further interindustry classes */
	if (cla & 0x10)
		return SIM_SW_CHAINING;
	if (cla & 0x0C)
		return SIM_SW_SM;
	if (cla & 0x03)
		return SIM_SW_CHANNEL;
	return SIM_SW_OK;
}

static uint16_t dispatch(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	uint16_t sw = check_class(k->cla);
	if (sw != SIM_SW_OK)
		return sw;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].ins == k->ins)
			return commands[i].fn(c, k, r);
	return SIM_SW_INS;
}

/* Keeps what does not fit in Ne for GET RESPONSE; returns the 61xx status word. */
static uint16_t chain(struct sim_card *c, const struct sim_cmd *k, struct sim_rsp *r)
{
	size_t rest = r->len - k->ne;
	uint8_t *p = malloc(rest);
	if (!p)
		return SIM_SW_MEMORY;
	memcpy(p, r->buf + k->ne, rest);
	c->s.pending = p;
	c->s.pending_len = rest;
	c->s.pending_off = 0;
	r->len = k->ne;
	return (uint16_t)(0x6100 | (rest > 255 ? 0 : rest));
}

size_t sim_apdu_process(struct sim_card *c, const uint8_t *apdu, size_t n, uint8_t *out)
{
	struct sim_cmd k;
	struct sim_rsp r = { out, 0 };
	uint16_t sw = n < 4 ? SIM_SW_WRONG_LENGTH : parse(apdu, n, &k);

	if (n >= 4 && apdu[1] != 0xC0) /* any other command ends a pending response */
		drop_pending(c);
	if (sw == 0 && k.ext && !c->extended_length)
		sw = SIM_SW_WRONG_LENGTH; /* the ATR announced short APDUs only */
	if (sw == 0)
		sw = dispatch(c, &k, &r);
	if (sw == SIM_SW_OK && r.len > k.ne)
		sw = chain(c, &k, &r);
	if (sw != SIM_SW_OK && sw != SIM_SW_EOF_WARNING && (sw & 0xFF00) != 0x6100) {
		OPENSSL_cleanse(out, r.len);
		r.len = 0;
	}
	out[r.len] = (uint8_t)(sw >> 8);
	out[r.len + 1] = (uint8_t)sw;
	return r.len + 2;
}
