/* test_config.c — command line and config file parsing: defaults, every option, loopback-only
 * listeners, malformed values, file syntax errors with line numbers, command line over file,
 * --allow-uid numbers and user names. */
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"

static char tmpdir[] = "/tmp/test_config.XXXXXX";

static const char *write_conf(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Runs cfg_parse_args on a NULL-terminated list (argv[0] added). */
static cfg_err parse(struct cfg *c, const char **why, ...)
{
	char *argv[32] = { "siths-bridge" };
	int argc = 1;
	va_list ap;
	va_start(ap, why);
	for (const char *a; (a = va_arg(ap, const char *)) && argc < 31;)
		argv[argc++] = (char *)a;
	va_end(ap);
	cfg_init(c);
	return cfg_parse_args(c, argc, argv, why);
}

static void defaults(void **state)
{
	(void)state;
	struct cfg c;
	const char *why = "x";
	assert_int_equal(parse(&c, &why, NULL), CFG_OK);
	assert_null(why);
	assert_string_equal(c.https.addr, "127.0.0.1");
	assert_int_equal(c.https.port, 29443);
	assert_string_equal(c.wss.addr, "127.0.0.1");
	assert_int_equal(c.wss.port, 29444);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_int_equal(c.n_allow_origins, 0);
	assert_int_equal(c.n_allow_uids, 0);
	assert_null(c.allow_uids);
	assert_true(c.max_body > 0 && c.max_header > 0 && c.conn_timeout_s > 0 &&
		    c.max_connections > 0);
	/* The daemon picks the idle exit's default (it depends on socket activation). */
	assert_int_equal(c.idle_exit_s, CFG_IDLE_EXIT_UNSET);
	cfg_free(&c);
}

static void all_options(void **state)
{
	(void)state;
	struct cfg c;
	const char *why;
	assert_int_equal(parse(&c, &why, "--https", "[::1]:8443", "--wss=localhost:0", "--cert",
			       "/c.pem", "--key", "/k.pem", "--www", "/w", "--allow-origin",
			       "https://a.example", "--allow-origin", "http://[::1]:3000",
			       "--log-level", "debug", "--max-body", "1000", "--conn-timeout", "5",
			       "--max-per-ip", "3", "--test-issuer", "/pki", "--idle-exit", "0",
			       NULL),
			 CFG_OK);
	assert_string_equal(c.https.addr, "::1");
	assert_int_equal(c.https.port, 8443);
	assert_string_equal(c.wss.addr, "127.0.0.1");
	assert_int_equal(c.wss.port, 0);
	assert_string_equal(c.cert_file, "/c.pem");
	assert_string_equal(c.key_file, "/k.pem");
	assert_string_equal(c.www_dir, "/w");
	assert_string_equal(c.test_issuer_dir, "/pki");
	assert_int_equal(c.n_allow_origins, 2);
	assert_string_equal(c.allow_origins[1], "http://[::1]:3000");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_int_equal(c.max_body, 1000);
	assert_int_equal(c.conn_timeout_s, 5);
	assert_int_equal(c.max_per_ip, 3);
	assert_int_equal(c.idle_exit_s, 0);
	cfg_free(&c);
}

static void not_loopback(void **state)
{
	(void)state;
	const char *bad[] = { "0.0.0.0:1",   "192.168.1.2:443",      "[::]:1",      "example.com:1",
			      "127.0.0.2:1", "[::ffff:127.0.0.1]:1", "localhost.:1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cfg c;
		const char *why = NULL;
		assert_int_equal(parse(&c, &why, "--wss", bad[i], NULL), CFG_E_NOT_LOOPBACK);
		assert_non_null(why);
		assert_non_null(strstr(why, "127.0.0.1"));
		cfg_free(&c);
	}
}

static void bad_values(void **state)
{
	(void)state;
	const char *cases[][2] = {
		{ "--https", "127.0.0.1" },
		{ "--https", "127.0.0.1:" },
		{ "--https", "127.0.0.1:65536" },
		{ "--https", "127.0.0.1:-1" },
		{ "--https", "127.0.0.1:1x" },
		{ "--https", ":80" },
		{ "--https", "127.0.0.1: 80" },
		{ "--log-level", "loud" },
		{ "--max-body", "-5" },
		{ "--max-body", "0" },
		{ "--max-body", "1e6" },
		{ "--conn-timeout", "" },
		{ "--idle-exit", "86401" },
		{ "--idle-exit", "-1" },
		{ "--max-connections", "99999999999999999999" },
		{ "--allow-origin", "*" },
		{ "--allow-origin", "null" },
		{ "--allow-origin", "https://a/" },
		{ "--allow-origin", "ftp://a" },
		{ "--allow-origin", "https://u@a" },
		{ "--allow-origin", "https://a:0" },
		{ "--allow-origin", "https://" },
		{ "--cert", "" },
		{ "--allow-uid", "" },
		{ "--allow-uid", "12x" },
		{ "--allow-uid", "4294967295" },
		{ "--allow-uid", "99999999999999999999" },
		{ "--allow-uid", "-1" },
		{ "--allow-uid", "no-such-user-siths-test" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cfg c;
		const char *why = NULL;
		cfg_err e = parse(&c, &why, cases[i][0], cases[i][1], NULL);
		if (e != CFG_E_VALUE && e != CFG_E_NOT_LOOPBACK)
			fail_msg("%s %s: got %s", cases[i][0], cases[i][1], cfg_strerror(e));
		assert_non_null(why);
		cfg_free(&c);
	}
}

static void usage_errors(void **state)
{
	(void)state;
	struct cfg c;
	const char *why = NULL;
	assert_int_equal(parse(&c, &why, "--bogus", NULL), CFG_E_USAGE);
	assert_non_null(strstr(why, "--bogus"));
	cfg_free(&c);
	assert_int_equal(parse(&c, &why, "--cert", NULL), CFG_E_USAGE);
	cfg_free(&c);
	assert_int_equal(parse(&c, &why, "extra", NULL), CFG_E_USAGE);
	cfg_free(&c);
}

/* The system file, then the user's own if it exists: the later file wins, key by key. */
static void user_file_over_system_file(void **state)
{
	(void)state;
	char sys[256], missing[256];
	snprintf(sys, sizeof sys, "%s",
		 write_conf("system.conf",
			    "https = 127.0.0.1:1000\n"
			    "wss = 127.0.0.1:1001\n"
			    "allow-origin = https://a.example\n"));
	snprintf(missing, sizeof missing, "%s/no-such.conf", tmpdir);
	const char *user = write_conf("user.conf",
				      "wss = 127.0.0.1:2001\n"
				      "allow-origin = https://b.example\n");
	struct cfg c;
	const char *why;
	assert_int_equal(parse(&c, &why, "--config", sys, "--config-if-present", user, NULL),
			 CFG_OK);
	assert_int_equal(c.https.port, 1000);
	assert_int_equal(c.wss.port, 2001);
	assert_int_equal(c.n_allow_origins, 1);
	assert_string_equal(c.allow_origins[0], "https://b.example");
	cfg_free(&c);
	assert_int_equal(parse(&c, &why, "--config", sys, "--config-if-present", missing, NULL),
			 CFG_OK);
	assert_int_equal(c.wss.port, 1001);
	cfg_free(&c);
	/* Only --config-if-present forgives a missing file; a file cannot name another. */
	assert_int_equal(parse(&c, &why, "--config", missing, NULL), CFG_E_FILE);
	cfg_free(&c);
	const char *nested = write_conf("nested.conf", "config-if-present = /etc/passwd\n");
	assert_int_equal(parse(&c, &why, "--config", nested, NULL), CFG_E_FILE);
	assert_non_null(strstr(why, "unknown key 'config-if-present'"));
	cfg_free(&c);
}

static void file_ok_and_overridden(void **state)
{
	(void)state;
	const char *p = write_conf("ok.conf",
				   "# comment\n\n  https = 127.0.0.1:1234  \r\n"
				   "wss=[::1]:0\nallow-origin = https://a.example\n"
				   "allow-origin = https://b.example:8443\nmax-body = 2048\n"
				   "\tlog-level = warn\nidle-exit = 120\n");
	struct cfg c;
	const char *why;
	assert_int_equal(parse(&c, &why, "--config", p, NULL), CFG_OK);
	assert_int_equal(c.https.port, 1234);
	assert_string_equal(c.wss.addr, "::1");
	assert_int_equal(c.n_allow_origins, 2);
	assert_int_equal(c.max_body, 2048);
	assert_int_equal(c.log_level, LOG_LVL_WARN);
	assert_int_equal(c.idle_exit_s, 120);
	cfg_free(&c);

	/* The command line wins, wherever --config stands; its origins replace the file's. */
	assert_int_equal(parse(&c, &why, "--https", "127.0.0.1:99", "--allow-origin",
			       "https://c.example", "--config", p, NULL),
			 CFG_OK);
	assert_int_equal(c.https.port, 99);
	assert_int_equal(c.max_body, 2048);
	assert_int_equal(c.n_allow_origins, 1);
	assert_string_equal(c.allow_origins[0], "https://c.example");
	cfg_free(&c);
}

static void file_errors(void **state)
{
	(void)state;
	const struct {
		const char *text;
		const char *why_has;
	} cases[] = {
		{ "https = 127.0.0.1:1\nnonsense\n", ":2:" },
		{ "bogus = 1\n", "unknown key" },
		{ "config = /etc/x\n", "unknown key" },
		{ "help = 1\n", "unknown key" },
		{ "https =\n", "no value" },
		{ "\n\nhttps = 10.1.1.1:1\n", ":3:" },
		{ "max-body = lots\n", "max-body" },
		{ "allow-origin = https://x.example/path\n", "allow-origin" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *p = write_conf("bad.conf", cases[i].text);
		struct cfg c;
		const char *why = NULL;
		cfg_init(&c);
		assert_int_equal(cfg_load_file(&c, p, &why), CFG_E_FILE);
		assert_non_null(why);
		if (!strstr(why, cases[i].why_has))
			fail_msg("case %zu: '%s' lacks '%s'", i, why, cases[i].why_has);
		cfg_free(&c);
	}
	struct cfg c;
	const char *why = NULL;
	cfg_init(&c);
	assert_int_equal(cfg_load_file(&c, "/nonexistent/dir/x.conf", &why), CFG_E_FILE);
	assert_non_null(strstr(why, "cannot read"));
	cfg_free(&c);
	/* A NUL byte in the file is an error, not a silently shortened line. */
	char path[256];
	snprintf(path, sizeof path, "%s/nul.conf", tmpdir);
	FILE *f = fopen(path, "w");
	fwrite("https = 127.0.0.1:1\0junk\n", 1, 25, f);
	fclose(f);
	cfg_init(&c);
	assert_int_equal(cfg_load_file(&c, path, &why), CFG_E_FILE);
	cfg_free(&c);
}

static void help_version(void **state)
{
	(void)state;
	struct cfg c;
	const char *why;
	assert_int_equal(parse(&c, &why, "--version", NULL), CFG_EXIT_OK);
	cfg_free(&c);
	assert_int_equal(parse(&c, &why, "--help", NULL), CFG_EXIT_OK);
	cfg_free(&c);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	cfg_usage(m, "siths-bridge");
	fclose(m);
	const char *want[] = { "--https",
			       "--wss",
			       "--cert",
			       "--key",
			       "--www",
			       "--allow-origin",
			       "--allow-uid UID|USERNAME",
			       "--config",
			       "--log-level",
			       "--help",
			       "--version" };
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_non_null(strstr(buf, want[i]));
	free(buf);
}

/* The uid the system's passwd database gives a name, asked independently of config.c. */
static uid_t passwd_uid(const char *name)
{
	struct passwd *pw = getpwnam(name);
	if (!pw)
		fail_msg("no user %s on this test machine", name);
	return pw->pw_uid;
}

static void allow_uid(void **state)
{
	(void)state;
	struct cfg c;
	const char *why = "x";
	assert_int_equal(parse(&c, &why, "--allow-uid", "65534", "--allow-uid=root", "--allow-uid",
			       "nobody", "--allow-uid", "0", "--allow-uid", "4294967294", NULL),
			 CFG_OK);
	assert_null(why);
	assert_int_equal(c.n_allow_uids, 5);
	assert_int_equal(c.allow_uids[0], 65534);
	assert_int_equal(c.allow_uids[1], passwd_uid("root"));
	assert_int_equal(c.allow_uids[2], passwd_uid("nobody"));
	assert_int_equal(c.allow_uids[3], 0);
	assert_int_equal(c.allow_uids[4], 4294967294u);
	cfg_free(&c);
	assert_int_equal(c.n_allow_uids, 0);
	assert_null(c.allow_uids);

	/* An unknown name says so, and names the value (a user name is no secret). */
	assert_int_equal(parse(&c, &why, "--allow-uid", "no-such-user-siths-test", NULL),
			 CFG_E_VALUE);
	assert_non_null(strstr(why, "no user named 'no-such-user-siths-test'"));
	cfg_free(&c);
	assert_int_equal(parse(&c, &why, "--allow-uid", "4294967295", NULL), CFG_E_VALUE);
	assert_non_null(strstr(why, "--allow-uid"));
	cfg_free(&c);

	uid_t u = 1;
	assert_int_equal(cfg_parse_uid("0", &u), CFG_OK);
	assert_int_equal(u, 0);
	assert_int_equal(cfg_parse_uid("nobody", &u), CFG_OK);
	assert_int_equal(u, passwd_uid("nobody"));
	u = 7;
	assert_int_equal(cfg_parse_uid(NULL, &u), CFG_E_VALUE);
	assert_int_equal(cfg_parse_uid(" 1", &u), CFG_E_VALUE);
	assert_int_equal(cfg_parse_uid("1 ", &u), CFG_E_VALUE);
	assert_int_equal(u, 7);
}

static void allow_uid_file(void **state)
{
	(void)state;
	const char *p = write_conf("uid.conf",
				   "allow-uid = 1000\nallow-uid = root\n"
				   "allow-origin = https://a.example\n");
	struct cfg c;
	const char *why;
	assert_int_equal(parse(&c, &why, "--config", p, NULL), CFG_OK);
	assert_int_equal(c.n_allow_uids, 2);
	assert_int_equal(c.allow_uids[0], 1000);
	assert_int_equal(c.allow_uids[1], passwd_uid("root"));
	cfg_free(&c);

	/* The command line's list replaces the file's; the other list is left alone. */
	assert_int_equal(
		parse(&c, &why, "--allow-uid", "7", "--config", p, "--allow-uid", "8", NULL),
		CFG_OK);
	assert_int_equal(c.n_allow_uids, 2);
	assert_int_equal(c.allow_uids[0], 7);
	assert_int_equal(c.allow_uids[1], 8);
	assert_int_equal(c.n_allow_origins, 1);
	cfg_free(&c);

	p = write_conf("baduid.conf", "# users\nallow-uid = no-such-user-siths-test\n");
	cfg_init(&c);
	assert_int_equal(cfg_load_file(&c, p, &why), CFG_E_FILE);
	assert_non_null(strstr(why, ":2:"));
	assert_non_null(strstr(why, "no user named"));
	cfg_free(&c);
}

static void listen_and_origin_helpers(void **state)
{
	(void)state;
	struct cfg_listen l;
	assert_int_equal(cfg_parse_listen("LOCALHOST:80", &l), CFG_OK);
	assert_string_equal(l.addr, "127.0.0.1");
	assert_int_equal(l.port, 80);
	assert_int_equal(cfg_parse_listen("127.0.0.1:65535", &l), CFG_OK);
	assert_int_equal(l.port, 65535);
	assert_int_equal(cfg_parse_listen(NULL, &l), CFG_E_VALUE);
	assert_true(cfg_origin_valid("https://localhost:29443"));
	assert_true(cfg_origin_valid("http://portal.example"));
	assert_true(cfg_origin_valid("https://[::1]:1"));
	assert_false(cfg_origin_valid("https://localhost:29443/"));
	assert_false(cfg_origin_valid("https://.example"));
	assert_false(cfg_origin_valid("https://example."));
	assert_false(cfg_origin_valid("https://[]:1"));
	assert_false(cfg_origin_valid("https://a b"));
	assert_false(cfg_origin_valid("javascript:alert(1)"));
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(all_options),
		cmocka_unit_test(not_loopback),
		cmocka_unit_test(bad_values),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(file_ok_and_overridden),
		cmocka_unit_test(user_file_over_system_file),
		cmocka_unit_test(file_errors),
		cmocka_unit_test(help_version),
		cmocka_unit_test(listen_and_origin_helpers),
		cmocka_unit_test(allow_uid),
		cmocka_unit_test(allow_uid_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
