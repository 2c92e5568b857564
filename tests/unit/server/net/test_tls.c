/* test_tls.c — net/tls.c, the listeners' one reader of the certificate and key: a good pair comes
 * back as the files' exact text; a missing file, a key of another certificate, a file that is not
 * PEM and a file over the limit are refused, with nothing left in the result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fx_pki.h"
#include "tls.h"

static char *dir;
static char cert[512], key[512], other_key[512], junk[512], big[512];

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = calloc(1, 1 << 16);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	dir = fx_tmpdir();
	snprintf(cert, sizeof cert, "%s/server.pem", dir);
	snprintf(key, sizeof key, "%s/server.key", dir);
	snprintf(other_key, sizeof other_key, "%s/other.key", dir);
	snprintf(junk, sizeof junk, "%s/junk.pem", dir);
	snprintf(big, sizeof big, "%s/big.pem", dir);
	EVP_PKEY *k = fx_key(0), *k2 = fx_key(1);
	struct fx_cert c = { .cn = "localhost", .key = k };
	X509 *x = fx_make_cert(&c);
	fx_write_cert_pem(cert, x);
	fx_write_key_pem(key, k);
	fx_write_key_pem(other_key, k2);
	fx_write_file(junk, "not a certificate\n", 18);
	char *b = malloc((1 << 20) + 100);
	assert_non_null(b);
	memset(b, 'A', (1 << 20) + 100);
	fx_write_file(big, b, (1 << 20) + 100);
	free(b);
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	return 0;
}

static int teardown(void **state)
{
	fx_run("rm -rf '%s'", dir);
	free(dir);
	return fx_pki_teardown(state);
}

static void good_pair(void **state)
{
	(void)state;
	struct tls_pair p;
	size_t cl, kl;
	char *c = slurp(cert, &cl), *k = slurp(key, &kl);
	assert_int_equal(tls_pair_load("test", cert, key, &p), TLS_OK);
	assert_int_equal(p.cert_len, cl);
	assert_memory_equal(p.cert, c, cl);
	assert_int_equal(p.cert[p.cert_len], '\0');
	assert_int_equal(p.key_len, kl);
	assert_memory_equal(p.key, k, kl);
	assert_int_equal(p.key[p.key_len], '\0');
	tls_pair_free(&p);
	assert_null(p.cert);
	assert_null(p.key);
	tls_pair_free(&p); /* again: harmless */
	free(c);
	free(k);
}

static void refused(void **state)
{
	(void)state;
	static const struct {
		const char *cert, *key;
		tls_err want;
	} cases[] = {
		{ NULL, NULL, TLS_E_FILE },
		{ NULL, key, TLS_E_FILE },
		{ cert, NULL, TLS_E_FILE },
		{ "/nonexistent/server.pem", key, TLS_E_FILE },
		{ cert, "/nonexistent/server.key", TLS_E_FILE },
		{ big, key, TLS_E_FILE },
		{ cert, other_key, TLS_E_PAIR },
		{ junk, key, TLS_E_PAIR },
		{ cert, junk, TLS_E_PAIR },
		{ key, cert, TLS_E_PAIR },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tls_pair p;
		memset(&p, 0x5a, sizeof p);
		if (tls_pair_load("test", cases[i].cert, cases[i].key, &p) != cases[i].want)
			fail_msg("case %zu: not refused as expected", i);
		assert_null(p.cert);
		assert_null(p.key);
		assert_int_equal(p.cert_len + p.key_len, 0);
	}
	assert_string_not_equal(tls_strerror(TLS_E_FILE), tls_strerror(TLS_E_PAIR));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_pair),
		cmocka_unit_test(refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
