/* core.c — the card core behind card.h: keeps the reader list and one cached model per card
 * (with the PKCS#15 layout of the card operations beside it), fed by the PC/SC monitor (pcsc.c)
 * and the SITHS reader (siths.c), turns changes into events, and runs work on one card (claims,
 * transaction, session, reset, re-read). The cache and the claims are guarded by one mutex;
 * events are emitted outside it. */
#include "card.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "pcsc.h"
#include "session.h"
#include "siths.h"

#define MAX_SLOTS 16
#define READ_ATTEMPTS 3 /* a card reset by another program while we read it is read again */
#define GONE_WAIT_MS 3000

struct slot {
	struct card_reader r;
	bool has_card;
	struct card_model card;
	struct siths_layout layout; /* read with card; owned by the slot */
};

/* One card in use: card_with_card() or a claim taken for later. */
struct card_claim {
	card_core *core;
	char id[CARD_ID_LEN];
	struct card_claim *next;
};

struct card_core {
	pthread_mutex_t lock;
	pthread_cond_t gone; /* broadcast when a card or reader leaves (card_gone) */
	card_event_fn fn;
	void *user;
	pcsc_monitor *mon;
	bool pcsc_up;
	struct slot slots[MAX_SLOTS];
	size_t n;
	struct card_claim *claims;
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

static void on_service(void *user, bool up, enum pcsc_wake why)
{
	card_core *c = user;
	pthread_mutex_lock(&c->lock);
	c->pcsc_up = up;
	pthread_mutex_unlock(&c->lock);
	struct card_event ev = { .kind = up ? CARD_EV_PCSC_UP : CARD_EV_PCSC_DOWN };
	if (up)
		ev.pcsc_woken = why == PCSC_WAKE_SOCKET ? CARD_PCSC_SOCKET
			: why == PCSC_WAKE_TIMER        ? CARD_PCSC_TIMER
							: CARD_PCSC_FIRST;
	if (c->fn)
		c->fn(&ev, c->user);
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
		siths_layout_free(&s->layout);
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

/* Reads the model and layout over an open connection, reconnecting after a reset by another
 * program. l is freed by the caller whatever the outcome. */
static card_err read_model(pcsc_card *pc, struct card_model *m, struct siths_layout *l)
{
	card_err e = CARD_E_RESET;
	for (int i = 0; i < READ_ATTEMPTS && e == CARD_E_RESET; i++) {
		if (i && (e = pcsc_card_reconnect(pc, false)) != CARD_OK)
			break;
		siths_layout_free(l);
		e = siths_read_layout(pcsc_card_transport(pc), m, l);
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

/* Puts a card read in reader `name` into its slot, taking over *l; *r is the slot's reader for
 * the event. False when the reader is gone. Caller holds the lock. */
static bool store(card_core *c, const char *name, struct card_model *m, struct siths_layout *l,
		  struct card_reader *r)
{
	struct slot *s = slot_by_name(c, name);
	if (!s)
		return false;
	unique_id(c, m, name);
	siths_layout_free(&s->layout);
	s->has_card = true;
	s->card = *m;
	s->layout = *l;
	memset(l, 0, sizeof(*l));
	s->r.card_present = true;
	memcpy(s->r.card_id, m->id, sizeof(s->r.card_id));
	*r = s->r;
	return true;
}

static void on_card_present(void *user, pcsc_monitor *mon, const char *name)
{
	card_core *c = user;
	struct card_model m;
	struct card_reader r;
	struct siths_layout l;
	pcsc_card *pc = NULL;
	uint8_t atr[40];
	memset(&m, 0, sizeof(m));
	memset(&l, 0, sizeof(l));
	copy_name(m.reader, sizeof(m.reader), name);
	reader_id(name, m.reader_id);
	card_err e = pcsc_card_open(mon, name, &pc);
	if (!e) {
		atr_hex(atr, pcsc_card_atr(pc, atr, sizeof(atr)), m.atr, sizeof(m.atr));
		e = read_model(pc, &m, &l);
	}
	if (e == CARD_E_REMOVED || e == CARD_E_NO_SERVICE || e == CARD_E_NO_READER ||
	    e == CARD_E_CANCELLED)
		goto out; /* the monitor reports what happened next */
	if (e && m.status != CARD_STATUS_ERROR) {
		m.status = CARD_STATUS_ERROR;
		m.error = e;
		snprintf(m.error_detail, sizeof(m.error_detail), "reading the card: %s",
			 card_strerror(e));
		siths_card_id(&m, m.id);
	}
	pthread_mutex_lock(&c->lock);
	bool stored = store(c, name, &m, &l, &r);
	pthread_mutex_unlock(&c->lock);
	if (stored)
		emit(c, CARD_EV_CARD_INSERTED, &r, &m);
out:
	siths_layout_free(&l);
	/* Ending the transaction and disconnecting are two more pcscd round trips: after the event. */
	pcsc_card_close(pc);
}

static void on_scanned(void *user)
{
	card_core *c = user;
	struct card_event ev = { .kind = CARD_EV_READERS_SCANNED };
	card_health_get(c, &ev.scanned);
	if (c->fn)
		c->fn(&ev, c->user);
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
		siths_layout_free(&s->layout);
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
		.service = on_service,
		.reader_added = on_reader_added,
		.reader_removed = on_reader_removed,
		.card_present = on_card_present,
		.card_absent = on_card_absent,
		.scanned = on_scanned,
		.user = c,
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
	for (size_t i = 0; i < c->n; i++)
		siths_layout_free(&c->slots[i].layout);
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

bool card_cert_certifies(const struct card_cert_info *ci, const struct card_pubkey *k)
{
	static const unsigned char none[32];
	unsigned char id[32];
	if (!ci->present || !memcmp(ci->key_id, none, sizeof(none)))
		return false;
	siths_key_id(k->n, k->n_len, k->e, k->e_len, id);
	return memcmp(id, ci->key_id, sizeof(id)) == 0;
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

/* ---- work on one card ---- */

static bool claimed(const card_core *c, const char *id)
{
	for (const struct card_claim *cl = c->claims; cl; cl = cl->next)
		if (!strcmp(cl->id, id))
			return true;
	return false;
}

card_err card_claim_get(card_core *c, const char *id, card_claim **out)
{
	*out = NULL;
	size_t n = strlen(id);
	if (n >= CARD_ID_LEN)
		return CARD_E_NO_CARD;
	card_claim *cl = calloc(1, sizeof(*cl));
	if (!cl)
		return CARD_E_NOMEM;
	cl->core = c;
	memcpy(cl->id, id, n + 1);
	pthread_mutex_lock(&c->lock);
	bool busy = claimed(c, id);
	if (!busy) {
		cl->next = c->claims;
		c->claims = cl;
	}
	pthread_mutex_unlock(&c->lock);
	if (busy) {
		free(cl);
		return CARD_E_BUSY;
	}
	*out = cl;
	return CARD_OK;
}

void card_claim_drop(card_claim *cl)
{
	if (!cl)
		return;
	card_core *c = cl->core;
	pthread_mutex_lock(&c->lock);
	for (card_claim **p = &c->claims; *p; p = &(*p)->next) {
		if (*p == cl) {
			*p = cl->next;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	free(cl);
}

/* The model and a copy of the layout of card id, as one consistent pair. */
static card_err take(card_core *c, const char *id, struct card_model *m, struct siths_layout *l)
{
	card_err e = CARD_E_NO_CARD;
	memset(l, 0, sizeof(*l));
	pthread_mutex_lock(&c->lock);
	struct slot *s = slot_by_card(c, id);
	if (s) {
		*m = s->card;
		/* Out of memory only costs the copy: the session then reads the layout itself. */
		siths_layout_copy(l, &s->layout);
		e = CARD_OK;
	}
	pthread_mutex_unlock(&c->lock);
	return e;
}

/* A whole read cannot tell the PINs' full counters: what earlier work on this card learned stays. */
static void keep_learned(struct card_model *m, const struct card_model *was)
{
	if (!m->pin1.tries_max)
		m->pin1.tries_max = was->pin1.tries_max;
	if (!m->pin2.tries_max)
		m->pin2.tries_max = was->pin2.tries_max;
}

/* Stores the model and layout re-read after the work (taking over *l; NULL: the card could
 * not be read, the layout stays) and tells, unless the card went meanwhile. */
static void update(card_core *c, const char *id, struct card_model *m, struct siths_layout *l)
{
	struct card_reader r;
	pthread_mutex_lock(&c->lock);
	struct slot *s = slot_by_card(c, id);
	if (s) {
		memcpy(m->id, id, sizeof(m->id)); /* same card, same id (even after a collision) */
		keep_learned(m, &s->card);
		s->card = *m;
		if (l) {
			siths_layout_free(&s->layout);
			s->layout = *l;
			memset(l, 0, sizeof(*l));
		}
		r = s->r;
	}
	pthread_mutex_unlock(&c->lock);
	if (s)
		emit(c, CARD_EV_CARD_UPDATED, &r, m);
}

card_err card_claim_run(card_claim *cl, card_work_fn fn, void *user)
{
	struct card_model m;
	struct siths_layout l, fresh;
	struct session_effects fx = { .changed = true };
	pcsc_card *pc = NULL;
	memset(&fresh, 0, sizeof(fresh));
	card_err e = take(cl->core, cl->id, &m, &l);
	if (!e)
		e = pcsc_card_open(NULL, m.reader, &pc);
	if (e)
		goto out;
	/* Never retried here: fn may have sent a PIN, and PINs are not retried automatically. */
	e = card_session_run(pcsc_card_transport(pc), &m, &l, fn, user, &fx);
	/* Reset: the PINs fn verified must not stay usable by other programs; it also makes the
	 * empty VERIFYs of the re-read report counters rather than "verified". */
	card_err re = pcsc_card_reconnect(pc, true);
	/* Work that changed nothing (a login, a wrong PIN) leaves every file as it was read at
	 * insertion, and a download that ended with its certificate committed knows what it wrote:
	 * only the counters its PINs moved are asked again. */
	bool whole = re == CARD_OK && ((fx.changed && !fx.sign_written) || !l.usable);
	if (whole)
		re = read_model(pc, &m, &fresh);
	else if (re == CARD_OK)
		re = session_read_counters(pcsc_card_transport(pc), &l, &fx, &m);
	if (re == CARD_OK)
		session_learn_max(&fx, &m);
	pcsc_card_close(pc);
	pc = NULL;
	if (re != CARD_E_REMOVED && re != CARD_E_NO_SERVICE && re != CARD_E_NO_READER)
		update(cl->core, cl->id, &m, whole ? &fresh : NULL);
out:
	pcsc_card_close(pc);
	siths_layout_free(&l);
	siths_layout_free(&fresh);
	card_claim_drop(cl);
	return e;
}

card_err card_with_card(card_core *c, const char *id, card_work_fn fn, void *user)
{
	card_claim *cl;
	card_err e = card_claim_get(c, id, &cl);
	return e ? e : card_claim_run(cl, fn, user);
}

/* Waits until card id has left (its reader is empty or gone), at most timeout_ms: true when it
 * has. Woken by the monitor's removal, not by polling. */
static bool wait_gone(card_core *c, const char *id, long timeout_ms)
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

bool card_gone(card_core *c, const char *id, card_err e)
{
	if (e == CARD_E_REMOVED || e == CARD_E_NO_CARD || e == CARD_E_NO_READER ||
	    e == CARD_E_NO_SERVICE || e == CARD_E_RESET)
		return true;
	if (e != CARD_E_COMM && e != CARD_E_CARD_ERROR)
		return false;
	/* A card pulled mid-APDU often shows as a transport failure first; the monitor sees the
	 * reader empty within milliseconds and wakes us. */
	return wait_gone(c, id, GONE_WAIT_MS);
}
