/* cmpsrv.c — siths-test-ca's CMP server: OpenSSL's generic server (OSSL_CMP_SRV_CTX) does the
 * protocol (protection, nonces, transaction ids); these callbacks issue through the embedded test
 * CA, delay with "waiting" for polling tests, and record what certConf says about each
 * certificate. Everything runs on the HTTP thread, one message at a time. */
#include "cmpsrv.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/cmp.h>
#include <openssl/crmf.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "issuer_cmp.h"
#include "log.h"

#define PKI_ROOT "root-ca.pem"
#define PKI_PERSON "person-%d-ca.pem"
#define PKI_SRV_CERT "cmp-server.pem"
#define PKI_SRV_KEY "cmp-server.key"
#define PKI_REVOKED "cmp-revoked.txt"
#define MAX_MSG (64 * 1024)

struct cmpsrv {
	struct cmpsrv_opts o;
	char dir[PATH_MAX];
	OSSL_CMP_SRV_CTX *srv;
	struct issuer *ca;
	X509 *issued;                    /* the certificate of the open transaction, for certConf */
	OSSL_CMP_MSG *waiting;           /* the request being delayed with "waiting" */
	unsigned polls;                  /* pollReqs answered for it */
	bool released;                   /* the delayed request is now being answered */
	STACK_OF(X509) * base_untrusted; /* the root only: what a new transaction starts with */
};

const char *cmpsrv_strerror(cmpsrv_err e)
{
	switch (e) {
	case CMPSRV_OK: return "ok";
	case CMPSRV_E_NOMEM: return "out of memory";
	case CMPSRV_E_ARG: return "invalid argument";
	case CMPSRV_E_CONFIG: return "PKI directory or keys unusable";
	case CMPSRV_E_REQUEST: return "not a CMP message";
	}
	return "unknown error";
}

static char *serial_hex(const ASN1_INTEGER *serial)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	BN_free(bn);
	return hex;
}

/* ---- a protection the client must refuse (bad_protection) --------------------------------- */

/* The DER TLV at p (n bytes left): its header length *hdr and whole length *tlv. False when it
 * does not fit (the answer is OpenSSL's own DER: lengths of at most three bytes). */
static bool tlv_at(const unsigned char *p, size_t n, size_t *hdr, size_t *tlv)
{
	if (n < 2)
		return false;
	size_t h = 2, len = p[1];
	if (len & 0x80) {
		size_t k = len & 0x7f;
		if (k == 0 || k > 3 || n < 2 + k)
			return false;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | p[2 + i];
		h += k;
	}
	if (len > n - h)
		return false;
	*hdr = h;
	*tlv = h + len;
	return true;
}

/* Flips one bit of the protection of a PKIMessage, SEQUENCE { header, body, [0] protection,
 * [1] extraCerts }: the answer still parses, its MAC or signature no longer verifies. */
static bool spoil_protection(unsigned char *der, size_t n)
{
	size_t h, t;
	if (!tlv_at(der, n, &h, &t) || der[0] != 0x30)
		return false;
	unsigned char *p = der + h;
	size_t left = t - h;
	for (int skip = 0; skip < 2; skip++) { /* header, body */
		if (!tlv_at(p, left, &h, &t))
			return false;
		p += t;
		left -= t;
	}
	if (!tlv_at(p, left, &h, &t) || p[0] != 0xA0 || t <= h + 3)
		return false;
	p[t - 1] ^= 0x01; /* the last byte of the BIT STRING inside [0] */
	return true;
}

/* ---- issuing -------------------------------------------------------------------------------- */

static OSSL_CMP_PKISI *refuse(int bit, const char *text)
{
	log_info("cmp", "refused: %s", text);
	return OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_rejection, 1 << bit, text);
}

/* The public key of a CRMF certificate template. OpenSSL 3.0 has no getter for it, so it is read
 * from the template's DER (OpenSSL's own encoding of what it parsed): CertTemplate ::= SEQUENCE
 * { …, publicKey [6] IMPLICIT SubjectPublicKeyInfo, … }, the [6] retagged as the SEQUENCE it is.
 * NULL when there is none; the caller frees. */
static EVP_PKEY *template_key(const OSSL_CRMF_CERTTEMPLATE *tmpl)
{
	unsigned char *der = NULL;
	int n = i2d_OSSL_CRMF_CERTTEMPLATE((OSSL_CRMF_CERTTEMPLATE *)tmpl, &der);
	EVP_PKEY *key = NULL;
	size_t h, t;
	if (n > 0 && tlv_at(der, (size_t)n, &h, &t) && der[0] == 0x30) {
		unsigned char *p = der + h, *end = der + t;
		while (p < end && tlv_at(p, (size_t)(end - p), &h, &t) && p[0] != 0xA6)
			p += t;
		if (p < end && p[0] == 0xA6) {
			p[0] = 0x30;
			const unsigned char *q = p;
			key = d2i_PUBKEY(NULL, &q, (long)t);
		}
	}
	OPENSSL_free(der);
	return key;
}

/* The authentication certificate in the request's extraCerts: the request's subject, issued by
 * one of the test CA's person CAs. *level is that CA's trust level. Borrowed from certs. */
static X509 *auth_cert_of(const struct cmpsrv *s, STACK_OF(X509) * certs, const X509_NAME *subject,
			  int *level)
{
	for (int i = 0; subject && i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		if (X509_NAME_cmp(X509_get_subject_name(c), subject) != 0)
			continue;
		if ((*level = issuer_testca_level(s->ca, c)) > 0)
			return c;
	}
	return NULL;
}

static int fail_bit(issuer_err e)
{
	switch (e) {
	case ISSUER_E_CSR_MALFORMED: return OSSL_CMP_PKIFAILUREINFO_badDataFormat;
	case ISSUER_E_CSR_SIGNATURE: return OSSL_CMP_PKIFAILUREINFO_badPOP;
	case ISSUER_E_SUBJECT:
	case ISSUER_E_AUTH_CERT:
	case ISSUER_E_TRUST_LEVEL: return OSSL_CMP_PKIFAILUREINFO_badCertTemplate;
	case ISSUER_E_CARD_VALIDITY: return OSSL_CMP_PKIFAILUREINFO_notAuthorized;
	case ISSUER_E_UNAVAILABLE: return OSSL_CMP_PKIFAILUREINFO_systemUnavail;
	default: return OSSL_CMP_PKIFAILUREINFO_systemFailure;
	}
}

/* A request through the test CA: a p10cr's PKCS#10 (the card's own), or the subject and key of an
 * ir/cr template (a software key: OpenSSL's server verified its proof of possession before this
 * runs). On success *cert and *chain are set. */
static OSSL_CMP_PKISI *issue(struct cmpsrv *s, const X509_REQ *p10cr, const OSSL_CRMF_MSG *crm,
			     X509 **cert, STACK_OF(X509) * *chain)
{
	OSSL_CMP_CTX *ctx = OSSL_CMP_SRV_CTX_get0_cmp_ctx(s->srv);
	/* OpenSSL 3.0's server puts a request's extraCerts into the context's untrusted certs. */
	STACK_OF(X509) *extra = OSSL_CMP_CTX_get0_untrusted(ctx);
	const OSSL_CRMF_CERTTEMPLATE *tmpl = crm ? OSSL_CRMF_MSG_get0_tmpl(crm) : NULL;
	const X509_NAME *subject = p10cr ? X509_REQ_get_subject_name(p10cr)
		: tmpl                   ? OSSL_CRMF_CERTTEMPLATE_get0_subject(tmpl)
					 : NULL;
	unsigned char *der = NULL;
	EVP_PKEY *key = NULL;
	int level = 0, len = p10cr ? i2d_X509_REQ(p10cr, &der) : 0;
	X509 *auth = auth_cert_of(s, extra, subject, &level);
	OSSL_CMP_PKISI *si = NULL;
	struct issue_result res = { 0 };
	if (p10cr ? len <= 0 : !tmpl || !(key = template_key(tmpl))) {
		si = refuse(OSSL_CMP_PKIFAILUREINFO_badDataFormat,
			    p10cr ? "unreadable PKCS#10 request" : "no public key in the template");
		goto out;
	}
	if (!auth) {
		si = refuse(OSSL_CMP_PKIFAILUREINFO_badCertTemplate,
			    "no authentication certificate of this CA with the request's subject "
			    "in extraCerts");
		goto out;
	}
	struct issue_ctx ic = {
		.card_id = "cmp", .session_ok = true, .auth_cert = auth, .trust_level = level
	};
	issuer_err e = p10cr ? issuer_issue(s->ca, der, (size_t)len, &ic, &res)
			     : issuer_testca_issue_key(s->ca, subject, key, &ic, &res);
	if (e) {
		si = refuse(fail_bit(e), res.detail[0] ? res.detail : issuer_strerror(e));
		goto out;
	}
	*cert = res.cert;
	*chain = res.chain;
	res.cert = NULL;
	res.chain = NULL;
	si = OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_accepted, 0, NULL);
out:
	issue_result_free(&res);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	return si;
}

static OSSL_CMP_PKISI *on_cert_request(OSSL_CMP_SRV_CTX *srv, const OSSL_CMP_MSG *req,
				       int certReqId, const OSSL_CRMF_MSG *crm,
				       const X509_REQ *p10cr, X509 **certOut,
				       STACK_OF(X509) * *chainOut, STACK_OF(X509) * *caPubs)
{
	struct cmpsrv *s = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv);
	(void)certReqId;
	*certOut = NULL;
	*chainOut = NULL;
	*caPubs = NULL;
	if (s->o.reject_text)
		return OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_rejection, (int)s->o.reject_bits,
					       s->o.reject_text);
	if (s->o.delay_polls && !s->released) {
		OSSL_CMP_MSG_free(s->waiting);
		s->polls = 0;
		if (!(s->waiting = OSSL_CMP_MSG_dup(req)))
			return NULL;
		log_info("cmp", "request: answering \"waiting\" (%u polls)", s->o.delay_polls);
		return OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_waiting, 0, NULL);
	}
	s->released = false;
	OSSL_CMP_PKISI *si = issue(s, p10cr, crm, certOut, chainOut);
	X509_free(s->issued);
	s->issued = NULL;
	if (*certOut && X509_up_ref(*certOut)) {
		s->issued = *certOut;
		char *hex = serial_hex(X509_get0_serialNumber(s->issued));
		log_info("cmp", "issued serial %s, awaiting certConf", hex ? hex : "?");
		OPENSSL_free(hex);
	}
	return si;
}

/* ---- confirmation and polling --------------------------------------------------------------- */

/* A revoked certificate: one line "SERIAL TEXT" in PKI_DIR/cmp-revoked.txt; logged as
 * "certificate serial SERIAL <how>: TEXT". */
static int record_revoked(struct cmpsrv *s, const ASN1_INTEGER *serial, const char *how,
			  const char *why)
{
	char path[PATH_MAX + 32];
	char *hex = serial_hex(serial);
	snprintf(path, sizeof path, "%s/%s", s->dir, PKI_REVOKED);
	FILE *f = hex ? fopen(path, "ae") : NULL;
	int ok = f && fprintf(f, "%s %s\n", hex, why) > 0;
	if (f && fclose(f) != 0)
		ok = 0;
	log_info("cmp", "certificate serial %s %s: %s", hex ? hex : "?", how, why);
	OPENSSL_free(hex);
	return ok;
}

/* A revocation request (rr): the client says a certificate it confirmed is not where it should
 * be. Any serial of this CA's is taken (it keeps no register of what it issued). */
static OSSL_CMP_PKISI *on_revocation(OSSL_CMP_SRV_CTX *srv, const OSSL_CMP_MSG *req,
				     const X509_NAME *issuer, const ASN1_INTEGER *serial)
{
	struct cmpsrv *s = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv);
	char name[200] = "?";
	(void)req;
	if (issuer)
		X509_NAME_oneline(issuer, name, sizeof name);
	if (!serial || !record_revoked(s, serial, "revoked on request (rr)", name)) {
		ERR_raise(ERR_LIB_CMP, CMP_R_ERROR_PROCESSING_MESSAGE);
		return NULL;
	}
	return OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_accepted, 0, NULL);
}

static int on_cert_conf(OSSL_CMP_SRV_CTX *srv, const OSSL_CMP_MSG *req, int certReqId,
			const ASN1_OCTET_STRING *certHash, const OSSL_CMP_PKISI *si)
{
	struct cmpsrv *s = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv);
	char text[OSSL_CMP_PKISI_BUFLEN] = "";
	(void)req, (void)certReqId;
	if (!s->issued || !certHash) {
		ERR_raise(ERR_LIB_CMP, CMP_R_ERROR_PROCESSING_MESSAGE);
		return 0;
	}
	ASN1_OCTET_STRING *digest = X509_digest_sig(s->issued, NULL, NULL);
	int same = digest && ASN1_OCTET_STRING_cmp(digest, certHash) == 0;
	ASN1_OCTET_STRING_free(digest);
	if (!same) {
		ERR_raise(ERR_LIB_CMP, CMP_R_CERTHASH_UNMATCHED);
		return 0;
	}
	/* No getter for the status in OpenSSL 3.0: its printed form starts with the status. */
	if (si && OSSL_CMP_snprint_PKIStatusInfo(si, text, sizeof text) &&
	    strncmp(text, "PKIStatus: accepted", 19) != 0) {
		if (!record_revoked(s, X509_get0_serialNumber(s->issued),
				    "rejected by the client, revoked", text))
			return 0;
	} else {
		char *hex = serial_hex(X509_get0_serialNumber(s->issued));
		log_info("cmp", "certificate serial %s confirmed", hex ? hex : "?");
		OPENSSL_free(hex);
	}
	X509_free(s->issued);
	s->issued = NULL;
	return 1;
}

static int on_poll_req(OSSL_CMP_SRV_CTX *srv, const OSSL_CMP_MSG *req, int certReqId,
		       OSSL_CMP_MSG **certReq, int64_t *check_after)
{
	struct cmpsrv *s = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv);
	(void)req, (void)certReqId;
	*certReq = NULL;
	if (!s->waiting) {
		ERR_raise(ERR_LIB_CMP, CMP_R_UNEXPECTED_PKIBODY);
		return 0;
	}
	if (++s->polls < s->o.delay_polls) {
		*check_after = s->o.check_after;
		log_info("cmp", "pollReq %u: still waiting", s->polls);
		return 1;
	}
	log_info("cmp", "pollReq %u: answering the request", s->polls);
	*certReq = s->waiting;
	s->waiting = NULL;
	s->released = true;
	*check_after = 0;
	return 1;
}

static void on_error(OSSL_CMP_SRV_CTX *srv, const OSSL_CMP_MSG *req, const OSSL_CMP_PKISI *si,
		     const ASN1_INTEGER *code, const OSSL_CMP_PKIFREETEXT *details)
{
	char text[OSSL_CMP_PKISI_BUFLEN] = "";
	(void)srv, (void)req, (void)code, (void)details;
	if (si)
		OSSL_CMP_snprint_PKIStatusInfo(si, text, sizeof text);
	log_info("cmp", "the client sent an error: %s", text[0] ? text : "(no status)");
}

/* ---- set-up --------------------------------------------------------------------------------- */

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

/* Requests signed by a certificate of the test hierarchy are accepted: root and person CAs. */
static X509_STORE *trust_of(const char *dir)
{
	char path[PATH_MAX + 32];
	X509_STORE *st = X509_STORE_new();
	snprintf(path, sizeof path, "%s/%s", dir, PKI_ROOT);
	if (!st || !X509_STORE_load_file(st, path))
		goto fail;
	for (int l = 2; l <= 3; l++) {
		snprintf(path, sizeof path, "%s/" PKI_PERSON, dir, l);
		if (access(path, F_OK) == 0 && !X509_STORE_load_file(st, path))
			goto fail;
	}
	return st;
fail:
	X509_STORE_free(st);
	return NULL;
}

/* The server's signature: PKI_DIR/cmp-server.pem and its key. */
static cmpsrv_err set_signer(OSSL_CMP_CTX *ctx, const char *dir)
{
	char cp[PATH_MAX + 32], kp[PATH_MAX + 32];
	snprintf(cp, sizeof cp, "%s/%s", dir, PKI_SRV_CERT);
	snprintf(kp, sizeof kp, "%s/%s", dir, PKI_SRV_KEY);
	BIO *cb = BIO_new_file(cp, "r"), *kb = BIO_new_file(kp, "r");
	X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, no_passphrase, NULL) : NULL;
	EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL) : NULL;
	cmpsrv_err e = CMPSRV_OK;
	if (!cert || !key || !OSSL_CMP_CTX_set1_cert(ctx, cert) ||
	    !OSSL_CMP_CTX_set1_pkey(ctx, key)) {
		log_error("cmp", "cannot use %s with %s (certs/test-siths-pki.sh makes them)", cp,
			  kp);
		e = CMPSRV_E_CONFIG;
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	BIO_free(cb);
	BIO_free(kb);
	return e;
}

static cmpsrv_err set_protection(struct cmpsrv *s)
{
	OSSL_CMP_CTX *ctx = OSSL_CMP_SRV_CTX_get0_cmp_ctx(s->srv);
	X509_STORE *st = trust_of(s->dir);
	STACK_OF(X509) *objs = st ? X509_STORE_get1_all_certs(st) : NULL;
	s->base_untrusted = sk_X509_new_null();
	for (int i = 0; s->base_untrusted && i < sk_X509_num(objs); i++) {
		X509 *c = sk_X509_value(objs, i);
		if (X509_check_issued(c, c) == X509_V_OK) /* the self-signed root */
			X509_add_cert(s->base_untrusted, c, X509_ADD_FLAG_UP_REF);
	}
	sk_X509_pop_free(objs, X509_free);
	if (!st || sk_X509_num(s->base_untrusted) != 1 ||
	    !OSSL_CMP_CTX_set0_trustedStore(ctx, st)) {
		X509_STORE_free(st);
		log_error("cmp", "cannot load the test hierarchy from %s", s->dir);
		return CMPSRV_E_CONFIG;
	}
	if (!s->o.mac_ref)
		return set_signer(ctx, s->dir);
	/* With a secret OpenSSL protects every response by MAC, and validates MAC requests. */
	if (!OSSL_CMP_CTX_set1_referenceValue(ctx, (const unsigned char *)s->o.mac_ref,
					      (int)strlen(s->o.mac_ref)) ||
	    !OSSL_CMP_CTX_set1_secretValue(ctx, (const unsigned char *)s->o.mac_secret,
					   (int)strlen(s->o.mac_secret)))
		return CMPSRV_E_NOMEM;
	return CMPSRV_OK;
}

cmpsrv_err cmpsrv_new(const struct cmpsrv_opts *o, struct cmpsrv **out)
{
	if (!o || !o->pki_dir || !out || !o->mac_ref != !o->mac_secret ||
	    strlen(o->pki_dir) >= PATH_MAX)
		return CMPSRV_E_ARG;
	*out = NULL;
	struct cmpsrv *s = calloc(1, sizeof *s);
	if (!s)
		return CMPSRV_E_NOMEM;
	s->o = *o;
	snprintf(s->dir, sizeof s->dir, "%s", o->pki_dir);
	cmpsrv_err e = CMPSRV_E_CONFIG;
	if (issuer_testca_open(s->dir, o->fault, &s->ca) != ISSUER_OK)
		goto out;
	e = CMPSRV_E_NOMEM;
	if (!(s->srv = OSSL_CMP_SRV_CTX_new(NULL, NULL)) ||
	    !OSSL_CMP_SRV_CTX_init(s->srv, s, on_cert_request, on_revocation, NULL, on_error,
				   on_cert_conf, on_poll_req))
		goto out;
	if ((e = set_protection(s)) != CMPSRV_OK)
		goto out;
	*out = s;
	s = NULL;
out:
	cmpsrv_free(s);
	ERR_clear_error();
	return e;
}

void cmpsrv_free(struct cmpsrv *s)
{
	if (!s)
		return;
	OSSL_CMP_SRV_CTX_free(s->srv);
	issuer_destroy(s->ca);
	X509_free(s->issued);
	OSSL_CMP_MSG_free(s->waiting);
	sk_X509_pop_free(s->base_untrusted, X509_free);
	if (s->o.mac_secret)
		OPENSSL_cleanse(&s->o, sizeof s->o);
	free(s);
}

cmpsrv_err cmpsrv_handle(struct cmpsrv *s, const unsigned char *req, size_t len,
			 unsigned char **rsp, size_t *rsp_len)
{
	if (!s || !req || !rsp || !rsp_len || len > MAX_MSG)
		return CMPSRV_E_ARG;
	*rsp = NULL;
	*rsp_len = 0;
	BIO *in = BIO_new_mem_buf(req, (int)len);
	OSSL_CMP_MSG *msg = in ? d2i_OSSL_CMP_MSG_bio(in, NULL) : NULL;
	int body = msg ? OSSL_CMP_MSG_get_bodytype(msg) : -1;
	/* A new enrollment starts with no certificates from an earlier one (request types are the
	 * body types). Not an empty list: OpenSSL 3.0 turns that into none, and then fails. */
	if ((body == OSSL_CMP_P10CR || body == OSSL_CMP_IR || body == OSSL_CMP_CR ||
	     body == OSSL_CMP_KUR) &&
	    !OSSL_CMP_CTX_set1_untrusted(OSSL_CMP_SRV_CTX_get0_cmp_ctx(s->srv), s->base_untrusted))
		body = -1;
	OSSL_CMP_MSG *ans = msg && body >= 0 ? OSSL_CMP_SRV_process_request(s->srv, msg) : NULL;
	unsigned char *der = NULL;
	int n = ans ? i2d_OSSL_CMP_MSG(ans, &der) : -1;
	cmpsrv_err e = msg ? CMPSRV_OK : CMPSRV_E_REQUEST;
	if (msg && n <= 0)
		e = CMPSRV_E_REQUEST;
	if (e == CMPSRV_OK && s->o.bad_protection && !spoil_protection(der, (size_t)n))
		log_info("cmp", "an answer without protection to spoil");
	if (e == CMPSRV_OK) {
		log_info("cmp", "%s (%zu bytes) answered with %s (%d bytes)",
			 issuer_cmp_body_name(body), len,
			 issuer_cmp_body_name(OSSL_CMP_MSG_get_bodytype(ans)), n);
		*rsp = der;
		*rsp_len = (size_t)n;
		der = NULL;
	} else {
		unsigned long err = ERR_peek_last_error();
		log_info("cmp", "request not answered: %s",
			 err ? ERR_reason_error_string(err) : cmpsrv_strerror(e));
	}
	OPENSSL_free(der);
	OSSL_CMP_MSG_free(ans);
	OSSL_CMP_MSG_free(msg);
	BIO_free(in);
	ERR_clear_error();
	return e;
}
