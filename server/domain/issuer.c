/* issuer.c — the implementation-independent part of issuer.h: error texts and codes, result
 * cleanup and the dispatchers that call through an issuer's ops table. */
#include "issuer.h"

#include <stdio.h>

const char *issuer_strerror(issuer_err e)
{
	switch (e) {
	case ISSUER_OK: return "ok";
	case ISSUER_E_NOMEM: return "out of memory";
	case ISSUER_E_ARG: return "invalid argument";
	case ISSUER_E_CONFIG: return "issuer configuration (CA certificate or key) unusable";
	case ISSUER_E_NO_SESSION: return "no logged-in session for this card";
	case ISSUER_E_CSR_MALFORMED: return "certificate request is malformed";
	case ISSUER_E_CSR_SIGNATURE: return "certificate request signature does not verify";
	case ISSUER_E_SUBJECT:
		return "certificate request subject differs from the authentication certificate";
	case ISSUER_E_AUTH_CERT:
		return "authentication certificate was not issued by this issuer's CA";
	case ISSUER_E_TRUST_LEVEL: return "issuer has no CA for the card's trust level";
	case ISSUER_E_CARD_VALIDITY: return "the card's validity has ended";
	case ISSUER_E_UNAVAILABLE: return "issuer unavailable";
	case ISSUER_E_REJECTED: return "issuer rejected the request";
	case ISSUER_E_INTERNAL: return "internal issuer error";
	case ISSUER_E_ENROLLMENT:
		return "the download carried no enrollment order (reference and secret)";
	}
	return "unknown issuer error";
}

const char *issuer_errcode(issuer_err e)
{
	switch (e) {
	case ISSUER_OK: return "ok";
	case ISSUER_E_NOMEM: return "out_of_memory";
	case ISSUER_E_ARG: return "internal";
	case ISSUER_E_CONFIG: return "issuer_config";
	case ISSUER_E_NO_SESSION: return "login_required";
	case ISSUER_E_CSR_MALFORMED: return "csr_malformed";
	case ISSUER_E_CSR_SIGNATURE: return "csr_signature";
	case ISSUER_E_SUBJECT: return "csr_subject";
	case ISSUER_E_AUTH_CERT: return "auth_cert_foreign";
	case ISSUER_E_TRUST_LEVEL: return "trust_level_unsupported";
	case ISSUER_E_CARD_VALIDITY: return "card_expired";
	case ISSUER_E_UNAVAILABLE: return "issuer_unavailable";
	case ISSUER_E_REJECTED: return "issuer_rejected";
	case ISSUER_E_INTERNAL: return "internal";
	case ISSUER_E_ENROLLMENT: return "enrollment_required";
	}
	return "internal";
}

const char *issuer_failinfo_name(int b)
{
	static const char *const names[] = {
		"badAlg",
		"badMessageCheck",
		"badRequest",
		"badTime",
		"badCertId",
		"badDataFormat",
		"wrongAuthority",
		"incorrectData",
		"missingTimeStamp",
		"badPOP",
		"certRevoked",
		"certConfirmed",
		"wrongIntegrity",
		"badRecipientNonce",
		"timeNotAvailable",
		"unacceptedPolicy",
		"unacceptedExtension",
		"addInfoNotAvailable",
		"badSenderNonce",
		"badCertTemplate",
		"signerNotTrusted",
		"transactionIdInUse",
		"unsupportedVersion",
		"notAuthorized",
		"systemUnavail",
		"systemFailure",
		"duplicateCertReq",
	};
	return b >= 0 && (size_t)b < sizeof names / sizeof names[0] ? names[b] : NULL;
}

issuer_err issuer_confirm(struct issue_result *r, bool accepted, const char *why)
{
	if (!r)
		return ISSUER_E_ARG;
	struct issuer_txn *t = r->txn;
	r->txn = NULL;
	return t ? t->ops->finish(t, accepted, why, r->detail, sizeof r->detail) : ISSUER_OK;
}

void issue_result_free(struct issue_result *r)
{
	if (!r)
		return;
	if (r->txn)
		issuer_confirm(r, false, "the certificate was not put on the card");
	X509_free(r->cert);
	sk_X509_pop_free(r->chain, X509_free);
	r->cert = NULL;
	r->chain = NULL;
}

issuer_err issuer_issue(struct issuer *is, const unsigned char *csr_der, size_t csr_len,
			const struct issue_ctx *ctx, struct issue_result *out)
{
	if (!is || !csr_der || !csr_len || !ctx || !out)
		return ISSUER_E_ARG;
	out->cert = NULL;
	out->chain = NULL;
	out->txn = NULL;
	out->detail[0] = '\0';
	out->status_text[0] = '\0';
	out->fail_info = 0;
	return is->ops->issue(is, csr_der, csr_len, ctx, out);
}

issuer_err issuer_revoke(struct issuer *is, X509 *cert, char *detail, size_t cap)
{
	if (!is || !cert || !detail || !cap)
		return ISSUER_E_ARG;
	detail[0] = '\0';
	if (!is->ops->revoke) {
		snprintf(detail, cap, "issuer %s cannot revoke", is->ops->name(is));
		return ISSUER_E_UNAVAILABLE;
	}
	return is->ops->revoke(is, cert, detail, cap);
}

bool issuer_is_test(const struct issuer *is)
{
	return is && is->ops->is_test(is);
}

const char *issuer_protection_name(enum issuer_protection p)
{
	switch (p) {
	case ISSUER_PROT_NONE: return "none";
	case ISSUER_PROT_MAC: return "mac";
	case ISSUER_PROT_SIGNATURE: return "signature";
	}
	return "none";
}

enum issuer_protection issuer_protection(const struct issuer *is)
{
	return is && is->ops->protection ? is->ops->protection(is) : ISSUER_PROT_NONE;
}

const char *issuer_name(const struct issuer *is)
{
	return is ? is->ops->name(is) : "none";
}

void issuer_destroy(struct issuer *is)
{
	if (is)
		is->ops->destroy(is);
}
