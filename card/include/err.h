/* err.h — card_err, the one error enum of the card core: every layer of card/ returns it, and
 * the server maps it to the wire (server/rest/errmap.c). A leaf header: the core's internals include
 * this one instead of the facade (card.h). */
#ifndef SITHS_CARD_ERR_H
#define SITHS_CARD_ERR_H

typedef enum {
	CARD_OK = 0,
	CARD_E_NOMEM,
	CARD_E_INTERNAL,       /* a bug or an unexpected library failure */
	CARD_E_NO_SERVICE,     /* pcscd not reachable */
	CARD_E_NO_READER,      /* the reader went away */
	CARD_E_NO_CARD,        /* no card in the reader / unknown card id */
	CARD_E_REMOVED,        /* the card was pulled during the operation */
	CARD_E_RESET,          /* the card was reset by another program */
	CARD_E_SHARING,        /* another program holds the card exclusively */
	CARD_E_CANCELLED,      /* the core is stopping */
	CARD_E_COMM,           /* transport failure or a response that breaks the protocol */
	CARD_E_FILE_NOT_FOUND, /* 6A82, 6A83, 6A88 */
	CARD_E_RANGE,          /* 6B00, 6A84: offset or length beyond the file */
	CARD_E_WRONG_LENGTH,   /* 6700 */
	CARD_E_SECURITY,       /* 6982: PIN not verified */
	CARD_E_CONDITIONS,     /* 6985, 6986: conditions of use not satisfied */
	CARD_E_PIN_WRONG,      /* 63Cx with x > 0: wrong PIN, tries left in the SW */
	CARD_E_PIN_BLOCKED,    /* 6983 or 63C0 */
	CARD_E_WRONG_DATA,     /* 6A80 */
	CARD_E_NOT_SUPPORTED,  /* 6D00, 6E00, 6A81, 6A86, 68xx, or a layout this core cannot use */
	CARD_E_CARD_ERROR,     /* any other status word (64xx, 65xx, 6Fxx, …) */
	CARD_E_BAD_DATA,       /* malformed DER, certificate or response from the card */
	CARD_E_BUSY,           /* another card_with_card() (or claim) holds this card */
	CARD_E_PIN_FORMAT,  /* a PIN the card's format refuses: not sent, or 6A80 to the VERIFY */
	CARD_E_PUK_BLOCKED, /* the PUK is blocked (6983 / 63C0 to RESET RETRY COUNTER): final */
	CARD_E_PIN_NOT_ACTIVATED, /* 6984: the PIN still holds its letter's value (card_activate_pin) */
	CARD_E__COUNT
} card_err;

/* Human text, e.g. "card removed". Never NULL. */
const char *card_strerror(card_err e);
/* The error's snake_case name, e.g. "card_removed", "bad_data" (the code of a card model that
 * could not be read). Never NULL. */
const char *card_errcode(card_err e);

#endif
