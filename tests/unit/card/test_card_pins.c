/* test_card_pins.c — the card core's PIN calls (card.h: card_change_pin, card_unblock_pin,
 * card_activate_pin, card_pin_status, card_verify_pin) in a card session over the virtual card
 * in-process, APDU by APDU: each is one command after the application's SELECT, never retried,
 * never preceded by a VERIFY; malformed codes never reach the card; every code buffer is wiped;
 * the model read afterwards shows the counters, states and lastPinChange; a card pulled during
 * a command holds the old or the new code and the next read tells which. Also the encoding the
 * AODF declares (padding, references, forbidden commands) against exact APDU bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fx_apdu.h"
#include "fx_sim.h"
#include "ops.h"
#include "session.h"
#include "siths.h"
#include "sim/sim_card.h"
#include "sim/sim_der.h"
#include "sim/sim_p15.h"

#define LOG_MAX 32

/* The virtual card with every command's header and data kept. pull_ins: the card is pulled at
 * the first command with that INS — before carrying it out, or (after) once it has (state saved)
 * but before answering, as siths-cardsim's --drop-at / --drop-after-commit. */
struct rec {
	struct fx_simt sim;
	size_t n;
	uint8_t ins[LOG_MAX], p1[LOG_MAX], p2[LOG_MAX];
	uint8_t data[LOG_MAX][64];
	size_t lc[LOG_MAX];
	uint8_t pull_ins;
	bool after;
};

static card_err rec_transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *len)
{
	struct rec *r = ctx;
	assert_true(n >= 4 && r->n < LOG_MAX);
	size_t i = r->n++;
	r->ins[i] = cmd[1], r->p1[i] = cmd[2], r->p2[i] = cmd[3];
	r->lc[i] = n > 5 ? cmd[4] : 0;
	memcpy(r->data[i], cmd + 5, r->lc[i] < 64 ? r->lc[i] : 64);
	bool pull = r->pull_ins && cmd[1] == r->pull_ins;
	if (pull && !r->after)
		return CARD_E_REMOVED;
	card_err e = fx_sim_transmit(&r->sim, cmd, n, resp, len);
	if (pull)
		r->pull_ins = 0;
	return pull ? CARD_E_REMOVED : e;
}

/* A card as the core keeps it: model and layout read at insertion; a recorder for the work. */
struct inserted {
	struct sim_card *c;
	struct card_model m;
	struct siths_layout l;
	struct rec r;
	struct apdu_transport t;
};

static void rec_reset(struct inserted *k)
{
	memset(&k->r, 0, sizeof(k->r));
	k->r.sim = (struct fx_simt){ k->c, -1, 0 };
	k->t = (struct apdu_transport){ .transmit = rec_transmit, .ctx = &k->r };
}

/* Reads model and layout as at insertion (or at the re-read after work, after the reset). */
static void read_card(struct inserted *k)
{
	struct fx_simt s = { k->c, -1, 0 };
	struct apdu_transport t = { .transmit = fx_sim_transmit, .ctx = &s };
	siths_layout_free(&k->l);
	sim_card_reset_session(k->c);
	memset(&k->m, 0, sizeof(k->m));
	assert_int_equal(siths_read_layout(&t, &k->m, &k->l), CARD_OK);
	assert_true(k->l.usable);
	rec_reset(k);
}

static struct inserted *insert(void (*tweak)(struct sim_profile *))
{
	struct inserted *k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->c = fx_sim_card(tweak);
	read_card(k);
	return k;
}

static void done(struct inserted *k)
{
	siths_layout_free(&k->l);
	sim_card_free(k->c);
	free(k);
}

/* ---- one piece of work: a PIN call with its codes, as the API will make it ---- */

enum op { OP_CHANGE, OP_UNBLOCK, OP_ACTIVATE, OP_VERIFY, OP_STATUS };

struct work {
	enum op op;
	enum card_pin_which which;
	char a[16], b[16]; /* old code / PUK / code; new code */
	int tries;
	bool sign_after; /* then sign with the signing key (PIN2 verified?) */
};

static card_err pin_work(card_session *s, const struct card_model *m, void *user)
{
	struct work *w = user;
	(void)m;
	w->tries = 99;
	switch (w->op) {
	case OP_CHANGE: return card_change_pin(s, w->which, w->a, w->b, &w->tries);
	case OP_UNBLOCK: return card_unblock_pin(s, w->which, w->a, w->b, &w->tries);
	case OP_VERIFY: return card_verify_pin(s, w->which, w->a, &w->tries);
	case OP_STATUS: return card_pin_status(s, w->which, &w->tries);
	case OP_ACTIVATE: break;
	}
	card_err e = card_activate_pin(s, w->which, w->a, &w->tries);
	if (!e && w->sign_after) {
		static const uint8_t di[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
					      0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
					      0x20, 1,    2,    3,    4,    5,    6,    7,    8,
					      9,    10,   11,   12,   13,   14,   15,   16,   17,
					      18,   19,   20,   21,   22,   23,   24,   25,   26,
					      27,   28,   29,   30,   31,   32 };
		uint8_t sig[512];
		size_t len = 0;
		e = card_sign(s, CARD_KEY_SIGN, di, sizeof(di), sig, sizeof(sig), &len);
	}
	return e;
}

/* Runs one call in a card session, as card_with_card() does (the re-read is read_card); with
 * pull_ins the card is pulled at that command (before carrying it out, or after). */
static card_err run_pulled(struct inserted *k, struct work *w, uint8_t pull_ins, bool after)
{
	rec_reset(k);
	k->r.pull_ins = pull_ins;
	k->r.after = after;
	return card_session_run(&k->t, &k->m, &k->l, pin_work, w, NULL);
}

static card_err run(struct inserted *k, struct work *w)
{
	return run_pulled(k, w, 0, false);
}

static card_err call(struct inserted *k, enum op op, enum card_pin_which which, const char *a,
		     const char *b, int *tries)
{
	struct work w = { .op = op, .which = which };
	snprintf(w.a, sizeof(w.a), "%s", a ? a : "");
	snprintf(w.b, sizeof(w.b), "%s", b ? b : "");
	card_err e = run(k, &w);
	static const char zero[16];
	assert_memory_equal(w.a, zero, sizeof(zero)); /* every code wiped, whatever the outcome */
	assert_memory_equal(w.b, zero, sizeof(zero));
	if (tries)
		*tries = w.tries;
	return e;
}

/* True when code is the PIN's value now (a VERIFY in a fresh session; a wrong one costs a try). */
static bool holds(struct inserted *k, enum card_pin_which which, const char *code)
{
	sim_card_reset_session(k->c);
	return call(k, OP_VERIFY, which, code, NULL, NULL) == CARD_OK;
}

static void assert_one_command(const struct inserted *k, uint8_t ins, uint8_t ref, size_t lc)
{
	assert_int_equal(k->r.n,
			 2); /* the application's SELECT, the command: no VERIFY, no retry */
	assert_int_equal(k->r.ins[0], 0xA4);
	assert_int_equal(k->r.ins[1], ins);
	assert_int_equal(k->r.p1[1], 0x00);
	assert_int_equal(k->r.p2[1], ref);
	assert_int_equal(k->r.lc[1], lc);
}

static void reserve_two_codes(struct sim_profile *p)
{
	p->card_type = SIM_CARD_RESERVE;
	strcpy(p->pin2, p->pin1);
	p->pin2_activated = false;
}

/* ---- tests ---- */

/* What insertion reads of the PUK and the PINs: the AODF's rules, counters, states, times. */
static void pins_read_at_insertion(void **state)
{
	(void)state;
	struct inserted *k = insert(NULL);
	const struct card_pin *pins[] = { &k->m.pin1, &k->m.pin2, &k->m.puk };
	for (size_t i = 0; i < 3; i++) {
		assert_true(pins[i]->present);
		assert_int_equal(pins[i]->ref, i + 1);
		assert_int_equal(pins[i]->tries_left, 3);
		assert_false(pins[i]->blocked);
		assert_true(pins[i]->activated);
		assert_int_equal(strlen(pins[i]->last_change), 15);
	}
	assert_string_equal(k->m.puk.label, "PUK");
	assert_int_equal(k->m.puk.min_len, 8);
	assert_int_equal(k->m.puk.max_len, 8);
	assert_true(card_pin_format_ok(&k->m.puk, "12345678"));
	assert_false(card_pin_format_ok(&k->m.puk, "1234567"));
	assert_int_equal(k->l.puk.ref, 3);
	assert_int_equal(k->l.pin2.ref, 2);
	assert_int_equal(k->l.pin2.type, P15_PIN_TYPE_ASCII);
	assert_false(k->l.pin2.flags & P15_PIN_NEEDS_PADDING);
	done(k);
}

static void change_is_one_command(void **state)
{
	(void)state;
	struct inserted *k = insert(NULL);
	char before1[24], before2[24];
	strcpy(before1, k->m.pin1.last_change);
	strcpy(before2, k->m.pin2.last_change);
	int tries = 0;
	assert_int_equal(call(k, OP_CHANGE, CARD_PIN1, "123456", "7777777", &tries), CARD_OK);
	assert_one_command(k, 0x24, 0x01, 13);
	assert_memory_equal(k->r.data[1], "1234567777777",
			    13); /* old then new, as the AODF: unpadded */
	assert_int_equal(tries, -1);
	read_card(k); /* the re-read that ends card_with_card() */
	assert_int_equal(k->m.pin1.tries_left, 3);
	assert_true(strcmp(k->m.pin1.last_change, before1) > 0);
	assert_string_equal(k->m.pin2.last_change, before2);
	assert_false(holds(k, CARD_PIN1, "123456"));
	assert_true(holds(k, CARD_PIN1, "7777777"));
	done(k);
}

static void wrong_old_code_then_blocked(void **state)
{
	(void)state;
	struct inserted *k = insert(NULL);
	char before[24];
	strcpy(before, k->m.pin2.last_change);
	int tries = 0;
	assert_int_equal(call(k, OP_CHANGE, CARD_PIN2, "111111", "222222", &tries),
			 CARD_E_PIN_WRONG);
	assert_int_equal(tries, 2);
	assert_one_command(k, 0x24, 0x02, 12);
	read_card(k);
	assert_int_equal(k->m.pin2.tries_left, 2);
	assert_string_equal(k->m.pin2.last_change, before); /* nothing changed */
	assert_int_equal(call(k, OP_CHANGE, CARD_PIN2, "111111", "222222", &tries),
			 CARD_E_PIN_WRONG);
	assert_int_equal(tries, 1);
	assert_int_equal(call(k, OP_CHANGE, CARD_PIN2, "111111", "222222", &tries),
			 CARD_E_PIN_BLOCKED);
	assert_int_equal(tries, 0);
	read_card(k);
	assert_true(k->m.pin2.blocked);
	assert_int_equal(k->m.pin2.tries_left, 0);
	/* Blocked: even the right old code is refused by the card, once. */
	assert_int_equal(call(k, OP_CHANGE, CARD_PIN2, "654321", "222222", &tries),
			 CARD_E_PIN_BLOCKED);
	assert_int_equal(tries, 0);
	assert_one_command(k, 0x24, 0x02, 12);
	done(k);
}

/* Every code checked before the card hears anything: only the SELECT goes out, no try used. */
static void malformed_codes_never_sent(void **state)
{
	(void)state;
	struct inserted *k = insert(NULL);
	static const struct {
		enum op op;
		const char *a, *b;
	} bad[] = {
		{ OP_CHANGE, "123456", "12345" },     { OP_CHANGE, "123456", "12a456" },
		{ OP_CHANGE, "123456", "123456789" }, { OP_CHANGE, "12 456", "654321" },
		{ OP_CHANGE, "", "654321" },          { OP_UNBLOCK, "1234567", "654321" },
		{ OP_UNBLOCK, "12345678", "6543" },   { OP_UNBLOCK, "123456789", "654321" },
		{ OP_ACTIVATE, "12345", NULL },       { OP_VERIFY, "１２３４５６", NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int tries = 0;
		assert_int_equal(call(k, bad[i].op, CARD_PIN1, bad[i].a, bad[i].b, &tries),
				 CARD_E_PIN_FORMAT);
		assert_int_equal(k->r.n, 1);
		assert_int_equal(tries, -1);
	}
	read_card(k);
	assert_int_equal(k->m.pin1.tries_left, 3);
	assert_int_equal(k->m.puk.tries_left, 3);
	done(k);
}

static void unblock_with_the_puk(void **state)
{
	(void)state;
	struct inserted *k = insert(NULL);
	int tries = 0;
	for (int i = 0; i < 3; i++)
		call(k, OP_VERIFY, CARD_PIN2, "000000", NULL, NULL);
	read_card(k);
	assert_true(k->m.pin2.blocked);
	char before[24];
	strcpy(before, k->m.pin2.last_change);

	assert_int_equal(call(k, OP_UNBLOCK, CARD_PIN2, "11111111", "24681357", &tries),
			 CARD_E_PIN_WRONG);
	assert_int_equal(tries, 2); /* the PUK's */
	assert_one_command(k, 0x2C, 0x02, 16);
	read_card(k);
	assert_int_equal(k->m.puk.tries_left, 2);
	assert_true(k->m.pin2.blocked);

	assert_int_equal(call(k, OP_UNBLOCK, CARD_PIN2, "12345678", "24681357", &tries), CARD_OK);
	assert_one_command(k, 0x2C, 0x02, 16);
	assert_memory_equal(k->r.data[1], "1234567824681357", 16); /* PUK then the new code */
	read_card(k);
	assert_false(k->m.pin2.blocked);
	assert_int_equal(k->m.pin2.tries_left, 3);
	assert_int_equal(k->m.puk.tries_left, 3);
	assert_true(strcmp(k->m.pin2.last_change, before) > 0);
	assert_true(holds(k, CARD_PIN2, "24681357"));
	/* An unblocked PIN may be given a new code with the PUK too. */
	assert_int_equal(call(k, OP_UNBLOCK, CARD_PIN1, "12345678", "11223344", &tries), CARD_OK);
	assert_true(holds(k, CARD_PIN1, "11223344"));
	done(k);
}

static void blocked_puk_is_final(void **state)
{
	(void)state;
	struct inserted *k = insert(NULL);
	int tries = 0;
	assert_int_equal(call(k, OP_UNBLOCK, CARD_PIN1, "00000000", "111111", &tries),
			 CARD_E_PIN_WRONG);
	assert_int_equal(tries, 2);
	assert_int_equal(call(k, OP_UNBLOCK, CARD_PIN1, "00000000", "111111", &tries),
			 CARD_E_PIN_WRONG);
	assert_int_equal(tries, 1);
	assert_int_equal(call(k, OP_UNBLOCK, CARD_PIN1, "00000000", "111111", &tries),
			 CARD_E_PUK_BLOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(call(k, OP_UNBLOCK, CARD_PIN1, "12345678", "111111", &tries),
			 CARD_E_PUK_BLOCKED);
	assert_int_equal(tries, 0);
	assert_one_command(k, 0x2C, 0x01, 14);
	read_card(k);
	assert_true(k->m.puk.blocked);
	assert_int_equal(k->m.puk.tries_left, 0);
	assert_false(k->m.pin1.blocked); /* PIN1 itself still works */
	assert_true(holds(k, CARD_PIN1, "123456"));
	done(k);
}

/* A reserve card whose letter holds two codes: PIN2 not activated until the holder's code (the
 * security code = the login code) becomes the signature code. */
static void reserve_card_activates_pin2(void **state)
{
	(void)state;
	struct inserted *k = insert(reserve_two_codes);
	assert_int_equal(k->m.type, CARD_TYPE_RESERVE);
	assert_false(k->m.pin2.activated);
	assert_int_equal(k->m.pin2.tries_left, -1); /* the card does not tell it in this state */
	assert_false(k->m.pin2.blocked);
	assert_true(k->m.pin1.activated && k->m.puk.activated);
	int tries = 0;
	assert_int_equal(call(k, OP_STATUS, CARD_PIN2, NULL, NULL, &tries),
			 CARD_E_PIN_NOT_ACTIVATED);
	assert_int_equal(tries, -1);
	assert_int_equal(call(k, OP_VERIFY, CARD_PIN2, "123456", NULL, &tries),
			 CARD_E_PIN_NOT_ACTIVATED);
	assert_int_equal(tries, -1);

	struct work w = {
		.op = OP_ACTIVATE, .which = CARD_PIN2, .a = "654321", .sign_after = true
	};
	assert_int_equal(run(k, &w), CARD_E_PIN_WRONG);
	assert_int_equal(w.tries, 2);
	assert_one_command(k, 0x24, 0x02, 12);
	strcpy(w.a, "123456");
	assert_int_equal(run(k, &w), CARD_OK); /* and signed with the signing key after it */
	assert_int_equal(k->r.ins[1], 0x24);
	assert_memory_equal(k->r.data[1], "123456123456",
			    12); /* the letter's value, the same as new */
	assert_int_equal(k->r.ins[2], 0x20);
	assert_int_equal(k->r.lc[2], 6);
	assert_int_equal(k->r.ins[3], 0x22);
	assert_int_equal(k->r.ins[4], 0x2A);
	assert_int_equal(k->r.n, 5);
	read_card(k);
	assert_true(k->m.pin2.activated);
	assert_int_equal(k->m.pin2.tries_left, 3);
	assert_true(holds(k, CARD_PIN2, "123456"));
	done(k);
}

/* Pulled at the command, before the card carried it out or after: the old or the new code holds
 * (never neither), and lastPinChange in the next read says which. */
static void pulled_during_the_command(void **state)
{
	(void)state;
	for (int after = 0; after < 2; after++) {
		struct inserted *k = insert(NULL);
		char before[24];
		strcpy(before, k->m.pin1.last_change);
		struct work w = {
			.op = OP_CHANGE, .which = CARD_PIN1, .a = "123456", .b = "55555555"
		};
		assert_int_equal(run_pulled(k, &w, 0x24, after), CARD_E_REMOVED);
		read_card(k); /* put back */
		assert_int_equal(strcmp(k->m.pin1.last_change, before) != 0, after);
		assert_int_equal(holds(k, CARD_PIN1, after ? "55555555" : "123456"), true);
		assert_int_equal(holds(k, CARD_PIN1, after ? "123456" : "55555555"), false);
		done(k);

		k = insert(NULL);
		for (int i = 0; i < 3; i++)
			call(k, OP_VERIFY, CARD_PIN2, "000000", NULL, NULL);
		read_card(k);
		strcpy(before, k->m.pin2.last_change);
		struct work u = {
			.op = OP_UNBLOCK, .which = CARD_PIN2, .a = "12345678", .b = "24682468"
		};
		assert_int_equal(run_pulled(k, &u, 0x2C, after), CARD_E_REMOVED);
		read_card(k);
		assert_int_equal(strcmp(k->m.pin2.last_change, before) != 0, after);
		assert_int_equal(k->m.pin2.blocked, !after);
		if (after)
			assert_true(holds(k, CARD_PIN2, "24682468"));
		done(k);
	}
}

/* ---- the AODF's encoding, against exact APDU bytes ---- */

/* An AODF with one PIN (authId 01, reference 81) that needs padding to 8 bytes with FF, and the
 * seed card's PIN2 and PUK; the model and layout read from a card holding it. */
static void padded_pin_aodf(struct sim_card *c)
{
	struct sim_der d;
	static const uint8_t path[] = { 0x3F, 0x00, 0x50, 0x15 }, id1 = 0x01, id3 = 0x03, ff = 0xFF;
	sim_der_init(&d);
	size_t m = sim_der_open(&d, 0x30);
	size_t co = sim_der_open(&d, 0x30);
	sim_der_utf8(&d, "legitimering");
	sim_der_bits(&d, 1 << 1);
	sim_der_put(&d, 0x04, &id3, 1);
	sim_der_close(&d, co);
	size_t cl = sim_der_open(&d, 0x30);
	sim_der_put(&d, 0x04, &id1, 1);
	sim_der_close(&d, cl);
	size_t t = sim_der_open(&d, 0xA1), a = sim_der_open(&d, 0x30);
	sim_der_bits(&d, P15_PIN_LOCAL | P15_PIN_INITIALIZED | P15_PIN_NEEDS_PADDING);
	sim_der_put(&d, 0x0A, "\x01", 1);
	sim_der_uint(&d, 0x02, 4);
	sim_der_uint(&d, 0x02, 8);
	sim_der_uint(&d, 0x80, 0x81);
	sim_der_put(&d, 0x04, &ff, 1);
	size_t p = sim_der_open(&d, 0x30);
	sim_der_put(&d, 0x04, path, sizeof(path));
	sim_der_close(&d, p);
	sim_der_close(&d, a);
	sim_der_close(&d, t);
	sim_der_close(&d, m);
	const struct sim_file *f = sim_card_file(c, SIM_FID_AODF);
	/* keep the seed card's PIN2 and PUK entries after the new PIN1 */
	size_t first = f->data[1] < 0x80 ? 2u + f->data[1] : 3u + f->data[2];
	sim_der_raw(&d, f->data + first, f->size - first);
	assert_false(d.failed);
	struct sim_file *w = sim_card_file(c, SIM_FID_AODF);
	free(w->data);
	w->data = d.buf;
	w->size = d.len;
}

static void encoding_from_the_aodf(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(NULL);
	padded_pin_aodf(c);
	struct fx_simt s = { c, -1, 0 };
	struct apdu_transport ct = { .transmit = fx_sim_transmit, .ctx = &s };
	struct card_model m;
	struct siths_layout l;
	memset(&m, 0, sizeof(m));
	assert_int_equal(siths_read_layout(&ct, &m, &l), CARD_OK);
	assert_int_equal(l.pin1.ref, 0x81);
	assert_int_equal(l.pin1.min_len, 4);
	assert_int_equal(l.pin1.stored_len, 8);
	assert_true(l.pin1.flags & P15_PIN_NEEDS_PADDING);
	assert_int_equal(l.pin1.pad_char, 0xFF);
	assert_int_equal(l.puk.pad_char, 0x00); /* no padChar: 00, as OpenSC */

	const struct fx_step steps[] = {
		{ "00 24 00 81 10 31323334FFFFFFFF 353637383930FFFF", "9000", CARD_OK },
		{ "00 2C 00 81 10 3132333435363738 353637383930FFFF", "6983", CARD_OK },
		{ "00 20 00 81 08 31323334FFFFFFFF", "63C1", CARD_OK },
	};
	struct fx_script sc = { steps, 3, 0, false, 0 };
	struct apdu_transport t = { .transmit = fx_script_transmit, .ctx = &sc };
	char a[16] = "1234", b[16] = "567890", puk[16] = "12345678";
	int tries = 99;
	assert_int_equal(ops_change(&t, &l.pin1, a, b, &tries), CARD_OK);
	assert_int_equal(tries, -1);
	strcpy(b, "567890");
	assert_int_equal(ops_unblock(&t, &l.pin1, &l.puk, puk, b, &tries), CARD_E_PUK_BLOCKED);
	assert_int_equal(tries, 0);
	strcpy(a, "1234");
	assert_int_equal(ops_verify(&t, &l.pin1, a, &tries), CARD_E_PIN_WRONG);
	assert_int_equal(tries, 1);
	assert_int_equal(sc.calls, 3);

	/* Forbidden by the AODF or not encodable here: refused with nothing sent, codes wiped. */
	struct siths_pin p = l.pin1;
	struct fx_script none = { NULL, 0, 0, false, 0 };
	struct apdu_transport nt = { .transmit = fx_script_transmit, .ctx = &none };
	strcpy(a, "1234"), strcpy(b, "5678");
	p.flags |= P15_PIN_CHANGE_DISABLED;
	assert_int_equal(ops_change(&nt, &p, a, b, NULL), CARD_E_NOT_SUPPORTED);
	assert_int_equal(a[0] | b[0], 0);
	strcpy(a, "1234"), strcpy(puk, "12345678");
	assert_int_equal(ops_activate(&nt, &p, a, NULL), CARD_E_NOT_SUPPORTED);
	p.flags = P15_PIN_UNBLOCK_DISABLED;
	assert_int_equal(ops_unblock(&nt, &p, &l.puk, puk, a, NULL), CARD_E_NOT_SUPPORTED);
	assert_int_equal(puk[0], 0);
	p = l.pin1;
	p.type = P15_PIN_TYPE_BCD;
	strcpy(a, "1234");
	assert_int_equal(ops_verify(&nt, &p, a, NULL), CARD_E_NOT_SUPPORTED);
	p = l.pin1;
	p.stored_len = 3; /* shorter than the code: cannot be padded */
	strcpy(a, "1234");
	assert_int_equal(ops_verify(&nt, &p, a, NULL), CARD_E_WRONG_DATA);
	p.present = false;
	strcpy(a, "1234");
	assert_int_equal(ops_verify(&nt, &p, a, NULL), CARD_E_NOT_SUPPORTED);
	assert_int_equal(none.calls, 0);
	siths_layout_free(&l);
	sim_card_free(c);
}

/* Whatever a card answers to a PIN command — even 6Cxx, "send it again with Le xx" — it is sent
 * once. */
static void odd_answers_never_resend(void **state)
{
	(void)state;
	static const char *const answers[] = { "6C10", "6984", "6A80", "6700", "6F00" };
	static const card_err want[] = { CARD_E_COMM, CARD_E_PIN_NOT_ACTIVATED, CARD_E_WRONG_DATA,
					 CARD_E_WRONG_LENGTH, CARD_E_CARD_ERROR };
	struct siths_pin p = {
		.present = true, .ref = 2, .min_len = 6, .max_len = 8, .type = P15_PIN_TYPE_ASCII
	};
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		const struct fx_step st[] = { { NULL, answers[i], CARD_OK } };
		struct fx_script sc = { st, 1, 0, false, 0 };
		struct apdu_transport t = { .transmit = fx_script_transmit, .ctx = &sc };
		char a[16] = "123456", b[16] = "654321";
		int tries = 99;
		assert_int_equal(ops_change(&t, &p, a, b, &tries), want[i]);
		assert_int_equal(sc.calls, 1);
		assert_int_equal(tries, -1);
	}
}

int main(void)
{
	if (fx_sim_pki("test-pki-card-pins"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pins_read_at_insertion),
		cmocka_unit_test(change_is_one_command),
		cmocka_unit_test(wrong_old_code_then_blocked),
		cmocka_unit_test(malformed_codes_never_sent),
		cmocka_unit_test(unblock_with_the_puk),
		cmocka_unit_test(blocked_puk_is_final),
		cmocka_unit_test(reserve_card_activates_pin2),
		cmocka_unit_test(pulled_during_the_command),
		cmocka_unit_test(encoding_from_the_aodf),
		cmocka_unit_test(odd_answers_never_resend),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
