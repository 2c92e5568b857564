/* routes.h — this daemon's REST API: the context its handlers share and its route table (one
 * line per endpoint in routes.c). main.c fills the context before the HTTPS listener starts;
 * it is read-only after. Every member is borrowed from main.c. */
#ifndef SITHS_ROUTES_H
#define SITHS_ROUTES_H

#include "card.h"
#include "certjob.h"
#include "events.h"
#include "health.h"
#include "rest.h"
#include "session.h"

struct rest_ctx {
	card_core *core; /* NULL: the card core is not running (503 cards_unavailable) */
	struct session_store *sessions; /* login sessions; set with core */
	struct certjobs *jobs;          /* the certificate job engine; set with core */
	struct events *events;          /* where card events go */
	struct health *health;
};

/* The daemon's routes. */
extern const struct rest_table routes_table;

#endif
