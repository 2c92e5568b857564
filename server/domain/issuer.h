/* issuer.h — the one interface between the signature-certificate job and whoever issues the
 * certificate: the embedded test CA (issuer_testca.h, `--test-issuer DIR`) and a CA over CMP
 * (issuer_cmp.h), each a `struct issuer_ops`; another protocol is one more without touching the job.
 * The job validates whatever comes back (certcheck.h); an issuer is not trusted to be right.
 * Ownership: the caller owns the issuer (issuer_destroy) and the result (issue_result_free). */
#ifndef SITHS_ISSUER_H
#define SITHS_ISSUER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "csr.h"

typedef enum {
	ISSUER_OK = 0,
	ISSUER_E_NOMEM,
	ISSUER_E_ARG,           /* NULL or inconsistent arguments */
	ISSUER_E_CONFIG,        /* CA files missing, unreadable, malformed, key not matching */
	ISSUER_E_NO_SESSION,    /* not issued without a logged-in session of this card */
	ISSUER_E_CSR_MALFORMED, /* the request is not a PKCS#10 DER */
	ISSUER_E_CSR_SIGNATURE, /* the request's signature does not verify */
	ISSUER_E_SUBJECT,       /* the request's subject differs from the authentication cert's */
	ISSUER_E_AUTH_CERT,     /* the auth certificate is not from this issuer's CA */
	ISSUER_E_TRUST_LEVEL,   /* no CA for the card's trust level */
	ISSUER_E_CARD_VALIDITY, /* the card (auth certificate) is expired: nothing to issue */
	ISSUER_E_UNAVAILABLE, /* the issuer could not be reached or failed (EST, fault injection) */
	ISSUER_E_REJECTED,    /* the issuer refused the request */
	ISSUER_E_INTERNAL,    /* unexpected library failure */
	ISSUER_E_ENROLLMENT,  /* the issuer needs an enrollment order (reference and secret) */
} issuer_err;

const char *issuer_strerror(issuer_err e);
/* snake_case for JSON job-failed codes, e.g. "issuer_unavailable". Never NULL. */
const char *issuer_errcode(issuer_err e);

/* What the job knows about the request. All pointers are borrowed for the call. */
struct issue_ctx {
	const char *card_id;
	/* The enrollment order the portal handed over with the download (a CMP issuer's MAC
	 * reference and one-time secret); NULL when there is none. Never logged. */
	const char *enroll_ref, *enroll_secret;
	/* Called on the caller's thread while the issuer answers "waiting" (CMP polling); may be
	 * NULL. */
	void (*waiting)(void *user);
	void *waiting_user;
	/* Signs a DigestInfo with the card's authentication key (PIN1 verified in the caller's card
	 * session), for an issuer whose protection is ISSUER_PROT_SIGNATURE; NULL otherwise. Called
	 * on the caller's thread only, during issuer_issue() and, for an issuance it must confirm,
	 * again during issuer_confirm() or issue_result_free() of the result: the caller keeps it
	 * valid until then (the job does all three inside its card session). */
	csr_sign_fn auth_sign;
	void *auth_sign_user;
	bool session_ok;       /* the job checked a valid login session of this card */
	const X509 *auth_cert; /* the card's authentication certificate */
	time_t card_not_after; /* end of the card's validity; 0 = the auth cert's notAfter */
	int trust_level;       /* SITHS trust level of the card: 2 or 3 */
};

/* An issuance the issuer still waits to hear about (CMP certConf): ended by issuer_confirm(). */
struct issuer_txn;
struct issuer_txn_ops {
	/* Accepted: the certificate is on the card; else why (for the CA) it is not. Frees t. */
	issuer_err (*finish)(struct issuer_txn *t, bool accepted, const char *why, char *detail,
			     size_t cap);
};
struct issuer_txn {
	const struct issuer_txn_ops *ops;
};

struct issue_result {
	X509 *cert;             /* the new signature certificate */
	STACK_OF(X509) * chain; /* issuing CA first, up to (and including) the root if known */
	char detail[200];       /* human detail of a failure (never secrets), "" if none */
	/* A refusal (ISSUER_E_REJECTED) in the CA's own terms: its status text ("" if none) and
	 * PKIFailureInfo bits (1 << OSSL_CMP_PKIFAILUREINFO_*, RFC 9810; 0 if none). */
	char status_text[160];
	unsigned fail_info;
	struct issuer_txn *txn; /* NULL, or the issuer waits for issuer_confirm() */
};

/* The RFC 9810 name of PKIFailureInfo bit b ("badRequest", …), NULL if there is none. */
const char *issuer_failinfo_name(int b);

/* Frees members, keeps r; NULL is fine. An unconfirmed issuance is rejected first: a certificate
 * nobody confirmed is not on the card. */
void issue_result_free(struct issue_result *r);

/* Tells the issuer whether the certificate of r ended up on the card (after it was written and
 * read back); a rejection makes the CA revoke it. ISSUER_OK when the issuer took note (or needs no
 * confirmation), else why not in r->detail. Once per result. */
issuer_err issuer_confirm(struct issue_result *r, bool accepted, const char *why);

struct issuer;

/* How an issuer's messages to its CA are protected: not at all (the embedded test CA, no
 * protocol), by a MAC (an enrollment order's secret, or a standing one), or signed with the
 * card's authentication key (a download then needs PIN1 as well: issue_ctx.auth_sign). */
enum issuer_protection { ISSUER_PROT_NONE, ISSUER_PROT_MAC, ISSUER_PROT_SIGNATURE };

/* "none", "mac", "signature": /health's issuer.protection. */
const char *issuer_protection_name(enum issuer_protection p);

struct issuer_ops {
	/* csr_der: the PKCS#10 request from csr_build(). On ISSUER_OK out->cert and out->chain
	 * are set; on error they stay NULL and out->detail may say more. */
	issuer_err (*issue)(struct issuer *is, const unsigned char *csr_der, size_t csr_len,
			    const struct issue_ctx *ctx, struct issue_result *out);
	/* Asks the CA to revoke cert, which it issued and was told is on the card, but is not (the
	 * card came back without it). Blocks for the round trip. NULL: the issuer cannot. */
	issuer_err (*revoke)(struct issuer *is, X509 *cert, char *detail, size_t cap);
	bool (*is_test)(const struct issuer *is);     /* for /health and the page's Test marker */
	const char *(*name)(const struct issuer *is); /* for /health and logs, e.g. "test" */
	/* NULL: ISSUER_PROT_NONE. */
	enum issuer_protection (*protection)(const struct issuer *is);
	void (*destroy)(struct issuer *is);
};

/* Implementations embed this as their first member. */
struct issuer {
	const struct issuer_ops *ops;
};

/* Thin dispatchers; they tolerate NULL where it makes sense (is_test(NULL) = false). */
issuer_err issuer_issue(struct issuer *is, const unsigned char *csr_der, size_t csr_len,
			const struct issue_ctx *ctx, struct issue_result *out);
/* ISSUER_OK when the CA revoked cert; else why not in detail (ISSUER_E_UNAVAILABLE also for an
 * issuer that cannot revoke). */
issuer_err issuer_revoke(struct issuer *is, X509 *cert, char *detail, size_t cap);
bool issuer_is_test(const struct issuer *is);
const char *issuer_name(const struct issuer *is);
enum issuer_protection issuer_protection(const struct issuer *is);
void issuer_destroy(struct issuer *is);

#endif
