/* test_sim_apdu.c — unit tests of the virtual card's command interpreter: every malformed or
 * foreign APDU gets a status word (never a crash), and the ISO behaviours the daemon and OpenSC
 * rely on (selection, reads, PIN counters, access rules, signing, key generation, chaining). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sim/sim_apdu.h"
#include "sim/sim_card.h"
#include "sim/sim_p15.h"

static char pki_dir[256];

/* memmem is a GNU extension; a plain search keeps the test portable C17. */
static const void *find(const void *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; m <= n && i <= n - m; i++)
		if (!memcmp((const uint8_t *)hay + i, needle, m))
			return (const uint8_t *)hay + i;
	return NULL;
}
static uint8_t rbuf[SIM_RAPDU_MAX];
static size_t rlen;

/* Sends a hex APDU (spaces ignored); returns the status word, data in rbuf[0..rlen-2). */
static unsigned tx(struct sim_card *c, const char *hex)
{
	uint8_t a[70000];
	size_t n = 0;
	for (const char *p = hex; *p;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		unsigned v;
		assert_int_equal(sscanf(p, "%2x", &v), 1);
		a[n++] = (uint8_t)v;
		p += 2;
	}
	rlen = sim_apdu_process(c, a, n, rbuf);
	assert_true(rlen >= 2 && rlen <= SIM_RAPDU_MAX);
	return (unsigned)(rbuf[rlen - 2] << 8 | rbuf[rlen - 1]);
}

static unsigned txb(struct sim_card *c, const uint8_t *a, size_t n)
{
	rlen = sim_apdu_process(c, a, n, rbuf);
	assert_true(rlen >= 2 && rlen <= SIM_RAPDU_MAX);
	return (unsigned)(rbuf[rlen - 2] << 8 | rbuf[rlen - 1]);
}

static int make_card(void **state, bool with_sig)
{
	struct sim_profile p;
	struct sim_card *c = NULL;
	char err[256];
	sim_profile_default(&p);
	p.with_signature_certificate = with_sig;
	enum sim_err rc = sim_card_create(&p, pki_dir, &c, err, sizeof(err));
	sim_profile_wipe(&p);
	if (rc != SIM_OK) {
		fprintf(stderr, "card: %s\n", err);
		return -1;
	}
	c->extended_length = true; /* the interpreter's extended cases are tested too */
	*state = c;
	return 0;
}

static int setup(void **state)
{
	return make_card(state, false);
}
static int setup_sig(void **state)
{
	return make_card(state, true);
}
static int teardown(void **state)
{
	sim_card_free(*state);
	return 0;
}

static void malformed_lengths(void **state)
{
	struct sim_card *c = *state;
	static const struct {
		const char *apdu;
		unsigned sw;
	} cases[] = {
		{ "", 0x6700 },
		{ "00", 0x6700 },
		{ "00A4", 0x6700 },
		{ "00A400", 0x6700 },
		{ "00A40100 02", 0x6A87 },         /* SELECT child DF without a FID */
		{ "00A4000002 3F", 0x6700 },       /* Lc says 2, one byte follows */
		{ "00A4000002 3F000000", 0x6700 }, /* one byte too many */
		{ "00A40000 00", 0x9000 },         /* case 2: MF by empty FID, Le=256 */
		{ "00B0000000 00", 0x6700 },       /* extended marker with a short tail */
		{ "00B00000 000001 00", 0x6700 },  /* extended Lc=1 but no Le and wrong size */
		{ "00A4080C 000000", 0x6A87 }, /* extended case 2 on SELECT by path without data */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned sw = tx(c, cases[i].apdu);
		if (sw != cases[i].sw)
			fail_msg("case %zu (%s): got %04X want %04X", i, cases[i].apdu, sw,
				 cases[i].sw);
	}
}

/* Without --extended-length the card announces short APDUs only and refuses extended ones
 * (6700, as such a card does), the same command short goes through. */
static void short_only_card(void **state)
{
	struct sim_card *c = *state;
	c->extended_length = false;
	assert_int_equal(tx(c, "00A40000 00"), 0x9000);
	assert_int_equal(tx(c, "00A4000C 000000"), 0x6700);
	assert_int_equal(tx(c, "00A40000 02 3F00 00"), 0x9000);
	assert_int_equal(tx(c, "00A40000 000002 3F00 0000"), 0x6700);
	c->extended_length = true;
	assert_int_equal(tx(c, "00A40000 000002 3F00 0000"), 0x9000);
}

static void foreign_commands(void **state)
{
	struct sim_card *c = *state;
	assert_int_equal(tx(c, "80080000 00"),
			 0x6E00); /* MaskTech GET SERIAL (proprietary class) */
	assert_int_equal(tx(c, "FFCA0000 00"), 0x6E00); /* PC/SC pseudo APDU reaching the card */
	assert_int_equal(tx(c, "10A40000 00"), 0x6884); /* chaining */
	assert_int_equal(tx(c, "0CA40000 00"), 0x6882); /* secure messaging */
	assert_int_equal(tx(c, "01A40000 00"), 0x6881); /* logical channel */
	assert_int_equal(tx(c, "00E00000 00"), 0x6D00); /* CREATE FILE: not on this card */
	assert_int_equal(tx(c, "00600000"), 0x6D00);    /* invalid INS */
	assert_int_equal(tx(c, "00CADF30 00"), 0x6A88); /* OpenSC probe: GET DATA */
	assert_int_equal(tx(c, "00CB3FFF 055C03DFC101 00"), 0x6A88);
	assert_int_equal(tx(c, "00A40400 09A00000030800001000 00"), 0x6A82); /* PIV AID */
	assert_int_equal(tx(c, "00A40400 06D27600012401 00"), 0x6A82);       /* OpenPGP AID */
	assert_int_equal(tx(c, "00A40700 00"), 0x6A86);                      /* bad P1 */
	assert_int_equal(tx(c, "00A40002 023F00 00"), 0x6A86);               /* next occurrence */
	assert_int_equal(tx(c, "00C00000 10"), 0x6985);                      /* nothing pending */
	assert_int_equal(tx(c, "002A8086 0100 00"), 0x6A86);                 /* PSO decipher */
}

static void random_apdus_never_crash(void **state)
{
	struct sim_card *c = *state;
	static const uint8_t ins[] = { 0xA4, 0xB0, 0xD6, 0x20, 0x24, 0x2C, 0x22, 0x2A,
				       0x88, 0x46, 0xC0, 0x84, 0xCA, 0xB1, 0x00 };
	uint8_t a[600];
	for (int i = 0; i < 20000; i++) {
		uint8_t r[4];
		RAND_bytes(r, sizeof(r));
		size_t n = (size_t)(r[0] | r[1] << 8) % sizeof(a);
		RAND_bytes(a, (int)n);
		if (n >= 2 && (r[2] & 3)) {
			a[0] = 0x00;
			a[1] = ins[r[3] % sizeof(ins)];
		}
		if (a[1] == 0x46 || (n >= 4 && a[1] == 0x2C))
			a[1] = 0xB0; /* keep the run fast and the PUK alive: no key generation */
		txb(c, a, n);
		if (i % 997 == 0)
			sim_card_reset_session(c);
	}
}

static void select_and_read(void **state)
{
	struct sim_card *c = *state;
	struct sim_file *aodf = sim_card_file(c, SIM_FID_AODF);
	assert_int_equal(tx(c, "00A40400 0CA000000063504B43532D3135 00"), 0x9000);
	assert_int_equal(rbuf[0], 0x6F);
	assert_non_null(find(rbuf, rlen, "\x84\x0C\xA0\x00\x00\x00\x63", 7));
	assert_int_equal(tx(c, "00A40904 024401 00"), 0x9000); /* path from current DF */
	assert_int_equal(rbuf[0], 0x62);
	assert_int_equal(rbuf[2], 0x80);
	assert_int_equal(rbuf[4] << 8 | rbuf[5], aodf->size);
	assert_int_equal(tx(c, "00B00000 00"), 0x9000);
	assert_int_equal(rlen - 2, aodf->size);
	assert_memory_equal(rbuf, aodf->data, aodf->size);
	assert_int_equal(tx(c, "00B00005 03"), 0x9000); /* offset */
	assert_memory_equal(rbuf, aodf->data + 5, 3);
	char cmd[32];
	snprintf(cmd, sizeof(cmd), "00B0%04zX 01", aodf->size);
	assert_int_equal(tx(c, cmd), 0x6B00);
	snprintf(cmd, sizeof(cmd), "00B0%04zX 10", aodf->size - 4);
	assert_int_equal(tx(c, cmd), 0x6282);
	assert_int_equal(rlen - 2, 4);
	assert_int_equal(tx(c, "00A4080C 045015FFFF"), 0x6A82);
	assert_int_equal(tx(c, "00A4000C 023F00"), 0x9000);
	assert_int_equal(tx(c, "00B00000 01"), 0x6986); /* MF selected: no current EF */
	assert_int_equal(tx(c, "00A4080C 0450154302"), 0x9000);
	assert_int_equal(tx(c, "00B00000 000000"), 0x9000); /* extended Le: the whole 3072 bytes */
	assert_int_equal(rlen - 2, SIM_SIGN_CERT_SIZE);
	for (size_t i = 0; i < SIM_SIGN_CERT_SIZE; i++)
		assert_int_equal(rbuf[i], 0); /* no signature certificate yet */
}

static void pin_counters(void **state)
{
	struct sim_card *c = *state;
	assert_int_equal(tx(c, "00200002"), 0x63C3);
	assert_int_equal(tx(c, "00200002 06313131313131"), 0x63C2);
	assert_int_equal(tx(c, "00200002"), 0x63C2);
	assert_int_equal(sim_card_pin(c, 2)->tries, 2);
	assert_int_equal(tx(c, "00200002 06363534333231"), 0x9000); /* 654321 */
	assert_int_equal(tx(c, "00200002"), 0x9000);
	assert_int_equal(sim_card_pin(c, 2)->tries, 3);
	sim_card_reset_session(c);
	assert_int_equal(tx(c, "00200002"), 0x63C3);      /* reset clears the security status */
	assert_int_equal(tx(c, "00200082 0100"), 0x63C2); /* b8 set: same PIN; one wrong byte */
	assert_int_equal(tx(c, "00200002 083132333435363738"), 0x63C1);
	assert_int_equal(tx(c, "00200002 06313131313131"), 0x63C0);
	assert_int_equal(tx(c, "00200002 06363534333231"),
			 0x6983); /* blocked: even the right PIN */
	assert_int_equal(tx(c, "00200002"), 0x6983);
	assert_int_equal(tx(c, "00200009"), 0x6A88);
	/* Unblock with the wrong PUK, then the right one with a new PIN2 = 24681357. */
	assert_int_equal(tx(c, "002C0002 0F31313131313131313234363831334A"),
			 0x6A80); /* new PIN not digits: no PUK try used */
	assert_int_equal(tx(c, "002C0002 1031313131313131313234363831333537"), 0x63C2);
	assert_int_equal(tx(c, "002C0002 1031323334353637383234363831333537"), 0x9000);
	assert_int_equal(tx(c, "00200002"), 0x63C3);
	assert_int_equal(tx(c, "00200002 083234363831333537"), 0x9000);
	/* CHANGE REFERENCE DATA: old 123456 -> new 7777777 (PIN1). */
	assert_int_equal(tx(c, "00240001 0D3132333435363737373737373737"), 0x9000);
	assert_int_equal(tx(c, "00240001 0D3132333435363737373737373737"),
			 0x63C2); /* old no longer valid */
	sim_card_reset_session(c);
	assert_int_equal(tx(c, "00200001 0737373737373737"), 0x9000);
}

static void access_rules(void **state)
{
	struct sim_card *c = *state;
	assert_int_equal(tx(c, "00A4080C 0450154302"), 0x9000);
	assert_int_equal(tx(c, "00D60000 03010203"), 0x6982);
	assert_int_equal(tx(c, "00200001 06313233343536"), 0x9000); /* PIN1 is not enough */
	assert_int_equal(tx(c, "00D60000 03010203"), 0x6982);
	assert_int_equal(tx(c, "00200002 06363534333231"), 0x9000);
	assert_int_equal(tx(c, "00D60000 03010203"), 0x9000);
	assert_int_equal(tx(c, "00B00000 03"), 0x9000);
	assert_memory_equal(rbuf, "\x01\x02\x03", 3);
	assert_int_equal(tx(c, "00D60BFF 020102"), 0x6A84);
	assert_int_equal(tx(c, "00D61000 020102"), 0x6B00);
	assert_int_equal(tx(c, "00A4080C 0450155031"), 0x9000);
	assert_int_equal(tx(c, "00D60000 0100"), 0x6985); /* ODF: never writable */
	sim_card_reset_session(c);
	assert_int_equal(tx(c, "00A4080C 0450154404"), 0x9000);
	assert_int_equal(tx(c, "00D60000 0100"), 0x6982);
}

static EVP_PKEY *file_pubkey(struct sim_card *c, uint16_t fid)
{
	struct sim_file *f = sim_card_file(c, fid);
	const unsigned char *p = f->data;
	return d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)f->size);
}

static void verify_sig(EVP_PKEY *pub, const uint8_t *data, size_t n, const uint8_t *sig,
		       size_t siglen)
{
	uint8_t rec[256];
	size_t reclen = sizeof(rec);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	assert_non_null(ctx);
	assert_true(EVP_PKEY_verify_recover_init(ctx) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0);
	assert_true(EVP_PKEY_verify_recover(ctx, rec, &reclen, sig, siglen) > 0);
	assert_int_equal(reclen, n);
	assert_memory_equal(rec, data, n);
	EVP_PKEY_CTX_free(ctx);
}

static const char digestinfo[] = "3031300d060960864801650304020105000420"
				 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static void sign_with_both_keys(void **state)
{
	struct sim_card *c = *state;
	uint8_t di[51];
	for (size_t i = 0; i < sizeof(di); i++)
		sscanf(digestinfo + 2 * i, "%2hhx", &di[i]);
	char apdu[256];
	snprintf(apdu, sizeof(apdu), "002A9E9A 33%s 00", digestinfo);

	assert_int_equal(tx(c, apdu), 0x6985); /* no MSE yet */
	assert_int_equal(tx(c, "002241B6 0A 810250158401028001FF"), 0x9000);
	assert_int_equal(tx(c, apdu), 0x6982); /* PIN2 not verified */
	assert_int_equal(tx(c, "00200001 06313233343536"), 0x9000);
	assert_int_equal(tx(c, apdu), 0x6982); /* PIN1 does not unlock the signing key */
	assert_int_equal(tx(c, "00200002 06363534333231"), 0x9000);
	assert_int_equal(tx(c, apdu), 0x9000);
	assert_int_equal(rlen - 2, 256);
	EVP_PKEY *sign_pub = file_pubkey(c, SIM_FID_SIGN_PUB),
		 *auth_pub = file_pubkey(c, SIM_FID_AUTH_PUB);
	verify_sig(sign_pub, di, sizeof(di), rbuf, 256);

	assert_int_equal(tx(c, "002241B6 03 840109"), 0x6A88);
	assert_int_equal(tx(c, "002241B6 02 8402"), 0x6A80);
	assert_int_equal(tx(c, "002241B6 07 81024401840101"), 0x6A88);
	assert_int_equal(tx(c, "002241B6 03 840101"), 0x9000);
	assert_int_equal(tx(c, apdu), 0x9000);
	verify_sig(auth_pub, di, sizeof(di), rbuf, 256);
	/* Short Le below 256: chained with 61xx. */
	snprintf(apdu, sizeof(apdu), "002A9E9A 33%s 80", digestinfo);
	assert_int_equal(tx(c, apdu), 0x6180);
	uint8_t sig[256];
	memcpy(sig, rbuf, 128);
	assert_int_equal(tx(c, "00C00000 81"), 0x6C80);
	assert_int_equal(tx(c, "00C00000 80"), 0x9000);
	memcpy(sig + 128, rbuf, 128);
	verify_sig(auth_pub, di, sizeof(di), sig, 256);
	/* INTERNAL AUTHENTICATE with the authentication key. */
	assert_int_equal(tx(c, "00880000 0401020304 00"), 0x9000);
	verify_sig(auth_pub, (const uint8_t *)"\x01\x02\x03\x04", 4, rbuf, 256);
	EVP_PKEY_free(sign_pub);
	EVP_PKEY_free(auth_pub);
}

static void generate_key(void **state)
{
	struct sim_card *c = *state;
	EVP_PKEY *before = file_pubkey(c, SIM_FID_SIGN_PUB);
	assert_int_equal(tx(c, "00460000 05AC03840102 00"), 0x6982);
	assert_int_equal(tx(c, "00460001 00"), 0x6985); /* authentication key: not generatable */
	assert_int_equal(tx(c, "00460009 00"), 0x6A88);
	assert_int_equal(tx(c, "00460000 03AC0184"), 0x6A80);
	assert_int_equal(tx(c, "00200002 06363534333231"), 0x9000);
	assert_int_equal(tx(c, "00460000 05AC03840102 00"), 0x6100 | 14);
	assert_int_equal(rlen - 2, 256);
	uint8_t tpl[270];
	memcpy(tpl, rbuf, 256);
	assert_int_equal(tx(c, "00C00000 00"), 0x9000);
	assert_int_equal(rlen - 2, 14);
	memcpy(tpl + 256, rbuf, 14);
	assert_memory_equal(tpl, "\x7F\x49\x82\x01\x09\x81\x82\x01\x00", 9);
	assert_memory_equal(tpl + 265, "\x82\x03\x01\x00\x01", 5);
	EVP_PKEY *after = file_pubkey(c, SIM_FID_SIGN_PUB);
	assert_true(EVP_PKEY_eq(before, after) != 1); /* a new key, and EF 4502 follows it */
	/* The template's modulus equals EF 4502's. */
	struct sim_file *pub = sim_card_file(c, SIM_FID_SIGN_PUB);
	assert_non_null(find(pub->data, pub->size, tpl + 9, 256));
	/* Extended Le: the whole template at once, P2 = key reference form. */
	assert_int_equal(tx(c, "00460002 000000"), 0x9000);
	assert_int_equal(rlen - 2, 270);
	EVP_PKEY_free(before);
	EVP_PKEY_free(after);
}

static void sign_cert_profile(void **state)
{
	struct sim_card *c = *state;
	struct sim_file *cdf = sim_card_file(c, SIM_FID_CDF),
			*cert = sim_card_file(c, SIM_FID_SIGN_CERT);
	struct sim_der d;
	const unsigned char *p = cert->data;
	X509 *x = d2i_X509(NULL, &p, (long)cert->size);
	assert_non_null(x);
	sim_der_init(&d);
	sim_p15_cdf_sign_entry(&d, (size_t)(p - cert->data));
	assert_false(d.failed);
	assert_non_null(
		find(cdf->data, cdf->size, d.buf, d.len)); /* the documented entry, exact length */
	EVP_PKEY *pub = file_pubkey(c, SIM_FID_SIGN_PUB);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), pub), 1);
	assert_true(X509_get_key_usage(x) == KU_NON_REPUDIATION);
	EVP_PKEY_free(pub);
	X509_free(x);
	sim_der_free(&d);
}

int main(void)
{
	/* One test PKI for the whole run, made by the real script. */
	snprintf(pki_dir, sizeof(pki_dir), "%s/test-pki", SITHS_TEST_BINARY_DIR);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "'%s/certs/test-siths-pki.sh' '%s' >/dev/null", SITHS_SOURCE_DIR,
		 pki_dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make the test PKI\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(malformed_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(short_only_card, setup, teardown),
		cmocka_unit_test_setup_teardown(foreign_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(random_apdus_never_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(select_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(pin_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(access_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(sign_with_both_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(generate_key, setup, teardown),
		cmocka_unit_test_setup_teardown(sign_cert_profile, setup_sig, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
