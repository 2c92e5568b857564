/* pcsc.h — pcsc-lite: a monitor thread that turns reader and card changes into callbacks, and
 * card connections that speak APDUs inside a PC/SC transaction.
 * The monitor owns one SCARDCONTEXT, blocks in SCardGetStatusChange(INFINITE) on every reader
 * plus "\\?PnP?\Notification" (no polling), and is woken by SCardCancel to stop. When pcscd
 * goes away it re-establishes the context as soon as pcscd's socket reappears (sockwatch.h),
 * with a bounded exponential back-off timer (100 ms → 5 s) as the safety net for a socket it
 * cannot watch (or one that never went, as with systemd's socket activation).
 * pcsc-lite wants one context per thread: a card connection opened with a NULL monitor makes
 * its own context (for worker threads); with the monitor it must be used on the monitor thread
 * only (i.e. inside a callback). The socket comes from PCSCLITE_CSOCK_NAME when set. */
#ifndef SITHS_PCSC_H
#define SITHS_PCSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu.h"

typedef struct pcsc_monitor pcsc_monitor;
typedef struct pcsc_card pcsc_card;

/* What made the monitor try pcscd again. */
enum pcsc_wake {
	PCSC_WAKE_NONE,   /* nothing: the first try, or right after pcscd went */
	PCSC_WAKE_SOCKET, /* its socket appeared */
	PCSC_WAKE_TIMER,  /* the back-off timer */
	PCSC_WAKE_OTHER,  /* internal: woken for no reason worth reporting */
	PCSC_WAKE_STOP,   /* internal: stopping */
};

/* All called on the monitor thread. card_present: a card is in `reader` (inserted, or found at
 * start-up, or replaced); open it with pcsc_card_open(m, …) inside the callback. When pcscd goes
 * away, card_absent and reader_removed are called for everything known, then service(false);
 * service(true, why) says what led to the connection. */
struct pcsc_handlers {
	void (*service)(void *user, bool up, enum pcsc_wake why);
	void (*reader_added)(void *user, const char *reader);
	void (*reader_removed)(void *user, const char *reader);
	void (*card_present)(void *user, pcsc_monitor *m, const char *reader);
	void (*card_absent)(void *user, const char *reader);
	/* Once per connection to pcscd, after every reader listed so far was waited on once (so
	 * card_present ran for each card in one). */
	void (*scanned)(void *user);
	void *user;
};

/* Starts the thread; h is copied. CARD_E_INTERNAL if the thread cannot start. */
card_err pcsc_monitor_start(const struct pcsc_handlers *h, pcsc_monitor **out);
/* Cancels the wait, joins the thread, frees. NULL is fine. Not from a callback. */
void pcsc_monitor_stop(pcsc_monitor *m);

/* Connects (shared) to the card in `reader` and begins a transaction. m NULL: a private
 * context for this connection. *out is released with pcsc_card_close(). */
card_err pcsc_card_open(pcsc_monitor *m, const char *reader, pcsc_card **out);
/* The card's transport; valid until pcsc_card_close(). */
const struct apdu_transport *pcsc_card_transport(pcsc_card *c);
/* ATR bytes (up to 33); returns the length. */
size_t pcsc_card_atr(const pcsc_card *c, uint8_t *atr, size_t cap);
/* After CARD_E_RESET: reconnect without resetting again (reset false) and begin a new
 * transaction. reset true: reset the card first, which clears its security status (verified
 * PINs) — done after every piece of work that verified a PIN. */
card_err pcsc_card_reconnect(pcsc_card *c, bool reset);
/* Ends the transaction, disconnects (leaving the card as it is), frees. NULL is fine. */
void pcsc_card_close(pcsc_card *c);

#endif
