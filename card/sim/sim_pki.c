/* sim_pki.c — builds SITHS-shaped certificates with OpenSSL: HSA-id in subject serialNumber,
 * UPN (otherName 1.3.6.1.4.1.311.20.2.3) and e-mail in subjectAltName, trust level as a
 * certificatePolicies OID. Only used when a card state is created. */
#include "sim_pki.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

static X509 *read_cert(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static EVP_PKEY *read_key(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

enum sim_err sim_pki_load_cas(const char *dir, int level, X509 **person, X509 **root)
{
	char name[32];
	snprintf(name, sizeof(name), "person-%d-ca.pem", level);
	*person = read_cert(dir, name);
	*root = read_cert(dir, "root-ca.pem");
	if (*person && *root)
		return SIM_OK;
	X509_free(*person);
	X509_free(*root);
	*person = *root = NULL;
	return SIM_E_FORMAT;
}

static int add_entry(X509_NAME *n, const char *field, const char *value)
{
	return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const unsigned char *)value, -1,
					  -1, 0);
}

static int set_subject(X509 *x, const struct sim_profile *p)
{
	X509_NAME *n = X509_get_subject_name(x);
	return add_entry(n, "C", "SE") && add_entry(n, "O", p->organisation) &&
		add_entry(n, "GN", p->given_name) && add_entry(n, "SN", p->surname) &&
		add_entry(n, "serialNumber", p->hsa_id) && add_entry(n, "CN", p->holder);
}

/* YYYY-MM-DD + fixed time of day → ASN1_TIME in x. */
static int set_time(ASN1_TIME *t, const char *date, const char *hms)
{
	char s[32];
	snprintf(s, sizeof(s), "%.4s%.2s%.2s%sZ", date, date + 5, date + 8, hms);
	return ASN1_TIME_set_string_X509(t, s);
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	/* certificatePolicies is parsed by an r2i method, which insists on a config database. */
	CONF *conf = NCONF_new(NULL);
	if (!conf)
		return 0;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509V3_set_nconf(&ctx, conf);
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(conf, &ctx, nid, value);
	NCONF_free(conf);
	if (!e)
		return 0;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

static int add_extensions(X509 *x, X509 *ca, const struct sim_profile *p, bool signature)
{
	char san[512], pol[64];
	/* The UPN and e-mail come from an untrusted card file: refuse characters that would be
	 * parsed as separators by the extension config syntax. */
	if (strpbrk(p->upn, ",;\n") || strpbrk(p->email, ",;\n"))
		return 0;
	snprintf(san, sizeof(san), "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:%s,email:%s", p->upn,
		 p->email);
	snprintf(pol, sizeof(pol), SIM_POLICY_PREFIX "%d", p->trust_level);
	return add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") &&
		add_ext(x, ca, NID_key_usage,
			signature ? "critical,nonRepudiation"
				  : "critical,digitalSignature,keyEncipherment") &&
		(signature || add_ext(x, ca, NID_ext_key_usage, "clientAuth,emailProtection")) &&
		add_ext(x, ca, NID_subject_alt_name, san) &&
		add_ext(x, ca, NID_certificate_policies, pol) &&
		add_ext(x, ca, NID_subject_key_identifier, "hash") &&
		add_ext(x, ca, NID_authority_key_identifier, "keyid:always");
}

static int random_serial(X509 *x)
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof(b)) != 1)
		return 0;
	b[0] &= 0x7F;
	b[0] |= 0x10;
	BIGNUM *bn = BN_bin2bn(b, sizeof(b), NULL);
	int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

enum sim_err sim_pki_issue(const char *dir, const struct sim_profile *p, EVP_PKEY *key,
			   bool signature, X509 **out)
{
	char name[32];
	enum sim_err rc = SIM_E_FORMAT;
	X509 *x = NULL;
	snprintf(name, sizeof(name), "person-%d-ca.pem", p->trust_level);
	X509 *ca = read_cert(dir, name);
	snprintf(name, sizeof(name), "person-%d-ca.key", p->trust_level);
	EVP_PKEY *ca_key = read_key(dir, name);

	*out = NULL;
	if (!ca || !ca_key)
		goto out;
	rc = SIM_E_CRYPTO;
	if (!(x = X509_new()) || !X509_set_version(x, 2) || !random_serial(x) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca)) || !set_subject(x, p) ||
	    !set_time(X509_getm_notBefore(x), p->valid_from, "000000") ||
	    !set_time(X509_getm_notAfter(x), p->valid_to, "235959") || !X509_set_pubkey(x, key) ||
	    !add_extensions(x, ca, p, signature) || !X509_sign(x, ca_key, EVP_sha256()))
		goto out;
	*out = x;
	x = NULL;
	rc = SIM_OK;
out:
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return rc;
}
