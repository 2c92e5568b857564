/* fuzz_certcheck.c — the last gate before the card is written (server/domain/certcheck.c):
 * input = two chunks (fz_chunks.h), the card's authentication certificate and the issued
 * signature certificate, both DER. The card's key is taken as the candidate's own, so the
 * checks after the key check run too. Trust: the test PKI's root, its intermediates as the
 * issuer's chain (SITHS_FUZZ_PKI). An accepted certificate must chain to that root. */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certcheck.h"
#include "fz_chunks.h"

#define NOW 1767225600 /* 2026-01-01: inside the test PKI's and the seed card's validity */

static struct certcheck_trust *trust;
static STACK_OF(X509) * chain;

static void load_chain(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	while (f && (x = PEM_read_X509(f, NULL, NULL, NULL)))
		sk_X509_push(chain, x);
	if (f)
		fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *pki = getenv("SITHS_FUZZ_PKI");
	char path[1024];
	if (!pki) {
		fprintf(stderr,
			"fuzz_certcheck: SITHS_FUZZ_PKI (the test PKI folder) is not set\n");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/root-ca.pem", pki);
	if (certcheck_trust_load(path, &trust) != CERTCHECK_OK || !(chain = sk_X509_new_null())) {
		fprintf(stderr, "fuzz_certcheck: %s does not load\n", path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/person-2-ca.pem", pki);
	load_chain(path);
	snprintf(path, sizeof(path), "%s/person-3-ca.pem", pki);
	load_chain(path);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_chunks in = { data, size };
	const uint8_t *a, *c;
	size_t an, cn;
	if (!fz_next(&in, &a, &an) || !fz_next(&in, &c, &cn))
		return 0;
	X509 *auth = d2i_X509(NULL, &a, (long)an), *cert = d2i_X509(NULL, &c, (long)cn);
	if (auth && cert) {
		struct certcheck_in ci = { .cert = cert,
					   .chain = chain,
					   .card_key = X509_get0_pubkey(cert),
					   .auth_cert = auth,
					   .now = NOW };
		char detail[256];
		if (ci.card_key)
			(void)certcheck_signature_cert(trust, &ci, detail, sizeof(detail));
	}
	X509_free(auth);
	X509_free(cert);
	return 0;
}
