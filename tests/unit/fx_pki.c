/* fx_pki.c — keys and certificates for the issue-4 unit tests, made with the OpenSSL API so each
 * test can build exactly the broken certificate it needs (another key, subject, chain, usage). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "fx_pki.h"

#define POOL 12
static EVP_PKEY *pool[POOL];
int fx_sign_calls;

EVP_PKEY *fx_key(int i)
{
	assert_true(i >= 0 && i < POOL);
	if (!pool[i])
		pool[i] = EVP_RSA_gen(2048);
	assert_non_null(pool[i]);
	assert_true(EVP_PKEY_up_ref(pool[i]));
	return pool[i];
}

void fx_pool_free(void)
{
	for (int i = 0; i < POOL; i++) {
		EVP_PKEY_free(pool[i]);
		pool[i] = NULL;
	}
}

int fx_pki_teardown(void **state)
{
	(void)state;
	fx_pool_free();
	return 0;
}

static void name_add(X509_NAME *n, const char *field, const char *value, int type)
{
	if (value)
		assert_true(X509_NAME_add_entry_by_txt(n, field, type, (const unsigned char *)value, -1, -1, 0));
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!e)
		fprintf(stderr, "fx: extension %s = %s: %s\n", OBJ_nid2sn(nid), value,
			ERR_reason_error_string(ERR_peek_last_error()));
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

static void add_san(X509 *x, const char *upn, const char *email)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	assert_non_null(gens);
	if (upn) {
		ASN1_TYPE *v = ASN1_TYPE_new();
		ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
		GENERAL_NAME *g = GENERAL_NAME_new();
		assert_true(v && s && g && ASN1_STRING_set(s, upn, -1));
		ASN1_TYPE_set(v, V_ASN1_UTF8STRING, s);
		assert_true(GENERAL_NAME_set0_othername(g, OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1), v));
		assert_true(sk_GENERAL_NAME_push(gens, g));
	}
	if (email) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();
		assert_true(g && s && ASN1_STRING_set(s, email, -1));
		GENERAL_NAME_set0_value(g, GEN_EMAIL, s);
		assert_true(sk_GENERAL_NAME_push(gens, g));
	}
	if (sk_GENERAL_NAME_num(gens) > 0)
		assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT), 1);
	GENERAL_NAMES_free(gens);
}

/* Built with the API: the conf-string parser needs a config database for policies. */
static void add_policy(X509 *x, const char *oid)
{
	CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
	POLICYINFO *pi = POLICYINFO_new();
	assert_true(pols && pi);
	ASN1_OBJECT_free(pi->policyid);
	pi->policyid = OBJ_txt2obj(oid, 1);
	assert_non_null(pi->policyid);
	assert_true(sk_POLICYINFO_push(pols, pi));
	assert_int_equal(X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0, X509V3_ADD_DEFAULT), 1);
	CERTIFICATEPOLICIES_free(pols);
}

X509 *fx_make_cert(const struct fx_cert *o)
{
	X509 *x = X509_new();
	assert_non_null(x);
	assert_non_null(o->key);
	assert_true(X509_set_version(x, X509_VERSION_3));
	unsigned char serial[16];
	assert_int_equal(RAND_bytes(serial, sizeof serial), 1);
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x01);
	BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);

	X509_NAME *n = X509_get_subject_name(x);
	name_add(n, "C", "SE", MBSTRING_UTF8);
	name_add(n, "O", o->org, MBSTRING_UTF8);
	name_add(n, "GN", o->given, MBSTRING_UTF8);
	name_add(n, "SN", o->surname, MBSTRING_UTF8);
	name_add(n, "serialNumber", o->hsa_id, MBSTRING_ASC);
	name_add(n, "CN", o->cn, MBSTRING_UTF8);
	X509 *issuer = o->issuer ? o->issuer : x;
	assert_true(X509_set_issuer_name(x, X509_get_subject_name(issuer)));
	assert_true(X509_gmtime_adj(X509_getm_notBefore(x), o->from_days * 86400L));
	assert_true(X509_gmtime_adj(X509_getm_notAfter(x), (o->to_days ? o->to_days : 365) * 86400L));
	assert_true(X509_set_pubkey(x, o->key));

	add_ext(x, issuer, NID_basic_constraints, o->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (o->key_usage)
		add_ext(x, issuer, NID_key_usage, o->key_usage);
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	if (o->issuer)
		add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (o->policy)
		add_policy(x, o->policy);
	add_san(x, o->upn, o->email);
	assert_true(X509_sign(x, o->issuer_key ? o->issuer_key : o->key, EVP_sha256()) > 0);
	return x;
}

X509 *fx_auth_cert(EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key)
{
	struct fx_cert o = {
		.cn = "Olof Svensson Andersson", .given = "Olof", .surname = "Svensson Andersson",
		.org = "Västra Götalandsregionen", .hsa_id = FX_HSA_ID, .upn = FX_UPN,
		.email = FX_EMAIL, .policy = FX_POLICY_L3,
		.key_usage = "critical,digitalSignature,keyEncipherment",
		.from_days = -30, .to_days = 3 * 365, .key = key, .issuer = ca, .issuer_key = ca_key,
	};
	return fx_make_cert(&o);
}

int fx_soft_sign(void *user, const unsigned char *di, size_t di_len, unsigned char *sig,
		 size_t sig_cap, size_t *sig_len)
{
	fx_sign_calls++;
	/* No digest set: the context pads and signs the DigestInfo as given, like PSO CDS. */
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new((EVP_PKEY *)user, NULL);
	size_t len = sig_cap;
	int ok = c && EVP_PKEY_sign_init(c) > 0 && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0 &&
		 EVP_PKEY_sign(c, sig, &len, di, di_len) > 0;
	EVP_PKEY_CTX_free(c);
	*sig_len = len;
	return ok ? 0 : -1;
}

char *fx_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[512];
	snprintf(tmpl, sizeof tmpl, "%s/siths-unit.XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(tmpl));
	return strdup(tmpl);
}

void fx_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

void fx_write_cert_pem(const char *path, X509 *x)
{
	BIO *b = BIO_new_file(path, "w");
	assert_non_null(b);
	assert_true(PEM_write_bio_X509(b, x));
	BIO_free(b);
}

void fx_write_key_pem(const char *path, EVP_PKEY *k)
{
	BIO *b = BIO_new_file(path, "w");
	assert_non_null(b);
	assert_true(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL));
	BIO_free(b);
}

int fx_run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof cmd);
	int st = system(cmd);
	assert_true(st != -1 && WIFEXITED(st));
	return WEXITSTATUS(st);
}

X509 *fx_ca_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
	struct fx_cert o = { .cn = cn, .org = "Inera AB", .ca = true, .policy = issuer ? FX_POLICY_L3 : NULL,
			     .key_usage = "critical,keyCertSign,cRLSign", .from_days = -10, .to_days = 3650,
			     .key = key, .issuer = issuer, .issuer_key = issuer_key };
	return fx_make_cert(&o);
}

X509 *fx_read_cert_pem(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	assert_non_null(b);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(x);
	return x;
}

EVP_PKEY *fx_read_key_pem(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	assert_non_null(b);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(k);
	return k;
}
