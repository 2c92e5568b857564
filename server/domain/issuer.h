/* issuer.h — the one interface between the signature-certificate job and whoever issues the
 * certificate: the embedded test CA (issuer_test.c, `--test-issuer DIR`) today, a production
 * EST (RFC 7030) client later, added as another `struct issuer_ops` without touching the job.
 * The job validates whatever comes back (certcheck.h); an issuer is not trusted to be right.
 * Ownership: the caller owns the issuer (issuer_destroy) and the result (issue_result_free). */
#ifndef SITHS_ISSUER_H
#define SITHS_ISSUER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

typedef enum {
	ISSUER_OK = 0,
	ISSUER_E_NOMEM,
	ISSUER_E_ARG,              /* NULL or inconsistent arguments */
	ISSUER_E_CONFIG,           /* CA files missing, unreadable, malformed, key not matching */
	ISSUER_E_NO_SESSION,       /* not issued without a logged-in session of this card */
	ISSUER_E_CSR_MALFORMED,    /* the request is not a PKCS#10 DER */
	ISSUER_E_CSR_SIGNATURE,    /* the request's signature does not verify */
	ISSUER_E_SUBJECT,          /* the request's subject differs from the authentication cert's */
	ISSUER_E_AUTH_CERT,        /* the auth certificate is not from this issuer's CA */
	ISSUER_E_TRUST_LEVEL,      /* no CA for the card's trust level */
	ISSUER_E_CARD_VALIDITY,    /* the card (auth certificate) is expired: nothing to issue */
	ISSUER_E_UNAVAILABLE,      /* the issuer could not be reached or failed (EST, fault injection) */
	ISSUER_E_REJECTED,         /* the issuer refused the request */
	ISSUER_E_INTERNAL,         /* unexpected library failure */
} issuer_err;

const char *issuer_strerror(issuer_err e);
/* snake_case for JSON job-failed codes, e.g. "issuer_unavailable". Never NULL. */
const char *issuer_errcode(issuer_err e);

/* What the job knows about the request. All pointers are borrowed for the call. */
struct issue_ctx {
	const char *card_id;
	bool session_ok;          /* the job checked a valid login session of this card */
	const X509 *auth_cert;    /* the card's authentication certificate */
	time_t card_not_after;    /* end of the card's validity; 0 = the auth cert's notAfter */
	int trust_level;          /* SITHS trust level of the card: 2 or 3 */
};

struct issue_result {
	X509 *cert;               /* the new signature certificate */
	STACK_OF(X509) *chain;    /* issuing CA first, up to (and including) the root if known */
	char detail[200];         /* human detail of a failure (never secrets), "" if none */
};

void issue_result_free(struct issue_result *r);  /* frees members, keeps r; NULL is fine */

struct issuer;

struct issuer_ops {
	/* csr_der: the PKCS#10 request from csr_build(). On ISSUER_OK out->cert and out->chain
	 * are set; on error they stay NULL and out->detail may say more. */
	issuer_err (*issue)(struct issuer *is, const unsigned char *csr_der, size_t csr_len,
			    const struct issue_ctx *ctx, struct issue_result *out);
	bool (*is_test)(const struct issuer *is);     /* for /health and the page's Test marker */
	const char *(*name)(const struct issuer *is); /* for /health and logs, e.g. "test" */
	void (*destroy)(struct issuer *is);
};

/* Implementations embed this as their first member. */
struct issuer {
	const struct issuer_ops *ops;
};

/* Thin dispatchers; they tolerate NULL where it makes sense (is_test(NULL) = false). */
issuer_err issuer_issue(struct issuer *is, const unsigned char *csr_der, size_t csr_len,
			const struct issue_ctx *ctx, struct issue_result *out);
bool issuer_is_test(const struct issuer *is);
const char *issuer_name(const struct issuer *is);
void issuer_destroy(struct issuer *is);

/* --- The embedded development CA (issuer_test.c) --------------------------------------------
 * Loads the test SITHS hierarchy made by `certs/test-siths-pki.sh DIR` (file names in
 * issuer_test.c): the person CA cert + key for trust levels 3 and 2 (at least one) and the root.
 * Issues signature certificates like SITHS: subject of the auth certificate, its UPN and e-mail
 * in SAN, keyUsage nonRepudiation (critical) only, the auth certificate's policies, validity
 * capped at the card's, random serial, SKI/AKI.
 * A fault makes it misbehave on purpose so tests can prove the job refuses bad answers. */
enum issuer_test_fault {
	ISSUER_FAULT_NONE = 0,
	ISSUER_FAULT_FAIL,          /* every issue() fails with ISSUER_E_UNAVAILABLE */
	ISSUER_FAULT_OTHER_KEY,     /* certificate for a fresh key instead of the CSR's */
	ISSUER_FAULT_OTHER_SUBJECT, /* another HSA-id in the subject */
	ISSUER_FAULT_OTHER_CHAIN,   /* signed by a throw-away CA outside the SITHS hierarchy */
	ISSUER_FAULT_EXPIRED,       /* validity ended yesterday */
	ISSUER_FAULT_KEY_USAGE,     /* keyUsage digitalSignature instead of nonRepudiation */
};

/* "none", "fail", "other-key", "other-subject", "other-chain", "expired", "key-usage".
 * Returns -1 for an unknown name. */
int issuer_test_fault_parse(const char *name);

/* *out is owned by the caller (issuer_destroy). Logs a warning that a test issuer is active. */
issuer_err issuer_test_open(const char *dir, enum issuer_test_fault fault, struct issuer **out);

#endif
