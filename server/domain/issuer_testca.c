/* issuer_testca.c — the embedded development CA behind `--test-issuer DIR`: issues SITHS-like
 * signature certificates from the person CA of the card's trust level in the hierarchy made by
 * certs/test-siths-pki.sh. It is loud about being a test issuer (is_test, name, logs) and can be
 * told to misbehave (issuer_testca_fault) so the job's refusals can be tested end to end. */
#include "issuer_testca.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "log.h"

/* The file names chosen by certs/test-siths-pki.sh (see docs/virtual-card.md); only here. */
#define PKI_ROOT_CERT "root-ca.pem"
#define PKI_PERSON_CERT "person-%d-ca.pem"
#define PKI_PERSON_KEY "person-%d-ca.key"
#define LEVEL_MIN 2
#define LEVEL_MAX 3

#define CSR_MAX_DER 16384 /* a 2048..8192-bit request is far below this */
#define SERIAL_BYTES 16   /* 127 random bits after clearing the sign bit */
#define UPN_OID "1.3.6.1.4.1.311.20.2.3"
#define FAULT_HSA_ID "TSTFAULT0000000000-OTHER"
#define DAY 86400

struct ca {
	X509 *cert;
	EVP_PKEY *key;
};

struct testca {
	struct issuer base;
	enum issuer_testca_fault fault;
	pthread_mutex_t lock; /* one issuance at a time: keys are shared OpenSSL objects */
	X509 *root;
	struct ca level[LEVEL_MAX + 1];
};

static const char *const fault_names[] = {
	[ISSUER_TESTCA_FAULT_NONE] = "none",
	[ISSUER_TESTCA_FAULT_FAIL] = "fail",
	[ISSUER_TESTCA_FAULT_OTHER_KEY] = "other-key",
	[ISSUER_TESTCA_FAULT_OTHER_SUBJECT] = "other-subject",
	[ISSUER_TESTCA_FAULT_OTHER_CHAIN] = "other-chain",
	[ISSUER_TESTCA_FAULT_EXPIRED] = "expired",
	[ISSUER_TESTCA_FAULT_KEY_USAGE] = "key-usage",
};

int issuer_testca_fault_parse(const char *name)
{
	for (size_t i = 0; name && i < sizeof fault_names / sizeof fault_names[0]; i++)
		if (strcmp(name, fault_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- loading -------------------------------------------------------------------------------- */

/* Never prompt on a terminal for an encrypted key: the daemon has no one to ask. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static issuer_err load_cert(const char *path, X509 **out)
{
	BIO *b = BIO_new_file(path, "r");
	*out = b ? PEM_read_bio_X509(b, NULL, no_passphrase, NULL) : NULL;
	BIO_free(b);
	if (!*out)
		log_error("issuer", "test issuer: cannot read certificate %s", path);
	return *out ? ISSUER_OK : ISSUER_E_CONFIG;
}

static issuer_err load_key(const char *path, EVP_PKEY **out)
{
	BIO *b = BIO_new_file(path, "r");
	*out = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
	BIO_free(b);
	if (!*out)
		log_error("issuer", "test issuer: cannot read private key %s", path);
	return *out ? ISSUER_OK : ISSUER_E_CONFIG;
}

/* Loads one person CA if its certificate exists; it must match its key and chain to root. */
static issuer_err load_level(struct testca *ti, const char *dir, int level)
{
	char cert_path[PATH_MAX], key_path[PATH_MAX];
	int nc = snprintf(cert_path, sizeof cert_path, "%s/" PKI_PERSON_CERT, dir, level);
	int nk = snprintf(key_path, sizeof key_path, "%s/" PKI_PERSON_KEY, dir, level);
	if (nc < 0 || (size_t)nc >= sizeof cert_path || nk < 0 || (size_t)nk >= sizeof key_path)
		return ISSUER_E_CONFIG;
	if (access(cert_path, F_OK) != 0 && errno == ENOENT)
		return ISSUER_OK;
	struct ca *ca = &ti->level[level];
	issuer_err rc = load_cert(cert_path, &ca->cert);
	if (rc == ISSUER_OK)
		rc = load_key(key_path, &ca->key);
	if (rc == ISSUER_OK && X509_check_private_key(ca->cert, ca->key) != 1) {
		log_error("issuer", "test issuer: %s does not match %s", key_path, cert_path);
		rc = ISSUER_E_CONFIG;
	}
	if (rc == ISSUER_OK && X509_verify(ca->cert, X509_get0_pubkey(ti->root)) != 1) {
		log_error("issuer", "test issuer: %s is not issued by %s", cert_path,
			  PKI_ROOT_CERT);
		rc = ISSUER_E_CONFIG;
	}
	return rc;
}

/* ---- issuing -------------------------------------------------------------------------------- */

static time_t asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

static int random_serial(X509 *x)
{
	unsigned char b[SERIAL_BYTES];
	if (RAND_bytes(b, sizeof b) != 1)
		return 0;
	b[0] = (unsigned char)((b[0] & 0x7f) | 0x40); /* positive, full length, never zero */
	BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
	int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

/* The auth certificate's subject, or (fault) the same with another HSA-id. *out: caller frees. */
static issuer_err subject_for(const struct testca *ti, const X509 *auth, X509_NAME **out)
{
	*out = X509_NAME_dup(X509_get_subject_name(auth));
	if (!*out)
		return ISSUER_E_NOMEM;
	if (ti->fault != ISSUER_TESTCA_FAULT_OTHER_SUBJECT)
		return ISSUER_OK;
	/* Replace the entry (not its data in place: the name would keep its cached encoding). */
	int i = X509_NAME_get_index_by_NID(*out, NID_serialNumber, -1);
	if (i >= 0) {
		X509_NAME_ENTRY_free(X509_NAME_delete_entry(*out, i));
		if (X509_NAME_add_entry_by_NID(*out, NID_serialNumber, MBSTRING_ASC,
					       (const unsigned char *)FAULT_HSA_ID, -1, i, 0))
			return ISSUER_OK;
	}
	return ISSUER_E_INTERNAL;
}

/* SAN with the auth certificate's UPN (otherName) and e-mail (rfc822Name) entries only. */
static issuer_err add_san(X509 *x, const X509 *auth)
{
	issuer_err rc = ISSUER_E_NOMEM;
	GENERAL_NAMES *src = X509_get_ext_d2i(auth, NID_subject_alt_name, NULL, NULL);
	GENERAL_NAMES *dst = sk_GENERAL_NAME_new_null();
	ASN1_OBJECT *upn = OBJ_txt2obj(UPN_OID, 1);
	if (!dst || !upn)
		goto out;
	for (int i = 0; src && i < sk_GENERAL_NAME_num(src); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(src, i);
		int keep = g->type == GEN_EMAIL ||
			(g->type == GEN_OTHERNAME && OBJ_cmp(g->d.otherName->type_id, upn) == 0);
		if (!keep)
			continue;
		GENERAL_NAME *copy = GENERAL_NAME_dup(g);
		if (!copy || !sk_GENERAL_NAME_push(dst, copy)) {
			GENERAL_NAME_free(copy);
			goto out;
		}
	}
	rc = ISSUER_OK;
	if (sk_GENERAL_NAME_num(dst) > 0 &&
	    X509_add1_ext_i2d(x, NID_subject_alt_name, dst, 0, X509V3_ADD_DEFAULT) != 1)
		rc = ISSUER_E_INTERNAL;
out:
	ASN1_OBJECT_free(upn);
	GENERAL_NAMES_free(dst);
	GENERAL_NAMES_free(src);
	return rc;
}

/* The trust-level policy OIDs are copied from the auth certificate as they are. */
static issuer_err add_policies(X509 *x, const X509 *auth)
{
	CERTIFICATEPOLICIES *p = X509_get_ext_d2i(auth, NID_certificate_policies, NULL, NULL);
	issuer_err rc = ISSUER_OK;
	if (p && X509_add1_ext_i2d(x, NID_certificate_policies, p, 0, X509V3_ADD_DEFAULT) != 1)
		rc = ISSUER_E_INTERNAL;
	CERTIFICATEPOLICIES_free(p);
	return rc;
}

static issuer_err add_conf_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	issuer_err rc = e && X509_add_ext(x, e, -1) ? ISSUER_OK : ISSUER_E_INTERNAL;
	X509_EXTENSION_free(e);
	return rc;
}

static issuer_err add_extensions(const struct testca *ti, X509 *x, X509 *ca, const X509 *auth)
{
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
	const char *ku = ti->fault == ISSUER_TESTCA_FAULT_KEY_USAGE ? "critical,digitalSignature"
								    : "critical,nonRepudiation";
	issuer_err rc;
	if ((rc = add_conf_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE")) ||
	    (rc = add_conf_ext(x, &v3, NID_key_usage, ku)) ||
	    (rc = add_conf_ext(x, &v3, NID_subject_key_identifier, "hash")) ||
	    (rc = add_conf_ext(x, &v3, NID_authority_key_identifier, "keyid:always")) ||
	    (rc = add_san(x, auth)) || (rc = add_policies(x, auth)))
		return rc;
	return ISSUER_OK;
}

/* Fault other-chain: a throw-away CA with the real person CA's name but its own key, so only
 * signature checking (not name matching) can tell. *cert and *key: caller frees. */
static issuer_err rogue_ca(const X509 *real, X509 **cert, EVP_PKEY **key)
{
	*cert = NULL;
	*key = EVP_RSA_gen(2048);
	X509 *c = X509_new();
	issuer_err rc = ISSUER_E_INTERNAL;
	if (!*key || !c)
		goto out;
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, c, c, NULL, NULL, 0);
	if (!X509_set_version(c, X509_VERSION_3) || !random_serial(c) ||
	    !X509_set_subject_name(c, X509_get_subject_name(real)) ||
	    !X509_set_issuer_name(c, X509_get_subject_name(real)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(c), -DAY) ||
	    !X509_gmtime_adj(X509_getm_notAfter(c), 3650L * DAY) || !X509_set_pubkey(c, *key) ||
	    add_conf_ext(c, &v3, NID_basic_constraints, "critical,CA:TRUE") ||
	    add_conf_ext(c, &v3, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    add_conf_ext(c, &v3, NID_subject_key_identifier, "hash") ||
	    !X509_sign(c, *key, EVP_sha256()))
		goto out;
	*cert = c;
	c = NULL;
	rc = ISSUER_OK;
out:
	X509_free(c);
	if (rc != ISSUER_OK) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	return rc;
}

/* Only SHA-2 with RSA PKCS#1 v1.5, whose parameters are NULL or absent (RFC 4055). OpenSSL does
 * not look at the parameters, and they are outside the signed data, so they are checked here. */
static int sig_alg_ok(const X509_REQ *req)
{
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj = NULL;
	int ptype = V_ASN1_UNDEF;
	const void *pval = NULL;
	X509_REQ_get0_signature(req, NULL, &alg);
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	int nid = OBJ_obj2nid(obj);
	int sha2_rsa = nid == NID_sha256WithRSAEncryption || nid == NID_sha384WithRSAEncryption ||
		nid == NID_sha512WithRSAEncryption; /* no SHA-1, no MD5 */
	return sha2_rsa && (ptype == V_ASN1_NULL || ptype == V_ASN1_UNDEF);
}

/* Parses csr_der completely and checks its self-signature. *out: caller frees. */
static issuer_err parse_csr(const unsigned char *der, size_t len, X509_REQ **out)
{
	if (len > CSR_MAX_DER)
		return ISSUER_E_CSR_MALFORMED;
	const unsigned char *p = der;
	*out = d2i_X509_REQ(NULL, &p, (long)len);
	if (!*out || p != der + len || !X509_REQ_get0_pubkey(*out) || !sig_alg_ok(*out))
		return ISSUER_E_CSR_MALFORMED;
	if (X509_REQ_verify(*out, X509_REQ_get0_pubkey(*out)) != 1)
		return ISSUER_E_CSR_SIGNATURE;
	return ISSUER_OK;
}

/* The window [now, min(card end, CA end)], or a day in the past for the expired fault. */
static issuer_err set_validity(const struct testca *ti, X509 *x, const struct ca *ca,
			       const struct issue_ctx *ctx)
{
	time_t now = time(NULL);
	time_t end = asn1_to_time(X509_get0_notAfter(ctx->auth_cert));
	time_t ca_end = asn1_to_time(X509_get0_notAfter(ca->cert));
	if (ctx->card_not_after && ctx->card_not_after < end)
		end = ctx->card_not_after;
	if (ca_end && ca_end < end)
		end = ca_end;
	if (end <= now)
		return ISSUER_E_CARD_VALIDITY;
	time_t start = now;
	if (ti->fault == ISSUER_TESTCA_FAULT_EXPIRED) {
		start = now - 30 * DAY;
		end = now - DAY;
	}
	if (!X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &start) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &end))
		return ISSUER_E_INTERNAL;
	return ISSUER_OK;
}

/* Builds and signs the certificate for pub. Caller holds the lock; *out: caller frees. */
static issuer_err make_cert(struct testca *ti, const struct ca *ca, EVP_PKEY *pub,
			    const struct issue_ctx *ctx, X509 *signer_cert, EVP_PKEY *signer_key,
			    X509 **out)
{
	X509 *x = X509_new();
	X509_NAME *subj = NULL;
	issuer_err rc = ISSUER_E_NOMEM;
	*out = NULL;
	if (!x)
		goto out;
	if ((rc = subject_for(ti, ctx->auth_cert, &subj)) != ISSUER_OK)
		goto out;
	rc = ISSUER_E_INTERNAL;
	if (!X509_set_version(x, X509_VERSION_3) || !random_serial(x) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(signer_cert)) ||
	    !X509_set_subject_name(x, subj) || !X509_set_pubkey(x, pub))
		goto out;
	if ((rc = set_validity(ti, x, ca, ctx)) != ISSUER_OK ||
	    (rc = add_extensions(ti, x, signer_cert, ctx->auth_cert)) != ISSUER_OK)
		goto out;
	rc = ISSUER_E_INTERNAL;
	if (!X509_sign(x, signer_key, EVP_sha256()))
		goto out;
	*out = x;
	x = NULL;
	rc = ISSUER_OK;
out:
	X509_NAME_free(subj);
	X509_free(x);
	return rc;
}

static issuer_err chain_of(X509 *issuing, X509 *root, STACK_OF(X509) * *out)
{
	*out = sk_X509_new_null();
	if (*out && X509_add_cert(*out, issuing, X509_ADD_FLAG_UP_REF) &&
	    X509_add_cert(*out, root, X509_ADD_FLAG_UP_REF))
		return ISSUER_OK;
	sk_X509_pop_free(*out, X509_free);
	*out = NULL;
	return ISSUER_E_NOMEM;
}

/* The request must carry the auth certificate's subject, and that certificate must come from
 * this CA: the test issuer serves only cards of its own hierarchy. */
static issuer_err check_request(const X509_NAME *subject, const struct issue_ctx *ctx,
				const struct ca *ca)
{
	if (!subject || X509_NAME_cmp(subject, X509_get_subject_name(ctx->auth_cert)) != 0)
		return ISSUER_E_SUBJECT;
	if (X509_NAME_cmp(X509_get_issuer_name(ctx->auth_cert), X509_get_subject_name(ca->cert)) !=
		    0 ||
	    X509_verify((X509 *)ctx->auth_cert, X509_get0_pubkey(ca->cert)) != 1)
		return ISSUER_E_AUTH_CERT;
	return ISSUER_OK;
}

int issuer_testca_level(const struct issuer *is, const X509 *auth)
{
	const struct testca *ti = (const struct testca *)is;
	for (int l = LEVEL_MAX; ti && auth && l >= LEVEL_MIN; l--) {
		const struct ca *ca = &ti->level[l];
		if (ca->cert &&
		    X509_NAME_cmp(X509_get_issuer_name(auth), X509_get_subject_name(ca->cert)) ==
			    0 &&
		    X509_verify((X509 *)auth, X509_get0_pubkey(ca->cert)) == 1)
			return l;
	}
	ERR_clear_error();
	return 0;
}

static void log_issued(const X509 *x, const struct issue_ctx *ctx)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	log_warn("issuer",
		 "TEST issuer issued a signature certificate (serial %s) for card %s, "
		 "trust level %d: not valid outside development",
		 hex ? hex : "?", ctx->card_id ? ctx->card_id : "?", ctx->trust_level);
	OPENSSL_free(hex);
	BN_free(bn);
}

/* What every request must meet before a key is looked at; *ca is the card's person CA. */
static issuer_err precheck(const struct testca *ti, const struct issue_ctx *ctx,
			   struct issue_result *out, const struct ca **ca)
{
	if (ti->fault == ISSUER_TESTCA_FAULT_FAIL) {
		snprintf(out->detail, sizeof out->detail, "test issuer fault injection: fail");
		return ISSUER_E_UNAVAILABLE;
	}
	if (!ctx || !ctx->auth_cert)
		return ISSUER_E_ARG;
	if (!ctx->session_ok)
		return ISSUER_E_NO_SESSION;
	if (ctx->trust_level < LEVEL_MIN || ctx->trust_level > LEVEL_MAX ||
	    !ti->level[ctx->trust_level].cert) {
		snprintf(out->detail, sizeof out->detail, "no person CA for trust level %d",
			 ctx->trust_level);
		return ISSUER_E_TRUST_LEVEL;
	}
	*ca = &ti->level[ctx->trust_level];
	return ISSUER_OK;
}

/* The certificate for pub from ca (or what the fault makes of it) into out. */
static issuer_err issue_for(struct testca *ti, const struct ca *ca, EVP_PKEY *pub,
			    const struct issue_ctx *ctx, struct issue_result *out)
{
	X509 *rogue = NULL, *cert = NULL, *signer = ca->cert;
	EVP_PKEY *rogue_key = NULL, *other_key = NULL, *signer_key = ca->key;
	issuer_err rc = ISSUER_E_INTERNAL;
	pthread_mutex_lock(&ti->lock);
	if (ti->fault == ISSUER_TESTCA_FAULT_OTHER_KEY && !(pub = other_key = EVP_RSA_gen(2048)))
		goto out;
	if (ti->fault == ISSUER_TESTCA_FAULT_OTHER_CHAIN) {
		if ((rc = rogue_ca(ca->cert, &rogue, &rogue_key)) != ISSUER_OK)
			goto out;
		signer = rogue;
		signer_key = rogue_key;
	}
	if ((rc = make_cert(ti, ca, pub, ctx, signer, signer_key, &cert)) != ISSUER_OK ||
	    (rc = chain_of(signer, ti->root, &out->chain)) != ISSUER_OK)
		goto out;
	log_issued(cert, ctx);
	out->cert = cert;
	cert = NULL;
out:
	pthread_mutex_unlock(&ti->lock);
	X509_free(cert);
	X509_free(rogue);
	EVP_PKEY_free(rogue_key);
	EVP_PKEY_free(other_key);
	return rc;
}

/* A failure's detail when nothing more precise was said; OpenSSL's queue emptied. */
static issuer_err finish(issuer_err rc, struct issue_result *out)
{
	if (rc != ISSUER_OK && !out->detail[0])
		snprintf(out->detail, sizeof out->detail, "test issuer: %s", issuer_strerror(rc));
	if (rc != ISSUER_OK)
		ERR_clear_error();
	return rc;
}

static issuer_err ti_issue(struct issuer *is, const unsigned char *csr_der, size_t csr_len,
			   const struct issue_ctx *ctx, struct issue_result *out)
{
	struct testca *ti = (struct testca *)is;
	const struct ca *ca = NULL;
	X509_REQ *req = NULL;
	issuer_err rc;
	if ((rc = precheck(ti, ctx, out, &ca)) == ISSUER_OK &&
	    (rc = parse_csr(csr_der, csr_len, &req)) == ISSUER_OK &&
	    (rc = check_request(X509_REQ_get_subject_name(req), ctx, ca)) == ISSUER_OK)
		rc = issue_for(ti, ca, X509_REQ_get0_pubkey(req), ctx, out);
	X509_REQ_free(req);
	return finish(rc, out);
}

issuer_err issuer_testca_issue_key(struct issuer *is, const X509_NAME *subject, EVP_PKEY *pub,
				   const struct issue_ctx *ctx, struct issue_result *out)
{
	struct testca *ti = (struct testca *)is;
	const struct ca *ca = NULL;
	issuer_err rc;
	if (!ti || !pub || !out)
		return ISSUER_E_ARG;
	if ((rc = precheck(ti, ctx, out, &ca)) != ISSUER_OK ||
	    (rc = check_request(subject, ctx, ca)) != ISSUER_OK)
		return finish(rc, out);
	/* What a card makes: RSA of 2048 bits or more. */
	if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pub) < 2048) {
		snprintf(out->detail, sizeof out->detail,
			 "the requested key is not RSA of 2048 bits or more");
		return finish(ISSUER_E_CSR_MALFORMED, out);
	}
	return finish(issue_for(ti, ca, pub, ctx, out), out);
}

static bool ti_is_test(const struct issuer *is)
{
	(void)is;
	return true;
}

static const char *ti_name(const struct issuer *is)
{
	(void)is;
	return "test";
}

static void ti_destroy(struct issuer *is)
{
	struct testca *ti = (struct testca *)is;
	if (!ti)
		return;
	for (int l = 0; l <= LEVEL_MAX; l++) {
		X509_free(ti->level[l].cert);
		EVP_PKEY_free(ti->level[l].key);
	}
	X509_free(ti->root);
	pthread_mutex_destroy(&ti->lock);
	free(ti);
}

static const struct issuer_ops test_ops = {
	.issue = ti_issue,
	.is_test = ti_is_test,
	.name = ti_name,
	.destroy = ti_destroy,
};

issuer_err issuer_testca_open(const char *dir, enum issuer_testca_fault fault, struct issuer **out)
{
	if (!dir || !out || (unsigned)fault >= sizeof fault_names / sizeof fault_names[0])
		return ISSUER_E_ARG;
	*out = NULL;
	struct testca *ti = calloc(1, sizeof *ti);
	if (!ti)
		return ISSUER_E_NOMEM;
	if (pthread_mutex_init(&ti->lock, NULL) != 0) {
		free(ti);
		return ISSUER_E_NOMEM;
	}
	ti->base.ops = &test_ops;
	ti->fault = fault;
	char root_path[PATH_MAX];
	issuer_err rc = ISSUER_E_CONFIG;
	int levels = 0;
	if (snprintf(root_path, sizeof root_path, "%s/%s", dir, PKI_ROOT_CERT) >=
		    (int)sizeof root_path ||
	    (rc = load_cert(root_path, &ti->root)) != ISSUER_OK)
		goto out;
	for (int l = LEVEL_MAX; l >= LEVEL_MIN; l--) {
		if ((rc = load_level(ti, dir, l)) != ISSUER_OK)
			goto out;
		levels += ti->level[l].cert != NULL;
	}
	if (levels == 0) {
		log_error("issuer", "test issuer: no person CA (person-N-ca.pem, N = %d..%d) in %s",
			  LEVEL_MIN, LEVEL_MAX, dir);
		rc = ISSUER_E_CONFIG;
		goto out;
	}
	log_warn("issuer",
		 "TEST issuer active (%s, fault %s): issues development certificates only", dir,
		 fault_names[fault]);
	*out = &ti->base;
	ti = NULL;
	rc = ISSUER_OK;
out:
	if (ti) {
		ERR_clear_error();
		ti_destroy(&ti->base);
	}
	return rc;
}
