/* test_atr.c — card/atr.c: the extended-length bit found in the card capabilities of the
 * historical bytes, behind any interface bytes; the virtual card's two ATRs; and every ATR
 * that is truncated or malformed reads as "short APDUs only". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "atr.h"
#include "sim/sim_vpcd.h"

#define ATR(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

static void virtual_card(void **state)
{
	(void)state;
	assert_false(atr_extended_length(sim_atr, sizeof(sim_atr)));
	assert_true(atr_extended_length(sim_atr_extended, sizeof(sim_atr_extended)));
	/* every truncation of the extended one: its historical bytes no longer all there */
	for (size_t n = 0; n < sizeof(sim_atr_extended) - 1; n++)
		assert_false(atr_extended_length(sim_atr_extended, n));
}

static void interface_bytes_and_categories(void **state)
{
	(void)state;
	/* TA1 TB1 TC1 TD1, TD1 → TA2 TD2, TD2 → TA3: then 5 historical bytes, category 80 */
	assert_true(atr_extended_length(ATR(0x3B, 0xF5, 0x11, 0x00, 0x00, 0x91, 0x10, 0x11, 0xFE,
					    0x80, 0x73, 0x00, 0x00, 0x40, 0x00)));
	/* category 00: compact-TLV, then three status bytes (which are not read as TLV) */
	assert_true(atr_extended_length(
		ATR(0x3B, 0x88, 0x80, 0x01, 0x00, 0x73, 0x00, 0x00, 0x40, 0x81, 0x90, 0x00, 0x00)));
	/* the capabilities after another object; the bit clear */
	assert_true(atr_extended_length(ATR(0x3B, 0x07, 0x80, 0x31, 0x80, 0x73, 0x00, 0x00, 0xC0)));
	assert_false(
		atr_extended_length(ATR(0x3B, 0x07, 0x80, 0x31, 0x80, 0x73, 0x00, 0x00, 0x80)));
	/* inverse convention TS 3F is an ATR too */
	assert_true(atr_extended_length(ATR(0x3F, 0x05, 0x80, 0x73, 0x00, 0x00, 0x40)));
}

static void malformed_reads_short(void **state)
{
	(void)state;
	assert_false(atr_extended_length(NULL, 0));
	assert_false(atr_extended_length(ATR(0x3B)));
	/* not an ATR (TS), no historical bytes, proprietary category (10 and others) */
	assert_false(atr_extended_length(ATR(0x3A, 0x05, 0x80, 0x73, 0x00, 0x00, 0x40)));
	assert_false(atr_extended_length(ATR(0x3B, 0x80, 0x01)));
	assert_false(atr_extended_length(ATR(0x3B, 0x05, 0x10, 0x73, 0x00, 0x00, 0x40)));
	/* capabilities of fewer than three bytes; an object running past the end */
	assert_false(atr_extended_length(ATR(0x3B, 0x04, 0x80, 0x72, 0x00, 0x40)));
	assert_false(atr_extended_length(ATR(0x3B, 0x04, 0x80, 0x73, 0x00, 0x40)));
	/* TD bits promise interface bytes that are not there */
	assert_false(atr_extended_length(ATR(0x3B, 0xF0, 0x11, 0x00)));
	assert_false(atr_extended_length(ATR(0x3B, 0x80, 0xF0, 0x00)));
	/* category 00 with too few bytes for its status */
	assert_false(atr_extended_length(ATR(0x3B, 0x03, 0x00, 0x73, 0x40)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(virtual_card),
		cmocka_unit_test(interface_bytes_and_categories),
		cmocka_unit_test(malformed_reads_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
