/* pcsc.c — the PC/SC monitor thread and card connections (pcsc-lite). The thread sleeps in
 * SCardGetStatusChange until something changes; when pcscd disappears it reports everything
 * gone and waits for its socket to reappear (a bounded back-off timer only as the safety net). */
#include "pcsc.h"

#include "atr.h"
#include "sockwatch.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#define PNP_READER "\\\\?PnP?\\Notification"
#define MAX_READERS 16
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* After the socket appeared but the connect failed: pcscd binds, then listens, then sets the
 * socket's mode (a second event); a short retry covers a listener that is not there yet. */
#define BACKOFF_SOCKET_MS 10

struct reader {
	char *name;
	DWORD state;  /* last dwEventState, fed back as dwCurrentState */
	bool present; /* card present as last reported */
};

struct pcsc_monitor {
	struct pcsc_handlers h;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled on thread exit */
	int wake_fd;         /* eventfd: written on stop, wakes the wait for pcscd */
	sockwatch *watch;    /* pcscd's socket, while waiting for it */
	bool stopping, exited, ctx_valid;
	bool scan_owed;   /* connected, and not every reader's first state handled yet */
	SCARDCONTEXT ctx; /* written by the monitor thread under lock */
	struct reader readers[MAX_READERS];
	size_t n_readers;
	DWORD pnp_state;
};

struct pcsc_card {
	SCARDCONTEXT ctx;
	bool own_ctx, in_tx;
	SCARDHANDLE h;
	DWORD proto;
	uint8_t atr[MAX_ATR_SIZE];
	size_t atr_len;
	struct apdu_transport t;
};

static card_err map_rv(LONG rv)
{
	switch (rv) {
	case SCARD_S_SUCCESS: return CARD_OK;
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NO_SMARTCARD: return CARD_E_REMOVED;
	case SCARD_W_RESET_CARD: return CARD_E_RESET;
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
	case SCARD_F_COMM_ERROR: return CARD_E_NO_SERVICE;
	case SCARD_E_READER_UNAVAILABLE:
	case SCARD_E_UNKNOWN_READER: return CARD_E_NO_READER;
	case SCARD_E_SHARING_VIOLATION: return CARD_E_SHARING;
	case SCARD_E_CANCELLED: return CARD_E_CANCELLED;
	case SCARD_E_NO_MEMORY: return CARD_E_NOMEM;
	case SCARD_E_INSUFFICIENT_BUFFER: return CARD_E_BAD_DATA;
	default: return CARD_E_COMM;
	}
}

/* ---- card connections ---- */

static card_err transmit(void *ctx, const uint8_t *cmd, size_t n, uint8_t *resp, size_t *resp_len)
{
	struct pcsc_card *c = ctx;
	DWORD len = APDU_MAX_RESP;
	const SCARD_IO_REQUEST *pci = c->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	LONG rv = SCardTransmit(c->h, pci, cmd, (DWORD)n, NULL, resp, &len);
	*resp_len = len;
	return map_rv(rv);
}

static card_err begin(struct pcsc_card *c)
{
	card_err e = map_rv(SCardBeginTransaction(c->h));
	c->in_tx = e == CARD_OK;
	if (e)
		return e;
	BYTE atr[MAX_ATR_SIZE];
	DWORD atr_len = sizeof(atr), state = 0, proto = 0;
	char name[256];
	DWORD name_len = sizeof(name);
	e = map_rv(SCardStatus(c->h, name, &name_len, &state, &proto, atr, &atr_len));
	if (!e) {
		c->atr_len = atr_len <= sizeof(c->atr) ? atr_len : sizeof(c->atr);
		memcpy(c->atr, atr, c->atr_len);
		c->t.extended = atr_extended_length(c->atr, c->atr_len);
	}
	return e;
}

card_err pcsc_card_open(pcsc_monitor *m, const char *reader, pcsc_card **out)
{
	struct pcsc_card *c = calloc(1, sizeof(*c));
	card_err e = CARD_E_NOMEM;
	*out = NULL;
	if (!c)
		return e;
	if (m) {
		c->ctx = m->ctx;
	} else {
		if ((e = map_rv(SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &c->ctx))) !=
		    CARD_OK)
			goto fail;
		c->own_ctx = true;
	}
	e = map_rv(SCardConnect(c->ctx, reader, SCARD_SHARE_SHARED,
				SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &c->h, &c->proto));
	if (e) {
		c->h = 0;
		goto fail;
	}
	c->t.transmit = transmit;
	c->t.ctx = c;
	e = begin(c);
	if (e == CARD_E_RESET)
		e = pcsc_card_reconnect(c, false);
	if (e)
		goto fail;
	*out = c;
	return CARD_OK;
fail:
	pcsc_card_close(c);
	return e;
}

const struct apdu_transport *pcsc_card_transport(pcsc_card *c)
{
	return &c->t;
}

size_t pcsc_card_atr(const pcsc_card *c, uint8_t *atr, size_t cap)
{
	size_t n = c->atr_len < cap ? c->atr_len : cap;
	memcpy(atr, c->atr, n);
	return n;
}

card_err pcsc_card_reconnect(pcsc_card *c, bool reset)
{
	if (c->in_tx)
		SCardEndTransaction(c->h, SCARD_LEAVE_CARD);
	c->in_tx = false;
	card_err e = map_rv(SCardReconnect(c->h, SCARD_SHARE_SHARED,
					   SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
					   reset ? SCARD_RESET_CARD : SCARD_LEAVE_CARD, &c->proto));
	return e ? e : begin(c);
}

void pcsc_card_close(pcsc_card *c)
{
	if (!c)
		return;
	if (c->in_tx)
		SCardEndTransaction(c->h, SCARD_LEAVE_CARD);
	if (c->h)
		SCardDisconnect(c->h, SCARD_LEAVE_CARD);
	if (c->own_ctx)
		SCardReleaseContext(c->ctx);
	free(c);
}

/* ---- the monitor ---- */

static bool stopping(pcsc_monitor *m)
{
	pthread_mutex_lock(&m->lock);
	bool s = m->stopping;
	pthread_mutex_unlock(&m->lock);
	return s;
}

/* Waits up to ms for pcscd's socket to appear or for stop. */
static enum pcsc_wake wait_service(pcsc_monitor *m, unsigned ms)
{
	struct pollfd fds[2] = { { .fd = m->wake_fd, .events = POLLIN },
				 { .fd = m->watch ? sockwatch_fd(m->watch) : -1,
				   .events = POLLIN } };
	int n = poll(fds, 2, (int)ms);
	if (stopping(m))
		return PCSC_WAKE_STOP;
	if (n > 0 && (fds[1].revents & POLLIN) && sockwatch_changed(m->watch))
		return PCSC_WAKE_SOCKET;
	if (m->watch && fds[1].fd < 0 && sockwatch_changed(m->watch))
		return PCSC_WAKE_SOCKET; /* its directory just became watchable, the socket in it */
	return n > 0 ? PCSC_WAKE_OTHER : PCSC_WAKE_TIMER;
}

static void forget_reader(pcsc_monitor *m, size_t i)
{
	struct reader *r = &m->readers[i];
	if (r->present && m->h.card_absent)
		m->h.card_absent(m->h.user, r->name);
	if (m->h.reader_removed)
		m->h.reader_removed(m->h.user, r->name);
	free(r->name);
	m->readers[i] = m->readers[--m->n_readers];
}

/* Everything is gone with pcscd: report it, release the context. */
static void lose_service(pcsc_monitor *m)
{
	while (m->n_readers)
		forget_reader(m, m->n_readers - 1);
	pthread_mutex_lock(&m->lock);
	SCardReleaseContext(m->ctx);
	m->ctx_valid = false;
	pthread_mutex_unlock(&m->lock);
	if (m->h.service)
		m->h.service(m->h.user, false, PCSC_WAKE_NONE);
}

static bool listed(const char *list, const char *name)
{
	for (const char *p = list; p && *p; p += strlen(p) + 1)
		if (!strcmp(p, name))
			return true;
	return false;
}

/* Re-lists the readers and reports the difference. */
static card_err sync_readers(pcsc_monitor *m)
{
	char *list = NULL;
	DWORD len = SCARD_AUTOALLOCATE;
	LONG rv = SCardListReaders(m->ctx, NULL, (LPSTR)&list, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		list = NULL;
	else if (rv != SCARD_S_SUCCESS)
		return map_rv(rv);
	for (size_t i = m->n_readers; i-- > 0;)
		if (!listed(list, m->readers[i].name))
			forget_reader(m, i);
	for (const char *p = list; p && *p; p += strlen(p) + 1) {
		bool known = false;
		for (size_t i = 0; i < m->n_readers && !known; i++)
			known = !strcmp(m->readers[i].name, p);
		if (known || m->n_readers == MAX_READERS || !strcmp(p, PNP_READER))
			continue;
		char *name = strdup(p);
		if (!name)
			break;
		m->readers[m->n_readers++] =
			(struct reader){ .name = name, .state = SCARD_STATE_UNAWARE };
		if (m->h.reader_added)
			m->h.reader_added(m->h.user, name);
	}
	if (list)
		SCardFreeMemory(m->ctx, list);
	return CARD_OK;
}

/* A reader's new state: card in or out (or swapped, seen by pcsc-lite's event counter in the
 * high 16 bits while present stayed true). */
static void reader_changed(pcsc_monitor *m, struct reader *r, DWORD ev)
{
	bool now = (ev & SCARD_STATE_PRESENT) && !(ev & SCARD_STATE_EMPTY);
	bool swapped = now && r->present && (ev >> 16) != (r->state >> 16) &&
		r->state != SCARD_STATE_UNAWARE;
	if (r->present && (!now || swapped)) {
		r->present = false;
		if (m->h.card_absent)
			m->h.card_absent(m->h.user, r->name);
	}
	r->state = ev & ~(DWORD)SCARD_STATE_CHANGED;
	if (now && !r->present) {
		r->present = true;
		if (m->h.card_present)
			m->h.card_present(m->h.user, m, r->name);
	}
}

/* One blocking wait and what follows from it. Returns a service error to reconnect on. */
static card_err wait_once(pcsc_monitor *m)
{
	SCARD_READERSTATE st[MAX_READERS + 1];
	size_t n = m->n_readers;
	memset(st, 0, sizeof(st));
	for (size_t i = 0; i < n; i++) {
		st[i].szReader = m->readers[i].name;
		st[i].dwCurrentState = m->readers[i].state;
	}
	/* pcsc-lite keeps the reader count in the high word of the PnP state. */
	st[n].szReader = PNP_READER;
	st[n].dwCurrentState = (DWORD)n << 16;
	LONG rv = SCardGetStatusChange(m->ctx, INFINITE, st, (DWORD)n + 1);
	if (rv == SCARD_E_CANCELLED || rv == SCARD_E_TIMEOUT)
		return CARD_OK;
	if (rv == SCARD_E_UNKNOWN_READER || rv == SCARD_E_READER_UNAVAILABLE)
		return sync_readers(m);
	if (rv != SCARD_S_SUCCESS)
		return CARD_E_NO_SERVICE; /* whatever else: start over with a fresh context */
	for (size_t i = 0; i < n && i < m->n_readers; i++) {
		if (!(st[i].dwEventState & SCARD_STATE_CHANGED))
			continue;
		if (st[i].dwEventState &
		    (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE | SCARD_STATE_UNAVAILABLE))
			continue; /* the reader is going: sync_readers below removes it */
		reader_changed(m, &m->readers[i], st[i].dwEventState);
	}
	return sync_readers(m);
}

/* Connects to pcscd. False when it is not there; *why says what to wait for next. */
static bool connect_service(pcsc_monitor *m, enum pcsc_wake why)
{
	SCARDCONTEXT ctx;
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
		return false;
	pthread_mutex_lock(&m->lock);
	m->ctx = ctx;
	m->ctx_valid = true;
	pthread_mutex_unlock(&m->lock);
	if (sync_readers(m) != CARD_OK) {
		lose_service(m);
		return false;
	}
	m->scan_owed = true;
	if (m->h.service)
		m->h.service(m->h.user, true, why);
	return true;
}

/* A reader's state is UNAWARE until one wait has reported it (card_present included). */
static void report_scanned(pcsc_monitor *m)
{
	if (!m->scan_owed)
		return;
	for (size_t i = 0; i < m->n_readers; i++)
		if (m->readers[i].state == SCARD_STATE_UNAWARE)
			return;
	m->scan_owed = false;
	if (m->h.scanned)
		m->h.scanned(m->h.user);
}

static void *monitor_main(void *arg)
{
	pcsc_monitor *m = arg;
	unsigned delay = BACKOFF_MIN_MS;
	/* What the next connection is owed to: the socket's appearance stays the reason through
	 * the short retries after it (the listener may come a moment after the file). */
	enum pcsc_wake why = PCSC_WAKE_NONE;
	while (!stopping(m)) {
		if (!m->ctx_valid) {
			if (connect_service(m, why)) {
				delay = BACKOFF_MIN_MS;
				report_scanned(m); /* no reader at all: nothing to wait for */
				continue;
			}
			enum pcsc_wake w = wait_service(m, delay);
			if (w == PCSC_WAKE_STOP)
				break;
			if (w == PCSC_WAKE_SOCKET)
				delay = BACKOFF_SOCKET_MS;
			else if (w == PCSC_WAKE_TIMER)
				delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
			if (why != PCSC_WAKE_SOCKET && w != PCSC_WAKE_OTHER)
				why = w;
			continue;
		}
		if (wait_once(m) == CARD_E_NO_SERVICE && !stopping(m)) {
			lose_service(m);
			why = PCSC_WAKE_NONE;
		} else {
			report_scanned(m);
		}
	}
	while (m->n_readers) {
		free(m->readers[m->n_readers - 1].name);
		m->n_readers--;
	}
	pthread_mutex_lock(&m->lock);
	if (m->ctx_valid)
		SCardReleaseContext(m->ctx);
	m->ctx_valid = false;
	m->exited = true;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

card_err pcsc_monitor_start(const struct pcsc_handlers *h, pcsc_monitor **out)
{
	pcsc_monitor *m = calloc(1, sizeof(*m));
	pthread_condattr_t ca;
	*out = NULL;
	if (!m)
		return CARD_E_NOMEM;
	m->h = *h;
	m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->wake_fd < 0 || sockwatch_open(&m->watch) == CARD_E_NOMEM) {
		card_err e = m->wake_fd < 0 ? CARD_E_INTERNAL : CARD_E_NOMEM;
		if (m->wake_fd >= 0)
			close(m->wake_fd);
		free(m);
		return e;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&m->thread, NULL, monitor_main, m)) {
		pthread_cond_destroy(&m->cond);
		pthread_mutex_destroy(&m->lock);
		sockwatch_close(m->watch);
		close(m->wake_fd);
		free(m);
		return CARD_E_INTERNAL;
	}
	*out = m;
	return CARD_OK;
}

void pcsc_monitor_stop(pcsc_monitor *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stopping = true;
	uint64_t one = 1;
	/* A failed write means the counter is already non-zero: the thread is woken either way. */
	ssize_t wr = write(m->wake_fd, &one, sizeof(one));
	(void)wr;
	/* SCardCancel only interrupts a wait already in progress; the thread may be just about to
	 * enter one, so cancel again until it is seen to exit (shutdown only, not a polling loop). */
	while (!m->exited) {
		if (m->ctx_valid)
			SCardCancel(m->ctx);
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&m->cond, &m->lock, &ts);
	}
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	sockwatch_close(m->watch);
	close(m->wake_fd);
	free(m);
}
