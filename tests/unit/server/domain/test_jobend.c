/* test_jobend.c — the download's end as a state machine over facts: after the card work
 * (shown, gone, commit sent, error) and when an interrupted job's card is back (its model:
 * the job's certificate, none, another key's, unreadable). Models carry key_id as model.h
 * defines it, computed here with OpenSSL from the key the "card" generated. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "jobend.h"

/* A 2048-bit-sized modulus (content is irrelevant to the identity's rules), exponent 65537. */
static struct card_pubkey key_of(uint8_t fill)
{
	struct card_pubkey k;
	memset(&k, 0, sizeof(k));
	k.n_len = 256;
	memset(k.n, fill, k.n_len);
	k.n[0] |= 0x80;
	k.e[0] = 0x01, k.e[1] = 0x00, k.e[2] = 0x01;
	k.e_len = 3;
	return k;
}

/* model.h: SHA-256 over the modulus's length (2 bytes, big-endian), the modulus, the exponent. */
static void key_id(const struct card_pubkey *k, unsigned char out[32])
{
	uint8_t buf[2 + CARD_MAX_MODULUS + CARD_MAX_EXPONENT];
	buf[0] = (uint8_t)(k->n_len >> 8), buf[1] = (uint8_t)k->n_len;
	memcpy(buf + 2, k->n, k->n_len);
	memcpy(buf + 2 + k->n_len, k->e, k->e_len);
	assert_int_equal(EVP_Digest(buf, 2 + k->n_len + k->e_len, out, NULL, EVP_sha256(), NULL),
			 1);
}

/* A card read fine, with a signature certificate for key (NULL: none). */
static struct card_model card_with(const struct card_pubkey *key)
{
	struct card_model m;
	memset(&m, 0, sizeof(m));
	strcpy(m.id, "c0123456789abcdef");
	m.status = CARD_STATUS_OK;
	m.sign_key_present = true;
	m.sign_key_checked = true;
	if (key) {
		m.sign.present = true;
		key_id(key, m.sign.key_id);
	}
	return m;
}

static void shows_only_the_jobs_key(void **state)
{
	(void)state;
	struct card_pubkey mine = key_of(0x11), other = key_of(0x22);
	struct card_model m = card_with(&mine);
	assert_true(jobend_shows_cert(&m, &mine));
	assert_false(jobend_shows_cert(&m, &other));
	assert_false(jobend_shows_cert(&m, NULL));    /* no key generated yet */
	assert_false(jobend_shows_cert(NULL, &mine)); /* the card is not known */
	/* The same key with a leading zero byte (as a card might send it): the same identity. */
	struct card_pubkey padded = mine;
	memmove(padded.n + 1, padded.n, padded.n_len);
	padded.n[0] = 0;
	padded.n_len++;
	assert_true(jobend_shows_cert(&m, &padded));
	/* An unreadable card shows nothing, whatever its fields say. */
	m.status = CARD_STATUS_ERROR;
	assert_false(jobend_shows_cert(&m, &mine));
	/* A model whose certificate names no key (not RSA: all zero) certifies none. */
	m = card_with(&mine);
	memset(m.sign.key_id, 0, sizeof(m.sign.key_id));
	assert_false(jobend_shows_cert(&m, &mine));
	/* Not present: the identity of a certificate the model does not show does not count. */
	m = card_with(&mine);
	m.sign.present = false;
	assert_false(jobend_shows_cert(&m, &mine));
}

static void after_the_work(void **state)
{
	(void)state;
	static const struct {
		card_err err;
		bool commit_sent, shows, gone;
		enum jobend want;
	} cases[] = {
		/* The model shows the job's certificate: done, whatever the transaction said. */
		{ CARD_OK, true, true, false, JOBEND_DONE },
		{ CARD_E_COMM, true, true, true, JOBEND_DONE },
		/* Gone after the commit was sent (answered or not): the return decides. */
		{ CARD_OK, true, false, true, JOBEND_INTERRUPTED },
		{ CARD_E_REMOVED, true, false, true, JOBEND_INTERRUPTED },
		{ CARD_E_COMM, true, false, true, JOBEND_INTERRUPTED },
		/* Gone before it: nothing of the job is on the card. */
		{ CARD_E_REMOVED, false, false, true, JOBEND_REMOVED },
		{ CARD_E_COMM, false, false, true, JOBEND_REMOVED },
		/* Still there. */
		{ CARD_OK, true, false, false, JOBEND_NOT_SHOWN },
		{ CARD_E_CARD_ERROR, true, false, false, JOBEND_CARD_ERROR },
		{ CARD_E_PIN_WRONG, false, false, false, JOBEND_CARD_ERROR },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jobend_work w = { .err = cases[i].err,
					 .commit_sent = cases[i].commit_sent,
					 .shows_cert = cases[i].shows,
					 .gone = cases[i].gone };
		if (jobend_after_work(&w) != cases[i].want)
			fail_msg("case %zu: %d, want %d", i, jobend_after_work(&w), cases[i].want);
	}
}

static void when_the_card_is_back(void **state)
{
	(void)state;
	struct card_pubkey mine = key_of(0x11), other = key_of(0x22);
	/* The commit reached the card: its certificate is for the job's key. */
	struct card_model m = card_with(&mine);
	assert_int_equal(jobend_returned(&m, &mine), JOBEND_DONE);
	/* It did not (the entry was withdrawn first, the new one never came): no certificate. */
	m = card_with(NULL);
	assert_int_equal(jobend_returned(&m, &mine), JOBEND_RETURNED_WITHOUT);
	/* Another state: a certificate, but for another key — or one that does not fit the card's
	 * own key (sign_cert_mismatch, shown as absent). */
	m = card_with(&other);
	assert_int_equal(jobend_returned(&m, &mine), JOBEND_RETURNED_OTHER);
	m = card_with(NULL);
	m.sign_cert_mismatch = true;
	assert_int_equal(jobend_returned(&m, &mine), JOBEND_RETURNED_OTHER);
	/* Back but not readable: nothing to decide on, the job keeps waiting. */
	m = card_with(&mine);
	m.status = CARD_STATUS_ERROR;
	assert_int_equal(jobend_returned(&m, &mine), JOBEND_INTERRUPTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shows_only_the_jobs_key),
		cmocka_unit_test(after_the_work),
		cmocka_unit_test(when_the_card_is_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
