/* issuer_testca.h — the embedded development CA behind `--test-issuer DIR`, one implementation of
 * issuer.h. Loads the test SITHS hierarchy made by `certs/test-siths-pki.sh DIR` (file names in
 * issuer_testca.c): the person CA cert + key for trust levels 3 and 2 (at least one) and the root.
 * Issues signature certificates like SITHS: subject of the auth certificate, its UPN and e-mail
 * in SAN, keyUsage nonRepudiation (critical) only, the auth certificate's policies, validity
 * capped at the card's, random serial, SKI/AKI.
 * A fault makes it misbehave on purpose so tests can prove the job refuses bad answers. */
#ifndef SITHS_ISSUER_TESTCA_H
#define SITHS_ISSUER_TESTCA_H

#include "issuer.h"

enum issuer_testca_fault {
	ISSUER_TESTCA_FAULT_NONE = 0,
	ISSUER_TESTCA_FAULT_FAIL,          /* every issue() fails with ISSUER_E_UNAVAILABLE */
	ISSUER_TESTCA_FAULT_OTHER_KEY,     /* certificate for a fresh key instead of the CSR's */
	ISSUER_TESTCA_FAULT_OTHER_SUBJECT, /* another HSA-id in the subject */
	ISSUER_TESTCA_FAULT_OTHER_CHAIN, /* signed by a throw-away CA outside the SITHS hierarchy */
	ISSUER_TESTCA_FAULT_EXPIRED,     /* validity ended yesterday */
	ISSUER_TESTCA_FAULT_KEY_USAGE,   /* keyUsage digitalSignature instead of nonRepudiation */
};

/* "none", "fail", "other-key", "other-subject", "other-chain", "expired", "key-usage".
 * Returns -1 for an unknown name. */
int issuer_testca_fault_parse(const char *name);

/* The trust level (2 or 3) of the person CA that issued auth (name and signature), 0 if none of
 * is's CAs did: for a caller that only has the authentication certificate (siths-test-ca). is
 * must come from issuer_testca_open. */
int issuer_testca_level(const struct issuer *is, const X509 *auth);

/* Issues like issuer_issue() for a key and subject that come without a PKCS#10 (a CMP ir or cr,
 * whose proof of possession the CMP server verified): the same checks of ctx and of the subject,
 * and pub must be RSA of 2048 bits or more. pub is borrowed; out as for issuer_issue(). is must
 * come from issuer_testca_open. */
issuer_err issuer_testca_issue_key(struct issuer *is, const X509_NAME *subject, EVP_PKEY *pub,
				   const struct issue_ctx *ctx, struct issue_result *out);

/* *out is owned by the caller (issuer_destroy). Logs a warning that a test issuer is active. */
issuer_err issuer_testca_open(const char *dir, enum issuer_testca_fault fault, struct issuer **out);

#endif
