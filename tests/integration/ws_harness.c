/* ws_harness.c — test-only program (never installed): the WSS listener (server/net/ws.c) alone,
 * configured with the daemon's own options, driven by commands on stdin so ws.test.mjs can test
 * ws_broadcast() end to end from other threads. EOF on stdin stops it cleanly (leak-checked).
 * Each client is greeted with the daemon's hello (rest/events.c), then with the messages of
 * WS_HARNESS_GREETING.
 *
 * Commands, one per line:
 *   send JSON          ws_broadcast(JSON) from the main thread
 *   flood N BYTES      a new thread broadcasts N messages of about BYTES each, then prints "flooded"
 *   count              prints "clients N"
 * Environment: WS_HARNESS_GREETING = a JSON array of the messages that follow the hello, each
 * handed to the listener as it is (one without a "type" included). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "events.h"
#include "guard.h"
#include "log.h"
#include "ws.h"

struct flood {
	ws_server *ws;
	unsigned long n, bytes;
};

/* ws_greeting_fn (user = the WS_HARNESS_GREETING array or NULL). */
static void greeting(void *user, ws_json_fn send, void *to)
{
	const json_t *extra = user;
	size_t i;
	json_t *msg;
	json_array_foreach(extra, i, msg) send(to, msg);
}

static void *flood_thread(void *arg)
{
	struct flood *f = arg;
	char *pad = malloc(f->bytes + 1);
	char *msg = malloc(f->bytes + 64);
	if (pad && msg) {
		memset(pad, 'x', f->bytes);
		pad[f->bytes] = '\0';
		for (unsigned long i = 0; i < f->n; i++) {
			snprintf(msg, f->bytes + 64,
				 "{\"type\":\"flood\",\"i\":%lu,\"pad\":\"%s\"}", i, pad);
			ws_broadcast(f->ws, msg);
		}
	}
	free(pad);
	free(msg);
	return NULL;
}

static void flood(ws_server *ws, const char *args)
{
	struct flood f = { .ws = ws };
	pthread_t t;
	if (sscanf(args, "%lu %lu", &f.n, &f.bytes) != 2 || f.bytes > (1u << 20)) {
		printf("error bad flood\n");
		return;
	}
	if (pthread_create(&t, NULL, flood_thread, &f) == 0)
		pthread_join(t, NULL);
	printf("flooded\n");
}

static void serve_stdin(ws_server *ws)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (strncmp(line, "send ", 5) == 0)
			ws_broadcast(ws, line + 5);
		else if (strncmp(line, "flood ", 6) == 0)
			flood(ws, line + 6);
		else if (strcmp(line, "count") == 0)
			printf("clients %u\n", ws_client_count(ws));
		else
			printf("error unknown command\n");
		fflush(stdout);
	}
	free(line);
}

int main(int argc, char **argv)
{
	struct cfg cfg;
	struct guard_origins origins = { 0 };
	ws_server *ws = NULL;
	json_t *extra = NULL;
	char *hello = NULL;
	const char *why = NULL;
	int rc = 1;

	cfg_init(&cfg);
	cfg_err ce = cfg_parse_args(&cfg, argc, argv, &why);
	if (ce != CFG_OK) {
		fprintf(stderr, "ws_harness: %s\n", why ? why : cfg_strerror(ce));
		goto out;
	}
	log_set_level((enum log_level)cfg.log_level);
	if (guard_origins_init(&origins, cfg.https.port, cfg.allow_origins, cfg.n_allow_origins) !=
	    0)
		goto out;
	const char *g = getenv("WS_HARNESS_GREETING");
	json_error_t err;
	extra = g ? json_loads(g, 0, &err) : NULL;
	if (g && !json_is_array(extra)) { /* a macro: its argument is evaluated more than once */
		fprintf(stderr, "ws_harness: WS_HARNESS_GREETING is not a JSON array\n");
		goto out;
	}
	hello = events_hello();
	struct ws_greeting gr = { .hello = hello, .fn = greeting, .user = extra };
	ws_err e = hello ? ws_start(&cfg, &origins, &gr, NULL, &ws) : WS_E_NOMEM;
	if (e != WS_OK) {
		fprintf(stderr, "ws_harness: %s\n", ws_strerror(e));
		goto out;
	}
	printf("ready wss=%s:%u\n", cfg.wss.addr, ws_port(ws));
	fflush(stdout);
	serve_stdin(ws);
	rc = 0;
out:
	ws_stop(ws);
	json_decref(extra);
	free(hello);
	guard_origins_free(&origins);
	cfg_free(&cfg);
	return rc;
}
