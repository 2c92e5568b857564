/* test_sim_trigger.c — unit tests of the virtual card's fault triggers (KIND[:K] of --drop-at,
 * --drop-after-commit, --garbage-at): parsing, and which APDU of a sequence fires, for one kind
 * and for "any" (the K-th APDU whatever its kind, as the fault campaigns use it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "sim/sim_apdu.h"
#include "sim/sim_vpcd.h"

static void parses_kinds_and_counts(void **state)
{
	(void)state;
	struct sim_trigger t;
	assert_int_equal(sim_trigger_parse("verify", &t), 0);
	assert_int_equal(t.kind, SIM_K_VERIFY);
	assert_int_equal(t.k, 1);
	assert_int_equal(sim_trigger_parse("update-binary:7", &t), 0);
	assert_int_equal(t.kind, SIM_K_UPDATE_BINARY);
	assert_int_equal(t.k, 7);
	assert_int_equal(sim_trigger_parse("any:75", &t), 0);
	assert_int_equal(t.kind, SIM_TRIGGER_ANY);
	assert_int_equal(t.k, 75);
	assert_int_equal(sim_trigger_parse("any", &t), 0);
	assert_int_equal(t.k, 1);
}

static void refuses_malformed(void **state)
{
	(void)state;
	struct sim_trigger t;
	const char *bad[] = { "",
			      "anything",
			      "any:",
			      "any:0",
			      "any:-1",
			      "verify:x",
			      "verify:1x",
			      ":3",
			      "ANY:2",
			      "read-binary:99999999999",
			      "a-kind-name-much-longer-than-any-real-one:1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sim_trigger_parse(bad[i], &t), -1);
}

/* The 1-based index in seq[] at which the trigger fires, 0 if never. */
static int fires_at(const char *spec, const enum sim_kind *seq, int n)
{
	struct sim_trigger t;
	long seen = 0;
	assert_int_equal(sim_trigger_parse(spec, &t), 0);
	for (int i = 0; i < n; i++)
		if (sim_trigger_fires(&t, &seen, (int)seq[i]))
			return i + 1;
	return 0;
}

static void fires_once_at_the_kth(void **state)
{
	(void)state;
	const enum sim_kind seq[] = { SIM_K_SELECT, SIM_K_READ_BINARY,  SIM_K_VERIFY, SIM_K_SELECT,
				      SIM_K_VERIFY, SIM_K_GENERATE_KEY, SIM_K_OTHER };
	const int n = (int)(sizeof(seq) / sizeof(seq[0]));
	assert_int_equal(fires_at("verify:2", seq, n), 5);
	assert_int_equal(fires_at("select", seq, n), 1);
	assert_int_equal(fires_at("verify:3", seq, n), 0);
	assert_int_equal(fires_at("pso-cds", seq, n), 0);
	/* any: every kind counts, so any:N is the N-th APDU for every N, and nothing past the end. */
	for (int k = 1; k <= n; k++) {
		char spec[16];
		snprintf(spec, sizeof(spec), "any:%d", k);
		assert_int_equal(fires_at(spec, seq, n), k);
	}
	assert_int_equal(fires_at("any:8", seq, n), 0);
	/* A trigger that never fires (kind < 0) counts nothing. */
	struct sim_trigger never = { -1, 0 };
	long seen = 0;
	for (int i = 0; i < n; i++)
		assert_false(sim_trigger_fires(&never, &seen, (int)seq[i]));
	assert_int_equal(seen, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_kinds_and_counts),
		cmocka_unit_test(refuses_malformed),
		cmocka_unit_test(fires_once_at_the_kth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
