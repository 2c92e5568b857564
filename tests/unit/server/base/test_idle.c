/* test_idle.c — the idle tracker on an injected clock: due only after the whole idle time with
 * nothing held and no probe busy; a hold's release restarts the time and wakes the waiter; a
 * probe's busy time counts until it ends, shorter when it says so (idle_changed); the waits it
 * asks for; bad arguments; holds from several threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "idle.h"

static uint64_t now_ms;
static uint64_t fake_clock(void *user)
{
	(void)user;
	return now_ms;
}

static uint64_t busy_ms; /* what the probe says */
static uint64_t probe(void *user)
{
	(void)user;
	return busy_ms;
}

static unsigned wakes;
static void waker(void *user)
{
	assert_ptr_equal(user, &wakes);
	wakes++;
}

static int setup(void **state)
{
	struct idle *t = NULL;
	now_ms = 1000000;
	busy_ms = 0;
	wakes = 0;
	assert_int_equal(idle_new(10, fake_clock, NULL, &t), IDLE_OK);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	idle_free(*state);
	return 0;
}

static void due_after_the_idle_time(void **state)
{
	struct idle *t = *state;
	uint64_t wait = 0;
	assert_false(idle_due(t, &wait));
	assert_int_equal(wait, 10000);
	now_ms += 9999;
	assert_false(idle_due(t, &wait));
	assert_int_equal(wait, 1);
	now_ms += 1;
	assert_true(idle_due(t, &wait));
	assert_int_equal(wait, 0);
}

static void a_hold_keeps_it_and_its_release_restarts_the_time_and_wakes(void **state)
{
	struct idle *t = *state;
	uint64_t wait = 0;
	idle_set_waker(t, waker, &wakes);
	idle_hold(t);
	now_ms += 60000;
	assert_false(idle_due(t, &wait));
	assert_true(wait == UINT64_MAX); /* nothing to wait for but the release */
	idle_hold(t);
	idle_release(t);
	assert_int_equal(wakes, 1);
	now_ms += 60000;
	assert_false(idle_due(t, &wait)); /* one hold is still there */
	assert_true(wait == UINT64_MAX);
	now_ms += 1000;
	idle_release(t);
	assert_int_equal(wakes, 2);
	now_ms += 4000;
	assert_false(idle_due(t, &wait));
	assert_int_equal(wait, 6000);
	now_ms += 6000;
	assert_true(idle_due(t, &wait));
}

static void a_busy_probe_keeps_it_until_its_time_ends(void **state)
{
	struct idle *t = *state;
	uint64_t wait = 0;
	assert_int_equal(idle_add_probe(t, probe, NULL), IDLE_OK);
	now_ms += 60000;
	busy_ms = 900000; /* a session with 15 minutes left */
	assert_false(idle_due(t, &wait));
	assert_int_equal(wait, 900000 + 10000);
	/* Asked when the session has just expired (the probe says 0): the idle time counts from
	 * its end. */
	now_ms += 900000;
	busy_ms = 0;
	assert_false(idle_due(t, &wait));
	assert_int_equal(wait, 10000);
	now_ms += 9999;
	assert_false(idle_due(t, &wait));
	assert_int_equal(wait, 1);
	now_ms += 1;
	assert_true(idle_due(t, &wait));
}

static void an_early_end_of_the_probe_shortens_the_wait_and_wakes(void **state)
{
	struct idle *t = *state;
	uint64_t wait = 0;
	idle_set_waker(t, waker, &wakes);
	assert_int_equal(idle_add_probe(t, probe, NULL), IDLE_OK);
	now_ms += 60000;
	busy_ms = 900000;
	assert_false(idle_due(t, &wait));
	assert_int_equal(wait, 910000);
	/* A logout after 1 s: the owner says so; the busy time asked for before is forgotten and
	 * the idle time counts from the logout. */
	now_ms += 1000;
	busy_ms = 0;
	idle_changed(t);
	assert_int_equal(wakes, 1);
	assert_false(idle_due(t, &wait));
	assert_int_equal(wait, 10000);
	now_ms += 10000;
	assert_true(idle_due(t, &wait));
}

static void a_probe_is_not_asked_while_held(void **state)
{
	struct idle *t = *state;
	uint64_t wait = 0;
	assert_int_equal(idle_add_probe(t, probe, NULL), IDLE_OK);
	idle_hold(t);
	busy_ms = 5000;
	assert_false(idle_due(t, &wait));
	assert_true(wait == UINT64_MAX);
	busy_ms = 0;
	idle_release(t);
	now_ms += 10000;
	assert_true(idle_due(t, &wait));
}

static void bad_arguments(void **state)
{
	struct idle *t = *state, *u = (struct idle *)&u;
	uint64_t wait = 0;
	assert_int_equal(idle_new(0, NULL, NULL, &u), IDLE_E_ARG);
	assert_null(u);
	assert_int_equal(idle_add_probe(t, NULL, NULL), IDLE_E_ARG);
	assert_int_equal(idle_add_probe(NULL, probe, NULL), IDLE_E_ARG);
	for (int i = 0; i < IDLE_MAX_PROBES; i++)
		assert_int_equal(idle_add_probe(t, probe, NULL), IDLE_OK);
	assert_int_equal(idle_add_probe(t, probe, NULL), IDLE_E_ARG);
	/* A release without a hold does not make a later hold vanish. */
	idle_release(t);
	idle_hold(t);
	now_ms += 60000;
	assert_false(idle_due(t, &wait));
	/* The NULL tracker: never due, holds ignored. */
	idle_hold(NULL);
	idle_release(NULL);
	idle_changed(NULL);
	idle_set_waker(NULL, waker, &wakes);
	assert_false(idle_due(NULL, &wait));
	assert_int_equal(wait, UINT64_MAX);
	idle_free(NULL);
	assert_string_equal(idle_strerror(IDLE_E_ARG), "bad idle tracker argument");
}

static void *hold_and_release(void *arg)
{
	for (int i = 0; i < 10000; i++) {
		idle_hold(arg);
		idle_release(arg);
	}
	idle_hold(arg);
	return NULL;
}

static void holds_from_threads(void **state)
{
	struct idle *t = *state;
	pthread_t th[4];
	uint64_t wait = 0;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hold_and_release, t), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	now_ms += 60000;
	for (int i = 0; i < 4; i++) {
		assert_false(idle_due(t, &wait));
		idle_release(t);
	}
	now_ms += 10000;
	assert_true(idle_due(t, &wait));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(due_after_the_idle_time, setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_hold_keeps_it_and_its_release_restarts_the_time_and_wakes, setup,
			teardown),
		cmocka_unit_test_setup_teardown(a_busy_probe_keeps_it_until_its_time_ends, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			an_early_end_of_the_probe_shortens_the_wait_and_wakes, setup, teardown),
		cmocka_unit_test_setup_teardown(a_probe_is_not_asked_while_held, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(holds_from_threads, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
