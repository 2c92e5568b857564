/* issuer_cmp.h — a production issuer of issuer.h: an enrollment at a CA over CMP (RFC 9483, the
 * Lightweight CMP profile, with OpenSSL's client). The card's PKCS#10 goes unchanged in a p10cr
 * with the card's authentication certificate in extraCerts, MAC-protected with the enrollment
 * order's reference and one-time secret (issue_ctx) or a standing one (mac_file), or signed with
 * the card's authentication key (signature; the card signs on the caller's thread, cardkey.h);
 * the server's answers must be protected by the same secret or signed by a certificate that
 * chains to the configured trust. "waiting" is
 * followed with pollReq. The certificate is confirmed (certConf) only through issuer_confirm(),
 * after it is on the card; meanwhile the transaction stays open on a thread of its own.
 * Ownership: the caller owns the issuer (issuer_destroy); the config is copied. */
#ifndef SITHS_ISSUER_CMP_H
#define SITHS_ISSUER_CMP_H

#include "issuer.h"

struct issuer_cmp_cfg {
	/* http[s]://HOST:PORT/PATH (e.g. an EJBCA alias https://ca/ejbca/publicweb/cmp/A) */
	const char *url;
	const char *trusted;     /* PEM: trust anchors of the server's signature; NULL = MAC only */
	const char *tls_trusted; /* PEM: trust anchors of an https server's TLS certificate */
	/* A file of one line REFERENCE:SECRET (mode 0600 or stricter): the MAC used when a download
	 * brings no enrollment order of its own (a test CA, an alias with one shared secret). Read
	 * once at open, wiped at destroy; NULL = every download must bring its order. */
	const char *mac_file;
	/* The same order in memory, "REFERENCE:SECRET" (copied; the caller wipes its own), when
	 * mac_file is NULL: one the daemon made for a test CA it started itself. */
	const char *mac_order;
	/* Requests signed with the card's authentication key instead of a MAC (every download then
	 * brings PIN1: issue_ctx.auth_sign); the CA's answers must then be signed too, so this
	 * needs trusted. A MAC order, the standing one included, still protects an rr. */
	bool signature;
	/* The issued certificates chain to a test hierarchy only (certcheck_trust_is_test): the
	 * issuer is a test issuer (issuer_is_test, the page's Test marker). */
	bool test;
	unsigned msg_timeout_s;   /* one message's round trip; 0 = 30 */
	unsigned total_timeout_s; /* request to certificate, polling included; 0 = 300 */
};

/* ISSUER_E_CONFIG (logged) for a malformed URL, unreadable trust, an https URL without
 * tls_trusted, signature without trusted, or a MAC file that is unreadable, malformed or
 * readable by others. */
issuer_err issuer_cmp_open(const struct issuer_cmp_cfg *c, struct issuer **out);

/* The PKIBody name of CMP body type t ("p10cr", "cp", "certConf", …), "?" if unknown. */
const char *issuer_cmp_body_name(int t);

#endif
