/* issuer_cmp.c — the CMP issuer: one OSSL_CMP_CTX per enrollment, run on a thread of its own so
 * that OpenSSL's client, which sends certConf from inside its certConf callback, can wait there
 * until the job has written the certificate and read it back (issuer_confirm). The job's thread
 * meanwhile gets the certificate, validates it and writes it, and makes the card's signatures
 * the enrollment thread asks for (signature protection): the card session never changes
 * thread. */
#include "issuer_cmp.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cmp.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ssl.h>

#include "cardkey.h"
#include "log.h"

#define DEFAULT_MSG_TIMEOUT 30
#define DEFAULT_TOTAL_TIMEOUT 300
#define MAC_FILE_MAX 512

/* An https server: its TLS client context and the name its certificate must carry. */
struct tls_peer {
	SSL_CTX *ssl;
	const char *host;
};

struct cmp_issuer {
	struct issuer base;
	char *host, *port, *path;
	X509_STORE *trusted; /* NULL: MAC-protected answers only */
	struct tls_peer tls; /* .ssl NULL: plain http */
	/* The standing MAC order of mac_file: "REFERENCE\0SECRET" in mac (mac_len bytes), wiped
	 * at destroy; NULL when every download brings its own. */
	char *mac;
	size_t mac_len;
	unsigned msg_timeout, total_timeout;
	bool test;
	bool signature; /* requests signed with the card's authentication key */
};

enum phase { PH_RUNNING, PH_CERT, PH_DECIDED, PH_ENDED };

/* A signature the enrollment thread waits for, made on the job's thread. */
struct sign_req {
	const unsigned char *di;
	size_t di_len;
	unsigned char *sig;
	size_t cap, *len;
	int rc;
	bool pending;
};

/* One enrollment. The thread and the job share it under lock. */
struct txn {
	struct issuer_txn base;
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum phase phase;
	unsigned polls; /* "waiting" answers so far */
	int decision;   /* PKIFailureInfo bits of the job's answer, 0 = accepted */
	char why[160];  /* its text, sent in certConf; lives as long as the message */
	OSSL_CMP_CTX *ctx;
	unsigned total_timeout;
	X509 *cert;             /* handed over at PH_CERT */
	STACK_OF(X509) * chain; /* the answer's extraCerts, handed over with it */
	bool ok;                /* the transaction ended well */
	bool refused;           /* the CA refused: err holds its status */
	char status_text[160];  /* the CA's own text of a refusal */
	unsigned fail_info;     /* and its PKIFailureInfo bits */
	int last_rsp;           /* body type of the last answer received, -1 none */
	unsigned msgs;
	size_t sent, received;
	char err[OSSL_CMP_PKISI_BUFLEN];
	/* The card's signer of issue_ctx (signature protection), and the request in flight. */
	csr_sign_fn auth_sign;
	void *auth_sign_user;
	struct sign_req sig;
};

/* The PKIBody choice names of RFC 9810 section 5.1.2 (OpenSSL 3.0 exports no names). */
const char *issuer_cmp_body_name(int t)
{
	static const char *const names[] = {
		"ir",   "ip",     "cr",    "cp",       "p10cr",   "popdecc", "popdecr",
		"kur",  "kup",    "krr",   "krp",      "rr",      "rp",      "ccr",
		"ccp",  "ckuann", "cann",  "rann",     "crlann",  "pkiconf", "nested",
		"genm", "genp",   "error", "certConf", "pollReq", "pollRep",
	};
	return t >= 0 && (size_t)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* ---- the card's signatures ------------------------------------------------------------------ */

/* cardkey's signer, on the enrollment thread: OpenSSL protects a message; the job's thread,
 * waiting in await_cert() or txn_finish(), has the card sign. */
static int relay_sign(void *user, const unsigned char *di, size_t di_len, unsigned char *sig,
		      size_t cap, size_t *len)
{
	struct txn *t = user;
	pthread_mutex_lock(&t->lock);
	t->sig = (struct sign_req){ di, di_len, sig, cap, len, -1, true };
	pthread_cond_broadcast(&t->cond);
	while (t->sig.pending)
		pthread_cond_wait(&t->cond, &t->lock);
	int rc = t->sig.rc;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* The job's side, t->lock held (released while the card signs). */
static void serve_sign_locked(struct txn *t)
{
	struct sign_req r = t->sig;
	pthread_mutex_unlock(&t->lock);
	int rc = t->auth_sign ? t->auth_sign(t->auth_sign_user, r.di, r.di_len, r.sig, r.cap, r.len)
			      : -1;
	pthread_mutex_lock(&t->lock);
	t->sig.rc = rc;
	t->sig.pending = false;
	pthread_cond_broadcast(&t->cond);
}

/* ---- the enrollment thread ------------------------------------------------------------------ */

/* OpenSSL's HTTP transfer, counted: messages and bytes each way. */
static OSSL_CMP_MSG *transfer(OSSL_CMP_CTX *ctx, const OSSL_CMP_MSG *req)
{
	struct txn *t = OSSL_CMP_CTX_get_transfer_cb_arg(ctx);
	OSSL_CMP_MSG *rsp = OSSL_CMP_MSG_http_perform(ctx, req);
	int out = i2d_OSSL_CMP_MSG(req, NULL), in = rsp ? i2d_OSSL_CMP_MSG(rsp, NULL) : 0;
	t->msgs++;
	t->sent += out > 0 ? (size_t)out : 0;
	t->received += in > 0 ? (size_t)in : 0;
	t->last_rsp = rsp ? OSSL_CMP_MSG_get_bodytype(rsp) : -1;
	log_debug("issuer", "cmp: %s (%d bytes) answered with %s (%d bytes)",
		  issuer_cmp_body_name(OSSL_CMP_MSG_get_bodytype(req)), out,
		  rsp ? issuer_cmp_body_name(t->last_rsp) : "nothing", in);
	return rsp;
}

/* OpenSSL asks whether to accept the new certificate; the answer is the job's, after the card. */
static int on_cert(OSSL_CMP_CTX *ctx, X509 *cert, int fail_info, const char **txt)
{
	struct txn *t = OSSL_CMP_CTX_get_certConf_cb_arg(ctx);
	pthread_mutex_lock(&t->lock);
	t->chain = OSSL_CMP_CTX_get1_extraCertsIn(ctx);
	t->cert = X509_up_ref(cert) ? cert : NULL;
	t->phase = PH_CERT;
	pthread_cond_broadcast(&t->cond);
	while (t->phase != PH_DECIDED)
		pthread_cond_wait(&t->cond, &t->lock);
	/* OpenSSL's own finding (the key does not match the request's) is never overruled. */
	if (!fail_info)
		fail_info = t->decision;
	*txt = fail_info ? t->why : NULL;
	pthread_mutex_unlock(&t->lock);
	return fail_info;
}

/* The CA's status strings of a refusal, joined, and its failure bits into t. */
static void keep_status(struct txn *t)
{
	OSSL_CMP_PKIFREETEXT *texts = OSSL_CMP_CTX_get0_statusString(t->ctx);
	size_t n = 0;
	for (int i = 0; i < sk_ASN1_UTF8STRING_num(texts) && n < sizeof t->status_text; i++) {
		const ASN1_UTF8STRING *s = sk_ASN1_UTF8STRING_value(texts, i);
		int w = snprintf(t->status_text + n, sizeof t->status_text - n, "%s%.*s",
				 i ? "; " : "", ASN1_STRING_length(s),
				 (const char *)ASN1_STRING_get0_data(s));
		n += w > 0 ? (size_t)w : 0;
	}
	int fi = OSSL_CMP_CTX_get_failInfoCode(t->ctx);
	t->fail_info = fi > 0 ? (unsigned)fi : 0;
}

/* Why the transaction failed, into t->err: the CA's status if it refused, else OpenSSL's. */
static void describe_failure(struct txn *t)
{
	char buf[OSSL_CMP_PKISI_BUFLEN];
	int st = OSSL_CMP_CTX_get_status(t->ctx);
	if ((st == OSSL_CMP_PKISTATUS_rejection || t->last_rsp == 23 /* error */) &&
	    OSSL_CMP_CTX_snprint_PKIStatus(t->ctx, buf, sizeof buf)) {
		t->refused = true;
		snprintf(t->err, sizeof t->err, "%s", buf);
		keep_status(t);
		return;
	}
	/* The last error is OpenSSL's summary (a transfer error); a TLS failure is further down. */
	char tls[100] = "";
	const char *data = NULL;
	int flags = 0;
	unsigned long e, last = 0;
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags))) {
		if (ERR_GET_LIB(e) == ERR_LIB_SSL && !tls[0] && ERR_reason_error_string(e))
			snprintf(tls, sizeof tls, " (TLS: %s)", ERR_reason_error_string(e));
		last = e;
		snprintf(t->err, sizeof t->err, "%s%s%s",
			 ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "CMP failed",
			 data && (flags & ERR_TXT_STRING) && *data ? ": " : "",
			 data && (flags & ERR_TXT_STRING) ? data : "");
	}
	if (!last)
		snprintf(t->err, sizeof t->err, "CMP failed");
	size_t n = strlen(t->err);
	snprintf(t->err + n, sizeof t->err - n, "%s", tls);
}

static void *run(void *arg)
{
	struct txn *t = arg;
	time_t end = time(NULL) + (time_t)t->total_timeout;
	int after = 0, r;
	while ((r = OSSL_CMP_try_certreq(t->ctx, OSSL_CMP_P10CR, NULL, &after)) == -1) {
		pthread_mutex_lock(&t->lock);
		t->polls++;
		pthread_cond_broadcast(&t->cond);
		pthread_mutex_unlock(&t->lock);
		if (after < 0 || time(NULL) + after > end) {
			OSSL_CMP_try_certreq(t->ctx, -1, NULL,
					     NULL); /* polling aborted: an error */
			snprintf(t->err, sizeof t->err,
				 "no certificate within %u s of waiting for the issuer",
				 t->total_timeout);
			break;
		}
		if (after > 0)
			sleep((unsigned)after); /* the issuer said when to ask again */
	}
	if (r != 1 && !t->err[0])
		describe_failure(t);
	ERR_clear_error();
	pthread_mutex_lock(&t->lock);
	t->ok = r == 1;
	t->phase = PH_ENDED;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void txn_free(struct txn *t)
{
	OSSL_CMP_CTX_free(t->ctx);
	X509_free(t->cert);
	sk_X509_pop_free(t->chain, X509_free);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static void log_wire(const struct txn *t)
{
	log_info("issuer", "cmp enrollment: %u messages, %zu bytes sent, %zu bytes received",
		 t->msgs, t->sent, t->received);
}

static issuer_err txn_finish(struct issuer_txn *it, bool accepted, const char *why, char *detail,
			     size_t cap)
{
	struct txn *t = (struct txn *)it;
	pthread_mutex_lock(&t->lock);
	t->decision = accepted ? 0 : 1 << OSSL_CMP_PKIFAILUREINFO_incorrectData;
	snprintf(t->why, sizeof t->why, "%s",
		 why && *why ? why : "not accepted by the card holder");
	t->phase = PH_DECIDED;
	pthread_cond_broadcast(&t->cond);
	/* certConf is signed too, under signature protection. */
	while (t->phase != PH_ENDED) {
		if (t->sig.pending)
			serve_sign_locked(t);
		else
			pthread_cond_wait(&t->cond, &t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->th, NULL);
	log_wire(t);
	/* A rejection ends in an error by OpenSSL's design; what counts is that the CA answered. */
	bool noted = accepted ? t->ok : t->last_rsp == 19 /* pkiconf */;
	if (!noted)
		snprintf(detail, cap, "certConf: %.150s", t->err[0] ? t->err : "no pkiconf");
	log_info("issuer", "cmp: certificate %s, the CA %s", accepted ? "confirmed" : "rejected",
		 noted ? "took note" : "did not answer");
	txn_free(t);
	return noted ? ISSUER_OK : ISSUER_E_UNAVAILABLE;
}

static const struct issuer_txn_ops txn_ops = { .finish = txn_finish };

/* ---- the issuer ----------------------------------------------------------------------------- */

/* OpenSSL's HTTP client hands over the connected socket: TLS goes on top of it, the server's
 * certificate checked against --issuer-cmp-tls-trusted and the URL's host name. On disconnect
 * the chain is OpenSSL's to free. */
static BIO *tls_connect(BIO *bio, void *arg, int connect, int detail)
{
	const struct tls_peer *tp = arg;
	if (!connect || !detail)
		return bio;
	BIO *sbio = BIO_new(BIO_f_ssl());
	SSL *ssl = sbio ? SSL_new(tp->ssl) : NULL;
	if (!ssl || !SSL_set_tlsext_host_name(ssl, tp->host) || !SSL_set1_host(ssl, tp->host)) {
		SSL_free(ssl);
		BIO_free(sbio);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	BIO_set_ssl(sbio, ssl, BIO_CLOSE);
	return BIO_push(sbio, bio);
}

/* Whether the download brought an enrollment order of its own. */
static bool has_order(const struct issue_ctx *ic)
{
	return ic->enroll_ref && ic->enroll_secret && *ic->enroll_ref && *ic->enroll_secret;
}

/* A client context for the server of ci, MAC-protected with ref and secret (NULL: protected
 * otherwise, by the caller), the server's signature (if any) checked against the configured
 * trust. NULL on failure (out of memory). */
static OSSL_CMP_CTX *base_ctx(struct cmp_issuer *ci, const char *ref, const char *secret)
{
	OSSL_CMP_CTX *ctx = OSSL_CMP_CTX_new(NULL, NULL);
	int ok = ctx && OSSL_CMP_CTX_set1_server(ctx, ci->host) &&
		OSSL_CMP_CTX_set_serverPort(ctx, atoi(ci->port)) &&
		OSSL_CMP_CTX_set1_serverPath(ctx, ci->path) &&
		OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_MSG_TIMEOUT, (int)ci->msg_timeout) &&
		OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_TOTAL_TIMEOUT, 0) &&
		OSSL_CMP_CTX_set_log_verbosity(ctx, OSSL_CMP_LOG_ERR);
	if (ok && ref)
		ok = OSSL_CMP_CTX_set1_referenceValue(ctx, (const unsigned char *)ref,
						      (int)strlen(ref)) &&
			OSSL_CMP_CTX_set1_secretValue(ctx, (const unsigned char *)secret,
						      (int)strlen(secret));
	/* OpenSSL 3.0 uses TLS exactly when the HTTP callback has an argument. */
	if (ok && ci->tls.ssl)
		ok = OSSL_CMP_CTX_set_http_cb(ctx, tls_connect) &&
			OSSL_CMP_CTX_set_http_cb_arg(ctx, &ci->tls);
	if (ok && ci->trusted)
		ok = X509_STORE_up_ref(ci->trusted) &&
			(OSSL_CMP_CTX_set0_trustedStore(ctx, ci->trusted) ||
			 (X509_STORE_free(ci->trusted), 0));
	if (!ok) {
		OSSL_CMP_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* Signature protection: the authentication certificate as the sender, its key the card's. */
static int set_card_signer(OSSL_CMP_CTX *ctx, const struct issue_ctx *ic, struct txn *t)
{
	EVP_PKEY *key = NULL;
	t->auth_sign = ic->auth_sign;
	t->auth_sign_user = ic->auth_sign_user;
	int ok = cardkey_new(ic->auth_cert, relay_sign, t, &key) == CARDKEY_OK &&
		OSSL_CMP_CTX_set1_cert(ctx, (X509 *)ic->auth_cert) &&
		OSSL_CMP_CTX_set1_pkey(ctx, key);
	EVP_PKEY_free(key);
	return ok;
}

/* The client context of one enrollment. NULL on failure (out of memory, or a card key OpenSSL
 * cannot use). */
static OSSL_CMP_CTX *client_ctx(struct cmp_issuer *ci, const X509_REQ *req,
				const struct issue_ctx *ic, struct txn *t)
{
	const char *ref = NULL, *secret = NULL; /* signature protection: no MAC */
	if (!ci->signature && has_order(ic)) {
		ref = ic->enroll_ref;
		secret = ic->enroll_secret;
	} else if (!ci->signature) {
		ref = ci->mac;
		secret = ci->mac + strlen(ci->mac) + 1;
	}
	OSSL_CMP_CTX *ctx = base_ctx(ci, ref, secret);
	STACK_OF(X509) *extra = sk_X509_new_null();
	int ok = ctx && extra && (!ci->signature || set_card_signer(ctx, ic, t)) &&
		X509_add_cert(extra, (X509 *)ic->auth_cert, X509_ADD_FLAG_UP_REF) &&
		OSSL_CMP_CTX_set1_p10CSR(ctx, req) && OSSL_CMP_CTX_set1_extraCertsOut(ctx, extra) &&
		OSSL_CMP_CTX_set_certConf_cb(ctx, on_cert) &&
		OSSL_CMP_CTX_set_certConf_cb_arg(ctx, t) &&
		OSSL_CMP_CTX_set_transfer_cb(ctx, transfer) &&
		OSSL_CMP_CTX_set_transfer_cb_arg(ctx, t);
	sk_X509_pop_free(extra, X509_free);
	if (!ok) {
		OSSL_CMP_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

static struct txn *txn_new(unsigned total_timeout)
{
	struct txn *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->base.ops = &txn_ops;
	t->last_rsp = -1;
	t->total_timeout = total_timeout;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	return t;
}

/* Waits for the certificate or the end, telling the job about each "waiting". Returns the
 * phase reached (PH_CERT or PH_ENDED). */
static enum phase await_cert(struct txn *t, const struct issue_ctx *ic)
{
	unsigned told = 0;
	pthread_mutex_lock(&t->lock);
	while (t->phase == PH_RUNNING) {
		if (t->sig.pending) {
			serve_sign_locked(t);
			continue;
		}
		if (t->polls > told && ic->waiting) {
			told = t->polls;
			pthread_mutex_unlock(&t->lock);
			ic->waiting(ic->waiting_user);
			pthread_mutex_lock(&t->lock);
			continue;
		}
		pthread_cond_wait(&t->cond, &t->lock);
	}
	enum phase p = t->phase;
	pthread_mutex_unlock(&t->lock);
	return p;
}

static issuer_err ci_issue(struct issuer *is, const unsigned char *csr_der, size_t csr_len,
			   const struct issue_ctx *ic, struct issue_result *out)
{
	struct cmp_issuer *ci = (struct cmp_issuer *)is;
	if (!ic->auth_cert || (ci->signature && !ic->auth_sign))
		return ISSUER_E_ARG;
	if (!ci->signature && !has_order(ic) && !ci->mac)
		return ISSUER_E_ENROLLMENT;
	const unsigned char *p = csr_der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)csr_len);
	struct txn *t = req ? txn_new(ci->total_timeout) : NULL;
	issuer_err rc = req ? ISSUER_E_NOMEM : ISSUER_E_CSR_MALFORMED;
	if (!t || !(t->ctx = client_ctx(ci, req, ic, t)))
		goto out;
	if (pthread_create(&t->th, NULL, run, t) != 0)
		goto out;
	if (await_cert(t, ic) == PH_CERT) {
		out->cert = t->cert;
		out->chain = t->chain;
		t->cert = NULL;
		t->chain = NULL;
		out->txn = &t->base;
		t = NULL;
		rc = out->cert ? ISSUER_OK : ISSUER_E_NOMEM;
		goto out;
	}
	pthread_join(t->th, NULL);
	log_wire(t);
	rc = t->refused ? ISSUER_E_REJECTED : ISSUER_E_UNAVAILABLE;
	snprintf(out->detail, sizeof out->detail, "%.*s", (int)sizeof out->detail - 1, t->err);
	memcpy(out->status_text, t->status_text, sizeof out->status_text);
	out->fail_info = t->fail_info;
out:
	if (t)
		txn_free(t);
	X509_REQ_free(req);
	ERR_clear_error();
	return rc;
}

/* A revocation request (rr) for cert, reason cessationOfOperation (the key is not where the
 * certificate says), protected with the standing MAC order: a download's one-time order is
 * spent and wiped by now. */
static issuer_err ci_revoke(struct issuer *is, X509 *cert, char *detail, size_t cap)
{
	struct cmp_issuer *ci = (struct cmp_issuer *)is;
	if (!ci->mac) {
		snprintf(detail, cap,
			 "no standing MAC order (--issuer-cmp-mac-file) to protect an rr");
		return ISSUER_E_ENROLLMENT;
	}
	OSSL_CMP_CTX *ctx = base_ctx(ci, ci->mac, ci->mac + strlen(ci->mac) + 1);
	issuer_err rc = ISSUER_E_NOMEM;
	if (!ctx || !OSSL_CMP_CTX_set1_oldCert(ctx, cert) ||
	    !OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_REVOCATION_REASON,
				     CRL_REASON_CESSATION_OF_OPERATION))
		goto out;
	if (OSSL_CMP_exec_RR_ses(ctx) == 1) {
		rc = ISSUER_OK;
		goto out;
	}
	struct txn t = { .ctx = ctx, .last_rsp = -1 };
	describe_failure(&t);
	snprintf(detail, cap, "rr: %s", t.err);
	rc = t.refused ? ISSUER_E_REJECTED : ISSUER_E_UNAVAILABLE;
out:
	OSSL_CMP_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

static bool ci_is_test(const struct issuer *is)
{
	return ((const struct cmp_issuer *)is)->test;
}

static const char *ci_name(const struct issuer *is)
{
	(void)is;
	return "cmp";
}

static enum issuer_protection ci_protection(const struct issuer *is)
{
	return ((const struct cmp_issuer *)is)->signature ? ISSUER_PROT_SIGNATURE : ISSUER_PROT_MAC;
}

static void ci_destroy(struct issuer *is)
{
	struct cmp_issuer *ci = (struct cmp_issuer *)is;
	if (!ci)
		return;
	OPENSSL_free(ci->host);
	OPENSSL_free(ci->port);
	OPENSSL_free(ci->path);
	X509_STORE_free(ci->trusted);
	SSL_CTX_free(ci->tls.ssl);
	if (ci->mac)
		OPENSSL_cleanse(ci->mac, ci->mac_len);
	free(ci->mac);
	free(ci);
}

static const struct issuer_ops cmp_ops = {
	.issue = ci_issue,
	.revoke = ci_revoke,
	.is_test = ci_is_test,
	.name = ci_name,
	.protection = ci_protection,
	.destroy = ci_destroy,
};

/* The TLS client context of an https URL: TLS 1.2 or later, the server verified against the
 * PEM anchors in file only (no system store: the organisation names its CA's TLS trust). */
static issuer_err tls_open(struct cmp_issuer *ci, const char *file)
{
	if (!file) {
		log_error("issuer", "cmp: an https URL needs --issuer-cmp-tls-trusted");
		return ISSUER_E_CONFIG;
	}
	if (!(ci->tls.ssl = SSL_CTX_new(TLS_client_method())) ||
	    !SSL_CTX_set_min_proto_version(ci->tls.ssl, TLS1_2_VERSION) ||
	    !SSL_CTX_load_verify_file(ci->tls.ssl, file)) {
		log_error("issuer", "cmp: cannot read the TLS trust anchors %s", file);
		return ISSUER_E_CONFIG;
	}
	SSL_CTX_set_verify(ci->tls.ssl, SSL_VERIFY_PEER, NULL);
	ci->tls.host = ci->host;
	return ISSUER_OK;
}

static issuer_err parse_url(struct cmp_issuer *ci, const char *url, const char *tls_trusted)
{
	int tls = 0;
	if (!OSSL_HTTP_parse_url(url, &tls, NULL, &ci->host, &ci->port, NULL, &ci->path, NULL,
				 NULL)) {
		log_error("issuer", "cmp: not an http[s]://HOST:PORT/PATH URL: %.120s", url);
		return ISSUER_E_CONFIG;
	}
	return tls ? tls_open(ci, tls_trusted) : ISSUER_OK;
}

/* The standing MAC order: the n bytes at text, one line "REFERENCE:SECRET" (a newline at the end
 * is fine), into ci->mac as "REFERENCE\0SECRET". what names its source in the error. */
static issuer_err set_order(struct cmp_issuer *ci, const char *text, size_t n, const char *what)
{
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	const char *colon = n > 0 ? memchr(text, ':', n) : NULL;
	if (!colon || colon == text || colon == text + n - 1 || memchr(text, '\0', n) ||
	    memchr(text, '\n', n)) {
		log_error("issuer", "cmp: %s: expected one line REFERENCE:SECRET", what);
		return ISSUER_E_CONFIG;
	}
	ci->mac_len = n + 1;
	if (!(ci->mac = malloc(ci->mac_len)))
		return ISSUER_E_NOMEM;
	memcpy(ci->mac, text, n);
	ci->mac[colon - text] = '\0';
	ci->mac[n] = '\0';
	return ISSUER_OK;
}

/* Reads the standing MAC order of path. A file others may read is refused: the secret lets
 * anyone enroll under the RA's name. */
static issuer_err read_mac_file(struct cmp_issuer *ci, const char *path)
{
	char buf[MAC_FILE_MAX + 1], what[80];
	struct stat st;
	ssize_t n = -1;
	issuer_err rc = ISSUER_E_CONFIG;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0 || (st.st_mode & 077)) {
		log_error("issuer", "cmp: MAC file %s: unreadable, or readable by others", path);
		goto out;
	}
	n = read(fd, buf, MAC_FILE_MAX);
	snprintf(what, sizeof what, "MAC file %.60s", path);
	rc = set_order(ci, buf, n > 0 ? (size_t)n : 0, what);
out:
	OPENSSL_cleanse(buf, sizeof buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

issuer_err issuer_cmp_open(const struct issuer_cmp_cfg *c, struct issuer **out)
{
	if (!c || !c->url || !out)
		return ISSUER_E_ARG;
	*out = NULL;
	struct cmp_issuer *ci = calloc(1, sizeof *ci);
	if (!ci)
		return ISSUER_E_NOMEM;
	ci->base.ops = &cmp_ops;
	ci->test = c->test;
	ci->signature = c->signature;
	ci->msg_timeout = c->msg_timeout_s ? c->msg_timeout_s : DEFAULT_MSG_TIMEOUT;
	ci->total_timeout = c->total_timeout_s ? c->total_timeout_s : DEFAULT_TOTAL_TIMEOUT;
	issuer_err rc = parse_url(ci, c->url, c->tls_trusted);
	if (rc == ISSUER_OK && c->mac_file)
		rc = read_mac_file(ci, c->mac_file);
	else if (rc == ISSUER_OK && c->mac_order)
		rc = set_order(ci, c->mac_order, strlen(c->mac_order), "standing MAC order");
	if (rc == ISSUER_OK && c->trusted &&
	    (!(ci->trusted = X509_STORE_new()) || !X509_STORE_load_file(ci->trusted, c->trusted))) {
		log_error("issuer", "cmp: cannot read the trust anchors %s", c->trusted);
		rc = ISSUER_E_CONFIG;
	}
	if (rc == ISSUER_OK && c->signature && !c->trusted) {
		log_error("issuer",
			  "cmp: signature protection needs --issuer-cmp-trusted: the CA's "
			  "answers are then signed, not MAC-protected");
		rc = ISSUER_E_CONFIG;
	}
	if (rc != ISSUER_OK) {
		ci_destroy(&ci->base);
		ERR_clear_error();
		return rc;
	}
	log_info("issuer", "certificate issuer: CMP at %s (server's signature %s; %s)", c->url,
		 c->trusted ? "trusted from the configured anchors" : "not accepted: MAC only",
		 ci->signature     ? "requests signed with the card's authentication key"
			 : ci->mac ? "a standing MAC order when a download brings none"
				   : "each download brings its enrollment order");
	*out = &ci->base;
	return ISSUER_OK;
}
