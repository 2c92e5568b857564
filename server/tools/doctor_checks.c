/* doctor_checks.c — each check of `siths-bridge doctor`: what it asks, how it judges, and the
 * command that fixes a failure, in Swedish and English. The machine is reached only through the
 * env's probes, the card core's contract and files under the env's folders. */
#include "doctor_checks.h"

#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "card.h"
#include "peer.h"
#include "policies.h"
#include "probe.h"

#define CA_SCRIPT "/usr/libexec/siths-bridge/localhost-ca.sh"
/* Makes the certificate if needed and trusts its CA in every store of the user (docs/install.md,
 * "Certificate and trust"); the user service runs it before each start. */
#define TRUST_SCRIPT "/usr/libexec/siths-bridge/user-trust.sh"
#define RUN_TIMEOUT_MS 10000
/* After pcscd answered, the card core reads the cards present one after the other: at most this
 * long until it says every reader was read (CARD_EV_READERS_SCANNED). */
#define PCSC_SCAN_MAX_MS 8000

void doctor_env_init(struct doctor_env *e, const struct cfg *cfg, const char *home)
{
	memset(e, 0, sizeof *e);
	e->cfg = cfg;
	e->home = home;
	e->proc = "/proc";
	e->uid = getuid();
	if (cfg->cert_file)
		snprintf(e->cert, sizeof e->cert, "%s", cfg->cert_file);
	else
		snprintf(e->cert, sizeof e->cert, "%s/.local/state/siths-bridge/certs/server.pem",
			 home);
	if (cfg->key_file)
		snprintf(e->key, sizeof e->key, "%s", cfg->key_file);
	else
		snprintf(e->key, sizeof e->key, "%s/.local/state/siths-bridge/certs/server.key",
			 home);
	const char *slash = strrchr(e->cert, '/');
	int dir_len = slash ? (int)(slash - e->cert) : 1;
	snprintf(e->ca, sizeof e->ca, "%.*s/ca.pem", dir_len, slash ? e->cert : ".");
	e->https_port = cfg->https.port;
	e->wss_port = cfg->wss.port;
	e->pcsc_wait_ms = 3000;
	e->run = probe_run;
	e->socket_owner = probe_socket_owner;
	e->https_get = probe_https_get;
}

/* ---- pcscd, readers, cards ---- */

struct pcsc_watch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool up, scanned;
};

static void on_card_event(const struct card_event *ev, void *user)
{
	struct pcsc_watch *w = user;
	pthread_mutex_lock(&w->lock);
	if (ev->kind == CARD_EV_PCSC_UP)
		w->up = true;
	else if (ev->kind == CARD_EV_PCSC_DOWN)
		w->up = w->scanned = false;
	else if (ev->kind == CARD_EV_READERS_SCANNED)
		w->scanned = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static struct timespec in_ms(unsigned ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Waits up to up_ms for pcscd, then for the core to have read every reader. Caller holds
 * w->lock. */
static void pcsc_wait(struct pcsc_watch *w, unsigned up_ms)
{
	struct timespec end = in_ms(up_ms);
	while (!w->up && pthread_cond_timedwait(&w->cond, &w->lock, &end) != ETIMEDOUT)
		;
	if (!w->up)
		return;
	end = in_ms(PCSC_SCAN_MAX_MS);
	while (w->up && !w->scanned &&
	       pthread_cond_timedwait(&w->cond, &w->lock, &end) != ETIMEDOUT)
		;
}

static void card_result(struct check_list *l, size_t i, const struct card_model *m)
{
	struct check_result *r = check_add(l, "card.%zu", i + 1);
	const char *sv = m->type == CARD_TYPE_RESERVE ? "reservkort"
		: m->type == CARD_TYPE_ORDINARY       ? "ordinarie kort"
						      : "okänd korttyp";
	const char *en = m->type == CARD_TYPE_RESERVE ? "reserve card"
		: m->type == CARD_TYPE_ORDINARY       ? "ordinary card"
						      : "unknown card type";
	if (m->status == CARD_STATUS_ERROR) {
		check_say(r, CHECK_FAIL, "Kortet i läsaren %s kunde inte läsas: %s", m->reader,
			  m->error_detail);
		check_en(r, "The card in reader %s could not be read: %s", m->reader,
			 m->error_detail);
		check_fix(r,
			  "ta ut kortet och sätt i det igen / take the card out and insert it "
			  "again");
		return;
	}
	check_say(r, CHECK_OK, "Kort %s (%s, %s) i läsaren %s", m->card_number, sv,
		  m->holder[0] ? m->holder : "-", m->reader);
	check_en(r, "Card %s (%s, %s) in reader %s", m->card_number, en,
		 m->holder[0] ? m->holder : "-", m->reader);
}

static void pcsc_results(struct check_list *l, const struct card_snapshot *s)
{
	struct check_result *r = check_add(l, "readers");
	if (!s->n_readers) {
		check_say(r, CHECK_FAIL, "pcscd ser ingen kortläsare");
		check_en(r, "pcscd sees no card reader");
		check_fix(r,
			  "anslut kortläsaren / connect the card reader (lsusb; journalctl -u "
			  "pcscd)");
	} else {
		check_say(r, CHECK_OK, "%zu kortläsare: %s%s", s->n_readers, s->readers[0].name,
			  s->n_readers > 1 ? ", ..." : "");
		check_en(r, "%zu card reader(s): %s%s", s->n_readers, s->readers[0].name,
			 s->n_readers > 1 ? ", ..." : "");
	}
	if (!s->n_cards) {
		r = check_add(l, "cards");
		check_say(r, CHECK_FAIL, "Inget kort i någon läsare");
		check_en(r, "No card in any reader");
		check_fix(r, "sätt i SITHS-kortet / insert the SITHS card");
	}
	for (size_t i = 0; i < s->n_cards; i++)
		card_result(l, i, &s->cards[i]);
}

void doctor_check_pcsc(struct doctor_env *e, struct check_list *l)
{
	struct pcsc_watch w = { .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cond, &ca);
	pthread_condattr_destroy(&ca);
	card_core *core = NULL;
	struct card_snapshot s = { 0 };
	struct check_result *r = check_add(l, "pcscd");
	card_err ce = card_core_start(on_card_event, &w, &core);
	if (ce) {
		check_say(r, CHECK_FAIL, "Kortkärnan startade inte: %s", card_strerror(ce));
		check_en(r, "The card core did not start: %s", card_strerror(ce));
		goto out;
	}
	pthread_mutex_lock(&w.lock);
	pcsc_wait(&w, e->pcsc_wait_ms);
	bool up = w.up;
	pthread_mutex_unlock(&w.lock);
	if (!up || card_snapshot_get(core, &s) != CARD_OK) {
		check_say(r, CHECK_FAIL, "pcscd svarar inte (inom %u ms)", e->pcsc_wait_ms);
		check_en(r, "pcscd does not answer (within %u ms)", e->pcsc_wait_ms);
		check_fix(r, "sudo systemctl start pcscd.socket pcscd.service");
		goto out;
	}
	check_say(r, CHECK_OK, "pcscd svarar");
	check_en(r, "pcscd answers");
	pcsc_results(l, &s);
out:
	card_snapshot_free(&s);
	card_core_stop(core);
	pthread_cond_destroy(&w.cond);
}

/* ---- the user units ---- */

static bool unit_state_word(const char *w)
{
	static const char *const words[] = { "active",     "inactive",     "failed",
					     "activating", "deactivating", "reloading" };
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(w, words[i]))
			return true;
	return false;
}

/* "127.0.0.1:29443 (Stream)" -> 29443 into *port, if it says so. */
static void listen_port(struct doctor_env *e, const char *unit, unsigned short *port)
{
	char out[512];
	char *argv[] = { "systemctl", "--user",  "show",       "-p",
			 "Listen",    "--value", (char *)unit, NULL };
	if (e->run(argv, out, sizeof out, RUN_TIMEOUT_MS) != 0)
		return;
	char *sp = strchr(out, ' ');
	if (sp)
		*sp = '\0';
	char *colon = strrchr(out, ':');
	unsigned long p = colon ? strtoul(colon + 1, NULL, 10) : 0;
	if (p > 0 && p < 65536)
		*port = (unsigned short)p;
}

void doctor_check_service(struct doctor_env *e, struct check_list *l)
{
	char out[1024], st[3][32] = { "", "", "" };
	char *argv[] = { "systemctl",
			 "--user",
			 "is-active",
			 "siths-bridge-https.socket",
			 "siths-bridge-wss.socket",
			 "siths-bridge.service",
			 NULL };
	struct check_result *r = check_add(l, "service");
	int rc = e->run(argv, out, sizeof out, RUN_TIMEOUT_MS);
	int n = rc < 0 ? 0 : sscanf(out, "%31s %31s %31s", st[0], st[1], st[2]);
	e->have_systemd = n == 3 && unit_state_word(st[0]) && unit_state_word(st[1]) &&
		unit_state_word(st[2]);
	if (!e->have_systemd) {
		check_say(
			r, CHECK_INFO,
			"Systemd-användartjänsterna går inte att fråga (ingen användarhanterare): "
			"inte tillgängligt");
		check_en(r,
			 "The systemd user units cannot be asked (no user manager): not "
			 "available");
		return;
	}
	listen_port(e, "siths-bridge-https.socket", &e->https_port);
	listen_port(e, "siths-bridge-wss.socket", &e->wss_port);
	if (strcmp(st[0], "active") || strcmp(st[1], "active")) {
		check_say(r, CHECK_FAIL, "Uttagen lyssnar inte (https: %s, wss: %s)", st[0], st[1]);
		check_en(r, "The sockets do not listen (https: %s, wss: %s)", st[0], st[1]);
		check_fix(r,
			  "systemctl --user enable --now siths-bridge-https.socket "
			  "siths-bridge-wss.socket");
	} else if (!strcmp(st[2], "failed")) {
		check_say(r, CHECK_FAIL, "Uttagen lyssnar, men tjänsten har misslyckats");
		check_en(r, "The sockets listen, but the service has failed");
		check_fix(r,
			  "journalctl --user -u siths-bridge.service; systemctl --user "
			  "reset-failed siths-bridge.service");
	} else {
		bool runs = !strcmp(st[2], "active");
		check_say(r, CHECK_OK, "Uttagen lyssnar (portarna %u och %u), tjänsten %s",
			  e->https_port, e->wss_port,
			  runs ? "körs" : "startar vid första anslutningen");
		check_en(r, "The sockets listen (ports %u and %u), the service %s", e->https_port,
			 e->wss_port, runs ? "runs" : "starts on the first connection");
	}
}

/* ---- ports ---- */

static void user_name(uid_t uid, char *out, size_t n)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res)
		snprintf(out, n, "%s", pw.pw_name);
	else
		snprintf(out, n, "uid %u", (unsigned)uid);
}

static void port_other_user(struct check_result *r, const char *what, unsigned port, uid_t uid)
{
	char who[64];
	user_name(uid, who, sizeof who);
	/* Another uid's sockets cannot be traced to a process without root: say both cases. */
	check_say(r, CHECK_FAIL,
		  "Port %u (%s) hålls av en annan användare (%s): dennes brygga (varje användare "
		  "behöver ett eget portpar, bland 29443-29474; denna användares brygga kan inte "
		  "använda porten och den andras betjänar aldrig denna användare) eller ett annat "
		  "program (vilket: sudo ss -ltnp 'sport = :%u')",
		  port, what, who, port);
	check_en(r,
		 "Port %u (%s) is held by another user (%s): their bridge (each user needs a port "
		 "pair of their own, among 29443-29474; this user's bridge cannot use it, and "
		 "theirs never serves this user) or another program of theirs (which: sudo ss "
		 "-ltnp 'sport = :%u')",
		 port, what, who, port);
	/* The port generator then picks another free pair for this user (docs/install.md, "Ports"). */
	check_fix(r,
		  "systemctl --user daemon-reload && systemctl --user restart "
		  "siths-bridge-https.socket siths-bridge-wss.socket");
}

static void port_own_user(struct doctor_env *e, struct check_result *r, const char *what,
			  unsigned port, unsigned long inode)
{
	pid_t pid = 0;
	char comm[64] = "";
	if (e->socket_owner(e->proc, inode, "siths-bridge", &pid, comm, sizeof comm) != 0) {
		check_say(r, CHECK_FAIL, "Port %u (%s) hålls av ett okänt program", port, what);
		check_en(r, "Port %u (%s) is held by an unknown program", port, what);
		check_fix(r, "ss -ltnp 'sport = :%u'", port);
	} else if (!strcmp(comm, "siths-bridge")) {
		check_say(r, CHECK_OK, "Port %u (%s): denna användares brygga (pid %d)", port, what,
			  (int)pid);
		check_en(r, "Port %u (%s): this user's bridge (pid %d)", port, what, (int)pid);
	} else if (!strcmp(comm, "systemd")) {
		check_say(r, CHECK_OK,
			  "Port %u (%s): denna användares tjänstehanterare (bryggan startar "
			  "vid första anslutningen)",
			  port, what);
		check_en(r,
			 "Port %u (%s): this user's service manager (the bridge starts on the "
			 "first connection)",
			 port, what);
	} else {
		check_say(r, CHECK_FAIL, "Port %u (%s) hålls av ett annat program: %s (pid %d)",
			  port, what, comm, (int)pid);
		check_en(r, "Port %u (%s) is held by another program: %s (pid %d)", port, what,
			 comm, (int)pid);
		check_fix(r, "kill %d", (int)pid);
	}
}

static void check_port(struct doctor_env *e, struct check_list *l, const char *what,
		       unsigned short port)
{
	char dir[PATH_MAX];
	uid_t uid;
	unsigned long inode;
	struct check_result *r = check_add(l, "port.%s", what);
	snprintf(dir, sizeof dir, "%s/self/net", e->proc);
	peer_err pe = peer_listener_owner(dir, port, &uid, &inode);
	if (pe == PEER_E_NOT_FOUND) {
		check_say(r, CHECK_FAIL, "Ingen lyssnar på port %u (%s)", port, what);
		check_en(r, "Nothing listens on port %u (%s)", port, what);
		check_fix(r, "systemctl --user start siths-bridge-%s.socket", what);
	} else if (pe) {
		check_say(r, CHECK_INFO, "Port %u (%s): %s", port, what, peer_strerror(pe));
		check_en(r, "Port %u (%s): %s", port, what, peer_strerror(pe));
	} else if (uid != e->uid) {
		port_other_user(r, what, port, uid);
	} else {
		port_own_user(e, r, what, port, inode);
	}
}

void doctor_check_ports(struct doctor_env *e, struct check_list *l)
{
	check_port(e, l, "https", e->https_port);
	check_port(e, l, "wss", e->wss_port);
}

/* ---- the certificate ---- */

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return x;
}

static EVP_PKEY *read_key(const char *path)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return k;
}

/* X509_V_OK when cert chains to ca alone. */
static int verify_with(X509 *cert, X509 *ca)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int v = X509_V_ERR_UNSPECIFIED;
	if (st && ctx && X509_STORE_add_cert(st, ca) == 1 &&
	    X509_STORE_CTX_init(ctx, st, cert, NULL) == 1)
		v = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return v;
}

static void cert_fix(struct doctor_env *e, struct check_result *r)
{
	const char *slash = strrchr(e->cert, '/');
	check_fix(r, "%s %.*s", CA_SCRIPT, slash ? (int)(slash - e->cert) : 1,
		  slash ? e->cert : ".");
}

void doctor_check_cert(struct doctor_env *e, struct check_list *l)
{
	struct check_result *r = check_add(l, "cert");
	X509 *cert = read_cert(e->cert), *ca = read_cert(e->ca);
	EVP_PKEY *key = read_key(e->key);
	int days = 0, secs = 0, v;
	if (!cert || !ca || !key) {
		const char *which = !cert ? e->cert : !ca ? e->ca : e->key;
		check_say(r, CHECK_FAIL, "Certifikatet saknas eller är oläsligt: %s", which);
		check_en(r, "The certificate is missing or unreadable: %s", which);
		cert_fix(e, r);
	} else if ((v = verify_with(cert, ca)) != X509_V_OK && v != X509_V_ERR_CERT_HAS_EXPIRED) {
		check_say(r, CHECK_FAIL, "Certifikatet %s är inte utfärdat av %s: %s", e->cert,
			  e->ca, X509_verify_cert_error_string(v));
		check_en(r, "The certificate %s is not issued by %s: %s", e->cert, e->ca,
			 X509_verify_cert_error_string(v));
		cert_fix(e, r);
	} else if (X509_check_private_key(cert, key) != 1) {
		check_say(r, CHECK_FAIL, "Nyckeln %s hör inte till certifikatet", e->key);
		check_en(r, "The key %s does not belong to the certificate", e->key);
		cert_fix(e, r);
	} else if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)) || days < 0 ||
		   secs < 0 || v == X509_V_ERR_CERT_HAS_EXPIRED) {
		check_say(r, CHECK_FAIL, "Certifikatet %s har gått ut", e->cert);
		check_en(r, "The certificate %s has expired", e->cert);
		cert_fix(e, r);
	} else {
		check_say(r, CHECK_OK,
			  "Certifikatet %s gäller, %d dagar kvar (förnyas vid start "
			  "inom 30 dagar före)",
			  e->cert, days);
		check_en(r,
			 "The certificate %s is valid, %d days left (renewed at a start within "
			 "30 days of expiry)",
			 e->cert, days);
	}
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
}

/* ---- trust in the browsers' stores ---- */

/* Whether ca is among the PEM certificates in text. */
static bool pem_has(const char *text, X509 *ca)
{
	BIO *b = BIO_new_mem_buf(text, -1);
	bool found = false;
	X509 *x;
	while (b && !found && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		found = X509_cmp(x, ca) == 0;
		X509_free(x);
	}
	BIO_free(b);
	return found;
}

/* One entry of certutil -L's listing: "NICKNAME    C,,  " (the flags are the last word, the
 * line padded with spaces). Splits line into its nickname and flags; false for other lines. */
static bool listing_entry(char *line, char **nick, char **flags)
{
	if (strncmp(line, DOCTOR_NSS_NICK, strlen(DOCTOR_NSS_NICK)) != 0)
		return false;
	size_t len = strlen(line);
	while (len && line[len - 1] == ' ')
		line[--len] = '\0';
	char *last = strrchr(line, ' ');
	if (!last)
		return false;
	*flags = last + 1;
	while (last > line && last[-1] == ' ')
		last--;
	*last = '\0';
	*nick = line;
	return true;
}

enum trust_state { TRUST_YES, TRUST_NO_DB, TRUST_ABSENT, TRUST_OTHER, TRUST_FLAGS, TRUST_NO_TOOL };

/* Whether the entry nick of db holds ca, and then how it is trusted. */
static enum trust_state entry_trust(struct doctor_env *e, const char *sql, const char *nick,
				    const char *flags, X509 *ca)
{
	char pem[32768];
	char *get[] = { "certutil", "-L", "-d", (char *)sql, "-n", (char *)nick, "-a", NULL };
	if (e->run(get, pem, sizeof pem, RUN_TIMEOUT_MS) != 0)
		return TRUST_OTHER;
	if (!pem_has(pem, ca))
		return TRUST_OTHER;
	char ssl[32]; /* the SSL column: C, a CA trusted for web sites */
	snprintf(ssl, sizeof ssl, "%.*s", (int)strcspn(flags, ","), flags);
	return strchr(ssl, 'C') ? TRUST_YES : TRUST_FLAGS;
}

/* The CA in db, under any nickname of ours ("siths-bridge local CA", the user's "siths-bridge
 * local CA (user NAME, SERIAL)"), compared by content: an entry of an older CA does not count. */
static enum trust_state store_trust(struct doctor_env *e, const char *db, X509 *ca)
{
	char out[65536];
	char path[PATH_MAX + 16], sql[PATH_MAX + 8];
	snprintf(path, sizeof path, "%s/cert9.db", db);
	if (access(path, F_OK) != 0)
		return TRUST_NO_DB;
	snprintf(sql, sizeof sql, "sql:%s", db);
	char *list[] = { "certutil", "-L", "-d", sql, NULL };
	int rc = e->run(list, out, sizeof out, RUN_TIMEOUT_MS);
	if (rc < 0)
		return TRUST_NO_TOOL;
	enum trust_state best = TRUST_ABSENT;
	char *save = NULL, *nick, *flags;
	for (char *line = strtok_r(out, "\n", &save); rc == 0 && line && best != TRUST_YES;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!listing_entry(line, &nick, &flags))
			continue;
		enum trust_state t = entry_trust(e, sql, nick, flags, ca);
		if (best == TRUST_ABSENT || t == TRUST_YES || t == TRUST_FLAGS)
			best = t;
	}
	return best;
}

/* user-trust.sh on the certificate's folder, as the service runs it before each start. */
static void trust_fix(struct doctor_env *e, struct check_result *r)
{
	const char *slash = strrchr(e->cert, '/');
	check_fix(r, "%s %.*s", TRUST_SCRIPT, slash ? (int)(slash - e->cert) : 1,
		  slash ? e->cert : ".");
}

static void trust_result(struct doctor_env *e, struct check_list *l, const char *id,
			 const char *browser, const char *db, X509 *ca)
{
	struct check_result *r = check_add(l, "%s", id);
	static const char *const sv[] = { "",
					  "ingen certifikatdatabas",
					  "CA:n finns inte där",
					  "en annan (gammal?) CA med samma namn",
					  "CA:n finns men är inte betrodd för webbplatser",
					  "certutil saknas" };
	static const char *const en[] = { "",
					  "no certificate database",
					  "the CA is not there",
					  "another (old?) CA of the same name",
					  "the CA is there but not trusted for web sites",
					  "certutil is missing" };
	enum trust_state t = store_trust(e, db, ca);
	if (t == TRUST_YES) {
		check_say(r, CHECK_OK, "CA:n är betrodd i %s (%s)", browser, db);
		check_en(r, "The CA is trusted in %s (%s)", browser, db);
		return;
	}
	check_say(r, CHECK_FAIL, "CA:n är inte betrodd i %s (%s): %s", browser, db, sv[t]);
	check_en(r, "The CA is not trusted in %s (%s): %s", browser, db, en[t]);
	if (t == TRUST_NO_TOOL)
		check_fix(r, "sudo apt-get install libnss3-tools");
	else if (e->have_systemd)
		check_fix(r, "systemctl --user restart siths-bridge.service");
	else
		trust_fix(e, r);
}

/* The Firefox profile folders: each Path= of profiles.ini (relative to its folder unless
 * IsRelative=0; a profile that has not run yet may have no certificate database) and each folder
 * with a cert9.db, in Debian's and the snap's Firefox folder; each once. */
struct profiles {
	char dir[32][PATH_MAX];
	size_t n;
};

static void profile_add(struct profiles *p, const char *dir)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->dir[i], dir))
			return;
	if (p->n < sizeof p->dir / sizeof p->dir[0])
		snprintf(p->dir[p->n++], PATH_MAX, "%s", dir);
}

static void profiles_ini(struct profiles *p, const char *base)
{
	char path[PATH_MAX + 16], line[PATH_MAX], pending[PATH_MAX] = "";
	snprintf(path, sizeof path, "%s/profiles.ini", base);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	bool relative = true;
	/* A section's Path= and IsRelative= come in either order: the path is added at the end of
	 * its section. */
	for (bool more = true; more;) {
		more = fgets(line, sizeof line, f) != NULL;
		line[strcspn(line, "\r\n")] = '\0';
		if ((!more || line[0] == '[') && pending[0]) {
			char dir[PATH_MAX * 2 + 2];
			snprintf(dir, sizeof dir, "%s%s%s", relative ? base : "",
				 relative ? "/" : "", pending);
			profile_add(p, dir);
			pending[0] = '\0';
		}
		if (line[0] == '[')
			relative = true;
		else if (!strncmp(line, "Path=", 5))
			snprintf(pending, sizeof pending, "%s", line + 5);
		else if (!strcmp(line, "IsRelative=0"))
			relative = false;
	}
	fclose(f);
}

static void profiles_find(const char *home, struct profiles *p)
{
	/* Firefox's XDG folder (Debian's firefox-esr 153 for new users), then the classic one;
	 * user-trust.sh looks in the same places. */
	static const char *const bases[] = { "/.config/mozilla/firefox", "/.mozilla/firefox",
					     "/snap/firefox/common/.mozilla/firefox" };
	for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
		char base[PATH_MAX], pat[PATH_MAX + 16];
		glob_t g;
		snprintf(base, sizeof base, "%s%s", home, bases[b]);
		profiles_ini(p, base);
		snprintf(pat, sizeof pat, "%s/*/cert9.db", base);
		if (glob(pat, 0, NULL, &g) != 0)
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++) {
			*strrchr(g.gl_pathv[i], '/') = '\0';
			profile_add(p, g.gl_pathv[i]);
		}
		globfree(&g);
	}
}

static void firefox_stores(struct doctor_env *e, struct check_list *l, X509 *ca)
{
	struct profiles *p = calloc(1, sizeof *p);
	if (!p)
		return;
	profiles_find(e->home, p);
	for (size_t i = 0; i < p->n; i++) {
		const char *slash = strrchr(p->dir[i], '/');
		char id[40];
		snprintf(id, sizeof id, "trust.firefox.%.24s", slash ? slash + 1 : p->dir[i]);
		trust_result(e, l, id, "Firefox", p->dir[i], ca);
	}
	if (!p->n) {
		struct check_result *r = check_add(l, "trust.firefox");
		check_say(r, CHECK_INFO,
			  "Ingen Firefox-profil (en ny profil får CA:n vid bryggans nästa start)");
		check_en(r,
			 "No Firefox profile (a new profile gets the CA at the bridge's next "
			 "start)");
	}
	free(p);
}

void doctor_check_trust(struct doctor_env *e, struct check_list *l)
{
	X509 *ca = read_cert(e->ca);
	if (!ca) {
		struct check_result *r = check_add(l, "trust");
		check_say(r, CHECK_FAIL, "Ingen CA att lita på (%s)", e->ca);
		check_en(r, "No CA to trust (%s)", e->ca);
		cert_fix(e, r);
		return;
	}
	char db[PATH_MAX];
	snprintf(db, sizeof db, "%s/.pki/nssdb", e->home);
	trust_result(e, l, "trust.nssdb", "Chromium", db, ca);
	firefox_stores(e, l, ca);
	X509_free(ca);
}

/* ---- policies ---- */

void doctor_check_policies(struct doctor_env *e, struct check_list *l)
{
	struct policies_paths p;
	policies_paths_init(&p, e->policy_root);
	if (!e->cfg->n_allow_origins) {
		struct check_result *r = check_add(l, "policies");
		check_say(r, CHECK_INFO,
			  "Ingen portal konfigurerad (allow-origin): bara bryggans egen sida");
		check_en(r, "No portal configured (allow-origin): only the bridge's own page");
		return;
	}
	for (size_t i = 0; i < e->cfg->n_allow_origins; i++) {
		const char *o = e->cfg->allow_origins[i];
		struct policies_presence pr;
		struct check_result *r = check_add(l, "policies.%zu", i + 1);
		policies_present(&p, o, &pr);
		if (pr.chromium && pr.chrome && pr.firefox) {
			check_say(r, CHECK_OK, "Policyer för %s finns (Chromium, Chrome, Firefox)",
				  o);
			check_en(r, "Policies for %s are present (Chromium, Chrome, Firefox)", o);
			continue;
		}
		char miss[64];
		snprintf(miss, sizeof miss, "%s%s%s", pr.chromium ? "" : " Chromium",
			 pr.chrome ? "" : " Chrome", pr.firefox ? "" : " Firefox");
		check_say(r, CHECK_FAIL, "Policyer för %s saknas för:%s", o, miss);
		check_en(r, "Policies for %s are missing for:%s", o, miss);
		check_fix(r, "sudo siths-bridge policies --write");
	}
}

/* ---- /health ---- */

void doctor_check_health(struct doctor_env *e, struct check_list *l)
{
	struct check_result *r = check_add(l, "health");
	char body[8192], why[256] = "";
	int status = 0;
	if (e->https_get(e->https_port, e->ca, "/health", 5000, &status, body, sizeof body, why,
			 sizeof why) != 0) {
		check_say(r, CHECK_FAIL, "Bryggan svarar inte på /health över TLS: %s", why);
		check_en(r, "The bridge does not answer /health over TLS: %s", why);
		check_fix(r, "%s",
			  e->have_systemd
				  ? "systemctl --user restart siths-bridge.service; journalctl "
				    "--user -u siths-bridge.service"
				  : "journalctl --user -u siths-bridge.service");
		return;
	}
	json_t *j = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
	const char *st = json_string_value(json_object_get(j, "status"));
	const char *ver = json_string_value(json_object_get(j, "version"));
	if (status != 200 || !st) {
		check_say(r, CHECK_FAIL, "/health svarade %d utan status", status);
		check_en(r, "/health answered %d without a status", status);
		check_fix(r, "journalctl --user -u siths-bridge.service");
	} else {
		check_say(r, CHECK_OK, "Bryggan svarar på /health över TLS (status %s, version %s)",
			  st, ver ? ver : "?");
		check_en(r, "The bridge answers /health over TLS (status %s, version %s)", st,
			 ver ? ver : "?");
	}
	json_decref(j);
}
