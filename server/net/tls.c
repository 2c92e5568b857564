/* tls.c — the one reader of the TLS files. They are read with stdio into buffers that are
 * copied (never realloc'ed) and wiped, because the key is a secret; OpenSSL then parses the
 * buffers, so the listeners get exactly what was checked. */
#include "tls.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "log.h"

#define TLS_FILE_MAX (1u << 20)

const char *tls_strerror(tls_err e)
{
	switch (e) {
	case TLS_OK: return "ok";
	case TLS_E_FILE: return "the certificate or key file cannot be read";
	case TLS_E_PAIR: return "the certificate and key are not a usable pair";
	}
	return "unknown TLS error";
}

static void wipe_free(char *p, size_t n)
{
	if (p) {
		OPENSSL_cleanse(p, n);
		free(p);
	}
}

/* Grows *buf to hold at least need bytes; the old buffer is wiped. false (errno set) on OOM or
 * over TLS_FILE_MAX. */
static bool grow(char **buf, size_t *cap, size_t used, size_t need)
{
	size_t c = *cap ? *cap : 8192;
	while (c < need)
		c *= 2;
	if (c == *cap)
		return true;
	if (c > TLS_FILE_MAX + 8192) {
		errno = EFBIG;
		return false;
	}
	char *b = malloc(c);
	if (!b)
		return false;
	if (*buf) {
		memcpy(b, *buf, used);
		wipe_free(*buf, used);
	}
	*buf = b;
	*cap = c;
	return true;
}

/* The whole file, NUL-terminated, into *out (*len bytes); errno says why on failure. */
static bool read_file(const char *path, char **out, size_t *len)
{
	FILE *f = path ? fopen(path, "re") : NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	bool ok = false;
	if (!f)
		return false;
	for (;;) {
		if (!grow(&buf, &cap, n, n + 4096 + 1))
			goto out;
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f))
		goto out;
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	ok = true;
out:
	wipe_free(buf, n);
	fclose(f);
	return ok;
}

/* The OpenSSL check of a pair in memory; *why names the failure. */
static bool pair_usable(const struct tls_pair *p, const char **why)
{
	BIO *cb = BIO_new_mem_buf(p->cert, (int)p->cert_len);
	BIO *kb = BIO_new_mem_buf(p->key, (int)p->key_len);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	bool ok = x && k && X509_check_private_key(x, k) == 1;
	if (!ok) {
		unsigned long err = ERR_peek_last_error();
		*why = !x     ? "no PEM certificate"
			: !k  ? "no PEM private key"
			: err ? ERR_reason_error_string(err)
			      : "the key does not match the certificate";
	}
	ERR_clear_error();
	EVP_PKEY_free(k);
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	return ok;
}

tls_err tls_pair_load(const char *component, const char *cert_file, const char *key_file,
		      struct tls_pair *out)
{
	const char *why = "no certificate or key file configured";
	tls_err e = TLS_E_FILE;
	memset(out, 0, sizeof(*out));
	if (!cert_file || !key_file)
		goto fail;
	if (!read_file(cert_file, &out->cert, &out->cert_len) ||
	    !read_file(key_file, &out->key, &out->key_len)) {
		why = strerror(errno);
		goto fail;
	}
	e = TLS_E_PAIR;
	if (!pair_usable(out, &why))
		goto fail;
	return TLS_OK;
fail:
	log_error(component, "certificate %s / key %s: %s", cert_file ? cert_file : "(none)",
		  key_file ? key_file : "(none)", why);
	tls_pair_free(out);
	return e;
}

void tls_pair_free(struct tls_pair *p)
{
	wipe_free(p->cert, p->cert_len);
	wipe_free(p->key, p->key_len);
	memset(p, 0, sizeof(*p));
}
