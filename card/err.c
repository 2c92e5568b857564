/* err.c — text and names of card_err, the one error enum of the card core (err.h). */
#include "err.h"

static const struct {
	const char *code, *text;
} errs[CARD_E__COUNT] = {
	[CARD_OK] = { "ok", "ok" },
	[CARD_E_NOMEM] = { "no_memory", "out of memory" },
	[CARD_E_INTERNAL] = { "internal_error", "internal error" },
	[CARD_E_NO_SERVICE] = { "pcsc_unavailable", "the PC/SC service (pcscd) is not reachable" },
	[CARD_E_NO_READER] = { "reader_gone", "the card reader is gone" },
	[CARD_E_NO_CARD] = { "no_card", "no such card" },
	[CARD_E_REMOVED] = { "card_removed", "the card was removed" },
	[CARD_E_RESET] = { "card_reset", "the card was reset by another program" },
	[CARD_E_SHARING] = { "card_busy", "another program uses the card exclusively" },
	[CARD_E_CANCELLED] = { "cancelled", "cancelled" },
	[CARD_E_COMM] = { "card_communication", "communication with the card failed" },
	[CARD_E_FILE_NOT_FOUND] = { "file_not_found", "file or object not found on the card" },
	[CARD_E_RANGE] = { "out_of_range", "offset or length beyond the end of the file" },
	[CARD_E_WRONG_LENGTH] = { "wrong_length", "wrong length" },
	[CARD_E_SECURITY] = { "security_status",
			      "security status not satisfied (PIN not verified)" },
	[CARD_E_CONDITIONS] = { "conditions_not_satisfied", "conditions of use not satisfied" },
	[CARD_E_PIN_WRONG] = { "pin_wrong", "wrong PIN" },
	[CARD_E_PIN_BLOCKED] = { "pin_blocked", "the PIN is blocked" },
	[CARD_E_WRONG_DATA] = { "wrong_data", "the card rejected the data" },
	[CARD_E_NOT_SUPPORTED] = { "not_supported", "not supported by the card" },
	[CARD_E_CARD_ERROR] = { "card_error", "the card reported an error" },
	[CARD_E_BAD_DATA] = { "bad_data", "the card holds malformed data" },
	[CARD_E_BUSY] = { "card_in_use", "a card operation is already running on this card" },
	[CARD_E_PIN_FORMAT] = { "pin_format",
				"the PIN does not have the format the card requires" },
	[CARD_E_PUK_BLOCKED] = { "puk_blocked", "the PUK is blocked: the card must be replaced" },
	[CARD_E_PIN_NOT_ACTIVATED] = { "pin_not_activated", "the PIN has not been activated yet" },
};

const char *card_strerror(card_err e)
{
	return (unsigned)e < CARD_E__COUNT && errs[e].text ? errs[e].text : "unknown card error";
}

const char *card_errcode(card_err e)
{
	return (unsigned)e < CARD_E__COUNT && errs[e].code ? errs[e].code : "card_error";
}
