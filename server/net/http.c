/* http.c — libmicrohttpd glue: TLS setup, the peer-user check, the request pipeline and the
 * response headers. A connection from another local user's socket is closed before TLS.
 * Every refusal is decided on the first call for a request (headers only), before any body is
 * read or any handler runs; the body is streamed into a bounded buffer and wiped after use
 * because it may carry a PIN. The request deadline is reaper.c's. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "peer.h"
#include "reaper.h"
#include "reqhead.h"
#include "static.h"
#include "tls.h"
#include "urlpath.h"

#define TLS_PRIORITIES                                                                            \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:" \
	"+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"
#define POOL_THREADS 4
#define MAX_PATH_LEN 1024
/* A chunked body over the limit is drained up to this much so the 413 can still be sent;
 * beyond it the connection is simply closed. */
#define MAX_DRAIN (1u << 20)
/* libmicrohttpd keeps one record per header field and query parameter in the connection's
 * memory pool (struct MHD_HTTP_Header: 56 bytes, rounded to its 16-byte alignment). */
#define MHD_FIELD_RECORD 64
/* A request head may hold up to max-header / FIELD_BUDGET_BYTES fields (512 at the default
 * 16 KiB; browsers send about 20): the pool is sized so that any head within both limits fits,
 * and both limits are checked here, exactly (431 above). One record per possible 3-byte line
 * would make every pool, and libmicrohttpd's wipe of it after each keep-alive request, 20 times
 * larger for heads no client sends. */
#define FIELD_BUDGET_BYTES 32
/* Pool room for everything else: the response header block, cookies, alignment. */
#define POOL_SLACK 8192

struct http_server {
	struct MHD_Daemon *d;
	struct http_setup su;
	static_root *www;
	reaper *reaper;
	char csp[512];
	struct sockaddr_storage local; /* the listener's own address: our end of every connection */
};

enum req_kind { REQ_REFUSED, REQ_STATIC, REQ_API };

/* Per request (libmicrohttpd's req_cls). */
struct req {
	enum req_kind kind;
	const struct rest_route *route;
	struct rest_req areq;
	const char *origin; /* allowlisted Origin or NULL */
	char path[MAX_PATH_LEN];
	char *body;
	size_t len, cap;
	size_t drained;
	bool too_large;
	bool body_pending; /* a body (≤ MAX_DRAIN) follows the headers */
	bool expect_100;   /* the client waits for "100 Continue" before sending the body */
	bool complete;     /* the whole request has been received */
	char *head;        /* the raw request head in libmicrohttpd's buffer, wiped at the end */
	size_t head_len;
	struct { /* a refusal decided while a body was still coming */
		unsigned status;
		const char *code, *message; /* static strings */
		char allow[64];
	} deferred;
};

const char *http_strerror(http_err e)
{
	switch (e) {
	case HTTP_OK: return "ok";
	case HTTP_E_BIND: return "cannot listen on the HTTPS address";
	case HTTP_E_TLS: return "cannot read the TLS certificate or key";
	case HTTP_E_WWW: return "cannot open the www directory";
	case HTTP_E_START: return "HTTPS server did not start (certificate/key rejected?)";
	case HTTP_E_NOMEM: return "out of memory";
	case HTTP_E_THREAD: return "cannot start a thread";
	}
	return "unknown error";
}

/* ---- pure helpers ---- */

int http_is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	if (!ct)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, sizeof want - 1) != 0)
		return 0;
	ct += sizeof want - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* ---- responses ---- */

static void add_common_headers(struct http_server *s, struct MHD_Response *r, bool api,
			       const char *origin)
{
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Content-Security-Policy", s->csp);
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(r, "Cache-Control", api ? "no-store" : "no-cache");
	MHD_add_response_header(r, "Vary", "Origin");
	if (origin)
		MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
	if (!r)
		return MHD_NO;
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Sends body (stolen) as JSON. */
static enum MHD_Result send_json(struct http_server *s, struct MHD_Connection *c, unsigned status,
				 json_t *body, const char *origin, const char *allow, bool close)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
	struct MHD_Response *r =
		MHD_create_response_from_buffer_with_free_callback(strlen(text), text, free);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	add_common_headers(s, r, true, origin);
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (allow)
		MHD_add_response_header(r, "Allow", allow);
	if (close)
		MHD_add_response_header(r, "Connection", "close");
	return queue(c, status, r);
}

/* A refusal: one info line without secrets (method and a sanitized path only), then the error.
 * If a body is still on its way it is drained first (bounded): answering early and closing
 * would make the kernel reset the connection under the client's feet, losing the answer. A
 * client that sent "Expect: 100-continue" holds its body back, so it is answered at once:
 * libmicrohttpd then never sends it "100 Continue" for a request that is refused anyway. */
static void log_refusal(struct req *q, const char *method, unsigned status, const char *code)
{
	char p[96], m[16];
	log_safe(q->path[0] ? q->path : "(raw path)", p, sizeof p);
	log_safe(method, m, sizeof m);
	log_info("http", "refused %u %s: %s %s", status, code, m, p);
	q->kind = REQ_REFUSED;
}

static enum MHD_Result refuse(struct http_server *s, struct MHD_Connection *c, struct req *q,
			      const char *method, unsigned status, const char *code,
			      const char *message, const char *allow)
{
	log_refusal(q, method, status, code);
	if (q->body_pending && !q->complete && !q->expect_100) {
		q->deferred.status = status;
		q->deferred.code = code;
		q->deferred.message = message;
		snprintf(q->deferred.allow, sizeof q->deferred.allow, "%s", allow ? allow : "");
		return MHD_YES;
	}
	return send_json(s, c, status, rest_error(code, message), q->origin, allow, false);
}

/* ---- who may connect ---- */

/* libmicrohttpd's accept policy, called with the accepted client's address before any TLS byte.
 * The kernel is asked which user owns the client's socket; only the allowed users are served. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct http_server *s = cls;
	uid_t uid = 0;
	(void)addrlen;
	peer_err e = peer_admit((const struct sockaddr *)&s->local, addr, s->su.cfg->allow_uids,
				s->su.cfg->n_allow_uids, &uid);
	return peer_log_admission("http", e, uid) ? MHD_YES : MHD_NO;
}

/* ---- the request deadline ---- */

static struct reaper_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return i ? i->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *i =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (i)
			*socket_context = reaper_add(s->reaper, i->connect_fd);
		idle_hold(s->su.idle);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		/* Before libmicrohttpd closes the fd, so the reaper never touches a reused one. */
		reaper_remove(s->reaper, *socket_context);
		*socket_context = NULL;
		idle_release(s->su.idle);
	}
}

/* ---- the raw request head ----
 *
 * libmicrohttpd 0.9.75 hides what request smuggling and header injection need: it stores each
 * value up to its first NUL (value_size is strlen, so "Origin: <own>\0.evil" reads as <own>),
 * folds continuation lines into the previous value, and frames the body by the first of
 * several Content-Length headers or by Transfer-Encoding over Content-Length. No option turns
 * that off, and its TLS runs inside it (GnuTLS), so no layer below sees the plaintext either.
 * What it does offer is exact: the access handler's method pointer is the start of the request
 * head in its read buffer, where it parses in place, and MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE
 * is the head's length in bytes up to and including the empty line. So the head is checked
 * byte for byte as libmicrohttpd itself consumed it (no second parser that could disagree):
 * walking the fields in their order, every byte that is not inside a name or value it reports
 * must be one of the separators it overwrote with NUL or the whitespace it skipped. A hidden
 * byte after a NUL, a folded line (its field is copied out of the head) or any other shape this
 * walk does not expect is refused: should a later libmicrohttpd parse differently, requests
 * fail loudly with 400 instead of passing unchecked. */

struct head_walk {
	const char *cursor, *end; /* the unchecked rest of the head */
	const char *version;      /* checked in place, between the query and the first header */
	const char *query;        /* where the query string would start: the end of the path */
	bool in_headers;
	bool hidden; /* bytes libmicrohttpd's strings do not show, or an unexpected layout */
	bool has_query;
	unsigned n_fields;
	struct reqhead rh;
};

/* The bytes between two reported strings: libmicrohttpd's NULs (for ':', CR, LF, ' ', and in
 * the query '?', '&', '='), plus the whitespace it skips. */
static bool gap_clean(const char *from, const char *to, bool in_request_line)
{
	for (const char *p = from; p < to; p++) {
		char ch = *p;
		if (ch == '\0' || ch == ' ' || ch == '\t')
			continue;
		if (in_request_line && (ch == '?' || ch == '&' || ch == '='))
			continue;
		return false;
	}
	return true;
}

/* One reported string at p (len bytes): it must lie after the cursor inside the head, with only
 * separators in between. */
static void walk_to(struct head_walk *w, const char *p, size_t len)
{
	if (w->hidden)
		return;
	if (!p || p < w->cursor || p > w->end || len > (size_t)(w->end - p) ||
	    !gap_clean(w->cursor, p, !w->in_headers)) {
		w->hidden = true;
		return;
	}
	w->cursor = p + len;
}

static void walk_version(struct head_walk *w)
{
	if (w->in_headers)
		return;
	/* More than the one separator between the path and the version: a query string. */
	w->has_query = w->version > w->query + 1;
	walk_to(w, w->version, strlen(w->version));
	w->in_headers = true;
}

static enum MHD_Result walk_field(void *cls, enum MHD_ValueKind kind, const char *key,
				  size_t key_size, const char *value, size_t value_size)
{
	struct head_walk *w = cls;
	w->n_fields++;
	if (kind == MHD_HEADER_KIND) {
		walk_version(w);
		reqhead_add(&w->rh, key, key_size, value, value_size);
	} else if (w->in_headers || !reqhead_value_clean(key, key_size) ||
		   !reqhead_value_clean(value, value ? value_size : 0)) {
		w->hidden = true; /* a query parameter after the headers, or one with controls */
	}
	walk_to(w, key, key_size);
	if (value)
		walk_to(w, value, value_size);
	return MHD_YES;
}

enum head_verdict { HEAD_OK, HEAD_BAD, HEAD_TOO_LARGE };

/* Judges the head of the request now starting (first call of the access handler). */
static enum head_verdict check_head(struct http_server *s, struct MHD_Connection *c, struct req *q,
				    const char *url, const char *method, const char *version,
				    bool *has_query, const char **why)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	*why = "malformed request head";
	if (!i || !method || !url || !version)
		return HEAD_BAD;
	q->head = (char *)method; /* libmicrohttpd's own buffer: wiped in on_completed */
	q->head_len = i->header_size;
	if (q->head_len > s->su.cfg->max_header) {
		*why = "request header too large";
		return HEAD_TOO_LARGE;
	}
	struct head_walk w = { .cursor = url, .end = method + q->head_len, .version = version };
	reqhead_init(&w.rh);
	walk_to(&w, url, strlen(url));
	w.query = w.cursor;
	MHD_get_connection_values_n(c, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND, walk_field, &w);
	walk_version(&w);
	walk_to(&w, w.end, 0);
	if (w.n_fields > s->su.cfg->max_header / FIELD_BUDGET_BYTES) {
		*why = "too many header fields";
		return HEAD_TOO_LARGE;
	}
	reqhead_err e = reqhead_verdict(&w.rh);
	if (w.hidden && !e)
		e = REQHEAD_E_CONTROL;
	if (e) {
		*why = reqhead_strerror(e);
		return HEAD_BAD;
	}
	*has_query = w.has_query;
	return HEAD_OK;
}

/* ---- the pipeline ---- */

static bool origin_optional(struct http_server *s, const char *method, const char *path)
{
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return false;
	if (!rest_owns_path(path))
		return true;
	struct rest_req tmp;
	struct rest_match m;
	const struct rest_route *r = rest_match(s->su.routes, "GET", path, &tmp, &m);
	return r && r->origin_optional;
}

/* Browsers send no Origin on a same-origin GET (Fetch standard), so the daemon's own page would be
 * refused; Sec-Fetch-Site is set by the browser alone (a forbidden header name for pages), and
 * "same-origin" proves the request came from our own origin. Only for reads: a POST always needs
 * Origin. */
static bool same_origin_read(struct MHD_Connection *c, const char *method)
{
	const char *sfs = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
	return (!strcmp(method, "GET") || !strcmp(method, "HEAD")) && sfs &&
		!strcmp(sfs, "same-origin");
}

static const char *bearer_of(struct MHD_Connection *c)
{
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (!a || strncasecmp(a, "Bearer ", 7) != 0)
		return NULL;
	a += 7;
	while (*a == ' ')
		a++;
	return *a ? a : NULL;
}

static enum MHD_Result preflight(struct http_server *s, struct MHD_Connection *c, struct req *q)
{
	char methods[80] = "GET, HEAD";
	if (rest_owns_path(q->path)) {
		struct rest_match m;
		rest_match(s->su.routes, "OPTIONS", q->path, &q->areq, &m);
		if (!m.allow[0])
			return refuse(s, c, q, "OPTIONS", 404, "not_found", "no such endpoint",
				      NULL);
		snprintf(methods, sizeof methods, "%s", m.allow);
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	add_common_headers(s, r, true, q->origin);
	MHD_add_response_header(r, "Access-Control-Allow-Methods", methods);
	MHD_add_response_header(r, "Access-Control-Allow-Headers", "Content-Type, Authorization");
	MHD_add_response_header(r, "Access-Control-Max-Age", "600");
	q->kind = REQ_REFUSED; /* answered: nothing more to do for this request */
	return queue(c, 204, r);
}

/* A head that cannot be trusted is answered at once and the connection closed: its body framing
 * is in doubt, so neither draining it nor reading a next request from it is safe. */
static enum MHD_Result refuse_head(struct http_server *s, struct MHD_Connection *c, struct req *q,
				   const char *method, enum head_verdict v, const char *why)
{
	unsigned status = v == HEAD_TOO_LARGE ? 431 : 400;
	const char *code = v == HEAD_TOO_LARGE ? "header_too_large" : "bad_request";
	log_refusal(q, method, status, code);
	return send_json(s, c, status, rest_error(code, why), NULL, NULL, true);
}

static bool is_read(const char *method)
{
	return !strcmp(method, "GET") || !strcmp(method, "HEAD") || !strcmp(method, "OPTIONS");
}

/* First call: headers only. Decides every refusal; returns with q->kind set. */
static enum MHD_Result on_headers(struct http_server *s, struct MHD_Connection *c, struct req *q,
				  const char *url, const char *method, const char *version)
{
	const char *why;
	bool has_query = false;
	enum head_verdict hv = check_head(s, c, q, url, method, version, &has_query, &why);
	if (hv != HEAD_OK)
		return refuse_head(s, c, q, method, hv, why);

	const char *ex = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
	q->expect_100 = ex && strcasecmp(ex, "100-continue") == 0;
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
	unsigned long long clen = cl ? strtoull(cl, NULL, 10) : 0;
	q->body_pending = (clen > 0 && clen <= MAX_DRAIN) || (te && strcasecmp(te, "chunked") == 0);

	guard_err v = guard_check_host(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"),
				       s->su.https_port);
	if (v)
		return refuse(s, c, q, method, 421, guard_code(v), guard_strerror(v), NULL);

	urlpath_err pe = urlpath_decode(url, q->path, sizeof q->path);
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	/* A malformed path is refused below anyway; for a GET it is judged like a static file. */
	bool optional = pe ? !strcmp(method, "GET") || !strcmp(method, "HEAD")
			   : origin_optional(s, method, q->path) || same_origin_read(c, method);
	v = guard_check_origin(s->su.origins, origin, !optional || !strcmp(method, "OPTIONS"));
	if (v)
		return refuse(s, c, q, method, 403, guard_code(v), guard_strerror(v), NULL);
	q->origin = origin;
	if (pe)
		return refuse(s, c, q, method, 400, "bad_path", urlpath_strerror(pe), NULL);
	/* Whatever is in a URL ends up in logs and histories: a method that changes something
	 * takes its input in the body only, so a PIN put in a query string is never acted on. */
	if (has_query && !is_read(method))
		return refuse(s, c, q, method, 400, "query_not_allowed",
			      "no query string with this method; send the data in the body", NULL);

	if (!strcmp(method, "OPTIONS"))
		return preflight(s, c, q);

	if (!rest_owns_path(q->path)) {
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return refuse(s, c, q, method, 405, "method_not_allowed", "use GET",
				      "GET, HEAD");
		q->kind = REQ_STATIC;
		return MHD_YES;
	}

	struct rest_match m;
	q->route = rest_match(s->su.routes, !strcmp(method, "HEAD") ? "GET" : method, q->path,
			      &q->areq, &m);
	if (!q->route && !m.allow[0])
		return refuse(s, c, q, method, 404, "not_found", "no such endpoint", NULL);
	if (!q->route)
		return refuse(s, c, q, method, 405, "method_not_allowed", "method not allowed here",
			      m.allow);
	q->kind = REQ_API;
	if (!strcmp(method, "POST") || !strcmp(method, "PUT")) {
		if (!http_is_json_type(
			    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type")))
			return refuse(s, c, q, method, 415, "unsupported_media_type",
				      "Content-Type must be application/json", NULL);
	}
	if (clen > s->su.cfg->max_body)
		return refuse(s, c, q, method, 413, "body_too_large", "request body too large",
			      NULL);
	return MHD_YES;
}

/* Upload data: appended while under the limit, drained (bounded) after. */
static enum MHD_Result on_data(struct http_server *s, struct req *q, const char *data, size_t n)
{
	if (q->kind == REQ_REFUSED || q->too_large || q->len + n > s->su.cfg->max_body) {
		q->too_large = q->kind != REQ_REFUSED;
		q->drained += n;
		return q->drained > MAX_DRAIN ? MHD_NO : MHD_YES;
	}
	if (q->len + n > q->cap) {
		size_t cap = q->cap ? q->cap : 1024;
		while (cap < q->len + n)
			cap *= 2;
		char *b = malloc(cap);
		if (!b)
			return MHD_NO;
		/* Copy instead of realloc so that no stale copy of a PIN is left unwiped. */
		if (q->body) {
			memcpy(b, q->body, q->len);
			OPENSSL_cleanse(q->body, q->cap);
			free(q->body);
		}
		q->body = b;
		q->cap = cap;
	}
	memcpy(q->body + q->len, data, n);
	q->len += n;
	return MHD_YES;
}

/* The upload sits in libmicrohttpd's read buffer, which it hands out as const but owns
 * writable and discards once processed: wiped there too, as it may hold a PIN. */
static void wipe_upload(const char *data, size_t n)
{
	OPENSSL_cleanse((void *)(uintptr_t)data, n);
}

static enum MHD_Result serve_static(struct http_server *s, struct MHD_Connection *c, struct req *q,
				    const char *method)
{
	int fd;
	off_t size;
	const char *ctype;
	static_err e = static_open(s->www, q->path, &fd, &size, &ctype);
	if (e) {
		if (e != STATIC_E_NOT_FOUND)
			log_info("http", "static: %s", static_strerror(e));
		return refuse(s, c, q, method, 404, "not_found", "no such file", NULL);
	}
	struct MHD_Response *r = MHD_create_response_from_fd((size_t)size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	add_common_headers(s, r, false, q->origin);
	MHD_add_response_header(r, "Content-Type", ctype);
	return queue(c, 200, r);
}

/* Wipes every string in a parsed body: any of them may be a PIN. */
static void wipe_json(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;
	if (json_is_string(j)) {
		OPENSSL_cleanse((char *)json_string_value(j), json_string_length(j));
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v) wipe_json(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) wipe_json(v);
	}
}

static const char *error_code(const json_t *out)
{
	const char *c = json_string_value(json_object_get(json_object_get(out, "error"), "code"));
	return c ? c : "";
}

static enum MHD_Result serve_api(struct http_server *s, struct MHD_Connection *c, struct req *q,
				 const char *method)
{
	json_t *body = NULL, *out = NULL;
	enum MHD_Result ret;

	if (q->len && (!strcmp(method, "POST") || !strcmp(method, "PUT"))) {
		json_error_t err;
		body = json_loadb(q->body, q->len, JSON_REJECT_DUPLICATES, &err);
		if (!body || !json_is_object(body)) {
			char msg[96];
			/* Position only: the parser's text would echo the request. */
			snprintf(msg, sizeof msg, "body is not a JSON object (line %d, column %d)",
				 body ? 1 : err.line, body ? 1 : err.column);
			wipe_json(body);
			json_decref(body);
			return refuse(s, c, q, method, 400, "bad_json", msg, NULL);
		}
	}
	q->areq.method = method;
	q->areq.path = q->path;
	q->areq.origin = q->origin;
	q->areq.bearer = bearer_of(c);
	q->areq.body = body;
	unsigned st = rest_call(s->su.ctx, q->route, &q->areq, &out);
	wipe_json(body);
	json_decref(body);
	q->areq.body = NULL;
	if (st >= 400) {
		char p[96];
		log_safe(q->path, p, sizeof p);
		log_info("http", "%s %s -> %u %s", method, p, st, error_code(out));
	}
	ret = send_json(s, c, st, out, q->origin, NULL, false);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct http_server *s = cls;
	struct req *q = *req_cls;

	if (!q) {
		if (!(q = calloc(1, sizeof *q)))
			return MHD_NO;
		*req_cls = q;
		return on_headers(s, c, q, url, method, version);
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		enum MHD_Result r = on_data(s, q, upload_data, n);
		wipe_upload(upload_data, n);
		return r;
	}
	/* The whole request is in: the deadline stops here, the answer may take its time. */
	reaper_set_busy(s->reaper, conn_of(c), true);
	q->complete = true;
	if (q->deferred.status)
		return send_json(s, c, q->deferred.status,
				 rest_error(q->deferred.code, q->deferred.message), q->origin,
				 q->deferred.allow[0] ? q->deferred.allow : NULL, false);
	if (q->kind == REQ_REFUSED)
		return MHD_YES;
	if (q->too_large)
		return refuse(s, c, q, method, 413, "body_too_large", "request body too large",
			      NULL);
	if (q->kind == REQ_STATIC)
		return serve_static(s, c, q, method);
	return serve_api(s, c, q, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct req *q = *req_cls;
	(void)toe;
	if (q) {
		/* The request line and headers (a PIN put in a query string, a bearer token)
		 * would stay in the connection's pool until it is reused or freed unwiped. */
		if (q->head)
			OPENSSL_cleanse(q->head, q->head_len);
		if (q->body) {
			OPENSSL_cleanse(q->body, q->cap);
			free(q->body);
		}
		free(q);
		*req_cls = NULL;
	}
	/* Keep-alive: the next request's deadline starts now. */
	reaper_set_busy(s->reaper, conn_of(c), false);
}

/* The raw path is decoded by urlpath.c, once and strictly; libmicrohttpd must leave it alone. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls, (void)c;
	return strlen(s);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char buf[256];
	vsnprintf(buf, sizeof buf, fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	/* Refusals libmicrohttpd decides itself (header too big, connection limits, failed TLS
	 * handshakes such as TLS 1.1) are logged like ours; the rest is detail for debugging. */
	static const char *const refusals[] = { "HTTP response code", "limit", "handshake",
						"Too many", "too many" };
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
		if (strstr(buf, refusals[i])) {
			log_info("http", "refused by libmicrohttpd: %.160s", buf);
			return;
		}
	log_debug("mhd", "%s", buf);
}

/* ---- setup ---- */

http_err http_bind(const struct cfg_listen *l, int *fd, unsigned short *port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int one = 1;
	bool v6 = strchr(l->addr, ':') != NULL;

	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(l->port);
		if (inet_pton(AF_INET6, l->addr, &a->sin6_addr) != 1)
			return HTTP_E_BIND;
		sl = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(l->port);
		if (inet_pton(AF_INET, l->addr, &a->sin_addr) != 1)
			return HTTP_E_BIND;
		sl = sizeof *a;
	}
	int s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return HTTP_E_BIND;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (v6)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&ss, sl) < 0 || listen(s, 64) < 0 ||
	    getsockname(s, (struct sockaddr *)&ss, &sl) < 0) {
		int e = errno;
		close(s);
		errno = e;
		return HTTP_E_BIND;
	}
	*port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			 : ((struct sockaddr_in *)&ss)->sin_port);
	*fd = s;
	return HTTP_OK;
}

/* The Content-Security-Policy of every answer: scripts and styles from this origin only, the
 * WebSocket only to the WSS port on the loopback names. */
static void build_csp(struct http_server *s)
{
	const struct http_setup *su = &s->su;
	/* Chromium rejects IPv6 literals in CSP sources (and logs an error on every page load), so
	 * wss://[::1] is listed only when the WSS listener really is on ::1. */
	char v6[48] = "";
	if (!strcmp(su->cfg->wss.addr, "::1"))
		snprintf(v6, sizeof v6, " wss://[::1]:%u", su->wss_port);
	snprintf(s->csp, sizeof s->csp,
		 "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
		 "connect-src 'self' wss://127.0.0.1:%u wss://localhost:%u%s; "
		 "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
		 su->wss_port, su->wss_port, v6);
}

/* libmicrohttpd's per-connection pool: it gives half to the read buffer, which must hold a whole
 * head of max_header bytes, and takes the field records, the response header and the rest from
 * the other half. Sized so that the limits that apply are ours (check_head), exactly. */
static size_t pool_size(size_t max_header)
{
	size_t records = max_header / FIELD_BUDGET_BYTES * MHD_FIELD_RECORD + POOL_SLACK;
	size_t read = max_header + POOL_SLACK;
	return 2 * (read > records ? read : records);
}

/* libmicrohttpd on fd (which it owns from now on, also when it fails to start). MHD_USE_ITC:
 * without it libmicrohttpd stops its threads with shutdown(2) on the listening socket, which
 * would also shut down an inherited one for the service manager that keeps it (socket
 * activation): the next connection would be refused instead of starting the daemon again. */
static http_err start_daemon(struct http_server *s, int fd, const struct tls_pair *tls)
{
	const struct cfg *cfg = s->su.cfg;
	s->d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ERROR_LOG |
			MHD_USE_ITC,
		0, accept_policy, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
		NULL, /* first, or early messages escape it */
		MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_HTTPS_MEM_CERT, tls->cert,
		MHD_OPTION_HTTPS_MEM_KEY, tls->key, MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)POOL_THREADS, MHD_OPTION_CONNECTION_LIMIT,
		cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool_size(cfg->max_header),
		MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
	return s->d ? HTTP_OK : HTTP_E_START;
}

http_err http_start(int fd, const struct http_setup *su, http_server **out)
{
	http_err e = HTTP_OK;
	struct tls_pair tls = { 0 };
	struct http_server *s = calloc(1, sizeof *s);
	socklen_t ll = sizeof s->local;

	*out = NULL;
	if (!s) {
		close(fd);
		return HTTP_E_NOMEM;
	}
	s->su = *su;
	build_csp(s);
	if (getsockname(fd, (struct sockaddr *)&s->local, &ll) != 0)
		e = HTTP_E_BIND;
	else if (!su->cfg->www_dir || static_open_root(su->cfg->www_dir, &s->www))
		e = HTTP_E_WWW;
	else if (tls_pair_load("http", su->cfg->cert_file, su->cfg->key_file, &tls))
		e = HTTP_E_TLS;
	else if (reaper_start(su->cfg->conn_timeout_s, &s->reaper))
		e = HTTP_E_THREAD;
	if (e) {
		close(fd);
	} else {
		e = start_daemon(s, fd, &tls);
	}
	tls_pair_free(&tls);
	if (e) {
		http_stop(s);
		return e;
	}
	*out = s;
	return HTTP_OK;
}

void http_stop(http_server *s)
{
	if (!s)
		return;
	if (s->d) {
		/* The listener back from libmicrohttpd, closed only after its threads are gone: a
		 * close, never a shutdown (see start_daemon). */
		MHD_socket lfd = MHD_quiesce_daemon(s->d);
		MHD_stop_daemon(s->d);
		if (lfd != MHD_INVALID_SOCKET)
			close(lfd);
	}
	reaper_stop(s->reaper);
	static_close_root(s->www);
	free(s);
}
