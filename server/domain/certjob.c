/* job.c — the download job engine: worker threads, the seven stages inside one card session,
 * honest percentages, WebSocket events and the kept job states. The card itself is claimed in
 * the card core (one piece of work per card); the PIN copy lives only until the VERIFY has been
 * sent. Card errors reach the events through errmap.h only. */
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
#include "errmap.h"
#include "log.h"

/* Shares of the bar, after the real timings of a card (docs/virtual-card.md, --delay realistic):
 * the key generation takes seconds, the write is a dozen APDUs, the rest is short. */
enum { P_VERIFY = 2, P_GENERATE = 5, P_CSR = 60, P_SUBMIT = 68, P_VALIDATE = 75, P_WRITE = 78,
       P_VERIFY_BACK = 96, P_DONE = 100 };

enum job_state { JOB_RUNNING, JOB_DONE, JOB_FAILED };

struct job {
	char id[JOB_ID_LEN + 1];
	char card_id[CARD_ID_LEN];
	char pin[JOB_PIN_MAX + 1];       /* wiped right after VERIFY */
	enum job_state state;
	const char *stage;
	int percent;
	char message[400];
	char code[48];
	int tries_left;                  /* -1 = none */
	card_claim *claim;               /* the card, from jobs_start until the worker's work ends */
	struct jobs *owner;
};

struct jobs {
	struct job_deps d;
	pthread_mutex_t lock;            /* guards everything below and every job's state */
	pthread_cond_t idle;
	unsigned running;
	struct job *jobs[JOB_KEEP + 8];  /* oldest first */
	size_t n_jobs;
};

const char *job_strerror(job_err e)
{
	switch (e) {
	case JOB_OK: return "ok";
	case JOB_E_NOMEM: return "out of memory";
	case JOB_E_BUSY: return "a card operation is already running on this card";
	case JOB_E_NO_ISSUER: return "no certificate issuer is configured";
	case JOB_E_RANDOM: return "no random numbers";
	case JOB_E_THREAD: return "cannot start a worker";
	case JOB_E_ARG: return "bad argument";
	}
	return "unknown error";
}

/* ---- state and events ---- */

static const char *state_name(enum job_state s)
{
	return s == JOB_DONE ? "done" : s == JOB_FAILED ? "failed" : "running";
}

/* Caller holds the lock. */
static json_t *state_json(const struct job *jb)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "job", jb->id, "card", jb->card_id,
			      "card_id", jb->card_id, "state", state_name(jb->state), "stage", jb->stage,
			      "percent", jb->percent, "message", jb->message);
	if (o && jb->state == JOB_FAILED) {
		json_object_set_new(o, "code", json_string(jb->code));
		if (jb->tries_left >= 0)
			json_object_set_new(o, "tries_left", json_integer(jb->tries_left));
	}
	return o;
}

static void send_event(struct jobs *j, json_t *msg)
{
	char *text = msg && j->d.ws ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	if (text)
		ws_broadcast(j->d.ws, text);
	free(text);
}

/* Moves the bar; percent never goes back. */
static void progress(struct job *jb, const char *stage, int percent, const char *message)
{
	struct jobs *j = jb->owner;
	pthread_mutex_lock(&j->lock);
	jb->stage = stage;
	if (percent > jb->percent)
		jb->percent = percent;
	snprintf(jb->message, sizeof(jb->message), "%s", message);
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "type", "job-progress", "job", jb->id,
			       "card", jb->card_id, "card_id", jb->card_id, "stage", stage, "percent",
			       jb->percent, "message", jb->message);
	pthread_mutex_unlock(&j->lock);
	send_event(j, ev);
}

/* The job-failed code of card error e (errmap.h). */
static const char *code_of(card_err e)
{
	return errmap_card(e)->job_code;
}

/* Records the failure the job ends with (the first one wins). */
__attribute__((format(printf, 4, 5)))
static void set_failure(struct job *jb, const char *code, int tries_left, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&jb->owner->lock);
	if (!jb->code[0]) {
		snprintf(jb->code, sizeof(jb->code), "%s", code);
		va_start(ap, fmt);
		vsnprintf(jb->message, sizeof(jb->message), fmt, ap);
		va_end(ap);
		jb->tries_left = tries_left;
	}
	pthread_mutex_unlock(&jb->owner->lock);
}

static void finish(struct job *jb, bool ok)
{
	struct jobs *j = jb->owner;
	pthread_mutex_lock(&j->lock);
	jb->state = ok ? JOB_DONE : JOB_FAILED;
	json_t *ev;
	if (ok) {
		jb->stage = "done";
		jb->percent = P_DONE;
		snprintf(jb->message, sizeof(jb->message), "the signature certificate is on the card");
		ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "type", "job-done", "job", jb->id, "card",
			       jb->card_id, "card_id", jb->card_id, "stage", "done", "percent", P_DONE,
			       "message", jb->message);
	} else {
		ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "job-failed", "job", jb->id, "card",
			       jb->card_id, "card_id", jb->card_id, "stage", jb->stage, "code", jb->code,
			       "message", jb->message);
		if (ev && jb->tries_left >= 0)
			json_object_set_new(ev, "tries_left", json_integer(jb->tries_left));
	}
	pthread_mutex_unlock(&j->lock);
	if (ok)
		log_info("job", "job %s on card %s: done", jb->id, jb->card_id);
	else
		log_warn("job", "job %s on card %s failed at %s: %s (%s)", jb->id, jb->card_id, jb->stage,
			 jb->code, jb->message);
	send_event(j, ev);
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
	/* Tries left first: a blocked PIN2 fails here, without sending the PIN. */
	card_err e = card_pin_status(w->s, CARD_PIN2, &tries);
	if (!e)
		e = card_verify_pin(w->s, CARD_PIN2, jb->pin, &tries);
	OPENSSL_cleanse(jb->pin, sizeof(jb->pin));
	const char *code = code_of(e);
	if (e == CARD_E_PIN_WRONG)
		set_failure(jb, code, tries, "wrong signature code (PIN2)");
	else if (e == CARD_E_PIN_BLOCKED)
		set_failure(jb, code, 0, "the signature code (PIN2) is blocked: unblock it with the PUK");
	else if (e == CARD_E_PIN_FORMAT)
		set_failure(jb, code, -1, "the signature code has the wrong format");
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
		set_failure(w->jb, code_of(CARD_E_BAD_DATA), -1, "the card's new key is unusable: %s", csr_strerror(ce));
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
		set_failure(w->jb, code_of(CARD_E_BAD_DATA), -1, "the authentication certificate is unreadable");
		return CARD_E_BAD_DATA;
	}
	csr_err ce = csr_build(w->auth, w->pub, card_signer, &s, &w->csr, &w->csr_len);
	if (ce == CSR_E_SIGNER && s.err)
		return s.err;
	if (ce) {
		set_failure(w->jb, code_of(CARD_E_BAD_DATA), -1, "certificate request: %s", csr_strerror(ce));
		return CARD_E_BAD_DATA;
	}
	return CARD_OK;
}

static card_err stage_issue(struct work *w)
{
	struct jobs *j = w->jb->owner;
	struct issue_ctx ctx = { .card_id = w->jb->card_id, .session_ok = true, .auth_cert = w->auth,
				 .trust_level = w->m->auth.trust_level };
	progress(w->jb, "submit", P_SUBMIT, "sending the request to the issuer");
	issuer_err ie = issuer_issue(j->d.issuer, w->csr, w->csr_len, &ctx, &w->res);
	if (ie) {
		set_failure(w->jb, ie == ISSUER_E_UNAVAILABLE ? "issuer_failed" : "issuer_refused", -1,
			    "the issuer did not issue a certificate: %s%s%s", issuer_strerror(ie),
			    w->res.detail[0] ? ": " : "", w->res.detail);
		return CARD_E_CANCELLED;
	}
	return CARD_OK;
}

static card_err stage_validate(struct work *w)
{
	char detail[200] = "";
	struct certcheck_in in = { .cert = w->res.cert, .chain = w->res.chain, .card_key = w->pub,
				   .auth_cert = w->auth };
	progress(w->jb, "validate", P_VALIDATE, "checking the new certificate");
	certcheck_err ce = certcheck_signature_cert(w->jb->owner->d.trust, &in, detail, sizeof(detail));
	if (ce) {
		set_failure(w->jb, "cert_invalid", -1,
			    "the issued certificate was refused, nothing was written: %s (%s)%s%s",
			    certcheck_strerror(ce), certcheck_errcode(ce), detail[0] ? ": " : "", detail);
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
	snprintf(msg, sizeof(msg), "writing the certificate to the card (%zu of %zu bytes)", done, total);
	progress(jb, "write", P_WRITE + (int)((P_VERIFY_BACK - P_WRITE) * done / (total ? total : 1)), msg);
}

static card_err stage_write(struct work *w)
{
	progress(w->jb, "write", P_WRITE, "writing the certificate to the card");
	card_err e = card_write_sign_cert(w->s, w->cert, (size_t)w->cert_len, write_progress, w->jb);
	if (!e)
		progress(w->jb, "verify", P_VERIFY_BACK, "certificate read back and compared; refreshing the card");
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
static bool card_shows_cert(struct jobs *j, const char *card_id)
{
	struct card_model m;
	return card_get(j->d.core, card_id, &m) == CARD_OK && m.sign.present;
}

static void *worker(void *arg)
{
	struct job *jb = arg;
	struct jobs *j = jb->owner;
	char card_id[CARD_ID_LEN];
	memcpy(card_id, jb->card_id, sizeof(card_id)); /* jb may be dropped once it is finished */
	card_err e = card_claim_run(jb->claim, job_work, jb);
	jb->claim = NULL;
	OPENSSL_cleanse(jb->pin, sizeof(jb->pin)); /* also when the card was gone before VERIFY */
	/* Not shown after the commit: the re-read failed, most often because the card was pulled
	 * during it (the model then stays the old one until the monitor sees the empty reader). */
	if (!e && !card_shows_cert(j, jb->card_id)) {
		e = card_gone(j->d.core, card_id, CARD_E_COMM) ? CARD_E_REMOVED : CARD_E_BAD_DATA;
		if (e == CARD_E_BAD_DATA)
			set_failure(jb, code_of(e), -1, "%s", "the card does not show the written certificate");
	}
	if (e && card_gone(j->d.core, card_id, e))
		set_failure(jb, code_of(CARD_E_REMOVED), -1, "the card was removed during the download: %s",
			    card_strerror(e));
	else if (e)
		set_failure(jb, code_of(e), -1, "the card answered unexpectedly: %s", card_strerror(e));
	finish(jb, e == CARD_OK);
	pthread_mutex_lock(&j->lock);
	j->running--;
	pthread_cond_broadcast(&j->idle);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* ---- life cycle ---- */

job_err jobs_new(const struct job_deps *deps, struct jobs **out)
{
	*out = NULL;
	if (!deps || !deps->core)
		return JOB_E_ARG;
	struct jobs *j = calloc(1, sizeof(*j));
	if (!j)
		return JOB_E_NOMEM;
	j->d = *deps;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->idle, NULL);
	*out = j;
	return JOB_OK;
}

void jobs_free(struct jobs *j)
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

bool jobs_has_issuer(const struct jobs *j)
{
	return j && j->d.issuer;
}

/* Keeps the list bounded: drops the oldest finished job. Caller holds the lock. */
static bool make_room(struct jobs *j)
{
	if (j->n_jobs < JOB_KEEP)
		return true;
	for (size_t i = 0; i < j->n_jobs; i++) {
		if (j->jobs[i]->state != JOB_RUNNING) {
			free(j->jobs[i]);
			memmove(&j->jobs[i], &j->jobs[i + 1], (j->n_jobs - i - 1) * sizeof(j->jobs[0]));
			j->n_jobs--;
			return true;
		}
	}
	return j->n_jobs < sizeof(j->jobs) / sizeof(j->jobs[0]);
}

static job_err new_job(struct jobs *j, const char *card_id, char *pin, struct job **out)
{
	unsigned char rnd[16];
	struct job *jb = calloc(1, sizeof(*jb));
	if (!jb)
		return JOB_E_NOMEM;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		free(jb);
		return JOB_E_RANDOM;
	}
	jb->id[0] = 'j';
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(jb->id + 1 + 2 * i, 3, "%02x", rnd[i]);
	snprintf(jb->card_id, sizeof(jb->card_id), "%s", card_id);
	/* The job's own copy of the PIN (the caller's is wiped on return); the length was checked
	 * against JOB_PIN_MAX by the caller, the buffer is calloc'ed so the copy stays terminated. */
	memcpy(jb->pin, pin, strnlen(pin, JOB_PIN_MAX));
	jb->state = JOB_RUNNING;
	jb->stage = "queued";
	jb->tries_left = -1;
	jb->owner = j;
	snprintf(jb->message, sizeof(jb->message), "waiting for the card");
	*out = jb;
	return JOB_OK;
}

/* Files jb and starts its worker; on failure jb is unfiled again (the caller frees it). */
static job_err launch(struct jobs *j, struct job *jb)
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
		return JOB_E_BUSY;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&th, &attr, worker, jb);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return JOB_OK;
	pthread_mutex_lock(&j->lock);
	j->n_jobs--, j->running--;
	pthread_cond_broadcast(&j->idle);
	pthread_mutex_unlock(&j->lock);
	return JOB_E_THREAD;
}

job_err jobs_start(struct jobs *j, const char *card_id, char *pin, char id_out[JOB_ID_LEN + 1])
{
	struct job *jb = NULL;
	card_claim *claim = NULL;
	job_err e = JOB_E_ARG;
	if (!j || !card_id || !pin || strlen(pin) > JOB_PIN_MAX)
		goto out;
	e = JOB_E_NO_ISSUER;
	if (!j->d.issuer)
		goto out;
	/* The card is busy from now on, for logins too, until the worker's work on it ends. */
	card_err ce = card_claim_get(j->d.core, card_id, &claim);
	if (ce) {
		e = ce == CARD_E_NOMEM ? JOB_E_NOMEM : JOB_E_BUSY;
		goto out;
	}
	if ((e = new_job(j, card_id, pin, &jb)) != JOB_OK)
		goto out;
	jb->claim = claim;
	/* Copied before the start: from then on the worker owns jb (and the claim). */
	snprintf(id_out, JOB_ID_LEN + 1, "%s", jb->id);
	if ((e = launch(j, jb)) != JOB_OK)
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

json_t *jobs_state(struct jobs *j, const char *id)
{
	json_t *o = NULL;
	pthread_mutex_lock(&j->lock);
	for (size_t i = 0; i < j->n_jobs && !o; i++)
		if (strcmp(j->jobs[i]->id, id) == 0)
			o = state_json(j->jobs[i]);
	pthread_mutex_unlock(&j->lock);
	return o;
}
