/* test_siths.c — unit tests of the SITHS layer (card/siths.c) reading the virtual card's
 * interpreter in-process (no pcscd): every model field for the seed card and a reserve
 * trust-level-2 card with a signature certificate, PIN counters, a card without EF.DIR and with
 * relative paths, damaged files (garbage, truncated DER, half-written certificate, a certificate
 * for an old key), and a card pulled at every APDU. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "siths.h"
#include "fx_sim.h"
#include "sim/sim_apdu.h"
#include "sim/sim_card.h"
#include "sim/sim_p15.h"

static card_err read_card(struct sim_card *c, struct card_model *m, long pull_after, long *count)
{
	struct fx_simt s = { c, pull_after, 0 };
	struct apdu_transport t = { .transmit = fx_sim_transmit, .ctx = &s };
	memset(m, 0, sizeof(*m));
	strcpy(m->reader, "Virtual PCD 00 00");
	sim_card_reset_session(c);
	card_err e = siths_read(&t, m);
	if (count)
		*count = s.count;
	return e;
}

static void apdu(struct sim_card *c, const char *hex, unsigned want_sw)
{
	static uint8_t out[SIM_RAPDU_MAX];
	uint8_t a[600];
	size_t n = 0;
	for (const char *p = hex; *p; p++) {
		if (*p == ' ')
			continue;
		unsigned v;
		assert_int_equal(sscanf(p, "%2x", &v), 1);
		a[n++] = (uint8_t)v;
		p++;
	}
	size_t rn = sim_apdu_process(c, a, n, out);
	unsigned sw = (unsigned)(out[rn - 2] << 8 | out[rn - 1]);
	if (sw != want_sw)
		fail_msg("%s: SW %04X, want %04X", hex, sw, want_sw);
}

static void seed_card(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(NULL);
	struct card_model *m = calloc(1, sizeof(*m));
	assert_int_equal(read_card(c, m, -1, NULL), CARD_OK);
	assert_int_equal(m->status, CARD_STATUS_OK);
	assert_string_equal(m->card_number, "9752269885715693047");
	assert_int_equal(m->type, CARD_TYPE_ORDINARY);
	assert_string_equal(m->holder, "Olof Svensson Andersson");
	assert_string_equal(m->organisation, "Västra Götalandsregionen");
	assert_string_equal(m->valid_from, "2023-11-18");
	assert_string_equal(m->valid_to, "2028-09-30");
	assert_string_equal(m->auth.hsa_id, "TSTNMT2321000156-10XK");
	assert_string_equal(m->auth.upn, "osa@test.se");
	assert_string_equal(m->auth.email, "cathrine.andersson@inera.se");
	assert_int_equal(m->auth.trust_level, 3);
	assert_string_equal(m->auth.issuer_cn, "TEST SITHS e-id Person HSA-id 3 CA v1");
	assert_false(m->sign.present);
	assert_false(m->sign_cert_mismatch);
	assert_true(m->sign_key_present);
	assert_true(m->pin1.present);
	assert_string_equal(m->pin1.label, "legitimering");
	assert_int_equal(m->pin1.tries_left, 3);
	assert_false(m->pin1.blocked);
	assert_int_equal(m->pin1.min_len, 6);
	assert_int_equal(m->pin1.max_len, 8);
	assert_string_equal(m->pin2.label, "underskrift");
	assert_int_equal(m->pin2.ref, 2);
	assert_int_equal(m->pin2.tries_left, 3);
	assert_string_equal(m->puk.label, "PUK");
	assert_int_equal(m->puk.tries_left, 3);
	assert_string_equal(m->token_label, "SITHS e-id Ordinarie kort");
	/* the id is derived from the card number, not the reader */
	char id[CARD_ID_LEN];
	strcpy(m->reader, "another reader");
	siths_card_id(m, id);
	assert_string_equal(id, m->id);
	assert_int_equal(strlen(m->id), 17);
	free(m);
	sim_card_free(c);
}

static void reserve_tweak(struct sim_profile *p)
{
	p->card_type = SIM_CARD_RESERVE;
	p->trust_level = 2;
	strcpy(p->holder, "Åsa Ödmark");
	strcpy(p->given_name, "Åsa");
	strcpy(p->surname, "Ödmark");
	strcpy(p->organisation, "Region Östergötland");
	strcpy(p->hsa_id, "TSTNMT2321000156-20AB");
	strcpy(p->upn, "asa@test.se");
	strcpy(p->email, "asa.odmark@test.se");
	strcpy(p->card_number, "9752269885715690001");
	strcpy(p->valid_from, "2024-01-01");
	strcpy(p->valid_to, "2029-12-31");
	p->with_signature_certificate = true;
}

static void reserve_card_with_signature(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(reserve_tweak);
	struct card_model *m = calloc(1, sizeof(*m));
	assert_int_equal(read_card(c, m, -1, NULL), CARD_OK);
	assert_int_equal(m->type, CARD_TYPE_RESERVE);
	assert_string_equal(m->holder, "Åsa Ödmark");
	assert_string_equal(m->organisation, "Region Östergötland");
	assert_string_equal(m->card_number, "9752269885715690001");
	assert_int_equal(m->auth.trust_level, 2);
	assert_string_equal(m->valid_from, "2024-01-01");
	assert_string_equal(m->valid_to, "2029-12-31");
	assert_true(m->sign.present);
	assert_true(m->sign_key_checked);
	assert_string_equal(m->sign.hsa_id, "TSTNMT2321000156-20AB");
	assert_int_equal(m->sign.trust_level, 2);
	assert_string_equal(m->sign.valid_to, "2029-12-31");

	/* A new signing key makes the old certificate unusable: absent, never present. */
	apdu(c, "0020000206 363534333231", 0x9000); /* PIN2 654321 */
	apdu(c, "0046000200", 0x610E);
	assert_int_equal(read_card(c, m, -1, NULL), CARD_OK);
	assert_false(m->sign.present);
	assert_true(m->sign_cert_mismatch);
	free(m);
	sim_card_free(c);
}

static void pin_counters(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(NULL);
	struct card_model *m = calloc(1, sizeof(*m));
	apdu(c, "0020000106 303030303030", 0x63C2);
	for (int i = 0; i < 3; i++)
		apdu(c, "0020000206 303030303030", i < 2 ? 0x63C2 - (unsigned)i : 0x63C0);
	assert_int_equal(read_card(c, m, -1, NULL), CARD_OK);
	assert_int_equal(m->pin1.tries_left, 2);
	assert_false(m->pin1.blocked);
	assert_int_equal(m->pin2.tries_left, 0);
	assert_true(m->pin2.blocked);
	assert_int_equal(m->puk.tries_left, 3);
	free(m);
	sim_card_free(c);
}

static void set_file(struct sim_card *c, uint16_t fid, const uint8_t *p, size_t n)
{
	struct sim_file *f = sim_card_file(c, fid);
	assert_non_null(f);
	uint8_t *d = malloc(n);
	memcpy(d, p, n);
	free(f->data);
	f->data = d;
	f->size = n;
}

/* No EF.DIR (application selected by AID) and an ODF with paths relative to the application. */
static void no_dir_relative_paths(void **state)
{
	(void)state;
	static const uint8_t odf[] = {
		0xA0, 0x06, 0x30, 0x04, 0x04, 0x02, 0x44, 0x02, 0xA1, 0x06, 0x30,
		0x04, 0x04, 0x02, 0x44, 0x03, 0xA4, 0x06, 0x30, 0x04, 0x04, 0x02,
		0x44, 0x04, 0xA8, 0x06, 0x30, 0x04, 0x04, 0x02, 0x44, 0x01,
	};
	struct sim_card *c = fx_sim_card(NULL);
	struct card_model *m = calloc(1, sizeof(*m));
	sim_card_file(c, SIM_FID_DIR)->fid = 0x2F0F; /* EF.DIR gone: SELECT 2F00 answers 6A82 */
	set_file(c, SIM_FID_ODF, odf, sizeof(odf));
	assert_int_equal(read_card(c, m, -1, NULL), CARD_OK);
	assert_string_equal(m->auth.hsa_id, "TSTNMT2321000156-10XK");
	assert_int_equal(m->pin2.tries_left, 3);
	free(m);
	sim_card_free(c);
}

static void damaged(void **state)
{
	(void)state;
	/* truncate: keep the first half (the CDF: 40 bytes, inside the first entry; its second half
	 * is padding) */
	static const struct {
		uint16_t fid;
		bool truncate;
		const char *where;
		card_err want;
	} cases[] = {
		{ SIM_FID_CDF, false, "EF.CDF", CARD_E_BAD_DATA },
		{ SIM_FID_CDF, true, "EF.CDF", CARD_E_BAD_DATA },
		{ SIM_FID_TOKENINFO, true, "EF.TokenInfo", CARD_E_BAD_DATA },
		{ SIM_FID_ODF, false, "EF.ODF", CARD_E_BAD_DATA },
		{ SIM_FID_AODF, true, "EF.AODF", CARD_E_BAD_DATA },
		{ SIM_FID_AUTH_CERT, true, "authentication certificate", CARD_E_BAD_DATA },
		{ SIM_FID_DIR, false, "EF.DIR", CARD_E_BAD_DATA },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sim_card *c = fx_sim_card(NULL);
		struct card_model *m = calloc(1, sizeof(*m));
		struct sim_file *f = sim_card_file(c, cases[i].fid);
		if (cases[i].truncate) {
			f->size = cases[i].fid == SIM_FID_CDF ? 40 : f->size / 2;
		} else {
			for (size_t k = 0; k < f->size; k++)
				f->data[k] = (uint8_t)(0x5A ^ (k * 37));
		}
		card_err e = read_card(c, m, -1, NULL);
		if (e != cases[i].want || m->status != CARD_STATUS_ERROR ||
		    !strstr(m->error_detail, cases[i].where))
			fail_msg("case %zu: %s, status %d, detail \"%s\"", i, card_strerror(e),
				 m->status, m->error_detail);
		assert_int_equal(m->error, cases[i].want);
		assert_true(m->id[0] == 'c');
		free(m);
		sim_card_free(c);
	}
}

/* A signature certificate cut in half (pulled while writing) or zeroed reads as absent. */
static void half_written_signature_certificate(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(reserve_tweak);
	struct card_model *m = calloc(1, sizeof(*m));
	struct sim_file *f = sim_card_file(c, SIM_FID_SIGN_CERT);
	memset(f->data + 600, 0, f->size - 600);
	assert_int_equal(read_card(c, m, -1, NULL), CARD_OK);
	assert_int_equal(m->status, CARD_STATUS_OK);
	assert_false(m->sign.present);
	assert_true(m->sign_cert_mismatch);
	assert_string_equal(m->auth.hsa_id, "TSTNMT2321000156-20AB"); /* the rest still reads */
	free(m);
	sim_card_free(c);
}

/* The card pulled at every single APDU of a read: always CARD_E_REMOVED, never a crash. */
static void pulled_everywhere(void **state)
{
	(void)state;
	struct sim_card *c = fx_sim_card(reserve_tweak);
	struct card_model *m = calloc(1, sizeof(*m));
	long total = 0;
	assert_int_equal(read_card(c, m, -1, &total), CARD_OK);
	assert_true(total > 10);
	for (long k = 0; k < total; k++)
		assert_int_equal(read_card(c, m, k, NULL), CARD_E_REMOVED);
	free(m);
	sim_card_free(c);
}

static void trust_levels(void **state)
{
	(void)state;
	assert_int_equal(siths_trust_level("2.999.752.1.3"), 3);
	assert_int_equal(siths_trust_level("2.999.752.1.2"), 2);
	assert_int_equal(siths_trust_level("2.999.752.1.23"), 0);
	assert_int_equal(siths_trust_level("2.999.752.1."), 0);
	assert_int_equal(siths_trust_level("1.2.752.129.5.2.1"), 0);
}

int main(void)
{
	if (fx_sim_pki("test-pki-siths"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_card),
		cmocka_unit_test(reserve_card_with_signature),
		cmocka_unit_test(pin_counters),
		cmocka_unit_test(no_dir_relative_paths),
		cmocka_unit_test(damaged),
		cmocka_unit_test(half_written_signature_certificate),
		cmocka_unit_test(pulled_everywhere),
		cmocka_unit_test(trust_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
