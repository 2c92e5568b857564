/* main.c — siths-bridge: parses the configuration, then wires the layers together — the domain
 * (sessions, issuer, job engine) and the card core, the REST context, the listeners (its own or
 * the service manager's) — logs the "ready" line and notifies readiness, waits in the main thread
 * for SIGINT/SIGTERM or the idle exit and tears everything down in reverse order. The only file
 * that knows every layer. Exit 0 on a clean stop or idle exit, 2 on bad usage, 1 on start
 * failure. `siths-bridge doctor` and `siths-bridge policies` are handed to server/tools/. */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

#include "cards.h"
#include "events.h"
#include "health.h"
#include "jobs.h"
#include "rest.h"
#include "routes.h"

#include "certcheck.h"
#include "certjob.h"
#include "issuer_cmp.h"
#include "testca_proc.h"
#include "session.h"

#include "activation.h"
#include "guard.h"
#include "http.h"
#include "ws.h"

#include "idle.h"

#include "doctor.h"
#include "policies.h"

/* The idle exit when socket-activated and not configured: long enough for a page that is being
 * reloaded or navigated back to, short enough to cost nothing soon after the page is closed. */
#define IDLE_EXIT_ACTIVATED_S 300

/* Everything the daemon runs, owned here. */
struct daemon {
	struct cfg cfg;
	struct guard_origins origins;
	struct health health;
	struct rest_ctx ctx;
	card_core *core;
	struct session_store *sessions;
	struct issuer *issuer;
	struct testca_proc *testca; /* the child siths-test-ca of --test-issuer, or NULL */
	struct certcheck_trust *trust;
	struct certjobs *jobs;
	/* The job engine as the card core's events reach it: it starts after the core (it needs
	 * it) and ends before it (its jobs need it), so the monitor thread takes it under a lock. */
	pthread_mutex_t jobs_seen_lock;
	struct certjobs *jobs_seen; /* NULL before the engine runs and once it stops */
	struct events *events;
	ws_server *ws;
	http_server *http;
	int https_fd;
	struct activation act; /* the inherited listeners, if any */
	struct idle *idle;     /* NULL: no idle exit */
	unsigned idle_s;       /* its idle time */
};

/* One line naming the users whose loopback clients are served (docs/security.md). */
static void log_peer_policy(const struct cfg *c)
{
	char extra[256] = "";
	size_t n = 0;
	for (size_t i = 0; i < c->n_allow_uids && n < sizeof extra; i++) {
		int w = snprintf(extra + n, sizeof extra - n, " %u", (unsigned)c->allow_uids[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (n >= sizeof extra) /* cut: the list is only informative */
		memcpy(extra + sizeof extra - 5, " ...", 5);
	log_info("main", "serving loopback clients of uid %u%s%s", (unsigned)geteuid(),
		 n ? ", also allowed:" : " only", extra);
}

/* Blocks the stop signals in every thread (they inherit the mask) so that only sigwait sees them,
 * and SIGUSR1, the idle tracker's wake-up of the main thread; SIGPIPE is ignored because peers may
 * vanish mid-write. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* 0 to go on; else the exit code (0 after --help/--version, 2 for bad usage). */
static int parse_config(struct cfg *cfg, int argc, char **argv)
{
	const char *why = NULL;
	cfg_err ce = cfg_parse_args(cfg, argc, argv, &why);
	if (ce == CFG_EXIT_OK)
		return -1;
	if (ce) {
		fprintf(stderr, "siths-bridge: %s\n", why ? why : cfg_strerror(ce));
		return 2;
	}
	if (cfg->issuer_cmp_url && (cfg->test_issuer_dir || !cfg->issuer_cmp_ca)) {
		fprintf(stderr,
			"siths-bridge: --issuer-cmp needs --issuer-cmp-ca and excludes "
			"--test-issuer\n");
		return 2;
	}
	if (!cfg->cert_file || !cfg->key_file || !cfg->www_dir) {
		fprintf(stderr,
			"siths-bridge: --cert, --key and --www are required (see --help)\n");
		return 2;
	}
	return 0;
}

/* The card core's events: the REST side (log, sessions, the event), then the job engine (an
 * interrupted job's card coming back). */
static void card_event(const struct card_event *ev, void *user)
{
	struct daemon *d = user;
	cards_event(ev, &d->ctx);
	if (ev->kind != CARD_EV_CARD_INSERTED && ev->kind != CARD_EV_CARD_REMOVED)
		return;
	pthread_mutex_lock(&d->jobs_seen_lock);
	certjob_card_event(d->jobs_seen, ev);
	pthread_mutex_unlock(&d->jobs_seen_lock);
}

static void jobs_seen_set(struct daemon *d, struct certjobs *jobs)
{
	pthread_mutex_lock(&d->jobs_seen_lock);
	d->jobs_seen = jobs;
	pthread_mutex_unlock(&d->jobs_seen_lock);
}

/* A CA over CMP at ic->url, its issued certificates checked against the anchors in ca_file.
 * 0, or -1 after logging why. */
static int open_cmp_issuer(struct daemon *d, struct issuer_cmp_cfg *ic, const char *ca_file)
{
	certcheck_err ce = certcheck_trust_load(ca_file, &d->trust);
	if (ce) {
		log_error("main", "trust anchor %s: %s", ca_file, certcheck_strerror(ce));
		return -1;
	}
	ic->test = certcheck_trust_is_test(d->trust);
	issuer_err ie = issuer_cmp_open(ic, &d->issuer);
	if (ie) {
		log_error("main", "CMP issuer %s: %s", ic->url, issuer_strerror(ie));
		return -1;
	}
	if (ic->test)
		log_warn("main",
			 "certificate issuer: CMP at %s issues into a TEST hierarchy "
			 "(development certificates only)",
			 ic->url);
	return 0;
}

/* The CMP settings of the configuration: `--issuer-cmp URL` and the rest of its keys. */
static struct issuer_cmp_cfg cmp_cfg_of(const struct cfg *c)
{
	return (struct issuer_cmp_cfg){ .url = c->issuer_cmp_url,
					.trusted = c->issuer_cmp_trusted,
					.tls_trusted = c->issuer_cmp_tls_trusted,
					.mac_file = c->issuer_cmp_mac_file,
					.signature = c->issuer_cmp_signature,
					.msg_timeout_s = c->issuer_cmp_msg_timeout_s,
					.total_timeout_s = c->issuer_cmp_timeout_s };
}

/* `--test-issuer DIR`: siths-test-ca on DIR started as this daemon's child, reached over CMP
 * with an order made for this run (or, under `--issuer-cmp-protection signature`, with the
 * card's signature, the CA's answers trusted from DIR's root). 0, or -1 after logging why. */
static int open_test_issuer(struct daemon *d, const char *dir)
{
	char root[PATH_MAX];
	snprintf(root, sizeof root, "%s/root-ca.pem", dir);
	bool signature = d->cfg.issuer_cmp_signature;
	testca_proc_err te = testca_proc_start(NULL, dir, signature, &d->testca);
	if (te) {
		log_error("main", "test issuer %s: %s", dir, testca_proc_strerror(te));
		return -1;
	}
	struct issuer_cmp_cfg ic = cmp_cfg_of(&d->cfg);
	ic.url = testca_proc_url(d->testca);
	ic.mac_order = testca_proc_order(d->testca);
	ic.mac_file = ic.tls_trusted = NULL; /* the child's own order, over http on loopback */
	ic.trusted = signature ? root : NULL;
	return open_cmp_issuer(d, &ic, root);
}

static uint64_t sessions_busy(void *sessions)
{
	return session_busy_ms(sessions);
}

static void sessions_ended(void *idle)
{
	idle_changed(idle);
}

static void job_busy(void *idle, bool begins)
{
	if (begins)
		idle_hold(idle);
	else
		idle_release(idle);
}

/* The tracker's waker: the main thread's wait (wait_for_stop) ends and asks the tracker again. */
static pthread_t main_thread;
static void wake_main(void *user)
{
	(void)user;
	pthread_kill(main_thread, SIGUSR1);
}

/* The card core and what works on cards: the issuer and the job engine, whose reports become
 * events. Sessions and events exist before the core starts: its events end sessions. A core
 * that does not start is not fatal (the card routes answer 503). 0, or -1 after logging why. */
static int start_cards(struct daemon *d)
{
	if (session_store_new(NULL, NULL, &d->sessions) != SESSION_OK ||
	    !(d->events = events_new())) {
		log_error("main", "out of memory");
		return -1;
	}
	d->ctx.sessions = d->sessions;
	d->ctx.events = d->events;
	card_err e = card_core_start(card_event, d, &d->core);
	if (e) {
		log_warn("main", "card core not started: %s", card_strerror(e));
		d->core = NULL;
		return 0;
	}
	if (d->cfg.test_issuer_dir && open_test_issuer(d, d->cfg.test_issuer_dir))
		return -1;
	struct issuer_cmp_cfg ic = cmp_cfg_of(&d->cfg);
	if (d->cfg.issuer_cmp_url && open_cmp_issuer(d, &ic, d->cfg.issuer_cmp_ca))
		return -1;
	if (!d->issuer)
		log_info("login",
			 "no certificate issuer configured: downloads answer issuer_unavailable");
	struct certjob_deps deps = { .core = d->core,
				     .issuer = d->issuer,
				     .trust = d->trust,
				     .report = events_job,
				     .report_user = d->events,
				     .busy = job_busy,
				     .busy_user = d->idle };
	if (certjob_new(&deps, &d->jobs) != CERTJOB_OK) {
		log_error("main", "out of memory");
		return -1;
	}
	jobs_seen_set(d, d->jobs);
	d->ctx.core = d->core;
	d->ctx.jobs = d->jobs;
	health_add(&d->health, "pcsc", cards_health, d->core);
	health_add(&d->health, "issuer", jobs_health_issuer, d->issuer);
	return 0;
}

static void publish(void *ws, const char *text)
{
	ws_broadcast(ws, text);
}

static unsigned wss_clients(void *ws)
{
	return ws_client_count(ws);
}

/* The WSS listener, greeting each client with the hello and the cards present; events go to it
 * from now on. */
static int start_ws(struct daemon *d)
{
	char *hello = events_hello();
	struct ws_greeting g = { .hello = hello, .fn = events_greet, .user = d->core };
	struct ws_source src = { .fd = d->act.wss_fd, .idle = d->idle };
	d->act.wss_fd = -1; /* ws_start's now */
	ws_err we = hello ? ws_start(&d->cfg, &d->origins, &g, &src, &d->ws) : WS_E_NOMEM;
	if (!hello && src.fd >= 0)
		close(src.fd);
	free(hello);
	if (we) {
		log_error("main", "wss: %s", ws_strerror(we));
		return -1;
	}
	d->health.wss_port = ws_port(d->ws);
	d->health.wss_clients = wss_clients;
	d->health.wss_clients_user = d->ws;
	events_set_sink(d->events, publish, d->ws);
	return 0;
}

static int start_https(struct daemon *d)
{
	struct http_setup su = { .cfg = &d->cfg,
				 .origins = &d->origins,
				 .routes = &routes_table,
				 .ctx = &d->ctx,
				 .https_port = d->health.https_port,
				 .wss_port = d->health.wss_port,
				 .idle = d->idle };
	http_err he = http_start(d->https_fd, &su, &d->http);
	d->https_fd = -1;
	if (he) {
		log_error("main", "https: %s", http_strerror(he));
		return -1;
	}
	return 0;
}

/* The listeners: the service manager's, when it passed them (their addresses replace the
 * configured ones), else our own HTTPS socket now (WSS binds its own in ws_start). Then the idle
 * exit: --idle-exit, or by default only when socket-activated, since only then does the next
 * connection start the daemon again. 0, or -1 after logging why. */
static int take_listeners(struct daemon *d)
{
	activation_err ae = activation_take(&d->act);
	if (ae) {
		log_error("main", "socket activation: %s: %s", activation_strerror(ae), d->act.why);
		return -1;
	}
	if (d->act.active) {
		d->cfg.https = d->act.https;
		d->cfg.wss = d->act.wss;
		d->https_fd = d->act.https_fd;
		d->act.https_fd = -1;
		d->health.https_port = d->cfg.https.port;
		log_info("main", "socket-activated: listeners inherited from the service manager");
	} else {
		http_err he = http_bind(&d->cfg.https, &d->https_fd, &d->health.https_port);
		if (he) {
			log_error("main", "https %s:%u: %s: %s", d->cfg.https.addr,
				  d->cfg.https.port, http_strerror(he), strerror(errno));
			return -1;
		}
	}
	d->idle_s = d->cfg.idle_exit_s;
	if (d->idle_s == CFG_IDLE_EXIT_UNSET)
		d->idle_s = d->act.active ? IDLE_EXIT_ACTIVATED_S : 0;
	if (d->idle_s && idle_new(d->idle_s, NULL, NULL, &d->idle) != IDLE_OK) {
		log_error("main", "out of memory");
		return -1;
	}
	if (d->idle_s)
		log_info("main", "idle exit after %u s without a connection, session or job",
			 d->idle_s);
	return 0;
}

/* What keeps the daemon busy without a connection: login sessions until they expire or end (a
 * probe), running jobs (held by the job engine, see start_cards). */
static int watch_idle(struct daemon *d)
{
	if (!d->idle)
		return 0;
	if (idle_add_probe(d->idle, sessions_busy, d->sessions)) {
		log_error("main", "idle exit: cannot watch sessions");
		return -1;
	}
	session_store_on_end(d->sessions, sessions_ended, d->idle);
	idle_set_waker(d->idle, wake_main, NULL);
	return 0;
}

/* Start-up in the order of docs/architecture.md: the HTTPS socket first (its port is in the
 * origin allowlist), the card core, WSS (needs the allowlist), then HTTPS (its CSP names the
 * WSS port). 0, or -1 after logging why. */
static int start(struct daemon *d)
{
	if (take_listeners(d))
		return -1;
	if (guard_origins_init(&d->origins, d->health.https_port, d->cfg.allow_origins,
			       d->cfg.n_allow_origins)) {
		log_error("main", "out of memory");
		return -1;
	}
	d->health.cfg = &d->cfg;
	d->ctx.health = &d->health;
	if (start_cards(d) || watch_idle(d) || start_ws(d) || start_https(d))
		return -1;
	char h[80], w[80], status[200];
	cfg_listen_text(&d->cfg.https, d->health.https_port, h, sizeof h);
	cfg_listen_text(&d->cfg.wss, d->health.wss_port, w, sizeof w);
	log_info("main", "ready https=%s wss=%s", h, w);
	snprintf(status, sizeof status, "serving https://%s and wss://%s", h, w);
	activation_ready(status);
	return 0;
}

/* Blocks until SIGINT/SIGTERM (returned) or, with an idle exit, until the tracker says the daemon
 * has been unused long enough (0): it is asked again when the wait it asked for ends or its
 * waker sends SIGUSR1 (a release, a session ended early). Nothing polls. */
static int wait_for_stop(struct daemon *d, const sigset_t *set)
{
	for (;;) {
		uint64_t ms = 0;
		if (d->idle && idle_due(d->idle, &ms))
			return 0;
		int sig;
		if (d->idle && ms != UINT64_MAX) {
			struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
					       .tv_nsec = (long)(ms % 1000) * 1000000L };
			sig = sigtimedwait(set, NULL, &ts);
		} else if (sigwait(set, &sig) != 0) {
			sig = -1;
		}
		if (sig == SIGINT || sig == SIGTERM)
			return sig;
	}
}

/* The reverse: no new requests, no more events, running jobs finish (before the card core and
 * WSS stop), WSS, the card core (whose events end sessions), then what they used. */
static void stop(struct daemon *d)
{
	if (d->https_fd >= 0)
		close(d->https_fd);
	if (d->act.https_fd >= 0)
		close(d->act.https_fd);
	if (d->act.wss_fd >= 0)
		close(d->act.wss_fd);
	http_stop(d->http);
	if (d->events)
		events_set_sink(d->events, NULL, NULL);
	jobs_seen_set(d, NULL);
	certjob_free(d->jobs);
	ws_stop(d->ws);
	card_core_stop(d->core);
	session_store_free(d->sessions);
	events_free(d->events);
	issuer_destroy(d->issuer);
	testca_proc_stop(d->testca);
	certcheck_trust_free(d->trust);
	guard_origins_free(&d->origins);
	idle_free(d->idle);
	cfg_free(&d->cfg);
}

int main(int argc, char **argv)
{
	struct daemon d = { .https_fd = -1,
			    .act = { .https_fd = -1, .wss_fd = -1 },
			    .jobs_seen_lock = PTHREAD_MUTEX_INITIALIZER };
	sigset_t set;
	int rc, sig = 0;

	/* The subcommands: everything after the word is theirs. */
	if (argc > 1 && !strcmp(argv[1], "doctor"))
		return doctor_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "policies"))
		return policies_main(argc - 1, argv + 1);
	rest_json_wipe_on_free();
	cfg_init(&d.cfg);
	rc = parse_config(&d.cfg, argc, argv);
	if (rc) {
		cfg_free(&d.cfg);
		return rc < 0 ? 0 : rc;
	}
	log_set_level((enum log_level)d.cfg.log_level);
	log_peer_policy(&d.cfg);
	main_thread = pthread_self();
	block_signals(&set);
	clock_gettime(CLOCK_MONOTONIC, &d.health.started);
	rc = 1;
	if (start(&d) == 0) {
		sig = wait_for_stop(&d, &set);
		if (sig)
			log_info("main", "stopping on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
		else
			log_info("main", "stopping: unused for %u s", d.idle_s);
		activation_stopping();
		rc = 0;
	}
	stop(&d);
	if (rc == 0)
		log_info("main", "stopped");
	return rc;
}
