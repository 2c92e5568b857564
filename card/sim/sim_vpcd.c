/* sim_vpcd.c — the vpcd client loop of siths-cardsim. vpcd (inside pcscd) is the TCP server; we
 * answer its power/reset/ATR control codes and APDUs one at a time. Any read or write failure ends
 * the session: for a smart card that is simply "removed". */
#define _GNU_SOURCE /* ppoll */
#include "sim_vpcd.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "sim_apdu.h"
#include "sim_cmd.h"

const uint8_t sim_atr[14] = { 0x3B, 0x89, 0x80, 0x01, 'S', 'I', 'T',
			      'H',  'S',  '-',  'S',  'I', 'M', 0x27 };
const uint8_t sim_atr_extended[20] = { 0x3B, 0x8F, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0x40, 0x59,
				       'S',  'I',  'T',  'H',  'S',  '-',  'S',  'I',  'M',  0xCB };

enum { CTRL_OFF = 0, CTRL_ON = 1, CTRL_RESET = 2, CTRL_ATR = 4 };
enum { FIRST_FRAME_MS = 10000 };

/* The stop signals are blocked while the card works and unblocked only inside ppoll(): a signal
 * that lands between a check of *stop and a blocking read would otherwise be lost, and the card
 * would sit in read() for ever (nothing more comes from an idle reader). SIGUSR1 (the log's
 * mark, main.c) is held the same way, so its line falls between two commands' lines. */
struct stopper {
	volatile sig_atomic_t *stop;
	sigset_t waiting; /* the mask while waiting: the caller's, with the stop signals open */
	sigset_t working; /* the caller's mask, to restore */
};

static void stopper_begin(struct stopper *s, volatile sig_atomic_t *stop)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	s->stop = stop;
	sigprocmask(SIG_BLOCK, &block, &s->working);
	s->waiting = s->working;
	sigdelset(&s->waiting, SIGTERM);
	sigdelset(&s->waiting, SIGINT);
	sigdelset(&s->waiting, SIGUSR1);
}

static void stopper_end(struct stopper *s)
{
	sigprocmask(SIG_SETMASK, &s->working, NULL);
}

/* Waits for fd to be readable (fd < 0: for timeout_ms; -1 = no limit). 1: readable, 0: the time
 * is up, -1: a stop signal arrived or poll failed. */
static int stopper_wait(struct stopper *s, int fd, long timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct timespec t = { timeout_ms / 1000, timeout_ms % 1000 * 1000000L };
	for (;;) {
		if (*s->stop)
			return -1;
		int r = ppoll(fd >= 0 ? &p : NULL, fd >= 0 ? 1 : 0, timeout_ms >= 0 ? &t : NULL,
			      &s->waiting);
		if (r >= 0)
			return r > 0;
		if (errno != EINTR)
			return -1;
	}
}

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* CLOCK_MONOTONIC in µs: the clock every process of the machine shares, so a trace can be laid
 * beside the host's own times. */
static long long now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

/* --delay t1, the transfer of one APDU through a T=1 reader (docs/virtual-card.md, "Timing
 * model"): a fixed turnaround per exchange, then 11 etu per byte at 115,200 bit/s for the
 * command and the response, each framed in I-blocks of at most 254 bytes (NAD PCB LEN ... LRC:
 * 4 bytes a block) with a 4-byte R-block acknowledging every chained block. */
enum { T1_TURNAROUND_US = 1000, T1_BIT_RATE = 115200, T1_ETU_PER_BYTE = 11, T1_IFS = 254 };
enum { T1_FRAME = 4 };

static long long t1_wire_bytes(size_t n)
{
	size_t blocks = n ? (n + T1_IFS - 1) / T1_IFS : 1;
	return (long long)(n + blocks * T1_FRAME + (blocks - 1) * T1_FRAME);
}

static long long t1_transfer_us(size_t in, size_t out)
{
	long long bytes = t1_wire_bytes(in) + t1_wire_bytes(out);
	return T1_TURNAROUND_US + bytes * T1_ETU_PER_BYTE * 1000000LL / T1_BIT_RATE;
}

static int try_connect(const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	char service[16];
	int fd = -1;
	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return -1;
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

/* Retries every 100 ms until vpcd listens or the deadline passes. */
static int connect_wait(const struct sim_vpcd_opts *o, struct stopper *s)
{
	long deadline = now_ms() + o->wait_ms;
	for (;;) {
		int fd = try_connect(o->host, o->port);
		if (fd >= 0 || now_ms() >= deadline || stopper_wait(s, -1, 100) < 0)
			return fd;
	}
}

/* 1: n bytes read; 0: clean close before the first byte; -1: error, signal or short read. */
static int read_full(int fd, uint8_t *p, size_t n, struct stopper *s)
{
	size_t got = 0;
	while (got < n) {
		if (stopper_wait(s, fd, -1) < 0)
			return -1;
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return got ? -1 : 0;
		got += (size_t)r;
		/* vpcd writes a frame's length and body in two segments without TCP_NODELAY: Nagle
		 * holds the body until our ACK, and a delayed ACK would cost ~40 ms per APDU. */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	}
	return 1;
}

static int send_frame(int fd, const uint8_t *p, size_t n)
{
	uint8_t hdr[2] = { (uint8_t)(n >> 8), (uint8_t)n };
	if (n > 0xFFFF)
		return -1; /* cannot be framed; EFs are at most 32767 bytes, so never happens */
	struct part {
		const void *b;
		size_t n;
	} parts[2] = { { hdr, 2 }, { p, n } };
	for (size_t i = 0; i < 2; i++) {
		size_t off = 0;
		while (off < parts[i].n) {
			ssize_t w = send(fd, (const uint8_t *)parts[i].b + off, parts[i].n - off,
					 MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			off += (size_t)w;
		}
	}
	return 0;
}

static void control(struct sim_card *c, int fd, uint8_t code, const struct sim_vpcd_opts *o,
		    int *err)
{
	if (o->verbose)
		fprintf(stderr, "siths-cardsim: control %u\n", code);
	if (o->trace)
		fprintf(o->trace, "{\"t_us\":%lld,\"control\":%u}\n", now_us(), code);
	switch (code) {
	case CTRL_OFF:
	case CTRL_ON:
	case CTRL_RESET: sim_card_reset_session(c); break;
	case CTRL_ATR:
		*err = c->extended_length
			? send_frame(fd, sim_atr_extended, sizeof(sim_atr_extended))
			: send_frame(fd, sim_atr, sizeof(sim_atr));
		break;
	default: /* unknown control codes expect no answer */ break;
	}
}

struct counters {
	long answered, drop_seen, commit_seen, garbage_seen;
};

int sim_trigger_parse(const char *arg, struct sim_trigger *t)
{
	char kind[32];
	const char *colon = strchr(arg, ':');
	size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
	char *end = NULL;
	if (n >= sizeof(kind))
		return -1;
	memcpy(kind, arg, n);
	kind[n] = 0;
	t->kind = strcmp(kind, "any") == 0 ? SIM_TRIGGER_ANY : sim_kind_from_name(kind);
	t->k = 1;
	if (colon) {
		errno = 0;
		t->k = strtol(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || t->k < 1 || t->k > 1000000000L)
			return -1;
	}
	return t->kind < 0 ? -1 : 0;
}

bool sim_trigger_fires(const struct sim_trigger *t, long *seen, int kind)
{
	return t->kind >= 0 && (t->kind == SIM_TRIGGER_ANY || kind == t->kind) && ++*seen == t->k;
}

/* "siths-cardsim: WHAT (--OPT KIND:K)TAIL"; a trigger of any kind names the command it met:
 * "WHAT (--OPT any:K) at KIND TAIL". */
static void log_fault(const char *what, const char *opt, const struct sim_trigger *t,
		      enum sim_kind kind, const char *tail)
{
	if (t->kind == SIM_TRIGGER_ANY)
		fprintf(stderr, "siths-cardsim: %s (--%s any:%ld) at %s%s\n", what, opt, t->k,
			sim_kind_name(kind), tail);
	else
		fprintf(stderr, "siths-cardsim: %s (--%s %s:%ld)%s\n", what, opt,
			sim_kind_name(kind), t->k, tail);
}

/* A broken card: random bytes of random length, not necessarily ending in a status word. */
static size_t garbage(uint8_t *out)
{
	uint8_t n = 0;
	if (RAND_bytes(&n, 1) != 1 || RAND_bytes(out, 40) != 1)
		memset(out, 0x5A, 40);
	return 1 + n % 40;
}

/* What the log and the trace may say of a command: header, length and status word. For PIN
 * commands not even the length: it would tell the PIN's. */
struct apdu_note {
	const char *kind;
	uint8_t h[4];
	char len[24];
	unsigned sw;
};

static void note_apdu(struct apdu_note *a, enum sim_kind kind, const uint8_t *in, size_t len,
		      const uint8_t *out, size_t olen, const char *no_len)
{
	bool pin = kind == SIM_K_VERIFY || kind == SIM_K_CHANGE_REF || kind == SIM_K_RESET_RETRY;
	memset(a->h, 0, sizeof(a->h));
	memcpy(a->h, in, len < 4 ? len : 4);
	a->kind = sim_kind_name(kind);
	snprintf(a->len, sizeof(a->len), "%s", no_len);
	if (!pin)
		snprintf(a->len, sizeof(a->len), "%zu", len);
	a->sw = olen >= 2 ? (unsigned)(out[olen - 2] << 8 | out[olen - 1]) : 0;
}

static void log_apdu(enum sim_kind kind, const uint8_t *in, size_t len, const uint8_t *out,
		     size_t olen)
{
	struct apdu_note a;
	note_apdu(&a, kind, in, len, out, olen, "-");
	fprintf(stderr, "siths-cardsim: %s %02X%02X%02X%02X len %s -> %04X\n", a.kind, a.h[0],
		a.h[1], a.h[2], a.h[3], a.len, a.sw);
}

/* One answered APDU: received at t_in, answered (just before sending) at done_us (µs,
 * CLOCK_MONOTONIC), the card's own
 * time on it (busy_us), the bytes of command and response (the response with its SW). */
static void trace_apdu(FILE *f, enum sim_kind kind, const uint8_t *in, size_t len,
		       const uint8_t *out, size_t olen, long long t_in, long long busy)
{
	struct apdu_note a;
	note_apdu(&a, kind, in, len, out, olen, "null");
	fprintf(f,
		"{\"t_us\":%lld,\"done_us\":%lld,\"kind\":\"%s\",\"hdr\":\"%02X%02X%02X%02X\","
		"\"in\":%s,\"out\":%zu,\"sw\":\"%04X\",\"card_us\":%lld}\n",
		t_in, now_us(), a.kind, a.h[0], a.h[1], a.h[2], a.h[3], a.len, olen, a.sw, busy);
}

static int serve(struct sim_card *c, int fd, const struct sim_vpcd_opts *o, struct stopper *s)
{
	uint8_t *in = malloc(65536), *out = malloc(SIM_RAPDU_MAX);
	struct counters n = { 0, 0, 0, 0 };
	int rc = -1;
	if (!in || !out)
		goto out;
	/* vpcd asks for the ATR as soon as it takes a card. It serves one card per reader port: a
	 * second card is accepted by the kernel but never spoken to, and would wait for ever. */
	if (stopper_wait(s, fd, FIRST_FRAME_MS) == 0) {
		fprintf(stderr,
			"siths-cardsim: vpcd accepted the connection but never spoke to the card "
			"within %d s "
			"(another card already in this reader?)\n",
			FIRST_FRAME_MS / 1000);
		rc = 3;
		goto out;
	}
	for (;;) {
		uint8_t hdr[2];
		int r = read_full(fd, hdr, 2, s);
		if (r <= 0) {
			rc = *s->stop ? 1 : r;
			break;
		}
		size_t len = (size_t)(hdr[0] << 8 | hdr[1]);
		if (len && read_full(fd, in, len, s) != 1)
			break;
		if (len == 1) {
			int err = 0;
			control(c, fd, in[0], o, &err);
			if (err)
				break;
			continue;
		}
		long long t_in = now_us(), busy0 = c->busy_us;
		enum sim_kind kind = sim_apdu_kind(in, len);
		if (sim_trigger_fires(&o->drop_at, &n.drop_seen, (int)kind)) {
			log_fault("card pulled", "drop-at", &o->drop_at, kind, "");
			rc = 2;
			break;
		}
		size_t olen;
		if (sim_trigger_fires(&o->garbage_at, &n.garbage_seen, (int)kind)) {
			log_fault("answered garbage", "garbage-at", &o->garbage_at, kind, "");
			olen = garbage(out);
		} else {
			olen = sim_apdu_process(c, in, len, out);
		}
		if (o->t1) {
			long long us = t1_transfer_us(len, olen);
			sim_cmd_sleep_us((long)us);
			c->busy_us += us;
		}
		if (o->verbose)
			log_apdu(kind, in, len, out, olen);
		/* The command may carry a PIN: wipe the receive buffer now (the trace needs only
		 * its header, taken below before the answer is sent, from a copy of 4 bytes). */
		uint8_t hdr4[4] = { 0 };
		memcpy(hdr4, in, len < 4 ? len : 4);
		OPENSSL_cleanse(in, len);
		/* Pulled once the card's memory holds the command's effect, before the host hears of it:
		 * the host sees the same failure as with --drop-at, the card the other outcome. */
		if (sim_trigger_fires(&o->drop_after_commit, &n.commit_seen, (int)kind)) {
			log_fault("card pulled", "drop-after-commit", &o->drop_after_commit, kind,
				  " after carrying the command out");
			rc = 2;
			break;
		}
		/* Written before the answer: once the host has it, its trace line is in the file. */
		if (o->trace)
			trace_apdu(o->trace, kind, hdr4, len, out, olen, t_in, c->busy_us - busy0);
		if (send_frame(fd, out, olen) != 0)
			break;
		if (o->drop_after > 0 && ++n.answered >= o->drop_after) {
			fprintf(stderr, "siths-cardsim: card pulled (--drop-after %ld)\n",
				o->drop_after);
			rc = 2;
			break;
		}
	}
out:
	free(in);
	free(out);
	/* A stop signal during a read is a stop, not a lost connection. */
	return *s->stop ? 1 : rc;
}

enum sim_err sim_vpcd_run(struct sim_card *c, const struct sim_vpcd_opts *o,
			  volatile sig_atomic_t *stop)
{
	struct stopper s;
	stopper_begin(&s, stop);
	int fd = connect_wait(o, &s);
	if (fd < 0) {
		stopper_end(&s);
		fprintf(stderr, "siths-cardsim: cannot connect to vpcd at %s:%d: %s\n", o->host,
			o->port, strerror(errno));
		return SIM_E_IO;
	}
	fprintf(stderr, "siths-cardsim: connected to %s:%d\n", o->host, o->port);
	if (o->trace)
		fprintf(o->trace, "{\"t_us\":%lld,\"event\":\"connected\"}\n", now_us());
	sim_card_reset_session(c);
	int r = serve(c, fd, o, &s);
	close(fd);
	stopper_end(&s);
	switch (r) {
	case 0:
		fprintf(stderr, "siths-cardsim: vpcd closed the connection (reader gone)\n");
		return SIM_OK;
	case 1: fprintf(stderr, "siths-cardsim: stopped by signal\n"); return SIM_OK;
	case 2: return SIM_OK;
	case 3: return SIM_E_IO;
	default:
		fprintf(stderr, "siths-cardsim: connection to vpcd lost: %s\n", strerror(errno));
		return SIM_E_IO;
	}
}
