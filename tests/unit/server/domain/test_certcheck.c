/* test_certcheck.c — validation of an issued signature certificate against an in-memory SITHS-like
 * hierarchy: the good certificate passes; another key, HSA-id, key usage, a CA flag, expiry,
 * future validity, a foreign or incomplete chain and a smuggled root are each refused with
 * their own error; trust anchors load only from CA certificates; anchors that are all TEST roots
 * make a test hierarchy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/pem.h>

#include "certcheck.h"
#include "fx_pki.h"

struct fx {
	EVP_PKEY *root_key, *ca_key, *auth_key, *card_key, *other_key, *rogue_key;
	X509 *root, *ca, *auth;
	struct certcheck_trust *trust;
	char detail[256];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	f->root_key = fx_key(0);
	f->ca_key = fx_key(1);
	f->auth_key = fx_key(2);
	f->card_key = fx_key(3);
	f->other_key = fx_key(4);
	f->rogue_key = fx_key(5);
	f->root = fx_ca_cert(FX_ROOT_CN, f->root_key, NULL, NULL);
	f->ca = fx_ca_cert(FX_PERSON_CA_CN, f->ca_key, f->root, f->root_key);
	f->auth = fx_auth_cert(f->auth_key, f->ca, f->ca_key);
	assert_int_equal(certcheck_trust_new(&f->root, 1, &f->trust), CERTCHECK_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	EVP_PKEY_free(f->root_key);
	EVP_PKEY_free(f->ca_key);
	EVP_PKEY_free(f->auth_key);
	EVP_PKEY_free(f->card_key);
	EVP_PKEY_free(f->other_key);
	EVP_PKEY_free(f->rogue_key);
	X509_free(f->root);
	X509_free(f->ca);
	X509_free(f->auth);
	certcheck_trust_free(f->trust);
	free(f);
	return 0;
}

/* A correct SITHS-like signature certificate; tests change one field of o. */
static struct fx_cert good(struct fx *f)
{
	struct fx_cert o = fx_person();
	o.key_usage = "critical,nonRepudiation";
	o.from_days = 0;
	o.to_days = 365;
	o.key = f->card_key;
	o.issuer = f->ca;
	o.issuer_key = f->ca_key;
	return o;
}

static STACK_OF(X509) * chain_of(X509 *a, X509 *b)
{
	STACK_OF(X509) *s = sk_X509_new_null();
	assert_non_null(s);
	if (a)
		assert_true(X509_add_cert(s, a, X509_ADD_FLAG_UP_REF));
	if (b)
		assert_true(X509_add_cert(s, b, X509_ADD_FLAG_UP_REF));
	return s;
}

/* Issues a certificate from o and checks it with the given chain (NULL = person CA + root). */
static certcheck_err check_with(struct fx *f, const struct fx_cert *o, STACK_OF(X509) * chain,
				time_t now)
{
	X509 *cert = fx_make_cert(o);
	STACK_OF(X509) *own = chain ? NULL : chain_of(f->ca, f->root);
	struct certcheck_in in = { .cert = cert,
				   .chain = chain ? chain : own,
				   .card_key = f->card_key,
				   .auth_cert = f->auth,
				   .now = now };
	certcheck_err rc = certcheck_signature_cert(f->trust, &in, f->detail, sizeof f->detail);
	X509_free(cert);
	sk_X509_pop_free(own, X509_free);
	return rc;
}

static certcheck_err check(struct fx *f, const struct fx_cert *o)
{
	return check_with(f, o, NULL, 0);
}

static void accepts_good(void **state)
{
	struct fx *f = *state;
	struct fx_cert o = good(f);
	assert_int_equal(check(f, &o), CERTCHECK_OK);
	assert_string_equal(f->detail, "");
	/* The root may be left out of the issuer's chain: the anchor comes from the store. */
	STACK_OF(X509) *ca_only = chain_of(f->ca, NULL);
	assert_int_equal(check_with(f, &o, ca_only, 0), CERTCHECK_OK);
	sk_X509_pop_free(ca_only, X509_free);
}

static void other_key(void **state)
{
	struct fx *f = *state;
	struct fx_cert o = good(f);
	o.key = f->other_key;
	assert_int_equal(check(f, &o), CERTCHECK_E_KEY_MISMATCH);
	o.key = f->auth_key; /* the authentication key is not the new signing key either */
	assert_int_equal(check(f, &o), CERTCHECK_E_KEY_MISMATCH);
}

static void other_subject(void **state)
{
	struct fx *f = *state;
	struct fx_cert o = good(f);
	o.hsa_id = "TSTNMT2321000156-99ZZ";
	assert_int_equal(check(f, &o), CERTCHECK_E_HSA_ID);
	assert_non_null(strstr(f->detail, "TSTNMT2321000156-99ZZ"));
	o.hsa_id = NULL;
	assert_int_equal(check(f, &o), CERTCHECK_E_HSA_ID);
	o.hsa_id = FX_HSA_ID "X"; /* a prefix match is not a match */
	assert_int_equal(check(f, &o), CERTCHECK_E_HSA_ID);
}

static void auth_cert_without_hsa_id(void **state)
{
	struct fx *f = *state;
	struct fx_cert a = good(f);
	a.hsa_id = NULL;
	a.key = f->auth_key;
	X509 *auth = fx_make_cert(&a), *saved = f->auth;
	f->auth = auth;
	struct fx_cert o = good(f);
	assert_int_equal(check(f, &o), CERTCHECK_E_AUTH_CERT);
	f->auth = saved;
	X509_free(auth);
}

static void wrong_key_usage(void **state)
{
	struct fx *f = *state;
	struct fx_cert o = good(f);
	o.key_usage = "critical,digitalSignature";
	assert_int_equal(check(f, &o), CERTCHECK_E_KEY_USAGE);
	o.key_usage = NULL;
	assert_int_equal(check(f, &o), CERTCHECK_E_KEY_USAGE);
	assert_non_null(strstr(f->detail, "absent"));
	o.key_usage = "critical,nonRepudiation,keyCertSign";
	assert_int_equal(check(f, &o), CERTCHECK_E_KEY_USAGE);
	o.key_usage = "nonRepudiation,digitalSignature"; /* extra signing usage is tolerated */
	assert_int_equal(check(f, &o), CERTCHECK_OK);
}

static void ca_flag(void **state)
{
	struct fx *f = *state;
	struct fx_cert o = good(f);
	o.ca = true;
	assert_int_equal(check(f, &o), CERTCHECK_E_IS_CA);
}

static void validity(void **state)
{
	struct fx *f = *state;
	struct fx_cert o = good(f);
	o.from_days = -30;
	o.to_days = -1;
	assert_int_equal(check(f, &o), CERTCHECK_E_EXPIRED);
	o.from_days = 2;
	o.to_days = 30;
	assert_int_equal(check(f, &o), CERTCHECK_E_NOT_YET_VALID);
	o = good(f);
	assert_int_equal(check_with(f, &o, NULL, time(NULL) + 400L * 86400), CERTCHECK_E_EXPIRED);
	assert_int_equal(check_with(f, &o, NULL, time(NULL) - 86400), CERTCHECK_E_NOT_YET_VALID);
}

static void other_chain(void **state)
{
	struct fx *f = *state;
	/* A CA with the person CA's name but its own key, signing a certificate that is right in
	 * every other way: only the signatures tell. */
	X509 *rogue = fx_ca_cert(FX_PERSON_CA_CN, f->rogue_key, NULL, NULL);
	struct fx_cert o = good(f);
	o.issuer = rogue;
	o.issuer_key = f->rogue_key;
	STACK_OF(X509) *c = chain_of(rogue, f->root);
	assert_int_equal(check_with(f, &o, c, 0), CERTCHECK_E_CHAIN);
	assert_true(strlen(f->detail) > 0);
	sk_X509_pop_free(c, X509_free);

	/* A whole foreign hierarchy whose root travels in the chain is not trusted either. */
	X509 *fake_root = fx_ca_cert(FX_ROOT_CN, f->other_key, NULL, NULL);
	X509 *fake_ca = fx_ca_cert(FX_PERSON_CA_CN, f->rogue_key, fake_root, f->other_key);
	o.issuer = fake_ca;
	c = chain_of(fake_ca, fake_root);
	assert_int_equal(check_with(f, &o, c, 0), CERTCHECK_E_CHAIN);
	sk_X509_pop_free(c, X509_free);
	X509_free(fake_root);
	X509_free(fake_ca);
	X509_free(rogue);
}

static void missing_intermediate(void **state)
{
	struct fx *f = *state;
	struct fx_cert o = good(f);
	STACK_OF(X509) *root_only = chain_of(f->root, NULL);
	assert_int_equal(check_with(f, &o, root_only, 0), CERTCHECK_E_CHAIN);
	sk_X509_pop_free(root_only, X509_free);
}

static void overlong_chain(void **state)
{
	struct fx *f = *state;
	struct fx_cert o = good(f);
	STACK_OF(X509) *c = chain_of(f->ca, f->root);
	for (int i = 0; i < CERTCHECK_MAX_CHAIN; i++)
		assert_true(X509_add_cert(c, f->root, X509_ADD_FLAG_UP_REF));
	assert_int_equal(check_with(f, &o, c, 0), CERTCHECK_E_CHAIN);
	sk_X509_pop_free(c, X509_free);
}

static void malformed_and_args(void **state)
{
	struct fx *f = *state;
	X509 *bare = X509_new();
	struct certcheck_in in = { .cert = bare, .card_key = f->card_key, .auth_cert = f->auth };
	assert_int_equal(certcheck_signature_cert(f->trust, &in, f->detail, sizeof f->detail),
			 CERTCHECK_E_MALFORMED);
	X509_free(bare);
	in.cert = NULL;
	assert_int_equal(certcheck_signature_cert(f->trust, &in, NULL, 0), CERTCHECK_E_ARG);
	assert_int_equal(certcheck_signature_cert(NULL, &in, NULL, 0), CERTCHECK_E_ARG);
	assert_int_equal(certcheck_signature_cert(f->trust, NULL, NULL, 0), CERTCHECK_E_ARG);
	assert_string_equal(certcheck_errcode(CERTCHECK_E_KEY_MISMATCH), "certificate_wrong_key");
	assert_string_equal(certcheck_strerror(CERTCHECK_E_CHAIN),
			    "issued certificate does not chain to the SITHS trust anchor");
}

static void trust_from_files(void **state)
{
	struct fx *f = *state;
	char *dir = fx_tmpdir(), path[600];
	struct certcheck_trust *t = NULL;

	snprintf(path, sizeof path, "%s/root.pem", dir);
	fx_write_cert_pem(path, f->root);
	assert_int_equal(certcheck_trust_load(path, &t), CERTCHECK_OK);
	/* The loaded anchor really is used: swap it in and check a good certificate. */
	struct certcheck_trust *saved = f->trust;
	f->trust = t;
	struct fx_cert o = good(f);
	assert_int_equal(check(f, &o), CERTCHECK_OK);
	f->trust = saved;
	certcheck_trust_free(t);

	/* An anchor file with another root makes the same certificate fail. */
	X509 *other_root = fx_ca_cert(FX_ROOT_CN, f->other_key, NULL, NULL);
	snprintf(path, sizeof path, "%s/other.pem", dir);
	fx_write_cert_pem(path, other_root);
	assert_int_equal(certcheck_trust_load(path, &t), CERTCHECK_OK);
	f->trust = t;
	assert_int_equal(check(f, &o), CERTCHECK_E_CHAIN);
	f->trust = saved;
	certcheck_trust_free(t);
	X509_free(other_root);

	snprintf(path, sizeof path, "%s/leaf.pem", dir);
	fx_write_cert_pem(path, f->auth);
	assert_int_equal(certcheck_trust_load(path, &t), CERTCHECK_E_TRUST);
	snprintf(path, sizeof path, "%s/empty.pem", dir);
	fx_write_file(path, "", 0);
	assert_int_equal(certcheck_trust_load(path, &t), CERTCHECK_E_TRUST);
	snprintf(path, sizeof path, "%s/garbage.pem", dir);
	const char *garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	fx_write_file(path, garbage, strlen(garbage));
	assert_int_equal(certcheck_trust_load(path, &t), CERTCHECK_E_TRUST);
	snprintf(path, sizeof path, "%s/absent.pem", dir);
	assert_int_equal(certcheck_trust_load(path, &t), CERTCHECK_E_TRUST);
	assert_null(t);

	assert_int_equal(certcheck_trust_new(&f->auth, 1, &t), CERTCHECK_E_TRUST);
	assert_int_equal(certcheck_trust_new(&f->root, 0, &t), CERTCHECK_E_TRUST);
	assert_int_equal(certcheck_trust_load(NULL, &t), CERTCHECK_E_ARG);
	assert_null(t);
	fx_run("rm -rf '%s'", dir);
	free(dir);
}

static void test_hierarchy(void **state)
{
	struct fx *f = *state;
	X509 *prod = fx_ca_cert("SITHS e-id Root CA v2", f->other_key, NULL, NULL);
	X509 *both[] = { f->root, prod };
	struct certcheck_trust *t = NULL;
	assert_true(certcheck_trust_is_test(f->trust));
	assert_int_equal(certcheck_trust_new(&prod, 1, &t), CERTCHECK_OK);
	assert_false(certcheck_trust_is_test(t));
	certcheck_trust_free(t);
	assert_int_equal(certcheck_trust_new(both, 2, &t), CERTCHECK_OK);
	assert_false(certcheck_trust_is_test(t)); /* one production root: not a test hierarchy */
	certcheck_trust_free(t);
	assert_false(certcheck_trust_is_test(NULL));
	X509_free(prod);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(accepts_good),
		T(other_key),
		T(other_subject),
		T(auth_cert_without_hsa_id),
		T(wrong_key_usage),
		T(ca_flag),
		T(validity),
		T(other_chain),
		T(missing_intermediate),
		T(overlong_chain),
		T(malformed_and_args),
		T(trust_from_files),
		T(test_hierarchy),
	};
	return cmocka_run_group_tests(tests, NULL, fx_pki_teardown);
}
