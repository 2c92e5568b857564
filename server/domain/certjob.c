/* certjob.c — the certificate job engine: worker threads, the seven stages inside one card
 * session, honest percentages, the reports and the kept job states, and the end of a job whose
 * card went after the commit (jobend.h decides, this file keeps the state). The card itself is
 * claimed in the card core (one piece of work per card); the PIN copy lives only until the
 * VERIFY has been sent. What a report becomes on the wire is the caller's business
 * (certjob_report_fn). */
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
#include "jobend.h"
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
	/* PIN1, for an issuer that signs with the card's authentication key; wiped with pin. */
	char auth_pin[CERTJOB_PIN_MAX + 1];
	bool has_auth_pin;
	struct certjob_enrollment enroll; /* wiped right after the issuer's answer */
	bool has_enroll;
	card_claim *claim; /* the card, from certjob_start until the worker's work ends */
	struct certjobs *owner;
	/* Written by the worker before the state leaves RUNNING, read after. */
	struct card_pubkey key; /* the key generated, when have_key */
	bool have_key;
	bool commit_sent; /* the CDF entry went to the card (card_write_sign_cert) */
	/* The card's model from an insertion while the job still ran (guarded by the lock): the
	 * card went and came back before the worker knew. Cleared when the card goes again. */
	struct card_model back;
	bool has_back;
	/* The certificate confirmed to the issuer while the card went after the commit (guarded by
	 * the lock): revoked if the card comes back without it, dropped when it is there. */
	X509 *delivered;
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

/* Reports a copy taken earlier (without the lock). */
static void report_copy(struct certjobs *j, const struct certjob_status *st)
{
	if (j->d.report)
		j->d.report(st, j->d.report_user);
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

/* Records the failure the job ends with (the first one wins). Caller holds the lock. */
__attribute__((format(printf, 5, 0))) static void failure_locked(struct job *jb,
								 enum certjob_failure why,
								 card_err e, int tries_left,
								 const char *fmt, va_list ap)
{
	if (jb->st.failure != CERTJOB_FAIL_NONE)
		return;
	jb->st.failure = why;
	jb->st.cause = e;
	vsnprintf(jb->st.message, sizeof(jb->st.message), fmt, ap);
	jb->st.tries_left = tries_left;
}

__attribute__((format(printf, 5, 6))) static void fail_locked(struct job *jb,
							      enum certjob_failure why, card_err e,
							      int tries_left, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	failure_locked(jb, why, e, tries_left, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 5, 6))) static void set_failure(struct job *jb,
							      enum certjob_failure why, card_err e,
							      int tries_left, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&jb->owner->lock);
	failure_locked(jb, why, e, tries_left, fmt, ap);
	pthread_mutex_unlock(&jb->owner->lock);
	va_end(ap);
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

/* Ends the job (the report is the caller's). Caller holds the lock. */
/* A revocation of a certificate the card does not hold, on a thread of its own (a round trip to
 * the CA), counted as running so that certjob_free waits for it. */
struct revocation {
	struct certjobs *j;
	X509 *cert;
	char job_id[CERTJOB_ID_LEN + 1];
};

static void *revoke_worker(void *arg)
{
	struct revocation *r = arg;
	char detail[200];
	issuer_err ie = issuer_revoke(r->j->d.issuer, r->cert, detail, sizeof detail);
	if (ie)
		log_warn("job",
			 "job %s: the issuer holds a certificate that is not on the card and "
			 "did not revoke it: %s%s%s",
			 r->job_id, issuer_strerror(ie), detail[0] ? ": " : "", detail);
	else
		log_info("job",
			 "job %s: the issuer revoked the certificate that is not on the card",
			 r->job_id);
	struct certjobs *j = r->j;
	X509_free(r->cert);
	free(r);
	pthread_mutex_lock(&j->lock);
	j->running--;
	pthread_cond_broadcast(&j->idle);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* The job ends without its delivered certificate on the card (the card came back without it,
 * the read-back did not show it): the issuer is asked to revoke it. Caller holds the lock. */
static void revoke_locked(struct job *jb)
{
	struct revocation *r = jb->delivered ? calloc(1, sizeof *r) : NULL;
	pthread_t th;
	if (!r) {
		log_warn("job", "job %s: the issuer holds a certificate that is not on card %s",
			 jb->st.id, jb->st.card_id);
		X509_free(jb->delivered);
		jb->delivered = NULL;
		return;
	}
	*r = (struct revocation){ .j = jb->owner, .cert = jb->delivered };
	snprintf(r->job_id, sizeof r->job_id, "%s", jb->st.id);
	jb->delivered = NULL;
	jb->owner->running++;
	if (pthread_create(&th, NULL, revoke_worker, r) == 0) {
		pthread_detach(th);
		return;
	}
	jb->owner->running--;
	log_warn("job", "job %s: no thread to revoke the certificate that is not on card %s",
		 r->job_id, jb->st.card_id);
	X509_free(r->cert);
	free(r);
}

static void finish_locked(struct job *jb, bool ok)
{
	struct certjob_status *st = &jb->st;
	st->state = ok ? CERTJOB_DONE : CERTJOB_FAILED;
	/* A certificate the issuer was told is on the card, but the job failed: revoked. */
	if (!ok && jb->delivered)
		revoke_locked(jb);
	X509_free(jb->delivered);
	jb->delivered = NULL;
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
}

static void finish(struct job *jb, bool ok)
{
	pthread_mutex_lock(&jb->owner->lock);
	finish_locked(jb, ok);
	report_unlock(jb);
}

/* ---- the stages (inside card_with_card) ---- */

struct signer {
	card_session *s;
	enum card_key key; /* CARD_KEY_SIGN: the CSR; CARD_KEY_AUTH: CMP message protection */
	card_err err;
};

/* csr_sign_fn: the card signs with its key (PSO CDS, or INTERNAL AUTHENTICATE). */
static int card_signer(void *user, const unsigned char *di, size_t di_len, unsigned char *sig,
		       size_t cap, size_t *sig_len)
{
	struct signer *s = user;
	s->err = card_sign(s->s, s->key, di, di_len, sig, cap, sig_len);
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
	/* The authentication key's signer of res's issuance, valid as long as res. */
	struct signer auth_key;
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

/* PIN1 too, after PIN2 and before the key is made: the issuer's messages are signed with the
 * authentication key. A failure names PIN1 (status.auth_pin_failed). */
static card_err verify_auth_pin(struct job *jb, card_session *s)
{
	int tries = -1;
	card_err e = card_verify_pin(s, CARD_PIN1, jb->auth_pin, &tries);
	OPENSSL_cleanse(jb->auth_pin, sizeof(jb->auth_pin));
	if (e == CARD_E_PIN_WRONG || e == CARD_E_PIN_BLOCKED || e == CARD_E_PIN_FORMAT ||
	    e == CARD_E_PIN_NOT_ACTIVATED) {
		pthread_mutex_lock(&jb->owner->lock);
		jb->st.auth_pin_failed = true;
		pthread_mutex_unlock(&jb->owner->lock);
	}
	if (e == CARD_E_PIN_WRONG)
		set_failure(jb, CERTJOB_FAIL_CARD, e, tries, "wrong login code (PIN1)");
	else if (e == CARD_E_PIN_BLOCKED)
		set_failure(jb, CERTJOB_FAIL_CARD, e, 0,
			    "the login code (PIN1) is blocked: unblock it with the PUK");
	else if (e == CARD_E_PIN_FORMAT || e == CARD_E_PIN_NOT_ACTIVATED)
		set_failure(jb, CERTJOB_FAIL_CARD, e, -1, "the card refused the login code (PIN1)");
	return e;
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
	if (!e && jb->has_auth_pin)
		return verify_auth_pin(jb, w->s);
	OPENSSL_cleanse(jb->auth_pin, sizeof(jb->auth_pin));
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
	/* What the card must show for the job to be done, whatever happens from here on. */
	w->jb->key = pk;
	w->jb->have_key = true;
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
	struct signer s = { .s = w->s, .key = CARD_KEY_SIGN };
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

/* issue_ctx.waiting: the issuer answered "waiting" and is being polled. */
static void issuer_waiting(void *user)
{
	progress(user, "submit", P_SUBMIT, "waiting for the issuer");
}

static card_err stage_issue(struct work *w)
{
	struct certjobs *j = w->jb->owner;
	struct job *jb = w->jb;
	struct issue_ctx ctx = { .card_id = jb->st.card_id,
				 .enroll_ref = jb->has_enroll ? jb->enroll.reference : NULL,
				 .enroll_secret = jb->has_enroll ? jb->enroll.secret : NULL,
				 .waiting = issuer_waiting,
				 .waiting_user = jb,
				 .auth_sign = jb->has_auth_pin ? card_signer : NULL,
				 .auth_sign_user = &w->auth_key,
				 .session_ok = true,
				 .auth_cert = w->auth,
				 .trust_level = w->m->auth.trust_level };
	progress(w->jb, "submit", P_SUBMIT, "sending the request to the issuer");
	issuer_err ie = issuer_issue(j->d.issuer, w->csr, w->csr_len, &ctx, &w->res);
	OPENSSL_cleanse(&jb->enroll, sizeof(jb->enroll));
	/* The card failed to sign a message (most often: it was pulled): the card's error. */
	if (ie && w->auth_key.err)
		return w->auth_key.err;
	if (ie) {
		pthread_mutex_lock(&j->lock);
		memcpy(jb->st.issuer_text, w->res.status_text, sizeof jb->st.issuer_text);
		jb->st.issuer_fail_info = w->res.fail_info;
		pthread_mutex_unlock(&j->lock);
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
	card_err e = card_write_sign_cert(w->s, w->cert, (size_t)w->cert_len, write_progress, w->jb,
					  &w->jb->commit_sent);
	if (!e)
		progress(w->jb, "verify", P_VERIFY_BACK,
			 "certificate read back and compared; refreshing the card");
	return e;
}

static card_err job_work(card_session *s, const struct card_model *m, void *user)
{
	struct work w = {
		.jb = user, .s = s, .m = m, .auth_key = { .s = s, .key = CARD_KEY_AUTH }
	};
	card_err e;
	if ((e = stage_verify(&w)) || (e = stage_generate(&w)) || (e = stage_csr(&w)) ||
	    (e = stage_issue(&w)) || (e = stage_validate(&w)))
		goto out;
	/* Written and read back: the issuer may now consider it delivered (CMP certConf). When the
	 * card went after the commit was sent the certificate is most likely on it and the job waits
	 * for the card (interrupted): accepted too, since the CA's transaction cannot wait for the
	 * card; a job that ends without it on the card has it revoked (finish_locked). On any earlier failure
	 * work_free() rejects it instead. */
	if ((e = stage_write(&w)) && !w.jb->commit_sent)
		goto out;
	if (issuer_confirm(&w.res, true, NULL) != ISSUER_OK)
		log_warn("job", "job %s: the issuer did not take the confirmation: %s", w.jb->st.id,
			 w.res.detail);
	/* Kept until the job ends: revoked if it ends without the certificate on the card. */
	if (X509_up_ref(w.res.cert)) {
		pthread_mutex_lock(&w.jb->owner->lock);
		w.jb->delivered = w.res.cert;
		pthread_mutex_unlock(&w.jb->owner->lock);
	}
out:
	work_free(&w);
	return e;
}

/* ---- the end: after the work, and when an interrupted job's card comes back ---- */

/* The returned card's model m decides an INTERRUPTED job (jobend_returned): true when it
 * ended, false when m could not be read (the next insertion is looked at). Caller holds the
 * lock; the report is the caller's. */
static bool settle_locked(struct job *jb, const struct card_model *m)
{
	switch (jobend_returned(m, &jb->key)) {
	case JOBEND_DONE:
		log_info("job", "job %s on card %s: the card is back with the certificate",
			 jb->st.id, jb->st.card_id);
		finish_locked(jb, true);
		return true;
	case JOBEND_RETURNED_WITHOUT:
		fail_locked(jb, CERTJOB_FAIL_CARD, CARD_E_REMOVED, -1, "%s",
			    "the card is back without the new certificate: the write did not reach "
			    "its end");
		/* The issuer was told it was delivered (job_work): finish_locked revokes it. */
		break;
	case JOBEND_RETURNED_OTHER:
		fail_locked(jb, CERTJOB_FAIL_CARD, CARD_E_REMOVED, -1, "%s",
			    "the card is back with a certificate for another key: the new "
			    "certificate is not on it");
		break;
	default:
		log_warn("job", "job %s: card %s is back but unreadable; still interrupted",
			 jb->st.id, jb->st.card_id);
		return false;
	}
	finish_locked(jb, false);
	return true;
}

/* The card went after the commit was sent: the job waits, holding nothing, for the card. A
 * return the engine saw while the job still ran is settled at once; both reports go out after
 * the lock, in order (once the lock is released, jb may be settled and dropped by others). */
static void interrupt(struct job *jb, card_err e)
{
	struct certjobs *j = jb->owner;
	struct certjob_status first, last;
	pthread_mutex_lock(&j->lock);
	jb->st.state = CERTJOB_INTERRUPTED;
	jb->st.cause = e;
	snprintf(jb->st.message, sizeof(jb->st.message),
		 "the card was removed after the certificate was written to it: put the card back "
		 "to finish the download");
	log_warn("job", "job %s on card %s interrupted at %s: card removed after the commit (%s)",
		 jb->st.id, jb->st.card_id, jb->st.stage, card_strerror(e));
	first = jb->st;
	bool settled = jb->has_back && settle_locked(jb, &jb->back);
	jb->has_back = false;
	last = jb->st;
	pthread_mutex_unlock(&j->lock);
	report_copy(j, &first);
	if (settled)
		report_copy(j, &last);
}

/* After the transaction: the card's model shows the job's certificate (done), or the card went
 * (interrupted after the commit was sent, failed before), or it failed. */
static void conclude(struct job *jb, card_err e)
{
	struct certjobs *j = jb->owner;
	struct card_model m;
	struct jobend_work w = { .err = e, .commit_sent = jb->commit_sent };
	w.shows_cert = jb->have_key && card_get(j->d.core, jb->st.card_id, &m) == CARD_OK &&
		jobend_shows_cert(&m, &jb->key);
	/* Not shown after an answered commit: the re-read failed, most often because the card was
	 * pulled during it (the model then stays the old one until the monitor sees it gone). */
	if (!w.shows_cert)
		w.gone = card_gone(j->d.core, jb->st.card_id, e ? e : CARD_E_COMM);
	switch (jobend_after_work(&w)) {
	case JOBEND_DONE: finish(jb, true); return;
	case JOBEND_INTERRUPTED: interrupt(jb, e ? e : CARD_E_REMOVED); return;
	case JOBEND_REMOVED:
		set_failure(jb, CERTJOB_FAIL_CARD, CARD_E_REMOVED, -1,
			    "the card was removed during the download: %s",
			    card_strerror(e ? e : CARD_E_REMOVED));
		break;
	case JOBEND_NOT_SHOWN:
		set_failure(jb, CERTJOB_FAIL_CARD, CARD_E_BAD_DATA, -1, "%s",
			    "the card does not show the written certificate");
		break;
	default:
		set_failure(jb, CERTJOB_FAIL_CARD, e, -1, "the card answered unexpectedly: %s",
			    card_strerror(e));
		break;
	}
	finish(jb, false);
}

static void busy(struct certjobs *j, bool begins)
{
	if (j->d.busy)
		j->d.busy(j->d.busy_user, begins);
}

static void *worker(void *arg)
{
	struct job *jb = arg;
	struct certjobs *j = jb->owner;
	card_err e = card_claim_run(jb->claim, job_work, jb);
	jb->claim = NULL;
	/* Also when the card was gone before VERIFY. */
	OPENSSL_cleanse(jb->pin, sizeof(jb->pin));
	OPENSSL_cleanse(jb->auth_pin, sizeof(jb->auth_pin));
	OPENSSL_cleanse(&jb->enroll, sizeof(jb->enroll));
	conclude(jb, e);
	/* Before the count drops: certjob_free may free j as soon as it is 0. */
	busy(j, false);
	pthread_mutex_lock(&j->lock);
	j->running--;
	pthread_cond_broadcast(&j->idle);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* A job still working on card id or waiting for it (at most one: certjob_start refuses a
 * second). Caller holds the lock. */
static struct job *live_job(struct certjobs *j, const char *id)
{
	for (size_t i = 0; i < j->n_jobs; i++) {
		struct job *jb = j->jobs[i];
		if ((jb->st.state == CERTJOB_RUNNING || jb->st.state == CERTJOB_INTERRUPTED) &&
		    !strcmp(jb->st.card_id, id))
			return jb;
	}
	return NULL;
}

void certjob_card_event(struct certjobs *j, const struct card_event *ev)
{
	if (!j || !ev->card ||
	    (ev->kind != CARD_EV_CARD_INSERTED && ev->kind != CARD_EV_CARD_REMOVED))
		return;
	pthread_mutex_lock(&j->lock);
	struct job *jb = live_job(j, ev->card->id);
	if (jb && jb->st.state == CERTJOB_INTERRUPTED && ev->kind == CARD_EV_CARD_INSERTED) {
		if (settle_locked(jb, ev->card))
			report_unlock(jb);
		else
			pthread_mutex_unlock(&j->lock);
		return;
	}
	if (jb && jb->st.state == CERTJOB_RUNNING) {
		jb->has_back = ev->kind == CARD_EV_CARD_INSERTED;
		if (jb->has_back)
			jb->back = *ev->card;
	}
	pthread_mutex_unlock(&j->lock);
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
	for (size_t i = 0; i < j->n_jobs; i++) {
		if (j->jobs[i]->st.state == CERTJOB_INTERRUPTED)
			log_warn("job",
				 "job %s on card %s: still interrupted at exit; the card's model "
				 "at its next insertion tells whether the certificate is on it",
				 j->jobs[i]->st.id, j->jobs[i]->st.card_id);
		X509_free(j->jobs[i]->delivered);
		free(j->jobs[i]);
	}
	pthread_cond_destroy(&j->idle);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

bool certjob_has_issuer(const struct certjobs *j)
{
	return j && j->d.issuer;
}

enum issuer_protection certjob_protection(const struct certjobs *j)
{
	return j ? issuer_protection(j->d.issuer) : ISSUER_PROT_NONE;
}

/* Keeps the list bounded: drops the oldest finished job (an interrupted one is not finished).
 * Caller holds the lock. */
static bool make_room(struct certjobs *j)
{
	if (j->n_jobs < CERTJOB_KEEP)
		return true;
	for (size_t i = 0; i < j->n_jobs; i++) {
		enum certjob_state s = j->jobs[i]->st.state;
		if (s == CERTJOB_DONE || s == CERTJOB_FAILED) {
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
	/* One job per card: the card's claim says so while a job works, this while one waits for
	 * the card or has let go of the claim and is ending. */
	bool room = !live_job(j, jb->st.card_id) && make_room(j);
	if (room) {
		j->jobs[j->n_jobs++] = jb;
		j->running++;
	}
	pthread_mutex_unlock(&j->lock);
	if (!room)
		return CERTJOB_E_BUSY;
	busy(j, true);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&th, &attr, worker, jb);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return CERTJOB_OK;
	busy(j, false);
	pthread_mutex_lock(&j->lock);
	j->n_jobs--, j->running--;
	pthread_cond_broadcast(&j->idle);
	pthread_mutex_unlock(&j->lock);
	return CERTJOB_E_THREAD;
}

certjob_err certjob_start(struct certjobs *j, const char *card_id, char *pin, char *auth_pin,
			  struct certjob_enrollment *enroll, char id_out[CERTJOB_ID_LEN + 1])
{
	struct job *jb = NULL;
	card_claim *claim = NULL;
	certjob_err e = CERTJOB_E_ARG;
	if (!j || !card_id || !pin || strlen(pin) > CERTJOB_PIN_MAX ||
	    (auth_pin && strlen(auth_pin) > CERTJOB_PIN_MAX))
		goto out;
	e = CERTJOB_E_NO_ISSUER;
	if (!j->d.issuer)
		goto out;
	/* PIN1 exactly when the issuer signs with the authentication key: never taken in vain. */
	e = CERTJOB_E_ARG;
	if (!auth_pin != (issuer_protection(j->d.issuer) != ISSUER_PROT_SIGNATURE))
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
	if (auth_pin) {
		memcpy(jb->auth_pin, auth_pin, strlen(auth_pin));
		jb->has_auth_pin = true;
	}
	if (enroll) {
		jb->enroll = *enroll;
		jb->has_enroll = true;
	}
	/* Copied before the start: from then on the worker owns jb (and the claim). */
	snprintf(id_out, CERTJOB_ID_LEN + 1, "%s", jb->st.id);
	if ((e = launch(j, jb)) != CERTJOB_OK)
		goto out;
	claim = NULL;
	jb = NULL;
	log_info("job", "job %s started on card %s", id_out, card_id);
out:
	if (jb) {
		OPENSSL_cleanse(jb->pin, sizeof(jb->pin));
		OPENSSL_cleanse(jb->auth_pin, sizeof(jb->auth_pin));
		OPENSSL_cleanse(&jb->enroll, sizeof(jb->enroll));
	}
	free(jb);
	card_claim_drop(claim);
	if (pin)
		OPENSSL_cleanse(pin, strlen(pin));
	if (auth_pin)
		OPENSSL_cleanse(auth_pin, strlen(auth_pin));
	if (enroll)
		OPENSSL_cleanse(enroll, sizeof(*enroll));
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
