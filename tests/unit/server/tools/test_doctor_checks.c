/* test_doctor_checks.c — each check of the doctor on stubbed inputs: a temporary HOME with a
 * certificate made by certs/localhost-ca.sh, a fake /proc (net/tcp rows, fd links, comm), fake
 * policy folders, and probes standing in for systemctl, certutil and the bridge's /health. */
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

#include "check.h"
#include "doctor_checks.h"
#include "policies.h"

static char tmp[] = "/tmp/test_doctor.XXXXXX";
static char home[512], proc[512], certs2[512];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *path, const char *text)
{
	sh("mkdir -p \"$(dirname '%s')\"", path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* ---- the stubbed probes ---- */

/* What the stubbed programs answer: systemctl's is-active and show, certutil's -L and -L -a. */
static struct {
	int rc_active, rc_certutil;
	const char *active, *listen_https, *listing, *pem;
	const char *pem_nick; /* only the nickname containing this gets pem, others old_pem */
	const char *old_pem;
	char last_db[PATH_MAX];
} stub;

static int stub_run(char *const argv[], char *out, size_t n, unsigned timeout_ms)
{
	(void)timeout_ms;
	if (!strcmp(argv[0], "systemctl") && !strcmp(argv[2], "is-active")) {
		snprintf(out, n, "%s", stub.active);
		return stub.rc_active;
	}
	if (!strcmp(argv[0], "systemctl") && !strcmp(argv[2], "show")) {
		bool https = strstr(argv[6], "https") != NULL;
		snprintf(out, n, "%s", https ? stub.listen_https : "127.0.0.1:31444 (Stream)");
		return 0;
	}
	if (!strcmp(argv[0], "certutil")) {
		snprintf(stub.last_db, sizeof stub.last_db, "%s", argv[3]);
		bool get = argv[4] && !strcmp(argv[4], "-n");
		bool mine = get && (!stub.pem_nick || strstr(argv[5], stub.pem_nick));
		snprintf(out, n, "%s", !get ? stub.listing : mine ? stub.pem : stub.old_pem);
		return stub.rc_certutil;
	}
	return -1;
}

static struct {
	int rc, status;
	const char *body, *why;
	unsigned short port;
	char ca[PATH_MAX];
} hstub;

static int stub_https(unsigned short port, const char *ca, const char *path, unsigned ms,
		      int *status, char *body, size_t n, char *why, size_t why_n)
{
	(void)ms;
	assert_string_equal(path, "/health");
	hstub.port = port;
	snprintf(hstub.ca, sizeof hstub.ca, "%s", ca);
	*status = hstub.status;
	snprintf(body, n, "%s", hstub.body);
	snprintf(why, why_n, "%s", hstub.why);
	return hstub.rc;
}

static struct cfg cfg;
static struct doctor_env env;

static int setup(void **state)
{
	(void)state;
	cfg_free(&cfg);
	cfg_init(&cfg);
	doctor_env_init(&env, &cfg, home);
	env.proc = proc;
	env.run = stub_run;
	env.https_get = stub_https;
	memset(&stub, 0, sizeof stub);
	memset(&hstub, 0, sizeof hstub);
	sh("rm -rf '%s' '%s/.pki' '%s/.mozilla' '%s/root'", proc, home, home, tmp);
	return 0;
}

static const struct check_result *only(const struct check_list *l, const char *id)
{
	const struct check_result *r = check_find(l, id);
	assert_non_null(r);
	return r;
}

/* ---- tests ---- */

static void env_paths(void **state)
{
	(void)state;
	char want[PATH_MAX];
	snprintf(want, sizeof want, "%s/.local/state/siths-bridge/certs/server.pem", home);
	assert_string_equal(env.cert, want);
	snprintf(want, sizeof want, "%s/.local/state/siths-bridge/certs/ca.pem", home);
	assert_string_equal(env.ca, want);
	assert_int_equal(env.https_port, 29443);
	assert_int_equal(env.wss_port, 29444);
	/* A configured certificate: its CA is beside it. */
	cfg.cert_file = strdup("/srv/b/server.pem");
	doctor_env_init(&env, &cfg, home);
	assert_string_equal(env.ca, "/srv/b/ca.pem");
}

/* One listening row of /proc/net/tcp for 127.0.0.1:port, and others that must not count. */
static void fake_proc(unsigned https_uid, unsigned wss_uid)
{
	char path[PATH_MAX], rows[2048];
	snprintf(rows, sizeof rows,
		 "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   "
		 "uid  timeout inode\n"
		 "   0: 0100007F:7303 00000000:0000 0A 00000000:00000000 00:00000000 00000000 "
		 "%5u        0 111 1 0000000000000000 100 0 0 10 0\n"
		 "   1: 0100007F:7304 0100007F:9C40 01 00000000:00000000 00:00000000 00000000 "
		 "    0        0 999 1 0000000000000000 100 0 0 10 0\n"
		 "   2: 00000000:7304 00000000:0000 0A 00000000:00000000 00:00000000 00000000 "
		 "%5u        0 222 1 0000000000000000 100 0 0 10 0\n",
		 https_uid, wss_uid);
	snprintf(path, sizeof path, "%s/self/net/tcp", proc);
	put(path, rows);
	snprintf(path, sizeof path, "%s/self/net/tcp6", proc);
	put(path, "  sl  local_address remote_address st\n");
	snprintf(path, sizeof path, "%s/4242/comm", proc);
	put(path, "siths-bridge\n");
	/* The service manager that passed the listener holds it too, and comes first in /proc. */
	snprintf(path, sizeof path, "%s/1500/comm", proc);
	put(path, "systemd\n");
	snprintf(path, sizeof path, "%s/4343/comm", proc);
	put(path, "MainThread\n"); /* renamed by a thread: the executable's name wins */
	sh("mkdir -p '%s/4242/fd' '%s/4343/fd' '%s/77/fd' && ln -s 'socket:[111]' '%s/4242/fd/3' "
	   "&& "
	   "ln -s 'socket:[222]' '%s/4343/fd/5' && ln -s /dev/null '%s/77/fd/0' && "
	   "ln -s /usr/bin/node '%s/4343/exe'",
	   proc, proc, proc, proc, proc, proc, proc);
}

static void ports(void **state)
{
	(void)state;
	struct check_list l = { 0 };
	fake_proc((unsigned)getuid(), (unsigned)getuid());
	doctor_check_ports(&env, &l);
	const struct check_result *h = only(&l, "port.https"), *w = only(&l, "port.wss");
	assert_int_equal(h->status, CHECK_OK);
	assert_non_null(strstr(h->text_en, "this user's bridge (pid 4242)"));
	assert_int_equal(w->status, CHECK_FAIL);
	assert_non_null(strstr(w->text_en, "another program: node (pid 4343)"));
	assert_string_equal(w->fix, "kill 4343");
	check_list_free(&l);

	/* Another user's listener: named, the per-user port pair explained. */
	setup(NULL);
	fake_proc((unsigned)getuid() + 1, (unsigned)getuid());
	doctor_check_ports(&env, &l);
	h = only(&l, "port.https");
	assert_int_equal(h->status, CHECK_FAIL);
	assert_non_null(strstr(h->text_en, "held by another user"));
	assert_non_null(strstr(h->text_sv, "eget portpar"));
	assert_string_equal(h->fix,
			    "systemctl --user daemon-reload && systemctl --user restart "
			    "siths-bridge-https.socket siths-bridge-wss.socket");
	check_list_free(&l);

	/* Nothing on the ports (the connected row on 29444 is no listener). */
	setup(NULL);
	env.https_port = 29445;
	fake_proc((unsigned)getuid(), (unsigned)getuid());
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/self/net/tcp", proc);
	put(path,
	    "  sl  local_address rem_address   st\n"
	    "   1: 0100007F:7304 0100007F:9C40 01 00000000:00000000 00:00000000 00000000 "
	    " 1000        0 999 1 0000000000000000 100 0 0 10 0\n");
	doctor_check_ports(&env, &l);
	assert_int_equal(only(&l, "port.https")->status, CHECK_FAIL);
	assert_non_null(strstr(only(&l, "port.https")->text_en, "Nothing listens on port 29445"));
	assert_string_equal(only(&l, "port.wss")->fix,
			    "systemctl --user start siths-bridge-wss.socket");
	check_list_free(&l);
}

static void service(void **state)
{
	(void)state;
	struct check_list l = { 0 };
	stub.active = "active\nactive\ninactive\n";
	stub.rc_active = 3;
	stub.listen_https = "127.0.0.1:31443 (Stream)\n";
	doctor_check_service(&env, &l);
	assert_true(env.have_systemd);
	assert_int_equal(only(&l, "service")->status, CHECK_OK);
	assert_int_equal(env.https_port, 31443); /* the socket unit's, not the configuration's */
	assert_int_equal(env.wss_port, 31444);
	check_list_free(&l);

	stub.active = "inactive\nactive\ninactive\n";
	doctor_check_service(&env, &l);
	assert_int_equal(only(&l, "service")->status, CHECK_FAIL);
	assert_non_null(strstr(only(&l, "service")->fix, "enable --now siths-bridge-https.socket"));
	check_list_free(&l);

	stub.active = "active\nactive\nfailed\n";
	doctor_check_service(&env, &l);
	assert_non_null(strstr(only(&l, "service")->fix, "reset-failed"));
	check_list_free(&l);

	/* No user manager: said, not a failure. */
	stub.active = "Failed to connect to bus: No medium found\n";
	stub.rc_active = 1;
	doctor_check_service(&env, &l);
	assert_false(env.have_systemd);
	assert_int_equal(only(&l, "service")->status, CHECK_INFO);
	assert_non_null(strstr(only(&l, "service")->text_en, "not available"));
	assert_non_null(strstr(only(&l, "service")->text_sv, "inte tillgängligt"));
	check_list_free(&l);
}

static void cert(void **state)
{
	(void)state;
	struct check_list l = { 0 };
	doctor_check_cert(&env, &l);
	assert_int_equal(only(&l, "cert")->status, CHECK_OK);
	assert_non_null(strstr(only(&l, "cert")->text_en, "days left"));
	check_list_free(&l);

	/* Another installation's key, then its CA: both refused. */
	snprintf(env.key, sizeof env.key, "%s/server.key", certs2);
	doctor_check_cert(&env, &l);
	assert_non_null(strstr(only(&l, "cert")->text_en, "does not belong"));
	check_list_free(&l);
	doctor_env_init(&env, &cfg, home);
	snprintf(env.ca, sizeof env.ca, "%s/ca.pem", certs2);
	doctor_check_cert(&env, &l);
	assert_non_null(strstr(only(&l, "cert")->text_en, "is not issued by"));
	check_list_free(&l);

	/* Missing: the fix makes it. */
	snprintf(env.cert, sizeof env.cert, "%s/none/server.pem", tmp);
	doctor_check_cert(&env, &l);
	assert_int_equal(only(&l, "cert")->status, CHECK_FAIL);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof want, "/usr/libexec/siths-bridge/localhost-ca.sh %s/none", tmp);
	assert_string_equal(only(&l, "cert")->fix, want);
	check_list_free(&l);
}

static void trust(void **state)
{
	(void)state;
	struct check_list l = { 0 };
	char db[PATH_MAX], ff[PATH_MAX];
	snprintf(db, sizeof db, "%s/.pki/nssdb/cert9.db", home);
	snprintf(ff, sizeof ff, "%s/.mozilla/firefox/ab12.default-esr/cert9.db", home);
	put(db, "");
	stub.listing = "\nCertificate Nickname                    Trust Attributes\n"
		       "                                        SSL,S/MIME,JAR/XPI\n\n"
		       "siths-bridge local CA                   C,,  \n";
	stub.pem = slurp(env.ca);
	doctor_check_trust(&env, &l);
	assert_int_equal(only(&l, "trust.nssdb")->status, CHECK_OK);
	assert_int_equal(only(&l, "trust.firefox")->status, CHECK_INFO);
	check_list_free(&l);

	/* A Firefox profile whose store lacks the CA. */
	put(ff, "");
	stub.listing = "\nCertificate Nickname    Trust Attributes\n\nOther CA     CT,C,C\n";
	doctor_check_trust(&env, &l);
	const struct check_result *r = only(&l, "trust.firefox.ab12.default-esr");
	assert_int_equal(r->status, CHECK_FAIL);
	assert_int_equal(only(&l, "trust.nssdb")->status, CHECK_FAIL);
	char want[PATH_MAX];
	snprintf(want, sizeof want,
		 "/usr/libexec/siths-bridge/user-trust.sh %s/.local/state/siths-bridge/certs",
		 home);
	assert_string_equal(r->fix, want);
	env.have_systemd = true;
	check_list_free(&l);
	doctor_check_trust(&env, &l);
	assert_string_equal(only(&l, "trust.nssdb")->fix,
			    "systemctl --user restart siths-bridge.service");
	env.have_systemd = false;
	assert_non_null(strstr(stub.last_db, "sql:"));
	check_list_free(&l);

	/* The nickname, but an old CA under it; then the right CA without SSL trust. */
	stub.listing = "siths-bridge local CA                   C,,\n";
	stub.pem = "";
	doctor_check_trust(&env, &l);
	assert_non_null(strstr(only(&l, "trust.nssdb")->text_en, "another (old?) CA"));
	check_list_free(&l);
	stub.listing = "siths-bridge local CA                   ,,  \n";
	stub.pem = slurp(env.ca);
	doctor_check_trust(&env, &l);
	assert_non_null(strstr(only(&l, "trust.nssdb")->text_en, "not trusted for web sites"));
	check_list_free(&l);

	/* The user's nicknames (user-trust.sh): an old CA's entry and the current one's. */
	stub.listing = "siths-bridge local CA (user alice, 0A)                     C,,  \n"
		       "siths-bridge local CA (user alice, 0B)                     C,,  \n";
	stub.pem_nick = "(user alice, 0B)";
	stub.old_pem = "";
	doctor_check_trust(&env, &l);
	assert_int_equal(only(&l, "trust.nssdb")->status, CHECK_OK);
	check_list_free(&l);
	stub.listing = "siths-bridge local CA (user alice, 0A)                     C,,  \n";
	doctor_check_trust(&env, &l);
	assert_non_null(strstr(only(&l, "trust.nssdb")->text_en, "another (old?) CA"));
	check_list_free(&l);
	stub.pem_nick = NULL;

	/* A profile of profiles.ini that has not run yet (no cert9.db), another outside the folder. */
	char ini[PATH_MAX];
	snprintf(ini, sizeof ini, "%s/.mozilla/firefox/profiles.ini", home);
	char text[PATH_MAX + 200];
	snprintf(text, sizeof text,
		 "[Profile1]\nName=new\nIsRelative=1\nPath=cd34.new\n\n[Profile0]\nIsRelative=0\n"
		 "Path=%s/elsewhere\nName=x\n\n[General]\nStartWithLastProfile=1\n",
		 tmp);
	put(ini, text);
	doctor_check_trust(&env, &l);
	assert_int_equal(only(&l, "trust.firefox.cd34.new")->status, CHECK_FAIL);
	assert_non_null(
		strstr(only(&l, "trust.firefox.cd34.new")->text_en, "no certificate database"));
	assert_int_equal(only(&l, "trust.firefox.elsewhere")->status, CHECK_FAIL);
	assert_int_equal(only(&l, "trust.firefox.ab12.default-esr")->status, CHECK_OK);
	check_list_free(&l);

	/* No certutil: the package to install. */
	stub.rc_certutil = -1;
	doctor_check_trust(&env, &l);
	assert_string_equal(only(&l, "trust.nssdb")->fix, "sudo apt-get install libnss3-tools");
	check_list_free(&l);
}

static void policies(void **state)
{
	(void)state;
	struct check_list l = { 0 };
	char root[PATH_MAX];
	snprintf(root, sizeof root, "%s/root", tmp);
	env.policy_root = root;
	doctor_check_policies(&env, &l);
	assert_int_equal(only(&l, "policies")->status, CHECK_INFO);
	check_list_free(&l);

	char *o[] = { "https://portal.example.org", "https://vard.example" };
	cfg.allow_origins = calloc(2, sizeof *cfg.allow_origins);
	cfg.allow_origins[0] = strdup(o[0]);
	cfg.allow_origins[1] = strdup(o[1]);
	cfg.n_allow_origins = 2;
	struct policies_paths p;
	policies_paths_init(&p, root);
	char why[256];
	assert_int_equal(policies_write(&p, o, 1, why, sizeof why), POLICIES_OK);
	unlink(p.chrome);
	doctor_check_policies(&env, &l);
	assert_int_equal(only(&l, "policies.2")->status, CHECK_FAIL);
	assert_non_null(
		strstr(only(&l, "policies.2")->text_en, "missing for: Chromium Chrome Firefox"));
	assert_non_null(strstr(only(&l, "policies.1")->text_en, "missing for: Chrome"));
	assert_string_equal(only(&l, "policies.1")->fix, "sudo siths-bridge policies --write");
	check_list_free(&l);
	assert_int_equal(policies_write(&p, o, 2, why, sizeof why), POLICIES_OK);
	doctor_check_policies(&env, &l);
	assert_true(check_list_ok(&l));
	check_list_free(&l);
}

static void health(void **state)
{
	(void)state;
	struct check_list l = { 0 };
	hstub.status = 200;
	hstub.body = "{\"version\":\"1.2\",\"status\":\"ok\"}";
	env.https_port = 31443;
	doctor_check_health(&env, &l);
	assert_int_equal(only(&l, "health")->status, CHECK_OK);
	assert_non_null(strstr(only(&l, "health")->text_en, "status ok, version 1.2"));
	assert_int_equal(hstub.port, 31443);
	assert_string_equal(hstub.ca, env.ca);
	check_list_free(&l);

	hstub.rc = -1;
	hstub.why = "certificate not trusted: self-signed certificate";
	doctor_check_health(&env, &l);
	assert_int_equal(only(&l, "health")->status, CHECK_FAIL);
	assert_non_null(strstr(only(&l, "health")->text_en, "self-signed"));
	check_list_free(&l);

	hstub.rc = 0;
	hstub.status = 503;
	hstub.body = "<html>";
	doctor_check_health(&env, &l);
	assert_non_null(strstr(only(&l, "health")->text_en, "answered 503"));
	check_list_free(&l);
}

static void pcscd_down(void **state)
{
	(void)state;
	struct check_list l = { 0 };
	char sock[PATH_MAX];
	snprintf(sock, sizeof sock, "%s/no-pcscd/pcscd.comm", tmp);
	setenv("PCSCLITE_CSOCK_NAME", sock, 1);
	env.pcsc_wait_ms = 300;
	doctor_check_pcsc(&env, &l);
	assert_int_equal(only(&l, "pcscd")->status, CHECK_FAIL);
	assert_non_null(strstr(only(&l, "pcscd")->fix, "pcscd"));
	assert_null(check_find(&l, "readers"));
	check_list_free(&l);
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 1;
	snprintf(home, sizeof home, "%s/home", tmp);
	snprintf(proc, sizeof proc, "%s/proc", tmp);
	snprintf(certs2, sizeof certs2, "%s/other-certs", tmp);
	setenv("HOME", home, 1);
	sh("'%s/certs/localhost-ca.sh' '%s/.local/state/siths-bridge/certs' >/dev/null && "
	   "'%s/certs/localhost-ca.sh' '%s' >/dev/null",
	   SITHS_SOURCE_DIR, home, SITHS_SOURCE_DIR, certs2);
	cfg_init(&cfg);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(env_paths, setup), cmocka_unit_test_setup(ports, setup),
		cmocka_unit_test_setup(service, setup),   cmocka_unit_test_setup(cert, setup),
		cmocka_unit_test_setup(trust, setup),     cmocka_unit_test_setup(policies, setup),
		cmocka_unit_test_setup(health, setup),    cmocka_unit_test_setup(pcscd_down, setup),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	cfg_free(&cfg);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
