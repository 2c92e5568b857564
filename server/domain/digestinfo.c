/* digestinfo.c — SHA-256 DigestInfo built with OpenSSL's X509_SIG (the ASN.1 type of
 * DigestInfo), so no hand-written DER prefix can drift from the standard. */
#include "digestinfo.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

static bool hash2(const void *a, size_t a_len, const void *b, size_t b_len, unsigned char md[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;
	bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
		(!a_len || EVP_DigestUpdate(c, a, a_len)) &&
		(!b_len || EVP_DigestUpdate(c, b, b_len)) && EVP_DigestFinal_ex(c, md, &n) &&
		n == 32;
	EVP_MD_CTX_free(c);
	return ok;
}

bool digestinfo_of_sha256(const unsigned char md[32], unsigned char out[DIGESTINFO_SHA256_LEN])
{
	X509_SIG *di = X509_SIG_new();
	X509_ALGOR *alg = NULL;
	ASN1_OCTET_STRING *dig = NULL;
	bool ok = false;
	if (!di)
		goto out;
	X509_SIG_getm(di, &alg, &dig);
	if (!X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) ||
	    !ASN1_OCTET_STRING_set(dig, md, 32))
		goto out;
	/* i2d into a caller buffer only after checking the size: it must be exactly 51 bytes. */
	if (i2d_X509_SIG(di, NULL) != DIGESTINFO_SHA256_LEN)
		goto out;
	unsigned char *p = out;
	ok = i2d_X509_SIG(di, &p) == DIGESTINFO_SHA256_LEN;
out:
	X509_SIG_free(di);
	return ok;
}

bool digestinfo_sha256(const void *a, size_t a_len, const void *b, size_t b_len,
		       unsigned char out[DIGESTINFO_SHA256_LEN])
{
	unsigned char md[32];
	return hash2(a, a_len, b, b_len, md) && digestinfo_of_sha256(md, out);
}
