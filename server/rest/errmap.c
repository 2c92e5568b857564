/* errmap.c — the table of errmap.h: one row per card_err, the API's codes as they are. */
#include "errmap.h"

#include "rest.h"

#define CARD_ERROR                              \
	{                                       \
		502, "card_error", "card_error" \
	} /* the card answered unexpectedly */
#define GONE                                          \
	{                                             \
		404, "card_not_found", "card_removed" \
	} /* the card is not there (any more) */

static const struct errmap rows[CARD_E__COUNT] = {
	[CARD_E_NOMEM] = { 500, "no_memory", "card_error" },
	[CARD_E_INTERNAL] = CARD_ERROR,
	[CARD_E_NO_SERVICE] = GONE,
	[CARD_E_NO_READER] = GONE,
	[CARD_E_NO_CARD] = GONE,
	[CARD_E_REMOVED] = GONE,
	[CARD_E_RESET] = GONE,
	[CARD_E_SHARING] = CARD_ERROR,
	[CARD_E_CANCELLED] = CARD_ERROR,
	[CARD_E_COMM] = CARD_ERROR,
	[CARD_E_FILE_NOT_FOUND] = CARD_ERROR,
	[CARD_E_RANGE] = CARD_ERROR,
	[CARD_E_WRONG_LENGTH] = CARD_ERROR,
	[CARD_E_SECURITY] = CARD_ERROR,
	[CARD_E_CONDITIONS] = CARD_ERROR,
	[CARD_E_PIN_WRONG] = { 401, "wrong_pin", "wrong_pin" },
	[CARD_E_PIN_BLOCKED] = { 423, "pin_blocked", "pin_blocked" },
	[CARD_E_WRONG_DATA] = CARD_ERROR,
	[CARD_E_NOT_SUPPORTED] = CARD_ERROR,
	[CARD_E_CARD_ERROR] = CARD_ERROR,
	[CARD_E_BAD_DATA] = CARD_ERROR,
	[CARD_E_BUSY] = { 409, "job_running", "job_running" },
	[CARD_E_PIN_FORMAT] = { 400, "bad_pin", "bad_pin" },
	/* Final: the card must be replaced. A wrong PUK is CARD_E_PIN_WRONG to RESET RETRY COUNTER;
	 * its "wrong_puk" comes from the request (login.h), not from this table. */
	[CARD_E_PUK_BLOCKED] = { 423, "puk_blocked", "puk_blocked" },
	/* The PIN still holds its letter's value: a state of the card, not a wrong request. */
	[CARD_E_PIN_NOT_ACTIVATED] = { 409, "pin_not_activated", "pin_not_activated" },
};

const struct errmap *errmap_card(card_err e)
{
	static const struct errmap unexpected = CARD_ERROR;
	return (unsigned)e < CARD_E__COUNT && rows[e].code ? &rows[e] : &unexpected;
}

unsigned errmap_fail(json_t **out, card_err e, const char *message)
{
	const struct errmap *m = errmap_card(e);
	return rest_fail(out, m->status, m->code, message);
}
