/* test_static.c — static file lookup below a root: index.html for "/", types by extension,
 * and refusals for symlinks (out of and inside the root), hidden files, directories, FIFOs and
 * unknown types. Uses a real temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "static.h"

static char base[] = "/tmp/test_static.XXXXXX";
static char root[300];
static static_root *r;

static void put(const char *rel, const char *text)
{
	char p[400];
	snprintf(p, sizeof p, "%s/%s", base, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_to(const char *target, const char *rel)
{
	char p[400];
	snprintf(p, sizeof p, "%s/%s", base, rel);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(base))
		return -1;
	char p[400];
	snprintf(root, sizeof root, "%s/www", base);
	mkdir(root, 0755);
	snprintf(p, sizeof p, "%s/www/sub", base);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/www/.hidden", base);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/www/pipe.txt", base);
	mkfifo(p, 0644);
	put("www/index.html", "<p>index</p>");
	put("www/app.js", "1");
	put("www/sub/index.html", "sub");
	put("www/sub/x.css", "a{}");
	put("www/.hidden/a.txt", "h");
	put("www/.env.txt", "h");
	put("www/run.sh", "x");
	put("secret.txt", "SECRET");
	link_to("../secret.txt", "www/leak.txt");
	link_to("..", "www/up");
	link_to("app.js", "www/alias.js");
	return static_open_root(root, &r) == STATIC_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	static_close_root(r);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static static_err open_path(const char *path, char *buf, size_t n, const char **ctype)
{
	int fd;
	off_t size;
	static_err e = static_open(r, path, &fd, &size, ctype);
	if (e == STATIC_OK) {
		ssize_t got = read(fd, buf, n - 1);
		assert_true(got >= 0 && got == size);
		buf[got] = '\0';
		close(fd);
	}
	return e;
}

static void serves(void **state)
{
	(void)state;
	char buf[64];
	const char *t;
	assert_int_equal(open_path("/", buf, sizeof buf, &t), STATIC_OK);
	assert_string_equal(buf, "<p>index</p>");
	assert_string_equal(t, "text/html; charset=utf-8");
	assert_int_equal(open_path("/app.js", buf, sizeof buf, &t), STATIC_OK);
	assert_string_equal(t, "text/javascript; charset=utf-8");
	assert_int_equal(open_path("/sub/", buf, sizeof buf, &t), STATIC_OK);
	assert_string_equal(buf, "sub");
	assert_int_equal(open_path("/sub/x.css", buf, sizeof buf, &t), STATIC_OK);
	assert_string_equal(t, "text/css; charset=utf-8");
}

static void refuses(void **state)
{
	(void)state;
	char buf[64];
	const char *t;
	const struct {
		const char *path;
		static_err e;
	} cases[] = {
		{ "/leak.txt", STATIC_E_SYMLINK },
		{ "/up/secret.txt", STATIC_E_SYMLINK },
		{ "/alias.js", STATIC_E_SYMLINK },
		{ "/.hidden/a.txt", STATIC_E_HIDDEN },
		{ "/.env.txt", STATIC_E_HIDDEN },
		{ "/run.sh", STATIC_E_BAD_TYPE },
		{ "/sub", STATIC_E_BAD_TYPE },
		{ "/nope.html", STATIC_E_NOT_FOUND },
		{ "/app.js/x.js", STATIC_E_NOT_FOUND },
		{ "/pipe.txt", STATIC_E_NOT_FOUND },
		{ "", STATIC_E_NOT_FOUND },
		{ "relative.html", STATIC_E_NOT_FOUND },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		static_err e = open_path(cases[i].path, buf, sizeof buf, &t);
		if (e != cases[i].e)
			fail_msg("'%s': got %s, want %s", cases[i].path, static_strerror(e),
				 static_strerror(cases[i].e));
	}
	/* A directory named like a file type is still not served (no listings). */
	char p[400];
	snprintf(p, sizeof p, "%s/www/dir.html", base);
	mkdir(p, 0755);
	assert_int_equal(open_path("/dir.html", buf, sizeof buf, &t), STATIC_E_NOT_FOUND);
}

static void types(void **state)
{
	(void)state;
	assert_string_equal(static_content_type("a.SVG"), "image/svg+xml");
	assert_string_equal(static_content_type("x/a.woff2"), "font/woff2");
	assert_string_equal(static_content_type("a.png"), "image/png");
	assert_string_equal(static_content_type("a.ico"), "image/x-icon");
	assert_string_equal(static_content_type("a.json"), "application/json");
	assert_null(static_content_type("a."));
	assert_null(static_content_type("noext"));
	assert_null(static_content_type("dir.js/noext"));
	assert_null(static_content_type("a.php"));
	static_root *x;
	assert_int_equal(static_open_root("/nonexistent/www", &x), STATIC_E_NOT_FOUND);
	assert_null(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serves),
		cmocka_unit_test(refuses),
		cmocka_unit_test(types),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
