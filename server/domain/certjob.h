/* certjob.h — the signature-certificate job engine: a download puts a new signature certificate
 * on one card. Jobs on different cards run in parallel (a worker thread per job); the card core
 * allows one piece of work per card at a time, so a job claims its card when it starts
 * (card_claim_get). A job runs in one card session: verify PIN2 (or activate it, when the card
 * says it is not activated yet) and, for an issuer that signs with the authentication key, PIN1;
 * generate the signing key,
 * card-signed CSR, issuer, validation, write with the CDF entry as the commit point, read back.
 * Every step is reported through the engine's callback (the daemon turns it into events) and the
 * latest state stays readable with certjob_status(). A job whose card went after the commit was
 * sent is INTERRUPTED, holding no claim, until the same card is inserted again
 * (certjob_card_event): the model read then ends it DONE or FAILED; a card that never returns
 * leaves it INTERRUPTED until the engine is freed. All functions are thread-safe.
 * Ownership: the caller owns the engine (certjob_free) and the deps it borrows, which must
 * outlive it; statuses are plain copies. */
#ifndef SITHS_CERTJOB_H
#define SITHS_CERTJOB_H

#include <stdbool.h>

#include "card.h"
#include "certcheck.h"
#include "issuer.h"

#define CERTJOB_ID_LEN 33 /* "j" + 32 hex digits (128 random bits) */
#define CERTJOB_KEEP 64   /* finished jobs kept for certjob_status() */
#define CERTJOB_PIN_MAX 64

typedef enum {
	CERTJOB_OK = 0,
	CERTJOB_E_NOMEM,
	CERTJOB_E_BUSY,      /* the card is in use (a job or a login), or no room for a job */
	CERTJOB_E_NO_ISSUER, /* no issuer configured */
	CERTJOB_E_RANDOM,    /* no random job id */
	CERTJOB_E_THREAD,    /* the worker could not be started */
	CERTJOB_E_ARG,
} certjob_err;

const char *certjob_strerror(certjob_err e);

/* RUNNING → DONE | FAILED | INTERRUPTED; INTERRUPTED → DONE | FAILED when the card is back. */
enum certjob_state { CERTJOB_RUNNING, CERTJOB_DONE, CERTJOB_FAILED, CERTJOB_INTERRUPTED };

/* Why a job failed. The card's own failures carry their card_err; the wire names them. */
enum certjob_failure {
	CERTJOB_FAIL_NONE = 0,
	CERTJOB_FAIL_CARD,               /* the card or its data: status.cause says what */
	CERTJOB_FAIL_ISSUER_UNAVAILABLE, /* the issuer could not be reached or failed */
	CERTJOB_FAIL_ISSUER_REFUSED,     /* the issuer refused the request */
	CERTJOB_FAIL_CERT_INVALID, /* the issued certificate failed validation: nothing written */
};

/* A job as it stands. */
struct certjob_status {
	char id[CERTJOB_ID_LEN + 1];
	char card_id[CARD_ID_LEN];
	enum certjob_state state;
	const char *stage; /* static: "queued", "verify_pin", …, "done" (docs/api/events.md) */
	int percent;       /* 0..100, never decreasing */
	char message[400];
	enum certjob_failure failure; /* when FAILED */
	card_err cause; /* with CERTJOB_FAIL_CARD: what the card core said; when INTERRUPTED: the
			 * error of the work that the card's going caused */
	int tries_left; /* tries after a wrong or blocked PIN (PIN2, or PIN1); -1 = none */
	/* The wrong or blocked code was PIN1 (auth_pin of certjob_start), not PIN2. */
	bool auth_pin_failed;
	/* The card's PIN2 was not activated (a reserve card's two-code letter) and the job activated
	 * it with the PIN it was given, which is now the signature code: set from the verify_pin
	 * stage on, whatever comes after. */
	bool pin2_activated;
	/* FAILED with CERTJOB_FAIL_ISSUER_REFUSED: the CA's own status text ("" if none) and
	 * PKIFailureInfo bits (issue_result, issuer.h). */
	char issuer_text[160];
	unsigned issuer_fail_info;
};

/* Called on the job's worker thread after every step and once at the end (state DONE, FAILED
 * or INTERRUPTED), in order, never with the engine's lock held; st is valid during the call
 * only. An interrupted job's end is reported on the thread of certjob_card_event. */
typedef void (*certjob_report_fn)(const struct certjob_status *st, void *user);

struct certjob_deps {
	card_core *core;
	struct issuer *issuer;               /* NULL: downloads answer CERTJOB_E_NO_ISSUER */
	const struct certcheck_trust *trust; /* the SITHS trust anchor(s) for validation */
	certjob_report_fn report;            /* NULL: nothing is reported */
	void *report_user;
	/* busy(busy_user, true) as a job begins to run, (…, false) once it stopped running (done,
	 * failed or interrupted), exactly once each per job, on any thread and without the engine's
	 * lock: what keeps an on-demand daemon from exiting (idle_hold/idle_release). NULL: none. */
	void (*busy)(void *user, bool begins);
	void *busy_user;
};

struct certjobs;

certjob_err certjob_new(const struct certjob_deps *deps, struct certjobs **out);
/* Waits for running jobs to end (the card core must still run), then frees. NULL is fine. */
void certjob_free(struct certjobs *j);

bool certjob_has_issuer(const struct certjobs *j);
/* The issuer's protection (issuer_protection): ISSUER_PROT_SIGNATURE means a download brings
 * PIN1 too. NULL or no issuer: ISSUER_PROT_NONE. */
enum issuer_protection certjob_protection(const struct certjobs *j);

#define CERTJOB_ENROLL_MAX 128

/* The enrollment order a portal hands over with a download (a CMP issuer's MAC reference and
 * one-time secret): as secret as a PIN. */
struct certjob_enrollment {
	char reference[CERTJOB_ENROLL_MAX + 1];
	char secret[CERTJOB_ENROLL_MAX + 1];
};

/* Starts a download on card_id with PIN2, PIN1 (auth_pin) and, if not NULL, an enrollment order.
 * auth_pin is given exactly when the issuer's protection is ISSUER_PROT_SIGNATURE (else
 * CERTJOB_E_ARG): it is VERIFYed after PIN2, before the key is made, and the card signs the
 * issuer's messages with the authentication key. The PINs and the order are copied and the
 * caller's buffers are wiped (OPENSSL_cleanse) in every case; the PINs' copies are wiped right
 * after the VERIFYs, the order's right after the issuer's answer. The id of the new job goes to
 * id_out. CERTJOB_E_BUSY when the card is in use, or has an INTERRUPTED job (the check at its
 * return comes first). */
certjob_err certjob_start(struct certjobs *j, const char *card_id, char *pin, char *auth_pin,
			  struct certjob_enrollment *enroll, char id_out[CERTJOB_ID_LEN + 1]);

/* Tells the engine of a card event (card_event_fn's, on the card core's thread): a card
 * inserted with the id of an INTERRUPTED job ends that job by its model (jobend_returned). j
 * NULL is fine; other events are ignored. Must not be called once certjob_free has begun. */
void certjob_card_event(struct certjobs *j, const struct card_event *ev);

/* Jobs still running, and revocations of a job's certificate under way (for the idle exit; an
 * INTERRUPTED job does not count). NULL is fine: 0. */
size_t certjob_running(struct certjobs *j);

/* The job's current state into *out; false for an unknown id. */
bool certjob_status(struct certjobs *j, const char *id, struct certjob_status *out);

#endif
