/* ws.c — the secure WebSocket listener: one libwebsockets context on its own service thread,
 * one TLS vhost on the loopback address (listening itself, or fed by an inherited listener), one
 * path (/v1/events). Other threads hand messages in through a mutex-protected inbox and
 * lws_cancel_service(); the lws thread fans them out to per-client bounded queues of refcounted
 * buffers. Everything else here runs on the lws thread. */
#define _GNU_SOURCE /* accept4 */
#include "ws.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "log.h"
#include "peer.h"
#include "reqhead.h"
#include "tls.h"
#include "urlpath.h"
#include "wsrx.h"

#define WS_PATH "/v1/events"
#define WS_PROTOCOL "siths-events"
#define WS_ACCEPT_PROTOCOL "siths-accept"
/* Connections accepted from an inherited listener per wake-up, so that one busy listener cannot
 * hold the service thread (lws's own listener stops at its fd limit in the same way). */
#define WS_ACCEPT_BURST 16
/* A client this many messages behind is cut off: a page that stopped reading must not make
 * the daemon's memory grow. Events are small and rare, so a live page is never near this. */
#define WS_BACKLOG 512
/* A client's queue starts this small and doubles up to WS_BACKLOG (a power of two times it):
 * nearly every client is idle, and 512 slots each cost 4 KB a client for nothing. */
#define WS_QUEUE_MIN 4
#define WS_DEFAULT_MAX_CLIENTS 64
#define WS_DEFAULT_MAX_MESSAGE 4096
#define WS_DEFAULT_MAX_HEADER 4096
#define WS_DEFAULT_TIMEOUT_S 10
#define WS_MAX_TIMEOUT_S 3600 /* keeps the keepalive times in lws's 16 bits */
/* lws's chunk size for incoming frames; larger client messages arrive as several RECEIVEs. */
#define WS_RX_CHUNK 128
/* The only WebSocket version (RFC 6455); others are answered 426 naming it. */
#define WS_VERSION "13"
/* Untrusted header values are logged cut to this length. */
#define WS_LOG_FIELD 97 /* 96 characters and the NUL */

/* TLS 1.2: ECDHE with AEAD only. TLS 1.3: the AEAD suites. */
static const char ws_ciphers_tls12[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
				       "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
				       "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
static const char ws_ciphers_tls13[] =
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

/* One outgoing text message shared by every client queue holding it. refs is touched only on
 * the lws thread (the inbox owns the single initial reference until the fan-out). */
struct ws_msg {
	struct ws_msg *next; /* inbox link */
	unsigned refs;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then len bytes of text, then NUL */
};

/* Per-connection data, allocated and zeroed by lws. */
struct ws_client {
	lws_dll2_t link; /* in ws_server.clients while established */
	struct lws *wsi;
	struct ws_msg **q; /* a ring of cap slots (malloc'd, NULL until the first message) */
	unsigned cap, head, count;
	bool established;
	bool doomed; /* cut off; waiting for lws to close it */
};

struct ws_server {
	const struct cfg *cfg;
	const struct guard_origins *origins;
	struct ws_msg *hello; /* shared by every client queue; NULL: none */
	ws_greeting_fn greeting;
	void *greeting_user;

	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct lws_vhost *accept_vh; /* only with an inherited listener: its accept loop */
	int listen_fd;               /* the inherited listener until lws owns it; -1: none */
	struct idle *idle;
	unsigned short port;
	lws_retry_bo_t keepalive;
	unsigned max_clients;
	size_t max_message;
	lws_dll2_owner_t clients; /* lws thread only */

	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	atomic_uint n_clients;

	pthread_mutex_t lock; /* guards the inbox */
	struct ws_msg *inbox_head, **inbox_tail;
};

const char *ws_strerror(ws_err e)
{
	switch (e) {
	case WS_OK: return "ok";
	case WS_E_TLS: return "TLS certificate or key could not be loaded";
	case WS_E_BIND: return "WebSocket listener could not be bound";
	case WS_E_NOMEM: return "out of memory";
	case WS_E_THREAD: return "WebSocket service thread could not be started";
	}
	return "unknown WebSocket error";
}

/* ---- messages ---- */

static struct ws_msg *msg_new(const char *text, size_t len)
{
	struct ws_msg *m = malloc(sizeof(*m) + LWS_PRE + len + 1);
	if (!m)
		return NULL;
	m->next = NULL;
	m->refs = 1;
	m->len = len;
	memcpy(m->buf + LWS_PRE, text, len);
	m->buf[LWS_PRE + len] = '\0';
	return m;
}

static void msg_unref(struct ws_msg *m)
{
	if (m && --m->refs == 0)
		free(m);
}

/* ---- per-client queue (lws thread) ---- */

static void client_drop_queue(struct ws_client *c)
{
	while (c->count) {
		msg_unref(c->q[c->head]);
		c->head = (c->head + 1) % c->cap;
		c->count--;
	}
	free(c->q);
	c->q = NULL;
	c->cap = c->head = 0;
}

/* Doubles the ring (the oldest message first in the new one); false when out of memory. */
static bool client_grow(struct ws_client *c)
{
	unsigned cap = c->cap ? c->cap * 2 : WS_QUEUE_MIN;
	struct ws_msg **q = malloc(cap * sizeof(*q));
	if (!q)
		return false;
	for (unsigned i = 0; i < c->count; i++)
		q[i] = c->q[(c->head + i) % c->cap];
	free(c->q);
	c->q = q;
	c->cap = cap;
	c->head = 0;
	return true;
}

/* Cuts a client off without a close handshake: its socket is already backed up. */
static void client_doom(struct ws_client *c, const char *why)
{
	char peer[64] = "";
	lws_get_peer_simple(c->wsi, peer, sizeof(peer));
	log_warn("ws", "closing client %s: %s", peer, why);
	c->doomed = true;
	client_drop_queue(c);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void client_push(struct ws_client *c, struct ws_msg *m)
{
	if (c->doomed)
		return;
	if (c->count == WS_BACKLOG) {
		client_doom(c, "too many messages behind");
		return;
	}
	if (c->count == c->cap && !client_grow(c)) {
		client_doom(c, "out of memory for its queue");
		return;
	}
	m->refs++;
	c->q[(c->head + c->count) % c->cap] = m;
	c->count++;
	lws_callback_on_writable(c->wsi);
}

/* Sends the oldest queued message; lws allows one write per WRITEABLE callback. */
static int client_write_one(struct ws_client *c)
{
	if (c->doomed || !c->count)
		return 0;
	struct ws_msg *m = c->q[c->head];
	int n = lws_write(c->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
	c->head = (c->head + 1) % c->cap;
	c->count--;
	msg_unref(m);
	if (n < 0)
		return -1;
	if (c->count)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* ---- fan-out of the inbox (lws thread, on EVENT_WAIT_CANCELLED) ---- */

static struct ws_msg *inbox_take(ws_server *s)
{
	pthread_mutex_lock(&s->lock);
	struct ws_msg *m = s->inbox_head;
	s->inbox_head = NULL;
	s->inbox_tail = &s->inbox_head;
	pthread_mutex_unlock(&s->lock);
	return m;
}

static void inbox_free(struct ws_msg *m)
{
	while (m) {
		struct ws_msg *next = m->next;
		msg_unref(m);
		m = next;
	}
}

static void fan_out(ws_server *s)
{
	struct ws_msg *m = inbox_take(s);
	while (m) {
		struct ws_msg *next = m->next;
		lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, lws_dll2_get_head(&s->clients))
		{
			client_push(lws_container_of(d, struct ws_client, link), m);
		}
		lws_end_foreach_dll_safe(d, d1);
		msg_unref(m);
		m = next;
	}
}

void ws_broadcast(ws_server *s, const char *json)
{
	if (!s || !json)
		return;
	struct ws_msg *m = msg_new(json, strlen(json));
	if (!m) {
		log_error("ws", "out of memory: event dropped");
		return;
	}
	pthread_mutex_lock(&s->lock);
	*s->inbox_tail = m;
	s->inbox_tail = &m->next;
	pthread_mutex_unlock(&s->lock);
	lws_cancel_service(s->ctx);
}

unsigned ws_client_count(ws_server *s)
{
	return s ? atomic_load(&s->n_clients) : 0;
}

unsigned short ws_port(const ws_server *s)
{
	return s ? s->port : 0;
}

/* ---- who may connect ---- */

/* Called by lws for each accepted socket before TLS: the kernel is asked which user owns the
 * client's socket. Non-zero makes lws close it at once. */
static int filter_peer(ws_server *s, int fd)
{
	uid_t uid = 0;
	peer_err e = peer_admit_fd(fd, s->cfg->allow_uids, s->cfg->n_allow_uids, &uid);
	return peer_log_admission("ws", e, uid) ? 0 : -1;
}

/* ---- the upgrade: path, Host, Origin, capacity ---- */

/* Copies one header for checks. *out is NULL when absent; returns false when it is present
 * more than once or does not fit, which is refused outright (no guessing which one counts). */
static bool header_get(struct lws *wsi, enum lws_token_indexes h, char *buf, int size,
		       const char **out)
{
	*out = NULL;
	int total = lws_hdr_total_length(wsi, h);
	if (total <= 0)
		return true;
	if (total >= size || lws_hdr_fragment_length(wsi, h, 1) > 0)
		return false;
	if (lws_hdr_copy(wsi, buf, size, h) < 0)
		return false;
	*out = buf;
	return true;
}

/* An HTTP answer without a body, with one extra header when name is set ("name:" form). */
static int send_status(struct lws *wsi, unsigned status, const char *name, const char *value)
{
	unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start;
	unsigned char *end = buf + sizeof(buf) - 1;
	if (lws_add_http_header_status(wsi, status, &p, end) ||
	    (name &&
	     lws_add_http_header_by_name(wsi, (const unsigned char *)name,
					 (const unsigned char *)value, (int)strlen(value), &p,
					 end)) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close",
					 5, &p, end) ||
	    lws_add_http_header_content_length(wsi, 0, &p, end) ||
	    lws_finalize_http_header(wsi, &p, end))
		return -1;
	int n = (int)(p - start);
	return lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP) == n ? 0 : -1;
}

struct upgrade {
	const char *path, *host, *origin; /* for the log: raw path, Host, Origin (may be NULL) */
};

static int refuse(struct lws *wsi, unsigned status, const char *code, const struct upgrade *u)
{
	char peer[64] = "", h[WS_LOG_FIELD], o[WS_LOG_FIELD], p[WS_LOG_FIELD];
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	log_safe(u->path, p, sizeof(p));
	log_safe(u->host, h, sizeof(h));
	log_safe(u->origin, o, sizeof(o));
	log_warn("ws", "upgrade refused (%u %s) from %s: path \"%s\" host \"%s\" origin \"%s\"",
		 status, code, peer, p, h, o);
	/* 426 names the version we speak (RFC 6455 4.2.2). >0 tells lws the answer was sent and
	 * the connection is done; a failed write just hangs up. */
	bool version = status == 426;
	return send_status(wsi, status, version ? "sec-websocket-version:" : NULL,
			   version ? WS_VERSION : NULL)
		? -1
		: 1;
}

/* reqhead.h's rules over every header lws stored, each occurrence on its own (lws keeps a
 * repeated header as another fragment of the same token), by length: a NUL stays visible. */
static reqhead_err head_rules(struct lws *wsi)
{
	struct reqhead rh;
	char small[256];
	reqhead_init(&rh);
	for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
		const char *name = (const char *)lws_token_to_string((enum lws_token_indexes)t);
		size_t nl = name ? strlen(name) : 0;
		/* Header tokens are spelt "name:"; the rest are methods, versions, h2 pseudo-headers. */
		if (!nl || name[0] == ':' || name[nl - 1] != ':' ||
		    !lws_hdr_total_length(wsi, (enum lws_token_indexes)t))
			continue;
		enum lws_token_indexes h = (enum lws_token_indexes)t;
		for (int f = 0;; f++) {
			int fl = lws_hdr_fragment_length(wsi, h, f);
			char *buf = fl < (int)sizeof(small) ? small : malloc((size_t)fl + 1);
			int n = buf ? lws_hdr_copy_fragment(wsi, buf, fl + 1, h, f) : -1;
			if (n >= 0)
				reqhead_add(&rh, name, nl - 1, buf, (size_t)n);
			if (buf != small)
				free(buf);
			if (n < 0 && fl > 0)
				return REQHEAD_E_CONTROL; /* out of memory: refused, not skipped */
			if (n < 0)
				break; /* no more occurrences */
		}
	}
	return reqhead_verdict(&rh);
}

/* The path as the client sent it (lws hands callbacks a rewritten one), judged by urlpath.c like
 * the HTTPS listener's: a malformed path is 400, another path 404. */
static unsigned check_path(struct lws *wsi, char *raw, size_t size, const char **code)
{
	size_t n = 0;
	char path[WSRX_LINE_MAX + 1];
	raw[0] = '\0';
	if (!wsrx_request_target(lws_get_ssl(wsi), raw, size, &n) || memchr(raw, '\0', n)) {
		*code = "bad_path";
		return 400;
	}
	raw[strcspn(raw, "?")] = '\0'; /* the query is ignored, as for a GET on HTTPS */
	urlpath_err e = urlpath_decode(raw, path, sizeof(path));
	if (e) {
		*code = "bad_path";
		return 400;
	}
	if (strcmp(path, WS_PATH) != 0) {
		*code = "not_found";
		return 404;
	}
	return 0;
}

static int confirm_upgrade(ws_server *s, struct lws *wsi, const char *to)
{
	char pbuf[WSRX_LINE_MAX + 1], hbuf[256], obuf[512], vbuf[16];
	const char *host, *origin, *version, *code = "bad_request";
	struct upgrade u = { .path = pbuf };
	pbuf[0] = '\0';
	bool ok = header_get(wsi, WSI_TOKEN_HOST, hbuf, sizeof(hbuf), &host);
	ok = header_get(wsi, WSI_TOKEN_ORIGIN, obuf, sizeof(obuf), &origin) && ok;
	ok = header_get(wsi, WSI_TOKEN_VERSION, vbuf, sizeof(vbuf), &version) && ok;
	u.host = host;
	u.origin = origin;
	reqhead_err he = head_rules(wsi);
	if (!ok || he)
		return refuse(wsi, 400, "bad_request", &u);
	unsigned st = check_path(wsi, pbuf, sizeof(pbuf), &code);
	if (st)
		return refuse(wsi, st, code, &u);
	if (!to || strcmp(to, "websocket") != 0)
		return refuse(wsi, 404, "not_found", &u);
	guard_err v = guard_check_host(host, s->port);
	if (v != GUARD_OK)
		return refuse(wsi, 421, guard_code(v), &u);
	v = guard_check_origin(s->origins, origin, true);
	if (v != GUARD_OK)
		return refuse(wsi, 403, guard_code(v), &u);
	if (!version || strcmp(version, WS_VERSION) != 0)
		return refuse(wsi, 426, "unsupported_version", &u);
	if (atomic_load(&s->n_clients) >= s->max_clients)
		return refuse(wsi, 503, "too_many_clients", &u);
	return 0;
}

/* ---- connection life (lws thread) ---- */

/* Closes with status and reason; -1 for the callback to return. */
static int close_with(struct lws *wsi, enum lws_close_status status, const char *reason)
{
	lws_close_reason(wsi, status, (unsigned char *)(uintptr_t)reason, strlen(reason));
	return -1;
}

/* RFC 6455 5.1: a frame from the client without the mask bit ends the connection with 1002. */
static int unmasked_close(struct lws *wsi)
{
	log_warn("ws", "unmasked client frame: closing with 1002");
	return close_with(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, "unmasked frame");
}

static bool unmasked(struct lws *wsi)
{
	return wsrx_unmasked(lws_get_ssl(wsi));
}

/* The tap saw an unmasked frame, perhaps one lws answers itself (a ping): close on the next
 * writeable callback. */
static void unmasked_alarm(void *wsi)
{
	lws_callback_on_writable(wsi);
}

/* The client being greeted, and how many messages the greeting has offered it. */
struct greeting {
	struct ws_client *c;
	size_t n;
};

/* ws_json_fn of the greeting: every message needs a "type" (docs/api/events.md). */
static void greet_send(void *to, const json_t *msg)
{
	struct greeting *g = to;
	size_t i = g->n++;
	if (!json_is_string(json_object_get(msg, "type"))) {
		log_error("ws", "greeting message %zu has no \"type\"; not sent", i);
		return;
	}
	char *text = json_dumps(msg, JSON_COMPACT);
	struct ws_msg *m = text ? msg_new(text, strlen(text)) : NULL;
	free(text);
	if (!m) {
		log_error("ws", "out of memory: greeting dropped");
		return;
	}
	client_push(g->c, m);
	msg_unref(m);
}

static void client_open(ws_server *s, struct ws_client *c, struct lws *wsi)
{
	c->wsi = wsi;
	c->established = true;
	lws_dll2_add_tail(&c->link, &s->clients);
	unsigned n = atomic_fetch_add(&s->n_clients, 1) + 1;
	char peer[64] = "";
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	log_info("ws", "client %s connected (%u connected)", peer, n);
	wsrx_on_unmasked(lws_get_ssl(wsi), unmasked_alarm, wsi);
	if (unmasked(wsi)) /* sent along with the upgrade request */
		lws_callback_on_writable(wsi);
	idle_hold(s->idle);
	if (s->hello)
		client_push(c, s->hello);
	struct greeting g = { .c = c };
	if (s->greeting)
		s->greeting(s->greeting_user, greet_send, &g);
}

static void client_close(ws_server *s, struct ws_client *c)
{
	if (!c->established)
		return;
	c->established = false;
	client_drop_queue(c);
	lws_dll2_remove(&c->link);
	unsigned n = atomic_fetch_sub(&s->n_clients, 1) - 1;
	log_info("ws", "client disconnected (%u connected)", n);
	idle_release(s->idle);
}

/* Clients have nothing to say in this protocol (docs/api/events.md): any text or binary message
 * closes the connection, 1009 when it is over cfg->ws_max_message, else 1008 (policy). What
 * arrived is wiped first: a page that mistakenly sends a PIN here must not leave it in lws's
 * receive buffer. lws has already closed invalid UTF-8 text with 1007 (VALIDATE_UTF8). */
static int client_receive(ws_server *s, struct lws *wsi, void *in, size_t len)
{
	size_t total = len + lws_remaining_packet_payload(wsi);
	OPENSSL_cleanse(in, len);
	if (unmasked(wsi))
		return unmasked_close(wsi);
	if (total > s->max_message) {
		log_warn("ws", "client message over %zu bytes: closing with 1009", s->max_message);
		return close_with(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
	}
	log_warn("ws", "client sent a message (clients send none): closing with 1008");
	return close_with(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, "clients send no messages");
}

/* The only HTTP this listener speaks is the upgrade; a plain request gets a 404. */
static int plain_http(struct lws *wsi)
{
	if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL))
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int restrict_tls(SSL_CTX *ctx)
{
	/* Belt and braces with ssl_options_set: the floor is TLS 1.2 whatever openssl.cnf says. */
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		log_error("ws", "cannot set the TLS 1.2 floor");
		return -1;
	}
	/* No resumption: on loopback a full handshake costs nothing worth saving, and a server
	 * cache or tickets would keep a session (some 1 KB) per client after it closed. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (wsrx_watch_ctx(ctx) != WSRX_OK) {
		log_error("ws", "cannot watch what clients send");
		return -1;
	}
	log_debug("ws", "TLS floor 1.2, AEAD ciphers only");
	return 0;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len)
{
	ws_server *s = lws_context_user(lws_get_context(wsi));
	struct ws_client *c = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		/* lws passes the accepted socket's descriptor in `in` (lws-callbacks.h). */
		return s ? filter_peer(s, (int)(intptr_t)in) : -1;
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: return restrict_tls(user);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: return confirm_upgrade(s, wsi, in);
	case LWS_CALLBACK_HTTP: return plain_http(wsi);
	case LWS_CALLBACK_ESTABLISHED: client_open(s, c, wsi); return 0;
	case LWS_CALLBACK_CLOSED: client_close(s, c); return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return unmasked(wsi) ? unmasked_close(wsi) : client_write_one(c);
	case LWS_CALLBACK_RECEIVE: return client_receive(s, wsi, in, len);
	case LWS_CALLBACK_RECEIVE_PONG:
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: return unmasked(wsi) ? unmasked_close(wsi) : 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (s)
			fan_out(s);
		return 0;
	default: return 0;
	}
}

static const struct lws_protocols ws_protocols[] = {
	{ .name = WS_PROTOCOL,
	  .callback = ws_callback,
	  .per_session_data_size = sizeof(struct ws_client),
	  .rx_buffer_size = WS_RX_CHUNK },
	{ 0 },
};

/* ---- lws logs into ours ---- */

static void lws_log_emit(int level, const char *line)
{
	char buf[512];
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	log_msg(level == LLL_ERR            ? LOG_LVL_ERROR
			: level == LLL_WARN ? LOG_LVL_WARN
					    : LOG_LVL_DEBUG,
		"lws", "%s", buf);
}

/* ---- start / stop ---- */

/* lws cannot say why a vhost failed; checking the pair first gives a precise error. lws then
 * reads the files by path: from memory it would load only the chain's first certificate. */
static ws_err check_tls_files(const struct cfg *cfg)
{
	struct tls_pair pair;
	if (tls_pair_load("ws", cfg->cert_file, cfg->key_file, &pair) != TLS_OK)
		return WS_E_TLS;
	tls_pair_free(&pair);
	return WS_OK;
}

static ws_err create_context(ws_server *s)
{
	const struct cfg *cfg = s->cfg;
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	/* VALIDATE_UTF8: a text frame that is not UTF-8 closes with 1007 (RFC 6455 8.1). */
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		LWS_SERVER_OPTION_SKIP_SERVER_CANONICAL_NAME | LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.user = s;
	info.gid = -1;
	info.uid = -1;
	size_t hdr = cfg->max_header ? cfg->max_header : WS_DEFAULT_MAX_HEADER;
	info.max_http_header_data = (unsigned short)(hdr > 65535 ? 65535 : hdr);
	info.max_http_header_pool = 16;
	s->ctx = lws_create_context(&info);
	return s->ctx ? WS_OK : WS_E_NOMEM;
}

/* The TLS vhost of /v1/events. Listening on cfg->wss, or, with an inherited listener, on none
 * of its own (CONTEXT_PORT_NO_LISTEN_SERVER keeps the vhost's TLS, unlike NO_LISTEN): then
 * accept_inherited() hands it the connections. */
static ws_err create_vhost(ws_server *s)
{
	const struct cfg *cfg = s->cfg;
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.vhost_name = "siths-bridge-wss";
	info.iface = s->listen_fd >= 0 ? NULL : cfg->wss.addr;
	info.port = s->listen_fd >= 0 ? CONTEXT_PORT_NO_LISTEN_SERVER : cfg->wss.port;
	info.protocols = ws_protocols;
	/* lws serves a vhost without TLS unless it repeats the global-init flag. */
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
		(strchr(cfg->wss.addr, ':') ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6);
	info.ssl_cert_filepath = cfg->cert_file;
	info.ssl_private_key_filepath = cfg->key_file;
	info.ssl_cipher_list = ws_ciphers_tls12;
	info.tls1_3_plus_cipher_list = ws_ciphers_tls13;
	info.ssl_options_set = (long)(SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
				      SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
				      SSL_OP_CIPHER_SERVER_PREFERENCE);
	info.alpn = "http/1.1"; /* no h2: WebSockets here are plain HTTP/1.1 upgrades */
	info.timeout_secs = cfg->conn_timeout_s ? cfg->conn_timeout_s : WS_DEFAULT_TIMEOUT_S;
	if (info.timeout_secs > WS_MAX_TIMEOUT_S)
		info.timeout_secs = WS_MAX_TIMEOUT_S;
	info.timeout_secs_ah_idle = info.timeout_secs;
	/* Keepalive: a client quiet for the connection timeout is pinged; one that has not
	 * answered in twice that (plus a second of slack) is hung up. */
	s->keepalive.secs_since_valid_ping = (uint16_t)info.timeout_secs;
	s->keepalive.secs_since_valid_hangup = (uint16_t)(2 * info.timeout_secs + 1);
	info.retry_and_idle_policy = &s->keepalive;
	s->vh = lws_create_vhost(s->ctx, &info);
	if (!s->vh) {
		log_error("ws", "cannot listen on %s:%u", cfg->wss.addr, cfg->wss.port);
		return WS_E_BIND;
	}
	if (s->listen_fd >= 0)
		return WS_OK; /* the port is the inherited socket's (ws_start) */
	int port = lws_get_vhost_listen_port(s->vh);
	if (port <= 0 || port > 65535)
		return WS_E_BIND;
	s->port = (unsigned short)port;
	return WS_OK;
}

/* ---- an inherited listener (socket activation) ----
 * lws 4.1 can only listen on a socket it made itself: a vhost has no option to take a listening
 * descriptor, and its listen role is private. So the inherited listener is adopted as a raw file
 * descriptor into a second vhost without TLS or listener of its own, only to be told on the
 * service thread when it is readable; each connection accepted there gets the peer check lws's
 * listener would have made (FILTER_NETWORK_CONNECTION) and is then adopted into the TLS vhost
 * with lws_adopt_socket_vhost(), as lws's listener adopts its own: TLS, HTTP, upgrade. */

static void accept_inherited(ws_server *s, int lfd)
{
	for (int i = 0; i < WS_ACCEPT_BURST; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED &&
			    errno != EINTR)
				log_warn("ws", "accept: %s", strerror(errno));
			if (errno != ECONNABORTED && errno != EINTR)
				return;
			continue;
		}
		if (filter_peer(s, fd)) {
			close(fd);
			continue;
		}
		/* On failure lws has closed fd. */
		if (!lws_adopt_socket_vhost(s->vh, fd))
			log_warn("ws", "a connection could not be adopted");
	}
}

static int accept_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			   size_t len)
{
	ws_server *s = lws_context_user(lws_get_context(wsi));
	(void)user, (void)in, (void)len;
	if (reason == LWS_CALLBACK_RAW_RX_FILE && s)
		accept_inherited(s, (int)lws_get_socket_fd(wsi));
	return 0;
}

static const struct lws_protocols ws_accept_protocols[] = {
	{ .name = WS_ACCEPT_PROTOCOL, .callback = accept_callback },
	{ 0 },
};

static ws_err adopt_listener(ws_server *s)
{
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.vhost_name = "siths-bridge-wss-accept";
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = ws_accept_protocols;
	s->accept_vh = lws_create_vhost(s->ctx, &info);
	if (!s->accept_vh)
		return WS_E_NOMEM;
	lws_sock_file_fd_type fd = { .filefd = s->listen_fd };
	struct lws *w = lws_adopt_descriptor_vhost(s->accept_vh, LWS_ADOPT_RAW_FILE_DESC, fd,
						   WS_ACCEPT_PROTOCOL, NULL);
	if (!w) {
		/* Depending on where it failed lws may have closed the descriptor already. */
		if (fcntl(s->listen_fd, F_GETFD) >= 0)
			close(s->listen_fd);
		s->listen_fd = -1;
		log_error("ws", "cannot serve the inherited listener");
		return WS_E_BIND;
	}
	s->listen_fd = -1; /* lws closes it with the context */
	return WS_OK;
}

/* The port of the inherited listener, which also says it is an IP socket. */
static ws_err inherited_port(ws_server *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &sl) != 0)
		return WS_E_BIND;
	if (ss.ss_family == AF_INET)
		s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return s->port ? WS_OK : WS_E_BIND;
}

static void *service_thread(void *arg)
{
	ws_server *s = arg;
	while (!atomic_load(&s->stop))
		if (lws_service(s->ctx, 0) < 0)
			break;
	return NULL;
}

ws_err ws_start(const struct cfg *cfg, const struct guard_origins *origins,
		const struct ws_greeting *greeting, const struct ws_source *src, ws_server **out)
{
	*out = NULL;
	ws_err e = check_tls_files(cfg);
	ws_server *s = e == WS_OK ? calloc(1, sizeof(*s)) : NULL;
	if (!s) {
		if (src && src->fd >= 0)
			close(src->fd);
		return e != WS_OK ? e : WS_E_NOMEM;
	}
	s->listen_fd = src ? src->fd : -1;
	s->idle = src ? src->idle : NULL;
	s->cfg = cfg;
	s->origins = origins;
	s->greeting = greeting->fn;
	s->greeting_user = greeting->user;
	if (greeting->hello && !(s->hello = msg_new(greeting->hello, strlen(greeting->hello)))) {
		if (s->listen_fd >= 0)
			close(s->listen_fd);
		free(s);
		return WS_E_NOMEM;
	}
	s->max_clients = cfg->ws_max_clients ? cfg->ws_max_clients : WS_DEFAULT_MAX_CLIENTS;
	s->max_message = cfg->ws_max_message ? cfg->ws_max_message : WS_DEFAULT_MAX_MESSAGE;
	s->inbox_tail = &s->inbox_head;
	atomic_init(&s->stop, false);
	atomic_init(&s->n_clients, 0);
	pthread_mutex_init(&s->lock, NULL);

	lws_set_log_level(LLL_ERR | LLL_WARN | (log_get_level() >= LOG_LVL_DEBUG ? LLL_NOTICE : 0),
			  lws_log_emit);
	e = s->listen_fd >= 0 ? inherited_port(s) : WS_OK;
	if (e == WS_OK)
		e = create_context(s);
	if (e == WS_OK)
		e = create_vhost(s);
	if (e == WS_OK && s->listen_fd >= 0)
		e = adopt_listener(s);
	if (e == WS_OK) {
		int rc = pthread_create(&s->thread, NULL, service_thread, s);
		s->thread_started = rc == 0;
		if (rc)
			e = rc == ENOMEM ? WS_E_NOMEM : WS_E_THREAD;
	}
	if (e != WS_OK) {
		ws_stop(s);
		return e;
	}
	log_info("ws", "listening on wss://%s%s%s:%u" WS_PATH,
		 strchr(cfg->wss.addr, ':') ? "[" : "", cfg->wss.addr,
		 strchr(cfg->wss.addr, ':') ? "]" : "", s->port);
	*out = s;
	return WS_OK;
}

void ws_stop(ws_server *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		atomic_store(&s->stop, true);
		lws_cancel_service(s->ctx);
		pthread_join(s->thread, NULL);
	}
	/* Destroying the context closes every connection; CLOSED frees their queues. */
	if (s->ctx)
		lws_context_destroy(s->ctx);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	inbox_free(inbox_take(s));
	msg_unref(s->hello);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
