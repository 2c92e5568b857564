/* certjob.c — the certificate job engine: worker threads, the seven stages inside one card
 * session, honest percentages, the reports and the kept job states. The card itself is claimed in
 * the card core (one piece of work per card); the PIN copy lives only until the VERIFY has been
 * sent. What a report becomes on the wire is the caller's business (certjob_report_fn). */
#include "certjob.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "csr.h"
#include "log.h"

/* Shares of the bar, after the real timings of a card (docs/virtual-card.md, --delay realistic):
 * the key generation takes seconds, the write is a dozen APDUs, the rest is short. */
enum {
	P_VERIFY = 2,
	P_GENERATE = 5,
	P_CSR = 60,
	P_SUBMIT = 68,
	P_VALIDATE = 75,
	P_WRITE = 78,
	P_VERIFY_BACK = 96,
	P_DONE = 100
};

struct job {
	struct certjob_status st;      /* guarded by the engine's lock */
	char pin[CERTJOB_PIN_MAX + 1]; /* wiped right after VERIFY */
	card_claim *claim; /* the card, from certjob_start until the worker's work ends */
	struct certjobs *owner;
};

struct certjobs {
	struct certjob_deps d;
	pthread_mutex_t lock; /* guards everything below and every job's state */
	pthread_cond_t idle;
	unsigned running;
	struct job *jobs[CERTJOB_KEEP + 8]; /* oldest first */
	size_t n_jobs;
};

const char *certjob_strerror(certjob_err e)
{
	switch (e) {
	case CERTJOB_OK: return "ok";
	case CERTJOB_E_NOMEM: return "out of memory";
	case CERTJOB_E_BUSY: return "a card operation is already running on this card";
	case CERTJOB_E_NO_ISSUER: return "no certificate issuer is configured";
	case CERTJOB_E_RANDOM: return "no random numbers";
	case CERTJOB_E_THREAD: return "cannot start a worker";
	case CERTJOB_E_ARG: return "bad argument";
	}
	return "unknown error";
}

/* ---- state and reports ---- */

/* Hands a copy of the state, taken under the lock, to the report callback outside it. Caller
 * holds the lock; it is released here. */
static void report_unlock(struct job *jb)
{
	struct certjobs *j = jb->owner;
	struct certjob_status st = jb->st;
	pthread_mutex_unlock(&j->lock);
	if (j->d.report)
		j->d.report(&st, j->d.report_user);
}

/* Moves the bar; percent never goes back. */
static void progress(struct job *jb, const char *stage, int percent, const char *message)
{
	pthread_mutex_lock(&jb->owner->lock);
	jb->st.stage = stage;
	if (percent > jb->st.percent)
		jb->st.percent = percent;
	snprintf(jb->st.message, sizeof(jb->st.message), "%s", message);
	report_unlock(jb);
}

/* Records that the job made the code it was given the card's signature code (the next report
 * carries it). */
static void pin2_activated(struct job *jb)
{
	pthread_mutex_lock(&jb->owner->lock);
	jb->st.pin2_activated = true;
	pthread_mutex_unlock(&jb->owner->lock);
	log_info("job", "job %s on card %s: PIN2 activated", jb->st.id, jb->st.card_id);
}

/* Records the failure the job ends with (the first one wins). */
__attribute__((format(printf, 5, 6))) static void set_failure(struct job *jb,
							      enum certjob_failure why, card_err e,
							      int tries_left, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&jb->owner->lock);
	if (jb->st.failure == CERTJOB_FAIL_NONE) {
		jb->st.failure = why;
		jb->st.cause = e;
		va_start(ap, fmt);
		vsnprintf(jb->st.message, sizeof(jb->st.message), fmt, ap);
		va_end(ap);
		jb->st.tries_left = tries_left;
	}
	pthread_mutex_unlock(&jb->owner->lock);
}

/* A failure's name for the log. */
static const char *failure_name(const struct certjob_status *st)
{
	switch (st->failure) {
	case CERTJOB_FAIL_CARD: return card_errcode(st->cause);
	case CERTJOB_FAIL_ISSUER_UNAVAILABLE: return "issuer unavailable";
	case CERTJOB_FAIL_ISSUER_REFUSED: return "issuer refused";
	case CERTJOB_FAIL_CERT_INVALID: return "certificate invalid";
	case CERTJOB_FAIL_NONE: break;
	}
	return "unknown";
}

static void finish(struct job *jb, bool ok)
{
	struct certjob_status *st = &jb->st;
	pthread_mutex_lock(&jb->owner->lock);
	st->state = ok ? CERTJOB_DONE : CERTJOB_FAILED;
	if (ok) {
		st->stage = "done";
		st->percent = P_DONE;
		snprintf(st->message, sizeof(st->message),
			 "the signature certificate is on the card%s",
			 st->pin2_activated
				 ? "; the code entered is now activated as the signature code"
				 : "");
		log_info("job", "job %s on card %s: done", st->id, st->card_id);
	} else {
		log_warn("job", "job %s on card %s failed at %s: %s (%s)", st->id, st->card_id,
			 st->stage, failure_name(st), st->message);
	}
	report_unlock(jb);
}

/* ---- the stages (inside card_with_card) ---- */

struct signer {
	card_session *s;
	card_err err;
};

/* csr_sign_fn: the card's PSO CDS with the new signing key. */
static int card_signer(void *user, const unsigned char *di, size_t di_len, unsigned char *sig,
		       size_t cap, size_t *sig_len)
{
	struct signer *s = user;
	s->err = card_sign(s->s, CARD_KEY_SIGN, di, di_len, sig, cap, sig_len);
	return s->err ? -1 : 0;
}

/* Everything the stages make, freed in one place. */
struct work {
	struct job *jb;
	card_session *s;
	const struct card_model *m;
	X509 *auth;
	EVP_PKEY *pub;
	unsigned char *csr;
	size_t csr_len;
	struct issue_result res;
	unsigned char *cert;
	int cert_len;
};

static void work_free(struct work *w)
{
	X509_free(w->auth);
	EVP_PKEY_free(w->pub);
	OPENSSL_free(w->csr);
	issue_result_free(&w->res);
	OPENSSL_free(w->cert);
}

static card_err stage_verify(struct work *w)
{
	struct job *jb = w->jb;
	int tries = -1;
	progress(jb, "verify_pin", P_VERIFY, "checking the signature code");
	/* Tries left first: a blocked PIN2 fails here, without sending the PIN. A PIN2 that still
	 * holds its letter's value cannot be VERIFYed: the code entered becomes the signature code
	 * (activation), and leaves PIN2 verified as a VERIFY would. */
	card_err e = card_pin_status(w->s, CARD_PIN2, &tries);
	if (e == CARD_E_PIN_NOT_ACTIVATED) {
		e = card_activate_pin(w->s, CARD_PIN2, jb->pin, &tries);
		if (!e)
			pin2_activated(jb);
	} else if (!e) {
		e = card_verify_pin(w->s, CARD_PIN2, jb->pin, &tries);
	}
	OPENSSL_cleanse(jb->pin, sizeof(jb->pin));
	if (e == CARD_E_PIN_WRONG)
		set_failure(jb, CERTJOB_FAIL_CARD, e, tries, "wrong signature code (PIN2)");
	else if (e == CARD_E_PIN_BLOCKED)
		set_failure(jb, CERTJOB_FAIL_CARD, e, 0,
			    "the signature code (PIN2) is blocked: unblock it with the PUK");
	else if (e == CARD_E_PIN_FORMAT)
		set_failure(jb, CERTJOB_FAIL_CARD, e, -1,
			    "the signature code has the wrong format");
	return e;
}

static card_err stage_generate(struct work *w)
{
	struct card_pubkey pk;
	progress(w->jb, "generate_key", P_GENERATE, "generating the signing key on the card");
	card_err e = card_generate_sign_key(w->s, &pk);
	if (e)
		return e;
	csr_err ce = csr_rsa_pubkey(pk.n, pk.n_len, pk.e, pk.e_len, &w->pub);
	if (ce) {
		set_failure(w->jb, CERTJOB_FAIL_CARD, CARD_E_BAD_DATA, -1,
			    "the card's new key is unusable: %s", csr_strerror(ce));
		return CARD_E_BAD_DATA;
	}
	return CARD_OK;
}

static card_err stage_csr(struct work *w)
{
	struct signer s = { .s = w->s };
	const uint8_t *der = NULL;
	size_t der_len = 0;
	progress(w->jb, "build_csr", P_CSR, "building the certificate request, signed by the card");
	card_auth_cert(w->s, &der, &der_len);
	const unsigned char *p = der;
	w->auth = der ? d2i_X509(NULL, &p, (long)der_len) : NULL;
	if (!w->auth) {
		set_failure(w->jb, CERTJOB_FAIL_CARD, CARD_E_BAD_DATA, -1,
			    "the authentication certificate is unreadable");
		return CARD_E_BAD_DATA;
	}
	csr_err ce = csr_build(w->auth, w->pub, card_signer, &s, &w->csr, &w->csr_len);
	if (ce == CSR_E_SIGNER && s.err)
		return s.err;
	if (ce) {
		set_failure(w->jb, CERTJOB_FAIL_CARD, CARD_E_BAD_DATA, -1,
			    "certificate request: %s", csr_strerror(ce));
		return CARD_E_BAD_DATA;
	}
	return CARD_OK;
}

static card_err stage_issue(struct work *w)
{
	struct certjobs *j = w->jb->owner;
	struct issue_ctx ctx = { .card_id = w->jb->st.card_id,
				 .session_ok = true,
				 .auth_cert = w->auth,
				 .trust_level = w->m->auth.trust_level };
	progress(w->jb, "submit", P_SUBMIT, "sending the request to the issuer");
	issuer_err ie = issuer_issue(j->d.issuer, w->csr, w->csr_len, &ctx, &w->res);
	if (ie) {
		set_failure(w->jb,
			    ie == ISSUER_E_UNAVAILABLE ? CERTJOB_FAIL_ISSUER_UNAVAILABLE
						       : CERTJOB_FAIL_ISSUER_REFUSED,
			    CARD_OK, -1, "the issuer did not issue a certificate: %s%s%s",
			    issuer_strerror(ie), w->res.detail[0] ? ": " : "", w->res.detail);
		return CARD_E_CANCELLED;
	}
	return CARD_OK;
}

static card_err stage_validate(struct work *w)
{
	char detail[200] = "";
	struct certcheck_in in = {
		.cert = w->res.cert, .chain = w->res.chain, .card_key = w->pub, .auth_cert = w->auth
	};
	progress(w->jb, "validate", P_VALIDATE, "checking the new certificate");
	certcheck_err ce =
		certcheck_signature_cert(w->jb->owner->d.trust, &in, detail, sizeof(detail));
	if (ce) {
		set_failure(w->jb, CERTJOB_FAIL_CERT_INVALID, CARD_OK, -1,
			    "the issued certificate was refused, nothing was written: %s (%s)%s%s",
			    certcheck_strerror(ce), certcheck_errcode(ce), detail[0] ? ": " : "",
			    detail);
		return CARD_E_CANCELLED;
	}
	w->cert_len = i2d_X509(w->res.cert, &w->cert);
	return w->cert_len > 0 ? CARD_OK : CARD_E_NOMEM;
}

/* Write progress: the bar from P_WRITE to P_VERIFY_BACK in proportion to the bytes written. */
static void write_progress(size_t done, size_t total, void *user)
{
	struct job *jb = user;
	char msg[96];
	snprintf(msg, sizeof(msg), "writing the certificate to the card (%zu of %zu bytes)", done,
		 total);
	progress(jb, "write",
		 P_WRITE + (int)((P_VERIFY_BACK - P_WRITE) * done / (total ? total : 1)), msg);
}

static card_err stage_write(struct work *w)
{
	progress(w->jb, "write", P_WRITE, "writing the certificate to the card");
	card_err e =
		card_write_sign_cert(w->s, w->cert, (size_t)w->cert_len, write_progress, w->jb);
	if (!e)
		progress(w->jb, "verify", P_VERIFY_BACK,
			 "certificate read back and compared; refreshing the card");
	return e;
}

static card_err job_work(card_session *s, const struct card_model *m, void *user)
{
	struct work w = { .jb = user, .s = s, .m = m };
	card_err e;
	if ((e = stage_verify(&w)) || (e = stage_generate(&w)) || (e = stage_csr(&w)) ||
	    (e = stage_issue(&w)) || (e = stage_validate(&w)) || (e = stage_write(&w)))
		goto out;
out:
	work_free(&w);
	return e;
}

/* After the transaction: the re-read model must show the certificate, or the job did not work. */
static bool card_shows_cert(struct certjobs *j, const char *card_id)
{
	struct card_model m;
	return card_get(j->d.core, card_id, &m) == CARD_OK && m.sign.present;
}

static void *worker(void *arg)
{
	struct job *jb = arg;
	struct certjobs *j = jb->owner;
	char card_id[CARD_ID_LEN];
	memcpy(card_id, jb->st.card_id,
	       sizeof(card_id)); /* jb may be dropped once it is finished */
	card_err e = card_claim_run(jb->claim, job_work, jb);
	jb->claim = NULL;
	OPENSSL_cleanse(jb->pin, sizeof(jb->pin)); /* also when the card was gone before VERIFY */
	/* Not shown after the commit: the re-read failed, most often because the card was pulled
	 * during it (the model then stays the old one until the monitor sees the empty reader). */
	if (!e && !card_shows_cert(j, card_id)) {
		e = card_gone(j->d.core, card_id, CARD_E_COMM) ? CARD_E_REMOVED : CARD_E_BAD_DATA;
		if (e == CARD_E_BAD_DATA)
			set_failure(jb, CERTJOB_FAIL_CARD, e, -1, "%s",
				    "the card does not show the written certificate");
	}
	if (e && card_gone(j->d.core, card_id, e))
		set_failure(jb, CERTJOB_FAIL_CARD, CARD_E_REMOVED, -1,
			    "the card was removed during the download: %s", card_strerror(e));
	else if (e)
		set_failure(jb, CERTJOB_FAIL_CARD, e, -1, "the card answered unexpectedly: %s",
			    card_strerror(e));
	finish(jb, e == CARD_OK);
	pthread_mutex_lock(&j->lock);
	j->running--;
	pthread_cond_broadcast(&j->idle);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* ---- life cycle ---- */

certjob_err certjob_new(const struct certjob_deps *deps, struct certjobs **out)
{
	*out = NULL;
	if (!deps || !deps->core)
		return CERTJOB_E_ARG;
	struct certjobs *j = calloc(1, sizeof(*j));
	if (!j)
		return CERTJOB_E_NOMEM;
	j->d = *deps;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->idle, NULL);
	*out = j;
	return CERTJOB_OK;
}

void certjob_free(struct certjobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	while (j->running)
		pthread_cond_wait(&j->idle, &j->lock);
	pthread_mutex_unlock(&j->lock);
	for (size_t i = 0; i < j->n_jobs; i++)
		free(j->jobs[i]);
	pthread_cond_destroy(&j->idle);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

bool certjob_has_issuer(const struct certjobs *j)
{
	return j && j->d.issuer;
}

/* Keeps the list bounded: drops the oldest finished job. Caller holds the lock. */
static bool make_room(struct certjobs *j)
{
	if (j->n_jobs < CERTJOB_KEEP)
		return true;
	for (size_t i = 0; i < j->n_jobs; i++) {
		if (j->jobs[i]->st.state != CERTJOB_RUNNING) {
			free(j->jobs[i]);
			memmove(&j->jobs[i], &j->jobs[i + 1],
				(j->n_jobs - i - 1) * sizeof(j->jobs[0]));
			j->n_jobs--;
			return true;
		}
	}
	return j->n_jobs < sizeof(j->jobs) / sizeof(j->jobs[0]);
}

static certjob_err new_job(struct certjobs *j, const char *card_id, char *pin, struct job **out)
{
	unsigned char rnd[16];
	struct job *jb = calloc(1, sizeof(*jb));
	if (!jb)
		return CERTJOB_E_NOMEM;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		free(jb);
		return CERTJOB_E_RANDOM;
	}
	jb->st.id[0] = 'j';
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(jb->st.id + 1 + 2 * i, 3, "%02x", rnd[i]);
	snprintf(jb->st.card_id, sizeof(jb->st.card_id), "%s", card_id);
	/* The job's own copy of the PIN (the caller's is wiped on return); the length was checked
	 * against CERTJOB_PIN_MAX by the caller, the buffer is calloc'ed so the copy stays terminated. */
	memcpy(jb->pin, pin, strnlen(pin, CERTJOB_PIN_MAX));
	jb->st.state = CERTJOB_RUNNING;
	jb->st.stage = "queued";
	jb->st.tries_left = -1;
	jb->owner = j;
	snprintf(jb->st.message, sizeof(jb->st.message), "waiting for the card");
	*out = jb;
	return CERTJOB_OK;
}

/* Files jb and starts its worker; on failure jb is unfiled again (the caller frees it). */
static certjob_err launch(struct certjobs *j, struct job *jb)
{
	pthread_t th;
	pthread_attr_t attr;
	pthread_mutex_lock(&j->lock);
	bool room = make_room(j);
	if (room) {
		j->jobs[j->n_jobs++] = jb;
		j->running++;
	}
	pthread_mutex_unlock(&j->lock);
	if (!room)
		return CERTJOB_E_BUSY;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&th, &attr, worker, jb);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return CERTJOB_OK;
	pthread_mutex_lock(&j->lock);
	j->n_jobs--, j->running--;
	pthread_cond_broadcast(&j->idle);
	pthread_mutex_unlock(&j->lock);
	return CERTJOB_E_THREAD;
}

certjob_err certjob_start(struct certjobs *j, const char *card_id, char *pin,
			  char id_out[CERTJOB_ID_LEN + 1])
{
	struct job *jb = NULL;
	card_claim *claim = NULL;
	certjob_err e = CERTJOB_E_ARG;
	if (!j || !card_id || !pin || strlen(pin) > CERTJOB_PIN_MAX)
		goto out;
	e = CERTJOB_E_NO_ISSUER;
	if (!j->d.issuer)
		goto out;
	/* The card is busy from now on, for logins too, until the worker's work on it ends. */
	card_err ce = card_claim_get(j->d.core, card_id, &claim);
	if (ce) {
		e = ce == CARD_E_NOMEM ? CERTJOB_E_NOMEM : CERTJOB_E_BUSY;
		goto out;
	}
	if ((e = new_job(j, card_id, pin, &jb)) != CERTJOB_OK)
		goto out;
	jb->claim = claim;
	/* Copied before the start: from then on the worker owns jb (and the claim). */
	snprintf(id_out, CERTJOB_ID_LEN + 1, "%s", jb->st.id);
	if ((e = launch(j, jb)) != CERTJOB_OK)
		goto out;
	claim = NULL;
	jb = NULL;
	log_info("job", "job %s started on card %s", id_out, card_id);
out:
	if (jb)
		OPENSSL_cleanse(jb->pin, sizeof(jb->pin));
	free(jb);
	card_claim_drop(claim);
	if (pin)
		OPENSSL_cleanse(pin, strlen(pin));
	return e;
}

size_t certjob_running(struct certjobs *j)
{
	if (!j)
		return 0;
	pthread_mutex_lock(&j->lock);
	size_t n = j->running;
	pthread_mutex_unlock(&j->lock);
	return n;
}

bool certjob_status(struct certjobs *j, const char *id, struct certjob_status *out)
{
	bool found = false;
	pthread_mutex_lock(&j->lock);
	for (size_t i = 0; i < j->n_jobs && !found; i++)
		if (strcmp(j->jobs[i]->st.id, id) == 0) {
			*out = j->jobs[i]->st;
			found = true;
		}
	pthread_mutex_unlock(&j->lock);
	return found;
}
