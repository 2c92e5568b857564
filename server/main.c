/* main.c — siths-bridge: parses the configuration, starts the card core and both loopback
 * listeners, logs the "ready" line, then waits for SIGINT/SIGTERM in the main thread and tears
 * everything down in reverse order. Exit 0 on a clean stop, 2 on bad usage, 1 on start failure. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "rest.h"
#include "cards.h"
#include "config.h"
#include "guard.h"
#include "http.h"
#include "log.h"
#include "login.h"
#include "ws.h"

/* /health "pcsc" part: the daemon is degraded while pcscd cannot be reached. */
static json_t *health_pcsc(void *user, bool *degraded)
{
	json_t *h = cards_health(user);
	*degraded = !json_is_true(json_object_get(h, "reachable"));
	return h;
}

static void listen_text(const struct cfg_listen *l, unsigned short port, char *buf, size_t n)
{
	snprintf(buf, n, strchr(l->addr, ':') ? "[%s]:%u" : "%s:%u", l->addr, port);
}

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

/* Blocks the stop signals in every thread (they inherit the mask) so that only sigwait sees them;
 * SIGPIPE is ignored because peers may vanish mid-write. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	struct cfg cfg;
	struct guard_origins origins = { 0 };
	struct api_ctx ctx = { 0 };
	cards *core = NULL;
	struct login login = { 0 };
	ws_server *ws = NULL;
	http_server *http = NULL;
	sigset_t set;
	const char *why = NULL;
	int rc = 1, fd = -1, sig = 0;

	api_json_wipe_on_free();
	cfg_init(&cfg);
	cfg_err ce = cfg_parse_args(&cfg, argc, argv, &why);
	if (ce == CFG_EXIT_OK) {
		rc = 0;
		goto out;
	}
	if (ce) {
		fprintf(stderr, "siths-bridge: %s\n", why ? why : cfg_strerror(ce));
		rc = 2;
		goto out;
	}
	if (!cfg.cert_file || !cfg.key_file || !cfg.www_dir) {
		fprintf(stderr, "siths-bridge: --cert, --key and --www are required (see --help)\n");
		rc = 2;
		goto out;
	}
	log_set_level((enum log_level)cfg.log_level);
	log_peer_policy(&cfg);
	block_signals(&set);
	clock_gettime(CLOCK_MONOTONIC, &ctx.started);
	ctx.cfg = &cfg;

	http_err he = http_bind(&cfg.https, &fd, &ctx.https_port);
	if (he) {
		log_error("main", "https %s:%u: %s: %s", cfg.https.addr, cfg.https.port, http_strerror(he),
		          strerror(errno));
		goto out;
	}
	if (guard_origins_init(&origins, ctx.https_port, cfg.allow_origins, cfg.n_allow_origins)) {
		log_error("main", "out of memory");
		goto out;
	}

	card_err cre = cards_start(&core);
	if (cre) {
		log_warn("main", "card core not started: %s", card_strerror(cre));
		core = NULL;
	}
	ws_err we = ws_start(&cfg, &origins, core ? cards_ws_greeting : NULL, core, &ws);
	if (we) {
		log_error("main", "wss: %s", ws_strerror(we));
		goto out;
	}
	ctx.ws = ws;
	ctx.wss_port = ws_port(ws);
	if (core) {
		ctx.cards = core;
		cards_set_ws(core, ws);
		api_health_add(&ctx, "pcsc", health_pcsc, core);
		if (login_start(&login, &cfg, cards_core(core), ws))
			goto out;
		ctx.login = &login;
		cards_set_removed_hook(core, login_card_removed, &login);
		api_health_add(&ctx, "issuer", login_health_issuer, &login);
	}

	he = http_start(fd, &cfg, &ctx, &origins, &http);
	fd = -1;
	if (he) {
		log_error("main", "https: %s", http_strerror(he));
		goto out;
	}

	char h[80], w[80];
	listen_text(&cfg.https, ctx.https_port, h, sizeof h);
	listen_text(&cfg.wss, ctx.wss_port, w, sizeof w);
	log_info("main", "ready https=%s wss=%s", h, w);

	while (sigwait(&set, &sig) != 0)
		;
	log_info("main", "stopping on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	http_stop(http);
	if (core) {
		cards_set_removed_hook(core, NULL, NULL);
		cards_set_ws(core, NULL);
	}
	login_stop(&login); /* waits for running jobs: before the card core and ws stop */
	ws_stop(ws);
	cards_stop(core);
	guard_origins_free(&origins);
	cfg_free(&cfg);
	if (rc == 0 && sig)
		log_info("main", "stopped");
	return rc;
}
