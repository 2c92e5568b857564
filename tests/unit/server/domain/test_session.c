/* test_session.c — login sessions: token shape and entropy source, binding to card and Origin,
 * expiry on an injected clock, revocation (logout, card removed), table bound, tags, threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "session.h"

#define CARD_A "reader0:9752269885715693047"
#define CARD_B "reader1:9752269885715690001"
#define ORIGIN "https://127.0.0.1:29443"
#define OTHER_ORIGIN "https://evil.example"

static uint64_t fake_now;
static uint64_t fake_clock(void *user)
{
	(void)user;
	return fake_now;
}

static int setup(void **state)
{
	fake_now = 1000000;
	struct session_store *s = NULL;
	assert_int_equal(session_store_new(fake_clock, NULL, &s), SESSION_OK);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	session_store_free(*state);
	return 0;
}

static void new_token(struct session_store *s, const char *card, const char *origin, char *tok)
{
	assert_int_equal(session_create(s, card, origin, tok), SESSION_OK);
}

static void token_shape(void **state)
{
	struct session_store *s = *state;
	char a[SESSION_TOKEN_LEN + 1], b[SESSION_TOKEN_LEN + 1];
	new_token(s, CARD_A, ORIGIN, a);
	new_token(s, CARD_A, ORIGIN, b);
	assert_int_equal(strlen(a), SESSION_TOKEN_LEN);
	assert_true(SESSION_TOKEN_LEN * 6 >= 256); /* ≥ 256 bits of the CSPRNG */
	for (size_t i = 0; i < SESSION_TOKEN_LEN; i++)
		assert_non_null(strchr(
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
	assert_string_not_equal(a, b);
	assert_int_equal(session_count(s), 2);
}

static void valid_and_bound(void **state)
{
	struct session_store *s = *state;
	char t[SESSION_TOKEN_LEN + 1];
	new_token(s, CARD_A, ORIGIN, t);
	assert_int_equal(session_check(s, t, CARD_A, ORIGIN), SESSION_VALID);
	assert_int_equal(session_check(s, t, CARD_B, ORIGIN), SESSION_WRONG_CARD);
	assert_int_equal(session_check(s, t, CARD_A, OTHER_ORIGIN), SESSION_WRONG_ORIGIN);
	assert_int_equal(session_check(s, t, NULL, ORIGIN), SESSION_WRONG_CARD);
	assert_int_equal(session_check(s, t, CARD_A, NULL), SESSION_WRONG_ORIGIN);
	/* A refusal does not consume the session. */
	assert_int_equal(session_check(s, t, CARD_A, ORIGIN), SESSION_VALID);
}

static void unknown_and_malformed(void **state)
{
	struct session_store *s = *state;
	char t[SESSION_TOKEN_LEN + 1], u[SESSION_TOKEN_LEN + 2];
	new_token(s, CARD_A, ORIGIN, t);
	assert_int_equal(session_check(s, NULL, CARD_A, ORIGIN), SESSION_MISSING);
	assert_int_equal(session_check(s, "", CARD_A, ORIGIN), SESSION_MISSING);
	assert_int_equal(session_check(s, "Bearer", CARD_A, ORIGIN), SESSION_MISSING);
	memcpy(u, t, sizeof t);
	u[SESSION_TOKEN_LEN - 1] = '\0'; /* truncated */
	assert_int_equal(session_check(s, u, CARD_A, ORIGIN), SESSION_MISSING);
	memcpy(u, t, sizeof t);
	u[SESSION_TOKEN_LEN] = 'A'; /* one character too many */
	u[SESSION_TOKEN_LEN + 1] = '\0';
	assert_int_equal(session_check(s, u, CARD_A, ORIGIN), SESSION_MISSING);
	memcpy(u, t, sizeof t);
	u[5] = u[5] == 'A' ? 'B' : 'A'; /* same length, one character different */
	assert_int_equal(session_check(s, u, CARD_A, ORIGIN), SESSION_MISSING);
	assert_int_equal(session_check(NULL, t, CARD_A, ORIGIN), SESSION_MISSING);
	assert_int_equal(session_check(s, t, CARD_A, ORIGIN), SESSION_VALID);
}

static void expiry(void **state)
{
	struct session_store *s = *state;
	char t[SESSION_TOKEN_LEN + 1], later[SESSION_TOKEN_LEN + 1];
	new_token(s, CARD_A, ORIGIN, t);
	fake_now += 5 * 60 * 1000;
	new_token(s, CARD_A, ORIGIN, later);
	fake_now += SESSION_LIFETIME_MS - 5 * 60 * 1000 - 1; /* 1 ms before the first expires */
	assert_int_equal(session_check(s, t, CARD_A, ORIGIN), SESSION_VALID);
	assert_int_equal(session_count(s), 2);
	fake_now += 1;
	assert_int_equal(session_count(s), 1);
	assert_int_equal(session_check(s, t, CARD_A, ORIGIN), SESSION_EXPIRED);
	assert_int_equal(session_check(s, t, CARD_A, ORIGIN), SESSION_MISSING); /* forgotten */
	assert_int_equal(session_check(s, later, CARD_A, ORIGIN), SESSION_VALID);
	fake_now += 5 * 60 * 1000;
	assert_int_equal(session_check(s, later, CARD_A, ORIGIN), SESSION_EXPIRED);
	assert_int_equal(session_count(s), 0);
}

static void expired_beats_binding(void **state)
{
	/* An old token from another page is "expired" (401), not "foreign" (403). */
	struct session_store *s = *state;
	char t[SESSION_TOKEN_LEN + 1];
	new_token(s, CARD_A, ORIGIN, t);
	fake_now += SESSION_LIFETIME_MS;
	assert_int_equal(session_check(s, t, CARD_B, OTHER_ORIGIN), SESSION_EXPIRED);
}

static void revoke_card(void **state)
{
	struct session_store *s = *state;
	char a1[SESSION_TOKEN_LEN + 1], a2[SESSION_TOKEN_LEN + 1], b[SESSION_TOKEN_LEN + 1];
	new_token(s, CARD_A, ORIGIN, a1);
	new_token(s, CARD_A, OTHER_ORIGIN, a2);
	new_token(s, CARD_B, ORIGIN, b);
	assert_int_equal(session_revoke_card(s, CARD_A), 2);
	assert_int_equal(session_check(s, a1, CARD_A, ORIGIN), SESSION_MISSING);
	assert_int_equal(session_check(s, a2, CARD_A, OTHER_ORIGIN), SESSION_MISSING);
	assert_int_equal(session_check(s, b, CARD_B, ORIGIN), SESSION_VALID);
	assert_int_equal(session_revoke_card(s, CARD_A), 0);
	assert_int_equal(session_revoke_card(s, NULL), 0);
	assert_int_equal(session_count(s), 1);
}

static void logout(void **state)
{
	struct session_store *s = *state;
	char a[SESSION_TOKEN_LEN + 1], b[SESSION_TOKEN_LEN + 1];
	new_token(s, CARD_A, ORIGIN, a);
	new_token(s, CARD_A, ORIGIN, b);
	assert_int_equal(session_revoke(s, a), 1);
	assert_int_equal(session_revoke(s, a), 0);
	assert_int_equal(session_revoke(s, "nonsense"), 0);
	assert_int_equal(session_check(s, a, CARD_A, ORIGIN), SESSION_MISSING);
	assert_int_equal(session_check(s, b, CARD_A, ORIGIN), SESSION_VALID);
}

/* session_end: only the holder's own card and Origin end a session; everything else leaves it. */
static void end_is_bound(void **state)
{
	struct session_store *s = *state;
	char a[SESSION_TOKEN_LEN + 1], b[SESSION_TOKEN_LEN + 1];
	new_token(s, CARD_A, ORIGIN, a);
	new_token(s, CARD_A, ORIGIN, b);
	assert_int_equal(session_end(s, a, CARD_B, ORIGIN), SESSION_WRONG_CARD);
	assert_int_equal(session_end(s, a, CARD_A, OTHER_ORIGIN), SESSION_WRONG_ORIGIN);
	assert_int_equal(session_end(s, a, NULL, ORIGIN), SESSION_WRONG_CARD);
	assert_int_equal(session_end(s, a, CARD_A, NULL), SESSION_WRONG_ORIGIN);
	assert_int_equal(session_check(s, a, CARD_A, ORIGIN), SESSION_VALID);
	assert_int_equal(session_end(s, a, CARD_A, ORIGIN), SESSION_VALID);
	assert_int_equal(session_check(s, a, CARD_A, ORIGIN), SESSION_MISSING);
	assert_int_equal(session_end(s, a, CARD_A, ORIGIN), SESSION_MISSING);
	assert_int_equal(session_end(s, NULL, CARD_A, ORIGIN), SESSION_MISSING);
	assert_int_equal(session_end(s, "short", CARD_A, ORIGIN), SESSION_MISSING);
	assert_int_equal(session_end(NULL, b, CARD_A, ORIGIN), SESSION_MISSING);
	/* The other session of the same card is untouched. */
	assert_int_equal(session_check(s, b, CARD_A, ORIGIN), SESSION_VALID);
	assert_int_equal(session_count(s), 1);
}

static void end_expired(void **state)
{
	struct session_store *s = *state;
	char a[SESSION_TOKEN_LEN + 1];
	new_token(s, CARD_A, ORIGIN, a);
	fake_now += SESSION_LIFETIME_MS;
	assert_int_equal(session_end(s, a, CARD_A, ORIGIN), SESSION_EXPIRED);
	assert_int_equal(session_end(s, a, CARD_A, ORIGIN), SESSION_MISSING);
	assert_int_equal(session_count(s), 0);
}

static void bad_arguments(void **state)
{
	struct session_store *s = *state;
	char t[SESSION_TOKEN_LEN + 1];
	char long_origin[600];
	memset(long_origin, 'a', sizeof long_origin - 1);
	long_origin[sizeof long_origin - 1] = '\0';
	assert_int_equal(session_create(s, NULL, ORIGIN, t), SESSION_E_ARG);
	assert_int_equal(session_create(s, "", ORIGIN, t), SESSION_E_ARG);
	assert_int_equal(session_create(s, CARD_A, "", t), SESSION_E_ARG);
	assert_int_equal(session_create(s, CARD_A, long_origin, t), SESSION_E_ARG);
	assert_int_equal(session_create(NULL, CARD_A, ORIGIN, t), SESSION_E_ARG);
	assert_int_equal(session_store_new(NULL, NULL, NULL), SESSION_E_ARG);
	assert_int_equal(session_count(s), 0);
	assert_string_equal(session_strerror(SESSION_E_RANDOM), "random number generator failed");
	assert_string_equal(session_status_str(SESSION_WRONG_ORIGIN), "wrong_origin");
}

static void table_is_bounded(void **state)
{
	struct session_store *s = *state;
	char first[SESSION_TOKEN_LEN + 1], t[SESSION_TOKEN_LEN + 1];
	new_token(s, CARD_A, ORIGIN, first);
	for (int i = 0; i < SESSION_MAX; i++) {
		fake_now++; /* distinct ages so "oldest" is well defined */
		new_token(s, CARD_B, ORIGIN, t);
	}
	assert_int_equal(session_count(s), SESSION_MAX);
	assert_int_equal(session_check(s, first, CARD_A, ORIGIN), SESSION_MISSING);
	assert_int_equal(session_check(s, t, CARD_B, ORIGIN), SESSION_VALID);
}

static void tags(void **state)
{
	struct session_store *s = *state;
	char a[SESSION_TOKEN_LEN + 1], b[SESSION_TOKEN_LEN + 1];
	char ta[SESSION_TAG_LEN + 1], ta2[SESSION_TAG_LEN + 1], tb[SESSION_TAG_LEN + 1],
		tn[SESSION_TAG_LEN + 1];
	new_token(s, CARD_A, ORIGIN, a);
	new_token(s, CARD_A, ORIGIN, b);
	session_tag(a, ta);
	session_tag(a, ta2);
	session_tag(b, tb);
	session_tag(NULL, tn);
	assert_int_equal(strlen(ta), SESSION_TAG_LEN);
	assert_string_equal(ta, ta2);
	assert_string_not_equal(ta, tb);
	assert_null(strstr(a, ta)); /* not a piece of the token */
	assert_string_equal(tn, "-");
}

static void real_clock(void **state)
{
	(void)state;
	struct session_store *s = NULL;
	char t[SESSION_TOKEN_LEN + 1];
	assert_int_equal(session_store_new(NULL, NULL, &s), SESSION_OK);
	new_token(s, CARD_A, ORIGIN, t);
	assert_int_equal(session_check(s, t, CARD_A, ORIGIN), SESSION_VALID);
	session_store_free(s);
	session_store_free(NULL);
}

#define THREADS 4
#define ROUNDS 200
static void *worker(void *arg)
{
	struct session_store *s = arg;
	char t[SESSION_TOKEN_LEN + 1];
	long bad = 0;
	for (int i = 0; i < ROUNDS; i++) {
		if (session_create(s, CARD_A, ORIGIN, t) != SESSION_OK ||
		    session_check(s, t, CARD_A, ORIGIN) != SESSION_VALID ||
		    session_check(s, t, CARD_B, ORIGIN) != SESSION_WRONG_CARD ||
		    (i % 2 ? session_revoke(s, t) != 1
			   : session_end(s, t, CARD_A, ORIGIN) != SESSION_VALID))
			bad++;
	}
	return (void *)bad;
}

static void threads(void **state)
{
	struct session_store *s = *state;
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, s), 0);
	for (int i = 0; i < THREADS; i++) {
		void *bad = NULL;
		assert_int_equal(pthread_join(th[i], &bad), 0);
		assert_null(bad);
	}
	assert_int_equal(session_count(s), 0);
}

static unsigned ends;
static void on_end(void *user)
{
	assert_ptr_equal(user, &ends);
	ends++;
}

/* What keeps an on-demand daemon alive: the time until the last session expires, and a call
 * when sessions end before it (logout, revocation, card removed), not for refused attempts. */
static void busy_time_and_early_ends(void **state)
{
	struct session_store *s = *state;
	char a[SESSION_TOKEN_LEN + 1], b[SESSION_TOKEN_LEN + 1], c[SESSION_TOKEN_LEN + 1];
	session_store_on_end(s, on_end, &ends);
	ends = 0;
	assert_int_equal(session_busy_ms(s), 0);
	new_token(s, CARD_A, ORIGIN, a);
	fake_now += 60000;
	new_token(s, CARD_B, ORIGIN, b);
	assert_int_equal(session_busy_ms(s), SESSION_LIFETIME_MS); /* b, the younger */
	fake_now += 1000;
	assert_int_equal(session_busy_ms(s), SESSION_LIFETIME_MS - 1000);
	assert_int_equal(session_end(s, b, CARD_A, ORIGIN), SESSION_WRONG_CARD);
	assert_int_equal(ends, 0);
	assert_int_equal(session_end(s, b, CARD_B, ORIGIN), SESSION_VALID);
	assert_int_equal(ends, 1);
	assert_int_equal(session_busy_ms(s), SESSION_LIFETIME_MS - 61000); /* a's time left */
	assert_int_equal(session_revoke_card(s, CARD_B), 0);
	assert_int_equal(ends, 1);
	assert_int_equal(session_revoke_card(s, CARD_A), 1);
	assert_int_equal(ends, 2);
	new_token(s, CARD_A, ORIGIN, c);
	assert_int_equal(session_revoke(s, c), 1);
	assert_int_equal(ends, 3);
	assert_int_equal(session_busy_ms(s), 0);
	/* Expiry is not an early end: the busy time simply reaches 0. */
	new_token(s, CARD_A, ORIGIN, a);
	fake_now += SESSION_LIFETIME_MS;
	assert_int_equal(session_busy_ms(s), 0);
	assert_int_equal(ends, 3);
	assert_int_equal(session_busy_ms(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(token_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(valid_and_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_and_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(expired_beats_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(revoke_card, setup, teardown),
		cmocka_unit_test_setup_teardown(logout, setup, teardown),
		cmocka_unit_test_setup_teardown(end_is_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(end_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(table_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(tags, setup, teardown),
		cmocka_unit_test(real_clock),
		cmocka_unit_test_setup_teardown(threads, setup, teardown),
		cmocka_unit_test_setup_teardown(busy_time_and_early_ends, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
