/* test_der.c — unit tests of the bounded DER/BER reader (card/der.c) on its own: every public
 * function, with well-formed input and with what a broken or hostile card sends — truncated tags
 * and lengths, lengths beyond the data, indefinite and over-long length forms, high-tag-number
 * forms, zero lengths, nesting at and past the limit — each with the exact error it must give.
 * Inputs live in heap blocks of exactly their size, so ASan reports any read past the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "der.h"
#include "fx_apdu.h"

/* The bytes of a hex string (spaces ignored) in a heap block of exactly that size. */
static uint8_t *heap_hex(const char *hex, size_t *n)
{
	uint8_t tmp[600];
	*n = fx_unhex(hex, tmp, sizeof(tmp));
	uint8_t *b = malloc(*n ? *n : 1);
	assert_non_null(b);
	memcpy(b, tmp, *n);
	return b;
}

/* Fails the running test, naming the call, its input and the case, unless got is the error wanted. */
static void want_err(const char *call, const char *hex, const char *what, der_err got, der_err want)
{
	if (got != want)
		fail_msg("%s(\"%s\") %s: got \"%s\", want \"%s\"", call, hex, what,
			 der_strerror(got), der_strerror(want));
}

/* A reader over the bytes of a hex string; free(r->b) when done. */
struct reader {
	uint8_t *b;
	size_t n;
	struct der d;
};

static void reader_open(struct reader *r, const char *hex)
{
	r->b = heap_hex(hex, &r->n);
	der_init(&r->d, r->b, r->n);
}

/* After one read from the start: past exactly t if it succeeded, else not moved at all. */
static void assert_read(const struct reader *r, bool ok, const struct der_tlv *t)
{
	size_t used = ok ? t->hdr + t->len : 0;
	assert_ptr_equal(r->d.p, r->b + used);
	assert_int_equal(r->d.n, r->n - used);
}

/* ---- der_next: one TLV ---- */

struct next_case {
	const char *hex, *what;
	der_err want;
	uint32_t tag; /* on DER_OK: the TLV read */
	bool constructed;
	size_t len, hdr;
};

static const struct next_case next_cases[] = {
	{ "04 00", "zero-length value", DER_OK, 0x04, false, 0, 2 },
	{ "04 03 61 62 63 05 00", "short form, more TLVs after it", DER_OK, 0x04, false, 3, 2 },
	{ "30 03 02 01 05", "constructed", DER_OK, 0x30, true, 3, 2 },
	{ "04 81 01 AA", "long form of a short length (BER, as cards send it)", DER_OK, 0x04, false,
	  1, 3 },
	{ "04 82 00 02 AA BB", "two length bytes", DER_OK, 0x04, false, 2, 4 },
	{ "04 84 00 00 00 01 AA", "four length bytes, the most there may be", DER_OK, 0x04, false,
	  1, 6 },
	{ "5F 20 01 41", "two identifier bytes", DER_OK, 0x5F20, false, 1, 3 },
	{ "7F 49 00", "two identifier bytes, constructed, empty", DER_OK, 0x7F49, true, 0, 3 },
	{ "1F 1E 00", "high-tag form of a low tag number", DER_OK, 0x1F1E, false, 0, 3 },
	{ "BF 81 00 00", "three identifier bytes", DER_OK, 0xBF8100, true, 0, 4 },
	{ "00 01 41", "tag 00 is a TLV when more than padding follows", DER_OK, 0x00, false, 1, 2 },
	{ "", "nothing", DER_E_END, 0, false, 0, 0 },
	{ "00 FF 00 FF", "padding only", DER_E_END, 0, false, 0, 0 },
	{ "04", "tag without length", DER_E_TRUNCATED, 0, false, 0, 0 },
	{ "1F", "high-tag form without a tag number", DER_E_TRUNCATED, 0, false, 0, 0 },
	{ "1F 81", "high-tag number that never ends", DER_E_TRUNCATED, 0, false, 0, 0 },
	{ "5F 20", "two identifier bytes without length", DER_E_TRUNCATED, 0, false, 0, 0 },
	{ "1F 81 81 01 00", "tag number of more than three identifier bytes", DER_E_TAG, 0, false,
	  0, 0 },
	{ "3F 80 80", "too long a tag number, cut as well", DER_E_TAG, 0, false, 0, 0 },
	{ "04 80 AA 00 00", "indefinite length, primitive", DER_E_INDEFINITE, 0, false, 0, 0 },
	{ "30 80 04 00 00 00", "indefinite length, constructed", DER_E_INDEFINITE, 0, false, 0, 0 },
	{ "04 85 00 00 00 00 01 AA", "five length bytes", DER_E_LENGTH, 0, false, 0, 0 },
	{ "04 FF 01", "127 length bytes (the reserved form)", DER_E_LENGTH, 0, false, 0, 0 },
	{ "04 81", "long form without its length byte", DER_E_TRUNCATED, 0, false, 0, 0 },
	{ "04 82 00", "long form with one of two length bytes", DER_E_TRUNCATED, 0, false, 0, 0 },
	{ "04 84 00 00 00", "long form with three of four length bytes", DER_E_TRUNCATED, 0, false,
	  0, 0 },
	{ "04 02 AA", "value one byte short", DER_E_LENGTH, 0, false, 0, 0 },
	{ "04 01", "value missing", DER_E_LENGTH, 0, false, 0, 0 },
	{ "04 82 01 00 AA", "two-byte length beyond the data", DER_E_LENGTH, 0, false, 0, 0 },
	{ "04 84 FF FF FF FF AA", "four-byte length far beyond the data", DER_E_LENGTH, 0, false, 0,
	  0 },
	{ "04 84 FF FF FF FA AA", "length whose end would wrap 32 bits", DER_E_LENGTH, 0, false, 0,
	  0 },
};

static void check_next(const struct next_case *c)
{
	struct reader r;
	struct der_tlv t;
	reader_open(&r, c->hex);
	der_err e = der_next(&r.d, &t);
	want_err("der_next", c->hex, c->what, e, c->want);
	if (e == DER_OK) {
		assert_int_equal(t.tag, c->tag);
		assert_int_equal(t.constructed, c->constructed);
		assert_int_equal(t.len, c->len);
		assert_int_equal(t.hdr, c->hdr);
		assert_ptr_equal(t.v, r.b + c->hdr);
	}
	assert_read(&r, e == DER_OK, &t);
	assert_int_equal(r.d.depth, 0);
	free(r.b);
}

static void next_one_tlv(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(next_cases) / sizeof(next_cases[0]); i++)
		check_next(&next_cases[i]);
}

/* A TLV list read to its end: each element in turn, then DER_E_END at the padding. */
static void next_walks_a_list(void **state)
{
	(void)state;
	size_t n;
	uint8_t *b = heap_hex("02 01 07 04 00 30 02 05 00 00 00 FF", &n);
	struct der d;
	struct der_tlv t;
	der_init(&d, b, n);
	static const uint32_t tags[] = { 0x02, 0x04, 0x30 };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(der_next(&d, &t), DER_OK);
		assert_int_equal(t.tag, tags[i]);
	}
	assert_int_equal(d.n, 3);
	assert_int_equal(der_next(&d, &t), DER_E_END);
	assert_int_equal(der_next(&d, &t), DER_E_END);
	free(b);
}

/* A run of 00 bytes inside the data is a list of empty TLVs (tag 0), not the end: the reader
 * remembers where the run stops, and must still see the end once it reaches the real padding. */
static void next_reads_zero_runs(void **state)
{
	(void)state;
	enum { ZEROS = 2000 };
	size_t n = ZEROS + 6;
	uint8_t *b = calloc(1, n);
	assert_non_null(b);
	memcpy(b + ZEROS, "\x05\x00\x00\x00\xFF\xFF", 6);
	struct der d;
	struct der_tlv t;
	der_init(&d, b, n);
	for (size_t i = 0; i < ZEROS / 2; i++) {
		assert_false(der_at_end(&d));
		assert_int_equal(der_next(&d, &t), DER_OK);
		assert_int_equal(t.tag, 0);
		assert_int_equal(t.len, 0);
	}
	struct der save = d;
	assert_int_equal(der_expect(&d, 0x30, &t), DER_E_TAG); /* leaves d where it was */
	assert_ptr_equal(d.p, save.p);
	assert_int_equal(der_next(&d, &t), DER_OK);
	assert_int_equal(t.tag, 0x05);
	assert_true(der_at_end(&d));
	assert_int_equal(der_next(&d, &t), DER_E_END);
	assert_int_equal(d.n, 4);
	free(b);
}

/* ---- der_init, der_at_end ---- */

static void init_and_at_end(void **state)
{
	(void)state;
	struct der d = { (const uint8_t *)"x", 7, 3, 1 };
	der_init(&d, NULL, 5);
	assert_null(d.p);
	assert_int_equal(d.n, 0); /* no buffer: nothing to read, whatever n says */
	assert_int_equal(d.depth, 0);
	assert_true(der_at_end(&d));

	static const struct {
		const char *hex;
		bool end;
	} cases[] = {
		{ "", true },          { "00", true },
		{ "FF", true },        { "00 FF 00 00 FF", true },
		{ "01", false },       { "00 00 01", false },
		{ "FF 00 FE", false }, { "30 00", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reader r;
		reader_open(&r, cases[i].hex);
		assert_ptr_equal(r.d.p, r.b);
		assert_int_equal(r.d.n, r.n);
		if (der_at_end(&r.d) != cases[i].end)
			fail_msg("der_at_end(\"%s\") should be %d", cases[i].hex, cases[i].end);
		free(r.b);
	}
}

/* ---- der_expect, der_optional ---- */

static void expect_tag(void **state)
{
	(void)state;
	static const struct {
		const char *hex;
		uint32_t tag;
		der_err want;
	} cases[] = {
		{ "30 00 02 01 00", 0x30, DER_OK },
		{ "5F 20 01 41", 0x5F20, DER_OK },
		{ "31 00", 0x30, DER_E_TAG }, /* another tag: left for the next reader */
		{ "5F 21 00", 0x5F20, DER_E_TAG },
		{ "30 00", 0x5F20, DER_E_TAG },
		{ "", 0x30, DER_E_MISSING },
		{ "00 00 FF", 0x30, DER_E_MISSING }, /* padding is the end */
		{ "30", 0x30, DER_E_TRUNCATED },     /* malformed beats missing or wrong */
		{ "30 05 00", 0x30, DER_E_LENGTH },
		{ "31 05 00", 0x30, DER_E_LENGTH },
		{ "30 80 00 00", 0x30, DER_E_INDEFINITE },
		{ "30 85 00 00 00 00 00", 0x30, DER_E_LENGTH },
		{ "1F 81 81 00", 0x30, DER_E_TAG },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reader r;
		struct der_tlv t;
		reader_open(&r, cases[i].hex);
		der_err e = der_expect(&r.d, cases[i].tag, &t);
		want_err("der_expect", cases[i].hex, "", e, cases[i].want);
		if (e == DER_OK)
			assert_int_equal(t.tag, cases[i].tag);
		assert_read(&r, e == DER_OK, &t);
		free(r.b);
	}
}

static void optional_tag(void **state)
{
	(void)state;
	static const struct {
		const char *hex;
		uint32_t tag;
		bool taken;
	} cases[] = {
		{ "02 01 05 04 00", 0x02, true },
		{ "7F 49 00", 0x7F49, true },
		{ "04 00 02 01 05", 0x02, false },
		{ "", 0x02, false },
		{ "00 00", 0x02, false },
		{ "02", 0x02, false }, /* malformed: not taken, left for der_next to report */
		{ "02 02 05", 0x02, false },
		{ "02 80 05 00 00", 0x02, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reader r;
		struct der_tlv t;
		reader_open(&r, cases[i].hex);
		bool taken = der_optional(&r.d, cases[i].tag, &t);
		if (taken != cases[i].taken)
			fail_msg("der_optional(\"%s\", %X) should be %d", cases[i].hex,
				 (unsigned)cases[i].tag, cases[i].taken);
		if (taken)
			assert_int_equal(t.tag, cases[i].tag);
		assert_read(&r, taken, &t);
		free(r.b);
	}
}

/* ---- der_enter ---- */

static void enter_constructed(void **state)
{
	(void)state;
	size_t n;
	uint8_t *b = heap_hex("30 05 04 03 61 62 63 04 01 AA", &n);
	struct der d, c;
	struct der_tlv t, v;
	der_init(&d, b, n);
	assert_int_equal(der_next(&d, &t), DER_OK);
	assert_int_equal(der_enter(&d, &t, &c), DER_OK);
	assert_ptr_equal(c.p, b + 2);
	assert_int_equal(c.n, 5);
	assert_int_equal(c.depth, 1);
	assert_int_equal(der_next(&c, &v), DER_OK);
	assert_int_equal(v.len, 3);
	assert_int_equal(der_next(&c, &v), DER_E_END); /* the child ends with its parent's value */

	/* A primitive TLV has no children. */
	assert_int_equal(der_next(&d, &t), DER_OK);
	c.depth = 99;
	assert_int_equal(der_enter(&d, &t, &c), DER_E_TAG);
	assert_int_equal(c.depth, 99); /* child untouched on failure */

	/* Depth: entering from DER_MAX_DEPTH - 1 is the last level allowed. */
	der_init(&d, b, n);
	assert_int_equal(der_next(&d, &t), DER_OK);
	d.depth = DER_MAX_DEPTH - 1;
	assert_int_equal(der_enter(&d, &t, &c), DER_OK);
	assert_int_equal(c.depth, DER_MAX_DEPTH);
	struct der deeper;
	assert_int_equal(der_enter(&c, &t, &deeper), DER_E_DEPTH);
	free(b);
}

/* ---- der_check_tree ---- */

/* levels SEQUENCEs inside each other, the innermost empty: 30 2(l-1) 30 2(l-2) … 30 00. */
static uint8_t *nested(unsigned levels, size_t *n)
{
	uint8_t *b = malloc(2 * levels);
	assert_non_null(b);
	for (unsigned i = 0; i < levels; i++) {
		b[2 * i] = 0x30;
		b[2 * i + 1] = (uint8_t)(2 * (levels - 1 - i));
	}
	*n = 2 * levels;
	return b;
}

static void check_tree(void **state)
{
	(void)state;
	static const struct {
		const char *hex, *what;
		der_err want;
	} cases[] = {
		{ "", "nothing", DER_OK },
		{ "00 FF 00", "padding only", DER_OK },
		{ "30 00", "empty SEQUENCE", DER_OK },
		{ "30 03 04 01 AA 00 00 FF", "padding after the last TLV", DER_OK },
		{ "04 02 30 05", "primitive content is not parsed", DER_OK },
		{ "30 06 A1 04 04 02 AA BB 02 01 00", "two levels, then a sibling", DER_OK },
		{ "30 02 00 00", "padding inside an element", DER_E_VALUE },
		{ "30 04 04 00 00 00", "padding after a TLV inside an element", DER_E_VALUE },
		{ "30 03 04 05 AA", "inner length beyond its parent", DER_E_LENGTH },
		{ "30 04 04 02 AA", "outer length beyond the data", DER_E_LENGTH },
		{ "30 02 04 80", "indefinite length inside", DER_E_INDEFINITE },
		{ "30 01 04", "inner TLV cut after its tag", DER_E_TRUNCATED },
		{ "30 03 1F 81 81", "inner tag too long", DER_E_TAG },
		{ "30 02 5F 20", "inner two-byte tag without length", DER_E_TRUNCATED },
		{ "30 03 04 85 00", "inner five-byte length", DER_E_LENGTH },
		{ "04 00 12", "garbage after the last TLV", DER_E_TRUNCATED },
		{ "04 00 12 05", "garbage with a length after the last TLV", DER_E_LENGTH },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;
		uint8_t *b = heap_hex(cases[i].hex, &n);
		der_err e = der_check_tree(b, n);
		want_err("der_check_tree", cases[i].hex, cases[i].what, e, cases[i].want);
		free(b);
	}
	assert_int_equal(der_check_tree(NULL, 4), DER_OK);

	size_t n;
	uint8_t *b = nested(DER_MAX_DEPTH, &n);
	assert_int_equal(der_check_tree(b, n), DER_OK);
	free(b);
	b = nested(DER_MAX_DEPTH + 1, &n);
	assert_int_equal(der_check_tree(b, n), DER_E_DEPTH);
	free(b);
}

/* Every cut of a well-formed tree: the tag alone is truncated, anything longer promises more
 * than is there — except the cuts that end on a top-level boundary. */
static void check_tree_every_prefix(void **state)
{
	(void)state;
	static const char WHOLE[] = "30 08 04 01 AA A0 03 02 01 05 04 00";
	uint8_t whole[12];
	size_t n = fx_unhex(WHOLE, whole, sizeof(whole));
	for (size_t cut = 0; cut <= n; cut++) {
		uint8_t *b = malloc(cut ? cut : 1);
		assert_non_null(b);
		memcpy(b, whole, cut);
		der_err want = cut == 0 || cut == 10 || cut == 12 ? DER_OK
			: cut == 1 || cut == 11                   ? DER_E_TRUNCATED
								  : DER_E_LENGTH;
		char what[32];
		snprintf(what, sizeof(what), "cut at %zu", cut);
		want_err("der_check_tree", WHOLE, what, der_check_tree(b, cut), want);
		free(b);
	}
}

/* ---- value readers ---- */

/* The one TLV of a hex string (which must be well formed); its bytes stay in *b for free(). */
static struct der_tlv tlv_of(const char *hex, uint8_t **b)
{
	struct reader r;
	struct der_tlv t;
	reader_open(&r, hex);
	assert_int_equal(der_next(&r.d, &t), DER_OK);
	*b = r.b;
	return t;
}

static void uint_values(void **state)
{
	(void)state;
	static const struct {
		const char *hex;
		der_err want;
		uint32_t v;
	} cases[] = {
		{ "02 01 00", DER_OK, 0 },
		{ "02 01 7F", DER_OK, 127 },
		{ "02 02 00 80", DER_OK, 128 },
		{ "02 04 7F FF FF FF", DER_OK, 0x7FFFFFFF },
		{ "02 05 00 FF FF FF FF", DER_OK, 0xFFFFFFFF },   /* sign byte, then 32 bits */
		{ "02 07 00 00 00 00 00 01 02", DER_OK, 0x0102 }, /* redundant zeros (BER) */
		{ "80 01 08", DER_OK, 8 },                        /* implicitly tagged */
		{ "02 00", DER_E_VALUE, 0 },                      /* zero length */
		{ "02 01 80", DER_E_VALUE, 0 },                   /* negative */
		{ "02 04 FF FF FF FF", DER_E_VALUE, 0 },          /* -1 */
		{ "02 05 01 00 00 00 00", DER_E_VALUE, 0 },       /* 2^32 */
		{ "02 09 00 80 00 00 00 00 00 00 00", DER_E_VALUE, 0 },
		{ "22 03 02 01 05", DER_E_VALUE, 0 }, /* constructed */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *b;
		struct der_tlv t = tlv_of(cases[i].hex, &b);
		uint32_t v = 0xA5A5A5A5;
		der_err e = der_uint(&t, &v);
		want_err("der_uint", cases[i].hex, "", e, cases[i].want);
		assert_int_equal(v,
				 e == DER_OK ? cases[i].v : 0xA5A5A5A5); /* untouched on failure */
		free(b);
	}
}

static void bool_values(void **state)
{
	(void)state;
	static const struct {
		const char *hex;
		der_err want;
		bool v;
	} cases[] = {
		{ "01 01 FF", DER_OK, true },
		{ "01 01 01", DER_OK, true }, /* BER: any non-zero is TRUE */
		{ "01 01 00", DER_OK, false },
		{ "01 00", DER_E_VALUE, false },
		{ "01 02 00 00", DER_E_VALUE, false },
		{ "21 03 01 01 FF", DER_E_VALUE, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *b;
		struct der_tlv t = tlv_of(cases[i].hex, &b);
		bool v = !cases[i].v;
		der_err e = der_bool(&t, &v);
		want_err("der_bool", cases[i].hex, "", e, cases[i].want);
		if (e == DER_OK)
			assert_int_equal(v, cases[i].v);
		else
			assert_int_equal(v, !cases[i].v);
		free(b);
	}
}

static void bits_values(void **state)
{
	(void)state;
	static const struct {
		const char *hex;
		der_err want;
		uint32_t v;
	} cases[] = {
		{ "03 01 00", DER_OK, 0 }, /* no bits at all */
		{ "03 02 07 80", DER_OK, 1u << 0 },
		{ "03 02 06 40", DER_OK, 1u << 1 },
		{ "03 02 00 A5", DER_OK, 1u << 0 | 1u << 2 | 1u << 5 | 1u << 7 },
		{ "03 03 00 00 01", DER_OK, 1u << 15 },
		{ "03 05 00 00 00 00 01", DER_OK, 1u << 31 },
		{ "03 06 00 00 00 00 01 FF", DER_OK, 1u << 31 }, /* bits beyond 31 are ignored */
		{ "03 00", DER_E_VALUE, 0 },                     /* zero length */
		{ "03 01 01", DER_E_VALUE, 0 },                  /* unused bits of no byte */
		{ "03 02 08 00", DER_E_VALUE, 0 },               /* more than 7 unused bits */
		{ "03 02 FF 00", DER_E_VALUE, 0 },
		{ "23 03 03 01 00", DER_E_VALUE, 0 }, /* constructed */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *b;
		struct der_tlv t = tlv_of(cases[i].hex, &b);
		uint32_t v = 0xA5A5A5A5;
		der_err e = der_bits(&t, &v);
		want_err("der_bits", cases[i].hex, "", e, cases[i].want);
		assert_int_equal(v, e == DER_OK ? cases[i].v : 0xA5A5A5A5);
		free(b);
	}
}

static void string_values(void **state)
{
	(void)state;
	static const struct {
		const char *hex;
		size_t cap;
		der_err want;
		const char *v;
	} cases[] = {
		{ "0C 03 61 62 63", 8, DER_OK, "abc" },
		{ "0C 03 61 62 63", 4, DER_OK, "abc" }, /* exactly fits with its NUL */
		{ "0C 03 61 62 63", 3, DER_OK, "ab" },  /* truncated to cap - 1 */
		{ "0C 03 61 62 63", 1, DER_OK, "" },
		{ "0C 00", 4, DER_OK, "" },         /* zero length */
		{ "13 02 41 42", 4, DER_OK, "AB" }, /* any string type */
		{ "0C 04 C3 A5 C3 A4", 5, DER_OK, "\xC3\xA5\xC3\xA4" },
		{ "0C 04 C3 A5 C3 A4", 4, DER_OK, "\xC3\xA5" }, /* never half a character */
		{ "0C 04 C3 A5 C3 A4", 2, DER_OK, "" },
		{ "0C 03 E2 82 AC", 3, DER_OK, "" }, /* a three-byte character that does not fit */
		{ "0C 03 61 62 63", 0, DER_E_VALUE, NULL }, /* no room even for the NUL */
		{ "0C 02 61 00", 8, DER_E_VALUE, NULL },    /* NUL inside */
		{ "0C 01 00", 8, DER_E_VALUE, NULL },
		{ "2C 03 0C 01 41", 8, DER_E_VALUE, NULL }, /* constructed */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *b;
		struct der_tlv t = tlv_of(cases[i].hex, &b);
		char out[8];
		memset(out, '#', sizeof(out));
		der_err e = der_string(&t, out, cases[i].cap);
		want_err("der_string", cases[i].hex, "", e, cases[i].want);
		if (e == DER_OK)
			assert_string_equal(out, cases[i].v);
		else
			assert_int_equal(out[0], '#'); /* nothing written on failure */
		free(b);
	}
}

/* ---- der_strerror ---- */

static void error_texts(void **state)
{
	(void)state;
	assert_string_equal(der_strerror(DER_OK), "ok");
	for (int e = DER_OK; e <= DER_E_TOO_MANY; e++) {
		const char *s = der_strerror((der_err)e);
		assert_non_null(s);
		assert_true(s[0] != '\0');
		assert_string_not_equal(s, "unknown DER error");
		for (int f = DER_OK; f < e; f++)
			assert_string_not_equal(
				s, der_strerror((der_err)f)); /* each error says something else */
	}
	assert_string_equal(der_strerror((der_err)(DER_E_TOO_MANY + 1)), "unknown DER error");
	assert_string_equal(der_strerror((der_err)99), "unknown DER error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(next_one_tlv),
		cmocka_unit_test(next_walks_a_list),
		cmocka_unit_test(next_reads_zero_runs),
		cmocka_unit_test(init_and_at_end),
		cmocka_unit_test(expect_tag),
		cmocka_unit_test(optional_tag),
		cmocka_unit_test(enter_constructed),
		cmocka_unit_test(check_tree),
		cmocka_unit_test(check_tree_every_prefix),
		cmocka_unit_test(uint_values),
		cmocka_unit_test(bool_values),
		cmocka_unit_test(bits_values),
		cmocka_unit_test(string_values),
		cmocka_unit_test(error_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
