/* wsrx.c — a tap on the plaintext libwebsockets reads. lws 4.1.6 offers no hook before its
 * parsers (its callbacks see the path already rewritten and frames already unmasked), and its
 * TLS is OpenSSL's SSL_read on the connection's SSL; so this file defines SSL_read. The
 * executable's definition is what libwebsockets' call binds to (ELF symbol interposition; the
 * dynamic linker searches the executable first), and it forwards to OpenSSL's own through
 * dlsym(RTLD_NEXT). Only SSLs of a ctx marked with wsrx_watch_ctx() are looked at; everything
 * else passes straight through. The tap only records: the bytes reach lws unchanged.
 * A later libwebsockets fixed both points itself (it checks the mask since its "Audit fixes");
 * this file can go when the daemon requires one. */
#include "wsrx.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

struct wsrx {
	/* the request line, up to its LF: grown as it comes (most are some 30 bytes; a thousand
	 * idle clients should not hold a kilobyte each), at most WSRX_LINE_MAX */
	char *line;
	size_t line_len, line_cap;
	bool line_done, line_too_long;
	/* the end of the upgrade request head: an empty line (CRLF or bare LF, as lws accepts) */
	bool in_frames;
	bool at_line_start;
	/* the client frame being read */
	uint8_t hdr[2];
	unsigned hdr_have, ext_left, key_left;
	uint64_t ext_len, payload_left;
	bool unmasked;
	void (*alarm)(void *);
	void *alarm_arg;
};

static int ssl_idx = -1, ctx_idx = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int (*real_ssl_read)(SSL *, void *, int);

static void free_state(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	struct wsrx *w = ptr;
	if (w) {
		OPENSSL_clear_free(w->line,
				   w->line_cap); /* the request line: a query may hold anything */
		free(w);
	}
}

static void init(void)
{
	/* POSIX's way to store dlsym's object pointer as a function pointer. */
	*(void **)&real_ssl_read = dlsym(RTLD_NEXT, "SSL_read");
	ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_state);
	ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

wsrx_err wsrx_watch_ctx(SSL_CTX *ctx)
{
	static char mark;
	pthread_once(&once, init);
	if (ctx_idx < 0 || ssl_idx < 0 || !real_ssl_read ||
	    !SSL_CTX_set_ex_data(ctx, ctx_idx, &mark))
		return WSRX_E_NOMEM;
	return WSRX_OK;
}

static struct wsrx *state_of(SSL *ssl, bool create)
{
	if (!ssl || ssl_idx < 0 || !SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_idx))
		return NULL;
	struct wsrx *w = SSL_get_ex_data(ssl, ssl_idx);
	if (!w && create && (w = calloc(1, sizeof *w)) && !SSL_set_ex_data(ssl, ssl_idx, w)) {
		free(w);
		w = NULL;
	}
	return w;
}

/* Room for one more byte of the request line; false past WSRX_LINE_MAX or out of memory (the
 * line then reads as absent). The old copy is wiped, as realloc would not. */
static bool line_room(struct wsrx *w)
{
	if (w->line_len < w->line_cap)
		return true;
	if (w->line_cap >= WSRX_LINE_MAX)
		return false;
	size_t cap = w->line_cap ? 2 * w->line_cap : 64;
	char *p = malloc(cap > WSRX_LINE_MAX ? WSRX_LINE_MAX : cap);
	if (!p)
		return false;
	if (w->line)
		memcpy(p, w->line, w->line_len);
	OPENSSL_clear_free(w->line, w->line_cap);
	w->line = p;
	w->line_cap = cap > WSRX_LINE_MAX ? WSRX_LINE_MAX : cap;
	return true;
}

static void head_byte(struct wsrx *w, uint8_t c)
{
	if (!w->line_done) {
		if (c == '\n') {
			w->line_done = true;
			if (w->line_len && w->line[w->line_len - 1] == '\r')
				w->line_len--;
		} else if (line_room(w)) {
			w->line[w->line_len++] = (char)c;
		} else {
			w->line_too_long = true;
		}
	}
	if (c == '\n') {
		if (w->at_line_start && w->line_done && w->line_len)
			w->in_frames = true;
		w->at_line_start = true;
	} else if (c != '\r') {
		w->at_line_start = false;
	}
}

static void frame_unmasked(struct wsrx *w)
{
	if (w->unmasked)
		return;
	w->unmasked = true;
	if (w->alarm)
		w->alarm(w->alarm_arg);
}

/* RFC 6455 5.2: 2 header bytes, 0/2/8 length bytes, 4 key bytes when masked, the payload. */
static void frame_byte(struct wsrx *w, uint8_t c)
{
	if (w->payload_left) {
		w->payload_left--;
		return;
	}
	if (w->hdr_have < 2) {
		w->hdr[w->hdr_have++] = c;
		if (w->hdr_have < 2)
			return;
		unsigned len7 = w->hdr[1] & 0x7f;
		w->ext_left = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
		w->ext_len = w->ext_left ? 0 : len7;
		w->key_left = (w->hdr[1] & 0x80) ? 4 : 0;
		if (!w->key_left)
			frame_unmasked(w);
	} else if (w->ext_left) {
		w->ext_len = w->ext_len << 8 | c;
		w->ext_left--;
	} else if (w->key_left) {
		w->key_left--;
	}
	if (w->hdr_have == 2 && !w->ext_left && !w->key_left) {
		w->payload_left = w->ext_len;
		w->hdr_have = 0;
	}
}

static void feed(struct wsrx *w, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (w->in_frames)
			frame_byte(w, p[i]);
		else
			head_byte(w, p[i]);
	}
}

int SSL_read(SSL *ssl, void *buf, int num)
{
	pthread_once(&once, init);
	if (!real_ssl_read)
		return -1;
	int n = real_ssl_read(ssl, buf, num);
	struct wsrx *w = n > 0 ? state_of(ssl, true) : NULL;
	if (w)
		feed(w, buf, (size_t)n);
	return n;
}

bool wsrx_request_target(SSL *ssl, char *buf, size_t size, size_t *len)
{
	struct wsrx *w = state_of(ssl, false);
	if (!w || !w->line_done || w->line_too_long)
		return false;
	const char *sp1 = memchr(w->line, ' ', w->line_len);
	const char *sp2 = NULL;
	for (const char *p = w->line + w->line_len; p > w->line; p--)
		if (p[-1] == ' ') {
			sp2 = p - 1;
			break;
		}
	if (!sp1 || sp2 <= sp1)
		return false;
	size_t n = (size_t)(sp2 - sp1 - 1);
	if (n + 1 > size)
		return false;
	memcpy(buf, sp1 + 1, n);
	buf[n] = '\0';
	*len = n;
	return true;
}

bool wsrx_unmasked(SSL *ssl)
{
	struct wsrx *w = state_of(ssl, false);
	return w && w->unmasked;
}

void wsrx_on_unmasked(SSL *ssl, void (*fn)(void *arg), void *arg)
{
	struct wsrx *w = state_of(ssl, true);
	if (w) {
		w->alarm = fn;
		w->alarm_arg = arg;
	}
}
