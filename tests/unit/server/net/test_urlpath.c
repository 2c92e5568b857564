/* test_urlpath.c — strict request-path decoding: every encoded trick is refused, decoding
 * happens once, and the output buffer is never overrun. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "urlpath.h"

static void decodes(void **state)
{
	(void)state;
	const char
		*cases[][2] = {
			{ "/", "/" },
			{ "/index.html", "/index.html" },
			{ "/a%20b/c", "/a b/c" },
			{ "/%3Cx%3E", "/<x>" },
			{ "/%252e%252e/x", "/%2e%2e/x" }, /* once only */
			{ "/a/", "/a/" },
			{ "/.well/x", "/.well/x" }, /* a dot name is not a dot segment (static.c hides it) */
			{ "/...", "/..." },
			{ "/%C3%A5", "/\xc3\xa5" },
		};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64];
		assert_int_equal(urlpath_decode(cases[i][0], out, sizeof out), URLPATH_OK);
		assert_string_equal(out, cases[i][1]);
	}
}

static void refuses(void **state)
{
	(void)state;
	const struct {
		const char *in;
		urlpath_err e;
	} cases[] = {
		{ "", URLPATH_E_NOT_ABSOLUTE },
		{ "index.html", URLPATH_E_NOT_ABSOLUTE },
		{ "%2findex.html", URLPATH_E_NOT_ABSOLUTE },
		{ "/%", URLPATH_E_BAD_ESCAPE },
		{ "/%2", URLPATH_E_BAD_ESCAPE },
		{ "/%zz", URLPATH_E_BAD_ESCAPE },
		{ "/%-1", URLPATH_E_BAD_ESCAPE },
		{ "/a%00.png", URLPATH_E_NUL },
		{ "/a%0a", URLPATH_E_CONTROL },
		{ "/a\tb", URLPATH_E_CONTROL },
		{ "/a%7f", URLPATH_E_CONTROL },
		{ "/..%2fetc", URLPATH_E_ENCODED_SLASH },
		{ "/a%2Fb", URLPATH_E_ENCODED_SLASH },
		{ "/a\\b", URLPATH_E_BACKSLASH },
		{ "/%5c..%5c", URLPATH_E_BACKSLASH },
		{ "/..", URLPATH_E_DOT_SEGMENT },
		{ "/../etc/passwd", URLPATH_E_DOT_SEGMENT },
		{ "/a/../b", URLPATH_E_DOT_SEGMENT },
		{ "/a/.", URLPATH_E_DOT_SEGMENT },
		{ "/./a", URLPATH_E_DOT_SEGMENT },
		{ "/%2e%2e/etc", URLPATH_E_ENCODED_PLAIN },
		{ "/%2E/a", URLPATH_E_ENCODED_PLAIN },
		{ "/.%2e", URLPATH_E_ENCODED_PLAIN },
		{ "/v1/%65vents", URLPATH_E_ENCODED_PLAIN },
		{ "/%41", URLPATH_E_ENCODED_PLAIN },
		{ "/a%7e", URLPATH_E_ENCODED_PLAIN },
		{ "/a%5f%2D", URLPATH_E_ENCODED_PLAIN },
		{ "//etc/passwd", URLPATH_E_EMPTY_SEGMENT },
		{ "/a//b", URLPATH_E_EMPTY_SEGMENT },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64] = "junk";
		urlpath_err e = urlpath_decode(cases[i].in, out, sizeof out);
		if (e != cases[i].e)
			fail_msg("'%s': got %s, want %s", cases[i].in, urlpath_strerror(e),
				 urlpath_strerror(cases[i].e));
		assert_string_equal(out, ""); /* never a half-decoded path */
	}
	char out[8];
	assert_int_equal(urlpath_decode(NULL, out, sizeof out), URLPATH_E_NOT_ABSOLUTE);
}

static void bounds(void **state)
{
	(void)state;
	char out[8];
	memset(out, 'X', sizeof out);
	assert_int_equal(urlpath_decode("/1234567", out, sizeof out), URLPATH_E_TOO_LONG);
	assert_int_equal(urlpath_decode("/123456", out, sizeof out), URLPATH_OK);
	assert_string_equal(out, "/123456");
	/* Escapes shrink: 3 input bytes for one output byte fit. */
	assert_int_equal(urlpath_decode("/%3C%3C%3C%3C%3C%3C", out, sizeof out), URLPATH_OK);
	assert_int_equal(urlpath_decode("/x", out, 0), URLPATH_E_TOO_LONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decodes),
		cmocka_unit_test(refuses),
		cmocka_unit_test(bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
