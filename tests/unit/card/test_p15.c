/* test_p15.c — unit tests of the DER reader and the PKCS#15 parsers (card/der.c, card/p15.c):
 * the virtual card's real files, hand-written layouts of other cards (relative paths, EC keys,
 * direct public keys, no EF.DIR path), and malformed input — truncated, overlong and indefinite
 * lengths, wrong tags, nesting bombs, zero-length paths — each with its precise error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/rand.h>

#include "der.h"
#include "fx_apdu.h"
#include "p15.h"
#include "sim/sim_der.h"
#include "sim/sim_p15.h"

/* Heap copy of exactly n bytes, so ASan sees any read past the end. */
static uint8_t *exact(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	assert_non_null(b);
	memcpy(b, p, n);
	return b;
}

typedef der_err (*any_parse)(const uint8_t *p, size_t n);

static struct p15_aodf g_aodf;
static struct p15_keys g_keys;
static struct p15_cdf g_cdf;
static struct p15_odf g_odf;
static struct p15_tokeninfo g_ti;
static struct p15_app g_app;

static der_err pa_aodf(const uint8_t *p, size_t n)
{
	memset(&g_aodf, 0, sizeof(g_aodf));
	return p15_parse_aodf(p, n, &g_aodf);
}
static der_err pa_prkdf(const uint8_t *p, size_t n)
{
	memset(&g_keys, 0, sizeof(g_keys));
	return p15_parse_prkdf(p, n, &g_keys);
}
static der_err pa_pukdf(const uint8_t *p, size_t n)
{
	memset(&g_keys, 0, sizeof(g_keys));
	return p15_parse_pukdf(p, n, &g_keys);
}
static der_err pa_cdf(const uint8_t *p, size_t n)
{
	memset(&g_cdf, 0, sizeof(g_cdf));
	return p15_parse_cdf(p, n, &g_cdf);
}
static der_err pa_odf(const uint8_t *p, size_t n)
{
	return p15_parse_odf(p, n, &g_odf);
}
static der_err pa_ti(const uint8_t *p, size_t n)
{
	return p15_parse_tokeninfo(p, n, &g_ti);
}
static der_err pa_dir(const uint8_t *p, size_t n)
{
	return p15_parse_dir(p, n, p15_aid, sizeof(p15_aid), &g_app);
}

static der_err parse_hex(any_parse f, const char *hex)
{
	uint8_t buf[4096];
	size_t n = fx_unhex(hex, buf, sizeof(buf));
	uint8_t *b = exact(buf, n);
	der_err e = f(b, n);
	free(b);
	return e;
}

/* The virtual card's files, built by the same code the card uses. */
struct file {
	uint8_t *p;
	size_t n;
};
static struct file build(void (*fn)(struct sim_der *))
{
	struct sim_der d;
	sim_der_init(&d);
	fn(&d);
	assert_false(d.failed);
	struct file f = { exact(d.buf, d.len), d.len };
	sim_der_free(&d);
	return f;
}
static struct sim_p15_info info = {
	SIM_CARD_RESERVE, "9752269885715693047", 1200, 1100, 1000, 900
};
static void b_tokeninfo(struct sim_der *d)
{
	sim_p15_tokeninfo(d, &info);
}
/* The AODF with a lastPinChange on PIN2 only (one changed since personalisation, as a card that
 * keeps it and one that does not are both real). */
static void b_aodf(struct sim_der *d)
{
	const char *changed[3] = { NULL, "20250102030405Z", "" };
	sim_p15_aodf(d, changed);
}

static void b_cdf(struct sim_der *d)
{
	sim_p15_cdf(d, &info);
}

/* Hand-made objects of other cards, built with the sim's DER writer so lengths are right. */
static void key(struct sim_der *d, unsigned tag, const char *label, uint8_t id, unsigned long usage,
		int ref, const uint8_t *path, size_t plen)
{
	size_t m = sim_der_open(d, tag);
	size_t c = sim_der_open(d, 0x30);
	sim_der_utf8(d, label);
	sim_der_close(d, c);
	size_t k = sim_der_open(d, 0x30);
	sim_der_put(d, 0x04, &id, 1);
	sim_der_bits(d, usage);
	if (ref >= 0)
		sim_der_uint(d, 0x02, (unsigned long)ref);
	sim_der_close(d, k);
	size_t t = sim_der_open(d, 0xA1);
	size_t a = sim_der_open(d, 0x30);
	size_t p = sim_der_open(d, 0x30);
	sim_der_put(d, 0x04, path, plen);
	sim_der_close(d, p);
	if (tag == 0x30)
		sim_der_uint(d, 0x02, 2048);
	sim_der_close(d, a);
	sim_der_close(d, t);
	sim_der_close(d, m);
}
static void two_keys(struct sim_der *d)
{
	key(d, 0xA0, "EC", 7, 1u << 2, 3, (const uint8_t *)"\x50\x15", 2);
	key(d, 0x30, "RSA", 8, 1u << 9, -1, (const uint8_t *)"\x3F\x00\x50\x15", 4);
}
static void empty_path_key(struct sim_der *d)
{
	key(d, 0x30, "RSA", 8, 1u << 9, 2, (const uint8_t *)"", 0);
}
static void direct_pubkey(struct sim_der *d)
{
	static const uint8_t rsa[] = { 0x30, 0x09, 0x02, 0x04, 0x00, 0xC0,
				       0xFF, 0xEE, 0x02, 0x01, 0x03 };
	uint8_t id = 2;
	size_t m = sim_der_open(d, 0x30);
	size_t c = sim_der_open(d, 0x30);
	sim_der_close(d, c);
	size_t k = sim_der_open(d, 0x30);
	sim_der_put(d, 0x04, &id, 1);
	sim_der_bits(d, 1u << 6);
	sim_der_close(d, k);
	size_t t = sim_der_open(d, 0xA1);
	size_t a = sim_der_open(d, 0x30);
	size_t v = sim_der_open(d, 0xA0);
	sim_der_raw(d, rsa, sizeof(rsa));
	sim_der_close(d, v);
	sim_der_close(d, a);
	sim_der_close(d, t);
	sim_der_close(d, m);
}

/* ---- the virtual card's files ---- */

static void sim_files(void **state)
{
	(void)state;
	struct file f = build(sim_p15_efdir);
	assert_int_equal(pa_dir(f.p, f.n), DER_OK);
	assert_int_equal(g_app.aid_len, 12);
	assert_int_equal(g_app.path.len, 4);
	assert_string_equal(g_app.label, "SITHS eID");
	free(f.p);

	f = build(sim_p15_odf);
	assert_int_equal(pa_odf(f.p, f.n), DER_OK);
	assert_int_equal(g_odf.n, 4);
	assert_int_equal(g_odf.e[0].kind, P15_DF_PRKDF);
	assert_int_equal(g_odf.e[3].kind, P15_DF_AODF);
	assert_true(p15_path_absolute(&g_odf.e[3].path));
	assert_int_equal(g_odf.e[3].path.b[5], 0x01);
	free(f.p);

	f = build(b_tokeninfo);
	assert_int_equal(pa_ti(f.p, f.n), DER_OK);
	assert_int_equal(g_ti.serial_len, 19);
	assert_memory_equal(g_ti.serial, "9752269885715693047", 19);
	assert_string_equal(g_ti.label, "SITHS e-id Reservkort");
	assert_string_equal(g_ti.manufacturer, "siths-bridge siths-cardsim");
	free(f.p);

	f = build(b_aodf);
	assert_int_equal(pa_aodf(f.p, f.n), DER_OK);
	assert_int_equal(g_aodf.n, 3);
	assert_string_equal(g_aodf.o[0].last_change, "");
	assert_string_equal(g_aodf.o[1].last_change, "20250102030405Z");
	assert_true(g_aodf.o[1].has_path); /* the path after it still parses */
	assert_string_equal(g_aodf.o[2].last_change, "");
	assert_false(g_aodf.o[1].flags &
		     (P15_PIN_CHANGE_DISABLED | P15_PIN_UNBLOCK_DISABLED | P15_PIN_NEEDS_PADDING));
	assert_string_equal(g_aodf.o[0].c.label, "legitimering");
	assert_int_equal(g_aodf.o[0].ref, 1);
	assert_int_equal(g_aodf.o[0].min_len, 6);
	assert_int_equal(g_aodf.o[0].max_len, 8);
	assert_int_equal(g_aodf.o[0].type, P15_PIN_TYPE_ASCII);
	assert_int_equal(g_aodf.o[1].auth_id.b[0], 2);
	assert_int_equal(g_aodf.o[1].c.auth_id.b[0], 3); /* unblocked by the PUK */
	assert_true(g_aodf.o[2].flags & P15_PIN_UNBLOCKING);
	assert_false(g_aodf.o[0].flags & P15_PIN_UNBLOCKING);
	assert_true(g_aodf.o[2].has_path);
	free(f.p);

	f = build(sim_p15_prkdf);
	assert_int_equal(pa_prkdf(f.p, f.n), DER_OK);
	assert_int_equal(g_keys.n, 2);
	assert_true(g_keys.o[0].usage & P15_USE_SIGN);
	assert_true(g_keys.o[1].usage & P15_USE_NONREP);
	assert_int_equal(g_keys.o[1].ref, 2);
	assert_int_equal(g_keys.o[1].modulus_bits, 2048);
	assert_int_equal(g_keys.o[1].c.auth_id.b[0], 2);
	assert_true(g_keys.o[1].access & P15_ACC_NEVER_EXTRACTABLE);
	free(f.p);

	f = build(sim_p15_pukdf);
	assert_int_equal(pa_pukdf(f.p, f.n), DER_OK);
	assert_int_equal(g_keys.n, 2);
	assert_int_equal(g_keys.o[1].path.b[5], 0x02);
	free(f.p);

	f = build(b_cdf);
	/* the card's CDF is zero padded after the entries */
	uint8_t *padded = calloc(1, f.n + 64);
	memcpy(padded, f.p, f.n);
	assert_int_equal(pa_cdf(padded, f.n + 64), DER_OK);
	assert_int_equal(g_cdf.n, 4);
	assert_false(g_cdf.o[0].authority);
	assert_true(g_cdf.o[1].authority);
	assert_int_equal(g_cdf.o[3].id.b[0], 2);
	assert_true(g_cdf.o[3].path.has_range);
	assert_int_equal(g_cdf.o[3].path.index, 0);
	assert_int_equal(g_cdf.o[3].path.length, 1100);
	free(padded);
	free(f.p);
}

/* ---- other cards' layouts ---- */

static void other_layouts(void **state)
{
	(void)state;
	/* EF.DIR with two applications, ours second, named by AID only (no path). */
	assert_int_equal(parse_hex(pa_dir,
				   "61 08 4F 06 A0 00 00 01 02 03"
				   "61 0E 4F 0C A0 00 00 00 63 50 4B 43 53 2D 31 35"),
			 DER_OK);
	assert_int_equal(g_app.path.len, 0);
	assert_int_equal(g_app.aid_len, 12);
	/* No PKCS#15 application at all */
	assert_int_equal(parse_hex(pa_dir, "61 08 4F 06 A0 00 00 01 02 03"), DER_E_MISSING);
	/* ODF with relative paths (FID only) and an entry given directly, which is skipped. */
	assert_int_equal(parse_hex(pa_odf,
				   "A8 06 30 04 04 02 44 01  A4 06 30 04 04 02 44 04"
				   "A7 04 A0 02 30 00"),
			 DER_OK);
	assert_int_equal(g_odf.n, 2);
	assert_false(p15_path_absolute(&g_odf.e[0].path));
	assert_int_equal(g_odf.e[0].path.len, 2);
	/* An EC private key ([0]) with a relative path, and an RSA one without keyReference. */
	struct file f = build(two_keys);
	assert_int_equal(pa_prkdf(f.p, f.n), DER_OK);
	free(f.p);
	assert_int_equal(g_keys.n, 2);
	assert_int_equal(g_keys.o[0].type, P15_KEY_EC);
	assert_string_equal(g_keys.o[0].c.label, "EC");
	assert_true(g_keys.o[0].usage & P15_USE_SIGN);
	assert_false(p15_path_absolute(&g_keys.o[0].path));
	assert_int_equal(g_keys.o[1].id.b[0], 8);
	assert_false(g_keys.o[1].has_ref);
	assert_int_equal(g_keys.o[1].modulus_bits, 2048);
	assert_true(g_keys.o[1].usage & P15_USE_NONREP);
	/* The same with an empty key path: the precise error, not a silently dropped PrKDF. */
	f = build(empty_path_key);
	assert_int_equal(pa_prkdf(f.p, f.n), DER_E_VALUE);
	free(f.p);
	/* A public key given directly: [0] { RSAPublicKey } */
	f = build(direct_pubkey);
	assert_int_equal(pa_pukdf(f.p, f.n), DER_OK);
	free(f.p);
	assert_int_equal(g_keys.n, 1);
	assert_int_equal(g_keys.o[0].direct_len, 11);
	assert_false(g_keys.o[0].has_path);
	/* Non-X.509 CDF entries are skipped; a PIN of another kind (biometric [0]) too. */
	assert_int_equal(parse_hex(pa_cdf, "A0 04 30 00 30 00"), DER_OK);
	assert_int_equal(g_cdf.n, 0);
	assert_int_equal(parse_hex(pa_aodf, "A0 02 30 00"), DER_OK);
	assert_int_equal(g_aodf.n, 0);
	/* TokenInfo with an unknown trailing field and a binary serial number. */
	assert_int_equal(parse_hex(pa_ti, "30 0F 02 01 00 04 02 12 34 03 02 06 40 81 02 00 00"),
			 DER_OK);
	assert_int_equal(g_ti.serial_len, 2);
	assert_int_equal(g_ti.flags, 1u << 1);
	assert_string_equal(g_ti.label, "");
}

/* ---- malformed input ---- */

static void precise_errors(void **state)
{
	(void)state;
	static const struct {
		any_parse f;
		const char *hex;
		der_err want;
		const char *what;
	} cases[] = {
		{ pa_ti, "", DER_E_MISSING, "empty TokenInfo" },
		{ pa_ti, "30", DER_E_TRUNCATED, "tag without length" },
		{ pa_ti, "30 05 02 01 00", DER_E_LENGTH, "length beyond the data" },
		{ pa_ti, "30 84 FF FF FF FF 02", DER_E_LENGTH, "4-byte length beyond the data" },
		{ pa_ti, "30 85 00 00 00 00 05 02", DER_E_LENGTH, "5-byte length" },
		{ pa_ti, "30 82 00", DER_E_TRUNCATED, "length bytes missing" },
		{ pa_ti, "30 80 02 01 00 00 00", DER_E_INDEFINITE, "indefinite length" },
		{ pa_ti, "31 03 02 01 00", DER_E_TAG, "SET instead of SEQUENCE" },
		{ pa_ti, "30 03 04 01 00", DER_E_TAG, "version missing" },
		{ pa_ti, "30 03 02 01 00", DER_E_MISSING, "tokenflags missing" },
		{ pa_ti, "30 07 02 01 00 03 02 09 00", DER_E_VALUE,
		  "bit string with 9 unused bits" },
		{ pa_ti, "30 07 02 01 80 03 02 06 40", DER_E_VALUE, "negative version" },
		{ pa_ti, "30 0C 02 06 01 00 00 00 00 00 03 02 06 40", DER_E_VALUE,
		  "version > 32 bits" },
		{ pa_ti, "30 0B 02 01 00 80 02 41 00 03 02 06 40", DER_E_VALUE, "NUL in label" },
		{ pa_ti, "1F 81", DER_E_TRUNCATED, "high tag number never ends" },
		{ pa_ti, "1F 81 81 01 00", DER_E_TAG, "tag number too large" },
		{ pa_odf, "30 06 30 04 04 02 44 01", DER_E_TAG, "ODF entry not context-specific" },
		{ pa_odf, "AA 06 30 04 04 02 44 01", DER_E_TAG, "ODF kind 10 does not exist" },
		{ pa_odf, "A8 00", DER_E_MISSING, "empty ODF entry" },
		{ pa_odf, "A8 04 30 02 04 00", DER_E_VALUE, "zero-length path" },
		{ pa_odf, "A8 05 30 03 04 01 44", DER_E_VALUE, "odd-length path" },
		{ pa_odf, "A8 07 30 05 04 03 44 01 02", DER_E_VALUE, "odd-length path (3)" },
		{ pa_odf, "A8 09 30 07 04 02 44 01 02 01 00", DER_E_MISSING,
		  "index without length" },
		{ pa_odf, "A8 0C 30 0A 04 02 44 01 02 01 00 80 01 00", DER_E_VALUE, "zero length" },
		{ pa_odf, "A8 06 30 04 04 02 44 01 12 34", DER_E_LENGTH, "trailing garbage" },
		{ pa_odf, "A8 06 30 04 04 02 44 01 A8", DER_E_TRUNCATED, "trailing tag alone" },
		{ pa_odf, "", DER_E_MISSING, "empty ODF" },
		{ pa_odf, "00 00 00 00", DER_E_MISSING, "ODF of padding only" },
		{ pa_dir, "61 02 50 00", DER_E_MISSING, "application without AID or path" },
		{ pa_dir, "61 03 4F 01", DER_E_LENGTH, "truncated AID" },
		{ pa_aodf, "04 02 00 00", DER_E_TAG, "primitive object" },
		{ pa_aodf, "30 02 30 00", DER_E_MISSING, "PIN without class attributes" },
		{ pa_aodf, "30 08 30 00 30 03 04 01 01 A1 00", DER_E_TRUNCATED,
		  "PIN object one byte short" },
		{ pa_aodf, "30 09 30 00 30 03 04 01 01 A1 00", DER_E_MISSING,
		  "PIN without attributes" },
		{ pa_aodf,
		  "30 1B 30 00 30 03 04 01 01 A1 12 30 10 03 02 06 40 0A 01 01 02 01 08 02 01 08 "
		  "02 01 06",
		  DER_E_VALUE, "min length > max length" },
		{ pa_aodf, "30 15 30 00 30 03 04 01 01 A1 0C 30 0A 03 02 06 40 0A 01 01 02 01 06",
		  DER_E_MISSING, "storedLength missing" },
		{ pa_aodf,
		  "30 1D 30 00 30 03 04 01 01 A1 14 30 12 03 02 06 40 0A 01 01 02 01 06 02 01 08 "
		  "18 03 32 30 5A",
		  DER_E_VALUE, "lastPinChange too short for a time" },
		{ pa_aodf,
		  "30 24 30 00 30 03 04 01 01 A1 1B 30 19 03 02 06 40 0A 01 01 02 01 06 02 01 08 "
		  "18 0A 32 30 32 35 30 31 30 32 30 58",
		  DER_E_VALUE, "lastPinChange with a letter" },
		{ pa_cdf, "30 13 30 00 30 03 04 01 01 A1 0A 30 08 30 06 04 04 3F 00 43",
		  DER_E_LENGTH, "path cut" },
		{ pa_cdf, "30 0E 30 00 30 03 04 01 01 A1 05 30 03 04 01 00", DER_E_TAG,
		  "certificate value not a path" },
		{ pa_cdf, "30 11 30 00 30 05 04 01 01 01 00 A1 06 30 04 30 02 04 00", DER_E_VALUE,
		  "BOOLEAN of length 0" },
		{ pa_cdf, "30 12 30 00 30 03 04 01 01 A1 09 30 07 30 05 04 03 3F 00 43",
		  DER_E_VALUE, "odd cert path" },
		{ pa_prkdf, "30 14 30 00 30 05 04 01 01 03 00 A1 09 30 07 30 02 04 00 02 01 08",
		  DER_E_VALUE, "zero-length key path" },
		{ pa_prkdf,
		  "30 16 30 00 30 05 04 00 03 01 00 A1 0B 30 09 30 04 04 02 50 15 02 01 08",
		  DER_E_VALUE, "empty key iD" },
		{ pa_prkdf, "30 0C 30 00 30 06 04 01 01 03 01 00 A2 00", DER_E_TAG,
		  "[2] instead of [1]" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		der_err e = parse_hex(cases[i].f, cases[i].hex);
		if (e != cases[i].want)
			fail_msg("case %zu (%s): got \"%s\", want \"%s\"", i, cases[i].what,
				 der_strerror(e), der_strerror(cases[i].want));
	}
}

static void nesting_bomb(void **state)
{
	(void)state;
	/* 200 nested SEQUENCEs, each with the right length: well formed but absurdly deep. */
	enum { N = 200 };
	uint8_t *b = malloc(4 * N + 8);
	size_t n = 0;
	for (int i = 0; i < N; i++) {
		size_t inner = 4 * (size_t)(N - 1 - i);
		b[n++] = i % 2 ? 0xA1 : 0x30;
		b[n++] = 0x82;
		b[n++] = (uint8_t)(inner >> 8);
		b[n++] = (uint8_t)inner;
	}
	assert_int_equal(der_check_tree(b, n), DER_E_DEPTH);
	assert_int_equal(pa_aodf(b, n), DER_E_DEPTH);
	assert_int_equal(pa_cdf(b, n), DER_E_DEPTH);
	assert_int_equal(pa_ti(b, n), DER_E_DEPTH);
	/* Exactly at the limit is fine for the tree check. */
	n = 0;
	for (int i = 0; i < DER_MAX_DEPTH; i++) {
		size_t inner = 4 * (size_t)(DER_MAX_DEPTH - 1 - i);
		b[n++] = 0x30;
		b[n++] = 0x82;
		b[n++] = (uint8_t)(inner >> 8);
		b[n++] = (uint8_t)inner;
	}
	assert_int_equal(der_check_tree(b, n), DER_OK);
	free(b);
}

/* Every prefix of every real file parses to an error or to fewer objects; never a crash. */
static void every_truncation(void **state)
{
	(void)state;
	void (*builders[])(struct sim_der *) = { b_aodf, sim_p15_prkdf, sim_p15_pukdf,
						 b_cdf,  b_tokeninfo,   sim_p15_odf };
	any_parse parsers[] = { pa_aodf, pa_prkdf, pa_pukdf, pa_cdf, pa_ti, pa_odf };
	for (size_t k = 0; k < 6; k++) {
		struct file f = build(builders[k]);
		assert_int_equal(parsers[k](f.p, f.n), DER_OK);
		size_t errors = 0;
		for (size_t cut = 1; cut < f.n; cut++) {
			uint8_t *b = exact(f.p, cut);
			der_err e = parsers[k](b, cut);
			errors += e != DER_OK;
			if (e == DER_OK && k < 4) {
				/* only a cut at an object boundary can be valid, with fewer objects */
				size_t objs = k == 0 ? g_aodf.n : k == 3 ? g_cdf.n : g_keys.n;
				assert_true(objs < (k == 0 ? 3u : k == 3 ? 4u : 2u));
			}
			free(b);
		}
		assert_true(errors >= f.n - 1 - 4); /* at most a few boundaries */
		free(f.p);
	}
}

/* Random bytes and random mutations of real files: no crash, no read out of bounds (ASan). */
static void fuzz(void **state)
{
	(void)state;
	any_parse parsers[] = { pa_aodf, pa_prkdf, pa_pukdf, pa_cdf, pa_ti, pa_odf, pa_dir };
	struct file f = build(b_aodf);
	uint8_t r[600];
	for (int i = 0; i < 30000; i++) {
		RAND_bytes(r, sizeof(r));
		size_t n = (size_t)(r[0] | r[1] << 8) % 512;
		uint8_t *b;
		if (i % 2) {
			b = exact(r + 2, n);
		} else {
			n = f.n;
			b = exact(f.p, n);
			for (int m = 0; m < 1 + r[2] % 4; m++)
				b[r[3 + m] % n] = r[10 + m];
		}
		for (size_t k = 0; k < 7; k++)
			(void)parsers[k](b, n);
		free(b);
	}
	free(f.p);
}

static void der_values(void **state)
{
	(void)state;
	uint8_t b[8];
	struct der_tlv t = { .tag = 0x03, .v = b };
	uint32_t bits;
	char s[4];
	fx_unhex("05 A0", b, sizeof(b));
	t.len = 2;
	assert_int_equal(der_bits(&t, &bits), DER_OK);
	assert_int_equal(bits, 0x5); /* bits 0 and 2 */
	t.len = 0;
	assert_int_equal(der_bits(&t, &bits), DER_E_VALUE);
	fx_unhex("C3 A5 C3 A4", b, sizeof(b)); /* "åä" */
	t.len = 4;
	assert_int_equal(der_string(&t, s, sizeof(s)), DER_OK);
	assert_string_equal(s, "\xC3\xA5"); /* cut before the second character, not inside it */
	fx_unhex("00 00 00 FF", b, sizeof(b));
	struct der d;
	der_init(&d, b, 4);
	assert_true(der_at_end(&d));
	assert_int_equal(der_next(&d, &t), DER_E_END);
	assert_int_equal(der_check_tree(b, 4), DER_OK);
	fx_unhex("30 02 00 00", b, sizeof(b)); /* padding inside an element is not allowed */
	assert_int_equal(der_check_tree(b, 4), DER_E_VALUE);
	for (int e = DER_OK; e <= DER_E_TOO_MANY; e++)
		assert_string_not_equal(der_strerror((der_err)e), "unknown DER error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sim_files),        cmocka_unit_test(other_layouts),
		cmocka_unit_test(precise_errors),   cmocka_unit_test(nesting_bomb),
		cmocka_unit_test(every_truncation), cmocka_unit_test(fuzz),
		cmocka_unit_test(der_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
