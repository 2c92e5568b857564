/* core.c — the card core behind card.h: keeps the reader list and one cached model per card,
 * fed by the PC/SC monitor (pcsc.c) and the SITHS reader (siths.c), and turns changes into
 * events. The cache is guarded by one mutex; events are emitted outside it. */
#include "card.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "pcsc.h"
#include "siths.h"

#define MAX_SLOTS 16
#define READ_ATTEMPTS 3  /* a card reset by another program while we read it is read again */

struct slot {
	struct card_reader r;
	bool has_card;
	struct card_model card;
};

struct card_core {
	pthread_mutex_t lock;
	pthread_cond_t gone; /* broadcast when a card or reader leaves (card_wait_gone) */
	card_event_fn fn;
	void *user;
	pcsc_monitor *mon;
	bool pcsc_up;
	struct slot slots[MAX_SLOTS];
	size_t n;
};

static void emit(card_core *c, enum card_event_kind kind, const struct card_reader *r,
		 const struct card_model *m)
{
	struct card_event ev = { .kind = kind, .reader = r, .card = m };
	if (c->fn)
		c->fn(&ev, c->user);
}

static struct slot *slot_by_name(card_core *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->slots[i].r.name, name))
			return &c->slots[i];
	return NULL;
}

static struct slot *slot_by_card(card_core *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->slots[i].has_card && !strcmp(c->slots[i].card.id, id))
			return &c->slots[i];
	return NULL;
}

static void reader_id(const char *name, char *out)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)name, strlen(name), md);
	out[0] = 'r';
	for (int i = 0; i < 8; i++)
		snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
}

static void copy_name(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

/* ---- monitor callbacks ---- */

static void on_service(void *user, bool up)
{
	card_core *c = user;
	pthread_mutex_lock(&c->lock);
	c->pcsc_up = up;
	pthread_mutex_unlock(&c->lock);
	emit(c, up ? CARD_EV_PCSC_UP : CARD_EV_PCSC_DOWN, NULL, NULL);
}

static void on_reader_added(void *user, const char *name)
{
	card_core *c = user;
	struct card_reader r;
	memset(&r, 0, sizeof(r));
	copy_name(r.name, sizeof(r.name), name);
	reader_id(name, r.id);
	pthread_mutex_lock(&c->lock);
	bool added = c->n < MAX_SLOTS && !slot_by_name(c, r.name);
	if (added) {
		memset(&c->slots[c->n], 0, sizeof(c->slots[c->n]));
		c->slots[c->n++].r = r;
	}
	pthread_mutex_unlock(&c->lock);
	if (added)
		emit(c, CARD_EV_READER_ADDED, &r, NULL);
}

static void on_reader_removed(void *user, const char *name)
{
	card_core *c = user;
	struct card_reader r;
	pthread_mutex_lock(&c->lock);
	struct slot *s = slot_by_name(c, name);
	if (s) {
		r = s->r;
		*s = c->slots[--c->n];
		pthread_cond_broadcast(&c->gone);
	}
	pthread_mutex_unlock(&c->lock);
	if (s)
		emit(c, CARD_EV_READER_REMOVED, &r, NULL);
}

static void atr_hex(const uint8_t *atr, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	out[0] = 0;
	for (size_t i = 0; i < n && k + 4 <= cap; i++)
		k += (size_t)snprintf(out + k, cap - k, i ? ":%02x" : "%02x", atr[i]);
}

/* Reads the model over an open connection, reconnecting after a reset by another program. */
static card_err read_model(pcsc_card *pc, struct card_model *m)
{
	card_err e = CARD_E_RESET;
	for (int i = 0; i < READ_ATTEMPTS && e == CARD_E_RESET; i++) {
		if (i && (e = pcsc_card_reconnect(pc, false)) != CARD_OK)
			break;
		e = siths_read(pcsc_card_transport(pc), m);
	}
	return e;
}

/* Two cards with the same number (a test card cloned into two readers) still get two ids. */
static void unique_id(card_core *c, struct card_model *m, const char *reader)
{
	char base[CARD_ID_LEN];
	memcpy(base, m->id, sizeof(base));
	for (int k = 2; k < 100; k++) {
		struct slot *other = slot_by_card(c, m->id);
		if (!other || !strcmp(other->r.name, reader))
			return;
		snprintf(m->id, sizeof(m->id), "%.16s-%d", base, k);
	}
}

static void on_card_present(void *user, pcsc_monitor *mon, const char *name)
{
	card_core *c = user;
	struct card_model m;
	struct card_reader r;
	pcsc_card *pc = NULL;
	uint8_t atr[40];
	memset(&m, 0, sizeof(m));
	copy_name(m.reader, sizeof(m.reader), name);
	reader_id(name, m.reader_id);
	card_err e = pcsc_card_open(mon, name, &pc);
	if (!e) {
		atr_hex(atr, pcsc_card_atr(pc, atr, sizeof(atr)), m.atr, sizeof(m.atr));
		e = read_model(pc, &m);
	}
	if (e == CARD_E_REMOVED || e == CARD_E_NO_SERVICE || e == CARD_E_NO_READER || e == CARD_E_CANCELLED) {
		pcsc_card_close(pc);
		return; /* the monitor reports what happened next */
	}
	if (e && m.status != CARD_STATUS_ERROR) {
		m.status = CARD_STATUS_ERROR;
		m.error = e;
		snprintf(m.error_detail, sizeof(m.error_detail), "reading the card: %s", card_strerror(e));
		siths_card_id(&m, m.id);
	}
	pthread_mutex_lock(&c->lock);
	struct slot *s = slot_by_name(c, name);
	if (s) {
		unique_id(c, &m, name);
		s->has_card = true;
		s->card = m;
		s->r.card_present = true;
		memcpy(s->r.card_id, m.id, sizeof(s->r.card_id));
		r = s->r;
	}
	pthread_mutex_unlock(&c->lock);
	if (s)
		emit(c, CARD_EV_CARD_INSERTED, &r, &m);
	/* Ending the transaction and disconnecting are two more pcscd round trips: after the event. */
	pcsc_card_close(pc);
}

static void on_card_absent(void *user, const char *name)
{
	card_core *c = user;
	struct card_model m;
	struct card_reader r;
	bool had = false;
	pthread_mutex_lock(&c->lock);
	struct slot *s = slot_by_name(c, name);
	if (s) {
		had = s->has_card;
		m = s->card;
		s->has_card = false;
		s->r.card_present = false;
		s->r.card_id[0] = 0;
		r = s->r;
		pthread_cond_broadcast(&c->gone);
	}
	pthread_mutex_unlock(&c->lock);
	if (had)
		emit(c, CARD_EV_CARD_REMOVED, &r, &m);
}

/* ---- the facade ---- */

card_err card_core_start(card_event_fn fn, void *user, card_core **out)
{
	card_core *c = calloc(1, sizeof(*c));
	*out = NULL;
	if (!c)
		return CARD_E_NOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->gone, &ca);
	pthread_condattr_destroy(&ca);
	c->fn = fn;
	c->user = user;
	struct pcsc_handlers h = {
		.service = on_service, .reader_added = on_reader_added, .reader_removed = on_reader_removed,
		.card_present = on_card_present, .card_absent = on_card_absent, .user = c,
	};
	card_err e = pcsc_monitor_start(&h, &c->mon);
	if (e) {
		pthread_cond_destroy(&c->gone);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return e;
	}
	*out = c;
	return CARD_OK;
}

void card_core_stop(card_core *c)
{
	if (!c)
		return;
	pcsc_monitor_stop(c->mon);
	pthread_cond_destroy(&c->gone);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

card_err card_snapshot_get(card_core *c, struct card_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->lock);
	size_t n = c->n, nc = 0;
	for (size_t i = 0; i < n; i++)
		nc += c->slots[i].has_card;
	out->readers = calloc(n ? n : 1, sizeof(*out->readers));
	out->cards = calloc(nc ? nc : 1, sizeof(*out->cards));
	if (!out->readers || !out->cards) {
		pthread_mutex_unlock(&c->lock);
		card_snapshot_free(out);
		return CARD_E_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		out->readers[out->n_readers++] = c->slots[i].r;
		if (c->slots[i].has_card)
			out->cards[out->n_cards++] = c->slots[i].card;
	}
	out->pcsc_up = c->pcsc_up;
	pthread_mutex_unlock(&c->lock);
	return CARD_OK;
}

void card_snapshot_free(struct card_snapshot *s)
{
	free(s->readers);
	free(s->cards);
	memset(s, 0, sizeof(*s));
}

card_err card_get(card_core *c, const char *id, struct card_model *out)
{
	pthread_mutex_lock(&c->lock);
	struct slot *s = slot_by_card(c, id);
	if (s)
		*out = s->card;
	pthread_mutex_unlock(&c->lock);
	return s ? CARD_OK : CARD_E_NO_CARD;
}

bool card_wait_gone(card_core *c, const char *id, long timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += timeout_ms % 1000 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	bool gone;
	int r = 0;
	while (!(gone = !slot_by_card(c, id)) && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&c->gone, &c->lock, &until);
	pthread_mutex_unlock(&c->lock);
	return gone;
}

void card_health_get(card_core *c, struct card_health *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->lock);
	out->pcsc_up = c->pcsc_up;
	out->readers = c->n;
	for (size_t i = 0; i < c->n; i++)
		out->cards += c->slots[i].has_card;
	pthread_mutex_unlock(&c->lock);
}

card_err card_with_card(card_core *c, const char *id, card_work_fn fn, void *user)
{
	struct card_model m;
	pcsc_card *pc = NULL;
	if (card_get(c, id, &m) != CARD_OK)
		return CARD_E_NO_CARD;
	card_err e = pcsc_card_open(NULL, m.reader, &pc);
	if (e)
		return e;
	/* Never retried here: fn may have sent a PIN, and PINs are not retried automatically. */
	e = fn(pcsc_card_transport(pc), &m, user);
	struct card_model fresh = m;
	/* Reset: the PINs fn verified must not stay usable by other programs; it also makes the
	 * empty VERIFYs of the re-read report counters rather than "verified". */
	card_err re = pcsc_card_reconnect(pc, true);
	if (!re)
		re = read_model(pc, &fresh);
	pcsc_card_close(pc);
	if (re == CARD_E_REMOVED || re == CARD_E_NO_SERVICE || re == CARD_E_NO_READER)
		return e;
	struct card_reader r;
	pthread_mutex_lock(&c->lock);
	struct slot *s = slot_by_card(c, id);
	if (s) {
		memcpy(fresh.id, id, sizeof(fresh.id)); /* same card, same id (even after a collision) */
		s->card = fresh;
		r = s->r;
	}
	pthread_mutex_unlock(&c->lock);
	if (s)
		emit(c, CARD_EV_CARD_UPDATED, &r, &fresh);
	return e;
}
