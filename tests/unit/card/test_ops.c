/* test_ops.c — card/ops.c (the card operations of a login and a download) against the virtual card's interpreter
 * in-process and against hand-made card answers: PIN format before any APDU, VERIFY counters,
 * the GENERATE response parser on malformed input, the CDF entry byte-identical to the card's
 * own, the CDF walk, and the write protocol pulled after every single APDU: the model never
 * shows a half certificate, only the committed one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/x509.h>

#include "ops.h"
#include "siths.h"
#include "fx_sim.h"
#include "sim/sim_apdu.h"
#include "sim/sim_card.h"
#include "sim/sim_der.h"
#include "sim/sim_p15.h"

static void with_signature(struct sim_profile *p)
{
	p->with_signature_certificate = true;
}

static void model(struct sim_card *c, struct card_model *m)
{
	struct fx_simt s = { c, -1, 0 };
	struct apdu_transport t = { .transmit = fx_sim_transmit, .ctx = &s };
	memset(m, 0, sizeof(*m));
	sim_card_reset_session(c);
	assert_int_equal(siths_read(&t, m), CARD_OK);
}

static void pin_format(void **state)
{
	(void)state;
	struct card_pin p = { .present = true, .min_len = 6, .max_len = 8 };
	assert_true(ops_pin_format_ok(&p, "123456"));
	assert_true(ops_pin_format_ok(&p, "12345678"));
	const char *bad[] = { "",        "12345",   "123456789",    "12345a",
			      " 123456", "123 456", "１２３４５６", "-12345" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(ops_pin_format_ok(&p, bad[i]));
	p.max_len = 0; /* not stated: the SITHS maximum */
	assert_false(ops_pin_format_ok(&p, "123456789"));
	p.present = false;
	assert_false(ops_pin_format_ok(&p, "123456"));
}

static void verify_counts(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(NULL);
	struct card_model m;
	struct siths_layout l;
	struct fx_simt r = { c, -1, 0 };
	struct apdu_transport rt = { .transmit = fx_sim_transmit, .ctx = &r };
	memset(&m, 0, sizeof(m));
	assert_int_equal(siths_read_layout(&rt, &m, &l), CARD_OK);
	sim_card_reset_session(c);
	struct fx_simt s = { c, -1, 0 };
	struct apdu_transport t = { .transmit = fx_sim_transmit, .ctx = &s };
	int tries = 99;
	char pin[16];
	strcpy(pin, "12a456");
	assert_int_equal(ops_verify(&t, &l.pin2, pin, &tries), CARD_E_WRONG_DATA);
	assert_int_equal(s.count, 0); /* nothing sent for a malformed PIN */
	assert_int_equal(pin[0], 0);  /* and the buffer is wiped anyway */
	strcpy(pin, "111111");
	assert_int_equal(ops_verify(&t, &l.pin2, pin, &tries), CARD_E_PIN_WRONG);
	assert_int_equal(tries, 2);
	assert_int_equal(s.count, 1); /* one VERIFY, never retried */
	assert_memory_equal(pin, "\0\0\0\0\0\0", 6);
	strcpy(pin, "654321");
	assert_int_equal(ops_verify(&t, &l.pin2, pin, &tries), CARD_OK);
	model(c, &m);
	assert_int_equal(m.pin2.tries_left, 3);
	siths_layout_free(&l);
	sim_card_free(c);
}

static void pubkey_parser(void **state)
{
	(void)state;
	struct card_pubkey k;
	uint8_t good[] = { 0x7F, 0x49, 0x09, 0x81, 0x03, 0x00, 0xC1, 0x02, 0x82, 0x02, 0x01, 0x01 };
	assert_int_equal(ops_parse_pubkey(good, sizeof good, &k), CARD_OK);
	assert_int_equal(k.n_len, 2); /* leading zero dropped */
	assert_int_equal(k.e_len, 2);
	for (size_t n = 0; n < sizeof good; n++)
		assert_int_equal(ops_parse_pubkey(good, n, &k), CARD_E_BAD_DATA);
	uint8_t no_e[] = { 0x7F, 0x49, 0x04, 0x81, 0x02, 0xC1, 0x02 };
	uint8_t dup[] = { 0x7F, 0x49, 0x08, 0x81, 0x02, 0xC1, 0x02, 0x81, 0x02, 0xC1, 0x02 };
	uint8_t zero[] = { 0x7F, 0x49, 0x07, 0x81, 0x01, 0x00, 0x82, 0x02, 0x01, 0x01 };
	uint8_t other[] = { 0x7F, 0x49, 0x0B, 0x81, 0x02, 0xC1, 0x02,
			    0x82, 0x01, 0x03, 0x86, 0x02, 0x00, 0x00 };
	uint8_t wrong[] = { 0x30, 0x07, 0x81, 0x02, 0xC1, 0x02, 0x82, 0x01, 0x03 };
	uint8_t over[] = {
		0x7F, 0x49, 0x09, 0x81, 0x03, 0xC1, 0x02, 0x82, 0x01, 0x03
	}; /* length lies */
	const struct {
		uint8_t *p;
		size_t n;
	} bad[] = { { no_e, sizeof no_e },   { dup, sizeof dup },     { zero, sizeof zero },
		    { other, sizeof other }, { wrong, sizeof wrong }, { over, sizeof over } };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ops_parse_pubkey(bad[i].p, bad[i].n, &k), CARD_E_BAD_DATA);
	/* A modulus larger than 4096 bits is refused, not copied. */
	static uint8_t big[4 + 4 + 600 + 4];
	size_t i = 0;
	big[i++] = 0x7F, big[i++] = 0x49, big[i++] = 0x82, big[i++] = 0x02, big[i++] = 0x60;
	big[i++] = 0x81, big[i++] = 0x82, big[i++] = 0x02, big[i++] = 0x58;
	memset(big + i, 0xC3, 600);
	i += 600;
	big[i++] = 0x82, big[i++] = 0x01, big[i++] = 0x03;
	assert_int_equal(ops_parse_pubkey(big, i, &k), CARD_E_BAD_DATA);
}

static void layout_of(struct sim_card *c, struct siths_layout *l)
{
	struct fx_simt s = { c, -1, 0 };
	struct apdu_transport t = { .transmit = fx_sim_transmit, .ctx = &s };
	assert_int_equal(siths_layout_read(&t, l), CARD_OK);
}

static void cdf_entry_is_the_cards(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(NULL);
	struct siths_layout l;
	layout_of(c, &l);
	assert_int_equal(l.sign_key_ref, 2);
	assert_int_equal(l.auth_key_ref, 1);
	assert_int_equal(l.sign_cert.len, 6);
	for (size_t len = 100; len <= 3072; len += 97) {
		uint8_t e[160];
		size_t n = 0;
		struct sim_der d;
		sim_der_init(&d);
		sim_p15_cdf_sign_entry(&d, len);
		assert_int_equal(ops_cdf_entry(&l, len, e, sizeof e, &n), CARD_OK);
		assert_int_equal(n, d.len);
		assert_memory_equal(e, d.buf, n);
		sim_der_free(&d);
	}
	/* The CDF walk: entries contain 00 bytes; the end is after the last entry. */
	struct sim_file *f = sim_card_file(c, 0x4404);
	size_t end = 0, old = 0, old_len = 9;
	assert_int_equal(ops_cdf_slot(&l, f->data, f->size, &end, &old, &old_len), CARD_OK);
	assert_int_equal(old_len, 0);
	assert_int_equal(old, SIZE_MAX);
	assert_true(end > 0 && end < f->size && f->data[end] == 0 && f->data[end - 1] != 0x30);
	uint8_t broken[] = { 0x30, 0x05, 0x01 };
	assert_int_equal(ops_cdf_slot(&l, broken, sizeof broken, &end, &old, &old_len),
			 CARD_E_BAD_DATA);
	siths_layout_free(&l);
	sim_card_free(c);
}

static void count_progress(size_t done, size_t total, void *user)
{
	size_t *last = user;
	assert_true(done > *last && done <= total);
	*last = done;
}

/* Writes another certificate (the authentication one: any DER will do for the protocol) over
 * the card's signature certificate, pulled after every APDU in turn. Invariant: whenever the
 * CDF lists the signature certificate, EF 4302 holds exactly the certificate it was committed
 * with — the old one before the withdrawal, the new one after the commit; never a half one. */
static void write_pulled_everywhere(void **state)
{
	(void)state;
	long total = -1;
	size_t listed_old = 0, unlisted = 0;
	for (long pull = 0; total < 0 || pull < total; pull++) {
		struct sim_card *c = fx_sim_card(with_signature);
		struct sim_file *sf = sim_card_file(c, 0x4302), *af = sim_card_file(c, 0x4301);
		uint8_t *old = malloc(sf->size), *der = malloc(af->size);
		size_t n = af->size;
		memcpy(old, sf->data, sf->size);
		memcpy(der, af->data, n);
		struct card_model m;
		model(c, &m);
		assert_true(m.sign.present);
		struct siths_layout l;
		layout_of(c, &l);
		sim_card_reset_session(c);
		struct fx_simt s = { c, -1, 0 };
		struct apdu_transport t = { .transmit = fx_sim_transmit, .ctx = &s };
		char pin[] = "654321";
		assert_int_equal(ops_verify(&t, &l.pin2, pin, NULL), CARD_OK);
		s.count = 0;
		s.pull_after = total < 0 ? -1 : pull;
		size_t last = 0;
		bool sent = true;
		card_err e = ops_write_sign_cert(&t, &l, der, n, count_progress, &last, &sent);
		struct sim_file *cdf = sim_card_file(c, 0x4404);
		size_t end, at, at_len;
		assert_int_equal(ops_cdf_slot(&l, cdf->data, cdf->size, &end, &at, &at_len),
				 CARD_OK);
		sf = sim_card_file(c, 0x4302);
		if (total < 0) {
			assert_int_equal(e, CARD_OK);
			assert_true(sent);
			assert_int_equal(last, n);
			assert_true(at != SIZE_MAX);
			assert_memory_equal(sf->data, der, n);
			total = s.count;
			pull = -1;
		} else {
			assert_int_equal(e, CARD_E_REMOVED);
			/* Only the last APDU is the commit: pulled there, it was sent. */
			assert_int_equal(sent, pull == total - 1);
			if (at != SIZE_MAX) {
				assert_memory_equal(sf->data, old, sf->size);
				listed_old++;
			} else {
				unlisted++;
			}
			model(c, &m);
			assert_int_equal(m.sign.present, at != SIZE_MAX);
		}
		free(old);
		free(der);
		siths_layout_free(&l);
		sim_card_free(c);
	}
	assert_true(total > 8);
	assert_true(listed_old > 0 && unlisted > 5);
}

static void sign_and_generate(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(NULL);
	struct card_model m;
	model(c, &m);
	struct siths_layout l;
	layout_of(c, &l);
	struct fx_simt s = { c, -1, 0 };
	struct apdu_transport t = { .transmit = fx_sim_transmit, .ctx = &s };
	uint8_t di[51] = { 0x30, 0x31 }, sig[512];
	size_t sl = 0;
	struct card_pubkey k;
	/* Without PIN2: the card refuses, nothing is invented. */
	assert_int_equal(ops_generate(&t, (uint8_t)l.sign_key_ref, &k), CARD_E_SECURITY);
	assert_int_equal(ops_sign(&t, CARD_KEY_SIGN, (uint8_t)l.sign_key_ref, di, sizeof di, sig,
				  sizeof sig, &sl),
			 CARD_E_SECURITY);
	char pin[] = "654321";
	assert_int_equal(ops_verify(&t, &l.pin2, pin, NULL), CARD_OK);
	assert_int_equal(ops_generate(&t, (uint8_t)l.sign_key_ref, &k), CARD_OK);
	assert_int_equal(k.n_len, 256);
	assert_int_equal(ops_sign(&t, CARD_KEY_SIGN, (uint8_t)l.sign_key_ref, di, sizeof di, sig,
				  sizeof sig, &sl),
			 CARD_OK);
	assert_int_equal(sl, 256);
	/* The generated key replaced the signing key: the card's EF 4502 now holds that modulus. */
	struct sim_file *pub = sim_card_file(c, 0x4502);
	bool found = false;
	for (size_t i = 0; !found && i + k.n_len <= pub->size; i++)
		found = memcmp(pub->data + i, k.n, k.n_len) == 0;
	assert_true(found);
	siths_layout_free(&l);
	sim_card_free(c);
}

int main(void)
{
	if (fx_sim_pki("test-pki-ops"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pin_format),        cmocka_unit_test(verify_counts),
		cmocka_unit_test(pubkey_parser),     cmocka_unit_test(cdf_entry_is_the_cards),
		cmocka_unit_test(sign_and_generate), cmocka_unit_test(write_pulled_everywhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
