/* events.h — the WebSocket events of docs/api/events.md: the only place their JSON is spelled.
 * It turns card-core events, the job engine's reports and a new client's greeting into JSON
 * text messages and hands each to a sink (main.c wires the WebSocket listener's broadcast);
 * it knows no transport. One shape per event: `card` is always the card model object,
 * `card_id` always the card's id, `reader` the reader object (in card-removed the reader's
 * name, as in the card model); the fields docs/api/events.md marks deprecated are sent as well
 * for one release.
 * Thread-safe: card events arrive on the card core's threads, reports on job workers.
 * Ownership: the caller owns the events object (events_free). */
#ifndef SITHS_EVENTS_H
#define SITHS_EVENTS_H

#include <jansson.h>

#include "card.h"
#include "certjob.h"

/* Where one message goes: text is a complete JSON message, borrowed for the call. */
typedef void (*events_text_fn)(void *to, const char *text);
/* Where one greeting message goes (the client being greeted): msg is borrowed for the call. */
typedef void (*events_json_fn)(void *to, const json_t *msg);

struct events;

/* NULL only on OOM. Messages are dropped until a sink is set. */
struct events *events_new(void);
void events_free(struct events *e); /* NULL is fine */

/* Messages go to send(to, text) from now on; send NULL: dropped (before the sink goes away). */
void events_set_sink(struct events *e, events_text_fn send, void *to);

/* card-inserted / card-updated / card-removed / reader-added / reader-removed for ev; the pcscd
 * events have no message. */
void events_card(struct events *e, const struct card_event *ev);

/* certjob_report_fn (user = struct events *): job-progress, job-done or job-failed for st. */
void events_job(const struct certjob_status *st, void *user);

/* The text of the hello, the first message on every connection: malloc'd, NULL on OOM. */
char *events_hello(void);

/* A new client's greeting after the hello (user = card_core *, NULL when the card core is not
 * running): one card-inserted per card present, each a message of its own through send(to, …). */
void events_greet(void *user, events_json_fn send, void *to);

/* The job as GET /v1/jobs/{id} shows it: the fields of its events, with "state" (new
 * reference, NULL only on OOM). */
json_t *events_job_state(const struct certjob_status *st);

#endif
