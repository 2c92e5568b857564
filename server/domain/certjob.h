/* job.h — the signature-certificate download job: jobs on different cards run in parallel (a
 * worker thread per job); the card core allows one piece of work per card at a time, so a job
 * claims its card when it starts (card_claim_get). A job runs in one card session: verify PIN2,
 * generate the signing key, card-signed CSR, issuer, validation, write with the CDF entry as the
 * commit point, read back; progress and the outcome go to the WebSocket (events in
 * docs/api/events.md) and stay readable with jobs_state(). All functions are thread-safe.
 * Ownership: the caller owns the engine (jobs_free) and the deps it borrows (which must outlive
 * it); jobs_state() returns a new JSON reference. */
#ifndef SITHS_JOB_H
#define SITHS_JOB_H

#include <stdbool.h>

#include <jansson.h>

#include "card.h"
#include "certcheck.h"
#include "issuer.h"
#include "ws.h"

#define JOB_ID_LEN 33          /* "j" + 32 hex digits (128 random bits) */
#define JOB_KEEP 64            /* finished jobs kept for GET /v1/jobs/{id} */
#define JOB_PIN_MAX 64

typedef enum {
	JOB_OK = 0,
	JOB_E_NOMEM,
	JOB_E_BUSY,          /* the card is in use (a job or a login), or no room for a job */
	JOB_E_NO_ISSUER,     /* no issuer configured */
	JOB_E_RANDOM,        /* no random job id */
	JOB_E_THREAD,        /* the worker could not be started */
	JOB_E_ARG,
} job_err;

const char *job_strerror(job_err e);

struct job_deps {
	card_core *core;
	ws_server *ws;                        /* NULL: no events (unit tests) */
	struct issuer *issuer;                /* NULL: downloads answer JOB_E_NO_ISSUER */
	const struct certcheck_trust *trust;  /* the SITHS trust anchor(s) for validation */
};

struct jobs;

job_err jobs_new(const struct job_deps *deps, struct jobs **out);
/* Waits for running jobs to end (the card core must still run), then frees. NULL is fine. */
void jobs_free(struct jobs *j);

bool jobs_has_issuer(const struct jobs *j);

/* Starts a download on card_id with PIN2. The PIN is copied and the caller's buffer is wiped
 * (OPENSSL_cleanse) in every case; the copy is wiped right after the VERIFY. The id of the new
 * job goes to id_out. JOB_E_BUSY when the card is in use. */
job_err jobs_start(struct jobs *j, const char *card_id, char *pin, char id_out[JOB_ID_LEN + 1]);

/* {"job","card","card_id","state":"running|done|failed","stage","percent","message"[,"code"]
 * [,"tries_left"]}, or NULL for an unknown id. */
json_t *jobs_state(struct jobs *j, const char *id);

#endif
