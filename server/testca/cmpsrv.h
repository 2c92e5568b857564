/* cmpsrv.h — the CMP side of siths-test-ca (RFC 9483, the Lightweight CMP profile, on OpenSSL's
 * OSSL_CMP_SRV_CTX): a p10cr (the card's PKCS#10), or an ir/cr for a software key (its proof of
 * possession checked by OpenSSL's server), is issued by the embedded test CA (issuer_testca.h) for
 * the card's authentication certificate, which the client sends in extraCerts; certConf is honoured (a
 * rejected certificate is recorded as revoked in PKI_DIR/cmp-revoked.txt, as is one named in a
 * revocation request, rr); pollReq after "waiting".
 * Responses are MAC-protected with the configured reference and secret, else signed with
 * PKI_DIR/cmp-server.pem/.key; requests may be MAC- or signature-protected (the signer must chain
 * to the test root); bad_protection spoils the answers' protection on purpose. One transaction at
 * a time: calls must not overlap.
 * Ownership: the caller owns the server (cmpsrv_free) and each response (OPENSSL_free). */
#ifndef SITHS_CMPSRV_H
#define SITHS_CMPSRV_H

#include <stddef.h>

#include "issuer_testca.h"

typedef enum {
	CMPSRV_OK = 0,
	CMPSRV_E_NOMEM,
	CMPSRV_E_ARG,
	CMPSRV_E_CONFIG,  /* PKI directory, keys or the test CA unusable */
	CMPSRV_E_REQUEST, /* not a CMP message (DER), or no response could be made */
} cmpsrv_err;

const char *cmpsrv_strerror(cmpsrv_err e);

struct cmpsrv_opts {
	const char *pki_dir;              /* made by certs/test-siths-pki.sh */
	const char *mac_ref, *mac_secret; /* both or neither: MAC protection */
	enum issuer_testca_fault fault;   /* how the test CA misbehaves (issuer_testca.h) */
	unsigned delay_polls;             /* answer "waiting" to this many polls first */
	unsigned check_after;             /* seconds the client is told to wait between polls */
	const char *reject_text;          /* non-NULL: refuse every request with this text */
	unsigned reject_bits;             /* PKIFailureInfo bits of that refusal */
	/* Answers the client cannot verify: one bit of each answer's protection (MAC or signature)
	 * flipped after it was made. Requests are checked as usual. */
	bool bad_protection;
};

struct cmpsrv;

cmpsrv_err cmpsrv_new(const struct cmpsrv_opts *o, struct cmpsrv **out);
void cmpsrv_free(struct cmpsrv *s);

/* One CMP request (DER) in, its response (DER, *rsp_len bytes) out. A request that is a CMP
 * message always gets one, an error message if need be. */
cmpsrv_err cmpsrv_handle(struct cmpsrv *s, const unsigned char *req, size_t len,
			 unsigned char **rsp, size_t *rsp_len);

#endif
