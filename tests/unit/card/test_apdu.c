/* test_apdu.c — unit tests of the APDU layer (card/apdu.c) over a scripted fake transport:
 * short and extended encoding, 61xx GET RESPONSE chains, 6Cxx resend, status-word mapping,
 * and a card that breaks the protocol (short answers, endless chains, too much data). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apdu.h"
#include "fx_apdu.h"

#define RUN(steps_, a_, out_, cap_, len_, sw_)                                              \
	struct fx_script sc_ = { steps_, sizeof(steps_) / sizeof(steps_[0]), 0, false, 0 }; \
	struct apdu_transport t_ = { .transmit = fx_script_transmit, .ctx = &sc_ };         \
	card_err e_ = apdu_transmit(&t_, a_, out_, cap_, len_, sw_)

/* ---- encoding ---- */

static void encode_hex(const struct apdu *a, const char *want)
{
	uint8_t buf[70000], w[300];
	size_t n = 0;
	assert_int_equal(apdu_encode(a, buf, sizeof(buf), &n), CARD_OK);
	size_t wn = fx_unhex(want, w, sizeof(w));
	assert_int_equal(n, wn);
	assert_memory_equal(buf, w, n);
}

static void encoding_short(void **state)
{
	(void)state;
	uint8_t d[3] = { 0x3F, 0x00, 0x01 };
	encode_hex(&(struct apdu){ .ins = 0x20, .p2 = 0x81 }, "00200081");  /* case 1 */
	encode_hex(&(struct apdu){ .ins = 0xB0, .ne = 256 }, "00B0000000"); /* case 2S, 256 → 00 */
	encode_hex(&(struct apdu){ .ins = 0xB0, .p1 = 1, .p2 = 2, .ne = 5 }, "00B0010205");
	encode_hex(&(struct apdu){ .ins = 0xA4, .p2 = 0x0C, .data = d, .lc = 2 },
		   "00A4000C023F00"); /* 3S */
	encode_hex(&(struct apdu){ .ins = 0xA4, .p2 = 0x04, .data = d, .lc = 3, .ne = 256 },
		   "00A40004033F000100"); /* 4S */
}

static void encoding_extended(void **state)
{
	(void)state;
	static uint8_t big[300];
	uint8_t buf[400];
	size_t n = 0;
	encode_hex(&(struct apdu){ .ins = 0xB0, .ne = 65536 },
		   "00B00000000000"); /* 2E, 65536 → 0000 */
	encode_hex(&(struct apdu){ .ins = 0xB0, .ne = 257 }, "00B00000000101");
	encode_hex(&(struct apdu){ .ins = 0x46, .p2 = 2, .ne = 256, .extended = true },
		   "00460002000100");
	/* 4E: ne > 256 forces extended: 00 Lc(2) data Le(2) */
	encode_hex(&(struct apdu){ .ins = 0x2A, .data = big, .lc = 1, .ne = 300 },
		   "002A0000 000001 00 012C");
	assert_int_equal(apdu_encode(&(struct apdu){ .ins = 0xD6, .data = big, .lc = 300 }, buf,
				     sizeof(buf), &n),
			 CARD_OK);
	assert_int_equal(n, 4 + 3 + 300); /* 3E */
	assert_int_equal(buf[4], 0);
	assert_int_equal(buf[5] << 8 | buf[6], 300);
}

static void encoding_limits(void **state)
{
	(void)state;
	uint8_t buf[16];
	size_t n;
	assert_int_equal(
		apdu_encode(&(struct apdu){ .ins = 0xB0, .ne = 65537 }, buf, sizeof(buf), &n),
		CARD_E_WRONG_LENGTH);
	assert_int_equal(apdu_encode(&(struct apdu){ .ins = 0xD6, .lc = 65536, .data = buf }, buf,
				     sizeof(buf), &n),
			 CARD_E_WRONG_LENGTH);
	assert_int_equal(apdu_encode(&(struct apdu){ .ins = 0xD6, .lc = 3 }, buf, sizeof(buf), &n),
			 CARD_E_WRONG_LENGTH); /* no data */
	assert_int_equal(apdu_encode(&(struct apdu){ .ins = 0xD6, .lc = 20, .data = buf }, buf,
				     sizeof(buf), &n),
			 CARD_E_WRONG_LENGTH); /* buffer */
}

/* ---- chaining ---- */

static void get_response_chain(void **state)
{
	(void)state;
	static const struct fx_step s[] = {
		{ "00A4080400", "6210 8002 0100 61 05", 0 }, /* 6 bytes and "5 more" */
		{ "00C0000005", "0102030405 6103", 0 },
		{ "00C0000003", "AABBCC 9000", 0 },
	};
	uint8_t out[64];
	size_t len = 0;
	uint16_t sw = 0;
	RUN(s, (&(struct apdu){ .ins = 0xA4, .p1 = 8, .p2 = 4, .ne = 256 }), out, sizeof(out), &len,
	    &sw);
	assert_int_equal(e_, CARD_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(len, 6 + 5 + 3);
	assert_int_equal(out[0], 0x62);
	assert_int_equal(out[6], 0x01);
	assert_int_equal(out[13], 0xCC);
	assert_int_equal(sc_.pos, 3);
}

static void get_response_256(void **state)
{
	(void)state;
	char big[2 * 256 + 8];
	for (int i = 0; i < 256; i++)
		snprintf(big + 2 * i, 3, "%02X", i);
	strcat(big, "9000");
	struct fx_step s[] = {
		{ "0046000200", "6100", 0 }, /* 61 00: 256 or more */
		{ "00C0000000", NULL, 0 },
	};
	s[1].resp = big;
	uint8_t out[300];
	size_t len = 0;
	uint16_t sw = 0;
	RUN(s, (&(struct apdu){ .ins = 0x46, .p2 = 2, .ne = 256 }), out, sizeof(out), &len, &sw);
	assert_int_equal(e_, CARD_OK);
	assert_int_equal(len, 256);
	assert_int_equal(out[255], 255);
}

static void wrong_le_resend(void **state)
{
	(void)state;
	static const struct fx_step s[] = {
		{ "00B0001010", "6C05", 0 },
		{ "00B0001005", "1122334455 9000", 0 },
	};
	uint8_t out[16];
	size_t len = 0;
	uint16_t sw = 0;
	RUN(s, (&(struct apdu){ .ins = 0xB0, .p2 = 0x10, .ne = 16 }), out, sizeof(out), &len, &sw);
	assert_int_equal(e_, CARD_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(len, 5);
	assert_int_equal(out[4], 0x55);
}

static void wrong_le_only_once(void **state)
{
	(void)state;
	static const struct fx_step s[] = {
		{ "00B0000010", "6C05", 0 },
		{ "00B0000005", "6C04", 0 }, /* the card changes its mind: no third try */
	};
	uint8_t out[16];
	size_t len = 0;
	uint16_t sw = 0;
	RUN(s, (&(struct apdu){ .ins = 0xB0, .ne = 16 }), out, sizeof(out), &len, &sw);
	assert_int_equal(e_, CARD_OK);
	assert_int_equal(sw, 0x6C04);
	assert_int_equal(apdu_sw_err(sw), CARD_E_COMM);
	assert_int_equal(sc_.pos, 2);
}

static void endless_chain(void **state)
{
	(void)state;
	static const struct fx_step s[] = {
		{ "00B0000000", "6101", 0 },
		{ "00C0000001", "6101", 0 }, /* no data, always "one more" */
	};
	struct fx_script sc = { s, 2, 0, true, 0 };
	struct apdu_transport t = { .transmit = fx_script_transmit, .ctx = &sc };
	uint8_t out[1024];
	size_t len = 0;
	uint16_t sw = 0;
	assert_int_equal(apdu_transmit(&t, &(struct apdu){ .ins = 0xB0, .ne = 256 }, out,
				       sizeof(out), &len, &sw),
			 CARD_E_COMM);
	assert_true(sc.calls > 100 && sc.calls < 1000); /* gave up, and not at the first 61xx */
}

static void chain_overflow(void **state)
{
	(void)state;
	static const struct fx_step s[] = {
		{ "00B0000000", "0102030405060708 6108", 0 },
		{ "00C0000008", "0102030405060708 9000", 0 },
	};
	uint8_t out[12];
	size_t len = 0;
	uint16_t sw = 0;
	RUN(s, (&(struct apdu){ .ins = 0xB0, .ne = 256 }), out, sizeof(out), &len, &sw);
	assert_int_equal(e_, CARD_E_BAD_DATA);
}

static void short_answer(void **state)
{
	(void)state;
	static const struct fx_step s[] = { { "00B0000000", "90", 0 } };
	uint8_t out[12];
	size_t len = 0;
	uint16_t sw = 0;
	RUN(s, (&(struct apdu){ .ins = 0xB0, .ne = 256 }), out, sizeof(out), &len, &sw);
	assert_int_equal(e_, CARD_E_COMM);
}

static void transport_errors_pass_through(void **state)
{
	(void)state;
	static const struct fx_step s[] = {
		{ "00B0000000", "0102 6102", 0 },
		{ "00C0000002", NULL, CARD_E_REMOVED },
	};
	uint8_t out[12];
	size_t len = 0;
	uint16_t sw = 0;
	RUN(s, (&(struct apdu){ .ins = 0xB0, .ne = 256 }), out, sizeof(out), &len, &sw);
	assert_int_equal(e_, CARD_E_REMOVED);

	static const struct fx_step r[] = { { NULL, NULL, CARD_E_RESET } };
	struct fx_script sc = { r, 1, 0, false, 0 };
	struct apdu_transport t = { .transmit = fx_script_transmit, .ctx = &sc };
	assert_int_equal(apdu_run(&t, &(struct apdu){ .ins = 0x20, .p2 = 1 }, NULL, 0, NULL, NULL),
			 CARD_E_RESET);
}

static void run_maps_status(void **state)
{
	(void)state;
	static const struct fx_step s[] = { { "0020000102", "63C2", 0 } };
	uint16_t sw = 0;
	struct fx_script sc = { s, 1, 0, false, 0 };
	struct apdu_transport t = { .transmit = fx_script_transmit, .ctx = &sc };
	assert_int_equal(
		apdu_run(&t, &(struct apdu){ .ins = 0x20, .p2 = 1, .ne = 2 }, NULL, 0, NULL, &sw),
		CARD_E_PIN_WRONG);
	assert_int_equal(sw, 0x63C2);
	assert_int_equal(apdu_sw_tries(sw), 2);
}

static void status_words(void **state)
{
	(void)state;
	static const struct {
		uint16_t sw;
		card_err e;
		int tries;
	} cases[] = {
		{ 0x9000, CARD_OK, -1 },
		{ 0x6282, CARD_OK, -1 },
		{ 0x63C3, CARD_E_PIN_WRONG, 3 },
		{ 0x63C1, CARD_E_PIN_WRONG, 1 },
		{ 0x63C0, CARD_E_PIN_BLOCKED, 0 },
		{ 0x6983, CARD_E_PIN_BLOCKED, 0 },
		{ 0x6982, CARD_E_SECURITY, -1 },
		{ 0x6985, CARD_E_CONDITIONS, -1 },
		{ 0x6986, CARD_E_CONDITIONS, -1 },
		{ 0x6A82, CARD_E_FILE_NOT_FOUND, -1 },
		{ 0x6A88, CARD_E_FILE_NOT_FOUND, -1 },
		{ 0x6B00, CARD_E_RANGE, -1 },
		{ 0x6A84, CARD_E_RANGE, -1 },
		{ 0x6700, CARD_E_WRONG_LENGTH, -1 },
		{ 0x6A80, CARD_E_WRONG_DATA, -1 },
		{ 0x6D00, CARD_E_NOT_SUPPORTED, -1 },
		{ 0x6E00, CARD_E_NOT_SUPPORTED, -1 },
		{ 0x6A86, CARD_E_NOT_SUPPORTED, -1 },
		{ 0x6881, CARD_E_NOT_SUPPORTED, -1 },
		{ 0x6F00, CARD_E_CARD_ERROR, -1 },
		{ 0x6581, CARD_E_CARD_ERROR, -1 },
		{ 0x6110, CARD_E_COMM, -1 },
		{ 0x6C10, CARD_E_COMM, -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (apdu_sw_err(cases[i].sw) != cases[i].e)
			fail_msg("SW %04X: %s", cases[i].sw,
				 card_strerror(apdu_sw_err(cases[i].sw)));
		assert_int_equal(apdu_sw_tries(cases[i].sw), cases[i].tries);
	}
	for (int e = 0; e < CARD_E__COUNT; e++) {
		assert_non_null(card_strerror((card_err)e));
		assert_non_null(card_errcode((card_err)e));
		assert_string_not_equal(card_errcode((card_err)e), "");
	}
	assert_string_equal(card_errcode(CARD_E_REMOVED), "card_removed");
	assert_string_equal(card_strerror((card_err)999), "unknown card error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encoding_short),
		cmocka_unit_test(encoding_extended),
		cmocka_unit_test(encoding_limits),
		cmocka_unit_test(get_response_chain),
		cmocka_unit_test(get_response_256),
		cmocka_unit_test(wrong_le_resend),
		cmocka_unit_test(wrong_le_only_once),
		cmocka_unit_test(endless_chain),
		cmocka_unit_test(chain_overflow),
		cmocka_unit_test(short_answer),
		cmocka_unit_test(transport_errors_pass_through),
		cmocka_unit_test(run_maps_status),
		cmocka_unit_test(status_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
