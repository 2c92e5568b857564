/* test_issuer.c — the embedded test CA on the real test hierarchy (certs/test-siths-pki.sh):
 * it issues SITHS-like signature certificates that certcheck and `openssl verify` accept, caps
 * validity at the card's, refuses requests it must not serve, rejects broken CA directories,
 * and each injected fault produces exactly the certificate certcheck must refuse. */
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
#include <openssl/x509v3.h>

#include "certcheck.h"
#include "csr.h"
#include "fx_pki.h"
#include "issuer_testca.h"

static char pki[512];

struct fx {
	EVP_PKEY *ca3_key, *ca2_key, *auth3_key, *auth2_key, *card_key, *foreign_key;
	X509 *root, *ca3, *ca2, *auth3, *auth2;
	unsigned char *csr3, *csr2;
	size_t csr3_len, csr2_len;
	struct issuer *is;
	struct certcheck_trust *trust;
	struct issue_ctx ctx;
	struct issue_result res;
};

static X509 *read_cert(const char *name)
{
	char path[700];
	snprintf(path, sizeof path, "%s/%s", pki, name);
	return fx_read_cert_pem(path);
}

static EVP_PKEY *read_key(const char *name)
{
	char path[700];
	snprintf(path, sizeof path, "%s/%s", pki, name);
	return fx_read_key_pem(path);
}

static void make_csr(X509 *auth, EVP_PKEY *key, unsigned char **der, size_t *len)
{
	assert_int_equal(csr_build(auth, key, fx_soft_sign, key, der, len), CSR_OK);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	f->root = read_cert("root-ca.pem");
	f->ca3 = read_cert("person-3-ca.pem");
	f->ca2 = read_cert("person-2-ca.pem");
	f->ca3_key = read_key("person-3-ca.key");
	f->ca2_key = read_key("person-2-ca.key");
	f->auth3_key = fx_key(0);
	f->auth2_key = fx_key(1);
	f->card_key = fx_key(2);
	f->foreign_key = fx_key(3);
	f->auth3 = fx_auth_cert(f->auth3_key, f->ca3, f->ca3_key);
	f->auth2 = fx_auth_cert(f->auth2_key, f->ca2, f->ca2_key);
	make_csr(f->auth3, f->card_key, &f->csr3, &f->csr3_len);
	make_csr(f->auth2, f->card_key, &f->csr2, &f->csr2_len);
	assert_int_equal(issuer_testca_open(pki, ISSUER_TESTCA_FAULT_NONE, &f->is), ISSUER_OK);
	char path[700];
	snprintf(path, sizeof path, "%s/root-ca.pem", pki);
	assert_int_equal(certcheck_trust_load(path, &f->trust), CERTCHECK_OK);
	f->ctx = (struct issue_ctx){ .card_id = "reader0:9752269885715693047",
				     .session_ok = true,
				     .auth_cert = f->auth3,
				     .trust_level = 3 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	issue_result_free(&f->res);
	issuer_destroy(f->is);
	certcheck_trust_free(f->trust);
	OPENSSL_free(f->csr3);
	OPENSSL_free(f->csr2);
	X509 *certs[] = { f->root, f->ca3, f->ca2, f->auth3, f->auth2 };
	for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++)
		X509_free(certs[i]);
	EVP_PKEY *keys[] = { f->ca3_key,   f->ca2_key,  f->auth3_key,
			     f->auth2_key, f->card_key, f->foreign_key };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		EVP_PKEY_free(keys[i]);
	free(f);
	return 0;
}

static issuer_err issue(struct fx *f, const unsigned char *csr, size_t len)
{
	issue_result_free(&f->res);
	return issuer_issue(f->is, csr, len, &f->ctx, &f->res);
}

static certcheck_err validate(struct fx *f)
{
	struct certcheck_in in = { .cert = f->res.cert,
				   .chain = f->res.chain,
				   .card_key = f->card_key,
				   .auth_cert = f->ctx.auth_cert };
	return certcheck_signature_cert(f->trust, &in, NULL, 0);
}

static void marked_as_test(void **state)
{
	struct fx *f = *state;
	assert_true(issuer_is_test(f->is));
	assert_string_equal(issuer_name(f->is), "test");
	assert_false(issuer_is_test(NULL));
	assert_string_equal(issuer_errcode(ISSUER_E_UNAVAILABLE), "issuer_unavailable");
	assert_string_equal(
		issuer_strerror(ISSUER_E_SUBJECT),
		"certificate request subject differs from the authentication certificate");
}

static void assert_same_san(X509 *a, X509 *b)
{
	GENERAL_NAMES *ga = X509_get_ext_d2i(a, NID_subject_alt_name, NULL, NULL);
	GENERAL_NAMES *gb = X509_get_ext_d2i(b, NID_subject_alt_name, NULL, NULL);
	assert_non_null(ga);
	assert_non_null(gb);
	assert_int_equal(sk_GENERAL_NAME_num(ga), 2);
	assert_int_equal(sk_GENERAL_NAME_num(ga), sk_GENERAL_NAME_num(gb));
	for (int i = 0; i < sk_GENERAL_NAME_num(ga); i++)
		assert_int_equal(GENERAL_NAME_cmp(sk_GENERAL_NAME_value(ga, i),
						  sk_GENERAL_NAME_value(gb, i)),
				 0);
	GENERAL_NAMES_free(ga);
	GENERAL_NAMES_free(gb);
}

static void assert_policy(X509 *x, const char *oid)
{
	CERTIFICATEPOLICIES *p = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	assert_non_null(p);
	assert_int_equal(sk_POLICYINFO_num(p), 1);
	char buf[64];
	OBJ_obj2txt(buf, sizeof buf, sk_POLICYINFO_value(p, 0)->policyid, 1);
	assert_string_equal(buf, oid);
	CERTIFICATEPOLICIES_free(p);
}

static void issues_like_siths(void **state)
{
	struct fx *f = *state;
	assert_int_equal(issue(f, f->csr3, f->csr3_len), ISSUER_OK);
	X509 *c = f->res.cert;
	assert_non_null(c);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(c), X509_get_subject_name(f->auth3)),
			 0);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(f->ca3)), 0);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(c), f->card_key), 1);
	assert_int_equal(X509_verify(c, X509_get0_pubkey(f->ca3)), 1);
	assert_same_san(c, f->auth3);
	assert_policy(c, FX_POLICY_L3);
	/* keyUsage: nonRepudiation and nothing else, critical. */
	assert_true(X509_get_extension_flags(c) & EXFLAG_KUSAGE);
	assert_int_equal(X509_get_key_usage(c), KU_NON_REPUDIATION);
	assert_int_equal(X509_EXTENSION_get_critical(
				 X509_get_ext(c, X509_get_ext_by_NID(c, NID_key_usage, -1))),
			 1);
	assert_false(X509_get_extension_flags(c) & EXFLAG_CA);
	assert_non_null(X509_get0_subject_key_id(c));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(c),
					       X509_get0_subject_key_id(f->ca3)),
			 0);
	/* Validity: from now, not beyond the card's. */
	assert_true(X509_cmp_current_time(X509_get0_notBefore(c)) < 0);
	int day = 0, sec = 0;
	assert_true(
		ASN1_TIME_diff(&day, &sec, X509_get0_notAfter(c), X509_get0_notAfter(f->auth3)));
	assert_true(day == 0 && sec == 0);
	/* Chain: issuing CA, then the root. */
	assert_int_equal(sk_X509_num(f->res.chain), 2);
	assert_int_equal(X509_cmp(sk_X509_value(f->res.chain, 0), f->ca3), 0);
	assert_int_equal(X509_cmp(sk_X509_value(f->res.chain, 1), f->root), 0);
	assert_int_equal(validate(f), CERTCHECK_OK);

	/* `openssl verify` against the test hierarchy, as the acceptance test does. */
	char *dir = fx_tmpdir(), path[600];
	snprintf(path, sizeof path, "%s/sign.pem", dir);
	fx_write_cert_pem(path, c);
	assert_int_equal(fx_run("openssl verify -CAfile '%s/root-ca.pem' -untrusted "
				"'%s/person-3-ca.pem' '%s' >/dev/null 2>&1",
				pki, pki, path),
			 0);
	assert_int_not_equal(fx_run("openssl verify -CAfile '%s/root-ca.pem' -untrusted "
				    "'%s/person-2-ca.pem' '%s' >/dev/null 2>&1",
				    pki, pki, path),
			     0);
	fx_run("rm -rf '%s'", dir);
	free(dir);

	/* Random serials: a second certificate has another one. */
	ASN1_INTEGER *first = ASN1_INTEGER_dup(X509_get0_serialNumber(c));
	assert_int_equal(issue(f, f->csr3, f->csr3_len), ISSUER_OK);
	assert_int_not_equal(ASN1_INTEGER_cmp(first, X509_get0_serialNumber(f->res.cert)), 0);
	assert_int_equal(ASN1_STRING_type(first), V_ASN1_INTEGER); /* positive */
	assert_int_equal(ASN1_STRING_length(first), 16);
	ASN1_INTEGER_free(first);
}

static void level_two(void **state)
{
	struct fx *f = *state;
	f->ctx.auth_cert = f->auth2;
	f->ctx.trust_level = 2;
	assert_int_equal(issue(f, f->csr2, f->csr2_len), ISSUER_OK);
	assert_int_equal(X509_cmp(sk_X509_value(f->res.chain, 0), f->ca2), 0);
	assert_int_equal(X509_verify(f->res.cert, X509_get0_pubkey(f->ca2)), 1);
	assert_int_equal(validate(f), CERTCHECK_OK);
}

static void capped_at_card_validity(void **state)
{
	struct fx *f = *state;
	f->ctx.card_not_after = time(NULL) + 10 * 86400;
	assert_int_equal(issue(f, f->csr3, f->csr3_len), ISSUER_OK);
	assert_int_equal(
		ASN1_TIME_cmp_time_t(X509_get0_notAfter(f->res.cert), f->ctx.card_not_after), 0);
	f->ctx.card_not_after = time(NULL) - 1;
	assert_int_equal(issue(f, f->csr3, f->csr3_len), ISSUER_E_CARD_VALIDITY);
	assert_null(f->res.cert);
}

static void refusals(void **state)
{
	struct fx *f = *state;
	f->ctx.session_ok = false;
	assert_int_equal(issue(f, f->csr3, f->csr3_len), ISSUER_E_NO_SESSION);
	f->ctx.session_ok = true;

	f->ctx.trust_level = 1;
	assert_int_equal(issue(f, f->csr3, f->csr3_len), ISSUER_E_TRUST_LEVEL);
	f->ctx.trust_level = 4;
	assert_int_equal(issue(f, f->csr3, f->csr3_len), ISSUER_E_TRUST_LEVEL);
	f->ctx.trust_level = 2; /* a level-3 card asking the level-2 CA */
	assert_int_equal(issue(f, f->csr3, f->csr3_len), ISSUER_E_AUTH_CERT);
	f->ctx.trust_level = 3;

	/* The request of another card holder for this card's session. */
	struct fx_cert other = { .cn = "Åsa Ödmark",
				 .hsa_id = "TSTNMT2321000156-20AB",
				 .key = f->auth2_key,
				 .issuer = f->ca3,
				 .issuer_key = f->ca3_key };
	X509 *other_auth = fx_make_cert(&other);
	unsigned char *other_csr = NULL;
	size_t other_len = 0;
	make_csr(other_auth, f->card_key, &other_csr, &other_len);
	assert_int_equal(issue(f, other_csr, other_len), ISSUER_E_SUBJECT);
	OPENSSL_free(other_csr);
	X509_free(other_auth);

	unsigned char junk[64];
	memset(junk, 0x30, sizeof junk);
	assert_int_equal(issue(f, junk, sizeof junk), ISSUER_E_CSR_MALFORMED);
	unsigned char *longer = malloc(f->csr3_len + 1);
	memcpy(longer, f->csr3, f->csr3_len);
	longer[f->csr3_len] = 0;
	assert_int_equal(issue(f, longer, f->csr3_len + 1), ISSUER_E_CSR_MALFORMED);
	assert_int_equal(issue(f, longer, f->csr3_len - 1), ISSUER_E_CSR_MALFORMED);
	longer[f->csr3_len - 5] ^= 0x80; /* in the signature */
	assert_int_equal(issue(f, longer, f->csr3_len), ISSUER_E_CSR_SIGNATURE);
	free(longer);

	/* A request signed by OpenSSL itself is fine with SHA-256, refused with SHA-1. */
	static const struct {
		const EVP_MD *(*md)(void);
		issuer_err want;
	} algs[] = {
		{ EVP_sha256, ISSUER_OK },
		{ EVP_sha1, ISSUER_E_CSR_MALFORMED },
	};
	for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
		X509_REQ *r = X509_REQ_new();
		unsigned char *der = NULL;
		assert_true(X509_REQ_set_subject_name(r, X509_get_subject_name(f->auth3)));
		assert_true(X509_REQ_set_pubkey(r, f->card_key));
		assert_true(X509_REQ_sign(r, f->card_key, algs[i].md()) > 0);
		int n = i2d_X509_REQ(r, &der);
		assert_true(n > 0);
		assert_int_equal(issue(f, der, (size_t)n), algs[i].want);
		OPENSSL_free(der);
		X509_REQ_free(r);
	}
	issue_result_free(&f->res);

	/* An auth certificate with the person CA's name from another key is not "ours". */
	struct fx_cert fake = { .cn = "TEST SITHS e-id Person HSA-id 3 CA v1",
				.org = "Inera AB",
				.ca = true,
				.key_usage = "critical,keyCertSign",
				.key = f->foreign_key };
	X509 *fake_ca = fx_make_cert(&fake);
	X509 *forged = fx_auth_cert(f->auth3_key, fake_ca, f->foreign_key);
	f->ctx.auth_cert = forged;
	assert_int_equal(issue(f, f->csr3, f->csr3_len), ISSUER_E_AUTH_CERT);
	f->ctx.auth_cert = f->auth3;
	X509_free(forged);
	X509_free(fake_ca);

	assert_null(f->res.cert);
	assert_null(f->res.chain);
	assert_int_equal(issuer_issue(f->is, NULL, 0, &f->ctx, &f->res), ISSUER_E_ARG);
	assert_int_equal(issuer_issue(NULL, f->csr3, f->csr3_len, &f->ctx, &f->res), ISSUER_E_ARG);
	/* And the same request still works afterwards. */
	assert_int_equal(issue(f, f->csr3, f->csr3_len), ISSUER_OK);
}

/* Hostile requests: every single-byte corruption of a good CSR is refused with a precise error
 * (never a crash, never a certificate). Fixed seed: a failure reproduces. */
static void corrupted_requests(void **state)
{
	struct fx *f = *state;
	unsigned char *m = malloc(f->csr3_len);
	uint32_t seed = 0x5117u;
	for (int round = 0; round < 400; round++) {
		memcpy(m, f->csr3, f->csr3_len);
		seed = seed * 1103515245u + 12345u;
		size_t at = (seed >> 8) % f->csr3_len;
		seed = seed * 1103515245u + 12345u;
		m[at] ^= (unsigned char)(1u + ((seed >> 16) % 255u));
		issuer_err rc = issue(f, m, f->csr3_len);
		if (rc != ISSUER_E_CSR_MALFORMED && rc != ISSUER_E_CSR_SIGNATURE)
			fail_msg("byte %zu corrupted: %s", at, issuer_strerror(rc));
		assert_null(f->res.cert);
	}
	free(m);
}

/* A key without a PKCS#10 (a CMP ir): the same certificate as for a request with that key; the
 * same subject rule; RSA of 2048 bits or more only. */
static void issues_for_a_key(void **state)
{
	struct fx *f = *state;
	const X509_NAME *subject = X509_get_subject_name(f->auth3);
	assert_int_equal(issuer_testca_issue_key(f->is, subject, f->card_key, &f->ctx, &f->res),
			 ISSUER_OK);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(f->res.cert), f->card_key), 1);
	assert_int_equal(validate(f), CERTCHECK_OK);
	issue_result_free(&f->res);

	X509_NAME *other = X509_NAME_dup(subject);
	assert_non_null(other);
	assert_int_equal(X509_NAME_add_entry_by_txt(other, "CN", MBSTRING_UTF8,
						    (const unsigned char *)"Someone Else", -1, -1,
						    0),
			 1);
	assert_int_equal(issuer_testca_issue_key(f->is, other, f->card_key, &f->ctx, &f->res),
			 ISSUER_E_SUBJECT);
	X509_NAME_free(other);
	assert_null(f->res.cert);
	issue_result_free(&f->res);
	assert_int_equal(issuer_testca_issue_key(f->is, NULL, f->card_key, &f->ctx, &f->res),
			 ISSUER_E_SUBJECT);
	issue_result_free(&f->res);

	EVP_PKEY *small = EVP_RSA_gen(1024), *ec = EVP_EC_gen("P-256");
	assert_non_null(small);
	assert_non_null(ec);
	for (EVP_PKEY **k = (EVP_PKEY *[]){ small, ec, NULL }; *k; k++) {
		assert_int_equal(issuer_testca_issue_key(f->is, subject, *k, &f->ctx, &f->res),
				 ISSUER_E_CSR_MALFORMED);
		assert_null(f->res.cert);
		assert_non_null(strstr(f->res.detail, "not RSA of 2048 bits or more"));
		issue_result_free(&f->res);
	}
	EVP_PKEY_free(small);
	EVP_PKEY_free(ec);

	f->ctx.session_ok = false;
	assert_int_equal(issuer_testca_issue_key(f->is, subject, f->card_key, &f->ctx, &f->res),
			 ISSUER_E_NO_SESSION);
}

static void copy_pki(const char *dir, const char *files)
{
	assert_int_equal(fx_run("cd '%s' && cp %s '%s/'", pki, files, dir), 0);
}

static void broken_directories(void **state)
{
	(void)state;
	struct issuer *is = NULL;
	char *dir = fx_tmpdir();
	assert_int_equal(issuer_testca_open(dir, ISSUER_TESTCA_FAULT_NONE, &is),
			 ISSUER_E_CONFIG); /* empty */
	copy_pki(dir, "root-ca.pem");
	assert_int_equal(issuer_testca_open(dir, ISSUER_TESTCA_FAULT_NONE, &is),
			 ISSUER_E_CONFIG); /* no person CA */
	copy_pki(dir, "person-3-ca.pem");
	assert_int_equal(issuer_testca_open(dir, ISSUER_TESTCA_FAULT_NONE, &is),
			 ISSUER_E_CONFIG); /* no key */
	assert_int_equal(fx_run("cp '%s/person-2-ca.key' '%s/person-3-ca.key'", pki, dir), 0);
	assert_int_equal(issuer_testca_open(dir, ISSUER_TESTCA_FAULT_NONE, &is),
			 ISSUER_E_CONFIG); /* wrong key */
	copy_pki(dir, "person-3-ca.key");
	assert_int_equal(issuer_testca_open(dir, ISSUER_TESTCA_FAULT_NONE, &is),
			 ISSUER_OK); /* level 3 only */
	issuer_destroy(is);
	is = NULL;
	assert_int_equal(fx_run("cp '%s/person-3-ca.pem' '%s/root-ca.pem'", pki, dir), 0);
	assert_int_equal(issuer_testca_open(dir, ISSUER_TESTCA_FAULT_NONE, &is),
			 ISSUER_E_CONFIG); /* other root */
	assert_int_equal(fx_run("echo garbage > '%s/root-ca.pem'", dir), 0);
	assert_int_equal(issuer_testca_open(dir, ISSUER_TESTCA_FAULT_NONE, &is), ISSUER_E_CONFIG);
	assert_null(is);
	assert_int_equal(issuer_testca_open(NULL, ISSUER_TESTCA_FAULT_NONE, &is), ISSUER_E_ARG);
	assert_int_equal(issuer_testca_open(pki, (enum issuer_testca_fault)99, &is), ISSUER_E_ARG);
	fx_run("rm -rf '%s'", dir);
	free(dir);
}

static void only_level_three(void **state)
{
	struct fx *f = *state;
	char *dir = fx_tmpdir();
	copy_pki(dir, "root-ca.pem person-3-ca.pem person-3-ca.key");
	struct issuer *is = NULL;
	assert_int_equal(issuer_testca_open(dir, ISSUER_TESTCA_FAULT_NONE, &is), ISSUER_OK);
	f->ctx.auth_cert = f->auth2;
	f->ctx.trust_level = 2;
	struct issue_result r = { 0 };
	assert_int_equal(issuer_issue(is, f->csr2, f->csr2_len, &f->ctx, &r), ISSUER_E_TRUST_LEVEL);
	assert_non_null(strstr(r.detail, "trust level 2"));
	issuer_destroy(is);
	fx_run("rm -rf '%s'", dir);
	free(dir);
}

/* Each fault yields the certificate that certcheck must refuse, with the matching error. */
static void faults(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *name;
		enum issuer_testca_fault fault;
		certcheck_err want;
	} cases[] = {
		{ "other-key", ISSUER_TESTCA_FAULT_OTHER_KEY, CERTCHECK_E_KEY_MISMATCH },
		{ "other-subject", ISSUER_TESTCA_FAULT_OTHER_SUBJECT, CERTCHECK_E_HSA_ID },
		{ "other-chain", ISSUER_TESTCA_FAULT_OTHER_CHAIN, CERTCHECK_E_CHAIN },
		{ "expired", ISSUER_TESTCA_FAULT_EXPIRED, CERTCHECK_E_EXPIRED },
		{ "key-usage", ISSUER_TESTCA_FAULT_KEY_USAGE, CERTCHECK_E_KEY_USAGE },
		{ "none", ISSUER_TESTCA_FAULT_NONE, CERTCHECK_OK },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(issuer_testca_fault_parse(cases[i].name), (int)cases[i].fault);
		issuer_destroy(f->is);
		f->is = NULL;
		assert_int_equal(issuer_testca_open(pki, cases[i].fault, &f->is), ISSUER_OK);
		assert_int_equal(issue(f, f->csr3, f->csr3_len), ISSUER_OK);
		certcheck_err got = validate(f);
		if (got != cases[i].want)
			fail_msg("fault %s: certcheck %s, expected %s", cases[i].name,
				 certcheck_strerror(got), certcheck_strerror(cases[i].want));
	}
	issuer_destroy(f->is);
	f->is = NULL;
	assert_int_equal(issuer_testca_fault_parse("fail"), ISSUER_TESTCA_FAULT_FAIL);
	assert_int_equal(issuer_testca_open(pki, ISSUER_TESTCA_FAULT_FAIL, &f->is), ISSUER_OK);
	assert_int_equal(issue(f, f->csr3, f->csr3_len), ISSUER_E_UNAVAILABLE);
	assert_null(f->res.cert);
	assert_true(strlen(f->res.detail) > 0);
	assert_int_equal(issuer_testca_fault_parse("bogus"), -1);
	assert_int_equal(issuer_testca_fault_parse(NULL), -1);
}

/* The authentication certificate the virtual card really carries (siths-cardsim, same PKI dir):
 * the CSR, the issuer and the validation agree with the virtual card's profile at both trust levels. */
static X509 *cardsim_auth_cert(const char *dir, const char *card_json)
{
	char path[700];
	if (card_json) {
		snprintf(path, sizeof path, "%s/card.json", dir);
		fx_write_file(path, card_json, strlen(card_json));
	}
	assert_int_equal(fx_run("'%s' --pki '%s' --state '%s/state.json' %s%s%s --export-certs "
				"'%s/out' >/dev/null 2>&1",
				SITHS_CARDSIM, pki, dir, card_json ? "--card '" : "",
				card_json ? path : "", card_json ? "'" : "", dir),
			 0);
	snprintf(path, sizeof path, "%s/out/auth-cert.pem", dir);
	return fx_read_cert_pem(path);
}

static void virtual_card_certificates(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *json;
		int level;
	} cards[] = {
		{ NULL, 3 },
		{ "{\"trust_level\": 2, \"hsa_id\": \"TSTNMT2321000156-20AB\", \"holder\": \"Åsa "
		  "Ödmark\"}",
		  2 },
	};
	for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++) {
		char *dir = fx_tmpdir();
		X509 *auth = cardsim_auth_cert(dir, cards[i].json);
		unsigned char *csr = NULL;
		size_t len = 0;
		make_csr(auth, f->card_key, &csr, &len);
		f->ctx.auth_cert = auth;
		f->ctx.trust_level = cards[i].level;
		assert_int_equal(issue(f, csr, len), ISSUER_OK);
		assert_int_equal(X509_NAME_cmp(X509_get_subject_name(f->res.cert),
					       X509_get_subject_name(auth)),
				 0);
		assert_same_san(f->res.cert, auth);
		assert_policy(f->res.cert, cards[i].level == 3 ? "2.999.752.1.3" : "2.999.752.1.2");
		assert_int_equal(validate(f), CERTCHECK_OK);
		f->ctx.trust_level = cards[i].level == 3 ? 2 : 3; /* the other level's CA refuses */
		assert_int_equal(issue(f, csr, len), ISSUER_E_AUTH_CERT);
		f->ctx.auth_cert = f->auth3;
		OPENSSL_free(csr);
		X509_free(auth);
		fx_run("rm -rf '%s'", dir);
		free(dir);
	}
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(pki, sizeof pki, "%s/issuer-test-pki", SITHS_TEST_BINARY_DIR);
	return fx_run("sh '%s/certs/test-siths-pki.sh' '%s' >/dev/null", SITHS_SOURCE_DIR, pki);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(marked_as_test),
		T(issues_like_siths),
		T(level_two),
		T(capped_at_card_validity),
		T(refusals),
		T(corrupted_requests),
		T(issues_for_a_key),
		cmocka_unit_test(broken_directories),
		T(only_level_three),
		T(faults),
		T(virtual_card_certificates),
	};
	return cmocka_run_group_tests(tests, group_setup, fx_pki_teardown);
}
