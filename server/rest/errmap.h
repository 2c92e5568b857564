/* errmap.h — the one vocabulary from the card core's errors to the wire: for each card_err the
 * HTTP status and API error code of a REST answer, and the code of a job-failed event
 * (docs/api/openapi.yaml, docs/api/events.md; both are contracts). The card core names its
 * errors (card_errcode) without knowing HTTP; this table is where they meet the API.
 * Where REST and events differ it is on purpose: a REST answer is about the resource (a card
 * that went is 404 card_not_found), an event about what happened to the job (card_removed).
 * Static data, thread-safe; nothing to free but the JSON errmap_fail() makes. */
#ifndef SITHS_ERRMAP_H
#define SITHS_ERRMAP_H

#include <jansson.h>

#include "err.h"

struct errmap {
	unsigned status;      /* HTTP status of a REST answer */
	const char *code;     /* its "error.code" */
	const char *job_code; /* "code" of a job-failed event and of a failed job's state */
};

/* The row of e; CARD_OK or a value outside card_err reads as an unexpected card error. Never
 * NULL. */
const struct errmap *errmap_card(card_err e);

/* A REST answer for card error e: *out = the error body with e's code and message (new
 * reference); returns e's HTTP status. */
unsigned errmap_fail(json_t **out, card_err e, const char *message);

#endif
